"""Autosave of unsaved edits to a recovery folder, and restoring them after a crash.

One session is one file, ``<session id>.npz`` in :func:`recovery_dir`: a zip
holding ``labels.npy`` (the label map), ``mask_<id>.npy`` for complete masks of
overlapped segments, and ``session.json`` (the segment table, kind, source
path and format, the time). One file, written atomically, means a crash while
autosaving leaves the previous autosave whole, never a label map from one
moment beside a table from another. ``numpy.load`` and any zip tool open it.

The GUI calls :meth:`Autosaver.maybe_save` from a timer every
``autosave_interval_s``, :meth:`Autosaver.discard` after a successful save
or when the user closes without saving, and :func:`list_sessions` on start.
Confidence and per-class scores are not saved: edits never change them and
the source file still has them.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from viewer import __version__
from viewer.core.edit.history import History
from viewer.core.errors import ReadError
from viewer.core.fileio import atomic_open
from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import FullMask, Kind, Provenance, Segmentation

RECOVERY_ENV = "SEGVIEW_RECOVERY_DIR"
SCHEMA = "segview-recovery"
SCHEMA_VERSION = 1
SUFFIX = ".npz"
# Sessions this process wrote are not offered for recovery (it is still running).
# A random token, not the pid: after a reboot a new process may get a crashed one's pid.
PROCESS_TOKEN = uuid.uuid4().hex
# Label maps compress to a few percent even at level 1; higher levels cost
# several times the time for little gain.
_COMPRESS_LEVEL = 1


def recovery_dir() -> Path:
    """Return the recovery folder (``$SEGVIEW_RECOVERY_DIR`` wins over the user data folder)."""
    override = os.environ.get(RECOVERY_ENV)
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("segview", appauthor=False)) / "recovery"


def new_session_id() -> str:
    """Return a fresh session id (one per opened mask)."""
    return uuid.uuid4().hex


@dataclass(frozen=True, eq=False)
class Snapshot:
    """What an autosave writes, taken on the thread that owns the segmentation.

    Taking it copies the label map (milliseconds); writing it
    (:func:`write_snapshot`) compresses, and may run in a worker thread.
    """

    session_id: str
    labels: np.ndarray
    masks: Mapping[int, FullMask]
    meta: Mapping[str, Any]


@dataclass(frozen=True)
class RecoverySession:
    """An autosaved session found in the recovery folder.

    Attributes
    ----------
    session_id : str
    path : Path
        The recovery file.
    source : str or None
        The mask file the edits were made to.
    format_name : str or None
        Its registry format.
    saved_at : datetime
        When the autosave was written (UTC).
    shape : (int, int)
    kind : str
    segments : int
    own : bool
        Written by this process.
    """

    session_id: str
    path: Path
    source: str | None
    format_name: str | None
    saved_at: _dt.datetime
    shape: tuple[int, int]
    kind: str
    segments: int
    own: bool


def snapshot(seg: Segmentation, session_id: str) -> Snapshot:
    """Copy what an autosave of ``seg`` needs."""
    meta = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "app_version": __version__,
        "session_id": session_id,
        "saved_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds"),
        "pid": os.getpid(),
        "process": PROCESS_TOKEN,
        "shape": list(seg.shape),
        "kind": str(seg.kind),
        "source": seg.provenance.source,
        "format": seg.provenance.format,
        "details": _jsonable(dict(seg.provenance.details)),
        "segments": seg.table.to_list(),
        "masks": {str(i): list(m.bbox) for i, m in seg.full_masks.items()},
    }
    return Snapshot(session_id, seg.labels.copy(), dict(seg.full_masks),
                    json.loads(json.dumps(meta, default=_json_default)))


def write_snapshot(snap: Snapshot, directory: str | Path | None = None) -> Path:
    """Write a snapshot atomically to ``<directory>/<session id>.npz``; return the path."""
    path = session_path(snap.session_id, directory)
    with atomic_open(path, "wb") as handle, zipfile.ZipFile(
            handle, "w", zipfile.ZIP_DEFLATED, compresslevel=_COMPRESS_LEVEL) as archive:
        _write_array(archive, "labels.npy", snap.labels)
        for seg_id, mask in snap.masks.items():
            _write_array(archive, f"mask_{seg_id}.npy", mask.mask)
        archive.writestr("session.json", json.dumps(snap.meta, indent=1))
    return path


def autosave(seg: Segmentation, session_id: str, directory: str | Path | None = None) -> Path:
    """Snapshot and write ``seg`` at once; return the recovery file."""
    return write_snapshot(snapshot(seg, session_id), directory)


def session_path(session_id: str, directory: str | Path | None = None) -> Path:
    """The recovery file of a session."""
    if not session_id or not all(c.isalnum() or c in "-_" for c in session_id):
        raise ValueError(f"a session id is letters, digits, - and _, got {session_id!r}")
    return Path(directory or recovery_dir()) / f"{session_id}{SUFFIX}"


def list_sessions(directory: str | Path | None = None, *,
                  include_own: bool = False) -> list[RecoverySession]:
    """Return the recoverable sessions, newest first.

    Files that cannot be read are skipped (writes are atomic, so these are
    not autosaves). Sessions written by this process are left out unless
    ``include_own``.
    """
    folder = Path(directory or recovery_dir())
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(f"*{SUFFIX}"):
        if path.name.startswith("."):
            continue  # a temporary file of a write in progress
        try:
            found.append(_describe(path, _read_meta(path)))
        except ReadError:
            continue
    found = [s for s in found if include_own or not s.own]
    return sorted(found, key=lambda s: s.saved_at, reverse=True)


def restore(session: RecoverySession | str | Path,
            directory: str | Path | None = None) -> Segmentation:
    """Read a session back as the segmentation it was when autosaved.

    ``session`` is a :class:`RecoverySession`, a session id or a file path.
    The result is unsaved work: mark its history dirty.
    """
    path = _path_of(session, directory)
    meta = _read_meta(path)
    try:
        with zipfile.ZipFile(path) as archive:
            labels = _read_array(archive, "labels.npy")
            masks = {int(i): FullMask(tuple(box), _read_array(archive, f"mask_{i}.npy"))
                     for i, box in meta.get("masks", {}).items()}
        table = SegmentTable(Segment.from_dict(row) for row in meta["segments"])
        provenance = Provenance(meta.get("source"), meta.get("format"), meta.get("details", {}))
        return Segmentation(labels, table, kind=Kind(meta["kind"]), provenance=provenance,
                            full_masks=masks)
    except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as exc:
        raise ReadError(f"cannot restore the recovery file: {exc}", path) from None


def discard(session: RecoverySession | str | Path, directory: str | Path | None = None) -> None:
    """Delete a session's recovery file (after a save, or when the user declines it)."""
    with contextlib.suppress(FileNotFoundError):
        _path_of(session, directory).unlink()


