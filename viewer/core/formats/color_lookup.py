"""The colour lookup every colour-keyed mask format shares.

:func:`match_colors` finds every pixel's colour in a colour table, vectorised;
:func:`segmentation_from_colors` turns a colour mask and its table (rows of
:class:`ColorClass`) into a segmentation. :mod:`~viewer.core.formats.rgb_mask`,
:mod:`~viewer.core.formats.cvat_mask` and :mod:`~viewer.core.formats.clearml`
read through it.

Colours missing from a table are never dropped: each becomes one segment
labelled ``"unknown"`` with ``attributes={"unknown_color": True}``, a warning
sentence with its pixel count and bounding box, and an entry of
``provenance.details["unknown_colors"]`` (:func:`report_unknown`).

The reader steps those formats share (:func:`is_rgb_png`, :func:`rename_rows`,
:func:`finish`) live here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from viewer.core import safe_input
from viewer.core.errors import ReadError
from viewer.core.formats.common import fit_to_image
from viewer.core.segment_table import Segment
from viewer.core.segmentation import BACKGROUND_NAMES, Kind, Provenance, Segmentation
from viewer.core.types import RGB

UNKNOWN = "unknown"
BLACK: RGB = (0, 0, 0)
#: Unknown colours listed one by one in the details (a photo opened as a mask has thousands).
MAX_LISTED_UNKNOWN = 256
#: Unknown colours that get a warning sentence of their own; the rest are summed up.
MAX_WARNED_UNKNOWN = 10
#: From this many pixels on, a dense 2**24-entry table beats sorting the colours.
DENSE_LOOKUP_PIXELS = 1 << 18
_NOT_FOUND = 0xFFFF


# -- looking colours up -------------------------------------------------------------
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


# -- warnings ---------------------------------------------------------------------
def duplicate_color_warnings(classes: Iterable[ColorClass], table: str) -> list[str]:
    """Sentences for colours a table lists more than once (the first row wins)."""
    first: dict[RGB, ColorClass] = {}
    out = []
    for row in classes:
        if row.color is None:
            continue
        if row.color in first:
            out.append(f"{table} lists colour {rgb_text(row.color)} for both "
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
        out.append(f"{pixels}{where} of colour {rgb_text(color)}, which {table} does not list "
                   f"(rows {r0}-{r1 - 1}, columns {c0}-{c1 - 1}), kept as an {UNKNOWN!r} "
                   "segment")
    rest = entries[MAX_WARNED_UNKNOWN:]
    if rest:
        out.append(f"{len(rest):,} more colours{where} ({sum(e[1][0] for e in rest):,} pixels) "
                   f"are not in {table} either; each is kept as an {UNKNOWN!r} segment")
    return out


def rgb_text(color: Sequence[int]) -> str:
    """A colour as warnings write it: ``(R, G, B)``."""
    return "(" + ", ".join(str(int(c)) for c in color) + ")"


# -- shared reader steps ----------------------------------------------------------
def is_rgb_png(path: Path) -> bool:
    """True for a PNG in mode RGB or RGBA (cheap: reads the header only)."""
    try:
        with safe_input.open_image(path, check_size=False) as img:
            return img.format == "PNG" and img.mode in ("RGB", "RGBA")
    except (OSError, ValueError, SyntaxError, ReadError):
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

