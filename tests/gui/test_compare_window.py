"""Compare mode in the real window: diff overlay pixel by pixel, split, side by side, metrics."""

import csv
import json

import numpy as np
import pytest
from PIL import Image

from viewer.core import metrics
from viewer.core.formats.registry import read_mask
from viewer.gui import dialogs
from viewer.gui.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def case(tmp_path):
    """A 6x8 photo, ground truth A (class 1 left block) and prediction B (shifted)."""
    Image.fromarray(np.full((6, 8, 3), 100, np.uint8)).save(tmp_path / "photo.png")
    a = np.zeros((6, 8), np.uint8)
    a[1:5, 1:4] = 1
    b = np.zeros((6, 8), np.uint8)
    b[1:5, 2:5] = 1
    b[0, 7] = 2
    Image.fromarray(a).save(tmp_path / "a.png")
    Image.fromarray(b).save(tmp_path / "b.png")
    return tmp_path, a, b


@pytest.fixture
def win(qtbot, open_window, case):
    folder, _, _ = case
    window = open_window(folder / "photo.png", folder / "a.png")
    window.compare.load_other(folder / "b.png")
    qtbot.waitUntil(lambda: not window.loading, timeout=10000)
    return window


def _premultiplied_bgr(rgba):
    r, g, b, a = (int(v) for v in rgba)
    return [round(c * a / 255) for c in (b, g, r)]


def test_diff_overlay_colours_every_pixel(win, case):
    _, a, b = case
    assert win.compare.mode == "diff" and win.compare_panel.mode == "diff"
    fill = win.canvas._layers[0][1]
    expected = np.zeros((6, 8), np.uint8)  # Diff codes, computed by hand
    expected[(a == 1) & (b == 1)] = metrics.Diff.AGREE
    expected[(a == 0) & (b != 0)] = metrics.Diff.FALSE_POSITIVE
    expected[(a == 1) & (b == 0)] = metrics.Diff.FALSE_NEGATIVE
    for row in range(6):
        for col in range(8):
            color = metrics.DIFF_COLORS[metrics.Diff(expected[row, col])]
            assert fill[row, col, :3].tolist() == _premultiplied_bgr(color), (row, col)
            assert fill[row, col, 3] == color[3]


def test_clicking_a_wrong_region_selects_it(win):
    assert win.compare.click(2, 4)  # B says class 1 where A says background
    region = win.compare.region
    assert region.kind == metrics.Diff.FALSE_POSITIVE and region.bbox == (1, 4, 5, 5)
    assert "false positive" in win.statusBar().currentMessage()
    fill = win.canvas._layers[0][1]
    assert fill[1, 4, 3] == 255 and fill[1, 1, 3] < 255  # the others are dimmed


def test_metrics_match_the_core_and_export(win, case, tmp_path):
    folder, _, _ = case
    a, b = read_mask(folder / "a.png"), read_mask(folder / "b.png")
    core = metrics.compare(a, b)
    shown = win.compare_panel.scores
    assert shown.to_dict() == core.to_dict()
    assert win.compare_panel.table.rowCount() == len(core.per_class)
    assert win.compare_panel.table.item(1, 1).text() == f"{100 * core.of(1).iou:.1f} %"
    win.compare.write_metrics(tmp_path / "m.json", "json")
    win.compare.write_metrics(tmp_path / "m.csv", "csv")
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["overall"]["mean_iou"] == pytest.approx(core.mean_iou)
    assert "iou" in (tmp_path / "m.csv").read_text().splitlines()[0]
    # The matrix beside the per-class CSV, counts as the core computed them.
    with open(tmp_path / "m-confusion.csv", newline="") as f:
        rows = list(csv.reader(f))
    counts = [[int(v) for v in row[1:]] for row in rows[1:]]
    assert counts == core.confusion.counts.tolist()


def test_split_and_side_by_side_views(win, qtbot):
    win.compare_panel.set_mode("split")
    assert win.canvas._split == 0.5 and win.canvas._split_layers
    win.compare_panel.split_slider.setValue(30)
    assert win.canvas._split == pytest.approx(0.3)
    win.compare_panel.set_mode("side")
    assert win.side_canvas.isVisible() and win.canvas._split is None
    win.canvas.set_zoom(4.0)
    assert win.side_canvas.view_state() == win.canvas.view_state()  # linked zoom
    win.side_canvas.pan_by(10, 0)
    assert win.canvas.view_state() == win.side_canvas.view_state()
    win.compare_panel.set_mode("off")
    assert not win.side_canvas.isVisible()


def test_b_is_dropped_for_another_image(win, case):
    folder, _, _ = case
    assert win.compare.other is not None
    Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(folder / "other.png")
    assert win.open_image(folder / "other.png")
    assert win.compare.other is None and win.compare_panel.scores is None


