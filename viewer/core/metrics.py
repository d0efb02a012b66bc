"""Comparing two segmentations of one image by class: confusion matrix, IoU, Dice.

The comparison rule
-------------------
Both segmentations are compared *semantically*: every segment is mapped to a
class key, and two pixels agree when their class keys are equal, whatever
segment ids or instance numbers the two files use.

- The class key of a segment is its ``class_id``; without one, its source
  value (:attr:`Segment.value`: the file value, or the colour of a colour
  mask). Instance maps without class ids are therefore compared id by id.
- Void segments (``Segment.void``: VOC 255, DeepStream -1, panoptic 0) and the
  class keys passed as ``ignore`` map to *void*.
- Pixels that are void in the **ground truth** are excluded from every
  metric, as the Cityscapes and PASCAL VOC evaluations do. They are still
  counted, in the matrix's last row, so that a report can say how many.
- A pixel the **prediction** leaves void where the ground truth has a class
  is a miss: a false negative of that class, a false positive of none (the
  matrix's last column).

Metrics of one class ``c`` (``TP``: both say ``c``; ``FP``: the prediction
says ``c``, the ground truth another class; ``FN``: the ground truth says
``c``, the prediction something else or void):
``IoU = TP / (TP + FP + FN)``, ``Dice = 2 TP / (2 TP + FP + FN)``, undefined
(NaN) when the class has no pixel on either side. Pixel accuracy is the
fraction of non-void ground-truth pixels predicted right. Mean IoU and mean
Dice average over the classes present in either segmentation (NaN classes
skipped); background counts as a class, as in VOC.

Accumulation over many items (a folder, a video) sums the confusion matrices
and computes the metrics once from the sum (:func:`accumulate`). This is the
dataset IoU of the Cityscapes and VOC benchmarks; it weights every pixel
equally, whereas the mean of per-image IoUs would let a small image with a
missed small object count as much as a large one.

Everything is O(pixels): one lookup-table pass maps segment ids to class
indices and one ``np.bincount`` over ``gt * n + pred`` builds the matrix.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import math
from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import cv2
import numpy as np

from viewer.core.errors import SegmentationError, ViewerError
from viewer.core.fileio import atomic_write_text
from viewer.core.segmentation import Segmentation
from viewer.core.text import csv_cell

#: A class: a class id or source value (int), or the colour of a colour mask (tuple).
ClassKey: TypeAlias = int | tuple[int, ...]

#: More classes than this make the (n + 1)^2 matrix too large to be useful (33 MB);
#: comparing instance maps without class ids is the usual way to get there.
MAX_CLASSES = 2048
#: The item name of the accumulated totals in CSV exports.
ALL_ITEMS = "(all)"


class Diff(enum.IntEnum):
    """What a pixel of a :class:`DiffMap` shows."""

    NONE = 0  #: both say background (or, with a focus class, neither says it)
    AGREE = 1  #: both say the same non-background class
    FALSE_POSITIVE = 2  #: the prediction says a class the ground truth does not have there
    FALSE_NEGATIVE = 3  #: the ground truth's class is missing in the prediction
    CONFUSED = 4  #: both say a non-background class, but different ones
    IGNORED = 5  #: void in the ground truth: not scored


#: RGBA colours of the diff codes (Okabe-Ito, colour-blind safe); NONE is transparent.
DIFF_COLORS: dict[Diff, tuple[int, int, int, int]] = {
    Diff.NONE: (0, 0, 0, 0),
    Diff.AGREE: (0, 158, 115, 255),
    Diff.FALSE_POSITIVE: (213, 94, 0, 255),
    Diff.FALSE_NEGATIVE: (0, 114, 178, 255),
    Diff.CONFUSED: (230, 159, 0, 255),
    Diff.IGNORED: (128, 128, 128, 255),
}
WRONG = (Diff.FALSE_POSITIVE, Diff.FALSE_NEGATIVE, Diff.CONFUSED)


# -- class maps --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ClassMaps:
    """Both segmentations as class indices over their union of classes.

    Attributes
    ----------
    gt, pred : ndarray of shape (H, W), int32
        Index into ``classes``; ``len(classes)`` means void.
    classes : tuple of ClassKey
        Sorted: integer keys ascending, then colour keys.
    names : tuple of str
        A display name per class (ground truth first, then prediction).
    """

    gt: np.ndarray
    pred: np.ndarray
    classes: tuple[ClassKey, ...]
    names: tuple[str, ...]

    @property
    def void(self) -> int:
        """The index that means void."""
        return len(self.classes)


def class_key(segment) -> ClassKey:
    """Return the class key of a segment (see the module docstring)."""
    return segment.class_id if segment.class_id is not None else segment.value


def class_maps(gt: Segmentation, pred: Segmentation, *,
               ignore: Collection[ClassKey] = ()) -> ClassMaps:
    """Map both label maps to class indices over the union of their classes.

    Parameters
    ----------
    gt, pred : Segmentation
        Of the same height and width.
    ignore : collection of ClassKey
        Class keys treated as void on both sides (in addition to void segments).

    Raises
    ------
    SegmentationError
        When the sizes differ or there are more than :data:`MAX_CLASSES` classes.
    """
    if gt.shape != pred.shape:
        raise SegmentationError(f"sizes differ: the ground truth is {gt.width}x{gt.height}, "
                                f"the prediction {pred.width}x{pred.height}")
    ignore = set(ignore)
    gt_keys, gt_names = _segment_keys(gt, ignore)
    pred_keys, pred_names = _segment_keys(pred, ignore)
    classes = sort_keys({k for k in (*gt_keys.values(), *pred_keys.values()) if k is not None})
    if len(classes) > MAX_CLASSES:
        raise SegmentationError(f"{len(classes)} classes are too many to compare by class "
                                f"(at most {MAX_CLASSES}); instance masks without class ids?")
    index = {key: i for i, key in enumerate(classes)}
    names = tuple(gt_names.get(k) or pred_names.get(k) or "" for k in classes)
    return ClassMaps(_to_index(gt, gt_keys, index), _to_index(pred, pred_keys, index),
                     classes, names)


def sort_keys(keys: Iterable[ClassKey]) -> tuple[ClassKey, ...]:
    """Sort class keys: integers ascending, then colour tuples."""
    return tuple(sorted(keys, key=lambda k: (1, k) if isinstance(k, tuple) else (0, (k,))))


def _segment_keys(seg: Segmentation, ignore: set) -> tuple[dict[int, Hashable], dict]:
    """``{segment id: class key or None (void)}`` and ``{class key: label}``."""
    keys: dict[int, Hashable] = {}
    names: dict[Hashable, str] = {}
    for segment in seg.table:
        key = None if segment.void else class_key(segment)
        if key in ignore:
            key = None
        keys[segment.id] = key
        if key is not None and segment.label and key not in names:
            names[key] = segment.label
    # Ids in the map without a row (edited and not refreshed yet) stand for themselves.
    for seg_id in range(seg.table.max_id() + 1, int(seg.labels.max(initial=0)) + 1):
        keys[seg_id] = None if seg_id in ignore else seg_id
    return keys, names


def _to_index(seg: Segmentation, keys: dict[int, Hashable], index: dict) -> np.ndarray:
    void = len(index)
    size = max(keys, default=0) + 1
    lut = np.full(size, void, np.int32)
    for seg_id, key in keys.items():
        if key is not None:
            lut[seg_id] = index[key]
    # Ids beyond the table were added to `keys` above, so no id is out of range.
    return np.take(lut, seg.labels)


# -- confusion matrix --------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ConfusionMatrix:
    """Pixel counts of (ground-truth class, predicted class) pairs.

    Attributes
    ----------
    classes : tuple of ClassKey
        The classes, in matrix order.
    names : tuple of str
        A display name per class.
    counts : ndarray of shape (K + 1, K + 1), int64
        ``counts[i, j]``: pixels of ground-truth class ``i`` predicted as
        class ``j``. Index ``K`` is void: row ``K`` holds the ignored pixels
        (void in the ground truth), column ``K`` the pixels the prediction
        left void.
    """

    classes: tuple[ClassKey, ...]
    names: tuple[str, ...]
    counts: np.ndarray

    @property
    def matrix(self) -> np.ndarray:
        """The (K, K) matrix of scored pixels (void row and column left out)."""
        k = len(self.classes)
        return self.counts[:k, :k]

    @property
    def ignored_pixels(self) -> int:
        """Pixels void in the ground truth, left out of every metric."""
        return int(self.counts[-1].sum())

    @property
    def scored_pixels(self) -> int:
        """Pixels with a ground-truth class: the denominator of pixel accuracy."""
        return int(self.counts[:-1].sum())

    def __add__(self, other: ConfusionMatrix) -> ConfusionMatrix:
        return accumulate([self, other])

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict: classes, names and the counts with void last."""
        return {"classes": [_key_json(k) for k in self.classes], "names": list(self.names),
                "void_index": len(self.classes), "counts": self.counts.tolist()}


