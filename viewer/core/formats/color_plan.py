"""Writing colour masks: which colour stands for which segment, and in which table row.

:func:`plan_colors` gives every class a writer needs (:class:`ClassRequest`)
a distinct colour and a row of the colour table, extending the rows of a
table already on disk; :func:`paint` colours the label map with the result.
Segments read from colours their table lacked keep those colours and get no
row. Used by the writers of :mod:`~viewer.core.formats.rgb_mask`,
:mod:`~viewer.core.formats.cvat_mask` and :mod:`~viewer.core.formats.clearml`.

A VOC colour mask is keyed by value instead: :func:`voc_indices` gives each
segment its VOC value, :func:`voc_color_table` the colour of each value and
:func:`labelmap_rows` the ``labelmap.txt`` that names them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from viewer.core.errors import WriteError
from viewer.core.formats.color_lookup import BLACK, rgb_text
from viewer.core.formats.color_tables import VOC_VOID, clean_name
from viewer.core.formats.instance_classes import class_values, instance_loss
from viewer.core.palettes import builtin_palette, stable_color
from viewer.core.segment_table import Segment
from viewer.core.segmentation import BACKGROUND_NAMES, Segmentation
from viewer.core.types import RGB


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
        plan.conflicts.append(f"colour {rgb_text(color)} of an unknown-colour segment is "
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
                          f"{rgb_text(color)} with another segment and is written in a new "
                          "colour")
        return None
    if row is None:
        return _new_row(plan, request.name, color, taken)
    if plan.rows[row][0] != request.name:
        plan.conflicts.append(f"colour {rgb_text(color)} is listed as {plan.rows[row][0]!r}, "
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


# -- the VOC colour map: colours come from values, not names ---------------------
def voc_indices(seg: Segmentation) -> tuple[dict[int, int], list[str]]:
    """The VOC index of every segment that is not an unknown colour, and what that loses.

    An instance read with classes is written as its classes (person
    instances 1 and 2 both become VOC 15), which loses the instances.
    """
    classes = class_values(seg)
    if classes is not None:
        values = {s.id: classes[s.id] for s in seg.table if not is_unknown(s)}
        notes = instance_loss(seg, classes, "a VOC class mask")
    else:
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
    # One count of all values: counting each value in the list took minutes at 60,000 ids.
    merging = values if classes is None else \
        {i: v for i, v in values.items() if seg.table[i].instance is None}
    shared = sorted(v for v, n in Counter(merging.values()).items() if n > 1)
    if shared:
        notes.append(f"several segments become VOC value {', '.join(map(str, shared[:10]))} "
                     "and merge")
    return values, notes


def voc_color_table(existing: Sequence[tuple[str, RGB]]) -> list[RGB]:
    """Colour of every value 0..255: a labelmap's colour where it has one, else VOC's.

    A last row in the VOC void colour is value 255's (see :func:`labelmap_rows`).
    """
    voc = builtin_palette("voc")
    existing = without_void_row(existing)
    return [existing[v][1] if v < len(existing) else voc.color(v) for v in range(256)]


def without_void_row(rows: Sequence[tuple[str, RGB]]) -> Sequence[tuple[str, RGB]]:
    """The rows of values 0..n: a last row in the VOC void colour is value 255's, not n+1's."""
    void_color = builtin_palette("voc").color(VOC_VOID)
    if rows and tuple(rows[-1][1]) == void_color and len(rows) - 1 != VOC_VOID:
        return rows[:-1]
    return rows


def labelmap_rows(seg: Segmentation, indices: Mapping[int, int],
                  existing: Sequence[tuple[str, RGB]], table: Path,
                  mask: Path) -> list[tuple[str, RGB]] | None:
    """The labelmap.txt rows to write, or None when VOC's own names say it all.

    Row v is value v. Every colour painted has a row, void included: Datumaro
    refuses a mask colour its labelmap lacks ("Undeclared color"). The void
    row (VOC colour 255) comes last, at the row after the classes, as in
    Datumaro's own VOC labelmap ("ignored", row 21); it moves to the end
    again when an existing table gains rows.
    """
    voc = builtin_palette("voc")
    void_color = voc.color(VOC_VOID)
    void = [seg.table[i] for i, v in indices.items() if v == VOC_VOID and seg.table[i].void]
    wanted = {v: clean_name(seg.table[i].label, ":\r\n") for i, v in indices.items()
              if not (v == VOC_VOID and seg.table[i].void)}
    if not existing and all(voc.name_of(v) == name for v, name in wanted.items()):
        return None
    rows = list(existing)
    void_row = None
    if len(without_void_row(rows)) < len(rows):
        void_row = rows.pop()  # stays last, after any rows added below
    elif void:
        void_row = (clean_name(void[0].label, ":\r\n") or "void", void_color)
    kept = len(rows)
    for v in range(len(rows), max([0, *(v + 1 for v in wanted)])):
        rows.append((voc.name_of(v) or f"unused_{v}", voc.color(v)))
    for v, name in wanted.items():
        if v < kept and rows[v][0] != name:
            raise WriteError(f"{table.name} already there names value {v} {rows[v][0]!r}, "
                             f"this mask {name!r}; write into another folder", mask)
        rows[v] = (name, rows[v][1])
    if void_row is not None and len(rows) < VOC_VOID and \
            all(tuple(color) != void_color for _name, color in rows):
        rows.append(void_row)
    return rows
