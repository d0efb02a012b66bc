"""Commands: every operation undoes and redoes exactly; a stroke is one command."""

import numpy as np
import pytest
from edit_helpers import assert_state, assert_stats, seg_of, state

from viewer.core.edit import Brush, EditCommand, History, Stroke, ops
from viewer.core.edit.patch import Change, apply_change, compose
from viewer.core.segment_table import Segment
from viewer.core.segmentation import FullMask

NAMES = {0: "background", 1: "cat", 2: "dog", 3: "bird"}
BASE = [[0, 0, 1, 1, 0, 0, 0],
        [0, 1, 1, 0, 2, 2, 2],
        [0, 0, 0, 0, 2, 0, 2],
        [3, 0, 1, 0, 2, 2, 2],
        [3, 3, 0, 0, 0, 0, 0]]

OPERATIONS = {
    "relabel": lambda s: ops.relabel(s, [1], 2),
    "rename": lambda s: ops.rename_class(s, 2, "hound"),
    "recolor": lambda s: ops.recolor(s, [3], (1, 2, 3)),
    "hide": lambda s: ops.set_visible(s, [1, 2], False),
    "add class": lambda s: ops.add_class(s, "fish"),
    "add instance": lambda s: ops.add_instance(s, 2),
    "merge": lambda s: ops.merge(s, [2, 3, 1]),
    "split": lambda s: ops.split(s, 1),
    "delete": lambda s: ops.delete(s, [2]),
    "delete to void": lambda s: ops.delete(s, [1, 3], to="void"),
    "dab": lambda s: ops.paint_dab(s, (2, 2), 3, Brush(3)),
    "erase": lambda s: ops.paint_line(s, (0, 0), (4, 6), 0, Brush(2, "square")),
    "polygon": lambda s: ops.fill_polygon(s, [(0, 0), (0, 3), (3, 0)], 2),
    "flood": lambda s: ops.flood_fill(s, (2, 0), 1),
    "islands": lambda s: ops.remove_islands(s, 2),
    "largest": lambda s: ops.keep_largest(s),
    "holes": lambda s: ops.fill_holes(s),
}


@pytest.mark.parametrize("name", OPERATIONS)
def test_every_operation_undoes_and_redoes_exactly(name):
    seg = seg_of(BASE, names=NAMES)
    seg.full_masks[3] = FullMask((3, 0, 5, 2), np.ones((2, 2), bool))
    before = state(seg)
    change = OPERATIONS[name](seg)
    assert not change.empty
    assert_stats(seg)
    after = state(seg)
    command = EditCommand(seg, change, name)
    for _ in range(2):
        command.undo()
        assert_state(seg, before)
        command.redo()
        assert_state(seg, after)


def test_pixel_commands_hold_only_the_changed_box():
    seg = seg_of(np.zeros((50, 60), int).tolist(), names=NAMES)
    seg.table.add(Segment(1, label="cat", class_id=1))
    change = ops.paint_dab(seg, (10, 20), 1, Brush(5, "square"))
    assert change.bbox == (8, 18, 13, 23)
    assert change.before.shape == change.after.shape == (5, 5)
    command = EditCommand(seg, change)
    assert command.nbytes < 5 * 5 * 2 + 5000  # patches + a few rows, not 50 x 60


def test_table_commands_hold_no_pixels():
    seg = seg_of(BASE, names=NAMES)
    change = ops.relabel(seg, [1, 3], 2)
    assert change.bbox is None and change.before is None and change.after is None
    assert EditCommand(seg, change).nbytes < 3000


def test_undo_of_a_widening_narrows_back():
    seg = seg_of(np.arange(256).reshape(16, 16).tolist())
    before = state(seg)
    change = ops.add_class(seg, "256th")
    ops_id = change.added_ids[0]
    paint = ops.paint_dab(seg, (0, 0), ops_id, Brush(1))
    assert seg.labels.dtype == np.uint16 and seg.labels[0, 0] == 256
    history = History()
    history.record(EditCommand(seg, change, "Add"))
    history.record(EditCommand(seg, paint, "Paint"))
    history.undo()
    history.undo()
    assert_state(seg, before)
    history.redo()
    history.redo()
    assert seg.labels.dtype == np.uint16 and seg.labels[0, 0] == 256


def test_undo_emits_labels_changed_with_the_box():
    seg = seg_of(BASE, names=NAMES)
    change = ops.paint_dab(seg, (2, 2), 3, Brush(1))
    boxes = []
    seg.labels_changed.connect(boxes.append)
    EditCommand(seg, change).undo()
    assert boxes == [(2, 2, 3, 3)]


