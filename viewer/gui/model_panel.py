"""The "Model" dock: choose a model and provider, run it, review its confidence.

The panel only asks; the window runs the model in a worker and shows the
result. Models come from the model folders (bundled ``models/``, the user's
models folder, ``--models-dir``, ``$SEGVIEW_MODELS_DIR``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from viewer.core.inference.manifest import ModelManifest
from viewer.core.inference.registry import scan_models
from viewer.core.inference.session import available_providers
from viewer.gui.richtext import plain, tip


class ModelPanel(QDockWidget):
    """Dock with the model choice, run buttons and the confidence review controls.

    Signals
    -------
    run_image_requested(), run_folder_requested()
        The user asked to segment the current image / every image of the folder.
    heatmap_toggled(bool)
        Show the confidence heatmap instead of the label overlay.
    threshold_changed(float)
        Pixels below this confidence are marked (0..1).
    next_uncertain_requested()
        Go to the next low-confidence region.
    """

    run_image_requested = Signal()
    run_folder_requested = Signal()
    describe_requested = Signal()
    heatmap_toggled = Signal(bool)
    threshold_changed = Signal(float)
    next_uncertain_requested = Signal()

    def __init__(self, extra_dirs: Iterable[str | Path] = (), parent: QWidget | None = None):
        super().__init__("Model", parent)
        self.setObjectName("model_panel")
        self.extra_dirs = tuple(extra_dirs)
        self.models: list[ModelManifest] = []
        self.model_combo = QComboBox()
        self.provider_combo = QComboBox()
        for provider in available_providers():
            self.provider_combo.addItem(provider.removesuffix("ExecutionProvider"), provider)
        self.run_image_button = QPushButton("Segment this image")
        self.run_image_button.clicked.connect(self.run_image_requested.emit)
        self.run_folder_button = QPushButton("Segment the folder")
        self.run_folder_button.clicked.connect(self.run_folder_requested.emit)
        self.describe_button = QPushButton("Add an ONNX file…")
        self.describe_button.setToolTip("Describe any ONNX segmentation model and keep it "
                                        "in your models folder")
        self.describe_button.clicked.connect(self.describe_requested.emit)
        self.info_label = plain(QLabel())
        self.info_label.setWordWrap(True)
        self.heatmap_check = QCheckBox("Confidence heatmap")
        self.heatmap_check.toggled.connect(self.heatmap_toggled.emit)
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal)
        self.threshold_slider.setRange(0, 100)
        self.threshold_slider.setValue(50)
        self.threshold_slider.valueChanged.connect(self._on_threshold_moved)
        self.threshold_label = QLabel()
        self.next_button = QPushButton("Next uncertain region")
        self.next_button.clicked.connect(self.next_uncertain_requested.emit)
        self.review_label = QLabel()
        self.review_label.setWordWrap(True)
        self.setWidget(self._layout())
        self.refresh_models()
        self._on_threshold_moved(self.threshold_slider.value())
        self.set_confidence_known(False)

    def _layout(self) -> QWidget:
        form = QFormLayout()
        form.addRow("Model", self.model_combo)
        form.addRow("Runs on", self.provider_combo)
        runs = QHBoxLayout()
        runs.addWidget(self.run_image_button)
        runs.addWidget(self.run_folder_button)
        threshold = QHBoxLayout()
        threshold.addWidget(QLabel("Low below"))
        threshold.addWidget(self.threshold_slider, 1)
        threshold.addWidget(self.threshold_label)
        column = QVBoxLayout()
        column.addLayout(form)
        column.addWidget(self.info_label)
        column.addWidget(self.describe_button)
        column.addLayout(runs)
        column.addSpacing(8)
        column.addWidget(self.heatmap_check)
        column.addLayout(threshold)
        column.addWidget(self.next_button)
        column.addWidget(self.review_label)
        column.addStretch(1)
        body = QWidget()
        body.setLayout(column)
        return body

    # -- public API ----------------------------------------------------------
    def refresh_models(self) -> None:
        """List the models found in the model folders again."""
        scan = scan_models(self.extra_dirs)
        self.models = list(scan.models)
        current = self.model_combo.currentData()
        self.model_combo.clear()
        for manifest in self.models:
            self.model_combo.addItem(manifest.name, manifest.id)
            self.model_combo.setItemData(self.model_combo.count() - 1,
                                         tip(_describe(manifest)), Qt.ItemDataRole.ToolTipRole)
        index = self.model_combo.findData(current)
        self.model_combo.setCurrentIndex(max(index, 0))
        problems = "; ".join(str(p) for p in scan.problems)
        if not self.models:
            self.info_label.setText("No models found. Put a model manifest (JSON) and its "
                                    "ONNX file in a models folder.")
        else:
            self.info_label.setText(f"{len(self.models)} model(s)"
                                    + (f". Skipped: {problems}" if problems else ""))
        for button in (self.run_image_button, self.run_folder_button):
            button.setEnabled(bool(self.models))

    def choose(self, model_id: str) -> bool:
        """Make ``model_id`` the chosen model; False when it is not listed."""
        index = self.model_combo.findData(model_id)
        if index >= 0:
            self.model_combo.setCurrentIndex(index)
        return index >= 0

    @property
    def manifest(self) -> ModelManifest | None:
        """The chosen model, or None when there is none."""
        index = self.model_combo.currentIndex()
        return self.models[index] if 0 <= index < len(self.models) else None

    @property
    def provider(self) -> str:
        """The chosen onnxruntime execution provider."""
        return self.provider_combo.currentData() or "CPUExecutionProvider"

    @property
    def threshold(self) -> float:
        """Confidence below which pixels count as uncertain."""
        return self.threshold_slider.value() / 100.0

    def set_confidence_known(self, known: bool) -> None:
        """Enable the review controls only when the mask has a confidence."""
        for widget in (self.heatmap_check, self.threshold_slider, self.next_button):
            widget.setEnabled(known)
        if not known:
            self.review_label.setText("This mask has no confidence (run a model for one).")

    def set_review_text(self, text: str) -> None:
        """Say how many uncertain regions there are, and which one is shown."""
        self.review_label.setText(text)

    def _on_threshold_moved(self, value: int) -> None:
        self.threshold_label.setText(f"{value / 100:.2f}")
        self.threshold_changed.emit(value / 100.0)


def _describe(manifest: ModelManifest) -> str:
    size = manifest.input.size
    size_text = f"{size[1]}×{size[0]}" if size else "any size"
    classes = ", ".join(manifest.class_names[:8]) + ("…" if len(manifest.class_names) > 8 else "")
    return (f"{manifest.name} ({manifest.id})\ninput {size_text}, {len(manifest.class_names)} "
            f"classes: {classes}\nlicence: {manifest.licence}")
