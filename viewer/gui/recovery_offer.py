"""At start: report damaged recovery files and offer what a crashed window left.

Only sessions whose window is gone are offered (a live window holds its
session's lock, see :mod:`viewer.core.edit.session_lock`), and each is claimed
before it is offered, so two windows starting together never both offer one.
Declined, it is deleted; accepted, it is checked against the photo it goes
onto and then belongs to this window, which goes on autosaving into it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from viewer.core.edit import recovery
from viewer.core.edit.recovery_check import check_fits
from viewer.core.edit.session_lock import SessionLock
from viewer.core.errors import ReadError, ViewerError
from viewer.core.video import recovery as video_recovery
from viewer.gui import dialogs

if TYPE_CHECKING:
    from viewer.gui.main_window import MainWindow


def offer_recovery(window: MainWindow) -> bool:
    """Offer the newest session a crashed window left; True when one was restored."""
    # Reported once: damaged files are renamed .damaged as they are found.
    videos, damaged_videos = video_recovery.scan_video_sessions(set_aside_damaged=True)
    scan = recovery.scan_sessions(set_aside_damaged=True)
    report_damaged(window, [*damaged_videos, *scan.damaged])
    for video in videos:
        lock = video_recovery.claim_video(video)
        if lock is None:
            continue  # another window starting now took it
        if dialogs.ask_restore(window, video):
            window.video.restore(video, lock)
            return True
        video_recovery.discard_video(video, lock)  # declined: not offered again
        break
    for session in scan.sessions:
        lock = recovery.claim(session)
        if lock is None:
            continue
        if not dialogs.ask_restore(window, session):
            recovery.discard(session, lock=lock)
            return False
        return _restore(window, session, lock)
    return False


def report_damaged(window: MainWindow, problems: list[ReadError]) -> None:
    """One line per recovery file that could not be used (it was skipped and set aside)."""
    if not problems:
        return
    lines = [f"{p} (skipped; kept as {p.path.name}{recovery.DAMAGED_SUFFIX})"
             if p.path is not None else str(p) for p in problems]
    for line in lines:
        print(f"segview: warning: {line}", file=sys.stderr)
    window.statusBar().showMessage(f"Damaged recovery file skipped: {lines[0]}", 20000)
    dialogs.tell_skipped_recovery(window, lines)


def _restore(window: MainWindow, session: recovery.RecoverySession, lock: SessionLock) -> bool:
    try:
        seg = recovery.restore(session)
        image = seg.provenance.details.get("image")
        if image and Path(image).is_file() and window.open_image(image):
            check_fits(seg.shape, window.image.shape if window.image is not None else None,
                       session.path)
    except ViewerError as exc:
        kept = recovery.set_aside(session.path, lock)
        dialogs.show_error(window, "Cannot restore", exc,
                           note=f"The autosaved copy is kept as {kept}." if kept else None)
        return False
    window.set_segmentation(seg)
    window.mask_path = Path(session.source) if session.source else None
    window.edits.history.mark_dirty()
    window.edits.adopt(session.session_id, lock)
    return True
