"""Ids and rows for new segments, and the classes a segmentation holds.

New segments take the lowest free id, so ids stay compact (a label map stays
uint8 while it can). An id is free when no row uses it *and* no segment is
written as that value: a new segment is written as its id, and sharing a value
with another segment would merge the two in the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from viewer.core.errors import SegmentationError
from viewer.core.palettes import stable_color
from viewer.core.segment_table import Segment
from viewer.core.segmentation import Kind, Segmentation
from viewer.core.types import RGB

#: The id erasing paints and "over background only" protects the rest from.
#: Readers map file value 0 (background, unlabelled, VOID) to it.
BACKGROUND_ID = 0

CLASS_KINDS = (Kind.SEMANTIC, Kind.BINARY)


@dataclass(frozen=True)
class SegmentClass:
    """A class of a segmentation: the segments sharing a class id (or a label).

    Attributes
    ----------
    class_id : int or None
    label : str
    color : tuple of 3 int
        The colour of the representative segment.
    ids : tuple of int
        The segments of the class, the representative first: the one written
        as the class value, else the lowest id.
    """

    class_id: int | None
    label: str
    color: RGB
    ids: tuple[int, ...]

    @property
    def id(self) -> int:
        """The representative segment (what painting "this class" paints)."""
        return self.ids[0]


def classes(seg: Segmentation) -> list[SegmentClass]:
    """Return the classes of ``seg``, by class id (unnumbered ones last, by label).

    Segments without class id and label are classes of their own.
    """
    groups: dict[object, list[Segment]] = {}
    for row in seg.table:
        key = ("id", row.class_id) if row.class_id is not None else (
            ("label", row.label) if row.label else ("segment", row.id))
        groups.setdefault(key, []).append(row)
    out = []
    for rows in groups.values():
        first = representative(rows)
        ids = (first.id, *(r.id for r in rows if r.id != first.id))
        out.append(SegmentClass(first.class_id, first.label, first.color, ids))
    return sorted(out, key=lambda c: (c.class_id is None, c.class_id or 0, c.label, c.id))


def representative(rows: list[Segment]) -> Segment:
    """Return the segment that stands for a class.

    That is the one whose id is the class value, else one written as the
    class value, else the first.
    """
    for row in rows:
        if row.class_id is not None and row.id == row.class_id and row.source_value is None:
            return row
    for row in rows:
        if row.class_id is not None and row.value == row.class_id:
            return row
    return rows[0]


def used_values(seg: Segmentation) -> set[int]:
    """Every id in use and every integer a segment is written as."""
    used = set(seg.table.ids())
    used.update(seg.integer_values().values())
    return used


def free_ids(seg: Segmentation, count: int, *, prefer: int | None = None,
             start: int = 1) -> list[int]:
    """Return ``count`` free ids, lowest first (``prefer`` first when it is free)."""
    used = used_values(seg)
    out: list[int] = []
    if prefer is not None and prefer >= 0 and prefer not in used:
        out.append(int(prefer))
        used.add(int(prefer))
    candidate = start
    while len(out) < count:
        if candidate not in used:
            out.append(candidate)
        candidate += 1
    return out


def free_class_id(seg: Segmentation) -> int:
    """Return the lowest class id that no segment has and no segment is written as."""
    taken = {r.class_id for r in seg.table if r.class_id is not None}
    taken |= set(seg.integer_values().values())
    candidate = 1
    while candidate in taken:
        candidate += 1
    return candidate


def background_row(seg: Segmentation) -> Segment:
    """The row :data:`BACKGROUND_ID` gets when painting creates it (hidden, like a reader's)."""
    class_id = 0 if seg.kind in CLASS_KINDS else None
    return Segment(BACKGROUND_ID, label="background", class_id=class_id, visible=False)


def void_row(seg: Segmentation, seg_id: int) -> Segment:
    """A new void segment, written as 255 (VOC) when that value is free, else -1."""
    used = used_values(seg)
    value = 255 if 255 not in used else -1
    return Segment(seg_id, label="void", void=True, color=(224, 224, 192),
                   class_id=value if seg.kind in CLASS_KINDS else None,
                   source_value=None if value == seg_id else value)


def void_id(seg: Segmentation) -> int | None:
    """The id of the first void segment, or None."""
    return next((r.id for r in seg.table if r.void), None)


def next_instance(rows: Iterable[Segment]) -> int:
    """One more than the largest instance number among ``rows`` (1 when none)."""
    numbers = [r.instance for r in rows if r.instance is not None]
    return max(numbers, default=0) + 1


def new_class_row(seg: Segmentation, seg_id: int, label: str, class_id: int,
                  color: RGB | None) -> Segment:
    """A row for the first segment of a new class."""
    is_class_map = seg.kind in CLASS_KINDS
    value = class_id if is_class_map else seg_id
    return Segment(seg_id, label=label, class_id=class_id,
                   instance=None if is_class_map else 1,
                   color=color if color is not None else stable_color(value),
                   source_value=None if value == seg_id else value)


def check_ids(seg: Segmentation, ids: Iterable[int]) -> list[int]:
    """Return ``ids`` as ints, in order and without repeats; raise for unknown ids."""
    out = list(dict.fromkeys(int(i) for i in ids))
    missing = [i for i in out if i not in seg.table]
    if missing:
        raise SegmentationError(f"no segment with id {', '.join(map(str, missing))}")
    return out
