"""Scale Nucleus segmentation JSON + mask PNG (FORMATS.md section 3).

The fixtures are built here from the specification: the payload shape of
``SegmentationAnnotation.to_payload()`` and the facts FORMATS.md records about
a real Nucleus test mask (mode L, values {0, 1, 2}, the payload naming 2 and 1,
0 unlabelled). The real file itself is not copied into the project.
"""

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from viewer.core.errors import ReadError, WriteError
from viewer.core.formats import nucleus
from viewer.core.segmentation import Kind, Segmentation


def save_mask(path: Path, values) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(values, np.uint8), "L").save(path)
    return path


def save_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def sample_values() -> np.ndarray:
    """Mode L values {0, 1, 2} like the real Nucleus test mask."""
    values = np.zeros((6, 8), np.uint8)
    values[1:3, 1:5] = 1
    values[3:6, 4:8] = 2
    return values


def sample_payload(**changes) -> dict:
    """``SegmentationAnnotation.to_payload()``: names 2 and 1, leaves 0 unlabelled."""
    payload = {
        "type": "mask",
        "mask_url": "mask.png",
        "annotations": [{"label": "bear", "index": 2},
                        {"label": "grass-merged", "index": "1", "metadata": {"wet": True}}],
        "annotation_id": None,
        "reference_id": "item-1",
    }
    payload.update(changes)
    return payload


@pytest.fixture
def sample(tmp_path) -> Path:
    save_mask(tmp_path / "mask.png", sample_values())
    return save_json(tmp_path / "item-1.json", sample_payload())


def test_real_nucleus_facts(sample):
    assert nucleus.FORMAT.accepts(sample)
    seg = nucleus.read(sample)
    assert seg.kind is Kind.SEMANTIC
    rows = {s.value: s for s in seg.table}
    assert sorted(rows) == [0, 1, 2]
    assert rows[2].label == "bear" and rows[1].label == "grass-merged"  # index "1" -> 1
    assert rows[0].label == "" and rows[0].attributes["unlabelled"] is True
    assert not rows[0].visible
    assert rows[1].attributes["metadata"] == {"wet": True}
    details = seg.provenance.details
    assert details["reference_id"] == "item-1" and details["annotation_id"] is None
    assert details["png_mode"] == "L" and details["unlabelled_values"] == [0]
    assert details["warnings"] == []
    np.testing.assert_array_equal(seg.to_values(), sample_values())


def test_round_trip_of_the_sample_keeps_everything(sample, tmp_path):
    seg = nucleus.read(sample)
    assert nucleus.losses(seg) == []
    json_path, mask_path = nucleus.write(seg, tmp_path / "out" / "copy")
    assert (json_path.name, mask_path.name) == ("copy.json", "copy.png")
    data = json.loads(json_path.read_text(encoding="utf-8"))
    # Absolute: the Nucleus SDK opens a local mask_url relative to the working directory.
    assert data == {"type": "mask", "mask_url": str(mask_path.absolute()),
                    "annotations": [{"label": "grass-merged", "index": 1,
                                     "metadata": {"wet": True}},
                                    {"label": "bear", "index": 2}],
                    "annotation_id": None, "reference_id": "item-1"}
    with Image.open(mask_path) as img:
        assert img.mode == "L"
        np.testing.assert_array_equal(np.asarray(img), sample_values())


@settings(max_examples=30, deadline=None)
@given(values=arrays(np.uint8, st.tuples(st.integers(1, 8), st.integers(1, 8)),
                     elements=st.sampled_from([0, 1, 2, 7, 40, 255])),
       labels=st.dictionaries(st.sampled_from([0, 1, 2, 7, 40, 255]),
                              st.sampled_from(["", "car", "road", "sky"])))
