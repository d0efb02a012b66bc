"""Celantur masks and metadata (FORMATS.md section 2).

Every fixture here is specification-derived: no public Celantur mask PNG or
metadata JSON exists, so the files are built from the vendor documentation as
recorded in FORMATS.md. The one documentation example (per-image metadata) is
marked "doc-derived": its published JSON never closes the ``detections``
array, so the fixture is that example with the array closed and nothing else
changed.
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

from viewer.core.errors import ReadError
from viewer.core.formats import celantur
from viewer.core.segmentation import Kind, Segmentation

SPECS = {spec.name: spec for spec in celantur.FORMATS}
CODES = (64, 128, 192, 255)

# doc-derived: the documentation's image example with its values verbatim; the published
# text leaves "detections": [ ... unclosed, fixed here by closing the array.
DOC_EXAMPLE_FIXED = {
    "id": "image-name.jpg",
    "detections": [{
        "id": 0, "parent_image": "image-name.jpg", "offset": [1560, 744],
        "bbox": [1957, 744, 3003, 1855], "type": 103, "score": 0.9993754029273987,
        "is_anonymised": True, "type_label": "face", "color": None,
    }],
    "size": [3456, 5184],
    "duration": 1.85,
    "filename": "image-name.jpg",
    "folder": None,
}


def as_celantur_instances(values: np.ndarray) -> Segmentation:
    """Map a semantic label map 0..k onto Celantur types and instance keys.

    0 is background; value v >= 1 becomes type ``CODES[(v - 1) % 4]`` with
    instance key ``(v - 1) // 4``, keyed ``R * 256 + G`` as the reader keys it.
    (The same function is offered to the registry-wide round-trip test.)
    """
    codes = np.array([0, *[CODES[(v - 1) % 4] * 256 + (v - 1) // 4 for v in range(1, 256)]])
    keyed = codes[values.astype(np.int64)]

    def describe(key: int) -> dict:
        if key == 0:
            return {"label": "background", "source_value": (0, 0, 0)}
        r, g = key >> 8, key & 0xFF
        return {"label": celantur.TYPES[r], "class_id": r, "instance": g,
                "source_value": (r, g, 0)}

    return Segmentation.from_values(keyed, kind=Kind.INSTANCE, describe=describe)


def save_rgb(path: Path, rgb: np.ndarray) -> Path:
    Image.fromarray(np.asarray(rgb, np.uint8), "RGB").save(path)
    return path


def save_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def png_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def small_instance_rgb() -> np.ndarray:
    rgb = np.zeros((12, 16, 3), np.uint8)
    rgb[1:4, 1:5] = (192, 85, 0)     # the documentation's face colour
    rgb[6:10, 2:6] = (128, 0, 0)     # G = 0 is a valid key when R > 0
    rgb[6:10, 9:14] = (128, 170, 0)
    rgb[0:2, 12:16] = (64, 1, 0)
    rgb[10:12, 0:3] = (255, 7, 0)
    return rgb


# -- instance masks ---------------------------------------------------------------
def test_each_type_and_key_is_one_segment(tmp_path):
    path = save_rgb(tmp_path / "photo_ins_maks.png", small_instance_rgb())
    seg = celantur.read_instance(path)
    assert seg.kind is Kind.INSTANCE
    rows = {s.source_value: s for s in seg.table}
    face = rows[(192, 85, 0)]
    assert (face.label, face.class_id, face.instance, face.area) == ("face", 192, 85, 12)
    assert rows[(128, 0, 0)].label == "person" and rows[(128, 0, 0)].instance == 0
    assert rows[(128, 170, 0)].instance == 170
    assert rows[(64, 1, 0)].label == "license plate"
    assert rows[(255, 7, 0)].label == "vehicle"
    assert rows[(0, 0, 0)].label == "background" and not rows[(0, 0, 0)].visible
    assert seg.provenance.format == "celantur-instance"
    assert seg.provenance.details["warnings"] == []


@pytest.mark.parametrize("name", ["photo_ins_maks.png", "photo_ins_mask.png"])
def test_documented_typo_and_correct_spelling_are_both_instance_masks(tmp_path, name):
    path = save_rgb(tmp_path / name, small_instance_rgb())
    assert SPECS["celantur-instance"].accepts(path)
    assert not SPECS["celantur-binary"].accepts(path)
    assert len(celantur.read_instance(path).table) == 6
    other = save_rgb(tmp_path / "photo.png", small_instance_rgb())
    assert not SPECS["celantur-instance"].accepts(other)


def test_unknown_colours_are_kept_with_a_warning_and_written_back(tmp_path):
    rgb = small_instance_rgb()
    rgb[11, 15] = (10, 0, 0)          # R is not a type code
    rgb[5, 0:2] = (128, 85, 3)        # B is not 0
    seg = celantur.read_instance(save_rgb(tmp_path / "odd_ins_mask.png", rgb))
    unknown = [s for s in seg.table if s.attributes.get("unknown_color")]
    assert sorted(s.source_value for s in unknown) == [(10, 0, 0), (128, 85, 3)]
    assert all(s.label == "unknown" for s in unknown)
    (warning,) = seg.provenance.details["warnings"]
    assert "2 colours outside the Celantur encoding" in warning
    assert "(128, 85, 3) on 2 pixels in rows 5-5, columns 0-1" in warning
    mask = celantur.write_instance(seg, tmp_path / "out_ins_maks.png", metadata=False)[0]
    np.testing.assert_array_equal(png_rgb(mask), rgb)


@settings(max_examples=25, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 9), st.integers(1, 9)),
              elements=st.integers(0, 20)))
def test_write_then_read_gives_the_same_label_map(values):
    seg = as_celantur_instances(values)
    with tempfile.TemporaryDirectory() as folder:
        files = celantur.write_instance(seg, Path(folder) / "x.png")
        assert [f.name for f in files] == ["x_ins_maks.png", "x.json"]
        assert celantur.instance_losses(seg) == []
        back = celantur.read_instance(files[0])
    np.testing.assert_array_equal(back.labels, seg.labels)
    assert {s.id: s.label for s in back.table} == {s.id: s.label for s in seg.table}
    assert {s.id: s.source_value for s in back.table} == {s.id: s.source_value for s in seg.table}


def test_written_metadata_spells_is_anonymized_and_scores_come_back(tmp_path):
    seg = celantur.read_instance(save_rgb(tmp_path / "a_ins_maks.png", small_instance_rgb()))
    face = next(s for s in seg.table if s.label == "face")
    seg.table.update(face.id, score=0.75)
    mask, meta = celantur.write_instance(seg, tmp_path / "out" / "b.png", image_name="b.jpg")
    data = json.loads(meta.read_text(encoding="utf-8"))
    assert meta.name == "b.json" and data["id"] == data["filename"] == "b.jpg"
    assert data["size"] == [16, 12] and len(data["detections"]) == 5
    written = next(d for d in data["detections"] if d["type_label"] == "face")
    assert "is_anonymized" in written and "is_anonymised" not in written
    assert written["bbox"] == [1, 1, 5, 4] and written["offset"] == [1, 1]
    assert written["score"] == 0.75 and written["parent_image"] == "b.jpg"
    back = celantur.read_instance(mask)
    assert next(s for s in back.table if s.label == "face").score == 0.75
    assert "unmatched_detections" not in back.provenance.details


# -- metadata beside the mask -------------------------------------------------------
def test_doc_example_matches_the_face_of_a_mask_scale_mask(tmp_path):
    """doc-derived: the documentation's JSON (fixed) beside a 1/16 --mask-scale mask."""
    save_json(tmp_path / "image-name.json", DOC_EXAMPLE_FIXED)
    rgb = np.zeros((324, 216, 3), np.uint8)  # 3456x5184 / 16
    rgb[46:116, 122:188] = (192, 85, 0)      # the example box [1957, 744, 3003, 1855] / 16
    seg = celantur.read_instance(save_rgb(tmp_path / "image-name_ins_maks.png", rgb))
    details = seg.provenance.details
    assert seg.shape == (5184, 3456)
    assert details["upscaled_from"] == [216, 324] and details["mask_scale"] == 6.2
    assert any("upscaled with nearest neighbour" in w for w in details["warnings"])
    face = next(s for s in seg.table if s.label == "face")
    assert face.score == 0.9993754029273987
    attrs = face.attributes
    assert attrs["type"] == 103 and attrs["is_anonymized"] is True
    assert attrs["offset"] == [1560, 744] and attrs["bbox_xyxy"] == [1957, 744, 3003, 1855]
    assert details["celantur"]["duration"] == 1.85 and details["celantur"]["folder"] is None
    assert details["detections"] == DOC_EXAMPLE_FIXED["detections"]


