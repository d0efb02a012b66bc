"""labelme and X-AnyLabeling annotation JSON (``<photo stem>.json`` beside the photo).

The file lists shapes drawn on one photo::

    {"version": "5.4.1", "flags": {}, "imagePath": "2011_000003.jpg", "imageData": null,
     "imageHeight": 338, "imageWidth": 500,
     "shapes": [{"label": "person", "group_id": 0, "shape_type": "polygon",
                 "points": [[x, y], ...], "flags": {}, "description": ""}, ...]}

Reading
-------
Pixels follow labelme's own rasterisation (``shapes_to_label``, as run by its
``labelme2voc.py``): every shape is drawn with Pillow's ``ImageDraw`` on an
8-bit image of the declared size, with the points as ``(x, y)`` floats, and
later shapes paint over earlier ones:

- ``polygon`` (also a missing ``shape_type``), labelme's ``oriented_rectangle``
  and X-AnyLabeling's ``rotation`` (4 corners): polygon, outline and fill;
- ``rectangle``: the two corners sorted, outline and fill;
- ``circle``: centre and a point on the circle; an ellipse around the centre
  with that radius;
- ``line`` (2 points) and ``linestrip``: width 10 (``line_width``), the strip
  with round joints;
- ``point``: a disc of radius 5 (``point_size``); ``points`` (which labelme
  itself cannot rasterise) gets such a disc at every point;
- ``mask``: a base64 PNG placed with its top-left corner at the first point
  (rounded); with integral points its extent is ``x2 - x1 + 1`` by
  ``y2 - y1 + 1``, otherwise the PNG's size; clipped to the image.

Because Pillow does the drawing, the pixels are those labelme gives with the
same Pillow. Pillow 10.0 to 11.0 rasterise a few polygon edge pixels
differently from earlier and later versions (one pixel in labelme's own
``2011_000006`` example).

Classes: ``__ignore__`` is -1 (void; 255 in labelme's PNGs) and
``_background_`` (and every pixel no shape covers) 0. Other labels get their
line in a ``class_names.txt`` / ``labels.txt`` (``labels=`` or beside the file
or one folder up, as ``labelme2voc.py --labels`` uses it), else the class ids
this module stored when it wrote the file (the ``"segview"`` key, which labelme
keeps when it saves), else 1, 2, ... in order of first appearance.

Instances: shapes with the same ``(label, group_id)`` are one object; a shape
without ``group_id`` is an object of its own. Objects are numbered 1, 2, ... in
order of first appearance, as ``SegmentationObject`` has them (void pixels 0
there, -1 here). ``kind="instance"`` gives one segment per object
(``class_id``, ``instance`` = that number, ``attributes["group_id"]``);
``kind="semantic"`` one per class. The default is instance when any shape has
a ``group_id`` or the file was written by us from an instance mask.

Writing
-------
Every segment becomes one ``mask`` shape: the two corners of its box and a
base64 PNG of its crop, so nothing is turned into polygons (``polygons=True``
writes polygons from ``cv2.approxPolyDP`` with ``epsilon`` instead, which
loses pixels: see :func:`losses`). The background (value 0 named like
background) is left unpainted, void is labelled ``__ignore__``, and several
instances of one class get ``group_id``. ``imageData`` is null and
``imagePath`` names the photo (``image=``, else one beside the JSON with the
same stem, else ``<stem>.jpg``).
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, UnidentifiedImageError

from viewer.core import safe_input
from viewer.core.budget import MAX_SEGMENTS, MEMORY_BUDGET, check_bytes, check_count
from viewer.core.errors import ReadError, WriteError
from viewer.core.formats.base import FormatSpec
from viewer.core.formats.common import check_pixels, dump_json, load_json, resolve_reference
from viewer.core.formats.names import read_names_beside
from viewer.core.images import IMAGE_EXTENSIONS
from viewer.core.palettes import builtin_palette
from viewer.core.segment_table import Segment
from viewer.core.segmentation import BACKGROUND_NAMES, Kind, Provenance, Segmentation
from viewer.core.types import RGB

NAME = "labelme"
IGNORE = "__ignore__"
BACKGROUND = "_background_"
VOID = -1
#: labelme's defaults in ``shape_to_mask``.
LINE_WIDTH = 10
POINT_SIZE = 5
#: The version written into files: the JSON layout of labelme 5.x.
WRITE_VERSION = "5.5.0"
#: Our own key in the file: class ids, names and colours labelme has no field for.
OWN_KEY = "segview"
#: Budgets checked before anything is drawn.
MAX_SHAPES = MAX_SEGMENTS
MAX_POINTS = 5_000_000
#: Pixels painted over all shapes (each shape's box, clipped): a few seconds of work.
MAX_PAINTED = 4_000_000_000
_SNIFF_BYTES = 16 * 1024
_SHAPES = re.compile(r'"shapes"\s*:\s*\[')
_POINT_COUNTS = {"rectangle": 2, "circle": 2, "line": 2, "point": 1, "mask": 2,
                 "oriented_rectangle": 4, "rotation": 4}
_POLYGONS = ("polygon", "oriented_rectangle", "rotation")
_KNOWN = (*_POLYGONS, "rectangle", "circle", "line", "linestrip", "point", "points", "mask")


@dataclass
class _Shape:
    """One shape of the file, checked."""

    index: int
    label: str
    shape_type: str
    points: list[tuple[float, float]]
    group_id: int | None = None
    mask: np.ndarray | None = None
    score: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Doc:
    """The checked content of one labelme file."""

    shapes: list[_Shape]
    width: int
    height: int
    image: Path | None
    own: dict[str, Any]
    details: dict[str, Any]
    warnings: list[str]


# -- reading ----------------------------------------------------------------------
def read(path: str | Path, *, kind: Kind | str | None = None,
         labels: str | Path | Sequence[str] | None = None,
         names: Mapping[int, str] | None = None, image_size: tuple[int, int] | None = None,
         line_width: int = LINE_WIDTH, point_size: int = POINT_SIZE,
         **_options) -> Segmentation:
    """Read a labelme / X-AnyLabeling JSON file.

    Parameters
    ----------
    path : str or Path
        The JSON file.
    kind : Kind, optional
        ``semantic`` (one segment per class) or ``instance`` (one per object).
    labels : path or list of str, optional
        labelme2voc's ``--labels``: a ``labels.txt`` (first line ``__ignore__``
        = -1) or ``class_names.txt`` (first line ``_background_`` = 0), or the
        names themselves. Default: such a file beside the JSON or one up.
    names : mapping of value to name, optional
        Display names by class value (semantic) or object number (instance).
    image_size : (width, height), optional
        The photo's size; it must be the size the file declares.
    line_width, point_size : int
        labelme's ``shape_to_mask`` defaults (10 and 5).

    Raises
    ------
    ReadError
        Missing or mistyped keys, NaN or far-away coordinates, wrong point
        counts, a mask that is not a base64 single-channel PNG or is larger
        than the image, ``imageData`` that is not base64, sizes or counts
        beyond the budgets.
    """
    path = Path(path)
    doc = _parse(load_json(path), path, image_size)
    class_of, class_source = _class_values(doc, path, labels)
    chosen = _kind(kind, doc)
    cls, ins, objects = _rasterise(doc, class_of, path, int(line_width), int(point_size))
    doc.details.update(class_source=class_source, kind=str(chosen),
                       objects=len(objects), warnings=doc.warnings)
    provenance = Provenance(str(path), NAME, doc.details)
    if chosen is Kind.INSTANCE:
        stored = _own_objects(doc, objects)
        values = np.where(ins > 0, ins, np.where(cls == class_of[IGNORE], VOID, 0))
        if stored:
            lut = np.array([0, *(row.get("value") or 0 for row in stored)], np.int64)
            values = np.where(ins > 0, lut[ins], values)
        describe = _instance_describer(doc, objects, class_of, names or {}, stored)
        void = (VOID,)
    else:
        values = cls
        describe = _semantic_describer(doc, class_of, names or {})
        void = (class_of[IGNORE],)
    return Segmentation.from_values(values, kind=chosen, void_values=void, describe=describe,
                                    provenance=provenance)


def _parse(data: Any, path: Path, image_size: tuple[int, int] | None) -> _Doc:
    if not isinstance(data, dict):
        raise ReadError(f"a labelme file is a JSON object, found {type(data).__name__}", path)
    raw_shapes = data.get("shapes")
    if not isinstance(raw_shapes, list):
        raise ReadError("missing 'shapes' list: not a labelme file", path)
    check_count(len(raw_shapes), MAX_SHAPES, "shapes", path)
    warns: list[str] = []
    image = _photo(data, path, warns)
    width, height = _size(data, path, image, image_size)
    budget = _Budget(width, height, path)
    shapes = [_shape(s, i, path, budget) for i, s in enumerate(raw_shapes)]
    own = data.get(OWN_KEY) if isinstance(data.get(OWN_KEY), dict) else {}
    details: dict[str, Any] = {
        "version": data.get("version"), "imagePath": data.get("imagePath"),
        "image": str(image) if image is not None else None, "shapes": len(shapes),
        "flags": data.get("flags") or {},
        "shape_types": sorted({s.shape_type for s in shapes}),
    }
    if any(s.shape_type == "points" for s in shapes):
        warns.append("'points' shapes are drawn as one disc per point (labelme itself "
                     "cannot rasterise them)")
    return _Doc(shapes, width, height, image, own, details, warns)


def _photo(data: dict, path: Path, warns: list[str]) -> Path | None:
    """Check ``imageData`` and find the photo ``imagePath`` names (None when absent)."""
    blob = data.get("imageData")
    if blob is not None:
        if not isinstance(blob, str):
            raise ReadError(f"'imageData' should be base64 text or null, found "
                            f"{type(blob).__name__}", path)
        _b64(blob, "'imageData'", path)
    ref = data.get("imagePath")
    if ref is None:
        return None
    if not isinstance(ref, str):
        raise ReadError(f"'imagePath' should be a string, found {type(ref).__name__}", path)
    if not ref:
        return None
    # labelme writes Windows separators on Windows; the photo may also not be there.
    try:
        return resolve_reference(PureWindowsPath(ref).as_posix(), path.parent, path)
    except ReadError as exc:
        warns.append(f"photo not found: {exc.message}")
        return None


def _size(data: dict, path: Path, image: Path | None,
          image_size: tuple[int, int] | None) -> tuple[int, int]:
    declared = [data.get("imageWidth"), data.get("imageHeight")]
    for key, value in zip(("imageWidth", "imageHeight"), declared, strict=True):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ReadError(f"{key!r} should be a whole number of pixels, found {value!r}", path)
    if None in declared:
        size = tuple(image_size) if image_size is not None else _photo_size(data, path, image)
        if size is None:
            raise ReadError("no 'imageWidth'/'imageHeight' and no photo to take the size "
                            "from", path)
        declared = [int(size[0]), int(size[1])]
    width, height = declared
    check_pixels(width, height, path)
    if image_size is not None and (width, height) != tuple(image_size):
        raise ReadError(f"declares a {width}x{height} image but the photo is "
                        f"{image_size[0]}x{image_size[1]}", path)
    # The class and object maps, and the canvas shapes are drawn on.
    check_bytes(width * height * 9, "the class and object maps", path, budget=2 * MEMORY_BUDGET)
    return width, height


def _photo_size(data: dict, path: Path, image: Path | None) -> tuple[int, int] | None:
    """The size from ``imageData`` or the photo's header, without decoding pixels."""
    blob = data.get("imageData")
    source: Any = io.BytesIO(_b64(blob, "'imageData'", path)) if blob else image
    if source is None:
        return None
    if not blob:
        return safe_input.image_size(source)  # a FIFO or a bad name: a clear ReadError
    try:
        with Image.open(source) as img:
            return img.size
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ReadError(f"cannot read the photo's size: {exc}", path) from None


