"""A review report a lead can read: states, comments and metrics per item.

:func:`write_report` writes into one folder:

- ``report.json``: the whole report (schema ``segview-report``, version 1);
- ``report.csv``: one row per item (state, counts, comments joined, metrics);
- ``report.html``: a page with a summary and one row per item, with small
  PNG thumbnails in ``thumbs/`` beside it (a plain page, no scripts).

Thumbnails are small: :func:`thumbnail` samples the label map to about 160
pixels before colourizing (nearest neighbour, so no class is blended into
another), which keeps a report of thousands of items fast.
"""

from __future__ import annotations

import csv
import datetime as _dt
import html
import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from viewer import __version__
from viewer.core.fileio import atomic_open, atomic_write_text
from viewer.core.metrics import DIFF_COLORS, Diff, DiffMap, Scores
from viewer.core.render.blend import blend_rgba
from viewer.core.render.colorize import colorize
from viewer.core.render.lut import build_lut
from viewer.core.review import ItemReview, State
from viewer.core.segmentation import Segmentation
from viewer.core.text import csv_cell

THUMB_SIZE = 160
THUMB_FOLDER = "thumbs"
#: Grey under a mask drawn without its photo.
_NO_PHOTO = 48
CSV_COLUMNS = ("item", "state", "author", "modified", "segments_accepted", "segments_rejected",
               "segments_flagged", "comments", "comment_text", "pixel_accuracy", "mean_iou",
               "mean_dice")
_STATE_COLORS = {State.UNREVIEWED: "#888888", State.ACCEPTED: "#009e73",
                 State.REJECTED: "#d55e00", State.FLAGGED: "#e69f00"}


@dataclass(frozen=True)
class ReportItem:
    """What the report says about one image or frame.

    Attributes
    ----------
    key : str
        The item key (as in the review sidecar).
    review : ItemReview
    scores : Scores, optional
        Metrics of the item, when it was compared.
    thumbnails : tuple of (str, ndarray)
        ``(caption, RGB uint8 image)`` pairs, small (see :func:`thumbnail`).
    files : mapping of str to str
        Files the item comes from, by role (``"ground truth"``, ``"prediction"``).
    """

    key: str
    review: ItemReview = field(default_factory=ItemReview)
    scores: Scores | None = None
    thumbnails: tuple[tuple[str, np.ndarray], ...] = ()
    files: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportFiles:
    """The files :func:`write_report` wrote."""

    json: Path
    csv: Path
    html: Path
    thumbnails: tuple[Path, ...]


# -- thumbnails --------------------------------------------------------------------------


def thumbnail(image: np.ndarray | None = None, seg: Segmentation | None = None, *,
              size: int = THUMB_SIZE, alpha: float | None = None) -> np.ndarray:
    """Return a small RGB picture of a photo, its mask overlaid, or both.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, optional
    seg : Segmentation, optional
        Of the image's size when both are given.
    size : int
        Length of the longer side.
    alpha : float, optional
        Overlay weight; 0.5 over a photo, 1 over the plain grey without one.

    Returns
    -------
    ndarray of shape (h, w, 3), uint8
    """
    if image is None and seg is None:
        raise ValueError("a thumbnail needs an image, a segmentation or both")
    shape = image.shape[:2] if image is not None else seg.shape
    rows, cols = _sample_grid(shape, size)
    if image is not None:
        small_size = (cols.size, rows.size)
        smaller = cols.size < shape[1]
        base = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA if smaller
                          else cv2.INTER_NEAREST)
    else:
        base = np.full((rows.size, cols.size, 3), _NO_PHOTO, np.uint8)
    if seg is None:
        return np.ascontiguousarray(base)
    labels = np.ascontiguousarray(seg.labels[np.ix_(rows, cols)])
    fill = colorize(labels, build_lut(seg.table))
    weight = alpha if alpha is not None else (0.5 if image is not None else 1.0)
    return blend_rgba(np.ascontiguousarray(base), fill, weight)


def diff_thumbnail(diff: DiffMap, *, size: int = THUMB_SIZE) -> np.ndarray:
    """Return a small RGB picture of a diff map (its :data:`DIFF_COLORS` over grey)."""
    rows, cols = _sample_grid(diff.codes.shape, size)
    small = DiffMap(np.ascontiguousarray(diff.codes[np.ix_(rows, cols)]), diff.maps, diff.focus)
    base = np.full((rows.size, cols.size, 3), _NO_PHOTO, np.uint8)
    return blend_rgba(base, small.rgba(), 1.0)


