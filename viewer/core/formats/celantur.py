"""Celantur anonymisation output: binary and instance mask PNGs, per-image and video metadata.

``FORMATS.md`` section 2 is the specification (vendor documentation only; no
public sample files exist).

Files
-----
- ``image-name_bin_mask.png`` (:data:`BINARY`): black background, white =
  anonymised. Read as a binary mask {0, 255}; other grey levels are kept as
  ``"unknown"`` segments with a warning.
- ``image-name_ins_maks.png`` (sic, the documented name) or
  ``image-name_ins_mask.png`` (:data:`INSTANCE`): RGB, R = object type (64
  licence plate, 128 person, 192 face, 255 vehicle), G = an opaque instance key
  (0 is valid when R > 0), B = 0, background (0, 0, 0). One segment per (R, G)
  pair, id ``R * 256 + G``, ``class_id`` = R, ``instance`` = G,
  ``source_value`` = the (R, G, B) colour. Any other colour (R not one of the
  four codes, or B != 0) becomes an ``"unknown"`` segment with a warning.
- ``image-name.json`` (:data:`METADATA`): ``id``, ``detections``, ``size``
  ([width, height]), ``duration``, ``filename``, ``folder``. Every key may be
  missing. Detections carry ``id``, ``parent_image``, ``offset``, ``bbox``
  ([x1, y1, x2, y2]), ``score``, ``is_anonymized`` (the example spells it
  ``is_anonymised``: both are accepted and stored as ``is_anonymized``),
  ``type_label``, ``type`` and ``color``. The class comes from ``type_label``;
  the numeric ``type`` (103 for a face in the example, a table nobody
  published) is kept as an opaque attribute. ``offset`` and ``bbox`` are both
  stored; neither is derived from the other when reading (the example's
  offset x differs from bbox x1).
- ``name-START-END.json``: video metadata, a list of frame objects (or an
  object with a ``"frames"`` list), at most 500 frames, ids within
  START..END. :func:`items` lists the frame ids; ``read(item=...)`` picks one.

Matching detections to mask segments
------------------------------------
When ``image-name.json`` sits beside a mask of the same image stem, its
detections are matched to the instance segments so that scores and boxes show
on the right object: a detection can only match a segment of its own type
(``type_label`` mapped to an R code), and only when the detection box and the
segment's pixel box overlap with an intersection over union of at least
``match_iou`` (0.5 by default). The best-overlapping pairs are taken first and
each detection and segment is used once. A matched segment gets the score in
``Segment.score`` and the detection's fields in ``attributes``. Detections
that match nothing (another type, no overlapping segment, no box) are not
forced onto a segment: the complete ``detections`` list is always kept in
``provenance.details["detections"]`` and the ids of the unmatched ones in
``details["unmatched_detections"]``, with a warning. A binary mask has one
region only, so its detections are never matched, only kept.

Metadata without a mask beside it (and every video frame, since the
documentation names no per-frame mask files) is read as boxes: each detection
becomes a rectangular segment, smaller boxes on top, with the complete box of
every covered one in ``Segmentation.full_masks``.

Scaled masks (``--mask-scale``)
-------------------------------
A mask smaller than the image (``image_size=(w, h)`` from the caller, else the
JSON's ``size``) with the same aspect ratio within rounding is upscaled with
nearest neighbour; ``details["upscaled_from"]`` is the mask's ``[w, h]`` and
``details["mask_scale"]`` the estimated ``--mask-scale`` percentage. A mask
larger than the image, or of another aspect ratio, is refused.

Writing
-------
The instance writer maps every segment onto one of the four types by its label
(``"face"``, ``"license plate"``/``"licence plate"``, ...), or by a Celantur
colour it was read with; instance keys G come from the colour read, else the
segment's ``instance``, else the next free key. It also writes
``image-name.json`` (``metadata=False`` skips it), always spelling
``is_anonymized`` as the attribute table does. A segment without a detection
read from a file gets ``bbox`` from its pixels and ``offset`` = [x1, y1], the
meaning the attribute table gives it. Detections read from Celantur metadata
that matched no segment are written back unchanged. :func:`instance_losses`
names what does not fit: other classes (written as background) and more than 256 instances of
one type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from viewer.core.errors import ReadError, WriteError
from viewer.core.formats.base import FormatSpec
from viewer.core.formats.common import (
    check_pixels,
    dump_json,
    load_json,
    open_raster,
    read_rgb_png,
    upscale_nearest,
    write_png,
)
from viewer.core.formats.names import SIDECAR_SUFFIX
from viewer.core.palettes import stable_color
from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import (
    BACKGROUND_NAMES,
    FullMask,
    Kind,
    Provenance,
    Segmentation,
)
from viewer.core.types import dtype_for_max_id

BINARY = "celantur-binary"
INSTANCE = "celantur-instance"
METADATA = "celantur-metadata"

#: R-channel code -> type name (shared palettes.json "celantur_instance_R_channel").
TYPES = {64: "license plate", 128: "person", 192: "face", 255: "vehicle"}
ANONYMISED = "anonymised"
BINARY_SUFFIX = "_bin_mask.png"
#: The documented (misspelt) name first: it is what Celantur writes.
INSTANCE_SUFFIXES = ("_ins_maks.png", "_ins_mask.png")
MAX_CHUNK_FRAMES = 500
KEYS_PER_TYPE = 256
CHUNK_NAME = re.compile(r"^(?P<name>.+)-(?P<start>\d+)-(?P<end>\d+)\.json$", re.IGNORECASE)
_SNIFF_BYTES = 64 * 1024
# Spellings of type_label seen or plausible; keys are lower-case, single-spaced.
_TYPE_ALIASES = {
    "license plate": 64, "licence plate": 64, "licenseplate": 64, "licenceplate": 64,
    "plate": 64, "person": 128, "face": 192, "vehicle": 255,
}


# -- names ----------------------------------------------------------------------
def type_code(label: Any) -> int | None:
    """Return the R code (64, 128, 192, 255) of a type name, or None.

    Case, ``_`` and ``-`` are ignored and both spellings of licence are
    accepted (``"License_Plate"`` -> 64).
    """
    if not isinstance(label, str):
        return None
    key = " ".join(label.lower().replace("_", " ").replace("-", " ").split())
    return _TYPE_ALIASES.get(key)


def image_stem(mask_path: Path) -> str:
    """Return ``image-name`` for ``image-name_ins_maks.png`` (or ``_bin_mask``, ``.json``)."""
    name = Path(mask_path).name
    for suffix in (*INSTANCE_SUFFIXES, BINARY_SUFFIX):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


def metadata_beside(mask_path: Path) -> Path | None:
    """Return ``image-name.json`` beside a Celantur mask, when there is one."""
    candidate = Path(mask_path).with_name(image_stem(mask_path) + ".json")
    return candidate if candidate.is_file() else None


def _mask_beside(json_path: Path) -> tuple[Path, bool] | None:
    """Return (mask path, is_instance) for ``image-name.json``; instance first."""
    stem = json_path.name[: -len(json_path.suffix)] if json_path.suffix else json_path.name
    for suffix in INSTANCE_SUFFIXES:
        if (json_path.parent / (stem + suffix)).is_file():
            return json_path.parent / (stem + suffix), True
    if (json_path.parent / (stem + BINARY_SUFFIX)).is_file():
        return json_path.parent / (stem + BINARY_SUFFIX), False
    return None


# -- reading the instance mask ----------------------------------------------------
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
        the module docstring).

    Raises
    ------
    ReadError
        Unreadable PNG, or a mask larger than the image / of another aspect ratio.
    """
    path = Path(path)
    rgb = read_rgb_png(path)
    warnings: list[str] = []
    meta, meta_path = _metadata_for(path, warnings)
    values, odd_colours = _instance_values(rgb)
    values, details = _fit_size(values, path, image_size, meta, meta_path, warnings)
    seg = Segmentation.from_values(
        values, kind=Kind.INSTANCE, hidden_values=(0,),
        describe=lambda v: _describe_colour(_colour_of(v, odd_colours), names or {}),
        provenance=Provenance(str(path), INSTANCE, details))
    _warn_unknown(seg, warnings, "colours outside the Celantur encoding (R must be 64, 128, "
                                 "192 or 255 and B 0)")
    if meta is not None:
        _attach(seg, meta, meta_path, match_iou, details, warnings)
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


