"""Edit through the real window: paint, erase, fill, polygon, merge, split, relabel, undo, save."""

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt

from viewer.core.edit.recovery import list_sessions
from viewer.gui import dialogs
from viewer.gui.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def files(tmp_path):
    Image.fromarray(np.full((20, 30, 3), 90, np.uint8)).save(tmp_path / "photo.png")
    mask = np.zeros((20, 30), np.uint8)
    mask[2:8, 2:8] = 1      # class 1 block
    mask[2:8, 12:14] = 2    # class 2, two parts
    mask[12:16, 12:14] = 2
    Image.fromarray(mask).save(tmp_path / "photo_mask.png")
    return tmp_path, mask


@pytest.fixture
def win(edit_window):
    return edit_window


def _values(win):
    """The label map as the file's values (ids are compact, values are what users see)."""
    return np.asarray(win.segmentation.to_values())


def _point(win, row, col):
    rect, (width, height) = win.canvas.image_rect(), win.canvas.image_size()
    return QPoint(int(rect.x() + (col + 0.5) * rect.width() / width),
                  int(rect.y() + (row + 0.5) * rect.height() / height))


def test_brush_stroke_with_the_mouse_is_one_undo_step(win, qtbot, files):
    _, mask = files
    win.set_edit_tool("brush")
    win.brush_slider.setValue(1)
    win.edits.paint_id = win.segmentation.table.ids_of_class(1)[0]
    qtbot.mousePress(win.canvas, Qt.MouseButton.LeftButton, pos=_point(win, 10, 2))
    for col in range(3, 8):
        qtbot.mouseMove(win.canvas, _point(win, 10, col))
    qtbot.mouseRelease(win.canvas, Qt.MouseButton.LeftButton, pos=_point(win, 10, 7))
    expected = mask.copy()
    expected[10, 2:8] = 1
    assert np.array_equal(_values(win), expected)
    assert win.windowTitle().startswith("*") and win.edits.dirty
    win.undo_action.trigger()
    assert np.array_equal(_values(win), mask) and not win.edits.dirty
    win.redo_action.trigger()
    assert np.array_equal(_values(win), expected)


def test_eraser_fill_and_polygon(win, files):
    _, mask = files
    win.set_edit_tool("eraser")
    win.set_brush_size(3)
    win.brush_shape_combo.setCurrentText("square")
    win.canvas.stroke_started.emit(4, 4)
    win.canvas.stroke_ended.emit()
    expected = mask.copy()
    expected[3:6, 3:6] = 0
    assert np.array_equal(_values(win), expected)
    win.set_edit_tool("fill")
    win.edits.paint_id = win.segmentation.table.ids_of_class(2)[0]
    win.canvas.clicked.emit(4, 4)  # the erased hole, walled in by class 1
    filled = expected.copy()
    filled[3:6, 3:6] = 2
    assert np.array_equal(_values(win), filled)
    win.canvas.clicked.emit(0, 29)  # the background around everything
    assert (_values(win)[mask == 0] == 2).all() and (_values(win)[2:8, 2:8] != 0).all()
    win.undo_action.trigger()
    win.undo_action.trigger()
    assert np.array_equal(_values(win), expected)
    win.set_edit_tool("polygon")
    for point in ((10, 20), (10, 26), (16, 26), (16, 20)):
        win.canvas.clicked.emit(*point)
    win.edits.close_polygon()
    after = _values(win)
    assert (after[11:16, 21:26] == 2).all() and after[9, 20] == 0
    assert len(win.edits.history) == 2


