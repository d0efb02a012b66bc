"""Celantur video metadata chunks as per-frame masks (boxes), doc-derived fixtures."""

import json

import numpy as np
import pytest

from tests.video_clips import SIZE
from viewer.core.errors import ReadError
from viewer.core.video import CelanturChunks, open_mask_source


def chunk_frame(frame_id: int) -> dict:
    """Frame ``frame_id`` with one face whose box starts at column ``frame_id``."""
    face = {"id": 0, "bbox": [frame_id, 10, frame_id + 8, 20], "score": 0.9,
            "type_label": "face", "is_anonymized": True}
    return {"id": frame_id, "detections": [face], "size": list(SIZE), "duration": 0.01}


def save_chunk(path, frames):
    path.write_text(json.dumps([chunk_frame(i) for i in frames]), encoding="utf-8")
    return path


def test_chunks_in_a_folder_give_each_frame_its_boxes(tmp_path):
    save_chunk(tmp_path / "clip-0-23.json", range(24))
    save_chunk(tmp_path / "clip-24-47.json", range(24, 48))
    source = open_mask_source(tmp_path, video_size=SIZE)
    assert isinstance(source, CelanturChunks) and source.frames() == list(range(48))
    for i in (0, 23, 24, 40):
        seg = source.mask_for(i)
        face = next(s for s in seg.table if s.label == "face")
        assert face.bbox == (10, i, 20, i + 8) and seg.provenance.details["frame"] == i
    assert source.mask_for(48) is None
    assert "48 frames of Celantur metadata in 2 chunks" in source.summary()[0]


def test_one_chunk_file_and_numbering_from_one(tmp_path):
    path = save_chunk(tmp_path / "clip-1-10.json", range(1, 11))
    source = open_mask_source(path, first_number=1)
    assert source.frames() == list(range(10))
    face = next(s for s in source.mask_for(0).table if s.label == "face")
    assert face.bbox[1] == 1  # frame id 1 is the video's frame 0
    np.testing.assert_array_equal(source.mask_for(4).labels.shape, (48, 64))


def test_a_frame_in_two_chunks_or_per_image_metadata_is_refused(tmp_path):
    save_chunk(tmp_path / "a-0-9.json", range(10))
    save_chunk(tmp_path / "b-5-14.json", range(5, 15))
    with pytest.raises(ReadError, match=r"b-5-14\.json: frame 5 is also in a-0-9\.json"):
        open_mask_source(tmp_path)
    image = tmp_path / "photo.json"
    image.write_text(json.dumps({"id": "photo.jpg", "detections": [], "size": [4, 4]}))
    with pytest.raises(ReadError, match="per-image Celantur metadata, not a video chunk"):
        CelanturChunks([image])
    broken = tmp_path / "clip.json"
    broken.write_text('[{"id": 0,')
    with pytest.raises(ReadError, match=r"clip\.json: JSON syntax error"):
        open_mask_source(broken)
