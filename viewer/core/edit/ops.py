"""Edits of whole segments: relabel, rename, recolour, add, merge, split, delete.

Every function changes the segmentation in place and returns the
:class:`~viewer.core.edit.patch.Change` it made, for a command
(:class:`~viewer.core.edit.commands.EditCommand`) to undo and redo. Class
changes (relabel, rename, recolour, visibility) only edit table rows, so they
cost microseconds at any image size; merge, split and delete rewrite pixels,
but only inside the bounding boxes of the segments involved.

Painting and clean-up live in :mod:`viewer.core.edit.paint` and
:mod:`viewer.core.edit.cleanup`; they are re-exported here so that callers
find every operation in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import cv2
import numpy as np

from viewer.core.edit.cleanup import fill_holes, keep_largest, remove_islands
from viewer.core.edit.ids import (
    BACKGROUND_ID,
    CLASS_KINDS,
    SegmentClass,
    background_row,
    check_ids,
    classes,
    free_class_id,
    free_ids,
    new_class_row,
    next_instance,
    representative,
    void_id,
    void_row,
)
from viewer.core.edit.paint import (
    Brush,
    Overwrite,
    fill_polygon,
    flood_fill,
    paint_dab,
    paint_line,
    paint_mask,
)
from viewer.core.edit.patch import Change, Edit, union_box
from viewer.core.errors import SegmentationError
from viewer.core.palettes import stable_color
from viewer.core.segment_table import Segment
from viewer.core.segmentation import Segmentation
from viewer.core.types import RGB

__all__ = [
    "BACKGROUND_ID", "Brush", "Overwrite", "SegmentClass", "add_class", "add_instance",
    "classes", "delete", "fill_holes", "fill_polygon", "flood_fill", "keep_largest", "merge",
    "paint_dab", "paint_line", "paint_mask", "recolor", "relabel", "remove_islands",
    "rename_class", "set_visible", "split",
]


# -- table only --------------------------------------------------------------------------
def relabel(seg: Segmentation, ids: Iterable[int], class_id: int, *,
            label: str | None = None) -> Change:
    """Give segments another class, through the table only.

    The segments take the class's label. In class maps (semantic, binary)
    they also take its colour, visibility, void flag and the value it is
    written as, so a save writes their pixels as that class. In instance maps
    they keep their colour and get the next free instance numbers.

    Parameters
    ----------
    seg : Segmentation
    ids : iterable of int
        The segments to relabel.
    class_id : int
        The new class; it may be new (then ``label`` names it).
    label : str, optional
        Name of a new class (default ``"class <class_id>"``); ignored when
        the class exists.
    """
    ids = check_ids(seg, ids)
    members = [r for r in seg.table if r.class_id == class_id and r.id not in ids]
    model = representative(members) if members else None
    if model is not None:
        label = model.label
    elif label is None:
        label = f"class {class_id}"
    instance = next_instance(members)
    changes = {}
    for seg_id in ids:
        fields: dict = {"class_id": int(class_id), "label": label}
        if seg.kind in CLASS_KINDS:
            fields.update(_class_fields(seg_id, class_id, model))
        elif seg.table[seg_id].instance is not None:
            fields["instance"] = instance
            instance += 1
        changes[seg_id] = fields
    return _update(seg, changes)


def rename_class(seg: Segmentation, seg_id: int, label: str) -> Change:
    """Rename the class of ``seg_id``: every segment of that class gets ``label``."""
    check_ids(seg, [seg_id])
    return _update(seg, {i: {"label": str(label)} for i in seg.table.class_mates(seg_id)})


def recolor(seg: Segmentation, ids: Iterable[int], color: RGB) -> Change:
    """Give segments a colour (pass ``table.class_mates(id)`` to recolour a class)."""
    color = tuple(int(c) for c in color)
    return _update(seg, {i: {"color": color} for i in check_ids(seg, ids)})


def set_visible(seg: Segmentation, ids: Iterable[int], visible: bool) -> Change:
    """Show or hide segments in the overlay."""
    return _update(seg, {i: {"visible": bool(visible)} for i in check_ids(seg, ids)})


def add_class(seg: Segmentation, label: str, *, class_id: int | None = None,
              color: RGB | None = None) -> Change:
    """Add a class with one empty segment to paint with (``change.added_ids[0]``).

    In class maps the segment's id is the class id when that id is free, so
    the label map keeps ids equal to values.

    Parameters
    ----------
    seg : Segmentation
    label : str
    class_id : int, optional
        Default: the lowest class id not in use.
    color : tuple of 3 int, optional
        Default: the stable colour of the class value.
    """
    if class_id is None:
        class_id = free_class_id(seg)
    elif any(r.class_id == class_id for r in seg.table):
        raise SegmentationError(f"class {class_id} exists already")
    prefer = class_id if seg.kind in CLASS_KINDS else None
    (seg_id,) = free_ids(seg, 1, prefer=prefer)
    edit = Edit(seg)
    edit.fit(seg_id)
    edit.add_rows([new_class_row(seg, seg_id, str(label), int(class_id), color)])
    return edit.finish()


def add_instance(seg: Segmentation, seg_id: int) -> Change:
    """Add an empty segment of the class of ``seg_id`` (a new instance to paint)."""
    (like,) = (seg.table[i] for i in check_ids(seg, [seg_id]))
    (new_id,) = free_ids(seg, 1)
    mates = [seg.table[i] for i in seg.table.class_mates(seg_id)]
    edit = Edit(seg)
    edit.fit(new_id)
    edit.add_rows([_piece_row(seg, like, new_id, next_instance(mates))])
    return edit.finish()


# -- pixels inside segment boxes ------------------------------------------------------------
def merge(seg: Segmentation, ids: Sequence[int], into: int | None = None) -> Change:
    """Merge segments into one: their pixels take the id ``into`` (default the first).

    The merged-away rows are removed; the pixels rewritten are those of the
    merged-away segments only, inside their boxes.
    """
    ids = check_ids(seg, ids)
    into = ids[0] if into is None else check_ids(seg, [into])[0]
    edit = Edit(seg)
    others = [i for i in ids if i != into]
    _rewrite(edit, others, into)
    edit.remove_rows(others)
    return edit.finish()


def split(seg: Segmentation, seg_id: int, *, connectivity: Literal[4, 8] = 8) -> Change:
    """Split a segment into its connected components.

    The largest component keeps the id (the first in raster order on a tie);
    the others get new ids, in raster order of their first pixel. In class
    maps the pieces keep the class, colour and value; in instance maps they
    get new instance numbers and colours.
    """
    (row,) = (seg.table[i] for i in check_ids(seg, [seg_id]))
    edit = Edit(seg)
    if row.bbox is None:
        return edit.finish()
    r0, c0, r1, c1 = row.bbox
    mask = (seg.labels[r0:r1, c0:c1] == row.id).view(np.uint8)
    count, comps, info, _ = cv2.connectedComponentsWithStats(mask, connectivity=connectivity,
                                                             ltype=cv2.CV_32S)
    if count <= 2:
        return edit.finish()
    keep = 1 + int(np.argmax(info[1:, cv2.CC_STAT_AREA]))
    pieces = [k for k in range(1, count) if k != keep]
    new_ids = free_ids(seg, len(pieces))
    edit.fit(max(new_ids))
    mates = [seg.table[i] for i in seg.table.class_mates(row.id)]
    first = next_instance(mates)
    edit.add_rows(_piece_row(seg, row, new, first + n) for n, new in enumerate(new_ids))
    lut = np.zeros(count, seg.labels.dtype)
    lut[pieces] = new_ids
    mapped = np.take(lut, comps)
    after = seg.labels[r0:r1, c0:c1].copy()
    np.copyto(after, mapped, where=mapped != 0)  # new ids are never 0
    edit.write(row.bbox, after)
    return edit.finish()


def delete(seg: Segmentation, ids: Iterable[int], *,
           to: Literal["background", "void"] = "background") -> Change:
    """Delete segments: their pixels become background (or void) and their rows go.

    Background is id :data:`~viewer.core.edit.ids.BACKGROUND_ID`; void is the
    first void segment, created (written as 255, else -1) when there is none.
    """
    ids = check_ids(seg, ids)
    edit = Edit(seg)
    target = _target_row(seg, edit, to)
    ids = [i for i in ids if i != target]
    _rewrite(edit, ids, target)
    edit.remove_rows(ids)
    return edit.finish()


# -- helpers ----------------------------------------------------------------------------------
def _update(seg: Segmentation, changes: dict[int, dict]) -> Change:
    edit = Edit(seg)
    edit.update_rows(changes)
    return edit.finish()


def _class_fields(seg_id: int, class_id: int, model: Segment | None) -> dict:
    value = model.value if model is not None else class_id
    fields = {"source_value": None if value == seg_id else value}
    if model is None:
        fields.update(color=stable_color(class_id), void=False, visible=True)
    else:
        fields.update(color=model.color, void=model.void, visible=model.visible)
    return fields


def _piece_row(seg: Segmentation, like: Segment, new_id: int, instance: int) -> Segment:
    """A new empty segment of ``like``'s class."""
    if seg.kind in CLASS_KINDS:
        value = like.value
        return like.replace(id=new_id, area=0, bbox=None, score=None,
                            source_value=None if value == new_id else value)
    return like.replace(id=new_id, area=0, bbox=None, score=None, source_value=None,
                        instance=instance, color=stable_color(new_id))


def _target_row(seg: Segmentation, edit: Edit, to: str) -> int:
    """The id deleted pixels take; its row is created when missing."""
    if to == "background":
        if BACKGROUND_ID not in seg.table:
            edit.add_rows([background_row(seg)])
        return BACKGROUND_ID
    if to != "void":
        raise SegmentationError(f"delete to 'background' or 'void', not {to!r}")
    found = void_id(seg)
    if found is not None:
        return found
    (new_id,) = free_ids(seg, 1)
    edit.fit(new_id)
    edit.add_rows([void_row(seg, new_id)])
    return new_id


def _rewrite(edit: Edit, ids: list[int], target: int) -> None:
    """Give every pixel of ``ids`` the id ``target``, inside the union of their boxes."""
    seg = edit.seg
    box = None
    for seg_id in ids:
        box = union_box(box, seg.table[seg_id].bbox)
    if box is None:
        return
    r0, c0, r1, c1 = box
    region = seg.labels[r0:r1, c0:c1]
    after = region.copy()
    after[np.isin(region, ids)] = target
    edit.write(box, after)
