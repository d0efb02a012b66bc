"""Autosave of a video's unexported frame edits, and restoring them after a crash.

One video session is one folder in the recovery folder,
``video-<session id>/``: each edited frame is a snapshot file in the format
of :mod:`viewer.core.edit.recovery` (``frame_<index>.npz``, written
atomically), and ``video.json``, written last and atomically, says which
video and mask source they belong to, which frames count and the
whole-video relabel rules. A crash while autosaving leaves the previous
``video.json`` naming the previous, whole, frame files.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from viewer import __version__
from viewer.core.edit import recovery
from viewer.core.errors import ReadError
from viewer.core.fileio import atomic_open
from viewer.core.segmentation import Segmentation
from viewer.core.video.frame_store import ClassRule, FrameStore

SCHEMA = "segview-video-recovery"
SCHEMA_VERSION = 1
PREFIX = "video-"
HEADER = "video.json"


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
        self._saved_version: int | None = None

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
        self.folder.mkdir(parents=True, exist_ok=True)
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
        wanted = {f"{_frame_id(i)}{recovery.SUFFIX}" for i in frames}
        for old in self.folder.glob(f"frame_*{recovery.SUFFIX}"):
            if old.name not in wanted:
                old.unlink()  # a frame whose edit was undone away
        self._saved_version = version
        return self.folder

    def discard(self) -> None:
        """Delete this session's folder (after an export, or when the user discards)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self._saved_version = None


def list_video_sessions(directory: str | Path | None = None, *,
                        include_own: bool = False) -> list[VideoRecovery]:
    """The recoverable video sessions, newest first (unreadable folders are skipped)."""
    folder = Path(directory or recovery.recovery_dir())
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(f"{PREFIX}*"):
        try:
            found.append(_describe(path))
        except ReadError:
            continue
    found = [s for s in found if include_own or not s.own]
    return sorted(found, key=lambda s: s.saved_at, reverse=True)


def restore_video(session: VideoRecovery) -> dict[int, Segmentation]:
    """The edited frames of a session, by frame index (apply ``session.rules`` as well)."""
    return {index: recovery.restore(session.path / f"{_frame_id(index)}{recovery.SUFFIX}")
            for index in session.frames}


def discard_video(session: VideoRecovery) -> None:
    """Delete a session's folder (restored into a store, or declined)."""
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(session.path)


def _frame_id(index: int) -> str:
    return f"frame_{index:06d}"


def _describe(path: Path) -> VideoRecovery:
    try:
        header: dict[str, Any] = json.loads((path / HEADER).read_text(encoding="utf-8"))
        if header.get("schema") != SCHEMA or header.get("schema_version") != SCHEMA_VERSION:
            raise ValueError("not a SegView video recovery folder")
        return VideoRecovery(path, str(header["video"]), header.get("masks"),
                             [int(i) for i in header["frames"]],
                             [ClassRule(int(a), int(b), c) for a, b, c in header["rules"]],
                             _dt.datetime.fromisoformat(header["saved_at"]),
                             header.get("process") == recovery.PROCESS_TOKEN)
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise ReadError(f"not a video recovery folder: {exc}", path) from None
