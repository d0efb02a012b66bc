"""Comparing two segmentations as a user would: same regions, same labels."""

from __future__ import annotations

import numpy as np

from viewer.core.segmentation import Kind, Segmentation


def pixel_labels(seg: Segmentation) -> np.ndarray:
    """The label string of every pixel, as an object array."""
    by_id = {s.id: s.label for s in seg.table}
    lut = np.array([by_id.get(i, "") for i in range(int(seg.labels.max()) + 1)], dtype=object)
    return lut[seg.labels]


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two label maps group the pixels identically (ids may differ)."""
    pairs = np.unique(np.stack([a.ravel(), b.ravel()], axis=1).astype(np.int64), axis=0)
    return len(pairs) == len(np.unique(a)) == len(np.unique(b))


def semantic(values: np.ndarray) -> Segmentation:
    """A semantic segmentation of ``values`` named ``class<v>``, 0 = background."""
    names = {v: f"class{v}" for v in range(256)}
    names[0] = "background"
    return Segmentation.from_values(values, kind=Kind.SEMANTIC, names=names)