def test_compose_equals_both_changes():
    seg = seg_of(BASE, names=NAMES)
    before = state(seg)
    first = ops.paint_dab(seg, (0, 0), 1, Brush(2, "square"))
    second = ops.paint_dab(seg, (4, 6), 2, Brush(1))
    after = state(seg)
    both = compose(first, second, seg.labels)
    assert both.bbox == (0, 0, 5, 7)
    apply_change(seg, both.inverse())
    assert_state(seg, before)
    apply_change(seg, both)
    assert_state(seg, after)


def test_empty_change():
    assert Change().empty and Change().nbytes == 0


# -- strokes ------------------------------------------------------------------------------------
def _blank(h=40, w=50):
    seg = seg_of(np.zeros((h, w), int).tolist(), names=NAMES)
    seg.table.add(Segment(1, label="cat", class_id=1))
    return seg


def test_stroke_is_one_command_equal_to_its_lines():
    points = [(5, 5), (5, 12), (9, 20), (30, 45), (30, 45), (2, 48)]
    reference = _blank()
    for start, end in zip(points, points[1:], strict=False):
        ops.paint_line(reference, start, end, 1, Brush(3))
    seg = _blank()
    before = state(seg)
    stroke = Stroke(seg, 1, Brush(3))
    boxes = [stroke.add(p) for p in points]
    assert boxes[0] == (4, 4, 7, 7) and boxes[4] is None  # no move, nothing new
    np.testing.assert_array_equal(seg.labels, reference.labels)
    command = stroke.finish()
    assert isinstance(command, EditCommand) and command.kind == "stroke"
    after = state(seg)
    rows, cols = np.nonzero(seg.labels)
    assert command.change.bbox == (rows.min(), cols.min(), rows.max() + 1, cols.max() + 1)
    history = History()
    history.record(command)
    assert len(history) == 1
    history.undo()
    assert_state(seg, before)
    history.redo()
    assert_state(seg, after)
    assert_stats(seg)


@pytest.mark.parametrize("seed", range(6))
def test_random_strokes_over_existing_segments_undo_exactly(seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 4, (12, 16)).repeat(20, axis=0).repeat(20, axis=1)
    seg = seg_of(values.tolist(), names=NAMES)
    before = state(seg)
    brush = Brush(int(rng.integers(1, 12)), "round" if seed % 2 else "square")
    overwrite = ["all", "background", "segment"][seed % 3]
    value = int(rng.integers(0, 4)) if overwrite == "all" else 3
    stroke = Stroke(seg, value, brush, overwrite=overwrite, target=2)
    for point in rng.integers(-20, 340, (25, 2)):
        stroke.add(tuple(point))
    assert_stats(seg)
    after = state(seg)
    command = stroke.finish()
    command.undo()
    assert_state(seg, before)
    command.redo()
    assert_state(seg, after)


def test_stroke_that_changes_nothing_gives_no_command():
    seg = _blank()
    stroke = Stroke(seg, 0, Brush(5))  # erasing background
    stroke.add((3, 3))
    assert stroke.finish() is None
    assert History().record(stroke.finish()) is False


def test_cancel_reverts_the_stroke():
    seg = _blank()
    before = state(seg)
    stroke = Stroke(seg, 1, Brush(4))
    for point in [(1, 1), (20, 30), (39, 49)]:
        stroke.add(point)
    stroke.cancel()
    assert_state(seg, before)


def test_consecutive_strokes_merge_only_when_asked():
    seg = _blank()
    before = state(seg)
    history = History()
    for i, merge in enumerate([False, True, False]):
        stroke = Stroke(seg, 1, Brush(3))
        stroke.add((5 + 10 * i, 5))
        history.record(stroke.finish(), merge=merge)
    assert len(history) == 2
    history.undo()
    assert seg.labels[25, 5] == 0 and seg.labels[15, 5] == 1
    history.undo()
    assert_state(seg, before)


def test_table_commands_do_not_merge_with_strokes():
    seg = _blank()
    stroke = Stroke(seg, 1, Brush(3))
    stroke.add((5, 5))
    command = stroke.finish()
    assert not command.merge(EditCommand(seg, ops.recolor(seg, [1], (1, 1, 1))))


def test_undo_restores_only_the_fields_the_change_altered():
    # A colour or visibility chosen after a stroke survives the stroke's undo.
    seg = seg_of([[0, 0, 1], [0, 1, 1]])
    stroke = Stroke(seg, 1, Brush(1, "square"))
    stroke.add((0, 0))
    command = stroke.finish()
    command_rows = set(command.change.rows_before)
    assert 1 in command_rows  # its area changed
    seg.table.update_many({1: {"color": (1, 2, 3), "visible": False}})
    command.undo()
    assert seg.table[1].color == (1, 2, 3) and not seg.table[1].visible
    assert_stats(seg)
    command.redo()
    assert seg.labels[0, 0] == 1 and seg.table[1].color == (1, 2, 3)
    assert_stats(seg)
