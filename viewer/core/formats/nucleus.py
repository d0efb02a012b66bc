"""Scale Nucleus segmentation JSON (``SegmentationAnnotation`` / ``SegmentationPrediction``).

``FORMATS.md`` section 3 is the specification. The JSON names a mask PNG and
says which pixel value is which segment::

    {"type": "mask", "mask_url": "masks/item1.png",
     "annotations": [{"label": "bear", "index": 2},
                     {"label": "grass-merged", "index": 1, "metadata": {...}}],
     "annotation_id": null, "reference_id": "item1"}

Reading
-------
- ``type`` is ``"mask"`` in uploads, ``"segmentation"`` in exports, or absent:
  it is not checked (Nucleus does not either) and kept in the details.
- Export payload rows carry the mask object under ``"segmentation"`` and the
  reference id under ``item.reference_id``; both shapes are read, and a JSON
  list of either is a container whose :func:`items` are the reference ids.
- ``mask_url`` may be a relative or absolute local path or a ``file://`` URL,
  and must stay inside the JSON's folder; ``s3://`` and ``http(s)://`` URLs
  are refused as not reachable (the viewer works offline).
- The mask is an 8-bit single-channel PNG (mode ``L``), one value per segment.
  It must have the image's size: Nucleus has no scaled masks, so a mask of
  another size than ``image_size`` is an error, not upscaled.
- ``index`` may be a string (``"1"``); it becomes an int. Annotations with a
  null index have no pixels: they are kept in
  ``provenance.details["unindexed"]``. Pixel values no annotation names are
  unlabelled segments of their own (label ``""``).
- Nucleus does not say whether a mask is semantic or instance: the kind is
  INSTANCE when a label is used by several indices ("car" for 0 and 1), else
  SEMANTIC; ``kind=`` overrides. Annotation ``metadata`` goes into
  ``Segment.attributes["metadata"]``; ``reference_id``, ``annotation_id`` and
  ``type`` go into the provenance details.

Writing
-------
``write`` writes ``<stem>.json`` (the primary file) and the mask
``<stem>.png`` (mode ``L``) beside it, referenced by an absolute ``mask_url``:
the Nucleus SDK opens a local ``mask_url`` relative to the working
directory, not to the JSON. When the folder has been moved since, the reader
takes the file of that name beside the JSON (with a warning).
Values 0..255 are written as they are; otherwise up to 256 segments are
renumbered; beyond 256 segments, instances are merged by label (the loss
:func:`losses` reports), and more than 256 labels cannot be written.
"""

from __future__ import annotations

import re
from urllib.parse import unquote
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from viewer.core import safe_input
from viewer.core.errors import ReadError, WriteError
from viewer.core.formats.base import FormatSpec
from viewer.core.formats.common import (
    check_same_size,
    dump_json,
    load_json,
    read_index_png,
    resolve_reference,
    write_png,
)
from viewer.core.segment_table import Segment
from viewer.core.segmentation import BACKGROUND_NAMES, Kind, Provenance, Segmentation

NAME = "nucleus"
MAX_VALUES = 256
MASK_TYPE = "mask"
# Sniffing parses files up to this size and only looks at the first bytes of larger ones.
_SMALL_JSON = 1 << 20
_HEAD_BYTES = 64 * 1024
_INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class _Record:
    """One segmentation object of a file, with where it sits for messages."""

    mask: dict[str, Any]
    reference_id: Any
    where: str
    export: bool = False


