"""Frames much larger than the view play from copies at the view's resolution."""

import sys
from pathlib import Path

import numpy as np
import pytest

from viewer.core.segmentation import Segmentation
from viewer.gui.canvas import CanvasWidget
from viewer.gui.main_window import MainWindow
from viewer.gui.video_worker import _for_view

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from video_clips import frame_number, write_masked_clip  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32])
def test_copies_for_the_view_keep_ids_nearest_neighbour(dtype):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (300, 400, 3)).astype(np.uint8)
    labels = np.kron(rng.integers(0, 70000 if dtype == np.uint32 else 200, (30, 40)),
                     np.ones((10, 10), int)).astype(dtype)
    seg = Segmentation(labels)
    small, small_seg = _for_view(rgb, seg, 0.5)
    assert small.shape == (150, 200, 3)
    assert small_seg.labels.dtype == dtype
    np.testing.assert_array_equal(small_seg.labels, labels[::2, ::2])
    assert small_seg.table is seg.table  # colours and visibility shared, not copied
    same, same_seg = _for_view(rgb, seg, 0.8)  # close to 1:1: no copy
    assert same is rgb and same_seg is seg


def test_the_canvas_paints_a_view_copy_like_the_full_frame(qtbot):
    rng = np.random.default_rng(1)
    full = np.kron(rng.integers(0, 255, (40, 60, 3)), np.ones((20, 20, 1), int)).astype(np.uint8)
    canvases = []
    for rgb, size in ((full, None), (full[::2, ::2].copy(), (1200, 800))):
        canvas = CanvasWidget()
        qtbot.addWidget(canvas)
        canvas.resize(600, 400)
        canvas.set_image(rgb, size=size)
        canvases.append(canvas)
    full_canvas, copy_canvas = canvases
    assert copy_canvas.image_size() == (1200, 800) and copy_canvas.density == 0.5
    assert copy_canvas.scale() == full_canvas.scale() == 0.5
    a = full_canvas.grab().toImage()
    b = copy_canvas.grab().toImage()
    pa = np.array(a.constBits()).reshape(a.height(), a.width(), 4)[..., :3].astype(int)
    pb = np.array(b.constBits()).reshape(b.height(), b.width(), 4)[..., :3].astype(int)
    assert np.abs(pa - pb).mean() < 3
    # Clicks still name the photo's own pixels.
    from PySide6.QtCore import QPointF

    assert copy_canvas.widget_to_pixel(QPointF(300, 200)) == full_canvas.widget_to_pixel(
        QPointF(300, 200))


def test_a_big_video_in_a_small_view_plays_from_copies_and_settles_at_full_size(qtbot,
                                                                                tmp_path):
    size = (640, 480)
    video, masks = write_masked_clip(tmp_path, 12, size, stem="big")
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(900, 700)
    win.show()
    qtbot.waitExposed(win)
    win.open_path(video, masks)
    qtbot.waitUntil(lambda: win.video.settled == 0 and not win.loading, timeout=20000)
    assert win.canvas.scale() < 0.6
    densities = []
    win.video.frame_shown.connect(lambda i: densities.append(win.canvas.density))
    win.video.toggle_play()
    qtbot.waitUntil(lambda: not win.video.player.playing, timeout=20000)
    qtbot.waitUntil(lambda: win.video.settled == 11, timeout=10000)
    assert min(densities) < 0.6  # played from view-sized copies
    assert win.canvas.density == 1.0 and win.canvas.image_size() == size  # settled: full size
    assert frame_number(win.image) == 11 and win.image.shape == (480, 640, 3)
    win.video.close()
