"""Colour masks with a colour table: camvid, voc-rgb, rgb-legend, and the shared lookup.

Real files come from Datumaro's test assets (``shared_samples``, skipped when
absent); the facts asserted about them were checked by opening the files.
"""

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from mask_compare import (  # tests/core/formats/mask_compare.py
    pixel_labels,
    same_partition,
    semantic,
)
from PIL import Image

from viewer.core.errors import ReadError, WriteError
from viewer.core.formats import color_lookup, index_png, rgb_mask
from viewer.core.formats.common import write_png
from viewer.core.palettes import builtin_palette
from viewer.core.segmentation import Kind, Segmentation

DATUMARO = "datumaro-format-assets"
SPECS = {spec.name: spec for spec in rgb_mask.FORMATS}
COLOR_FORMATS = ["camvid", "rgb-legend", "voc-rgb"]

label_maps = hnp.arrays(np.uint8, st.tuples(st.integers(1, 8), st.integers(1, 8)),
                        elements=st.integers(0, 12))
colors = st.sampled_from([(0, 0, 0), (1, 2, 3), (255, 0, 0), (0, 255, 0), (7, 7, 7),
                          (255, 255, 255)])


def rgb_file(path: Path, rgb) -> Path:
    return write_png(path, np.asarray(rgb, np.uint8))


def chosen_format(path: Path) -> str | None:
    """What the registry would pick among index-png and these formats (priority, then sniff)."""
    specs = [*index_png.FORMATS, *rgb_mask.FORMATS]
    accepted = [s for s in specs if s.read is not None and s.accepts(path)]
    return max(accepted, key=lambda s: s.priority).name if accepted else None


# -- the shared colour lookup -------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(pixels=hnp.arrays(np.uint8, st.tuples(st.integers(1, 6), st.integers(1, 6), st.just(3)),
                         elements=st.sampled_from([0, 1, 255])),
       table=st.lists(colors, max_size=5))
def test_dense_and_sorted_lookups_agree_and_find_every_colour(pixels, table):
    sorted_match = color_lookup.match_colors(pixels, table)
    dense = color_lookup.DENSE_LOOKUP_PIXELS
    try:
        color_lookup.DENSE_LOOKUP_PIXELS = 0
        dense_match = color_lookup.match_colors(pixels, table)
    finally:
        color_lookup.DENSE_LOOKUP_PIXELS = dense
    np.testing.assert_array_equal(sorted_match.rows, dense_match.rows)
    np.testing.assert_array_equal(sorted_match.unknown, dense_match.unknown)
    full = np.concatenate([np.asarray(table, np.uint8).reshape(-1, 3), sorted_match.unknown])
    np.testing.assert_array_equal(full[sorted_match.rows], pixels)
    known = sorted_match.rows < len(table)
    first = {tuple(c): i for i, c in reversed(list(enumerate(table)))}
    assert all(first[tuple(p)] == r for p, r in zip(pixels[known], sorted_match.rows[known],
                                                     strict=True))


def test_large_image_takes_the_dense_path_with_the_same_answer():
    rng = np.random.default_rng(0)
    palette = np.array([[0, 0, 0], [10, 20, 30], [200, 1, 1], [9, 9, 9]], np.uint8)
    pixels = palette[rng.integers(0, 4, (600, 600))]
    assert pixels.shape[0] * pixels.shape[1] >= color_lookup.DENSE_LOOKUP_PIXELS
    match = color_lookup.match_colors(pixels, palette[:3])
    assert match.unknown.tolist() == [[9, 9, 9]]
    np.testing.assert_array_equal(np.concatenate([palette[:3], match.unknown])[match.rows], pixels)


# -- camvid ---------------------------------------------------------------------------
def test_camvid_reads_label_colors_one_folder_up_with_black_first(tmp_path):
    (tmp_path / "label_colors.txt").write_text(
        "64 128 64 Animal\n128 64 128\tRoad\n# comment\n\n0 0 0 Void\nSky\n")
    mask = rgb_file(tmp_path / "trainannot" / "a.png",
                    [[(0, 0, 0), (128, 64, 128)], [(64, 128, 64), (64, 128, 64)]])
    assert chosen_format(mask) == "camvid"
    seg = rgb_mask.read_camvid(mask)
    rows = {s.label: (s.class_id, s.source_value, s.area) for s in seg.table}
    # Datumaro moves the black label to index 0; the colourless "Sky" keeps its place.
    assert rows == {"Void": (0, (0, 0, 0), 1), "Animal": (1, (64, 128, 64), 2),
                    "Road": (2, (128, 64, 128), 1)}
    assert next(s for s in seg.table if s.label == "Void").void
    assert seg.provenance.format == "camvid" and "warnings" not in seg.provenance.details


