"""The real .avi in ../shared/samples (Datumaro's MJPEG fixture), when it is there."""

import random

import numpy as np
import pytest

from viewer.core.video import open_video


@pytest.fixture
def sample_avi(shared_samples):
    found = sorted(shared_samples.rglob("*.avi"))
    if not found:
        pytest.skip("no .avi in ../shared/samples")
    return found[0]


def test_the_sample_avi_reads_and_seeks_exactly(sample_avi):
    with open_video(sample_avi, cache_mb=0) as video:
        assert video.frame_count >= 2 and video.fps > 0
        forward = [rgb.copy() for _, rgb in video.frames()]
        assert forward[0].shape == (video.size[1], video.size[0], 3)
        order = random.Random(1).choices(range(video.frame_count), k=3 * video.frame_count)
        for i in order:
            np.testing.assert_array_equal(video.frame(i), forward[i], err_msg=f"frame {i}")
        assert [video.index_at(video.time_of(i)) for i in range(video.frame_count)] == \
            list(range(video.frame_count))


def test_opencv_reads_the_same_frames(sample_avi):
    with open_video(sample_avi) as pyav, open_video(sample_avi, backend="opencv") as cv:
        assert (cv.frame_count, cv.size) == (pyav.frame_count, pyav.size)
        for i in (pyav.frame_count - 1, 0, 1):
            # Same decoder; only the YUV -> RGB conversion may round differently.
            difference = np.abs(cv.frame(i).astype(int) - pyav.frame(i).astype(int))
            assert difference.mean() < 3, f"frame {i}"
