"""Describe any ONNX file as a model: a dialog pre-filled from what the graph tells.

:func:`viewer.core.inference.registry.describe_onnx` reads the input and output
names and shapes and guesses the rest; the user confirms or corrects it here,
including, for models with several outputs, which output gives the labels and
which one gates them. The answers are saved as a manifest in the user models
folder, where the Model dock finds it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from viewer.core.errors import ModelError
from viewer.core.inference import registry
from viewer.core.inference.manifest import (
    ColorOrder,
    InputSpec,
    Layout,
    ModelManifest,
    OutputKind,
    OutputRole,
    OutputSpec,
    ResizeMode,
    save_manifest,
)
from viewer.core.inference.registry import ModelDescription, install_model
from viewer.gui.richtext import plain

NO_GATE = "(none)"
# What a gate can be: one channel of logits (BodyPix's person mask) or of probabilities.
GATE_KINDS = (OutputKind.LOGITS, OutputKind.SIGMOID, OutputKind.PROBABILITIES)


class ManifestDialog(QDialog):
    """Confirm how to feed a model and read its outputs; :meth:`manifest` holds the answer."""

    def __init__(self, description: ModelDescription, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Describe {description.path.name}")
        self.description = description
        guess = description.manifest
        self.name_edit = QLineEdit(guess.name)
        self.id_edit = QLineEdit(guess.id)
        self.licence_edit = QLineEdit(guess.licence)
        self.source_edit = QLineEdit(guess.source)
        self.layout_combo = _combo(Layout, guess.input.layout)
        self.color_combo = _combo(ColorOrder, guess.input.color_order)
        self.resize_combo = _combo(ResizeMode, guess.input.resize)
        # 10 decimals: 1/255 and 1/127.5 must survive the round trip through the box.
        self.scale_spin = _spin(guess.input.scale, 0.0, 1000.0, 10)
        self.mean_edit = QLineEdit(_numbers(guess.input.mean))
        self.std_edit = QLineEdit(_numbers(guess.input.std))
        outputs = [t.name for t in description.outputs]
        labels = guess.labels_output
        gate = guess.gate_output
        self.labels_combo = QComboBox()
        self.labels_combo.addItems(outputs)
        self.labels_combo.setCurrentText(labels.name)
        self.kind_combo = _combo(OutputKind, labels.kind)
        self.axis_spin = _spin(labels.class_axis if labels.class_axis is not None else 1,
                               0, 4, 0)
        self.offset_spin = _spin(labels.class_offset, 0, 255, 0)
        self.offset_spin.setToolTip("Class of the first channel: 1 when class 0 is the "
                                    "background a gate leaves (BodyPix's body parts)")
        self.gate_combo = QComboBox()
        self.gate_combo.addItems([NO_GATE, *outputs])
        self.gate_combo.setCurrentText(gate.name if gate is not None else NO_GATE)
        self.gate_kind_combo = QComboBox()
        self.gate_kind_combo.addItems([str(k) for k in GATE_KINDS])
        self.gate_kind_combo.setCurrentText(str(gate.kind if gate is not None
                                                else OutputKind.LOGITS))
        self.gate_kind_combo.setToolTip("One channel; its axis is the labels' class axis")
        self.gate_spin = _spin(gate.threshold if gate is not None else 0.5, 0.0, 1.0, 2)
        self.threshold_spin = _spin(guess.threshold, 0.0, 1.0, 2)
        self.classes_edit = QPlainTextEdit("\n".join(guess.class_names))
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self._build(description)

    def _build(self, description: ModelDescription) -> None:
        form = QFormLayout()
        graph = "; ".join(f"{t.name} {list(t.shape)}" for t in description.inputs)
        outs = "\n".join(f"{t.name} {list(t.shape)}" for t in description.outputs)
        form.addRow("Graph input", plain(QLabel(graph)))  # names from the model file
        shown = QPlainTextEdit(outs)  # one per line, scrolling: BodyPix has eight
        shown.setReadOnly(True)
        shown.setMaximumHeight(96)
        form.addRow("Graph outputs", shown)
        for label, widget in (("Name", self.name_edit), ("Id", self.id_edit),
                              ("Licence", self.licence_edit), ("Source", self.source_edit),
                              ("Input layout", self.layout_combo),
                              ("Colour order", self.color_combo),
                              ("Resize", self.resize_combo), ("Scale", self.scale_spin),
                              ("Mean", self.mean_edit), ("Std", self.std_edit),
                              ("Labels from", self.labels_combo), ("Output kind", self.kind_combo),
                              ("Class axis", self.axis_spin),
                              ("First channel is class", self.offset_spin),
                              ("Gated by", self.gate_combo), ("Gate kind", self.gate_kind_combo),
                              ("Gate passes above", self.gate_spin),
                              ("Sigmoid threshold", self.threshold_spin),
                              ("Class names (one per line)", self.classes_edit)):
            form.addRow(label, widget)
        notes = plain(QLabel("\n".join(description.notes)))
        notes.setWordWrap(True)
        notes.setMaximumWidth(640)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._on_save)
        buttons.rejected.connect(self.reject)
        self.setMinimumWidth(600)
        column = QVBoxLayout(self)
        column.addWidget(notes)
        column.addLayout(form)
        column.addWidget(self.error_label)
        column.addWidget(buttons)

    def manifest(self) -> ModelManifest:
        """The manifest the fields describe.

        Raises
        ------
        ModelError
            When a number list cannot be read.
        """
        guess = self.description.manifest
        spec = InputSpec(guess.input.name, guess.input.size,
                         Layout(self.layout_combo.currentText()),
                         ColorOrder(self.color_combo.currentText()), self.scale_spin.value(),
                         _parse(self.mean_edit.text(), "mean"),
                         _parse(self.std_edit.text(), "std"),
                         ResizeMode(self.resize_combo.currentText()), guess.input.pad_value)
        kind = OutputKind(self.kind_combo.currentText())
        axis = None if kind is OutputKind.CLASS_MAP else int(self.axis_spin.value())
        offset = 0 if kind is OutputKind.SIGMOID else int(self.offset_spin.value())
        outputs = [OutputSpec(self.labels_combo.currentText(), kind, axis,
                              class_offset=offset)]
        if self.gate_combo.currentText() != NO_GATE:
            # The gate is one channel laid out as the labels (BodyPix: both NHWC, axis 3).
            gate_axis = int(self.axis_spin.value())
            outputs.append(OutputSpec(self.gate_combo.currentText(),
                                      OutputKind(self.gate_kind_combo.currentText()), gate_axis,
                                      OutputRole.GATE, threshold=self.gate_spin.value()))
        names = tuple(line.strip() for line in self.classes_edit.toPlainText().splitlines()
                      if line.strip())
        return replace(guess, id=self.id_edit.text().strip() or guess.id,
                       name=self.name_edit.text().strip() or guess.name,
                       licence=self.licence_edit.text().strip(),
                       source=self.source_edit.text().strip(), input=spec,
                       outputs=tuple(outputs), class_names=names or guess.class_names,
                       threshold=self.threshold_spin.value())

    def save(self, folder: Path | None = None) -> Path:
        """Write the manifest as ``<id>.json`` in ``folder`` (the user models folder)."""
        folder = Path(folder) if folder is not None else registry.user_models_dir()
        manifest = self.manifest()
        target = folder / f"{manifest.id}.json"
        return save_manifest(install_model(manifest, target), target)

    def _on_save(self) -> None:
        try:
            self.saved_path = self.save()
        except ModelError as exc:
            self.error_label.setText(str(exc))
            return
        self.accept()


def _combo(enum_type, current) -> QComboBox:
    combo = QComboBox()
    combo.addItems([str(v) for v in enum_type])
    combo.setCurrentText(str(current))
    return combo


def _spin(value: float, low: float, high: float, decimals: int) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setDecimals(decimals)
    spin.setValue(float(value))
    return spin


def _numbers(values) -> str:
    return ", ".join(f"{v:g}" for v in values)


def _parse(text: str, what: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.replace(",", " ").split())
    except ValueError:
        raise ModelError(f"{what} must be 1 or 3 numbers, got {text!r}") from None
    if len(values) not in (1, 3):
        raise ModelError(f"{what} must be 1 or 3 numbers, got {text!r}")
    return values
