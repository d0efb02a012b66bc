"""Overlay video export: written with PyAV, read back and checked frame by frame."""

import numpy as np
import pytest
from PIL import Image

from tests.video_clips import (
    FRAMES,
    PHOTO_GREY,
    SIZE,
    SQUARE_ROWS,
    SQUARE_WIDTH,
    frame_number,
    numbered_frames,
    square_labels,
)
from viewer.core import metadata
from viewer.core.errors import ViewerError, WriteError
from viewer.core.segmentation import Segmentation
from viewer.core.tasks import drain
from viewer.core.video import (
    MaskFolder,
    VideoWriter,
    export_overlay_video,
    h264_encoder,
    metadata_path,
    open_video,
)

ALPHA = 0.6
#: Frames without a mask file.
UNMASKED = {3, 7, 22, 40}


@pytest.fixture(scope="module")
def masks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("masks")
    for i in sorted(set(range(FRAMES)) - UNMASKED):
        Image.fromarray(square_labels(i)).save(folder / f"frame_{i:04d}.png")
    return folder


@pytest.fixture(scope="module")
def exported(clip, masks, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "overlay.mp4"
    with open_video(clip) as video:
        source = MaskFolder(masks, video_size=video.size)
        result = drain(export_overlay_video(video, source, out, alpha=ALPHA))
        colour = source.mask_for(0).table[1].color
    return result, colour


def square(rgb: np.ndarray, i: int, margin: int = 3) -> np.ndarray:
    """The inside of frame i's square (edges left out: 4:2:0 blurs colour there)."""
    r0, r1 = SQUARE_ROWS
    return rgb[r0 + margin: r1 - margin, i + margin: i + SQUARE_WIDTH - margin]


def test_the_overlay_video_has_every_frame_with_its_mask(exported):
    result, colour = exported
    assert (result.frames, result.masked_frames, result.notes) == (FRAMES, FRAMES - 4, [])
    expected = np.round((1 - ALPHA) * PHOTO_GREY + ALPHA * np.array(colour)).astype(int)
    with open_video(result.video) as video:
        assert (video.frame_count, video.size, video.fps) == (FRAMES, SIZE, 25.0)
        assert video.info.codec == "h264"
        for i, rgb in video.frames():
            assert frame_number(rgb) == i               # the top half is never masked
            inside = square(rgb, i).reshape(-1, 3).astype(int)
            want = np.full(3, PHOTO_GREY) if i in UNMASKED else expected
            assert np.abs(inside.mean(axis=0) - want).max() <= 4, f"frame {i}"
            # Beside the square the photo is untouched (the square of frame i only).
            beside = rgb[SQUARE_ROWS[0] + 3: SQUARE_ROWS[1] - 3, i + SQUARE_WIDTH + 3:]
            if beside.size:   # within codec ringing (CRF 18) of the grey
                assert abs(beside.mean() - PHOTO_GREY) <= 2, f"frame {i}"
                assert np.abs(beside.astype(int) - PHOTO_GREY).max() <= 12, f"frame {i}"


def test_the_metadata_has_one_record_per_masked_frame(exported, clip):
    result, colour = exported
    assert result.metadata == metadata_path(result.video)
    assert result.metadata.name == "overlay.segview.json"
    doc = metadata.read(result.metadata)           # validates against the schema
    frames = doc["frames"]
    assert [f["frame"] for f in frames] == sorted(set(range(FRAMES)) - UNMASKED)
    assert frames[5]["timestamp_s"] == pytest.approx(frames[5]["frame"] / 25)
    square_row = next(s for s in frames[5]["segments"] if s["id"] == 1)
    assert square_row["area"] == 14 * SQUARE_WIDTH and square_row["color"] == list(colour)
    assert square_row["bbox"]["x"] == frames[5]["frame"]
    assert doc["overlay_file"] == "overlay.mp4"
    assert doc["source_image"]["file_name"] == clip.name
    assert (doc["width"], doc["height"]) == SIZE


class WrongSizeAt:
    """A mask source whose frame ``bad`` has the wrong size."""

    def __init__(self, bad: int):
        self.bad = bad

    def frames(self):
        return list(range(FRAMES))

    def mask_for(self, i):
        shape = (10, 10) if i == self.bad else SIZE[::-1]
        return Segmentation(np.ones(shape, np.uint8))

    def summary(self):
        return []

    def close(self):
        pass


def test_a_failure_half_way_leaves_nothing_behind(clip, tmp_path):
    out = tmp_path / "overlay.mp4"
    with open_video(clip) as video, pytest.raises(ViewerError, match="mask of frame 20"):
        drain(export_overlay_video(video, WrongSizeAt(20), out))
    assert list(tmp_path.iterdir()) == []


def test_cancelling_leaves_nothing_behind(clip, tmp_path):
    out = tmp_path / "overlay.mp4"
    with open_video(clip) as video:
        task = export_overlay_video(video, WrongSizeAt(-1), out)
        for _ in range(5):
            next(task)
        task.close()                                 # what the GUI's Cancel does
    assert list(tmp_path.iterdir()) == []


def test_no_metadata_when_not_asked(clip, tmp_path):
    with open_video(clip) as video:
        result = drain(export_overlay_video(video, WrongSizeAt(-1), tmp_path / "o.mkv",
                                            write_metadata=False))
    assert result.metadata is None and [p.name for p in tmp_path.iterdir()] == ["o.mkv"]
    with open_video(result.video) as video:
        assert video.frame_count == FRAMES


def test_odd_sizes_are_padded_to_even_by_repeating_the_edge(tmp_path):
    frames = numbered_frames(3, size=(33, 25))
    with VideoWriter(tmp_path / "odd.mp4", 33, 25, 30) as writer:
        for rgb in frames:
            writer.write(rgb)
    assert writer.padded == (34, 26) and writer.frames_written == 3
    with open_video(tmp_path / "odd.mp4") as video:
        assert video.size == (34, 26) and video.fps == 30.0
        assert [frame_number(video.frame(i)[:25, :33]) for i in range(3)] == [0, 1, 2]


def test_writer_errors_name_the_file(tmp_path):
    with pytest.raises(WriteError, match=r"clip\.webm: cannot write a \.webm video"):
        VideoWriter(tmp_path / "clip.webm", 64, 48, 25)
    with pytest.raises(WriteError, match="no H.264 encoder"), \
            pytest.MonkeyPatch.context() as patch:
        patch.setattr("viewer.core.video.writer.H264_ENCODERS", ("no-such-encoder",))
        VideoWriter(tmp_path / "clip.mp4", 64, 48, 25)
    with pytest.raises(ValueError, match="expected a 64x48 RGB uint8 frame"), \
            VideoWriter(tmp_path / "clip.mp4", 64, 48, 25) as writer:
        writer.write(np.zeros((4, 4, 3), np.uint8))
    assert h264_encoder() in ("libx264", "libopenh264")
    assert [p.name for p in tmp_path.iterdir()] == []  # the bad frame abandoned the file
