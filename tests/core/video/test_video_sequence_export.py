"""Per-frame masks exported as a sequence of files plus one metadata JSON, read back exactly."""

import json

import numpy as np
import pytest
from PIL import Image

from tests.video_clips import SIZE, square_labels
from viewer.core import metadata
from viewer.core.errors import WriteError
from viewer.core.formats.names import SIDECAR_SUFFIX
from viewer.core.formats.registry import FORMATS, read_mask
from viewer.core.segmentation import Segmentation
from viewer.core.tasks import drain
from viewer.core.video import MaskFolder, open_mask_source, open_video
from viewer.core.video.sequence_export import export_mask_sequence, sequence_metadata_path

#: Frames of the clip that have a mask file; the square's value cycles 1..3.
MASKED = [0, 1, 5, 9, 30]
NAMES = "background\nperson\ncar\ntree\n"


@pytest.fixture(scope="module")
def masks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("masks")
    for i in MASKED:
        Image.fromarray(square_labels(i, value=1 + i % 3)).save(folder / f"shot_{i:04d}.png")
    (folder / "class_names.txt").write_text(NAMES)
    return folder


def values(seg: Segmentation) -> np.ndarray:
    return seg.to_values(np.int64)


@pytest.mark.parametrize("format_name", ["index-png", "label-npy", "cityscapes-labelids",
                                         "deepstream-bin"])
def test_index_formats_read_back_with_the_same_values(clip, masks, tmp_path, format_name):
    out = tmp_path / "out"
    with open_video(clip) as video:
        source = MaskFolder(masks, video_size=video.size)
        steps = []
        result = drain(export_mask_sequence(source, format_name, out, video=video),
                       steps.append)
    assert [p.done for p in steps] == list(range(len(MASKED) + 1))
    assert steps[-1].total == len(MASKED)
    assert sorted(result.mask_files) == MASKED
    assert result.metadata == sequence_metadata_path(out, "numbered") == result.files[-1]
    for i, path in result.mask_files.items():
        assert path.name.startswith(f"numbered_{i:06d}")
    back = open_mask_source(out, video_size=SIZE, format_name=format_name,
                            pattern=result.pattern)
    assert isinstance(back, MaskFolder) and back.frames() == MASKED
    for i in MASKED:
        np.testing.assert_array_equal(values(back.mask_for(i)), values(source.mask_for(i)))
    # One metadata JSON for the sequence, no per-frame sidecar.
    assert [p.name for p in out.rglob(f"*{SIDECAR_SUFFIX}")] == ["numbered.segview.json"]


@pytest.mark.parametrize("format_name", ["camvid", "voc-rgb", "rgb-legend", "cvat-mask"])
def test_colour_formats_read_back_with_the_same_labels(clip, masks, tmp_path, format_name):
    with open_video(clip) as video:
        source = MaskFolder(masks, video_size=video.size)
        result = drain(export_mask_sequence(source, format_name, tmp_path / "out", video=video,
                                            stem="shot"))
    assert result.lost == []
    back = result.open(video_size=SIZE)
    assert back.frames() == MASKED
    for i in MASKED:
        want, got = source.mask_for(i), back.mask_for(i)
        labels = {s.id: s.label for s in got.table}
        got_labels = np.vectorize(labels.get)(got.labels)
        want_labels = np.vectorize({s.id: s.label for s in want.table}.get)(want.labels)
        np.testing.assert_array_equal(got_labels, want_labels)


def test_the_metadata_has_one_record_per_frame(clip, masks, tmp_path):
    with open_video(clip) as video:
        source = MaskFolder(masks, video_size=video.size)
        result = drain(export_mask_sequence(source, "camvid", tmp_path, video=video,
                                            frames=[30, 5, 2, 5], palette=("voc", "VOC")))
        times = {i: video.time_of(i) for i in (5, 30)}
    doc = metadata.read(result.metadata)
    assert doc["format"] == "camvid" and doc["source_image"]["file_name"] == clip.name
    assert doc["palette"] == {"id": "voc", "title": "VOC"}
    assert (doc["width"], doc["height"]) == SIZE
    # Frame 2 has no mask: skipped. The shared colour table is listed with each frame.
    assert [f["frame"] for f in doc["frames"]] == [5, 30]
    assert doc["frames"][1]["mask_files"] == ["numbered_000030.png", "label_colors.txt"]
    assert [f["timestamp_s"] for f in doc["frames"]] == [times[5], times[30]]
    labels = {s["label"] for f in doc["frames"] for s in f["segments"]}
    assert labels == {"background", "tree", "person"}
    assert [p.name for p in result.files] == ["numbered_000005.png", "label_colors.txt",
                                              "numbered_000030.png", "numbered.segview.json"]


def test_sidecars_on_request_restore_labels_per_file(masks, tmp_path):
    source = MaskFolder(masks)
    result = drain(export_mask_sequence(source, "label-npy", tmp_path, frames=[1, 5],
                                        sidecars=True))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "frame.segview.json", "frame_000001.npy", "frame_000001.segview.json",
        "frame_000005.npy", "frame_000005.segview.json"]
    seg = read_mask(result.mask_files[5])
    assert {s.label for s in seg.table} == {"background", "tree"}
    doc = json.loads(result.metadata.read_text())
    assert "source_image" not in doc  # no video given
    assert doc["frames"][0]["mask_files"] == ["frame_000001.npy"]


def test_losses_are_reported_once_over_all_frames(masks, tmp_path):
    source = MaskFolder(masks)
    result = drain(export_mask_sequence(source, "celantur-binary", tmp_path, stem="c"))
    assert result.pattern == "c_*_bin_mask.png"
    assert result.lost == [
        f"segment {name!r} (value {value}) is written as white (255) and reads back as "
        "'anonymised'" for name, value in (("person", 1), ("car", 2), ("tree", 3))]
    assert metadata.read(result.metadata)["lost"] == result.lost
    back = result.open()
    for i in MASKED:
        np.testing.assert_array_equal(back.mask_for(i).labels > 0, source.mask_for(i).labels > 0)


def test_every_writable_format_names_files_that_read_back_by_frame(masks, tmp_path):
    """Side files included (legends, layouts, Celantur JSON): the pattern picks the masks."""
    source = MaskFolder(masks)
    for spec in (f for f in FORMATS if f.write is not None):
        result = drain(export_mask_sequence(source, spec.name, tmp_path / spec.name,
                                            frames=[0, 9]))
        assert result.open().frames() == [0, 9], spec.name


def test_bad_requests_fail_naming_the_file(clip, masks, tmp_path):
    source = MaskFolder(masks)
    read_only = next(f.name for f in FORMATS if f.write is None)
    with pytest.raises(WriteError, match="read-only"):
        drain(export_mask_sequence(source, read_only, tmp_path))
    with pytest.raises(WriteError, match="no frame had a mask"):
        drain(export_mask_sequence(source, "index-png", tmp_path, frames=[2, 3]))
    with pytest.raises(WriteError, match="not a plain name"):
        drain(export_mask_sequence(source, "index-png", tmp_path, stem="a/b"))
    small = MaskFolder(masks)
    small.mask_for = lambda i: Segmentation.from_values(np.zeros((4, 4), np.uint8))
    with open_video(clip) as video, pytest.raises(WriteError) as caught:
        drain(export_mask_sequence(small, "index-png", tmp_path, video=video))
    assert caught.value.path == clip and "frame 0" in str(caught.value)
    assert "4x4, the video 64x48" in str(caught.value)
