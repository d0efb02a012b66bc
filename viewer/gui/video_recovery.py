"""Autosave and crash recovery of a video's frame edits, for the video session.

Part of :class:`~viewer.gui.video_session.VideoSession` (a mixin). The files
are :mod:`viewer.core.video.recovery`'s; this puts a restored session's
frames and rules back into the store once its video is open again.
"""

from __future__ import annotations

from pathlib import Path

from viewer.core.edit.session_lock import SessionLock
from viewer.core.errors import ViewerError
from viewer.core.video.recovery import (
    VideoAutosaver,
    VideoRecovery,
    restore_video,
    set_aside_video,
)
from viewer.gui import dialogs


class FrameRecovery:
    """The recovery half of a video session (needs ``window``, ``store``, ``open``,
    ``commit``, ``autosaver``, ``_restoring``)."""

    autosaver: VideoAutosaver | None

    def restore(self, session: VideoRecovery, lock: SessionLock):
        """Open an autosaved session's video with its frame edits and rules (after a crash).

        ``lock`` is the session's, claimed: this window owns the session from now on.
        """
        self._restoring = (session, lock)
        return self.open(session.source, session.masks)

    def autosave(self) -> Path | None:
        """Write unexported frame edits to the recovery folder (the edit timer calls this)."""
        if self.autosaver is None:
            return None
        self.commit()
        try:
            return self.autosaver.maybe_save()
        except ViewerError as exc:
            self.window.statusBar().showMessage(f"Autosave failed: {exc}", 10000)
            return None

    def _take_restored(self) -> None:
        restoring, self._restoring = self._restoring, None
        if restoring is None:
            return
        session, lock = restoring
        info = self.reader.info
        try:
            frames = restore_video(session, frame_shape=(info.height, info.width))
        except ViewerError as exc:
            kept = set_aside_video(session, lock)  # kept for the user, never offered again
            dialogs.show_error(self.window, "Cannot restore", exc,
                               note=f"The autosaved edits are kept in {kept}." if kept else None)
            return
        for index, seg in frames.items():
            if 0 <= index < self.store.frame_count:
                self.store.keep_edit(index, seg)
        for rule in session.rules:
            self.store.reinstate_rule(rule)  # the saved frames already have it applied
        # The restored work goes on being autosaved in the same folder, so a second
        # crash before the next autosave still finds it.
        self.autosaver.adopt(session, lock)
        self.window.statusBar().showMessage(
            f"Restored {len(frames)} edited frames and {len(session.rules)} relabels", 15000)

