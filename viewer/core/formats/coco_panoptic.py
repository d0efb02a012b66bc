"""COCO panoptic: an RGB PNG of segment ids plus the panoptic JSON.

Per image one RGB PNG where **id = R + 256 G + 256^2 B** and id 0 is VOID
(unlabelled), and one JSON for the whole set (``FORMATS.md`` 6.2)::

    images[]       {id, file_name, width, height}
    annotations[]  {image_id, file_name (the PNG), segments_info[{id, category_id,
                    area, bbox [x, y, w, h], iscrowd}]}
    categories[]   {id, name, supercategory, isthing, color}

Segment ids are large colour-like numbers (panopticapi's ``IdGenerator``), so
colours are ids, not categories: a segment's class always comes from
``segments_info``. Every id in the PNG becomes a segment whose
``source_value`` is the panoptic id (``to_values()`` restores it); ids missing
from ``segments_info`` are kept as ``unknown`` segments and reported.

Reading a PNG finds its JSON: the ``json=`` option, else a ``*.json`` beside the
PNG or one folder up (``annotations/panoptic_val2017.json`` beside the folder
``annotations/panoptic_val2017/``) whose annotations name the PNG. Reading the
JSON picks an image with ``item`` and finds the PNG in the folder named after the
JSON, or beside it.

The 2-channel variant of panopticapi (R = category id, G = instance id,
``pan = 1000 R + G``) is read with ``two_channel=True``; by default it is
recognised when the PNG's colours match none of the JSON's segment ids but its
R channel holds category ids.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from viewer.core import stats
from viewer.core import safe_input
from viewer.core.errors import ReadError, WriteError
from viewer.core.formats.base import FormatSpec
from viewer.core.formats.coco_rle import first_token, known_categories
from viewer.core.formats.common import (
    MAX_JSON_BYTES,
    dump_json,
    fit_to_image,
    load_json,
    open_raster,
    overlap_losses,
    resolve_reference,
    write_png,
)
from viewer.core.palettes import builtin_palette, stable_color
from viewer.core.segment_table import Segment
from viewer.core.segmentation import Kind, Provenance, Segmentation
from viewer.core.types import RGB

NAME = "coco-panoptic"
VOID = 0
MAX_ID = (1 << 24) - 1
TWO_CHANNEL_OFFSET = 1000
# segments_info keys the reader interprets; others are kept as segment attributes.
INFO_KEYS = frozenset({"id", "category_id", "area", "bbox", "iscrowd"})


def rgb2id(rgb: np.ndarray) -> np.ndarray:
    """Return the panoptic ids of an (H, W, 3) uint8 RGB array: R + 256 G + 256^2 B."""
    rgb = rgb.astype(np.uint32)
    return rgb[..., 0] + (rgb[..., 1] << 8) + (rgb[..., 2] << 16)


def id2rgb(ids: np.ndarray) -> np.ndarray:
    """Return the (H, W, 3) uint8 RGB encoding of panoptic ids (below 2^24)."""
    ids = np.asarray(ids, np.uint32)
    return np.stack([ids & 0xFF, (ids >> 8) & 0xFF, (ids >> 16) & 0xFF], axis=-1).astype(np.uint8)


# -- reading ----------------------------------------------------------------------
def read(path: str | Path, *, item: str | None = None, json: str | Path | None = None,
         two_channel: bool | None = None, names: dict[int, str] | None = None,
         image_size: tuple[int, int] | None = None, **_options: Any) -> Segmentation:
    """Read one panoptic image.

    Parameters
    ----------
    path : str or Path
        The panoptic PNG, or the panoptic JSON (then ``item`` picks the image).
    item : str, optional
        With a JSON: the PNG's file name, the image's file name or id, or the
        stem; default the first annotation. Not allowed with a PNG.
    json : str or Path, optional
        The panoptic JSON of a PNG; default: found beside it or one folder up.
    two_channel : bool, optional
        True: the PNG is panopticapi's 2-channel format (R = category, G =
        instance, value ``1000 R + G``). None (default): recognised
        automatically (module docstring). False: always R + 256 G + 256^2 B.
    names : mapping of panoptic id to name, optional
        Overrides the category names of those segments.
    image_size : (width, height), optional
        The photo's size; a smaller mask of the same aspect ratio is upscaled.

    Raises
    ------
    ReadError
        A broken PNG or JSON, a PNG that is not RGB, an unknown item, a file
        reference outside the JSON's folder.
    """
    path = Path(path)
    png, json_path, data, ann = _locate(path, item, json)
    rgb = _read_rgb(png)
    messages: list[str] = []
    info = _segments_info(ann, json_path) if ann is not None else {}
    categories = _categories(data, json_path)
    values = rgb2id(rgb)
    if two_channel is None:
        two_channel = _looks_two_channel(rgb, values, info, categories)
        if two_channel:
            messages.append("the PNG's colours match none of the JSON's segment ids but its R "
                            "channel holds category ids: read as panopticapi's 2-channel format "
                            "(R = category, G = instance); pass two_channel=False to refuse")
    void_values: tuple[int, ...] = (VOID,)
    if two_channel:
        values = rgb[..., 0].astype(np.uint32) * TWO_CHANNEL_OFFSET + rgb[..., 1]
        info = {}
        # Category 0 is VOID whatever its G: every value below 1000 is void.
        void_values = tuple(np.unique(values[values < TWO_CHANNEL_OFFSET]).tolist())
    describe = _describer(info, categories, two_channel, names or {})
    details = _details(png, json_path, data, ann, two_channel, categories)
    seg = Segmentation.from_values(values, kind=Kind.PANOPTIC, void_values=void_values,
                                   hidden_values=void_values, describe=describe,
                                   provenance=Provenance(str(path), NAME, details))
    messages.extend(_check(seg, info, ann, json_path, two_channel, data))
    details["warnings"] = messages
    if image_size is not None:
        seg = fit_to_image(seg, image_size, path)
    return seg


def items(path: str | Path) -> list[str]:
    """Return the PNG file names a panoptic JSON lists ([] for a PNG: it is one image)."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        return []
    data = load_json(path)
    return [a["file_name"] for a in _annotation_list(data, path)]