def test_folder_scope_compares_masks_with_model_results(qtbot, tmp_path):
    import shutil

    from viewer import _paths

    for name in ("one", "two"):
        shutil.copy(_paths.sample_image(), tmp_path / f"{name}.png")
        shutil.copy(_paths.sample_mask(), tmp_path / f"{name}_mask.png")
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_folder(tmp_path)
    qtbot.waitUntil(lambda: not window.loading and window.image is not None, timeout=10000)
    window.compare_panel.scope_combo.setCurrentIndex(1)
    assert "Segment the folder" in window.compare_panel.summary_label.text()
    window.segment_folder_action.trigger()
    qtbot.waitUntil(lambda: not window.loading and len(window.models.results) == 2,
                    timeout=30000)
    window.compare.update_metrics()
    qtbot.waitUntil(lambda: window.compare_panel.scores is not None, timeout=10000)
    truth = read_mask(tmp_path / "one_mask.png")
    expected = metrics.scores(metrics.accumulate(
        metrics.confusion_matrix(truth, window.models.results[tmp_path / n])
        for n in ("one.png", "two.png")))
    assert window.compare_panel.scores.to_dict() == expected.to_dict()
    assert "2 images" in window.compare_panel.summary_label.text()


def test_two_folders_in_the_window_give_the_numbers_of_segview_compare(qtbot, tmp_path,
                                                                        monkeypatch, capsys):
    from viewer.cli import main

    data, pred, truth = tmp_path / "data", tmp_path / "pred", tmp_path / "truth"
    for folder in (data, pred, truth):
        folder.mkdir()
    rng = np.random.default_rng(3)
    for name in ("one", "two", "three"):
        Image.fromarray(np.full((12, 16, 3), 80, np.uint8)).save(data / f"{name}.png")
        gt = rng.integers(0, 3, (12, 16)).astype(np.uint8)
        Image.fromarray(gt).save(data / f"{name}_mask.png")
        Image.fromarray(gt).save(truth / f"{name}.png")  # the same masks, for the CLI
        if name != "three":  # one image has no prediction
            guess = gt.copy()
            guess[rng.random((12, 16)) < 0.3] = 1
            Image.fromarray(guess).save(pred / f"{name}.png")
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_folder(data)
    qtbot.waitUntil(lambda: not window.loading and window.image is not None, timeout=10000)
    monkeypatch.setattr(dialogs, "ask_folder", lambda *args: str(pred))
    window.compare_panel.scope_combo.setCurrentIndex(
        window.compare_panel.scope_combo.findData("folders"))
    qtbot.waitUntil(lambda: window.compare_panel.scores is not None, timeout=10000)
    summary = window.compare_panel.summary_label.text()
    assert "2 images vs pred" in summary and "1 without a mask in B" in summary
    assert main(["compare", str(truth), str(pred), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    shown = window.compare_panel.scores.to_dict()
    assert cli["overall"]["mean_iou"] == shown["mean_iou"]
    assert cli["overall"]["pixel_accuracy"] == shown["pixel_accuracy"]
    assert [c["iou"] for c in cli["overall"]["classes"]] == [c["iou"] for c in shown["classes"]]


def test_one_class_diff_and_the_cli_agree_with_the_window(win, case, capsys):
    from viewer.cli import main

    folder, a, b = case
    index = win.compare_panel.focus_combo.findData(1)
    win.compare_panel.focus_combo.setCurrentIndex(index)
    fill = win.canvas._layers[0][1]
    focus = metrics.diff_map(read_mask(folder / "a.png"), read_mask(folder / "b.png"), focus=1)
    expected = focus.rgba()
    for row, col in ((0, 7), (2, 1), (2, 2), (2, 4)):
        assert fill[row, col, :3].tolist() == _premultiplied_bgr(expected[row, col]), (row, col)
    assert fill[0, 7, 3] == 0  # class 2's extra pixel is not shown in class 1's diff
    assert main(["compare", str(folder / "a.png"), str(folder / "b.png"), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    shown = win.compare_panel.scores.to_dict()
    assert cli["overall"]["mean_iou"] == shown["mean_iou"]
    assert [c["iou"] for c in cli["overall"]["classes"]] == [c["iou"] for c in shown["classes"]]


def test_confusion_matrix_is_shown_in_the_dock(win, case):
    _, a, b = case
    panel = win.compare_panel
    assert panel.confusion_plot.isVisibleTo(panel)
    assert panel.scores.confusion.classes == (0, 1, 2)
    # By hand: A's class 1 is a 4x3 block, B's the same block one column right, plus a 2.
    by_hand = np.array([[31, 4, 1],
                        [4, 8, 0],
                        [0, 0, 0]])
    # Independently: one bincount over (A, B) pairs; no pixel is void here.
    counted = np.bincount((a.astype(np.int64) * 3 + b).ravel(), minlength=9).reshape(3, 3)
    np.testing.assert_array_equal(counted, by_hand)
    np.testing.assert_array_equal(panel.scores.confusion.matrix, counted)
    # The heatmap shows each ground-truth row as shares (a row without pixels stays 0).
    shares = np.zeros((3, 3))
    shares[:2] = by_hand[:2] / by_hand[:2].sum(axis=1, keepdims=True)
    np.testing.assert_allclose(panel.confusion_image.image, shares)
    names = [panel.table.item(row, 0).text() for row in range(3)]  # the classes' rows
    for axis in ("left", "bottom"):
        ticks = panel.confusion_plot.getAxis(axis)._tickLevels
        assert ticks == [[(0.5, names[0]), (1.5, names[1]), (2.5, names[2])]]
    win.compare.set_other(None)  # nothing compared: the heatmap and its class names go
    assert panel.confusion_image.image is None
    assert panel.confusion_plot.getAxis("left")._tickLevels is None
