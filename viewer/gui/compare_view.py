"""Compare mode: a second mask (B) for the shown image, three views and the metrics.

A is the mask shown, B the second one. Views: a diff overlay (agreement,
false positives, false negatives, confusions, in colour-blind-safe colours),
a split line with A on the left and B on the right, and a second canvas with
B beside the first, their zoom and pan linked. Clicking a wrong region in the
diff selects it. The metrics come from :mod:`viewer.core.metrics`, the same
functions as ``segview compare``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject

from viewer.core import metrics
from viewer.core.compare_files import MASK_EXTENSIONS, Pair, compare_pair
from viewer.core.errors import ViewerError
from viewer.core.formats.registry import read_mask
from viewer.core.render import render_overlay
from viewer.core.segmentation import Segmentation
from viewer.core.tasks import Progress, Task, load_mask
from viewer.gui import dialogs
from viewer.gui.compare_panel import ComparePanel

if TYPE_CHECKING:
    from viewer.gui.main_window import MainWindow

DIM = 0.3  # opacity of the other wrong regions while one is selected


class CompareView(QObject):
    """The second mask, the comparison view and the metrics of the window."""

    def __init__(self, window: MainWindow, panel: ComparePanel):
        super().__init__(window)
        self.window = window
        self.panel = panel
        self.other: Segmentation | None = None
        self.other_path: Path | None = None
        self.mode = "off"
        self.split = 0.5
        self.region: metrics.WrongRegion | None = None
        self._for_image: Path | None = None
        self._diff: metrics.DiffMap | None = None
        self._regions: metrics.WrongRegions | None = None
        # (pairs compared, (overall, per item)): reused until the model results change.
        self._folder_scores: tuple[tuple, tuple[metrics.Scores, list]] | None = None
        panel.load_requested.connect(self.choose_other)
        panel.mode_changed.connect(self.set_mode)
        panel.split_moved.connect(self.set_split)
        self.second_folder: Path | None = None  # B of the "folders" scope, asked when chosen
        panel.scope_changed.connect(self._on_scope_changed)
        panel.focus_changed.connect(self.set_focus)
        panel.export_requested.connect(self.export_metrics)

    def _on_scope_changed(self, scope: str) -> None:
        if scope == "folders":
            self.second_folder = None  # choosing the scope asks for the folder again
        self.update_metrics()

    # -- B -------------------------------------------------------------------
    def choose_other(self) -> None:
        if self.window.image is None:
            self.window.statusBar().showMessage("Open an image first", 5000)
            return
        path = dialogs.ask_open_file(self.window, "Second mask (B)", self.window.last_dir(),
                                     dialogs.mask_filter())
        if path:
            self.load_other(path)

    def load_other(self, path: str | Path):
        """Read B in a worker; it must fit the shown image."""
        path = Path(path)
        return self.window.start_task(load_mask(path, self.window.image_size()),
                                      f"Opening {path.name}",
                                      lambda seg: self.set_other(seg, path), "Cannot open mask",
                                      replaces=False)

    def compare_with_original(self) -> None:
        """B: the shown mask as it was opened, so the diff shows what the edits changed."""
        original = self.window.edits.original
        if original is None:
            self.window.statusBar().showMessage("No mask is shown", 8000)
            return
        self.set_other(original, name="the mask as opened (before edits)")

    def set_other(self, seg: Segmentation | None, path: Path | None = None, *,
                  name: str | None = None) -> None:
        """Compare with ``seg`` (None stops comparing); the diff view is the default."""
        self.other, self.other_path = seg, path
        self._for_image = self.window.image_path if seg is not None else None
        name = name or (path.name if path is not None else "none")
        self.panel.source_label.setText(f"A: the mask shown. B: {name}.")
        self._changed()
        if seg is not None and self.mode == "off":
            self.panel.set_mode("diff")

    def shown_changed(self) -> None:
        """A changed (another image, a model result, an edit): B stays only for the same image."""
        if self.other is not None and self.window.image_path != self._for_image:
            self.other, self.other_path = None, None
            self.panel.source_label.setText("A: the mask shown. B: none yet.")
        self._changed()

    def _changed(self) -> None:
        self._diff = self._regions = None
        self.region = None
        self.update_metrics()
        self.window.rerender()

    # -- views ---------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        self.mode = mode
        if self.panel.mode != mode:
            self.panel.set_mode(mode)
        self.region = None
        self.window.rerender()

    def set_focus(self, key) -> None:
        """Show the diff of one class (agree, missed, extra), or of all classes (None)."""
        self._diff = self._regions = None
        self.region = None
        if self.mode == "diff":
            self.window.rerender()

    def set_split(self, fraction: float) -> None:
        self.split = fraction
        if self.mode == "split":
            self.window.rerender()

    def active(self) -> bool:
        a = self.window.segmentation
        return (self.mode != "off" and self.other is not None and a is not None
                and a.shape == self.other.shape)

    def diff(self) -> metrics.DiffMap | None:
        """The diff of A against B (computed once per change)."""
        if self._diff is None and self.active():
            self._diff = metrics.diff_map(self.window.segmentation, self.other,
                                          focus=self.panel.focus)
        return self._diff

    def diff_layer(self) -> np.ndarray | None:
        """The diff overlay as premultiplied BGRA, the selected region emphasised."""
        diff = self.diff()
        if diff is None:
            return None
        rgba = diff.rgba().astype(np.float32)
        if self.region is not None and self._regions is not None:
            outside = self._regions.labels != self.region.number
            rgba[..., 3] = np.where(outside, rgba[..., 3] * DIM, rgba[..., 3])
        alpha = rgba[..., 3:4] / 255.0
        bgra = np.concatenate([rgba[..., 2::-1] * alpha, rgba[..., 3:4]], axis=-1)
        return np.ascontiguousarray(bgra + 0.5, dtype=np.uint8)

    def other_layers(self):
        """B rendered as the window renders A (fill, outline)."""
        layers = render_overlay(self.other, self.window.render_settings, order="bgra",
                                premultiplied=True)
        return layers.fill, layers.outline

    def click(self, row: int, col: int) -> bool:
        """Select the wrong region under a click in the diff view; True when one was hit."""
        diff = self.diff() if self.mode == "diff" else None
        if diff is None:
            return False
        if self._regions is None:
            self._regions = metrics.wrong_regions(diff)
        self.region = self._regions.at(row, col)
        if self.region is not None:
            r = self.region
            what = {metrics.Diff.FALSE_POSITIVE: "false positive",
                    metrics.Diff.FALSE_NEGATIVE: "false negative"}.get(r.kind, "confused")
            self.window.statusBar().showMessage(
                f"{what}: {r.area:,} px, A says {_name(r.gt_class)}, B says "
                f"{_name(r.pred_class)}", 15000)
        self.window.rerender()
        return self.region is not None

    # -- metrics -------------------------------------------------------------
    def update_metrics(self) -> None:
        """Show the metrics of the chosen scope (the folder's in a worker)."""
        if self.panel.scope == "folder":
            self._folder_metrics()
            return
        if self.panel.scope == "folders":
            self._folders_metrics()
            return
        a = self.window.segmentation
        if self.other is None or a is None:
            self.panel.show_scores(None)
            return
        if a.shape != self.other.shape:
            self.panel.show_scores(None, f"B is {self.other.width}x{self.other.height}, "
                                         f"A is {a.width}x{a.height}: they cannot be compared.")
            return
        self.panel.show_scores(metrics.compare(a, self.other))

    def _folder_metrics(self) -> None:
        items, results = self.window.items, self.window.models.results
        pairs = [(item, results[item.image]) for item in (items.items if items else ())
                 if item.masks and item.image in results]
        if not pairs:
            self.panel.show_scores(None, "Segment the folder with a model first: the "
                                         "folder's masks are compared with its results.")
            return
        key = tuple((item.image, id(seg)) for item, seg in pairs)
        if self._folder_scores is not None and self._folder_scores[0] == key:
            overall, per_item = self._folder_scores[1]
            self.panel.show_scores(overall, f"{len(per_item)} images")
            return

        def done(value) -> None:
            self._folder_scores = (key, value)
            self.panel.show_scores(value[0], f"{len(value[1])} images")

        self.window.start_task(_folder_task(pairs, items.folder), "Comparing the folder", done,
                               "Cannot compare the folder", replaces=False)

    def _folders_metrics(self) -> None:
        """The open folder's masks (A, ground truth) against a second folder of masks (B)."""
        items = self.window.items
        if items is None or not items.items:
            self.panel.show_scores(None, "Open a folder of images and masks first.")
            return
        if self.second_folder is None:
            chosen = dialogs.ask_folder(self.window, "Second folder of masks (B)",
                                        str(items.folder))
            if not chosen:
                self.panel.show_scores(None, "Choose the second folder of masks.")
                return
            self.second_folder = Path(chosen)
        pairs, unmatched = pair_items(items.items, self.second_folder)
        if not pairs:
            self.panel.show_scores(None, f"No mask in {self.second_folder} has the name of an "
                                         "image or mask of this folder.")
            return
        note = f"{len(pairs)} images vs {self.second_folder.name}" + (
            f"; {unmatched} without a mask in B" if unmatched else "")
        key = tuple(pairs)
        if self._folder_scores is not None and self._folder_scores[0] == key:
            self.panel.show_scores(self._folder_scores[1][0], note)
            return

        def done(value) -> None:
            self._folder_scores = (key, value)
            self.panel.show_scores(value[0], note)

        self.window.start_task(_pairs_task(pairs), "Comparing two folders", done,
                               "Cannot compare the folders", replaces=False)

    def export_metrics(self, kind: str) -> None:
        scores = self.panel.scores
        if scores is None:
            return
        path = dialogs.ask_save_file(self.window, f"Export metrics as {kind.upper()}",
                                     str(Path(self.window.last_dir()) / f"metrics.{kind}"),
                                     f"{kind.upper()} (*.{kind})")
        if path:
            self.write_metrics(path, kind)

    def write_metrics(self, path: str | Path, kind: str) -> None:
        """Write the shown metrics (per item too, for a folder) as CSV or JSON.

        CSV rows are per class, so the confusion matrix goes beside them in
        ``<stem>-confusion.csv`` (the JSON holds it already), as
        ``segview compare --report`` writes it.
        """
        per_item = self._folder_scores[1][1] if (self.panel.scope in ("folder", "folders")
                                                 and self._folder_scores) else []
        writer = metrics.write_metrics_csv if kind == "csv" else metrics.write_metrics_json
        path = Path(path)
        try:
            writer(path, self.panel.scores, per_item)
            if kind == "csv":
                metrics.write_confusion_csv(path.with_name(f"{path.stem}-confusion.csv"),
                                            self.panel.scores.confusion)
        except ViewerError as exc:
            self.window.show_message("Metrics not written", str(exc))
            return
        self.window.statusBar().showMessage(f"Metrics written to {path}", 10000)


def pair_items(items, folder: Path) -> tuple[list[Pair], int]:
    """Pair each item's first mask with the mask in ``folder`` named like the item's
    image or its mask (``frame1.png`` or ``frame1_mask.png``); also count the unpaired."""
    found = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in MASK_EXTENSIONS:
            found.setdefault(path.stem, path)
    pairs, unmatched = [], 0
    for item in items:
        if not item.masks:
            continue
        pred = found.get(item.image.stem) or found.get(item.masks[0].stem)
        if pred is None:
            unmatched += 1
        else:
            pairs.append(Pair(item.name, item.masks[0], pred))
    return pairs, unmatched


def _pairs_task(pairs: list[Pair]) -> Task:
    # The same reading and scoring as `segview compare`, so the numbers agree.
    matrices, per_item = [], []
    for done, pair in enumerate(pairs):
        yield Progress(done, len(pairs), f"Comparing {pair.name}")
        compared = compare_pair(pair)
        matrices.append(compared.scores.confusion)
        per_item.append((pair.name, compared.scores))
    yield Progress(len(pairs), len(pairs), "Done")
    return metrics.scores(metrics.accumulate(matrices)), per_item


def _folder_task(pairs, folder: Path) -> Task:
    total = len(pairs)
    matrices, per_item = [], []
    for done, (item, predicted) in enumerate(pairs):
        yield Progress(done, total, f"Comparing {item.name}")
        truth = read_mask(item.masks[0], image_size=(predicted.width, predicted.height))
        matrix = metrics.confusion_matrix(truth, predicted)
        matrices.append(matrix)
        per_item.append((item.name, metrics.scores(matrix)))
    yield Progress(total, total, "Done")
    return metrics.scores(metrics.accumulate(matrices)), per_item


def _name(key) -> str:
    return "void" if key is None else metrics.class_text(key)
