"""Demo mode (full screen, looping, live model, FPS readout, keys) and live sources."""

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from viewer.gui.main_window import MainWindow

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from video_clips import (  # noqa: E402
    FRAMES,
    frame_number,
    write_masked_clip,
)

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_masked_clip(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def win(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.demo.leave()
    window.video.close()
    window.stream.close()


def _open(qtbot, win, *paths):
    win.open_path(*paths)
    qtbot.waitUntil(lambda: win.video.settled == 0 and not win.loading, timeout=20000)


def test_demo_mode_goes_full_screen_loops_and_comes_back(win, qtbot, clip):
    _open(qtbot, win, *clip)
    assert win.menuBar().isVisible() and win.segments.isVisible()
    win.demo_action.trigger()
    assert win.isFullScreen()
    assert not win.menuBar().isVisible() and not win.segments.isVisible()
    assert not win.video_bar.isVisible() and not win.statusBar().isVisible()
    assert win.video.player.playing and win.video.player.loop
    shown = []
    win.video.frame_shown.connect(shown.append)
    # Looping: frame 0 comes again after the last frame.
    qtbot.waitUntil(lambda: FRAMES - 1 in shown and shown[-1] < FRAMES - 1, timeout=15000)
    win.demo.update_readout()
    assert "fps" in win.demo.label.text() and win.demo.label.isVisible()
    assert win.video.player.measured_fps > 5
    win.activateWindow()
    win.setFocus()
    qtbot.keyClick(win, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not win.demo.on, timeout=2000)
    assert not win.isFullScreen()
    assert win.menuBar().isVisible() and win.segments.isVisible() and win.video_bar.isVisible()
    assert not win.video.player.loop  # the Loop setting of the window again


def test_demo_keys_toggle_overlay_alpha_and_palette(win, qtbot, clip):
    _open(qtbot, win, *clip)
    win.demo.enter()
    win.activateWindow()
    win.setFocus()
    palette = win.palette_panel.current_palette.id
    alpha = win.canvas.alpha
    qtbot.keyClick(win, Qt.Key.Key_C)
    assert win.palette_panel.current_palette.id != palette
    qtbot.keyClick(win, Qt.Key.Key_BracketRight)
    assert win.canvas.alpha == pytest.approx(min(alpha + 0.1, 1.0))
    qtbot.keyClick(win, Qt.Key.Key_O)
    assert not win.canvas.overlay_visible
    qtbot.keyClick(win, Qt.Key.Key_Space)
    assert not win.video.player.playing
    qtbot.keyClick(win, Qt.Key.Key_F11)
    assert not win.demo.on


def test_demo_mode_segments_live_when_a_model_is_chosen(win, qtbot, clip):
    _open(qtbot, win, clip[0])  # no masks: the model makes them
    assert win.model_panel.manifest is not None
    win.demo.enter()
    assert win.live_action.isChecked()
    qtbot.waitUntil(lambda: len(win.video.store.predicted_frames()) >= 3, timeout=30000)
    win.demo.update_readout()
    assert win.model_panel.manifest.name in win.demo.label.text()
    win.demo.leave()
    assert not win.live_action.isChecked()  # as it was before


def test_a_stream_plays_and_is_segmented_live(win, qtbot, clip):
    win.live_action.setEnabled(True)
    win.live_action.trigger()  # live segmentation on before the stream starts
    made = []
    win.stream.ready.connect(lambda frame: made.append((frame.index, frame_number(frame.rgb),
                                                        frame.seg is not None)))
    win.stream.open(str(clip[0]))  # cv2.VideoCapture opens files as streams too
    qtbot.waitUntil(lambda: win.stream.frames >= 5, timeout=30000)
    assert win.image is not None and win.image.shape == (48, 64, 3)
    assert win.canvas.overlay_visible
    assert win.live_action.isEnabled() and not win.play_action.isEnabled()
    qtbot.waitUntil(lambda: not win.stream.active, timeout=60000)
    assert "ended after 48 frames" in win.statusBar().currentMessage()
    # Every frame in order, each segmented by the model.
    assert [(i, n) for i, n, _ in made] == [(i, i) for i in range(FRAMES)]
    assert all(segmented for *_, segmented in made)


def test_a_missing_camera_gets_a_clear_message(win, qtbot, shown_messages):
    shown = shown_messages
    win.stream.open("99")
    qtbot.waitUntil(lambda: bool(shown), timeout=20000)
    assert "no camera at index 99" in shown[0]
    assert not win.stream.active
