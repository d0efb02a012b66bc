"""Per-frame masks exported as Celantur video metadata chunks and read back by our reader."""

import json

import numpy as np
import pytest

from viewer.core.errors import WriteError
from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import FullMask, Segmentation
from viewer.core.tasks import drain
from viewer.core.video import CelanturChunks, open_mask_source
from viewer.core.video.celantur_export import export_celantur_chunks

SIZE = (16, 12)  # width, height


class FakeMasks:
    """A MaskSource of tiny masks: frame i has a person box whose left edge is i % 8."""

    def __init__(self, frames):
        self._frames = list(frames)

    def frames(self):
        return self._frames

    def mask_for(self, i):
        if i not in self._frames:
            return None
        labels = np.zeros((SIZE[1], SIZE[0]), np.uint8)
        labels[2:6, i % 8: i % 8 + 3] = 1
        table = SegmentTable([Segment(0, label="background", visible=False),
                              Segment(1, label="person", score=0.5)])
        return Segmentation(labels, table)

    def summary(self):
        return []

    def close(self):
        pass


def scene() -> Segmentation:
    """A face partly under a plate, a car without a score, a tree, a void strip, background."""
    labels = np.zeros((SIZE[1], SIZE[0]), np.uint16)
    labels[1:9, 1:7] = 1       # face, its lower rows covered by the plate below
    labels[6:10, 0:9] = 2      # licence plate on top
    labels[0:3, 10:16] = 3     # car
    labels[9:12, 12:15] = 4    # tree: not a Celantur type
    labels[11, 0:4] = 5        # void
    face = np.zeros((8, 6), bool)
    face[:] = True
    table = SegmentTable([
        Segment(0, label="background", visible=False),
        Segment(1, label="Face", score=0.93),
        Segment(2, label="licence plate", score=0.75,
                attributes={"offset": [100, 5], "type": 103, "is_anonymized": False}),
        Segment(3, label="vehicle"),
        Segment(4, label="tree", score=0.25),
        Segment(5, label="void", void=True),
    ])
    confidence = np.full(labels.shape, 0.8, np.float32)
    confidence[0, 10] = 0.0
    return Segmentation(labels, table, confidence=confidence,
                        full_masks={1: FullMask((1, 1, 9, 7), face)})


def boxes(seg: Segmentation) -> dict[str, tuple]:
    """Label -> (box, score); the box of a segment partly covered is its whole mask's."""
    def box(s):
        full = seg.full_masks.get(s.id)
        return s.bbox if full is None else full.bbox
    return {s.label: (box(s), s.score) for s in seg.table if s.label != "background"}


def test_boxes_labels_and_scores_read_back(tmp_path):
    seg = scene()
    source = FakeMasks([3])
    source.mask_for = lambda i: seg if i == 3 else None
    [path] = drain(export_celantur_chunks(source, tmp_path, "street", video_size=SIZE))
    assert path.name == "street-3-3.json"
    [frame] = json.loads(path.read_text())
    assert frame["id"] == 3 and frame["size"] == list(SIZE) and frame["duration"] is None
    plate = frame["detections"][1]
    assert plate == {"id": 1, "parent_image": 3, "offset": [100, 5], "bbox": [0, 6, 9, 10],
                     "score": 0.75, "is_anonymized": False, "type_label": "license plate",
                     "type": 103, "color": None}
    # The face's box is its whole mask, the part under the plate included.
    assert frame["detections"][0]["bbox"] == [1, 1, 7, 9]
    assert frame["detections"][0]["offset"] == [1, 1]
    back = open_mask_source(tmp_path, video_size=SIZE).mask_for(3)
    got = boxes(back)
    assert set(got) == {"face", "license plate", "vehicle", "tree"}  # no background, no void
    assert got["face"] == ((1, 1, 9, 7), 0.93)
    assert got["license plate"] == ((6, 0, 10, 9), 0.75)
    assert back.table[1].bbox == (1, 1, 6, 7)  # the visible part of the face
    assert got["tree"] == ((9, 12, 12, 15), 0.25)
    # Without a score, the mean confidence over the segment's pixels.
    assert got["vehicle"][0] == (0, 10, 3, 16)
    assert got["vehicle"][1] == pytest.approx(0.8 * 17 / 18)


def test_chunks_hold_at_most_500_frames_and_read_back_per_frame(tmp_path):
    source = FakeMasks(range(1203))
    steps = []
    paths = drain(export_celantur_chunks(source, tmp_path, "clip", video_size=SIZE),
                  steps.append)
    assert [p.name for p in paths] == ["clip-0-499.json", "clip-500-999.json",
                                       "clip-1000-1202.json"]
    assert [len(json.loads(p.read_text())) for p in paths] == [500, 500, 203]
    assert len(steps) == 1204 and steps[-1].done == steps[-1].total == 1203
    back = open_mask_source(tmp_path, video_size=SIZE)
    assert isinstance(back, CelanturChunks) and back.frames() == list(range(1203))
    for i in (0, 7, 499, 500, 501, 999, 1000, 1202):
        assert boxes(back.mask_for(i)) == boxes(source.mask_for(i)), i


def test_numbering_from_one_gaps_and_smaller_chunks(tmp_path):
    source = FakeMasks([*range(0, 150), *range(260, 270)])
    paths = drain(export_celantur_chunks(source, tmp_path, "my-clip-2", video_size=SIZE,
                                         first_number=1, chunk_frames=100))
    # Windows of 100 frame indices, named by the ids they hold (end inclusive); none empty.
    assert [p.name for p in paths] == ["my-clip-2-1-100.json", "my-clip-2-101-150.json",
                                       "my-clip-2-261-270.json"]
    back = open_mask_source(tmp_path, video_size=SIZE, first_number=1)
    assert back.frames() == source.frames()
    assert boxes(back.mask_for(265)) == boxes(source.mask_for(265))
    assert back.mask_for(200) is None


def test_an_empty_frame_is_a_record_without_detections(tmp_path):
    source = FakeMasks([0])
    source.mask_for = lambda i: Segmentation(np.zeros((SIZE[1], SIZE[0]), np.uint8))
    [path] = drain(export_celantur_chunks(source, tmp_path, "empty", video_size=None))
    assert json.loads(path.read_text()) == [
        {"id": 0, "detections": [], "size": list(SIZE), "duration": None}]
    assert open_mask_source(tmp_path).frames() == [0]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"chunk_frames": 501}, "a chunk holds 1 to 500 frames, not 501"),
    ({"name": "a/b"}, "is not a plain file name"),
    ({"video_size": (8, 8)}, "the mask of frame 0 is 16x12, the video 8x8"),
    ({"first_number": -1}, "frame ids start at 0 or more"),
])
def test_bad_requests_fail_naming_the_folder(tmp_path, kwargs, message):
    arguments = {"name": "clip", "video_size": SIZE, **kwargs}
    with pytest.raises(WriteError, match=message) as caught:
        drain(export_celantur_chunks(FakeMasks([0]), tmp_path, **arguments))
    assert caught.value.path == tmp_path


def test_no_masks_is_an_error(tmp_path):
    with pytest.raises(WriteError, match="no frame had a mask"):
        drain(export_celantur_chunks(FakeMasks([]), tmp_path, "clip", video_size=SIZE))
