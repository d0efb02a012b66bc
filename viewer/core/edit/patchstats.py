"""Keep areas and boxes of the segment table right after a patch, touching only that patch.

A full :meth:`Segmentation.refresh_stats` costs a pass over the whole label
map; after an edit only the ids whose pixels changed need new figures. Areas
follow from counting the changed pixels; a box grows by the box of the pixels
gained, and is searched again (inwards from its old edges, usually a few rows)
only when a lost pixel lay on one of its edges.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from viewer.core import stats
from viewer.core.segment_table import SegmentTable
from viewer.core.types import BBox

# Above this id, counting by bincount would allocate too much; sort instead.
_BINCOUNT_MAX_ID = 1 << 24
_SCAN_FIRST = 8
_SCAN_MAX = 256


def stat_updates(labels: np.ndarray, table: SegmentTable, box: BBox, before: np.ndarray,
                 after: np.ndarray, changed: np.ndarray) -> dict[int, dict[str, Any]]:
    """Return ``{id: {"area": ..., "bbox": ...}}`` for every id whose pixels changed.

    Parameters
    ----------
    labels : ndarray of shape (H, W)
        The label map, already holding ``after``.
    table : SegmentTable
        Rows with the figures from before the patch.
    box : tuple of 4 int
        Where the patch lies; the tight box of ``changed``.
    before, after : ndarray of shape (h, w)
        The patch before and after.
    changed : ndarray of bool, shape (h, w)
        ``before != after``.
    """
    lost = _counts(before, changed)
    gained = _counts(after, changed)
    lost_boxes = _boxes(before, changed, lost, box)
    gained_boxes = _boxes(after, changed, gained, box)
    updates = {}
    for seg_id in sorted(set(lost) | set(gained)):
        row = table.get(seg_id)
        if row is None:
            continue
        area = row.area - lost.get(seg_id, 0) + gained.get(seg_id, 0)
        bbox = row.bbox
        if area <= 0:
            area, bbox = 0, None
        else:
            if bbox is not None and seg_id in lost and _on_edge(lost_boxes[seg_id], bbox):
                bbox = shrink_box(labels, seg_id, bbox)
            if seg_id in gained:
                bbox = _union(bbox, gained_boxes[seg_id])
        updates[seg_id] = {"area": area, "bbox": bbox}
    return updates


def tight_box(mask: np.ndarray) -> BBox | None:
    """Return the bounding box of the True pixels of ``mask``, or None."""
    rows = np.flatnonzero(mask.any(axis=1))
    if not rows.size:
        return None
    cols = np.flatnonzero(mask[rows[0]:rows[-1] + 1].any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def shrink_box(labels: np.ndarray, seg_id: int, bbox: BBox) -> BBox | None:
    """Return the bounding box of ``seg_id`` inside ``bbox`` (None when absent).

    Scans inwards from each edge, so a segment that still reaches its old
    edges costs a few rows and columns, not the whole box.
    """
    r0, c0, r1, c1 = bbox
    view = labels[r0:r1, c0:c1]
    top = _first_line(view, seg_id, reverse=False)
    if top is None:
        return None
    bottom = _first_line(view, seg_id, reverse=True)
    rows = view[top:bottom].T  # columns as lines
    left = _first_line(rows, seg_id, reverse=False)
    right = _first_line(rows, seg_id, reverse=True)
    return r0 + top, c0 + left, r0 + bottom, c0 + right


def _first_line(view: np.ndarray, seg_id: int, *, reverse: bool) -> int | None:
    """Return the first line (row of ``view``) holding ``seg_id``, or None.

    With ``reverse``, return one past the last such line.
    """
    n = view.shape[0]
    step, pos = _SCAN_FIRST, 0
    while pos < n:
        lo, hi = (n - pos - step, n - pos) if reverse else (pos, pos + step)
        lo = max(lo, 0)
        hits = np.flatnonzero((view[lo:hi] == seg_id).any(axis=1))
        if hits.size:
            return lo + int(hits[-1]) + 1 if reverse else lo + int(hits[0])
        pos += step
        step = min(step * 2, _SCAN_MAX)  # few Python steps even for sparse segments
    return None


def _counts(values: np.ndarray, changed: np.ndarray) -> dict[int, int]:
    picked = values[changed]
    if not picked.size:
        return {}
    if int(picked.max()) < _BINCOUNT_MAX_ID:
        counts = np.bincount(picked)
        ids = np.flatnonzero(counts)
        return dict(zip(ids.tolist(), counts[ids].tolist(), strict=True))
    ids, counts = np.unique(picked, return_counts=True)
    return dict(zip(ids.tolist(), counts.tolist(), strict=True))


def _boxes(values: np.ndarray, changed: np.ndarray, ids: dict[int, int],
           box: BBox) -> dict[int, BBox]:
    """Absolute bounding box of the changed pixels of each id."""
    if not ids:
        return {}
    if len(ids) == 1:
        # The patch is cropped to the changed pixels, all of this one id.
        return {next(iter(ids)): box}
    order = sorted(ids)
    index = np.zeros(int(order[-1]) + 1, np.uint32)
    index[order] = np.arange(1, len(order) + 1, dtype=np.uint32)
    # Unchanged pixels may hold any id: look up a listed one there, then clear it.
    compact = np.take(index, np.where(changed, values, order[0]))
    compact[~changed] = 0
    found = stats.bboxes(compact, len(order) + 1)
    r0, c0 = box[0], box[1]
    return {order[k - 1]: (r0 + b[0], c0 + b[1], r0 + b[2], c0 + b[3])
            for k, b in found.items() if k}


def _on_edge(inner: BBox, outer: BBox) -> bool:
    return (inner[0] == outer[0] or inner[1] == outer[1] or inner[2] == outer[2]
            or inner[3] == outer[3])


def _union(a: BBox | None, b: BBox) -> BBox:
    if a is None:
        return b
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
