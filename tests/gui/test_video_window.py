"""A video in the window: open with per-frame masks, seek, step, play, edit, QA, export.

Clips are made with PyAV (tests/video_clips.py): frame i carries its number in
its pixels, and its mask marks a square starting at column i, so a shown
frame and its mask can be checked against each other exactly.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from viewer.core.video.celantur_chunks import CelanturChunks
from viewer.core.video.mask_folder import MaskFolder
from viewer.core.video.readers import open_video
from viewer.core.video.recovery import list_video_sessions
from viewer.gui import dialogs
from viewer.gui.main_window import MainWindow
from viewer.gui.video_exports import CHUNKS, OVERLAY, VideoExportChoice

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from video_clips import (  # noqa: E402
    FRAMES,
    SQUARE_ROWS,
    frame_number,
    square_labels,
    write_clip,
    write_masked_clip,
)

pytestmark = pytest.mark.gui
FLICKER = 20  # the frame whose mask is empty: a class that vanishes for one frame


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_masked_clip(tmp_path_factory.mktemp("video"), empty=[FLICKER])


@pytest.fixture
def win(qtbot, clip):
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1300, 900)
    window.show()
    qtbot.waitExposed(window)
    window.open_path(*clip)
    _settle(qtbot, window, 0)
    yield window
    window.video.close()


def _settle(qtbot, win, index):
    qtbot.waitUntil(lambda: win.video.settled == index and not win.loading, timeout=20000)


def _square_start(win) -> int:
    """The column where the shown mask's square starts."""
    row = win.segmentation.labels[SQUARE_ROWS[0] + 2]
    return int(np.flatnonzero(row)[0])


def test_open_video_with_masks_shows_frame_zero_and_its_mask(win, clip):
    assert win.video.active and win.video_bar.isVisible()
    assert frame_number(win.image) == 0 and _square_start(win) == 0
    assert "frame 0 / 47" in win.video_bar.position.text()
    assert win.video_bar.source_label.text().strip() == "mask: file"
    assert win.temporal_panel.isVisible()
    # The review keys (Space) give way to playback while a video is open.
    assert win.play_action.isEnabled() and not win.next_unreviewed_action.isEnabled()


def test_seek_and_step_land_on_the_exact_frame_with_its_mask(win, qtbot):
    for target in (17, 3, 46, 30):
        win.video.seek(target)
        _settle(qtbot, win, target)
        assert frame_number(win.image) == target
        assert _square_start(win) == target
    win.step_back_action.trigger()
    _settle(qtbot, win, 29)
    win.forward_ten_action.trigger()
    _settle(qtbot, win, 39)
    assert frame_number(win.image) == 39 and _square_start(win) == 39
    assert "00:01.56" in win.video_bar.position.text()  # 39 / 25 fps


def test_scrubbing_shows_frames_without_settling_then_release_settles(win, qtbot):
    win.video_bar.scrubbed.emit(12)
    qtbot.waitUntil(lambda: win.video.player.index == 12, timeout=10000)
    assert frame_number(win.image) == 12
    assert win.video.settled == 0  # the panels and the editor still hold frame 0
    win.video_bar.released.emit(12)
    _settle(qtbot, win, 12)
    assert _square_start(win) == 12


def test_play_runs_in_real_time_and_stops_on_the_last_frame(win, qtbot):
    win.video.seek(30)
    _settle(qtbot, win, 30)
    shown = []
    win.video.frame_shown.connect(shown.append)
    win.play_action.trigger()
    assert win.video.player.playing and win.video.settled is None
    qtbot.waitUntil(lambda: not win.video.player.playing, timeout=10000)
    _settle(qtbot, win, FRAMES - 1)
    assert frame_number(win.image) == FRAMES - 1
    assert shown == sorted(shown) and shown[-1] == FRAMES - 1
    assert len(shown) >= 10  # 17 frames at 25 fps on a quiet machine; some may be dropped


@pytest.mark.parametrize("drop_frames", [True, False])
def test_a_seek_while_playing_continues_from_there_only(win, qtbot, drop_frames):
    win.video.player.drop_frames = drop_frames
    shown = []
    win.video.frame_shown.connect(shown.append)
    win.video.toggle_play()
    qtbot.waitUntil(lambda: len(shown) >= 3, timeout=10000)
    win.video.seek(30, settle=False)
    qtbot.waitUntil(lambda: not win.video.player.playing, timeout=15000)
    after = shown[next(i for i, f in enumerate(shown) if f >= 30):]
    assert after[0] == 30 and after[-2:] == [FRAMES - 1, FRAMES - 1]  # shown, then settled
    # Strictly forward: no frame from before the seek, none twice (a second chain of requests).
    assert all(b > a for a, b in zip(after, after[1:-1], strict=False))
    if not drop_frames:
        assert after[:-1] == list(range(30, FRAMES))