def test_doc_example_as_published_is_a_syntax_error_with_line_and_column(tmp_path):
    """doc-derived: the example exactly as broken as published (detections never closed)."""
    text = json.dumps(DOC_EXAMPLE_FIXED, indent=2).replace("\n  ],\n", "\n,\n", 1)
    path = tmp_path / "image-name.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReadError, match=r"image-name\.json: JSON syntax error at line \d+, "
                                        r"column \d+"):
        celantur.read_metadata(path)


def test_doc_example_alone_is_read_as_its_box(tmp_path):
    """doc-derived: without a mask beside it, the detection becomes a box segment."""
    path = save_json(tmp_path / "image-name.json", DOC_EXAMPLE_FIXED)
    assert SPECS["celantur-metadata"].accepts(path)
    seg = celantur.read_metadata(path)
    face = next(s for s in seg.table if s.label == "face")
    assert seg.shape == (5184, 3456)
    assert face.bbox == (744, 1957, 1855, 3003) and face.class_id == 192
    assert face.attributes["from_box"] is True and face.attributes["type"] == 103
    assert celantur.items(path) == []


@pytest.mark.parametrize("key", ["is_anonymized", "is_anonymised"])
def test_both_spellings_of_is_anonymized(tmp_path, key):
    save_rgb(tmp_path / "p_ins_mask.png", small_instance_rgb())
    det = {"id": 4, "bbox": [1, 1, 5, 4], "type_label": "Face", "score": 0.5, key: False}
    save_json(tmp_path / "p.json", {"detections": [det]})  # every other key missing
    seg = celantur.read_instance(tmp_path / "p_ins_mask.png")
    face = next(s for s in seg.table if s.label == "face")
    assert face.attributes["is_anonymized"] is False and face.attributes["detection_id"] == 4


