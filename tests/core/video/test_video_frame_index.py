"""The frame index (timestamps in display order) and the frame cache, without a file."""

from fractions import Fraction

import numpy as np
import pytest

from viewer.core.video import FrameCache, FrameIndex


def test_packets_in_decode_order_become_frames_in_display_order():
    # I0 P3 B1 B2 I6 B4 B5 as an encoder with B-frames sends them (pts in 1/25 s units of 512).
    packets = [(0, True), (1536, False), (512, False), (1024, False), (3072, True),
               (2048, False), (2560, False)]
    index = FrameIndex.from_packets(packets, Fraction(1, 12800))
    assert index.pts.tolist() == [0, 512, 1024, 1536, 2048, 2560, 3072]
    assert index.keyframes.tolist() == [0, 6]
    assert [index.position(p) for p in (0, 1536, 3072, 100)] == [0, 3, 6, None]
    assert [index.keyframe_before(i) for i in range(7)] == [0, 0, 0, 0, 0, 0, 6]
    assert index.time_of(3) == pytest.approx(0.12) and index.fps() == pytest.approx(25.0)


def test_seek_points_go_back_one_keyframe_at_a_time_and_end_at_the_start():
    index = FrameIndex(np.arange(40, dtype=np.int64), np.array([0, 10, 20, 30]), Fraction(1, 10))
    assert list(index.seek_points(25)) == [20, 10, 0]
    assert list(index.seek_points(5)) == [0]


def test_a_stream_that_does_not_start_on_a_keyframe_seeks_from_its_start():
    index = FrameIndex.from_packets([(10, False), (11, False), (12, True)], Fraction(1, 30))
    assert index.keyframe_before(1) == 0 and index.keyframe_before(2) == 2
    assert index.time_of(0) == 0.0  # times count from the first frame, not from pts 0


@pytest.mark.parametrize("packets", [
    [(0, True), (None, False)],            # a timestamp missing
    [(0, True), (512, False), (512, False)],  # repeated: frames could not be told apart
    [],
])
def test_unusable_timestamps_give_no_index(packets):
    assert FrameIndex.from_packets(packets, Fraction(1, 25)) is None


def test_index_at_is_the_frame_on_screen():
    index = FrameIndex(np.array([100, 101, 103, 110]), np.array([0]), Fraction(1, 10))
    assert [index.index_at(t) for t in (-1, 0, 0.05, 0.1, 0.29, 0.3, 0.99, 1.0, 50)] == \
        [0, 0, 0, 1, 1, 2, 2, 3, 3]


def test_frame_cache_drops_the_least_recently_used_over_its_budget():
    frame = np.zeros((10, 10, 3), np.uint8)          # 300 bytes
    cache = FrameCache(max_bytes=1000)
    for i in range(3):
        cache.put(i, frame.copy())
    assert cache.get(0) is not None                  # 0 is now the most recent
    cache.put(3, frame.copy())
    assert [i for i in range(4) if i in cache] == [0, 2, 3] and cache.nbytes == 900
    cache.put(9, np.zeros((20, 20, 3), np.uint8))    # larger than the budget: not kept
    assert 9 not in cache and len(cache) == 3
    cache.put(2, frame.copy())                       # replacing keeps the count right
    assert cache.nbytes == 900
    cache.clear()
    assert len(cache) == 0 and cache.nbytes == 0
    with pytest.raises(ValueError):
        FrameCache(-1)
