"""Drive the real window offscreen: sample open, alpha, mode, hover, errors."""

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt

from viewer.core.render import Mode
from viewer.gui.main_window import MainWindow

pytestmark = pytest.mark.gui


def _canvas_rgb(window, row, col):
    """Colour the canvas shows for image pixel (row, col)."""
    canvas = window.canvas
    rect = canvas.image_rect()
    width, height = canvas.image_size()
    x = rect.x() + (col + 0.5) * rect.width() / width
    y = rect.y() + (row + 0.5) * rect.height() / height
    color = canvas.grab().toImage().pixelColor(int(x), int(y))
    return np.array([color.red(), color.green(), color.blue()])


def test_sample_is_shown_with_its_overlay(window):
    assert window.image.shape == (512, 512, 3)
    assert window.segmentation.table[15].label == "person"
    assert "astronaut.png" in window.windowTitle()
    assert window.legend.list.count() == 3  # person, background, void


def test_alpha_slider_changes_what_is_painted(window, qtbot):
    person = tuple(np.argwhere(window.segmentation.labels == 15)[5000])
    photo = window.image[person].astype(int)
    window.alpha_slider.setValue(0)
    assert window.canvas.alpha == 0.0 and window.alpha_label.text().strip() == "0 %"
    np.testing.assert_allclose(_canvas_rgb(window, *person), photo, atol=2)
    window.alpha_slider.setValue(100)
    np.testing.assert_allclose(_canvas_rgb(window, *person), [192, 128, 128], atol=2)
    window.alpha_slider.setValue(50)
    np.testing.assert_allclose(_canvas_rgb(window, *person), (photo + [192, 128, 128]) / 2, atol=3)
    background = tuple(np.argwhere(window.segmentation.labels == 0)[0])
    np.testing.assert_allclose(_canvas_rgb(window, *background), window.image[background], atol=2)


def test_overlay_toggle(window, qtbot):
    person = tuple(np.argwhere(window.segmentation.labels == 15)[5000])
    window.alpha_slider.setValue(100)
    window.overlay_action.trigger()
    assert not window.canvas.overlay_visible
    np.testing.assert_allclose(_canvas_rgb(window, *person), window.image[person], atol=2)
    window.overlay_action.trigger()
    assert window.canvas.overlay_visible


