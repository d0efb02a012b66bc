"""Canvas zoom and pan: wheel about the cursor, fit, 1:1, drag, click; crisp pixels."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage

from viewer.gui.canvas import CanvasWidget


@pytest.fixture
def canvas(qtbot):
    widget = CanvasWidget()
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    widget.show()
    qtbot.waitExposed(widget)
    image = np.zeros((100, 200, 3), np.uint8)
    image[:, 100:] = 255  # right half white
    widget.set_image(image)
    return widget


def test_starts_fitted_and_one_to_one_maps_pixels(canvas):
    assert canvas.scale() == pytest.approx(2.0)  # 200x100 in 400x300
    canvas.set_zoom(1.0)
    rect = canvas.image_rect()
    assert (rect.width(), rect.height()) == (200, 100)
    assert canvas.widget_to_pixel(QPointF(rect.x() + 10.5, rect.y() + 20.5)) == (20, 10)


def test_wheel_zoom_keeps_the_pixel_under_the_cursor(canvas, qtbot):
    cursor = QPointF(300, 150)
    before = canvas.widget_to_pixel(cursor)
    canvas.zoom_by(4.0, cursor)
    assert canvas.scale() == pytest.approx(8.0)
    assert canvas.widget_to_pixel(cursor) == before
    canvas.zoom_to_fit()
    assert canvas.scale() == pytest.approx(2.0)


def test_drag_pans_and_click_selects(canvas, qtbot):
    canvas.set_zoom(4.0)
    clicks = []
    canvas.clicked.connect(lambda r, c: clicks.append((r, c)))
    start = canvas.image_rect().topLeft()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(200, 150))
    qtbot.mouseMove(canvas, QPoint(240, 170))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(240, 170))
    moved = canvas.image_rect().topLeft() - start
    assert (moved.x(), moved.y()) == pytest.approx((40, 20))
    assert clicks == []  # a drag is not a click
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(200, 150))
    assert clicks == [canvas.widget_to_pixel(QPointF(200, 150))]


def test_high_zoom_paints_crisp_pixels(canvas):
    # At 16x, the black/white edge must stay a hard edge: no smoothing of pixels.
    canvas.zoom_to_rect(40, 96, 60, 104, margin=0)
    frame: QImage = canvas.grab().toImage()
    rect = canvas.image_rect()
    y = int(rect.y() + 50 * canvas.scale())
    row = [QImage.pixelColor(frame, x, y).red() for x in range(frame.width())]
    assert set(row) <= {0, 255, 40}  # black, white, and the canvas background
    assert 0 in row and 255 in row


def test_window_keys_step_alpha_and_zoom(window, qtbot):
    window.alpha_slider.setValue(50)
    window.alpha_up_action.trigger()
    assert window.canvas.alpha == pytest.approx(0.6)
    window.alpha_down_action.trigger()
    window.alpha_down_action.trigger()
    assert window.canvas.alpha == pytest.approx(0.4)
    window.zoom_actual_action.trigger()
    assert window.canvas.scale() == 1.0 and window.zoom_label.text().strip() == "100 %"
    window.zoom_in_action.trigger()
    assert window.canvas.scale() == pytest.approx(1.25)
    window.zoom_fit_action.trigger()
    assert window.canvas.scale() == pytest.approx(min(window.canvas.width(), window.canvas.height()) / 512)