def test_write_then_read_gives_the_same_values_and_labels(values, labels):
    seg = Segmentation.from_values(values, describe=lambda v: {"label": labels.get(v, f"c{v}")})
    named = [s.label for s in seg.table if s.label]
    repeated = len(named) != len(set(named))
    with tempfile.TemporaryDirectory() as folder:
        files = nucleus.write(seg, Path(folder) / "x.json")
        back = nucleus.read(files[0])
    np.testing.assert_array_equal(back.to_values(), seg.to_values())
    assert {s.value: s.label for s in back.table} == {s.value: s.label for s in seg.table}
    assert back.kind is (Kind.INSTANCE if repeated else Kind.SEMANTIC)
    assert bool(nucleus.losses(seg)) == repeated  # only the kind flag can be lost


def test_repeated_labels_mean_instances_unless_kind_is_given(tmp_path):
    save_mask(tmp_path / "cars.png", sample_values())
    path = save_json(tmp_path / "cars.json", sample_payload(
        mask_url="cars.png", annotations=[{"label": "car", "index": 0},
                                          {"label": "car", "index": 1},
                                          {"label": "road", "index": 2}]))
    seg = nucleus.read(path)
    assert seg.kind is Kind.INSTANCE
    reason = seg.provenance.details["kind_reason"]
    assert reason == "instance: labels used by several indices: car x2"
    cars = sorted((s.class_id, s.instance) for s in seg.table if s.label == "car")
    assert cars == [(0, 1), (0, 2)]
    assert nucleus.read(path, kind="semantic").kind is Kind.SEMANTIC


@pytest.mark.parametrize("shape", ["segmentation", "absent"])
def test_type_segmentation_or_absent_is_accepted(tmp_path, shape):
    save_mask(tmp_path / "mask.png", sample_values())
    payload = sample_payload(type="segmentation")
    if shape == "absent":
        del payload["type"]
    seg = nucleus.read(save_json(tmp_path / "p.json", payload))
    assert {s.value: s.label for s in seg.table} == {0: "", 1: "grass-merged", 2: "bear"}


def test_export_payload_rows_and_lists(tmp_path):
    save_mask(tmp_path / "a.png", sample_values())
    save_mask(tmp_path / "b.png", sample_values() * 0 + 1)
    row_a = {"item": {"reference_id": "A"}, "box": [], "polygon": [],
             "segmentation": {"mask_url": "a.png", "annotations": [{"label": "bear", "index": 2}]}}
    row_b = {"item": {"reference_id": "B"}, "box": [], "polygon": [],
             "segmentation": {"mask_url": "b.png", "annotations": [{"label": "sky", "index": 1}]}}
    single = save_json(tmp_path / "row.json", row_a)
    assert nucleus.FORMAT.accepts(single)
    seg = nucleus.read(single)
    assert seg.provenance.details["reference_id"] == "A"
    assert seg.provenance.details["export_payload"] is True
    both = save_json(tmp_path / "export.json", [row_a, row_b])
    assert nucleus.FORMAT.accepts(both)
    assert nucleus.items(both) == ["A", "B"]
    assert [s.label for s in nucleus.read(both, item="B").table] == ["sky"]
    with pytest.raises(ReadError, match=r"export\.json: no entry 'C' \(it holds A, B\)"):
        nucleus.read(both, item="C")


def test_null_index_annotations_are_kept_in_the_details(tmp_path):
    save_mask(tmp_path / "mask.png", sample_values())
    path = save_json(tmp_path / "n.json", sample_payload(annotations=[
        {"label": "bear", "index": 2}, {"label": "ghost", "index": None},
        {"label": "moose", "index": 9}]))
    seg = nucleus.read(path)
    details = seg.provenance.details
    assert details["unindexed"] == [{"label": "ghost", "index": None}]
    assert details["annotations_without_pixels"] == [{"label": "moose", "index": 9}]
    assert len(details["warnings"]) == 2
    assert {s.value: s.label for s in seg.table} == {0: "", 1: "", 2: "bear"}
    assert nucleus.losses(seg) == ["1 annotations with a null index are not written back",
                                   "1 annotations without pixels in the mask are not written back"]


