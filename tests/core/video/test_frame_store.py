"""FrameStore: edits over kept model results over a mask source, and whole-video relabel rules."""

import numpy as np
import pytest

from viewer.core.edit.commands import EditCommand
from viewer.core.segmentation import Segmentation
from viewer.core.video.frame_store import ClassRule, FrameStore


class Source:
    """Frames 0..n-1, each a square of class 1 whose left edge is at column i."""

    def __init__(self, n=10, skip=()):
        self.n, self.skip, self.reads, self.closed = n, set(skip), 0, False

    def frames(self):
        return [i for i in range(self.n) if i not in self.skip]

    def mask_for(self, i):
        if i in self.skip or not 0 <= i < self.n:
            return None
        self.reads += 1
        values = np.zeros((8, 20), np.uint8)
        values[2:6, i:i + 4] = 1
        return Segmentation.from_values(values, names={0: "background", 1: "car"})

    def summary(self):
        return ["a test source"]

    def close(self):
        self.closed = True


def _model_result(i):
    values = np.zeros((8, 20), np.uint8)
    values[:, i] = 2
    return Segmentation.from_values(values, names={0: "background", 2: "person"})


def test_source_frames_are_read_fresh_each_time():
    source = Source(skip=[3])
    store = FrameStore(source, frame_count=8)
    assert store.frames() == [0, 1, 2, 4, 5, 6, 7]  # frames past the video are left out
    a, b = store.mask_for(2), store.mask_for(2)
    assert a is not b and np.array_equal(a.labels, b.labels)
    assert store.mask_for(3) is None and store.origin(3) is None
    assert store.origin(2) == "file" and not store.dirty


def test_model_results_are_packed_and_replayed_exactly():
    store = FrameStore(Source(), frame_count=10)
    result = _model_result(4)
    store.put_prediction(4, result)
    back = store.mask_for(4)
    assert back is not result and np.array_equal(back.labels, result.labels)
    assert back.labels.flags.writeable
    assert [s.label for s in back.table] == [s.label for s in result.table]
    # Areas and boxes come with the packed table (not recomputed), and are right.
    fresh = Segmentation(back.labels.copy(), back.table.copy())
    assert [(s.area, s.bbox) for s in back.table] == [(s.area, s.bbox) for s in fresh.table]
    assert store.origin(4) == "model" and store.predicted_frames() == [4]
    assert 0 < store.predicted_bytes < result.labels.nbytes
    assert not store.dirty  # a model's result is made again by running it: nothing to lose
    store.forget_predictions()
    assert store.origin(4) == "file"


def test_an_edited_frame_wins_and_is_the_same_object():
    store = FrameStore(Source(), frame_count=10)
    seg = store.mask_for(5)
    seg.labels[:] = 0
    store.keep_edit(5, seg)
    assert store.mask_for(5) is seg and store.origin(5) == "edited"
    store.put_prediction(5, _model_result(5))  # a later model run leaves the edit alone
    assert store.mask_for(5) is seg and store.edited_frames() == [5]
    store.mark_saved()
    assert not store.dirty


def test_a_rule_relabels_every_frame_produced_and_edited_frames_at_once():
    store = FrameStore(Source(), frame_count=10)
    edited = store.mask_for(1)
    store.keep_edit(1, edited)
    rule = ClassRule(1, 7, "truck")
    changed = store.add_rule(rule)
    assert [i for i, _, _ in changed] == [1]
    car = int(edited.labels[3, 2])
    assert edited.table[car].class_id == 7 and edited.table[car].label == "truck"
    later = store.mask_for(6)
    assert later.table[int(later.labels[3, 7])].label == "truck"
    # Undoing: remove the rule and undo the edited frame's change.
    store.remove_rule(rule)
    for _, seg, change in changed:
        EditCommand(seg, change).undo()
    assert edited.table[car].class_id == 1
    assert store.mask_for(6).table[int(later.labels[3, 7])].label == "car"
    store.reinstate_rule(rule)
    assert store.mask_for(6).table[int(later.labels[3, 7])].label == "truck"


def test_without_a_source_only_model_results_and_edits_count():
    store = FrameStore(None, frame_count=5)
    assert store.frames() == [] and store.mask_for(0) is None
    store.put_prediction(2, _model_result(2))
    assert store.frames() == [2] and store.has_mask(2) and not store.has_mask(1)
    assert store.summary() == ["1 frame segmented by a model"]
    store.close()


def test_summary_and_close_reach_the_source():
    source = Source()
    store = FrameStore(source, frame_count=10)
    store.keep_edit(0, store.mask_for(0))
    store.add_rule(ClassRule(1, 2))
    assert store.summary() == ["a test source", "1 frame edited", "1 whole-video relabel"]
    store.close()
    assert source.closed


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32])
def test_packing_keeps_every_dtype(dtype):
    store = FrameStore(None, frame_count=1)
    labels = np.arange(8 * 20, dtype=dtype).reshape(8, 20) % 50
    store.put_prediction(0, Segmentation(labels.astype(dtype)))
    back = store.mask_for(0)
    assert back.labels.dtype == dtype and np.array_equal(back.labels, labels)


def test_a_model_result_keeps_its_confidence_to_a_255th():
    store = FrameStore(None, frame_count=1)
    result = _model_result(3)
    confidence = np.linspace(0.0, 1.0, result.labels.size, dtype=np.float32).reshape(
        result.shape)
    result = Segmentation(result.labels, result.table, confidence=confidence)
    store.put_prediction(0, result)
    back = store.mask_for(0)
    assert back.confidence.dtype == np.float32
    assert np.abs(back.confidence - confidence).max() <= 0.5 / 255 + 1e-6