def confusion_from_maps(maps: ClassMaps) -> ConfusionMatrix:
    """Count the pairs of :func:`class_maps` output into a :class:`ConfusionMatrix`.

    Classes with no pixel on either side (listed in a table, absent from the
    map) are dropped, so that they neither show nor count in the means.
    """
    n = maps.void + 1
    pairs = maps.gt.astype(np.int64).reshape(-1) * n + maps.pred.reshape(-1)
    counts = np.bincount(pairs, minlength=n * n).reshape(n, n)
    present = (counts.sum(axis=0) + counts.sum(axis=1))[:-1] > 0
    keep = np.append(np.flatnonzero(present), n - 1)
    return ConfusionMatrix(tuple(maps.classes[i] for i in keep[:-1]),
                           tuple(maps.names[i] for i in keep[:-1]),
                           counts[np.ix_(keep, keep)])


def confusion_matrix(gt: Segmentation, pred: Segmentation, *,
                     ignore: Collection[ClassKey] = ()) -> ConfusionMatrix:
    """Return the confusion matrix of a prediction against its ground truth.

    Parameters
    ----------
    gt, pred : Segmentation
    ignore : collection of ClassKey
        Class keys treated as void (see the module docstring).
    """
    return confusion_from_maps(class_maps(gt, pred, ignore=ignore))


