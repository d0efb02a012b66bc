"""The segment table: one row of facts per segment id, with change events.

The table is the small side of a segmentation: relabelling, recolouring and
hiding edit rows here (microseconds) instead of rewriting the label map.
Events are psygnal signals, so a GUI can subscribe without the core knowing Qt.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from psygnal import Signal

from viewer.core.errors import SegmentationError
from viewer.core.types import RGB, BBox

#: Fields a caller may change with :meth:`SegmentTable.update`.
EDITABLE_FIELDS = frozenset(
    {"label", "class_id", "instance", "color", "visible", "score", "area", "bbox",
     "source_value", "void", "attributes"}
)


@dataclass(frozen=True)
class Segment:
    """One segment: the facts about one id of a label map.

    Attributes
    ----------
    id : int
        The value in the label map (non-negative).
    label : str
        Class name shown to the user ("person"), empty when unknown.
    class_id : int or None
        The class this segment belongs to; for semantic maps it equals the source value.
    instance : int or None
        Instance number within the class, for instance and panoptic maps.
    color : tuple of 3 int
        Display colour, RGB 0..255.
    visible : bool
        False hides the segment in overlays and exports of the overlay.
    score : float or None
        Confidence of the whole segment (detections), when known.
    area : int
        Number of pixels.
    bbox : tuple of 4 int or None
        ``(row0, col0, row1, col1)``, half-open; None when the segment is empty.
    source_value : int or tuple of int or None
        The value(s) the segment had in the file it came from, when they differ
        from ``id`` (-1, a panoptic id, an RGB colour); export restores them.
    void : bool
        An ignore/void/unlabelled region (VOC 255, DeepStream -1, panoptic 0).
    attributes : Mapping
        Free per-segment attributes (read-only mapping).
    """

    id: int
    label: str = ""
    class_id: int | None = None
    instance: int | None = None
    color: RGB = (0, 0, 0)
    visible: bool = True
    score: float | None = None
    area: int = 0
    bbox: BBox | None = None
    source_value: int | tuple[int, ...] | None = None
    void: bool = False
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if int(self.id) != self.id or self.id < 0:
            raise SegmentationError(f"segment ids are non-negative integers, got {self.id!r}")
        color = tuple(int(c) for c in self.color)
        if len(color) != 3 or not all(0 <= c <= 255 for c in color):
            raise SegmentationError(f"segment {self.id}: colour must be 3 values in 0..255, got {self.color!r}")
        object.__setattr__(self, "id", int(self.id))
        object.__setattr__(self, "color", color)
        object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))
        if self.bbox is not None:
            object.__setattr__(self, "bbox", tuple(int(v) for v in self.bbox))
        if isinstance(self.source_value, list):
            object.__setattr__(self, "source_value", tuple(self.source_value))

    @property
    def value(self) -> int | tuple[int, ...]:
        """The value to write back to a file: ``source_value`` if set, else ``id``."""
        return self.id if self.source_value is None else self.source_value

    def replace(self, **fields: Any) -> Segment:
        """Return a copy with ``fields`` changed."""
        return dataclasses.replace(self, **fields)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of every field."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["color"] = list(self.color)
        out["bbox"] = list(self.bbox) if self.bbox is not None else None
        out["attributes"] = dict(self.attributes)
        if isinstance(self.source_value, tuple):
            out["source_value"] = list(self.source_value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Segment:
        """Build a segment from :meth:`to_dict` output; unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise SegmentationError(f"unknown segment fields: {', '.join(sorted(unknown))}")
        return cls(**data)


# Every field but the id (compared by SegmentTable.put).
_FIELDS = tuple(f for f in dataclasses.fields(Segment) if f.name != "id")