class Autosaver:
    """Autosaves one segmentation while its history is dirty.

    Parameters
    ----------
    seg : Segmentation
    history : History
        Its history: autosave only when not clean and changed since the last autosave.
    session_id : str, optional
        Default: a new one.
    directory : str or Path, optional
        Default: :func:`recovery_dir`.
    """

    def __init__(self, seg: Segmentation, history: History, *, session_id: str | None = None,
                 directory: str | Path | None = None):
        self.seg, self.history = seg, history
        self.session_id = session_id or new_session_id()
        self.directory = directory
        self._saved_version: int | None = None

    @property
    def path(self) -> Path:
        """The recovery file of this session."""
        return session_path(self.session_id, self.directory)

    def due(self) -> bool:
        """True when there are unsaved edits not autosaved yet."""
        return not self.history.clean and self.history.version != self._saved_version

    def maybe_save(self) -> Path | None:
        """Autosave when due; drop the file once the work is saved. Returns the file written."""
        if self.history.clean:
            self.discard()
            return None
        if not self.due():
            return None
        return self.save()

    def save(self) -> Path:
        """Autosave now."""
        version = self.history.version
        path = autosave(self.seg, self.session_id, self.directory)
        self._saved_version = version
        return path

    def discard(self) -> None:
        """Delete this session's recovery file."""
        discard(self.session_id, self.directory)
        self._saved_version = None


# -- helpers ---------------------------------------------------------------------------------
def _write_array(archive: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    with archive.open(name, "w", force_zip64=True) as member:
        np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)


def _read_array(archive: zipfile.ZipFile, name: str) -> np.ndarray:
    with archive.open(name) as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(path) as archive:
            meta = json.loads(archive.read("session.json").decode("utf-8"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ReadError(f"not a recovery file: {exc}", path) from None
    if not isinstance(meta, dict) or meta.get("schema") != SCHEMA:
        raise ReadError("not a SegView recovery file", path)
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise ReadError(f"recovery schema version {meta.get('schema_version')!r} is not "
                        f"supported (this version reads {SCHEMA_VERSION})", path)
    return meta


def _describe(path: Path, meta: dict[str, Any]) -> RecoverySession:
    try:
        saved_at = _dt.datetime.fromisoformat(meta["saved_at"])
        return RecoverySession(str(meta["session_id"]), path, meta.get("source"),
                               meta.get("format"), saved_at, tuple(meta["shape"]),
                               str(meta["kind"]), len(meta["segments"]),
                               meta.get("process") == PROCESS_TOKEN)
    except (KeyError, TypeError, ValueError) as exc:
        raise ReadError(f"damaged recovery file: {exc}", path) from None


def _path_of(session: RecoverySession | str | Path, directory: str | Path | None) -> Path:
    if isinstance(session, RecoverySession):
        return session.path
    if isinstance(session, Path):
        return session
    return session_path(session, directory)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    """Turn numpy scalars and arrays, paths and the rest into what JSON holds."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)