def _locate(path: Path, item: str | None, json_option: str | Path | None
            ) -> tuple[Path, Path | None, Any, dict | None]:
    """Return the PNG, the JSON (or None), its data and the PNG's annotation."""
    if path.suffix.lower() == ".json":
        data = load_json(path)
        ann = _pick_annotation(data, item, path)
        return _png_of(ann, path), path, data, ann
    if item is not None:
        raise ReadError(f"a panoptic PNG holds one image; item {item!r} applies to the JSON", path)
    json_path = Path(json_option) if json_option is not None else find_json(path)
    if json_path is None:
        return path, None, None, None
    data = load_json(json_path)
    return path, json_path, data, _annotation_named(data, path.name, json_path)


def _annotation_list(data: Any, json_path: Path) -> list[dict]:
    if not isinstance(data, dict) or not isinstance(data.get("annotations"), list):
        raise ReadError("not a COCO panoptic JSON: expected an object with 'annotations'",
                        json_path)
    anns = data["annotations"]
    for index, ann in enumerate(anns):
        if not isinstance(ann, dict) or not isinstance(ann.get("file_name"), str) \
                or not isinstance(ann.get("segments_info"), list):
            raise ReadError(f"annotations[{index}] should be an object with 'file_name' and "
                            "'segments_info' (is this a COCO instances file? use coco-rle)",
                            json_path)
    return anns


