"""Colour masks: RGB PNGs whose colours stand for classes through a colour table.

This module holds the one colour lookup every colour-keyed format uses (also
:mod:`~viewer.core.formats.cvat_mask` and :mod:`~viewer.core.formats.clearml`)
and three formats of its own:

- ``camvid``: RGB PNG + ``label_colors.txt`` (``R G B name`` lines, CamVid and
  Datumaro) beside the mask or one folder up (Datumaro keeps it at the dataset
  root, the masks in ``trainannot/``). Datumaro moves the black label to class
  index 0; so does this reader. Without the file, the standard CamVid 32-class
  colours are used when the format is asked for by name.
- ``voc-rgb``: RGB PNG painted with the VOC colour map (CVAT and Datumaro save
  VOC masks this way): colour of index ``v`` = value ``v``, (224, 224, 192) =
  255 = void. A ``labelmap.txt`` (``name:R,G,B:parts:actions``) beside the
  mask or one folder up renames (and may recolour) the values.
- ``rgb-legend``: RGB PNG + a JSON legend: ``<mask stem>.legend.json``,
  ``legend.json`` or ``_mask_legend.json`` as ClearML's
  ``register_dataset_masks.py`` reads it (``{"name": [R, G, B]}``), or
  Datumaro's ``dataset_meta.json`` (``label_map``, ``segmentation_colors``,
  ``background_label``).

All three read ``.png`` like ``index-png``; their sniffers accept only RGB(A)
PNGs (``index-png`` keeps L/P files at priority 10) and rely on the side file.
Colours missing from a table are never dropped: each becomes one segment
labelled ``"unknown"`` with ``attributes={"unknown_color": True}``, a warning
sentence with its pixel count and bounding box, and an entry of
``provenance.details["unknown_colors"]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from viewer.core.errors import ReadError, WriteError
from viewer.core.fileio import atomic_write_text
from viewer.core.formats.base import FormatSpec
from viewer.core.formats.common import (
    dump_json,
    fit_to_image,
    load_json,
    read_rgb_png,
    write_png,
)
from viewer.core.formats.names import read_names_beside
from viewer.core.palettes import builtin_palette, stable_color
from viewer.core.segment_table import Segment
from viewer.core.segmentation import BACKGROUND_NAMES, Kind, Provenance, Segmentation
from viewer.core.types import RGB

UNKNOWN = "unknown"
BLACK: RGB = (0, 0, 0)
VOC_VOID = 255
MASK_FOLDERS = ("SegmentationClass", "SegmentationObject")
LABEL_COLORS = "label_colors.txt"
LABELMAP = "labelmap.txt"
LABELMAP_HEADER = "# label:color_rgb:parts:actions"
LEGEND_SUFFIX = ".legend.json"
LEGEND_FILES = ("legend.json", "_mask_legend.json", "dataset_meta.json")
PHOTO_FOLDERS = frozenset({"images", "image", "imgs", "img", "jpegimages", "photos"})
#: Unknown colours listed one by one in the details (a photo opened as a mask has thousands).
MAX_LISTED_UNKNOWN = 256
#: Unknown colours that get a warning sentence of their own; the rest are summed up.
MAX_WARNED_UNKNOWN = 10
#: From this many pixels on, a dense 2**24-entry table beats sorting the colours.
DENSE_LOOKUP_PIXELS = 1 << 18
_NOT_FOUND = 0xFFFF
#: Sniffing decodes a PNG to check its colours only up to this size.
_SNIFF_DECODE_PIXELS = 40_000_000

#: The CamVid release's 32 classes and colours (``label_colors.txt``; Datumaro's
#: ``CamvidLabelMap`` lists the same, Void first).
CAMVID_CLASSES: tuple[tuple[str, RGB], ...] = (
    ("Void", (0, 0, 0)), ("Animal", (64, 128, 64)), ("Archway", (192, 0, 128)),
    ("Bicyclist", (0, 128, 192)), ("Bridge", (0, 128, 64)), ("Building", (128, 0, 0)),
    ("Car", (64, 0, 128)), ("CartLuggagePram", (64, 0, 192)), ("Child", (192, 128, 64)),
    ("Column_Pole", (192, 192, 128)), ("Fence", (64, 64, 128)), ("LaneMkgsDriv", (128, 0, 192)),
    ("LaneMkgsNonDriv", (192, 0, 64)), ("Misc_Text", (128, 128, 64)),
    ("MotorcycleScooter", (192, 0, 192)), ("OtherMoving", (128, 64, 64)),
    ("ParkingBlock", (64, 192, 128)), ("Pedestrian", (64, 64, 0)), ("Road", (128, 64, 128)),
    ("RoadShoulder", (128, 128, 192)), ("Sidewalk", (0, 0, 192)), ("SignSymbol", (192, 128, 128)),
    ("Sky", (128, 128, 128)), ("SUVPickupTruck", (64, 128, 192)), ("TrafficCone", (0, 0, 64)),
    ("TrafficLight", (0, 64, 64)), ("Train", (192, 64, 128)), ("Tree", (128, 128, 0)),
    ("Truck_Bus", (192, 128, 192)), ("Tunnel", (64, 0, 64)), ("VegetationMisc", (192, 192, 0)),
    ("Wall", (64, 192, 0)),
)


# -- colour tables ----------------------------------------------------------------
@dataclass(frozen=True)
class ColorClass:
    """One row of a colour table: the colour that stands for a class.

    Attributes
    ----------
    color : tuple of 3 int or None
        None for a row that names a class without a colour (CamVid allows it).
    name : str
    value : int
        The class's index in its table; it becomes the segment's ``class_id``.
    void : bool
    background : bool
        Hidden in overlays by default (Datumaro's ``background_label``).
    attributes : Mapping
        Copied onto the segment (ClearML keeps its label list here).
    fields : Mapping
        Other :class:`Segment` fields to set (``score``, ``instance`` ...).
    """

    color: RGB | None
    name: str
    value: int
    void: bool = False
    background: bool = False
    attributes: Mapping[str, Any] = field(default_factory=dict)
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ColorMatch:
    """Where every pixel's colour sits in a colour table.

    Attributes
    ----------
    rows : ndarray of shape (H, W), int32
        The table row of each pixel's colour; ``len(table) + k`` for the k-th
        colour the table lacks.
    unknown : ndarray of shape (K, 3), uint8
        The colours the table lacks, in ascending packed order.
    """

    rows: np.ndarray
    unknown: np.ndarray


def pack_rgb(rgb: np.ndarray) -> np.ndarray:
    """Pack ``(..., 3)`` uint8 colours into one uint32 key each (``R << 16 | G << 8 | B``)."""
    rgb = np.asarray(rgb, np.uint8)
    return ((rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8)
            | rgb[..., 2])


def unpack_rgb(keys: np.ndarray) -> np.ndarray:
    """Inverse of :func:`pack_rgb`: ``(..., 3)`` uint8 colours."""
    keys = np.asarray(keys, np.uint32)
    return np.stack([(keys >> 16) & 255, (keys >> 8) & 255, keys & 255], axis=-1).astype(np.uint8)


def match_colors(rgb: np.ndarray, colors: Sequence[RGB] | np.ndarray) -> ColorMatch:
    """Look every pixel's colour up in a table, vectorised.

    Colours are packed into uint32 keys. Large images go through a dense
    2**24-entry table (one gather per pixel); small ones through ``np.unique``
    and ``searchsorted`` (no 32 MiB table for a thumbnail). When a colour is
    listed twice, the first row wins. Both paths give the same result.

    Parameters
    ----------
    rgb : ndarray of shape (H, W, 3), uint8
    colors : sequence of (R, G, B)
    """
    keys = pack_rgb(rgb)
    table = pack_rgb(np.asarray(colors, np.uint8).reshape(-1, 3))
    if keys.size >= DENSE_LOOKUP_PIXELS and table.size < _NOT_FOUND:
        rows = _dense_rows(keys, table)
    else:
        rows = _sorted_rows(keys, table)
    missing = rows < 0
    unknown_keys = np.zeros(0, np.uint32)
    if missing.any():
        unknown_keys, inverse = np.unique(keys[missing], return_inverse=True)
        rows[missing] = table.size + inverse.reshape(-1)
    return ColorMatch(rows, unpack_rgb(unknown_keys).reshape(-1, 3))


def _first_rows(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys of a table (sorted) and the first row holding each."""
    keys, first = np.unique(table, return_index=True)
    return keys, first.astype(np.int32)


def _sorted_rows(keys: np.ndarray, table: np.ndarray) -> np.ndarray:
    distinct, inverse = np.unique(keys.reshape(-1), return_inverse=True)
    row_of = np.full(distinct.size, -1, np.int32)
    if table.size:
        table_keys, first = _first_rows(table)
        pos = np.minimum(np.searchsorted(table_keys, distinct), table_keys.size - 1)
        found = table_keys[pos] == distinct
        row_of[found] = first[pos[found]]
    return row_of[inverse.reshape(-1)].reshape(keys.shape)


def _dense_rows(keys: np.ndarray, table: np.ndarray) -> np.ndarray:
    lut = np.full(1 << 24, _NOT_FOUND, np.uint16)
    table_keys, first = _first_rows(table)
    lut[table_keys] = first
    found = lut[keys]
    rows = found.astype(np.int32)
    rows[found == _NOT_FOUND] = -1
    return rows


def segmentation_from_colors(rgb: np.ndarray, classes: Sequence[ColorClass], *, source: Path,
                             format_name: str, details: dict[str, Any] | None = None,
                             table: str = "the colour table", color_keyed: bool = True,
                             kind: Kind | str = Kind.SEMANTIC,
                             unknown_base: int | None = None) -> Segmentation:
    """Build a segmentation from a colour mask and its colour table.

    Parameters
    ----------
    rgb : ndarray of shape (H, W, 3), uint8
    classes : sequence of ColorClass
        Values must be distinct; rows without a colour match nothing.
    source : Path
        The mask file (provenance and errors).
    format_name : str
    details : dict, optional
        Provenance details to extend (warnings are appended).
    table : str
        How warnings name the table ("label_colors.txt").
    color_keyed : bool
        True: each segment's ``source_value`` is its colour (CamVid, legends).
        False: the class value is the file's value (VOC colour map indices).
    kind : Kind
    unknown_base : int, optional
        First value given to unknown colours; default one above the largest class value.
    """
    usable = [c for c in classes if c.color is not None]
    match = match_colors(rgb, [c.color for c in usable])
    base = unknown_base if unknown_base is not None else max(
        (c.value for c in classes), default=-1) + 1
    unknown = {base + k: tuple(int(v) for v in color) for k, color in enumerate(match.unknown)}
    value_of_row = np.array([c.value for c in usable] + list(unknown), np.int64)
    values = value_of_row[match.rows] if value_of_row.size else np.zeros(rgb.shape[:2], np.int64)
    details = dict(details or {})
    add_warnings(details, duplicate_color_warnings(usable, table))
    by_value = {c.value: c for c in usable}
    seg = Segmentation.from_values(
        values, kind=kind, describe=_describer(by_value, unknown, color_keyed),
        void_values=[c.value for c in usable if c.void],
        hidden_values=[c.value for c in usable if _is_background(c)],
        provenance=Provenance(str(source), format_name, details))
    report_unknown(seg, table)
    return seg


def _describer(by_value: Mapping[int, ColorClass], unknown: Mapping[int, RGB],
               color_keyed: bool) -> Callable[[int], dict[str, Any]]:
    def describe(value: int) -> dict[str, Any]:
        if value in unknown:
            color = unknown[value]
            return {"label": UNKNOWN, "class_id": None, "color": color, "source_value": color,
                    "attributes": {"unknown_color": True}}
        row = by_value[value]
        fields: dict[str, Any] = {"label": row.name, "class_id": row.value, "color": row.color,
                                  "void": row.void, "attributes": dict(row.attributes)}
        if color_keyed:
            fields["source_value"] = row.color
        fields.update(row.fields)
        return fields
    return describe


def _is_background(row: ColorClass) -> bool:
    return row.background or row.name.strip().lower() in BACKGROUND_NAMES


def duplicate_color_warnings(classes: Iterable[ColorClass], table: str) -> list[str]:
    """Sentences for colours a table lists more than once (the first row wins)."""
    first: dict[RGB, ColorClass] = {}
    out = []
    for row in classes:
        if row.color is None:
            continue
        if row.color in first:
            out.append(f"{table} lists colour {_rgb_text(row.color)} for both "
                       f"{first[row.color].name!r} and {row.name!r}; its pixels are read as "
                       f"{first[row.color].name!r}")
        else:
            first[row.color] = row
    return out


def report_unknown(seg: Segmentation, table: str, *, flag: str = "unknown_color",
                   color_of: Callable[[Segment], RGB] | None = None,
                   mask: str | None = None) -> None:
    """Add the warnings and ``details["unknown_colors"]`` for segments marked ``flag``.

    Segments of one colour (CVAT splits them by instance) are summed into one
    entry: pixels added up, boxes joined.
    """
    color_of = color_of or (lambda s: s.color)
    found: dict[RGB, list[int]] = {}
    for s in seg.table:
        if s.attributes.get(flag) and s.bbox is not None:
            entry = found.setdefault(tuple(color_of(s)), [0, *s.bbox])
            entry[0] += s.area
            entry[1:] = _join_boxes(entry[1:], s.bbox)
    if not found:
        return
    details = dict(seg.provenance.details)
    entries = sorted(found.items(), key=lambda item: -item[1][0])
    listed = [{"color": list(color), "pixels": n, "bbox": box, **({"mask": mask} if mask else {})}
              for color, (n, *box) in entries[:MAX_LISTED_UNKNOWN]]
    details["unknown_colors"] = [*details.get("unknown_colors", []), *listed]
    if len(entries) > MAX_LISTED_UNKNOWN:
        details["unknown_colors_total"] = details.get("unknown_colors_total", 0) + len(entries)
    add_warnings(details, _unknown_sentences(entries, table, mask))
    seg.provenance = Provenance(seg.provenance.source, seg.provenance.format, details)


def add_warnings(details: dict[str, Any], sentences: Sequence[str]) -> None:
    """Append sentences to ``details["warnings"]`` (created only when there are some)."""
    if sentences:
        details["warnings"] = [*details.get("warnings", []), *sentences]


def _join_boxes(a: Sequence[int], b: Sequence[int]) -> list[int]:
    return [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]


def _unknown_sentences(entries: list[tuple[RGB, list[int]]], table: str,
                       mask: str | None) -> list[str]:
    where = f" in {mask}" if mask else ""
    out = []
    for color, (n, r0, c0, r1, c1) in entries[:MAX_WARNED_UNKNOWN]:
        pixels = "1 pixel" if n == 1 else f"{n:,} pixels"
        out.append(f"{pixels}{where} of colour {_rgb_text(color)}, which {table} does not list "
                   f"(rows {r0}-{r1 - 1}, columns {c0}-{c1 - 1}), kept as an {UNKNOWN!r} "
                   "segment")
    rest = entries[MAX_WARNED_UNKNOWN:]
    if rest:
        out.append(f"{len(rest):,} more colours{where} ({sum(e[1][0] for e in rest):,} pixels) "
                   f"are not in {table} either; each is kept as an {UNKNOWN!r} segment")
    return out


def _rgb_text(color: Sequence[int]) -> str:
    return "(" + ", ".join(str(int(c)) for c in color) + ")"


# -- side files -------------------------------------------------------------------
def find_beside(mask_path: Path, names: Sequence[str]) -> Path | None:
    """Return the first of ``names`` beside the mask, else one folder up, else None."""
    for folder in (mask_path.parent, mask_path.parent.parent):
        for name in names:
            if (folder / name).is_file():
                return folder / name
    return None


def table_path_for_write(mask_path: Path, name: str) -> Path:
    """Where a writer puts (or finds, to extend) the shared colour table ``name``.

    An existing table beside the mask or one folder up is extended; a mask in
    a VOC/CVAT mask folder gets it at the dataset root; otherwise beside it.
    """
    found = find_beside(mask_path, [name])
    if found is not None:
        return found
    if mask_path.parent.name in MASK_FOLDERS:
        return mask_path.parent.parent / name
    return mask_path.parent / name


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ReadError("file not found", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReadError(f"cannot read the colour table: {exc}", path) from None


def _table_lines(path: Path) -> Iterable[tuple[int, str]]:
    """Non-empty, non-comment lines with their 1-based line numbers."""
    for number, line in enumerate(_read_text(path).splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            yield number, line


def _parse_color(parts: Sequence[str], path: Path, number: int) -> RGB:
    try:
        color = tuple(int(p) for p in parts)
    except ValueError:
        color = ()
    if len(color) != 3 or not all(0 <= c <= 255 for c in color):
        raise ReadError(f"line {number}: colour {' '.join(parts)!r} should be three numbers "
                        "0..255", path)
    return color


def read_label_colors(path: Path) -> list[ColorClass]:
    """Rows of a CamVid ``label_colors.txt``: ``R G B name`` (a bare ``name`` has no colour).

    As in Datumaro, the black row moves to index 0 (CamVid's Void), so class
    indices match Datumaro's.
    """
    rows: list[tuple[RGB | None, str]] = []
    for number, line in _table_lines(path):
        parts = line.split(maxsplit=3)
        if len(parts) >= 3 and all(p.lstrip("-").isdigit() for p in parts[:3]):
            rows.append((_parse_color(parts[:3], path, number), parts[3] if len(parts) > 3 else ""))
        else:
            rows.append((None, line))
    black = next((i for i, (color, _) in enumerate(rows) if color == BLACK), None)
    if black:
        rows.insert(0, rows.pop(black))
    return [ColorClass(color, name, i, void=name.lower() == "void" and color == BLACK)
            for i, (color, name) in enumerate(rows)]


def format_label_colors(rows: Sequence[tuple[str, RGB]], header: bool = True) -> str:
    """Lines of a ``label_colors.txt`` (as Datumaro writes it: ``R G B name``; no header)."""
    return "".join(f"{r} {g} {b} {name}\n" for name, (r, g, b) in rows)


def read_labelmap(path: Path) -> list[ColorClass]:
    """Rows of a CVAT/Datumaro VOC ``labelmap.txt``: ``name:R,G,B:parts:actions``.

    Line i (comments and blank lines skipped) is class index i. A row without
    a colour gets the VOC colour of its index, as Datumaro does.
    """
    voc = builtin_palette("voc")
    rows = []
    for number, line in _table_lines(path):
        name, _, rest = line.partition(":")
        color_text = rest.split(":", 1)[0].strip()
        index = len(rows)
        color = (_parse_color(color_text.split(","), path, number) if color_text
                 else voc.color(index))
        rows.append(ColorClass(color, name.strip(), index))
    return rows


def format_labelmap(rows: Sequence[tuple[str, RGB]], header: bool = True) -> str:
    """Lines of a ``labelmap.txt`` (``name:R,G,B::``), after CVAT's header line."""
    lines = [LABELMAP_HEADER] if header else []
    lines += [f"{name}:{r},{g},{b}::" for name, (r, g, b) in rows]
    return "".join(f"{line}\n" for line in lines)


def write_table(path: Path, rows: Sequence[tuple[str, RGB]], existing: int,
                formatter: Callable[..., str]) -> Path:
    """Write a colour table: new rows are appended to an existing file, whose lines stay as
    they are (CVAT parts and actions, comments, CamVid rows without a colour).

    Parameters
    ----------
    rows : sequence of (name, colour)
        The whole table; the first ``existing`` rows came from the file.
    formatter : callable
        ``formatter(rows, header=...)`` returns the text of rows.
    """
    if path.is_file():
        text = _read_text(path)
        if text and not text.endswith("\n"):
            text += "\n"
        text += formatter(rows[existing:], header=False)
    else:
        text = formatter(rows)
    atomic_write_text(path, text)
    return path


def read_legend(path: Path) -> list[ColorClass]:
    """Rows of a JSON legend: ``{"name": [R, G, B]}`` or Datumaro's ``dataset_meta.json``."""
    data = load_json(path)
    if not isinstance(data, dict):
        raise ReadError(f"a legend is a JSON object, found {type(data).__name__}", path)
    if "label_map" in data or "segmentation_colors" in data:
        return _datumaro_meta(data, path)
    return [ColorClass(_json_color(color, path, repr(name)), str(name), i)
            for i, (name, color) in enumerate(data.items())]


def _json_color(color: Any, path: Path, where: str) -> RGB:
    ok = (isinstance(color, (list, tuple)) and len(color) == 3
          and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in color))
    if not ok:
        raise ReadError(f"{where}: colour should be [R, G, B] with numbers 0..255, got {color!r}",
                        path)
    return tuple(color)


def _datumaro_meta(data: Mapping[str, Any], path: Path) -> list[ColorClass]:
    label_map = data.get("label_map", {})
    if isinstance(label_map, list):
        label_map = {str(i): name for i, name in enumerate(label_map)}
    if not isinstance(label_map, dict):
        raise ReadError("'label_map' should be an object {index: name}", path)
    colors = data.get("segmentation_colors") or []
    if not isinstance(colors, list):
        raise ReadError("'segmentation_colors' should be a list of [R, G, B]", path)
    background = str(data.get("background_label", ""))
    rows = []
    for key, name in label_map.items():
        if not str(key).isdigit():
            raise ReadError(f"label_map key {key!r} should be a class index", path)
        index = int(key)
        color = colors[index] if index < len(colors) else None
        rgb = None if color is None else _json_color(color, path, f"segmentation_colors[{index}]")
        rows.append(ColorClass(rgb, str(name), index, background=str(key) == background))
    return sorted(rows, key=lambda row: row.value)


# -- writing: which colour stands for which segment -----------------------------------
@dataclass(frozen=True)
class ClassRequest:
    """A class a writer needs a table row for.

    Attributes
    ----------
    name : str
    segment_ids : tuple of int
        The segments painted with this class's colour.
    fixed : tuple of 3 int or None
        The colour the class must keep (its segments are keyed by it).
    wish : tuple of 3 int
        The preferred colour when not fixed (the display colour; black for background).
    """

    name: str
    segment_ids: tuple[int, ...]
    fixed: RGB | None
    wish: RGB


@dataclass
class ColorPlan:
    """The colour table a writer writes and the colour of every segment.

    Attributes
    ----------
    rows : list of (name, colour)
        The whole table: the existing file's rows, then new ones.
    colors : dict of int to RGB
        The colour painted for each segment id.
    row_of : dict of int to int
        Table row of each segment (absent for unknown-colour segments).
    notes : list of str
        What changed (colour keys that had to move), as sentences.
    conflicts : list of str
        Rows of the existing table that contradict this mask.
    """

    rows: list[tuple[str, RGB]]
    colors: dict[int, RGB] = field(default_factory=dict)
    row_of: dict[int, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def colour_key(segment: Segment) -> RGB | None:
    """The colour a segment is keyed by in its file (``source_value`` (R, G, B)), or None."""
    value = segment.source_value
    if isinstance(value, tuple) and len(value) in (3, 6):
        return tuple(int(v) for v in value[:3])
    return None


def is_unknown(segment: Segment) -> bool:
    """True for a segment read from a colour its table lacked."""
    return bool(segment.attributes.get("unknown_color")) and colour_key(segment) is not None


def segment_requests(seg: Segmentation) -> list[ClassRequest]:
    """One class per segment (CamVid, legends, ClearML), unknown colours left out."""
    return [ClassRequest(s.label, (s.id,), colour_key(s), _wish(s))
            for s in seg.table if not is_unknown(s)]


def _wish(segment: Segment) -> RGB:
    if segment.label.strip().lower() in BACKGROUND_NAMES and segment.instance is None:
        return BLACK
    return segment.color


def plan_colors(seg: Segmentation, requests: Sequence[ClassRequest],
                existing: Sequence[tuple[str, RGB]] = ()) -> ColorPlan:
    """Give every class a distinct colour and a table row.

    Fixed colours are kept (a second class with the same fixed colour is
    moved, and noted). Free classes reuse an existing row of their name,
    else take their wished colour, else the first free stable colour.
    Unknown-colour segments keep their colour and get no row.
    """
    plan = ColorPlan(list(existing))
    taken: dict[RGB, int] = {}
    by_name: dict[str, list[int]] = {}
    for index, (name, color) in enumerate(plan.rows):
        taken.setdefault(tuple(color), index)
        by_name.setdefault(name, []).append(index)
    raw: set[RGB] = set()
    for s in seg.table:
        if is_unknown(s):
            plan.colors[s.id] = colour_key(s)
            raw.add(colour_key(s))
    for color in sorted(raw & set(taken)):
        plan.conflicts.append(f"colour {_rgb_text(color)} of an unknown-colour segment is "
                              f"listed as {plan.rows[taken[color]][0]!r}")
    used: set[int] = set()
    fixed = [r for r in requests if r.fixed is not None]
    free = [r for r in requests if r.fixed is None]
    for request in fixed:
        row = _place_fixed(plan, request, taken, used, raw)
        if row is None:
            free.insert(0, request)
            continue
        _assign(plan, request, row, used)
    for request in free:
        reusable = [i for i in by_name.get(request.name, ()) if i not in used]
        row = reusable[0] if reusable else _place_free(plan, request, taken, raw)
        _assign(plan, request, row, used)
    return plan


def _place_fixed(plan: ColorPlan, request: ClassRequest, taken: dict[RGB, int], used: set[int],
                 raw: set[RGB]) -> int | None:
    """The row of a fixed colour, or None when another class of this mask holds it."""
    color = request.fixed
    row = taken.get(color)
    if color in raw or (row is not None and row in used):
        plan.notes.append(f"{request.name or 'an unnamed segment'!r} shares colour "
                          f"{_rgb_text(color)} with another segment and is written in a new "
                          "colour")
        return None
    if row is None:
        return _new_row(plan, request.name, color, taken)
    if plan.rows[row][0] != request.name:
        plan.conflicts.append(f"colour {_rgb_text(color)} is listed as {plan.rows[row][0]!r}, "
                              f"but this mask uses it for {request.name!r}")
    return row


def _place_free(plan: ColorPlan, request: ClassRequest, taken: dict[RGB, int],
                raw: set[RGB]) -> int:
    """A new row in the wished colour, or in a free one when that is taken."""
    color = request.wish
    if color in taken or color in raw:
        color = _free_color(taken, raw)
    return _new_row(plan, request.name, color, taken)


def _free_color(taken: Mapping[RGB, int], raw: set[RGB]) -> RGB:
    n = 0
    while True:
        color = stable_color(n)
        if color not in taken and color not in raw and color != BLACK:
            return color
        n += 1


def _new_row(plan: ColorPlan, name: str, color: RGB, taken: dict[RGB, int]) -> int:
    plan.rows.append((name, color))
    taken[color] = len(plan.rows) - 1
    return len(plan.rows) - 1


def _assign(plan: ColorPlan, request: ClassRequest, row: int, used: set[int]) -> None:
    used.add(row)
    for seg_id in request.segment_ids:
        plan.colors[seg_id] = tuple(plan.rows[row][1])
        plan.row_of[seg_id] = row


def paint(labels: np.ndarray, colors: Mapping[int, RGB]) -> np.ndarray:
    """Colour a label map: one lookup-table gather, ``(H, W, 3)`` uint8."""
    size = max(int(labels.max(initial=0)), max(colors, default=0)) + 1
    lut = np.zeros((size, 3), np.uint8)
    for seg_id, color in colors.items():
        lut[seg_id] = color
    return lut[labels]


def check_conflicts(plan: ColorPlan, table_path: Path, mask_path: Path) -> None:
    """Refuse to write a mask that the existing table beside it would misread."""
    if plan.conflicts:
        raise WriteError(f"{table_path.name} already there does not fit this mask: "
                         f"{'; '.join(plan.conflicts)}; write into another folder", mask_path)


def existing_rows(path: Path, reader: Callable[[Path], list[ColorClass]]) -> list[tuple[str, RGB]]:
    """The coloured rows of a table file being extended ([] when there is none)."""
    if not path.is_file():
        return []
    try:
        return [(row.name, row.color) for row in reader(path) if row.color is not None]
    except ReadError as exc:
        raise WriteError(f"cannot extend the colour table: {exc.message}", path) from None


def name_problems(names: Iterable[str], forbidden: str, table: str) -> list[str]:
    """Sentences for labels a line-based table cannot hold as they are."""
    bad = sorted({n for n in names if n != n.strip() or any(ch in n for ch in forbidden)})
    if not bad:
        return []
    shown = " ".join(repr(ch) for ch in forbidden)
    return [f"labels with surrounding spaces or any of {shown} are cleaned in {table}: "
            + ", ".join(repr(n) for n in bad[:10])]


def clean_name(name: str, forbidden: str) -> str:
    """A label made safe for a line-based table (:func:`name_problems` reports the change)."""
    for ch in forbidden:
        name = name.replace(ch, "_")
    return name.strip()


# -- shared reader steps ----------------------------------------------------------
def in_photo_folder(path: Path) -> bool:
    """True for a file in a folder of photos (``images/``, or ``train/`` beside ``trainannot/``).

    Datumaro keeps ``dataset_meta.json`` and ``label_colors.txt`` one folder
    above both the masks and the photos; the photos are not masks.
    """
    parent = path.parent
    return (parent.name.lower() in PHOTO_FOLDERS
            or (parent.parent / f"{parent.name}annot").is_dir())


def is_rgb_png(path: Path) -> bool:
    """True for a PNG in mode RGB or RGBA (cheap: reads the header only)."""
    try:
        with Image.open(path) as img:
            return img.format == "PNG" and img.mode in ("RGB", "RGBA")
    except (OSError, ValueError, SyntaxError):
        return False


def finish(seg: Segmentation, path: Path, image_size: tuple[int, int] | None) -> Segmentation:
    """Apply the ``image_size`` option (nearest-neighbour upscaling or an error)."""
    return seg if image_size is None else fit_to_image(seg, image_size, path)


def rename_rows(rows: list[ColorClass], names: Mapping[int, str] | None) -> list[ColorClass]:
    """Rows with the names of ``names`` (by class value) instead of their own."""
    if not names:
        return rows
    return [ColorClass(r.color, names.get(r.value, r.name), r.value, r.void, r.background,
                       r.attributes, r.fields) for r in rows]


def _png_path(path: str | Path) -> Path:
    path = Path(path)
    return path if path.suffix.lower() == ".png" else path.with_suffix(".png")


# -- camvid -------------------------------------------------------------------------
CAMVID = "camvid"


def read_camvid(path: str | Path, *, label_colors: str | Path | None = None,
                names: Mapping[int, str] | None = None,
                image_size: tuple[int, int] | None = None, **_options) -> Segmentation:
    """Read a CamVid colour mask.

    Parameters
    ----------
    path : str or Path
    label_colors : str or Path, optional
        The ``label_colors.txt`` to use; default the one beside the mask or
        one folder up, else the standard CamVid colours (with a warning).
    names : mapping of class index to name, optional
        Overrides names of the table.
    image_size : (width, height), optional
    """
    path = Path(path)
    table = Path(label_colors) if label_colors else find_beside(path, [LABEL_COLORS])
    details: dict[str, Any] = {}
    if table is None:
        rows = [ColorClass(c, n, i, void=n == "Void") for i, (n, c) in enumerate(CAMVID_CLASSES)]
        details["warnings"] = [f"no {LABEL_COLORS} beside the mask or one folder up; read with "
                               "the standard CamVid 32-class colours"]
        details["color_table"] = "CamVid standard colours"
    else:
        rows = read_label_colors(table)
        details["color_table"] = str(table)
    seg = segmentation_from_colors(read_rgb_png(path), rename_rows(rows, names), source=path,
                                   format_name=CAMVID, details=details,
                                   table=table.name if table else "the CamVid colour map")
    return finish(seg, path, image_size)


def write_camvid(seg: Segmentation, path: str | Path, **_options) -> list[Path]:
    """Write an RGB mask and its ``label_colors.txt`` (extended when it already exists).

    Raises
    ------
    WriteError
        When the existing ``label_colors.txt`` gives one of this mask's colours another name.
    """
    path = _png_path(path)
    table = table_path_for_write(path, LABEL_COLORS)
    requests = [ClassRequest(clean_name(r.name, "\r\n"), r.segment_ids, r.fixed, r.wish)
                for r in segment_requests(seg)]
    existing = existing_rows(table, read_label_colors)
    plan = plan_colors(seg, requests, existing)
    check_conflicts(plan, table, path)
    write_png(path, paint(seg.labels, plan.colors))
    write_table(table, plan.rows, len(existing), format_label_colors)
    return [path, table]


def camvid_losses(seg: Segmentation) -> list[str]:
    """Colour keys that must move, and labels the text table cannot hold."""
    plan = plan_colors(seg, segment_requests(seg))
    return plan.notes + name_problems((s.label for s in seg.table), "\r\n", LABEL_COLORS)


def sniff_camvid(path: Path) -> bool:
    """An RGB PNG with ``label_colors.txt`` beside it or one folder up.

    Also a mask in Datumaro's CamVid layout without the file
    (``<subset>annot/`` beside ``<subset>.txt``), read with the standard colours.
    """
    if in_photo_folder(path) or not is_rgb_png(path):
        return False
    parent = path.parent
    datumaro = parent.name.endswith("annot") and \
        (parent.parent / f"{parent.name[:-len('annot')]}.txt").is_file()
    return datumaro or find_beside(path, [LABEL_COLORS]) is not None


# -- voc-rgb ------------------------------------------------------------------------
VOC_RGB = "voc-rgb"


def voc_rows(labelmap: Path | None, instance: bool = False) -> list[ColorClass]:
    """The VOC colour map as a table: value v = VOC colour v, 255 = void.

    Rows of a ``labelmap.txt`` come first and override names and colours;
    default rows whose colour a labelmap row took are left out.
    """
    voc = builtin_palette("voc")
    given = read_labelmap(labelmap) if labelmap else []
    taken_values = {row.value for row in given}
    taken_colors = {row.color for row in given}
    rows = list(given)
    for value in range(256):
        color = voc.color(value)
        if value in taken_values or color in taken_colors:
            continue
        void = value == VOC_VOID and not instance
        name = "" if instance else (voc.name_of(value) or ("void" if void else ""))
        rows.append(ColorClass(color, name, value, void=void))
    if instance:
        rows = [ColorClass(r.color, "", r.value,
                           fields={"instance": r.value or None, "class_id": None})
                for r in rows]
    return rows


def read_voc_rgb(path: str | Path, *, labelmap: str | Path | None = None,
                 kind: Kind | str | None = None, names: Mapping[int, str] | None = None,
                 image_size: tuple[int, int] | None = None, **_options) -> Segmentation:
    """Read a VOC mask saved as RGB colours (CVAT, Datumaro).

    Parameters
    ----------
    path : str or Path
    labelmap : str or Path, optional
        Default: ``labelmap.txt`` beside the mask or one folder up.
    kind : Kind, optional
        ``instance`` reads colours as instance numbers (the default in a
        ``SegmentationObject`` folder); else semantic.
    names : mapping of value to name, optional
    image_size : (width, height), optional
    """
    path = Path(path)
    if kind is None:
        kind = Kind.INSTANCE if path.parent.name == "SegmentationObject" else Kind.SEMANTIC
    kind = Kind(kind)
    table = Path(labelmap) if labelmap else find_beside(path, [LABELMAP])
    rows = voc_rows(table if kind is not Kind.INSTANCE else None, instance=kind is Kind.INSTANCE)
    if table is None and kind is not Kind.INSTANCE:
        # labelme's VOC export names the values in class_names.txt instead.
        rows = rename_rows(rows, read_names_beside(path))
    details = {"color_table": str(table) if table else "VOC colour map"}
    seg = segmentation_from_colors(
        read_rgb_png(path), rename_rows(rows, names), source=path, format_name=VOC_RGB,
        details=details, table=table.name if table else "the VOC colour map", color_keyed=False,
        kind=kind, unknown_base=256)
    return finish(seg, path, image_size)


def _voc_indices(seg: Segmentation) -> tuple[dict[int, int], list[str]]:
    """The VOC index of every segment that is not an unknown colour, and what that loses."""
    values = {s.id: (s.value if isinstance(s.value, int) else s.id)
              for s in seg.table if not is_unknown(s)}
    notes = []
    if -1 in values.values() and VOC_VOID not in values.values():
        values = {k: (VOC_VOID if v == -1 else v) for k, v in values.items()}
        notes.append("value -1 is written as 255, the VOC void value, as labelme does")
    rekeyed = [s.label or str(s.id) for s in seg.table
               if colour_key(s) is not None and not is_unknown(s)]
    if rekeyed:
        notes.append(f"{len(rekeyed)} colour-keyed segments are written with the VOC colour "
                     f"of their id: {', '.join(rekeyed[:10])}")
    bad = sorted({v for v in values.values() if not 0 <= v <= 255})
    if bad:
        notes.append(f"values {', '.join(map(str, bad[:10]))} are outside the 0..255 of the "
                     "VOC colour map")
    shared = sorted({v for v in values.values() if list(values.values()).count(v) > 1})
    if shared:
        notes.append(f"several segments become VOC value {', '.join(map(str, shared[:10]))} "
                     "and merge")
    return values, notes


def write_voc_rgb(seg: Segmentation, path: str | Path, **_options) -> list[Path]:
    """Write VOC colours, plus a ``labelmap.txt`` when labels differ from VOC's.

    Unknown-colour segments keep their own colour. An existing ``labelmap.txt``
    beside the mask (or one folder up) is extended, its colours used, and its
    names must agree with this mask's.

    Raises
    ------
    WriteError
        Values outside 0..255, or an existing labelmap.txt that disagrees.
    """
    path = _png_path(path)
    indices, _notes = _voc_indices(seg)
    bad = sorted({v for v in indices.values() if not 0 <= v <= 255})
    if bad:
        raise WriteError(f"VOC colour masks hold values 0..255; this mask has {bad[:10]} "
                         "(use index-png or label-npy)", path)
    table = table_path_for_write(path, LABELMAP)
    existing = [(r.name, r.color) for r in read_labelmap(table)] if table.is_file() else []
    rows = _labelmap_rows(seg, indices, existing, table, path)
    color_of = _voc_color_table(existing)
    colors = {seg_id: color_of[v] for seg_id, v in indices.items()}
    colors.update({s.id: colour_key(s) for s in seg.table if is_unknown(s)})
    write_png(path, paint(seg.labels, colors))
    if rows is None:
        return [path]
    write_table(table, rows, len(existing), format_labelmap)
    return [path, table]


def _voc_color_table(existing: Sequence[tuple[str, RGB]]) -> list[RGB]:
    """Colour of every value 0..255: a labelmap's colour where it has one, else VOC's."""
    voc = builtin_palette("voc")
    return [existing[v][1] if v < len(existing) else voc.color(v) for v in range(256)]


def _labelmap_rows(seg: Segmentation, indices: Mapping[int, int],
                   existing: Sequence[tuple[str, RGB]], table: Path,
                   mask: Path) -> list[tuple[str, RGB]] | None:
    """The labelmap.txt rows to write, or None when VOC's own names say it all."""
    voc = builtin_palette("voc")
    wanted = {v: clean_name(seg.table[i].label, ":\r\n") for i, v in indices.items()
              if not (v == VOC_VOID and seg.table[i].void)}
    if not existing and all(voc.name_of(v) == name for v, name in wanted.items()):
        return None
    rows = list(existing)
    for v in range(len(rows), max([0, *(v + 1 for v in wanted)])):
        rows.append((voc.name_of(v) or f"unused_{v}", voc.color(v)))
    for v, name in wanted.items():
        if v < len(existing) and existing[v][0] != name:
            raise WriteError(f"{table.name} already there names value {v} {existing[v][0]!r}, "
                             f"this mask {name!r}; write into another folder", mask)
        rows[v] = (name, rows[v][1])
    return rows


def voc_losses(seg: Segmentation) -> list[str]:
    """Values outside 0..255, colour keys replaced by VOC colours, labels with ``:``."""
    _indices, notes = _voc_indices(seg)
    return notes + name_problems((s.label for s in seg.table), ":\r\n", LABELMAP)


def sniff_voc_rgb(path: Path) -> bool:
    """An RGB PNG with a ``labelmap.txt`` near it, or whose colours are all VOC colours."""
    if in_photo_folder(path) or not is_rgb_png(path):
        return False
    if find_beside(path, [LABELMAP]) is not None:
        return True
    try:
        with Image.open(path) as img:
            if img.width * img.height > _SNIFF_DECODE_PIXELS:
                return False
        rgb = read_rgb_png(path)
    except (ReadError, OSError):
        return False
    colors = builtin_palette("voc").colors(256)
    return match_colors(rgb, colors).unknown.size == 0


# -- rgb-legend -----------------------------------------------------------------------
RGB_LEGEND = "rgb-legend"


def find_legend(path: Path) -> Path | None:
    """``<stem>.legend.json`` beside the mask, else a shared legend beside it or one folder up."""
    own = path.with_name(path.stem + LEGEND_SUFFIX)
    return own if own.is_file() else find_beside(path, LEGEND_FILES)


def read_rgb_legend(path: str | Path, *, legend: str | Path | None = None,
                    names: Mapping[int, str] | None = None,
                    image_size: tuple[int, int] | None = None, **_options) -> Segmentation:
    """Read a colour mask with a JSON legend.

    Parameters
    ----------
    path : str or Path
    legend : str or Path, optional
        The legend JSON; default found by :func:`find_legend`.
    names : mapping of class index to name, optional
    image_size : (width, height), optional

    Raises
    ------
    ReadError
        No legend found, or a legend that is not valid.
    """
    path = Path(path)
    table = Path(legend) if legend else find_legend(path)
    if table is None:
        raise ReadError(f"no legend JSON ({path.stem}{LEGEND_SUFFIX}, "
                        f"{', '.join(LEGEND_FILES)}) beside the mask or one folder up", path)
    rows = rename_rows(read_legend(table), names)
    seg = segmentation_from_colors(read_rgb_png(path), rows, source=path, format_name=RGB_LEGEND,
                                   details={"color_table": str(table)}, table=table.name)
    return finish(seg, path, image_size)


def _legend_rows(seg: Segmentation) -> tuple[ColorPlan, dict[str, RGB], list[str]]:
    """The plan, the legend object, and the labels that had to be made unique."""
    plan = plan_colors(seg, segment_requests(seg))
    legend: dict[str, RGB] = {}
    renamed = []
    for name, color in plan.rows:
        key, n = name, 2
        while key in legend:
            key, n = f"{name} ({n})", n + 1
        if key != name:
            renamed.append(f"{name!r} -> {key!r}")
        legend[key] = color
    return plan, legend, renamed


def write_rgb_legend(seg: Segmentation, path: str | Path, **_options) -> list[Path]:
    """Write an RGB mask and ``<stem>.legend.json`` (``{"name": [R, G, B]}``, ClearML style)."""
    path = _png_path(path)
    plan, legend, _renamed = _legend_rows(seg)
    write_png(path, paint(seg.labels, plan.colors))
    table = dump_json(path.with_name(path.stem + LEGEND_SUFFIX),
                      {name: list(color) for name, color in legend.items()})
    return [path, table]


def legend_losses(seg: Segmentation) -> list[str]:
    """Colour keys that must move, and labels a name-keyed legend must make unique."""
    plan, _legend, renamed = _legend_rows(seg)
    if renamed:
        plan.notes.append("a legend maps each label to one colour, so labels used by several "
                          f"segments are numbered: {', '.join(renamed[:10])}")
    return plan.notes


def sniff_rgb_legend(path: Path) -> bool:
    """An RGB PNG with a legend JSON beside it (or ``dataset_meta.json`` one folder up)."""
    return not in_photo_folder(path) and is_rgb_png(path) and find_legend(path) is not None


FORMATS = (
    FormatSpec(
        name=RGB_LEGEND, title="RGB colour mask + JSON legend (ClearML _mask_legend.json, "
        "Datumaro dataset_meta.json)", extensions=(".png",), read=read_rgb_legend,
        write=write_rgb_legend, sniff=sniff_rgb_legend, priority=7, losses=legend_losses,
        notes="legend {name: [R, G, B]}; colours not in it become 'unknown' segments"),
    FormatSpec(
        name=CAMVID, title="CamVid RGB colour mask + label_colors.txt", extensions=(".png",),
        read=read_camvid, write=write_camvid, sniff=sniff_camvid, priority=6,
        losses=camvid_losses,
        notes="'R G B name' lines; black is class 0; standard CamVid colours when absent"),
    FormatSpec(
        name=VOC_RGB, title="Pascal VOC colour map as RGB PNG (CVAT, Datumaro)",
        extensions=(".png",), read=read_voc_rgb, write=write_voc_rgb, sniff=sniff_voc_rgb,
        priority=4, losses=voc_losses,
        notes="(224, 224, 192) = 255 void; names from labelmap.txt"),
)
