"""COCO panoptic PNG + JSON: the panopticapi samples, round trips and bad input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from viewer.core.errors import ReadError, WriteError
from viewer.core.formats import coco_panoptic
from viewer.core.segmentation import FullMask, Kind, Segmentation

SAMPLE = "coco-panoptic-panopticapi/sample_data"
FACTS = {"000000142238.png": (18, 2712), "000000439180.png": (32, 7189)}
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def panoptic_classes(values: np.ndarray, names: dict[int, str]) -> Segmentation:
    """A semantic map as panoptic stuff: class v is segment id v + 1 (0 would be VOID)."""
    return Segmentation.from_values(
        values.astype(np.int64) + 1, kind=Kind.PANOPTIC,
        describe=lambda pan: {"label": names[pan - 1], "class_id": pan - 1})


def rgb_ids(path) -> np.ndarray:
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(np.int64)
    return rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]


# -- the panopticapi samples (FORMATS.md section 8) -------------------------------------
@pytest.mark.parametrize("name", sorted(FACTS))
def test_sample_pngs_decode_to_the_json_segments(shared_samples, name):
    folder = shared_samples / SAMPLE
    doc = json.loads((folder / "panoptic_examples.json").read_text())
    ann = next(a for a in doc["annotations"] if a["file_name"] == name)
    count, void_pixels = FACTS[name]
    assert len(ann["segments_info"]) == count
    seg = coco_panoptic.read(folder / "panoptic_examples" / name)
    assert seg.kind is Kind.PANOPTIC and seg.provenance.details["warnings"] == []
    by_value = {s.value: s for s in seg.table}
    assert len(by_value) == count + 1
    void = by_value[0]
    assert void.void and void.area == void_pixels and void.label == "void"
    categories = {c["id"]: c for c in doc["categories"]}
    for info in ann["segments_info"]:
        segment = by_value[info["id"]]
        assert segment.area == info["area"]
        assert segment.class_id == info["category_id"]
        assert segment.label == categories[info["category_id"]]["name"]
        assert segment.attributes["iscrowd"] == info["iscrowd"]
        assert (segment.instance is not None) == bool(categories[info["category_id"]]["isthing"])
    expected = rgb_ids(folder / "panoptic_examples" / name)
    np.testing.assert_array_equal(seg.to_values(np.int64), expected)


def test_reading_the_json_picks_an_image(shared_samples):
    path = shared_samples / SAMPLE / "panoptic_examples.json"
    assert coco_panoptic.items(path) == ["000000142238.png", "000000439180.png"]
    first = coco_panoptic.read(path)
    assert first.shape == (427, 640)
    for item in ("000000439180.png", "000000439180.jpg", "439180", "000000439180"):
        assert coco_panoptic.read(path, item=item).shape == (360, 640)
    with pytest.raises(ReadError, match=r"panoptic_examples\.json: no image 'nope'"):
        coco_panoptic.read(path, item="nope")


def test_two_channel_pngs(shared_samples):
    folder = shared_samples / SAMPLE / "panoptic_examples_2ch_format"
    png = folder / "000000142238.png"
    rgb = np.asarray(Image.open(png)).astype(np.int64)
    expected = 1000 * rgb[..., 0] + rgb[..., 1]
    auto = coco_panoptic.read(png)
    assert auto.provenance.details["two_channel"]
    assert any("2-channel" in w for w in auto.provenance.details["warnings"])
    forced = coco_panoptic.read(png, two_channel=True)
    for seg in (auto, forced):
        np.testing.assert_array_equal(seg.to_values(np.int64), expected)
        assert len(seg.table) == FACTS["000000142238.png"][0] + 1
    person = next(s for s in forced.table if s.value == 1003)
    assert (person.label, person.class_id, person.instance) == ("person", 1, 3)
    assert forced.table[0].void and forced.table[0].area == FACTS["000000142238.png"][1]
    plain = coco_panoptic.read(png, two_channel=False)
    assert any("without an entry in segments_info" in w
               for w in plain.provenance.details["warnings"])


def test_sample_round_trip(shared_samples, tmp_path):
    seg = coco_panoptic.read(shared_samples / SAMPLE / "panoptic_examples/000000439180.png")
    png, js = coco_panoptic.write(seg, tmp_path / "out.png")
    assert js == tmp_path / "out.json"
    back = coco_panoptic.read(png)
    np.testing.assert_array_equal(back.to_values(np.int64), seg.to_values(np.int64))
    assert [(s.value, s.label, s.class_id, s.instance) for s in back.table] == \
        [(s.value, s.label, s.class_id, s.instance) for s in seg.table]
    doc = json.loads(js.read_text())
    original = json.loads((shared_samples / SAMPLE / "panoptic_examples.json").read_text())
    old = {s["id"]: s for s in original["annotations"][1]["segments_info"]}
    for info in doc["annotations"][0]["segments_info"]:
        assert info["area"] == old[info["id"]]["area"]
        assert info["category_id"] == old[info["id"]]["category_id"]
        x, y, w, h = info["bbox"]
        ox, oy, ow, oh = old[info["id"]]["bbox"]
        assert (x, y, w, h) == (ox, oy, ow, oh)
    assert doc["images"][0]["file_name"] == "000000439180.jpg"


def test_sniff(shared_samples, tmp_path):
    folder = shared_samples / SAMPLE
    assert coco_panoptic.sniff(folder / "panoptic_examples.json")
    assert coco_panoptic.sniff(folder / "panoptic_examples/000000142238.png")
    assert not coco_panoptic.sniff(folder / "panoptic_coco_detection_format.json")
    lonely = tmp_path / "lonely.png"
    Image.new("RGB", (3, 2)).save(lonely)
    assert not coco_panoptic.sniff(lonely)


def test_datumaro_layout_json_one_folder_up(shared_samples):
    root = shared_samples / "datumaro-format-assets/coco_dataset/coco_panoptic/annotations"
    png = root / "panoptic_val/b.png"
    assert coco_panoptic.find_json(png) == root / "panoptic_val.json"
    seg = coco_panoptic.read(png)
    assert {(s.value, s.label) for s in seg.table} == {(0, "void"), (7, "a"), (20, "b")}
    assert seg.table[20].attributes["iscrowd"] == 1


# -- round trips ----------------------------------------------------------------------
@SETTINGS
@given(values=hnp.arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12)),
                         elements=st.integers(0, 20)))
def test_semantic_map_as_stuff_round_trips(tmp_path_factory, values):
    names = {v: f"class{v}" for v in range(21)}
    names[0] = "background"
    seg = panoptic_classes(values, names)
    assert coco_panoptic.losses(seg) == []
    folder = tmp_path_factory.mktemp("pan")
    back = coco_panoptic.read(coco_panoptic.write(seg, folder / "mask.png")[0])
    np.testing.assert_array_equal(back.to_values(np.int64), seg.to_values(np.int64))
    assert [(s.id, s.label, s.class_id) for s in back.table] == \
        [(s.id, s.label, s.class_id) for s in seg.table]


@SETTINGS
@given(data=st.data())
def test_large_panoptic_ids_round_trip(tmp_path_factory, data):
    ids = data.draw(st.lists(st.integers(0, (1 << 24) - 1), min_size=1, max_size=6, unique=True))
    pan = data.draw(hnp.arrays(np.int64, st.tuples(st.integers(1, 10), st.integers(1, 10)),
                               elements=st.sampled_from(ids)))
    seg = Segmentation.from_values(pan, kind=Kind.PANOPTIC, void_values=(0,),
                                   describe=lambda v: {"class_id": v % 7, "label": f"c{v % 7}"})
    folder = tmp_path_factory.mktemp("pan")
    png = coco_panoptic.write(seg, folder / "ids.png")[0]
    np.testing.assert_array_equal(rgb_ids(png), pan)
    back = coco_panoptic.read(png)
    np.testing.assert_array_equal(back.to_values(np.int64), pan)
    for s in back.table:
        if s.value:
            assert (s.class_id, s.label) == (s.value % 7, f"c{s.value % 7}")


def test_losses_and_refusals(tmp_path):
    labels = np.array([[1, 1], [2, 2]], np.uint8)
    seg = Segmentation.from_values(labels)
    seg.full_masks[1] = FullMask((0, 0, 2, 2), np.ones((2, 2), bool))
    assert any("covered pixels" in line for line in coco_panoptic.losses(seg))
    huge = Segmentation.from_values(np.array([[1 << 24, 5]], np.int64))
    assert any("outside 0..16777215" in line for line in coco_panoptic.losses(huge))
    with pytest.raises(WriteError, match=r"big\.png: segment .* 16777216"):
        coco_panoptic.write(huge, tmp_path / "big.png")
    assert not (tmp_path / "big.png").exists()


# -- bad input ---------------------------------------------------------------------------
def _copy_sample(shared_samples, tmp_path):
    src = shared_samples / SAMPLE
    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(src / "panoptic_examples.json", tmp_path / "panoptic_examples.json")
    (tmp_path / "panoptic_examples").mkdir()
    for name in FACTS:
        shutil.copy(src / "panoptic_examples" / name, tmp_path / "panoptic_examples" / name)
    return tmp_path / "panoptic_examples.json"


def test_truncated_png(shared_samples, tmp_path):
    js = _copy_sample(shared_samples, tmp_path)
    png = tmp_path / "panoptic_examples/000000142238.png"
    png.write_bytes(png.read_bytes()[:300])
    with pytest.raises(ReadError, match=r"000000142238\.png: cannot decode image"):
        coco_panoptic.read(png)
    with pytest.raises(ReadError, match=r"000000142238\.png: cannot decode image"):
        coco_panoptic.read(js)


def test_json_syntax_error_names_line_and_column(shared_samples, tmp_path):
    js = _copy_sample(shared_samples, tmp_path)
    js.write_text(js.read_text().replace('"segments_info"', '"segments_info" ::', 1))
    with pytest.raises(ReadError, match=r"panoptic_examples\.json: JSON syntax error at line \d+, "
                                        r"column \d+"):
        coco_panoptic.read(tmp_path / "panoptic_examples/000000142238.png",
                           json=js)


def test_reference_outside_the_folder_is_refused(shared_samples, tmp_path):
    js = _copy_sample(shared_samples, tmp_path / "inner")
    secret = tmp_path / "secret.png"
    Image.new("RGB", (2, 2)).save(secret)
    doc = json.loads(js.read_text())
    doc["annotations"][0]["file_name"] = "../secret.png"
    js.write_text(json.dumps(doc))
    with pytest.raises(ReadError, match=r"panoptic_examples\.json: refers to '\.\./secret\.png', "
                                        "which is outside the folder"):
        coco_panoptic.read(js)


def test_unknown_ids_are_kept_and_reported(shared_samples, tmp_path):
    js = _copy_sample(shared_samples, tmp_path)
    doc = json.loads(js.read_text())
    dropped = doc["annotations"][0]["segments_info"].pop(0)
    js.write_text(json.dumps(doc))
    seg = coco_panoptic.read(js)
    unknown = next(s for s in seg.table if s.value == dropped["id"])
    assert unknown.label == "unknown" and unknown.area == dropped["area"]
    assert any(str(dropped["id"]) in w and "segments_info" in w
               for w in seg.provenance.details["warnings"])


def test_png_without_json_and_grey_png(tmp_path):
    png = tmp_path / "alone.png"
    Image.fromarray(np.array([[[1, 0, 0], [0, 1, 0]]], np.uint8)).save(png)
    seg = coco_panoptic.read(png)
    assert sorted(s.value for s in seg.table) == [1, 256]
    assert any("no panoptic JSON" in w for w in seg.provenance.details["warnings"])
    grey = tmp_path / "grey.png"
    Image.new("L", (2, 2)).save(grey)
    with pytest.raises(ReadError, match=r"grey\.png: image mode L is not an RGB panoptic PNG"):
        coco_panoptic.read(grey)
    with pytest.raises(ReadError, match="holds one image"):
        coco_panoptic.read(png, item="x")


def test_two_channel_category_zero_is_void_whatever_its_instance(tmp_path):
    png = tmp_path / "two.png"
    Image.fromarray(np.array([[[0, 0, 0], [0, 7, 0], [1, 2, 0]]], np.uint8)).save(png)
    seg = coco_panoptic.read(png, two_channel=True)
    assert {s.value for s in seg.table if s.void} == {0, 7}
    person = next(s for s in seg.table if s.value == 1002)
    assert (person.label, person.class_id, person.instance) == ("person", 1, 2)