@pytest.mark.parametrize("form", ["subfolder", "absolute", "file-url"])
def test_local_mask_references(tmp_path, form):
    mask = save_mask(tmp_path / "masks" / "m.png", sample_values())
    url = {"subfolder": "masks/m.png", "absolute": str(mask), "file-url": mask.as_uri()}[form]
    seg = nucleus.read(save_json(tmp_path / "j.json", sample_payload(mask_url=url)))
    assert seg.provenance.details["mask"] == str(mask.resolve())


# -- bad input ----------------------------------------------------------------------
@pytest.mark.parametrize(("url", "message"), [
    ("s3://bucket/masks/m.png", r"j\.json: s3://bucket/masks/m\.png is a remote s3:// URL and "
                                r"is not reachable"),
    ("https://example.com/m.png", r"j\.json: .* remote https:// URL and is not reachable"),
    ("../outside.png", r"j\.json: refers to '\.\./outside\.png', which is outside the folder"),
    ("missing.png", r"j\.json: refers to 'missing\.png', which does not exist"),
])
def test_unusable_mask_url_names_the_json(tmp_path, url, message):
    save_mask(tmp_path / "outside.png", sample_values())
    path = save_json(tmp_path / "inner" / "j.json", sample_payload(mask_url=url))
    with pytest.raises(ReadError, match=message):
        nucleus.read(path)


def test_missing_mask_url(tmp_path):
    payload = sample_payload()
    del payload["mask_url"]
    path = save_json(tmp_path / "j.json", payload)
    with pytest.raises(ReadError, match=r"j\.json: missing 'mask_url'"):
        nucleus.read(path)
    rows = save_json(tmp_path / "rows.json", [{"item": {}, "segmentation": {"annotations": []}}])
    with pytest.raises(ReadError, match=r"rows\.json: \[0\]\.segmentation: missing 'mask_url'"):
        nucleus.read(rows)