def _pick_annotation(data: Any, item: str | None, json_path: Path) -> dict:
    anns = _annotation_list(data, json_path)
    if not anns:
        raise ReadError("lists no annotations", json_path)
    if item is None:
        return anns[0]
    images = {str(i.get("id")): i for i in data.get("images") or [] if isinstance(i, dict)}
    for ann in anns:
        image_name = images.get(str(ann.get("image_id")), {}).get("file_name")
        keys = {ann["file_name"], Path(ann["file_name"]).name, Path(ann["file_name"]).stem,
                str(ann.get("image_id")), image_name}
        if item in keys:
            return ann
    listed = ", ".join(a["file_name"] for a in anns[:5])
    more = f" and {len(anns) - 5} more" if len(anns) > 5 else ""
    raise ReadError(f"no image {item!r} in this file (it has {listed}{more})", json_path)


def _annotation_named(data: Any, png_name: str, json_path: Path) -> dict:
    for ann in _annotation_list(data, json_path):
        if Path(ann["file_name"]).name == png_name:
            return ann
    raise ReadError(f"no annotation refers to {png_name}", json_path)


def _png_of(ann: dict, json_path: Path) -> Path:
    """The PNG of an annotation: in the folder named after the JSON, else beside it."""
    base = json_path.parent
    name = ann["file_name"]
    for ref in (f"{json_path.stem}/{name}", name):
        if safe_input.is_regular_file(base / ref):  # never raises on a NUL or over-long name
            return resolve_reference(ref, base, json_path)
    # Neither exists: let resolve_reference say why (outside the folder, or missing).
    return resolve_reference(name, base, json_path)


def find_json(png: Path) -> Path | None:
    """Find the panoptic JSON that names ``png``: beside it or one folder up.

    The JSON named after the PNG's folder comes first (panopticapi's layout),
    then the others in name order.
    """
    png = Path(png)
    preferred = png.parent.parent / f"{png.parent.name}.json"
    candidates = [preferred] if safe_input.is_regular_file(preferred) else []
    for folder in (png.parent, png.parent.parent):
        # Regular files only (a FIFO named *.json would block the read for ever), and a
        # bounded number: each is scanned whole, and a folder may hold thousands.
        found = sorted(p for p in folder.glob("*.json") if p != preferred)
        candidates += [p for p in found[:MAX_SNIFFED_JSONS] if safe_input.is_regular_file(p)]
    for candidate in candidates:
        if png.name in _names_in(candidate):
            return candidate
    return None


def _names_in(json_path: Path) -> frozenset[str]:
    """Base names of the ``file_name`` values in a panoptic JSON (empty if not panoptic)."""
    try:
        stat = json_path.stat()
    except OSError:
        return frozenset()
    return _names_cached(str(json_path), stat.st_mtime_ns, stat.st_size)


#: At most this many JSON files per folder are scanned when looking for a PNG's JSON.
MAX_SNIFFED_JSONS = 64
_FILE_NAME = re.compile(rb'"file_name"\s*:\s*"([^"\\]*)"')


@functools.lru_cache(maxsize=64)
def _names_cached(json_path: str, _mtime_ns: int, size: int) -> frozenset[str]:
    # A byte scan, cached per file version: finding a PNG's JSON must stay cheap
    # when a folder of PNGs is opened one by one.
    if size > MAX_JSON_BYTES:
        return frozenset()
    # An instances file shows "segmentation" before its first annotation ends: stop there.
    if first_token(Path(json_path), (b'"segmentation"', b'"segments_info"')) \
            != b'"segments_info"':
        return frozenset()
    try:
        blob = safe_input.read_bytes(json_path, MAX_JSON_BYTES, "JSON file")
    except ReadError:
        return frozenset()
    return frozenset(os.path.basename(m.decode("utf-8", "replace"))
                     for m in _FILE_NAME.findall(blob))


def _read_rgb(png: Path) -> np.ndarray:
    img = open_raster(png)
    if img.mode not in ("RGB", "RGBA"):
        raise ReadError(f"image mode {img.mode} is not an RGB panoptic PNG (id = R + 256 G + "
                        "256^2 B)", png)
    return np.asarray(img.convert("RGB"), np.uint8)


