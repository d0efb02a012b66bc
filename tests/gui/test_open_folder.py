"""Open a folder in the real window: pairing, next/previous keys, position, recent files."""

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from viewer import _paths
from viewer.gui import dialogs
from viewer.gui.main_window import MainWindow
from viewer.gui.window_state import WindowState

pytestmark = pytest.mark.gui


@pytest.fixture
def folder(tmp_path):
    """Three photos with masks (VOC-style folders), the second mask broken."""
    root = tmp_path / "data"
    (root / "JPEGImages").mkdir(parents=True)
    (root / "SegmentationClass").mkdir()
    for i in range(3):
        photo = np.full((40, 60, 3), 60 * i, np.uint8)
        Image.fromarray(photo).save(root / "JPEGImages" / f"frame{i + 1}.png")
        mask = np.zeros((40, 60), np.uint8)
        mask[10:30, 10 + 10 * i:30 + 10 * i] = 15
        Image.fromarray(mask).save(root / "SegmentationClass" / f"frame{i + 1}.png")
    (root / "SegmentationClass" / "frame2.png").write_bytes(b"not a png")
    return root


@pytest.fixture
def win(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def _wait_loaded(qtbot, win):
    qtbot.waitUntil(lambda: not win.loading, timeout=10000)


def test_folder_opens_on_its_first_item_with_its_mask(win, qtbot, folder):
    win.open_folder(folder)
    _wait_loaded(qtbot, win)
    assert len(win.items) == 3
    assert win.image_path == folder / "JPEGImages" / "frame1.png"
    assert win.mask_path == folder / "SegmentationClass" / "frame1.png"
    assert win.segmentation.table[15].label == "person"
    assert win.navigation.isVisible()
    assert win.navigation.position_label.text().strip() == "1 / 3"
    assert "[1 / 3]" in win.windowTitle()
    assert not win.previous_action.isEnabled() and win.next_action.isEnabled()


def test_keyboard_walks_the_folder_and_survives_a_broken_mask(win, qtbot, folder):
    win.open_folder(folder)
    _wait_loaded(qtbot, win)
    win.activateWindow()
    qtbot.keyClick(win, Qt.Key.Key_D)
    _wait_loaded(qtbot, win)
    assert win.navigation.position_label.text().strip() == "2 / 3"
    assert win.image_path.name == "frame2.png" and int(win.image[0, 0, 0]) == 60
    # The photo is shown; the broken mask is reported, not raised.
    assert win.segmentation is None
    assert "Mask not shown" in win.statusBar().currentMessage()
    assert "frame2.png" in win.statusBar().currentMessage()
    qtbot.keyClick(win, Qt.Key.Key_PageDown)
    _wait_loaded(qtbot, win)
    assert win.image_path.name == "frame3.png" and win.segmentation.table[15].area == 400
    assert not win.next_action.isEnabled()
    qtbot.keyClick(win, Qt.Key.Key_Home)
    _wait_loaded(qtbot, win)
    assert win.image_path.name == "frame1.png"
    qtbot.keyClick(win, Qt.Key.Key_End)
    _wait_loaded(qtbot, win)
    assert win.image_path.name == "frame3.png"
    qtbot.keyClick(win, Qt.Key.Key_A)
    _wait_loaded(qtbot, win)
    assert win.navigation.position_label.text().strip() == "2 / 3"


def test_rapid_steps_show_the_last_requested_item(win, qtbot, folder):
    win.open_folder(folder)
    _wait_loaded(qtbot, win)
    for _ in range(2):
        win.step_item(1)  # the second request replaces the first
    _wait_loaded(qtbot, win)
    assert win.items.index == 2 and win.image_path.name == "frame3.png"


def test_empty_folder_says_so(win, qtbot, tmp_path):
    win.open_folder(tmp_path)
    _wait_loaded(qtbot, win)
    assert win.image is None and "No images" in win.statusBar().currentMessage()
    assert win.navigation.position_label.text().strip() == "0 / 0"


def test_open_image_finds_its_mask_by_name(win, qtbot):
    win.load_image(_paths.sample_image(), find_mask=True)
    _wait_loaded(qtbot, win)
    assert win.mask_path == _paths.sample_mask()
    assert win.items is None and not win.navigation.isVisible()


def test_missing_image_gives_a_dialog_naming_it(win, qtbot, tmp_path, shown_messages):
    shown = shown_messages
    win.open_path(tmp_path / "nope.png")
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert "nope.png" in shown[0]


def test_cancel_stops_a_load_and_keeps_what_was_shown(win, qtbot, folder):
    assert win.open_image(_paths.sample_image(), _paths.sample_mask())
    handle = win.open_folder(folder)
    handle.cancel()
    _wait_loaded(qtbot, win)
    assert win.image_path == _paths.sample_image() and win.items is None


def test_recent_files_remember_images_and_folders(win, qtbot, folder, monkeypatch):
    win.open_folder(folder)
    _wait_loaded(qtbot, win)
    win.load_image(_paths.sample_image(), find_mask=True)
    _wait_loaded(qtbot, win)
    recent = win.state.recent()
    assert recent[:2] == [_paths.sample_image().resolve(), folder.resolve()]
    win.fill_recent_menu()
    texts = [a.text() for a in win.recent_menu.actions()]
    assert texts[0] == "&1 astronaut.png" and texts[1] == "&2 data/"
    win.recent_menu.actions()[1].trigger()  # reopen the folder from the menu
    _wait_loaded(qtbot, win)
    assert win.items is not None and win.items.folder == folder.resolve()
    # A new window (the next run) reads the same list.
    assert WindowState().recent()[0] == folder.resolve()


def test_menu_open_mask_reads_it_in_a_worker(win, qtbot, monkeypatch):
    assert win.open_image(_paths.sample_image())
    assert win.segmentation is None and win.open_mask_action.isEnabled()
    monkeypatch.setattr(dialogs, "ask_open_file", lambda *args: str(_paths.sample_mask()))
    win.open_mask_action.trigger()
    assert win.loading
    _wait_loaded(qtbot, win)
    assert win.mask_path == _paths.sample_mask() and win.segmentation.table[15].area > 0


def test_menu_open_folder_uses_the_folder_dialog(win, qtbot, folder, monkeypatch):
    monkeypatch.setattr(dialogs, "ask_folder", lambda *args: str(folder))
    win.open_folder_action.trigger()
    _wait_loaded(qtbot, win)
    assert len(win.items) == 3


def test_dropping_a_folder_then_a_mask(win, qtbot, folder, tmp_path):
    _drop(win, [folder])
    _wait_loaded(qtbot, win)
    assert len(win.items) == 3
    mask = np.zeros((40, 60), np.uint8)
    mask[:5] = 7
    path = tmp_path / "other_mask.png"
    Image.fromarray(mask).save(path)
    _drop(win, [path])  # one mask-like file over an open image: its overlay
    _wait_loaded(qtbot, win)
    assert win.mask_path == path and win.segmentation.table[7].area == 300


def test_dropping_image_and_mask_in_either_order(win, qtbot):
    _drop(win, [_paths.sample_mask(), _paths.sample_image()])
    _wait_loaded(qtbot, win)
    assert win.image_path == _paths.sample_image() and win.mask_path == _paths.sample_mask()


def _drop(win, paths):
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    win.dropEvent(event)
