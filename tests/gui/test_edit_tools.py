"""Edit tools through the real window: clean-up, classes, overwrite modes, colours, repaint,
and recovery after a process with unsaved edits is killed."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from viewer.core.edit.recovery import list_sessions
from viewer.core.render import Mode, render_overlay
from viewer.gui import dialogs, palette_panel
from viewer.gui.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def files(tmp_path):
    Image.fromarray(np.full((24, 32, 3), 90, np.uint8)).save(tmp_path / "photo.png")
    mask = np.zeros((24, 32), np.uint8)
    mask[2:10, 2:10] = 1        # class 1 with a 2x2 hole and a 1-pixel island
    mask[5:7, 5:7] = 0
    mask[20, 2] = 1
    mask[2:10, 14:18] = 2       # class 2 in two parts, one small
    mask[14:16, 14:16] = 2
    Image.fromarray(mask).save(tmp_path / "photo_mask.png")
    return tmp_path, mask


@pytest.fixture
def win(edit_window):
    return edit_window


def _values(win):
    return np.asarray(win.segmentation.to_values())


def _ids(win, class_id):
    return win.segmentation.table.ids_of_class(class_id)


def test_clean_up_islands_largest_and_holes_from_the_menu(win, files, monkeypatch):
    _, mask = files
    monkeypatch.setattr(dialogs, "ask_int", lambda *a: 2)  # pieces under 2 px go
    win.select_segments(_ids(win, 1))
    win.islands_action.trigger()
    expected = mask.copy()
    expected[20, 2] = 0
    assert np.array_equal(_values(win), expected)
    assert win.settings.island_size == 2
    win.holes_action.trigger()
    expected[5:7, 5:7] = 1
    assert np.array_equal(_values(win), expected)
    win.select_segments(())  # nothing selected: every segment
    win.largest_action.trigger()
    expected[14:16, 14:16] = 0
    assert np.array_equal(_values(win), expected)
    assert win.undo_action.text() == "&Undo Keep largest part"
    for _ in range(3):
        win.undo_action.trigger()
    assert np.array_equal(_values(win), mask) and not win.edits.dirty


def test_rename_add_class_and_relabel_from_the_menu(win, files, monkeypatch):
    _, mask = files
    win.select_segments(_ids(win, 2))
    monkeypatch.setattr(dialogs, "ask_text", lambda *a: "road")
    win.rename_class_action.trigger()
    assert {win.segmentation.table[i].label for i in _ids(win, 2)} == {"road"}
    monkeypatch.setattr(dialogs, "ask_text", lambda *a: "kerb")
    win.add_class_action.trigger()
    kerb = win.edits.paint_id
    assert win.segmentation.table[kerb].label == "kerb"
    assert win.paint_combo.currentText().endswith("kerb")
    # Paint with the new class, then relabel class 1 to it from the menu.
    win.set_edit_tool("brush")
    win.set_brush_size(1)
    win.canvas.stroke_started.emit(22, 30)
    win.canvas.stroke_ended.emit()
    new_value = win.segmentation.table[kerb].class_id
    assert new_value == 3 and _values(win)[22, 30] == new_value
    win.select_segments(_ids(win, 1))
    win.relabel_menu.aboutToShow.emit()
    entry = next(a for a in win.relabel_menu.actions() if a.text().startswith("kerb"))
    entry.trigger()
    assert (_values(win)[mask == 1] == new_value).all()
    for _ in range(4):
        win.undo_action.trigger()
    assert np.array_equal(_values(win), mask)
    assert {win.segmentation.table[i].label for i in _ids(win, 2)} != {"road"}


def test_overwrite_background_only_and_one_segment_only(win, files):
    _, mask = files
    win.set_edit_tool("brush")
    win.brush_shape_combo.setCurrentText("square")
    win.set_brush_size(9)
    win.edits.paint_id = _ids(win, 2)[0]
    win.set_overwrite("background")
    win.canvas.stroke_started.emit(6, 6)  # over class 1 and its hole
    win.canvas.stroke_ended.emit()
    after = _values(win)
    assert (after[5:7, 5:7] == 2).all() and (after[mask == 1] == 1).all()
    win.undo_action.trigger()
    win.select_segments(_ids(win, 1))
    win.overwrite_actions["segment"].trigger()
    assert win.overwrite_combo.currentData() == "segment"
    win.canvas.stroke_started.emit(6, 6)
    win.canvas.stroke_ended.emit()
    after = _values(win)
    box = np.zeros_like(mask, bool)
    box[2:11, 2:11] = True
    assert (after[box & (mask == 1)] == 2).all() and (after[box & (mask == 0)] == 0).all()


def test_escape_drops_the_polygon_and_a_colour_change_is_one_undo_step(win, qtbot,
                                                                       monkeypatch):
    win.set_edit_tool("polygon")
    for point in ((1, 20), (1, 30), (10, 30)):
        win.canvas.clicked.emit(*point)
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key.Key_Escape)
    win.edits.close_polygon()
    assert len(win.edits.history) == 0 and win.edits.polygon == []
    one = _ids(win, 1)[0]
    old = win.segmentation.table[one].color
    win.select_segments([one])
    monkeypatch.setattr(palette_panel, "ask_color", lambda parent, initial: QColor(1, 2, 3))
    assert win.palette_panel.change_color()
    assert win.segmentation.table[one].color == (1, 2, 3) and win.edits.dirty
    # A stroke after the colour change, undone, keeps the new colour.
    win.set_edit_tool("brush")
    win.edits.paint_id = one
    win.canvas.stroke_started.emit(22, 30)
    win.canvas.stroke_ended.emit()
    win.undo_action.trigger()
    assert win.segmentation.table[one].color == (1, 2, 3)
    win.undo_action.trigger()
    assert win.segmentation.table[one].color == old and not win.edits.dirty


@pytest.mark.parametrize("mode", [Mode.FILLED, Mode.FILLED_OUTLINE])
def test_a_dab_redraws_its_box_the_same_as_a_full_render(win, mode):
    win.render_settings = win.render_settings.with_(mode=mode, thickness=2)
    win.rerender()
    win.set_edit_tool("brush")
    win.set_brush_size(5)
    win.edits.paint_id = _ids(win, 2)[0]
    fill_before = win._layers.fill
    win.canvas.stroke_started.emit(12, 8)
    win.canvas.stroke_moved.emit(12, 12)
    win.canvas.stroke_ended.emit()
    assert win._layers.fill is fill_before  # updated in place, not rendered again
    full = render_overlay(win.segmentation, win.render_settings, order="bgra",
                          premultiplied=True)
    assert np.array_equal(win._layers.fill, full.fill)
    if mode == Mode.FILLED_OUTLINE:
        assert np.array_equal(win._layers.outline, full.outline)
    win.undo_action.trigger()  # undo redraws too
    full = render_overlay(win.segmentation, win.render_settings, order="bgra",
                          premultiplied=True)
    assert np.array_equal(win._layers.fill, full.fill)


def test_undo_memory_menu_sets_the_budget(win):
    entry = next(a for a in win.budget_group.actions() if a.text() == "64 MB")
    entry.trigger()
    assert win.edits.history.budget_bytes == 64 << 20 and win.settings.history_budget_mb == 64


def test_save_can_write_the_changed_pixels_mask(win, files):
    folder, mask = files
    win.changed_mask_action.trigger()
    win.set_edit_tool("brush")
    win.set_brush_size(1)
    win.edits.paint_id = _ids(win, 1)[0]
    win.canvas.stroke_started.emit(23, 31)
    win.canvas.stroke_ended.emit()
    win.save_action.trigger()
    changed = np.array(Image.open(folder / "photo_mask_changed.png"))
    assert changed[23, 31] == 255 and changed.sum() == 255
    assert np.array(Image.open(folder / "photo_mask.png"))[23, 31] == 1


KILLED = textwrap.dedent("""
    import os, sys
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from viewer.gui.main_window import MainWindow
    folder = sys.argv[1]
    win = MainWindow()
    win.open_image(folder + "/photo.png", folder + "/photo_mask.png")
    win.set_edit_tool("brush")
    win.set_brush_size(3)
    win.edits.paint_id = win.segmentation.table.ids_of_class(2)[0]
    win.canvas.stroke_started.emit(20, 20)
    win.canvas.stroke_moved.emit(20, 26)
    win.canvas.stroke_ended.emit()
    win.edits.autosaver.save()   # what the autosave timer does every few seconds
    import numpy as np
    np.save(folder + "/edited.npy", np.asarray(win.segmentation.to_values()))
    os._exit(3)                  # a crash: no save, no prompt, no clean-up