def test_camvid_sample_reads_with_the_standard_colours(shared_samples):
    path = shared_samples / DATUMARO / "camvid_dataset" / "testannot" / "0001TP_008580.png"
    seg = rgb_mask.read_camvid(path)
    assert seg.shape == (1, 5)
    assert {s.label: s.area for s in seg.table} == {"Archway": 2, "Bridge": 1, "Tree": 2}
    assert {s.label: s.source_value for s in seg.table}["Bridge"] == (0, 128, 64)
    assert "standard CamVid" in seg.provenance.details["warnings"][0]
    other = rgb_mask.read_camvid(path.with_name("0001TP_008550.png"))
    assert {s.label: s.area for s in other.table} == {"Animal": 2, "Road": 1, "Sky": 2}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=label_maps)
def test_camvid_write_then_read_is_exact(values):
    seg = semantic(values)
    assert rgb_mask.camvid_losses(seg) == []
    with tempfile.TemporaryDirectory() as tmp:
        mask, table = rgb_mask.write_camvid(seg, Path(tmp) / "m.png")
        assert table.name == "label_colors.txt"
        back = rgb_mask.read_camvid(mask)
    assert same_partition(back.labels, seg.labels)
    np.testing.assert_array_equal(pixel_labels(back), pixel_labels(seg))
    assert all(isinstance(s.source_value, tuple) for s in back.table)


def test_camvid_table_is_shared_and_extended_but_never_contradicted(tmp_path):
    first = semantic(np.array([[0, 1]], np.uint8))
    second = semantic(np.array([[1, 2]], np.uint8))
    rgb_mask.write_camvid(first, tmp_path / "a.png")
    rgb_mask.write_camvid(second, tmp_path / "b.png")
    lines = (tmp_path / "label_colors.txt").read_text().splitlines()
    assert [line.split(" ", 3)[3] for line in lines] == ["background", "class1", "class2"]
    assert lines[0] == "0 0 0 background"
    for name, labels in (("a.png", {"background", "class1"}), ("b.png", {"class1", "class2"})):
        assert {s.label for s in rgb_mask.read_camvid(tmp_path / name).table} == labels
    # A colour-keyed segment whose colour the table gives another name would be misread.
    read_back = rgb_mask.read_camvid(tmp_path / "a.png")
    read_back.table.update(1, label="tree")
    with pytest.raises(WriteError, match=r"c\.png: label_colors\.txt already there .*'class1'.*"
                                         r"'tree'"):
        rgb_mask.write_camvid(read_back, tmp_path / "c.png")
    assert not (tmp_path / "c.png").exists()


def test_bad_label_colors_line_names_file_and_line(tmp_path):
    (tmp_path / "label_colors.txt").write_text("0 0 0 Void\n300 0 0 Too bright\n")
    mask = rgb_file(tmp_path / "m.png", [[(0, 0, 0)]])
    with pytest.raises(ReadError, match=r"label_colors\.txt: line 2: colour '300 0 0'"):
        rgb_mask.read_camvid(mask)


# -- rgb-legend -----------------------------------------------------------------------
def test_datumaro_dataset_meta_samples(shared_samples):
    base = shared_samples / DATUMARO / "common_semantic_segmentation_dataset"
    mask = base / "dataset" / "masks" / "0001.png"
    assert chosen_format(mask) == "rgb-legend"
    seg = rgb_mask.read_rgb_legend(mask)
    assert seg.shape == (1, 5)
    assert {(s.label, s.class_id, s.area) for s in seg.table} == {("Bicyclist", 3, 4),
                                                                   ("Road", 5, 1)}
    other = rgb_mask.read_rgb_legend(base / "non_standard_dataset" / "masks" / "gt_0002.png")
    assert {(s.label, s.class_id, s.area) for s in other.table} == {
        ("Animal", 1, 2), ("Road", 5, 1), ("SignSymbol", 7, 2)}
    assert "unknown_colors" not in other.provenance.details


