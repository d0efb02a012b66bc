"""Run the bundled model from the window: one image, a folder, confidence review."""

import shutil

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF

from viewer import _paths
from viewer.core.render.confidence import LOW_COLOR
from viewer.gui.main_window import MainWindow

pytestmark = pytest.mark.gui


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


def test_a_bad_onnx_file_gives_a_clear_error(win, qtbot, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr("viewer.gui.main_window.QMessageBox.critical",
                        lambda parent, title, text: shown.append(text))
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