# -- reading ----------------------------------------------------------------------
def read(path: str | Path, *, item: str | None = None, kind: Kind | str | None = None,
         image_size: tuple[int, int] | None = None, names: Mapping[int, str] | None = None,
         **_options) -> Segmentation:
    """Read a Nucleus segmentation JSON and its mask PNG.

    Parameters
    ----------
    path : str or Path
        The JSON file.
    item : str, optional
        Reference id (or position) of one entry of a JSON list.
    kind : Kind, optional
        Overrides the inferred kind (INSTANCE when labels repeat).
    image_size : (width, height), optional
        The image's size; the mask must have it.
    names : mapping of value to name, optional
        Overrides the labels of the JSON.

    Raises
    ------
    ReadError
        Syntax errors (line and column), a missing or remote ``mask_url``, a
        path outside the folder, a bad ``index``, an unreadable mask, or a
        mask whose size is not the image's.
    """
    path = Path(path)
    record = _pick(_records(load_json(path), path), item, path)
    mask_url = _mask_url(record, path)
    warnings: list[str] = []
    mask_path = _resolve_mask(mask_url, path, warnings)
    values, mode, _palette = read_index_png(mask_path)
    if image_size is not None:
        check_same_size((values.shape[1], values.shape[0]), image_size, mask_path)
    by_index, details = _annotations(record, path)
    if mode not in ("L", "P", "1"):
        warnings.append(f"the mask is mode {mode}; Nucleus masks are 8-bit (mode L)")
    chosen = Kind(kind) if kind is not None else _inferred_kind(by_index, details)
    describe = _describer(by_index, chosen, names or {})
    details.update(reference_id=record.reference_id, annotation_id=record.mask.get("annotation_id"),
                   type=record.mask.get("type"), mask=str(mask_path), mask_url=mask_url,
                   png_mode=mode, export_payload=record.export, warnings=warnings)
    seg = Segmentation.from_values(values, kind=chosen, describe=describe,
                                   hidden_values=_hidden(by_index),
                                   provenance=Provenance(str(path), NAME, details))
    _note_gaps(seg, by_index, details, warnings)
    return seg


def items(path: str | Path) -> list[str]:
    """Return the entries of a JSON list (reference ids, or positions); [] for one object."""
    path = Path(path)
    data = load_json(path)
    return _item_names(_records(data, path)) if isinstance(data, list) else []


def _records(data: Any, path: Path) -> list[_Record]:
    if isinstance(data, list):
        if not data:
            raise ReadError("is an empty JSON list: no segmentation to read", path)
        return [_record(entry, path, f"[{i}]") for i, entry in enumerate(data)]
    return [_record(data, path, "")]


def _record(obj: Any, path: Path, where: str) -> _Record:
    if not isinstance(obj, dict):
        raise ReadError(f"{where or 'the file'}: expected a JSON object, found "
                        f"{type(obj).__name__}", path)
    inner = obj.get("segmentation")
    if isinstance(inner, dict):
        item = obj.get("item") if isinstance(obj.get("item"), dict) else {}
        reference = inner.get("reference_id", item.get("reference_id"))
        return _Record(inner, reference, f"{where}.segmentation".lstrip("."), export=True)
    return _Record(obj, obj.get("reference_id"), where)


def _item_names(records: list[_Record]) -> list[str]:
    refs = [r.reference_id for r in records]
    unique = all(isinstance(r, str) and r for r in refs) and len(set(refs)) == len(refs)
    return [str(r) for r in refs] if unique else [str(i) for i in range(len(records))]


def _pick(records: list[_Record], item: str | None, path: Path) -> _Record:
    if item is None:
        return records[0]
    names = _item_names(records)
    if str(item) in names:
        return records[names.index(str(item))]
    if len(records) == 1 and str(item) == str(records[0].reference_id):
        return records[0]
    raise ReadError(f"no entry {item!r} (it holds {', '.join(names[:5])}"
                    f"{', ...' if len(names) > 5 else ''})", path)


def _resolve_mask(mask_url: str, path: Path, warnings: list[str]) -> Path:
    """The mask file: ``mask_url`` inside the JSON's folder, else (an absolute path of a
    moved export) the file of that name beside the JSON."""
    try:
        return resolve_reference(mask_url, path.parent, path)
    except ReadError:
        # Only an absolute local path falls back: a relative one is read as today.
        absolute = mask_url.startswith(("/", "file:")) or re.match(r"[A-Za-z]:[\\/]", mask_url)
        name = re.split(r"[\\/]", unquote(mask_url))[-1]
        beside = path.parent / name
        if not absolute or name in ("", ".", "..") or not beside.is_file():
            raise
    warnings.append(f"mask_url {mask_url!r} is not in the JSON's folder; read {beside.name} "
                    "beside the JSON instead (the export was moved)")
    return resolve_reference(beside.name, path.parent, path)