def test_clearml_style_legend_and_unknown_colours_are_kept_and_reported(tmp_path):
    (tmp_path / "_mask_legend.json").write_text('{"background": [0, 0, 0], "car": [1, 1, 1]}')
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[0, 1] = (1, 1, 1)
    rgb[1:3, 2:5] = (250, 0, 9)
    mask = rgb_file(tmp_path / "img_mask.png", rgb)
    seg = rgb_mask.read_rgb_legend(mask)
    unknown = [s for s in seg.table if s.label == "unknown"]
    assert len(unknown) == 1 and unknown[0].attributes["unknown_color"] is True
    assert unknown[0].source_value == (250, 0, 9) and unknown[0].area == 6
    details = seg.provenance.details
    assert details["unknown_colors"] == [{"color": [250, 0, 9], "pixels": 6, "bbox": [1, 2, 3, 5]}]
    assert details["warnings"] == [
        "6 pixels of colour (250, 0, 9), which _mask_legend.json does not list (rows 1-2, "
        "columns 2-4), kept as an 'unknown' segment"]
    # Written back, the unknown colour stays itself (not a legend entry) and reads as unknown.
    out, legend = rgb_mask.write_rgb_legend(seg, tmp_path / "out" / "copy.png")
    assert legend.name == "copy.legend.json"
    again = rgb_mask.read_rgb_legend(out)
    np.testing.assert_array_equal(np.asarray(Image.open(out)), rgb)
    assert [s.label for s in again.table] == [s.label for s in seg.table]
    assert again.provenance.details["unknown_colors"] == details["unknown_colors"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=label_maps)
def test_legend_write_then_read_is_exact(values):
    seg = semantic(values)
    assert rgb_mask.legend_losses(seg) == []
    with tempfile.TemporaryDirectory() as tmp:
        mask, _legend = rgb_mask.write_rgb_legend(seg, Path(tmp) / "m.png")
        back = rgb_mask.read_rgb_legend(mask)
    assert same_partition(back.labels, seg.labels)
    np.testing.assert_array_equal(pixel_labels(back), pixel_labels(seg))


def test_legend_cannot_hold_one_label_twice_and_says_so(tmp_path):
    seg = Segmentation.from_values(np.array([[0, 1, 2]], np.uint8),
                                   names={0: "background", 1: "car", 2: "car"})
    assert "numbered: 'car' -> 'car (2)'" in rgb_mask.legend_losses(seg)[0]
    back = rgb_mask.read_rgb_legend(rgb_mask.write_rgb_legend(seg, tmp_path / "m.png")[0])
    assert [s.label for s in back.table] == ["background", "car", "car (2)"]


def test_legend_json_syntax_error_names_file_line_and_column(tmp_path):
    mask = rgb_file(tmp_path / "m.png", [[(0, 0, 0)]])
    (tmp_path / "m.legend.json").write_text('{\n  "a": [0, 0, 0],\n  "b" [1, 1, 1]\n}\n')
    with pytest.raises(ReadError, match=r"m\.legend\.json: JSON syntax error at line 3, column 7"):
        rgb_mask.read_rgb_legend(mask)
    (tmp_path / "m.legend.json").write_text('{"a": [0, 0]}')
    with pytest.raises(ReadError, match=r"m\.legend\.json: 'a': colour should be \[R, G, B\]"):
        rgb_mask.read_rgb_legend(mask)


def test_missing_legend_is_a_clear_error(tmp_path):
    mask = rgb_file(tmp_path / "m.png", [[(0, 0, 0)]])
    with pytest.raises(ReadError, match=r"m\.png: no legend JSON"):
        rgb_mask.read_rgb_legend(mask)


# -- voc-rgb -----------------------------------------------------------------------------
def test_voc_rgb_sample_is_the_bicycle_class(shared_samples):
    path = shared_samples / DATUMARO / "voc_dataset" / "voc_dataset1" / "SegmentationClass" / \
        "2007_000001.png"
    with Image.open(path) as img:
        assert img.mode == "RGB"
    seg = rgb_mask.read_voc_rgb(path)
    assert [(s.value, s.label, s.area) for s in seg.table] == [(2, "bicycle", 200)]
    objects = rgb_mask.read_voc_rgb(path.parent.parent / "SegmentationObject" / path.name)
    assert objects.kind is Kind.INSTANCE
    assert [(s.instance, s.class_id, s.area) for s in objects.table] == [(1, None, 200)]


def test_voc_void_colour_is_255(tmp_path):
    voc = builtin_palette("voc")
    mask = rgb_file(tmp_path / "m.png", [[voc.color(0), voc.color(15), (224, 224, 192)]])
    assert chosen_format(mask) == "voc-rgb"
    seg = rgb_mask.read_voc_rgb(mask)
    assert seg.to_values().tolist() == [[0, 15, 255]]
    assert [(s.label, s.void) for s in seg.table] == [("background", False), ("person", False),
                                                     ("void", True)]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=label_maps)
def test_voc_rgb_write_then_read_keeps_values_and_labels(values):
    seg = semantic(values)
    assert rgb_mask.voc_losses(seg) == []
    with tempfile.TemporaryDirectory() as tmp:
        files = rgb_mask.write_voc_rgb(seg, Path(tmp) / "m.png")
        back = rgb_mask.read_voc_rgb(files[0])
    np.testing.assert_array_equal(back.to_values(np.int64), values)
    np.testing.assert_array_equal(pixel_labels(back), pixel_labels(seg))


