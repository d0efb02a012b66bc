"""A brush or eraser stroke: dabs along the pointer's path, one undo step.

The GUI drives it from mouse events::

    stroke = Stroke(seg, value, Brush(size, "round"))   # press
    stroke.add((row, col))                              # press, then every move
    history.record(stroke.finish())                     # release (None: nothing changed)

Each :meth:`Stroke.add` paints at once (the segmentation emits
``labels_changed`` with the dirty box). The stroke keeps one "before" buffer
for a box that grows with the stroke: a dab inside the box costs nothing
extra, and the box grows with slack, so it is reallocated a few times per
stroke, not per dab. :meth:`finish` crops it to the pixels that changed.
"""

from __future__ import annotations

import numpy as np

from viewer.core.edit.commands import EditCommand
from viewer.core.edit.paint import Brush, Overwrite, Point, paint_line
from viewer.core.edit.patch import Change, apply_change, paste, union_box
from viewer.core.edit.patchstats import tight_box
from viewer.core.segmentation import Segmentation
from viewer.core.types import BBox

STROKE_KIND = "stroke"
# Slack added when the buffer grows: at least this many pixels per side...
_MIN_SLACK = 64


class Stroke:
    """One stroke of ``value`` with ``brush`` (see :func:`~viewer.core.edit.paint.paint_mask`).

    Parameters
    ----------
    seg : Segmentation
    value : int
        The segment id to paint; :data:`~viewer.core.edit.ids.BACKGROUND_ID` erases.
    brush : Brush
    overwrite : Overwrite
    target : int, optional
        The segment ``overwrite="segment"`` paints over.
    text : str
        The command's text ("Paint", "Erase").
    """

    def __init__(self, seg: Segmentation, value: int, brush: Brush, *,
                 overwrite: Overwrite | str = Overwrite.ALL, target: int | None = None,
                 text: str = "Paint"):
        self.seg, self.value, self.brush = seg, int(value), brush
        self.overwrite, self.target, self.text = Overwrite(overwrite), target, text
        self._last: Point | None = None
        self._box: BBox | None = None
        self._before: np.ndarray | None = None
        self._rows_before: dict = {}
        self._rows_after: dict = {}
        self._dtypes: tuple | None = None

    def add(self, point: Point) -> BBox | None:
        """Paint from the previous point (a dab for the first) to ``point``.

        Returns the box of pixels that changed, or None.
        """
        point = (int(point[0]), int(point[1]))
        start = self._last if self._last is not None else point
        change = paint_line(self.seg, start, point, self.value, self.brush,
                            overwrite=self.overwrite, target=self.target)
        self._last = point
        self._absorb(change)
        return change.bbox

    def finish(self) -> EditCommand | None:
        """End the stroke; return its command, or None when it changed nothing."""
        change = self._change()
        return None if change.empty else EditCommand(self.seg, change, self.text,
                                                     kind=STROKE_KIND)

    def cancel(self) -> None:
        """Undo everything the stroke painted (Escape during a stroke)."""
        change = self._change()
        if not change.empty:
            apply_change(self.seg, change.inverse())

    def _absorb(self, change: Change) -> None:
        for seg_id, row in change.rows_before.items():
            self._rows_before.setdefault(seg_id, row)
        self._rows_after.update(change.rows_after)
        if change.dtypes is not None:
            self._dtypes = (self._dtypes or change.dtypes)[0], change.dtypes[1]
        if change.bbox is not None and not _inside(change.bbox, self._box):
            self._grow(change)

    def _grow(self, change: Change) -> None:
        """Enlarge the buffer to hold ``change`` (already painted), with slack."""
        r0, c0, r1, c1 = union_box(self._box, change.bbox)
        pad_r = max(_MIN_SLACK, (r1 - r0) // 2)
        pad_c = max(_MIN_SLACK, (c1 - c0) // 2)
        box = (max(r0 - pad_r, 0), max(c0 - pad_c, 0),
               min(r1 + pad_r, self.seg.height), min(c1 + pad_c, self.seg.width))
        before = self.seg.labels[box[0]:box[2], box[1]:box[3]].copy()
        # Pixels this dab or earlier dabs painted take their value from before the stroke.
        paste(before, box, change.bbox, change.before)
        if self._box is not None:
            paste(before, box, self._box, self._before)
        self._box, self._before = box, before

    def _change(self) -> Change:
        keep = [i for i in self._rows_before if self._rows_before[i] != self._rows_after[i]]
        rows_before = {i: self._rows_before[i] for i in keep}
        rows_after = {i: self._rows_after[i] for i in keep}
        if self._box is None:
            return Change(rows_before=rows_before, rows_after=rows_after, dtypes=self._dtypes)
        r0, c0, r1, c1 = self._box
        after = self.seg.labels[r0:r1, c0:c1]
        tight = tight_box(self._before != after)
        if tight is None:
            return Change(rows_before=rows_before, rows_after=rows_after, dtypes=self._dtypes)
        t0, u0, t1, u1 = tight
        return Change((r0 + t0, c0 + u0, r0 + t1, c0 + u1), self._before[t0:t1, u0:u1].copy(),
                      after[t0:t1, u0:u1].copy(), rows_before, rows_after, dtypes=self._dtypes)


def _inside(inner: BBox, outer: BBox | None) -> bool:
    return (outer is not None and outer[0] <= inner[0] and outer[1] <= inner[1]
            and inner[2] <= outer[2] and inner[3] <= outer[3])

