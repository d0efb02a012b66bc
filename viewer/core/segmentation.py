"""A segmentation: a label map of segment ids plus the segment table.

See :mod:`viewer.core.types` for the dtype policy. :func:`Segmentation.from_values`
is how readers turn the values found in a file (which may be -1, 255 or a large
panoptic id) into compact ids; :meth:`Segmentation.to_values` restores them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from psygnal import Signal

from viewer.core import stats
from viewer.core.budget import MAX_SEGMENTS
from viewer.core.errors import SegmentationError
from viewer.core.palettes import Palette, stable_color
from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.types import LABEL_DTYPES, BBox, dtype_for_max_id

BACKGROUND_NAMES = frozenset({"background", "_background_", "__background__", "bg"})
# Largest value range remapped through a dense lookup table (64 MiB of ids).
_DENSE_REMAP_MAX = 1 << 24


class Kind(enum.StrEnum):
    """What the ids of a label map mean."""

    SEMANTIC = "semantic"
    INSTANCE = "instance"
    PANOPTIC = "panoptic"
    BINARY = "binary"


@dataclass(frozen=True)
class Provenance:
    """Where a segmentation came from.

    Attributes
    ----------
    source : str or None
        The file (or files, joined) it was read from.
    format : str or None
        The registry name of the format.
    details : Mapping
        Format-specific facts (original size before upscaling, threshold, ...).
    """

    source: str | None = None
    format: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


class FullMask:
    """The complete mask of a segment that other segments partly cover.

    A label map holds one id per pixel, so where instances overlap (COCO RLE)
    only the top one shows. The full mask of each covered segment is kept here
    so that nothing is flattened away: exports that can hold overlaps restore
    them exactly, the others report the covered pixels as lost.

    A large mask need not be held as pixels: :meth:`filled` (a whole box, as
    Celantur boxes are) and :meth:`lazy` (decoded on demand, e.g. from RLE runs)
    keep a few bytes instead, so 300 overlapping full-image instances do not
    take one full-image array each. :attr:`mask` decodes such a mask on every
    access; read it once per use.

    Parameters
    ----------
    bbox : tuple of 4 int
        ``(row0, col0, row1, col1)``, half-open, in label-map coordinates.
    mask : ndarray of bool, shape (row1 - row0, col1 - col0)
    """

    __slots__ = ("bbox", "_mask", "_decode", "_area", "is_filled")

    def __init__(self, bbox: BBox, mask: np.ndarray):
        self.bbox: BBox = tuple(int(v) for v in bbox)
        self._mask: np.ndarray | None = mask
        self._decode: Callable[[], np.ndarray] | None = None
        self._area: int | None = None
        #: True for :meth:`filled` masks: every pixel of the box.
        self.is_filled = False

    @classmethod
    def filled(cls, bbox: BBox) -> FullMask:
        """A mask that covers its whole box, stored as the box alone."""
        rows, cols = _box_shape(bbox)
        full = cls.lazy(bbox, lambda: np.ones((rows, cols), bool), area=rows * cols)
        full.is_filled = True
        return full

    @classmethod
    def lazy(cls, bbox: BBox, decode: Callable[[], np.ndarray], *, area: int) -> FullMask:
        """A mask made by ``decode()`` when needed; ``area`` is its pixel count."""
        full = cls(bbox, None)  # type: ignore[arg-type]
        full._decode = decode
        full._area = int(area)
        return full

    @property
    def mask(self) -> np.ndarray:
        """The bool pixels of the box, shape ``(row1 - row0, col1 - col0)``."""
        if self._mask is not None:
            return self._mask
        return self._decode()

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)`` of the box."""
        return _box_shape(self.bbox)

    @property
    def area(self) -> int:
        """Pixels the mask covers."""
        if self._area is None:
            self._area = int(np.count_nonzero(self._mask))
        return self._area

    @property
    def nbytes(self) -> int:
        """Bytes held for the mask (a box or a decoder holds almost none)."""
        return int(self._mask.nbytes) if self._mask is not None else 64

    def copy(self) -> FullMask:
        """An independent copy (a lazy mask is immutable and is shared)."""
        return FullMask(self.bbox, self._mask.copy()) if self._mask is not None else self


