"""The segment table model and the Segments dock, driven with real widgets."""

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import Segmentation
from viewer.gui.segment_table_model import (
    AREA,
    CLASS,
    ID,
    LABEL,
    SCORE,
    SORT_ROLE,
    SWATCH,
    SegmentTableModel,
)
from viewer.gui.segments_panel import SegmentsPanel

pytestmark = pytest.mark.gui

Checked, Unchecked = Qt.CheckState.Checked, Qt.CheckState.Unchecked


def _segmentation():
    """A 10 x 10 map: ids 0 (bg, 50 px), 2 (person, 9 px), 5 (dog, 40 px), 10 (cat, 1 px)."""
    labels = np.zeros((10, 10), np.uint8)
    labels[:3, :3] = 2
    labels[5:, 2:] = 5
    labels[0, 9] = 10
    table = SegmentTable([
        Segment(0, "background", class_id=0, visible=False),
        Segment(2, "person", class_id=15, instance=1, color=(192, 128, 128), score=0.9),
        Segment(5, "dog", class_id=12, instance=1, color=(64, 0, 128)),
        Segment(10, "Cat", class_id=8, instance=2, color=(64, 0, 0), score=0.25),
    ])
    return Segmentation(labels, table)


def _texts(model, col):
    return [model.data(model.index(r, col)) for r in range(model.rowCount())]


@pytest.fixture
def seg():
    return _segmentation()


@pytest.fixture
def model(seg, qtmodeltester):
    model = SegmentTableModel(seg.table, seg.labels.size)
    qtmodeltester.check(model)  # also keeps checking every later change
    return model


@pytest.fixture
def panel(qtbot, seg):
    panel = SegmentsPanel()
    qtbot.addWidget(panel)
    panel.set_segmentation(seg)
    panel.show()
    return panel


def _ids_in_view(panel):
    proxy = panel.proxy
    return [proxy.data(proxy.index(r, ID)) for r in range(proxy.rowCount())]


def test_model_shows_every_column(model):
    assert model.rowCount() == 4 and model.columnCount() == 7
    assert _texts(model, LABEL) == ["background", "person", "dog", "Cat"]
    assert _texts(model, CLASS) == ["0", "15", "12", "8"]
    assert _texts(model, ID) == ["0", "2", "5", "10"]
    assert _texts(model, AREA) == ["50.00", "9.00", "40.00", "1.00"]
    assert _texts(model, SCORE) == ["-", "0.900", "-", "0.250"]
    swatch = model.index(1, SWATCH)
    assert model.data(swatch, Qt.ItemDataRole.DecorationRole).getRgb()[:3] == (192, 128, 128)
    assert model.data(swatch, Qt.ItemDataRole.CheckStateRole) == Checked
    assert model.data(model.index(0, SWATCH), Qt.ItemDataRole.CheckStateRole) == Unchecked
    assert model.flags(swatch) & Qt.ItemFlag.ItemIsUserCheckable
    assert model.row_of(5) == 2 and model.row_of(3) == -1


def test_core_edits_show_up_in_the_model(model, seg, qtbot):
    table = seg.table
    with qtbot.waitSignal(model.dataChanged) as blocker:
        table.update(5, label="puppy")
    top, bottom = blocker.args[:2]
    assert top.row() == bottom.row() == 2 and top.column() <= LABEL <= bottom.column()
    assert model.data(model.index(2, LABEL)) == "puppy"

    with qtbot.waitSignal(model.dataChanged) as blocker:
        table.update(2, color=(1, 2, 3))
    assert blocker.args[0].column() == SWATCH
    color = model.data(model.index(1, SWATCH), Qt.ItemDataRole.DecorationRole)
    assert color.getRgb()[:3] == (1, 2, 3)

    table.update(10, visible=False)
    assert model.data(model.index(3, SWATCH), Qt.ItemDataRole.CheckStateRole) == Unchecked

    # An id between existing ones lands in id order; the index follows.
    with qtbot.waitSignal(model.rowsInserted) as blocker:
        table.add_many([Segment(3, "horse"), Segment(20, "tree")])
    assert _texts(model, ID) == ["0", "2", "3", "5", "10", "20"]
    assert model.row_of(5) == 3 and model.row_of(20) == 5

    with qtbot.waitSignal(model.rowsRemoved):
        table.remove([2, 10])
    assert _texts(model, ID) == ["0", "3", "5", "20"]
    assert model.row_of(20) == 3 and model.row_of(2) == -1

    with qtbot.waitSignal(model.modelReset):
        table.replace_all([Segment(7, "car")])
    assert _texts(model, LABEL) == ["car"] and model.row_of(7) == 0


