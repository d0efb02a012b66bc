"""Editing from the window: tools, undo/redo, the dirty marker, autosave, save and recovery.

The core does the work (:mod:`viewer.core.edit`): each edit is a command
holding only its bounding-box patch, pushed on a memory-bounded history. This
controller turns mouse and keys into those commands, autosaves unsaved edits
to the recovery folder every ``autosave_interval_s`` seconds, and offers to
restore them after a crash.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from viewer.core.edit import (
    BACKGROUND_ID,
    Brush,
    Change,
    EditCommand,
    History,
    Overwrite,
    SegmentClass,
    Stroke,
    ops,
)
from viewer.core.edit import classes as edit_classes
from viewer.core.edit.diff import original_copy
from viewer.core.edit.patch import compose
from viewer.core.edit.recovery import Autosaver
from viewer.core.edit.session_lock import SessionLock
from viewer.core.edit.save import save, save_problems
from viewer.core.errors import ViewerError
from viewer.core.segmentation import Segmentation
from viewer.gui import dialogs

if TYPE_CHECKING:
    from viewer.gui.main_window import MainWindow

class EditSession(QObject):
    """The edits of the shown segmentation."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.history = History.from_settings(window.settings)
        self.history.clean_changed.connect(lambda clean: window.update_title())
        self.seg: Segmentation | None = None
        self.original: Segmentation | None = None
        self.autosaver: Autosaver | None = None
        self.tool = "select"
        self.brush = Brush(9, "round")
        self.overwrite = Overwrite.ALL
        self.target: int | None = None
        self.paint_id: int | None = None
        self.stroke: Stroke | None = None
        self.polygon: list[tuple[int, int]] = []
        self._timer = QTimer(self)
        self._timer.setInterval(window.settings.autosave_interval_s * 1000)
        self._timer.timeout.connect(self.autosave)
        self._timer.start()
        canvas = window.canvas
        canvas.stroke_started.connect(self._on_stroke_started)
        canvas.stroke_moved.connect(self._on_stroke_moved)
        canvas.stroke_ended.connect(self._on_stroke_ended)
        canvas.double_clicked.connect(self._on_double_clicked)

    # -- the segmentation ----------------------------------------------------
    def bind(self, seg: Segmentation | None) -> None:
        """Start editing ``seg`` (a fresh history; the original kept for change statistics)."""
        if self.seg is not None:
            self.seg.labels_changed.disconnect(self._on_labels_changed)
        if self.autosaver is not None:
            # Unsaved work left behind stays on disk for the next start to offer.
            if self.history.clean:
                self.autosaver.discard()
            else:
                self.autosaver.close()
        self.seg, self.stroke, self.polygon = seg, None, []
        self.history.clear()
        self.history.mark_clean()
        self.original = original_copy(seg) if seg is not None else None
        self.autosaver = None
        if seg is not None:
            image = self.window.image_path
            # A video frame is not a file a restore could reopen; its edits are
            # kept by the video session and exported from there.
            video = getattr(self.window, "video", None)
            if video is None or not video.active:
                if image is not None and isinstance(seg.provenance.details, dict):
                    seg.provenance.details["image"] = str(image)  # so a restore can reopen it
                self.autosaver = Autosaver(seg, self.history)
            seg.labels_changed.connect(self._on_labels_changed)
            self.paint_id = next((c.id for c in self.paint_classes() if c.id != BACKGROUND_ID),
                                 None)
        self.window.update_title()

    @property
    def dirty(self) -> bool:
        """True when there are edits not saved."""
        return self.seg is not None and not self.history.clean

    # -- tools ---------------------------------------------------------------
    def set_tool(self, tool: str) -> None:
        """Choose the mouse tool (see :data:`viewer.gui.edit_menu.TOOL_KEYS`)."""
        self.tool = tool
        self.polygon = []
        self.window.canvas.set_polygon([])
        self.window.canvas.set_tool(tool, self.brush.size, str(self.brush.shape))

    def set_brush(self, size: int | None = None, shape: str | None = None) -> None:
        self.brush = Brush(max(1, min(size or self.brush.size, 512)), shape or self.brush.shape)
        self.window.canvas.set_tool(self.tool, self.brush.size, str(self.brush.shape))

    def set_overwrite(self, mode: str, target: int | None = None) -> None:
        """Paint over everything, over background only, or over one segment only."""
        self.overwrite, self.target = Overwrite(mode), target

    def _target(self) -> int | None:
        # "Over the selected segment only" follows the selection at the time of painting.
        if self.overwrite != Overwrite.SEGMENT:
            return None
        selected = self.selected()
        return selected[0] if selected else self.target

    def _value(self) -> int | None:
        return BACKGROUND_ID if self.tool == "eraser" else self.paint_id

    def _on_stroke_started(self, row: int, col: int) -> None:
        value = self._value()
        if self.seg is None or value is None:
            return
        if self.tool == "lasso":  # a freehand outline, filled on release
            self.polygon = [(row, col)]
            self.window.canvas.set_polygon(self.polygon)
            return
        if self.overwrite == Overwrite.SEGMENT and self._target() is None:
            self._say("Select the segment to paint over first")
            return
        self.stroke = Stroke(self.seg, value, self.brush, overwrite=self.overwrite,
                             target=self._target(), text="Erase" if value == BACKGROUND_ID
                             else "Paint")
        self._on_stroke_moved(row, col)

    def _on_stroke_moved(self, row: int, col: int) -> None:
        if self.tool == "lasso" and self.polygon:
            if self.polygon[-1] != (row, col):
                self.polygon.append((row, col))
                self.window.canvas.set_polygon(self.polygon)
            return
        if self.stroke is None:
            return
        try:
            self.stroke.add((row, col))
        except ViewerError as exc:  # e.g. the class painted with was deleted meanwhile
            self.stroke.cancel()
            self.stroke = None
            self._say(f"Cannot paint: {exc.message}")

    def _on_stroke_ended(self) -> None:
        if self.tool == "lasso":
            self.close_polygon()
            return
        if self.stroke is not None:
            self.history.record(self.stroke.finish())
            self.stroke = None

    def click(self, row: int, col: int) -> bool:
        """Use the fill or polygon tool at a pixel; False when the click is not for them."""
        value = self._value()
        if self.seg is None or value is None or self.tool not in ("fill", "polygon"):
            return False
        if self.tool == "fill":
            self._do(lambda: ops.flood_fill(self.seg, (row, col), value, overwrite=self.overwrite,
                                            target=self._target()), "Fill")
        else:
            self.polygon.append((row, col))
            self.window.canvas.set_polygon(self.polygon)
        return True

    def _on_double_clicked(self, row: int, col: int) -> None:
        if self.tool == "polygon" and len(self.polygon) >= 3:
            self.close_polygon()

    def close_polygon(self) -> None:
        """Fill the polygon drawn so far (Enter or a double click)."""
        points, self.polygon = self.polygon, []
        self.window.canvas.set_polygon([])
        value = self._value()
        if self.seg is not None and value is not None and len(points) >= 3:
            self._do(lambda: ops.fill_polygon(self.seg, points, value,
                                              overwrite=self.overwrite, target=self._target()),
                     "Lasso fill" if self.tool == "lasso" else "Polygon fill")

    # -- segment operations on the selection ---------------------------------
    def selected(self) -> list[int]:
        return sorted(i for i in self.window.render_settings.selected
                      if self.seg is not None and i in self.seg.table)

    def paint_classes(self) -> list[SegmentClass]:
        """The classes to paint or relabel with, in the order of the number keys."""
        if self.seg is None:
            return []
        return [c for c in edit_classes(self.seg) if not self.seg.table[c.id].void]

    def merge(self) -> None:
        ids = self.selected()
        if len(ids) < 2:
            self._say("Select two or more segments to merge")
        elif self._do(lambda: ops.merge(self.seg, ids), "Merge"):
            self.window.select_segments(ids[:1])

    def split(self) -> None:
        ids = self.selected()
        if not ids:
            self._say("Select a segment to split into its connected parts")
            return
        before = len(self.seg.table)
        if self._do(lambda: _each(ids, lambda i: ops.split(self.seg, i), self.seg), "Split"):
            self._say(f"{len(self.seg.table) - before + len(ids)} parts")

    def delete(self, to: str = "background") -> None:
        ids = self.selected()
        if ids and self._do(lambda: ops.delete(self.seg, ids, to=to),
                            "Delete" if to == "background" else "Delete to void"):
            self.window.select_segments(())

    def relabel_to(self, number: int) -> None:
        """Give the selected segments class ``number`` of :meth:`paint_classes` (1-based);
        with nothing selected, paint with that class."""
        choices = self.paint_classes()
        if 1 <= number <= len(choices):
            self.relabel_to_class(choices[number - 1])

    def relabel_to_class(self, chosen: SegmentClass) -> None:
        """Relabel the selection to ``chosen``, or paint with it when nothing is selected."""
        ids = [i for i in self.selected() if i != chosen.id]
        name = chosen.label or f"segment {chosen.id}"
        if not self.selected():
            self.set_paint(chosen.id)
            self._say(f"Painting {name}")
        elif self.window.video.active and self.window.video.relabel_everywhere:
            if not self.window.video.relabel_all(ids, chosen):
                self._say(f"Relabel to {name}: nothing to change")
        elif chosen.class_id is not None:
            self._do(lambda: ops.relabel(self.seg, ids, chosen.class_id, label=chosen.label),
                     f"Relabel to {name}")
        elif ids:
            self._do(lambda: ops.merge(self.seg, [chosen.id, *ids], into=chosen.id),
                     f"Relabel to {name}")

    def set_paint(self, seg_id: int | None) -> None:
        """Paint (brush, fill, polygon) with segment ``seg_id``."""
        self.paint_id = seg_id
        self.window.fill_paint_choices()

    def rename_class(self) -> None:
        """Rename the class of the first selected segment (every segment of it)."""
        ids = self.selected()
        if not ids:
            self._say("Select a segment of the class to rename")
            return
        row = self.seg.table[ids[0]]
        label = dialogs.ask_text(self.window, "Rename class", "New name of the class:",
                                 row.label or "")
        if label and label != row.label:
            self._do(lambda: ops.rename_class(self.seg, ids[0], label), f"Rename to {label}")

    def add_class(self) -> None:
        """Add a new class and paint with it."""
        if self.seg is None:
            return
        label = dialogs.ask_text(self.window, "Add class", "Name of the new class:", "")
        if not label:
            return
        change = self._do(lambda: ops.add_class(self.seg, label), f"Add class {label}")
        if change is not None and change.added_ids:
            self.set_paint(change.added_ids[0])
            self._say(f"Painting {label}")

    def add_instance(self) -> None:
        """Add a new empty instance of the selected segment's class and paint with it."""
        ids = self.selected()
        if not ids:
            self._say("Select a segment of the class to add an instance of")
            return
        change = self._do(lambda: ops.add_instance(self.seg, ids[0]), "Add instance")
        if change is not None and change.added_ids:
            self.set_paint(change.added_ids[0])

    def cleanup(self, kind: str) -> None:
        """Remove islands, keep the largest part or fill holes: of the selection, or of all."""
        if self.seg is None:
            return
        ids = self.selected() or None
        scope = f"{len(ids)} selected" if ids else "all segments"
        if kind == "islands":
            size = dialogs.ask_int(self.window, "Remove islands",
                                   f"Remove pieces smaller than (pixels), {scope}:",
                                   self.window.settings.island_size, 1, 10_000_000)
            if size is None:
                return
            self.window.remember(island_size=size)
            self._do(lambda: ops.remove_islands(self.seg, size, ids),
                     f"Remove islands < {size} px")
        elif kind == "largest":
            self._do(lambda: ops.keep_largest(self.seg, ids), "Keep largest part")
        else:
            self._do(lambda: ops.fill_holes(self.seg, ids), "Fill holes")

    def record_table(self, old_rows: dict, text: str) -> None:
        """Record a table change made elsewhere (the palette panel) as an undo step."""
        if self.seg is None or not old_rows:
            return
        table = self.seg.table
        after = {i: table.get(i) for i in old_rows}
        changed = [i for i in old_rows if old_rows[i] != after[i]]
        if changed:
            change = Change(rows_before={i: old_rows[i] for i in changed},
                            rows_after={i: after[i] for i in changed})
            self.history.record(EditCommand(self.seg, change, text))

    def cancel(self) -> None:
        """Escape: drop the polygon being drawn, or undo the stroke in progress."""
        if self.stroke is not None:
            self.stroke.cancel()
            self.stroke = None
        self.polygon = []
        self.window.canvas.set_polygon([])

    def _do(self, make, text: str) -> Change | None:
        """Run an operation (a callable giving a Change) as one undo step.

        An operation that cannot be done (no such segment, a class that exists)
        says why in the status bar and changes nothing.
        """
        if self.seg is None:
            return None
        try:
            change = make()
        except ViewerError as exc:
            self._say(f"{text}: {exc.message}")
            return None
        if change is None or change.empty:
            self._say(f"{text}: nothing to change")
            return None
        self.history.record(EditCommand(self.seg, change, text))
        return change

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 8000)

    def undo(self) -> None:
        if self.stroke is None and self.history.can_undo:
            self.history.undo()

    def redo(self) -> None:
        if self.stroke is None and self.history.can_redo:
            self.history.redo()

    def set_history_budget(self, megabytes: int) -> None:
        """Bound the undo history's memory (older steps go first)."""
        self.history.budget_bytes = int(megabytes) << 20
        self.history.trim()
        self.window.remember(history_budget_mb=int(megabytes))

    def _on_labels_changed(self, bbox) -> None:
        self.window.rerender_box(bbox)

    # -- saving and recovery -------------------------------------------------
    def autosave(self) -> Path | None:
        """Write unsaved edits to the recovery folder (the timer calls this)."""
        if self.window.video.active:
            return self.window.video.autosave()
        if self.autosaver is None or not self.dirty:
            return None
        try:
            return self.autosaver.maybe_save()
        except ViewerError as exc:
            self.window.statusBar().showMessage(f"Autosave failed: {exc}", 10000)
            return None

    def save(self) -> bool:
        """Save back to the mask's own file and format, or say why not and offer Export."""
        if self.seg is None:
            return False
        problems = save_problems(self.seg)
        if problems:
            if dialogs.ask_export_instead(self.window, problems):
                self.window.choose_export()
            return False
        try:
            result = save(self.seg, original=self.original,
                          write_changes=self.window.settings.write_changed_mask)
        except ViewerError as exc:
            self.window.show_error("Save failed", exc)
            return False
        self.history.mark_clean()
        if self.autosaver is not None:
            self.autosaver.discard()
        self.window.statusBar().showMessage(f"Saved {result.files[0]}", 10000)
        return True

    def may_leave(self) -> bool:
        """Before closing or showing another mask: save, discard or stay."""
        if self.window.video.active:
            return self.window.video.may_leave()  # a frame's edits belong to the video
        if not self.dirty:
            return True
        answer = dialogs.ask_unsaved(self.window)
        if answer == "save":
            return self.save()
        if answer == "discard":
            if self.autosaver is not None:
                self.autosaver.discard()
            self.history.mark_clean()
            return True
        return False

    def offer_recovery(self) -> bool:
        """On start: offer what a crashed window left; True when one was restored."""
        from viewer.gui.recovery_offer import offer_recovery

        return offer_recovery(self.window)

    def adopt(self, session_id: str, lock: SessionLock) -> None:
        """Go on autosaving the shown (restored) mask into a claimed session."""
        if self.autosaver is not None:
            self.autosaver.close()
        if self.seg is not None:
            self.autosaver = Autosaver(self.seg, self.history, session_id=session_id, lock=lock)


def _each(ids: list[int], op, seg: Segmentation) -> Change:
    """Apply ``op`` to each id and compose the changes into one (one undo step)."""
    total: Change | None = None
    for seg_id in ids:
        change = op(seg_id)
        total = change if total is None else compose(total, change, seg.labels)
    return total
