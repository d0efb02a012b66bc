"""COCO instance masks: annotation files and results files with RLE or polygons.

Two JSON layouts are read (``FORMATS.md`` 6.1):

- an *annotation file*: ``{"images": [...], "annotations": [...], "categories": [...]}``;
- a *results file*: a JSON list of ``{image_id, category_id, segmentation, score}``
  (no images, no categories; the image size is only inside each RLE).

``segmentation`` is compressed RLE (``counts`` a string), uncompressed RLE
(``counts`` a list, used for ``iscrowd`` ground truth) or polygons. RLE is
decoded exactly with pycocotools (column-major runs, ``size`` = [height, width]);
polygons are rasterised by pycocotools, which is lossy (sub-pixel), and the
reader says so in its warnings.

Every annotation of the chosen image becomes one segment (kind instance); pixels
no annotation covers are segment 0, ``background``. COCO instances may overlap
but a label map holds one id per pixel, so instances are painted in a z-order
(read option ``z_order``):

- ``"score"``: ascending score, so the most confident detection is on top
  (default for files whose annotations all have a score, i.e. results files);
- ``"area"``: descending area, so small objects stay visible on large ones
  (default for annotation files);
- ``"file"``: file order, later on top.

Ties keep file order. The complete mask of every instance that lost pixels is
kept in ``Segmentation.full_masks`` and the reader warns with the number of
covered pixels: nothing is flattened away. The writer writes an annotation file
with compressed RLE from ``seg.mask_of(id)``, so overlaps come back exactly.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from viewer.core import safe_input, stats
from viewer.core.budget import MAX_SEGMENTS, check_count
from viewer.core.errors import ReadError, WriteError
from viewer.core.formats.base import FormatSpec
from viewer.core.formats.common import (
    check_pixels,
    dump_json,
    fit_to_image,
    load_json,
    upscale_nearest,
)
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

NAME = "coco-rle"
Z_ORDERS = ("auto", "score", "area", "file")
# Annotation keys the reader interprets; any other key is kept as a segment attribute.
COCO_KEYS = frozenset({"id", "image_id", "category_id", "segmentation", "area", "bbox",
                       "iscrowd", "score", "segview_value"})
#: Our annotation key for the segment's value when it is not its place in the file
#: (person 15 of a class map is annotation 1): our metadata sidecar matches segments
#: by value, so without it the sidecar's colours would land on no segment. COCO
#: tools ignore keys they do not know.
VALUE_KEY = "segview_value"
# Segment attributes the reader sets from COCO keys; the writer never copies them as extras.
OWN_ATTRIBUTES = frozenset({"annotation_id", "image_id", "iscrowd", "bbox", "segmentation"})
# How far a sniffer reads into a JSON file before it gives up (annotation files put
# the images list first, which can be megabytes long).
SNIFF_BYTES = 64 << 20
# Complete masks of covered instances up to this many pixels are kept as pixels;
# larger ones as their runs, decoded when used.
DENSE_FULL_MASK = 1 << 20
# Masks of up to this many runs are decoded a slice per run, larger ones in one pass.
SLICE_RUNS = 4096
# Polygon vertices may lie at most this many image sizes away from the origin.
POLYGON_REACH = 4


# -- reading ----------------------------------------------------------------------
def read(path: str | Path, *, item: str | None = None, z_order: str = "auto",
         names: dict[int, str] | None = None, image_size: tuple[int, int] | None = None,
         **_options: Any) -> Segmentation:
    """Read the instances of one image of a COCO annotation or results file.

    Parameters
    ----------
    path : str or Path
    item : str, optional
        The image: its ``file_name`` (or base name) or its id as text; see
        :func:`items`. Default: the first image.
    z_order : {"auto", "score", "area", "file"}
        Which instance is on top where instances overlap (module docstring).
    names : mapping of category id to name, optional
        Overrides the category names of the file.
    image_size : (width, height), optional
        The photo's size: needed for polygons when the file gives no size; a
        smaller mask of the same aspect ratio is upscaled (nearest neighbour).

    Raises
    ------
    ReadError
        Bad JSON, an unknown item, an RLE whose size does not match the image,
        malformed RLE counts or polygons.
    """
    path = Path(path)
    if z_order not in Z_ORDERS:
        raise ReadError(f"z_order must be one of {', '.join(Z_ORDERS)}, not {z_order!r}", path)
    data = load_json(path)
    layout = _layout(data, path)
    image = _pick_image(data, layout, item, path)
    anns = [a for a in _annotations(data, layout, path) if _same_id(a.get("image_id"), image["id"])]
    check_count(len(anns), MAX_SEGMENTS, f"annotations for image {_item_name(image)!r}", path)
    height, width = _image_shape(image, anns, image_size, path)
    messages: list[str] = []
    decoded = [_decode(ann, index, height, width, path, messages) for index, ann in enumerate(anns)]
    policy = _policy(anns, z_order)
    labels, full_masks, covered = _paint(decoded, _z_order(anns, decoded, policy), height, width)
    categories = _categories(data, layout, path)
    table = SegmentTable(_segments(anns, categories, names or {}, labels))
    details = _details(layout, image, categories, anns, policy)
    polygons = sum(1 for d in decoded if d.kind == "polygon")
    if polygons:
        messages.append(f"{_count(polygons, 'polygon annotation')} rasterised by pycocotools "
                        "(lossy: sub-pixel outlines become whole pixels)")
    seg = Segmentation(labels, table, kind=Kind.INSTANCE, full_masks=full_masks,
                       provenance=Provenance(str(path), NAME, details))
    if covered:
        messages.append(f"{_count(len(full_masks), 'instance')} partly or wholly covered by "
                        f"others ({covered:,} pixels); their complete masks are kept (z-order: "
                        f"{details['z_order']})")
    details["covered_pixels"] = covered
    details["warnings"] = messages
    if image_size is not None:
        seg = _fit(seg, image_size, path)
    return seg


def items(path: str | Path) -> list[str]:
    """Return the images of a COCO file: ``file_name`` when known, else the image id as text.

    Annotation files list their ``images`` in file order (plus ids that only
    annotations mention); results files list image ids in order of first appearance.
    """
    path = Path(path)
    data = load_json(path)
    layout = _layout(data, path)
    return [_item_name(image) for image in _images(data, layout, path)]


def _layout(data: Any, path: Path) -> str:
    """Return ``"results"`` for a JSON list, ``"instances"`` for a COCO dict."""
    if isinstance(data, list):
        return "results"
    if isinstance(data, dict) and isinstance(data.get("annotations"), list):
        if data["annotations"] and isinstance(data["annotations"][0], dict) \
                and "segments_info" in data["annotations"][0]:
            raise ReadError("this is a COCO panoptic file (annotations have segments_info); "
                            "read it with the coco-panoptic format", path)
        return "instances"
    raise ReadError("not a COCO file: expected a list of results or an object with "
                    "'annotations'", path)


def _annotations(data: Any, layout: str, path: Path) -> list[dict]:
    anns = data if layout == "results" else data["annotations"]
    for index, ann in enumerate(anns):
        if not isinstance(ann, dict):
            raise ReadError(f"annotation {index} should be an object, found "
                            f"{type(ann).__name__}", path)
        if "image_id" not in ann:
            raise ReadError(f"annotation {index} has no 'image_id'", path)
        if not isinstance(ann["image_id"], int | str) or isinstance(ann["image_id"], bool):
            raise ReadError(f"annotation {ann.get('id', index)}: 'image_id' should be an "
                            f"integer or a string, found {type(ann['image_id']).__name__}", path)
        category = ann.get("category_id")
        if category is not None and (not isinstance(category, int) or isinstance(category, bool)):
            raise ReadError(f"annotation {ann.get('id', index)}: 'category_id' should be an "
                            f"integer, found {type(category).__name__} {category!r:.40}", path)
    return anns


def _images(data: Any, layout: str, path: Path) -> list[dict]:
    """Image records in file order; ids only annotations mention get a bare record."""
    records: list[dict] = []
    seen: set[str] = set()
    if layout == "instances":
        for index, image in enumerate(_list_of(data, "images", path)):
            if not isinstance(image, dict) or "id" not in image:
                raise ReadError(f"images[{index}] is not an object with an 'id'", path)
            if not isinstance(image["id"], int | str) or isinstance(image["id"], bool):
                raise ReadError(f"images[{index}]: 'id' should be an integer or a string, "
                                f"found {type(image['id']).__name__}", path)
            records.append(image)
            seen.add(_key(image["id"]))
    for ann in _annotations(data, layout, path):
        if _key(ann["image_id"]) not in seen:
            seen.add(_key(ann["image_id"]))
            records.append({"id": ann["image_id"]})
    return records


def _list_of(data: dict, key: str, path: Path) -> list:
    """``data[key]`` as a list; absent or null is empty."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ReadError(f"{key!r} should be a list, found {type(value).__name__}", path)
    return value


