"""A legend of the segments present: colour swatch, label, id and area share."""

from __future__ import annotations

from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QDockWidget, QListWidget, QListWidgetItem, QWidget

from viewer.core.segmentation import Segmentation


class LegendPanel(QDockWidget):
    """Dock listing every segment of the current segmentation."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Legend", parent)
        self.setObjectName("legend_panel")
        self.list = QListWidget(self)
        self.setWidget(self.list)
        self._seg: Segmentation | None = None

    def set_segmentation(self, seg: Segmentation | None) -> None:
        """Show the segments of ``seg`` and follow its table's changes."""
        if self._seg is not None:
            self._seg.table.changed.disconnect(self._on_table_changed)
        self._seg = seg
        if seg is not None:
            seg.table.changed.connect(self._on_table_changed)
        self._refill()

    def _on_table_changed(self, ids, fields) -> None:
        self._refill()

    def _refill(self) -> None:
        self.list.clear()
        if self._seg is None:
            return
        total = max(self._seg.labels.size, 1)
        for seg in self._seg.table:
            if seg.area == 0:
                continue
            text = f"{seg.label or '(unnamed)'}   id {seg.id}   {100.0 * seg.area / total:.1f} %"
            if not seg.visible:
                text += "   (hidden)"
            item = QListWidgetItem(_swatch(seg.color), text)
            item.setToolTip(f"id {seg.id}, value {seg.value}, {seg.area:,} px")
            self.list.addItem(item)


def _swatch(color: tuple[int, int, int]) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor(*color))
    return QIcon(pixmap)
