"""Confidence review: a heatmap of per-pixel confidence and the regions a model is unsure of.

The heatmap goes through a 256-entry colour table (``cv2.LUT`` on the
confidence quantised to uint8), the same O(pixels) path as the label overlay.
Low-confidence pixels are marked in one colour so a reviewer sees at once
where to look; :func:`uncertain_regions` lists them as connected regions,
largest first, for a "next uncertain region" action.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from viewer.core.types import BBox

#: Colour of pixels below the threshold (magenta: not used by the heatmap's ramp).
LOW_COLOR = (255, 0, 255)


def heatmap_table() -> np.ndarray:
    """The (256, 3) uint8 RGB ramp used for confidence 0..1 (dark red -> yellow -> white).

    A perceptual ramp from OpenCV's "inferno" map: dark where the model is
    unsure, bright where it is sure, readable for colour-blind users.
    """
    ramp = cv2.applyColorMap(np.arange(256, dtype=np.uint8).reshape(256, 1),
                             cv2.COLORMAP_INFERNO)
    return np.ascontiguousarray(ramp[:, 0, ::-1])  # BGR -> RGB


def quantize(confidence: np.ndarray) -> np.ndarray:
    """Confidence in 0..1 as uint8 0..255 (NaN -> 0, clipped outside 0..1)."""
    scaled = np.nan_to_num(confidence, nan=0.0, posinf=1.0, neginf=0.0) * 255.0
    return np.clip(scaled + 0.5, 0, 255).astype(np.uint8)


def confidence_overlay(confidence: np.ndarray, threshold: float | None = None, *,
                       order: str = "bgra") -> np.ndarray:
    """An opaque heatmap of ``confidence``, (H, W, 4) uint8, low pixels in :data:`LOW_COLOR`.

    Parameters
    ----------
    confidence : ndarray of shape (H, W), float
        Per-pixel confidence in 0..1.
    threshold : float, optional
        Pixels below it (and NaN) are painted :data:`LOW_COLOR`.
    order : {"bgra", "rgba"}
        Channel order of the result ("bgra" is what QImage's ARGB32 wants).
    """
    levels = quantize(confidence)
    table = heatmap_table()
    if threshold is not None:
        # Levels are round(c * 255); on that grid "level < cut" is exactly "c < threshold".
        cut = int(np.clip(np.ceil(threshold * 255.0), 0, 256))
        table = table.copy()
        table[:cut] = LOW_COLOR
    if order == "bgra":
        table = table[:, ::-1]
    elif order != "rgba":
        raise ValueError(f"order must be 'bgra' or 'rgba', got {order!r}")
    lut = np.concatenate([table, np.full((256, 1), 255, np.uint8)], axis=1)
    out = np.empty(confidence.shape + (4,), np.uint8)
    # One cv2.LUT per channel on the shared level map: memcpy-class speed.
    for channel in range(4):
        out[..., channel] = cv2.LUT(levels, lut[:, channel])
    return out


@dataclass(frozen=True)
class UncertainRegion:
    """A connected region of low confidence."""

    bbox: BBox
    area: int
    centroid: tuple[float, float]
    mean_confidence: float


def uncertain_regions(confidence: np.ndarray, threshold: float, *,
                      min_area: int = 16) -> list[UncertainRegion]:
    """Connected regions where ``confidence < threshold`` (or NaN), largest first.

    Regions smaller than ``min_area`` pixels are left out: single noisy pixels
    are not worth a reviewer's visit.
    """
    low = ~(np.nan_to_num(confidence, nan=-1.0) >= threshold)
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(
        low.view(np.uint8), connectivity=8)
    if count <= 1:
        return []
    sums = np.bincount(labels.reshape(-1), weights=np.nan_to_num(confidence).reshape(-1),
                       minlength=count)
    regions = []
    for index in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[index])
        if area < min_area:
            continue
        cx, cy = centroids[index]
        regions.append(UncertainRegion((y, x, y + h, x + w), area, (float(cy), float(cx)),
                                       float(sums[index] / area)))
    regions.sort(key=lambda r: (-r.area, r.bbox))
    return regions