def _pick_image(data: Any, layout: str, item: str | None, path: Path) -> dict:
    images = _images(data, layout, path)
    if not images:
        raise ReadError("holds no images and no annotations", path)
    if item is None:
        return images[0]
    for image in images:
        name = image.get("file_name")
        if item in (_key(image["id"]), name) or (isinstance(name, str) and Path(name).name == item):
            return image
    listed = ", ".join(_item_name(i) for i in images[:5])
    more = f" and {len(images) - 5} more" if len(images) > 5 else ""
    raise ReadError(f"no image {item!r} in this file (it has {listed}{more})", path)


def _item_name(image: dict) -> str:
    name = image.get("file_name")
    return name if isinstance(name, str) and name else _key(image["id"])


def _key(image_id: Any) -> str:
    return str(image_id)


def _same_id(a: Any, b: Any) -> bool:
    return _key(a) == _key(b)


def _image_shape(image: dict, anns: list[dict], image_size: tuple[int, int] | None,
                 path: Path) -> tuple[int, int]:
    """``(height, width)`` from the image record, else the first RLE, else ``image_size``."""
    for key in ("width", "height"):
        value = image.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ReadError(f"image {image['id']}: {key!r} should be a whole number of pixels, "
                            f"found {value!r}", path)
    if isinstance(image.get("width"), int) and isinstance(image.get("height"), int):
        height, width = image["height"], image["width"]
    else:
        sizes = [a["segmentation"].get("size") for a in anns
                 if isinstance(a.get("segmentation"), dict)]
        if sizes:
            height, width = _rle_size(sizes[0], path, f"image {image['id']}")
        elif image_size is not None:
            width, height = int(image_size[0]), int(image_size[1])
        else:
            raise ReadError(f"image {image['id']}: the file gives no image size (polygons only); "
                            "pass image_size=(width, height)", path)
    check_pixels(width, height, path)
    return height, width


