"""The "Segments" dock: a searchable, sortable table of the segments.

The panel edits only the core segment table (visibility); whoever renders
listens to the table's ``changed`` event. Selection goes out through
:attr:`SegmentsPanel.selection_changed` and comes in through
:meth:`SegmentsPanel.select_ids`, which does not echo back.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from viewer.core.segmentation import Segmentation
from viewer.gui.segment_table_model import (
    AREA,
    CLASS,
    FILTER_ROLE,
    ID,
    INSTANCE,
    LABEL,
    SCORE,
    SORT_ROLE,
    SWATCH,
    SegmentTableModel,
)


class SegmentsPanel(QDockWidget):
    """Dock with a search box, the segment table and show/hide-all buttons.

    Signals
    -------
    selection_changed(tuple)
        Ids of the segments the user selected, in id order (empty when none).
        Not emitted for selections made through :meth:`select_ids`; also
        emitted when filtering or removing rows drops selected ones.
    """

    selection_changed = Signal(tuple)
    # Set by the window's Edit menu, and offered in the context menu too.
    edit_actions: tuple = ()
    relabel_menu = None  # callable(parent) -> QMenu

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Segments", parent)
        self.setObjectName("segments_panel")
        self._seg: Segmentation | None = None
        self._quiet = False  # True while select_ids moves the selection

        self.model = SegmentTableModel(parent=self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterRole(FILTER_ROLE)
        self.proxy.setFilterKeyColumn(SWATCH)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        # Re-sort and re-filter as the core table changes (areas, labels).
        self.proxy.setDynamicSortFilter(True)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter by label, class or id")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search_text_changed)

        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(ID, Qt.SortOrder.AscendingOrder)
        self.view.verticalHeader().hide()
        self.view.setWordWrap(False)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(SWATCH, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(SWATCH, 44)  # checkbox + swatch, nothing more
        header.setSectionResizeMode(LABEL, QHeaderView.ResizeMode.Stretch)
        # Numbers are short: size them to their contents so the label gets the rest.
        for column in (CLASS, INSTANCE, ID, AREA, SCORE):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.view.selectionModel().selectionChanged.connect(self._on_view_selection_changed)
        for signal in (self.model.modelReset, self.model.dataChanged, self.model.rowsInserted):
            signal.connect(self._hide_empty_columns)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_context_menu)

        self.show_all_button = QPushButton("Show all")
        self.show_all_button.clicked.connect(self.show_all)
        self.hide_all_button = QPushButton("Hide all")
        self.hide_all_button.clicked.connect(self.hide_all)

        buttons = QHBoxLayout()
        buttons.addWidget(self.show_all_button)
        buttons.addWidget(self.hide_all_button)
        buttons.addStretch(1)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.view)
        layout.addLayout(buttons)
        self.setWidget(body)
        self._update_buttons()

    # -- public API ----------------------------------------------------------
    @property
    def segmentation(self) -> Segmentation | None:
        """The segmentation shown, or None."""
        return self._seg

    def set_segmentation(self, seg: Segmentation | None) -> None:
        """Show the segments of ``seg`` (None empties the panel)."""
        self._seg = seg
        if seg is None:
            self.model.set_table(None)
        else:
            self.model.set_table(seg.table, seg.labels.size)
        self._hide_empty_columns()
        self._update_buttons()

    def selected_ids(self) -> tuple[int, ...]:
        """Return the ids of the selected rows, in id order."""
        rows = self.view.selectionModel().selectedRows()
        return tuple(sorted(self.model.id_at(self.proxy.mapToSource(i).row()) for i in rows))

    def select_ids(self, ids: Iterable[int]) -> None:
        """Select the rows of ``ids`` (replacing the selection) without emitting.

        Ids that are unknown or hidden by the search filter are skipped. The
        first selected row is scrolled into view.
        """
        selection = QItemSelection()
        first = None
        last_col = self.proxy.columnCount() - 1
        for seg_id in ids:
            row = self.model.row_of(seg_id)
            if row < 0:
                continue
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            if not index.isValid():
                continue
            selection.select(index, index.siblingAtColumn(last_col))
            first = index if first is None or index.row() < first.row() else first
        flag = QItemSelectionModel.SelectionFlag
        flags = flag.ClearAndSelect | flag.Rows
        self._quiet = True
        try:
            self.view.selectionModel().select(selection, flags)
            if first is not None:
                self.view.scrollTo(first)
        finally:
            self._quiet = False

    def set_all_visible(self, visible: bool) -> None:
        """Show or hide every segment in the core table (one ``changed`` event)."""
        table = self.model.table
        if table is None:
            return
        changes = {s.id: {"visible": visible} for s in table if s.visible != visible}
        if changes:
            table.update_many(changes)

    def set_class_visible(self, seg_id: int, visible: bool) -> None:
        """Show or hide every segment of ``seg_id``'s class (one ``changed`` event)."""
        table = self.model.table
        if table is None or seg_id not in table:
            return
        table.update_many({i: {"visible": visible} for i in table.class_mates(seg_id)})

    def show_only_class(self, seg_id: int) -> None:
        """Hide every segment but those of ``seg_id``'s class."""
        table = self.model.table
        if table is None or seg_id not in table:
            return
        mates = set(table.class_mates(seg_id))
        table.update_many({s.id: {"visible": s.id in mates} for s in table})

    def show_all(self) -> None:
        """Make every segment visible."""
        self.set_all_visible(True)

    def hide_all(self) -> None:
        """Hide every segment."""
        self.set_all_visible(False)

    # -- slots ---------------------------------------------------------------
    def _on_context_menu(self, point) -> None:
        index = self.view.indexAt(point)
        table = self.model.table
        if not index.isValid() or table is None:
            return
        seg_id = self.model.id_at(self.proxy.mapToSource(index).row())
        seg = table[seg_id]
        name = seg.label or f"id {seg_id}"
        menu = QMenu(self)
        menu.addAction(f"Hide class “{name}”", lambda: self.set_class_visible(seg_id, False))
        menu.addAction(f"Show class “{name}”", lambda: self.set_class_visible(seg_id, True))
        menu.addAction(f"Show only class “{name}”", lambda: self.show_only_class(seg_id))
        menu.addSeparator()
        menu.addAction("Show all", self.show_all)
        if self.relabel_menu is not None:
            # Editing (the window's Edit actions act on the selected rows).
            menu.addSeparator()
            menu.addMenu(self.relabel_menu(menu))
            for act in self.edit_actions:
                if act is None:
                    menu.addSeparator()
                else:
                    menu.addAction(act)
        menu.exec(self.view.viewport().mapToGlobal(point))

    def _on_search_text_changed(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())

    def _on_view_selection_changed(self, selected, deselected) -> None:
        if not self._quiet:
            self.selection_changed.emit(self.selected_ids())

    def _hide_empty_columns(self, *args) -> None:
        # A semantic map has no instances and a PNG no scores: do not spend width on them.
        table = self.model.table
        for column, field in ((INSTANCE, "instance"), (SCORE, "score")):
            empty = table is None or all(getattr(s, field) is None for s in table)
            self.view.setColumnHidden(column, empty)

    def _update_buttons(self) -> None:
        enabled = self._seg is not None
        self.show_all_button.setEnabled(enabled)
        self.hide_all_button.setEnabled(enabled)
