"""Model folders, finding models by id or file, describing any ONNX file."""

import json
import os

import numpy as np
import pytest
from onnx_graphs import argmax_map, identity, manifest_doc

from viewer import _paths
from viewer.core.errors import ModelError
from viewer.core.inference import registry
from viewer.core.inference.manifest import Layout, OutputKind, load_manifest, save_manifest
from viewer.core.inference.registry import (
    describe_onnx,
    find_model,
    list_models,
    model_dirs,
    install_model,
    relocate,
    scan_models,
)
from viewer.core.inference.runner import ModelRunner


def add_model(folder, name="tiny", **kwargs):
    folder.mkdir(parents=True, exist_ok=True)
    model = identity(folder / f"{name}.onnx")
    doc = manifest_doc(model, **kwargs)
    (folder / f"{name}.json").write_text(json.dumps(doc), encoding="utf-8")
    return folder / f"{name}.json"


def test_folders_in_search_order(tmp_path, monkeypatch, _isolated_model_dirs):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    monkeypatch.setenv(registry.ENV_VAR, os.pathsep.join([str(b), str(c), ""]))
    assert model_dirs([a, b]) == [a, b, c, _isolated_model_dirs, _paths.models_dir()]


def test_bundled_model_is_found_by_default():
    assert [m.id for m in list_models()] == ["selfie"]
    assert find_model("selfie").model_path.is_file()


def test_user_folder_and_extra_folders(tmp_path, monkeypatch, _isolated_model_dirs):
    add_model(_isolated_model_dirs, "mine")
    add_model(tmp_path / "env", "from-env")
    add_model(tmp_path / "extra", "from-extra")
    monkeypatch.setenv(registry.ENV_VAR, str(tmp_path / "env"))
    ids = [m.id for m in list_models([tmp_path / "extra"])]
    assert ids == ["from-extra", "from-env", "mine", "selfie"]


def test_first_folder_wins_for_an_id(tmp_path):
    path = add_model(tmp_path / "extra", "tiny", id="selfie")
    assert find_model("selfie", [tmp_path / "extra"]).path == path


def test_broken_manifests_are_reported_not_fatal(tmp_path):
    folder = tmp_path / "models"
    add_model(folder, "good")
    (folder / "broken.json").write_text('{"schema": "segview-model", "id": 3}', encoding="utf-8")
    (folder / "labels.json").write_text('["not", "a", "manifest"]', encoding="utf-8")
    scan = scan_models([folder])
    assert [m.id for m in scan.models] == ["good", "selfie"]
    assert len(scan.problems) == 1 and "broken.json" in str(scan.problems[0])


def test_find_by_manifest_or_onnx_file(tmp_path):
    path = add_model(tmp_path / "beside", "tiny")
    assert find_model(path).path == path
    assert find_model(tmp_path / "beside" / "tiny.onnx").path == path
    # an ONNX file named by a manifest in a model folder, not beside it (in a subfolder:
    # a manifest may name only a model inside its own folder)
    folder = tmp_path / "models"
    (folder / "weights").mkdir(parents=True)
    model = (tmp_path / "beside" / "tiny.onnx").rename(folder / "weights" / "tiny.onnx")
    doc = json.loads(path.read_text())
    doc.update(id="elsewhere", file="weights/tiny.onnx")
    (folder / "elsewhere.json").write_text(json.dumps(doc), encoding="utf-8")
    assert find_model(model, [folder]).id == "elsewhere"