def test_replacing_the_table_disconnects_the_old_one(model, seg):
    other = SegmentTable([Segment(1, "one")])
    model.set_table(other, 4)
    seg.table.add(Segment(30, "ghost"))  # the old table no longer reaches the model
    seg.table.update(2, label="ghost")
    assert _texts(model, LABEL) == ["one"]
    model.set_table(None)
    other.add(Segment(2, "two"))
    assert model.rowCount() == 0


def test_checkbox_hides_the_segment_in_the_core(model, seg):
    index = model.index(model.row_of(5), SWATCH)
    assert model.setData(index, Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert seg.table[5].visible is False
    assert model.data(index, Qt.ItemDataRole.CheckStateRole) == Unchecked
    assert model.setData(index, Checked, Qt.ItemDataRole.CheckStateRole)
    assert seg.table[5].visible is True
    assert not model.setData(model.index(0, LABEL), "x", Qt.ItemDataRole.EditRole)


def test_clicking_the_checkbox_in_the_view(panel, seg, qtbot):
    view = panel.view
    index = panel.proxy.mapFromSource(panel.model.index(panel.model.row_of(2), SWATCH))
    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    option.rect = view.visualRect(index)
    option.features |= QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
    box = view.style().subElementRect(
        QStyle.SubElement.SE_ItemViewItemCheckIndicator, option, view)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=box.center())
    assert seg.table[2].visible is False
    assert panel.proxy.data(index, Qt.ItemDataRole.CheckStateRole) == Unchecked
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=box.center())
    assert seg.table[2].visible is True


def test_sorting_by_area_is_numeric(panel):
    panel.view.sortByColumn(AREA, Qt.SortOrder.AscendingOrder)
    # As text "9.00" > "50.00" > "40.00" > "1.00"; as numbers 1 < 9 < 40 < 50.
    assert _ids_in_view(panel) == ["10", "2", "5", "0"]
    panel.view.sortByColumn(AREA, Qt.SortOrder.DescendingOrder)
    assert _ids_in_view(panel) == ["0", "5", "2", "10"]
    assert isinstance(panel.model.data(panel.model.index(0, AREA), SORT_ROLE), float)


def test_sorting_by_id_is_numeric(panel):
    panel.view.sortByColumn(ID, Qt.SortOrder.DescendingOrder)
    assert _ids_in_view(panel) == ["10", "5", "2", "0"]


def test_search_filters_by_label_class_or_id(panel, seg):
    panel.search.setText("CAT")  # case-insensitive label
    assert _ids_in_view(panel) == ["10"]
    panel.search.setText("1")  # id 10, class 15, class 12
    assert sorted(_ids_in_view(panel)) == ["10", "2", "5"]
    panel.search.setText("o")  # background, person, dog
    assert sorted(_ids_in_view(panel)) == ["0", "2", "5"]
    panel.search.setText("zebra")
    assert _ids_in_view(panel) == []
    seg.table.update(5, label="zebra")  # the filter follows relabelling
    assert _ids_in_view(panel) == ["5"]
    panel.search.clear()
    assert len(_ids_in_view(panel)) == 4