def test_mode_switch_draws_outlines_only(window):
    window.mode_combo.setCurrentIndex(window.mode_combo.findData(Mode.OUTLINE))
    assert window.render_settings.mode is Mode.OUTLINE
    layers = window.canvas._layers
    assert len(layers) == 1 and layers[0][2]  # one opaque outline layer
    window.alpha_slider.setValue(100)
    labels = window.segmentation.labels
    inside = np.argwhere(labels == 15)
    interior = next(tuple(p) for p in inside[len(inside) // 2:]
                    if (labels[p[0] - 2:p[0] + 3, p[1] - 2:p[1] + 3] == 15).all())
    np.testing.assert_allclose(_canvas_rgb(window, *interior), window.image[interior], atol=2)


def test_table_edit_recolours_the_canvas(window, qtbot):
    person = tuple(np.argwhere(window.segmentation.labels == 15)[5000])
    window.alpha_slider.setValue(100)
    window.segmentation.table.update(15, color=(0, 0, 255))
    np.testing.assert_allclose(_canvas_rgb(window, *person), [0, 0, 255], atol=2)
    window.segmentation.table.update(15, visible=False)
    np.testing.assert_allclose(_canvas_rgb(window, *person), window.image[person], atol=2)
    qtbot.waitUntil(lambda: window.legend.list.item(0).checkState() == Qt.CheckState.Unchecked)
    assert window.legend.list.item(0).text().startswith("person")


def test_legend_lists_classes_and_hides_one_by_its_tick(window, qtbot):
    legend = window.legend
    assert [r.name for r in legend.rows] == ["person", "background", "void"]
    assert [legend.list.item(i).checkState() for i in range(3)] == [
        Qt.CheckState.Checked, Qt.CheckState.Unchecked, Qt.CheckState.Checked]
    person = tuple(np.argwhere(window.segmentation.labels == 15)[5000])
    window.alpha_slider.setValue(100)
    legend.list.item(0).setCheckState(Qt.CheckState.Unchecked)  # what a click on the tick does
    assert not window.segmentation.table[15].visible
    np.testing.assert_allclose(_canvas_rgb(window, *person), window.image[person], atol=2)
    qtbot.waitUntil(lambda: legend.list.item(0).checkState() == Qt.CheckState.Unchecked)
    legend.list.item(0).setCheckState(Qt.CheckState.Checked)
    assert window.segmentation.table[15].visible


def test_hover_readout(window, qtbot):
    row, col = (int(v) for v in np.argwhere(window.segmentation.labels == 15)[5000])
    rect = window.canvas.image_rect()
    point = QPointF(rect.x() + (col + 0.5) * rect.width() / 512,
                    rect.y() + (row + 0.5) * rect.height() / 512)
    with qtbot.waitSignal(window.canvas.hovered) as blocker:
        qtbot.mouseMove(window.canvas, QPoint(int(point.x()), int(point.y())))
    hovered_row, hovered_col = blocker.args
    text = window.hover_label.text()
    assert f"x {hovered_col}, y {hovered_row}" in text
    label = window.segmentation.segment_at(hovered_row, hovered_col).label
    assert label in text
    window.canvas.hovered.emit(-1, -1)
    assert window.hover_label.text() == ""


def test_mismatched_mask_is_reported_not_crashed(window, tmp_path, shown_messages):
    shown = shown_messages
    small = tmp_path / "small.png"
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(small)  # another aspect ratio
    assert not window.open_mask(small)
    assert shown and "small.png: mask is 12x10 but the image is 512x512" in shown[0]
    assert window.segmentation.shape == (512, 512)  # the old overlay stays
    assert not window.open_image(tmp_path / "missing.png")
    assert "missing.png: file not found" in shown[-1]


def test_smaller_mask_is_upscaled_and_the_window_says_so(window, tmp_path):
    # Model-resolution masks (DeepStream, OpenCV, Celantur --mask-scale) are a quarter size.
    quarter = np.zeros((128, 128), np.uint8)
    quarter[32:96, 32:96] = 15
    path = tmp_path / "quarter.png"
    Image.fromarray(quarter).save(path)
    assert window.open_mask(path)
    assert window.segmentation.shape == (512, 512)
    assert window.segmentation.table[15].area == 256 * 256
    assert "upscaled" in window.statusBar().currentMessage()


def test_open_mask_dialog_offers_every_registered_extension():
    from viewer.gui.dialogs import mask_filter

    text = mask_filter()
    for ext in ("*.png", "*.npy", "*.json", "*.bin", "*.jpg"):
        assert ext in text


def test_empty_state(qtbot):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    assert win.canvas.image_size() is None
    assert "no image" in win.windowTitle()
    win.canvas.grab()  # paints the empty-state message without error


def test_alpha_key_shortcut_toggles_overlay(window, qtbot):
    window.activateWindow()
    window.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_O)
    qtbot.waitUntil(lambda: not window.canvas.overlay_visible, timeout=2000)


def test_overlay_choices_are_remembered(window, qtbot):
    from viewer.core.settings import load_settings

    window.alpha_slider.setValue(80)
    window.mode_combo.setCurrentIndex(window.mode_combo.findData(Mode.FILLED_OUTLINE))
    window.close()
    saved = load_settings()
    assert saved.overlay_alpha == 0.8 and saved.render_mode == "filled+outline"
    again = MainWindow(saved)
    qtbot.addWidget(again)
    assert again.alpha_slider.value() == 80
    assert again.render_settings.mode is Mode.FILLED_OUTLINE
