"""Export from the window: the dialog, the written files and errors."""

import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from viewer.core import metadata
from viewer.core.formats.registry import read_mask
from viewer.gui.export_dialog import ExportChoice, ExportDialog


def test_export_writes_mask_metadata_and_overlay(window, tmp_path):
    result = window.export_to(ExportChoice("index-png", tmp_path, "astronaut", True))
    assert result is not None and result.lost == []
    assert result.files == [tmp_path / "astronaut.png"]
    doc = json.loads(result.metadata.read_text())
    assert metadata.first_problem(doc) is None
    assert doc["source_image"]["file_name"] == "astronaut.png"
    assert doc["overlay_file"] == "astronaut_overlay.png"
    back = read_mask(result.files[0])
    np.testing.assert_array_equal(back.labels, window.segmentation.labels)
    with Image.open(tmp_path / "astronaut_overlay.png") as img:
        overlay = np.array(img)
    assert overlay.shape == (512, 512, 3)
    person = window.segmentation.labels == 15
    # the overlay tints the person and leaves the hidden background as the photo
    assert not np.array_equal(overlay[person], window.image[person])
    background = window.segmentation.labels == 0
    np.testing.assert_array_equal(overlay[background], window.image[background])
    assert "Exported 3 files" in window.statusBar().currentMessage()
    assert window.last_export.folder == tmp_path


def test_export_error_is_shown_naming_the_file(window, tmp_path, shown_messages):
    shown = shown_messages
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    assert window.export_to(ExportChoice("label-npy", blocker, "m", False)) is None
    assert shown and "not_a_folder" in shown[0]


def test_dialog_lists_writers_and_says_what_a_format_loses(window, qtbot, tmp_path):
    dialog = ExportDialog(window.segmentation, "astronaut")
    qtbot.addWidget(dialog)
    names = [dialog.format_combo.itemData(i) for i in range(dialog.format_combo.count())]
    assert "index-png" in names and "coco-rle" in names and "deepstream-jpeg" not in names
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    assert not save.isEnabled()  # no folder yet
    dialog.folder_edit.setText(str(tmp_path))
    assert save.isEnabled()
    dialog.select_format("label-npy")
    assert "Lossless" in dialog.loss_label.text()
    dialog.select_format("celantur-binary")
    assert "lose" in dialog.loss_label.text()
    choice = dialog.choice()
    assert choice == ExportChoice("celantur-binary", tmp_path, "astronaut", False)
    with pytest.raises(ValueError):
        dialog.select_format("deepstream-jpeg")  # read-only


def test_export_action_follows_the_mask(window):
    assert window.export_action.isEnabled()
    window.set_segmentation(None)
    assert not window.export_action.isEnabled()


# -- never over the photo, never a file replaced without asking (issue 16) ------------------


@pytest.fixture
def photo_window(open_window, tmp_path):
    import shutil

    from viewer import _paths

    shutil.copy(_paths.sample_image(), tmp_path / "astronaut.png")
    shutil.copy(_paths.sample_mask(), tmp_path / "mask_in.png")
    return open_window(tmp_path / "astronaut.png", tmp_path / "mask_in.png")


def test_the_dialog_never_offers_the_photos_own_file(photo_window, qtbot, tmp_path):
    from viewer.gui.export_dialog import ExportChoice as Choice

    last = Choice("index-png", tmp_path, "x", False)
    dialog = ExportDialog(photo_window.segmentation, "astronaut", last,
                          photo=photo_window.image_path)
    qtbot.addWidget(dialog)
    assert dialog.choice().stem == "astronaut_mask"
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    assert save.isEnabled()
    dialog.stem_edit.setText("astronaut")  # typed back: switched again, never the photo
    assert dialog.choice().stem == "astronaut_mask"
    dialog.folder_edit.setText(str(tmp_path / "elsewhere"))
    dialog.stem_edit.setText("astronaut")
    assert dialog.choice().stem == "astronaut" and save.isEnabled()


def test_export_asks_before_replacing_and_no_leaves_every_file(photo_window, tmp_path,
                                                               monkeypatch):
    photo = tmp_path / "astronaut.png"
    before = photo.read_bytes()
    choice = ExportChoice("index-png", tmp_path, "astronaut_mask", False)
    assert photo_window.export_to(choice) is not None  # nothing there yet: no question
    first = (tmp_path / "astronaut_mask.png").read_bytes()
    seg = photo_window.segmentation
    seg.table.update_many({next(iter(seg.table)).id: {"label": "changed"}})
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    sidecar = (tmp_path / "astronaut_mask.segview.json").read_bytes()
    assert photo_window.export_to(choice) is None
    assert asked and "astronaut_mask" in asked[0]
    assert (tmp_path / "astronaut_mask.segview.json").read_bytes() == sidecar
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert photo_window.export_to(choice) is not None
    assert (tmp_path / "astronaut_mask.png").read_bytes() == first  # same pixels
    assert b"changed" in (tmp_path / "astronaut_mask.segview.json").read_bytes()
    assert photo.read_bytes() == before


def test_export_onto_the_photo_is_refused_even_when_agreed(photo_window, tmp_path,
                                                          monkeypatch, shown_messages):
    shown = shown_messages
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    photo = tmp_path / "astronaut.png"
    before = photo.read_bytes()
    assert photo_window.export_to(ExportChoice("index-png", tmp_path, "astronaut", False)) \
        is None
    assert photo.read_bytes() == before and shown and "astronaut.png" in shown[0]
