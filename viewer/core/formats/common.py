"""Helpers every format module uses, so that bad input fails the same way everywhere.

Each function names the file in its error and never leaves a half-written
file: readers raise :class:`ReadError`, writers go through
:func:`viewer.core.fileio.atomic_open`.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import cv2
import numpy as np
from PIL import Image

from viewer.core import safe_input
from viewer.core.errors import ReadError, WriteError
from viewer.core.fileio import atomic_open, atomic_write_text
from viewer.core.safe_input import MAX_JSON_BYTES, parse_json  # noqa: F401 (re-exported)
from viewer.core.segmentation import FullMask, Provenance, Segmentation
INDEX_MODES = ("L", "P", "1", "I;16", "I;16B", "I;16L", "I")


# -- JSON ---------------------------------------------------------------------
def load_json(path: str | Path, max_bytes: int = MAX_JSON_BYTES, *,
              finite_only: bool = True) -> Any:
    """Parse a JSON file with size, depth and number limits; syntax errors name line and column.

    The one JSON loader of the viewer (see :func:`viewer.core.safe_input.load_json`).

    Raises
    ------
    ReadError
        Missing or not a regular file, not UTF-8, too large, too deep, a number too
        long, ``NaN``/``Infinity`` (unless ``finite_only`` is False: the caller then
        checks numbers itself and names the field), or a syntax error.
    """
    return safe_input.load_json(path, max_bytes, finite_only=finite_only)


def dump_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented UTF-8 JSON, atomically."""
    path = Path(path)
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    return path


