"""Brush, eraser, line, polygon and flood fill on small maps, checked pixel for pixel."""

import numpy as np
import pytest
from edit_helpers import assert_stats, seg_of

from viewer.core.edit.paint import (
    Brush,
    Overwrite,
    fill_polygon,
    flood_fill,
    footprint,
    line_mask,
    paint_dab,
    paint_line,
    paint_mask,
)
from viewer.core.errors import SegmentationError
from viewer.core.segment_table import Segment


def _zeros(h, w):
    return seg_of(np.zeros((h, w), int).tolist(), names={0: "background"})


def _with_class(seg, seg_id=1, label="cat"):
    seg.table.add(Segment(seg_id, label=label, class_id=seg_id))
    return seg


@pytest.mark.parametrize(("size", "expected"), [
    (1, [[1]]),
    (2, [[1, 1], [1, 1]]),
    (3, [[0, 1, 0], [1, 1, 1], [0, 1, 0]]),
    (4, [[0, 1, 1, 0], [1, 1, 1, 1], [1, 1, 1, 1], [0, 1, 1, 0]]),
    (5, [[0, 1, 1, 1, 0], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1],
         [0, 1, 1, 1, 0]]),
])
def test_round_footprints(size, expected):
    np.testing.assert_array_equal(footprint(size, "round"), np.array(expected, bool))


def test_square_footprint_and_brush_box():
    np.testing.assert_array_equal(Brush(3, "square").footprint, np.ones((3, 3), bool))
    assert Brush(3).box((5, 5)) == (4, 4, 7, 7)
    assert Brush(4).box((5, 5)) == (4, 4, 8, 8)  # extra pixel below and right


def test_brush_validates():
    with pytest.raises(SegmentationError):
        Brush(0)
    with pytest.raises(SegmentationError):
        Brush(3, "hexagon")


def test_dab_round_3_in_the_middle():
    seg = _with_class(_zeros(5, 5))
    change = paint_dab(seg, (2, 2), 1, Brush(3))
    np.testing.assert_array_equal(seg.labels, [
        [0, 0, 0, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 1, 1, 1, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0]])
    assert change.bbox == (1, 1, 4, 4)
    np.testing.assert_array_equal(change.before, np.zeros((3, 3)))
    np.testing.assert_array_equal(change.after, [[0, 1, 0], [1, 1, 1], [0, 1, 0]])
    assert seg.table[1].area == 5 and seg.table[1].bbox == (1, 1, 4, 4)
    assert seg.table[0].area == 20 and seg.table[0].bbox == (0, 0, 5, 5)
    assert_stats(seg)


def test_dab_square_even_size_extends_down_right_and_clips_at_edges():
    seg = _with_class(_zeros(4, 4))
    paint_dab(seg, (3, 3), 1, Brush(2, "square"))
    paint_dab(seg, (0, 0), 1, Brush(4, "square"))  # rows/cols -1..2, clipped
    np.testing.assert_array_equal(seg.labels, [
        [1, 1, 1, 0],
        [1, 1, 1, 0],
        [1, 1, 1, 0],
        [0, 0, 0, 1]])
    assert_stats(seg)


def test_dab_outside_the_map_changes_nothing():
    seg = _with_class(_zeros(4, 4))
    assert paint_dab(seg, (10, 10), 1, Brush(3)).empty
    assert paint_dab(seg, (-2, 1), 1, Brush(3)).empty
    assert not seg.labels.any()


def test_line_is_the_union_of_dabs():
    seg = _with_class(_zeros(4, 9))
    change = paint_line(seg, (1, 1), (1, 6), 1, Brush(3))
    np.testing.assert_array_equal(seg.labels, [
        [0, 1, 1, 1, 1, 1, 1, 0, 0],
        [1, 1, 1, 1, 1, 1, 1, 1, 0],
        [0, 1, 1, 1, 1, 1, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0, 0]])
    assert change.bbox == (0, 0, 3, 8)
    assert_stats(seg)


def test_diagonal_line_of_one_pixel():
    box, mask = line_mask((4, 4), (0, 0), (3, 3), Brush(1))
    assert box == (0, 0, 4, 4)
    np.testing.assert_array_equal(mask, np.eye(4, dtype=bool))


