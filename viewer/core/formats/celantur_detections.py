"""Celantur per-image metadata beside a mask: its keys, its detections, and matching them.

The mask readers of :mod:`~viewer.core.formats.celantur_read` load
``image-name.json`` with :func:`metadata_for` and put matching detections on
instance segments with :func:`attach_detections` (the rules are in
:mod:`viewer.core.formats.celantur`, "Matching detections to mask segments").
The metadata reader of :mod:`~viewer.core.formats.celantur_metadata` reads
detections and sizes with the same functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from viewer.core.errors import ReadError
from viewer.core.formats.celantur_common import TYPES, metadata_beside, type_code
from viewer.core.formats.common import load_json
from viewer.core.segment_table import Segment
from viewer.core.segmentation import Segmentation


def metadata_for(mask_path: Path, warnings: list[str]) -> tuple[dict | None, Path | None]:
    """Load ``image-name.json`` beside a mask; a damaged one only warns."""
    meta_path = metadata_beside(mask_path)
    if meta_path is None:
        return None, None
    try:
        data = load_json(meta_path)
    except ReadError as exc:
        warnings.append(f"the metadata beside the mask was not used: {exc}")
        return None, None
    if not isinstance(data, dict) or is_chunk(data):
        warnings.append(f"{meta_path.name} is not per-image Celantur metadata; not used")
        return None, None
    return data, meta_path


def is_chunk(data: Any) -> bool:
    """True for video metadata: a list of frames, or an object with a ``"frames"`` list."""
    if isinstance(data, dict):
        return isinstance(data.get("frames"), list)
    return isinstance(data, list)


def frame_facts(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The image/frame-level keys other than detections, under ``details["celantur"]``."""
    keys = ("id", "size", "duration", "filename", "folder")
    return {"celantur": {k: meta[k] for k in keys if k in meta}}


def detections_of(meta: Mapping[str, Any], meta_path: Path | None,
                  warnings: list[str]) -> Iterable[dict[str, Any]]:
    """Return the detections of an image or frame that are JSON objects; others only warn."""
    detections = meta.get("detections", [])
    name = meta_path.name if meta_path else "the metadata"
    if not isinstance(detections, list):
        warnings.append(f"{name}: 'detections' is not a list; ignored")
        return []
    bad = sum(not isinstance(d, dict) for d in detections)
    if bad:
        warnings.append(f"{name}: {bad} detections are not JSON objects; ignored")
    return [d for d in detections if isinstance(d, dict)]


def size_of(meta: Mapping[str, Any], meta_path: Path | None,
            warnings: list[str]) -> tuple[int, int] | None:
    """Return ``size`` as (width, height), or None when missing; a malformed one only warns."""
    size = meta.get("size")
    if size is None:
        return None
    if (isinstance(size, list) and len(size) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)):
        return size[0], size[1]
    name = meta_path.name if meta_path else "the metadata"
    warnings.append(f"{name}: 'size' {size!r} is not [width, height]; ignored")
    return None


def detection_attributes(det: Mapping[str, Any]) -> dict[str, Any]:
    """Return a detection's fields as segment attributes (only the keys present).

    ``bbox`` is stored as ``bbox_xyxy`` (a segment's own ``bbox`` is in row,
    column order) and both spellings of ``is_anonymized`` as ``is_anonymized``.
    """
    out: dict[str, Any] = {}
    renames = {"id": "detection_id", "bbox": "bbox_xyxy"}
    for key in ("id", "parent_image", "offset", "bbox", "type", "type_label", "color"):
        if key in det:
            out[renames.get(key, key)] = det[key]
    for key in ("is_anonymized", "is_anonymised"):
        if key in det:
            out["is_anonymized"] = det[key]
            break
    return out


def box_of(det: Mapping[str, Any]) -> tuple[float, float, float, float] | None:
    """Return a detection's ``bbox`` as (x1, y1, x2, y2), or None when it is not a box."""
    box = det.get("bbox")
    if not (isinstance(box, list) and len(box) == 4):
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in box):
        return None
    x1, y1, x2, y2 = (float(v) for v in box)
    return (x1, y1, x2, y2) if x2 >= x1 and y2 >= y1 else None


def score_of(det: Mapping[str, Any]) -> float | None:
    """Return a detection's ``score`` when it is a number, else None."""
    score = det.get("score")
    ok = isinstance(score, int | float) and not isinstance(score, bool)
    return float(score) if ok else None


# -- matching detections to segments ----------------------------------------------
def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def attach_detections(seg: Segmentation, meta: Mapping[str, Any], meta_path: Path,
                      match_iou: float, details: dict[str, Any], warnings: list[str]) -> None:
    """Put matching detections' score and fields on segments.

    The rules are in :mod:`viewer.core.formats.celantur`, "Matching detections
    to mask segments".
    """
    detections = list(detections_of(meta, meta_path, warnings))
    details["metadata"] = str(meta_path)
    details.update(frame_facts(meta))
    details["detections"] = detections
    pairs = _match(seg, detections, match_iou)
    changes = {}
    for index, (seg_id, iou) in pairs.items():
        det = detections[index]
        attributes = {**seg.table[seg_id].attributes, **detection_attributes(det),
                      "match_iou": round(iou, 3)}
        changes[seg_id] = {"score": score_of(det), "attributes": attributes}
    if changes:
        seg.table.update_many(changes)
    unmatched = [d.get("id", i) for i, d in enumerate(detections) if i not in pairs]
    if unmatched:
        details["unmatched_detections"] = unmatched
        warnings.append(f"{len(unmatched)} of {len(detections)} detections in {meta_path.name} "
                        f"match no mask segment of their type with box overlap >= {match_iou}; "
                        "they are kept in the provenance details")


def _match(seg: Segmentation, detections: list[dict[str, Any]],
           min_iou: float) -> dict[int, tuple[int, float]]:
    """Greedy best-overlap matching: {detection index: (segment id, iou)}."""
    by_type: dict[int, list[Segment]] = {}
    for s in seg.table:
        if s.class_id in TYPES and s.bbox is not None and not s.attributes.get("unknown_color"):
            by_type.setdefault(s.class_id, []).append(s)
    candidates = []
    for index, det in enumerate(detections):
        box, code = box_of(det), type_code(det.get("type_label"))
        for s in by_type.get(code, []) if box is not None else []:
            r0, c0, r1, c1 = s.bbox
            iou = _iou(box, (c0, r0, c1, r1))
            if iou >= min_iou:
                candidates.append((iou, index, s.id))
    pairs: dict[int, tuple[int, float]] = {}
    used: set[int] = set()
    for iou, index, seg_id in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        if index not in pairs and seg_id not in used:
            pairs[index] = (seg_id, iou)
            used.add(seg_id)
    return pairs
