"""One edit's footprint: the pixels it wrote (a bounding-box patch) and the rows it touched.

An operation opens an :class:`Edit`, changes rows and writes at most one
patch of pixels through it, and closes it into a :class:`Change`. The change
holds only the box of pixels that really changed (before and after) and the
old and new rows, so that a command can undo and redo it exactly
(:func:`apply_change`) without copying the label map.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from viewer.core.edit import patchstats
from viewer.core.errors import SegmentationError
from viewer.core.segment_table import Segment
from viewer.core.segmentation import FullMask, Segmentation
from viewer.core.types import BBox, dtype_for_max_id

#: Rough bytes one table row costs in a change (a frozen dataclass and its fields).
ROW_BYTES = 400


@dataclass(frozen=True, eq=False)
class Change:
    """What one edit altered: a pixel patch and table rows, before and after.

    Attributes
    ----------
    bbox : tuple of 4 int or None
        ``(row0, col0, row1, col1)`` of the pixels that changed; None when
        no pixel changed (a table-only edit).
    before, after : ndarray of shape (row1 - row0, col1 - col0) or None
        The label-map box before and after the edit.
    rows_before, rows_after : mapping of int to Segment or None
        Every row the edit touched; None where the row did not exist.
    masks_before, masks_after : mapping of int to FullMask or None
        Complete masks of overlapped segments that the edit removed or set.
    dtypes : (dtype, dtype) or None
        The label map's dtype before and after, when the edit widened it.
    """

    bbox: BBox | None = None
    before: np.ndarray | None = None
    after: np.ndarray | None = None
    rows_before: Mapping[int, Segment | None] = field(default_factory=dict)
    rows_after: Mapping[int, Segment | None] = field(default_factory=dict)
    masks_before: Mapping[int, FullMask | None] = field(default_factory=dict)
    masks_after: Mapping[int, FullMask | None] = field(default_factory=dict)
    dtypes: tuple[np.dtype, np.dtype] | None = None

    @property
    def empty(self) -> bool:
        """True when the edit changed nothing."""
        return (self.bbox is None and not self.rows_before and not self.masks_before
                and self.dtypes is None)

    @property
    def nbytes(self) -> int:
        """Bytes held: both patches, complete masks and an estimate for the rows."""
        pixels = sum(a.nbytes for a in (self.before, self.after) if a is not None)
        masks = sum(m.nbytes for m in (*self.masks_before.values(),
                                            *self.masks_after.values()) if m is not None)
        return pixels + masks + ROW_BYTES * (len(self.rows_before) + len(self.rows_after))

    @property
    def added_ids(self) -> tuple[int, ...]:
        """Ids of the rows the edit created, ascending."""
        return tuple(sorted(i for i, row in self.rows_after.items()
                            if row is not None and self.rows_before.get(i) is None))

    @property
    def removed_ids(self) -> tuple[int, ...]:
        """Ids of the rows the edit removed, ascending."""
        return tuple(sorted(i for i, row in self.rows_before.items()
                            if row is not None and self.rows_after.get(i) is None))

    def inverse(self) -> Change:
        """Return the change that undoes this one."""
        return Change(self.bbox, self.after, self.before, self.rows_after, self.rows_before,
                      self.masks_after, self.masks_before,
                      None if self.dtypes is None else self.dtypes[::-1])


class Edit:
    """Records one edit of a segmentation while an operation makes it.

    Every table change goes through :meth:`add_rows`, :meth:`update_rows` or
    :meth:`remove_rows`, which remember each row as it was before its first
    change; :meth:`write` writes the pixels and updates the area and bbox of
    the segments it touched; :meth:`finish` returns the :class:`Change`.
    """

    def __init__(self, seg: Segmentation):
        self.seg = seg
        self._rows: dict[int, Segment | None] = {}
        self._masks: dict[int, FullMask | None] = {}
        self._dtype = seg.labels.dtype
        self._patch: tuple[BBox, np.ndarray, np.ndarray] | None = None

    def touch(self, ids: Iterable[int]) -> None:
        """Remember the rows of ``ids`` as they are now (once per id)."""
        for seg_id in ids:
            self._rows.setdefault(int(seg_id), self.seg.table.get(int(seg_id)))

    def add_rows(self, rows: Iterable[Segment]) -> None:
        """Insert new rows."""
        rows = list(rows)
        self.touch(s.id for s in rows)
        self.seg.table.add_many(rows)

    def update_rows(self, changes: Mapping[int, Mapping]) -> None:
        """Change fields of existing rows."""
        if changes:
            self.touch(changes)
            self.seg.table.update_many(changes)

    def remove_rows(self, ids: Iterable[int]) -> None:
        """Remove rows, and the complete masks of those segments."""
        ids = [int(i) for i in ids if int(i) in self.seg.table]
        self.touch(ids)
        for seg_id in ids:
            if seg_id in self.seg.full_masks:
                self._masks.setdefault(seg_id, self.seg.full_masks.pop(seg_id))
        self.seg.table.remove(ids)

    def fit(self, max_id: int) -> None:
        """Widen the label map when ``max_id`` does not fit its dtype."""
        wanted = dtype_for_max_id(int(max_id))
        if wanted.itemsize > self.seg.labels.dtype.itemsize:
            self.seg.labels = self.seg.labels.astype(wanted)

    def write(self, bbox: BBox, after: np.ndarray) -> BBox | None:
        """Write ``after`` into the box ``bbox`` of the label map.

        Only the pixels that differ are kept: the stored patch is cropped to
        their bounding box. Returns that box, or None when nothing differed.
        """
        if self._patch is not None:
            raise SegmentationError("an edit writes one patch; compose changes instead")
        labels = self.seg.labels
        r0, c0, r1, c1 = bbox
        region = labels[r0:r1, c0:c1]
        if after.shape != region.shape:
            raise SegmentationError(f"patch of shape {after.shape} for a box of {region.shape}")
        if after.dtype != labels.dtype:
            after = after.astype(labels.dtype)
        changed = region != after
        tight = patchstats.tight_box(changed)
        if tight is None:
            return None
        tr0, tc0, tr1, tc1 = tight
        box = (r0 + tr0, c0 + tc0, r0 + tr1, c0 + tc1)
        before = region[tr0:tr1, tc0:tc1].copy()
        # A copy, so that a small patch never keeps a large buffer alive.
        after = after[tr0:tr1, tc0:tc1].copy()
        changed = changed[tr0:tr1, tc0:tc1]
        np.copyto(labels[box[0]:box[2], box[1]:box[3]], after)
        self._patch = (box, before, after)
        updates = patchstats.stat_updates(labels, self.seg.table, box, before, after, changed)
        self.update_rows(updates)
        return box

    def finish(self, notify: bool = True) -> Change:
        """Return the change; tell subscribers which pixels changed."""
        table = self.seg.table
        after = {i: table.get(i) for i in self._rows}
        changed_ids = [i for i in self._rows if self._rows[i] != after[i]]
        rows_before = {i: self._rows[i] for i in changed_ids}
        rows_after = {i: after[i] for i in changed_ids}
        masks_after = {i: self.seg.full_masks.get(i) for i in self._masks}
        dtype = self.seg.labels.dtype
        dtypes = (self._dtype, dtype) if dtype != self._dtype else None
        box, before_px, after_px = self._patch if self._patch else (None, None, None)
        change = Change(box, before_px, after_px, MappingProxyType(rows_before),
                        MappingProxyType(rows_after), MappingProxyType(dict(self._masks)),
                        MappingProxyType(masks_after), dtypes)
        if notify and (box is not None or dtypes is not None):
            self.seg.notify_labels_changed(None if dtypes else box)
        return change


def apply_change(seg: Segmentation, change: Change) -> None:
    """Bring ``seg`` from the state before ``change`` to the state after it.

    Undo is ``apply_change(seg, change.inverse())``. Rows are restored whole,
    so no statistics are recomputed.
    """
    widen = change.dtypes is not None and change.dtypes[1].itemsize > seg.labels.dtype.itemsize
    if widen:
        seg.labels = seg.labels.astype(change.dtypes[1])
    if change.bbox is not None:
        r0, c0, r1, c1 = change.bbox
        np.copyto(seg.labels[r0:r1, c0:c1], change.after, casting="unsafe")
    _apply_rows(seg, change.rows_before, change.rows_after)
    for seg_id, mask in change.masks_after.items():
        if mask is None:
            seg.full_masks.pop(seg_id, None)
        else:
            seg.full_masks[seg_id] = mask
    if change.dtypes is not None and not widen:
        # Narrow only after the patch is back: the ids that needed the width are gone.
        seg.labels = seg.labels.astype(change.dtypes[1])
    if change.bbox is not None or change.dtypes is not None:
        seg.notify_labels_changed(None if change.dtypes else change.bbox)


def _apply_rows(seg: Segmentation, leaving: Mapping[int, Segment | None],
                rows: Mapping[int, Segment | None]) -> None:
    table = seg.table
    table.remove([i for i, row in rows.items() if row is None and i in table])
    table.add_many([row for i, row in rows.items() if row is not None and i not in table])
    put = []
    for seg_id, row in rows.items():
        current, old = table.get(seg_id), leaving.get(seg_id)
        if row is None or current is None or current == row:
            continue
        if old is not None:
            # Only the fields this change altered: a brush stroke's undo restores
            # areas and boxes, not a colour or a visibility chosen since.
            fields = {f.name: getattr(row, f.name) for f in dataclasses.fields(row)
                      if getattr(old, f.name) != getattr(row, f.name)}
            row = current.replace(**fields)
        if row != current:
            put.append(row)
    table.put(put)


def compose(first: Change, second: Change, labels: np.ndarray) -> Change:
    """Return one change equal to ``first`` followed by ``second``.

    ``labels`` is the label map as it is after ``second`` (pixels inside the
    union box that neither change touched are taken from it).
    """
    box = union_box(first.bbox, second.bbox)
    before = after = None
    if box is not None:
        r0, c0, r1, c1 = box
        after = labels[r0:r1, c0:c1].copy()
        before = after.copy()
        for change in (second, first):  # the earliest state wins
            if change.bbox is not None:
                paste(before, box, change.bbox, change.before)
    rows_before = {**second.rows_before, **first.rows_before}
    rows_after = {**first.rows_after, **second.rows_after}
    keep = [i for i in rows_before if rows_before[i] != rows_after[i]]
    masks_before = {**second.masks_before, **first.masks_before}
    masks_after = {**first.masks_after, **second.masks_after}
    dtypes = None
    if first.dtypes or second.dtypes:
        dtypes = ((first.dtypes or second.dtypes)[0], (second.dtypes or first.dtypes)[1])
    return Change(box, before, after, MappingProxyType({i: rows_before[i] for i in keep}),
                  MappingProxyType({i: rows_after[i] for i in keep}),
                  MappingProxyType(masks_before), MappingProxyType(masks_after), dtypes)


def union_box(a: BBox | None, b: BBox | None) -> BBox | None:
    """Return the smallest box holding both boxes (None counts as empty)."""
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def paste(dest: np.ndarray, dest_box: BBox, box: BBox, patch: np.ndarray) -> None:
    """Copy ``patch`` (lying at ``box``) into ``dest`` (lying at ``dest_box``, which holds it)."""
    r0, c0 = box[0] - dest_box[0], box[1] - dest_box[1]
    dest[r0:r0 + patch.shape[0], c0:c0 + patch.shape[1]] = patch
