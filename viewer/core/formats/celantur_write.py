"""Writing Celantur instance and binary masks, and the ``image-name.json`` of an instance mask.

:mod:`viewer.core.formats.celantur`, "Writing", says how segments map onto the
four types and what is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from viewer.core.errors import WriteError
from viewer.core.formats.celantur_common import (
    ANONYMISED,
    BINARY,
    BINARY_SUFFIX,
    INSTANCE,
    INSTANCE_SUFFIXES,
    METADATA,
    TYPES,
    image_stem,
    type_code,
)
from viewer.core.formats.common import dump_json, write_png
from viewer.core.segment_table import Segment
from viewer.core.segmentation import BACKGROUND_NAMES, Segmentation

KEYS_PER_TYPE = 256


# -- the instance mask --------------------------------------------------------------
@dataclass
class _Plan:
    """How segments become Celantur colours, and what cannot be kept."""

    colours: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    types: dict[int, int] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)


def _is_background(s: Segment) -> bool:
    if s.value == (0, 0, 0) or s.label.lower() in BACKGROUND_NAMES:
        return True
    return s.value == 0 and s.label == ""


def _segment_type(s: Segment) -> int | None:
    code = type_code(s.label)
    if code is not None:
        return code
    value = s.value
    if not s.label and isinstance(value, tuple) and len(value) == 3 and value[2] == 0 \
            and value[0] in TYPES:
        return value[0]
    return s.class_id if not s.label and s.class_id in TYPES else None


def _preferred_key(s: Segment, code: int) -> int | None:
    value = s.value
    if isinstance(value, tuple) and len(value) == 3 and value[0] == code and value[2] == 0:
        return value[1]
    instance = s.instance
    return instance if isinstance(instance, int) and 0 <= instance < KEYS_PER_TYPE else None


def _assign_keys(segments: list[Segment], code: int) -> tuple[dict[int, int], int]:
    """G key per segment id: its own key when free, else the next free one.

    Returns the keys and how many segments had to share a key (beyond 256).
    """
    keys: dict[int, int] = {}
    pending = []
    for s in segments:
        key = _preferred_key(s, code)
        if key is not None and key not in keys.values():
            keys[s.id] = key
        else:
            pending.append(s)
    used = set(keys.values())
    free = iter([k for k in (*range(1, KEYS_PER_TYPE), 0) if k not in used])
    overflow = 0
    for s in pending:
        key = next(free, None)
        if key is None:
            overflow += 1
            key = max(used | set(keys.values()))  # merged into an existing instance
        keys[s.id] = key
    return keys, overflow


def _instance_plan(seg: Segmentation) -> _Plan:
    plan = _Plan()
    typed: dict[int, list[Segment]] = {code: [] for code in TYPES}
    others, voids, renamed = [], [], []
    for s in seg.table:
        if s.area == 0:
            continue
        code = _segment_type(s)
        if s.attributes.get("unknown_color") and isinstance(s.value, tuple):
            plan.colours[s.id] = tuple(s.value)  # an odd colour read from a file goes back as is
        elif _is_background(s) or (s.void and code is None):
            plan.colours[s.id] = (0, 0, 0)
            if s.void:
                voids.append(s.label or str(s.value))
        elif code is not None:
            typed[code].append(s)
            if s.label and s.label != TYPES[code]:
                renamed.append(f"{s.label!r} -> {TYPES[code]!r}")
        else:
            plan.colours[s.id] = (0, 0, 0)
            others.append(s.label or f"value {s.value}")
    for code, members in typed.items():
        keys, overflow = _assign_keys(members, code)
        for seg_id, key in keys.items():
            plan.colours[seg_id] = (code, key, 0)
            plan.types[seg_id] = code
        if overflow:
            plan.lost.append(f"{len(members)} {TYPES[code]} instances are more than the "
                             f"{KEYS_PER_TYPE} G keys of a type: {overflow} are merged into "
                             "another instance")
    plan.lost[:0] = _plan_sentences(sorted(set(others)), voids, renamed)
    return plan


def _plan_sentences(others: list[str], voids: list[str], renamed: list[str]) -> list[str]:
    out = []
    if others:
        out.append(f"{len(others)} classes beyond the 4 Celantur types (license plate, "
                   f"person, face, vehicle) are written as background: {', '.join(others)}")
    if voids:
        out.append(f"void segments are written as background: {', '.join(sorted(set(voids)))}")
    if renamed:
        out.append(f"labels become Celantur type names: {', '.join(renamed)}")
    return out


def instance_losses(seg: Segmentation) -> list[str]:
    """Return what writing ``seg`` as a Celantur instance mask would lose."""
    return list(_instance_plan(seg).lost)


def _paint(labels: np.ndarray, colours: Mapping[int, tuple[int, int, int]]) -> np.ndarray:
    """RGB image of the label map, every id painted its colour (unlisted ids black)."""
    ids = np.array(sorted(colours), np.int64)
    table = np.array([colours[i] for i in ids.tolist()], np.uint8).reshape(-1, 3)
    top = max(int(labels.max(initial=0)), int(ids[-1]) if ids.size else 0)
    if top < (1 << 20):
        lut = np.zeros((top + 1, 3), np.uint8)
        lut[ids] = table
        return lut[labels]
    # Huge ids (uint32 maps): look each pixel up among the listed ids instead.
    flat = labels.reshape(-1).astype(np.int64)
    where = np.clip(np.searchsorted(ids, flat), 0, max(ids.size - 1, 0))
    rgb = np.zeros((flat.size, 3), np.uint8)
    if ids.size:
        hit = ids[where] == flat
        rgb[hit] = table[where[hit]]
    return rgb.reshape(*labels.shape, 3)


def write_instance(seg: Segmentation, path: str | Path, *, metadata: bool = True,
                   image_name: str | None = None, **_options) -> list[Path]:
    """Write ``image-name_ins_maks.png`` and ``image-name.json``.

    Parameters
    ----------
    path : str or Path
        Kept when it already ends in ``_ins_maks.png`` or ``_ins_mask.png``;
        otherwise ``<stem>_ins_maks.png`` (the name Celantur writes) beside it.
    metadata : bool
        Also write the per-image JSON (default True).
    image_name : str, optional
        The photo's file name for ``id``/``filename``/``parent_image``; default
        the one read from Celantur metadata, else the image stem.
    """
    mask_path = _target(Path(path), INSTANCE_SUFFIXES)
    plan = _instance_plan(seg)
    files = [write_png(mask_path, _paint(seg.labels, plan.colours))]
    if metadata:
        json_path = mask_path.with_name(image_stem(mask_path) + ".json")
        name = image_name or _known_image_name(seg) or image_stem(mask_path)
        files.append(dump_json(json_path, _image_metadata(seg, plan, name)))
    return files


def _target(path: Path, suffixes: tuple[str, ...]) -> Path:
    if path.name.lower().endswith(suffixes):
        return path
    stem = path.stem if path.suffix.lower() in (".png", ".json") else path.name
    if not stem:
        raise WriteError("needs a file name", path)
    return path.with_name(stem + suffixes[0])


def _known_image_name(seg: Segmentation) -> str | None:
    facts = seg.provenance.details.get("celantur", {}) if seg.provenance.format in (
        INSTANCE, BINARY, METADATA) else {}
    name = facts.get("filename") or facts.get("id")
    return name if isinstance(name, str) and name else None


def _image_metadata(seg: Segmentation, plan: _Plan, image_name: str) -> dict[str, Any]:
    facts = seg.provenance.details.get("celantur", {}) if seg.provenance.format in (
        INSTANCE, BINARY, METADATA) else {}
    detections = [_detection_of(seg.table[i], code, image_name)
                  for i, code in sorted(plan.types.items())]
    detections += _unmatched_read(seg)
    taken = {d["id"] for d in detections if isinstance(d.get("id"), int)}
    next_id = max(taken, default=-1) + 1
    for det in detections:
        if det["id"] is None:
            det["id"], next_id = next_id, next_id + 1
    return {"id": image_name, "detections": detections, "size": [seg.width, seg.height],
            "duration": facts.get("duration"), "filename": image_name,
            "folder": facts.get("folder")}


def _unmatched_read(seg: Segmentation) -> list[dict[str, Any]]:
    """Detections read from Celantur metadata that matched no segment, to write them back."""
    details = seg.provenance.details
    if seg.provenance.format not in (INSTANCE, BINARY, METADATA):
        return []
    unmatched = details.get("unmatched_detections", [])
    out = []
    for index, det in enumerate(details.get("detections", [])):
        if det.get("id", index) in unmatched:
            det = dict(det)
            if "is_anonymised" in det:
                det.setdefault("is_anonymized", det.pop("is_anonymised"))
            out.append(det)
    return out


def _detection_of(s: Segment, code: int, image_name: str) -> dict[str, Any]:
    a = s.attributes
    r0, c0, r1, c1 = s.bbox
    bbox = a.get("bbox_xyxy") if a.get("bbox_xyxy") is not None else [c0, r0, c1, r1]
    # A detection read from Celantur keeps its offset; otherwise the attribute table's
    # meaning: the box's upper-left corner.
    offset = a.get("offset") if a.get("offset") is not None else [bbox[0], bbox[1]]
    return {
        "id": a.get("detection_id"),
        "parent_image": a.get("parent_image", image_name),
        "offset": offset,
        "bbox": bbox,
        "score": s.score,
        "is_anonymized": a.get("is_anonymized", True),
        "type_label": TYPES[code],
        "type": a.get("type"),
        "color": a.get("color"),
    }


# -- the binary mask ----------------------------------------------------------------
def _binary_grey(s: Segment) -> int:
    if _is_background(s):
        return 0
    # An odd grey level read from a binary mask goes back as it was.
    odd = s.attributes.get("unknown_color") and isinstance(s.value, int) and 0 < s.value < 255
    return int(s.value) if odd else 255


def binary_losses(seg: Segmentation) -> list[str]:
    """Return what writing ``seg`` as a Celantur binary mask would lose."""
    foreground = [s for s in seg.table
                  if s.area and not _is_background(s) and _binary_grey(s) == 255]
    lost = []
    if len(foreground) > 1:
        shown = ", ".join(s.label or str(s.value) for s in foreground[:10])
        lost.append(f"{len(foreground)} segments become one white '{ANONYMISED}' region; "
                    f"classes and instances are lost: {shown}")
    renamed = [s for s in foreground if s.value != 255 or s.label not in ("", ANONYMISED)]
    if len(foreground) == 1 and renamed:
        s = renamed[0]
        lost.append(f"segment {s.label or s.value!r} (value {s.value}) is written as white "
                    f"(255) and reads back as {ANONYMISED!r}")
    return lost


def write_binary(seg: Segmentation, path: str | Path, **_options) -> list[Path]:
    """Write ``image-name_bin_mask.png``: background black (0), everything else white (255).

    ``path`` is kept when it ends in ``_bin_mask.png``; otherwise
    ``<stem>_bin_mask.png`` beside it.
    """
    mask_path = _target(Path(path), (BINARY_SUFFIX,))
    colours = {s.id: (_binary_grey(s),) * 3 for s in seg.table}
    grey = _paint(seg.labels, colours)[..., 0]
    return [write_png(mask_path, np.ascontiguousarray(grey))]
