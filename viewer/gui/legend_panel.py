"""A legend of the classes present: swatch, name, share of the image; tick to show or hide."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QDockWidget, QListWidget, QListWidgetItem, QWidget

from viewer.core.segmentation import Segmentation
from viewer.core.summary import ClassArea, class_areas
from viewer.gui.segment_table_model import schedule, stats_only

IDS_ROLE = Qt.ItemDataRole.UserRole


class LegendPanel(QDockWidget):
    """Dock listing every class of the current segmentation, largest first.

    Ticking or unticking a class shows or hides all its segments (instances
    included) in one table change; a class with some segments hidden shows a
    partial tick.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Legend", parent)
        self.setObjectName("legend_panel")
        self.list = QListWidget(self)
        self.list.itemChanged.connect(self._on_item_changed)
        self.setWidget(self.list)
        self._seg: Segmentation | None = None
        self._rows: list[ClassArea] = []
        self._filling = False
        # Many table changes in a row (a palette applied, show all) refill once.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._refill)

    @property
    def rows(self) -> list[ClassArea]:
        """The classes listed, in list order."""
        return list(self._rows)

    def set_segmentation(self, seg: Segmentation | None) -> None:
        """Show the classes of ``seg`` and follow its table's changes."""
        if self._seg is not None:
            for signal in (self._seg.table.changed, self._seg.table.reset):
                signal.disconnect(self._on_table_changed)
        self._seg = seg
        if seg is not None:
            for signal in (seg.table.changed, seg.table.reset):
                signal.connect(self._on_table_changed)
        self._refill()

    def set_class_visible(self, row: int, visible: bool) -> None:
        """Show or hide every segment of the class in list row ``row``."""
        if self._seg is None or not 0 <= row < len(self._rows):
            return
        table = self._seg.table
        changes = {i: {"visible": visible} for i in self._rows[row].ids
                   if i in table and table[i].visible != visible}
        if changes:
            table.update_many(changes)

    def _on_table_changed(self, ids=(), fields=None) -> None:
        # Areas change with every brush dab: refill once painting pauses.
        schedule(self._timer, stats_only(fields))

    def _refill(self) -> None:
        self._timer.stop()
        self._filling = True
        try:
            self.list.clear()
            self._rows = class_areas(self._seg, include_void=True) if self._seg else []
            for row in self._rows:
                self.list.addItem(_item(row, self._seg))
        finally:
            self._filling = False

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if self._filling:
            return
        row = self.list.row(item)
        # A click on a partly shown class shows all of it.
        self.set_class_visible(row, item.checkState() != Qt.CheckState.Unchecked)


def _item(row: ClassArea, seg: Segmentation) -> QListWidgetItem:
    text = f"{row.name}   {100.0 * row.share:.1f} %"
    if row.segments > 1:
        text += f"   ({row.segments} segments)"
    item = QListWidgetItem(swatch(row.color), text)
    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
    if row.hidden:
        state = Qt.CheckState.Unchecked
    elif row.visible_area < row.area:
        state = Qt.CheckState.PartiallyChecked
    else:
        state = Qt.CheckState.Checked
    item.setCheckState(state)
    ids = ", ".join(str(i) for i in row.ids[:12]) + (" …" if len(row.ids) > 12 else "")
    kind, value = row.key
    item.setToolTip(f"{kind} {value}: {row.area:,} px; segment ids {ids}")
    item.setData(IDS_ROLE, row.ids)
    return item


def swatch(color: tuple[int, int, int], size: int = 14) -> QIcon:
    """A colour square with a thin frame, visible on light and dark backgrounds."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(*color))
    painter = QPainter(pixmap)
    painter.setPen(QColor(128, 128, 128))
    painter.drawRect(0, 0, size - 1, size - 1)
    painter.end()
    return QIcon(pixmap)
