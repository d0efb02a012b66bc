"""Autosave of a video's unexported frame edits, and restoring them after a crash.

One video session is one folder in the recovery folder,
``video-<session id>/``: each edited frame is a snapshot file in the format
of :mod:`viewer.core.edit.recovery` (``frame_<index>.npz``, written
atomically), and ``video.json``, written last and atomically, says which
video and mask source they belong to, which frames count and the
whole-video relabel rules. A crash while autosaving leaves the previous
``video.json`` naming the previous, whole, frame files.

``session.lock`` in the folder is held by the window that autosaves into it
(as for image sessions, :mod:`viewer.core.edit.session_lock`): a folder whose
lock is held is never listed, restored or deleted by another window. Headers
are checked field by field; a damaged folder is reported and skipped (the
start-up renames it ``<name>.damaged`` so it is reported once). The folder is 0700 and its files 0600.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from viewer import __version__
from viewer.core.edit import recovery
from viewer.core.edit.session_lock import SessionLock, is_free
from viewer.core.errors import ReadError, ViewerError, WriteError
from viewer.core.fileio import atomic_open
from viewer.core.safe_input import load_json
from viewer.core.segmentation import Segmentation
from viewer.core.video.frame_store import ClassRule, FrameStore

SCHEMA = "segview-video-recovery"
SCHEMA_VERSION = 1
PREFIX = "video-"
HEADER = "video.json"
LOCK = "session.lock"
_MAX_HEADER_BYTES = 16 << 20


@dataclass(frozen=True)
class VideoRecovery:
    """An autosaved video session found in the recovery folder.

    Attributes
    ----------
    path : Path
        The session's folder.
    source : str
        The video (named ``source`` like an image session, for the restore prompt).
    masks : str or None
        The per-frame mask source it was opened with.
    frames : list of int
        The edited frames saved.
    rules : list of ClassRule
    saved_at : datetime
    own : bool
        Written by this process.
    """

    path: Path
    source: str
    masks: str | None
    frames: list[int]
    rules: list[ClassRule]
    saved_at: _dt.datetime
    own: bool


class VideoAutosaver:
    """Autosaves the edited frames and relabel rules of one video's store.

    Parameters
    ----------
    store : FrameStore
    video : str or Path
    masks : str or Path, optional
        The mask source the video was opened with.
    directory : str or Path, optional
        Default: :func:`viewer.core.edit.recovery.recovery_dir`.
    """

    def __init__(self, store: FrameStore, video: str | Path, masks: str | Path | None = None,
                 *, directory: str | Path | None = None):
        self.store, self.video, self.masks = store, Path(video), masks
        self.folder = Path(directory or recovery.recovery_dir()) / (
            PREFIX + recovery.new_session_id())
        self._lock = SessionLock(self.folder / LOCK)
        self._saved_version: int | None = None

    def adopt(self, session: VideoRecovery, lock: SessionLock) -> None:
        """Go on autosaving into a restored session's folder, holding its claimed lock."""
        self._lock.release()
        self.folder, self._lock = session.path, lock

    def maybe_save(self) -> Path | None:
        """Autosave when the store changed since the last one; drop the folder when it is clean."""
        if not self.store.dirty or not (self.store.edited_frames() or self.store.rules):
            self.discard()
            return None
        if self.store.version == self._saved_version:
            return None
        return self.save()

    def save(self) -> Path:
        """Write every edited frame, then the header naming them."""
        version = self.store.version
        frames = self.store.edited_frames()
        recovery.private_dir(self.folder)
        if not self._lock.acquire():
            raise WriteError("another SegView window holds this recovery session", self.folder)
        for index in frames:
            seg = self.store.mask_for(index)
            recovery.autosave(seg, _frame_id(index), self.folder)
        header = {
            "schema": SCHEMA, "schema_version": SCHEMA_VERSION, "app_version": __version__,
            "saved_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds"),
            "process": recovery.PROCESS_TOKEN, "video": str(self.video),
            "masks": str(self.masks) if self.masks is not None else None,
            "frames": frames,
            "rules": [[r.from_class, r.to_class, r.label] for r in self.store.rules],
        }
        with atomic_open(self.folder / HEADER, "w") as handle:
            json.dump(header, handle, indent=1)
        recovery._make_private(self.folder / HEADER)
        wanted = {f"{_frame_id(i)}{recovery.SUFFIX}" for i in frames}
        for old in self.folder.glob(f"frame_*{recovery.SUFFIX}"):
            if old.name not in wanted:
                old.unlink()  # a frame whose edit was undone away
        self._saved_version = version
        return self.folder

    def discard(self) -> None:
        """Delete this session's folder (after an export, or when the user discards)."""
        if self._lock.held or self.folder.exists():
            _remove(self.folder, self._lock)
        self._saved_version = None

    def close(self) -> None:
        """Stop autosaving and let the lock go, keeping the folder (unexported work to offer)."""
        self._lock.release()