def _rle_size(size: Any, path: Path, where: str) -> tuple[int, int]:
    if (not isinstance(size, list) or len(size) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)):
        raise ReadError(f"{where}: RLE 'size' should be [height, width], found {size!r}", path)
    return size[0], size[1]


# -- decoding one annotation --------------------------------------------------------
class Decoded:
    """One annotation's mask as the runs of its RLE, with its box and area.

    The pixels are never laid out as a full image: a file of 20,000 one-pixel
    instances, or 300 full-image ones on 4000 x 4000, would need one full image
    each. Painting writes the runs straight into the label map, and
    :meth:`crop` makes the pixels of the box only when they are needed.

    Attributes
    ----------
    bbox : tuple of 4 int
        ``(row0, col0, row1, col1)``, half-open; empty masks have an empty box.
    area : int
    kind : str
        ``"rle"``, ``"uncompressed rle"``, ``"polygon"`` or ``"empty"``.
    starts, ends : ndarray of int64
        Foreground runs ``[start, end)`` over the column-major pixels.
    """

    __slots__ = ("bbox", "area", "kind", "starts", "ends", "height")

    def __init__(self, runs: np.ndarray, height: int, kind: str):
        offsets = np.cumsum(runs)
        starts, ends = (offsets - runs)[1::2], offsets[1::2]
        keep = ends > starts
        self.starts, self.ends = starts[keep], ends[keep]
        self.height, self.kind = height, kind
        self.area = int((self.ends - self.starts).sum())
        if not self.area:
            self.bbox = (0, 0, 0, 0)
            return
        first_col, last_col = self.starts // height, (self.ends - 1) // height
        # A run within one column spans its rows; one that wraps spans them all.
        one = first_col == last_col
        top = np.where(one, self.starts % height, 0)
        bottom = np.where(one, (self.ends - 1) % height, height - 1)
        self.bbox = (int(top.min()), int(first_col.min()), int(bottom.max()) + 1,
                     int(last_col.max()) + 1)

    def crop(self) -> np.ndarray:
        """The bool pixels of the box, shape ``(row1 - row0, col1 - col0)``."""
        r0, c0, r1, c1 = self.bbox
        base, length = c0 * self.height, (c1 - c0) * self.height
        if self.starts.size <= SLICE_RUNS:  # a slice each: memset speed
            band = np.zeros(length, np.uint8)
            for start, end in zip((self.starts - base).tolist(), (self.ends - base).tolist(),
                                  strict=True):
                band[start:end] = 1
        else:  # many short runs (a crowd region): +1 where a run starts, -1 where it ends
            step = np.zeros(length + 1, np.int8)
            step[self.starts - base] += 1
            step[self.ends - base] -= 1
            band = np.cumsum(step[:-1], dtype=np.int8).view(np.uint8)
        # cv2 transposes 5-10x faster than numpy's strided copy.
        rows = cv2.transpose(band.reshape(c1 - c0, self.height))
        return np.ascontiguousarray(rows[r0:r1]).view(bool)

    def full_mask(self) -> FullMask:
        """The complete mask to keep: pixels when small, else decoded on demand."""
        r0, c0, r1, c1 = self.bbox
        if (r1 - r0) * (c1 - c0) <= DENSE_FULL_MASK:
            return FullMask(self.bbox, self.crop())
        return FullMask.lazy(self.bbox, self.crop, area=self.area)