def test_selecting_rows_emits_their_ids(panel, qtbot):
    proxy, selection = panel.proxy, panel.view.selectionModel()
    rows = QItemSelectionModel.SelectionFlag.Rows
    with qtbot.waitSignal(panel.selection_changed) as blocker:
        panel.view.selectRow(proxy.mapFromSource(panel.model.index(2, 0)).row())
    assert blocker.args == [(5,)]
    with qtbot.waitSignal(panel.selection_changed) as blocker:
        index = proxy.mapFromSource(panel.model.index(1, 0))
        selection.select(index, QItemSelectionModel.SelectionFlag.Select | rows)
    assert blocker.args == [(2, 5)]
    assert panel.selected_ids() == (2, 5)


def test_clicking_a_row_emits_its_id(panel, qtbot):
    view = panel.view
    index = panel.proxy.mapFromSource(panel.model.index(panel.model.row_of(10), LABEL))
    with qtbot.waitSignal(panel.selection_changed) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                         pos=view.visualRect(index).center())
    assert blocker.args == [(10,)]


def test_select_ids_selects_without_feedback(panel, qtbot):
    emitted = []
    panel.selection_changed.connect(emitted.append)
    panel.select_ids([5, 10, 99])  # 99 is unknown and skipped
    assert panel.selected_ids() == (5, 10)
    panel.select_ids([])
    assert panel.selected_ids() == ()
    panel.search.setText("dog")
    panel.select_ids([2, 5])  # 2 is filtered out
    assert panel.selected_ids() == (5,)
    assert emitted == []
    # The user still gets through afterwards.
    panel.search.clear()
    panel.view.selectRow(0)
    assert emitted and emitted[-1] == (panel.model.id_at(panel.proxy.mapToSource(
        panel.proxy.index(0, 0)).row()),)


def test_show_all_and_hide_all(panel, seg, qtbot):
    changes = []
    seg.table.changed.connect(lambda ids, fields: changes.append((ids, fields)))
    panel.hide_all_button.click()
    assert not any(s.visible for s in seg.table)
    assert changes == [((2, 5, 10), frozenset({"visible"}))]  # one event, only what changed
    panel.show_all_button.click()
    assert all(s.visible for s in seg.table)
    model = panel.model
    assert all(model.data(model.index(r, SWATCH), Qt.ItemDataRole.CheckStateRole) == Checked
               for r in range(model.rowCount()))


def test_set_segmentation_none_empties_the_panel(panel, seg):
    panel.select_ids([2])
    panel.set_segmentation(None)
    assert panel.model.rowCount() == 0 and panel.proxy.rowCount() == 0
    assert panel.selected_ids() == () and panel.segmentation is None
    assert not panel.hide_all_button.isEnabled()
    panel.hide_all()  # harmless without a table
    seg.table.add(Segment(40, "late"))  # no longer followed
    assert panel.model.rowCount() == 0
    panel.set_segmentation(seg)
    assert panel.model.rowCount() == 5


def test_model_tester_on_an_empty_model(qtmodeltester):
    model = SegmentTableModel()
    qtmodeltester.check(model)
    assert model.rowCount() == 0 and model.rowCount(model.index(0, 0)) == 0
    assert not model.index(0, 0).isValid() and model.data(QModelIndex()) is None


def test_window_canvas_click_selects_the_row_and_highlights(window, qtbot):
    from PySide6.QtCore import QPoint, Qt

    canvas = window.canvas
    labels = window.segmentation.labels
    rows, cols = np.nonzero(labels == 15)
    row, col = int(rows[len(rows) // 2]), int(cols[len(cols) // 2])
    rect, scale = canvas.image_rect(), canvas.scale()
    point = QPoint(int(rect.x() + (col + 0.5) * scale), int(rect.y() + (row + 0.5) * scale))
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=point)
    assert window.segments.selected_ids() == (15,)
    assert window.render_settings.selected == {15}
    window.segments.select_ids(())
    window.segments.view.selectRow(window.segments.proxy.mapFromSource(
        window.segments.model.index(window.segments.model.row_of(255), 0)).row())
    assert window.render_settings.selected == {255}