def test_json_syntax_error_names_line_and_column(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"mask_url": "mask.png",\n "annotations": [}\n', encoding="utf-8")
    assert nucleus.FORMAT.accepts(path)  # so the user gets this reader's message
    with pytest.raises(ReadError, match=r"broken\.json: JSON syntax error at line 2, column 18"):
        nucleus.read(path)


def test_truncated_mask_names_the_png(tmp_path):
    mask = save_mask(tmp_path / "mask.png", np.arange(64 * 64).reshape(64, 64) % 251)
    mask.write_bytes(mask.read_bytes()[:80])
    path = save_json(tmp_path / "j.json", sample_payload())
    with pytest.raises(ReadError, match=r"mask\.png: cannot decode image"):
        nucleus.read(path)


def test_mask_size_must_be_the_image_size(sample):
    assert nucleus.read(sample, image_size=(8, 6)).shape == (6, 8)
    with pytest.raises(ReadError, match=r"mask\.png: mask is 8x6 but the image is 16x12"):
        nucleus.read(sample, image_size=(16, 12))


def test_rgb_mask_and_bad_index_are_refused(tmp_path):
    Image.fromarray(np.zeros((4, 4, 3), np.uint8), "RGB").save(tmp_path / "mask.png")
    path = save_json(tmp_path / "j.json", sample_payload())
    with pytest.raises(ReadError, match=r"mask\.png: image mode RGB is not a single-channel"):
        nucleus.read(path)
    save_mask(tmp_path / "mask.png", sample_values())
    bad = save_json(tmp_path / "k.json",
                    sample_payload(annotations=[{"label": "x", "index": "one"}]))
    with pytest.raises(ReadError, match=r"k\.json: annotations\[0\]: 'index' 'one' is not a pixel"):
        nucleus.read(bad)


# -- writing what does not fit --------------------------------------------------------
def test_values_outside_0_255_are_renumbered_and_reported(tmp_path):
    values = np.array([[-1, 0], [5, 300]], np.int32)
    seg = Segmentation.from_values(values, names={-1: "ignore", 0: "bg", 5: "cat", 300: "dog"})
    (lost,) = nucleus.losses(seg)
    assert lost.startswith("2 segment values do not fit a Nucleus mask (0..255)")
    json_path, _mask = nucleus.write(seg, tmp_path / "r.json")
    back = nucleus.read(json_path)
    assert sorted((s.label, s.value) for s in back.table) == [
        ("bg", 0), ("cat", 5), ("dog", 1), ("ignore", 2)]


def test_more_than_256_instances_merge_by_label(tmp_path):
    values = np.arange(300, dtype=np.int32).reshape(15, 20)
    seg = Segmentation.from_values(values, kind=Kind.INSTANCE,
                                   describe=lambda v: {"label": ("car", "person")[v % 2]})
    lost = nucleus.losses(seg)
    assert "300 segments are more than the 256 values" in lost[0]
    assert "merged into 2 classes" in lost[0]
    back = nucleus.read(nucleus.write(seg, tmp_path / "m.json")[0])
    assert sorted(s.label for s in back.table) == ["car", "person"]
    np.testing.assert_array_equal(back.to_values() == back.to_values()[0, 0], values % 2 == 0)


def test_more_than_256_labels_cannot_be_written(tmp_path):
    values = np.arange(300, dtype=np.int32).reshape(15, 20)
    seg = Segmentation.from_values(values, describe=lambda v: {"label": f"class{v}"})
    assert nucleus.losses(seg)[0].startswith("cannot be written: 300 labels")
    with pytest.raises(WriteError, match=r"w\.json: 300 labels"):
        nucleus.write(seg, tmp_path / "w.json")
    assert not (tmp_path / "w.json").exists() and not (tmp_path / "w.png").exists()


# -- sniffing -----------------------------------------------------------------------
def test_sniffer_reads_small_files_and_only_the_head_of_large_ones(tmp_path):
    celantur = save_json(tmp_path / "c.json", {"id": "x.jpg", "detections": [], "size": [1, 1]})
    assert not nucleus.sniff(celantur)
    mentions = save_json(tmp_path / "d.json", {"note": "mask_url", "other": 1})
    assert not nucleus.sniff(mentions)
    big = tmp_path / "big.json"
    filler = [{"label": "x" * 50, "index": i} for i in range(30000)]
    big.write_text(json.dumps({"mask_url": "m.png", "annotations": filler}), encoding="utf-8")
    assert big.stat().st_size > (1 << 20) and nucleus.sniff(big)
    big.write_text(json.dumps({"annotations": filler, "mask_url": "m.png"}), encoding="utf-8")
    assert not nucleus.sniff(big)  # beyond the first bytes: not looked at, on purpose


def test_written_mask_url_is_absolute_and_opens_from_another_working_directory(sample, tmp_path,
                                                                              monkeypatch):
    json_path, mask_path = nucleus.write(nucleus.read(sample), tmp_path / "out" / "copy")
    url = json.loads(json_path.read_text(encoding="utf-8"))["mask_url"]
    assert Path(url).is_absolute()
    monkeypatch.chdir(tmp_path.parent)  # the SDK's Image.open(mask_url) from elsewhere
    with Image.open(url) as img:
        np.testing.assert_array_equal(np.asarray(img), sample_values())


def test_a_moved_export_reads_the_mask_beside_its_json(sample, tmp_path):
    json_path, _mask = nucleus.write(nucleus.read(sample), tmp_path / "out" / "copy")
    moved = tmp_path / "moved"
    (tmp_path / "out").rename(moved)
    seg = nucleus.read(moved / "copy.json")
    np.testing.assert_array_equal(seg.to_values(), sample_values())
    assert "the export was moved" in seg.provenance.details["warnings"][0]


def test_relative_mask_urls_are_read_as_before(tmp_path):
    save_mask(tmp_path / "m.png", sample_values())
    seg = nucleus.read(save_json(tmp_path / "j.json", sample_payload(mask_url="m.png")))
    assert seg.provenance.details["warnings"] == []
    np.testing.assert_array_equal(seg.to_values(), sample_values())