def test_loop_wraps_to_the_start_and_speed_changes_the_rate(win, qtbot):
    win.video.seek(44)
    _settle(qtbot, win, 44)
    win.loop_action.trigger()
    win.video_bar.speed_combo.setCurrentIndex(win.video_bar.speed_combo.findData(4.0))
    assert win.video.player.speed == 4.0
    shown = []
    win.video.frame_shown.connect(shown.append)
    win.video.toggle_play()
    qtbot.waitUntil(lambda: any(i < 10 for i in shown), timeout=10000)
    win.video.toggle_play()
    _settle(qtbot, win, win.video.player.index)
    assert frame_number(win.image) == win.video.player.index


def test_edits_stay_with_their_frame_and_export_as_a_sequence(win, qtbot, tmp_path):
    win.video.seek(5)
    _settle(qtbot, win, 5)
    square = next(s.id for s in win.segmentation.table if s.id != 0)
    win.select_segments([square])
    win.edits.delete()
    assert not win.segmentation.labels.any()
    win.video.step(1)
    _settle(qtbot, win, 6)
    assert _square_start(win) == 6  # frame 6 untouched
    assert win.video.store.edited_frames() == [5]
    assert win.windowTitle().startswith("*")
    win.video.step(-1)
    _settle(qtbot, win, 5)
    assert not win.segmentation.labels.any()  # the edit came back with its frame
    handle = win.video_exports.export(VideoExportChoice("index-png", tmp_path, "clip"))
    qtbot.waitUntil(lambda: handle.finished, timeout=30000)
    assert not win.video.store.dirty and not win.windowTitle().startswith("*")
    back = MaskFolder(tmp_path, pattern="clip_*.png")
    assert back.frames() == list(range(FRAMES))
    assert not back.mask_for(5).labels.any()
    for i in (0, 6, 33):
        assert np.array_equal(back.mask_for(i).labels > 0, square_labels(i) > 0)


def test_relabel_in_every_frame_is_one_undo_step(win, qtbot):
    seg = win.segmentation
    square = next(s for s in seg.table if s.id != 0)
    win.relabel_everywhere_action.trigger()
    win.select_segments([square.id])
    background = next(c for c in win.edits.paint_classes() if c.id == 0)
    win.edits.relabel_to_class(background)
    assert win.segmentation.table[square.id].class_id == background.class_id
    win.video.seek(9)
    _settle(qtbot, win, 9)
    assert _class_at_square(win, 9) == background.class_id  # frame 9 was relabelled too
    win.video.seek(0)
    _settle(qtbot, win, 0)
    assert _class_at_square(win, 0) == background.class_id
    # Back on the frame where it was made, the relabel is still one undo step.
    assert win.edits.history.can_undo
    win.edits.undo()
    assert win.video.store.rules == []
    win.video.seek(9)
    _settle(qtbot, win, 9)
    assert _class_at_square(win, 9) == square.class_id


def test_each_frame_keeps_its_undo_steps(win, qtbot):
    win.video.seek(5)
    _settle(qtbot, win, 5)
    win.select_segments([next(s.id for s in win.segmentation.table if s.id != 0)])
    win.edits.delete()
    win.video.step(1)
    _settle(qtbot, win, 6)
    assert not win.edits.history.can_undo  # frame 6 has no steps of its own
    win.video.step(-1)
    _settle(qtbot, win, 5)
    assert not win.segmentation.labels.any() and win.edits.history.can_undo
    win.edits.undo()
    assert _square_start(win) == 5
    win.video.step(1)
    _settle(qtbot, win, 6)
    win.video.step(-1)
    _settle(qtbot, win, 5)
    assert _square_start(win) == 5 and win.edits.history.can_redo


def test_undo_of_a_relabel_in_every_frame_removes_it_everywhere(win, qtbot):
    square = next(s for s in win.segmentation.table if s.id != 0)
    win.relabel_everywhere_action.trigger()
    win.select_segments([square.id])
    win.edits.relabel_to_class(next(c for c in win.edits.paint_classes() if c.id == 0))
    assert len(win.video.store.rules) == 1
    win.edits.undo()
    assert win.video.store.rules == []
    assert win.segmentation.table[square.id].class_id == square.class_id
    win.video.seek(9)
    _settle(qtbot, win, 9)
    assert _class_at_square(win, 9) == square.class_id