def _segments_info(ann: dict, json_path: Path | None) -> dict[int, dict]:
    info = {}
    for index, s in enumerate(ann["segments_info"]):
        if not isinstance(s, dict) or not isinstance(s.get("id"), int):
            raise ReadError(f"{ann['file_name']}: segments_info[{index}] has no integer 'id'",
                            json_path)
        category = s.get("category_id")
        if category is not None and (not isinstance(category, int) or isinstance(category, bool)):
            raise ReadError(f"{ann['file_name']}: segments_info[{index}]: 'category_id' should "
                            f"be an integer, found {type(category).__name__} {category!r:.40}",
                            json_path)
        info[s["id"]] = s
    return info


def _categories(data: Any, json_path: Path | None) -> dict[int, dict]:
    """Categories of the JSON, falling back to the 133 COCO panoptic categories."""
    out = {}
    for entry in builtin_palette("coco_panoptic").entries.values():
        if entry.id != VOID:
            out[entry.id] = {"id": entry.id, "name": entry.name, "color": list(entry.color),
                             **dict(entry.attributes), "builtin": True}
    raw = data.get("categories") if isinstance(data, dict) else None
    for index, cat in enumerate(raw or []):
        if not isinstance(cat, dict) or not isinstance(cat.get("id"), int):
            raise ReadError(f"categories[{index}] is not an object with an integer 'id'",
                            json_path)
        out[cat["id"]] = cat
    return out


def _looks_two_channel(rgb: np.ndarray, values: np.ndarray, info: dict[int, dict],
                       categories: dict[int, dict]) -> bool:
    """True when the ids fit nothing in segments_info but R holds category ids."""
    if not info or rgb[..., 2].any():
        return False
    ids = set(np.unique(values).tolist()) - {VOID}
    if ids & set(info):
        return False
    reds = set(np.unique(rgb[..., 0]).tolist()) - {VOID}
    return bool(reds) and reds <= set(categories)


def _describer(info: dict[int, dict], categories: dict[int, dict], two_channel: bool,
               names: dict[int, str]):
    """Return ``describe(value)`` for :meth:`Segmentation.from_values`."""
    instances = _instance_numbers(info, categories)

    def describe(value: int) -> dict[str, Any]:
        if value == VOID or (two_channel and value < TWO_CHANNEL_OFFSET):
            return {"label": names.get(value, "void"), "color": (0, 0, 0)}
        if two_channel:
            fields = _two_channel_fields(value, categories)
        elif value in info:
            fields = _info_fields(info[value], categories, instances.get(value))
        else:
            fields = {"label": "unknown", "attributes": {"unknown_id": True}}
        fields["color"] = _color(value, fields)
        if value in names:
            fields["label"] = names[value]
        return fields

    return describe


def _instance_numbers(info: dict[int, dict], categories: dict[int, dict]) -> dict[int, int]:
    """Number the things of each category 1, 2, ... by ascending segment id.

    By id rather than by list order, so that a written file (whose
    segments_info is sorted by id) numbers them the same way again.
    """
    counters: dict[Any, int] = {}
    out = {}
    for seg_id, s in sorted(info.items()):
        cat = s.get("category_id")
        if _is_thing(categories.get(cat)):
            counters[cat] = counters.get(cat, 0) + 1
            out[seg_id] = counters[cat]
    return out


def _is_thing(cat: dict | None) -> bool:
    return bool(cat and cat.get("isthing"))


def _info_fields(s: dict, categories: dict[int, dict], instance: int | None) -> dict[str, Any]:
    cat_id = s.get("category_id")
    cat = categories.get(cat_id) if isinstance(cat_id, int) else None
    attributes = {"iscrowd": s.get("iscrowd", 0), "bbox": s.get("bbox")}
    if cat is not None:
        attributes.update(isthing=int(bool(cat.get("isthing"))),
                          supercategory=cat.get("supercategory", ""))
    attributes.update({k: v for k, v in s.items() if k not in INFO_KEYS})
    return {"label": _category_name(cat, cat_id), "class_id": cat_id if isinstance(cat_id, int)
            else None, "instance": instance, "attributes": attributes, "_category": cat}


