"""Read photos (not masks) as RGB uint8 arrays, with Pillow."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from viewer.core.errors import ReadError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
#: Refuse images above this many pixels (a 16k x 16k photo is 256 Mpx, ~768 MB as RGB).
MAX_PIXELS = 300_000_000


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
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                _check_size(img, path)
                img = ImageOps.exif_transpose(img)
                return _to_rgb(img)
    except FileNotFoundError:
        raise ReadError("file not found", path) from None
    except UnidentifiedImageError:
        raise ReadError("not an image file Pillow can read", path) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ReadError(f"image too large to open safely: {exc}", path) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ReadError(f"cannot decode image (truncated or corrupt?): {exc}", path) from None


def _check_size(img: Image.Image, path: Path) -> None:
    width, height = img.size
    if width * height > MAX_PIXELS:
        raise ReadError(f"image is {width}x{height} = {width * height:,} pixels, more than the "
                        f"{MAX_PIXELS:,} this viewer opens", path)


def _to_rgb(img: Image.Image) -> np.ndarray:
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        grey = np.asarray(img, dtype=np.float32)
        top = max(float(grey.max()), 1.0)
        grey = np.clip(grey * (255.0 / top), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[..., None], 3, axis=2))
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.ascontiguousarray(np.asarray(img, dtype=np.uint8))
