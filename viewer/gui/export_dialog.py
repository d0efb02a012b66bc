"""The export dialog: pick a format from the registry, a folder and a name.

It shows what the chosen format would lose before anything is written, and
runs :func:`viewer.core.export.export`, the same code as ``segview convert``,
so the GUI and the CLI write identical files (masks + metadata JSON).

It never offers the photo's own file as the mask's name, and
:func:`run_export` asks before replacing any file that exists (the photo and
the mask read are never replaced, whatever the answer).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)

from viewer.core.export import ExportResult, default_stem, export, losses
from viewer.core.formats.registry import FORMATS, get_format
from viewer.core.output_guard import OutputExistsError, guarded
from viewer.core.segmentation import Segmentation
from viewer.gui.richtext import plain


@dataclass(frozen=True)
class ExportChoice:
    """What the user chose: format, folder, file stem, and whether to render the overlay."""

    format_name: str
    folder: Path
    stem: str
    with_overlay: bool


class ExportDialog(QDialog):
    """Ask where and how to export ``seg``; :meth:`choice` holds the answer.

    Parameters
    ----------
    seg : Segmentation
        What will be exported (to list what each format would lose).
    last : ExportChoice, optional
        The previous choice, offered again (the stem is replaced by ``stem``).
    stem : str
        Default file name without extension (the image's stem).
    """

    def __init__(self, seg: Segmentation, stem: str, last: ExportChoice | None = None,
                 parent: QWidget | None = None, *, photo: Path | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export mask")
        self._seg = seg
        self._photo = photo
        self.format_combo = QComboBox(self)
        for spec in FORMATS:
            if spec.write is not None:
                self.format_combo.addItem(f"{spec.title}  [{spec.name}]", spec.name)
        self.folder_edit = QLineEdit(self)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._on_browse_clicked)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        self.stem_edit = QLineEdit(stem, self)
        self.overlay_check = QCheckBox("Also write the rendered overlay (PNG)", self)
        self.loss_label = plain(QLabel(self))  # losses quote class names from the file
        self.loss_label.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Format", self.format_combo)
        form.addRow("Folder", folder_row)
        form.addRow("File name", self.stem_edit)
        form.addRow("", self.overlay_check)
        form.addRow("", self.loss_label)
        form.addRow(self.buttons)
        if last is not None:
            index = self.format_combo.findData(last.format_name)
            self.format_combo.setCurrentIndex(max(index, 0))
            self.folder_edit.setText(str(last.folder))
            self.overlay_check.setChecked(last.with_overlay)
        self.format_combo.currentIndexChanged.connect(self._update_state)
        self.folder_edit.textChanged.connect(self._update_state)
        self.stem_edit.textChanged.connect(self._update_state)
        self._update_state()
        self.resize(560, self.sizeHint().height())

    def choice(self) -> ExportChoice:
        """The current choice (meaningful after the dialog was accepted)."""
        return ExportChoice(self.format_combo.currentData(), Path(self.folder_edit.text().strip()),
                            self.stem_edit.text().strip(), self.overlay_check.isChecked())

    def select_format(self, name: str) -> None:
        """Choose a format by registry name."""
        index = self.format_combo.findData(name)
        if index < 0:
            raise ValueError(f"no writable format {name!r}")
        self.format_combo.setCurrentIndex(index)

    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def _update_state(self) -> None:
        folder, stem = self.folder_edit.text().strip(), self.stem_edit.text().strip()
        if self._photo is not None and folder and stem == self._photo.stem:
            mask_stem = default_stem(self._photo, Path(folder))
            if mask_stem != stem:  # the photo's own folder: <stem>_mask, never the photo
                self.stem_edit.setText(mask_stem)
                return  # setText ran this again
        lost = losses(self._seg, self.format_combo.currentData())
        if lost:
            self.loss_label.setText("This format will lose:\n• " + "\n• ".join(lost))
        else:
            self.loss_label.setText("Lossless: reading the export back gives this mask exactly.")
        ready = bool(self.folder_edit.text().strip() and self.stem_edit.text().strip())
        if ready and self._is_the_photo():
            ready = False
            self.loss_label.setText("This name is the photo's own file: choose another name "
                                    "or folder.")
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(ready)

    def _is_the_photo(self) -> bool:
        """True when the primary file of the current choice is the photo."""
        if self._photo is None:
            return False
        choice = self.choice()
        spec = get_format(choice.format_name)
        primary = choice.folder / f"{choice.stem}{spec.extensions[0] if spec.extensions else ''}"
        try:
            return os.path.samefile(primary, self._photo)
        except OSError:
            return False


def run_export(parent: QWidget, seg: Segmentation, choice: ExportChoice, *,
               reads: list[Path], confirm: Callable[[Path], bool] | None = None,
               **options) -> ExportResult:
    """Export as ``choice`` says; ask before replacing a file that exists.

    ``reads`` (the photo, the mask file) are never written over. When a file
    of the export exists, ``confirm(path)`` (default: a question box) decides
    whether to replace the export's files; no answer leaves every file as it
    was.

    Raises
    ------
    ViewerError
        From the export; :class:`OutputExistsError` when the user said no.
    """
    confirm = confirm or (lambda path: _ask_replace(parent, path))
    try:
        with guarded(reads, ask=True):
            return export(seg, choice.format_name, choice.folder, choice.stem, **options)
    except OutputExistsError as exc:
        if exc.path is None or not confirm(exc.path):
            raise
    with guarded(reads, overwrite=True):
        return export(seg, choice.format_name, choice.folder, choice.stem, **options)


def _ask_replace(parent: QWidget, path: Path) -> bool:
    button = QMessageBox.StandardButton
    answer = QMessageBox.question(
        parent, "Replace files?",
        f"{path.name} already exists in {path.parent}.\n\nReplace it and the other files of "
        "this export that exist?", button.Yes | button.No, button.No)
    return answer == button.Yes