def require(mapping: Any, key: str, kind: type | tuple[type, ...], path: Path, where: str = "") -> Any:
    """Return ``mapping[key]`` checked for type, or raise a ReadError that says what is wrong."""
    place = f"{where}: " if where else ""
    if not isinstance(mapping, dict):
        raise ReadError(f"{place}expected a JSON object, found {type(mapping).__name__}", path)
    if key not in mapping:
        raise ReadError(f"{place}missing key {key!r}", path)
    value = mapping[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
        names = "/".join(t.__name__ for t in _as_tuple(kind))
        raise ReadError(f"{place}{key!r} should be {names}, found {type(value).__name__}", path)
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


# -- paths inside JSON ----------------------------------------------------------
def resolve_reference(ref: str, base_dir: Path, source: Path) -> Path:
    """Resolve a file reference found in a JSON file.

    Local relative paths and ``file://`` URLs are accepted; they must stay
    inside ``base_dir`` (the folder being read), so a crafted file cannot make
    the viewer read ``../../etc/passwd``. Remote URLs (``http``, ``s3``, ``gs``)
    get a clear "not reachable" error: the viewer works offline.

    Raises
    ------
    ReadError
        Naming ``source`` (the JSON file) and the reference.
    """
    if not isinstance(ref, str) or not ref:
        raise ReadError(f"file reference {ref!r} is empty or not a string", source)
    parsed = urlparse(ref)
    if parsed.scheme == "file":
        candidate = Path(unquote(parsed.path))
    elif parsed.scheme and len(parsed.scheme) > 1:  # "C:" is a drive, not a scheme
        raise ReadError(f"{ref} is a remote {parsed.scheme}:// URL and is not reachable from "
                        "this viewer; download the file and point the JSON at the local copy",
                        source)
    else:
        candidate = Path(ref)
    if not candidate.is_absolute():
        candidate = base_dir / candidate
    try:
        # Before realpath, which would raise "embedded null byte" or "File name too long".
        safe_input.check_path(candidate)
    except ReadError as exc:
        raise ReadError(f"refers to {safe_input.shown(ref)}: {exc.message}", source) from None
    base = Path(os.path.realpath(base_dir))
    resolved = Path(os.path.realpath(candidate))
    if resolved != base and base not in resolved.parents:
        raise ReadError(f"refers to {ref!r}, which is outside the folder {base_dir}; "
                        "refusing to read it", source)
    if not resolved.exists():
        raise ReadError(f"refers to {ref!r}, which does not exist ({resolved})", source)
    try:
        safe_input.stat_regular(resolved)
    except ReadError as exc:
        raise ReadError(f"refers to {ref!r}, which {exc.message}", source) from None
    return resolved


# -- PNG and other rasters ----------------------------------------------------
def open_raster(path: str | Path) -> Image.Image:
    """Open an image with Pillow and load it, refusing huge or broken files.

    Returns the loaded image (its pixels decoded, the file closed). The declared size is
    checked against our pixel limit before any pixel is decoded.
    """
    return safe_input.load_image(path)


def read_index_png(path: str | Path) -> tuple[np.ndarray, str, np.ndarray | None]:
    """Read a single-channel PNG's values exactly (Pillow, never OpenCV).

    Returns
    -------
    values : ndarray of shape (H, W), uint8 or uint16 (int32 for mode I)
    mode : str
        The Pillow mode (``L``, ``P``, ``I;16`` ...).
    palette : ndarray of shape (256, 3), uint8, or None
        The PLTE colours of a mode ``P`` file, padded with black.
    """
    path = Path(path)
    img = open_raster(path)
    if img.mode not in INDEX_MODES:
        hint = " (RGB masks need a colour map: a labelmap.txt, label_colors.txt or legend JSON)" \
            if img.mode in ("RGB", "RGBA") else ""
        raise ReadError(f"image mode {img.mode} is not a single-channel index mask{hint}", path)
    palette = None
    if img.mode == "P":
        raw = np.asarray(img.getpalette() or [], np.uint8)[: 256 * 3].reshape(-1, 3)
        palette = np.zeros((256, 3), np.uint8)
        palette[: len(raw)] = raw
    values = np.array(img)
    if values.dtype == bool:
        values = values.astype(np.uint8)
    return values, img.mode, palette


def read_rgb_png(path: str | Path) -> np.ndarray:
    """Read a colour mask as (H, W, 3) uint8 RGB.

    Mode ``P`` is expanded through its palette, ``RGBA`` drops alpha, ``L``
    becomes grey triplets (REFUGE and ClearML key grey masks by ``(v, v, v)``).
    16-bit images are refused: a colour mask has 8 bits per channel.
    """
    path = Path(path)
    img = open_raster(path)
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        raise ReadError(f"image mode {img.mode} is 16/32-bit, not an 8-bit colour mask", path)
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.ascontiguousarray(np.asarray(img, np.uint8))


def write_png(path: str | Path, pixels: np.ndarray, *, palette: np.ndarray | None = None) -> Path:
    """Write a PNG atomically.

    Parameters
    ----------
    pixels : ndarray
        (H, W) uint8 (mode ``L``, or ``P`` with ``palette``), (H, W) uint16
        (16-bit grey) or (H, W, 3) uint8 RGB.
    palette : ndarray of shape (N, 3), uint8, optional
        Written as a full 256-entry PLTE (missing entries black).
    """
    path = Path(path)
    pixels = np.ascontiguousarray(pixels)
    if pixels.ndim == 3 and pixels.shape[2] == 3 and pixels.dtype == np.uint8:
        img = Image.fromarray(pixels, mode="RGB")
    elif pixels.ndim == 2 and pixels.dtype == np.uint8:
        img = Image.fromarray(pixels, mode="L")
        if palette is not None:
            img = img.convert("P")
            full = np.zeros((256, 3), np.uint8)
            pal = np.asarray(palette, np.uint8).reshape(-1, 3)[:256]
            full[: len(pal)] = pal
            img.putpalette(full.reshape(-1).tolist())
    elif pixels.ndim == 2 and pixels.dtype == np.uint16:
        img = Image.fromarray(pixels)
    else:
        raise WriteError(f"cannot write a {pixels.dtype} array of shape {pixels.shape} as PNG", path)
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    with atomic_open(path) as handle:
        handle.write(buffer.getvalue())
    return path


check_pixels = safe_input.check_pixels


# -- numpy files ----------------------------------------------------------------
load_npy = safe_input.load_npy


def save_npy(path: str | Path, array: np.ndarray) -> Path:
    """Write a ``.npy`` atomically (no pickle)."""
    path = Path(path)
    with atomic_open(path) as handle:
        np.save(handle, np.ascontiguousarray(array), allow_pickle=False)
    return path


# -- sizes ----------------------------------------------------------------------
def upscale_nearest(values: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize a label map with nearest neighbour only (any other filter invents classes)."""
    if values.shape[:2] == (height, width):
        return values
    if values.dtype in (np.uint8, np.uint16, np.int16, np.int32, np.float32):
        return cv2.resize(values, (width, height), interpolation=cv2.INTER_NEAREST)
    # cv2 cannot resize int64/uint32; index rows and columns instead (same rule as INTER_NEAREST).
    rows = np.minimum((np.arange(height) * values.shape[0]) // height, values.shape[0] - 1)
    cols = np.minimum((np.arange(width) * values.shape[1]) // width, values.shape[1] - 1)
    return values[rows][:, cols]


def fit_to_image(seg: Segmentation, image_size: tuple[int, int], path: Path) -> Segmentation:
    """Bring a mask stored at a reduced size back to its image's size.

    Masks from DeepStream, OpenCV models or Celantur ``--mask-scale`` are
    smaller than the photo. A smaller mask of the same aspect ratio (within
    a pixel of rounding) is upscaled with nearest neighbour and marked as
    such; a larger one or one of another shape is an error.
    """
    width, height = int(image_size[0]), int(image_size[1])
    if (seg.width, seg.height) == (width, height):
        return seg
    same_aspect = abs(seg.width * height / width - seg.height) <= 1.0
    if seg.width > width or seg.height > height or not same_aspect:
        raise ReadError(f"mask is {seg.width}x{seg.height} but the image is {width}x{height}", path)
    labels = upscale_nearest(seg.labels, width, height)
    confidence = None if seg.confidence is None else upscale_nearest(seg.confidence, width, height)
    details = dict(seg.provenance.details)
    details["upscaled_from"] = [seg.width, seg.height]
    details["warnings"] = [*details.get("warnings", []),
                           f"mask is {seg.width}x{seg.height}, upscaled to the image's "
                           f"{width}x{height} with nearest neighbour (not ground truth at "
                           "full resolution)"]
    provenance = Provenance(seg.provenance.source, seg.provenance.format, details)
    # Class scores are dropped: a (C, H, W) upscale would cost C full frames and
    # invent nothing the label map and confidence do not already show.
    details["class_scores_dropped"] = seg.class_scores is not None
    full_masks = {seg_id: _upscale_full_mask(full, seg.shape, width, height)
                  for seg_id, full in seg.full_masks.items()}
    return Segmentation(labels, seg.table, kind=seg.kind, confidence=confidence,
                        provenance=provenance, full_masks=full_masks)


def _upscale_full_mask(full: FullMask, shape: tuple[int, int], width: int,
                       height: int) -> FullMask:
    frame = np.zeros(shape, np.uint8)
    r0, c0, r1, c1 = full.bbox
    frame[r0:r1, c0:c1] = full.mask
    big = upscale_nearest(frame, width, height).astype(bool)
    rows, cols = np.flatnonzero(big.any(axis=1)), np.flatnonzero(big.any(axis=0))
    if not rows.size:
        return FullMask((0, 0, 0, 0), np.zeros((0, 0), bool))
    box = (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
    return FullMask(box, big[box[0]:box[2], box[1]:box[3]])


def overlap_losses(seg: Segmentation, format_name: str) -> list[str]:
    """The loss of covered pixels when a one-segment-per-pixel format writes overlaps.

    One sentence for every format (and for :func:`viewer.core.export.losses`),
    so that a loss reported twice reads the same and is said once.
    """
    covered = seg.covered_pixels() if seg.full_masks else 0
    if not covered:
        return []
    return [f"{len(seg.full_masks)} segments overlap others; {covered:,} covered pixels are "
            f"lost ({format_name} holds one segment per pixel)"]


def check_same_size(mask_size: tuple[int, int], image_size: tuple[int, int], path: Path) -> None:
    """Raise when a mask (W, H) does not match its image (W, H)."""
    if tuple(mask_size) != tuple(image_size):
        raise ReadError(f"mask is {mask_size[0]}x{mask_size[1]} but the image is "
                        f"{image_size[0]}x{image_size[1]}", path)


def image_size_of(path: str | Path) -> tuple[int, int]:
    """Return ``(width, height)`` of an image file without decoding its pixels."""
    return safe_input.image_size(path)
