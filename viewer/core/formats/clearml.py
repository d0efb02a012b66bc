"""ClearML Hyper-Datasets frames with pixel masks (SingleFrame JSON, ``FORMATS.md`` 5).

A frame lists its masks under ``sources[].masks[]`` (``{id, uri, content_type,
timestamp}``); colours map to label lists either per frame, in ``rois[]``
(``{label|labels: [...], mask: {id, value: [R, G, B]}}``, the older style
both spellings of which occur), or per dataset version, in the
``mask_labels`` metadata: ``{"_all_": [{"value": [R, G, B], "labels": [...]}]}``
as ``get_metadata()`` shows it, or ``{"(R, G, B)": [...]}`` as
``set_masks_labels`` takes it. That table is read from the file given as
``mask_labels=`` or from ``mask_labels.json`` beside the frame; a
``_mask_legend.json`` (``{"label": [R, G, B]}``) is accepted there too.

Grey masks are keyed by ``(v, v, v)``: they are read as grey RGB triplets.
A label list becomes one label joined with ``+``; the list itself stays in
``attributes["labels"]``. Mask URIs are local paths or ``file://`` URLs inside
the frame's folder; remote ones (``s3://``, ``https://``) cannot be reached
offline and say so. A frame with several masks lists their ids as items.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from viewer.core import safe_input
from viewer.core.errors import ReadError
from viewer.core.formats.base import FormatSpec
from viewer.core.formats.color_lookup import (
    ColorClass,
    add_warnings,
    finish,
    segmentation_from_colors,
)
from viewer.core.formats.color_plan import is_unknown, paint, plan_colors, segment_requests
from viewer.core.formats.common import (
    check_same_size,
    dump_json,
    load_json,
    read_rgb_png,
    resolve_reference,
    write_png,
)
from viewer.core.formats.names import SIDECAR_SUFFIX
from viewer.core.segment_table import Segment
from viewer.core.segmentation import Segmentation
from viewer.core.types import RGB

NAME = "clearml"
MASK_LABELS_FILE = "mask_labels.json"
ALL_MASKS = "_all_"
MASK_SUFFIX = "_mask.png"
LABEL_JOIN = "+"
SOURCE_ID = "source"
#: ROI meta keys this module writes and reads back into segment fields.
_OUR_META = ("class_id", "instance", "void")
#: Bytes of a JSON file the sniffer looks at.
_SNIFF_BYTES = 1 << 16
_COLOR_KEY = re.compile(r"^\s*[\(\[]?\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*[\)\]]?\s*$")


@dataclass(frozen=True)
class MaskRef:
    """One mask of one frame, with where it sits in the JSON (for messages)."""

    item: str
    mask_id: str
    frame: Mapping[str, Any]
    source: Mapping[str, Any]
    mask: Mapping[str, Any]
    where: str
    masks_in_frame: int


# -- the frame JSON -------------------------------------------------------------------
def _frames(doc: Any, path: Path) -> list[Mapping[str, Any]]:
    """The frames of a file: one frame, a list of frames, or ``{"frames": [...]}``."""
    if isinstance(doc, dict) and isinstance(doc.get("frames"), list):
        frames = doc["frames"]
    elif isinstance(doc, list):
        frames = doc
    elif isinstance(doc, dict):
        frames = [doc]
    else:
        raise ReadError(f"a ClearML frame is a JSON object, found {type(doc).__name__}", path)
    for index, frame in enumerate(frames):
        if not isinstance(frame, dict):
            raise ReadError(f"frame {index} is not a JSON object", path)
    return frames


def _list_of_objects(mapping: Mapping[str, Any], key: str, path: Path, where: str) -> list:
    value = mapping.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ReadError(f"{where}{key!r} should be a list of objects", path)
    return value


def mask_refs(doc: Any, path: Path) -> list[MaskRef]:
    """Every mask of every frame, in file order."""
    frames = _frames(doc, path)
    refs = []
    for f, frame in enumerate(frames):
        prefix = f"frames[{f}]." if len(frames) > 1 else ""
        found = []
        for s, source in enumerate(_list_of_objects(frame, "sources", path, prefix)):
            where = f"{prefix}sources[{s}]."
            for m, mask in enumerate(_list_of_objects(source, "masks", path, where)):
                found.append((source, mask, f"{where}masks[{m}]", str(mask.get("id", f"{m:02d}"))))
        for source, mask, where, mask_id in found:
            item = mask_id if len(frames) == 1 else f"{frame.get('id', f)}/{mask_id}"
            refs.append(MaskRef(item, mask_id, frame, source, mask, where, len(found)))
    return refs


def items(path: str | Path) -> list[str]:
    """The masks a frame file holds: mask ids (``<frame id>/<mask id>`` for several frames)."""
    path = Path(path)
    return [ref.item for ref in mask_refs(load_json(path), path)]


def _pick(refs: Sequence[MaskRef], item: str | None, path: Path) -> MaskRef:
    if not refs:
        raise ReadError("the frame has no masks (sources[].masks[] is empty)", path)
    if item is None:
        return refs[0]
    for ref in refs:
        if ref.item == str(item):
            return ref
    raise ReadError(f"no mask {item!r} in this file; it has {', '.join(r.item for r in refs)}",
                    path)


# -- colour tables --------------------------------------------------------------------
def _color(value: Any, path: Path, where: str) -> RGB:
    ok = (isinstance(value, (list, tuple)) and len(value) == 3
          and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value))
    if not ok:
        raise ReadError(f"{where}: mask value should be [R, G, B] with numbers 0..255, got "
                        f"{value!r}", path)
    return tuple(value)


def _labels(value: Any, path: Path, where: str) -> list[str]:
    """A label list; a lone string is accepted as a list of one."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ReadError(f"{where}: labels should be a list of strings, got {value!r}", path)