# -- reading the binary mask ------------------------------------------------------
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
    meta, meta_path = _metadata_for(path, warnings)
    grey, details = _fit_size(grey, path, image_size, meta, meta_path, warnings)
    labels = {0: "background", 255: ANONYMISED, **(names or {})}
    seg = Segmentation.from_values(
        grey, kind=Kind.BINARY, hidden_values=(0,),
        describe=lambda v: _describe_grey(v, labels),
        provenance=Provenance(str(path), BINARY, details))
    _warn_unknown(seg, warnings, "grey levels other than black (0) and white (255)")
    if meta is not None:
        details["metadata"] = str(meta_path)
        details.update(_frame_facts(meta))
        details["detections"] = list(_detections_of(meta, meta_path, warnings))
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


# -- size (--mask-scale) ------------------------------------------------------------
def _fit_size(values: np.ndarray, path: Path, image_size: tuple[int, int] | None,
              meta: Mapping[str, Any] | None, meta_path: Path | None,
              warnings: list[str]) -> tuple[np.ndarray, dict[str, Any]]:
    """Upscale a ``--mask-scale`` mask to the image size; refuse sizes that cannot be."""
    details: dict[str, Any] = {}
    json_size = _size_of(meta, meta_path, warnings) if meta is not None else None
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


def _size_of(meta: Mapping[str, Any], meta_path: Path | None,
             warnings: list[str]) -> tuple[int, int] | None:
    size = meta.get("size")
    if size is None:
        return None
    if (isinstance(size, list) and len(size) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)):
        return size[0], size[1]
    name = meta_path.name if meta_path else "the metadata"
    warnings.append(f"{name}: 'size' {size!r} is not [width, height]; ignored")
    return None


