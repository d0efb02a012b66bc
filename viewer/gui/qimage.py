"""numpy <-> QImage without surprises: who owns the pixels is explicit."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def base_image(rgb: np.ndarray) -> QImage:
    """Return an ``RGB32`` copy of an (H, W, 3) uint8 RGB photo.

    Converted once when a photo arrives: painting RGB32 is the fast path,
    converting on every paint is not (``PERFORMANCE.md``).
    """
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width = rgb.shape[:2]
    wrapped = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return wrapped.convertToFormat(QImage.Format.Format_RGB32)


def wrap_premultiplied(bgra: np.ndarray) -> QImage:
    """Wrap an (H, W, 4) uint8 premultiplied BGRA buffer as a QImage, no copy.

    The caller must keep ``bgra`` alive as long as the image is used.
    """
    if not bgra.flags.c_contiguous or bgra.dtype != np.uint8 or bgra.shape[2] != 4:
        raise ValueError("expected a C-contiguous (H, W, 4) uint8 buffer")
    height, width = bgra.shape[:2]
    return QImage(bgra.data, width, height, 4 * width,
                  QImage.Format.Format_ARGB32_Premultiplied)