def _color_key(key: str) -> RGB | None:
    match = _COLOR_KEY.match(key)
    if match is None:
        return None
    color = tuple(int(g) for g in match.groups())
    return color if all(c <= 255 for c in color) else None


def read_mask_labels(path: Path) -> dict[str, list[tuple[RGB, list[str]]]]:
    """The dataset-level table: ``{mask id or "_all_": [(colour, labels), ...]}``.

    Accepts ``{"_all_": [{"value", "labels"}]}`` (optionally wrapped in
    ``{"mask_labels": ...}``), ``{"(R, G, B)": [labels]}`` and
    ``{"label": [R, G, B]}``.
    """
    data = load_json(path)
    if isinstance(data, dict) and isinstance(data.get("mask_labels"), dict):
        data = data["mask_labels"]
    if not isinstance(data, dict):
        raise ReadError(f"mask labels are a JSON object, found {type(data).__name__}", path)
    table: dict[str, list[tuple[RGB, list[str]]]] = {}
    for key, value in data.items():
        color = _color_key(key)
        if color is not None:
            table.setdefault(ALL_MASKS, []).append((color, _labels(value, path, key)))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for i, entry in enumerate(value):
                where = f"{key}[{i}]"
                labels = entry.get("labels", entry.get("label"))
                table.setdefault(key, []).append((_color(entry.get("value"), path, where),
                                                  _labels(labels, path, where)))
        elif isinstance(value, list) and len(value) == 3:
            table.setdefault(ALL_MASKS, []).append((_color(value, path, key), [key]))
        else:
            raise ReadError(f"{key!r}: expected a colour key '(R, G, B)', a list of "
                            '{"value", "labels"} entries or a legend colour [R, G, B]', path)
    return table


def _roi_entries(ref: MaskRef, path: Path) -> list[tuple[RGB, list[str], dict[str, Any]]]:
    """The ROIs of the frame that point at this mask: (colour, labels, ROI facts)."""
    out = []
    rois = _list_of_objects(ref.frame, "rois", path, "")
    for index, roi in enumerate(rois):
        link = roi.get("mask")
        if not isinstance(link, dict) or "value" not in link:
            continue
        if "id" in link and str(link["id"]) != ref.mask_id:
            continue
        if "id" not in link and ref.masks_in_frame > 1:
            continue
        where = f"rois[{index}]"
        labels = _labels(roi.get("labels", roi.get("label")), path, where)
        out.append((_color(link["value"], path, f"{where}.mask"), labels, roi))
    return out


