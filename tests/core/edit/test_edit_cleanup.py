"""Clean-up: islands, largest component, holes; per segment and for all."""

import numpy as np
import pytest
from edit_helpers import assert_stats, seg_of

from viewer.core.edit.cleanup import fill_holes, keep_largest, remove_islands
from viewer.core.errors import SegmentationError

NAMES = {0: "background", 1: "cat", 2: "dog"}

ISLANDS = [[1, 1, 0, 2, 0, 1],
           [1, 1, 0, 0, 0, 1],
           [0, 0, 0, 2, 2, 0],
           [1, 0, 0, 2, 2, 0]]


def test_remove_islands_for_all_segments():
    seg = seg_of(ISLANDS, names=NAMES)
    change = remove_islands(seg, 3)
    np.testing.assert_array_equal(seg.labels, [[1, 1, 0, 0, 0, 0],
                                               [1, 1, 0, 0, 0, 0],
                                               [0, 0, 0, 2, 2, 0],
                                               [0, 0, 0, 2, 2, 0]])
    assert change.bbox == (0, 0, 4, 6)
    assert_stats(seg)


def test_remove_islands_of_one_segment_leaves_the_others():
    seg = seg_of(ISLANDS, names=NAMES)
    remove_islands(seg, 3, ids=[2])
    expected = np.array(ISLANDS)
    expected[0, 3] = 0
    np.testing.assert_array_equal(seg.labels, expected)
    assert_stats(seg)


def test_remove_islands_connectivity_and_limits():
    rows = [[1, 0, 0],
            [0, 1, 0],
            [0, 0, 0]]
    seg = seg_of(rows, names=NAMES)
    assert remove_islands(seg, 2, connectivity=8).empty  # one piece of 2
    remove_islands(seg, 2, connectivity=4)  # two pieces of 1
    assert not seg.labels.any()
    assert seg.table[1].area == 0 and seg.table[1].bbox is None
    with pytest.raises(SegmentationError):
        remove_islands(seg, -1)


def test_keep_largest():
    seg = seg_of(ISLANDS, names=NAMES)
    keep_largest(seg)
    np.testing.assert_array_equal(seg.labels, [[1, 1, 0, 0, 0, 0],
                                               [1, 1, 0, 0, 0, 0],
                                               [0, 0, 0, 2, 2, 0],
                                               [0, 0, 0, 2, 2, 0]])
    assert_stats(seg)


def test_keep_largest_tie_keeps_the_first_in_raster_order():
    seg = seg_of([[1, 0, 1]], names=NAMES)
    keep_largest(seg, ids=[1])
    assert seg.labels.tolist() == [[1, 0, 0]]


def test_removed_pixels_become_background_even_without_a_background_row():
    seg = seg_of([[1, 1, 2], [1, 1, 1]], names=NAMES)
    assert 0 not in seg.table
    change = remove_islands(seg, 2)
    assert seg.labels.tolist() == [[1, 1, 0], [1, 1, 1]]
    assert change.added_ids == (0,)
    assert_stats(seg)


RING = [[0, 0, 0, 0, 0, 0],
        [0, 1, 1, 1, 1, 0],
        [0, 1, 0, 2, 1, 0],
        [0, 1, 0, 0, 1, 0],
        [0, 1, 1, 1, 1, 0],
        [0, 0, 0, 0, 0, 0]]


def test_fill_holes_fills_background_only():
    seg = seg_of(RING, names=NAMES)
    change = fill_holes(seg, [1])
    expected = np.array(RING)
    expected[2, 2] = expected[3, 2] = expected[3, 3] = 1
    np.testing.assert_array_equal(seg.labels, expected)
    assert change.bbox == (2, 2, 4, 4)
    assert_stats(seg)


def test_fill_holes_max_size_counts_the_whole_hole():
    seg = seg_of(RING, names=NAMES)
    assert fill_holes(seg, max_size=3).empty  # the hole is 4 pixels (one of them dog)
    assert not fill_holes(seg, max_size=4).empty


def test_an_open_ring_has_no_hole():
    rows = [[1, 1, 1],
            [1, 0, 0],
            [1, 1, 1]]
    assert fill_holes(seg_of(rows, names=NAMES)).empty


def test_hole_connectivity():
    # The background at (1, 1) touches the outside only diagonally.
    rows = [[1, 1, 0],
            [1, 0, 1],
            [1, 1, 1]]
    seg = seg_of(rows, names=NAMES)
    fill_holes(seg, connectivity=4)
    assert seg.labels.tolist() == [[1, 1, 0], [1, 1, 1], [1, 1, 1]]
    seg = seg_of(rows, names=NAMES)
    assert fill_holes(seg, connectivity=8).empty


def test_clean_up_skips_background_and_void_when_cleaning_all():
    seg = seg_of([[255, 0, 255], [0, 0, 0]], names=NAMES, void_values=(255,))
    assert remove_islands(seg, 5).empty
    assert fill_holes(seg).empty


def test_a_clean_up_that_removes_nothing_adds_no_background_row():
    seg = seg_of([[1, 1], [1, 1]], names=NAMES)
    assert remove_islands(seg, 2).empty and keep_largest(seg).empty
    assert 0 not in seg.table