def test_overwrite_modes():
    rows = [[0, 0, 2, 2],
            [0, 1, 2, 2],
            [0, 1, 1, 0]]
    box, mask = (0, 0, 3, 4), np.ones((3, 4), bool)
    seg = seg_of(rows)
    seg.table.add(Segment(3, label="new", class_id=3))
    paint_mask(seg, box, mask, 3, overwrite=Overwrite.BACKGROUND)
    np.testing.assert_array_equal(seg.labels, [[3, 3, 2, 2], [3, 1, 2, 2], [3, 1, 1, 3]])
    assert_stats(seg)
    seg = seg_of(rows)
    seg.table.add(Segment(3, label="new", class_id=3))
    paint_mask(seg, box, mask, 3, overwrite="segment", target=2)
    np.testing.assert_array_equal(seg.labels, [[0, 0, 3, 3], [0, 1, 3, 3], [0, 1, 1, 0]])
    assert seg.table[2].area == 0 and seg.table[2].bbox is None
    assert_stats(seg)
    seg = seg_of(rows)
    seg.table.add(Segment(3, label="new", class_id=3))
    paint_mask(seg, box, mask, 3, overwrite="all")
    assert (seg.labels == 3).all()
    assert_stats(seg)


def test_overwrite_segment_needs_a_target():
    seg = _with_class(_zeros(3, 3))
    with pytest.raises(SegmentationError, match="segment's id"):
        paint_dab(seg, (1, 1), 1, Brush(1), overwrite="segment")


def test_eraser_paints_background_and_creates_its_row_when_missing():
    seg = seg_of([[1, 1, 1], [1, 1, 1]], names={1: "cat"})
    assert 0 not in seg.table
    change = paint_dab(seg, (0, 1), 0, Brush(1))
    np.testing.assert_array_equal(seg.labels, [[1, 0, 1], [1, 1, 1]])
    assert seg.table[0].label == "background" and not seg.table[0].visible
    assert change.added_ids == (0,)
    assert_stats(seg)


def test_painting_an_unknown_id_is_an_error():
    seg = _zeros(3, 3)
    with pytest.raises(SegmentationError, match="no segment with id 7"):
        paint_dab(seg, (1, 1), 7, Brush(1))


def test_bbox_shrinks_when_painting_removes_an_edge():
    seg = seg_of([[1, 1, 1, 0],
                  [1, 1, 1, 0],
                  [1, 1, 1, 0]], names={1: "cat"})
    paint_mask(seg, (0, 0, 3, 1), np.ones((3, 1), bool), 0)  # erase the left column
    assert seg.table[1].bbox == (0, 1, 3, 3)
    paint_mask(seg, (2, 0, 3, 4), np.ones((1, 4), bool), 0)  # and the bottom row
    assert seg.table[1].bbox == (0, 1, 2, 3)
    assert seg.table[0].bbox == (0, 0, 3, 4)
    assert_stats(seg)


def test_polygon_fill_includes_its_edges():
    seg = _with_class(_zeros(5, 6))
    fill_polygon(seg, [(1, 1), (1, 4), (3, 4), (3, 1)], 1)
    expected = np.zeros((5, 6), int)
    expected[1:4, 1:5] = 1
    np.testing.assert_array_equal(seg.labels, expected)
    assert_stats(seg)


def test_polygon_partly_outside_is_clipped():
    seg = _with_class(_zeros(4, 4))
    change = fill_polygon(seg, np.array([(-3, -3), (-3, 1), (1, 1), (1, -3)]), 1)
    np.testing.assert_array_equal(seg.labels[:2, :2], np.ones((2, 2)))
    assert seg.labels.sum() == 4 and change.bbox == (0, 0, 2, 2)
    assert fill_polygon(seg, [(10, 10), (10, 12), (12, 12)], 1).empty


def test_triangle():
    seg = _with_class(_zeros(4, 4))
    fill_polygon(seg, [(0, 0), (3, 0), (3, 3)], 1)
    np.testing.assert_array_equal(seg.labels, np.tril(np.ones((4, 4), int)))


