"""Autosave of unsaved edits to a recovery folder, and restoring them after a crash.

One session is one file, ``<session id>.npz`` in :func:`recovery_dir`: a zip
holding ``labels.npy`` (the label map), ``mask_<id>.npy`` for complete masks of
overlapped segments, and ``session.json`` (the segment table, kind, source
path and format, the time). One file, written atomically, means a crash while
autosaving leaves the previous autosave whole, never a label map from one
moment beside a table from another. ``numpy.load`` and any zip tool open it.

The GUI calls :meth:`Autosaver.maybe_save` from a timer every
``autosave_interval_s``, :meth:`Autosaver.discard` after a successful save
or when the user closes without saving, and :func:`scan_sessions` on start.
Confidence and per-class scores are not saved: edits never change them and
the source file still has them.

Each session has a lock file, ``<session id>.lock``, that its window holds
while it runs (:mod:`viewer.core.edit.session_lock`). A session whose lock is
held belongs to a live window: it is never listed, restored or deleted by
another. A crashed window's lock is free; the start that offers its session
takes the lock first (:func:`claim`), so it is offered to one window only and
then belongs to that window. Every file is checked before use
(:mod:`viewer.core.edit.recovery_check`); a damaged one is reported and
skipped (the start-up renames it ``<name>.damaged`` so it is reported once). The folder is private
(0700) and its files 0600: they hold the user's work.
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
from viewer.core.edit import recovery_check as check
from viewer.core.error_text import describe
from viewer.core.edit.history import History
from viewer.core.edit.session_lock import SessionLock, is_free
from viewer.core.errors import ReadError, ViewerError, WriteError
from viewer.core.fileio import atomic_open
from viewer.core.safe_input import parse_json
from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import FullMask, Kind, Provenance, Segmentation

RECOVERY_ENV = "SEGVIEW_RECOVERY_DIR"
SCHEMA = "segview-recovery"
SCHEMA_VERSION = 1
SUFFIX = ".npz"
LOCK_SUFFIX = ".lock"
DAMAGED_SUFFIX = ".damaged"
# Sessions this process wrote are not offered for recovery (it is still running).
# A random token, not the pid: after a reboot a new process may get a crashed one's pid.
PROCESS_TOKEN = uuid.uuid4().hex
# session.json holds a table of segments; far beyond any real one is not ours.
_MAX_META_BYTES = 64 << 20
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


def private_dir(folder: str | Path) -> Path:
    """Create ``folder`` (and its parents) if needed and make it private (0700)."""
    folder = Path(folder)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.name != "nt":
            os.chmod(folder, 0o700)  # an older version made it 0755
    except OSError as exc:
        raise WriteError(f"cannot create the recovery folder: {exc.strerror or exc}",
                         folder) from None
    return folder


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
    private_dir(path.parent)
    with atomic_open(path, "wb") as handle, zipfile.ZipFile(
            handle, "w", zipfile.ZIP_DEFLATED, compresslevel=_COMPRESS_LEVEL) as archive:
        _write_array(archive, "labels.npy", snap.labels)
        for seg_id, mask in snap.masks.items():
            _write_array(archive, f"mask_{seg_id}.npy", mask.mask)
        archive.writestr("session.json", json.dumps(snap.meta, indent=1))
    # The folder is private already; 0600 keeps the file so if it is copied out.
    # Later atomic writes keep the mode of the file they replace.
    _make_private(path)
    return path


def autosave(seg: Segmentation, session_id: str, directory: str | Path | None = None) -> Path:
    """Snapshot and write ``seg`` at once; return the recovery file."""
    return write_snapshot(snapshot(seg, session_id), directory)


def session_path(session_id: str, directory: str | Path | None = None) -> Path:
    """The recovery file of a session."""
    if not session_id or not all(c.isalnum() or c in "-_" for c in session_id):
        raise ValueError(f"a session id is letters, digits, - and _, got {session_id!r}")
    return Path(directory or recovery_dir()) / f"{session_id}{SUFFIX}"


def lock_path(session_id: str, directory: str | Path | None = None) -> Path:
    """The lock file a running window holds for its session."""
    return session_path(session_id, directory).with_suffix(LOCK_SUFFIX)


@dataclass(frozen=True)
class Scan:
    """What :func:`scan_sessions` found.

    Attributes
    ----------
    sessions : list of RecoverySession
        Sessions whose window is gone, newest first.
    damaged : list of ReadError
        Files that could not be used, each naming its file.
    """

    sessions: list[RecoverySession]
    damaged: list[ReadError]


def scan_sessions(directory: str | Path | None = None, *, include_own: bool = False,
                  set_aside_damaged: bool = False) -> Scan:
    """Find the recoverable sessions and the damaged recovery files.

    Sessions of a running window (their lock is held) are left out, and so
    are this process's own unless ``include_own``. With ``set_aside_damaged``
    (the start-up does this once it reports them), a damaged file whose lock
    is free is renamed ``<name>.damaged``: kept, but not reported again.
    """
    folder = Path(directory or recovery_dir())
    if not folder.is_dir():
        return Scan([], [])
    found, damaged = [], []
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        if path.name.startswith("."):
            continue  # a temporary file of a write in progress
        try:
            session = _describe(path, _read_meta(path))
        except ReadError as exc:
            if _lock_free(path):
                damaged.append(exc)
                if set_aside_damaged:
                    set_aside(path)
            continue
        if session.own:
            if include_own:
                found.append(session)
        elif _lock_free(path):
            found.append(session)
    return Scan(sorted(found, key=lambda s: s.saved_at, reverse=True), damaged)


def list_sessions(directory: str | Path | None = None, *,
                  include_own: bool = False) -> list[RecoverySession]:
    """Return the recoverable sessions, newest first (see :func:`scan_sessions`)."""
    return scan_sessions(directory, include_own=include_own).sessions


def claim(session: RecoverySession) -> SessionLock | None:
    """Take a listed session's lock, so no other window offers or uses it.

    Returns the held lock (give it to the :class:`Autosaver` that goes on with
    the session, or :func:`discard` with it), or None when a live window holds it.
    """
    lock = SessionLock(session.path.with_suffix(LOCK_SUFFIX))
    return lock if lock.acquire() else None


def restore(session: RecoverySession | str | Path, directory: str | Path | None = None, *,
            image_shape: tuple[int, ...] | None = None,
            onto: str = "the photo is") -> Segmentation:
    """Read a session back as the segmentation it was when autosaved.

    ``session`` is a :class:`RecoverySession`, a session id or a file path.
    Every field and array is checked first; with ``image_shape`` the label
    map must also be the size of the image it is restored onto (``onto`` names
    it in the message). The result is unsaved work: mark its history dirty.

    Raises
    ------
    ReadError
        Naming the recovery file and what is wrong with it.
    """
    path = _path_of(session, directory)
    meta = _read_meta(path)
    shape = tuple(meta["shape"])
    check.check_fits(shape, image_shape, path, onto)
    try:
        with zipfile.ZipFile(path) as archive:
            labels = check.read_checked_array(archive, "labels.npy", shape, "ui", path)
            masks = {}
            for key, box in (meta.get("masks") or {}).items():
                size = (box[2] - box[0], box[3] - box[1])
                masks[int(key)] = FullMask(tuple(box), check.read_checked_array(
                    archive, f"mask_{key}.npy", size, "bui", path).astype(bool))
        table = SegmentTable(Segment.from_dict(row) for row in meta["segments"])
        provenance = Provenance(meta.get("source"), meta.get("format"), meta.get("details") or {})
        return Segmentation(labels, table, kind=Kind(meta["kind"]), provenance=provenance,
                            full_masks=masks)
    except ReadError:
        raise
    except (ViewerError, OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as exc:
        raise ReadError(f"cannot restore the recovery file: {_reason(exc)}", path) from None


def discard(session: RecoverySession | str | Path, directory: str | Path | None = None, *,
            lock: SessionLock | None = None) -> bool:
    """Delete a session's recovery file (declined, or restored and saved).

    Only a session nobody runs is deleted: pass the lock from :func:`claim`, or
    the file's lock must be free. Returns True when the file was deleted.
    """
    path = _path_of(session, directory)
    held = lock if lock is not None and lock.held else SessionLock(path.with_suffix(LOCK_SUFFIX))
    if not held.acquire():
        return False  # a live window's session: never ours to delete
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    held.remove()
    return True


def set_aside(path: str | Path, lock: SessionLock | None = None) -> Path | None:
    """Rename an unusable recovery file ``<name>.damaged``: kept, but never offered again.

    Only when nobody runs the session (pass the held lock from :func:`claim`,
    or its lock must be free). Returns the new name, or None when not renamed.
    """
    path = Path(path)
    held = lock if lock is not None and lock.held else SessionLock(path.with_suffix(LOCK_SUFFIX))
    if not held.acquire():
        return None
    target = path.with_name(path.name + DAMAGED_SUFFIX)
    try:
        os.replace(path, target)
    except OSError:
        target = None
    held.remove()
    return target


class Autosaver:
    """Autosaves one segmentation while its history is dirty.

    The session's lock is taken at the first autosave and held until
    :meth:`discard` or :meth:`close`, so no other window takes the session.

    Parameters
    ----------
    seg : Segmentation
    history : History
        Its history: autosave only when not clean and changed since the last autosave.
    session_id : str, optional
        Default: a new one.
    directory : str or Path, optional
        Default: :func:`recovery_dir`.
    lock : SessionLock, optional
        The held lock of a restored session (from :func:`claim`), which this goes on with.
    """

    def __init__(self, seg: Segmentation, history: History, *, session_id: str | None = None,
                 directory: str | Path | None = None, lock: SessionLock | None = None):
        self.seg, self.history = seg, history
        self.session_id = session_id or new_session_id()
        self.directory = directory
        self._lock = lock or SessionLock(lock_path(self.session_id, directory))
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
        """Autosave now (taking the session's lock first)."""
        version = self.history.version
        private_dir(self.path.parent)
        if not self._lock.acquire():
            raise WriteError("another SegView window holds this recovery session", self.path)
        path = autosave(self.seg, self.session_id, self.directory)
        self._saved_version = version
        return path

    def discard(self) -> None:
        """Delete this session's recovery file and let its lock go."""
        if self._lock.held or self.path.exists():
            discard(self.session_id, self.directory, lock=self._lock)
        self._lock.release()
        self._saved_version = None

    def close(self) -> None:
        """Stop autosaving and let the lock go, keeping the file (unsaved work to offer)."""
        self._lock.release()


# -- helpers ---------------------------------------------------------------------------------
def _write_array(archive: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    with archive.open(name, "w", force_zip64=True) as member:
        np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("session.json")
            if info.file_size > _MAX_META_BYTES:
                raise ReadError(f"session.json is {info.file_size:,} bytes, too large", path)
            meta = parse_json(archive.read(info), path)
    except ReadError:
        raise
    except (OSError, KeyError, ValueError, RecursionError, zipfile.BadZipFile) as exc:
        raise ReadError(f"not a recovery file: {_reason(exc)}", path) from None
    if not isinstance(meta, dict) or meta.get("schema") != SCHEMA:
        raise ReadError("not a SegView recovery file", path)
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise ReadError(f"recovery schema version {meta.get('schema_version')!r} is not "
                        f"supported (this version reads {SCHEMA_VERSION})", path)
    return check.check_meta(meta, path)


def _describe(path: Path, meta: dict[str, Any]) -> RecoverySession:
    return RecoverySession(meta["session_id"], path, meta.get("source"), meta.get("format"),
                           check.saved_at(meta, path), tuple(meta["shape"]), meta["kind"],
                           len(meta["segments"]), meta.get("process") == PROCESS_TOKEN)


def _lock_free(path: Path) -> bool:
    # A missing lock file is free: a writer creates it before its first autosave.
    return is_free(path.with_suffix(LOCK_SUFFIX))


def _make_private(path: Path) -> None:
    if os.name != "nt":
        os.chmod(path, 0o600)


def _reason(exc: BaseException) -> str:
    """An exception in a user's words where known, else its message or type."""
    if isinstance(exc, zipfile.BadZipFile):
        return "it is damaged or cut short (not a whole zip archive)"
    return describe(exc) or str(exc) or type(exc).__name__


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