def _two_channel_fields(value: int, categories: dict[int, dict]) -> dict[str, Any]:
    cat_id, instance = divmod(value, TWO_CHANNEL_OFFSET)
    cat = categories.get(cat_id)
    thing = _is_thing(cat) or cat is None
    return {"label": _category_name(cat, cat_id), "class_id": cat_id,
            "instance": instance if thing else None,
            "attributes": {"isthing": int(_is_thing(cat))}, "_category": cat}


def _category_name(cat: dict | None, cat_id: Any) -> str:
    name = cat.get("name") if cat else None
    return name if isinstance(name, str) else f"category {cat_id}"


def _color(value: int, fields: dict[str, Any]) -> RGB:
    """panopticapi's ids are jittered category colours: show them as they are."""
    cat = fields.pop("_category", None)
    if value > 0xFFFF:
        r, g, b = id2rgb(np.array([value]))[0].tolist()
        return (r, g, b)
    color = cat.get("color") if cat else None
    if isinstance(color, list) and len(color) == 3 and fields.get("instance") is None:
        return tuple(int(c) for c in color)
    return stable_color(value)


def _details(png: Path, json_path: Path | None, data: Any, ann: dict | None,
             two_channel: bool, categories: dict[int, dict]) -> dict[str, Any]:
    details: dict[str, Any] = {"png": str(png), "json": str(json_path) if json_path else None,
                               "two_channel": bool(two_channel)}
    if ann is not None:
        details["annotation"] = {"image_id": ann.get("image_id"), "file_name": ann["file_name"]}
        image = _image_of(data, ann)
        if image:
            details["image"] = {k: image[k] for k in ("id", "file_name", "width", "height")
                                if k in image}
    if isinstance(data, dict):
        details["categories"] = [c for _, c in sorted(categories.items())
                                 if not c.get("builtin")]
    return details


def _image_of(data: Any, ann: dict) -> dict | None:
    for image in (data.get("images") or []) if isinstance(data, dict) else []:
        if isinstance(image, dict) and str(image.get("id")) == str(ann.get("image_id")):
            return image
    return None


def _check(seg: Segmentation, info: dict[int, dict], ann: dict | None, json_path: Path | None,
           two_channel: bool, data: Any) -> list[str]:
    """Sentences about what does not agree between the PNG and the JSON."""
    if json_path is None:
        return ["no panoptic JSON names this PNG (beside it or one folder up); segments have "
                "no categories: pass json=<file>"]
    if two_channel:
        return []
    out = []
    found = {s.value: s for s in seg.table}
    unknown = [s for s in seg.table if s.attributes.get("unknown_id")]
    if unknown:
        ids = ", ".join(str(s.value) for s in unknown[:5])
        pixels = sum(s.area for s in unknown)
        out.append(f"{_count(len(unknown), 'id')} in the PNG without an entry in segments_info "
                   f"({ids}; {pixels:,} pixels); kept as 'unknown' segments")
    missing = [i for i in info if i not in found]
    if missing:
        out.append(f"{_count(len(missing), 'segment')} of segments_info not in the PNG: "
                   + ", ".join(map(str, missing[:5])))
    wrong = [i for i, s in info.items() if i in found and s.get("area") is not None
             and s.get("area") != found[i].area]
    if wrong:
        out.append(f"{_count(len(wrong), 'segment')} listed with another area in the JSON "
                   "than in the PNG: "
                   + ", ".join(f"{i} ({info[i]['area']} vs {found[i].area})" for i in wrong[:5]))
    image = _image_of(data, ann) if ann is not None else None
    if image and (image.get("width"), image.get("height")) != (seg.width, seg.height):
        out.append(f"the PNG is {seg.width}x{seg.height} but the JSON's image is "
                   f"{image.get('width')}x{image.get('height')}")
    return out


def _count(n: int, noun: str) -> str:
    """``"1 id is"`` / ``"3 ids are"``."""
    return f"{n} {noun} is" if n == 1 else f"{n} {noun}s are"


