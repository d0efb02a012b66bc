"""A Qt table model over a core :class:`~viewer.core.segment_table.SegmentTable`.

The core table stays the single source of truth: the model keeps only the row
order (ids ascending, as the table iterates) and an id -> row index, reads
every cell from the table on demand, and turns the table's psygnal events into
the Qt model signals that views and proxies need.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtGui import QColor

from viewer.core.segment_table import Segment, SegmentTable

SWATCH, LABEL, CLASS, INSTANCE, ID, AREA, SCORE = range(7)
HEADERS = ("", "Label", "Class", "Instance", "ID", "Area %", "Score")
TOOLTIPS = ("Colour; untick to hide the segment", "Class name", "Class id",
            "Instance number within the class", "Segment id (value in the label map)",
            "Share of the image's pixels", "Confidence of the whole segment")

#: Role giving a sortable value (numbers for numeric columns, so 10 sorts after 9).
SORT_ROLE = Qt.ItemDataRole.UserRole
#: Role giving the segment id of any cell of a row.
ID_ROLE = Qt.ItemDataRole.UserRole + 1
#: Role (on the swatch column) giving "label\nclass\nid" in lower case for the
#: search box; newlines keep a typed substring from matching across fields.
FILTER_ROLE = Qt.ItemDataRole.UserRole + 2

# Which columns show each Segment field; fields not listed show nowhere.
# Label and class also touch SWATCH because FILTER_ROLE lives there, and a
# filtering proxy only re-checks rows for the columns named in dataChanged.
_FIELD_COLUMNS = {
    "color": (SWATCH,), "visible": (SWATCH,), "label": (SWATCH, LABEL),
    "class_id": (SWATCH, CLASS), "instance": (INSTANCE,), "area": (SWATCH, AREA),
    "score": (SCORE,), "source_value": (SWATCH,),
}
_NUMERIC = frozenset({CLASS, INSTANCE, ID, AREA, SCORE})
# Fields every brush dab changes. Views of them (this table, sorted by area;
# the legend; the charts) catch up once painting pauses for STATS_DELAY_MS:
# re-sorting thousands of rows per dab would cost far more than the dab.
STATS_FIELDS = frozenset({"area", "bbox"})
STATS_DELAY_MS = 250


def stats_only(fields) -> bool:
    """True when a table change touched only areas and boxes."""
    return fields is not None and bool(fields) and fields <= STATS_FIELDS


def schedule(timer: QTimer, later: bool) -> None:
    """Start a single-shot refresh ``timer``: at once, or (``later``, for an area
    change) when changes pause for STATS_DELAY_MS; an immediate one already
    pending is never put off."""
    if not later:
        timer.start(0)
    elif not (timer.isActive() and timer.interval() == 0):
        timer.start(STATS_DELAY_MS)

_Index = QModelIndex | QPersistentModelIndex


class SegmentTableModel(QAbstractTableModel):
    """Rows are segments in id order; columns are :data:`HEADERS`.

    Parameters
    ----------
    table : SegmentTable, optional
        The table to show; None shows nothing.
    total_pixels : int
        Pixel count of the label map, the denominator of the area share.
    parent : QObject, optional
    """

    def __init__(self, table: SegmentTable | None = None, total_pixels: int = 0,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._table: SegmentTable | None = None
        self._total = 0
        self._ids: list[int] = []
        self._rows: dict[int, int] = {}
        self._stale: set[int] = set()  # ids whose areas changed, shown after a pause
        self._stats_timer = QTimer(self)
        self._stats_timer.setSingleShot(True)
        self._stats_timer.setInterval(STATS_DELAY_MS)
        self._stats_timer.timeout.connect(self._show_stale)
        self.set_table(table, total_pixels)

    # -- binding -------------------------------------------------------------
    @property
    def table(self) -> SegmentTable | None:
        """The core table shown, or None."""
        return self._table

    def set_table(self, table: SegmentTable | None, total_pixels: int = 0) -> None:
        """Show ``table`` (None empties the model) and follow its events."""
        self.beginResetModel()
        if self._table is not None:
            self._table.inserted.disconnect(self._on_inserted)
            self._table.removed.disconnect(self._on_removed)
            self._table.changed.disconnect(self._on_changed)
            self._table.reset.disconnect(self._on_reset)
        self._table = table
        self._total = max(int(total_pixels), 0)
        if table is not None:
            table.inserted.connect(self._on_inserted)
            table.removed.connect(self._on_removed)
            table.changed.connect(self._on_changed)
            table.reset.connect(self._on_reset)
        self._reload_ids()
        self.endResetModel()

    def row_of(self, seg_id: int) -> int:
        """Return the row of ``seg_id`` (O(1)), or -1 when it is not shown."""
        return self._rows.get(int(seg_id), -1)

    def id_at(self, row: int) -> int:
        """Return the segment id shown in ``row``."""
        return self._ids[row]

    def segment_at(self, row: int) -> Segment | None:
        """Return the segment of ``row`` (None while a removal is in flight)."""
        if self._table is None or not 0 <= row < len(self._ids):
            return None
        return self._table.get(self._ids[row])

    def area_percent(self, seg: Segment) -> float:
        """Return the share of the image's pixels that ``seg`` covers, in %."""
        return 100.0 * seg.area / self._total if self._total else 0.0

    # -- QAbstractTableModel -------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802 (Qt API)
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return TOOLTIPS[section]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == SWATCH:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        seg = self.segment_at(index.row())
        if seg is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(seg, col)
        if role == SORT_ROLE:
            return self._sort_key(seg, col)
        if role == ID_ROLE:
            return seg.id
        if col == SWATCH:
            return self._swatch_data(seg, role)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in _NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: _Index, value: Any,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if (not index.isValid() or index.column() != SWATCH
                or role != Qt.ItemDataRole.CheckStateRole or self._table is None):
            return False
        seg = self.segment_at(index.row())
        if seg is None:
            return False
        # Views pass an int, Python callers may pass the enum.
        visible = Qt.CheckState(getattr(value, "value", value)) == Qt.CheckState.Checked
        if visible != seg.visible:
            # The table's `changed` event emits dataChanged, as for any other edit.
            self._table.update(seg.id, visible=visible)
        return True

    # -- cells ---------------------------------------------------------------
    def _swatch_data(self, seg: Segment, role: int) -> Any:
        if role == Qt.ItemDataRole.DecorationRole:
            return QColor(*seg.color)
        if role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if seg.visible else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"id {seg.id}, value {seg.value}, {seg.area:,} px"
        if role == FILTER_ROLE:
            class_text = "" if seg.class_id is None else str(seg.class_id)
            return f"{seg.label}\n{class_text}\n{seg.id}".lower()
        return None

    def _display(self, seg: Segment, col: int) -> str | None:
        if col == LABEL:
            return seg.label
        if col == CLASS:
            return "" if seg.class_id is None else str(seg.class_id)
        if col == INSTANCE:
            return "" if seg.instance is None else str(seg.instance)
        if col == ID:
            return str(seg.id)
        if col == AREA:
            return f"{self.area_percent(seg):.2f}"
        if col == SCORE:
            return "-" if seg.score is None else f"{seg.score:.3f}"
        return None

    def _sort_key(self, seg: Segment, col: int) -> Any:
        # Missing numbers sort first (-1), below every real value.
        if col == SWATCH:
            return int(seg.visible)
        if col == LABEL:
            return seg.label.casefold()
        if col == CLASS:
            return -1 if seg.class_id is None else seg.class_id
        if col == INSTANCE:
            return -1 if seg.instance is None else seg.instance
        if col == ID:
            return seg.id
        if col == AREA:
            return self.area_percent(seg)
        return -1.0 if seg.score is None else float(seg.score)

    # -- core events ---------------------------------------------------------
    def _reload_ids(self) -> None:
        self._ids = list(self._table.ids()) if self._table is not None else []
        self._reindex()

    def _reindex(self) -> None:
        self._rows = {seg_id: row for row, seg_id in enumerate(self._ids)}

    def _on_inserted(self, ids: tuple[int, ...]) -> None:
        # Group new ids by where they land among the current rows; insert the
        # groups from the bottom up so earlier positions stay valid.
        groups: dict[int, list[int]] = {}
        for seg_id in sorted(i for i in ids if i not in self._rows):
            groups.setdefault(bisect.bisect_left(self._ids, seg_id), []).append(seg_id)
        for pos in sorted(groups, reverse=True):
            block = groups[pos]
            self.beginInsertRows(QModelIndex(), pos, pos + len(block) - 1)
            self._ids[pos:pos] = block
            self.endInsertRows()
        self._reindex()

    def _on_removed(self, ids: tuple[int, ...]) -> None:
        rows = sorted(self._rows[i] for i in ids if i in self._rows)
        for first, last in reversed(list(_runs(rows))):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._ids[first:last + 1]
            self.endRemoveRows()
        self._reindex()

    def _on_changed(self, ids: tuple[int, ...], fields: frozenset[str]) -> None:
        if stats_only(fields):
            self._stale.update(ids)
            self._stats_timer.start()  # restarted by every dab: once when painting pauses
            return
        self._emit_changed(ids, fields)

    def _show_stale(self) -> None:
        ids, self._stale = tuple(self._stale), set()
        self._emit_changed(ids, STATS_FIELDS)

    def _emit_changed(self, ids: tuple[int, ...], fields: frozenset[str]) -> None:
        cols = sorted({c for f in fields for c in _FIELD_COLUMNS.get(f, ())})
        rows = [self._rows[i] for i in ids if i in self._rows]
        if not cols or not rows:
            return
        first, last = min(rows), max(rows)
        roles: list[int] = []  # empty means "every role"
        # One signal over the span of the rows: a sorting proxy handles each
        # signal as a whole, so hundreds of scattered rows (the areas a stroke
        # changed) as hundreds of signals cost far more than one.
        # One per run of columns, though: a range spanning an untouched column
        # (the swatch to the area spans the id) re-sorts a proxy sorted by it.
        for col0, col1 in _runs(cols):
            self.dataChanged.emit(self.index(first, col0), self.index(last, col1), roles)

    def _on_reset(self) -> None:
        self.beginResetModel()
        self._reload_ids()
        self.endResetModel()


def _runs(rows: Iterable[int]):
    """Yield ``(first, last)`` of each run of consecutive sorted ``rows``."""
    first = last = None
    for row in rows:
        if last is not None and row == last + 1:
            last = row
            continue
        if first is not None:
            yield first, last
        first = last = row
    if first is not None:
        yield first, last
