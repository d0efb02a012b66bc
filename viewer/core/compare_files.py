"""Score a ground-truth mask file against a predicted one, as ``segview compare`` and the
window's folder comparison both do (so their numbers agree)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from viewer.core import metrics, report
from viewer.core.errors import SegmentationError, ViewerError
from viewer.core.formats.registry import read_mask

#: Files taken from a folder: the index and array formats masks are stored in.
MASK_EXTENSIONS = (".png", ".npy", ".npz", ".tif", ".tiff", ".bmp")


@dataclass(frozen=True)
class Pair:
    """A ground-truth mask and its prediction; ``name`` is the ground truth's relative path."""

    name: str
    gt: Path
    pred: Path


@dataclass(frozen=True)
class Compared:
    """The result of one pair."""

    pair: Pair
    scores: metrics.Scores
    thumbnails: tuple[tuple[str, np.ndarray], ...] = ()


def compare_pair(pair: Pair, *, gt_format: str | None = None, pred_format: str | None = None,
                 ignore: Sequence[int] = (), thumbnails: bool = False) -> Compared:
    """Read both masks of a pair and score the prediction (with report thumbnails if asked).

    Raises
    ------
    ViewerError
        Naming the file: unreadable, or of another size than its ground truth.
    """
    gt = read_mask(pair.gt, gt_format)
    pred = read_mask(pair.pred, pred_format)
    metrics.check_same_size(gt, pred, pair.pred, pair.gt)
    try:
        maps = metrics.class_maps(gt, pred, ignore=ignore)
    except SegmentationError as exc:  # too many classes: say which pair
        raise ViewerError(f"cannot compare with {pair.gt}: {exc.message}", pair.pred) from None
    scores = metrics.scores(metrics.confusion_from_maps(maps))
    pictures: tuple = ()
    if thumbnails:
        pictures = (("ground truth", report.thumbnail(seg=gt)),
                    ("prediction", report.thumbnail(seg=pred)),
                    ("diff", report.diff_thumbnail(metrics.diff_map(maps))))
    return Compared(pair, scores, pictures)
