"""Our metadata JSON: matches its schema, records every segment, restores labels."""

import json

import jsonschema
import numpy as np
import pytest

from viewer import __version__
from viewer.core import metadata
from viewer.core.errors import ReadError, WriteError
from viewer.core.export import export
from viewer.core.formats.registry import read_mask
from viewer.core.segmentation import FullMask, Kind, Segmentation


def _seg():
    values = np.zeros((4, 5), np.int32)
    values[0:2, 1:4] = 7
    values[3, :] = -1
    return Segmentation.from_values(values, names={0: "background", 7: "car"}, void_values=(-1,))


def test_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(metadata.schema())


def test_export_writes_a_document_the_schema_accepts(tmp_path):
    seg = _seg()
    result = export(seg, "label-npy", tmp_path, "frame", image=tmp_path / "photo.jpg",
                    image_size=(5, 4), palette=("voc", "PASCAL VOC"))
    doc = json.loads(result.metadata.read_text())
    jsonschema.validate(doc, metadata.schema())
    assert doc["app_version"] == __version__ and doc["schema_version"] == 1
    assert doc["source_image"] == {"file_name": "photo.jpg", "width": 5, "height": 4}
    assert doc["mask_files"] == ["frame.npy"] and doc["kind"] == "semantic"
    car = next(s for s in doc["segments"] if s["label"] == "car")
    assert car["area"] == 6 and car["area_fraction"] == pytest.approx(6 / 20)
    assert car["bbox"] == {"x": 1, "y": 0, "width": 3, "height": 2}
    void = next(s for s in doc["segments"] if s["void"])
    assert void["source_values"] == [-1]
    assert doc["provenance"]["source_format"] is None


def test_sidecar_restores_labels_and_colours_on_read(tmp_path):
    seg = _seg()
    car = next(s for s in seg.table if s.label == "car")
    seg.table.update(car.id, label="my car", color=(1, 2, 3))
    result = export(seg, "index-png", tmp_path, "m")
    assert result.lost == ["value -1 is written as 255, the VOC void value, as labelme does"]
    back = read_mask(result.files[0])
    restored = next(s for s in back.table if s.value == 7)
    assert restored.label == "my car" and restored.color == (1, 2, 3)


def test_mask_of_another_size_than_the_image_is_refused(tmp_path):
    with pytest.raises(WriteError, match=r"m\.npy: the mask is 5x4 but the image is 6x4"):
        export(_seg(), "label-npy", tmp_path, "m", image_size=(6, 4))
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_covered_pixels_are_recorded():
    labels = np.zeros((3, 3), np.uint8)
    labels[0:2, 0:2] = 2
    full = np.ones((2, 3), bool)  # segment 1 spans rows 0-1 fully; 2 covers 4 of its pixels
    labels[0:2, 2] = 1
    seg = Segmentation(labels, kind=Kind.INSTANCE, full_masks={1: FullMask((0, 0, 2, 3), full)})
    assert seg.covered_pixels() == 4
    assert seg.mask_of(1).sum() == 6
    doc = metadata.build(seg, mask_files=["x.png"], format_name="coco-rle")
    one = next(s for s in doc["segments"] if s["id"] == 1)
    assert one["covered_pixels"] == 4 and one["area"] == 2
    assert metadata.first_problem(doc) is None


def test_video_document_has_one_record_per_frame():
    frames = [(i, i / 25, _seg(), [f"f{i}.png"]) for i in range(3)]
    doc = metadata.build_video(frames, format_name="index-png", image="clip.mp4")
    assert [f["frame"] for f in doc["frames"]] == [0, 1, 2]
    assert metadata.first_problem(doc) is None


def test_invalid_documents_are_refused_with_the_place(tmp_path):
    doc = metadata.build(_seg(), mask_files=["m.png"], format_name="index-png")
    doc["segments"][0]["color"] = [300, 0, 0]
    assert "segments/0/color/0" in metadata.first_problem(doc)
    with pytest.raises(WriteError, match="does not match its schema"):
        metadata.write(tmp_path / "m.segview.json", doc)
    bad = tmp_path / "bad.segview.json"
    bad.write_text('{"schema": "segview-metadata",\n oops}')
    with pytest.raises(ReadError, match=r"bad\.segview\.json: JSON syntax error at line 2"):
        metadata.read(bad)


# -- a sidecar applies only to the mask it describes (issue 16) ----------------------------


def _exported(tmp_path):
    values = np.zeros((4, 5), np.int32)
    values[0:2, 1:4] = 7
    seg = Segmentation.from_values(values, names={0: "background", 7: "my car"})
    result = export(seg, "label-npy", tmp_path, "frame")
    assert any(s.label == "my car" for s in read_mask(result.files[0]).table)
    return result


def _warnings(seg):
    return seg.provenance.details.get("warnings", [])


def test_the_sidecar_records_each_mask_files_hash(tmp_path):
    import hashlib

    result = _exported(tmp_path)
    doc = metadata.read(result.metadata)
    assert doc["mask_sha256"] == {
        "frame.npy": hashlib.sha256(result.files[0].read_bytes()).hexdigest()}


def test_a_sidecar_of_another_mask_is_ignored_with_a_warning(tmp_path):
    result = _exported(tmp_path)
    values = np.zeros((4, 5), np.int32)
    values[1, 1] = 7
    np.save(result.files[0], values)  # another mask under the same name
    back = read_mask(result.files[0])
    assert all(s.label != "my car" for s in back.table)
    assert any("frame.segview.json" in w and "another version" in w for w in _warnings(back))


def test_a_sidecar_of_another_size_is_ignored(tmp_path):
    result = _exported(tmp_path)
    doc = json.loads(result.metadata.read_text())
    doc.pop("mask_sha256")  # an old sidecar: size alone decides
    doc["width"] = 50
    result.metadata.write_text(json.dumps(doc))
    back = read_mask(result.files[0])
    assert any("50x4" in w for w in _warnings(back))


def test_an_old_sidecar_without_hashes_still_applies(tmp_path):
    result = _exported(tmp_path)
    doc = json.loads(result.metadata.read_text())
    doc.pop("mask_sha256")
    result.metadata.write_text(json.dumps(doc))
    back = read_mask(result.files[0])
    assert any(s.label == "my car" for s in back.table) and _warnings(back) == []


@pytest.mark.parametrize("text", ["{not json", '{"schema": 5}', "[" * 100000 + "]" * 100000,
                                  '{"a": 1' + "0" * 5000 + "}", "\xff\xfe"])
def test_a_damaged_sidecar_never_stops_the_mask_from_opening(tmp_path, text):
    result = _exported(tmp_path)
    result.metadata.write_bytes(text.encode("utf-8", "surrogateescape")
                                if text != "\xff\xfe" else b"\xff\xfe")
    back = read_mask(result.files[0])
    assert back.shape == (4, 5)
    assert any("frame.segview.json" in w for w in _warnings(back))
