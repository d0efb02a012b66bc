"""Mask videos (ClearML's mp4 masks): colours snapped to the legend, damage reported."""

import json

import numpy as np
import pytest

from tests.video_clips import FRAMES, SIZE, write_clip
from viewer.core.errors import ReadError
from viewer.core.formats.color_lookup import pack_rgb
from viewer.core.video import MaskVideo, open_mask_source, read_legend
from viewer.core.video.color_snap import ColorSnapper, pack

LEGEND = {"background": [0, 0, 0], "person": [220, 20, 60], "car": [0, 0, 142],
          "tree": [107, 142, 35]}
COLORS = np.array(list(LEGEND.values()), np.uint8)


def class_map(i: int) -> np.ndarray:
    """Frame i: blocks of the legend's classes that shift with the frame number."""
    width, height = SIZE
    rows = np.arange(height)[:, None] // 12
    cols = (np.arange(width)[None, :] + i) // 16
    return ((rows + cols) % len(LEGEND)).astype(np.uint8)


@pytest.fixture(scope="module")
def mask_video(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clearml")
    (folder / "_mask_legend.json").write_text(json.dumps(LEGEND))
    return write_clip(folder / "masks.mp4", [COLORS[class_map(i)] for i in range(FRAMES)])


def near_edges(labels: np.ndarray, reach: int = 2) -> np.ndarray:
    """Pixels within ``reach`` of a class edge, where 4:2:0 chroma smears colours."""
    edges = np.zeros_like(labels, bool)
    edges[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edges[1:, :] |= labels[1:, :] != labels[:-1, :]
    near = np.zeros_like(edges)
    for dr in range(-reach, reach + 1):
        for dc in range(-reach, reach + 1):
            near |= np.roll(np.roll(edges, dr, 0), dc, 1)
    return near


def test_codec_damaged_colours_snap_back_to_the_legend(mask_video):
    source = open_mask_source(mask_video, video_size=SIZE)
    assert isinstance(source, MaskVideo) and source.frames() == list(range(FRAMES))
    for i in (0, 17, 46):
        seg = source.mask_for(i)
        truth = class_map(i)
        assert (seg.labels == truth).mean() > 0.95   # small frame: edges are a large share
        inside = ~near_edges(truth)
        np.testing.assert_array_equal(seg.labels[inside], truth[inside])
        details = seg.provenance.details
        assert details["frame"] == i and details["snapped_pixels"] > 0
        assert "snapped to the nearest" in details["warnings"][0]
    rows = {s.label: s for s in seg.table}
    assert rows["person"].color == (220, 20, 60) and rows["person"].source_value == (220, 20, 60)
    assert not rows["background"].visible and rows["car"].attributes["labels"] == ["car"]
    summary = source.summary()
    assert "in 3 frames were not exactly a legend colour" in summary[0]
    # Far pixels only where 4:2:0 blends two classes: the interiors matched exactly above.
    assert "blends at class edges" in summary[1]
    assert source.mask_for(FRAMES) is None
    source.close()


def test_colours_missing_from_the_legend_are_reported_as_far(mask_video, tmp_path):
    legend = tmp_path / "mask_labels.json"
    legend.write_text(json.dumps({"_all_": [{"value": [0, 0, 0], "labels": ["background"]},
                                            {"value": [220, 20, 60], "labels": ["person"]}]}))
    source = MaskVideo(mask_video, legend=legend)
    seg = source.mask_for(0)
    assert {s.label for s in seg.table} <= {"background", "person"}
    # Half the classes are missing: far more pixels are far than edge blends explain.
    assert seg.provenance.details["far_pixels"] > 0.4 * seg.labels.size
    assert "colours mask_labels.json lacks" in source.summary()[1]
    source.close()


def test_a_mask_video_needs_a_legend(tmp_path):
    video = write_clip(tmp_path / "alone.mp4", [COLORS[class_map(0)]] * 2)
    with pytest.raises(ReadError, match=r"alone\.mp4: a mask video needs its colour legend"):
        MaskVideo(video)
    bad = tmp_path / "legend.json"
    bad.write_text("{}")
    with pytest.raises(ReadError, match=r"legend\.json: the legend lists no colours"):
        read_legend(bad)


def test_the_snapper_finds_the_nearest_colour_once_per_colour():
    snapper = ColorSnapper([[0, 0, 0], [255, 0, 0], [250, 0, 0]], tolerance=24)
    rgb = np.array([[[0, 0, 0], [250, 0, 0], [200, 10, 0], [3, 4, 0], [90, 90, 90]]], np.uint8)
    result = snapper.snap(rgb)
    assert result.rows.tolist() == [[0, 2, 2, 0, 0]]
    assert (result.changed_pixels, result.far_pixels, result.max_error) == (3, 2, 156)
    again = snapper.snap(rgb)        # every colour known now: the same answer from the table
    assert again.rows.tolist() == result.rows.tolist()
    tie = ColorSnapper([[10, 0, 0], [20, 0, 0]], tolerance=24).snap(
        np.array([[[15, 0, 0]]], np.uint8))
    assert tie.rows.tolist() == [[0]]  # a tie goes to the first legend row


def test_packing_matches_the_formats_packing():
    rgb = np.random.default_rng(3).integers(0, 256, (7, 9, 3), dtype=np.uint8)
    np.testing.assert_array_equal(pack(rgb), pack_rgb(rgb))