def _class_at_square(win, index):
    seg = win.segmentation
    return seg.table[int(seg.labels[SQUARE_ROWS[0] + 2, index + 1])].class_id


def test_temporal_panel_finds_the_flicker_and_seeks_to_it(win, qtbot):
    panel = win.temporal_panel
    qtbot.waitUntil(lambda: panel.stats is not None, timeout=20000)
    assert list(panel.stats.frames) == list(range(FRAMES))
    assert len(panel.stats.classes) == 1
    assert np.isclose(panel.stats.areas[3, 0], 14 * 12 / (64 * 48))
    win.next_suspicious_action.trigger()
    _settle(qtbot, win, FLICKER)
    assert "vanishes" in panel.status.text()
    assert not win.segmentation.labels.any()
    panel.frame_shown(FLICKER)
    assert panel.lines[0].value() == FLICKER


def test_overlay_video_and_celantur_chunks_exports_read_back(win, qtbot, tmp_path):
    handle = win.video_exports.export(VideoExportChoice(OVERLAY, tmp_path, "overlay"))
    qtbot.waitUntil(lambda: handle.finished, timeout=60000)
    with open_video(tmp_path / "overlay.mp4") as video:
        assert video.frame_count == FRAMES and video.size == (64, 48)
        frame = video.frame(25)
        assert frame_number(frame) == 25
        inside = frame[SQUARE_ROWS[0] + 4, 25 + 5].astype(int)
        assert inside[0] > inside[2] + 40  # the red square is rendered in
    assert (tmp_path / "overlay.segview.json").exists()
    handle = win.video_exports.export(VideoExportChoice(CHUNKS, tmp_path, "clip"))
    qtbot.waitUntil(lambda: handle.finished, timeout=30000)
    chunks = sorted(tmp_path.glob("clip-*.json"))
    assert [p.name for p in chunks] == [f"clip-0-{FRAMES - 1}.json"]
    boxes = CelanturChunks(chunks, video_size=(64, 48))
    seg = boxes.mask_for(12)
    row = next(s for s in seg.table if s.id != 0)
    assert row.bbox == (SQUARE_ROWS[0], 12, SQUARE_ROWS[1], 12 + 12)


def test_segment_the_whole_video_keeps_results_for_replay(win, qtbot):
    handle = win.segment_video_action.trigger() or win.video._segmenting
    assert handle is not None
    qtbot.waitUntil(lambda: win.video._segmenting is None, timeout=120000)
    store = win.video.store
    assert store.predicted_frames() == list(range(FRAMES))
    assert store.origin(7) == "model"
    # The shown frame is made again once the run ends: its mask now comes from the model.
    qtbot.waitUntil(lambda: "mask: model" in win.video_bar.source_label.text(), timeout=10000)
    _settle(qtbot, win, 0)
    assert win.segmentation.provenance.details.get("model")
    # The kept result has its confidence: the heatmap and the readout work on replay.
    assert win.segmentation.confidence is not None
    assert win.model_panel.heatmap_check.isEnabled()


def test_cancelling_the_whole_video_run_keeps_the_frames_done(win, qtbot, monkeypatch):
    import time

    from viewer.core.inference.runner import ModelRunner

    run = ModelRunner.run
    # A slower model, so that Cancel comes before the last of the tiny clip's frames.
    monkeypatch.setattr(ModelRunner, "run", lambda self, *a, **k: (time.sleep(0.05),
                                                                  run(self, *a, **k))[1])
    handle = win.video.segment_all()
    qtbot.waitUntil(lambda: len(win.video.store.predicted_frames()) >= 3, timeout=60000)
    handle.cancel()
    qtbot.waitUntil(lambda: win.video._segmenting is None, timeout=30000)
    done = win.video.store.predicted_frames()
    assert 3 <= len(done) < FRAMES and done == list(range(len(done)))
    assert not win.video.dirty  # model results are not unsaved work
    win.video.seek(1)
    _settle(qtbot, win, 1)
    assert win.video.store.origin(1) == "model"


def test_live_segmentation_segments_frames_as_they_are_shown(qtbot, clip):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.open_path(clip[0])
    _settle(qtbot, window, 0)
    assert window.segmentation is None  # no masks yet
    window.live_action.trigger()
    _settle(qtbot, window, 0)
    qtbot.waitUntil(lambda: window.video.store.origin(0) == "model", timeout=30000)
    window.video.seek(3)
    _settle(qtbot, window, 3)
    assert window.video.store.predicted_frames() == [0, 3]
    window.video.close()


