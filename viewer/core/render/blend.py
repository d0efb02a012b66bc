"""Alpha blending for export (the GUI applies alpha at paint time instead).

Uses ``cv2.addWeighted`` and ``cv2.copyTo`` with a mask: fixed-point and
vectorised (``PERFORMANCE.md``: about 2x and 4x memcpy at 4K), where numpy
float or boolean-indexed blends cost 25-120x. OpenCV runs these two on one
thread and releases the GIL, so large frames are split in two row bands, one
on the calling thread and one on the colorize pool (about 1.7x faster at 4K).
"""

from __future__ import annotations

import cv2
import numpy as np

from viewer.core.render.colorize import PARALLEL_MIN_PIXELS, worker_pool


def blend(image: np.ndarray, overlay: np.ndarray, alpha: float,
          mask: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Blend ``overlay`` over ``image`` with weight ``alpha``.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8
        The photo, RGB.
    overlay : ndarray of shape (H, W, 3), uint8
        Overlay colours, RGB.
    alpha : float
        Overlay weight in 0..1.
    mask : ndarray of shape (H, W), uint8, optional
        Blend only where the mask is non-zero.
    out : ndarray of shape (H, W, 3), uint8, optional
        Destination (may be ``image`` itself). With a mask, the pixels of
        ``out`` outside the mask are left as they are; without ``out`` they
        are a copy of ``image``.

    Returns
    -------
    ndarray of shape (H, W, 3), uint8
    """
    _check_pair(image, overlay)
    alpha = float(np.clip(alpha, 0.0, 1.0))
    if out is None:
        out = np.empty_like(image) if mask is None else image.copy()
    elif out.shape != image.shape or out.dtype != np.uint8 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous {image.shape} uint8 array")
    height = image.shape[0]
    if image.shape[0] * image.shape[1] < PARALLEL_MIN_PIXELS or height < 2:
        _blend_rows(image, overlay, alpha, mask, out, 0, height)
        return out
    mid = height // 2
    job = worker_pool().submit(_blend_rows, image, overlay, alpha, mask, out, mid, height)
    _blend_rows(image, overlay, alpha, mask, out, 0, mid)
    job.result()
    return out


def _blend_rows(image: np.ndarray, overlay: np.ndarray, alpha: float, mask: np.ndarray | None,
                out: np.ndarray, r0: int, r1: int) -> None:
    # Row bands of C-contiguous arrays are contiguous, so cv2 writes into `out` in place.
    if mask is None:
        cv2.addWeighted(image[r0:r1], 1.0 - alpha, overlay[r0:r1], alpha, 0.0, dst=out[r0:r1])
        return
    mixed = cv2.addWeighted(image[r0:r1], 1.0 - alpha, overlay[r0:r1], alpha, 0.0)
    cv2.copyTo(mixed, mask[r0:r1], out[r0:r1])


def blend_rgba(image: np.ndarray, overlay_rgba: np.ndarray, alpha: float) -> np.ndarray:
    """Blend an RGBA overlay whose alpha channel says where and how strongly.

    Each distinct non-zero overlay alpha ``a`` (a LUT has few: visible,
    dimmed, outline) is blended with weight ``alpha * a / 255`` only where the
    overlay has that alpha; pixels with alpha 0 keep the photo exactly.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8
    overlay_rgba : ndarray of shape (H, W, 4), uint8, RGBA byte order
    alpha : float
        Global overlay weight in 0..1.

    Returns
    -------
    ndarray of shape (H, W, 3), uint8
    """
    if overlay_rgba.ndim != 3 or overlay_rgba.shape[2] != 4:
        raise ValueError(f"overlay must be (H, W, 4), got {overlay_rgba.shape}")
    colors = cv2.cvtColor(overlay_rgba, cv2.COLOR_RGBA2RGB)
    alphas = cv2.extractChannel(overlay_rgba, 3)
    out = image.copy()
    # cv2.calcHist counts the 256 levels about 10x faster than np.bincount.
    histogram = cv2.calcHist([alphas], [0], None, [256], [0, 256]).reshape(-1)
    levels = np.flatnonzero(histogram[1:]) + 1
    for level in levels:
        mask = cv2.compare(alphas, int(level), cv2.CMP_EQ)
        blend(image, colors, alpha * level / 255.0, mask=mask, out=out)
    return out


def blend_reference(image: np.ndarray, overlay_rgba: np.ndarray, alpha: float) -> np.ndarray:
    """Float reference of :func:`blend_rgba`, rounded half up (for tests)."""
    weight = alpha * overlay_rgba[..., 3:4].astype(np.float64) / 255.0
    mixed = image * (1.0 - weight) + overlay_rgba[..., :3] * weight
    return np.floor(mixed + 0.5).astype(np.uint8)


def _check_pair(image: np.ndarray, overlay: np.ndarray) -> None:
    if image.shape != overlay.shape or image.dtype != np.uint8 or overlay.dtype != np.uint8:
        raise ValueError(
            f"image and overlay must be uint8 of one shape, got {image.shape} {image.dtype} "
            f"and {overlay.shape} {overlay.dtype}")