def _decode(ann: dict, index: int, height: int, width: int, path: Path,
            messages: list[str]) -> Decoded:
    where = f"annotation {ann.get('id', index)} (image {ann['image_id']})"
    segm = ann.get("segmentation")
    if isinstance(segm, dict):
        size = _rle_size(segm.get("size"), path, where)
        if size != (height, width):
            raise ReadError(f"{where}: RLE size [{size[0]}, {size[1]}] (height, width) does not "
                            f"match the image, {width}x{height}", path)
        counts = segm.get("counts")
        kind = "rle" if isinstance(counts, str) else "uncompressed rle"
        return Decoded(_valid_counts(counts, height, width, path, where), height, kind)
    if isinstance(segm, list):
        if not segm:
            messages.append(f"{where} has an empty segmentation; kept as an empty segment")
            return Decoded(np.array([height * width], np.int64), height, "empty")
        return Decoded(_polygons(segm, height, width, path, where), height, "polygon")
    raise ReadError(f"{where}: 'segmentation' should be RLE or polygons, found "
                    f"{type(segm).__name__}", path)


def _valid_counts(counts: Any, height: int, width: int, path: Path, where: str) -> np.ndarray:
    """Return the run lengths of RLE counts, checked.

    pycocotools does not check that the runs add up to the image: short counts
    decode to uninitialised memory, and counts beyond 2^32 wrap. So the runs
    must be integers in 0..height x width and sum to height x width.
    """
    if isinstance(counts, str):
        try:
            runs = rle_string_counts(counts)
        except ValueError as exc:
            raise ReadError(f"{where}: RLE counts string is not valid ({exc})", path) from None
    elif isinstance(counts, list):
        if not all(isinstance(c, int) and not isinstance(c, bool) for c in counts):
            raise ReadError(f"{where}: uncompressed RLE counts must be integers", path)
        if counts and min(counts) < 0:
            raise ReadError(f"{where}: RLE has a negative run length", path)
        # Before numpy sees them: a count of 2^64 overflows int64, 2^32 wraps in pycocotools.
        if counts and max(counts) > height * width:
            raise ReadError(f"{where}: RLE has a run length of {max(counts):,}, more than the "
                            f"{height * width:,} pixels of its size", path)
        runs = np.asarray(counts, np.int64) if counts else np.zeros(0, np.int64)
    else:
        raise ReadError(f"{where}: RLE 'counts' should be a string or a list of integers, "
                        f"found {type(counts).__name__}", path)
    if runs.size and runs.min() < 0:
        raise ReadError(f"{where}: RLE has a negative run length", path)
    total = int(runs.sum())
    if total != height * width:
        raise ReadError(f"{where}: RLE runs cover {total:,} pixels but its size has "
                        f"{height * width:,}", path)
    return runs