class SegmentTable:
    """An ordered, evented collection of :class:`Segment` keyed by id.

    Iteration is in ascending id order. Every change emits a signal after it
    is made: ``inserted(ids)``, ``removed(ids)``, ``changed(ids, fields)`` and
    ``reset()`` when the whole table is replaced.
    """

    inserted = Signal(tuple)
    removed = Signal(tuple)
    changed = Signal(tuple, frozenset)
    reset = Signal()

    def __init__(self, segments: Iterable[Segment] = ()):
        self._rows: dict[int, Segment] = {}
        self._order: tuple[int, ...] | None = None
        for seg in segments:
            self._put_new(seg)

    # -- reading -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[Segment]:
        return (self._rows[i] for i in self.ids())

    def __contains__(self, seg_id: object) -> bool:
        return seg_id in self._rows

    def __getitem__(self, seg_id: int) -> Segment:
        try:
            return self._rows[int(seg_id)]
        except KeyError:
            raise KeyError(f"no segment with id {seg_id}") from None

    def __repr__(self) -> str:
        return f"SegmentTable({len(self)} segments)"

    def get(self, seg_id: int, default: Segment | None = None) -> Segment | None:
        """Return the segment with ``seg_id``, or ``default``."""
        return self._rows.get(int(seg_id), default)

    def ids(self) -> tuple[int, ...]:
        """Return all ids in ascending order."""
        if self._order is None:
            self._order = tuple(sorted(self._rows))
        return self._order

    def max_id(self) -> int:
        """Return the largest id, or -1 for an empty table."""
        ids = self.ids()
        return ids[-1] if ids else -1

    def next_free_id(self) -> int:
        """Return the smallest id above every id in use."""
        return self.max_id() + 1

    def ids_of_class(self, class_id: int) -> tuple[int, ...]:
        """Return the ids of every segment of ``class_id``."""
        return tuple(s.id for s in self if s.class_id == class_id)

    def class_mates(self, seg_id: int) -> tuple[int, ...]:
        """Return the ids of the segments of ``seg_id``'s class, itself included.

        The class is the class id when known, else the label (instance masks
        named "car" with no class number), else the segment is alone.
        """
        seg = self[seg_id]
        if seg.class_id is not None:
            return self.ids_of_class(seg.class_id)
        if seg.label:
            return tuple(s.id for s in self if s.class_id is None and s.label == seg.label)
        return (seg.id,)

    def copy(self) -> SegmentTable:
        """Return an independent table with the same rows and no subscribers."""
        return SegmentTable(self)

    def to_list(self) -> list[dict[str, Any]]:
        """Return every segment as a JSON-ready dict, in id order."""
        return [s.to_dict() for s in self]

    # -- writing -------------------------------------------------------------
    def add(self, segment: Segment) -> None:
        """Insert ``segment``; its id must be new."""
        self.add_many([segment])

    def add_many(self, segments: Iterable[Segment]) -> None:
        """Insert several new segments and emit one ``inserted``."""
        added = []
        for seg in segments:
            self._put_new(seg)
            added.append(seg.id)
        if added:
            self.inserted.emit(tuple(added))

    def update(self, seg_id: int, **fields: Any) -> Segment:
        """Change ``fields`` of one segment; return the segment as it was."""
        return self.update_many({seg_id: fields})[int(seg_id)]

    def update_many(self, changes: Mapping[int, Mapping[str, Any]]) -> dict[int, Segment]:
        """Change fields of several segments, emit one ``changed``; return the old rows."""
        names: set[str] = set()
        for fields in changes.values():
            names.update(fields)
        bad = names - EDITABLE_FIELDS
        if bad:
            raise SegmentationError(f"cannot edit segment fields: {', '.join(sorted(bad))}")
        old = {int(i): self[i] for i in changes}
        new = {i: old[i].replace(**changes[i]) for i in old}
        self._rows.update(new)
        if old:
            self.changed.emit(tuple(old), frozenset(names))
        return old

    def put(self, segments: Iterable[Segment]) -> None:
        """Overwrite existing rows with whole segments (used by undo)."""
        segments = list(segments)
        names: set[str] = set()
        for seg in segments:
            if seg.id not in self._rows:
                raise SegmentationError(f"no segment with id {seg.id} to overwrite")
            old = self._rows[seg.id]
            # Only the fields that differ, so listeners can tell an area update
            # (an undone brush stroke) from a recolour.
            names.update(f.name for f in _FIELDS if getattr(old, f.name) != getattr(seg, f.name))
            self._rows[seg.id] = seg
        if segments:
            self.changed.emit(tuple(s.id for s in segments), frozenset(names))

    def remove(self, ids: Iterable[int]) -> list[Segment]:
        """Remove segments by id, emit one ``removed``; return the removed rows."""
        gone = [self._rows.pop(int(i)) for i in ids if int(i) in self._rows]
        if gone:
            self._order = None
            self.removed.emit(tuple(s.id for s in gone))
        return gone

    def replace_all(self, segments: Iterable[Segment]) -> None:
        """Replace every row and emit ``reset``."""
        self._rows.clear()
        self._order = None
        for seg in segments:
            self._put_new(seg)
        self.reset.emit()

    def _put_new(self, seg: Segment) -> None:
        if not isinstance(seg, Segment):
            raise SegmentationError(f"expected a Segment, got {type(seg).__name__}")
        if seg.id in self._rows:
            raise SegmentationError(f"duplicate segment id {seg.id}")
        self._rows[seg.id] = seg
        self._order = None
