"""Trust in the window: two windows and a kill lose no one's edits, damaged recovery
files never stop a start, user text is never markup, errors are said in words."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument

from viewer.core.edit import recovery
from viewer.core.errors import ReadError
from viewer.core.review import Review, State
from viewer.core.segmentation import Segmentation
from viewer.gui import dialogs
from viewer.gui.main_window import MainWindow
from viewer.gui.review_panel import ReviewPanel
from viewer.gui.workers import UnexpectedError

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "<img src=x>.png"


def _pair(folder: Path, shape=(24, 32)) -> tuple[Path, Path, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((*shape, 3), 90, np.uint8)).save(folder / "photo.png")
    mask = np.zeros(shape, np.uint8)
    mask[2:10, 2:10] = 1
    mask[2:10, 14:18] = 2
    Image.fromarray(mask).save(folder / "photo_mask.png")
    return folder / "photo.png", folder / "photo_mask.png", mask


def _paint(win: MainWindow, row: int, cols: tuple[int, int], class_id: int) -> None:
    win.set_edit_tool("brush")
    win.set_brush_size(3)
    win.edits.paint_id = win.segmentation.table.ids_of_class(class_id)[0]
    win.canvas.stroke_started.emit(row, cols[0])
    win.canvas.stroke_moved.emit(row, cols[1])
    win.canvas.stroke_ended.emit()


def _values(win: MainWindow) -> np.ndarray:
    return np.asarray(win.segmentation.to_values())


WINDOW_A = textwrap.dedent("""
    import os, sys
    import numpy as np
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from viewer.gui.main_window import MainWindow
    photo, mask, out = sys.argv[1:4]
    win = MainWindow()
    assert not win.edits.offer_recovery()
    win.open_image(photo, mask)
    win.set_edit_tool("brush")
    win.set_brush_size(3)
    win.edits.paint_id = win.segmentation.table.ids_of_class(2)[0]
    win.canvas.stroke_started.emit(20, 20)
    win.canvas.stroke_moved.emit(20, 26)
    win.canvas.stroke_ended.emit()
    print(win.edits.autosave(), flush=True)   # what the timer does every few seconds
    np.save(out, np.asarray(win.segmentation.to_values()))
    print("ready", flush=True)
    sys.stdin.readline()                        # runs until killed