def test_detections_that_match_nothing_stay_in_the_details(tmp_path):
    save_rgb(tmp_path / "q_ins_maks.png", small_instance_rgb())
    dets = [{"id": 1, "bbox": [1, 1, 5, 4], "type_label": "vehicle"},   # wrong type
            {"id": 2, "bbox": [1, 6, 2, 7], "type_label": "person"},    # too little overlap
            {"id": 3, "type_label": "face"}]                            # no box
    save_json(tmp_path / "q.json", {"detections": dets, "size": [16, 12]})
    seg = celantur.read_instance(tmp_path / "q_ins_maks.png")
    assert seg.provenance.details["unmatched_detections"] == [1, 2, 3]
    assert all(s.score is None for s in seg.table)
    assert any("3 of 3 detections in q.json match no mask segment" in w
               for w in seg.provenance.details["warnings"])
    _mask, meta = celantur.write_instance(seg, tmp_path / "r.png")
    written = json.loads(meta.read_text(encoding="utf-8"))["detections"]
    assert [d["id"] for d in written if d["id"] in (1, 2, 3)] == [1, 2, 3]


def test_a_damaged_metadata_file_beside_the_mask_only_warns(tmp_path):
    save_rgb(tmp_path / "s_ins_maks.png", small_instance_rgb())
    (tmp_path / "s.json").write_text('{"detections": [', encoding="utf-8")
    seg = celantur.read_instance(tmp_path / "s_ins_maks.png")
    assert any("s.json: JSON syntax error at line 1" in w
               for w in seg.provenance.details["warnings"])


def test_metadata_file_reads_the_mask_beside_it(tmp_path):
    save_rgb(tmp_path / "t_ins_maks.png", small_instance_rgb())
    path = save_json(tmp_path / "t.json", {"id": "t.jpg", "detections": []})
    seg = celantur.read_metadata(path)
    assert seg.provenance.format == "celantur-instance" and len(seg.table) == 6


# -- --mask-scale ---------------------------------------------------------------------
def test_smaller_mask_of_the_same_aspect_ratio_is_upscaled_nearest(tmp_path):
    rgb = np.zeros((25, 50, 3), np.uint8)
    rgb[5:10, 10:20] = (128, 3, 0)
    path = save_rgb(tmp_path / "u_ins_maks.png", rgb)
    seg = celantur.read_instance(path, image_size=(101, 51))  # 50/101 and 25/51: rounding
    assert seg.shape == (51, 101)
    assert seg.provenance.details["upscaled_from"] == [50, 25]
    assert {s.source_value for s in seg.table} == {(0, 0, 0), (128, 3, 0)}


