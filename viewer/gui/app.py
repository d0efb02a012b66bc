"""Start the application: QApplication, settings, the main window."""

from __future__ import annotations

import sys
from pathlib import Path

from viewer import _paths
from viewer.core.errors import SettingsError
from viewer.core.settings import Settings, load_settings


def run(image: str | None = None, mask: str | None = None, screenshot: str | None = None) -> int:
    """Open the main window on ``image`` (default: the bundled sample); return the exit code."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from viewer.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("SegView")
    app.setOrganizationName("SegView")
    settings, problem = _settings()
    window = MainWindow(settings)
    if image is None:
        image, mask = str(_paths.sample_image()), str(_paths.sample_mask())
    window.show()
    if problem is not None:
        QMessageBox.warning(window, "Settings ignored", f"{problem}\n\nUsing the defaults.")
    window.open_image(image, mask)
    if screenshot:
        QTimer.singleShot(700, lambda: _save_screenshot(window, Path(screenshot), app))
    return app.exec()


def _settings() -> tuple[Settings, SettingsError | None]:
    try:
        return load_settings(), None
    except SettingsError as exc:
        return Settings(), exc


def _save_screenshot(window, path: Path, app) -> None:
    window.grab().save(str(path))
    app.quit()