def rle_string_counts(counts: str) -> np.ndarray:
    """Decode a compressed COCO RLE string into its run lengths.

    The string is pycocotools' ``rleToString`` encoding: each number is a
    sequence of characters 48..111, 5 data bits each, low bits first, bit 0x20
    meaning "more characters follow" and bit 0x10 of the last one the sign;
    numbers from index 3 on are stored as the difference to the number two
    places before.

    Raises
    ------
    ValueError
        Characters outside 48..111 (or not ASCII), a string that ends inside a
        number, or a number of more than 7 characters (35 bits).
    """
    # Non-ASCII text raises UnicodeEncodeError, a ValueError.
    codes = np.frombuffer(counts.encode("ascii"), np.uint8).astype(np.int64) - 48
    if codes.size == 0:
        return np.zeros(0, np.int64)
    if codes.min() < 0 or codes.max() > 63:
        raise ValueError("characters outside '0'..'o'")
    more = (codes & 0x20) != 0
    if more[-1]:
        raise ValueError("it ends inside a number")
    ends = np.flatnonzero(~more)
    starts = np.concatenate(([0], ends[:-1] + 1))
    group = np.repeat(np.arange(ends.size), ends - starts + 1)
    position = np.arange(codes.size) - starts[group]
    if position.max() > 6:
        raise ValueError("a number longer than 7 characters")
    # Float weights are exact here: every term is below 2**35.
    values = np.bincount(group, weights=(codes & 0x1F) << (5 * position),
                         minlength=ends.size).astype(np.int64)
    negative = (codes[ends] & 0x10) != 0
    values[negative] -= np.left_shift(1, 5 * (position[ends][negative] + 1))
    runs = values.copy()
    runs[1::2] = np.cumsum(values[1::2])  # index 3 adds index 1, 5 adds 3, ...
    runs[2::2] = np.cumsum(values[2::2])  # index 4 adds index 2, ...; 0 stands alone
    return runs


def _polygons(polys: list, height: int, width: int, path: Path, where: str) -> np.ndarray:
    # pycocotools rasterises along every edge: a vertex at 1e308 (or NaN) would take all
    # memory, so coordinates must stay within a few image sizes of the image.
    reach = POLYGON_REACH * max(height, width)
    for poly in polys:
        if (not isinstance(poly, list) or len(poly) < 6 or len(poly) % 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in poly)):
            raise ReadError(f"{where}: a polygon should be a list of at least 3 x, y pairs", path)
        coords = np.asarray(poly, np.float64)
        if not np.all(np.isfinite(coords)) or np.abs(coords).max() > reach:
            raise ReadError(f"{where}: polygon coordinates are not finite or lie far outside "
                            f"the {width}x{height} image", path)
    try:
        rle = mask_utils.merge(mask_utils.frPyObjects(polys, height, width))
    except (ValueError, TypeError, OverflowError, IndexError) as exc:
        raise ReadError(f"{where}: polygons cannot be rasterised ({exc})", path) from None
    counts = rle["counts"]
    return rle_string_counts(counts.decode("ascii") if isinstance(counts, bytes) else counts)


# -- z-order and painting ------------------------------------------------------------
def _policy(anns: list[dict], z_order: str) -> str:
    """Resolve ``"auto"``: by score when every annotation has one, else by area."""
    if z_order != "auto":
        return z_order
    return "score" if anns and all(_score(a) is not None for a in anns) else "area"


def _z_order(anns: list[dict], decoded: list[Decoded], policy: str) -> list[int]:
    """Return annotation indices bottom first, so the last painted is on top."""
    indices = list(range(len(anns)))
    if policy == "score":
        return sorted(indices, key=lambda i: (_score(anns[i]) is not None, _score(anns[i]) or 0.0))
    if policy == "area":
        return sorted(indices, key=lambda i: -decoded[i].area)
    return indices


def _score(ann: dict) -> float | None:
    score = ann.get("score")
    if isinstance(score, (int, float)) and not isinstance(score, bool):
        return float(score)
    return None


def _paint(decoded: list[Decoded], order: list[int], height: int,
           width: int) -> tuple[np.ndarray, dict[int, FullMask], int]:
    """Paint instances (segment id = annotation index + 1) bottom first; keep covered ones whole.

    Returns the label map, the complete masks of the covered instances and the
    number of covered pixels.
    """
    # Runs are column-major: paint them into the transposed map, a slice each.
    transposed = np.zeros((width, height), dtype_for_max_id(len(decoded)))
    flat = transposed.reshape(-1)
    for index in order:
        d = decoded[index]
        for start, end in zip(d.starts.tolist(), d.ends.tolist(), strict=True):
            flat[start:end] = index + 1
    labels = np.ascontiguousarray(transposed.T)
    del transposed, flat
    # Every visible pixel of an instance is its own: it is covered where fewer show.
    visible = stats.areas(labels, len(decoded) + 1)
    full_masks, covered = {}, 0
    for index, d in enumerate(decoded):
        hidden = d.area - int(visible[index + 1])
        if d.area and hidden:
            full_masks[index + 1] = d.full_mask()
            covered += hidden
    return labels, full_masks, covered