def accumulate(matrices: Iterable[ConfusionMatrix]) -> ConfusionMatrix:
    """Sum confusion matrices over many items, aligning their classes.

    Compute metrics from the sum (:func:`scores`), not as a mean of per-item
    metrics: see the module docstring.
    """
    matrices = list(matrices)
    classes = sort_keys({k for m in matrices for k in m.classes})
    position = {k: i for i, k in enumerate(classes)}
    names = {}
    for m in matrices:
        for key, name in zip(m.classes, m.names, strict=True):
            if name and key not in names:
                names[key] = name
    total = np.zeros((len(classes) + 1,) * 2, np.int64)
    for m in matrices:
        where = np.array([position[k] for k in m.classes] + [len(classes)], np.intp)
        # The indices are distinct, so a fancy-indexed += adds every cell once.
        total[np.ix_(where, where)] += m.counts
    return ConfusionMatrix(classes, tuple(names.get(k, "") for k in classes), total)


# -- scores ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassScore:
    """The metrics of one class.

    Attributes
    ----------
    key : ClassKey
    name : str
    iou, dice : float
        NaN when the class has no scored pixel on either side.
    tp, fp, fn : int
    gt_pixels : int
        Scored ground-truth pixels of the class (``tp + fn``).
    pred_pixels : int
        Predicted pixels of the class on scored pixels (``tp + fp``).
    """

    key: ClassKey
    name: str
    iou: float
    dice: float
    tp: int
    fp: int
    fn: int
    gt_pixels: int
    pred_pixels: int

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (NaN as None)."""
        return {"class": _key_json(self.key), "name": self.name, "iou": _num(self.iou),
                "dice": _num(self.dice), "tp": self.tp, "fp": self.fp, "fn": self.fn,
                "gt_pixels": self.gt_pixels, "pred_pixels": self.pred_pixels}


@dataclass(frozen=True, eq=False)
class Scores:
    """Every metric of one item, or of many accumulated.

    Attributes
    ----------
    per_class : tuple of ClassScore
    pixel_accuracy : float
        NaN when no pixel is scored.
    mean_iou, mean_dice : float
        Over the classes present in either side; NaN when there are none.
    scored_pixels, ignored_pixels : int
    confusion : ConfusionMatrix
    """

    per_class: tuple[ClassScore, ...]
    pixel_accuracy: float
    mean_iou: float
    mean_dice: float
    scored_pixels: int
    ignored_pixels: int
    confusion: ConfusionMatrix

    def of(self, key: ClassKey) -> ClassScore | None:
        """Return the score of one class, or None when it is absent."""
        return next((c for c in self.per_class if c.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict with the confusion matrix (NaN as None)."""
        return {"pixel_accuracy": _num(self.pixel_accuracy), "mean_iou": _num(self.mean_iou),
                "mean_dice": _num(self.mean_dice), "scored_pixels": self.scored_pixels,
                "ignored_pixels": self.ignored_pixels,
                "classes": [c.to_dict() for c in self.per_class],
                "confusion": self.confusion.to_dict()}