def _mask_url(record: _Record, path: Path) -> str:
    place = f"{record.where}: " if record.where else ""
    if record.mask.get("mask_url") is None:
        raise ReadError(f"{place}missing 'mask_url': a Nucleus segmentation names its mask "
                        "PNG there", path)
    url = record.mask["mask_url"]
    if not isinstance(url, str) or not url.strip():
        raise ReadError(f"{place}'mask_url' should be a path or URL, found {url!r}", path)
    return url.strip()


def _annotations(record: _Record, path: Path) -> tuple[dict[int, dict], dict[str, Any]]:
    """Return ``{index: annotation}`` and details (null-index and repeated entries)."""
    place = f"{record.where}." if record.where else ""
    raw = record.mask.get("annotations")
    raw = [] if raw is None else raw
    if not isinstance(raw, list):
        raise ReadError(f"{place}'annotations' should be a list, found {type(raw).__name__}", path)
    by_index: dict[int, dict] = {}
    unindexed, repeated = [], []
    for position, ann in enumerate(raw):
        where = f"{place}annotations[{position}]"
        if not isinstance(ann, dict):
            raise ReadError(f"{where}: expected a JSON object, found {type(ann).__name__}", path)
        label = ann.get("label")
        if label is not None and not isinstance(label, str):
            raise ReadError(f"{where}: 'label' should be a string, found {label!r}", path)
        index = _index(ann.get("index"), where, path)
        if index is None:
            unindexed.append(ann)
        elif index in by_index:
            repeated.append(ann)
        else:
            by_index[index] = ann
    details: dict[str, Any] = {}
    if unindexed:
        details["unindexed"] = unindexed
    if repeated:
        details["repeated_index"] = repeated
    return by_index, details