# -- segment table ---------------------------------------------------------------------
def _categories(data: Any, layout: str, path: Path) -> dict[int, dict]:
    if layout == "results":
        return {}
    out = {}
    for index, cat in enumerate(_list_of(data, "categories", path)):
        if isinstance(cat, dict) and isinstance(cat.get("id"), int):
            out[cat["id"]] = cat
        else:
            raise ReadError(f"categories[{index}] is not an object with an integer 'id'", path)
    return out


def _segments(anns: list[dict], categories: dict[int, dict], names: dict[int, str],
              labels: np.ndarray) -> list[Segment]:
    rows = []
    if np.any(labels == 0):
        rows.append(Segment(0, label="background", color=(0, 0, 0), visible=False))
    counters: dict[Any, int] = {}
    for index, ann in enumerate(anns):
        cat = ann.get("category_id")
        counters[cat] = counters.get(cat, 0) + 1
        value = ann.get(VALUE_KEY)
        value = value if isinstance(value, int) and not isinstance(value, bool) \
            and value >= 0 and value != index + 1 else None
        rows.append(Segment(index + 1, label=_label(cat, categories, names), source_value=value,
                            class_id=cat if isinstance(cat, int) else None,
                            instance=counters[cat], color=stable_color(index + 1),
                            score=_score(ann), attributes=_attributes(ann)))
    return rows


def _label(cat: Any, categories: dict[int, dict], names: dict[int, str]) -> str:
    if cat in names:
        return names[cat]
    name = categories.get(cat, {}).get("name") if isinstance(cat, int) else None
    return name if isinstance(name, str) else f"category {cat}"


def _attributes(ann: dict) -> dict[str, Any]:
    segm = ann.get("segmentation")
    if isinstance(segm, dict):
        kind = "rle" if isinstance(segm.get("counts"), str) else "uncompressed rle"
    else:
        kind = "polygon"
    attrs = {"annotation_id": ann.get("id"), "image_id": ann["image_id"],
             "iscrowd": ann.get("iscrowd", 0), "bbox": ann.get("bbox"), "segmentation": kind}
    # Results files have no annotation id and no bbox: leave out what the file lacks.
    attrs = {k: v for k, v in attrs.items() if v is not None}
    attrs.update({k: v for k, v in ann.items() if k not in COCO_KEYS and k not in attrs})
    return attrs


def _details(layout: str, image: dict, categories: dict[int, dict], anns: list[dict],
             policy: str) -> dict[str, Any]:
    return {
        "layout": layout,
        "image": {k: image[k] for k in ("id", "file_name", "width", "height") if k in image},
        "categories": [categories[k] for k in sorted(categories)],
        "z_order": {"score": "ascending score, highest on top",
                    "area": "descending area, smallest on top",
                    "file": "file order, last on top"}[policy],
        "annotations": len(anns),
    }


def _fit(seg: Segmentation, image_size: tuple[int, int], path: Path) -> Segmentation:
    """Upscale to the photo's size like every reader, keeping the complete masks too."""
    fitted = fit_to_image(seg, image_size, path)
    if fitted is seg:
        return seg
    for seg_id, full in seg.full_masks.items():
        plane = np.zeros(seg.shape, np.uint8)
        r0, c0, r1, c1 = full.bbox
        plane[r0:r1, c0:c1] = full.mask
        big = upscale_nearest(plane, fitted.width, fitted.height)
        fitted.full_masks[seg_id] = Decoded(_runs_of(big), fitted.height, "rle").full_mask()
        del plane, big
    return fitted


def _runs_of(mask: np.ndarray) -> np.ndarray:
    """The RLE runs (zeros first, column-major) of a bool or 0/1 mask."""
    flat = np.asfortranarray(mask).reshape(-1, order="F").astype(bool)
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], edges, [flat.size]))
    runs = np.diff(bounds)
    return np.concatenate(([0], runs)) if flat.size and flat[0] else runs


# -- writing ---------------------------------------------------------------------------
def write(seg: Segmentation, path: str | Path, *, image_id: int | str | None = None,
          file_name: str | None = None, **_options: Any) -> list[Path]:
    """Write a COCO annotation file with one compressed-RLE annotation per segment.

    Masks come from ``seg.mask_of(id)``, so instances that overlap (the
    complete masks in ``seg.full_masks``) are written whole. Void segments and
    background segments (labelled like ``background``) are not instances and
    are skipped. ``area`` and ``bbox`` ([x, y, w, h]) are computed from the
    masks; ``category_id`` is the segment's ``class_id`` (a new category per
    label when it has none); ``id``, ``iscrowd``, ``score`` and extra
    attributes read from a COCO file are kept.

    Parameters
    ----------
    image_id : int or str, optional
        Default: the image the segmentation was read from, else 1.
    file_name : str, optional
        The image's ``file_name``; default: the one it was read with, if any.
    """
    path = Path(path)
    try:
        return [dump_json(path, coco_document(seg, image_id=image_id, file_name=file_name))]
    except (TypeError, ValueError) as exc:  # a score of NaN, an image id that is no JSON
        raise WriteError(f"cannot write as COCO: {exc}", path) from None


