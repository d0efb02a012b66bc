"""The main window: canvas in the middle, panels around it, loading in workers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabBar,
    QWidget,
)

from viewer import __version__
from viewer.core.browse import ItemList
from viewer.core.errors import ViewerError
from viewer.core.export import ExportResult
from viewer.core.output_guard import OutputExistsError
from viewer.core.formats.registry import read_mask
from viewer.core.palettes import builtin_ids
from viewer.core.render import Mode, RenderSettings, render_overlay
from viewer.core.render.lut import Selection
from viewer.core.render.pipeline import render_export
from viewer.core.render.region import render_region
from viewer.core.segmentation import Segmentation
from viewer.core.settings import Settings
from viewer.core.tasks import Loaded, drain, load_image, load_mask, scan_folder
from viewer.core.video.base import is_video
from viewer.gui import dialogs
from viewer.gui.canvas import CanvasWidget
from viewer.gui.compare_panel import ComparePanel
from viewer.gui.compare_view import CompareView
from viewer.gui.edit_menu import build_edit_menu, build_edit_toolbar
from viewer.gui.editing import EditSession
from viewer.gui.export_dialog import ExportChoice, run_export
from viewer.gui.legend_panel import LegendPanel, swatch
from viewer.gui.menus import build_menus, build_overlay_toolbar, shortcut_groups
from viewer.gui.model_panel import ModelPanel
from viewer.gui.model_runs import ModelRuns
from viewer.gui.navigation_bar import NavigationBar
from viewer.gui.palette_panel import FILE_KEY, PalettePanel
from viewer.gui.review_panel import ReviewPanel
from viewer.gui.review_session import ReviewSession
from viewer.gui.richtext import plain
from viewer.gui.segments_panel import SegmentsPanel
from viewer.gui.settings_saver import SettingsSaver
from viewer.gui.shortcuts_overlay import ShortcutsOverlay
from viewer.gui.stats_panel import StatsPanel
from viewer.gui.theme import apply_theme
from viewer.gui.video_exports import VideoExports
from viewer.gui.video_menu import build_video_menu, update_video_actions
from viewer.gui.video_session import VideoSession
from viewer.gui.window_state import WindowState
from viewer.gui.workers import TaskHandle, TaskProgress, run_task

# Segment fields that change the overlay's colour table (areas and boxes do not).
_LOOK_FIELDS = frozenset({"color", "visible"})


class MainWindow(QMainWindow):
    """Shows one image and its segmentation, or walks through a folder of them."""

    def __init__(self, settings: Settings | None = None, state: WindowState | None = None,
                 parent: QWidget | None = None, models_dirs: tuple[str, ...] = ()):
        super().__init__(parent)
        self._settings = settings or Settings()
        self.settings_saver = SettingsSaver(self.settings_to_save,
                                            lambda text: self.statusBar().showMessage(text, 5000),
                                            self)
        self.state = state or WindowState()
        self.image: np.ndarray | None = None
        self.segmentation: Segmentation | None = None
        self.image_path: Path | None = None
        self.mask_path: Path | None = None
        self.items: ItemList | None = None
        self.last_export: ExportChoice | None = _remembered_export(self.state)
        self.saved_theme: str | None = None  # the saved theme while --theme overrides it
        self._loading: TaskHandle | None = None
        self._layers = None  # the plain overlay's layers, for redrawing an edited box
        self.render_settings = RenderSettings(mode=Mode(self.settings.render_mode),
                                              thickness=self.settings.outline_thickness)
        self.canvas = CanvasWidget(self)
        self.canvas.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.canvas.set_alpha(self.settings.overlay_alpha)
        # Compare mode's side-by-side view: a second canvas, hidden until asked for.
        self.side_canvas = CanvasWidget(self)
        self.side_canvas.hide()
        splitter = QSplitter(self)
        splitter.addWidget(self.canvas)
        splitter.addWidget(self.side_canvas)
        self.setCentralWidget(splitter)
        self.model_panel = ModelPanel(models_dirs, self)
        self.review_panel = ReviewPanel(self)
        self.compare_panel = ComparePanel(self)
        self._build_docks()
        self.models = ModelRuns(self, self.model_panel)
        self.reviews = ReviewSession(self, self.review_panel)
        self.compare = CompareView(self, self.compare_panel)
        self.edits = EditSession(self)
        self.video = VideoSession(self)
        self.video_exports = VideoExports(self)
        self.palette_panel.recolored.connect(
            lambda old: self.edits.record_table(old, "Change colours"))
        build_menus(self)
        build_edit_menu(self)
        build_video_menu(self)
        self.addToolBar(build_overlay_toolbar(self))
        self.navigation = NavigationBar(self.previous_action, self.next_action, self)
        self.addToolBar(self.navigation)
        # The edit tools get a row of their own: beside the overlay controls they
        # would not fit a 1500 px window and would hide behind the overflow arrow.
        self.addToolBarBreak()
        self.addToolBar(build_edit_toolbar(self))
        self.navigation.mask_chosen.connect(self._on_mask_chosen)
        self._build_status_bar()
        self._connect()
        self.setAcceptDrops(True)
        self.resize(1440, 860)
        # Room for the Segments table's columns; a remembered layout overrides it.
        self.resizeDocks([self.segments, self.model_panel], [400, 320], Qt.Orientation.Horizontal)
        self.update_actions()

    # -- building ------------------------------------------------------------
    def _build_docks(self) -> None:
        self.legend = LegendPanel(self)
        self.segments = SegmentsPanel(self)
        self.palette_panel = PalettePanel(self)
        self.palette_panel.choose(self.settings.palette, apply=False)
        self.stats_panel = StatsPanel(self)
        self.docks = (self.legend, self.segments, self.palette_panel, self.stats_panel)
        for dock in self.docks:
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        # Left: what the user does (run a model, review, compare); right: what the mask holds.
        for dock in (self.model_panel, self.review_panel, self.compare_panel):
            self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        # Legend, palette and statistics share tabs above the segment table.
        self.tabifyDockWidget(self.legend, self.palette_panel)
        self.tabifyDockWidget(self.palette_panel, self.stats_panel)
        self.tabifyDockWidget(self.model_panel, self.review_panel)
        self.tabifyDockWidget(self.review_panel, self.compare_panel)
        self.model_panel.raise_()
        self.legend.raise_()
        _hide_stale_tab_bars(self)

    def _build_status_bar(self) -> None:
        self.hover_label = plain(QLabel(""))  # shows class names from the file
        self.statusBar().addWidget(self.hover_label, 1)
        self.progress = TaskProgress(self)
        self.statusBar().addPermanentWidget(self.progress)
        self.zoom_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.zoom_label)

    def _connect(self) -> None:
        for dock in (*self.docks, self.model_panel, self.review_panel, self.compare_panel,
                     self.temporal_panel):
            self.panels_menu.addAction(dock.toggleViewAction())
        # Linked views: either canvas's zoom and pan moves the other.
        self.canvas.view_moved.connect(
            lambda: self.side_canvas.set_view_state(self.canvas.view_state()))
        self.side_canvas.view_moved.connect(
            lambda: self.canvas.set_view_state(self.side_canvas.view_state()))
        self.shortcuts_overlay = ShortcutsOverlay(self, shortcut_groups(self))
        self.theme_actions[self.settings.theme].setChecked(True)
        self.palette_panel.palette_chosen.connect(self._on_palette_chosen)
        self.segments.selection_changed.connect(self.select_segments)
        self.canvas.clicked.connect(self._on_canvas_clicked)
        self.canvas.zoom_changed.connect(
            lambda scale: self.zoom_label.setText(f" {scale * 100:.0f} % "))
        self.canvas.hovered.connect(
            lambda row, col: self.hover_label.setText(self._describe_pixel(row, col)))
        self.alpha_slider.valueChanged.connect(self._on_alpha_slider_changed)
        self.mode_combo.currentIndexChanged.connect(self._on_mode_combo_changed)

    # -- opening -------------------------------------------------------------
    def open_path(self, path: str | Path, mask: str | Path | None = None) -> TaskHandle:
        """Open a folder, or an image (with ``mask``, or the mask found beside it), in a worker."""
        path = Path(path)
        if path.is_dir():
            return self.open_folder(path)
        if is_video(path):
            return self.video.open(path, mask)
        return self.load_image(path, mask, find_mask=mask is None)

    def open_image(self, path: str | Path, mask: str | Path | None = None) -> bool:
        """Open a photo (and optionally its mask) now, on this thread; errors go to a dialog.

        For scripts and tests; the menus use :meth:`load_image`, which never blocks.
        """
        if not self.edits.may_leave():
            return False
        try:
            loaded = drain(load_image(path, mask))
        except ViewerError as exc:
            self._show_error("Cannot open", exc)
            return False
        self.items = None
        self._show_loaded(loaded)
        return True

    def load_image(self, path: str | Path, mask: str | Path | None = None, *,
                   find_mask: bool = False) -> TaskHandle:
        """Open a photo and its mask in a worker; the window stays responsive."""
        self.items = None
        if mask is None and find_mask:
            mask = _first_mask(path)
        return self._load(path, mask, mask_required=not find_mask)

    def open_folder(self, folder: str | Path) -> TaskHandle:
        """List a folder's images with their masks (in a worker), then show the first."""
        folder = Path(folder)

        def done(items) -> None:
            self.video.close()
            self.stream.close()
            self.items = ItemList(folder, items)
            self.remember_path(folder)
            self.reviews.open_for(folder)
            if not items:
                self._clear()
                self.navigation.show_position(self.items)
                self.statusBar().showMessage(f"No images in {folder}", 10000)
            else:
                self.go_to_item(0)
            self.update_actions()

        return self._start(scan_folder(folder), f"Scanning {folder.name}", done,
                           lambda exc: self._show_error("Cannot open folder", exc))

    def open_mask(self, path: str | Path) -> bool:
        """Overlay a mask on the open photo; it must have the photo's size."""
        try:
            seg = read_mask(path, image_size=self.image_size())
        except ViewerError as exc:
            self._show_error("Cannot open mask", exc)
            return False
        self.mask_path = Path(path)
        self.set_segmentation(seg)
        self._show_warnings(seg)
        return True

    def load_mask(self, path: str | Path) -> TaskHandle:
        """Overlay a mask on the open photo, read in a worker (big JSON files take a while)."""
        path = Path(path)

        def done(seg: Segmentation) -> None:
            self.mask_path = path
            self.set_segmentation(seg)
            self._show_warnings(seg)

        return self._start(load_mask(path, self.image_size()), f"Opening {path.name}", done,
                           lambda exc: self._show_error("Cannot open mask", exc))

    def step_item(self, delta: int) -> TaskHandle | None:
        """Show the item ``delta`` places away in the opened folder."""
        if self.items is None or self.items.target(delta) is None:
            return None
        return self.go_to_item(self.items.index + delta)

    def go_to_item(self, index: int, mask_index: int | None = None) -> TaskHandle | None:
        """Show item ``index`` of the opened folder (negative counts from the end).

        ``mask_index`` picks one of the item's mask files; by default the model's
        result when the folder was segmented, else the first mask.
        """
        if self.items is None or not self.items.items or not self.edits.may_leave():
            return None
        item = self.items.go_to(index)
        # The indicator moves at once, so holding the key skims through quickly.
        self.navigation.show_position(self.items, mask_index or 0)
        self.update_actions()
        if mask_index is None and item.image in self.models.results:
            return self._load(item.image, None, mask_required=False,
                              prediction=self.models.results[item.image])
        mask = item.masks[mask_index or 0] if item.masks else None
        return self._load(item.image, mask, mask_required=False)

    def _load(self, image, mask, *, mask_required: bool,
              prediction: Segmentation | None = None) -> TaskHandle:
        name = Path(image).name

        def done(loaded: Loaded) -> None:
            self._show_loaded(loaded)
            if prediction is not None:
                self.show_prediction(prediction)

        return self._start(load_image(image, mask, mask_required=mask_required),
                           f"Opening {name}", done,
                           lambda exc: self._show_error("Cannot open", exc))

    def start_task(self, task, title: str, on_done, error_title: str, *,
                   replaces: bool = True) -> TaskHandle | None:
        """Run a core task in a worker with the status-bar progress; errors go to a dialog.

        ``replaces``: the result replaces the shown mask, so unsaved edits are asked about.
        """
        return self._start(task, title, on_done, lambda exc: self._show_error(error_title, exc),
                           replaces=replaces)

    def show_prediction(self, seg: Segmentation) -> None:
        """Show a model's result for the current photo."""
        self.mask_path = None
        self.set_segmentation(seg)
        model = seg.provenance.details.get("model", {})
        name = model.get("name") if isinstance(model, dict) else None
        self.statusBar().showMessage(f"Model result{f' ({name})' if name else ''}", 10000)

    def _start(self, task, title, on_done, on_error, *, replaces: bool = True
               ) -> TaskHandle | None:
        # Unsaved edits first: save, discard, or keep the shown mask.
        if replaces and not self.edits.may_leave():
            return None
        # One load at a time: a newer request (the next image) replaces an older one.
        if self._loading is not None:
            self._loading.cancel()
        handle = run_task(task, title=title, on_done=on_done, on_error=on_error, parent=self)
        handle.ended.connect(lambda: self._on_load_ended(handle))
        self._loading = handle
        self.progress.track(handle)
        return handle

    def _on_load_ended(self, handle: TaskHandle) -> None:
        if handle is self._loading:
            self._loading = None

    @property
    def loading(self) -> bool:
        """True while an image or folder is being read."""
        return self._loading is not None

    def _show_loaded(self, loaded: Loaded) -> None:
        self.video.close()
        self.stream.close()
        self.image, self.image_path, self.mask_path = (loaded.image, loaded.image_path,
                                                       loaded.mask_path)
        self.canvas.set_image(loaded.image)  # same size: the view stays
        self.set_segmentation(loaded.segmentation)
        if self.items is None:
            self.remember_path(loaded.image_path)
            self.reviews.open_for(loaded.image_path)
        else:
            self.reviews.refresh()
        if loaded.mask_error is not None:
            self.statusBar().showMessage(f"Mask not shown: {loaded.mask_error}", 15000)
        else:
            self._show_warnings(loaded.segmentation)
        self.update_actions()

    def _clear(self) -> None:
        self.image = self.image_path = self.mask_path = None
        self.canvas.set_image(None)
        self.set_segmentation(None)

    # -- the segmentation ----------------------------------------------------
    def set_segmentation(self, seg: Segmentation | None) -> None:
        """Show ``seg`` over the photo (None removes the overlay)."""
        if self.segmentation is not None:
            table = self.segmentation.table
            table.changed.disconnect(self._on_table_changed)
            table.inserted.disconnect(self._on_table_rows)
            table.removed.disconnect(self._on_table_rows)
        self.segmentation = seg
        if seg is not None:
            seg.table.changed.connect(self._on_table_changed)
            seg.table.inserted.connect(self._on_table_rows)
            seg.table.removed.connect(self._on_table_rows)
        # Nothing is recorded as an edit while the panels take the new mask
        # (the palette panel recolours it with the chosen palette).
        self.edits.bind(None)
        for panel in self.docks:
            panel.set_segmentation(seg)
        self.models.segmentation_changed(seg)
        self.compare.shown_changed()
        self.edits.bind(seg)
        self.fill_paint_choices()
        self.render_settings = self.render_settings.with_(selected=frozenset(),
                                                          selection=Selection.NONE)
        self._rerender()
        self.update_actions()

    def select_segments(self, ids) -> None:
        """Highlight ``ids`` on the canvas (the others dimmed, or hidden when isolating)."""
        ids = frozenset(int(i) for i in ids)
        selection = Selection.NONE
        if ids:
            isolate = self.isolate_action.isChecked()
            selection = Selection.ISOLATE if isolate else Selection.HIGHLIGHT
        self.render_settings = self.render_settings.with_(selected=ids, selection=selection)
        self.palette_panel.set_selected_ids(ids)
        self._rerender()
        self.update_actions()

    def set_isolate(self, isolate: bool) -> None:
        """Show only the selected segments (True) or highlight them (False)."""
        self.isolate_action.setChecked(isolate)
        self.select_segments(self.render_settings.selected)

    def set_class_visible(self, seg_id: int, visible: bool) -> None:
        """Show or hide every segment of ``seg_id``'s class, as one table change."""
        self.segments.set_class_visible(seg_id, visible)

    def zoom_to_selection(self) -> None:
        """Fit the view to the selected segments' bounding box."""
        seg = self.segmentation
        boxes = [seg.table[i].bbox for i in self.render_settings.selected
                 if seg is not None and i in seg.table and seg.table[i].bbox is not None]
        if not boxes:
            self.statusBar().showMessage("Select a segment first (click it or its row)", 5000)
            return
        r0, c0, r1, c1 = np.array(boxes).T
        self.canvas.zoom_to_rect(int(r0.min()), int(c0.min()), int(r1.max()), int(c1.max()))

    def export_to(self, choice: ExportChoice) -> ExportResult | None:
        """Export the current mask as ``choice`` says; errors go to a dialog."""
        seg = self.segmentation
        if seg is None:
            return None
        overlay = None
        if choice.with_overlay and self.image is not None:
            overlay = render_export(self.image, seg, self.canvas.alpha, self.render_settings)
        reads = [p for p in (self.image_path, seg.provenance.source) if p]
        try:
            result = run_export(self, seg, choice, reads=[Path(p) for p in reads],
                                image=self.image_path, image_size=self.image_size(),
                                overlay=overlay, review=self.reviews.metadata())
        except OutputExistsError:
            self.statusBar().showMessage("Export cancelled: no file was replaced", 10000)
            return None
        except ViewerError as exc:
            self._show_error("Export failed", exc)
            return None
        self.last_export = choice
        self.state.set_value("export", [choice.format_name, str(choice.folder),
                                        int(choice.with_overlay)])
        written = len(result.files) + 1 + (result.overlay is not None)
        lost = f"; lost: {'; '.join(result.lost)}" if result.lost else ""
        self.statusBar().showMessage(f"Exported {written} files to {choice.folder}{lost}", 15000)
        return result

    # -- rendering -----------------------------------------------------------
    def rerender(self) -> None:
        """Render the overlay again (after a change of mode, selection or view)."""
        self._rerender()

    def rerender_box(self, bbox) -> None:
        """Redraw the overlay inside ``bbox`` only, after an edit of the label map there.

        The colour table the layers were drawn with is reused; a full render
        happens instead when there is no box, when the overlay is not the
        plain one (heatmap, diff, split), or when segments came or went since.
        """
        layers, seg = self._layers, self.segmentation
        if self.compare.active():
            self.compare.shown_changed()  # the diff and the metrics follow the edit
            return
        if bbox is None or layers is None or seg is None or layers.lut is None:
            self._rerender()
            return
        r0, c0, r1, c1 = bbox
        region = seg.labels[r0:r1, c0:c1]
        if region.size and int(region.max()) >= len(layers.lut) - 1:
            self._rerender()  # an id the colour table does not cover
            return
        box = render_region(seg.labels, layers.lut, layers, bbox, self.render_settings.thickness)
        self.canvas.update_box(box)

    def _rerender(self) -> None:
        self._layers = None  # set again below when the plain overlay is drawn
        comparing = self.compare.active()
        self.canvas.set_split(None)
        self.side_canvas.setVisible(comparing and self.compare.mode == "side")
        if self.segmentation is None:
            self.canvas.set_overlay(None)
            return
        heatmap = self.models.heatmap_layer(self.segmentation)
        if heatmap is not None:
            self.canvas.set_overlay(heatmap, None)
            return
        if comparing and self.compare.mode == "diff":
            self.canvas.set_overlay(self.compare.diff_layer(), None)
            return
        layers = render_overlay(self.segmentation, self.render_settings,
                                order="bgra", premultiplied=True)
        self.canvas.set_overlay(layers.fill, layers.outline)
        self._layers = layers
        if comparing and self.compare.mode == "split":
            self.canvas.set_split(self.compare.split, *self.compare.other_layers())
        elif comparing and self.compare.mode == "side":
            self.side_canvas.set_image(self.image)
            self.side_canvas.set_alpha(self.canvas.alpha)
            self.side_canvas.set_overlay(*self.compare.other_layers())
            self.side_canvas.set_view_state(self.canvas.view_state())

    def _on_table_changed(self, ids, fields) -> None:
        # Areas and boxes change with every brush dab; only colour and
        # visibility change the overlay's colour table.
        if fields & _LOOK_FIELDS:
            self._rerender()

    def _on_table_rows(self, ids) -> None:
        # Rows came or went (split, delete, undo): the colour table is out of date,
        # and the classes to paint with may have changed.
        self._rerender()
        self.fill_paint_choices()

    # -- user commands (menus, keys) -----------------------------------------
    def choose_image(self) -> None:
        path = dialogs.ask_open_file(self, "Open image", self.last_dir(), dialogs.IMAGE_FILTER)
        if path:
            self.load_image(path, find_mask=True)

    def choose_folder(self) -> None:
        folder = dialogs.ask_folder(self, "Open folder", self.last_dir())
        if folder:
            self.open_folder(folder)

    def choose_mask(self) -> None:
        path = dialogs.ask_open_file(self, "Open mask", self.last_dir(), dialogs.mask_filter())
        if path:
            self.load_mask(path)

    def choose_export(self) -> None:
        if self.video.active:
            self.video_exports.choose()
            return
        if self.segmentation is None:
            return
        stem = self.image_path.stem if self.image_path is not None else "mask"
        choice = dialogs.ask_export(self, self.segmentation, stem, self.last_export,
                                    self.image_path)
        if choice is not None:
            self.export_to(choice)

    def fill_recent_menu(self) -> None:
        dialogs.fill_recent_menu(self.recent_menu, self.state.recent(), self.open_path,
                                 self.state.clear_recent)

    def step_alpha(self, percent: int) -> None:
        self.alpha_slider.setValue(self.alpha_slider.value() + percent)

    def cycle_mode(self) -> None:
        self.mode_combo.setCurrentIndex((self.mode_combo.currentIndex() + 1)
                                        % self.mode_combo.count())

    def set_theme(self, theme: str) -> None:
        """Switch to the "system", "light" or "dark" theme and remember it."""
        self.saved_theme = None  # a theme picked in the window is saved (see closeEvent)
        apply_theme(QApplication.instance(), theme)
        self.theme_actions[theme].setChecked(True)
        self.settings = self.settings.replace(theme=theme)

    def toggle_shortcuts(self) -> None:
        """Show or hide the keyboard shortcut card over the window."""
        self.shortcuts_overlay.toggle()

    def _on_palette_chosen(self, palette) -> None:
        # Built-in ids and "file" can be restored next time; a loaded file's id may not exist.
        if palette.id in builtin_ids() or palette.id == FILE_KEY:
            self.settings = self.settings.replace(palette=palette.id)

    # -- slots ---------------------------------------------------------------
    def _on_alpha_slider_changed(self, value: int) -> None:
        self.alpha_label.setText(f" {value:3d} % ")
        self.remember(overlay_alpha=value / 100.0)
        self.canvas.set_alpha(value / 100.0)
        self.side_canvas.set_alpha(value / 100.0)

    def _on_mode_combo_changed(self, index: int) -> None:
        self.render_settings = self.render_settings.with_(mode=self.mode_combo.itemData(index))
        self.remember(render_mode=str(self.render_settings.mode))
        self._rerender()

    def _on_canvas_clicked(self, row: int, col: int) -> None:
        # Clicking the canvas selects the segment there, in the panel too.
        self.reviews.last_point = (row, col)
        if self.edits.click(row, col) or self.compare.click(row, col):
            return
        seg = self.segmentation.segment_at(row, col) if self.segmentation is not None else None
        ids = (seg.id,) if seg is not None and seg.visible else ()
        self.segments.select_ids(ids)
        self.select_segments(ids)

    def _on_mask_chosen(self, index: int) -> None:
        if self.items is not None:
            self.go_to_item(self.items.index, index)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Ask about unsaved edits; remember the overlay choices and the layout."""
        if not self.edits.may_leave():
            event.ignore()
            return
        if self._loading is not None:
            self._loading.cancel()
        self.demo.leave()
        self.video.close()
        self.stream.close()
        self.settings = self.settings.replace(overlay_alpha=self.canvas.alpha,
                                              render_mode=str(self.render_settings.mode))
        self.settings_saver.save_now()
        self.state.save_layout(self)
        super().closeEvent(event)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt override)
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        self.open_dropped(paths)


    def open_dropped(self, paths: list[Path]) -> None:
        """Open what was dropped: a folder, an image (+ mask), or a mask for the open image."""
        if not paths:
            return
        videos = [p for p in paths if is_video(p)]
        if videos:
            # A video with a mask folder or file dropped beside it opens with those masks.
            others = [p for p in paths if p not in videos]
            self.open_path(videos[0], others[0] if others else None)
            return
        image, mask = dialogs.sort_dropped(paths, have_image=self.image is not None)
        if image is None and mask is not None:
            self.load_mask(mask)
        elif image is not None:
            self.open_path(image, mask)

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

    def show_message(self, title: str, text: str) -> None:
        """A warning the user should read (not an error that stopped something)."""
        dialogs.run_message(dialogs.plain_box(QMessageBox.Icon.Warning, title, text, self))

    def show_error(self, title: str, error: ViewerError) -> None:
        """An error dialog naming the file and the problem."""
        self._show_error(title, error)

    def _show_error(self, title: str, error: ViewerError) -> None:
        self.statusBar().showMessage(dialogs.error_message(title, error)[0], 10000)
        dialogs.show_error(self, title, error)

    def image_size(self) -> tuple[int, int] | None:
        return None if self.image is None else (self.image.shape[1], self.image.shape[0])

    def _show_warnings(self, seg: Segmentation | None) -> None:
        # Readers report what the user should know (unknown colours, upscaling) as sentences.
        notes = list(seg.provenance.details.get("warnings", [])) if seg is not None else []
        if notes:
            more = f" (+{len(notes) - 1} more)" if len(notes) > 1 else ""
            self.statusBar().showMessage(f"{notes[0]}{more}", 15000)

    def remember_path(self, path: Path) -> None:
        """Add ``path`` to Open recent and remember its folder."""
        self.state.add_recent(path, self.settings.recent_files_max)
        self.state.set_value("last_dir", str(path if path.is_dir() else path.parent))

    def last_dir(self) -> str:
        return str(self.state.value("last_dir", "") or "")

    def update_actions(self) -> None:
        """Enable what applies to what is open."""
        has_seg = self.segmentation is not None
        self.export_action.setEnabled(has_seg or self.video.active)
        self.open_mask_action.setEnabled(self.image is not None)
        self.compare_action.setEnabled(self.image is not None)
        self.zoom_selection_action.setEnabled(bool(self.render_settings.selected))
        in_folder = self.items is not None and len(self.items) > 0
        for act, delta in ((self.previous_action, -1), (self.next_action, 1)):
            act.setEnabled(in_folder and self.items.can_step(delta))
        self.first_action.setEnabled(in_folder)
        self.last_action.setEnabled(in_folder)
        self.navigation.setVisible(self.items is not None)
        if self.items is None:
            self.navigation.show_position(None)
        update_video_actions(self)
        self.update_title()

    def update_title(self) -> None:
        """Image name, folder position, and a * while there are unsaved edits."""
        name = self.image_path.name if self.image_path is not None else "no image"
        in_folder = self.items is not None and len(self.items) > 0
        where = f" [{self.items.position_text()}]" if in_folder else ""
        dirty = "*" if hasattr(self, "video") and (self.edits.dirty or self.video.dirty) else ""
        self.setWindowTitle(f"{dirty}{name}{where} — SegView {__version__}")

    # -- editing helpers (the edit toolbar calls these) ----------------------
    def set_edit_tool(self, tool: str) -> None:
        self.tool_actions[tool].setChecked(True)
        self.edits.set_tool(tool)

    def set_brush_size(self, size: int) -> None:
        self.brush_slider.setValue(max(1, size))

    def on_brush_size_changed(self, size: int) -> None:
        self.brush_label.setText(f" Size {size:3d} px ")
        self.edits.set_brush(size=size)

    def on_brush_shape_changed(self, shape: str) -> None:
        self.square_brush_action.setChecked(shape == "square")
        self.edits.set_brush(shape=shape)

    def set_overwrite(self, mode: str) -> None:
        """Paint over everything, background only, or the selected segment only."""
        self.overwrite_combo.setCurrentIndex(self.overwrite_combo.findData(mode))

    def apply_overwrite(self) -> None:
        mode = self.overwrite_combo.currentData()
        self.overwrite_actions[mode].setChecked(True)
        selected = sorted(self.render_settings.selected)
        if mode == "segment" and not selected:
            self.statusBar().showMessage("Select the segment to paint over first", 8000)
        self.edits.set_overwrite(mode, selected[0] if mode == "segment" and selected else None)

    def choose_paint(self, seg_id) -> None:
        if seg_id is not None:
            self.edits.paint_id = int(seg_id)

    def remember(self, **changes) -> None:
        """Keep a setting for this run and the next (saved soon, see :attr:`settings`)."""
        self.settings = self.settings.replace(**changes)

    @property
    def settings(self) -> Settings:
        """The user's settings; assigning changed ones saves them shortly after."""
        return self._settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        changed = value != self._settings
        self._settings = value
        if changed:
            self.settings_saver.schedule()

    def settings_to_save(self) -> Settings:
        """The settings as the file should hold them (``--theme`` is for this run only)."""
        if self.saved_theme is not None:
            return self.settings.replace(theme=self.saved_theme)
        return self.settings

    def fill_paint_choices(self) -> None:
        """List the classes to paint with, the one painted with chosen (rows may have changed)."""
        self.paint_combo.clear()
        for number, cls in enumerate(self.edits.paint_classes()):
            label = cls.label or f"segment {cls.id}"
            self.paint_combo.addItem(swatch(cls.color), f"{number + 1}  {label}", cls.id)
        index = self.paint_combo.findData(self.edits.paint_id)
        self.paint_combo.setCurrentIndex(max(index, 0))


def _hide_stale_tab_bars(window: QMainWindow) -> None:
    """Hide the tab bar Qt leaves behind when a second group of docks is tabified.

    Tabifying three docks into a group after another group exists keeps the
    group's two-tab bar alongside its three-tab one (Qt 6), and it shows
    through wherever a dock is shorter than its area. A bar whose tabs are a
    strict subset of another's is that leftover.
    """
    bars = [(bar, {bar.tabText(i) for i in range(bar.count())})
            for bar in window.findChildren(QTabBar)]
    for bar, tabs in bars:
        if any(tabs < other for _, other in bars):
            bar.hide()


def _remembered_export(state: WindowState) -> ExportChoice | None:
    """The last export's format, folder and overlay choice, offered again."""
    value = state.value("export")
    if not isinstance(value, list) or len(value) != 3:
        return None
    name, folder, overlay = value
    return ExportChoice(str(name), Path(folder), "", str(overlay) == "1")


def _first_mask(image: str | Path) -> Path | None:
    from viewer.core.pairing import pair_image

    try:
        masks = pair_image(image)
    except ViewerError:
        return None
    return masks[0] if masks else None