def scores(confusion: ConfusionMatrix) -> Scores:
    """Compute IoU, Dice, pixel accuracy and their means from a confusion matrix."""
    counts = confusion.counts[:-1]  # the void ground-truth row is never scored
    tp = np.diagonal(counts).astype(np.int64)
    gt_pixels = counts.sum(axis=1)  # includes the void column: a miss
    pred_pixels = counts[:, :-1].sum(axis=0)
    fp, fn = pred_pixels - tp, gt_pixels - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = tp / (tp + fp + fn)
        dice = 2 * tp / (2 * tp + fp + fn)
    per_class = tuple(
        ClassScore(key, name, float(iou[i]), float(dice[i]), int(tp[i]), int(fp[i]), int(fn[i]),
                   int(gt_pixels[i]), int(pred_pixels[i]))
        for i, (key, name) in enumerate(zip(confusion.classes, confusion.names, strict=True)))
    scored = int(gt_pixels.sum())
    return Scores(per_class, int(tp.sum()) / scored if scored else math.nan,
                  _nanmean(iou), _nanmean(dice), scored, confusion.ignored_pixels, confusion)


def compare(gt: Segmentation, pred: Segmentation, *,
            ignore: Collection[ClassKey] = ()) -> Scores:
    """Return the :class:`Scores` of ``pred`` against ``gt`` (one item)."""
    return scores(confusion_matrix(gt, pred, ignore=ignore))