def coco_document(seg: Segmentation, *, image_id: int | str | None = None,
                  file_name: str | None = None) -> dict[str, Any]:
    """Return the COCO annotation file for ``seg`` as a JSON-ready dict."""
    image = _image_record(seg, image_id, file_name)
    categories, category_of = _write_categories(seg)
    used_ids: set[Any] = set()
    annotations = []
    values = seg.integer_values()
    for segment in instance_segments(seg):
        annotations.append(_annotation(seg, segment, image["id"], category_of[segment.id],
                                       used_ids))
        if values.get(segment.id, len(annotations)) != len(annotations):
            annotations[-1][VALUE_KEY] = values[segment.id]
    _renumber_missing(annotations, used_ids)
    return {"images": [image], "annotations": annotations,
            "categories": [categories[k] for k in sorted(categories)]}


def instance_segments(seg: Segmentation) -> list[Segment]:
    """The segments written as instances: everything but void and background.

    Background is a segment labelled like ``background``, or id 0 with neither
    label nor class (the unlabelled pixels of a label map).
    """
    return [s for s in seg.table if not s.void and not _is_background(s)]


def _is_background(s: Segment) -> bool:
    if s.label.lower() in BACKGROUND_NAMES:
        return True
    return s.id == 0 and not s.label and s.class_id is None


def _image_record(seg: Segmentation, image_id: Any, file_name: str | None) -> dict[str, Any]:
    read_image = seg.provenance.details.get("image") if seg.provenance.format == NAME else None
    read_image = read_image if isinstance(read_image, dict) else {}
    if image_id is None:
        image_id = read_image.get("id")
    if image_id is None:
        ids = {_key(s.attributes.get("image_id")) for s in seg.table
               if s.attributes.get("image_id") is not None}
        image_id = next(s.attributes["image_id"] for s in seg.table
                        if s.attributes.get("image_id") is not None) if len(ids) == 1 else 1
    record: dict[str, Any] = {"id": image_id}
    name = file_name if file_name is not None else read_image.get("file_name")
    if isinstance(name, str) and name:
        record["file_name"] = name
    record.update(width=seg.width, height=seg.height)
    return record


def known_categories(seg: Segmentation) -> tuple[dict[int, dict], dict[str, int]]:
    """The COCO categories a reader kept in the provenance, by id and by name."""
    categories: dict[int, dict] = {}
    for cat in seg.provenance.details.get("categories") or []:
        if isinstance(cat, dict) and isinstance(cat.get("id"), int):
            categories[cat["id"]] = dict(cat)
    return categories, {c.get("name"): k for k, c in categories.items()}


def _write_categories(seg: Segmentation) -> tuple[dict[int, dict], dict[int, int]]:
    """Categories to write, and the category id of every instance segment."""
    categories, by_name = known_categories(seg)
    category_of = {}
    for segment in instance_segments(seg):
        cid = segment.class_id
        if cid is None:
            cid = by_name.get(segment.label)
            if cid is None:
                cid = max([0, *categories]) + 1
        if cid not in categories:
            categories[cid] = {"id": cid, "name": segment.label or f"category {cid}",
                               "supercategory": ""}
            by_name.setdefault(categories[cid]["name"], cid)
        category_of[segment.id] = cid
    return categories, category_of


def _annotation(seg: Segmentation, segment: Segment, image_id: Any, category_id: int,
                used_ids: set[Any]) -> dict[str, Any]:
    mask = np.asfortranarray(seg.mask_of(segment.id).astype(np.uint8))
    rle = mask_utils.encode(mask)
    ann_id = segment.attributes.get("annotation_id")
    if not isinstance(ann_id, int) or isinstance(ann_id, bool) or ann_id in used_ids:
        ann_id = None
    else:
        used_ids.add(ann_id)
    iscrowd = segment.attributes.get("iscrowd", 0)
    ann: dict[str, Any] = {
        "id": ann_id,
        "image_id": image_id,
        "category_id": category_id,
        "segmentation": {"size": [seg.height, seg.width], "counts": rle["counts"].decode("ascii")},
        "area": int(mask_utils.area(rle)),
        "bbox": [float(v) for v in mask_utils.toBbox(rle)],
        "iscrowd": iscrowd if isinstance(iscrowd, int) else 0,
    }
    if segment.score is not None:
        ann["score"] = float(segment.score)
    ann.update(_extra_attributes(segment))
    return ann


