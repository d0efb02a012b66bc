"""The main window: canvas in the middle, overlay controls on a toolbar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSlider,
    QToolBar,
    QWidget,
)

from viewer import __version__
from viewer.core.errors import ViewerError
from viewer.core.export import ExportResult, export
from viewer.core.formats.registry import FORMATS, read_mask
from viewer.core.images import read_image
from viewer.core.render import Mode, RenderSettings, render_overlay
from viewer.core.render.lut import Selection
from viewer.core.render.pipeline import render_export
from viewer.core.segmentation import Segmentation
from viewer.core.settings import Settings, save_settings
from viewer.gui.canvas import CanvasWidget
from viewer.gui.export_dialog import ExportChoice, ExportDialog
from viewer.gui.legend_panel import LegendPanel
from viewer.gui.segments_panel import SegmentsPanel

MODE_TITLES = {Mode.FILLED: "Filled", Mode.OUTLINE: "Outline", Mode.FILLED_OUTLINE: "Filled + outline"}


class MainWindow(QMainWindow):
    """Shows one image and its segmentation."""

    def __init__(self, settings: Settings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings or Settings()
        self.image: np.ndarray | None = None
        self.segmentation: Segmentation | None = None
        self.image_path: Path | None = None
        self.last_export: ExportChoice | None = None
        self.render_settings = RenderSettings(mode=Mode(self.settings.render_mode),
                                              thickness=self.settings.outline_thickness)
        self.canvas = CanvasWidget(self)
        self.canvas.set_alpha(self.settings.overlay_alpha)
        self.setCentralWidget(self.canvas)
        self.legend = LegendPanel(self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.legend)
        self.segments = SegmentsPanel(self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.segments)
        self.segments.selection_changed.connect(self._on_segments_selected)
        self.canvas.clicked.connect(self._on_canvas_clicked)
        self._build_menu()
        self._build_toolbar()
        self.hover_label = QLabel("")
        self.statusBar().addWidget(self.hover_label, 1)
        self.zoom_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.canvas.zoom_changed.connect(self._on_zoom_changed)
        self.canvas.hovered.connect(self._on_canvas_hovered)
        self.setAcceptDrops(True)
        self.resize(1200, 800)
        self._update_title()

    # -- building ------------------------------------------------------------
    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&File")
        self.open_image_action = self._action("Open &image…", QKeySequence.StandardKey.Open,
                                              self._on_open_image_triggered)
        self.open_mask_action = self._action("Open &mask…", "Ctrl+M", self._on_open_mask_triggered)
        self.export_action = self._action("&Export mask…", "Ctrl+E", self._on_export_triggered)
        self.export_action.setEnabled(False)
        quit_action = self._action("&Quit", QKeySequence.StandardKey.Quit, self.close)
        for action in (self.open_image_action, self.open_mask_action, self.export_action,
                       quit_action):
            menu.addAction(action)
        view = self.menuBar().addMenu("&View")
        self.overlay_action = self._action("Show &overlay", "O", self.canvas.set_overlay_visible)
        self.overlay_action.setCheckable(True)
        self.overlay_action.setChecked(True)
        view.addAction(self.overlay_action)
        view.addSeparator()
        self.zoom_fit_action = self._action("Zoom to &fit", "F", self.canvas.zoom_to_fit)
        self.zoom_actual_action = self._action("&Actual pixels (1:1)", "1",
                                               lambda: self.canvas.set_zoom(1.0))
        self.zoom_in_action = self._action("Zoom &in", "+", lambda: self.canvas.zoom_by(1.25))
        self.zoom_out_action = self._action("Zoom &out", "-", lambda: self.canvas.zoom_by(0.8))
        self.alpha_up_action = self._action("More opaque overlay", "]", lambda: self._step_alpha(10))
        self.alpha_down_action = self._action("More transparent overlay", "[",
                                              lambda: self._step_alpha(-10))
        for action in (self.zoom_fit_action, self.zoom_actual_action, self.zoom_in_action,
                       self.zoom_out_action, None, self.alpha_up_action, self.alpha_down_action):
            if action is None:
                view.addSeparator()
            else:
                view.addAction(action)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Overlay", self)
        bar.setObjectName("overlay_toolbar")
        self.addToolBar(bar)
        bar.addAction(self.overlay_action)
        bar.addSeparator()
        bar.addWidget(QLabel(" Alpha "))
        self.alpha_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.alpha_slider.setRange(0, 100)
        self.alpha_slider.setFixedWidth(180)
        self.alpha_slider.setValue(round(self.canvas.alpha * 100))
        self.alpha_slider.valueChanged.connect(self._on_alpha_slider_changed)
        bar.addWidget(self.alpha_slider)
        self.alpha_label = QLabel(f" {self.alpha_slider.value():3d} % ")
        bar.addWidget(self.alpha_label)
        bar.addSeparator()
        bar.addWidget(QLabel(" Mode "))
        self.mode_combo = QComboBox(self)
        for mode, title in MODE_TITLES.items():
            self.mode_combo.addItem(title, mode)
        self.mode_combo.setCurrentIndex(list(MODE_TITLES).index(self.render_settings.mode))
        self.mode_combo.currentIndexChanged.connect(self._on_mode_combo_changed)
        bar.addWidget(self.mode_combo)

    def _action(self, text, shortcut, slot) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    # -- opening -------------------------------------------------------------
    def open_image(self, path: str | Path, mask: str | Path | None = None) -> bool:
        """Open a photo (and optionally its mask); report problems in a dialog."""
        try:
            image = read_image(path)
            seg = _read_mask_for(image, mask) if mask is not None else None
        except ViewerError as exc:
            self._show_error("Cannot open", exc)
            return False
        self.image, self.image_path = image, Path(path)
        self.canvas.set_image(image)
        self.set_segmentation(seg)
        self._show_warnings(seg)
        return True

    def open_mask(self, path: str | Path) -> bool:
        """Overlay a mask on the open photo; it must have the photo's size."""
        try:
            seg = _read_mask_for(self.image, path)
        except ViewerError as exc:
            self._show_error("Cannot open mask", exc)
            return False
        self.set_segmentation(seg)
        self._show_warnings(seg)
        return True

    def export_to(self, choice: ExportChoice) -> ExportResult | None:
        """Export the current mask as ``choice`` says; errors go to a dialog."""
        seg = self.segmentation
        if seg is None:
            return None
        overlay = None
        if choice.with_overlay and self.image is not None:
            overlay = render_export(self.image, seg, self.canvas.alpha, self.render_settings)
        try:
            result = export(seg, choice.format_name, choice.folder, choice.stem,
                            image=self.image_path, image_size=self._image_size(),
                            overlay=overlay)
        except ViewerError as exc:
            self._show_error("Export failed", exc)
            return None
        self.last_export = choice
        written = len(result.files) + 1 + (result.overlay is not None)
        lost = f"; lost: {'; '.join(result.lost)}" if result.lost else ""
        self.statusBar().showMessage(f"Exported {written} files to {choice.folder}{lost}", 15000)
        return result

    def set_segmentation(self, seg: Segmentation | None) -> None:
        """Show ``seg`` over the photo (None removes the overlay)."""
        self.export_action.setEnabled(seg is not None)
        if self.segmentation is not None:
            self.segmentation.table.changed.disconnect(self._on_table_changed)
        self.segmentation = seg
        if seg is not None:
            seg.table.changed.connect(self._on_table_changed)
        self.legend.set_segmentation(seg)
        self.segments.set_segmentation(seg)
        self.render_settings = self.render_settings.with_(selected=frozenset(),
                                                          selection=Selection.NONE)
        self._rerender()
        self._update_title()

    # -- rendering -----------------------------------------------------------
    def _rerender(self) -> None:
        if self.segmentation is None:
            self.canvas.set_overlay(None)
            return
        layers = render_overlay(self.segmentation, self.render_settings,
                                order="bgra", premultiplied=True)
        self.canvas.set_overlay(layers.fill, layers.outline)

    # -- slots ---------------------------------------------------------------
    def _on_alpha_slider_changed(self, value: int) -> None:
        self.alpha_label.setText(f" {value:3d} % ")
        self.canvas.set_alpha(value / 100.0)

    def _on_mode_combo_changed(self, index: int) -> None:
        self.render_settings = self.render_settings.with_(mode=self.mode_combo.itemData(index))
        self._rerender()

    def _on_table_changed(self, ids, fields) -> None:
        self._rerender()

    def _on_canvas_hovered(self, row: int, col: int) -> None:
        self.hover_label.setText(self._describe_pixel(row, col))

    def _on_open_image_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open image", "", "Images (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp)")
        if path:
            self.open_image(path)

    def _on_open_mask_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open mask", "", _mask_filter())
        if path:
            self.open_mask(path)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Remember the overlay choices for the next run."""
        self.settings = self.settings.replace(overlay_alpha=self.canvas.alpha,
                                              render_mode=str(self.render_settings.mode))
        try:
            save_settings(self.settings)
        except ViewerError as exc:
            self.statusBar().showMessage(f"Settings not saved: {exc}", 5000)
        super().closeEvent(event)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt override)
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.open_image(paths[0], paths[1] if len(paths) > 1 else None)

    # -- helpers -------------------------------------------------------------
    def _describe_pixel(self, row: int, col: int) -> str:
        if row < 0 or self.image is None:
            return ""
        r, g, b = (int(v) for v in self.image[row, col])
        text = f"x {col}, y {row}   RGB {r}, {g}, {b}"
        seg = self.segmentation.segment_at(row, col) if self.segmentation is not None else None
        if seg is not None:
            text += f"   |   {seg.label or '(unnamed)'}   id {seg.id}"
            if seg.value != seg.id:
                text += f" (value {seg.value})"
            if seg.class_id is not None:
                text += f"   class {seg.class_id}"
            if seg.instance is not None:
                text += f"   instance {seg.instance}"
            confidence = self.segmentation.confidence_at(row, col)
            if confidence is not None:
                text += f"   confidence {confidence:.2f}"
        return text

    def _show_error(self, title: str, error: ViewerError) -> None:
        self.statusBar().showMessage(str(error), 10000)
        QMessageBox.critical(self, title, str(error))

    def select_segments(self, ids) -> None:
        """Highlight ``ids`` on the canvas (the others dimmed); empty clears it."""
        ids = frozenset(int(i) for i in ids)
        selection = Selection.HIGHLIGHT if ids else Selection.NONE
        self.render_settings = self.render_settings.with_(selected=ids, selection=selection)
        self._rerender()

    def _on_segments_selected(self, ids) -> None:
        self.select_segments(ids)

    def _on_canvas_clicked(self, row: int, col: int) -> None:
        # Clicking the canvas selects the segment there, in the panel too.
        seg = self.segmentation.segment_at(row, col) if self.segmentation is not None else None
        ids = (seg.id,) if seg is not None and seg.visible else ()
        self.segments.select_ids(ids)
        self.select_segments(ids)

    def _step_alpha(self, percent: int) -> None:
        self.alpha_slider.setValue(self.alpha_slider.value() + percent)

    def _on_zoom_changed(self, scale: float) -> None:
        self.zoom_label.setText(f" {scale * 100:.0f} % ")

    def _on_export_triggered(self) -> None:
        if self.segmentation is None:
            return
        stem = self.image_path.stem if self.image_path is not None else "mask"
        dialog = ExportDialog(self.segmentation, stem, self.last_export, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.export_to(dialog.choice())

    def _image_size(self) -> tuple[int, int] | None:
        return None if self.image is None else (self.image.shape[1], self.image.shape[0])

    def _show_warnings(self, seg: Segmentation | None) -> None:
        # Readers report what the user should know (unknown colours, upscaling) as sentences.
        notes = list(seg.provenance.details.get("warnings", [])) if seg is not None else []
        if notes:
            more = f" (+{len(notes) - 1} more)" if len(notes) > 1 else ""
            self.statusBar().showMessage(f"{notes[0]}{more}", 15000)

    def _update_title(self) -> None:
        name = self.image_path.name if self.image_path is not None else "no image"
        self.setWindowTitle(f"{name} — SegView {__version__}")


def _read_mask_for(image: np.ndarray | None, path: str | Path) -> Segmentation:
    """Read a mask for ``image``: a smaller one is upscaled (nearest), another size refused."""
    if image is None:
        return read_mask(path)
    return read_mask(path, image_size=(image.shape[1], image.shape[0]))


def _mask_filter() -> str:
    """File-dialog filter with every extension a registered format reads."""
    extensions = sorted({ext for spec in FORMATS if spec.read for ext in spec.extensions})
    return f"Masks ({' '.join('*' + ext for ext in extensions)});;All files (*)"
