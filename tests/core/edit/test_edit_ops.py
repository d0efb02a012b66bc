"""Segment operations: relabel, rename, recolour, add, merge, split, delete."""

import numpy as np
import pytest
from edit_helpers import assert_stats, instance_seg, seg_of

from viewer.core.edit import ops
from viewer.core.edit.ids import classes
from viewer.core.errors import SegmentationError
from viewer.core.palettes import stable_color
from viewer.core.segmentation import FullMask

NAMES = {0: "background", 1: "cat", 2: "dog", 3: "bird"}


def test_relabel_in_a_class_map_goes_through_the_table_only():
    seg = seg_of([[0, 1, 1], [2, 2, 0]], names=NAMES)
    labels = seg.labels
    before = labels.copy()
    change = ops.relabel(seg, [1], 2)
    assert seg.labels is labels
    np.testing.assert_array_equal(seg.labels, before)
    assert change.bbox is None and change.before is None
    row = seg.table[1]
    assert (row.class_id, row.label, row.color, row.source_value) == \
        (2, "dog", seg.table[2].color, 2)
    np.testing.assert_array_equal(seg.to_values(), [[0, 2, 2], [2, 2, 0]])
    assert change.rows_before[1].label == "cat" and change.rows_after[1].label == "dog"


def test_relabel_to_a_new_class():
    seg = seg_of([[0, 1]], names=NAMES)
    ops.relabel(seg, [1], 7, label="bird")
    row = seg.table[1]
    assert (row.class_id, row.label, row.color, row.source_value) == \
        (7, "bird", stable_color(7), 7)
    ops.relabel(seg, [1], 9)
    assert seg.table[1].label == "class 9"


def test_relabel_back_to_its_own_value_clears_the_source_value():
    seg = seg_of([[0, 1, 2]], names=NAMES)
    ops.relabel(seg, [1], 2)
    ops.relabel(seg, [1, 2], 1, label="cat")  # class 1 has no other member now
    assert seg.table[1].source_value is None and seg.table[2].source_value == 1


def test_relabel_in_an_instance_map_keeps_colour_and_numbers_instances():
    seg = instance_seg([[1, 2, 3]], {1: (5, "car", 1), 2: (5, "car", 2), 3: (6, "bus", 1)})
    colour = seg.table[3].color
    ops.relabel(seg, [3], 5)
    row = seg.table[3]
    assert (row.class_id, row.label, row.instance, row.color) == (5, "car", 3, colour)


def test_relabel_unknown_segment_is_an_error():
    seg = seg_of([[0, 1]], names=NAMES)
    with pytest.raises(SegmentationError, match="no segment with id 5"):
        ops.relabel(seg, [5], 1)


def test_rename_class_renames_every_segment_of_the_class():
    seg = seg_of([[0, 1, 2]], names=NAMES)
    ops.relabel(seg, [1], 2)
    change = ops.rename_class(seg, 2, "hound")
    assert seg.table[1].label == seg.table[2].label == "hound"
    assert set(change.rows_after) == {1, 2}


def test_recolor_and_visibility_are_table_only():
    seg = seg_of([[0, 1, 2]], names=NAMES)
    change = ops.recolor(seg, [1, 2], (1, 2, 3))
    assert seg.table[1].color == seg.table[2].color == (1, 2, 3)
    assert change.bbox is None and change.nbytes < 2000
    ops.set_visible(seg, [2], False)
    assert not seg.table[2].visible and seg.table[1].visible


def test_classes_groups_segments_by_class():
    seg = seg_of([[0, 1, 2]], names=NAMES)
    ops.relabel(seg, [1], 2)
    found = classes(seg)
    assert [(c.class_id, c.label, c.ids) for c in found] == \
        [(0, "background", (0,)), (2, "dog", (2, 1))]
    assert found[1].id == 2


def test_add_class_uses_the_class_id_as_id_when_free():
    seg = seg_of([[0, 1, 2]], names=NAMES)
    change = ops.add_class(seg, "bird")
    assert change.added_ids == (3,)
    row = seg.table[3]
    assert (row.label, row.class_id, row.source_value, row.area, row.bbox) == \
        ("bird", 3, None, 0, None)
    change = ops.add_class(seg, "fish", class_id=10, color=(9, 9, 9))
    assert change.added_ids == (10,) and seg.table[10].color == (9, 9, 9)
    with pytest.raises(SegmentationError, match="exists"):
        ops.add_class(seg, "again", class_id=10)


def test_add_class_when_the_id_is_taken_writes_the_class_value():
    seg = seg_of([[0, 1, 2]], names=NAMES)
    ops.relabel(seg, [2], 1)  # id 2 is now written as 1; class 2 is free, id 2 is not
    change = ops.add_class(seg, "dog", class_id=2)
    (new,) = change.added_ids
    assert new == 3 and seg.table[3].source_value == 2


def test_add_class_widens_a_full_uint8_map():
    seg = seg_of(np.arange(256).reshape(16, 16).tolist())
    assert seg.labels.dtype == np.uint8
    change = ops.add_class(seg, "one more")
    assert change.added_ids == (256,) and seg.labels.dtype == np.uint16
    assert change.dtypes == (np.dtype(np.uint8), np.dtype(np.uint16))
    np.testing.assert_array_equal(seg.labels, np.arange(256).reshape(16, 16))


