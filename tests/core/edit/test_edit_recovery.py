"""Autosave and recovery: round trip, listing, discarding, and a real crash."""

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest
from edit_helpers import assert_state, seg_of, state

from viewer.core.edit import Brush, EditCommand, History, ops, recovery
from viewer.core.errors import ReadError
from viewer.core.segment_table import Segment
from viewer.core.segmentation import FullMask, Provenance

ROOT = Path(__file__).resolve().parents[3]
NAMES = {0: "background", 1: "cat", 2: "dog"}


@pytest.fixture(autouse=True)
def _recovery_dir(tmp_path, monkeypatch):
    folder = tmp_path / "recovery"
    monkeypatch.setenv(recovery.RECOVERY_ENV, str(folder))
    return folder


def _edited():
    values = [[0, 1, 1, 0], [2, 2, 0, 0], [0, 0, 0, 255]]
    seg = seg_of(values, names=NAMES, void_values=(255,),
                 provenance=Provenance("/data/mask.png", "index-png", {"png_mode": "P"}))
    seg.table.update(2, attributes={"iscrowd": 0, "tags": ["a", "b"]}, score=0.5)
    seg.full_masks[2] = FullMask((1, 0, 2, 3), np.array([[True, True, True]]))
    ops.relabel(seg, [1], 2)
    ops.paint_dab(seg, (2, 1), 1, Brush(1))
    return seg


def test_recovery_dir_comes_from_the_environment(_recovery_dir):
    assert recovery.recovery_dir() == _recovery_dir


def test_round_trip_restores_an_equal_segmentation(_recovery_dir):
    seg = _edited()
    path = recovery.autosave(seg, "abc123")
    assert path == _recovery_dir / "abc123.npz"
    restored = recovery.restore("abc123")
    assert_state(restored, state(seg))
    assert restored.kind == seg.kind
    assert restored.provenance.source == "/data/mask.png"
    assert restored.provenance.format == "index-png"
    assert restored.provenance.details == {"png_mode": "P"}
    assert restored.table[2].attributes == {"iscrowd": 0, "tags": ["a", "b"]}
    np.testing.assert_array_equal(restored.to_values(), seg.to_values())


def test_the_file_is_a_plain_npz_with_the_table_as_json(_recovery_dir):
    seg = _edited()
    path = recovery.autosave(seg, "plain")
    with np.load(path) as npz:
        np.testing.assert_array_equal(npz["labels"], seg.labels)
    with zipfile.ZipFile(path) as archive:
        assert "session.json" in archive.namelist()


def test_sessions_of_this_process_are_not_offered_unless_asked(_recovery_dir):
    recovery.autosave(_edited(), "mine")
    assert recovery.list_sessions() == []
    (found,) = recovery.list_sessions(include_own=True)
    assert found.own and found.session_id == "mine" and found.shape == (3, 4)
    assert found.source == "/data/mask.png" and found.format_name == "index-png"


def test_discard_and_listing_skip_damaged_files(_recovery_dir):
    recovery.autosave(_edited(), "one")
    (_recovery_dir / "broken.npz").write_bytes(b"not a zip")
    (_recovery_dir / ".one.npz.123.tmp").write_bytes(b"partial")
    assert [s.session_id for s in recovery.list_sessions(include_own=True)] == ["one"]
    with pytest.raises(ReadError):
        recovery.restore(_recovery_dir / "broken.npz")
    recovery.discard("one")
    recovery.discard("one")  # already gone: fine
    assert recovery.list_sessions(include_own=True) == []


def test_session_ids_cannot_leave_the_folder():
    with pytest.raises(ValueError):
        recovery.session_path("../evil")


def test_autosaver_saves_only_unsaved_changed_work(_recovery_dir):
    seg = seg_of([[0, 1], [1, 0]], names=NAMES)
    history = History()
    saver = recovery.Autosaver(seg, history, session_id="s1")
    assert saver.maybe_save() is None and not saver.path.exists()
    history.record(EditCommand(seg, ops.paint_dab(seg, (0, 0), 1, Brush(1)), "Paint"))
    assert saver.due() and saver.maybe_save() == saver.path
    assert not saver.due() and saver.maybe_save() is None  # nothing new
    history.undo()
    history.record(EditCommand(seg, ops.paint_dab(seg, (1, 1), 1, Brush(1)), "Paint"))
    assert saver.due()
    saver.maybe_save()
    np.testing.assert_array_equal(recovery.restore("s1").labels, [[0, 1], [1, 1]])
    history.mark_clean()  # saved: the recovery file goes
    assert saver.maybe_save() is None and not saver.path.exists()


def test_snapshot_is_independent_of_later_edits(_recovery_dir):
    seg = _edited()
    snap = recovery.snapshot(seg, "snap")
    expected = seg.labels.copy()
    ops.paint_dab(seg, (0, 0), 1, Brush(3))
    recovery.write_snapshot(snap)
    np.testing.assert_array_equal(recovery.restore("snap").labels, expected)


CRASHING_EDITOR = textwrap.dedent("""
    import os
    import numpy as np
    from viewer.core.edit import Brush, EditCommand, History, Stroke, ops
    from viewer.core.edit.recovery import Autosaver
    from viewer.core.segmentation import Provenance, Segmentation

    values = np.zeros((6, 8), np.uint8)
    values[1:3, 1:3] = 1
    values[4:6, 5:8] = 2
    seg = Segmentation.from_values(values, names={0: "background", 1: "cat", 2: "dog"},
                                   provenance=Provenance("/data/pets.png", "index-png"))
    history = History()
    saver = Autosaver(seg, history, session_id="crashed")
    stroke = Stroke(seg, 1, Brush(1))
    for point in [(0, 0), (0, 7)]:
        stroke.add(point)
    history.record(stroke.finish())
    history.record(EditCommand(seg, ops.merge(seg, [2, 1]), "Merge"))
    history.record(EditCommand(seg, ops.rename_class(seg, 2, "pets"), "Rename"))
    saver.maybe_save()
    os._exit(1)  # a crash: no save, no clean shutdown
""")


def test_a_crashed_process_leaves_its_edits_to_restore(_recovery_dir):
    env = {**os.environ, "PYTHONPATH": str(ROOT), recovery.RECOVERY_ENV: str(_recovery_dir)}
    done = subprocess.run([sys.executable, "-c", CRASHING_EDITOR], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    (session,) = recovery.list_sessions()
    assert not session.own and session.session_id == "crashed"
    assert session.source == "/data/pets.png" and session.format_name == "index-png"
    seg = recovery.restore(session)
    np.testing.assert_array_equal(seg.labels, [
        [2, 2, 2, 2, 2, 2, 2, 2],
        [0, 2, 2, 0, 0, 0, 0, 0],
        [0, 2, 2, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 2, 2, 2],
        [0, 0, 0, 0, 0, 2, 2, 2]])
    assert seg.labels.dtype == np.uint8
    assert [(r.id, r.label, r.area, r.bbox) for r in seg.table] == [
        (0, "background", 30, (1, 0, 6, 8)), (2, "pets", 18, (0, 0, 6, 8))]
    recovery.discard(session)
    assert recovery.list_sessions() == []


def test_restored_rows_equal_the_saved_rows(_recovery_dir):
    seg = seg_of([[0, 1]], names=NAMES)
    seg.table.add(Segment(5, label="x", source_value=(1, 2, 3), color=(4, 5, 6), void=True))
    recovery.autosave(seg, "rows")
    assert list(recovery.restore("rows").table) == list(seg.table)