def test_a_broken_video_is_reported_by_name(qtbot, tmp_path, shown_messages):
    shown = shown_messages
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_path(bad)
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    assert "broken.mp4" in shown[0]
    assert not window.video.active


def test_the_sample_avi_plays_in_the_window(qtbot, shared_samples):
    found = sorted(shared_samples.rglob("*.avi"))
    if not found:
        pytest.skip("no .avi in ../shared/samples")
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.open_path(found[0])
    _settle(qtbot, window, 0)
    last = window.video.reader.frame_count - 1
    with open_video(found[0]) as video:
        expected = video.frame(last).copy()
    window.last_frame_action.trigger()
    _settle(qtbot, window, last)
    np.testing.assert_array_equal(window.image, expected)
    window.video.close()


def test_a_mask_video_added_to_the_open_video_snaps_to_its_legend(win, qtbot, tmp_path):
    legend = {"background": [0, 0, 0], "person": [220, 20, 60]}
    (tmp_path / "_mask_legend.json").write_text(json.dumps(legend))
    colours = np.array(list(legend.values()), np.uint8)
    write_clip(tmp_path / "masks.mp4", [colours[square_labels(i)] for i in range(FRAMES)])
    win.frame_masks_file_action.setEnabled(True)
    win.video.open_masks(tmp_path / "masks.mp4")
    qtbot.waitUntil(lambda: win.video.masks_path == tmp_path / "masks.mp4", timeout=20000)
    _settle(qtbot, win, 0)
    win.video.seek(21)
    _settle(qtbot, win, 21)
    seg = win.segmentation
    person = next(s for s in seg.table if s.label == "person")
    inside = seg.labels[SQUARE_ROWS[0] + 3: SQUARE_ROWS[1] - 3, 21 + 3: 21 + 9]
    assert (inside == person.id).all()  # lossy colours snapped back to the legend's person
    # Measuring every frame also reports how far the codec moved the colours, once per frame.
    panel = win.temporal_panel
    qtbot.waitUntil(lambda: "snapped" in panel.status.text(), timeout=20000)
    assert f"in {FRAMES} frames" in panel.status.text()


def test_celantur_chunks_added_to_the_open_video_draw_boxes(win, qtbot, tmp_path):
    handle = win.video_exports.export(VideoExportChoice(CHUNKS, tmp_path, "boxes"))
    qtbot.waitUntil(lambda: handle.finished, timeout=30000)
    win.video.open_masks(tmp_path)
    qtbot.waitUntil(lambda: win.video.masks_path == tmp_path, timeout=20000)
    _settle(qtbot, win, 0)
    win.video.seek(8)
    _settle(qtbot, win, 8)
    box = next(s for s in win.segmentation.table if s.id != 0 and s.area)
    assert box.bbox == (SQUARE_ROWS[0], 8, SQUARE_ROWS[1], 8 + 12)
    assert "Celantur" in " ".join(win.video.store.summary())


KILLED = textwrap.dedent("""
    import os, sys, time
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from viewer.gui.main_window import MainWindow
    video, masks = sys.argv[1], sys.argv[2]
    win = MainWindow()
    win.open_path(video, masks)
    def wait(cond):
        end = time.time() + 30
        while not cond() and time.time() < end:
            app.processEvents()
            time.sleep(0.005)
    wait(lambda: win.video.settled == 0)
    win.video.seek(7)
    wait(lambda: win.video.settled == 7)
    win.select_segments([next(s.id for s in win.segmentation.table if s.id != 0)])
    win.edits.delete()
    win.edits.autosave()         # what the autosave timer does every 30 s
    os._exit(3)                  # a crash: no export, no prompt, no clean-up
""")


def test_a_killed_window_s_frame_edits_are_restored_at_the_next_start(qtbot, clip,
                                                                        monkeypatch):
    result = subprocess.run([sys.executable, "-c", KILLED, str(clip[0]), str(clip[1])],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 3, result.stderr
    asked = []
    monkeypatch.setattr(dialogs, "ask_restore",
                        lambda parent, session: asked.append(session.source) or True)
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.edits.offer_recovery()
    assert asked == [str(clip[0])]
    _settle(qtbot, window, 0)
    assert window.video.store.edited_frames() == [7]
    assert window.video.dirty and window.windowTitle().startswith("*")
    window.video.seek(7)
    _settle(qtbot, window, 7)
    assert not window.segmentation.labels.any()  # the deleted square stays deleted
    window.revert_frame_action.trigger()
    _settle(qtbot, window, 7)
    assert _square_start(window) == 7 and window.video.store.edited_frames() == []
    window.video.store.mark_saved()
    window.video.close()
    assert list_video_sessions(include_own=True) == []
