"""The runner: lazy sessions, providers, clear errors for bad models, photos from files."""

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx_graphs import identity, manifest_for, save_graph, tensor
from PIL import Image

from viewer.core.errors import ModelError, ReadError
from viewer.core.inference.manifest import manifest_from_json
from viewer.core.inference.runner import ModelRunner
from viewer.core.inference.session import available_providers, resolve_providers


def test_session_is_created_on_first_use(tmp_path):
    runner = ModelRunner(manifest_for(identity(tmp_path / "id.onnx")))
    assert not runner.loaded
    runner.run(np.zeros((8, 8, 3), np.uint8))
    assert runner.loaded
    assert runner.active_providers[-1] == "CPUExecutionProvider"


def test_importing_the_inference_package_does_not_import_onnxruntime():
    code = ("import sys, viewer.core.inference, viewer.cli_segment\n"
            "sys.exit(1 if 'onnxruntime' in sys.modules else 0)\n")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_providers():
    available = available_providers()
    assert available[-1] == "CPUExecutionProvider"
    assert "AzureExecutionProvider" not in available
    assert resolve_providers(None) == ["CPUExecutionProvider"]
    assert resolve_providers(["cpu"]) == ["CPUExecutionProvider"]
    with pytest.raises(ModelError, match="'nosuch' is not available here; available: .*CPU"):
        resolve_providers(["nosuch"])


def test_missing_model_file(tmp_path):
    manifest = manifest_for(identity(tmp_path / "id.onnx"))
    (tmp_path / "id.onnx").unlink()
    with pytest.raises(ModelError, match=r"id\.onnx: model file not found"):
        ModelRunner(manifest).run(np.zeros((8, 8, 3), np.uint8))


def test_sha256_mismatch(tmp_path):
    manifest = replace(manifest_for(identity(tmp_path / "id.onnx")), sha256="0" * 64)
    with pytest.raises(ModelError) as info:
        ModelRunner(manifest).load()
    message = str(info.value)
    assert message.startswith(str(tmp_path / "id.onnx")) and "sha256 mismatch" in message
    assert "0" * 64 in message and "id.json" in message


def test_bad_model_file(tmp_path):
    model = tmp_path / "bad.onnx"
    identity(model)
    model.write_bytes(b"this is not a protobuf" * 10)
    with pytest.raises(ModelError) as info:
        ModelRunner(manifest_for(model)).load()
    message = str(info.value)
    assert message.startswith(str(model)) and "onnxruntime cannot load this model" in message
    assert "Traceback" not in message and "[ONNXRuntimeError]" not in message


def test_truncated_model_file(tmp_path):
    model = identity(tmp_path / "cut.onnx")
    model.write_bytes(model.read_bytes()[:40])
    with pytest.raises(ModelError, match="cannot load this model"):
        ModelRunner(manifest_for(model)).load()


@pytest.mark.parametrize(("shape", "message"), [
    ([1, 1, 8, 8], r"input 'x' has shape \[1, 1, 8, 8\]: cannot feed it an NCHW colour image"),
    ([8, 8], r"has shape \[8, 8\]: cannot feed"),
    ([1, 8, 8, 3], r"3 channels on axis 1"),
    ([4, 3, 8, 8], "has a batch of 4"),
])
def test_inputs_that_cannot_be_fed(tmp_path, shape, message):
    model = identity(tmp_path / "odd.onnx", shape=shape)
    with pytest.raises(ModelError, match=message):
        ModelRunner(manifest_for(model)).load()


def test_input_of_an_unfeedable_type(tmp_path):
    model = identity(tmp_path / "int.onnx", elem=TensorProto.INT64)
    with pytest.raises(ModelError, match="takes int64"):
        ModelRunner(manifest_for(model)).load()


def test_two_inputs_cannot_be_fed(tmp_path):
    model = save_graph(tmp_path / "two.onnx", [helper.make_node("Add", ["x", "z"], ["y"])],
                       [tensor("x", [1, 3, 8, 8]), tensor("z", [1, 3, 8, 8])],
                       [tensor("y", [1, 3, 8, 8])])
    with pytest.raises(ModelError, match="needs 2 inputs"):
        ModelRunner(manifest_for(model)).load()