def _box_shape(bbox: BBox) -> tuple[int, int]:
    r0, c0, r1, c1 = bbox
    return max(0, int(r1) - int(r0)), max(0, int(c1) - int(c0))


class Segmentation:
    """A label map of segment ids with its segment table.

    Parameters
    ----------
    labels : ndarray of shape (H, W), uint8, uint16 or uint32
        Segment ids. Use :meth:`from_values` for arbitrary integer data.
    table : SegmentTable, optional
        Rows for the ids. Ids present in ``labels`` but missing from the table
        get a row with a stable colour.
    kind : Kind
    confidence : ndarray of shape (H, W), float32, optional
        Per-pixel confidence in 0..1 (top softmax probability, sigmoid p).
    class_scores : ndarray of shape (C, H, W), float, optional
        Per-class scores (a model's output or a DeepStream probability map).
    provenance : Provenance, optional
    full_masks : dict of int to FullMask, optional
        Complete masks of segments that others overlap (see :class:`FullMask`).
    stats_known : bool
        The table already has a row with the right area and box for every id
        in ``labels`` (a copy of another segmentation's): skip recomputing
        them, which costs more than everything else here on a 4K map.
    """

    #: Emitted with the changed box ``(row0, col0, row1, col1)``, or None for all.
    labels_changed = Signal(object)

    def __init__(self, labels: np.ndarray, table: SegmentTable | None = None, *,
                 kind: Kind | str = Kind.SEMANTIC, confidence: np.ndarray | None = None,
                 class_scores: np.ndarray | None = None, provenance: Provenance | None = None,
                 full_masks: Mapping[int, FullMask] | None = None, stats_known: bool = False):
        self.labels = _check_labels(labels)
        self.kind = Kind(kind)
        self.table = table if table is not None else SegmentTable()
        self.confidence = _check_plane(confidence, self.shape, "confidence")
        self.class_scores = _check_scores(class_scores, self.shape)
        self.provenance = provenance or Provenance()
        self.full_masks: dict[int, FullMask] = dict(full_masks or {})
        if not stats_known:
            self.refresh_stats()

    # -- construction --------------------------------------------------------
    @classmethod
    def from_values(cls, values: np.ndarray, *, kind: Kind | str = Kind.SEMANTIC,
                    names: Mapping[int, str] | None = None, palette: Palette | None = None,
                    void_values: Collection[int] = (), hidden_values: Collection[int] | None = None,
                    describe: Callable[[int], Mapping[str, Any]] | None = None,
                    **kwargs: Any) -> Segmentation:
        """Build a segmentation from integer values as found in a file.

        Non-negative values below 65,536 keep their value as id. Otherwise
        negative values get the ids just above the largest value, or, when
        values are too large, all values are ranked into compact ids. Every
        segment whose id differs from its value records it in ``source_value``.

        Parameters
        ----------
        values : ndarray of shape (H, W), integer or bool
        kind : Kind
        names : mapping of value to str, optional
            Class names by value; a ``palette``'s names fill the gaps.
        palette : Palette, optional
            Colours (and names) by value; unlisted values get stable colours.
        void_values : collection of int
            Values that mean void/ignore/unlabelled (VOC 255, DeepStream -1).
        hidden_values : collection of int, optional
            Values hidden in overlays by default. When omitted, a value 0 named
            like background (or unnamed) is hidden.
        describe : callable, optional
            ``describe(value)`` returns extra :class:`Segment` fields for a value
            (``class_id``, ``instance``, ``attributes``, ...).
        **kwargs
            Passed to the constructor (``confidence``, ``provenance``, ...).
        """
        values = _as_integer_map(values)
        uniq = _unique(values)
        check_segment_count(uniq.size)
        ids, labels = _compact(values, uniq)
        # Areas and boxes once, for every id, before the rows are made: making
        # each row twice (bare, then with its statistics) cost minutes on maps
        # with many ids.
        size = int(ids.max(initial=-1)) + 1
        areas, boxes = stats.areas(labels, size), stats.bboxes(labels, size)
        rows = []
        for value, seg_id in zip(uniq.tolist(), ids.tolist(), strict=True):
            rows.append(_make_segment(value, seg_id, kind=Kind(kind), names=names or {},
                                      palette=palette, void_values=void_values,
                                      hidden_values=hidden_values, describe=describe,
                                      area=int(areas[seg_id]), bbox=boxes.get(seg_id)))
        return cls(labels, SegmentTable(rows), kind=kind, stats_known=True, **kwargs)

    # -- reading -------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)`` of the label map."""
        return self.labels.shape

    @property
    def height(self) -> int:
        """Rows of the label map."""
        return self.labels.shape[0]

    @property
    def width(self) -> int:
        """Columns of the label map."""
        return self.labels.shape[1]

    def segment_at(self, row: int, col: int) -> Segment | None:
        """Return the segment under pixel ``(row, col)``, or None outside the map."""
        if not (0 <= row < self.height and 0 <= col < self.width):
            return None
        return self.table.get(int(self.labels[row, col]))

    def confidence_at(self, row: int, col: int) -> float | None:
        """Return the per-pixel confidence at ``(row, col)`` when there is one."""
        if self.confidence is None or not (0 <= row < self.height and 0 <= col < self.width):
            return None
        return float(self.confidence[row, col])

    def mask_of(self, seg_id: int) -> np.ndarray:
        """Return the (H, W) bool mask of a segment, covered pixels included."""
        mask = self.labels == seg_id
        full = self.full_masks.get(seg_id)
        if full is not None:
            r0, c0, r1, c1 = full.bbox
            mask[r0:r1, c0:c1] |= full.mask
        return mask

    def covered_pixels(self) -> int:
        """Pixels of segments hidden under others (0 when nothing overlaps)."""
        total = 0
        for seg_id, full in self.full_masks.items():
            r0, c0, r1, c1 = full.bbox
            window = self.labels[r0:r1, c0:c1]
            if full.is_filled:
                # A whole box: the pixels of the box that show another id. When the
                # segment lies inside the box, its table area is what shows (the
                # table's area is kept current), so no pass over the box is needed.
                row = self.table.get(seg_id)
                inside = row is not None and row.bbox is not None and \
                    r0 <= row.bbox[0] and c0 <= row.bbox[1] and row.bbox[2] <= r1 and row.bbox[3] <= c1
                shown = row.area if inside else int(np.count_nonzero(window == seg_id))
                total += full.area - shown
            else:
                total += int(np.count_nonzero(full.mask & (window != seg_id)))
        return total

    def to_values(self, dtype: np.dtype | type | None = None) -> np.ndarray:
        """Return the label map with every id replaced by its segment's value.

        This restores -1, 255, panoptic ids and other source values exactly.
        Segments whose value is a colour tuple keep their id (colour formats
        map ids to colours themselves).

        Parameters
        ----------
        dtype : numpy dtype, optional
            Output dtype; by default the smallest signed or unsigned type that
            holds every value.
        """
        values = self.integer_values()
        if all(k == v for k, v in values.items()):
            out = self.labels
            return out.astype(dtype) if dtype is not None and out.dtype != dtype else out.copy()
        target = np.dtype(dtype) if dtype is not None else _dtype_for_values(values.values())
        lut = np.arange(int(self.labels.max()) + 1, dtype=np.int64)
        for seg_id, value in values.items():
            if seg_id < lut.size:
                lut[seg_id] = value
        return np.take(lut, self.labels).astype(target)

    def present_ids(self) -> np.ndarray:
        """The sorted ids that have pixels, counted in O(pixels) with bounded memory."""
        return _unique(self.labels)

    def integer_values(self) -> dict[int, int]:
        """The integer each segment is written as in an index format: id -> value.

        Integer source values are restored (-1, 255, panoptic ids); segments
        from colour masks take their class id (see below); others keep their id.
        """
        values = {s.id: s.value if isinstance(s.value, int) else s.id for s in self.table}
        ints = {s.id: s.value for s in self.table if isinstance(s.value, int)}
        values.update(self._class_values_of_colour_segments(ints))
        return values

    def _class_values_of_colour_segments(self, int_values: Mapping[int, int]) -> dict[int, int]:
        """Integer values for segments read from colour masks (CVAT, CamVid, ClearML).

        In a class map their class id is the natural integer value, so a
        colour mask converts to an index mask with its class indices. That
        only holds when the class ids are distinct and collide with no other
        value; otherwise the ids stay.
        """
        if self.kind not in (Kind.SEMANTIC, Kind.BINARY):
            return {}
        coloured = [s for s in self.table if isinstance(s.value, tuple)]
        classes = [s.class_id for s in coloured]
        if not coloured or None in classes or len(set(classes)) != len(classes):
            return {}
        if set(int_values.values()) & set(classes):
            return {}
        return {s.id: int(s.class_id) for s in coloured}

    # -- statistics ----------------------------------------------------------
    def refresh_stats(self, ids: Collection[int] | None = None) -> None:
        """Recompute ``area`` and ``bbox`` of segments and add missing rows.

        Parameters
        ----------
        ids : collection of int, optional
            Limit the update to these ids (all by default).
        """
        size = max(int(self.labels.max(initial=0)) + 1, self.table.max_id() + 1)
        counts = stats.areas(self.labels, size)
        boxes = stats.bboxes(self.labels, size)
        missing = [Segment(int(i), color=stable_color(int(i))) for i in np.flatnonzero(counts)
                   if int(i) not in self.table]
        if missing:
            self.table.add_many(missing)
        wanted = self.table.ids() if ids is None else [i for i in ids if i in self.table]
        changes = {}
        for seg_id in wanted:
            area, box = int(counts[seg_id]), boxes.get(seg_id)
            seg = self.table[seg_id]
            if seg.area != area or seg.bbox != box:
                changes[seg_id] = {"area": area, "bbox": box}
        if changes:
            self.table.update_many(changes)

    def notify_labels_changed(self, bbox: BBox | None = None) -> None:
        """Tell subscribers that pixels inside ``bbox`` (or anywhere) changed."""
        self.labels_changed.emit(bbox)


