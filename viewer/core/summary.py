"""Summaries of a segmentation for charts: area per class and confidence histograms.

Both work from what is already known: areas come from the segment table (kept
current by :meth:`Segmentation.refresh_stats`), so :func:`class_areas` costs
O(segments), never a pass over the label map. Only :func:`pixel_histogram`
reads pixels, in row bands so that a 4K map needs no full-size temporaries.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from viewer.core.segment_table import Segment
from viewer.core.segmentation import Segmentation
from viewer.core.types import RGB

#: Rows per band in :func:`pixel_histogram`: small enough to stay in cache-sized
#: temporaries, large enough that the per-band Python overhead is negligible.
_BAND_ROWS = 128
_MAX_BINS = 65535


@dataclass(frozen=True)
class ClassArea:
    """The pixels of one class (or of one unclassified label or segment).

    Attributes
    ----------
    key : tuple of (str, int or str)
        What groups the segments: ``("class", class_id)``, ``("label", label)``
        or ``("segment", id)``, in that order of preference.
    name : str
        Display name: the label of the group's largest labelled segment, else
        ``"class 7"`` or ``"segment 7"``.
    color : tuple of 3 int
        RGB colour of the group's largest segment.
    area : int
        Pixels of every segment in the group.
    share : float
        ``area`` as a fraction of all pixels of the label map (0..1).
    visible_area : int
        Pixels of the group's visible segments.
    segments : int
        Number of segments in the group.
    ids : tuple of int
        The segment ids of the group, ascending (to show or hide the class).
    """

    key: tuple[str, int | str]
    name: str
    color: RGB
    area: int
    share: float
    visible_area: int
    segments: int
    ids: tuple[int, ...] = ()

    @property
    def hidden(self) -> bool:
        """True when every segment of the group is hidden."""
        return self.visible_area == 0


class ConfidenceSource(enum.StrEnum):
    """Where the values of a :class:`ConfidenceHistogram` come from."""

    PIXELS = "pixels"  #: the per-pixel confidence map, one value per pixel
    SEGMENTS = "segments"  #: per-segment scores, one value per segment


@dataclass(frozen=True, eq=False)
class ConfidenceHistogram:
    """Counts of confidence values in equal bins over [0, 1].

    Attributes
    ----------
    source : ConfidenceSource
        Pixels of the confidence map, or segments with a score.
    counts : ndarray of shape (bins,), int64
        Values per bin; bin ``i`` covers ``[edges[i], edges[i + 1])``, the
        last bin includes 1.
    edges : ndarray of shape (bins + 1,), float64
    ignored : int
        Values left out because they are NaN or infinite.
    mean : float or None
        Mean of the counted values, None when nothing was counted.
    """

    source: ConfidenceSource
    counts: np.ndarray
    edges: np.ndarray
    ignored: int
    mean: float | None

    @property
    def total(self) -> int:
        """Number of values counted."""
        return int(self.counts.sum())


def class_areas(seg: Segmentation, *, include_void: bool = False) -> list[ClassArea]:
    """Return the area of every class of ``seg``, largest first.

    Segments are grouped by ``class_id`` when known, else by ``label``, else
    each stands alone. Void segments (unless ``include_void``, for a legend)
    and segments without pixels are left out; hidden ones are kept (see
    :attr:`ClassArea.hidden`).

    Parameters
    ----------
    seg : Segmentation
    include_void : bool
        Keep void/ignore segments as classes of their own.

    Returns
    -------
    list of ClassArea
        Sorted by area, descending; ties by name, then key.
    """
    groups: dict[tuple[str, int | str], list[Segment]] = {}
    for segment in seg.table:
        if (segment.void and not include_void) or segment.area <= 0:
            continue
        groups.setdefault(_group_key(segment), []).append(segment)
    total = max(seg.labels.size, 1)
    rows = [_class_area(key, members, total) for key, members in groups.items()]
    rows.sort(key=lambda r: (-r.area, r.name, str(r.key)))
    return rows


def _group_key(segment: Segment) -> tuple[str, int | str]:
    if segment.class_id is not None:
        return ("class", segment.class_id)
    if segment.label:
        return ("label", segment.label)
    return ("segment", segment.id)


def _class_area(key: tuple[str, int | str], members: list[Segment], total: int) -> ClassArea:
    largest = max(members, key=_size_order)
    labelled = [s for s in members if s.label]
    name = max(labelled, key=_size_order).label if labelled else f"{key[0]} {key[1]}"
    area = sum(s.area for s in members)
    return ClassArea(key=key, name=name, color=largest.color, area=area, share=area / total,
                     visible_area=sum(s.area for s in members if s.visible),
                     segments=len(members), ids=tuple(sorted(s.id for s in members)))


def _size_order(segment: Segment) -> tuple[int, int]:
    """Largest first; between equal areas the lower id, so the choice is stable."""
    return segment.area, -segment.id


def confidence_histogram(seg: Segmentation, bins: int = 20) -> ConfidenceHistogram | None:
    """Return the histogram of the confidence known for ``seg``, or None.

    The per-pixel confidence map is used when there is one; otherwise the
    ``score`` of every non-void segment that has one.

    Parameters
    ----------
    seg : Segmentation
    bins : int
        Number of equal bins over [0, 1] (1 to 65,535).

    Returns
    -------
    ConfidenceHistogram or None
        None when ``seg`` has neither a confidence map nor any segment score.
    """
    if seg.confidence is not None:
        return pixel_histogram(seg.confidence, bins)
    scores = [s.score for s in seg.table if s.score is not None and not s.void]
    if not scores:
        return None
    return value_histogram(scores, bins)


def pixel_histogram(confidence: np.ndarray, bins: int = 20) -> ConfidenceHistogram:
    """Histogram a per-pixel confidence map over [0, 1].

    NaN and infinite values are ignored; finite values outside [0, 1] are
    clipped into the first or last bin (softmax output can overshoot 1 by a
    rounding error). Bin ``i`` holds values with ``floor(value * bins) == i``
    computed in float32. About 20 ms for a 3840 x 2160 float32 map.

    Parameters
    ----------
    confidence : ndarray of shape (H, W), float
    bins : int
        Number of equal bins (1 to 65,535).

    Returns
    -------
    ConfidenceHistogram
        With ``source`` :attr:`ConfidenceSource.PIXELS`.
    """
    bins = _check_bins(bins)
    values = np.asarray(confidence)
    values = values.reshape(values.shape[0], -1) if values.ndim > 1 else values.reshape(1, -1)
    # Non-finite values are counted in an extra bin at index ``bins``; a small
    # integer dtype keeps the quantised band (and bincount's input) compact.
    index_dtype = np.uint8 if bins <= 255 else np.uint16
    counts = np.zeros(bins + 1, np.int64)
    total = 0.0
    for r0 in range(0, values.shape[0], _BAND_ROWS):
        scaled = np.multiply(values[r0:r0 + _BAND_ROWS], np.float32(bins), dtype=np.float32)
        bad = ~np.isfinite(scaled)
        np.clip(scaled, 0, bins, out=scaled)
        scaled[bad] = 0
        total += float(scaled.sum(dtype=np.float64))
        np.minimum(scaled, bins - 1, out=scaled)  # 1.0 belongs to the last bin
        scaled[bad] = bins
        counts += np.bincount(scaled.astype(index_dtype).reshape(-1), minlength=bins + 1)
    counted = int(counts[:bins].sum())
    return ConfidenceHistogram(
        source=ConfidenceSource.PIXELS, counts=_frozen(counts[:bins]), edges=_edges(bins),
        ignored=int(counts[bins]), mean=total / bins / counted if counted else None)


def value_histogram(values: Iterable[float], bins: int = 20) -> ConfidenceHistogram:
    """Histogram a few values (segment scores) over [0, 1], like :func:`pixel_histogram`.

    Parameters
    ----------
    values : iterable of float
    bins : int

    Returns
    -------
    ConfidenceHistogram
        With ``source`` :attr:`ConfidenceSource.SEGMENTS`.
    """
    bins = _check_bins(bins)
    array = np.asarray(list(values), np.float64)
    finite = array[np.isfinite(array)]
    clipped = np.clip(finite, 0.0, 1.0)
    index = np.minimum((clipped * bins).astype(np.int64), bins - 1)
    counts = np.bincount(index, minlength=bins).astype(np.int64)
    return ConfidenceHistogram(
        source=ConfidenceSource.SEGMENTS, counts=_frozen(counts), edges=_edges(bins),
        ignored=int(array.size - finite.size),
        mean=float(clipped.mean()) if clipped.size else None)


def _check_bins(bins: int) -> int:
    if int(bins) != bins or not 1 <= bins <= _MAX_BINS:
        raise ValueError(f"bins must be an integer from 1 to {_MAX_BINS}, got {bins!r}")
    return int(bins)


def _edges(bins: int) -> np.ndarray:
    return _frozen(np.linspace(0.0, 1.0, bins + 1))


def _frozen(array: np.ndarray) -> np.ndarray:
    """The result arrays are shared by whoever holds the summary: make them read-only."""
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array
