"""Temporal QA: how each class's area and the frame-to-frame overlap move through a video.

A model that segments a video frame by frame makes mistakes a single frame
hides: a person who is missing for one frame, a car that appears for one, a
mask that jumps. :func:`temporal_stats` reads every masked frame once and
keeps, per frame, the area of every class and the IoU with the frame before;
:meth:`TemporalStats.suspicious` turns those curves into a list of frames
worth a look.

Class identity
--------------
A class is followed across frames by its ``class_id`` (in an instance map
every instance of a class counts as that class); a segment without class id
by its label, and one without either by its value. Background (id 0 or a
background name) and void segments belong to no class: they are left out of
the areas and of the IoU.

Cost
----
Memory stays bounded whatever the length of the video: only the previous
frame's class map is held. Time is a few full-frame passes per frame (a
histogram of ids, a lookup to class indices, one comparison with the previous
class map and a histogram of the agreeing pixels): no per-class masks.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

import cv2
import numpy as np

from viewer.core.edit.ids import BACKGROUND_ID
from viewer.core.segment_table import Segment
from viewer.core.segmentation import BACKGROUND_NAMES, Segmentation
from viewer.core.tasks import Progress, Task
from viewer.core.types import RGB
from viewer.core.video.mask_source import MaskSource

# cv2.calcHist counts in float32, exact only below 2**24 per bin; bigger maps use numpy.
_FLOAT32_EXACT = 1 << 24


@dataclass(frozen=True)
class TrackedClass:
    """One column of :class:`TemporalStats`: a class followed through the video.

    Attributes
    ----------
    class_id : int or None
        None for segments followed by label or value (no class id in the file).
    label : str
        The first non-empty label the class had, else "".
    color : tuple of 3 int
        The colour of the first segment of the class seen (for its curve).
    """

    class_id: int | None
    label: str
    color: RGB

    @property
    def name(self) -> str:
        """What to call the class in a sentence: its label, else ``class N``."""
        if self.label:
            return self.label
        return f"class {self.class_id}" if self.class_id is not None else "unnamed class"


@dataclass(frozen=True)
class Suspicion:
    """A frame worth a look, and why.

    Attributes
    ----------
    frame : int
    reason : str
        In words: ``"IoU with frame 41 is 0.32"``, ``"person appears for 1 frame
        (flicker)"``, ``"car vanishes for 1 frame (flicker)"``.
    kind : str
        ``"iou"``, ``"appears"`` or ``"vanishes"``.
    column : int or None
        The class's index in :attr:`TemporalStats.classes` (None for an IoU drop).
    value : float
        The IoU, or the class's area fraction in this frame.
    """

    frame: int
    reason: str
    kind: str
    column: int | None = None
    value: float = math.nan


@dataclass(frozen=True, eq=False)
class TemporalStats:
    """Per-frame class areas and frame-to-frame IoU of a video's masks.

    Attributes
    ----------
    frames : ndarray of shape (F,), int64
        The frames that have a mask, ascending.
    classes : list of TrackedClass
        One per column, sorted by class id (then label-only, then value-only classes).
    areas : ndarray of shape (F, C), float64
        Fraction of each frame's pixels covered by each class (0 when absent).
    iou : ndarray of shape (F,), float64
        Mean, over the classes present in either frame, of the per-class IoU
        with the previous frame; 1.0 when both frames are empty; NaN for the
        first frame, after a gap in the frame numbers, or when the sizes differ.
    """

    frames: np.ndarray
    classes: list[TrackedClass]
    areas: np.ndarray
    iou: np.ndarray

    def suspicious(self, *, iou_below: float = 0.5, min_area: float = 0.001) -> list[Suspicion]:
        """Frames worth a look, sorted by frame (an IoU drop before flickers of that frame).

        Parameters
        ----------
        iou_below : float
            An IoU with the previous frame below this is a drop.
        min_area : float
            A class counts as present in a frame when it covers at least this
            fraction of it. A flicker is a class present in a frame and absent
            in both neighbours, or the reverse; the neighbours must be the
            frames just before and after (no gap).
        """
        found = self._iou_drops(iou_below) + self._flickers(min_area)
        order = {"iou": 0, "appears": 1, "vanishes": 1}
        return sorted(found, key=lambda s: (s.frame, order[s.kind],
                                            -1 if s.column is None else s.column))

    def next_suspicious(self, after: int, *, iou_below: float = 0.5,
                        min_area: float = 0.001) -> Suspicion | None:
        """The first suspicion in a frame after ``after``, wrapping to the start; None if none."""
        found = self.suspicious(iou_below=iou_below, min_area=min_area)
        return next((s for s in found if s.frame > after), found[0] if found else None)

    def _iou_drops(self, iou_below: float) -> list[Suspicion]:
        out = []
        for k in np.flatnonzero(self.iou < iou_below):  # NaN compares False
            value = float(self.iou[k])
            out.append(Suspicion(int(self.frames[k]),
                                 f"IoU with frame {int(self.frames[k - 1])} is {value:.2f}",
                                 "iou", None, value))
        return out

    def _flickers(self, min_area: float) -> list[Suspicion]:
        if len(self.frames) < 3:
            return []
        present = self.areas >= min_area
        follows = np.diff(self.frames) == 1   # follows[k - 1]: frame k follows frame k - 1
        middle = present[1:-1]
        flicker = (middle != present[:-2]) & (middle != present[2:])
        flicker &= (follows[:-1] & follows[1:])[:, None]
        out = []
        for k, column in zip(*np.nonzero(flicker), strict=True):
            k, column = int(k) + 1, int(column)
            kind = "appears" if present[k, column] else "vanishes"
            name = self.classes[column].name
            out.append(Suspicion(int(self.frames[k]), f"{name} {kind} for 1 frame (flicker)",
                                 kind, column, float(self.areas[k, column])))
        return out


def temporal_stats(masks: MaskSource, frame_count: int | None = None) -> Task[TemporalStats]:
    """Read every masked frame once and measure class areas and frame-to-frame IoU.

    Parameters
    ----------
    masks : MaskSource
        Not closed here: the caller owns it.
    frame_count : int, optional
        The video's frame count: masks numbered at or beyond it have no frame
        and are skipped.

    Yields
    ------
    Progress
        One step per masked frame.

    Returns
    -------
    TemporalStats
    """
    frames = [f for f in masks.frames() if frame_count is None or f < frame_count]
    tracker = _Tracker()
    for done, frame in enumerate(frames):
        yield Progress(done, len(frames), f"Checking frame {frame}")
        seg = masks.mask_for(frame)
        if seg is not None:
            tracker.add(frame, seg)
    yield Progress(len(frames), len(frames), f"Checked {len(frames)} frames")
    return tracker.result()


class _Tracker:
    """The running state of :func:`temporal_stats`: columns so far and the previous frame."""

    def __init__(self):
        self.columns: dict[Hashable, int] = {}
        self.labels: list[str] = []
        self.colors: list[RGB] = []
        self.frames: list[int] = []
        self.rows: list[tuple[np.ndarray, float]] = []   # (pixels per column + 1, frame pixels)
        self.iou: list[float] = []
        self.previous: tuple[int, np.ndarray, np.ndarray] | None = None  # frame, map, pixels

    def add(self, frame: int, seg: Segmentation) -> None:
        """Measure one frame against the previous one and keep only its class map."""
        counts = _histogram(seg.labels)
        present = np.flatnonzero(counts)
        lut = self._column_lut(seg, present, len(counts))
        pixels = np.bincount(lut[present], weights=counts[present],
                             minlength=len(self.columns) + 1).astype(np.int64)
        class_map = _lookup(lut, seg.labels)
        self.iou.append(self._iou_with_previous(frame, class_map, pixels))
        self.frames.append(frame)
        self.rows.append((pixels, float(seg.labels.size)))
        self.previous = (frame, class_map, pixels)

    def _column_lut(self, seg: Segmentation, present: np.ndarray, size: int) -> np.ndarray:
        """Segment id -> 1 + column (0: background, void), adding columns for new classes."""
        columns = []
        for seg_id in present.tolist():
            row = seg.table.get(seg_id)
            key = _class_key(row, seg_id)
            columns.append(0 if key is None else self._column(key, row) + 1)
        dtype = next(t for t in (np.uint8, np.uint16, np.uint32)
                     if len(self.columns) <= np.iinfo(t).max)
        lut = np.zeros(size, dtype)
        lut[present] = columns
        return lut

    def _column(self, key: Hashable, row: Segment | None) -> int:
        label = row.label if row is not None else ""
        column = self.columns.get(key)
        if column is None:
            column = self.columns[key] = len(self.columns)
            self.labels.append(label)
            self.colors.append(row.color if row is not None else (128, 128, 128))
        elif label and not self.labels[column]:
            self.labels[column] = label
        return column

    def _iou_with_previous(self, frame: int, class_map: np.ndarray, pixels: np.ndarray) -> float:
        if self.previous is None:
            return math.nan
        last, last_map, last_pixels = self.previous
        if frame != last + 1 or last_map.shape != class_map.shape:
            return math.nan
        agree = np.equal(last_map, class_map).view(np.uint8)
        inter = _histogram(class_map, len(pixels), mask=agree)[1:]
        before = np.zeros(len(pixels) - 1, np.int64)
        before[: len(last_pixels) - 1] = last_pixels[1:]
        union = before + pixels[1:] - inter
        either = union > 0
        if not either.any():
            return 1.0
        return float(np.mean(inter[either] / union[either]))

    def result(self) -> TemporalStats:
        """Dense arrays, columns sorted by class."""
        keys = list(self.columns)
        order = sorted(range(len(keys)), key=lambda c: _sort_key(keys[c]))
        areas = np.zeros((len(self.rows), len(keys)))
        for k, (pixels, total) in enumerate(self.rows):
            areas[k, : len(pixels) - 1] = pixels[1:] / total
        classes = [TrackedClass(_class_id(keys[c]), self.labels[c], self.colors[c])
                   for c in order]
        return TemporalStats(np.asarray(self.frames, np.int64), classes,
                             areas[:, order], np.asarray(self.iou, np.float64))


def _class_key(row: Segment | None, seg_id: int) -> Hashable | None:
    """What follows a segment's class across frames; None for background and void."""
    if row is None:
        return ("value", seg_id)   # an id without a row (an unrefreshed edit) is itself
    if row.void or row.label.lower() in BACKGROUND_NAMES:
        return None
    if row.id == BACKGROUND_ID and not row.label:
        return None
    if row.class_id is not None:
        return ("class", row.class_id)
    if row.label:
        return ("label", row.label)
    return ("value", row.value)


