"""Painting: brush and eraser dabs and lines, polygon (lasso) fill and flood fill.

Every operation builds a boolean mask over a small box only (the dab, the
line's box, the polygon's box, the filled region's box), paints the id into
the pixels the overwrite rule allows, and returns the
:class:`~viewer.core.edit.patch.Change`. The eraser is the brush painting
:data:`~viewer.core.edit.ids.BACKGROUND_ID`.

Overwrite rules follow 3D Slicer's masking and ITK-SNAP's "paint over": paint
over everything, over background only (never into another segment), or over
one chosen segment only.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import cv2
import numpy as np

from viewer.core.edit.ids import BACKGROUND_ID, background_row
from viewer.core.edit.patch import Change, Edit
from viewer.core.errors import SegmentationError
from viewer.core.segmentation import Segmentation
from viewer.core.types import BBox

Point = tuple[int, int]


class Overwrite(enum.StrEnum):
    """Which pixels painting may change."""

    ALL = "all"
    BACKGROUND = "background"
    SEGMENT = "segment"


@dataclass(frozen=True)
class Brush:
    """A brush tip: ``size`` pixels across, round or square.

    The tip covers rows ``row - (size - 1) // 2 .. row + size // 2`` around
    the centre pixel (and the same for columns): for even sizes the extra
    pixel lies below and to the right. A round tip holds the pixels whose
    centres lie within ``size / 2 - 1/4`` of the tip's centre; the quarter
    pixel keeps small tips round (3 gives a plus, not a square) while 1 is
    one pixel and 2 a 2x2 block.
    """

    size: int = 9
    shape: Literal["round", "square"] = "round"

    def __post_init__(self):
        if int(self.size) != self.size or self.size < 1:
            raise SegmentationError(f"a brush size is a positive integer, got {self.size!r}")
        if self.shape not in ("round", "square"):
            raise SegmentationError(f"a brush is round or square, not {self.shape!r}")

    @property
    def footprint(self) -> np.ndarray:
        """The tip as a read-only (size, size) bool array (also the cursor's shape)."""
        return footprint(int(self.size), self.shape)

    def box(self, center: Point) -> BBox:
        """The (unclipped) box the tip covers around ``center``."""
        row, col = int(center[0]), int(center[1])
        lead = (self.size - 1) // 2
        return row - lead, col - lead, row - lead + self.size, col - lead + self.size


@lru_cache(maxsize=64)
def footprint(size: int, shape: str) -> np.ndarray:
    """Return the brush tip of ``size`` and ``shape`` (see :class:`Brush`)."""
    if shape == "square":
        tip = np.ones((size, size), bool)
    else:
        centre = (size - 1) / 2
        offsets = (np.arange(size) - centre) ** 2
        tip = offsets[:, None] + offsets[None, :] <= (size / 2 - 0.25) ** 2
    tip.setflags(write=False)
    return tip


# -- masks (pure: arrays in, box and mask out) -----------------------------------------------
def line_mask(shape: tuple[int, int], start: Point, end: Point,
              brush: Brush) -> tuple[BBox, np.ndarray] | None:
    """Return the box and mask the brush covers moving from ``start`` to ``end``.

    The centre line is rasterised 8-connected (``cv2.line``) and dilated with
    the tip, so a line is exactly the union of dabs at its pixels. The mask is
    clipped to ``shape``; None when nothing of it lies inside.
    """
    (ra, ca), (rb, cb) = (int(v) for v in start), (int(v) for v in end)
    lead, size = (brush.size - 1) // 2, brush.size
    top, left = min(ra, rb) - lead, min(ca, cb) - lead
    bottom, right = max(ra, rb) - lead + size, max(ca, cb) - lead + size
    box = _clip((top, left, bottom, right), shape)
    if box is None:
        return None
    canvas = np.zeros((bottom - top, right - left), np.uint8)
    cv2.line(canvas, (ca - left, ra - top), (cb - left, rb - top), 1, 1, cv2.LINE_8)
    if size > 1:
        # cv2's default anchor is the kernel centre (size // 2): with a symmetric
        # tip that places it at rows -lead .. +size // 2, as Brush documents.
        canvas = cv2.dilate(canvas, brush.footprint.view(np.uint8))
    r0, c0, r1, c1 = box
    return box, canvas[r0 - top:r1 - top, c0 - left:c1 - left].astype(bool)


def polygon_mask(shape: tuple[int, int],
                 points: Sequence[Point] | np.ndarray) -> tuple[BBox, np.ndarray] | None:
    """Return the box and mask of a filled polygon (vertices ``(row, col)``, edges included)."""
    rc = np.rint(np.asarray(points, np.float64).reshape(-1, 2)).astype(np.int64)
    if not rc.size:
        return None
    box = _clip((int(rc[:, 0].min()), int(rc[:, 1].min()), int(rc[:, 0].max()) + 1,
                 int(rc[:, 1].max()) + 1), shape)
    if box is None:
        return None
    r0, c0, r1, c1 = box
    canvas = np.zeros((r1 - r0, c1 - c0), np.uint8)
    xy = np.stack([rc[:, 1] - c0, rc[:, 0] - r0], axis=1).astype(np.int32)
    cv2.fillPoly(canvas, [xy], 1, cv2.LINE_8)
    return box, canvas.astype(bool)


def flood_mask(labels: np.ndarray, seed: Point, *, connectivity: Literal[4, 8] = 4,
               box: BBox | None = None) -> tuple[BBox, np.ndarray]:
    """Return the box and mask of the connected region of ``seed``'s id.

    Parameters
    ----------
    labels : ndarray of shape (H, W)
    seed : (row, col)
    connectivity : 4 or 8
    box : tuple of 4 int, optional
        Where the region lies (the seed segment's bbox); the whole map when
        omitted. Only this box is read.
    """
    row, col = int(seed[0]), int(seed[1])
    r0, c0, r1, c1 = box if box is not None else (0, 0, *labels.shape)
    same = (labels[r0:r1, c0:c1] == labels[row, col]).view(np.uint8)
    _, _, _, (x, y, w, h) = cv2.floodFill(same, None, (col - c0, row - r0), 2, 0, 0,
                                          connectivity)
    return (r0 + y, c0 + x, r0 + y + h, c0 + x + w), same[y:y + h, x:x + w] == 2


# -- operations on a segmentation -------------------------------------------------------------
def paint_mask(seg: Segmentation, bbox: BBox, mask: np.ndarray, value: int, *,
               overwrite: Overwrite | str = Overwrite.ALL, target: int | None = None) -> Change:
    """Paint ``value`` into the pixels of ``mask`` (placed at ``bbox``) the rule allows.

    Parameters
    ----------
    seg : Segmentation
    bbox : tuple of 4 int
        Where ``mask`` lies; inside the label map.
    mask : ndarray of bool, shape (row1 - row0, col1 - col0)
    value : int
        The segment id to paint; :data:`BACKGROUND_ID` erases (its row is
        created when missing). Any other id must have a row.
    overwrite : Overwrite
        ``all``, ``background`` (only background pixels) or ``segment``
        (only pixels of ``target``).
    target : int, optional
        The segment ``overwrite="segment"`` paints over.
    """
    overwrite = Overwrite(overwrite)
    if overwrite is Overwrite.SEGMENT and target is None:
        raise SegmentationError("painting over one segment needs that segment's id")
    value = int(value)
    if value not in seg.table and value != BACKGROUND_ID:
        raise SegmentationError(f"no segment with id {value} to paint; add a class first")
    edit = Edit(seg)
    edit.fit(value)
    r0, c0, r1, c1 = bbox
    before = seg.labels[r0:r1, c0:c1]
    allowed = mask
    if overwrite is not Overwrite.ALL:
        allowed = mask & (before == (BACKGROUND_ID if overwrite is Overwrite.BACKGROUND
                                     else target))
    after = before.copy()
    np.copyto(after, np.asarray(value, after.dtype), where=allowed)
    if value not in seg.table:
        if np.array_equal(after, before):
            return edit.finish()  # no background row for an edit that changes nothing
        edit.add_rows([background_row(seg)])
    edit.write(bbox, after)
    return edit.finish()


def paint_dab(seg: Segmentation, center: Point, value: int, brush: Brush, *,
              overwrite: Overwrite | str = Overwrite.ALL, target: int | None = None) -> Change:
    """Paint one brush dab at ``center`` (see :func:`paint_mask` for the rest)."""
    return paint_line(seg, center, center, value, brush, overwrite=overwrite, target=target)


def paint_line(seg: Segmentation, start: Point, end: Point, value: int, brush: Brush, *,
               overwrite: Overwrite | str = Overwrite.ALL, target: int | None = None) -> Change:
    """Paint the brush along the line from ``start`` to ``end`` (both ends included)."""
    found = line_mask(seg.shape, start, end, brush)
    if found is None:
        return Change()
    return paint_mask(seg, *found, value, overwrite=overwrite, target=target)


def fill_polygon(seg: Segmentation, points: Sequence[Point] | np.ndarray, value: int, *,
                 overwrite: Overwrite | str = Overwrite.ALL,
                 target: int | None = None) -> Change:
    """Fill a polygon or lasso outline (vertices ``(row, col)``) with ``value``."""
    found = polygon_mask(seg.shape, points)
    if found is None:
        return Change()
    return paint_mask(seg, *found, value, overwrite=overwrite, target=target)


def flood_fill(seg: Segmentation, seed: Point, value: int, *, connectivity: Literal[4, 8] = 4,
               overwrite: Overwrite | str = Overwrite.ALL, target: int | None = None) -> Change:
    """Fill the connected region of the segment under ``seed`` with ``value``.

    Nothing changes when the seed's segment may not be painted over (see
    :func:`paint_mask`) or already is ``value``. Only the seed segment's box
    is read.
    """
    row, col = int(seed[0]), int(seed[1])
    if not (0 <= row < seg.height and 0 <= col < seg.width):
        return Change()
    seed_id = int(seg.labels[row, col])
    overwrite = Overwrite(overwrite)
    blocked = ((overwrite is Overwrite.BACKGROUND and seed_id != BACKGROUND_ID)
               or (overwrite is Overwrite.SEGMENT and seed_id != target))
    if seed_id == value or blocked:
        return Change()
    box = _seed_box(seg, seed_id, row, col)
    found_box, mask = flood_mask(seg.labels, (row, col), connectivity=connectivity, box=box)
    return paint_mask(seg, found_box, mask, value)


def _seed_box(seg: Segmentation, seed_id: int, row: int, col: int) -> BBox | None:
    """The seed segment's bbox when the table's one holds the seed, else the whole map."""
    found = seg.table.get(seed_id)
    box = found.bbox if found is not None else None
    if box is None or not (box[0] <= row < box[2] and box[1] <= col < box[3]):
        return None
    return box


def _clip(box: BBox, shape: tuple[int, int]) -> BBox | None:
    r0, c0 = max(box[0], 0), max(box[1], 0)
    r1, c1 = min(box[2], shape[0]), min(box[3], shape[1])
    return (r0, c0, r1, c1) if r0 < r1 and c0 < c1 else None
