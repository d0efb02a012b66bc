"""The "Compare" dock: a second mask, the view mode, and the metrics of A against B.

A is the mask shown (the ground truth, or "before"), B the second one (a
prediction, or "after"). The panel shows per-class IoU and Dice, pixel
accuracy, the means and the confusion matrix (pyqtgraph), and exports them.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from viewer.core.metrics import Scores, class_text
from viewer.gui.richtext import plain

MODES = {"off": "Off", "diff": "Diff overlay", "split": "Split slider", "side": "Side by side"}
SCOPES = {"item": "This image", "folder": "Folder: masks vs model results",
          "folders": "Folder: masks vs a second folder…"}
COLUMNS = ("Class", "IoU", "Dice", "GT px", "Pred px")


class ComparePanel(QDockWidget):
    """Dock to load the second mask, choose the comparison view and read the metrics.

    Signals
    -------
    load_requested()
        Pick the second mask (B).
    mode_changed(str)
        One of :data:`MODES`' keys.
    split_moved(float)
        Where the split line is, 0..1 of the canvas width.
    scope_changed(str)
        ``"item"``, ``"folder"`` or ``"folders"``.
    export_requested(str)
        ``"csv"`` or ``"json"``.
    """

    load_requested = Signal()
    mode_changed = Signal(str)
    split_moved = Signal(float)
    scope_changed = Signal(str)
    focus_changed = Signal(object)
    export_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Compare", parent)
        self.setObjectName("compare_panel")
        self.load_button = QPushButton("Second mask (B)…")
        self.load_button.clicked.connect(self.load_requested.emit)
        self.source_label = plain(QLabel("A: the mask shown. B: none yet."))
        self.source_label.setWordWrap(True)
        self.mode_combo = QComboBox()
        for key, title in MODES.items():
            self.mode_combo.addItem(title, key)
        self.mode_combo.currentIndexChanged.connect(
            lambda i: self.mode_changed.emit(self.mode_combo.itemData(i)))
        self.focus_combo = QComboBox()
        self.focus_combo.addItem("All classes", None)
        self.focus_combo.currentIndexChanged.connect(
            lambda i: self.focus_changed.emit(self.focus_combo.itemData(i)))
        self.split_slider = QSlider(Qt.Orientation.Horizontal)
        self.split_slider.setRange(0, 100)
        self.split_slider.setValue(50)
        self.split_slider.valueChanged.connect(lambda v: self.split_moved.emit(v / 100.0))
        self.scope_combo = QComboBox()
        for key, title in SCOPES.items():
            self.scope_combo.addItem(title, key)
        self.scope_combo.currentIndexChanged.connect(
            lambda i: self.scope_changed.emit(self.scope_combo.itemData(i)))
        self.summary_label = plain(QLabel())
        self.summary_label.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        # Every column as wide as its contents, so the numbers fit in a narrow dock.
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.confusion_plot = pg.PlotWidget()
        self.confusion_plot.setMinimumHeight(180)
        self.confusion_plot.setMouseEnabled(False, False)
        self.confusion_plot.hideButtons()
        self.confusion_image = pg.ImageItem(axisOrder="row-major")
        self.confusion_plot.addItem(self.confusion_image)
        self.confusion_plot.invertY(True)
        self.confusion_plot.setLabel("left", "ground truth (A)")
        self.confusion_plot.setLabel("bottom", "prediction (B)")
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.clicked.connect(lambda: self.export_requested.emit("csv"))
        self.json_button = QPushButton("Export JSON…")
        self.json_button.clicked.connect(lambda: self.export_requested.emit("json"))
        self.setWidget(self._layout())
        self.show_scores(None)

    def _layout(self) -> QWidget:
        mode = QHBoxLayout()
        mode.addWidget(QLabel("View"))
        mode.addWidget(self.mode_combo, 1)
        mode.addWidget(self.focus_combo, 1)
        split = QHBoxLayout()
        split.addWidget(QLabel("Split"))
        split.addWidget(self.split_slider, 1)
        exports = QHBoxLayout()
        exports.addWidget(self.csv_button)
        exports.addWidget(self.json_button)
        column = QVBoxLayout()
        for part in (self.load_button, self.source_label, mode, split, self.scope_combo,
                     self.summary_label, self.table, self.confusion_plot, exports):
            if isinstance(part, QHBoxLayout):
                column.addLayout(part)
            else:
                column.addWidget(part)
        body = QWidget()
        body.setLayout(column)
        return body

    # -- public API ----------------------------------------------------------
    @property
    def mode(self) -> str:
        return self.mode_combo.currentData()

    def set_mode(self, mode: str) -> None:
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(mode))

    @property
    def scope(self) -> str:
        return self.scope_combo.currentData()

    def show_scores(self, scores: Scores | None, note: str = "") -> None:
        """Show the metrics (None: nothing compared)."""
        self.scores = scores
        for button in (self.csv_button, self.json_button):
            button.setEnabled(scores is not None)
        self.table.setRowCount(0)
        if scores is None:
            self.summary_label.setText(note or "Load a second mask to compare.")
            self.confusion_image.clear()
            for axis in ("left", "bottom"):
                self.confusion_plot.getAxis(axis).setTicks(None)  # no stale class names
            return
        self.summary_label.setText(
            f"Pixel accuracy {_pct(scores.pixel_accuracy)} · mean IoU {_pct(scores.mean_iou)}"
            f" · mean Dice {_pct(scores.mean_dice)}\n{scores.scored_pixels:,} pixels scored, "
            f"{scores.ignored_pixels:,} void" + (f"\n{note}" if note else ""))
        self._fill_focus(scores)
        self.table.setRowCount(len(scores.per_class))
        for row, score in enumerate(scores.per_class):
            cells = (score.name or class_text(score.key), _pct(score.iou), _pct(score.dice),
                     f"{score.gt_pixels:,}", f"{score.pred_pixels:,}")
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        self._show_confusion(scores)

    def _fill_focus(self, scores: Scores) -> None:
        # The diff can show one class: agree / missed / extra for it alone.
        current = self.focus_combo.currentData()
        self.focus_combo.blockSignals(True)
        self.focus_combo.clear()
        self.focus_combo.addItem("All classes", None)
        for score in scores.per_class:
            self.focus_combo.addItem(score.name or class_text(score.key), score.key)
        index = max(self.focus_combo.findData(current), 0) if current is not None else 0
        self.focus_combo.setCurrentIndex(index)
        self.focus_combo.blockSignals(False)

    @property
    def focus(self):
        """The class the diff shows alone, or None for all."""
        return self.focus_combo.currentData()

    def _show_confusion(self, scores: Scores) -> None:
        counts = np.asarray(scores.confusion.counts[:-1, :-1], np.float64)
        # Rows normalised: each ground-truth class sums to 1, so small classes stay visible.
        totals = counts.sum(axis=1, keepdims=True)
        share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
        self.confusion_image.setImage(share, levels=(0.0, 1.0), autoLevels=False)
        self.confusion_image.setColorMap(pg.colormap.get("viridis"))
        named = {c.key: c.name for c in scores.per_class}
        names = [(i + 0.5, (named.get(k) or class_text(k))[:12])
                 for i, k in enumerate(scores.confusion.classes)]
        for axis in ("left", "bottom"):
            self.confusion_plot.getAxis(axis).setTicks([names])


def _pct(value: float) -> str:
    return "–" if value is None or math.isnan(value) else f"{100 * value:.1f} %"
