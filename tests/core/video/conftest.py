"""Clips shared by the video tests, made once per session with PyAV."""

import pytest

from tests.video_clips import numbered_frames, write_clip


@pytest.fixture(scope="session")
def clip(tmp_path_factory):
    """48 numbered 64x48 frames at 25 fps, keyframe every 12, with B-frames."""
    return write_clip(tmp_path_factory.mktemp("clip") / "numbered.mp4", numbered_frames())
