"""Save the user's preferences soon after each change, not only at a clean quit.

A crash, a kill or a logout that skips ``closeEvent`` would otherwise lose
the theme, palette and overlay choices made in the session. Changes come in
bursts (a slider drag), so saving waits for a short quiet spell; the file is
written atomically by :func:`viewer.core.settings.save_settings`.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from viewer.core.errors import ViewerError
from viewer.core.settings import Settings, save_settings

DELAY_MS = 400


class SettingsSaver(QObject):
    """Write ``current()`` to the settings file ``DELAY_MS`` after the last :meth:`schedule`.

    Parameters
    ----------
    current : callable
        The settings to save (the window's, with the saved theme when ``--theme`` overrides it).
    report : callable
        Gets a one-line message when the file cannot be written.
    """

    def __init__(self, current: Callable[[], Settings], report: Callable[[str], None],
                 parent: QObject | None = None, delay_ms: int = DELAY_MS):
        super().__init__(parent)
        self._current, self._report = current, report
        self._last: Settings | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.save_now)

    @property
    def pending(self) -> bool:
        """True while a change waits to be written."""
        return self._timer.isActive()

    def schedule(self) -> None:
        """A setting changed: save it after a quiet spell."""
        self._timer.start()

    def save_now(self) -> bool:
        """Write the settings now (unless unchanged since the last write); False on failure."""
        self._timer.stop()
        settings = self._current()
        if settings == self._last:
            return True
        try:
            save_settings(settings)
        except ViewerError as exc:
            self._report(f"Settings not saved: {exc}")
            return False
        self._last = settings
        return True