def check_segment_count(count: int) -> None:
    """Refuse a mask with more distinct segments than :data:`MAX_SEGMENTS`.

    Each segment is a table row and a line in the segment list, so a noise
    image (a million distinct values in a 4 MB ``.npy``) would take minutes
    and gigabytes; it is refused at once instead, with the count and the limit.

    Raises
    ------
    SegmentationError
    """
    if count > MAX_SEGMENTS:
        raise SegmentationError(
            f"holds {count:,} distinct values, more than the {MAX_SEGMENTS:,} segments "
            "this viewer shows in one mask (is it a label map, or an image or noise?)")


def _check_labels(labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise SegmentationError(f"a label map is 2-D (H, W), got shape {labels.shape}")
    if labels.dtype not in LABEL_DTYPES:
        raise SegmentationError(
            f"label maps are uint8, uint16 or uint32, got {labels.dtype}; use Segmentation.from_values")
    return np.ascontiguousarray(labels)


def _check_plane(plane: np.ndarray | None, shape: tuple[int, int], what: str) -> np.ndarray | None:
    if plane is None:
        return None
    plane = np.asarray(plane, dtype=np.float32)
    if plane.shape != shape:
        raise SegmentationError(f"{what} has shape {plane.shape}, the label map {shape}")
    return plane


def _check_scores(scores: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray | None:
    if scores is None:
        return None
    scores = np.asarray(scores)
    if scores.ndim != 3 or scores.shape[1:] != shape:
        raise SegmentationError(f"class scores must be (C, {shape[0]}, {shape[1]}), got {scores.shape}")
    if scores.dtype not in (np.float16, np.float32):
        scores = scores.astype(np.float32)
    return scores


def _as_integer_map(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim != 2:
        raise SegmentationError(f"a label map is 2-D (H, W), got shape {values.shape}")
    if values.dtype == bool:
        return values.view(np.uint8)
    if not np.issubdtype(values.dtype, np.integer):
        raise SegmentationError(f"label values must be integers, got {values.dtype}")
    # Values are ranked as int64: larger uint64 ones would wrap into negatives.
    if values.dtype == np.uint64 and values.size and int(values.max()) > np.iinfo(np.int64).max:
        raise SegmentationError(f"holds the value {int(values.max()):,}, above the "
                                f"{np.iinfo(np.int64).max:,} a segment value may have")
    return values


_BINCOUNT_SLICE = 1 << 24


def _unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values, in O(pixels) when the value range is small."""
    if values.size == 0:
        return np.zeros(0, np.int64)
    low, high = int(values.min()), int(values.max())
    # A dense count pays for the whole value range: only worth it when the
    # range is not much larger than the image (panoptic ids reach 2^24).
    if high - low < min(_DENSE_REMAP_MAX, 4 * values.size):
        shifted = values if low == 0 and values.dtype.kind == "u" else values.astype(np.int64) - low
        flat = shifted.reshape(-1)
        counts = np.zeros(high - low + 1, np.int64)
        # In slices: bincount widens its input to int64, 8 bytes a pixel of a whole large mask.
        for start in range(0, flat.size, _BINCOUNT_SLICE):
            counts += np.bincount(flat[start:start + _BINCOUNT_SLICE], minlength=counts.size)
        return np.flatnonzero(counts) + low
    return np.unique(values).astype(np.int64)


def _compact(values: np.ndarray, uniq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Choose an id for every distinct value and build the label map of ids."""
    if uniq.size == 0:
        return uniq, np.zeros(values.shape, np.uint8)
    low, high = int(uniq[0]), int(uniq[-1])
    if low >= 0 and high < 2**16:
        return uniq, values.astype(dtype_for_max_id(high), copy=True)
    negatives = uniq[uniq < 0]
    top = int(uniq[uniq >= 0][-1]) if (uniq >= 0).any() else -1
    if top + negatives.size < 2**16:
        ids = uniq.copy()
        # -1 gets the first free id above the largest value, -2 the next, ...
        ids[: negatives.size] = top + np.arange(negatives.size, 0, -1)
    else:
        ids = np.arange(uniq.size, dtype=np.int64)
    dtype = dtype_for_max_id(int(ids.max()))
    if high - low < _DENSE_REMAP_MAX:
        lut = np.zeros(high - low + 1, dtype)
        lut[uniq - low] = ids
        labels = np.take(lut, values.astype(np.int64) - low)
    else:
        labels = ids[np.searchsorted(uniq, values)].astype(dtype)
    return ids, labels


def _make_segment(value: int, seg_id: int, *, kind: Kind, names: Mapping[int, str],
                  palette: Palette | None, void_values: Collection[int],
                  hidden_values: Collection[int] | None,
                  describe: Callable[[int], Mapping[str, Any]] | None,
                  area: int = 0, bbox: BBox | None = None) -> Segment:
    name = names.get(value)
    if name is None and palette is not None and value >= 0:
        name = palette.name_of(value)
    void = value in void_values
    if name is None and void:
        name = "void"
    if hidden_values is None:
        hidden = value == 0 and (name is None or name.lower() in BACKGROUND_NAMES)
    else:
        hidden = value in hidden_values
    if name is None and value == 0 and kind is not Kind.PANOPTIC:
        name = "background"
    color = palette.color(value) if palette is not None and value >= 0 else stable_color(seg_id)
    fields: dict[str, Any] = {
        "label": name or "",
        "class_id": value if kind in (Kind.SEMANTIC, Kind.BINARY) else None,
        "color": color,
        "visible": not hidden,
        "void": void,
        "source_value": None if value == seg_id else value,
        "area": area,
        "bbox": bbox,
    }
    if describe is not None:
        fields.update(describe(value))
    return Segment(seg_id, **fields)


def _dtype_for_values(values) -> np.dtype:
    values = list(values)
    low, high = min(values, default=0), max(values, default=0)
    for dtype in (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.int64):
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return np.dtype(dtype)
    raise SegmentationError(f"values {low}..{high} do not fit in 64 bits")
