"""Reading Celantur instance and binary mask PNGs, with ``image-name.json`` when beside them.

:mod:`viewer.core.formats.celantur` describes the encoding, how detections
are matched to segments and the ``--mask-scale`` rules applied here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from viewer.core.errors import ReadError
from viewer.core.formats.celantur_common import ANONYMISED, BINARY, INSTANCE, TYPES
from viewer.core.formats.celantur_detections import (
    attach_detections,
    detections_of,
    frame_facts,
    metadata_for,
    size_of,
)
from viewer.core.formats.common import check_pixels, open_raster, read_rgb_png, upscale_nearest
from viewer.core.segmentation import Kind, Provenance, Segmentation


# -- the instance mask --------------------------------------------------------------
def read_instance(path: str | Path, *, image_size: tuple[int, int] | None = None,
                  names: Mapping[int, str] | None = None, match_iou: float = 0.5,
                  **_options) -> Segmentation:
    """Read ``*_ins_maks.png`` / ``*_ins_mask.png``, with ``image-name.json`` when beside it.

    Parameters
    ----------
    path : str or Path
    image_size : (width, height), optional
        The photo's size; a smaller mask of the same aspect ratio is upscaled
        (nearest neighbour). Without it the JSON's ``size`` is used.
    names : mapping of R code to name, optional
        Overrides the type names (``{128: "pedestrian"}``).
    match_iou : float
        Least box overlap for a detection to be attached to a segment (see
        :mod:`viewer.core.formats.celantur`).

    Raises
    ------
    ReadError
        Unreadable PNG, or a mask larger than the image / of another aspect ratio.
    """
    path = Path(path)
    rgb = read_rgb_png(path)
    warnings: list[str] = []
    meta, meta_path = metadata_for(path, warnings)
    values, odd_colours = _instance_values(rgb)
    values, details = _fit_size(values, path, image_size, meta, meta_path, warnings)
    seg = Segmentation.from_values(
        values, kind=Kind.INSTANCE, hidden_values=(0,),
        describe=lambda v: _describe_colour(_colour_of(v, odd_colours), names or {}),
        provenance=Provenance(str(path), INSTANCE, details))
    _warn_unknown(seg, warnings, "colours outside the Celantur encoding (R must be 64, 128, "
                                 "192 or 255 and B 0)")
    if meta is not None:
        attach_detections(seg, meta, meta_path, match_iou, details, warnings)
    details["warnings"] = warnings
    return seg


def _instance_values(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Key pixels by ``R * 256 + G``; colours with B != 0 get negative keys.

    Returns the int32 key map and the sorted 24-bit codes of the B != 0 colours
    (key ``-(i + 1)`` is ``odd[i]``). B is almost always 0, so the common case
    never sorts the whole image.
    """
    r = rgb[..., 0].astype(np.int32)
    g = rgb[..., 1].astype(np.int32)
    values = r * 256 + g
    blue = rgb[..., 2]
    odd_pixels = blue != 0
    if not odd_pixels.any():
        return values, np.zeros(0, np.int64)
    codes = (values[odd_pixels].astype(np.int64) << 8) | blue[odd_pixels]
    odd, inverse = np.unique(codes, return_inverse=True)
    values[odd_pixels] = -(inverse.reshape(-1).astype(np.int32) + 1)
    return values, odd


def _colour_of(value: int, odd: np.ndarray) -> tuple[int, int, int]:
    if value >= 0:
        return value >> 8, value & 0xFF, 0
    code = int(odd[-value - 1])
    return code >> 16, (code >> 8) & 0xFF, code & 0xFF


def _describe_colour(colour: tuple[int, int, int], names: Mapping[int, str]) -> dict[str, Any]:
    r, g, b = colour
    if colour == (0, 0, 0):
        return {"label": names.get(0, "background"), "class_id": 0, "color": colour,
                "source_value": colour}
    if b == 0 and r in TYPES:
        return {"label": names.get(r, TYPES[r]), "class_id": r, "instance": g,
                "source_value": colour, "attributes": {"celantur_type": TYPES[r]}}
    return {"label": "unknown", "class_id": None, "color": colour, "source_value": colour,
            "attributes": {"unknown_color": True}}


def _warn_unknown(seg: Segmentation, warnings: list[str], what: str) -> None:
    unknown = [s for s in seg.table if s.attributes.get("unknown_color") and s.area]
    if not unknown:
        return
    shown = "; ".join(f"{s.source_value} on {s.area:,} pixels in rows {s.bbox[0]}-"
                      f"{s.bbox[2] - 1}, columns {s.bbox[1]}-{s.bbox[3] - 1}"
                      for s in unknown[:5])
    more = f"; and {len(unknown) - 5} more" if len(unknown) > 5 else ""
    warnings.append(f"{len(unknown)} {what} kept as 'unknown' segments: {shown}{more}")


