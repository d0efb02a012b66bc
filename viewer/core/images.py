"""Read photos (not masks) as RGB uint8 arrays, with Pillow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from viewer.core.errors import ReadError
from viewer.core.safe_input import MAX_PIXELS, open_image

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
__all__ = ["IMAGE_EXTENSIONS", "MAX_PIXELS", "read_image"]


def read_image(path: str | Path) -> np.ndarray:
    """Read a photo as RGB.

    EXIF orientation is applied, as cameras and other annotation tools do, so
    masks line up with the picture the user sees. 16-bit greys are scaled to
    8 bits for display; an alpha channel is dropped.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    ndarray of shape (H, W, 3), uint8

    Raises
    ------
    ReadError
        When the file is missing, not an image, truncated, or too large.
    """
    path = Path(path)
    with open_image(path) as img:
        try:
            img = ImageOps.exif_transpose(img)
            return _to_rgb(img)
        except (OSError, SyntaxError, ValueError) as exc:
            raise ReadError(f"cannot decode image (truncated or corrupt?): {exc}",
                            path) from None


def _to_rgb(img: Image.Image) -> np.ndarray:
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        grey = np.asarray(img, dtype=np.float32)
        top = max(float(grey.max()), 1.0)
        grey = np.clip(grey * (255.0 / top), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[..., None], 3, axis=2))
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.ascontiguousarray(np.asarray(img, dtype=np.uint8))
