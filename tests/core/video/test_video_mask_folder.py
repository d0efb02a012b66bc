"""Per-frame mask files matched to video frames by the number in their names."""

import numpy as np
import pytest
from PIL import Image

from tests.video_clips import FRAMES, SIZE, SQUARE_ROWS, frame_number, square_labels
from viewer.core.errors import ReadError
from viewer.core.video import MaskFolder, MaskSource, frame_numbers, open_mask_source, open_video


def save_png(path, labels):
    Image.fromarray(labels).save(path)
    return path


@pytest.mark.parametrize(("stems", "numbers"), [
    (["frame_0001", "frame_0002", "frame_0010"], [1, 2, 10]),
    (["clip3_frame_0012_mask", "clip3_frame_0013_mask"], [12, 13]),   # the constant 3 is skipped
    (["f_0001_v2", "f_0002_v2"], [1, 2]),
    (["00000100", "00000101"], [100, 101]),
    (["only_7"], [7]),
    (["frame_1", "notes"], [1, None]),
])
def test_frame_numbers_take_the_digits_that_change(stems, numbers):
    assert frame_numbers(stems) == numbers


def test_masks_line_up_with_their_frames(tmp_path, clip):
    # ffmpeg-style numbering from 1, a mask for every third frame, a sidecar and a
    # text file that must be left alone.
    for i in range(0, FRAMES, 3):
        save_png(tmp_path / f"mask_{i + 1:05d}.png", square_labels(i))
    (tmp_path / "mask_00001.segview.json").write_text("{}")
    (tmp_path / "class_names.txt").write_text("background\nsquare\n")
    with open_video(clip) as video:
        source = open_mask_source(tmp_path, video_size=video.size, first_number=1)
        assert isinstance(source, MaskFolder) and isinstance(source, MaskSource)
        assert source.frames() == list(range(0, FRAMES, 3))
        for i in (0, 3, 21, 45):
            seg = source.mask_for(i)
            assert frame_number(video.frame(i)) == i
            cols = np.flatnonzero(seg.labels[SQUARE_ROWS[0]])
            assert cols[0] == i, f"the mask of frame {i} marks column {cols[0]}"
            assert seg.table[1].label == "square"
        assert source.mask_for(1) is None and source.mask_for(1000) is None
        assert source.mask_for(3) is not source.mask_for(3)    # fresh objects: safe to edit
        assert "16 mask files" in source.summary()[0]


def test_other_formats_and_smaller_masks_are_read_through_the_registry(tmp_path):
    for i in range(3):
        np.save(tmp_path / f"f{i}.npy", square_labels(i)[::2, ::2].astype(np.int32))
    source = MaskFolder(tmp_path, video_size=SIZE)
    seg = source.mask_for(2)
    assert seg.shape == (48, 64) and seg.provenance.format == "label-npy"
    assert "upscaled_from" in seg.provenance.details


def test_a_pattern_picks_one_kind_of_file(tmp_path):
    for i in range(2):
        save_png(tmp_path / f"frame_{i}.png", square_labels(i))
        save_png(tmp_path / f"frame_{i}_other.png", square_labels(i, value=2))
    with pytest.raises(ReadError, match=r"frame_0\.png and frame_0_other\.png are both frame 0"):
        MaskFolder(tmp_path)
    source = MaskFolder(tmp_path, pattern="*_other.png")
    assert source.mask_for(1).labels.max() == 2


def test_folders_without_masks_say_so(tmp_path):
    (tmp_path / "readme.txt").write_text("nothing here")
    save_png(tmp_path / "legend.png", np.zeros((4, 4), np.uint8))  # no number in the name
    with pytest.raises(ReadError, match="no mask files named with a frame number") as info:
        open_mask_source(tmp_path)
    assert info.value.path == tmp_path
    with pytest.raises(ReadError, match="file not found"):
        open_mask_source(tmp_path / "absent")
    with pytest.raises(ReadError, match="is not a source of per-frame masks"):
        open_mask_source(tmp_path / "readme.txt")


def test_a_mask_larger_than_the_video_names_the_file(tmp_path):
    save_png(tmp_path / "m_0.png", np.zeros((96, 128), np.uint8))
    source = MaskFolder(tmp_path, video_size=SIZE)
    with pytest.raises(ReadError, match=r"m_0\.png: mask is 128x96 but the image is 64x48"):
        source.mask_for(0)