DIAGONAL = [[1, 1, 0, 0],
            [1, 1, 0, 0],
            [0, 0, 1, 1],
            [0, 0, 1, 1]]


def test_flood_fill_4_connected():
    seg = seg_of(DIAGONAL, names={1: "a"})
    seg.table.add(Segment(2, label="b", class_id=2))
    change = flood_fill(seg, (0, 1), 2, connectivity=4)
    np.testing.assert_array_equal(seg.labels, [[2, 2, 0, 0], [2, 2, 0, 0], [0, 0, 1, 1],
                                               [0, 0, 1, 1]])
    assert change.bbox == (0, 0, 2, 2)
    assert_stats(seg)


def test_flood_fill_8_connected_crosses_the_diagonal():
    seg = seg_of(DIAGONAL, names={1: "a"})
    seg.table.add(Segment(2, label="b", class_id=2))
    flood_fill(seg, (3, 3), 2, connectivity=8)
    np.testing.assert_array_equal(seg.labels, np.array(DIAGONAL) * 2)
    assert seg.table[1].area == 0 and seg.table[2].area == 8
    assert_stats(seg)


def test_flood_fill_of_background_is_bounded_by_segments():
    seg = seg_of([[0, 0, 1, 0],
                  [0, 0, 1, 0],
                  [1, 1, 1, 0],
                  [0, 0, 0, 0]], names={1: "wall"})
    flood_fill(seg, (0, 0), 1)
    np.testing.assert_array_equal(seg.labels, [[1, 1, 1, 0], [1, 1, 1, 0], [1, 1, 1, 0],
                                               [0, 0, 0, 0]])
    assert_stats(seg)


def test_flood_fill_respects_overwrite_rules_and_no_ops():
    seg = seg_of(DIAGONAL, names={1: "a"})
    seg.table.add(Segment(2, label="b", class_id=2))
    assert flood_fill(seg, (0, 0), 2, overwrite="background").empty  # seed is 1
    assert flood_fill(seg, (0, 0), 2, overwrite="segment", target=2).empty
    assert flood_fill(seg, (0, 0), 1).empty  # already 1
    assert flood_fill(seg, (9, 9), 2).empty  # outside
    assert not flood_fill(seg, (0, 3), 2, overwrite="background").empty
    np.testing.assert_array_equal(seg.labels, [[1, 1, 2, 2], [1, 1, 2, 2], [0, 0, 1, 1],
                                               [0, 0, 1, 1]])


def test_flood_fill_with_a_stale_table_box_still_fills_the_region():
    seg = seg_of(DIAGONAL, names={1: "a"})
    seg.table.add(Segment(2, label="b", class_id=2))
    seg.table.update(1, bbox=(2, 2, 4, 4))  # does not hold the seed: whole map is read
    flood_fill(seg, (0, 0), 2, connectivity=8)
    np.testing.assert_array_equal(seg.labels, np.array(DIAGONAL) * 2)


def test_uint16_map_paints_exactly():
    values = np.zeros((6, 6), np.int64)
    values[0, 0] = 3000
    seg = seg_of(values.tolist(), kind="instance")
    assert seg.labels.dtype == np.uint16
    paint_dab(seg, (3, 3), 3000, Brush(3, "square"))
    expected = values.copy()
    expected[2:5, 2:5] = 3000
    np.testing.assert_array_equal(seg.labels, expected)
    assert seg.table[3000].area == 10 and seg.table[3000].bbox == (0, 0, 5, 5)
    assert_stats(seg)


@pytest.mark.parametrize("shape", ["round", "square"])
@pytest.mark.parametrize("size", range(1, 9))
def test_a_dab_is_the_footprint_at_the_brush_box(size, shape):
    brush = Brush(size, shape)
    box, mask = line_mask((20, 20), (9, 9), (9, 9), brush)
    assert box == brush.box((9, 9))
    np.testing.assert_array_equal(mask, brush.footprint)


def test_erasing_nothing_adds_no_background_row():
    seg = seg_of([[1, 1], [1, 1]], names={1: "cat"})
    assert paint_dab(seg, (0, 0), 0, Brush(1), overwrite="segment", target=5).empty
    assert 0 not in seg.table