def test_voc_rgb_writes_labelmap_only_for_other_names(tmp_path):
    plain = Segmentation.from_values(np.array([[0, 15]], np.uint8),
                                     names={0: "background", 15: "person"})
    assert rgb_mask.write_voc_rgb(plain, tmp_path / "a" / "m.png") == [tmp_path / "a" / "m.png"]
    renamed = Segmentation.from_values(np.array([[0, 3]], np.uint8), names={3: "kayak"})
    files = rgb_mask.write_voc_rgb(renamed, tmp_path / "b" / "m.png")
    lines = files[1].read_text().splitlines()
    assert lines[0] == "# label:color_rgb:parts:actions"
    assert lines[1:] == ["background:0,0,0::", "aeroplane:128,0,0::", "bicycle:0,128,0::",
                         "kayak:128,128,0::"]
    assert [s.label for s in rgb_mask.read_voc_rgb(files[0]).table] == ["background", "kayak"]


def test_voc_rgb_values_it_cannot_hold(tmp_path):
    seg = Segmentation.from_values(np.array([[0, 300]], np.uint16))
    assert "outside the 0..255" in rgb_mask.voc_losses(seg)[0]
    with pytest.raises(WriteError, match=r"m\.png: VOC colour masks hold values 0\.\.255"):
        rgb_mask.write_voc_rgb(seg, tmp_path / "m.png")
    minus = Segmentation.from_values(np.array([[-1, 0, 5]], np.int32), void_values=(-1,))
    assert rgb_mask.voc_losses(minus) == [
        "value -1 is written as 255, the VOC void value, as labelme does"]
    back = rgb_mask.read_voc_rgb(rgb_mask.write_voc_rgb(minus, tmp_path / "n.png")[0])
    assert back.to_values().tolist() == [[255, 0, 5]]


# -- all three: sniffing, bad files, sizes ------------------------------------------------
def test_index_pngs_stay_with_index_png_and_unknown_rgb_has_no_reader(tmp_path):
    (tmp_path / "label_colors.txt").write_text("0 0 0 Void\n")
    grey = tmp_path / "grey.png"
    Image.fromarray(np.zeros((2, 2), np.uint8), mode="L").save(grey)
    assert chosen_format(grey) == "index-png"
    plain = rgb_file(tmp_path / "sub" / "odd.png", [[(1, 2, 3)]])
    (tmp_path / "label_colors.txt").unlink()
    assert chosen_format(plain) is None


@pytest.mark.parametrize("name", COLOR_FORMATS)
def test_truncated_png_names_the_file(tmp_path, name):
    good = rgb_file(tmp_path / "full.png", np.zeros((40, 40, 3), np.uint8) + 77)
    broken = tmp_path / "m.png"
    broken.write_bytes(good.read_bytes()[:60])
    (tmp_path / "label_colors.txt").write_text("0 0 0 Void\n")
    (tmp_path / "m.legend.json").write_text("{}")
    with pytest.raises(ReadError, match=r"m\.png: "):
        SPECS[name].read(broken)


@pytest.mark.parametrize("name", COLOR_FORMATS)
def test_image_size_upscales_smaller_masks_and_refuses_others(tmp_path, name):
    (tmp_path / "label_colors.txt").write_text("0 0 0 Void\n")
    (tmp_path / "m.legend.json").write_text('{"background": [0, 0, 0]}')
    mask = rgb_file(tmp_path / "m.png", np.zeros((2, 3, 3), np.uint8))
    seg = SPECS[name].read(mask, image_size=(6, 4))
    assert seg.shape == (4, 6) and seg.provenance.details["upscaled_from"] == [3, 2]
    for width, height in ((2, 2), (12, 2)):  # smaller than the mask; another aspect ratio
        with pytest.raises(ReadError, match=rf"m\.png: mask is 3x2 but the image is "
                                            rf"{width}x{height}"):
            SPECS[name].read(mask, image_size=(width, height))


@pytest.mark.parametrize("name", COLOR_FORMATS)
def test_names_option_renames_table_rows(tmp_path, name):
    (tmp_path / "label_colors.txt").write_text("0 0 0 Void\n")
    (tmp_path / "m.legend.json").write_text('{"background": [0, 0, 0]}')
    mask = rgb_file(tmp_path / "m.png", np.zeros((1, 1, 3), np.uint8))
    assert [s.label for s in SPECS[name].read(mask, names={0: "nothing"}).table] == ["nothing"]
