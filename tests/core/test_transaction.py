"""One export, one transaction: injected disk-full and permission errors at every step.

Each write step of an export (making a temporary, writing it, flushing it,
keeping the previous version, renaming into place, the journal) is failed in
turn with ENOSPC and with EACCES; afterwards the output folder holds exactly
its previous files (all old) and none of our temporaries.
"""

import errno
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from viewer.core import fileio, transaction
from viewer.core.errors import WriteError
from viewer.core.export import export
from viewer.core.formats.registry import FORMATS
from viewer.core.segmentation import Segmentation

#: Every writer that writes more than one file, and one that writes one.
MULTI_FILE = ["cvat-mask", "voc-rgb", "camvid", "rgb-legend", "coco-panoptic", "nucleus",
              "celantur-instance", "clearml", "deepstream-bin", "coco-rle", "index-png", "labelme"]


def _seg(shift: int) -> Segmentation:
    values = np.zeros((24, 32), np.int32)
    values[2:10, 3 + shift:12 + shift] = 1
    values[12:20, 15:28 - shift] = 2
    return Segmentation.from_values(values, names={0: "background", 1: "person", 2: "car"})


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative name, with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if transaction.MARK in p.name]


class _Faults:
    """Fail the ``at``-th write step (counting from 0) with ``code``; count all steps."""

    def __init__(self, monkeypatch, code: int, at: int | None):
        self.code, self.at, self.steps = code, at, 0
        for module, name in [(fileio, "_make_temp"), (fileio, "_fsync"),
                             (fileio, "_open_handle"), (transaction, "_keep"),
                             (transaction, "_step_replace")]:
            monkeypatch.setattr(module, name, self._wrap(getattr(module, name)))

    def _step(self) -> None:
        step, self.steps = self.steps, self.steps + 1
        if step == self.at:
            raise OSError(self.code, os.strerror(self.code))

    def _wrap(self, real):
        def step(*args, **kwargs):
            self._step()
            result = real(*args, **kwargs)
            return _Handle(result, self._step) if real.__name__ == "_open_handle" else result
        return step


class _Handle:
    """A file whose first write is a step of its own (where a full disk shows first)."""

    def __init__(self, handle, step):
        self._handle, self._step, self._wrote = handle, step, False

    def write(self, data):
        if not self._wrote:
            self._wrote = True
            self._step()
        return self._handle.write(data)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        self._handle.__enter__()
        return self

    def __exit__(self, *exc):
        return self._handle.__exit__(*exc)


def test_every_multi_file_writer_is_covered():
    writers = {spec.name for spec in FORMATS if spec.write is not None}
    assert set(MULTI_FILE) <= writers
    missing = writers - set(MULTI_FILE) - {"label-npy", "celantur-binary", "opencv-blob",
                                           "cityscapes-labelids", "cityscapes-instanceids",
                                           "cityscapes-trainids"}
    assert not missing, f"add a fault test for {missing}"


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES])
@pytest.mark.parametrize("format_name", MULTI_FILE)
def test_a_failure_at_any_step_leaves_all_the_old_files(tmp_path, monkeypatch, format_name,
                                                         code):
    old_dir = tmp_path / "old"
    export(_seg(0), format_name, old_dir, "shot", overlay=np.zeros((24, 32, 3), np.uint8))
    old = snapshot(old_dir)
    step = 0
    while True:
        work = tmp_path / f"try{step}"
        shutil.copytree(old_dir, work)
        with monkeypatch.context() as patch:
            faults = _Faults(patch, code, step)
            try:
                export(_seg(3), format_name, work, "shot",
                       overlay=np.full((24, 32, 3), 9, np.uint8))
            except WriteError as exc:
                assert os.strerror(code) in str(exc)
                assert snapshot(work) == old, f"step {step}: not all old"
            else:
                assert faults.steps <= step, "an injected failure was swallowed"
                assert snapshot(work) != old  # the last try: no fault left to inject
                break
        assert leftovers(work) == [], f"step {step} left {leftovers(work)}"
        step += 1
    assert step >= 8  # temporaries, writes, flushes, backups, renames, journal


@pytest.mark.parametrize("format_name", ["cvat-mask", "nucleus"])
def test_a_failed_first_export_leaves_no_file(tmp_path, monkeypatch, format_name):
    for step in range(12):
        work = tmp_path / f"try{step}"
        with monkeypatch.context() as patch:
            _Faults(patch, errno.ENOSPC, step)
            with pytest.raises(WriteError):
                export(_seg(0), format_name, work, "shot")
        assert snapshot(work) == {}, f"step {step}"


def test_an_exception_inside_the_block_puts_everything_back(tmp_path):
    target, other = tmp_path / "a.txt", tmp_path / "b.txt"
    target.write_text("old")
    with pytest.raises(KeyError), transaction.transaction(tmp_path):
        fileio.atomic_write_text(target, "new")
        fileio.atomic_write_text(other, "new")
        assert target.read_text() == "old" and not other.exists()  # nothing shows before commit
        raise KeyError("stop")
    assert target.read_text() == "old" and not other.exists() and leftovers(tmp_path) == []


def test_commit_keeps_permissions_and_reads_see_pending_bytes(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    target.chmod(0o640)
    with transaction.transaction(tmp_path):
        fileio.atomic_write_text(target, "new")
        assert transaction.current_path(target).read_text() == "new"
    assert target.read_text() == "new" and (target.stat().st_mode & 0o777) == 0o640


def _crash_after_prepare(tmp_path, monkeypatch, renames: int):
    """Leave a journal as a process killed after ``renames`` renames would."""
    (tmp_path / "a.txt").write_text("old a")
    (tmp_path / "b.txt").write_text("old b")
    done = []

    def stop_after(src, dst, real=transaction._step_replace):
        if len(done) == renames:
            raise SystemExit  # stands for the kill: nothing after it runs
        done.append(dst)
        real(src, dst)

    monkeypatch.setattr(transaction, "_step_replace", stop_after)
    monkeypatch.setattr(transaction.Transaction, "rollback", lambda self: None)
    with pytest.raises(SystemExit), transaction.transaction(tmp_path):
        fileio.atomic_write_text(tmp_path / "a.txt", "new a")
        fileio.atomic_write_text(tmp_path / "b.txt", "new b")
        fileio.atomic_write_text(tmp_path / "c.txt", "new c")
    monkeypatch.undo()
    # The journal names this process, which is alive: recovery takes it for another
    # thread's export, so pretend it is gone.
    monkeypatch.setattr(transaction, "_stale", lambda path, match: True)


@pytest.mark.parametrize("renames", range(5))  # journal, a, b, c, journal
def test_recovery_after_a_kill_gives_all_old_or_all_new(tmp_path, monkeypatch, renames):
    _crash_after_prepare(tmp_path, monkeypatch, renames)
    notes = transaction.recover(tmp_path)
    assert notes and leftovers(tmp_path) == []
    got = {p.name: p.read_text() for p in tmp_path.iterdir()}
    assert got in ({"a.txt": "old a", "b.txt": "old b"},
                   {"a.txt": "new a", "b.txt": "new b", "c.txt": "new c"}), renames


def test_recovery_leaves_live_and_foreign_files_alone(tmp_path):
    mine = tmp_path / f".x{transaction.MARK}{transaction._HOST}-{os.getpid()}-abc.tmp"
    stranger = tmp_path / ".x.tmp"
    for path in (mine, stranger):
        path.write_text("")
    assert transaction.recover(tmp_path) == []
    assert mine.exists() and stranger.exists()
