"""The shared reader helpers: every format fails the same clear way on bad input."""

import numpy as np
import pytest
from PIL import Image

from viewer.core import images, safe_input
from viewer.core.errors import ReadError
from viewer.core.formats import common


def test_json_syntax_error_names_file_line_and_column(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "a": 1,\n  "b": [1, 2\n}\n')
    with pytest.raises(ReadError, match=r"broken\.json: JSON syntax error at line 4, column 1"):
        common.load_json(path)


def test_require_says_which_key_is_missing_or_wrong(tmp_path):
    path = tmp_path / "x.json"
    with pytest.raises(ReadError, match=r"x\.json: annotations\[0\]: missing key 'label'"):
        common.require({"index": 1}, "label", str, path, "annotations[0]")
    with pytest.raises(ReadError, match="'index' should be int, found str"):
        common.require({"index": "1"}, "index", int, path)


def test_references_stay_inside_the_folder(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "mask.png").write_bytes(b"x")
    (tmp_path / "secret.png").write_bytes(b"x")
    source = folder / "frame.json"
    assert common.resolve_reference("mask.png", folder, source) == (folder / "mask.png").resolve()
    url = (folder / "mask.png").resolve().as_uri()
    assert common.resolve_reference(url, folder, source) == (folder / "mask.png").resolve()
    with pytest.raises(ReadError, match=r"frame\.json: refers to '\.\./secret\.png', which is outside"):
        common.resolve_reference("../secret.png", folder, source)
    with pytest.raises(ReadError, match="frame.json: s3://bucket/m.png is a remote s3:// URL and is not reachable"):
        common.resolve_reference("s3://bucket/m.png", folder, source)
    with pytest.raises(ReadError, match="which does not exist"):
        common.resolve_reference("gone.png", folder, source)


def test_huge_images_are_refused_with_their_size(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.new("L", (40, 30)).save(path)
    monkeypatch.setattr(safe_input, "MAX_PIXELS", 1000)
    with pytest.raises(ReadError, match=r"big\.png: 40x30 = 1,200 pixels is more than the 1,000"):
        common.read_index_png(path)
    assert images.MAX_PIXELS >= 100_000_000  # the real limit lets 4K and far beyond through


def test_index_png_keeps_values_and_palette(tmp_path):
    values = np.array([[0, 3], [255, 7]], np.uint8)
    path = common.write_png(tmp_path / "p.png", values, palette=np.array([[1, 2, 3]] * 8, np.uint8))
    got, mode, palette = common.read_index_png(path)
    assert mode == "P" and palette.shape == (256, 3) and palette[7].tolist() == [1, 2, 3]
    np.testing.assert_array_equal(got, values)
    wide = common.write_png(tmp_path / "w.png", np.array([[0, 26002]], np.uint16))
    got, mode, _ = common.read_index_png(wide)
    assert got.tolist() == [[0, 26002]] and mode.startswith("I")


def test_upscale_nearest_never_invents_values():
    small = np.array([[1, 2], [3, 4]], np.int64)  # int64 takes the non-cv2 path
    big = common.upscale_nearest(small, 4, 4)
    assert set(np.unique(big).tolist()) == {1, 2, 3, 4}
    np.testing.assert_array_equal(big[::2, ::2], small)
    np.testing.assert_array_equal(common.upscale_nearest(small.astype(np.uint16), 4, 4), big)


def test_rgb_reader_expands_palettes_and_grey(tmp_path):
    grey = tmp_path / "grey.png"
    Image.fromarray(np.array([[0, 7]], np.uint8), mode="L").save(grey)
    assert common.read_rgb_png(grey).tolist() == [[[0, 0, 0], [7, 7, 7]]]
    deep = tmp_path / "deep.png"
    Image.fromarray(np.array([[0, 700]], np.uint16)).save(deep)
    with pytest.raises(ReadError, match=r"deep\.png: image mode I;16 is 16/32-bit"):
        common.read_rgb_png(deep)


def test_smaller_masks_are_upscaled_to_the_image_and_marked(tmp_path):
    from viewer.core.formats.registry import read_mask

    path = tmp_path / "small.png"
    Image.fromarray(np.array([[0, 1], [2, 3]], np.uint8), mode="L").save(path)
    seg = read_mask(path, image_size=(6, 6))
    assert seg.shape == (6, 6) and seg.labels[5, 5] == 3 and seg.table[3].area == 9
    assert seg.provenance.details["upscaled_from"] == [2, 2]
    assert "upscaled" in seg.provenance.details["warnings"][-1]
    with pytest.raises(ReadError, match=r"small\.png: mask is 2x2 but the image is 1x1"):
        read_mask(path, image_size=(1, 1))
    with pytest.raises(ReadError, match="mask is 2x2 but the image is 12x4"):
        read_mask(path, image_size=(12, 4))


def test_a_damaged_sidecar_is_reported_not_fatal(tmp_path):
    from viewer.core.formats.registry import read_mask

    path = tmp_path / "m.png"
    Image.fromarray(np.array([[0, 1]], np.uint8), mode="L").save(path)
    (tmp_path / "m.segview.json").write_text("{ nope")
    seg = read_mask(path)
    assert "labels not restored from m.segview.json" in seg.provenance.details["warnings"][0]
