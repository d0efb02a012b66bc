"""Per-id statistics of a label map: area and bounding box, in O(pixels)."""

from __future__ import annotations

import numpy as np

from viewer.core.types import BBox

# Above this many (ids x rows) cells the presence-matrix method would use too
# much memory; the slower scatter method takes over.
_PRESENCE_CELLS_MAX = 64 * 1024 * 1024
_CHUNK_ROWS = 64
# Pixels counted at once by areas() (its int64 temporaries: 128 MiB).
_AREA_CHUNK = 16 * 1024 * 1024
# Above one run per this many pixels, boxes from runs cost more than the presence matrix.
_MAX_RUN_SHARE = 8


def areas(labels: np.ndarray, size: int | None = None) -> np.ndarray:
    """Return the pixel count of every id.

    Parameters
    ----------
    labels : ndarray of shape (H, W), unsigned integer
    size : int, optional
        Length of the result (at least ``labels.max() + 1``).

    Returns
    -------
    ndarray of shape (size,), int64
    """
    flat = labels.reshape(-1)
    if flat.size == 0:
        return np.zeros(size or 0, np.int64)
    # bincount casts its input to int64 first: in chunks, a 300-megapixel map
    # costs 128 MiB of temporaries instead of 2.4 GB.
    counts = np.zeros(max(int(size or 0), int(flat.max()) + 1), np.int64)
    for start in range(0, flat.size, _AREA_CHUNK):
        part = np.bincount(flat[start:start + _AREA_CHUNK])
        counts[:part.size] += part
    return counts


def bboxes(labels: np.ndarray, size: int | None = None) -> dict[int, BBox]:
    """Return ``{id: (row0, col0, row1, col1)}`` (half-open) for every id present.

    Parameters
    ----------
    labels : ndarray of shape (H, W), unsigned integer
    size : int, optional
        One more than the largest id (computed when omitted).
    """
    if labels.size == 0:
        return {}
    found = _bboxes_from_runs(labels, size)
    if found is not None:
        return found
    size = int(size or int(labels.max()) + 1)
    rows = _extent(labels, size)
    cols = _extent(labels.T, size)
    present = np.flatnonzero(rows[0] >= 0)
    return {int(i): (int(rows[0][i]), int(cols[0][i]), int(rows[1][i]) + 1, int(cols[1][i]) + 1)
            for i in present}


def _bboxes_from_runs(labels: np.ndarray, size: int | None) -> dict[int, BBox] | None:
    """Boxes from the horizontal runs of equal ids, or None when the map has too many runs.

    A mask is mostly long runs, so a box needs only where each run starts
    and ends: one comparison pass over the pixels, then work in proportion
    to the number of runs (4-8x faster than the presence matrix on real
    masks). Noise-like maps, with a run every few pixels, go the other way.
    """
    height, width = labels.shape
    change = np.empty((height, width), bool)
    change[:, 0] = True
    np.not_equal(labels[:, 1:], labels[:, :-1], out=change[:, 1:])
    rows, starts = np.nonzero(change)
    if rows.size > labels.size // _MAX_RUN_SHARE:
        return None
    ids = labels[rows, starts].astype(np.intp)
    ends = np.empty_like(starts)  # half-open: where the next run of the row starts
    ends[:-1] = starts[1:]
    last_in_row = np.empty(rows.size, bool)
    last_in_row[:-1] = rows[1:] != rows[:-1]
    last_in_row[-1] = True
    ends[last_in_row] = width
    size = max(int(size or 0), int(ids.max()) + 1)
    row0, row1 = np.full(size, height, np.intp), np.full(size, -1, np.intp)
    col0, col1 = np.full(size, width, np.intp), np.full(size, -1, np.intp)
    np.minimum.at(row0, ids, rows)
    np.maximum.at(row1, ids, rows)
    np.minimum.at(col0, ids, starts)
    np.maximum.at(col1, ids, ends)
    return {int(i): (int(row0[i]), int(col0[i]), int(row1[i]) + 1, int(col1[i]))
            for i in np.flatnonzero(row1 >= 0)}


def _extent(labels: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last row in which each id occurs (-1 when absent)."""
    height = labels.shape[0]
    if size * height <= _PRESENCE_CELLS_MAX:
        presence = np.zeros((height, size), bool)
        for r0 in range(0, height, _CHUNK_ROWS):
            block = labels[r0:r0 + _CHUNK_ROWS]
            presence[np.arange(r0, r0 + block.shape[0])[:, None], block] = True
        found = presence.any(axis=0)
        first = np.where(found, presence.argmax(axis=0), -1)
        last = np.where(found, height - 1 - presence[::-1].argmax(axis=0), -1)
        return first, last
    row_index = np.broadcast_to(np.arange(height)[:, None], labels.shape).reshape(-1)
    flat = labels.reshape(-1) if labels.flags.c_contiguous else labels.copy().reshape(-1)
    first = np.full(size, height, np.int64)
    last = np.full(size, -1, np.int64)
    np.minimum.at(first, flat, row_index)
    np.maximum.at(last, flat, row_index)
    first[last < 0] = -1
    return first, last
