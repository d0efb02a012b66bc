"""Run the bundled model from the window: one image, a folder, confidence review."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF

from viewer import _paths
from viewer.core.render.confidence import LOW_COLOR
from viewer.gui.main_window import MainWindow

pytestmark = pytest.mark.gui
SHARED_MODELS = Path(__file__).resolve().parents[3] / "shared" / "models"


@pytest.fixture
def win(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1400, 1000)
    window.show()
    qtbot.waitExposed(window)
    return window


def _wait(qtbot, win):
    qtbot.waitUntil(lambda: not win.loading, timeout=30000)


def test_bundled_model_is_listed(win):
    panel = win.model_panel
    assert panel.manifest is not None and panel.manifest.id == "selfie"
    assert panel.provider == "CPUExecutionProvider"
    assert not panel.heatmap_check.isEnabled()  # the sample mask has no confidence


def test_segment_this_image_shows_a_plausible_result(win, qtbot):
    assert win.open_image(_paths.sample_image(), _paths.sample_mask())
    reference = win.segmentation.labels == 15  # the sample's person
    win.segment_image_action.trigger()
    _wait(qtbot, win)
    seg = win.segmentation
    assert seg.confidence is not None and win.mask_path is None
    person = next(s for s in seg.table if s.label == "person")
    found = seg.labels == person.id
    iou = (found & reference).sum() / (found | reference).sum()
    assert iou > 0.7
    assert "Model result" in win.statusBar().currentMessage()
    assert win.model_panel.heatmap_check.isEnabled()
    # The result is an ordinary segmentation: the panels show it.
    assert any(r.name == "person" for r in win.legend.rows)


def test_heatmap_and_next_uncertain_region(win, qtbot):
    assert win.open_image(_paths.sample_image())
    win.segment_image_action.trigger()
    _wait(qtbot, win)
    conf = win.segmentation.confidence
    win.model_panel.threshold_slider.setValue(90)
    win.heatmap_action.trigger()
    assert win.models.heatmap and win.model_panel.heatmap_check.isChecked()
    fill = win.canvas._layers[0][1]
    low = conf < 0.9
    assert low.any()
    row, col = np.argwhere(low)[0]
    assert tuple(int(v) for v in fill[row, col, 2::-1]) == LOW_COLOR
    win.next_uncertain_action.trigger()
    assert "Region 1 of" in win.model_panel.review_label.text()
    r0, c0, r1, c1 = win.models._regions[0].bbox
    centre = win.canvas.widget_to_pixel(QPointF(win.canvas.width() / 2, win.canvas.height() / 2))
    assert r0 - 1 <= centre[0] <= r1 and c0 - 1 <= centre[1] <= c1  # the view is on it
    win.heatmap_action.trigger()  # back to the labels
    assert not win.models.heatmap
    assert len(win.canvas._layers) >= 1 and win.canvas._layers[0][1] is not fill


def test_segment_folder_goes_on_after_a_bad_image(win, qtbot, tmp_path, monkeypatch):
    warnings = []
    monkeypatch.setattr(win, "show_message", lambda title, text: warnings.append(text))
    for name in ("a.png", "c.png"):
        shutil.copy(_paths.sample_image(), tmp_path / name)
    (tmp_path / "b.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "d.png")
    win.open_folder(tmp_path)
    _wait(qtbot, win)
    assert len(win.items) == 4
    win.segment_folder_action.trigger()
    _wait(qtbot, win)
    assert set(win.models.results) == {tmp_path / "a.png", tmp_path / "c.png",
                                       tmp_path / "d.png"}
    assert list(win.models.failures) == [tmp_path / "b.png"]
    assert warnings and "b.png" in warnings[0]
    assert win.segmentation is win.models.results[tmp_path / "a.png"]
    win.go_to_item(2)  # c.png shows its result without running the model again
    _wait(qtbot, win)
    assert win.segmentation is win.models.results[tmp_path / "c.png"]


def test_any_onnx_file_is_described_saved_and_listed(win, qtbot, tmp_path, monkeypatch):
    from viewer.core.inference.registry import user_models_dir
    from viewer.gui import dialogs

    model = tmp_path / "my_selfie.onnx"
    shutil.copy(_paths.models_dir() / "selfie_segmentation.onnx", model)
    answers = []

    def answer(dialog):
        dialog.name_edit.setText("My selfie")
        dialog.id_edit.setText("my-selfie")
        dialog.kind_combo.setCurrentText("sigmoid")
        dialog.classes_edit.setPlainText("background\nperson")
        dialog._on_save()
        answers.append(dialog)
        return True

    monkeypatch.setattr(dialogs, "run_dialog", answer)
    win.models.describe(model)
    _wait(qtbot, win)
    assert answers and answers[0].description.inputs[0].name == "input"
    saved = user_models_dir() / "my-selfie.json"
    assert saved.is_file() and answers[0].saved_path == saved
    assert win.model_panel.manifest.id == "my-selfie"
    assert win.model_panel.manifest.class_names == ("background", "person")
    assert win.open_image(_paths.sample_image())
    win.segment_image_action.trigger()  # the described model runs
    _wait(qtbot, win)
    assert any(s.label == "person" and s.area > 0 for s in win.segmentation.table)


def test_a_bad_onnx_file_gives_a_clear_error(win, qtbot, tmp_path, shown_messages):
    shown = shown_messages
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not a model")
    win.models.describe(bad)
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    assert "broken.onnx" in shown[0]


def test_manifest_dialog_rejects_bad_numbers(qtbot):
    from viewer.core.inference.registry import describe_onnx
    from viewer.gui.manifest_dialog import ManifestDialog

    dialog = ManifestDialog(describe_onnx(_paths.models_dir() / "selfie_segmentation.onnx"))
    qtbot.addWidget(dialog)
    dialog.mean_edit.setText("1, 2")
    dialog._on_save()
    assert "mean must be 1 or 3 numbers" in dialog.error_label.text()
    assert dialog.result() == 0


def _gated_graph(path):
    """NHWC 8x8, two outputs: ``parts`` = x (3 part logits), ``person`` = channel 0 - 100."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    shape = [1, 8, 8, 3]
    nodes = [helper.make_node("Identity", ["x"], ["parts"]),
             helper.make_node("Slice", ["x", "starts", "ends", "axes"], ["first"]),
             helper.make_node("Sub", ["first", "offset"], ["person"])]
    inits = [numpy_helper.from_array(np.array(v, np.int64), n)
             for n, v in (("starts", [0]), ("ends", [1]), ("axes", [3]))]
    inits.append(numpy_helper.from_array(np.array(100.0, np.float32), "offset"))
    graph = helper.make_graph(
        nodes, "gated", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("parts", TensorProto.FLOAT, shape),
         helper.make_tensor_value_info("person", TensorProto.FLOAT, [1, 8, 8, 1])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def _describe_gated(dialog, labels, gate, names):
    dialog.labels_combo.setCurrentText(labels)
    dialog.kind_combo.setCurrentText("logits")
    dialog.axis_spin.setValue(3)
    dialog.offset_spin.setValue(1)  # class 0 is the background the gate leaves
    dialog.gate_combo.setCurrentText(gate)
    dialog.gate_kind_combo.setCurrentText("logits")
    dialog.classes_edit.setPlainText("\n".join(names))


def test_manifest_dialog_describes_a_gated_multi_output_model(qtbot, tmp_path):
    from viewer.core.inference.manifest import OutputKind
    from viewer.core.inference.registry import describe_onnx, find_model
    from viewer.core.inference.runner import ModelRunner
    from viewer.gui.manifest_dialog import ManifestDialog

    dialog = ManifestDialog(describe_onnx(_gated_graph(tmp_path / "parts.onnx")))
    qtbot.addWidget(dialog)
    _describe_gated(dialog, "parts", "person", ["background", "p1", "p2", "p3"])
    dialog.layout_combo.setCurrentText("NHWC")
    dialog.scale_spin.setValue(1.0)
    dialog.mean_edit.setText("0")
    dialog.std_edit.setText("1")
    manifest = find_model(str(dialog.save(tmp_path)))  # saved and read back
    gate = manifest.gate_output
    assert (manifest.labels_output.name, manifest.labels_output.class_offset) == ("parts", 1)
    assert (gate.name, gate.kind, gate.class_axis) == ("person", OutputKind.LOGITS, 3)
    rng = np.random.default_rng(7)
    image = rng.permutation(np.arange(192, dtype=np.uint8)).reshape(8, 8, 3)  # no ties
    labels = ModelRunner(manifest).predict(image).labels
    passes = image[..., 0] > 100  # sigmoid(x - 100) > 0.5
    np.testing.assert_array_equal(labels, np.where(passes, 1 + image.argmax(axis=2), 0))


def test_manifest_dialog_describes_bodypix_parts_gated_by_its_person_mask(qtbot, tmp_path):
    from viewer.core.images import read_image
    from viewer.core.inference.registry import describe_onnx, find_model
    from viewer.core.inference.runner import ModelRunner
    from viewer.gui.manifest_dialog import ManifestDialog

    path = SHARED_MODELS / "bodypix_mobilenetv1_x050_stride16.onnx"
    if not path.is_file():
        pytest.skip("../shared/models/bodypix_mobilenetv1_x050_stride16.onnx is not present")
    dialog = ManifestDialog(describe_onnx(path))
    qtbot.addWidget(dialog)
    _describe_gated(dialog, "part_heatmaps", "segments",
                    ["background", *(f"part{i}" for i in range(24))])
    dialog.scale_spin.setValue(1 / 127.5)  # [-1, 1]
    dialog.mean_edit.setText("1")
    manifest = find_model(str(dialog.save(tmp_path)))
    seg = ModelRunner(manifest).run(read_image(_paths.sample_image()))
    assert 0.35 < (seg.labels > 0).mean() < 0.65  # MODELS.md: 48 % person on the astronaut
    assert 0.0 <= seg.confidence.min() and seg.confidence.max() <= 1.0


def test_models_dir_option_and_environment_variable_reach_the_model_dock(qtbot, tmp_path,
                                                                         monkeypatch):
    import json

    from viewer import cli
    from viewer.core.inference import registry
    from viewer.gui import app
    from viewer.gui.model_panel import ModelPanel

    doc = json.loads((_paths.models_dir() / "selfie_segmentation.json").read_text())
    for name in ("extra", "env"):
        (tmp_path / name).mkdir()
        shutil.copy(_paths.models_dir() / "selfie_segmentation.onnx", tmp_path / name)
        (tmp_path / name / f"{name}.json").write_text(json.dumps({**doc, "id": f"from-{name}"}))
    monkeypatch.setattr(registry, "user_models_dir", lambda: tmp_path / "user")
    monkeypatch.setenv(registry.ENV_VAR, str(tmp_path / "env"))
    seen = {}
    monkeypatch.setattr(app, "run", lambda **kwargs: seen.update(kwargs) or 0)
    assert cli.main(["--models-dir", str(tmp_path / "extra")]) == 0
    panel = ModelPanel(seen["models_dirs"])
    qtbot.addWidget(panel)
    ids = [panel.model_combo.itemData(i) for i in range(panel.model_combo.count())]
    assert ids == ["from-extra", "from-env", "selfie"]
