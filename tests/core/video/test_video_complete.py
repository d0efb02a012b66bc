"""A video cut short is said so with the counts, never read as whole (issue 16).

Real clips made with PyAV, their bytes cut to 10 % or 90 %: the container
still declares all 48 frames. The frames that do come out must be the right
ones (each carries its number in its pixels).
"""

from contextlib import closing

import av
import numpy as np
import pytest
from PIL import Image

from tests.video_clips import FRAMES, frame_number, numbered_frame, write_clip
from viewer.core.tasks import drain
from viewer.core.video.complete import PartialVideoError, refuse_short, whole_video_frames
from viewer.core.video.export import export_overlay_video
from viewer.core.video.mask_source import open_mask_source
from viewer.core.video.readers import open_video

#: name, muxer options: MP4 with its index first (cut, it still opens), Matroska, AVI
#: (whose index idx1 comes last: cut, it seeks only by reading on).
CONTAINERS = [("clip.mp4", {"movflags": "faststart"}), ("clip.mkv", {}), ("clip.avi", {})]


SIZE = (160, 120)


def frames():
    """Numbered frames (the top half) with noise below, so that a tenth of the file is
    well past its header."""
    rng = np.random.default_rng(0)
    for i in range(FRAMES):
        rgb = numbered_frame(i, SIZE)
        rgb[SIZE[1] // 2:] = rng.integers(0, 256, rgb[SIZE[1] // 2:].shape, np.uint8)
        yield rgb


@pytest.fixture(scope="module", params=CONTAINERS, ids=lambda c: c[0])
def whole(request, tmp_path_factory):
    name, options = request.param
    return write_clip(tmp_path_factory.mktemp("whole") / name, frames(), options=options)


def cut(path, fraction, folder):
    data = path.read_bytes()
    out = folder / f"cut{round(fraction * 100)}{path.suffix}"
    out.write_bytes(data[: int(len(data) * fraction)])
    return out


def decodable(path) -> int:
    """Frames FFmpeg's own decoder gives, in order, before the file ends or breaks."""
    count = 0
    with av.open(str(path)) as container:
        try:
            for _ in container.decode(container.streams.video[0]):
                count += 1
        except av.error.FFmpegError:
            pass
    return count


def test_a_whole_clip_is_read_whole(whole):
    with open_video(whole) as video:
        assert video.frame_count == video.info.declared_frames == FRAMES
        notes = []
        frames = list(whole_video_frames(video, notes=notes))
        assert [i for i, _ in frames] == list(range(FRAMES)) and notes == []


@pytest.mark.parametrize("fraction", [0.1, 0.9])
def test_a_cut_clip_is_refused_with_the_counts(whole, tmp_path, fraction):
    path = cut(whole, fraction, tmp_path)
    with open_video(path) as video:
        assert video.info.declared_frames == FRAMES and video.frame_count < FRAMES
        with pytest.raises(PartialVideoError) as info:
            next(whole_video_frames(video))
    assert info.value.decoded is None and info.value.expected == FRAMES
    assert str(info.value) == (f"{path}: holds {video.frame_count} of the {FRAMES} frames its "
                               "container declares (the file is cut short?)")


@pytest.mark.parametrize("fraction", [0.1, 0.9])
def test_allowed_partial_gives_the_right_frames_and_says_how_many(whole, tmp_path, fraction):
    path = cut(whole, fraction, tmp_path)
    notes = []
    with open_video(path) as video:
        got = [(i, frame_number(rgb)) for i, rgb in
               whole_video_frames(video, allow_partial=True, notes=notes)]
    count = decodable(path)
    assert 0 < count < FRAMES
    assert got == [(i, i) for i in range(count)]
    assert notes == [f"warning: decoded {count} of {FRAMES} declared frames; the rest of "
                     f"{path.name} cannot be read (cut short?)"]


def test_a_cut_avi_still_seeks_to_its_first_frames(tmp_path):
    # Without its index an AVI's seeks land past the frame asked for: the reader
    # starts over from the first frame instead of failing on frame 0.
    path = cut(write_clip(tmp_path / "clip.avi", frames()), 0.9, tmp_path)
    with open_video(path) as video:
        for index in (20, 3, 0, 30, 5):
            assert frame_number(video.frame(index)) == index


def test_a_cut_found_only_by_decoding_names_the_counts(tmp_path):
    # OpenCV takes the header's count as the frame count, so only decoding finds the cut.
    path = cut(write_clip(tmp_path / "clip.mkv", frames()), 0.5, tmp_path)
    count = decodable(path)
    with open_video(path, backend="opencv") as video:
        assert video.frame_count == video.info.declared_frames == FRAMES
        refuse_short(video)  # nothing to see from the header
        with pytest.raises(PartialVideoError) as info:
            for _ in whole_video_frames(video):
                pass
        assert str(info.value) == (f"{path}: decoded {count} of {FRAMES} declared frames (the "
                                   "rest of the file cannot be read: cut short?)")
        assert info.value.decoded == count
        notes = []
        assert len(list(whole_video_frames(video, allow_partial=True, notes=notes))) == count
        assert notes and notes[0].startswith(f"warning: decoded {count} of {FRAMES}")


def test_an_overlay_export_of_a_cut_clip(tmp_path):
    path = cut(write_clip(tmp_path / "clip.mkv", frames()), 0.9, tmp_path)
    masks = tmp_path / "masks"
    masks.mkdir()
    for i in range(FRAMES):
        Image.fromarray(np.full(SIZE[::-1], i % 2, np.uint8)).save(masks / f"clip_{i:04d}.png")
    out = tmp_path / "overlay.mp4"
    with open_video(path) as video, closing(open_mask_source(masks, video_size=SIZE)) as source:
        with pytest.raises(PartialVideoError, match="holds .* of the 48 frames"):
            drain(export_overlay_video(video, source, out))
        assert not out.exists()
        result = drain(export_overlay_video(video, source, out, allow_partial=True))
    count = decodable(path)
    assert result.frames == count == decodable(out)
    assert any(n.startswith(f"warning: decoded {count} of 48") for n in result.notes)