# -- the binary mask ----------------------------------------------------------------
def read_binary(path: str | Path, *, image_size: tuple[int, int] | None = None,
                names: Mapping[int, str] | None = None, **_options) -> Segmentation:
    """Read ``*_bin_mask.png``: 0 background, 255 anonymised.

    Parameters
    ----------
    image_size : (width, height), optional
        As for :func:`read_instance`; the JSON beside gives ``size`` otherwise.
    names : mapping of value to name, optional

    Raises
    ------
    ReadError
        Unreadable PNG, colour pixels, or a size that does not fit the image.
    """
    path = Path(path)
    grey = _grey_values(path)
    warnings: list[str] = []
    meta, meta_path = metadata_for(path, warnings)
    grey, details = _fit_size(grey, path, image_size, meta, meta_path, warnings)
    labels = {0: "background", 255: ANONYMISED, **(names or {})}
    seg = Segmentation.from_values(
        grey, kind=Kind.BINARY, hidden_values=(0,),
        describe=lambda v: _describe_grey(v, labels),
        provenance=Provenance(str(path), BINARY, details))
    _warn_unknown(seg, warnings, "grey levels other than black (0) and white (255)")
    if meta is not None:
        details["metadata"] = str(meta_path)
        details.update(frame_facts(meta))
        details["detections"] = list(detections_of(meta, meta_path, warnings))
    details["warnings"] = warnings
    return seg


def _grey_values(path: Path) -> np.ndarray:
    img = open_raster(path)
    if img.mode in ("1", "L", "P", "LA", "RGB", "RGBA"):
        rgb = np.asarray(img.convert("RGB"), np.uint8)
    else:
        raise ReadError(f"image mode {img.mode} is not an 8-bit black-and-white mask", path)
    grey = rgb[..., 0]
    coloured = np.count_nonzero((rgb[..., 1] != grey) | (rgb[..., 2] != grey))
    if coloured:
        raise ReadError(f"{coloured:,} pixels are coloured; a Celantur binary mask is black "
                        "and white (an instance mask is named *_ins_maks.png)", path)
    return np.ascontiguousarray(grey)


def _describe_grey(value: int, labels: Mapping[int, str]) -> dict[str, Any]:
    if value in (0, 255):
        return {"label": labels.get(value, ""), "color": (value, value, value)}
    return {"label": labels.get(value, "unknown"), "color": (value, value, value),
            "attributes": {"unknown_color": True}}


# -- size (--mask-scale) ----------------------------------------------------------
def _fit_size(values: np.ndarray, path: Path, image_size: tuple[int, int] | None,
              meta: Mapping[str, Any] | None, meta_path: Path | None,
              warnings: list[str]) -> tuple[np.ndarray, dict[str, Any]]:
    """Upscale a ``--mask-scale`` mask to the image size; refuse sizes that cannot be."""
    details: dict[str, Any] = {}
    json_size = size_of(meta, meta_path, warnings) if meta is not None else None
    target, source = (image_size, "the image") if image_size is not None else (
        json_size, f"the size in {meta_path.name if meta_path else ''}")
    if image_size is not None and json_size is not None and tuple(json_size) != tuple(image_size):
        warnings.append(f"{meta_path.name} gives the size {json_size[0]}x{json_size[1]}, the "
                        f"image is {image_size[0]}x{image_size[1]}; using the image")
    if target is None:
        return values, details
    width, height = (int(v) for v in target)
    mask_h, mask_w = values.shape
    if (mask_w, mask_h) == (width, height):
        return values, details
    _check_scalable(mask_w, mask_h, width, height, path, source)
    check_pixels(width, height, path)
    details["upscaled_from"] = [mask_w, mask_h]
    details["mask_scale"] = round(100 * mask_w / width, 1)
    warnings.append(f"the mask is {mask_w}x{mask_h}, {details['mask_scale']}% of {source} "
                    f"({width}x{height}); upscaled with nearest neighbour, so edges are "
                    "coarser than the anonymisation itself")
    return upscale_nearest(values, width, height), details


def _check_scalable(mask_w: int, mask_h: int, width: int, height: int, path: Path,
                    source: str) -> None:
    if mask_w > width or mask_h > height:
        raise ReadError(f"the mask is {mask_w}x{mask_h}, larger than {source} "
                        f"({width}x{height})", path)
    # Both sides were rounded from the same scale s: |mask_w - width*s| <= 1, same for h.
    same_ratio = ((mask_w - 1) * height <= (mask_h + 1) * width
                  and (mask_h - 1) * width <= (mask_w + 1) * height)
    if not same_ratio:
        raise ReadError(f"the mask is {mask_w}x{mask_h}, another aspect ratio than {source} "
                        f"({width}x{height}); it is not a --mask-scale copy", path)