def test_add_instance_in_an_instance_map():
    seg = instance_seg([[1, 2]], {1: (5, "car", 1), 2: (5, "car", 4)})
    change = ops.add_instance(seg, 1)
    (new,) = change.added_ids
    row = seg.table[new]
    assert (new, row.class_id, row.label, row.instance, row.color) == \
        (3, 5, "car", 5, stable_color(3))


def test_merge_rewrites_only_the_merged_away_segments():
    seg = seg_of([[0, 1, 1, 0],
                  [0, 2, 0, 3],
                  [0, 0, 3, 3]], names=NAMES)
    change = ops.merge(seg, [1, 3])
    np.testing.assert_array_equal(seg.labels, [[0, 1, 1, 0], [0, 2, 0, 1], [0, 0, 1, 1]])
    assert 3 not in seg.table and change.removed_ids == (3,)
    assert seg.table[1].area == 5 and seg.table[1].bbox == (0, 1, 3, 4)
    assert change.bbox == (1, 2, 3, 4)  # only where pixels changed
    assert_stats(seg)


def test_merge_into_a_chosen_segment_drops_complete_masks_of_the_others():
    seg = seg_of([[1, 2], [2, 2]], names=NAMES, kind="instance")
    seg.full_masks[1] = FullMask((0, 0, 1, 2), np.ones((1, 2), bool))
    change = ops.merge(seg, [1, 2], into=2)
    np.testing.assert_array_equal(seg.labels, [[2, 2], [2, 2]])
    assert 1 not in seg.full_masks and change.masks_after == {1: None}


def test_merge_of_one_segment_changes_nothing():
    seg = seg_of([[0, 1]], names=NAMES)
    assert ops.merge(seg, [1]).empty


def test_split_keeps_the_largest_piece_and_numbers_the_rest_in_raster_order():
    seg = seg_of([[1, 1, 0, 1],
                  [1, 1, 0, 0],
                  [0, 0, 2, 0],
                  [1, 0, 0, 0]], names=NAMES)
    change = ops.split(seg, 1)
    np.testing.assert_array_equal(seg.labels, [[1, 1, 0, 3],
                                               [1, 1, 0, 0],
                                               [0, 0, 2, 0],
                                               [4, 0, 0, 0]])
    assert change.added_ids == (3, 4)
    for new in (3, 4):
        row = seg.table[new]
        assert (row.label, row.class_id, row.color, row.source_value, row.area) == \
            ("cat", 1, seg.table[1].color, 1, 1)
    assert seg.table[1].bbox == (0, 0, 2, 2)
    assert_stats(seg)


def test_split_connectivity():
    rows = [[1, 0], [0, 1]]
    assert ops.split(seg_of(rows, names=NAMES), 1, connectivity=8).empty
    seg = seg_of(rows, names=NAMES)
    ops.split(seg, 1, connectivity=4)
    np.testing.assert_array_equal(seg.labels, [[1, 0], [0, 2]])


def test_split_in_an_instance_map_gives_new_instances():
    seg = instance_seg([[1, 0, 1, 1]], {0: (0, "background", None), 1: (5, "car", 2)})
    ops.split(seg, 1)
    np.testing.assert_array_equal(seg.labels, [[2, 0, 1, 1]])
    row = seg.table[2]
    assert (row.class_id, row.instance, row.color, row.source_value) == \
        (5, 3, stable_color(2), None)
    assert_stats(seg)


def test_new_ids_skip_values_in_use():
    seg = seg_of([[0, 1, 0, 1]], names=NAMES)
    ops.relabel(seg, [1], 2, label="dog")  # id 1 written as 2: id 2 would collide
    ops.split(seg, 1)
    assert seg.labels.tolist() == [[0, 1, 0, 3]]


def test_delete_to_background():
    seg = seg_of([[1, 2], [2, 2]], names=NAMES)
    change = ops.delete(seg, [2])
    np.testing.assert_array_equal(seg.labels, [[1, 0], [0, 0]])
    assert 2 not in seg.table and seg.table[0].area == 3
    assert change.added_ids == (0,) and change.removed_ids == (2,)
    assert_stats(seg)


def test_delete_to_void_creates_a_void_segment_written_as_255():
    seg = seg_of([[0, 1], [2, 2]], names=NAMES)
    change = ops.delete(seg, [1, 2], to="void")
    (void,) = change.added_ids
    row = seg.table[void]
    assert void == 3 and row.void and row.source_value == 255
    np.testing.assert_array_equal(seg.to_values(), [[0, 255], [255, 255]])
    ops.delete(seg, [0], to="void")  # the existing void segment is reused
    assert (seg.labels == 3).all()
    with pytest.raises(SegmentationError, match="background' or 'void"):
        ops.delete(seg, [3], to="nowhere")
    assert_stats(seg)


def test_delete_to_void_reuses_a_void_value_from_the_file():
    seg = seg_of([[0, 1, 255]], names=NAMES, void_values=(255,))
    ops.delete(seg, [1], to="void")
    assert seg.labels.tolist() == [[0, 255, 255]]
