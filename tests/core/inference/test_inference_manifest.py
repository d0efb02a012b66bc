"""Manifests: the bundled one, round trips, and errors that name the file and the field."""

import json

import pytest
from onnx_graphs import identity, manifest_doc

from viewer import _paths
from viewer.core.errors import ModelError
from viewer.core.inference.manifest import (
    ColorOrder,
    Layout,
    OutputKind,
    OutputRole,
    ResizeMode,
    first_problem,
    load_manifest,
    manifest_from_json,
    save_manifest,
)

BUNDLED = _paths.models_dir() / "selfie_segmentation.json"


def write(path, doc):
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.fixture
def doc(tmp_path):
    return manifest_doc(identity(tmp_path / "id.onnx"))


def test_bundled_selfie_manifest():
    manifest = load_manifest(BUNDLED)
    assert manifest.id == "selfie"
    assert manifest.model_path == _paths.models_dir() / "selfie_segmentation.onnx"
    assert manifest.sha256 == "b1d2ed687ed1837555608f90e5583d456c8fa3e9940416457dbd440ce0bcc534"
    assert manifest.class_names == ("background", "person")
    spec = manifest.input
    assert (spec.name, spec.size, spec.layout, spec.color_order, spec.resize) == (
        "input", (256, 256), Layout.NCHW, ColorOrder.RGB, ResizeMode.STRETCH)
    assert spec.scale == pytest.approx(1 / 255) and spec.mean == (0.0,) and spec.std == (1.0,)
    output = manifest.labels_output
    assert (output.name, output.kind, output.class_axis) == ("output", OutputKind.SIGMOID, 1)
    assert manifest.gate_output is None
    assert "Apache-2.0" in manifest.licence and "mediapipe" in manifest.source
    palette = manifest.class_palette()
    assert palette.color(1) == (192, 128, 128) and palette.name_of(1) == "person"


def test_save_and_load_round_trip(tmp_path, doc):
    doc["outputs"] = [
        {"name": "y", "kind": "logits", "class_axis": 3, "role": "labels", "class_offset": 1},
        {"name": "g", "kind": "sigmoid", "class_axis": 3, "role": "gate", "threshold": 0.3},
    ]
    doc["class_names"] = ["background", "a", "b", "c"]
    doc["palette"] = "voc"
    doc["input"].update(layout="NHWC", color_order="BGR", mean=[1, 2, 3], std=[4, 5, 6],
                        resize="letterbox", pad_value=114, size=None)
    manifest = manifest_from_json(doc, tmp_path / "m.json")
    saved = save_manifest(manifest, tmp_path / "copy.json")
    again = load_manifest(saved)
    assert again == manifest
    assert again.gate_output.role is OutputRole.GATE and again.gate_output.threshold == 0.3
    assert again.input.mean == (1.0, 2.0, 3.0) and again.input.size is None
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically
    assert first_problem(json.loads(saved.read_text())) is None


def test_voc_palette_colours_by_class(tmp_path, doc):
    doc["palette"] = "voc"
    manifest = manifest_from_json(doc)
    assert manifest.class_palette().color(1) == (128, 0, 0)


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d.pop("sha256"), "top level: 'sha256' is a required property"),
    (lambda d: d.update(sha256="abc"), "sha256: 'abc' does not match"),
    (lambda d: d["input"].update(layout="CHW"), "input/layout: 'CHW' is not one of"),
    (lambda d: d["input"].update(color_order="rgb"), "input/color_order"),
    (lambda d: d["input"].update(resize="crop"), "input/resize"),
    (lambda d: d["input"].update(size=[256]), "input/size"),
    (lambda d: d["input"].update(scale=0), "input/scale"),
    (lambda d: d["input"].update(mean=[1, 2]), "input/mean"),
    (lambda d: d["outputs"][0].update(kind="softmax"), "outputs/0/kind"),
    (lambda d: d.update(class_names=[]), "class_names"),
    (lambda d: d.update(threshold=1.5), "threshold"),
    (lambda d: d.update(colour="red"), "Additional properties are not allowed ('colour'"),
    (lambda d: d.update(schema="segview-palette"), "schema"),
    (lambda d: d["outputs"][0].pop("class_axis"), "outputs/0/class_axis: a logits output needs"),
    (lambda d: d["input"].update(std=[1, 0, 1]), "input/std: must be positive"),
    (lambda d: d.update(palette=[[0, 0, 0]]), "palette: 1 colours for 3 classes"),
    (lambda d: d.update(palette="no-such-palette"), "palette: unknown palette 'no-such-palette'"),
    (lambda d: d["outputs"][0].update(role="gate"), "outputs: exactly one output"),
    (lambda d: d["outputs"].append({"name": "z", "kind": "logits", "class_axis": 1}),
     "outputs: exactly one output"),
    (lambda d: d["outputs"].append({"name": "z", "kind": "class_map", "role": "gate"}),
     "outputs/1/kind: a gate is"),
    (lambda d: d["outputs"][0].update(kind="sigmoid", class_offset=1), "outputs/0/class_offset"),
])
def test_errors_name_the_file_and_the_field(tmp_path, doc, change, field):
    change(doc)
    path = write(tmp_path / "broken.json", doc)
    with pytest.raises(ModelError) as info:
        load_manifest(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert field in message, message


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ModelError, match="file not found"):
        load_manifest(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "segview-model",\n  "id": }', encoding="utf-8")
    with pytest.raises(ModelError, match=r"bad\.json: .*line 2"):
        load_manifest(bad)


def test_saving_an_invalid_manifest_writes_nothing(tmp_path, doc):
    manifest = manifest_from_json(doc)
    broken = manifest.__class__(**{**manifest.__dict__, "class_names": ()})
    with pytest.raises(ModelError, match="class_names"):
        save_manifest(broken, tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()
