"""Snap the codec-damaged colours of a mask video back to its legend.

ClearML can store RGB masks as mp4 (``FORMATS.md`` 5): 4:2:0 chroma
subsampling and quantisation shift every colour a little and smear class
edges. Each pixel goes to the nearest legend colour (Euclidean RGB), and the
distance it had to move is reported.

A video repeats the same few thousand colours frame after frame, so the
nearest legend row is computed once per distinct colour and remembered in a
dense 2**24-entry table: after the first frames a frame costs one packing
pass and two gathers, not a search against the legend.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_UNSEEN = np.iinfo(np.uint16).max
#: Largest legend: row numbers are uint16 and one value marks "not seen yet".
MAX_COLORS = int(_UNSEEN)
#: (new colours x legend rows) compared at once, to bound the temporary.
_BLOCK = 1 << 20


@dataclass(frozen=True)
class SnapResult:
    """One frame snapped to the legend.

    Attributes
    ----------
    rows : ndarray of shape (H, W), uint16
        The legend row of every pixel.
    changed_pixels : int
        Pixels whose colour was not exactly a legend colour.
    far_pixels : int
        Pixels farther than the tolerance from every legend colour.
    max_error : int
        Largest distance moved (RGB units, rounded up, at most 255).
    """

    rows: np.ndarray
    changed_pixels: int
    far_pixels: int
    max_error: int


class ColorSnapper:
    """Nearest-colour lookup against a fixed legend, remembering every colour seen.

    Parameters
    ----------
    colors : array-like of shape (K, 3), uint8
        The legend colours; the first of repeated colours wins.
    tolerance : float
        Distance beyond which a pixel counts as far from every colour.
    """

    def __init__(self, colors, tolerance: float):
        colors = np.asarray(colors, np.uint8).reshape(-1, 3)
        if not 0 < len(colors) <= MAX_COLORS:
            raise ValueError(f"a legend needs 1..{MAX_COLORS} colours, got {len(colors)}")
        self.colors = colors
        self.tolerance = float(tolerance)
        self._row = np.full(1 << 24, _UNSEEN, np.uint16)
        self._error = np.zeros(1 << 24, np.uint8)

    def snap(self, rgb: np.ndarray) -> SnapResult:
        """Snap an (H, W, 3) uint8 RGB frame."""
        keys = pack(rgb)
        rows = self._row[keys]
        unseen = rows == _UNSEEN
        if unseen.any():
            self._learn(np.unique(keys[unseen]))
            rows[unseen] = self._row[keys[unseen]]
        errors = self._error[keys]
        return SnapResult(rows, int(np.count_nonzero(errors)),
                          int(np.count_nonzero(errors > self.tolerance)),
                          int(errors.max(initial=0)))

    def _learn(self, keys: np.ndarray) -> None:
        """Find the nearest legend row of each new colour (ties: the first row)."""
        legend = self.colors.astype(np.int32)
        step = max(1, _BLOCK // len(legend))
        for start in range(0, keys.size, step):
            block = keys[start:start + step]
            rgb = np.stack([(block >> 16) & 255, (block >> 8) & 255, block & 255],
                           axis=1).astype(np.int32)
            d2 = ((rgb[:, None, :] - legend[None, :, :]) ** 2).sum(axis=2)
            nearest = d2.argmin(axis=1)
            distance = np.ceil(np.sqrt(d2[np.arange(block.size), nearest]))
            self._row[block] = nearest
            self._error[block] = np.minimum(distance, 255).astype(np.uint8)


def pack(rgb: np.ndarray) -> np.ndarray:
    """Pack (H, W, 3) uint8 RGB into (H, W) uint32 keys ``R << 16 | G << 8 | B``.

    cv2 lays the pixels out as B, G, R, 255 in one fast pass; read as
    little-endian uint32 that is the key plus 255 << 24, masked off in place
    (about 4x faster than shifting and or-ing three planes in numpy).
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {rgb.shape} {rgb.dtype}")
    bgra = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGRA)
    keys = bgra.view(np.dtype("<u4")).reshape(rgb.shape[:2])
    np.bitwise_and(keys, 0xFFFFFF, out=keys)
    return keys
