import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from viewer.core import stats
from viewer.core.errors import SegmentationError
from viewer.core.palettes import builtin_palette
from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import Kind, Segmentation
from viewer.core.types import dtype_for_max_id


def test_dtype_policy():
    assert dtype_for_max_id(0) == np.uint8
    assert dtype_for_max_id(255) == np.uint8
    assert dtype_for_max_id(256) == np.uint16
    assert dtype_for_max_id(65535) == np.uint16
    assert dtype_for_max_id(65536) == np.uint32
    with pytest.raises(ValueError):
        dtype_for_max_id(-1)


def test_small_values_keep_their_value_as_id():
    values = np.array([[0, 0, 5], [15, 255, 5]], np.int32)
    seg = Segmentation.from_values(values, palette=builtin_palette("voc"), void_values=(255,))
    assert seg.labels.dtype == np.uint8
    np.testing.assert_array_equal(seg.labels, values)
    assert seg.table[15].label == "person" and seg.table[15].color == (192, 128, 128)
    assert seg.table[255].void and seg.table[255].label == "void"
    assert not seg.table[0].visible  # background is hidden by default
    assert seg.table[5].visible
    assert all(s.source_value is None for s in seg.table)


def test_negative_values_become_explicit_segments_and_are_restored():
    values = np.array([[-1, 0, 1], [2, -1, -1]], np.int32)
    seg = Segmentation.from_values(values, void_values=(-1,), hidden_values=(-1,))
    unlabelled = seg.table[3]  # the first free id above the largest value
    assert unlabelled.source_value == -1 and unlabelled.void and not unlabelled.visible
    assert unlabelled.area == 3
    assert seg.labels.dtype == np.uint8
    restored = seg.to_values(np.int32)
    assert restored.dtype == np.int32
    np.testing.assert_array_equal(restored, values)


def test_large_panoptic_ids_are_compacted_and_restored():
    values = np.array([[0, 2_000_000, 2_000_000], [16_000_000, 0, 2_000_000]], np.int64)
    seg = Segmentation.from_values(values, kind=Kind.PANOPTIC, hidden_values=(0,))
    assert seg.labels.dtype == np.uint8
    assert sorted(s.value for s in seg.table) == [0, 2_000_000, 16_000_000]
    np.testing.assert_array_equal(seg.to_values(), values)
    assert seg.to_values().dtype == np.uint32


def test_instance_map_uses_uint16():
    values = np.arange(24).reshape(4, 6) * 1000
    seg = Segmentation.from_values(values, kind=Kind.INSTANCE)
    assert seg.labels.dtype == np.uint16
    assert len(seg.table) == 24


def test_bool_input_is_binary():
    seg = Segmentation.from_values(np.eye(3, dtype=bool), kind=Kind.BINARY)
    assert seg.labels.dtype == np.uint8 and seg.table[1].area == 3


def test_stats_match_a_brute_force_reference():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 7, size=(23, 31)).astype(np.uint8)
    labels[labels == 4] = 0  # an id that never occurs
    seg = Segmentation(labels, SegmentTable([Segment(4, "absent")]))
    for s in seg.table:
        rows, cols = np.nonzero(labels == s.id)
        assert s.area == rows.size
        expected = None if rows.size == 0 else (rows.min(), cols.min(), rows.max() + 1, cols.max() + 1)
        assert s.bbox == expected


def test_bbox_scatter_path_matches_presence_path(monkeypatch):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 300, size=(40, 50)).astype(np.uint16)
    fast = stats.bboxes(labels)
    monkeypatch.setattr(stats, "_PRESENCE_CELLS_MAX", 0)
    assert stats.bboxes(labels) == fast


def test_constructor_adds_rows_for_ids_missing_from_the_table():
    seg = Segmentation(np.array([[0, 9]], np.uint8))
    assert seg.table.ids() == (0, 9)
    assert seg.table[9].area == 1


def test_invalid_inputs_are_refused():
    with pytest.raises(SegmentationError, match="2-D"):
        Segmentation(np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(SegmentationError, match="from_values"):
        Segmentation(np.zeros((2, 2), np.int32))
    with pytest.raises(SegmentationError, match="confidence"):
        Segmentation(np.zeros((2, 2), np.uint8), confidence=np.zeros((3, 2)))
    with pytest.raises(SegmentationError, match="class scores"):
        Segmentation(np.zeros((2, 2), np.uint8), class_scores=np.zeros((2, 2)))
    with pytest.raises(SegmentationError, match="integers"):
        Segmentation.from_values(np.zeros((2, 2), np.float32))


def test_segment_and_confidence_under_a_pixel():
    confidence = np.array([[0.25, 1.0]], np.float32)
    seg = Segmentation(np.array([[0, 1]], np.uint8), confidence=confidence)
    assert seg.segment_at(0, 1).id == 1
    assert seg.segment_at(5, 5) is None
    assert seg.confidence_at(0, 0) == 0.25


def test_labels_changed_event():
    seg = Segmentation(np.zeros((4, 4), np.uint8))
    boxes = []
    seg.labels_changed.connect(boxes.append)
    seg.notify_labels_changed((0, 0, 2, 2))
    assert boxes == [(0, 0, 2, 2)]


@settings(max_examples=60, deadline=None)
@given(arrays(np.int64, st.tuples(st.integers(1, 12), st.integers(1, 12)),
              elements=st.one_of(st.integers(-3, 20), st.integers(2**20, 2**24))))
def test_to_values_restores_any_integer_map(values):
    seg = Segmentation.from_values(values)
    assert seg.labels.dtype.kind == "u"
    np.testing.assert_array_equal(seg.to_values(np.int64), values)
    assert sum(s.area for s in seg.table) == values.size