def test_larger_mask_or_other_aspect_ratio_is_refused(tmp_path):
    path = save_rgb(tmp_path / "v_ins_maks.png", np.zeros((20, 40, 3), np.uint8))
    with pytest.raises(ReadError, match=r"v_ins_maks\.png: the mask is 40x20, larger than"):
        celantur.read_instance(path, image_size=(30, 15))
    with pytest.raises(ReadError, match=r"v_ins_maks\.png: .*another aspect ratio"):
        celantur.read_instance(path, image_size=(80, 80))
    save_json(tmp_path / "v.json", {"size": [20, 10]})
    with pytest.raises(ReadError, match=r"larger than the size in v\.json \(20x10\)"):
        celantur.read_instance(path)


# -- video chunks -------------------------------------------------------------------
def frame(frame_id: int, *detections) -> dict:
    return {"id": frame_id, "detections": list(detections), "size": [32, 24], "duration": 0.1}


def test_video_chunk_lists_frames_and_reads_each_as_boxes(tmp_path):
    person = {"id": 0, "bbox": [2, 3, 12, 20], "score": 0.8, "type_label": "person",
              "is_anonymized": True, "type": 7}
    face = {"id": 1, "bbox": [4, 4, 8, 9], "score": 0.9, "type_label": "face"}
    path = save_json(tmp_path / "clip-0-499.json", [frame(0), frame(1, person, face), frame(499)])
    assert SPECS["celantur-metadata"].accepts(path)
    assert celantur.items(path) == ["0", "1", "499"]
    seg = celantur.read_metadata(path, item="1")
    assert seg.provenance.details["frame"] == 1 and seg.shape == (24, 32)
    rows = {s.label: s for s in seg.table}
    assert rows["face"].area == 20 and rows["face"].score == 0.9
    assert rows["person"].area == 170 - 20            # the face box is on top
    np.testing.assert_array_equal(seg.mask_of(rows["person"].id)[3:20, 2:12], True)
    assert len(celantur.read_metadata(path).table) == 1  # frame 0: background only


@pytest.mark.parametrize(("name", "frames", "message"), [
    ("clip-0-499.json", [frame(i) for i in range(501)], "holds 501 frames; .* at most 500"),
    ("clip-0-499.json", [frame(0), frame(612)], "has id 612, outside 0-499"),
    ("clip-0-999.json", [frame(0)], r"frames 0-999 \(1000 frames\)"),
    ("clip-9-3.json", [frame(5)], "run backwards"),
    ("clip-0-9.json", [frame(2), frame(2)], "frame id 2 appears twice"),
    ("clip-0-9.json", [frame(0), {"id": "x"}], "id 'x' is not a frame number"),
])
def test_chunk_validation_names_the_file_and_the_problem(tmp_path, name, frames, message):
    path = save_json(tmp_path / name, frames)
    with pytest.raises(ReadError, match=message) as info:
        celantur.items(path)
    assert info.value.path == path
    with pytest.raises(ReadError, match=message):
        celantur.read_metadata(path)


def test_unknown_frame_and_missing_size_are_errors(tmp_path):
    path = save_json(tmp_path / "clip-10-19.json", {"frames": [frame(10), {"id": 11}]})
    with pytest.raises(ReadError, match=r"no frame '3' \(it holds 2 frames: 10, 11\)"):
        celantur.read_metadata(path, item="3")
    with pytest.raises(ReadError, match="no 'size' to draw its boxes in"):
        celantur.read_metadata(path, item="11")
    assert celantur.read_metadata(path, item="11", image_size=(8, 6)).shape == (6, 8)


# -- writing what does not fit --------------------------------------------------------
def test_classes_beyond_the_four_types_are_reported_and_written_as_background(tmp_path):
    values = np.array([[0, 1, 2], [3, 3, 0]], np.uint8)
    seg = Segmentation.from_values(values, names={0: "background", 1: "tree", 2: "Person",
                                                  3: "sky"})
    lost = celantur.instance_losses(seg)
    assert lost[0].startswith("2 classes beyond the 4 Celantur types") and "sky, tree" in lost[0]
    assert "'Person' -> 'person'" in lost[1]
    mask = celantur.write_instance(seg, tmp_path / "w.png", metadata=False)[0]
    rgb = png_rgb(mask)
    assert tuple(rgb[0, 2]) == (128, 1, 0)
    assert not rgb[0, 1].any() and not rgb[1].any()


