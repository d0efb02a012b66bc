"""What edits changed against the original: a "changed pixels" mask and per-class figures.

A pixel changed when the value it is written as, or its class, differs: a
relabel changes the class of every pixel of the segment without touching the
label map, and splitting a class segment changes ids but nothing in the file.
The comparison runs in row bands through small lookup tables, so memory stays
bounded at 4K.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from viewer.core.errors import SegmentationError
from viewer.core.segment_table import Segment
from viewer.core.segmentation import Segmentation

_BAND_ROWS = 256


@dataclass(frozen=True, eq=False)
class ChangeReport:
    """Pixels and classes changed by edits.

    Attributes
    ----------
    mask : ndarray of bool, shape (H, W)
        True where a pixel's value or class changed.
    changed_pixels : int
    classes : list of dict
        One record per class that gained or lost pixels: ``label``,
        ``class_id``, ``area_before``, ``area_after``, ``pixels_added``,
        ``pixels_removed``.
    """

    mask: np.ndarray
    changed_pixels: int
    classes: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The figures as JSON (the mask itself is written as an image)."""
        total = int(self.mask.size)
        return {
            "changed_pixels": self.changed_pixels,
            "changed_fraction": round(self.changed_pixels / total, 8) if total else 0.0,
            "classes": self.classes,
        }


def original_copy(seg: Segmentation) -> Segmentation:
    """A copy of ``seg`` to compare edits with later (label map, rows, kind, overlaps).

    Keep it when a mask is opened; it costs one label map of memory.
    """
    masks = {i: m.copy() for i, m in seg.full_masks.items()}
    return Segmentation(seg.labels.copy(), seg.table.copy(), kind=seg.kind,
                        provenance=seg.provenance, full_masks=masks)


def change_report(original: Segmentation, edited: Segmentation) -> ChangeReport:
    """Compare an edited segmentation with the original it was read as."""
    if original.shape != edited.shape:
        raise SegmentationError(f"the original is {original.shape}, the edit {edited.shape}")
    keys: dict[object, int] = {}
    names: dict[int, Segment] = {}
    class_o, value_o = _luts(original, keys, names)
    class_e, value_e = _luts(edited, keys, names)  # the edited names win
    size = len(keys)
    mask = np.zeros(original.shape, bool)
    counts = {k: np.zeros(size, np.int64) for k in ("before", "after", "added", "removed")}
    for r0 in range(0, original.height, _BAND_ROWS):
        rows = slice(r0, r0 + _BAND_ROWS)
        co, ce = np.take(class_o, original.labels[rows]), np.take(class_e, edited.labels[rows])
        band = (co != ce) | (np.take(value_o, original.labels[rows])
                             != np.take(value_e, edited.labels[rows]))
        mask[rows] = band
        counts["before"] += np.bincount(co.reshape(-1), minlength=size)
        counts["after"] += np.bincount(ce.reshape(-1), minlength=size)
        counts["removed"] += np.bincount(co[band], minlength=size)
        counts["added"] += np.bincount(ce[band], minlength=size)
    classes = []
    for k in np.flatnonzero(counts["added"] + counts["removed"]):
        row = names[int(k)]
        classes.append({"label": row.label, "class_id": row.class_id,
                        "area_before": int(counts["before"][k]),
                        "area_after": int(counts["after"][k]),
                        "pixels_added": int(counts["added"][k]),
                        "pixels_removed": int(counts["removed"][k])})
    return ChangeReport(mask, int(np.count_nonzero(mask)), classes)


def _luts(seg: Segmentation, keys: dict[object, int],
          names: dict[int, Segment]) -> tuple[np.ndarray, np.ndarray]:
    """Per id: the index of its class in ``keys`` and the value it is written as."""
    size = max(int(seg.labels.max(initial=0)), seg.table.max_id()) + 1
    classes = np.zeros(size, np.int32)
    values = np.arange(size, dtype=np.int64)
    written = seg.integer_values()
    for row in seg.table:
        key = _class_key(row)
        k = keys.setdefault(key, len(keys))
        names[k] = row
        classes[row.id] = k
        values[row.id] = written[row.id]
    return classes, values


def _class_key(row: Segment) -> object:
    if row.class_id is not None:
        return ("class", row.class_id)
    if row.label:
        return ("label", row.label)
    return ("segment", row.id)