def _roi_fields(roi: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Segment fields and attributes a ROI carries (confidence, id, our meta keys)."""
    fields: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    confidence = roi.get("confidence")
    if isinstance(confidence, (int, float)) and not isinstance(confidence, bool):
        fields["score"] = float(confidence)
    if roi.get("id") is not None:
        attributes["roi_id"] = roi["id"]
    meta = roi.get("meta") if isinstance(roi.get("meta"), dict) else {}
    for key in ("class_id", "instance"):
        if isinstance(meta.get(key), int) and not isinstance(meta.get(key), bool):
            fields[key] = meta[key]
    if meta.get("void") is True:
        fields["void"] = True
    other = {k: v for k, v in meta.items() if k not in _OUR_META}
    if other:
        attributes["meta"] = other
    return fields, attributes


def color_classes(ref: MaskRef, table: Mapping[str, list[tuple[RGB, list[str]]]],
                  path: Path) -> tuple[list[ColorClass], list[str]]:
    """The colour table of one mask: dataset-level rows, then the frame's ROIs.

    A ROI overrides the dataset-level labels of its colour (with a warning
    when they differ).
    """
    entries: dict[RGB, tuple[list[str], dict[str, Any], dict[str, Any]]] = {}
    for color, labels in [*table.get(ALL_MASKS, []), *table.get(ref.mask_id, [])]:
        entries.setdefault(color, (labels, {}, {}))
    warnings = []
    for color, labels, roi in _roi_entries(ref, path):
        if color in entries and entries[color][0] != labels:
            warnings.append(f"colour {list(color)} is {entries[color][0]} in the mask labels but "
                            f"{labels} in ROI {roi.get('id', '?')}; the ROI wins")
        entries[color] = (labels, *_roi_fields(roi))
    rows = [ColorClass(color, LABEL_JOIN.join(labels), index,
                       attributes={"labels": labels, **attributes}, fields=fields)
            for index, (color, (labels, fields, attributes)) in enumerate(entries.items())]
    return rows, warnings


# -- reading ----------------------------------------------------------------------------
def read(path: str | Path, *, item: str | None = None, mask_labels: str | Path | None = None,
         names: Mapping[int, str] | None = None, image_size: tuple[int, int] | None = None,
         **_options) -> Segmentation:
    """Read one mask of a ClearML frame JSON.

    Parameters
    ----------
    path : str or Path
        The frame JSON (one frame, a list of frames or ``{"frames": [...]}``).
    item : str, optional
        Mask id (see :func:`items`); default the first mask.
    mask_labels : str or Path, optional
        The dataset version's mask-label table; default ``mask_labels.json``
        beside the frame when there is one.
    names : mapping of table row to name, optional
    image_size : (width, height), optional

    Raises
    ------
    ReadError
        Naming the JSON (syntax, structure, a remote or outside URI, a video
        mask) or the mask file (unreadable, or a size other than its source's).
    """
    path = Path(path)
    ref = _pick(mask_refs(load_json(path), path), item, path)
    mask_path = _mask_file(ref, path)
    size = _source_size(ref, path)
    rgb = read_rgb_png(mask_path)
    if size is not None:
        check_same_size((rgb.shape[1], rgb.shape[0]), size, mask_path)
    labels_file = Path(mask_labels) if mask_labels else path.parent / MASK_LABELS_FILE
    table = read_mask_labels(labels_file) if mask_labels or labels_file.is_file() else {}
    rows, warnings = color_classes(ref, table, path)
    if names:
        rows = [ColorClass(r.color, names.get(r.value, r.name), r.value, r.void, r.background,
                           r.attributes, r.fields) for r in rows]
    details: dict[str, Any] = {"frame": ref.frame.get("id"), "mask_id": ref.mask_id,
                               "mask_file": str(mask_path),
                               "mask_labels": str(labels_file) if table else None}
    add_warnings(details, warnings)
    seg = segmentation_from_colors(rgb, rows, source=path, format_name=NAME, details=details,
                                   table="the frame's mask labels")
    return finish(seg, mask_path, image_size)


def _mask_file(ref: MaskRef, path: Path) -> Path:
    content_type = str(ref.mask.get("content_type") or "")
    uri = ref.mask.get("uri")
    if content_type.startswith("video/"):
        raise ReadError(f"{ref.where}: mask {ref.mask_id!r} is a video ({content_type}); its "
                        "colours are codec-damaged; export the frame as a PNG mask", path)
    if not isinstance(uri, str) or not uri:
        raise ReadError(f"{ref.where}: mask {ref.mask_id!r} has no 'uri'", path)
    return resolve_reference(uri, path.parent, path)


def _source_size(ref: MaskRef, path: Path) -> tuple[int, int] | None:
    """The source's ``(width, height)``, None when it gives none; a bad one is an error.

    A negative, zero, fractional or textual size is not ignored: the frame is
    damaged, and checking the mask against it would silently check nothing.
    """
    width, height = ref.source.get("width"), ref.source.get("height")
    if width is None and height is None:
        return None
    for key, value in (("width", width), ("height", height)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ReadError(f"{ref.where}: source {key} {value!r} is not a positive whole "
                            "number of pixels", path)
    return width, height


# -- writing ----------------------------------------------------------------------------
def labels_of(segment: Segment) -> list[str]:
    """The label list of a segment: the kept list when it still matches the label."""
    kept = segment.attributes.get("labels")
    if isinstance(kept, (list, tuple)) and LABEL_JOIN.join(map(str, kept)) == segment.label:
        return [str(label) for label in kept]
    return [segment.label] if segment.label else []


def _roi(segment: Segment, color: RGB, mask_id: str) -> dict[str, Any]:
    kept = segment.attributes.get("meta")
    meta = {k: v for k, v in kept.items() if k not in _OUR_META} if isinstance(kept, Mapping) \
        else {}
    meta.update({key: getattr(segment, key) for key in ("class_id", "instance")
                 if getattr(segment, key) is not None})
    if segment.void:
        meta["void"] = True
    roi: dict[str, Any] = {"id": str(segment.attributes.get("roi_id", segment.id)),
                           "label": labels_of(segment), "sources": [SOURCE_ID],
                           "mask": {"id": mask_id, "value": list(color)}, "meta": meta}
    if segment.score is not None:
        roi["confidence"] = float(segment.score)
    return roi


def write(seg: Segmentation, path: str | Path, *, mask_id: str = "seg",
          source_uri: str | None = None, frame_id: str | None = None,
          **_options) -> list[Path]:
    """Write a frame JSON and its RGB mask ``<stem>_mask.png`` beside it.

    Every segment gets a colour and a ROI with its label list (confidence =
    score; class id, instance and void in the ROI's ``meta``). Unknown-colour
    segments keep their colour and get no ROI, so they read back as unknown.

    Parameters
    ----------
    seg : Segmentation
    path : str or Path
        The frame JSON.
    mask_id : str
        Id of the mask in ``sources[0].masks``.
    source_uri : str, optional
        The photo's URI for ``sources[0].uri`` (left out when not given).
    frame_id : str, optional
        Default: the file's stem.
    """
    path = Path(path)
    if path.suffix.lower() != ".json":
        path = path.with_suffix(".json")
    mask_path = path.with_name(path.stem + MASK_SUFFIX)
    plan = plan_colors(seg, segment_requests(seg))
    write_png(mask_path, paint(seg.labels, plan.colors))
    source: dict[str, Any] = {"id": SOURCE_ID, "width": seg.width, "height": seg.height,
                              "timestamp": 0,
                              "masks": [{"id": mask_id, "content_type": "image/png",
                                         "uri": mask_path.name, "timestamp": 0}]}
    if source_uri:
        source["uri"] = source_uri
    rois = [_roi(s, plan.colors[s.id], mask_id) for s in seg.table if not is_unknown(s)]
    frame = {"id": frame_id or path.stem, "timestamp": 0, "meta": {}, "sources": [source],
             "rois": rois}
    dump_json(path, frame)
    return [path, mask_path]


def losses(seg: Segmentation) -> list[str]:
    """Colour keys that must move because two segments share one."""
    return plan_colors(seg, segment_requests(seg)).notes


def sniff(path: Path) -> bool:
    """A JSON whose start mentions ``sources`` and masks (cheap: reads 64 KiB)."""
    if path.name.lower().endswith(SIDECAR_SUFFIX):
        return False  # our own metadata JSON, which may quote a frame's provenance
    try:
        with safe_input.open_regular(path) as handle:
            head = handle.read(_SNIFF_BYTES).decode("utf-8", "ignore")
    except (OSError, ReadError):
        return False
    return '"sources"' in head and ('"masks"' in head or '"mask"' in head)


FORMAT = FormatSpec(
    name=NAME,
    title="ClearML Hyper-Dataset frame JSON + RGB mask (rois[].mask / mask_labels)",
    extensions=(".json",),
    read=read,
    write=write,
    sniff=sniff,
    priority=5,
    notes="label lists joined with '+'; grey masks keyed (v, v, v); remote URIs not reachable",
    losses=losses,
    items=items,
)
FORMATS = (FORMAT,)
