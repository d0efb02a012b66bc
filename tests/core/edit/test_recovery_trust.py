"""Recovery that cannot hurt: a live window's session is never offered, restored or
deleted by another; damaged files are reported and skipped; files are private."""

import datetime as dt
import json
import os
import stat
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

from viewer.core.edit import History, recovery
from viewer.core.edit.session_lock import SessionLock, is_free
from viewer.core.errors import ReadError, WriteError
from viewer.core.segmentation import Segmentation

ROOT = Path(__file__).resolve().parents[3]
POSIX = pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")


@pytest.fixture(autouse=True)
def folder(tmp_path, monkeypatch):
    path = tmp_path / "recovery"
    monkeypatch.setenv(recovery.RECOVERY_ENV, str(path))
    return path


def _seg(shape=(4, 5)):
    values = np.zeros(shape, np.uint8)
    values[1:3, 1:3] = 1
    return Segmentation.from_values(values, names={0: "background", 1: "cat"})


def _dirty_saver(shape=(4, 5)):
    history = History()
    history.mark_dirty()
    return recovery.Autosaver(_seg(shape), history)


def _as_another_process(monkeypatch):
    """This process's files then look like another's (as after a restart)."""
    monkeypatch.setattr(recovery, "PROCESS_TOKEN", "another process")


def test_a_live_session_is_never_listed_claimed_or_deleted(monkeypatch):
    saver = _dirty_saver()
    path = saver.save()
    _as_another_process(monkeypatch)
    assert recovery.list_sessions() == []  # its window runs: the lock is held
    scanned = recovery.scan_sessions()
    assert scanned.sessions == [] and scanned.damaged == []
    assert not recovery.discard(path) and path.exists()
    assert recovery.set_aside(path) is None and path.exists()
    # The window goes (its process dies: the system lets the lock go).
    saver.close()
    [session] = recovery.list_sessions()
    lock = recovery.claim(session)
    assert lock is not None and lock.held
    assert recovery.claim(session) is None  # offered to one window only
    assert recovery.list_sessions() == []
    assert recovery.discard(session, lock=lock) and not path.exists()
    assert not path.with_suffix(".lock").exists()


def test_a_claimed_session_goes_on_in_the_window_that_restored_it(monkeypatch):
    first = _dirty_saver()
    first.save()
    first.close()
    _as_another_process(monkeypatch)
    [session] = recovery.list_sessions()
    lock = recovery.claim(session)
    seg = recovery.restore(session)
    history = History()
    history.mark_dirty()
    again = recovery.Autosaver(seg, history, session_id=session.session_id, lock=lock)
    assert again.save() == session.path
    assert recovery.list_sessions() == []  # held by the restoring window now
    again.discard()
    assert not session.path.exists()


