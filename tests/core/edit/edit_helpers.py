"""Small builders and exact checks shared by the edit tests."""

import numpy as np

from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import Segmentation


def seg_of(rows, kind="semantic", names=None, **kwargs):
    """A segmentation from a nested list of values (ids = values)."""
    values = np.array(rows, dtype=np.int64)
    return Segmentation.from_values(values, kind=kind, names=names or {}, **kwargs)


def instance_seg(rows, classes):
    """An instance map: ``classes`` maps id -> (class_id, label, instance)."""
    labels = np.array(rows, dtype=np.uint8)
    table = SegmentTable(
        Segment(i, label=label, class_id=cid, instance=inst, color=(10 * i, 20, 30))
        for i, (cid, label, inst) in classes.items())
    return Segmentation(labels, table, kind="instance")


def state(seg):
    """Everything an undo must restore: labels (with dtype), rows and complete masks."""
    masks = {i: (m.bbox, m.mask.copy()) for i, m in seg.full_masks.items()}
    return seg.labels.copy(), list(seg.table), masks


def assert_state(seg, expected):
    labels, rows, masks = expected
    assert seg.labels.dtype == labels.dtype
    np.testing.assert_array_equal(seg.labels, labels)
    assert list(seg.table) == rows
    assert set(seg.full_masks) == set(masks)
    for seg_id, (bbox, mask) in masks.items():
        assert seg.full_masks[seg_id].bbox == bbox
        np.testing.assert_array_equal(seg.full_masks[seg_id].mask, mask)


def assert_stats(seg):
    """Every row's area and bbox equal a recount of the whole label map."""
    fresh = Segmentation(seg.labels.copy(), seg.table.copy())
    assert [(r.id, r.area, r.bbox) for r in seg.table] == \
        [(r.id, r.area, r.bbox) for r in fresh.table]