""")


def test_two_windows_and_a_kill_neither_loses_the_other_s_edits(qtbot, tmp_path, monkeypatch):
    photo_a, mask_a, original_a = _pair(tmp_path / "a")
    photo_b, mask_b, original_b = _pair(tmp_path / "b")
    a = subprocess.Popen([sys.executable, "-c", WINDOW_A, str(photo_a), str(mask_a),
                          str(tmp_path / "a_edited.npy")], cwd=ROOT, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        a_file = Path(a.stdout.readline().strip())
        assert a.stdout.readline().strip() == "ready" and a_file.is_file()
        # Window B starts while A runs: A's live session is neither offered nor deleted.
        asked = []
        monkeypatch.setattr(dialogs, "ask_restore",
                            lambda parent, session: asked.append(session.source) or False)
        b = MainWindow()
        qtbot.addWidget(b)
        assert not b.edits.offer_recovery()
        assert asked == [] and a_file.is_file()
        assert b.open_image(photo_b, mask_b)
        _paint(b, 18, (4, 12), 1)
        b_file = b.edits.autosave()
        assert b_file is not None and b_file != a_file
        b_edited = _values(b)
        assert (b_edited != original_b).sum() > 10
    finally:
        a.kill()  # SIGKILL: no save, no prompt, no clean-up
        a.wait(timeout=60)
    # The next start offers A's session (once) and restores its edits.
    monkeypatch.setattr(dialogs, "ask_restore",
                        lambda parent, session: asked.append(session.source) or True)
    c = MainWindow()
    qtbot.addWidget(c)
    assert c.edits.offer_recovery()
    assert asked == [str(mask_a)]
    a_edited = np.load(tmp_path / "a_edited.npy")
    assert (a_edited != original_a).sum() > 10
    assert np.array_equal(_values(c), a_edited) and c.image_path == photo_a
    # A later start offers nothing: A's session is C's now, B's is B's.
    d = MainWindow()
    qtbot.addWidget(d)
    assert not d.edits.offer_recovery() and asked == [str(mask_a)]
    # B's edits survived all of this, on screen and on disk.
    assert np.array_equal(_values(b), b_edited) and b_file.is_file()
    assert np.array_equal(np.asarray(recovery.restore(b_file).to_values()), b_edited)
    # C goes on autosaving A's restored work into A's session, and saves it.
    _paint(c, 4, (20, 28), 2)
    assert c.edits.autosave() == a_file
    c.save_action.trigger()
    assert np.array_equal(np.array(Image.open(mask_a)), _values(c))
    assert not a_file.exists() and b_file.is_file()


def _foreign_session(tmp_path, labels, image, source, change=lambda meta: None) -> Path:
    seg = Segmentation.from_values(labels, names={0: "background", 1: "cat"})
    seg.provenance.details["image"] = str(image)
    snap = recovery.snapshot(seg, "crashed")
    meta = {**snap.meta, "process": "a process that died", "source": str(source)}
    change(meta)
    return recovery.write_snapshot(recovery.Snapshot("crashed", snap.labels, {}, meta))


def test_a_3x3_autosave_is_not_restored_onto_a_512x512_photo(qtbot, tmp_path, monkeypatch,
                                                            shown_messages):
    photo, mask, original = _pair(tmp_path / "big", (512, 512))
    path = _foreign_session(tmp_path, np.ones((3, 3), np.uint8), photo, mask)
    monkeypatch.setattr(dialogs, "ask_restore", lambda parent, session: True)
    win = MainWindow()
    qtbot.addWidget(win)
    assert not win.edits.offer_recovery()
    [text] = shown_messages
    assert str(path) in text and "3x3 but the photo is 512x512" in text
    assert win.segmentation is None or win.segmentation.shape == (512, 512)
    assert not win.edits.dirty
    assert np.array_equal(np.array(Image.open(mask)), original)  # nothing to save over it
    assert not path.exists() and path.with_name(path.name + ".damaged").exists()


@pytest.mark.parametrize("change", [lambda m: m.update(masks=[1]),
                                    lambda m: m.update(saved_at="2026-01-01T10:00:00"),
                                    lambda m: m["segments"].append("not a row")],
                         ids=["masks-list", "naive-saved_at", "bad-segment"])
def test_damaged_recovery_files_never_stop_a_start(qtbot, tmp_path, monkeypatch, change):
    photo, mask, _ = _pair(tmp_path / "p")
    path = _foreign_session(tmp_path, np.ones((24, 32), np.uint8), photo, mask, change)
    told = []
    monkeypatch.setattr(dialogs, "tell_skipped_recovery", lambda parent, lines: told.extend(lines))
    monkeypatch.setattr(dialogs, "ask_restore", lambda parent, session: True)
    win = MainWindow()
    qtbot.addWidget(win)
    restored = win.edits.offer_recovery()
    if told:  # damaged: one line naming the file, and nothing restored
        assert not restored and len(told) == 1 and told[0].startswith(str(path))
    else:  # a time without a zone is read as UTC: a good file
        assert restored and win.segmentation.shape == (24, 32)


def test_the_review_panel_shows_a_hostile_file_name_as_written(qtbot):
    panel = ReviewPanel()
    qtbot.addWidget(panel)
    review = Review()
    review.set_state(HOSTILE, State.FLAGGED, author="<b>eve</b>")
    review.set_segment_state(HOSTILE, 1, State.REJECTED, label="<i>cat</i>")
    panel.show_item(HOSTILE, review.item(HOSTILE))
    document = QTextDocument()
    document.setHtml(panel.state_label.text())
    shown = document.toPlainText()
    assert HOSTILE in shown and "by <b>eve</b>" in shown
    assert "<img" not in document.toHtml().split("<body", 1)[1]  # no image element
    tooltip = QTextDocument()
    tooltip.setHtml(panel.state_label.toolTip())
    assert "<i>cat</i>" in tooltip.toPlainText()


def test_labels_and_dialogs_with_file_names_are_plain_text(qtbot, tmp_path, shown_messages):
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.navigation.name_label.textFormat() == Qt.TextFormat.PlainText
    dialogs.show_error(win, "Cannot open", ReadError("file not found", tmp_path / HOSTILE))
    assert shown_messages == [f"{tmp_path / HOSTILE}: file not found"]
    assert shown_messages.formats == [Qt.TextFormat.PlainText]
    session = recovery.RecoverySession("x", tmp_path / "x.npz", str(tmp_path / HOSTILE), None,
                                       __import__("datetime").datetime(2026, 1, 1), (1, 1),
                                       "semantic", 1, False)
    box = dialogs.restore_box(win, session)
    assert box.textFormat() == Qt.TextFormat.PlainText and HOSTILE in box.text()


def test_an_unexpected_error_is_a_sentence_with_details(qtbot, shown_messages):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show_error("Export", UnexpectedError.wrap("Export", KeyError("frame_7")))
    [text] = shown_messages
    assert text.startswith("Export failed: something went wrong") and "KeyError" not in text
    assert "KeyError: 'frame_7'" in shown_messages.details[0]


def test_a_nul_byte_is_said_in_words_not_as_a_python_error():
    error = UnexpectedError.wrap("Loading photo.png", ValueError("embedded null byte"))
    assert str(error) == "Loading photo.png failed: the file name contains a NUL byte"
    assert "ValueError: embedded null byte" in error.details


def test_preferences_are_saved_when_they_change_not_only_at_quit(qtbot):
    from viewer.core.settings import load_settings, settings_path

    win = MainWindow()
    qtbot.addWidget(win)
    win.set_theme("dark")
    win.alpha_slider.setValue(30)
    qtbot.waitUntil(lambda: settings_path().exists() and not win.settings_saver.pending)
    saved = json.loads(settings_path().read_text())
    assert saved["theme"] == "dark" and saved["overlay_alpha"] == pytest.approx(0.3)
    assert load_settings().theme == "dark"


def test_a_video_session_of_another_frame_size_is_refused_not_restored(qtbot, tmp_path,
                                                                       monkeypatch,
                                                                       shown_messages):
    sys.path.insert(0, str(ROOT / "tests"))
    from video_clips import write_masked_clip

    from viewer.core.video import recovery as video_recovery
    from viewer.core.video.frame_store import FrameStore

    (tmp_path / "clip").mkdir()
    video, masks = write_masked_clip(tmp_path / "clip")
    store = FrameStore(None, frame_count=5)
    store.keep_edit(2, Segmentation.from_values(np.ones((3, 3), np.uint8)))
    saver = video_recovery.VideoAutosaver(store, video, masks)
    folder = saver.save()
    saver.close()  # its window died
    monkeypatch.setattr(recovery, "PROCESS_TOKEN", "another process")
    monkeypatch.setattr(dialogs, "ask_restore", lambda parent, session: True)
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.edits.offer_recovery()  # the video opens ...
    qtbot.waitUntil(lambda: bool(shown_messages), timeout=20000)
    assert "the autosaved mask is 3x3 but the video's frames are" in shown_messages[0]  # ... without it
    assert win.video.store.edited_frames() == []
    assert not folder.exists() and folder.with_name(folder.name + ".damaged").is_dir()
