"""Running models from the window, and reviewing their confidence.

Models run in a worker (``run_task``) on arrays the worker only reads; the
results come back to the GUI thread, where they become the shown
segmentation. Results are kept per image path, so walking a segmented folder
shows each image's result without running the model again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject

from viewer.core.errors import ViewerError
from viewer.core.inference.registry import ModelDescription, describe_onnx
from viewer.core.inference.runner import ModelRunner
from viewer.core.inference.tasks import SegmentResult, segment_images
from viewer.core.render.confidence import confidence_overlay, uncertain_regions
from viewer.core.segmentation import Segmentation
from viewer.core.tasks import Progress, Task
from viewer.gui import dialogs
from viewer.gui.manifest_dialog import ManifestDialog
from viewer.gui.model_panel import ModelPanel

if TYPE_CHECKING:
    from viewer.gui.main_window import MainWindow


class ModelRuns(QObject):
    """The window's model results and confidence review state."""

    def __init__(self, window: MainWindow, panel: ModelPanel):
        super().__init__(window)
        self.window = window
        self.panel = panel
        self.results: dict[Path, Segmentation] = {}
        self.failures: dict[Path, ViewerError] = {}
        self.heatmap = False
        self._runners: dict[tuple[str, str], ModelRunner] = {}
        self._regions: list | None = None
        self._region_index = -1
        panel.run_image_requested.connect(self.run_on_image)
        panel.run_folder_requested.connect(self.run_on_folder)
        panel.describe_requested.connect(self.choose_onnx)
        panel.heatmap_toggled.connect(self.set_heatmap)
        panel.threshold_changed.connect(self._on_threshold_changed)
        panel.next_uncertain_requested.connect(self.next_uncertain)

    # -- running -------------------------------------------------------------
    def runner(self) -> ModelRunner | None:
        """The runner of the chosen model and provider (sessions are made lazily, once)."""
        manifest = self.panel.manifest
        if manifest is None:
            return None
        key = (manifest.id, self.panel.provider)
        if key not in self._runners:
            self._runners[key] = ModelRunner(manifest, [self.panel.provider])
        return self._runners[key]

    def run_on_image(self):
        """Segment the shown photo (or video frame) in a worker; the result replaces the overlay."""
        if self.window.video.active:
            return self.window.video.segment_frame()
        runner, image, path = self.runner(), self.window.image, self.window.image_path
        if runner is None or image is None:
            self.window.statusBar().showMessage("Open an image and choose a model first", 5000)
            return None

        def done(seg: Segmentation) -> None:
            self.results[path] = seg
            if self.window.image_path == path:
                self.window.show_prediction(seg)

        return self.window.start_task(_segment_one(runner, image, path),
                                      f"Segmenting {path.name}", done, "Model failed")

    def run_on_folder(self):
        """Segment every image of the opened folder (or every frame of the video)."""
        if self.window.video.active:
            return self.window.video.segment_all()
        runner, items = self.runner(), self.window.items
        if runner is None or items is None or not len(items):
            self.window.statusBar().showMessage("Open a folder and choose a model first", 5000)
            return None
        paths = [item.image for item in items.items]

        def done(results: list[SegmentResult]) -> None:
            self._take(results)
            current = self.window.image_path
            if current in self.results:
                self.window.show_prediction(self.results[current])

        return self.window.start_task(segment_images(runner, paths), "Segmenting the folder",
                                      done, "Model failed")

    def _take(self, results: list[SegmentResult]) -> None:
        failed = [r for r in results if not r.ok]
        for result in results:
            if result.ok:
                self.results[result.path] = result.segmentation
            else:
                self.failures[result.path] = result.error
        text = f"Segmented {len(results) - len(failed)} of {len(results)} images"
        if failed:
            text += f"; {len(failed)} failed: {failed[0].error}"
            self.window.show_message("Some images were not segmented",
                                     text + "".join(f"\n{r.error}" for r in failed[1:10]))
        self.window.statusBar().showMessage(text, 15000)

    def choose_onnx(self) -> None:
        path = dialogs.ask_open_file(self.window, "Add an ONNX model", self.window.last_dir(),
                                     "ONNX models (*.onnx);;All files (*)")
        if path:
            self.describe(path)

    def describe(self, path: str | Path):
        """Read what an ONNX graph tells (in a worker), then ask for the rest."""
        return self.window.start_task(_describe(Path(path)), f"Reading {Path(path).name}",
                                      self._ask_manifest, "Cannot use this model",
                                      replaces=False)

    def _ask_manifest(self, description: ModelDescription) -> None:
        dialog = ManifestDialog(description, self.window)
        if dialogs.run_dialog(dialog):
            self.panel.refresh_models()
            self.panel.choose(dialog.manifest().id)
            self.window.statusBar().showMessage(f"Model saved as {dialog.saved_path}", 10000)

    # -- confidence review ---------------------------------------------------
    def set_heatmap(self, on: bool) -> None:
        """Show the confidence heatmap (True) or the label overlay."""
        self.heatmap = bool(on)
        if self.panel.heatmap_check.isChecked() != self.heatmap:
            self.panel.heatmap_check.setChecked(self.heatmap)
        self.window.rerender()

    def heatmap_layer(self, seg: Segmentation) -> np.ndarray | None:
        """The heatmap overlay of ``seg``, or None when it is off or unknown."""
        if not self.heatmap or seg.confidence is None:
            return None
        return confidence_overlay(seg.confidence, self.panel.threshold)

    def segmentation_changed(self, seg: Segmentation | None) -> None:
        """A new mask is shown: reset the region walk, enable review when it has a confidence."""
        self._regions, self._region_index = None, -1
        known = seg is not None and seg.confidence is not None
        self.panel.set_confidence_known(known)
        if known:
            self.panel.set_review_text("")

    def next_uncertain(self) -> None:
        """Zoom to the next region below the threshold, largest first, and wrap."""
        seg = self.window.segmentation
        if seg is None or seg.confidence is None:
            return
        if self._regions is None:
            self._regions = uncertain_regions(seg.confidence, self.panel.threshold)
            self._region_index = -1
        if not self._regions:
            self.panel.set_review_text("No region below the threshold.")
            return
        self._region_index = (self._region_index + 1) % len(self._regions)
        region = self._regions[self._region_index]
        self.window.canvas.zoom_to_rect(*region.bbox, margin=0.5)
        self.panel.set_review_text(
            f"Region {self._region_index + 1} of {len(self._regions)}: {region.area:,} px, "
            f"mean confidence {region.mean_confidence:.2f}")

    def _on_threshold_changed(self, threshold: float) -> None:
        self._regions, self._region_index = None, -1
        if self.heatmap:
            self.window.rerender()


def _describe(path: Path) -> Task[ModelDescription]:
    yield Progress(0, 1, f"Reading {path.name}")
    return describe_onnx(path)


def _segment_one(runner: ModelRunner, image: np.ndarray, path: Path) -> Task[Segmentation]:
    yield Progress(0, 2, "Loading the model")
    runner.load()
    yield Progress(1, 2, f"Segmenting {path.name}")
    seg = runner.run(image, source=path)
    yield Progress(2, 2, "Done")
    return seg
