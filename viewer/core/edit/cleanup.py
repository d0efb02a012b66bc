"""Clean-up: remove small islands, keep the largest component, fill holes.

Each works segment by segment, on the segment's bounding box only (connected
components by ``cv2.connectedComponentsWithStats``), for the segments given
or for all of them (every segment but background and void). Pixels removed
from a segment become background, as in 3D Slicer's "Islands" effect; filling
a hole only turns background pixels into the segment, never other segments.
The whole clean-up is one change, cropped to the pixels it altered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

import cv2
import numpy as np

from viewer.core.edit.ids import BACKGROUND_ID, background_row, check_ids
from viewer.core.edit.patch import Change, Edit, union_box
from viewer.core.errors import SegmentationError
from viewer.core.segmentation import Segmentation

Connectivity = Literal[4, 8]
# fn(view of the segment's box in the working copy, id) edits the view in place.
_PerSegment = Callable[[np.ndarray, int], None]


def remove_islands(seg: Segmentation, min_size: int, ids: Iterable[int] | None = None, *,
                   connectivity: Connectivity = 8) -> Change:
    """Turn every connected piece smaller than ``min_size`` pixels into background.

    Parameters
    ----------
    seg : Segmentation
    min_size : int
        Pieces with fewer pixels go; a segment made only of such pieces goes whole.
    ids : iterable of int, optional
        The segments to clean (default: all but background and void).
    connectivity : 4 or 8
    """
    if min_size < 0:
        raise SegmentationError(f"an island size is at least 0, got {min_size}")

    def clean(view: np.ndarray, seg_id: int) -> None:
        comps, areas = _components(view == seg_id, connectivity)
        _clear(view, comps, 1 + np.flatnonzero(areas < min_size))

    return _per_segment(seg, ids, clean, erases=True)


def keep_largest(seg: Segmentation, ids: Iterable[int] | None = None, *,
                 connectivity: Connectivity = 8) -> Change:
    """Keep only the largest connected piece of each segment (the first on a tie)."""

    def clean(view: np.ndarray, seg_id: int) -> None:
        comps, areas = _components(view == seg_id, connectivity)
        if areas.size > 1:
            biggest = int(np.argmax(areas))
            _clear(view, comps, 1 + np.delete(np.arange(areas.size), biggest))

    return _per_segment(seg, ids, clean, erases=True)


def fill_holes(seg: Segmentation, ids: Iterable[int] | None = None, *,
               max_size: int | None = None, connectivity: Connectivity = 4) -> Change:
    """Fill the background inside each segment's holes with the segment.

    A hole is a connected region of other pixels that the segment encloses
    (it does not reach the segment's bounding box edge). Only its background
    pixels are filled; other segments inside stay.

    Parameters
    ----------
    seg : Segmentation
    ids : iterable of int, optional
        The segments to fill (default: all but background and void).
    max_size : int, optional
        Fill only holes of at most this many pixels (the whole enclosed region counted).
    connectivity : 4 or 8
        Of the holes; 4 (the default) lets no hole leak out through a
        diagonal gap of an 8-connected outline.
    """

    def fill(view: np.ndarray, seg_id: int) -> None:
        outside = np.ones((view.shape[0] + 2, view.shape[1] + 2), np.uint8)
        outside[1:-1, 1:-1] = view != seg_id
        count, comps, info, _ = cv2.connectedComponentsWithStats(
            outside, connectivity=connectivity, ltype=cv2.CV_32S)
        hole = np.ones(count, bool)
        hole[[0, comps[0, 0]]] = False  # not-the-outline and the padding ring
        if max_size is not None:
            hole &= info[:, cv2.CC_STAT_AREA] <= max_size
        if hole.any():
            filled = np.take(hole, comps[1:-1, 1:-1]) & (view == BACKGROUND_ID)
            view[filled] = seg_id

    return _per_segment(seg, ids, fill, erases=False)


def _per_segment(seg: Segmentation, ids: Iterable[int] | None, fn: _PerSegment, *,
                 erases: bool) -> Change:
    """Run ``fn`` on a working copy of the union of the segments' boxes; write once."""
    targets = _targets(seg, ids)
    edit = Edit(seg)
    box = None
    for seg_id in targets:
        box = union_box(box, seg.table[seg_id].bbox)
    if box is None:
        return edit.finish()
    r0, c0, r1, c1 = box
    work = seg.labels[r0:r1, c0:c1].copy()
    for seg_id in targets:
        b = seg.table[seg_id].bbox
        if b is not None:
            fn(work[b[0] - r0:b[2] - r0, b[1] - c0:b[3] - c0], seg_id)
    if erases and BACKGROUND_ID not in seg.table:
        if np.array_equal(work, seg.labels[r0:r1, c0:c1]):
            return edit.finish()  # nothing removed: no background row either
        edit.add_rows([background_row(seg)])
    edit.write(box, work)
    return edit.finish()


def _targets(seg: Segmentation, ids: Iterable[int] | None) -> list[int]:
    if ids is not None:
        return check_ids(seg, ids)
    return [r.id for r in seg.table if r.id != BACKGROUND_ID and not r.void]


def _components(mask: np.ndarray, connectivity: Connectivity) -> tuple[np.ndarray, np.ndarray]:
    """Component per pixel (1.., 0 outside ``mask``) and the areas of components 1.. ."""
    _, comps, info, _ = cv2.connectedComponentsWithStats(
        mask.view(np.uint8), connectivity=connectivity, ltype=cv2.CV_32S)
    return comps, info[1:, cv2.CC_STAT_AREA]


def _clear(view: np.ndarray, comps: np.ndarray, drop: np.ndarray) -> None:
    """Set the pixels of the components numbered ``drop`` to background."""
    if drop.size:
        gone = np.zeros(int(comps.max()) + 1, bool)
        gone[drop] = True
        view[np.take(gone, comps)] = BACKGROUND_ID