# -- writing ---------------------------------------------------------------------------
def write(seg: Segmentation, path: str | Path, *, json: str | Path | None = None,
          image_id: int | str | None = None, file_name: str | None = None,
          **_options: Any) -> list[Path]:
    """Write the panoptic PNG and a panoptic JSON for it.

    Every segment's value (its ``source_value``, else its id) is its panoptic
    id; void segments are written as VOID (0). ``segments_info`` gets
    ``category_id`` = the segment's ``class_id`` (a new category per label when
    it has none), ``iscrowd`` from its attributes, and ``area`` and ``bbox``
    computed from the pixels.

    Parameters
    ----------
    path : str or Path
        The PNG; a ``.json`` path names the JSON and the PNG goes beside it.
    json : str or Path, optional
        The JSON; default the PNG's path with ``.json``.
    image_id, file_name : optional
        The image record; default: the one read, else id 1 and no file name.

    Returns
    -------
    list of Path
        ``[png, json]``.

    Raises
    ------
    WriteError
        When an id is negative or does not fit 24 bits.
    """
    path = Path(path)
    if path.suffix.lower() == ".json":
        png, json_path = path.with_suffix(".png"), path
    else:
        png = path
        json_path = Path(json) if json is not None else path.with_suffix(".json")
    rgb, document = panoptic_document(seg, png, image_id=image_id, file_name=file_name)
    write_png(png, rgb)
    dump_json(json_path, document)
    return [png, json_path]


