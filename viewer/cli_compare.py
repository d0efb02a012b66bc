"""``segview compare GT PRED``: per-class IoU and Dice, pixel accuracy, mean IoU. Headless.

GT and PRED are two mask files, or two folders of masks paired by their path
relative to the folder without the extension (``sub/a.png`` with
``sub/a.npy``), then by file name stem where that is unique on both sides.
The numbers come from :mod:`viewer.core.metrics` (its docstring states the
rule: classes compared, ground-truth void excluded, folders accumulated by
summing confusion matrices), so they equal what the GUI shows.

Exit codes: 0 success, 2 bad input (one line naming the file and the
problem), 1 an unexpected failure.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from viewer.cli_args import output_path
from viewer.core import metrics, report
from viewer.core.compare_files import MASK_EXTENSIONS, Compared, Pair, compare_pair
from viewer.core.errors import ReadError, ViewerError
from viewer.core.review import ItemReview, Review
from viewer.core.review import load as load_review

EXIT_BAD_INPUT = 2
_LISTED = 5


def compare_main(argv: Sequence[str]) -> int:
    """``segview compare GT PRED [--json] [--report DIR] [--format NAME] [--ignore VALUE]``."""
    args = _parser().parse_args(argv)
    try:
        pairs, warnings = pair_inputs(args.gt, args.pred)
        review = load_review(args.review, missing_ok=False) if args.review else None
        results = [compare_pair(p, gt_format=args.gt_format or args.format,
                                pred_format=args.pred_format or args.format,
                                ignore=args.ignore, thumbnails=args.report is not None)
                   for p in pairs]
    except ViewerError as exc:
        return _fail(exc)
    for warning in warnings:
        print(f"segview compare: warning: {warning}", file=sys.stderr)
    overall = metrics.scores(metrics.accumulate(r.scores.confusion for r in results))
    items = [(r.pair.name, r.scores) for r in results]
    if args.json:
        print(json.dumps(metrics.metrics_document(overall, items), indent=2, ensure_ascii=False,
                         allow_nan=False))
    else:
        print(format_text(overall, items))
    if args.report is not None:
        try:
            written = write_reports(args.report, results, overall, review)
        except ViewerError as exc:
            return _fail(exc)
        print(f"segview compare: report written to {written}", file=sys.stderr)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segview compare",
        description="Compare a prediction with its ground truth by class: per-class IoU and "
                    "Dice, pixel accuracy, mean IoU. Pixels void in the ground truth are not "
                    "scored; folders are paired by relative path and accumulated.")
    parser.add_argument("gt", type=Path, metavar="GT", help="ground-truth mask or folder")
    parser.add_argument("pred", type=Path, metavar="PRED", help="predicted mask or folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--report", type=output_path, metavar="DIR",
                        help="write metrics CSV/JSON, the confusion matrix and an HTML report here")
    parser.add_argument("--format", help="format of both sides (default: detected)")
    parser.add_argument("--gt-format", help="format of the ground truth")
    parser.add_argument("--pred-format", help="format of the prediction")
    parser.add_argument("--ignore", type=int, action="append", default=[], metavar="VALUE",
                        help="class value not scored, like void (repeatable)")
    parser.add_argument("--review", type=Path, metavar="FILE",
                        help="a review sidecar whose states and comments go into the report")
    return parser


# -- pairing -----------------------------------------------------------------------------


def pair_inputs(gt: Path, pred: Path) -> tuple[list[Pair], list[str]]:
    """Pair two files, or the mask files of two folders; also return warnings.

    Raises
    ------
    ViewerError
        Naming the path: missing, a file against a folder, or nothing pairs up.
    """
    for path in (gt, pred):
        if not path.exists():
            raise ReadError("file not found", path)
    if gt.is_dir() != pred.is_dir():
        kinds = ("folder", "file") if gt.is_dir() else ("file", "folder")
        raise ViewerError(f"is a {kinds[1]}, but the ground truth {gt} is a {kinds[0]}", pred)
    if not gt.is_dir():
        return [Pair(gt.name, gt, pred)], []
    gt_files, gt_dupes = _mask_files(gt)
    pred_files, pred_dupes = _mask_files(pred)
    pairs, gt_only, pred_only = _match(gt_files, pred_files)
    if not pairs:
        raise ViewerError(f"no mask file pairs up with one in the ground truth {gt} "
                          f"(by relative path or name, extensions {' '.join(MASK_EXTENSIONS)})",
                          pred)
    warnings = [*gt_dupes, *pred_dupes]
    if gt_only:
        warnings.append(f"{len(gt_only)} ground-truth file(s) have no prediction: "
                        + _listing(gt_only))
    if pred_only:
        warnings.append(f"{len(pred_only)} prediction file(s) have no ground truth: "
                        + _listing(pred_only))
    return pairs, warnings


def _mask_files(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """``{relative path without extension: file}``, walking hidden-free subfolders."""
    found: dict[str, Path] = {}
    dupes = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        # Extension order decides which of a.png and a.npy stands for "a".
        ranked = sorted((f for f in files if not f.startswith(".")
                         and os.path.splitext(f)[1].lower() in MASK_EXTENSIONS),
                        key=lambda f: (os.path.splitext(f)[0],
                                       MASK_EXTENSIONS.index(os.path.splitext(f)[1].lower())))
        for name in ranked:
            path = Path(root) / name
            key = path.relative_to(folder).with_suffix("").as_posix()
            if key in found:
                dupes.append(f"{path}: skipped, {found[key].name} stands for {key}")
                continue
            found[key] = path
    return found, dupes


def _match(gt: dict[str, Path], pred: dict[str, Path]) -> tuple[list[Pair], list, list]:
    pairs = {k: Pair(_name(k, v), v, pred[k]) for k, v in gt.items() if k in pred}
    gt_left = [k for k in gt if k not in pairs]
    pred_left = [k for k in pred if k not in pairs]
    # Second chance by stem, only where it is unambiguous on both sides.
    gt_stems = _unique_stems(gt_left)
    pred_stems = _unique_stems(pred_left)
    for stem, key in gt_stems.items():
        if stem in pred_stems:
            pairs[key] = Pair(_name(key, gt[key]), gt[key], pred[pred_stems[stem]])
            pred_left.remove(pred_stems[stem])
    gt_left = [k for k in gt_left if k not in pairs]
    ordered = [pairs[k] for k in gt if k in pairs]
    return ordered, [gt[k] for k in gt_left], [pred[k] for k in pred_left]


def _unique_stems(keys: Sequence[str]) -> dict[str, str]:
    stems: dict[str, list[str]] = {}
    for key in keys:
        stems.setdefault(PurePosixPath(key).name, []).append(key)
    return {stem: found[0] for stem, found in stems.items() if len(found) == 1}


def _name(key: str, path: Path) -> str:
    return key + path.suffix


def _listing(paths: Sequence[Path]) -> str:
    shown = ", ".join(str(p) for p in paths[:_LISTED])
    return shown + (f", ... ({len(paths)} in all)" if len(paths) > _LISTED else "")


# -- comparing ---------------------------------------------------------------------------


def write_reports(folder: Path, results: Sequence[Compared], overall: metrics.Scores,
                  review: Review | None = None) -> Path:
    """Write metrics.json/csv, confusion.csv and report.json/csv/html; return the HTML."""
    items = [(r.pair.name, r.scores) for r in results]
    metrics.write_metrics_json(folder / "metrics.json", overall, items)
    metrics.write_metrics_csv(folder / "metrics.csv", overall, items)
    metrics.write_confusion_csv(folder / "confusion.csv", overall.confusion)
    entries = [report.ReportItem(r.pair.name, _review_of(review, r.pair.name), r.scores,
                                 r.thumbnails, {"ground truth": str(r.pair.gt),
                                                "prediction": str(r.pair.pred)})
               for r in results]
    title = "SegView comparison report"
    return report.write_report(folder, entries, title=title, overall=overall).html


def _review_of(review: Review | None, name: str) -> ItemReview:
    """The review of an item: by its name, else by a key naming the same stem (``a.jpg``)."""
    if review is None:
        return ItemReview()
    if name in review:
        return review.item(name)
    stem = str(PurePosixPath(name).with_suffix(""))
    for key in review:
        if str(PurePosixPath(key).with_suffix("")) == stem:
            return review.item(key)
    return ItemReview()


# -- output ------------------------------------------------------------------------------


def format_text(overall: metrics.Scores, items: Sequence[tuple[str, metrics.Scores]]) -> str:
    """The tables printed without ``--json``."""
    lines = []
    if len(items) > 1:
        rows = [("item", "pixel acc", "mean IoU", "mean Dice")]
        rows += [(name, _f(s.pixel_accuracy), _f(s.mean_iou), _f(s.mean_dice))
                 for name, s in items]
        lines += [_table(rows), "", f"all {len(items)} items (confusion matrices summed):"]
    rows = [("class", "name", "IoU", "Dice", "gt px", "pred px")]
    rows += [(metrics.class_text(c.key), c.name or "-", _f(c.iou), _f(c.dice),
              f"{c.gt_pixels:,}", f"{c.pred_pixels:,}") for c in overall.per_class]
    lines += [_table(rows), "",
              f"pixel accuracy: {_f(overall.pixel_accuracy)}",
              f"mean IoU:       {_f(overall.mean_iou)}",
              f"mean Dice:      {_f(overall.mean_dice)}",
              f"pixels scored:  {overall.scored_pixels:,} ({overall.ignored_pixels:,} void "
              "in the ground truth, not scored)"]
    return "\n".join(lines)


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def _f(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.4f}"


def _fail(exc: ViewerError) -> int:
    print(f"segview: error: {exc}", file=sys.stderr)
    return EXIT_BAD_INPUT