""")


def test_a_killed_window_s_edits_are_offered_at_the_next_start(qtbot, files, monkeypatch,
                                                                 tmp_path):
    folder, mask = files
    result = subprocess.run([sys.executable, "-c", KILLED, str(folder)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 3, result.stderr
    assert len(list_sessions()) == 1
    asked = []
    monkeypatch.setattr(dialogs, "ask_restore",
                        lambda parent, session: asked.append(session.source) or True)
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.edits.offer_recovery()
    assert asked == [str(folder / "photo_mask.png")]
    expected = np.load(folder / "edited.npy")
    assert (expected != mask).sum() > 10 and (expected[mask != expected] == 2).all()
    assert np.array_equal(_values(window), expected)
    assert window.image_path == folder / "photo.png"
    assert window.edits.dirty and window.windowTitle().startswith("*")
    # Saving writes the restored edits to the mask and removes the autosave.
    window.save_action.trigger()
    assert np.array_equal(np.array(Image.open(folder / "photo_mask.png")), expected)
    assert list_sessions(include_own=True) == []


def test_a_declined_recovery_is_not_offered_again(qtbot, files, monkeypatch):
    folder, _ = files
    result = subprocess.run([sys.executable, "-c", KILLED, str(folder)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 3, result.stderr
    monkeypatch.setattr(dialogs, "ask_restore", lambda parent, session: False)
    window = MainWindow()
    qtbot.addWidget(window)
    assert not window.edits.offer_recovery()
    assert list_sessions() == []


def test_a_mask_without_a_file_cannot_be_saved_back_and_export_is_offered(win, monkeypatch):
    from viewer.core.segmentation import Segmentation

    labels = np.zeros((24, 32), np.uint8)
    labels[3:9, 3:9] = 1
    win.set_segmentation(Segmentation.from_values(labels, names={0: "bg", 1: "thing"}))
    win.set_edit_tool("brush")
    win.edits.paint_id = _ids(win, 1)[0]
    win.canvas.stroke_started.emit(20, 20)
    win.canvas.stroke_ended.emit()
    asked, exported = [], []
    monkeypatch.setattr(dialogs, "ask_export_instead",
                        lambda parent, problems: asked.extend(problems) or True)
    monkeypatch.setattr(win, "choose_export", lambda: exported.append(1))
    win.save_action.trigger()
    assert asked and "not read from a file" in asked[0] and exported == [1]
    assert win.edits.dirty  # nothing was saved


def test_the_autosave_timer_writes_only_while_dirty(win, files):
    assert win.edits.autosave() is None  # nothing to save
    win.set_edit_tool("brush")
    win.edits.paint_id = _ids(win, 1)[0]
    win.canvas.stroke_started.emit(23, 0)
    win.canvas.stroke_ended.emit()
    path = win.edits.autosave()
    assert path is not None and path.is_file()
    assert win.edits.autosave() is None  # unchanged since: not written again
    win.save_action.trigger()
    assert not path.exists()  # saved: the recovery copy goes


def test_compare_with_the_mask_as_opened_shows_exactly_the_edits(win, files):
    from viewer.core.metrics import Diff

    _, mask = files
    win.set_edit_tool("brush")
    win.set_brush_size(1)
    win.edits.paint_id = _ids(win, 1)[0]
    win.canvas.stroke_started.emit(22, 30)
    win.canvas.stroke_ended.emit()
    win.compare_original_action.trigger()
    assert win.compare.active() and "as opened" in win.compare_panel.source_label.text()
    wrong = {Diff.FALSE_POSITIVE, Diff.FALSE_NEGATIVE, Diff.CONFUSED}

    def changed():
        return np.isin(win.compare.diff().codes, list(wrong))

    assert np.array_equal(changed(), _values(win) != mask)
    # A later edit shows in the diff at once (the overlay and the metrics follow it).
    win.canvas.stroke_started.emit(0, 31)
    win.canvas.stroke_ended.emit()
    assert changed()[0, 31] and changed().sum() == 2
    assert np.array_equal(changed(), _values(win) != mask)