def _b64(text: str, what: str, path: Path) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ReadError(f"{what} is not base64 data", path) from None


class _Budget:
    """Counts points and painted pixels against the budgets while shapes are checked."""

    def __init__(self, width: int, height: int, path: Path):
        self.width, self.height, self.path = width, height, path
        self.points = 0
        self.painted = 0
        # Coordinates beyond this are not a drawing on this image (and make Pillow loop).
        self.reach = 16 * (width + height) + 1024

    def add(self, shape: _Shape) -> None:
        self.points += len(shape.points)
        check_count(self.points, MAX_POINTS, "shape points", self.path)
        box = _box(shape, self.width, self.height)
        if box is not None:
            self.painted += (box[2] - box[0]) * (box[3] - box[1])
        if self.painted > MAX_PAINTED:
            raise ReadError(f"its shapes paint more than {MAX_PAINTED:,} pixels in all (shapes "
                            "covering the image thousands of times)", self.path)


def _shape(raw: Any, index: int, path: Path, budget: _Budget) -> _Shape:
    where = f"shapes[{index}]"
    if not isinstance(raw, dict):
        raise ReadError(f"{where}: expected a JSON object, found {type(raw).__name__}", path)
    label = raw.get("label")
    if not isinstance(label, str):
        raise ReadError(f"{where}: 'label' should be a string, found {label!r}", path)
    shape_type = raw.get("shape_type") or "polygon"
    if not isinstance(shape_type, str):
        raise ReadError(f"{where}: 'shape_type' should be a string, found {shape_type!r}", path)
    if shape_type not in _KNOWN:
        raise ReadError(f"{where}: shape_type {shape_type!r} is not one labelme or "
                        f"X-AnyLabeling draws ({', '.join(_KNOWN)})", path)
    group_id = raw.get("group_id")
    if group_id is not None and (isinstance(group_id, bool) or not isinstance(group_id, int)):
        raise ReadError(f"{where}: 'group_id' should be a whole number or null, "
                        f"found {group_id!r}", path)
    shape = _Shape(index, label, shape_type, _points(raw.get("points"), where, path, budget),
                   group_id, score=_score(raw.get("score"), where, path))
    expected = _POINT_COUNTS.get(shape_type)
    if expected is not None and len(shape.points) != expected:
        raise ReadError(f"{where}: a {shape_type} has {expected} point(s), found "
                        f"{len(shape.points)}", path)
    if shape_type == "mask":
        shape.mask = _mask_png(raw.get("mask"), where, path, budget)
    for key in ("flags", "description", "attributes", "difficult"):
        if raw.get(key) not in (None, {}, "", False):
            shape.meta[key] = raw[key]
    budget.add(shape)
    return shape


