"""Read a photo for a model: a JPEG is decoded at a reduced size when the model is small.

A segmentation model sees the photo at its input size (256x256 for the selfie
model), so decoding every pixel of a 1080p JPEG (17 ms with Pillow) only to
average them away is wasted. libjpeg can decode at 1/2, 1/4 or 1/8 scale in
the DCT domain for a fifth of the cost; the scale is chosen so that the
decoded photo is still at least the model's input size, and the label map is
restored to the photo's full size. OpenCV's decoder does it about 15 % faster
than Pillow's ``draft``, so a complete JPEG goes to OpenCV and anything odd
(no end marker: truncated, or a trailer) to Pillow, which refuses truncated
files. Pillow reads the header either way (size, EXIF orientation). Other
formats are decoded fully by :func:`viewer.core.images.read_image`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from viewer.core.errors import ReadError
from viewer.core.images import read_image
from viewer.core.safe_input import open_image

# EXIF orientations that swap width and height.
_TRANSPOSED = frozenset({5, 6, 7, 8})
_ORIENTATION_TAG = 0x0112
_REDUCED = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
            8: cv2.IMREAD_REDUCED_COLOR_8}


@dataclass(frozen=True)
class Photo:
    """A photo as read for a model.

    Attributes
    ----------
    image : ndarray of shape (h, w, 3), uint8
        Possibly smaller than the photo (see ``reduced``).
    full_size : (height, width)
        The photo's size, EXIF orientation applied.
    reduced : bool
        True when ``image`` was decoded at a reduced size.
    """

    image: np.ndarray
    full_size: tuple[int, int]
    reduced: bool = False


def read_for_model(path: str | Path, min_size: tuple[int, int] | None) -> Photo:
    """Read a photo, decoding a JPEG at a reduced size when it stays >= ``min_size``.

    Parameters
    ----------
    path : str or Path
    min_size : (height, width) or None
        The model's input size; None decodes every pixel.

    Raises
    ------
    ReadError
        When the file is missing, not an image, truncated or too large.
    """
    path = Path(path)
    if min_size is not None and path.suffix.lower() not in (".jpg", ".jpeg"):
        large = _read_large(path, min_size)
        if large is not None:
            return large
    if min_size is None or path.suffix.lower() not in (".jpg", ".jpeg"):
        image = read_image(path)
        return Photo(image, image.shape[:2])
    try:
        return _read_draft(path, min_size)
    except FileNotFoundError:
        raise ReadError("file not found", path) from None
    except UnidentifiedImageError:
        raise ReadError("not an image file Pillow can read", path) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ReadError(f"image too large to open safely: {exc}", path) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ReadError(f"cannot decode image (truncated or corrupt?): {exc}", path) from None


def _read_draft(path: Path, min_size: tuple[int, int]) -> Photo:
    with open_image(path) as img:  # the declared size is checked before decoding
        width, height = img.size
        if img.format != "JPEG":
            image = read_image(path)
            return Photo(image, image.shape[:2])
        orientation = img.getexif().get(_ORIENTATION_TAG, 1)
        full = (width, height) if orientation in _TRANSPOSED else (height, width)
        wanted = min_size if full == (height, width) else min_size[::-1]
        fast = _decode_reduced(path, _reduction((height, width), wanted))
        if fast is not None:
            return Photo(np.ascontiguousarray(orient(fast, orientation)), full, True)
        img.draft("RGB", (wanted[1], wanted[0]))
        reduced = img.size != (width, height)
        if img.mode != "RGB":
            img = img.convert("RGB")
        pixels = orient(np.asarray(img, dtype=np.uint8), orientation)
        return Photo(np.ascontiguousarray(pixels), full, reduced)


#: Other photos above this many pixels are shrunk by Pillow right after decoding, before
#: they become RGB: Pillow holds RGB at 4 bytes a pixel, so a 225 Mpx PNG went through
#: 0.9 GB of RGB (and 3.4 GB at the run's peak) only for the model to average it to 256x256.
LARGE_PHOTO_PIXELS = 50_000_000


def _read_large(path: Path, min_size: tuple[int, int]) -> Photo | None:
    """A large non-JPEG photo reduced by 2, 4 or 8 with Pillow; None to read it whole."""
    try:
        with open_image(path) as img:
            return _reduced(img, min_size)
    except (OSError, SyntaxError, ValueError):
        return None  # damaged: read_image says what is wrong in its own words


def _reduced(img: Image.Image, min_size: tuple[int, int]) -> Photo | None:
    full = (img.height, img.width)
    factor = _reduction(full, min_size)
    # 16-bit greys are scaled to 8 bits by read_image; rotated photos go there too.
    if img.width * img.height <= LARGE_PHOTO_PIXELS or factor == 1 \
            or img.mode.startswith("I") or img.mode == "F" \
            or img.getexif().get(_ORIENTATION_TAG, 1) not in (None, 1):
        return None
    if img.mode == "1":
        img = img.convert("L")  # reduce() does not take 1-bit images
    elif img.mode not in ("L", "LA", "RGB", "RGBA"):
        img = img.convert("RGB")
    small = img.reduce(factor)
    if small.mode != "RGB":
        small = small.convert("RGB")
    return Photo(np.ascontiguousarray(np.asarray(small, dtype=np.uint8)), full, True)


def _reduction(size: tuple[int, int], wanted: tuple[int, int]) -> int:
    """The largest libjpeg scale 1/k (k in 8, 4, 2) that keeps ``size`` >= ``wanted``, else 1."""
    fits = min(size[0] // max(wanted[0], 1), size[1] // max(wanted[1], 1))
    return next((k for k in (8, 4, 2) if k <= fits), 1)


def _decode_reduced(path: Path, factor: int) -> np.ndarray | None:
    """Decode a complete JPEG at 1/factor with OpenCV (faster than Pillow); None to use Pillow.

    Only files that end with the JPEG end-of-image marker take this path:
    depending on its version, OpenCV may return a truncated JPEG padded with
    grey where Pillow refuses it, and files with trailers (motion photos) are
    left to Pillow.
    """
    if factor == 1:
        return None
    data = np.fromfile(path, np.uint8)
    if data.size < 4 or data[-2] != 0xFF or data[-1] != 0xD9:
        return None
    flags = _REDUCED[factor] | cv2.IMREAD_IGNORE_ORIENTATION
    bgr = cv2.imdecode(data, flags)
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) to an (H, W, C) array, as ``ImageOps.exif_transpose``.

    Done on the array (views, no copy for the usual orientation 1) because
    ``exif_transpose`` copies the image even when there is nothing to turn.
    """
    if orientation in (5, 6, 7, 8):
        pixels = pixels.transpose(1, 0, 2)
    if orientation in (2, 3, 6, 7):  # mirrored left-right after the transpose
        pixels = pixels[:, ::-1]
    if orientation in (3, 4, 7, 8):
        pixels = pixels[::-1]
    return pixels