def _extra_attributes(segment: Segment) -> dict[str, Any]:
    """Attributes that are not ours and survive JSON; they go back as annotation keys."""
    extra = {}
    for key, value in segment.attributes.items():
        if key in OWN_ATTRIBUTES or key in COCO_KEYS or not _json_ok(value):
            continue
        extra[key] = value
    return extra


def _json_ok(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def _renumber_missing(annotations: list[dict], used_ids: set[Any]) -> None:
    """Give annotations without a usable id the next free integers."""
    next_id = max([0, *(i for i in used_ids if isinstance(i, int))]) + 1
    for ann in annotations:
        if ann["id"] is None:
            ann["id"] = next_id
            next_id += 1


def losses(seg: Segmentation) -> list[str]:
    """What a COCO annotation file cannot hold of ``seg``.

    Nothing is lost of the masks (overlaps included). Reported: void segments
    (skipped), segments without a class id (given a category by label), two
    labels for one class id (a category has one name), and attributes that are
    not JSON.
    """
    out = []
    void = [s for s in seg.table if s.void]
    if void:
        out.append(f"{len(void)} void segments are not instances and are not written: "
                   + ", ".join(_describe(s) for s in void[:5]))
    segments = instance_segments(seg)
    no_class = [s for s in segments if s.class_id is None]
    if no_class:
        out.append(f"{len(no_class)} segments have no class id; each label becomes a category "
                   "with a new id")
    out.extend(_label_conflicts(seg, segments))
    odd = sorted({k for s in segments for k, v in s.attributes.items()
                  if k not in OWN_ATTRIBUTES and k not in COCO_KEYS and not _json_ok(v)})
    if odd:
        out.append(f"attributes that are not JSON are dropped: {', '.join(odd)}")
    return out


def _label_conflicts(seg: Segmentation, segments: Iterable[Segment]) -> list[str]:
    categories, _ = _write_categories(seg)
    out = []
    for s in segments:
        if s.class_id is None or s.class_id not in categories:
            continue
        name = categories[s.class_id].get("name")
        if s.label != name:
            out.append(f"segment {s.id} is labelled {s.label!r} but category {s.class_id} is "
                       f"named {name!r}; it reads back as {name!r}")
    return out[:10]


def _count(n: int, noun: str) -> str:
    """``"1 instance is"`` / ``"3 instances are"``."""
    return f"{n} {noun} is" if n == 1 else f"{n} {noun}s are"


def _describe(segment: Segment) -> str:
    return f"{segment.id} ({segment.label})" if segment.label else str(segment.id)


# -- sniffing ---------------------------------------------------------------------------
def first_token(path: Path, tokens: tuple[bytes, ...], limit: int = SNIFF_BYTES) -> bytes | None:
    """Return whichever of ``tokens`` occurs first in the file's first ``limit`` bytes.

    Reads in chunks, so a huge file whose answer is near the start costs little.
    """
    keep = max(len(t) for t in tokens) - 1
    tail = b""
    done = 0
    try:
        with safe_input.open_regular(path) as handle:
            while done < limit:
                chunk = handle.read(1 << 20)
                if not chunk:
                    return None
                window = tail + chunk
                hits = [(window.find(t), t) for t in tokens]
                hits = [h for h in hits if h[0] >= 0]
                if hits:
                    return min(hits)[1]
                tail = window[-keep:] if keep else b""
                done += len(chunk)
    except (OSError, ReadError):
        return None
    return None


def sniff(path: Path) -> bool:
    """True for JSON whose first annotation has a ``segmentation`` (not ``segments_info``)."""
    return first_token(path, (b'"segmentation"', b'"segments_info"')) == b'"segmentation"'


FORMAT = FormatSpec(
    name=NAME,
    title="COCO instances / results (RLE, uncompressed RLE, polygons)",
    extensions=(".json",),
    read=read,
    write=write,
    sniff=sniff,
    priority=20,
    notes="one segment per annotation; overlaps kept as complete masks; polygons rasterised "
          "(lossy); writes compressed RLE",
    losses=losses,
    items=items,
    overlaps=True,
)
FORMATS = (FORMAT,)
