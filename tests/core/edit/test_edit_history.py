"""The history: undo/redo, signals, the saved marker, merging, the memory budget."""

import numpy as np
import pytest
from edit_helpers import seg_of

from viewer.core.edit import Brush, EditCommand, History, Stroke, ops
from viewer.core.segment_table import Segment
from viewer.core.settings import Settings


class Fake:
    """A command that logs what is done to it and weighs ``nbytes``."""

    def __init__(self, name, nbytes=100, log=None, kind=None):
        self.text, self.nbytes, self.log, self.kind = name, nbytes, log, kind

    def undo(self):
        self.log.append(("undo", self.text))

    def redo(self):
        self.log.append(("redo", self.text))

    def merge(self, other):
        if self.kind is None or other.kind != self.kind:
            return False
        self.text += "+" + other.text
        self.nbytes += other.nbytes
        return True


def _signals(history):
    seen = []
    history.changed.connect(lambda: seen.append("changed"))
    history.can_undo_changed.connect(lambda v: seen.append(("undo", v)))
    history.can_redo_changed.connect(lambda v: seen.append(("redo", v)))
    history.clean_changed.connect(lambda v: seen.append(("clean", v)))
    return seen


def test_push_undo_redo_and_signals():
    log = []
    history = History()
    seen = _signals(history)
    assert history.clean and not history.can_undo and history.undo() is None
    history.push(Fake("a", log=log))
    assert seen == [("undo", True), ("clean", False), "changed"]
    assert history.undo_text == "a" and history.redo_text == ""
    seen.clear()
    assert history.undo().text == "a"
    assert seen == [("undo", False), ("redo", True), ("clean", True), "changed"]
    assert history.redo().text == "a" and history.redo() is None
    assert log == [("redo", "a"), ("undo", "a"), ("redo", "a")]


def test_record_does_not_run_the_command_and_skips_empty_ones():
    log = []
    history = History()
    assert history.record(Fake("a", log=log))
    assert log == [] and len(history) == 1
    assert not history.record(None)
    seg = seg_of([[0, 1]], names={1: "a"})
    assert not history.record(EditCommand(seg, ops.merge(seg, [1])))
    assert len(history) == 1


def test_new_step_clears_redo():
    log = []
    history = History()
    history.record(Fake("a", log=log))
    history.record(Fake("b", log=log))
    history.undo()
    assert history.can_redo and history.redo_steps == 1
    history.record(Fake("c", log=log))
    assert not history.can_redo and [history.undo().text, history.undo().text] == ["c", "a"]


def test_clean_marker_follows_the_saved_position():
    history = History()
    log = []
    history.record(Fake("a", log=log))
    assert not history.clean
    history.mark_clean()
    assert history.clean
    history.record(Fake("b", log=log))
    assert not history.clean
    history.undo()
    assert history.clean
    history.undo()
    assert not history.clean
    history.redo()
    assert history.clean


def test_saved_state_in_a_discarded_redo_branch_is_unreachable():
    history = History()
    log = []
    history.record(Fake("a", log=log))
    history.mark_clean()
    history.undo()
    history.record(Fake("b", log=log))
    history.undo()
    assert not history.clean  # back at the start, but the save was after "a"


def test_mark_dirty_and_clear():
    history = History()
    history.mark_dirty()
    assert not history.clean
    history.record(Fake("a", log=[]))
    history.mark_clean()
    history.clear()
    assert history.clean and len(history) == 0 and history.nbytes == 0
    history.mark_dirty()
    history.clear()
    assert not history.clean


def test_merge_only_when_asked_and_never_into_the_saved_step():
    log = []
    history = History()
    history.record(Fake("a", kind="stroke", log=log))
    history.record(Fake("b", kind="stroke", log=log))
    assert len(history) == 2
    history.record(Fake("c", kind="stroke", log=log), merge=True)
    assert len(history) == 2 and history.undo_text == "b+c"
    assert history.nbytes == 300
    history.mark_clean()
    history.record(Fake("d", kind="stroke", log=log), merge=True)
    assert len(history) == 3 and not history.clean


def test_budget_drops_the_oldest_steps():
    log = []
    history = History(budget_bytes=1000)
    for name in "abcde":
        history.record(Fake(name, nbytes=300, log=log))
    assert len(history) == 3 and history.nbytes == 900
    assert [history.undo().text for _ in range(3)] == ["e", "d", "c"]
    assert history.undo() is None


def test_the_newest_step_stays_even_over_the_budget():
    history = History(budget_bytes=100)
    history.record(Fake("a", nbytes=50, log=[]))
    history.record(Fake("huge", nbytes=10_000, log=[]))
    assert len(history) == 1 and history.undo_text == "huge"


def test_step_limit_and_settings():
    history = History(max_steps=2)
    for name in "abc":
        history.record(Fake(name, log=[]))
    assert len(history) == 2
    assert History.from_settings(Settings(history_budget_mb=16)).budget_bytes == 16 << 20
    with pytest.raises(ValueError):
        History(max_steps=0)


def test_dropping_steps_keeps_the_clean_marker_consistent():
    history = History(budget_bytes=250)
    history.record(Fake("a", log=[]))
    history.mark_clean()
    for name in "bcd":
        history.record(Fake(name, log=[]))
    assert len(history) == 2
    history.undo()
    history.undo()
    assert not history.clean  # "a" was dropped: the saved state cannot come back


def test_real_budget_with_strokes():
    seg = seg_of(np.zeros((200, 200), int).tolist(), names={0: "background"})
    seg.table.add(Segment(1, label="a", class_id=1))
    history = None
    for i in range(6):
        stroke = Stroke(seg, 1, Brush(20, "square"))
        stroke.add((10 + 30 * i, 10))
        command = stroke.finish()
        if history is None:
            per_step = command.nbytes
            # two uint8 20 x 20 patches and the rows of the two segments touched
            assert 2 * 20 * 20 <= per_step < 2 * 20 * 20 + 4000
            history = History(budget_bytes=3 * per_step + 100)
        history.record(command)
    assert len(history) == 3
    for _ in range(3):
        history.undo()
    assert not history.can_undo
    painted = [int(seg.labels[10 + 30 * i, 10]) for i in range(6)]
    assert painted == [1, 1, 1, 0, 0, 0]


def test_version_bumps_on_every_change():
    history = History()
    versions = [history.version]
    history.record(Fake("a", log=[]))
    versions.append(history.version)
    history.undo()
    versions.append(history.version)
    history.mark_clean()
    versions.append(history.version)
    assert versions == sorted(set(versions))


def test_take_hands_over_every_step_and_put_gives_them_back():
    log = []
    history = History(budget_bytes=1000)
    for name in "abc":
        history.record(Fake(name, log=log))
    history.mark_clean()
    history.undo()  # c can be redone; the saved state is at c
    stack = history.take()
    assert not history.can_undo and not history.can_redo and history.clean
    assert stack.nbytes == 300 and history.nbytes == 0
    history.record(Fake("other", log=log))  # another frame's steps meanwhile
    history.take()
    history.put(stack)
    assert history.undo_text == "b" and history.redo_text == "c" and not history.clean
    history.redo()
    assert history.clean and history.nbytes == 300
    assert log == [("undo", "c"), ("redo", "c")]