def panoptic_document(seg: Segmentation, png: str | Path, *, image_id: int | str | None = None,
                      file_name: str | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """The panoptic RGB pixels of ``seg`` and its one-image JSON document (nothing written).

    ``png`` names the PNG in the annotation's ``file_name``; the dataset
    layout (:mod:`viewer.core.layouts.coco`) merges these documents.
    """
    png = Path(png)
    ids = _panoptic_ids(seg, png)
    pan = ids[seg.labels]
    return id2rgb(pan), _document(seg, pan, ids, png, image_id, file_name)


def _panoptic_ids(seg: Segmentation, path: Path) -> np.ndarray:
    """Look-up table: segment id -> panoptic id (void segments -> 0)."""
    lut = np.zeros(max(int(seg.labels.max(initial=0)), seg.table.max_id()) + 1, np.uint32)
    for s in seg.table:
        value = s.value
        if s.void:
            continue
        if not isinstance(value, int):
            raise WriteError(f"segment {s.id} has the colour value {value}, not a panoptic id",
                             path)
        if not 0 <= value <= MAX_ID:
            raise WriteError(f"segment {s.id} has the value {value}; panoptic ids are "
                             f"0..{MAX_ID} (24 bits)", path)
        lut[s.id] = value
    return lut


def _document(seg: Segmentation, pan: np.ndarray, ids: np.ndarray, png: Path,
              image_id: Any, file_name: str | None) -> dict[str, Any]:
    categories, category_of = _write_categories(seg, ids)
    image = _image_record(seg, image_id, file_name)
    info = []
    areas, boxes = _pixel_stats(pan)
    for value in sorted(areas):
        segment = _segment_of_value(seg, ids, value)
        iscrowd = segment.attributes.get("iscrowd", 0)
        r0, c0, r1, c1 = boxes[value]
        info.append({"id": value, "category_id": category_of[segment.id],
                     "area": areas[value], "bbox": [c0, r0, c1 - c0, r1 - r0],
                     "iscrowd": iscrowd if isinstance(iscrowd, int) else 0})
    return {"images": [image],
            "annotations": [{"image_id": image["id"], "file_name": png.name,
                             "segments_info": info}],
            "categories": [categories[k] for k in sorted(categories)]}


def _pixel_stats(pan: np.ndarray) -> tuple[dict[int, int], dict[int, tuple[int, int, int, int]]]:
    """Area and box of every non-VOID panoptic id."""
    values, compact = np.unique(pan, return_inverse=True)
    compact = compact.reshape(pan.shape).astype(np.uint32)
    counts = stats.areas(compact, values.size)
    boxes = stats.bboxes(compact, values.size)
    areas = {int(v): int(counts[i]) for i, v in enumerate(values.tolist()) if v != VOID}
    return areas, {int(values[i]): box for i, box in boxes.items() if values[i] != VOID}


def _segment_of_value(seg: Segmentation, ids: np.ndarray, value: int) -> Segment:
    """The segment that owns a panoptic id (the first, when several share it)."""
    owners = [i for i in np.flatnonzero(ids == value).tolist() if i in seg.table]
    return seg.table[owners[0]]


def _write_categories(seg: Segmentation, ids: np.ndarray) -> tuple[dict[int, dict], dict[int, int]]:
    categories, by_name = known_categories(seg)
    category_of = {}
    for s in seg.table:
        if s.id >= ids.size or ids[s.id] == VOID:
            continue
        cid = s.class_id if s.class_id is not None else by_name.get(s.label)
        if cid is None:
            cid = max([0, *categories]) + 1
        if cid not in categories:
            categories[cid] = {"id": cid, "name": s.label or f"category {cid}",
                               "supercategory": "", "isthing": int(s.instance is not None),
                               "color": list(s.color)}
            by_name.setdefault(categories[cid]["name"], cid)
        category_of[s.id] = cid
    return categories, category_of


def _image_record(seg: Segmentation, image_id: Any, file_name: str | None) -> dict[str, Any]:
    read_image = seg.provenance.details.get("image") if seg.provenance.format == NAME else None
    read_image = read_image if isinstance(read_image, dict) else {}
    record: dict[str, Any] = {"id": image_id if image_id is not None
                              else read_image.get("id", 1)}
    name = file_name if file_name is not None else read_image.get("file_name")
    if isinstance(name, str) and name:
        record["file_name"] = name
    record.update(width=seg.width, height=seg.height)
    return record


def losses(seg: Segmentation) -> list[str]:
    """What a panoptic PNG + JSON cannot hold of ``seg``."""
    out = overlap_losses(seg, NAME)
    values = [s for s in seg.table if isinstance(s.value, int) and not s.void]
    bad = [s for s in values if not 0 <= s.value <= MAX_ID]
    if bad:
        out.append(f"{len(bad)} segments have values outside 0..{MAX_ID} and cannot be written")
    void = [s for s in seg.table if s.void and s.value != VOID]
    if void:
        out.append(f"{len(void)} void segments are written as VOID (0): "
                   + ", ".join(f"{s.value} ({s.label})" for s in void[:5]))
    zero = [s for s in values if s.value == VOID and s.area]
    if zero:
        out.append(f"segment {zero[0].id} ({zero[0].label or 'unnamed'}) has value 0 and is "
                   "written as VOID")
    no_class = [s for s in values if s.class_id is None and s.value != VOID]
    if no_class:
        out.append(f"{len(no_class)} segments have no class id; each label becomes a category "
                   "with a new id")
    return out


# -- sniffing ---------------------------------------------------------------------------
def sniff(path: Path) -> bool:
    """JSON: annotations with ``segments_info``. PNG: RGB, and a panoptic JSON names it."""
    if path.suffix.lower() == ".json":
        return first_token(path, (b'"segmentation"', b'"segments_info"')) == b'"segments_info"'
    try:
        with safe_input.open_image(path, check_size=False) as img:
            if img.format != "PNG" or img.mode not in ("RGB", "RGBA"):
                return False
    except (OSError, ReadError):
        return False
    return find_json(path) is not None


FORMAT = FormatSpec(
    name=NAME,
    title="COCO panoptic (RGB id PNG + segments_info JSON)",
    extensions=(".png", ".json"),
    read=read,
    write=write,
    sniff=sniff,
    priority=30,
    notes="id = R + 256 G + 256^2 B, 0 = VOID; categories from the JSON; 2-channel PNGs "
          "with two_channel=True",
    losses=losses,
    items=items,
)
FORMATS = (FORMAT,)
