"""Help > About SegView: version, bundled model licence, library licences.

The dialog widget is built and inspected directly; nothing here calls exec().
"""

import importlib.metadata as metadata

import pytest
from PySide6.QtWidgets import QDialog

from viewer import __version__, _paths, about
from viewer.gui.about_dialog import AboutDialog

pytestmark = pytest.mark.gui


def _column(table, column):
    return [table.item(row, column).text() for row in range(table.rowCount())]


def test_about_dialog_shows_the_version(qtbot):
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    assert __version__ in dialog.version_label.text()
    assert "Apache-2.0" in dialog.details_label.text()
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == [
        "SegView", "Bundled models", "Libraries"]


def test_about_dialog_shows_the_bundled_model_and_its_licence_text(qtbot):
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    assert dialog.models_table.rowCount() == 1
    assert "(selfie)" in dialog.models_table.item(0, 0).text()
    assert dialog.models_table.item(0, 1).text() == "Apache-2.0 (LICENSE-Apache-2.0.txt)"
    assert "MediaPipe" in dialog.models_table.item(0, 2).text()
    expected = (_paths.models_dir() / "LICENSE-Apache-2.0.txt").read_text("utf-8")
    assert dialog.licence_text.toPlainText() == expected


def test_about_dialog_lists_the_installed_libraries_with_their_licences(qtbot):
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    names = _column(dialog.libraries_table, 0)
    lowered = {n.lower().replace("_", "-") for n in names}
    # every direct requirement, and some of theirs (shiboken6 comes with PySide6)
    for required in ("numpy", "opencv-python-headless", "pillow", "pyside6-essentials",
                     "pyqtgraph", "onnxruntime", "psygnal", "platformdirs", "jsonschema",
                     "pycocotools", "superqt", "shiboken6"):
        assert required in lowered
    # not the test tools, nor SegView itself
    assert not lowered & {"pytest", "hypothesis", "onnx", "segview"}
    row = names.index(metadata.metadata("numpy")["Name"])
    assert dialog.libraries_table.item(row, 1).text() == metadata.version("numpy")
    assert dialog.libraries_table.item(row, 2).text() == about.licence_of(
        metadata.metadata("numpy"))
    assert all(_column(dialog.libraries_table, 2))


def test_help_menu_opens_about_without_blocking(window, qtbot):
    assert window.about_action in window.menuBar().actions()[-1].menu().actions()
    window.about_action.trigger()  # open(), not exec(): returns at once
    dialogs = [d for d in window.findChildren(AboutDialog) if d.isVisible()]
    assert len(dialogs) == 1
    assert dialogs[0].isModal()
    dialogs[0].reject()
    assert dialogs[0].result() == QDialog.DialogCode.Rejected

