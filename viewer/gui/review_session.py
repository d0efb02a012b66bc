"""Reviewing from the window: states, comments and the sidecar file.

The review of an opened folder lives in ``segview-review.json`` inside it, of
a single image in ``<stem>.segview-review.json`` beside it
(:mod:`viewer.core.review`). Every change is saved at once, atomically and
merged with what is on disk, so two reviewers sharing a folder lose nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from viewer.core import review as core_review
from viewer.core.errors import ViewerError
from viewer.core.formats.registry import read_mask
from viewer.core.images import read_image
from viewer.core.metrics import compare
from viewer.core.report import ReportItem, thumbnail, write_report
from viewer.core.review import Review, State
from viewer.core.tasks import Progress
from viewer.gui import dialogs
from viewer.gui.review_panel import ReviewPanel

if TYPE_CHECKING:
    from viewer.gui.main_window import MainWindow


class ReviewSession(QObject):
    """The review of what the window has open."""

    def __init__(self, window: MainWindow, panel: ReviewPanel):
        super().__init__(window)
        self.window = window
        self.panel = panel
        self.review = Review()
        self.path: Path | None = None  # the sidecar; None: nothing open, or it is broken
        self.root: Path | None = None
        self.last_point: tuple[int, int] | None = None
        panel.state_requested.connect(self.set_state)
        panel.segment_state_requested.connect(self.set_segment_state)
        panel.comment_added.connect(self.add_comment)
        panel.comment_deleted.connect(self.delete_comment)
        panel.comment_activated.connect(self.show_comment)

    # -- what is open --------------------------------------------------------
    def open_for(self, data: Path) -> None:
        """Read the review of a folder or an image; a broken file is reported, never overwritten."""
        data = Path(data)
        self.root = data if data.is_dir() else data.parent
        path = core_review.review_path(data)
        try:
            self.review, self.path = core_review.load(path), path
        except ViewerError as exc:
            self.review, self.path = Review(), None
            self.window.show_message("Review file not read",
                                     f"{exc}\n\nReview changes will not be saved until the "
                                     "file is fixed or removed.")
        self.refresh()

    @property
    def keys(self) -> list[str]:
        """The item keys, in the window's order."""
        items = self.window.items
        if items is not None and self.root is not None:
            return [core_review.item_key(self.root, item.image) for item in items.items]
        image = self.window.image_path
        return [image.name] if image is not None else []

    @property
    def current_key(self) -> str | None:
        """The key of the shown item, or None."""
        image = self.window.image_path
        if image is None or self.root is None:
            return None
        return core_review.item_key(self.root, image)

    def refresh(self) -> None:
        """Show the current item's review and the progress."""
        key = self.current_key
        self.panel.show_item(key, self.review.item(key) if key is not None else None)
        self.panel.show_progress(self.review.progress(self.keys))

    def metadata(self) -> dict | None:
        """The shown item's review for export metadata, or None when untouched."""
        key = self.current_key
        if key is None or not self.review.item(key).touched:
            return None
        return core_review.metadata_record(self.review, key)

    # -- changes -------------------------------------------------------------
    def set_state(self, state: str) -> None:
        """Accept, reject, flag or reset the shown item."""
        key = self.current_key
        if key is None:
            return
        self.review.set_state(key, State(state))
        self._saved(f"{key}: {State(state).value}")

    def set_segment_state(self, state: str) -> None:
        """Give the selected segments a review state."""
        key, seg = self.current_key, self.window.segmentation
        ids = sorted(self.window.render_settings.selected)
        if key is None or seg is None or not ids:
            self.window.statusBar().showMessage("Select segments first", 5000)
            return
        for seg_id in ids:
            label = seg.table[seg_id].label if seg_id in seg.table else ""
            self.review.set_segment_state(key, seg_id, State(state), label=label)
        self._saved(f"{len(ids)} segment(s) {State(state).value}")

    def add_comment(self, text: str, pinned: bool = False) -> None:
        """Comment on the shown item, pinned to the last clicked pixel when asked."""
        key = self.current_key
        if key is None:
            return
        ids = sorted(self.window.render_settings.selected)
        self.review.add_comment(key, text, point=self.last_point if pinned else None,
                                segment=ids[0] if len(ids) == 1 else None)
        self._saved("comment added")

    def delete_comment(self, comment_id: str) -> None:
        key = self.current_key
        if key is not None:
            self.review.delete_comment(key, comment_id)
            self._saved("comment deleted")

    def show_comment(self, comment_id: str) -> None:
        """Centre the view on where a comment is pinned."""
        key = self.current_key
        comment = next((c for c in self.review.item(key).visible_comments
                        if c.id == comment_id), None) if key else None
        if comment is not None and comment.point is not None:
            row, col = comment.point
            self.window.canvas.zoom_to_rect(row - 20, col - 20, row + 20, col + 20)

    def _saved(self, what: str) -> None:
        if self.path is not None:
            try:
                core_review.save(self.review, self.path)
            except ViewerError as exc:
                self.window.show_message("Review not saved", str(exc))
                return
        self.refresh()
        self.window.statusBar().showMessage(f"Review: {what}", 5000)

    # -- report --------------------------------------------------------------
    def choose_report_folder(self) -> None:
        if not self.keys:
            self.window.statusBar().showMessage("Open an image or a folder first", 5000)
            return
        folder = dialogs.ask_folder(self.window, "Write the review report into",
                                    self.window.last_dir())
        if folder:
            self.write_report(folder)

    def write_report(self, folder: str | Path):
        """Write report.json/.csv/.html with thumbnails, in a worker."""
        items = self.window.items
        entries = ([(item.image, item.masks[0] if item.masks else None) for item in items.items]
                   if items is not None else [(self.window.image_path, self.window.mask_path)])
        task = report_task(entries, self.root, self.review, dict(self.window.models.results),
                           Path(folder))
        return self.window.start_task(
            task, "Writing the review report",
            lambda files: self.window.statusBar().showMessage(
                f"Review report written: {files.html}", 15000),
            "Review report not written", replaces=False)

    # -- walking -------------------------------------------------------------
    def next_unreviewed(self) -> None:
        """Go to the next unreviewed item of the folder (wrapping)."""
        self._go(self.review.next_unreviewed(self.keys, self._index()))

    def step(self, backwards: bool = False) -> None:
        """Go to the next (previous) item in the filter's states."""
        self._go(self.review.next_index(self.keys, self.panel.filter_states, self._index(),
                                        backwards=backwards))

    def _index(self) -> int | None:
        items = self.window.items
        return items.index if items is not None and len(items) else None

    def _go(self, index: int | None) -> None:
        if index is None:
            self.window.statusBar().showMessage("No such item left", 5000)
        elif self.window.items is not None:
            self.window.go_to_item(index)


def report_task(entries, root: Path, review: Review, results: dict, folder: Path):
    """Build one report item per image (thumbnails; metrics when a model result exists)."""
    total, items = len(entries), []
    for done, (image_path, mask_path) in enumerate(entries):
        key = core_review.item_key(root, image_path)
        yield Progress(done, total, f"Report: {key}")
        image, truth, thumbs, scores = None, None, [], None
        try:
            image = read_image(image_path)
            if mask_path is not None:
                truth = read_mask(mask_path, image_size=(image.shape[1], image.shape[0]))
        except ViewerError:
            pass  # the report still lists the item, with what could be read
        thumbs.append(("mask", thumbnail(image, truth)))
        predicted = results.get(image_path)
        if predicted is not None:
            thumbs.append(("model", thumbnail(image, predicted)))
            if truth is not None and truth.shape == predicted.shape:
                scores = compare(truth, predicted)
        items.append(ReportItem(key, review.item(key), scores, tuple(thumbs)))
    yield Progress(total, total, "Writing")
    return write_report(folder, items, title=f"Review of {root.name}")
