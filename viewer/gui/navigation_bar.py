"""The folder toolbar: previous / next, "12 / 340", the item's name and its mask choice."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QLabel, QSizePolicy, QToolBar, QWidget

from viewer.core.browse import ItemList
from viewer.gui.richtext import plain, tip


class NavigationBar(QToolBar):
    """Shows where the user is in an opened folder; hidden while no folder is open.

    Signals
    -------
    mask_chosen(int)
        The user picked another of the current item's masks (its index in ``item.masks``).
    """

    mask_chosen = Signal(int)

    def __init__(self, previous: QAction, following: QAction, parent: QWidget | None = None):
        super().__init__("Folder", parent)
        self.setObjectName("navigation_toolbar")
        self.addAction(previous)
        self.position_label = plain(QLabel(" 0 / 0 ", self))
        self.position_label.setToolTip("Position in the opened folder")
        self.addWidget(self.position_label)
        self.addAction(following)
        self.addSeparator()
        self.name_label = plain(QLabel("", self))
        self.name_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(self.name_label)
        self.addWidget(QLabel(" Mask ", self))
        self.mask_combo = QComboBox(self)
        self.mask_combo.setMinimumContentsLength(24)
        self.mask_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.mask_combo.activated.connect(self.mask_chosen.emit)
        self.addWidget(self.mask_combo)

    def show_position(self, items: ItemList | None, mask_index: int = 0) -> None:
        """Show the current item of ``items`` (None: no folder open)."""
        self.mask_combo.clear()
        if items is None or items.current is None:
            self.position_label.setText(" 0 / 0 " if items is not None else "")
            self.name_label.setText(" (no images in this folder)" if items is not None else "")
            self.mask_combo.setEnabled(False)
            return
        item = items.current
        self.position_label.setText(f" {items.position_text()} ")
        self.name_label.setText(f" {item.name}")
        self.name_label.setToolTip(tip(str(item.image)))
        if not item.masks:
            self.mask_combo.addItem("(no mask found)")
        for mask in item.masks:
            self.mask_combo.addItem(_relative(mask, items.folder), str(mask))
        self.mask_combo.setCurrentIndex(min(mask_index, max(len(item.masks) - 1, 0)))
        self.mask_combo.setEnabled(len(item.masks) > 1)


def _relative(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)
