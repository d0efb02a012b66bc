"""Qt state remembered between runs: geometry, dock layout, recent files, last choices.

User settings a person might edit live in ``core/settings.py`` (JSON); this is
the state Qt serialises itself, kept in ``window.ini`` in the same config
folder, so ``SEGVIEW_CONFIG_DIR`` isolates both (tests rely on that).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

from viewer.core.settings import config_dir

# Bump when docks are renamed or removed, so an old layout is not restored onto new docks.
LAYOUT_VERSION = 2


class WindowState:
    """Read and write the remembered window state."""

    def __init__(self, path: str | Path | None = None):
        path = Path(path) if path is not None else config_dir() / "window.ini"
        self.path = path
        self._qs = QSettings(str(path), QSettings.Format.IniFormat)

    # -- layout --------------------------------------------------------------
    def save_layout(self, window: QMainWindow) -> None:
        """Remember the window's geometry and where its docks and toolbars are."""
        self._qs.setValue("window/geometry", window.saveGeometry())
        self._qs.setValue("window/state", window.saveState(LAYOUT_VERSION))
        self._qs.sync()

    def restore_layout(self, window: QMainWindow) -> bool:
        """Put the window back as it was; False when nothing usable was saved."""
        geometry = self._qs.value("window/geometry")
        state = self._qs.value("window/state")
        restored_state = restored_geometry = False
        # Docks first: closed docks lower the minimum size the geometry must respect.
        if isinstance(state, QByteArray) and not state.isEmpty():
            restored_state = window.restoreState(state, LAYOUT_VERSION)
            # Without this, a window never shown keeps the visible docks' minimum size.
            window.layout().activate()
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            restored_geometry = window.restoreGeometry(geometry)
        return restored_state and restored_geometry

    # -- recent files --------------------------------------------------------
    def recent(self) -> list[Path]:
        """Recently opened images and folders, newest first."""
        value = self._qs.value("recent/paths", [])
        if isinstance(value, str):  # QSettings gives a str for a one-element list
            value = [value]
        return [Path(p) for p in value or [] if p]

    def add_recent(self, path: str | Path, limit: int) -> list[Path]:
        """Put ``path`` first in the recent list (at most ``limit`` long) and return it."""
        path = Path(path).resolve()
        paths = [path] + [p for p in self.recent() if p != path]
        paths = paths[:limit]
        self._qs.setValue("recent/paths", [str(p) for p in paths])
        self._qs.sync()
        return paths

    def clear_recent(self) -> None:
        """Forget the recent files."""
        self._qs.remove("recent/paths")
        self._qs.sync()

    # -- last choices --------------------------------------------------------
    def value(self, key: str, default: object = None) -> object:
        """A remembered choice (last folder, last export format...)."""
        return self._qs.value(f"choices/{key}", default)

    def set_value(self, key: str, value: object) -> None:
        """Remember a choice for the next run."""
        self._qs.setValue(f"choices/{key}", value)
        self._qs.sync()