def _sample_grid(shape: tuple[int, ...], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Source rows and columns of a nearest-neighbour resize to ``size`` on the long side."""
    height, width = int(shape[0]), int(shape[1])
    scale = size / max(height, width, 1)
    out_h, out_w = max(1, round(height * scale)), max(1, round(width * scale))
    rows = np.minimum(((np.arange(out_h) + 0.5) * height / out_h).astype(np.intp), height - 1)
    cols = np.minimum(((np.arange(out_w) + 0.5) * width / out_w).astype(np.intp), width - 1)
    return rows, cols


# -- documents ---------------------------------------------------------------------------


def report_document(items: Sequence[ReportItem], *, title: str = "SegView review report",
                    overall: Scores | None = None) -> dict[str, Any]:
    """Return the report as a JSON-ready dict (thumbnails not included)."""
    counts = dict.fromkeys(State, 0)
    for item in items:
        counts[item.review.state] += 1
    reviewed = len(items) - counts[State.UNREVIEWED]
    return {
        "schema": "segview-report", "schema_version": 1, "app": "segview",
        "app_version": __version__, "title": title,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "progress": {"reviewed": reviewed, "total": len(items),
                     "text": f"{reviewed} / {len(items)} reviewed",
                     "counts": {str(s): n for s, n in counts.items()}},
        "overall": _scores_summary(overall),
        "items": [_item_record(item) for item in items],
    }


def report_rows(items: Sequence[ReportItem]) -> list[dict[str, Any]]:
    """One CSV row per item (see :data:`CSV_COLUMNS`)."""
    rows = []
    for item in items:
        review = item.review
        states = [s.state for s in review.segments.values()]
        comments = review.visible_comments
        row = {"item": item.key, "state": str(review.state), "author": review.author,
               "modified": review.modified,
               "segments_accepted": states.count(State.ACCEPTED),
               "segments_rejected": states.count(State.REJECTED),
               "segments_flagged": states.count(State.FLAGGED),
               "comments": len(comments),
               "comment_text": " | ".join(_comment_line(c) for c in comments)}
        if item.scores is not None:
            row.update(pixel_accuracy=_fmt(item.scores.pixel_accuracy),
                       mean_iou=_fmt(item.scores.mean_iou), mean_dice=_fmt(item.scores.mean_dice))
        rows.append(row)
    return rows


def write_report(folder: str | Path, items: Sequence[ReportItem], *,
                 title: str = "SegView review report",
                 overall: Scores | None = None) -> ReportFiles:
    """Write ``report.json``, ``report.csv``, ``report.html`` and ``thumbs/`` into ``folder``.

    Every file is written atomically; the folder is created when missing.
    """
    folder = Path(folder)
    doc = report_document(items, title=title, overall=overall)
    thumbs: list[Path] = []
    for index, (item, record) in enumerate(zip(items, doc["items"], strict=True)):
        record["thumbnails"] = []
        for caption, picture in item.thumbnails:
            name = f"{index + 1:05d}-{_slug(caption)}.png"
            thumbs.append(_write_png(folder / THUMB_FOLDER / name, picture))
            record["thumbnails"].append({"caption": caption, "file": f"{THUMB_FOLDER}/{name}"})
    json_path, csv_path, html_path = (folder / n for n in ("report.json", "report.csv",
                                                          "report.html"))
    atomic_write_text(json_path, json.dumps(doc, indent=2, ensure_ascii=False,
                                            allow_nan=False) + "\n")
    atomic_write_text(csv_path, _csv_text(report_rows(items)))
    atomic_write_text(html_path, render_html(doc))
    return ReportFiles(json_path, csv_path, html_path, tuple(thumbs))


def _item_record(item: ReportItem) -> dict[str, Any]:
    record = {"item": item.key, **item.review.to_dict(tombstones=False)}
    record["files"] = dict(item.files)
    record["metrics"] = _scores_summary(item.scores)
    return record


def _scores_summary(scores: Scores | None) -> dict[str, Any] | None:
    """Scores without the confusion matrix (the metrics export holds it)."""
    if scores is None:
        return None
    summary = scores.to_dict()
    summary.pop("confusion")
    return summary


def _write_png(path: Path, picture: np.ndarray) -> Path:
    with atomic_open(path, "wb") as handle:
        Image.fromarray(np.ascontiguousarray(picture, dtype=np.uint8)).save(handle, format="PNG")
    return path


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "thumb"


def _comment_line(comment) -> str:
    where = f" @({comment.point[0]}, {comment.point[1]})" if comment.point else ""
    who = f"{comment.author}: " if comment.author else ""
    return f"{who}{comment.text}{where}"


def _csv_text(rows: Sequence[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in rows)
    return buffer.getvalue()


def _fmt(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.4f}"


# -- HTML --------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}
.num{text-align:right;font-variant-numeric:tabular-nums}
.state{color:#fff;border-radius:3px;padding:1px 6px;white-space:nowrap}
figure{display:inline-block;margin:0 4px 0 0}
img{image-rendering:pixelated}
.key{display:inline-block;width:10px;height:10px;margin:0 3px 0 8px}
figcaption{font-size:11px;color:#666}
ul{margin:0;padding-left:1.2em}
"""


def render_html(doc: Mapping[str, Any]) -> str:
    """Return the HTML page of a report document (thumbnail paths relative to it)."""
    e = html.escape
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>{e(doc['title'])}</title><style>{_CSS}</style></head><body>",
             f"<h1>{e(doc['title'])}</h1>",
             f"<p>Created {e(doc['created'])} by SegView {e(doc['app_version'])}.</p>",
             _html_progress(doc["progress"])]
    if doc.get("overall"):
        parts += ["<h2>All items</h2>", _html_summary(doc["overall"]),
                  _html_classes(doc["overall"]["classes"]), _html_legend()]
    parts += ["<h2>Items</h2>", _html_items(doc["items"]), "</body></html>\n"]
    return "\n".join(parts)