# -- metadata JSON ----------------------------------------------------------------
def _metadata_for(mask_path: Path, warnings: list[str]) -> tuple[dict | None, Path | None]:
    """Load ``image-name.json`` beside a mask; a damaged one only warns."""
    meta_path = metadata_beside(mask_path)
    if meta_path is None:
        return None, None
    try:
        data = load_json(meta_path)
    except ReadError as exc:
        warnings.append(f"the metadata beside the mask was not used: {exc}")
        return None, None
    if not isinstance(data, dict) or _is_chunk(data):
        warnings.append(f"{meta_path.name} is not per-image Celantur metadata; not used")
        return None, None
    return data, meta_path


def _frame_facts(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The image/frame-level keys other than detections, under ``details["celantur"]``."""
    keys = ("id", "size", "duration", "filename", "folder")
    return {"celantur": {k: meta[k] for k in keys if k in meta}}


def _detections_of(meta: Mapping[str, Any], meta_path: Path | None,
                   warnings: list[str]) -> Iterable[dict[str, Any]]:
    detections = meta.get("detections", [])
    name = meta_path.name if meta_path else "the metadata"
    if not isinstance(detections, list):
        warnings.append(f"{name}: 'detections' is not a list; ignored")
        return []
    bad = sum(not isinstance(d, dict) for d in detections)
    if bad:
        warnings.append(f"{name}: {bad} detections are not JSON objects; ignored")
    return [d for d in detections if isinstance(d, dict)]


def detection_attributes(det: Mapping[str, Any]) -> dict[str, Any]:
    """Return a detection's fields as segment attributes (only the keys present).

    ``bbox`` is stored as ``bbox_xyxy`` (a segment's own ``bbox`` is in row,
    column order) and both spellings of ``is_anonymized`` as ``is_anonymized``.
    """
    out: dict[str, Any] = {}
    renames = {"id": "detection_id", "bbox": "bbox_xyxy"}
    for key in ("id", "parent_image", "offset", "bbox", "type", "type_label", "color"):
        if key in det:
            out[renames.get(key, key)] = det[key]
    for key in ("is_anonymized", "is_anonymised"):
        if key in det:
            out["is_anonymized"] = det[key]
            break
    return out


def _box_of(det: Mapping[str, Any]) -> tuple[float, float, float, float] | None:
    box = det.get("bbox")
    if not (isinstance(box, list) and len(box) == 4):
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in box):
        return None
    x1, y1, x2, y2 = (float(v) for v in box)
    return (x1, y1, x2, y2) if x2 >= x1 and y2 >= y1 else None


def _score_of(det: Mapping[str, Any]) -> float | None:
    score = det.get("score")
    ok = isinstance(score, int | float) and not isinstance(score, bool)
    return float(score) if ok else None


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _attach(seg: Segmentation, meta: Mapping[str, Any], meta_path: Path, match_iou: float,
            details: dict[str, Any], warnings: list[str]) -> None:
    """Put matching detections' score and fields on segments (see the module docstring)."""
    detections = list(_detections_of(meta, meta_path, warnings))
    details["metadata"] = str(meta_path)
    details.update(_frame_facts(meta))
    details["detections"] = detections
    pairs = _match(seg, detections, match_iou)
    changes = {}
    for index, (seg_id, iou) in pairs.items():
        det = detections[index]
        attributes = {**seg.table[seg_id].attributes, **detection_attributes(det),
                      "match_iou": round(iou, 3)}
        changes[seg_id] = {"score": _score_of(det), "attributes": attributes}
    if changes:
        seg.table.update_many(changes)
    unmatched = [d.get("id", i) for i, d in enumerate(detections) if i not in pairs]
    if unmatched:
        details["unmatched_detections"] = unmatched
        warnings.append(f"{len(unmatched)} of {len(detections)} detections in {meta_path.name} "
                        f"match no mask segment of their type with box overlap >= {match_iou}; "
                        "they are kept in the provenance details")


def _match(seg: Segmentation, detections: list[dict[str, Any]],
           min_iou: float) -> dict[int, tuple[int, float]]:
    """Greedy best-overlap matching: {detection index: (segment id, iou)}."""
    by_type: dict[int, list[Segment]] = {}
    for s in seg.table:
        if s.class_id in TYPES and s.bbox is not None and not s.attributes.get("unknown_color"):
            by_type.setdefault(s.class_id, []).append(s)
    candidates = []
    for index, det in enumerate(detections):
        box, code = _box_of(det), type_code(det.get("type_label"))
        for s in by_type.get(code, []) if box is not None else []:
            r0, c0, r1, c1 = s.bbox
            iou = _iou(box, (c0, r0, c1, r1))
            if iou >= min_iou:
                candidates.append((iou, index, s.id))
    pairs: dict[int, tuple[int, float]] = {}
    used: set[int] = set()
    for iou, index, seg_id in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        if index not in pairs and seg_id not in used:
            pairs[index] = (seg_id, iou)
            used.add(seg_id)
    return pairs


# -- reading metadata JSON on its own (images and video chunks) -------------------
def read_metadata(path: str | Path, *, item: str | None = None,
                  image_size: tuple[int, int] | None = None, **options) -> Segmentation:
    """Read ``image-name.json`` or a video chunk ``name-START-END.json``.

    A per-image file with its mask beside it reads that mask (instance first)
    with the metadata attached; otherwise, and for video frames, each detection
    becomes a box segment. ``item`` is a frame id of a video chunk (default:
    the first frame).

    Raises
    ------
    ReadError
        Syntax errors (line and column), a chunk that breaks the 500-frame or
        START..END rules, an unknown frame, or no size to draw boxes in.
    """
    path = Path(path)
    data = load_json(path)
    if _is_chunk(data):
        frame_id, frame = _pick_frame(chunk_frames(path, data), item, path)
        return _boxes(path, frame, image_size, {"frame": frame_id})
    if not isinstance(data, dict):
        raise ReadError(f"expected Celantur metadata (a JSON object), found "
                        f"{type(data).__name__}", path)
    if item is not None and str(item) != str(data.get("id", item)):
        raise ReadError(f"holds one image ({data.get('id')!r}), not {item!r}", path)
    beside = _mask_beside(path)
    if beside is not None:
        reader = read_instance if beside[1] else read_binary
        return reader(beside[0], image_size=image_size, **options)
    return _boxes(path, data, image_size, {})


def items(path: str | Path) -> list[str]:
    """Return the frame ids of a video chunk; [] for per-image metadata."""
    path = Path(path)
    data = load_json(path)
    if not _is_chunk(data):
        return []
    return [str(frame_id) for frame_id, _frame in chunk_frames(path, data)]


def _is_chunk(data: Any) -> bool:
    if isinstance(data, dict):
        return isinstance(data.get("frames"), list)
    return isinstance(data, list)


def chunk_frames(path: Path, data: Any) -> list[tuple[int, dict[str, Any]]]:
    """Return ``[(frame id, frame)]`` of a video chunk, checked.

    Raises
    ------
    ReadError
        More than 500 frames, a file-name range wider than 500 frames or
        reversed, a frame that is not an object, a frame id that is not an
        integer, repeats, or lies outside START..END of the file name.
    """
    frames = data if isinstance(data, list) else data["frames"]
    if len(frames) > MAX_CHUNK_FRAMES:
        raise ReadError(f"holds {len(frames)} frames; Celantur video metadata has at most "
                        f"{MAX_CHUNK_FRAMES} per file", path)
    start, end = _chunk_range(path)
    out, seen = [], set()
    for position, frame in enumerate(frames):
        if not isinstance(frame, dict):
            raise ReadError(f"frame {position}: expected a JSON object, found "
                            f"{type(frame).__name__}", path)
        frame_id = _frame_id(frame, position, start, path)
        if end is not None and not start <= frame_id <= end:
            raise ReadError(f"frame {position} has id {frame_id}, outside {start}-{end} "
                            "given by the file name", path)
        if frame_id in seen:
            raise ReadError(f"frame id {frame_id} appears twice", path)
        seen.add(frame_id)
        out.append((frame_id, frame))
    return out


def _chunk_range(path: Path) -> tuple[int, int | None]:
    match = CHUNK_NAME.match(path.name)
    if match is None:
        return 0, None  # renamed file: no range to check against
    start, end = int(match["start"]), int(match["end"])
    if end < start:
        raise ReadError(f"the file name gives frames {start}-{end}, which run backwards", path)
    if end - start + 1 > MAX_CHUNK_FRAMES:
        raise ReadError(f"the file name gives frames {start}-{end} ({end - start + 1} frames); "
                        f"Celantur video metadata has at most {MAX_CHUNK_FRAMES} per file", path)
    return start, end


def _frame_id(frame: Mapping[str, Any], position: int, start: int, path: Path) -> int:
    if "id" not in frame:
        return start + position
    value = frame["id"]
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ReadError(f"frame {position}: id {value!r} is not a frame number", path)


def _pick_frame(frames: list[tuple[int, dict]], item: str | None,
                path: Path) -> tuple[int, dict]:
    if not frames:
        raise ReadError("holds no frames", path)
    if item is None:
        return frames[0]
    for frame_id, frame in frames:
        if str(frame_id) == str(item).strip():
            return frame_id, frame
    shown = ", ".join(str(f) for f, _ in frames[:5])
    raise ReadError(f"no frame {item!r} (it holds {len(frames)} frames: {shown}"
                    f"{', ...' if len(frames) > 5 else ''})", path)


def _boxes(path: Path, frame: Mapping[str, Any], image_size: tuple[int, int] | None,
           details: dict[str, Any]) -> Segmentation:
    """One rectangular segment per detection; smaller boxes drawn on top."""
    warnings: list[str] = []
    size = image_size if image_size is not None else _size_of(frame, path, warnings)
    if size is None:
        raise ReadError("the metadata gives no 'size' to draw its boxes in; pass the image "
                        "(image_size) or put the mask beside it", path)
    width, height = (int(v) for v in size)
    check_pixels(width, height, path)
    detections = list(_detections_of(frame, path, warnings))
    boxes = [(i, _pixel_box(_box_of(d), width, height)) for i, d in enumerate(detections)]
    skipped = [detections[i].get("id", i) for i, b in boxes if b is None]
    drawn = sorted(((i, b) for i, b in boxes if b is not None),
                   key=lambda ib: -(ib[1][2] - ib[1][0]) * (ib[1][3] - ib[1][1]))
    labels = np.zeros((height, width), dtype_for_max_id(len(detections)))
    rows = [Segment(0, label="background", class_id=0, visible=False)]
    for index, (x1, y1, x2, y2) in drawn:
        labels[y1:y2, x1:x2] = index + 1
        rows.append(_box_segment(index + 1, detections[index]))
    full = {index + 1: FullMask((y1, x1, y2, x2), np.ones((y2 - y1, x2 - x1), bool))
            for index, (x1, y1, x2, y2) in drawn}
    warnings.append("Celantur metadata holds boxes, not masks: each detection is shown as "
                    "its box")
    if skipped:
        warnings.append(f"{len(skipped)} detections have no usable bbox inside the image and "
                        f"are not drawn: {skipped[:10]}")
    details.update(_frame_facts(frame), detections=detections, warnings=warnings)
    seg = Segmentation(labels, SegmentTable(rows), kind=Kind.INSTANCE,
                       provenance=Provenance(str(path), METADATA, details))
    # Keep only the boxes that something covers: the rest are whole in the label map.
    seg.full_masks = {k: v for k, v in full.items() if seg.table[k].area != v.mask.size}
    return seg


def _pixel_box(box: tuple[float, ...] | None, width: int,
               height: int) -> tuple[int, int, int, int] | None:
    if box is None:
        return None
    x1, y1 = max(0, int(np.floor(box[0]))), max(0, int(np.floor(box[1])))
    x2, y2 = min(width, int(np.ceil(box[2]))), min(height, int(np.ceil(box[3])))
    return (x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None


def _box_segment(seg_id: int, det: Mapping[str, Any]) -> Segment:
    code = type_code(det.get("type_label"))
    label = TYPES[code] if code is not None else str(det.get("type_label") or "unknown")
    attributes = {**detection_attributes(det), "from_box": True}
    return Segment(seg_id, label=label, class_id=code, color=stable_color(seg_id),
                   score=_score_of(det), attributes=attributes)


# -- writing --------------------------------------------------------------------------
@dataclass
class _Plan:
    """How segments become Celantur colours, and what cannot be kept."""

    colours: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    types: dict[int, int] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)


def _is_background(s: Segment) -> bool:
    if s.value == (0, 0, 0) or s.label.lower() in BACKGROUND_NAMES:
        return True
    return s.value == 0 and s.label == ""


def _segment_type(s: Segment) -> int | None:
    code = type_code(s.label)
    if code is not None:
        return code
    value = s.value
    if not s.label and isinstance(value, tuple) and len(value) == 3 and value[2] == 0 \
            and value[0] in TYPES:
        return value[0]
    return s.class_id if not s.label and s.class_id in TYPES else None


def _preferred_key(s: Segment, code: int) -> int | None:
    value = s.value
    if isinstance(value, tuple) and len(value) == 3 and value[0] == code and value[2] == 0:
        return value[1]
    instance = s.instance
    return instance if isinstance(instance, int) and 0 <= instance < KEYS_PER_TYPE else None


def _assign_keys(segments: list[Segment], code: int) -> tuple[dict[int, int], int]:
    """G key per segment id: its own key when free, else the next free one.

    Returns the keys and how many segments had to share a key (beyond 256).
    """
    keys: dict[int, int] = {}
    pending = []
    for s in segments:
        key = _preferred_key(s, code)
        if key is not None and key not in keys.values():
            keys[s.id] = key
        else:
            pending.append(s)
    used = set(keys.values())
    free = iter([k for k in (*range(1, KEYS_PER_TYPE), 0) if k not in used])
    overflow = 0
    for s in pending:
        key = next(free, None)
        if key is None:
            overflow += 1
            key = max(used | set(keys.values()))  # merged into an existing instance
        keys[s.id] = key
    return keys, overflow


def _instance_plan(seg: Segmentation) -> _Plan:
    plan = _Plan()
    typed: dict[int, list[Segment]] = {code: [] for code in TYPES}
    others, voids, renamed = [], [], []
    for s in seg.table:
        if s.area == 0:
            continue
        code = _segment_type(s)
        if s.attributes.get("unknown_color") and isinstance(s.value, tuple):
            plan.colours[s.id] = tuple(s.value)  # an odd colour read from a file goes back as is
        elif _is_background(s) or (s.void and code is None):
            plan.colours[s.id] = (0, 0, 0)
            if s.void:
                voids.append(s.label or str(s.value))
        elif code is not None:
            typed[code].append(s)
            if s.label and s.label != TYPES[code]:
                renamed.append(f"{s.label!r} -> {TYPES[code]!r}")
        else:
            plan.colours[s.id] = (0, 0, 0)
            others.append(s.label or f"value {s.value}")
    for code, members in typed.items():
        keys, overflow = _assign_keys(members, code)
        for seg_id, key in keys.items():
            plan.colours[seg_id] = (code, key, 0)
            plan.types[seg_id] = code
        if overflow:
            plan.lost.append(f"{len(members)} {TYPES[code]} instances are more than the "
                             f"{KEYS_PER_TYPE} G keys of a type: {overflow} are merged into "
                             "another instance")
    plan.lost[:0] = _plan_sentences(sorted(set(others)), voids, renamed)
    return plan


def _plan_sentences(others: list[str], voids: list[str], renamed: list[str]) -> list[str]:
    out = []
    if others:
        out.append(f"{len(others)} classes beyond the 4 Celantur types (license plate, "
                   f"person, face, vehicle) are written as background: {', '.join(others)}")
    if voids:
        out.append(f"void segments are written as background: {', '.join(sorted(set(voids)))}")
    if renamed:
        out.append(f"labels become Celantur type names: {', '.join(renamed)}")
    return out


def instance_losses(seg: Segmentation) -> list[str]:
    """Return what writing ``seg`` as a Celantur instance mask would lose."""
    return list(_instance_plan(seg).lost)


def _paint(labels: np.ndarray, colours: Mapping[int, tuple[int, int, int]]) -> np.ndarray:
    """RGB image of the label map, every id painted its colour (unlisted ids black)."""
    ids = np.array(sorted(colours), np.int64)
    table = np.array([colours[i] for i in ids.tolist()], np.uint8).reshape(-1, 3)
    top = max(int(labels.max(initial=0)), int(ids[-1]) if ids.size else 0)
    if top < (1 << 20):
        lut = np.zeros((top + 1, 3), np.uint8)
        lut[ids] = table
        return lut[labels]
    # Huge ids (uint32 maps): look each pixel up among the listed ids instead.
    flat = labels.reshape(-1).astype(np.int64)
    where = np.clip(np.searchsorted(ids, flat), 0, max(ids.size - 1, 0))
    rgb = np.zeros((flat.size, 3), np.uint8)
    if ids.size:
        hit = ids[where] == flat
        rgb[hit] = table[where[hit]]
    return rgb.reshape(*labels.shape, 3)


def write_instance(seg: Segmentation, path: str | Path, *, metadata: bool = True,
                   image_name: str | None = None, **_options) -> list[Path]:
    """Write ``image-name_ins_maks.png`` and ``image-name.json``.

    Parameters
    ----------
    path : str or Path
        Kept when it already ends in ``_ins_maks.png`` or ``_ins_mask.png``;
        otherwise ``<stem>_ins_maks.png`` (the name Celantur writes) beside it.
    metadata : bool
        Also write the per-image JSON (default True).
    image_name : str, optional
        The photo's file name for ``id``/``filename``/``parent_image``; default
        the one read from Celantur metadata, else the image stem.
    """
    mask_path = _target(Path(path), INSTANCE_SUFFIXES)
    plan = _instance_plan(seg)
    files = [write_png(mask_path, _paint(seg.labels, plan.colours))]
    if metadata:
        json_path = mask_path.with_name(image_stem(mask_path) + ".json")
        name = image_name or _known_image_name(seg) or image_stem(mask_path)
        files.append(dump_json(json_path, _image_metadata(seg, plan, name)))
    return files


def _target(path: Path, suffixes: tuple[str, ...]) -> Path:
    if path.name.lower().endswith(suffixes):
        return path
    stem = path.stem if path.suffix.lower() in (".png", ".json") else path.name
    if not stem:
        raise WriteError("needs a file name", path)
    return path.with_name(stem + suffixes[0])


def _known_image_name(seg: Segmentation) -> str | None:
    facts = seg.provenance.details.get("celantur", {}) if seg.provenance.format in (
        INSTANCE, BINARY, METADATA) else {}
    name = facts.get("filename") or facts.get("id")
    return name if isinstance(name, str) and name else None


def _image_metadata(seg: Segmentation, plan: _Plan, image_name: str) -> dict[str, Any]:
    facts = seg.provenance.details.get("celantur", {}) if seg.provenance.format in (
        INSTANCE, BINARY, METADATA) else {}
    detections = [_detection_of(seg.table[i], code, image_name)
                  for i, code in sorted(plan.types.items())]
    detections += _unmatched_read(seg)
    taken = {d["id"] for d in detections if isinstance(d.get("id"), int)}
    next_id = max(taken, default=-1) + 1
    for det in detections:
        if det["id"] is None:
            det["id"], next_id = next_id, next_id + 1
    return {"id": image_name, "detections": detections, "size": [seg.width, seg.height],
            "duration": facts.get("duration"), "filename": image_name,
            "folder": facts.get("folder")}


def _unmatched_read(seg: Segmentation) -> list[dict[str, Any]]:
    """Detections read from Celantur metadata that matched no segment, to write them back."""
    details = seg.provenance.details
    if seg.provenance.format not in (INSTANCE, BINARY, METADATA):
        return []
    unmatched = details.get("unmatched_detections", [])
    out = []
    for index, det in enumerate(details.get("detections", [])):
        if det.get("id", index) in unmatched:
            det = dict(det)
            if "is_anonymised" in det:
                det.setdefault("is_anonymized", det.pop("is_anonymised"))
            out.append(det)
    return out


def _detection_of(s: Segment, code: int, image_name: str) -> dict[str, Any]:
    a = s.attributes
    r0, c0, r1, c1 = s.bbox
    bbox = a.get("bbox_xyxy") if a.get("bbox_xyxy") is not None else [c0, r0, c1, r1]
    # A detection read from Celantur keeps its offset; otherwise the attribute table's
    # meaning: the box's upper-left corner.
    offset = a.get("offset") if a.get("offset") is not None else [bbox[0], bbox[1]]
    return {
        "id": a.get("detection_id"),
        "parent_image": a.get("parent_image", image_name),
        "offset": offset,
        "bbox": bbox,
        "score": s.score,
        "is_anonymized": a.get("is_anonymized", True),
        "type_label": TYPES[code],
        "type": a.get("type"),
        "color": a.get("color"),
    }


def _binary_grey(s: Segment) -> int:
    if _is_background(s):
        return 0
    # An odd grey level read from a binary mask goes back as it was.
    odd = s.attributes.get("unknown_color") and isinstance(s.value, int) and 0 < s.value < 255
    return int(s.value) if odd else 255


def binary_losses(seg: Segmentation) -> list[str]:
    """Return what writing ``seg`` as a Celantur binary mask would lose."""
    foreground = [s for s in seg.table
                  if s.area and not _is_background(s) and _binary_grey(s) == 255]
    lost = []
    if len(foreground) > 1:
        shown = ", ".join(s.label or str(s.value) for s in foreground[:10])
        lost.append(f"{len(foreground)} segments become one white '{ANONYMISED}' region; "
                    f"classes and instances are lost: {shown}")
    renamed = [s for s in foreground if s.value != 255 or s.label not in ("", ANONYMISED)]
    if len(foreground) == 1 and renamed:
        s = renamed[0]
        lost.append(f"segment {s.label or s.value!r} (value {s.value}) is written as white "
                    f"(255) and reads back as {ANONYMISED!r}")
    return lost


def write_binary(seg: Segmentation, path: str | Path, **_options) -> list[Path]:
    """Write ``image-name_bin_mask.png``: background black (0), everything else white (255).

    ``path`` is kept when it ends in ``_bin_mask.png``; otherwise
    ``<stem>_bin_mask.png`` beside it.
    """
    mask_path = _target(Path(path), (BINARY_SUFFIX,))
    colours = {s.id: (_binary_grey(s),) * 3 for s in seg.table}
    grey = _paint(seg.labels, colours)[..., 0]
    return [write_png(mask_path, np.ascontiguousarray(grey))]


# -- sniffers ---------------------------------------------------------------------
def _is_png(path: Path) -> bool:
    try:
        with Image.open(path) as img:
            return img.format == "PNG"
    except OSError:
        return False


def sniff_instance(path: Path) -> bool:
    """True for PNGs named ``*_ins_maks.png`` or ``*_ins_mask.png``."""
    return path.name.lower().endswith(INSTANCE_SUFFIXES) and _is_png(path)


def sniff_binary(path: Path) -> bool:
    """True for PNGs named ``*_bin_mask.png``."""
    return path.name.lower().endswith(BINARY_SUFFIX) and _is_png(path)


def sniff_metadata(path: Path) -> bool:
    """True when the first 64 KiB of a JSON file look like Celantur metadata."""
    if path.name.lower().endswith(SIDECAR_SUFFIX):
        return False  # our own metadata may quote Celantur detections in its provenance
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF_BYTES).decode("utf-8", "ignore")
    except OSError:
        return False
    markers = ('"type_label"', '"parent_image"', '"duration"', '"is_anonymi')
    return '"detections"' in head and any(m in head for m in markers)


FORMATS = (
    FormatSpec(
        name=INSTANCE,
        title="Celantur instance mask (*_ins_maks.png, R = type, G = instance)",
        extensions=(".png",),
        read=read_instance,
        write=write_instance,
        sniff=sniff_instance,
        priority=30,
        notes="4 types (license plate 64, person 128, face 192, vehicle 255), 256 instances "
              "each; image-name.json beside adds scores and boxes",
        losses=instance_losses,
    ),
    FormatSpec(
        name=BINARY,
        title="Celantur binary mask (*_bin_mask.png)",
        extensions=(".png",),
        read=read_binary,
        write=write_binary,
        sniff=sniff_binary,
        priority=30,
        notes="black background, white anonymised; one class, no instances",
        losses=binary_losses,
    ),
    FormatSpec(
        name=METADATA,
        title="Celantur metadata JSON (image-name.json, video name-START-END.json)",
        extensions=(".json",),
        read=read_metadata,
        sniff=sniff_metadata,
        priority=20,
        lossless=False,
        notes="reads the mask beside it, else the detection boxes; video chunks list frames",
        items=items,
    ),
)
