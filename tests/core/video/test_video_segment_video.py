"""Segmenting a video frame by frame with the bundled selfie model: masks, metadata, overlay."""

import numpy as np
import pytest
from PIL import Image

from tests.video_clips import write_clip
from viewer import _paths
from viewer.core import metadata
from viewer.core.errors import WriteError
from viewer.core.inference.registry import find_model
from viewer.core.inference.runner import ModelRunner
from viewer.core.tasks import drain
from viewer.core.video import open_video
from viewer.core.video.segment_video import segment_video

FRAMES = 3


@pytest.fixture(scope="module")
def walk(tmp_path_factory):
    """The astronaut sliding right, 3 frames of 96x72 (small: the model runs on each)."""
    photo = np.asarray(Image.open(_paths.sample_image()).convert("RGB").resize((96, 72)))
    frames = [np.roll(photo, 6 * i, axis=1) for i in range(FRAMES)]
    return write_clip(tmp_path_factory.mktemp("walk") / "walk.mp4", frames)


@pytest.fixture(scope="module")
def runner():
    return ModelRunner(find_model("selfie"))


def test_every_frame_is_segmented_once_and_written(walk, runner, tmp_path, monkeypatch):
    overlay = tmp_path / "overlay.mp4"
    steps, calls = [], []
    run = runner.run
    monkeypatch.setattr(runner, "run", lambda rgb, **kw: calls.append(kw) or run(rgb, **kw))
    with open_video(walk) as video:
        result = drain(segment_video(runner, video, "label-npy", tmp_path / "masks",
                                     overlay=overlay, alpha=1.0), steps.append)
        assert calls == [{"threshold": None, "source": walk}] * FRAMES
        expected = [runner.run(video.frame(i)) for i in range(FRAMES)]
    assert [s.done for s in steps] == list(range(FRAMES + 1)) and steps[0].total == FRAMES
    assert sorted(result.mask_files) == list(range(FRAMES))
    back = result.open(video_size=(96, 72))
    for i in range(FRAMES):
        np.testing.assert_array_equal(back.mask_for(i).to_values(), expected[i].to_values())
    assert any((e.to_values() == 1).any() for e in expected)  # the model found the person
    doc = metadata.read(result.metadata)
    assert doc["overlay_file"] == "../overlay.mp4"
    assert doc["palette"]["id"] == "model:selfie"
    assert doc["provenance"]["details"]["model"]["id"] == "selfie"
    assert [f["frame"] for f in doc["frames"]] == list(range(FRAMES))
    with open_video(overlay) as rendered:
        assert (rendered.frame_count, rendered.size) == (FRAMES, (96, 72))
        person = expected[1].to_values() == 1
        colour = np.array(doc["frames"][1]["segments"][1]["color"])
        inside = rendered.frame(1)[person].astype(int)
        assert np.abs(np.median(inside, axis=0) - colour).max() <= 12


def test_a_bad_overlay_name_fails_before_any_mask_is_written(walk, runner, tmp_path):
    with open_video(walk) as video, pytest.raises(WriteError, match="cannot write a .avi"):
        drain(segment_video(runner, video, "index-png", tmp_path / "masks",
                            overlay=tmp_path / "o.avi"))
    assert not (tmp_path / "masks").exists()