def _html_progress(progress: Mapping[str, Any]) -> str:
    badges = " ".join(f"{_badge(state)} {n}" for state, n in progress["counts"].items())
    return f"<p><strong>{html.escape(progress['text'])}</strong> &mdash; {badges}</p>"


def _html_summary(scores: Mapping[str, Any]) -> str:
    return (f"<p>Pixel accuracy {_pct(scores['pixel_accuracy'])}, mean IoU "
            f"{_pct(scores['mean_iou'])}, mean Dice {_pct(scores['mean_dice'])} "
            f"({scores['scored_pixels']:,} pixels scored, {scores['ignored_pixels']:,} void).</p>")


def _html_classes(classes: Sequence[Mapping[str, Any]]) -> str:
    rows = ["<table><tr><th>class</th><th>name</th><th>IoU</th><th>Dice</th>"
            "<th>ground-truth px</th><th>predicted px</th></tr>"]
    for c in classes:
        rows.append(f"<tr><td>{html.escape(str(c['class']))}</td><td>{html.escape(c['name'])}"
                    f"</td><td class=num>{_pct(c['iou'])}</td><td class=num>{_pct(c['dice'])}"
                    f"</td><td class=num>{c['gt_pixels']:,}</td>"
                    f"<td class=num>{c['pred_pixels']:,}</td></tr>")
    return "\n".join([*rows, "</table>"])


def _html_legend() -> str:
    keys = "".join(f"<span class=key style=\"background:rgb{c[:3]}\"></span>"
                   f"{html.escape(d.name.lower().replace('_', ' '))}"
                   for d, c in DIFF_COLORS.items() if d is not Diff.NONE)
    return f"<p>Diff thumbnails: {keys}.</p>"


def _html_items(items: Sequence[Mapping[str, Any]]) -> str:
    rows = ["<table><tr><th></th><th>item</th><th>state</th><th>segments</th><th>comments</th>"
            "<th>pixel acc.</th><th>mean IoU</th></tr>"]
    for item in items:
        e = html.escape
        figures = "".join(
            f"<figure><img src=\"{e(t['file'])}\" alt=\"{e(t['caption'])}\">"
            f"<figcaption>{e(t['caption'])}</figcaption></figure>"
            for t in item.get("thumbnails", []))
        segments = "".join(f"<li>{e(k)} {e(s['label'])} {_badge(s['state'])}</li>"
                           for k, s in item["segments"].items())
        comments = "".join(f"<li>{e(_comment_text(c))}</li>" for c in item["comments"])
        metrics = item.get("metrics") or {}
        author = f"<br><small>{e(item['author'])}</small>" if item["author"] else ""
        rows.append(
            f"<tr><td>{figures}</td><td>{e(item['item'])}</td>"
            f"<td>{_badge(item['state'])}{author}</td>"
            f"<td><ul>{segments}</ul></td><td><ul>{comments}</ul></td>"
            f"<td class=num>{_pct(metrics.get('pixel_accuracy'))}</td>"
            f"<td class=num>{_pct(metrics.get('mean_iou'))}</td></tr>")
    return "\n".join([*rows, "</table>"])


def _comment_text(comment: Mapping[str, Any]) -> str:
    where = f" (at row {comment['point'][0]}, col {comment['point'][1]})" \
        if comment.get("point") else ""
    who = f"{comment['author']}: " if comment.get("author") else ""
    return f"{who}{comment['text']}{where}"


def _badge(state: str) -> str:
    color = _STATE_COLORS.get(State(state), "#888888")
    return f"<span class=state style=\"background:{color}\">{html.escape(state)}</span>"


def _pct(value: float | None) -> str:
    return "&ndash;" if value is None else f"{100 * value:.1f}%"