def test_find_errors(tmp_path):
    with pytest.raises(ModelError, match="no model 'nope'; known models: selfie"):
        find_model("nope")
    with pytest.raises(ModelError, match="model file not found"):
        find_model(tmp_path / "absent.onnx")
    identity(tmp_path / "lonely.onnx")
    with pytest.raises(ModelError, match="no manifest describes this model; `segview models "
                                         "--describe FILE`"):
        find_model(tmp_path / "lonely.onnx")
    (tmp_path / "other.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelError, match="not a model manifest"):
        find_model(tmp_path / "other.json")


def test_describe_a_fixed_size_nchw_graph(tmp_path):
    model = identity(tmp_path / "net.onnx", shape=(1, 3, 16, 24))
    description = describe_onnx(model)
    assert [(t.name, t.shape, t.dtype) for t in description.inputs] == [
        ("x", (1, 3, 16, 24), "float")]
    assert [(t.name, t.shape) for t in description.outputs] == [("y", (1, 3, 16, 24))]
    manifest = description.manifest
    assert (manifest.input.name, manifest.input.size, manifest.input.layout) == (
        "x", (16, 24), Layout.NCHW)
    assert (manifest.labels_output.kind, manifest.labels_output.class_axis) == (
        OutputKind.LOGITS, 1)
    assert manifest.class_names == ("class 0", "class 1", "class 2")
    assert any("guesses" in note for note in description.notes)
    # The pre-filled manifest is valid, saved beside the model and runs as it is.
    saved = save_manifest(manifest, manifest.path)
    seg = ModelRunner(load_manifest(saved)).run(np.zeros((16, 24, 3), np.uint8))
    assert seg.shape == (16, 24)
    assert json.loads(json.dumps(description.to_json()))["inputs"][0]["shape"] == [1, 3, 16, 24]


def test_describe_a_dynamic_nhwc_graph(tmp_path):
    description = describe_onnx(identity(tmp_path / "nhwc.onnx", shape=(1, "h", "w", 3)))
    manifest = description.manifest
    assert manifest.input.layout is Layout.NHWC and manifest.input.size is None
    assert manifest.labels_output.class_axis == 3


def test_describe_a_class_map_graph(tmp_path):
    manifest = describe_onnx(argmax_map(tmp_path / "map.onnx")).manifest
    assert manifest.labels_output.kind is OutputKind.CLASS_MAP


def test_describe_a_bad_file(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(ModelError, match="bad.onnx: onnxruntime cannot load this model"):
        describe_onnx(bad)


def test_describe_bodypix_lists_its_outputs(shared_model):
    description = describe_onnx(shared_model("bodypix_mobilenetv1_x050_stride16.onnx"))
    names = {t.name for t in description.outputs}
    assert {"segments", "part_heatmaps", "heatmaps", "short_offsets", "long_offsets",
            "part_offsets", "displacement_fwd", "displacement_bwd"} == names
    shapes = {t.name: t.shape for t in description.outputs}
    assert shapes["segments"] == (1, None, None, 1)
    assert shapes["part_heatmaps"] == (1, None, None, 24)
    manifest = description.manifest
    assert manifest.input.layout is Layout.NHWC and manifest.input.size is None
    assert manifest.labels_output.name == "segments" and manifest.labels_output.class_axis == 3


def test_relocate_keeps_the_model_reachable(tmp_path):
    description = describe_onnx(identity(tmp_path / "net.onnx"))
    inside = relocate(description.manifest, tmp_path / "net.json")
    assert inside.file == "net.onnx"
    below = relocate(description.manifest, tmp_path.parent / "net.json")
    assert below.file == f"{tmp_path.name}/net.onnx"
    with pytest.raises(ModelError, match="outside .*a manifest may only name a model in its"):
        relocate(description.manifest, tmp_path / "user" / "net.json")


def test_install_model_copies_a_model_from_elsewhere_beside_the_manifest(tmp_path):
    description = describe_onnx(identity(tmp_path / "net.onnx"))
    installed = install_model(description.manifest, tmp_path / "user" / "net.json")
    assert installed.file == "net.onnx"
    assert (tmp_path / "user" / "net.onnx").read_bytes() == (tmp_path / "net.onnx").read_bytes()
    assert load_manifest(save_manifest(installed, installed.path)).model_path.is_file()
    # a second save finds the same model there and keeps it; a different one is refused
    assert install_model(description.manifest, tmp_path / "user" / "net.json").file == "net.onnx"
    (tmp_path / "user" / "net.onnx").write_bytes(b"other")
    with pytest.raises(ModelError, match="another file is already called net.onnx"):
        install_model(description.manifest, tmp_path / "user" / "net.json")


@pytest.mark.parametrize("file_name", ["net.labels.txt", "net.onnx.labels.txt"])
def test_describe_takes_class_names_from_the_labels_file_beside_the_model(tmp_path, file_name):
    model = identity(tmp_path / "net.onnx", shape=(1, 3, 16, 24))
    (tmp_path / file_name).write_text("background\nperson\ncar\n\n", encoding="utf-8")
    description = describe_onnx(model)
    assert description.manifest.class_names == ("background", "person", "car")
    assert any(f"class names from {file_name}" in note for note in description.notes)
    saved = save_manifest(description.manifest, description.manifest.path)
    assert load_manifest(saved).class_names == ("background", "person", "car")


def test_describe_says_when_the_labels_file_does_not_match_the_channels(tmp_path):
    model = identity(tmp_path / "net.onnx", shape=(1, 3, 16, 24))
    (tmp_path / "net.labels.txt").write_text("a\nb\n", encoding="utf-8")
    description = describe_onnx(model)
    assert description.manifest.class_names == ("a", "b")
    assert any("names 2 classes, the output has 3 channels" in n for n in description.notes)


def test_an_empty_labels_file_is_an_error_naming_it(tmp_path):
    model = identity(tmp_path / "net.onnx", shape=(1, 3, 16, 24))
    (tmp_path / "net.labels.txt").write_text("\n", encoding="utf-8")
    with pytest.raises(ModelError, match=r"net\.labels\.txt: the labels file names no class"):
        describe_onnx(model)