def test_merge_split_delete_and_number_key_relabel(win, qtbot, files):
    _, mask = files
    table = win.segmentation.table
    two = table.ids_of_class(2)
    assert len(two) == 1  # one semantic segment in two parts
    win.select_segments(two)
    win.split_action.trigger()
    parts = win.segmentation.table.ids_of_class(2)
    assert len(parts) == 2
    win.select_segments(parts)
    win.merge_action.trigger()
    assert len(win.segmentation.table.ids_of_class(2)) == 1
    assert np.array_equal(_values(win), mask)
    classes = [win.paint_combo.itemText(i) for i in range(win.paint_combo.count())]
    assert [c.split()[0] for c in classes] == ["1", "2", "3"]  # background, class 1, class 2
    win.select_segments(table.ids_of_class(1))
    win.activateWindow()
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key.Key_3)  # the 3rd class of the list: class 2
    relabelled = _values(win)
    assert (relabelled[2:8, 2:8] == 2).all() and (relabelled[mask == 2] == 2).all()
    win.select_segments(win.segmentation.table.ids_of_class(2))
    win.delete_action.trigger()
    assert (_values(win) == 0).all()
    for _ in range(5):
        win.undo_action.trigger()
    assert np.array_equal(_values(win), mask) and not win.edits.dirty


def test_save_writes_back_and_closing_asks_first(win, qtbot, files, monkeypatch):
    folder, mask = files
    win.set_edit_tool("brush")
    win.set_brush_size(1)
    win.edits.paint_id = win.segmentation.table.ids_of_class(1)[0]
    win.canvas.stroke_started.emit(18, 28)
    win.canvas.stroke_ended.emit()
    asked = []
    monkeypatch.setattr(dialogs, "ask_unsaved", lambda parent: asked.append(1) or "cancel")
    win.close()
    assert asked and win.isVisible()  # cancelled: still open, edits kept
    win.save_action.trigger()
    saved = np.array(Image.open(folder / "photo_mask.png"))
    expected = mask.copy()
    expected[18, 28] = 1
    assert np.array_equal(saved, expected)
    assert not win.edits.dirty and not win.windowTitle().startswith("*")


def test_autosave_then_the_next_start_offers_the_edits(win, qtbot, files, monkeypatch):
    folder, mask = files
    win.set_edit_tool("brush")
    win.set_brush_size(1)
    win.edits.paint_id = win.segmentation.table.ids_of_class(1)[0]
    win.canvas.stroke_started.emit(0, 0)
    win.canvas.stroke_ended.emit()
    win.edits.autosaver.save()
    assert list_sessions(include_own=True)
    # A crash: the window goes without saving; the next start finds the session.
    monkeypatch.setattr(dialogs, "ask_restore", lambda parent, session: True)
    # In one process: the window's lock goes as a dead process's would, and the
    # session no longer looks like this process's own.
    win.edits.autosaver.close()
    monkeypatch.setattr("viewer.core.edit.recovery.PROCESS_TOKEN", "another process")
    second = MainWindow()
    qtbot.addWidget(second)
    assert second.edits.offer_recovery()
    expected = mask.copy()
    expected[0, 0] = 1
    assert np.array_equal(np.asarray(second.segmentation.to_values()), expected)
    assert second.image_path == folder / "photo.png" and second.edits.dirty
    monkeypatch.setattr(dialogs, "ask_unsaved", lambda parent: "discard")


def test_lasso_drag_fills_the_outline_on_release(win, qtbot, files):
    _, mask = files
    win.tool_actions["lasso"].trigger()
    assert win.edits.tool == "lasso"
    win.edits.paint_id = win.segmentation.table.ids_of_class(1)[0]
    outline = [(10, 18), (10, 27), (18, 27), (18, 18), (10, 18)]
    qtbot.mousePress(win.canvas, Qt.MouseButton.LeftButton, pos=_point(win, *outline[0]))
    for row, col in outline[1:]:
        qtbot.mouseMove(win.canvas, _point(win, row, col))
    qtbot.mouseRelease(win.canvas, Qt.MouseButton.LeftButton, pos=_point(win, *outline[-1]))
    after = _values(win)
    expected = mask.copy()
    expected[10:19, 18:28] = 1
    assert np.array_equal(after, expected)
    assert win.undo_action.text() == "&Undo Lasso fill" and win.edits.polygon == []