def _points(raw: Any, where: str, path: Path, budget: _Budget) -> list[tuple[float, float]]:
    if not isinstance(raw, list) or not raw:
        raise ReadError(f"{where}: 'points' should be a non-empty list of [x, y]", path)
    check_count(budget.points + len(raw), MAX_POINTS, "shape points", path)
    points = []
    for point in raw:
        if (not isinstance(point, list) or len(point) != 2
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)):
            raise ReadError(f"{where}: a point should be [x, y] numbers, found {point!r}"[:200],
                            path)
        x, y = float(point[0]), float(point[1])
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ReadError(f"{where}: point {point!r} is not a finite number", path)
        if abs(x) > budget.reach or abs(y) > budget.reach:
            raise ReadError(f"{where}: point {point!r} lies far outside the "
                            f"{budget.width}x{budget.height} image", path)
        points.append((x, y))
    return points


def _score(raw: Any, where: str, path: Path) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise ReadError(f"{where}: 'score' should be a number, found {raw!r}", path)
    return float(raw)


def _mask_png(raw: Any, where: str, path: Path, budget: _Budget) -> np.ndarray:
    if not isinstance(raw, str):
        raise ReadError(f"{where}: a mask shape needs 'mask', a base64 PNG", path)
    data = _b64(raw, f"{where}: 'mask'", path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width > budget.width or height > budget.height:
                    raise ReadError(f"{where}: the mask PNG is {width}x{height}, larger than "
                                    f"the {budget.width}x{budget.height} image", path)
                img.load()
                pixels = np.asarray(img)
    except ReadError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ReadError(f"{where}: 'mask' is not a PNG Pillow can decode: {exc}", path) from None
    if pixels.ndim != 2:
        raise ReadError(f"{where}: the mask PNG has {pixels.shape[2]} channels; labelme masks "
                        "are single-channel", path)
    return pixels.astype(bool)


def _box(shape: _Shape, width: int, height: int) -> tuple[int, int, int, int] | None:
    """``(x0, y0, x1, y1)``, half-open and clipped, holding every pixel the shape paints."""
    if shape.shape_type == "mask":
        x0, y0, w, h = _mask_place(shape)
        box = (x0, y0, x0 + w, y0 + h)
    else:
        xs = [p[0] for p in shape.points]
        ys = [p[1] for p in shape.points]
        if shape.shape_type == "circle":
            (cx, cy), (px, py) = shape.points
            r = math.hypot(cx - px, cy - py)
            xs, ys = [cx - r, cx + r], [cy - r, cy + r]
        # Wide lines, discs and Pillow's rounding stay within this margin.
        margin = LINE_WIDTH + POINT_SIZE + 3
        box = (math.floor(min(xs)) - margin, math.floor(min(ys)) - margin,
               math.ceil(max(xs)) + margin + 1, math.ceil(max(ys)) + margin + 1)
    x0, y0 = max(box[0], 0), max(box[1], 0)
    x1, y1 = min(box[2], width), min(box[3], height)
    return (x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None


def _mask_place(shape: _Shape) -> tuple[int, int, int, int]:
    """Top-left corner and extent of a mask shape, by labelme's rule."""
    corners = np.asarray(shape.points, dtype=np.float64)
    (x1, y1), (x2, y2) = np.rint(corners).astype(np.int64).tolist()
    if np.array_equal(corners, np.trunc(corners)):
        # Integral corners: the box gives the extent (the PNG is cropped to it).
        return x1, y1, max(x2 - x1 + 1, 0), max(y2 - y1 + 1, 0)
    h, w = shape.mask.shape
    return x1, y1, w, h


# -- classes ---------------------------------------------------------------------
def _class_values(doc: _Doc, path: Path, labels: str | Path | Sequence[str] | None,
                  ) -> tuple[dict[str, int], str]:
    """``{shape label: class value}`` by labelme2voc's rule, and where it came from."""
    listed, source = _listed(path, labels)
    class_of: dict[str, int] = dict(listed)
    used = set(class_of.values())
    own = _own_classes(doc)
    shape_labels = list(dict.fromkeys(s.label for s in doc.shapes))
    # Our own table first (it may give void 255), then labelme's fixed -1 and 0.
    for label in shape_labels:
        value = own.get(label, {}).get("value")
        if label not in class_of and isinstance(value, int) and not isinstance(value, bool) \
                and value not in used:
            class_of[label] = value
            used.add(value)
            if source == "order of appearance":
                source = f"the {OWN_KEY!r} class table"
    for label, value in ((IGNORE, VOID), (BACKGROUND, 0)):
        if label not in class_of and value not in used:
            class_of[label] = value
            used.add(value)
    unlisted = []
    for label in [*shape_labels, IGNORE, BACKGROUND]:
        if label not in class_of:
            class_of[label] = max([v for v in used if v >= 0], default=0) + 1
            used.add(class_of[label])
            unlisted.append(label)
    unlisted = [label for label in unlisted if label in shape_labels]
    if listed and unlisted:
        doc.warnings.append(f"{len(unlisted)} labels are not in {source} (labelme2voc refuses "
                            f"them) and get the next values: {', '.join(unlisted[:10])}")
    return class_of, source


def _listed(path: Path, labels: str | Path | Sequence[str] | None) -> tuple[dict[str, int], str]:
    if labels is None:
        by_value = read_names_beside(path)
        source = "the class names file beside it" if by_value else "order of appearance"
    elif isinstance(labels, str | Path) and Path(labels).is_file():
        lines = [line.strip() for line in _text(Path(labels)).splitlines()]
        by_value, source = _numbered(lines), str(labels)
    else:
        items = labels.split(",") if isinstance(labels, str) else list(labels)
        by_value, source = _numbered([str(n).strip() for n in items]), "the labels given"
    return {name: value for value, name in sorted(by_value.items()) if name}, source


def _numbered(lines: list[str]) -> dict[int, str]:
    """labelme2voc: a first ``__ignore__`` line is -1, so ``_background_`` is 0."""
    start = VOID if lines and lines[0] == IGNORE else 0
    return {start + i: line for i, line in enumerate(lines) if line}


def _text(path: Path) -> str:
    try:
        return safe_input.read_text(path, what="labels file")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReadError(f"cannot read the labels: {exc}", path) from None


def _own_classes(doc: _Doc) -> dict[str, dict[str, Any]]:
    """Our class table (label -> value, name, colour), when this module wrote the file."""
    rows = doc.own.get("classes")
    if not isinstance(rows, list):
        return {}
    out = {}
    for row in rows:
        if isinstance(row, dict) and isinstance(row.get("shape_label"), str):
            out.setdefault(row["shape_label"], row)
    return out


def _kind(kind: Kind | str | None, doc: _Doc) -> Kind:
    if kind is not None:
        chosen = Kind(kind)
        return chosen if chosen is Kind.INSTANCE else Kind.SEMANTIC
    if doc.own.get("kind") in ("instance", "semantic"):
        return Kind(doc.own["kind"])
    return Kind.INSTANCE if any(s.group_id is not None for s in doc.shapes) else Kind.SEMANTIC


def _object_key(shape: _Shape) -> tuple[str, Any]:
    """labelme's object: (label, group_id); a shape without group_id is one of its own."""
    return shape.label, shape.group_id if shape.group_id is not None else ("shape", shape.index)


# -- drawing -----------------------------------------------------------------------
def _rasterise(doc: _Doc, class_of: Mapping[str, int], path: Path, line_width: int,
               point_size: int) -> tuple[np.ndarray, np.ndarray, list[tuple[str, Any]]]:
    """labelme's ``shapes_to_label``: the class map, the object map and the objects.

    Each shape is drawn on one shared canvas of the image's size, with the
    file's coordinates (so Pillow rounds exactly as it does for labelme), then
    only its box is read and cleared again, so the cost follows the shape's
    size, not the image's.
    """
    objects: list[tuple[str, Any]] = []
    index_of: dict[tuple[str, Any], int] = {}
    cls_type = np.int32 if max(map(abs, class_of.values()), default=0) > 32767 else np.int16
    cls = np.zeros((doc.height, doc.width), cls_type)
    ins = np.zeros((doc.height, doc.width), np.int32 if len(doc.shapes) > 65535 else np.uint16)
    canvas = Image.new("L", (doc.width, doc.height), 0)
    draw = ImageDraw.Draw(canvas)
    for shape in doc.shapes:
        key = _object_key(shape)
        if key not in index_of:
            objects.append(key)
            index_of[key] = len(objects)
        box = _box(shape, doc.width, doc.height)
        if box is None:
            continue
        x0, y0, x1, y1 = box
        if shape.shape_type == "mask":
            hit = _mask_crop(shape, box)
        else:
            _draw(draw, shape, line_width, point_size)
            hit = np.asarray(canvas.crop(box), dtype=bool)
            canvas.paste(0, box)
        cls[y0:y1, x0:x1][hit] = class_of[shape.label]
        ins[y0:y1, x0:x1][hit] = index_of[key]
    ins[cls == class_of[IGNORE]] = 0  # labelme2voc: no object on ignored pixels
    return cls, ins, objects


def _draw(draw: ImageDraw.ImageDraw, shape: _Shape, line_width: int, point_size: int) -> None:
    xy = shape.points
    kind = shape.shape_type
    if kind == "circle":
        (cx, cy), (px, py) = xy
        d = math.sqrt((cx - px) ** 2 + (cy - py) ** 2)
        draw.ellipse(((cx - d, cy - d), (cx + d, cy + d)), outline=1, fill=1)
    elif kind == "rectangle":
        (ax, ay), (bx, by) = xy
        draw.rectangle(((min(ax, bx), min(ay, by)), (max(ax, bx), max(ay, by))),
                       outline=1, fill=1)
    elif kind == "line":
        draw.line(xy, fill=1, width=line_width)
    elif kind == "linestrip":
        draw.line(xy, fill=1, width=line_width, joint="curve")
    elif kind in ("point", "points"):
        for cx, cy in xy:
            draw.ellipse(((cx - point_size, cy - point_size), (cx + point_size, cy + point_size)),
                         outline=1, fill=1)
    else:  # polygon, oriented_rectangle, rotation
        draw.polygon(xy, outline=1, fill=1)


def _mask_crop(shape: _Shape, box: tuple[int, int, int, int]) -> np.ndarray:
    """The mask's pixels inside ``box`` (the clipped placement), by labelme's rule."""
    left, top, w, h = _mask_place(shape)
    x0, y0, x1, y1 = box
    patch = np.zeros((h, w), bool)
    src = shape.mask[:h, :w]
    patch[:src.shape[0], :src.shape[1]] = src
    return patch[y0 - top:y1 - top, x0 - left:x1 - left]


# -- segments ----------------------------------------------------------------------
def _voc(value: int) -> RGB:
    return builtin_palette("voc").color(255 if value == VOID else value)


def _semantic_describer(doc: _Doc, class_of: Mapping[str, int], names: Mapping[int, str]):
    own = _own_classes(doc)
    label_of: dict[int, str] = {}
    for label, value in class_of.items():
        label_of.setdefault(value, label)
    background = doc.own.get("background") if isinstance(doc.own.get("background"), dict) else {}
    labels_used = {s.label for s in doc.shapes}
    for label in labels_used:  # a value's own shapes name it, not a names-file alias
        label_of[class_of[label]] = label

    def describe(value: int) -> dict[str, Any]:
        label = label_of.get(value, "")
        row = own.get(label, {})
        if value == 0 and label not in labels_used and background:
            row = background
        fields: dict[str, Any] = {"label": names.get(value, _display(row, label)),
                                  "color": _color(row.get("color")) or _voc(value)}
        if value == 0 and fields["label"].lower() in BACKGROUND_NAMES:
            fields["visible"] = False
        return fields

    return describe


def _own_objects(doc: _Doc, objects: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Our per-object values and colours, when they still fit the file's objects."""
    rows = doc.own.get("objects")
    if not isinstance(rows, list) or not rows:
        return []
    if not all(isinstance(row, dict) for row in rows):
        rows = []
    # Void objects (``value`` null) keep their place in the numbering but have no pixels.
    values = [row.get("value") for row in rows if row.get("value") is not None]
    fits = (len(rows) == len(objects)
            and all(isinstance(v, int) and not isinstance(v, bool) and v not in (0, VOID)
                    and abs(v) < (1 << 62) for v in values)
            and len(set(values)) == len(values))
    if not fits:
        doc.warnings.append(f"the {OWN_KEY!r} object table no longer fits the shapes (edited "
                            "since?): objects are numbered in shape order")
        return []
    return rows


def _instance_describer(doc: _Doc, objects: list[tuple[str, Any]],
                        class_of: Mapping[str, int], names: Mapping[int, str],
                        stored: list[dict[str, Any]]):
    number_of = {row["value"]: n for n, row in enumerate(stored, start=1)
                 if row.get("value") is not None}
    own = _own_classes(doc)
    first: dict[tuple[str, Any], _Shape] = {}
    for shape in doc.shapes:
        key = _object_key(shape)
        first.setdefault(key, shape)

    def describe(value: int) -> dict[str, Any]:
        if value in (0, VOID):
            label = IGNORE if value == VOID else BACKGROUND
            return {"label": names.get(value, _display(own.get(label, {}), label)),
                    "class_id": value, "instance": None, "color": _voc(value),
                    "visible": value != 0}
        number = number_of.get(value, value)
        key = objects[number - 1]
        shape = first[key]
        attributes = dict(shape.meta)
        if shape.group_id is not None:
            attributes["group_id"] = shape.group_id
        row = stored[number - 1] if stored else {}
        instance = row.get("instance", number)
        fields = {"label": names.get(value, _display(own.get(key[0], {}), key[0])),
                  "class_id": class_of[key[0]],
                  "instance": instance if isinstance(instance, int) or instance is None else number,
                  "color": _color(row.get("color")) or _voc(number), "attributes": attributes}
        if shape.score is not None:
            fields["score"] = shape.score
        return fields

    return describe


def _display(row: Mapping[str, Any], label: str) -> str:
    name = row.get("label")
    return name if isinstance(name, str) else label


def _color(raw: Any) -> RGB | None:
    if (isinstance(raw, list) and len(raw) == 3
            and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in raw)):
        return (raw[0], raw[1], raw[2])
    return None


# -- writing -----------------------------------------------------------------------
def _implicit(s: Segment, values: Mapping[int, int]) -> bool:
    """The background labelme leaves unpainted: value 0 named like background (or unnamed)."""
    return values[s.id] == 0 and (not s.label or s.label.lower() in BACKGROUND_NAMES) and not s.void


def _shape_label(s: Segment) -> str:
    if s.void:
        return IGNORE
    return s.label or f"segment {s.id}"


@dataclass
class _Plan:
    """What the writer puts in the file, and what that loses."""

    painted: list[Segment]
    group_ids: dict[int, int | None]
    classes: list[dict[str, Any]]
    background: dict[str, Any] | None
    lost: list[str]
    objects: list[dict[str, Any]] = field(default_factory=list)


def _plan(seg: Segmentation) -> _Plan:
    values = seg.integer_values()
    present = [s for s in seg.table if s.area]
    implicit = [s for s in present if _implicit(s, values)]
    skip = {s.id for s in implicit}
    # Void last: labelme numbers void shapes as objects too, and they would shift the rest.
    painted = sorted((s for s in present if s.id not in skip), key=lambda s: (s.void, values[s.id]))
    instance = Kind(seg.kind) is Kind.INSTANCE
    lost: list[str] = []
    by_label: dict[str, list[Segment]] = {}
    for s in painted:
        by_label.setdefault(_shape_label(s), []).append(s)
    group_ids = _group_ids(by_label) if instance else {s.id: None for s in painted}
    classes = []
    for label, members in by_label.items():
        head = members[0]
        value = head.class_id if instance else values[head.id]
        classes.append({"shape_label": label, "value": value, "label": head.label,
                        "color": list(head.color), "void": head.void})
        if not instance and len(members) > 1:
            lost.append(f"{len(members)} segments share the label {label!r}; labelme keys "
                        "classes by label, so they merge into one")
    background = None
    if implicit:
        s = implicit[0]
        background = {"label": s.label or "background", "color": list(s.color)}
    lost += _value_losses(seg, painted, values, instance)
    lost += _other_losses(seg, present, {s.id for s in implicit})
    objects = [{"value": None if s.void else values[s.id], "instance": s.instance,
                "color": list(s.color)} for s in painted] if instance else []
    if any(row["value"] in (0, VOID) for row in objects):
        objects = []
    return _Plan(painted, group_ids, classes, background, lost, objects)


def _group_ids(by_label: Mapping[str, list[Segment]]) -> dict[int, int | None]:
    """A group_id per segment: one read from labelme, else the instance number, when a
    label has several objects (None for a label's only object)."""
    out: dict[int, int | None] = {}
    for members in by_label.values():
        if len(members) == 1 and members[0].attributes.get("group_id") is None:
            out[members[0].id] = None
            continue
        taken: set[int] = set()
        for s in members:
            wish = s.attributes.get("group_id", s.instance)
            if isinstance(wish, int) and not isinstance(wish, bool) and wish not in taken:
                out[s.id] = wish
                taken.add(wish)
        free = (n for n in range(1 << 31) if n not in taken)
        for s in members:
            if s.id not in out:
                out[s.id] = next(free)
    return out


def _value_losses(seg: Segmentation, painted: list[Segment], values: Mapping[int, int],
                  instance: bool) -> list[str]:
    lost = []
    if any(isinstance(s.value, tuple) for s in seg.table if s.area):
        lost.append("colour-keyed segments are written by their class value, not their colour key")
    if not instance:
        return lost
    # Our object table gives the values back; it cannot hold 0 or -1 (background, void).
    clash = [s for s in painted if not s.void and values[s.id] in (0, VOID)]
    if clash:
        lost.append(f"{len(clash)} instances with value 0 or -1 get new values (those mean "
                    "background and void in labelme)")
    if any(s.void and values[s.id] != VOID for s in painted):
        lost.append("void reads back as -1 (__ignore__), not its value here")
    return lost


def _other_losses(seg: Segmentation, present: list[Segment], implicit: set[int]) -> list[str]:
    lost = []
    scored = sum(s.score is not None for s in present)
    if scored and Kind(seg.kind) is not Kind.INSTANCE:
        lost.append(f"{scored} segment scores (labelme keeps none per class)")
    if seg.confidence is not None:
        lost.append("the per-pixel confidence map (labelme has none)")
    kept = {"group_id", "flags", "description", "attributes", "difficult"}
    extra = sorted({k for s in present for k in s.attributes if k not in kept})
    if extra:
        lost.append(f"segment attributes labelme has no field for: {', '.join(extra[:8])}")
    hidden = [s for s in present if not s.visible and s.id not in implicit]
    if hidden:
        lost.append(f"{len(hidden)} hidden segments are written as visible shapes")
    return lost


def losses(seg: Segmentation) -> list[str]:
    """Return what writing ``seg`` as labelme JSON would lose."""
    return list(_plan(seg).lost)


def write(seg: Segmentation, path: str | Path, *, image: str | Path | None = None,
          polygons: bool = False, epsilon: float = 1.0, **_options) -> list[Path]:
    """Write ``seg`` as one labelme JSON file.

    Parameters
    ----------
    path : str or Path
        The JSON file (``.json`` is added when missing).
    image : str or Path, optional
        The photo, named in ``imagePath`` relative to the JSON.
    polygons : bool
        Write polygons traced with ``cv2.approxPolyDP`` (tolerance
        ``epsilon`` pixels) instead of exact ``mask`` shapes. Lossy: edge
        pixels move, holes are filled, regions under 3 pixels vanish.
    epsilon : float
        The polygon tolerance in pixels.

    Raises
    ------
    WriteError
        When ``epsilon`` is not a positive finite number.
    """
    path = Path(path)
    json_path = path if path.suffix.lower() == ".json" else path.with_suffix(".json")
    if polygons and not (isinstance(epsilon, int | float) and math.isfinite(epsilon)
                         and epsilon > 0):
        raise WriteError(f"polygon tolerance epsilon={epsilon!r} should be a positive number",
                         json_path)
    plan = _plan(seg)
    shapes = []
    for s in plan.painted:
        base = {"label": _shape_label(s), "group_id": plan.group_ids[s.id],
                "description": s.attributes.get("description") or "",
                "flags": s.attributes.get("flags") or {}}
        if s.score is not None:
            base["score"] = s.score
        if not polygons:
            shapes.append(_mask_shape(seg, s, base))
            continue
        traced = _polygon_shapes(seg, s, base, epsilon)
        if len(traced) > 1 and base["group_id"] is None:
            # Several polygons of one segment must stay one labelme object.
            taken = {g for g in plan.group_ids.values() if g is not None}
            group = next(n for n in range(len(taken) + 1) if n not in taken)
            plan.group_ids[s.id] = group
            traced = [{**t, "group_id": group} for t in traced]
        shapes += traced
    payload = {
        "version": WRITE_VERSION,
        "flags": _file_flags(seg),
        "shapes": shapes,
        "imagePath": _image_path(seg, json_path, image),
        "imageData": None,
        "imageHeight": seg.height,
        "imageWidth": seg.width,
        OWN_KEY: {"kind": "instance" if Kind(seg.kind) is Kind.INSTANCE else "semantic",
                  "classes": plan.classes, "background": plan.background,
                  **({"objects": plan.objects} if plan.objects else {})},
    }
    dump_json(json_path, payload)
    return [json_path]


def _mask_shape(seg: Segmentation, s: Segment, base: dict[str, Any]) -> dict[str, Any]:
    r0, c0, r1, c1 = s.bbox
    crop = seg.labels[r0:r1, c0:c1] == s.id
    buffer = io.BytesIO()
    Image.fromarray(crop.astype(np.uint8)).save(buffer, format="PNG")
    return {**base, "shape_type": "mask",
            "points": [[float(c0), float(r0)], [float(c1 - 1), float(r1 - 1)]],
            "mask": base64.b64encode(buffer.getvalue()).decode("ascii")}


def _polygon_shapes(seg: Segmentation, s: Segment, base: dict[str, Any],
                    epsilon: float) -> list[dict[str, Any]]:
    import cv2  # only this option needs OpenCV

    r0, c0, r1, c1 = s.bbox
    crop = np.ascontiguousarray((seg.labels[r0:r1, c0:c1] == s.id).astype(np.uint8))
    contours, _ = cv2.findContours(crop, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    out = []
    for contour in contours:
        approx = cv2.approxPolyDP(contour, float(epsilon), True).reshape(-1, 2)
        if len(approx) < 3:
            continue
        points = [[float(x + c0), float(y + r0)] for x, y in approx.tolist()]
        out.append({**base, "shape_type": "polygon", "points": points, "mask": None})
    return out


def _file_flags(seg: Segmentation) -> dict[str, Any]:
    flags = seg.provenance.details.get("flags") if seg.provenance.format == NAME else None
    return dict(flags) if isinstance(flags, dict) else {}


def _image_path(seg: Segmentation, json_path: Path, image: str | Path | None) -> str:
    photo = Path(image) if image is not None else None
    if photo is None:
        for ext in IMAGE_EXTENSIONS:
            for candidate in (json_path.with_suffix(ext), json_path.with_suffix(ext.upper())):
                if candidate.is_file():
                    photo = candidate
                    break
            if photo is not None:
                break
    if photo is None and seg.provenance.format == NAME and seg.provenance.details.get("image"):
        photo = Path(seg.provenance.details["image"])
    if photo is None:
        return json_path.stem + ".jpg"
    try:
        return Path(os.path.relpath(photo.resolve(), json_path.parent.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return str(photo)


# -- sniffing -----------------------------------------------------------------------
def sniff(path: Path) -> bool:
    """True for a JSON object with a ``shapes`` list and labelme's image keys (first 16 KiB)."""
    try:
        with safe_input.open_regular(path) as handle:
            head = handle.read(_SNIFF_BYTES)
    except (OSError, ReadError):
        return False
    text = head.decode("utf-8-sig", "ignore").lstrip()
    if not text.startswith("{") or _SHAPES.search(text) is None:
        return False
    if len(head) < _SNIFF_BYTES:
        try:
            data = safe_input.parse_json(text, path)
        except ReadError:
            return True  # broken, but ours: the reader says where it breaks
        return (isinstance(data, dict) and isinstance(data.get("shapes"), list)
                and any(k in data for k in ("imageHeight", "imageWidth", "imagePath")))
    # labelme writes the shapes before imagePath: a long list pushes it past the head.
    return any(f'"{k}"' in text for k in ("imagePath", "imageHeight", "imageWidth",
                                         "shape_type", "group_id"))


FORMAT = FormatSpec(
    name=NAME,
    title="labelme / X-AnyLabeling JSON",
    extensions=(".json",),
    read=read,
    write=write,
    sniff=sniff,
    priority=20,
    notes="shapes drawn as labelme's shapes_to_label does; writes exact mask shapes",
    losses=losses,
)
FORMATS = (FORMAT,)
