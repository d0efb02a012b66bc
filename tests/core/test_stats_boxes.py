"""Bounding boxes per id: the run-based path agrees with a direct computation."""

import numpy as np
import pytest

from viewer.core import stats


def _direct(labels):
    boxes = {}
    for i in np.unique(labels):
        rows, cols = np.nonzero(labels == i)
        boxes[int(i)] = (int(rows.min()), int(cols.min()), int(rows.max()) + 1,
                         int(cols.max()) + 1)
    return boxes


def _blobs(rng, shape, ids, dtype, cell=16):
    small = rng.integers(0, ids, (shape[0] // cell + 1, shape[1] // cell + 1))
    return np.kron(small, np.ones((cell, cell), int))[: shape[0], : shape[1]].astype(dtype)


@pytest.mark.parametrize("dtype,ids", [(np.uint8, 3), (np.uint8, 200), (np.uint16, 5000),
                                       (np.uint32, 70000)])
def test_blob_maps(dtype, ids):
    labels = _blobs(np.random.default_rng(ids), (300, 410), ids, dtype)
    assert stats.bboxes(labels) == _direct(labels)


def test_noise_falls_back_to_the_presence_matrix_with_the_same_answer():
    labels = np.random.default_rng(1).integers(0, 40, (120, 90)).astype(np.uint8)
    assert stats._bboxes_from_runs(labels, None) is None  # a run every pixel or two
    assert stats.bboxes(labels) == _direct(labels)


@pytest.mark.parametrize("shape", [(1, 1), (1, 57), (57, 1), (5, 2)])
def test_thin_maps(shape):
    labels = np.random.default_rng(2).integers(0, 3, shape).astype(np.uint8)
    labels.sort(axis=-1)  # runs, so the run path is taken where it can be
    assert stats.bboxes(labels) == _direct(labels)


def test_a_view_into_a_larger_map_and_a_size_hint():
    big = _blobs(np.random.default_rng(3), (200, 200), 9, np.uint8)
    view = big[17:150, 33:181]
    assert not view.flags.c_contiguous
    assert stats.bboxes(view, size=9) == _direct(view)
    assert stats.bboxes(view, size=300) == _direct(view)