def scan_video_sessions(directory: str | Path | None = None, *, include_own: bool = False,
                        set_aside_damaged: bool = False
                        ) -> tuple[list[VideoRecovery], list[ReadError]]:
    """The recoverable video sessions, newest first, and the damaged folders.

    Folders of a running window (their lock is held) are left out, and this
    process's own unless ``include_own``; with ``set_aside_damaged`` a damaged
    folder nobody holds is renamed ``<name>.damaged`` so it is reported once.
    """
    folder = Path(directory or recovery.recovery_dir())
    if not folder.is_dir():
        return [], []
    found, damaged = [], []
    for path in sorted(folder.glob(f"{PREFIX}*")):
        if not path.is_dir() or path.name.endswith(recovery.DAMAGED_SUFFIX):
            continue
        try:
            session = _describe(path)
        except ReadError as exc:
            if _free(path):
                damaged.append(exc)
                if set_aside_damaged:
                    with contextlib.suppress(OSError):
                        os.replace(path, path.with_name(path.name + recovery.DAMAGED_SUFFIX))
            continue
        if session.own:
            if include_own:
                found.append(session)
        elif _free(path):
            found.append(session)
    return sorted(found, key=lambda s: s.saved_at, reverse=True), damaged


def list_video_sessions(directory: str | Path | None = None, *,
                        include_own: bool = False) -> list[VideoRecovery]:
    """The recoverable video sessions, newest first (see :func:`scan_video_sessions`)."""
    return scan_video_sessions(directory, include_own=include_own)[0]


def claim_video(session: VideoRecovery) -> SessionLock | None:
    """Take a listed session's lock (None when a live window holds it)."""
    lock = SessionLock(session.path / LOCK)
    return lock if lock.acquire() else None


def restore_video(session: VideoRecovery, *,
                  frame_shape: tuple[int, ...] | None = None) -> dict[int, Segmentation]:
    """The edited frames of a session, by frame index (apply ``session.rules`` as well).

    With ``frame_shape`` every frame's label map must be the video's frame size.

    Raises
    ------
    ReadError
        Naming the first frame file that is damaged or the wrong size.
    """
    return {index: recovery.restore(session.path / f"{_frame_id(index)}{recovery.SUFFIX}",
                                    image_shape=frame_shape, onto="the video's frames are")
            for index in session.frames}


def discard_video(session: VideoRecovery, lock: SessionLock | None = None) -> bool:
    """Delete a session's folder (declined, or restored and exported).

    Only a folder nobody runs is deleted: pass the lock from
    :func:`claim_video`, or the folder's lock must be free. True when deleted.
    """
    return _remove(session.path, lock if lock is not None and lock.held
                   else SessionLock(session.path / LOCK))


def set_aside_video(session: VideoRecovery, lock: SessionLock | None = None) -> Path | None:
    """Rename a session's folder ``<name>.damaged`` (it cannot be restored): kept, not offered.

    Only when nobody runs it (the claimed ``lock``, or a free one). Returns the new name.
    """
    held = lock if lock is not None and lock.held else SessionLock(session.path / LOCK)
    if not held.acquire():
        return None
    held.release()  # Windows cannot rename a folder holding an open file
    target = session.path.with_name(session.path.name + recovery.DAMAGED_SUFFIX)
    try:
        os.replace(session.path, target)
    except OSError:
        return None
    return target


def _remove(folder: Path, lock: SessionLock) -> bool:
    if not folder.exists():
        lock.release()
        return True
    if not lock.acquire():
        return False  # a live window's session
    if os.name == "nt":
        lock.release()  # Windows cannot delete an open file
    shutil.rmtree(folder, ignore_errors=True)
    lock.release()
    return True


def _free(folder: Path) -> bool:
    return is_free(folder / LOCK)  # a missing lock file is free, and is not created


def _frame_id(index: int) -> str:
    return f"frame_{index:06d}"


def _describe(path: Path) -> VideoRecovery:
    header_path = path / HEADER
    try:
        if header_path.stat().st_size > _MAX_HEADER_BYTES:
            raise ReadError("video.json is too large", path)
        header: Any = load_json(header_path, _MAX_HEADER_BYTES)
    except ReadError as exc:  # named by the folder: the folder is what is set aside
        raise ReadError(f"{HEADER}: {exc.message}", path) from None
    except (OSError, ValueError, RecursionError) as exc:
        raise ReadError(f"not a video recovery folder: {recovery._reason(exc)}", path) from None
    if (not isinstance(header, dict) or header.get("schema") != SCHEMA
            or header.get("schema_version") != SCHEMA_VERSION):
        raise ReadError("not a SegView video recovery folder", path)
    video, masks = header.get("video"), header.get("masks")
    if not isinstance(video, str) or "\0" in video:
        raise ReadError("'video' must be a file name", path)
    if masks is not None and (not isinstance(masks, str) or "\0" in masks):
        raise ReadError("'masks' must be a file or folder name", path)
    frames = header.get("frames")
    if not isinstance(frames, list) or not all(_whole(i) and i >= 0 for i in frames):
        raise ReadError("'frames' must be a list of frame numbers", path)
    try:
        rules = [_rule(r) for r in header.get("rules")]
    except (TypeError, ValueError, ViewerError):
        raise ReadError("'rules' must be [from class, to class, label] triples", path) from None
    return VideoRecovery(path, video, masks, frames, rules, recovery.check.saved_at(header, path),
                         header.get("process") == recovery.PROCESS_TOKEN)


def _rule(raw: Any) -> ClassRule:
    from_class, to_class, label = raw
    if not (_whole(from_class) and _whole(to_class)) or not isinstance(label, str | None):
        raise ValueError("bad rule")
    return ClassRule(from_class, to_class, label)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