def test_manifest_names_that_the_graph_lacks(tmp_path):
    model = identity(tmp_path / "id.onnx")
    with pytest.raises(ModelError, match="no input 'image' .*'x'"):
        ModelRunner(manifest_for(model, input_name="image")).load()
    manifest = manifest_for(model)
    doc = manifest.to_json()
    doc["outputs"][0]["name"] = "logits"
    with pytest.raises(ModelError, match="no output 'logits' .*'y'"):
        ModelRunner(manifest_from_json(doc, manifest.path)).load()


def test_manifest_size_must_match_a_fixed_graph(tmp_path):
    model = identity(tmp_path / "id.onnx")
    with pytest.raises(ModelError, match="feeds 16x16 but the graph's height is 8"):
        ModelRunner(manifest_for(model, size=(16, 16))).load()
    assert ModelRunner(manifest_for(model, size=None)).input_size() == (8, 8)


def test_class_axis_beyond_the_output(tmp_path):
    model = identity(tmp_path / "id.onnx")
    with pytest.raises(ModelError, match="no class axis 4"):
        ModelRunner(manifest_for(model, class_axis=4)).load()


def test_run_file_decodes_jpeg_at_a_reduced_size(tmp_path):
    model = identity(tmp_path / "id.onnx")
    runner = ModelRunner(manifest_for(model))
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (64, 40), (200, 10, 10)).save(photo, quality=95)
    seg = runner.run_file(photo)
    assert seg.shape == (40, 64)
    assert seg.provenance.details["decoded_at"] == [16, 10]  # 1/4: still >= 8x8
    assert seg.provenance.source == str(photo)
    assert (seg.labels == 0).all()  # red wins everywhere
    full = runner.run_file(photo, reduced_decode=False)
    assert full.shape == (40, 64) and "decoded_at" not in full.provenance.details


def test_run_file_applies_exif_orientation(tmp_path):
    runner = ModelRunner(manifest_for(identity(tmp_path / "id.onnx")))
    photo = tmp_path / "rotated.jpg"
    image = Image.new("RGB", (64, 32), (10, 10, 200))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    image.save(photo, exif=exif)
    seg = runner.run_file(photo)
    assert seg.shape == (64, 32)
    assert (seg.labels == 2).all()


def test_run_file_errors_name_the_photo(tmp_path):
    runner = ModelRunner(manifest_for(identity(tmp_path / "id.onnx")))
    with pytest.raises(ReadError, match="missing.jpg: file not found"):
        runner.run_file(tmp_path / "missing.jpg")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really")
    with pytest.raises(ReadError, match="broken.jpg"):
        runner.run_file(broken)


def test_onnxruntime_failures_at_run_become_model_errors(tmp_path):
    shape = np.array([1, 3, 8, 8], np.int64)
    model = save_graph(tmp_path / "reshape.onnx",
                       [helper.make_node("Reshape", ["x", "shape"], ["y"])],
                       [tensor("x", [1, 3, "h", "w"])], [tensor("y", [1, 3, 8, 8])],
                       [numpy_helper.from_array(shape, "shape")])
    runner = ModelRunner(manifest_for(model, size=None))
    assert runner.run(np.zeros((8, 8, 3), np.uint8)).shape == (8, 8)
    with pytest.raises(ModelError) as info:
        runner.run(np.zeros((5, 7, 3), np.uint8))
    message = str(info.value)
    assert message.startswith(str(model))
    assert "the model failed on an input of shape [1, 3, 5, 7]" in message
    assert "[ONNXRuntimeError]" not in message


def test_a_confidence_too_large_to_keep_is_dropped_with_a_warning(monkeypatch):
    # The label map is always full size; the float32 confidence only within its budget.
    from viewer import _paths
    from viewer.core.inference import runner as runner_module
    from viewer.core.inference.manifest import load_manifest

    runner = ModelRunner(load_manifest(_paths.models_dir() / "selfie_segmentation.json"))
    photo = np.zeros((120, 160, 3), np.uint8)
    kept = runner.run(photo)
    assert kept.confidence is not None and kept.confidence.shape == (120, 160)
    monkeypatch.setattr(runner_module, "CONFIDENCE_BUDGET", 120 * 160 * 4 - 1)
    dropped = runner.run(photo)
    assert dropped.confidence is None and dropped.labels.shape == (120, 160)
    assert np.array_equal(dropped.labels, kept.labels)
    warning, = dropped.provenance.details["warnings"]
    assert "160x120" in warning and "confidence is not kept" in warning