def test_more_than_256_instances_of_a_type_is_a_loss(tmp_path):
    values = np.arange(300, dtype=np.int32).reshape(15, 20) + 1
    seg = Segmentation.from_values(values, kind=Kind.INSTANCE, names=dict.fromkeys(
        range(1, 301), "face"))
    (lost,) = celantur.instance_losses(seg)
    assert "300 face instances" in lost and "44 are merged" in lost
    mask = celantur.write_instance(seg, tmp_path / "many.png", metadata=False)[0]
    rgb = png_rgb(mask)
    assert set(rgb[..., 0].ravel().tolist()) == {192}
    assert len(np.unique(rgb[..., 1])) == 256


# -- binary masks -------------------------------------------------------------------
def test_binary_mask_round_trip(tmp_path):
    grey = np.zeros((7, 9), np.uint8)
    grey[2:5, 3:8] = 255
    path = tmp_path / "photo_bin_mask.png"
    Image.fromarray(grey, "L").save(path)
    assert SPECS["celantur-binary"].accepts(path)
    assert not SPECS["celantur-instance"].accepts(path)
    seg = celantur.read_binary(path)
    assert seg.kind is Kind.BINARY
    assert {s.value: s.label for s in seg.table} == {0: "background", 255: "anonymised"}
    assert celantur.binary_losses(seg) == []
    (out,) = celantur.write_binary(seg, tmp_path / "again.png")
    assert out.name == "again_bin_mask.png"
    with Image.open(out) as img:
        assert img.mode == "L"
        np.testing.assert_array_equal(np.asarray(img), grey)


def test_binary_mask_upscaled_from_json_size_and_odd_greys_kept(tmp_path):
    grey = np.zeros((4, 6), np.uint8)
    grey[1, 1:3] = 255
    grey[3, 5] = 128
    Image.fromarray(grey, "L").save(tmp_path / "g_bin_mask.png")
    save_json(tmp_path / "g.json", {"size": [12, 8], "detections": [{"id": 0}]})
    seg = celantur.read_binary(tmp_path / "g_bin_mask.png")
    assert seg.shape == (8, 12) and seg.provenance.details["upscaled_from"] == [6, 4]
    assert seg.provenance.details["detections"] == [{"id": 0}]
    odd = next(s for s in seg.table if s.value == 128)
    assert odd.label == "unknown" and odd.area == 4
    assert any("1 grey levels other than black" in w for w in seg.provenance.details["warnings"])


def test_binary_write_merges_classes_and_says_so(tmp_path):
    seg = Segmentation.from_values(np.array([[0, 1, 2]], np.uint8),
                                   names={0: "background", 1: "face", 2: "person"})
    (lost,) = celantur.binary_losses(seg)
    assert lost.startswith("2 segments become one white 'anonymised' region")
    (out,) = celantur.write_binary(seg, tmp_path / "m_bin_mask.png")
    with Image.open(out) as img:
        assert np.asarray(img).tolist() == [[0, 255, 255]]


def test_coloured_binary_mask_is_refused(tmp_path):
    rgb = np.zeros((3, 3, 3), np.uint8)
    rgb[1, 1] = (192, 85, 0)
    path = save_rgb(tmp_path / "c_bin_mask.png", rgb)
    with pytest.raises(ReadError, match=r"c_bin_mask\.png: 1 pixels are coloured"):
        celantur.read_binary(path)


# -- bad input ----------------------------------------------------------------------
def test_truncated_png_names_the_file(tmp_path):
    path = save_rgb(tmp_path / "cut_ins_maks.png", np.full((40, 40, 3), 128, np.uint8))
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(ReadError, match=r"cut_ins_maks\.png: cannot decode image"):
        celantur.read_instance(path)


def test_metadata_that_is_not_an_object_is_refused(tmp_path):
    path = save_json(tmp_path / "n.json", "detections")
    with pytest.raises(ReadError, match=r"n\.json: expected Celantur metadata"):
        celantur.read_metadata(path)


def test_metadata_sniffer_leaves_other_json_alone(tmp_path):
    nucleus = save_json(tmp_path / "n.json", {"mask_url": "m.png", "annotations": []})
    assert not celantur.sniff_metadata(nucleus)
    chunk = save_json(tmp_path / "clip-0-1.json", [frame(0)])
    assert celantur.sniff_metadata(chunk)
