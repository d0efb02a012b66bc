"""The export dialog: pick a format from the registry, a folder and a name.

It shows what the chosen format would lose before anything is written, and
runs :func:`viewer.core.export.export`, the same code as ``segview convert``,
so the GUI and the CLI write identical files (masks + metadata JSON).
"""

from __future__ import annotations

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
    QPushButton,
    QWidget,
)

from viewer.core.export import losses
from viewer.core.formats.registry import FORMATS
from viewer.core.segmentation import Segmentation


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
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export mask")
        self._seg = seg
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
        self.loss_label = QLabel(self)
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
        lost = losses(self._seg, self.format_combo.currentData())
        if lost:
            self.loss_label.setText("This format will lose:\n• " + "\n• ".join(lost))
        else:
            self.loss_label.setText("Lossless: reading the export back gives this mask exactly.")
        ready = bool(self.folder_edit.text().strip() and self.stem_edit.text().strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(ready)
