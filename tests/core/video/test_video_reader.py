"""Reading real clips: facts, exact seeking in every direction, timing, errors."""

import random

import av
import numpy as np
import pytest

from tests.video_clips import FRAMES, SIZE, codec, frame_number, numbered_frames, write_clip
from viewer.core.errors import ReadError
from viewer.core.video import open_video


@pytest.fixture
def reader(clip):
    # No cache: every access below really seeks and decodes.
    with open_video(clip, cache_mb=0) as video:
        yield video


def test_facts_come_from_the_file(reader, clip):
    info = reader.info
    assert (info.frame_count, info.size, info.fps) == (FRAMES, SIZE, 25.0)
    assert info.codec in ("h264", "mpeg4") and info.backend == "pyav"
    assert info.path == clip and info.duration_s == pytest.approx(48 / 25)


def test_a_forward_pass_gives_every_frame_in_order(reader):
    numbers = [frame_number(rgb) for _, rgb in reader.frames()]
    assert numbers == list(range(FRAMES))
    first = reader.frame(0)
    assert first.shape == (48, 64, 3) and first.dtype == np.uint8


def test_random_seeks_land_on_the_exact_frame(reader):
    order = random.Random(6).choices(range(FRAMES), k=150)
    assert [frame_number(reader.frame(i)) for i in order] == order


def test_backward_seeks_one_frame_at_a_time(reader):
    backwards = list(range(FRAMES - 1, -1, -1))
    assert [frame_number(reader.frame(i)) for i in backwards] == backwards


def test_forward_jumps_across_keyframes_and_single_steps(reader):
    # 0 -> 11 decodes on; 11 -> 30 crosses two keyframes; then steps and a jump back.
    path = [0, 11, 30, 31, 32, 47, 12, 13, 1, 24, 23]
    assert [frame_number(reader.frame(i)) for i in path] == path


def test_frame_index_and_time_agree(reader):
    for i in range(FRAMES):
        assert reader.time_of(i) == pytest.approx(i / 25)
        assert reader.index_at(reader.time_of(i)) == i
    assert reader.index_at(0.05) == 1          # 50 ms: frame 1 (40 ms) is on screen
    assert reader.index_at(-3) == 0 and reader.index_at(1e6) == FRAMES - 1


def test_variable_frame_rate_uses_real_timestamps(tmp_path):
    stamps = [0, 1, 2, 5, 6, 10, 11, 12, 20, 21]  # in 1/25 s
    path = tmp_path / "vfr.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec(), rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for rgb, pts in zip(numbered_frames(len(stamps)), stamps, strict=True):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = pts
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    with open_video(path, cache_mb=0) as video:
        assert video.frame_count == len(stamps)
        assert [video.time_of(i) for i in range(len(stamps))] == pytest.approx(
            [s / 25 for s in stamps])
        # 0.42 s: frame 5 (0.40 s) is on screen; 0.79 s: frame 7 (0.48 s) still is.
        assert video.index_at(0.42) == 5 and video.index_at(0.79) == 7
        assert video.index_at(0.8) == 8
        order = [9, 3, 0, 7, 8, 2]
        assert [frame_number(video.frame(i)) for i in order] == order


def test_streams_without_timestamps_are_read_by_counting(reader):
    reader._index = None  # what a stream without usable timestamps gets
    order = [5, 6, 2, 40, 39, 0]
    assert [frame_number(reader.frame(i)) for i in order] == order


def test_the_cache_serves_repeats_read_only_and_stays_in_budget(clip):
    with open_video(clip, cache_mb=0.05) as video:   # 52 KB: five 9 KB frames
        first = video.frame(3)
        assert video.frame(3) is first
        with pytest.raises(ValueError, match="read-only"):
            first[0, 0] = 1
        for i in range(20):
            video.frame(i)
        assert len(video.cache) == 5 and video.cache.nbytes <= video.cache.max_bytes
        assert 3 not in video.cache and 19 in video.cache


def test_opencv_fallback_reads_and_seeks_the_same_clip(clip):
    with open_video(clip, backend="opencv", cache_mb=0) as video:
        assert (video.frame_count, video.size, video.fps) == (FRAMES, SIZE, 25.0)
        assert video.info.backend == "opencv"
        order = [0, 1, 2, 30, 10, 47, 46, 12]
        assert [frame_number(video.frame(i)) for i in order] == order


def test_outside_frames_and_closed_readers_are_refused(clip):
    video = open_video(clip)
    with pytest.raises(IndexError, match="frame 48 is outside 0..47"):
        video.frame(48)
    video.close()
    video.close()
    with pytest.raises(ReadError, match="closed"):
        video.frame(0)


@pytest.mark.parametrize("backend", ["pyav", "opencv"])
def test_bad_files_name_the_file_and_the_problem(tmp_path, clip, backend):
    with pytest.raises(ReadError, match=r"missing\.mp4: file not found"):
        open_video(tmp_path / "missing.mp4", backend=backend)
    with pytest.raises(ReadError, match="is a folder, not a video"):
        open_video(tmp_path, backend=backend)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 20)
    with pytest.raises(ReadError, match=r"notes\.mp4: not a video") as info:
        open_video(text, backend=backend)
    assert info.value.path == text
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(clip.read_bytes()[:600])  # the index (moov) is at the end: gone
    with pytest.raises(ReadError, match=r"truncated\.mp4: "):
        open_video(truncated, backend=backend)


def test_a_file_without_video_says_so(tmp_path):
    path = tmp_path / "tone.wav"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16",
                                           layout="mono")
        frame.sample_rate = 8000
        container.mux(stream.encode(frame))
        container.mux(stream.encode())
    with pytest.raises(ReadError, match=r"tone\.wav: has no video stream"):
        open_video(path)


def test_a_single_frame_video(tmp_path):
    path = write_clip(tmp_path / "one.mp4", numbered_frames(1))
    with open_video(path) as video:
        assert video.frame_count == 1 and frame_number(video.frame(0)) == 0
        assert video.index_at(5.0) == 0
