"""Segment boundaries: which pixels lie within ``thickness`` of another segment."""

from __future__ import annotations

import cv2
import numpy as np

# dtypes OpenCV's morphology accepts for label maps.
_CV_MORPH_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16))


def boundary_mask(labels: np.ndarray, thickness: int = 1) -> np.ndarray:
    """Return a uint8 mask, 255 where a pixel has a different id within ``thickness``.

    A pixel is on the boundary when some pixel in the square window of radius
    ``thickness`` around it (8-connectivity) holds another id; each segment
    therefore gets a band of ``thickness`` pixels along its own edge. Pixels
    beyond the image border count as equal to their neighbour, so the image
    frame is not a boundary.

    Parameters
    ----------
    labels : ndarray of shape (H, W), integer
    thickness : int
        Band width in pixels, at least 1.

    Returns
    -------
    ndarray of shape (H, W), uint8
        0 or 255.
    """
    if thickness < 1:
        raise ValueError(f"thickness must be at least 1, got {thickness}")
    if labels.dtype in _CV_MORPH_DTYPES:
        kernel = np.ones((2 * thickness + 1, 2 * thickness + 1), np.uint8)
        high = cv2.dilate(labels, kernel, borderType=cv2.BORDER_REPLICATE)
        low = cv2.erode(labels, kernel, borderType=cv2.BORDER_REPLICATE)
        return cv2.compare(high, low, cv2.CMP_NE)
    return boundary_mask_reference(labels, thickness)


def boundary_mask_reference(labels: np.ndarray, thickness: int = 1) -> np.ndarray:
    """Plain numpy version of :func:`boundary_mask`, for any dtype (and tests)."""
    height, width = labels.shape
    padded = np.pad(labels, thickness, mode="edge")
    edge = np.zeros((height, width), bool)
    for dr in range(-thickness, thickness + 1):
        for dc in range(-thickness, thickness + 1):
            shifted = padded[thickness + dr:thickness + dr + height,
                             thickness + dc:thickness + dc + width]
            edge |= shifted != labels
    return edge.astype(np.uint8) * 255
