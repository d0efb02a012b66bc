"""Review a folder with the keyboard only, and check the sidecar file."""

import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from viewer.core import review as core_review
from viewer.gui.export_dialog import ExportChoice
from viewer.gui.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "shots"
    root.mkdir()
    for i in range(4):
        Image.fromarray(np.full((24, 32, 3), 40 * i, np.uint8)).save(root / f"img{i}.png")
        mask = np.zeros((24, 32), np.uint8)
        mask[4:12, 4:12] = 1
        Image.fromarray(mask).save(root / f"img{i}_mask.png")
    return root


@pytest.fixture
def win(qtbot, folder):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.open_folder(folder)
    qtbot.waitUntil(lambda: not window.loading and window.image is not None, timeout=10000)
    window.activateWindow()
    return window


def _key(qtbot, win, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(win, key, modifier)
    qtbot.waitUntil(lambda: not win.loading, timeout=10000)


def test_keyboard_only_review_writes_the_sidecar(win, qtbot, folder):
    _key(qtbot, win, Qt.Key.Key_Y)                 # accept img0
    _key(qtbot, win, Qt.Key.Key_Space)             # next unreviewed: img1
    assert win.image_path.name == "img1.png"
    _key(qtbot, win, Qt.Key.Key_R)                 # reject img1
    _key(qtbot, win, Qt.Key.Key_Space)
    _key(qtbot, win, Qt.Key.Key_G)                 # flag img2
    assert win.review_panel.progress_bar.text() == "3 / 4 reviewed"
    _key(qtbot, win, Qt.Key.Key_Space)
    assert win.image_path.name == "img3.png"
    doc = json.loads((folder / "segview-review.json").read_text())
    assert {k: v["state"] for k, v in doc["items"].items()} == {
        "img0.png": "accepted", "img1.png": "rejected", "img2.png": "flagged"}
    # A new session reads the same states back.
    again = core_review.load(folder / "segview-review.json")
    assert again.progress([f"img{i}.png" for i in range(4)]).text == "3 / 4 reviewed"


def test_filter_walks_only_the_chosen_states(win, qtbot):
    for key in (Qt.Key.Key_R, Qt.Key.Key_Space, Qt.Key.Key_Y, Qt.Key.Key_Space,
                Qt.Key.Key_R, Qt.Key.Key_Space):
        _key(qtbot, win, key)
    win.review_panel.filter_combo.setCurrentText("Rejected")
    _key(qtbot, win, Qt.Key.Key_D, Qt.KeyboardModifier.ShiftModifier)
    assert win.image_path.name == "img0.png"
    _key(qtbot, win, Qt.Key.Key_D, Qt.KeyboardModifier.ShiftModifier)
    assert win.image_path.name == "img2.png"
    _key(qtbot, win, Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier)
    assert win.image_path.name == "img0.png"


def test_pinned_comment_and_segment_flag_reach_the_file_and_the_export(win, qtbot, folder,
                                                                       tmp_path):
    rect = win.canvas.image_rect()
    win.canvas.clicked.emit(8, 8)  # a click on the square selects it and sets the pin
    assert win.render_settings.selected == {1}
    win.review_panel.pin_check.setChecked(True)
    win.review_panel.comment_edit.setText("edge too loose")
    qtbot.keyClick(win.review_panel.comment_edit, Qt.Key.Key_Return)
    win.review_panel.segment_flag_button.click()
    item = core_review.load(folder / "segview-review.json").item("img0.png")
    (comment,) = item.visible_comments
    assert comment.text == "edge too loose" and comment.point == (8, 8) and comment.segment == 1
    assert item.segments[1].state == core_review.State.FLAGGED
    assert win.review_panel.comments.count() == 1 and rect.width() > 0
    result = win.export_to(ExportChoice("index-png", tmp_path / "out", "img0", False))
    meta = json.loads(result.metadata.read_text())
    assert meta["review"]["comments"][0]["text"] == "edge too loose"
    win.review_panel.delete_button.click()
    assert core_review.load(folder / "segview-review.json").item("img0.png").visible_comments == ()


def test_a_broken_sidecar_is_reported_and_never_overwritten(qtbot, folder, monkeypatch):
    (folder / "segview-review.json").write_text("{ not json")
    window = MainWindow()
    qtbot.addWidget(window)
    shown = []
    monkeypatch.setattr(window, "show_message", lambda title, text: shown.append(text))
    window.open_folder(folder)
    qtbot.waitUntil(lambda: not window.loading and window.image is not None, timeout=10000)
    assert shown and "segview-review.json" in shown[0]
    window.reviews.set_state("accepted")
    assert (folder / "segview-review.json").read_text() == "{ not json"


def test_review_report_lists_states_comments_and_thumbnails(win, qtbot, tmp_path):
    _key(qtbot, win, Qt.Key.Key_Y)
    win.reviews.add_comment("looks right")
    out = tmp_path / "report"
    win.reviews.write_report(out)
    qtbot.waitUntil(lambda: not win.loading, timeout=10000)
    doc = json.loads((out / "report.json").read_text())
    records = {r["item"]: r for r in doc["items"]}
    assert records["img0.png"]["state"] == "accepted"
    assert "looks right" in json.dumps(records["img0.png"])
    assert len(records) == 4 and (out / "report.html").read_text().count("<img") >= 4
    assert "img0.png" in (out / "report.csv").read_text()