def _nanmean(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else math.nan


# -- diff map and wrong regions -----------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DiffMap:
    """Per-pixel agreement of two segmentations, for the diff overlay.

    Attributes
    ----------
    codes : ndarray of shape (H, W), uint8
        A :class:`Diff` per pixel.
    maps : ClassMaps
        The class of each side at each pixel (``maps.gt[r, c]``, ``maps.pred[r, c]``).
    focus : ClassKey or None
        The class the codes are about, or None for all classes.
    """

    codes: np.ndarray
    maps: ClassMaps
    focus: ClassKey | None = None

    def at(self, row: int, col: int) -> tuple[Diff, ClassKey | None, ClassKey | None]:
        """Return ``(code, ground-truth class, predicted class)`` at a pixel (None: void)."""
        def key(index: int) -> ClassKey | None:
            return None if index == self.maps.void else self.maps.classes[index]

        return (Diff(int(self.codes[row, col])), key(int(self.maps.gt[row, col])),
                key(int(self.maps.pred[row, col])))

    def rgba(self) -> np.ndarray:
        """Return the codes coloured with :data:`DIFF_COLORS`, (H, W, 4) uint8 RGBA."""
        table = np.array([DIFF_COLORS[d] for d in Diff], np.uint8)
        return np.take(table, self.codes, axis=0)


def diff_map(gt: Segmentation | ClassMaps, pred: Segmentation | None = None, *,
             focus: ClassKey | None = None, background: Collection[ClassKey] = (0,),
             ignore: Collection[ClassKey] = ()) -> DiffMap:
    """Classify every pixel as agreement, false positive, false negative, ...

    Parameters
    ----------
    gt : Segmentation or ClassMaps
        The ground truth, or the :func:`class_maps` of both (then ``pred`` is None).
    pred : Segmentation, optional
    focus : ClassKey, optional
        Show one class: AGREE where both say it, FALSE_NEGATIVE where only the
        ground truth does, FALSE_POSITIVE where only the prediction does.
    background : collection of ClassKey
        Without a focus, a prediction of a class over ground-truth background
        is FALSE_POSITIVE, background (or void) over a class is
        FALSE_NEGATIVE, one class over another is CONFUSED.
    ignore : collection of ClassKey
        As for :func:`class_maps`.
    """
    maps = gt if isinstance(gt, ClassMaps) else class_maps(gt, pred, ignore=ignore)
    n = maps.void + 1
    table = _focus_table(maps, focus) if focus is not None else _overall_table(maps, background)
    pairs = maps.gt * np.int32(n) + maps.pred  # n <= MAX_CLASSES + 1, so n * n fits in int32
    return DiffMap(np.take(table.reshape(-1), pairs), maps, focus)


def _overall_table(maps: ClassMaps, background: Collection[ClassKey]) -> np.ndarray:
    """The (n, n) code of every (gt, pred) pair when no class is in focus."""
    n = maps.void + 1
    is_bg = np.array([k in set(background) for k in maps.classes] + [False])
    gt_bg, pred_bg = is_bg[:, None], is_bg[None, :]
    pred_void = (np.arange(n) == maps.void)[None, :]
    same = np.eye(n, dtype=bool)
    table = np.full((n, n), Diff.CONFUSED, np.uint8)
    table[~gt_bg & (pred_bg | pred_void)] = Diff.FALSE_NEGATIVE
    table[gt_bg & ~pred_bg & ~pred_void] = Diff.FALSE_POSITIVE
    table[gt_bg & pred_void] = Diff.FALSE_NEGATIVE  # leaving a labelled pixel void is a miss
    table[same] = Diff.AGREE
    table[same & gt_bg] = Diff.NONE
    table[maps.void, :] = Diff.IGNORED
    return table


def _focus_table(maps: ClassMaps, focus: ClassKey) -> np.ndarray:
    n = maps.void + 1
    table = np.full((n, n), Diff.NONE, np.uint8)
    if focus in maps.classes:
        f = maps.classes.index(focus)
        table[f, :] = Diff.FALSE_NEGATIVE
        table[:, f] = Diff.FALSE_POSITIVE
        table[f, f] = Diff.AGREE
    table[maps.void, :] = Diff.IGNORED
    return table


@dataclass(frozen=True)
class WrongRegion:
    """One connected region of wrong pixels of a single kind.

    Attributes
    ----------
    number : int
        Its value in :attr:`WrongRegions.labels` (1, 2, ...).
    kind : Diff
        FALSE_POSITIVE, FALSE_NEGATIVE or CONFUSED.
    area : int
    bbox : tuple of 4 int
        ``(row0, col0, row1, col1)``, half-open.
    centroid : tuple of 2 float
        ``(row, col)``.
    gt_class, pred_class : ClassKey or None
        The most frequent ground-truth and predicted class in the region (None: void).
    """

    number: int
    kind: Diff
    area: int
    bbox: tuple[int, int, int, int]
    centroid: tuple[float, float]
    gt_class: ClassKey | None
    pred_class: ClassKey | None


@dataclass(frozen=True, eq=False)
class WrongRegions:
    """The wrong regions of a diff map and a label image to find them by pixel.

    Attributes
    ----------
    labels : ndarray of shape (H, W), int32
        Region number per pixel, 0 where nothing is wrong (or the region was too small).
    regions : tuple of WrongRegion
        ``regions[i].number == i + 1``.
    """

    labels: np.ndarray
    regions: tuple[WrongRegion, ...]

    def at(self, row: int, col: int) -> WrongRegion | None:
        """Return the region under a pixel (a click), or None."""
        if not (0 <= row < self.labels.shape[0] and 0 <= col < self.labels.shape[1]):
            return None
        number = int(self.labels[row, col])
        return self.regions[number - 1] if number else None

    def mask(self, number: int) -> np.ndarray:
        """Return the (H, W) bool mask of region ``number``."""
        return self.labels == number


def wrong_regions(diff: DiffMap, *, min_area: int = 1, connectivity: int = 8) -> WrongRegions:
    """Split the wrong pixels of ``diff`` into connected regions, one kind each.

    Three ``cv2.connectedComponentsWithStats`` passes (one per kind) and one
    sort of the wrong pixels: about 0.2 s at 4K for ordinary errors. Noise
    (hundreds of thousands of one-pixel regions) takes seconds; raise
    ``min_area`` there.

    Parameters
    ----------
    diff : DiffMap
    min_area : int
        Regions with fewer pixels are left out (label 0).
    connectivity : {4, 8}
    """
    labels = np.zeros(diff.codes.shape, np.int32)
    kinds, stats, centroids = [], [], []
    for kind in WRONG:
        count, part, part_stats, part_centroids = cv2.connectedComponentsWithStats(
            (diff.codes == kind).view(np.uint8), connectivity=connectivity, ltype=cv2.CV_32S)
        keep = np.flatnonzero(part_stats[1:, cv2.CC_STAT_AREA] >= min_area) + 1
        # Renumber the kept components after those of the kinds before.
        lut = np.zeros(count, np.int32)
        lut[keep] = np.arange(len(kinds) + 1, len(kinds) + 1 + keep.size, dtype=np.int32)
        labels += np.take(lut, part)
        kinds += [kind] * keep.size
        stats.append(part_stats[keep])
        centroids.append(part_centroids[keep])
    stats_all = np.concatenate(stats) if kinds else np.zeros((0, 5), np.int32)
    cents = np.concatenate(centroids) if kinds else np.zeros((0, 2))
    gt_major, pred_major = _majority_classes(labels, diff.maps, len(kinds))
    regions = tuple(
        WrongRegion(i + 1, kinds[i], int(s[cv2.CC_STAT_AREA]), _bbox(s),
                    (float(c[1]), float(c[0])), gt_major[i], pred_major[i])
        for i, (s, c) in enumerate(zip(stats_all, cents, strict=True)))
    return WrongRegions(labels, regions)


def _bbox(stat: np.ndarray) -> tuple[int, int, int, int]:
    x, y = int(stat[cv2.CC_STAT_LEFT]), int(stat[cv2.CC_STAT_TOP])
    return (y, x, y + int(stat[cv2.CC_STAT_HEIGHT]), x + int(stat[cv2.CC_STAT_WIDTH]))


def _majority_classes(labels: np.ndarray, maps: ClassMaps, count: int) -> tuple[list, list]:
    """The most frequent (gt, pred) class pair of each region, from its pixels only."""
    if count == 0:
        return [], []
    where = labels > 0
    n = maps.void + 1
    pair = maps.gt[where].astype(np.int64) * n + maps.pred[where]
    code = (labels[where].astype(np.int64) - 1) * (n * n) + pair
    values, freq = np.unique(code, return_counts=True)
    region = values // (n * n)
    # Sort by region, then by frequency descending; the first row of each region wins.
    order = np.lexsort((-freq, region))
    first = order[np.r_[True, region[order][1:] != region[order][:-1]]]
    best = values[first] % (n * n)
    keys = [*maps.classes, None]
    return [keys[p // n] for p in best], [keys[p % n] for p in best]


# -- export ------------------------------------------------------------------------------

CSV_COLUMNS = ("item", "class", "name", "iou", "dice", "tp", "fp", "fn", "gt_pixels",
               "pred_pixels", "pixel_accuracy", "mean_iou", "mean_dice", "scored_pixels",
               "ignored_pixels")


def metrics_document(overall: Scores, items: Sequence[tuple[str, Scores]] = ()) -> dict[str, Any]:
    """Return the JSON document of a comparison: the totals and one record per item.

    ``overall`` is the :func:`scores` of the accumulated matrix; for a single
    item, pass its scores and no ``items``.
    """
    doc = {"schema": "segview-metrics", "schema_version": 1,
           "rule": "semantic: class_id else source value; ground-truth void excluded; "
                   "items accumulated by summing confusion matrices",
           "overall": overall.to_dict()}
    doc["items"] = [{"item": name, **s.to_dict()} for name, s in items]
    return doc


def write_metrics_json(path: str | Path, overall: Scores,
                       items: Sequence[tuple[str, Scores]] = ()) -> Path:
    """Write :func:`metrics_document` as JSON, atomically."""
    text = json.dumps(metrics_document(overall, items), indent=2, ensure_ascii=False,
                      allow_nan=False)
    atomic_write_text(path, text + "\n")
    return Path(path)


def metrics_rows(overall: Scores, items: Sequence[tuple[str, Scores]] = ()) -> list[dict]:
    """CSV rows: per item, one row per class then one ``class = "all"`` summary row.

    The accumulated totals come last, under the item name :data:`ALL_ITEMS`.
    """
    rows = []
    for name, s in [*items, (ALL_ITEMS, overall)]:
        for c in s.per_class:
            rows.append({"item": name, "class": class_text(c.key), "name": c.name,
                         "iou": _fmt(c.iou), "dice": _fmt(c.dice), "tp": c.tp, "fp": c.fp,
                         "fn": c.fn, "gt_pixels": c.gt_pixels, "pred_pixels": c.pred_pixels})
        rows.append({"item": name, "class": "all", "pixel_accuracy": _fmt(s.pixel_accuracy),
                     "mean_iou": _fmt(s.mean_iou), "mean_dice": _fmt(s.mean_dice),
                     "scored_pixels": s.scored_pixels, "ignored_pixels": s.ignored_pixels})
    return rows


def write_metrics_csv(path: str | Path, overall: Scores,
                      items: Sequence[tuple[str, Scores]] = ()) -> Path:
    """Write :func:`metrics_rows` as CSV, atomically."""
    atomic_write_text(path, _csv_text(CSV_COLUMNS, metrics_rows(overall, items)))
    return Path(path)


def write_confusion_csv(path: str | Path, confusion: ConfusionMatrix) -> Path:
    """Write the matrix as CSV: rows ground truth, columns prediction, void last."""
    heads = [class_text(k) for k in confusion.classes] + ["void"]
    rows = [dict(zip(["gt \\ pred", *heads], [head, *row], strict=True))
            for head, row in zip(heads, confusion.counts.tolist(), strict=True)]
    atomic_write_text(path, _csv_text(["gt \\ pred", *heads], rows))
    return Path(path)


def class_text(key: ClassKey | None) -> str:
    """A class key as text: ``7``, or ``(128, 64, 128)`` for a colour, ``void`` for None."""
    if key is None:
        return "void"
    return str(key) if isinstance(key, int) else "(" + ", ".join(map(str, key)) + ")"


def _csv_text(columns: Sequence[str], rows: Iterable[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    # Class and file names come from users' files: no formulas for a spreadsheet to run.
    writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in rows)
    return buffer.getvalue()


def _key_json(key: ClassKey) -> int | list[int]:
    return list(key) if isinstance(key, tuple) else int(key)


def _num(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _fmt(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.6f}"


def check_same_size(gt: Segmentation, pred: Segmentation, pred_path: str | Path,
                    gt_path: str | Path | None = None) -> None:
    """Raise a :class:`ViewerError` naming ``pred_path`` when the sizes differ."""
    if gt.shape != pred.shape:
        against = f"the ground truth {gt_path}" if gt_path is not None else "the ground truth"
        raise ViewerError(f"size {pred.width}x{pred.height} does not match {against} "
                          f"({gt.width}x{gt.height})", pred_path)
