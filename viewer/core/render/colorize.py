"""Colourize a label map through a colour lookup table, in O(pixels).

The gather ``np.take(lut32, labels)`` fetches one 4-byte colour per pixel. It
runs over blocks of rows: numpy casts the index block to intp first, and a
block-sized temporary stays in cache where a whole-frame one (8 bytes per
pixel) would not (``PERFORMANCE.md``: 2.4-3x memcpy one-threaded at 4K against
4x for the plain gather). ``np.take`` releases the GIL, so large frames are
split between two threads: the calling thread does one share itself rather
than waiting idle.

uint8 maps, and uint16 maps where OpenCV >= 5 accepts a 65,536-entry table,
go through ``cv2.LUT`` with 32-bit entries instead: about memcpy speed,
2-4x faster than the gather (measured in ``benchmarks/render.py``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import cv2
import numpy as np

CHUNK_ROWS = 64
# Below this many pixels a second thread costs more than it saves.
PARALLEL_MIN_PIXELS = 512 * 512


def colorize(labels: np.ndarray, lut: np.ndarray, out: np.ndarray | None = None, *,
             threads: int | None = None) -> np.ndarray:
    """Map every id to its packed colour.

    Parameters
    ----------
    labels : ndarray of shape (H, W), unsigned integer
        Segment ids.
    lut : ndarray of shape (N,), uint32
        Packed colours (see :func:`viewer.core.render.lut.build_lut`); ids at
        or beyond ``N - 1`` take the last entry.
    out : ndarray of shape (H, W, 4), uint8, optional
        C-contiguous buffer to fill (for a persistent overlay image).
    threads : int, optional
        Worker threads; default 2 (or 1 on a single core), 1 for small frames.

    Returns
    -------
    ndarray of shape (H, W, 4), uint8
        The colours, bytes in the LUT's order.
    """
    if labels.ndim != 2:
        raise ValueError(f"labels must be 2-D, got shape {labels.shape}")
    lut = np.ascontiguousarray(lut, dtype=np.uint32)
    height, width = labels.shape
    if out is None:
        out = np.empty((height, width, 4), np.uint8)
    elif out.shape != (height, width, 4) or out.dtype != np.uint8 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous ({height}, {width}, 4) uint8 array")
    out32 = out.view(np.uint32).reshape(height, width)
    if labels.flags.c_contiguous and labels.size and _cv_lut(labels, lut, out32):
        return out
    workers = _thread_count(threads, labels.size)
    if workers == 1:
        _gather_rows(labels, lut, out32, 0, height)
        return out
    bounds = np.linspace(0, height, workers + 1).astype(int)
    pool = worker_pool()
    jobs = [pool.submit(_gather_rows, labels, lut, out32, int(a), int(b))
            for a, b in zip(bounds[1:-1], bounds[2:], strict=True)]
    _gather_rows(labels, lut, out32, 0, int(bounds[1]))
    for job in jobs:
        job.result()
    return out


def colorize_reference(labels: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Straightforward reference: ``lut[labels]`` with clipping, as bytes."""
    idx = np.minimum(labels.astype(np.int64), lut.size - 1)
    return lut[idx].view(np.uint8).reshape(*labels.shape, 4)


def _gather_rows(labels: np.ndarray, lut: np.ndarray, out32: np.ndarray, r0: int, r1: int) -> None:
    for r in range(r0, r1, CHUNK_ROWS):
        stop = min(r + CHUNK_ROWS, r1)
        # mode="clip": with the default mode="raise" numpy buffers `out`, an extra copy.
        np.take(lut, labels[r:stop], out=out32[r:stop], mode="clip")


def _cv_lut(labels: np.ndarray, lut: np.ndarray, out32: np.ndarray) -> bool:
    """Colourize with cv2.LUT when it takes this dtype; False when it does not."""
    if labels.dtype == np.uint8:
        entries = 256
    elif labels.dtype == np.uint16 and _cv_lut16_works():
        entries = 65536
    else:
        return False
    cv2.LUT(labels, _full_table(lut, entries), dst=out32.view(np.int32))
    return True


def _full_table(lut: np.ndarray, entries: int) -> np.ndarray:
    """The LUT as the (1, entries) int32 table cv2.LUT wants, clipped like np.take."""
    table = np.empty(entries, np.uint32)
    n = min(lut.size, entries)
    table[:n] = lut[:n]
    table[n:] = lut[-1]
    return table.view(np.int32).reshape(1, entries)


@cache
def _cv_lut16_works() -> bool:
    # OpenCV 4.x accepts only 8-bit sources; 5.x also 16-bit ones.
    probe = np.array([[0, 1, 65535]], np.uint16)
    table = np.arange(65536, dtype=np.int32).reshape(1, 65536)
    try:
        return cv2.LUT(probe, table).reshape(-1).tolist() == [0, 1, 65535]
    except cv2.error:
        return False


def _thread_count(threads: int | None, pixels: int) -> int:
    if threads is None:
        threads = min(2, os.cpu_count() or 1)
    if pixels < PARALLEL_MIN_PIXELS:
        return 1
    return max(1, int(threads))


@cache
def worker_pool() -> ThreadPoolExecutor:
    """The shared pool for splitting pixel work (colorize, blend) across cores."""
    return ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1),
                              thread_name_prefix="colorize")