def test_another_process_s_lock_keeps_its_session_until_it_dies(folder):
    lock_file = folder / "x.lock"
    folder.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            from viewer.core.edit.session_lock import SessionLock
            lock = SessionLock({str(lock_file)!r})
            assert lock.acquire()
            print("held", flush=True)
            sys.stdin.readline()
        """)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not is_free(lock_file) and not SessionLock(lock_file).acquire()
    finally:
        holder.kill()  # SIGKILL: no clean-up of any kind
        holder.wait(timeout=60)
    assert is_free(lock_file)


def test_autosaving_into_a_session_someone_holds_is_refused():
    saver = _dirty_saver()
    saver.save()
    other = recovery.Autosaver(_seg(), saver.history, session_id=saver.session_id)
    with pytest.raises(WriteError, match="another SegView window"):
        other.save()


@POSIX
def test_the_folder_is_private_and_so_are_the_files(folder):
    folder.mkdir(parents=True, mode=0o755)
    os.chmod(folder, 0o755)  # as an older version left it
    path = _dirty_saver().save()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.with_suffix(".lock").stat().st_mode) == 0o600


def _write_meta(folder, session_id, change, labels=None, masks=None):
    """A recovery file of another process with ``change`` applied to its session.json."""
    snap = recovery.snapshot(_seg(), session_id)
    meta = {**snap.meta, "process": "gone"}
    change(meta)
    labels = snap.labels if labels is None else labels
    path = recovery.write_snapshot(recovery.Snapshot(session_id, labels, masks or {}, meta))
    return path


DAMAGE = {
    "masks as a list": lambda m: m.update(masks=[1]),
    "masks with a bad box": lambda m: m.update(masks={"1": [0, 0, 99, 99]}),
    "shape of text": lambda m: m.update(shape="4x5"),
    "negative shape": lambda m: m.update(shape=[-4, 5]),
    "huge shape": lambda m: m.update(shape=[10**6, 10**6]),
    "segments as an object": lambda m: m.update(segments={"id": 1}),
    "a label that is a list": lambda m: m["segments"][1].update(label=["x"]),
    "a colour of two": lambda m: m["segments"][1].update(color=[1, 2]),
    "an unknown segment field": lambda m: m["segments"][1].update(evil=1),
    "unknown kind": lambda m: m.update(kind="movie"),
    "source as a number": lambda m: m.update(source=3),
    "NUL in the image name": lambda m: m["details"].update(image="/a\0b.png"),
    "no saved_at": lambda m: m.pop("saved_at"),
    "saved_at not a time": lambda m: m.update(saved_at="yesterday"),
    "bad session id": lambda m: m.update(session_id="../../etc"),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_file_is_reported_once_and_set_aside(folder, damage):
    path = _write_meta(folder, "bad", DAMAGE[damage])
    good = _write_meta(folder, "good", lambda m: None)
    assert len(recovery.scan_sessions().damaged) == 1
    assert path.exists()  # listing alone changes nothing
    scanned = recovery.scan_sessions(set_aside_damaged=True)
    assert [s.path for s in scanned.sessions] == [good]
    [problem] = scanned.damaged
    assert isinstance(problem, ReadError) and problem.path == path
    assert str(problem).startswith(str(path)) and "\n" not in str(problem)
    assert not path.exists() and path.with_name("bad.npz.damaged").exists()
    assert recovery.scan_sessions().damaged == []  # reported once


def test_junk_and_a_newer_version_are_skipped(folder):
    folder.mkdir(parents=True)
    (folder / "junk.npz").write_bytes(b"not a zip")
    newer = _write_meta(folder, "newer", lambda m: m.update(schema_version=99))
    scanned = recovery.scan_sessions()
    assert scanned.sessions == []
    assert {p.path.name for p in scanned.damaged} == {"junk.npz", "newer.npz"}
    assert "schema version 99" in str(next(p for p in scanned.damaged if p.path == newer))


def test_a_time_without_a_zone_is_read_as_utc_and_sorts_with_the_rest(folder):
    _write_meta(folder, "naive", lambda m: m.update(saved_at="2026-01-01T10:00:00"))
    _write_meta(folder, "aware", lambda m: m.update(saved_at="2026-01-02T10:00:00+00:00"))
    sessions = recovery.list_sessions()
    assert [s.session_id for s in sessions] == ["aware", "naive"]
    assert sessions[1].saved_at == dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC)


def test_arrays_must_match_what_the_file_declares(folder):
    wrong = _write_meta(folder, "wrong", lambda m: None, labels=np.zeros((40, 50), np.uint8))
    with pytest.raises(ReadError, match=r"labels.npy is 40x50, but the file says 4x5"):
        recovery.restore(wrong)
    floats = _write_meta(folder, "floats", lambda m: None, labels=np.zeros((4, 5), np.float32))
    with pytest.raises(ReadError, match="not a label map"):
        recovery.restore(floats)


def test_a_label_map_is_restored_only_onto_an_image_of_its_size(folder):
    path = _write_meta(folder, "small", lambda m: None)
    with pytest.raises(ReadError) as caught:
        recovery.restore(path, image_shape=(512, 512, 3))
    assert caught.value.path == path
    assert "the autosaved mask is 4x5 but the photo is 512x512" in str(caught.value)
    assert recovery.restore(path, image_shape=(4, 5, 3)).shape == (4, 5)


def test_a_session_json_bomb_is_refused(folder):
    folder.mkdir(parents=True)
    path = folder / "deep.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("session.json", "[" * 100_000 + "]" * 100_000)
    [problem] = recovery.scan_sessions().damaged
    assert problem.path == path


def test_video_sessions_are_locked_validated_and_private(folder, monkeypatch):
    from viewer.core.video import recovery as video

    folder.mkdir(parents=True)
    bad = folder / "video-bad"
    bad.mkdir()
    (bad / video.HEADER).write_text(json.dumps({
        "schema": video.SCHEMA, "schema_version": video.SCHEMA_VERSION,
        "saved_at": "2026-01-01T00:00:00", "video": "/v.mp4", "masks": None,
        "frames": ["one"], "rules": []}))
    sessions, damaged = video.scan_video_sessions(set_aside_damaged=True)
    assert sessions == [] and [p.path for p in damaged] == [bad]
    assert "'frames'" in str(damaged[0])
    assert (folder / "video-bad.damaged").is_dir()


def test_a_video_header_too_deep_is_reported_by_its_folder(folder):
    from viewer.core.video import recovery as video

    deep = folder / "video-deep"
    deep.mkdir(parents=True)
    (deep / video.HEADER).write_text("[" * 100_000)
    sessions, [problem] = video.scan_video_sessions()
    assert sessions == [] and problem.path == deep and "video.json" in problem.message