def _index(raw: Any, where: str, path: Path) -> int | None:
    """Coerce an annotation index: int, a string of digits ("1"), an integral float, or null."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ReadError(f"{where}: 'index' {raw!r} is not a pixel value", path)
    if isinstance(raw, str) and _INTEGER.match(raw.strip()):
        raw = int(raw.strip())
    elif isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if not isinstance(raw, int) or raw < 0:
        raise ReadError(f"{where}: 'index' {raw!r} is not a pixel value (0..255)", path)
    return raw


def _label(ann: Mapping[str, Any] | None) -> str:
    return (ann.get("label") or "") if ann is not None else ""


def _inferred_kind(by_index: Mapping[int, dict], details: dict[str, Any]) -> Kind:
    counts = Counter(_label(a) for a in by_index.values() if _label(a))
    repeated = sorted(label for label, n in counts.items() if n > 1)
    if not repeated:
        return Kind.SEMANTIC
    details["kind_reason"] = ("instance: labels used by several indices: "
                              + ", ".join(f"{label} x{counts[label]}" for label in repeated))
    return Kind.INSTANCE


def _describer(by_index: Mapping[int, dict], kind: Kind, names: Mapping[int, str]):
    """Return ``describe(value)`` for :meth:`Segmentation.from_values`."""
    order = sorted(by_index)
    distinct = dict.fromkeys(_label(by_index[i]) for i in order)
    classes = {label: n for n, label in enumerate(distinct)}
    instances: dict[int, int] = {}
    seen: Counter = Counter()
    for index in order:
        seen[_label(by_index[index])] += 1
        instances[index] = seen[_label(by_index[index])]

    def describe(value: int) -> dict[str, Any]:
        ann = by_index.get(value)
        label = names.get(value, _label(ann))
        fields: dict[str, Any] = {"label": label}
        if ann is None:
            fields["attributes"] = {"unlabelled": True}
        elif ann.get("metadata") is not None:
            fields["attributes"] = {"metadata": ann["metadata"]}
        if kind is Kind.INSTANCE and ann is not None:
            fields.update(class_id=classes[_label(ann)], instance=instances[value])
        return fields

    return describe


def _hidden(by_index: Mapping[int, dict]) -> tuple[int, ...]:
    """Value 0 is hidden when it is unlabelled or named like background."""
    label = _label(by_index.get(0))
    return (0,) if not label or label.lower() in BACKGROUND_NAMES else ()


def _note_gaps(seg: Segmentation, by_index: Mapping[int, dict], details: dict[str, Any],
               warnings: list[str]) -> None:
    present = {s.value for s in seg.table if s.area}
    unlabelled = sorted(v for v in present if v not in by_index)
    if unlabelled:
        details["unlabelled_values"] = unlabelled
    absent = sorted(i for i in by_index if i not in present)
    if absent:
        details["annotations_without_pixels"] = [by_index[i] for i in absent]
        warnings.append(f"{len(absent)} annotations name indices the mask does not contain: "
                        f"{absent[:10]}")
    if details.get("unindexed"):
        warnings.append(f"{len(details['unindexed'])} annotations have a null index (no "
                        "pixels); kept in the provenance details")
    if details.get("repeated_index"):
        warnings.append(f"{len(details['repeated_index'])} annotations repeat an index already "
                        "named; the first one is used, the others are kept in the details")


# -- writing -----------------------------------------------------------------------
@dataclass
class _Plan:
    """Segment id -> mask index, the annotations to write, and what is lost."""

    index_of: dict[int, int] = field(default_factory=dict)
    annotations: list[dict[str, Any]] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    error: str | None = None


def _plan(seg: Segmentation) -> _Plan:
    present = [s for s in seg.table if s.area]
    plan = _Plan()
    values = seg.integer_values()
    if _fits_as_is(present, values):
        plan.index_of = {s.id: values[s.id] for s in present}
    elif len(present) <= MAX_VALUES:
        plan.index_of, moved = _renumber(present, values)
        plan.lost.append(f"{len(moved)} segment values do not fit a Nucleus mask (0..255) and "
                         f"get new indices, labels kept: {', '.join(moved[:10])}")
    else:
        _merge_by_label(present, plan)
    if plan.error is None:
        plan.annotations = _annotations_of(present, plan.index_of)
        plan.lost += _kind_loss(seg.kind, plan.annotations)
    plan.lost += _provenance_losses(seg)
    return plan


def _fits_as_is(present: list[Segment], values: dict[int, int]) -> bool:
    chosen = [values[s.id] for s in present]
    return all(0 <= v < MAX_VALUES for v in chosen) and len(set(chosen)) == len(chosen)


def _renumber(present: list[Segment], values: dict[int, int]) -> tuple[dict[int, int], list[str]]:
    """Keep the values 0..255 that are unique; give the rest the free indices in order."""
    index_of: dict[int, int] = {}
    used: set[int] = set()
    moved = []
    for s in present:
        value = values[s.id]
        if 0 <= value < MAX_VALUES and value not in used:
            index_of[s.id] = value
            used.add(value)
    free = iter([i for i in range(MAX_VALUES) if i not in used])
    for s in present:
        if s.id not in index_of:
            index_of[s.id] = next(free)
            moved.append(f"{s.value} -> {index_of[s.id]}")
    return index_of, moved


def _merge_by_label(present: list[Segment], plan: _Plan) -> None:
    """More than 256 segments: one index per label (unlabelled ones keep their own)."""
    groups: dict[Any, list[Segment]] = {}
    for s in present:
        groups.setdefault(s.label if s.label else ("unlabelled", s.id), []).append(s)
    if len(groups) > MAX_VALUES:
        plan.error = (f"{len(groups)} labels (and unlabelled segments) do not fit the 256 values "
                      "of a Nucleus mask")
        plan.lost.append(f"cannot be written: {plan.error}")
        return
    for index, members in enumerate(groups.values()):
        for s in members:
            plan.index_of[s.id] = index
    plan.lost.append(f"{len(present)} segments are more than the {MAX_VALUES} values of a "
                     f"Nucleus mask: instances are merged into {len(groups)} classes by label")


def _annotations_of(present: list[Segment], index_of: Mapping[int, int]) -> list[dict[str, Any]]:
    by_index: dict[int, dict[str, Any]] = {}
    for s in present:
        index = index_of[s.id]
        if not s.label or index in by_index:
            continue
        ann: dict[str, Any] = {"label": s.label, "index": index}
        if s.attributes.get("metadata") is not None:
            ann["metadata"] = s.attributes["metadata"]
        by_index[index] = ann
    return [by_index[i] for i in sorted(by_index)]


def _kind_loss(kind: Kind, annotations: list[dict[str, Any]]) -> list[str]:
    counts = Counter(a["label"] for a in annotations)
    back = Kind.INSTANCE if any(n > 1 for n in counts.values()) else Kind.SEMANTIC
    if back is Kind(kind):
        return []
    return [f"Nucleus does not store the kind: this {kind} mask reads back as {back} "
            "(instance when labels repeat)"]


def _provenance_losses(seg: Segmentation) -> list[str]:
    if seg.provenance.format != NAME:
        return []
    details = seg.provenance.details
    out = []
    for key, what in (("unindexed", "with a null index"),
                      ("annotations_without_pixels", "without pixels in the mask"),
                      ("repeated_index", "repeating an index")):
        if details.get(key):
            out.append(f"{len(details[key])} annotations {what} are not written back")
    return out


def losses(seg: Segmentation) -> list[str]:
    """Return what writing ``seg`` as Nucleus JSON + PNG would lose."""
    return list(_plan(seg).lost)


def write(seg: Segmentation, path: str | Path, *, reference_id: str | None = None,
          annotation_id: str | None = None, mask_name: str | None = None,
          **_options) -> list[Path]:
    """Write ``<stem>.json`` and its mask ``<stem>.png`` (mode L).

    Parameters
    ----------
    path : str or Path
        The JSON file (``.json`` is added when missing).
    reference_id, annotation_id : str, optional
        Default: the ones read from Nucleus, else the stem and null.
    mask_name : str, optional
        File name of the mask beside the JSON (default ``<stem>.png``).

    Raises
    ------
    WriteError
        When more than 256 labels would need their own value.
    """
    path = Path(path)
    json_path = path if path.suffix.lower() == ".json" else path.with_suffix(".json")
    mask_path = json_path.with_name(Path(mask_name).name if mask_name else json_path.stem + ".png")
    plan = _plan(seg)
    if plan.error is not None:
        raise WriteError(plan.error, json_path)
    known = seg.provenance.details if seg.provenance.format == NAME else {}
    payload = {
        "type": MASK_TYPE,
        # Absolute: the SDK resolves local paths against the working directory.
        "mask_url": str(mask_path.absolute()),
        "annotations": plan.annotations,
        "annotation_id": annotation_id if annotation_id is not None else known.get("annotation_id"),
        "reference_id": reference_id or known.get("reference_id") or json_path.stem,
    }
    # The mask first, so that the JSON never names a file that is not there.
    write_png(mask_path, _remap(seg.labels, plan.index_of))
    dump_json(json_path, payload)
    return [json_path, mask_path]


def _remap(labels: np.ndarray, index_of: Mapping[int, int]) -> np.ndarray:
    top = int(labels.max(initial=0))
    if top < (1 << 20):
        lut = np.zeros(top + 1, np.uint8)
        for seg_id, index in index_of.items():
            if seg_id <= top:
                lut[seg_id] = index
        return lut[labels]
    uniq, inverse = np.unique(labels, return_inverse=True)
    mapped = np.array([index_of.get(int(u), 0) for u in uniq], np.uint8)
    return mapped[inverse.reshape(labels.shape)]


# -- sniffing -----------------------------------------------------------------------
def sniff(path: Path) -> bool:
    """True for JSON naming a ``mask_url`` (parsed when small, else its first 64 KiB)."""
    try:
        size = path.stat().st_size
        with safe_input.open_regular(path) as handle:
            head = handle.read(_SMALL_JSON if size <= _SMALL_JSON else _HEAD_BYTES)
    except (OSError, ReadError):
        return False
    text = head.decode("utf-8-sig", "ignore")
    if size > _SMALL_JSON:
        return '"mask_url"' in text
    try:
        return _looks_like(safe_input.parse_json(text, path))
    except (ValueError, ReadError):
        # Broken JSON that mentions mask_url is still ours: the reader says where it breaks.
        return '"mask_url"' in text


def _looks_like(data: Any) -> bool:
    if isinstance(data, list):
        return bool(data) and _looks_like(data[0])
    if not isinstance(data, dict):
        return False
    inner = data.get("segmentation")
    return "mask_url" in data or (isinstance(inner, dict) and "mask_url" in inner)


FORMAT = FormatSpec(
    name=NAME,
    title="Scale Nucleus segmentation JSON + mask PNG",
    extensions=(".json",),
    read=read,
    write=write,
    sniff=sniff,
    priority=20,
    notes="mask_url local paths only; instance when labels repeat; <= 256 values",
    losses=losses,
    items=items,
)
FORMATS = (FORMAT,)
