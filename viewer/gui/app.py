"""Start the application: QApplication, settings, the main window."""

from __future__ import annotations

import sys
from pathlib import Path

from viewer import _paths
from viewer.core.errors import SettingsError
from viewer.core.settings import Settings, load_settings


def run(path: str | None = None, mask: str | None = None, screenshot: str | None = None,
        theme: str | None = None, models_dirs: tuple[str, ...] = (), stream: str | None = None,
        demo: bool = False) -> int:
    """Open the main window on ``path`` (an image, a folder or a video; default: the
    bundled sample), or on a camera or stream; ``demo`` starts in demo mode.

    Returns the exit code.
    """
    from PySide6.QtWidgets import QApplication

    from viewer.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    # Python's cycle collector runs in whichever thread allocates; run in a
    # worker (a mask being read), it may destroy Qt objects there, and Qt then
    # deadlocks on the GIL. pyqtgraph's collector turns automatic collection
    # off and collects on a timer in the GUI thread.
    from pyqtgraph.util.garbage_collector import GarbageCollector

    app.garbage_collector = GarbageCollector(interval=1.0)
    app.setApplicationName("SegView")
    app.setOrganizationName("SegView")
    # The icon in the title bar and task switcher; the desktop file name lets Wayland
    # match the window to packaging/linux/segview.desktop.
    from PySide6.QtGui import QIcon

    app.setWindowIcon(QIcon(str(_paths.app_icon())))
    app.setDesktopFileName("segview")
    settings, problem = _settings()
    window = MainWindow(settings, models_dirs=models_dirs)
    window.set_theme(theme or settings.theme)
    if theme is not None:
        # --theme is for this run: the saved choice stays unless the user picks one.
        window.saved_theme = settings.theme
    if not window.state.restore_layout(window):
        # First run: the default size, but never larger than the screen.
        screen = app.primaryScreen().availableGeometry()
        window.resize(min(window.width(), int(screen.width() * 0.95)),
                      min(window.height(), int(screen.height() * 0.95)))
    window.show()
    if problem is not None:
        window.show_message("Settings ignored", f"{problem}\n\nUsing the defaults.")
    # Edits autosaved by a run that crashed come first; a screenshot run never asks.
    if stream is not None:
        window.stream.open(stream)
    elif screenshot or not window.edits.offer_recovery():
        if path is None:
            path, mask = str(_paths.sample_image()), str(_paths.sample_mask())
        window.open_path(path, mask)
    if demo:
        # A video opens in a worker: enter once it is there, so playback starts looping.
        if window.video.active or stream is not None or path is None:
            window.demo.enter()
        else:
            _once(window.video.opened, window.demo.enter)
    if screenshot:
        _screenshot_when_loaded(window, Path(screenshot), app)
    return app.exec()


def _once(signal, slot) -> None:
    """Call ``slot`` the next time ``signal`` fires, then never again."""
    def fire(*_args) -> None:
        signal.disconnect(fire)
        slot()

    signal.connect(fire)


def _settings() -> tuple[Settings, SettingsError | None]:
    try:
        return load_settings(), None
    except SettingsError as exc:
        return Settings(), exc


def _screenshot_when_loaded(window, path: Path, app) -> None:
    """Save ``window`` to ``path`` once nothing is loading any more, then quit."""
    from PySide6.QtCore import QTimer

    timer = QTimer(window)
    ticks = []

    def check() -> None:
        ticks.append(1)
        # A folder loads in two steps (scan, then the first image): wait for quiet.
        if window.loading and len(ticks) < 600:
            return
        timer.stop()
        QTimer.singleShot(400, lambda: (window.grab().save(str(path)), app.quit()))

    timer.timeout.connect(check)
    timer.start(50)