def _class_id(key: tuple) -> int | None:
    return key[1] if key[0] == "class" else None


def _sort_key(key: tuple) -> tuple:
    rank = {"class": 0, "label": 1, "value": 2}[key[0]]
    number = key[1] if isinstance(key[1], int) else 0
    return rank, number, str(key[1])


def _histogram(values: np.ndarray, bins: int | None = None,
               mask: np.ndarray | None = None) -> np.ndarray:
    """Pixel count of every value ``0..bins-1`` (where ``mask`` is non-zero), int64.

    ``bins`` defaults to the dtype's range for uint8/uint16 maps. cv2.calcHist
    is used where it is exact: it is 2-3x faster than np.bincount, which
    first widens every pixel to 64 bits.
    """
    if values.dtype.kind == "u" and values.dtype.itemsize <= 2:
        bins = bins or 1 << (8 * values.dtype.itemsize)
        if values.size < _FLOAT32_EXACT:
            hist = cv2.calcHist([values], [0], mask, [bins], [0, bins])
            return hist.reshape(-1).astype(np.int64)
    flat = values.reshape(-1) if mask is None else values[mask.view(bool)]
    counts = np.bincount(flat, minlength=bins or 0)
    return counts[:bins] if bins else counts


def _lookup(lut: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``lut[labels]``, with OpenCV's table lookup when both fit in 8 bits."""
    if labels.dtype == np.uint8 and lut.dtype == np.uint8 and len(lut) == 256:
        return cv2.LUT(labels, lut)
    return np.take(lut, labels)
