"""Our metadata JSON, written next to every export and read back as a sidecar.

The document is described by ``resources/schemas/segview-metadata.schema.json``
(validated in the tests and, cheaply, before every write). For one image it
holds ``segments``; for a video, ``frames`` with one record per frame.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from viewer import __version__, _paths
from viewer.core.errors import ReadError, WriteError
from viewer.core.fileio import atomic_write_text
from viewer.core.formats.common import load_json
from viewer.core.segment_table import Segment
from viewer.core.segmentation import Segmentation
from viewer.core.transaction import file_sha256

SCHEMA_FILE = "segview-metadata.schema.json"
SCHEMA_VERSION = 1


def segment_record(seg: Segmentation, segment: Segment,
                   written: Mapping[int, int] | None = None) -> dict[str, Any]:
    """Return one segment as the schema's ``segment`` object.

    ``written`` is ``seg.integer_values()``; pass it when recording many
    segments, since computing it walks the whole table.
    """
    written = seg.integer_values() if written is None else written
    pixels = seg.height * seg.width
    value = segment.value
    record: dict[str, Any] = {
        "id": segment.id,
        "label": segment.label,
        "class_id": segment.class_id,
        "instance": segment.instance,
        "color": list(segment.color),
        "area": segment.area,
        "area_fraction": round(segment.area / pixels, 8) if pixels else 0.0,
        "bbox": _xywh(segment.bbox),
        "score": _finite(segment.score),
        "source_values": [list(value) if isinstance(value, tuple) else value],
        "value": int(written[segment.id]),
        "visible": segment.visible,
        "void": segment.void,
    }
    full = seg.full_masks.get(segment.id)
    if full is not None:
        r0, c0, r1, c1 = full.bbox
        hidden = full.mask & (seg.labels[r0:r1, c0:c1] != segment.id)
        record["covered_pixels"] = int(hidden.sum())
    if segment.attributes:
        record["attributes"] = _jsonable(dict(segment.attributes))
    return record


def segment_records(seg: Segmentation) -> list[dict[str, Any]]:
    """Every segment of ``seg`` as schema ``segment`` objects, in id order."""
    written = seg.integer_values()
    return [segment_record(seg, s, written) for s in seg.table]


def build(seg: Segmentation, *, mask_files: Sequence[str | Path], format_name: str | None,
          image: str | Path | None = None, image_size: tuple[int, int] | None = None,
          palette: tuple[str, str] | None = None, lost: Iterable[str] = ()) -> dict[str, Any]:
    """Return the metadata document of one exported image.

    Parameters
    ----------
    seg : Segmentation
    mask_files : sequence of str or Path
        Files written, as they should be listed (names relative to the JSON).
    format_name : str or None
        Registry name of the format written.
    image : str or Path, optional
        The source photo.
    image_size : (width, height), optional
        The photo's size, when known.
    palette : (id, title), optional
    lost : iterable of str
        What the format could not hold.
    """
    doc = _header(seg, format_name, image, image_size, palette, lost)
    doc["mask_files"] = [str(Path(f).as_posix()) for f in mask_files]
    doc["segments"] = segment_records(seg)
    return doc


def build_video(frames: Iterable[tuple[int, float | None, Segmentation, Sequence[str | Path]]],
                *, format_name: str | None, image: str | Path | None = None,
                palette: tuple[str, str] | None = None, lost: Iterable[str] = ()) -> dict[str, Any]:
    """Return the metadata document of an exported video: one record per frame.

    ``frames`` yields ``(frame number, timestamp in seconds or None,
    segmentation, mask files)``.
    """
    records, first = [], None
    for number, timestamp, seg, files in frames:
        first = first or seg
        records.append({
            "frame": int(number),
            "timestamp_s": timestamp,
            "mask_files": [str(Path(f).as_posix()) for f in files],
            "segments": segment_records(seg),
        })
    if first is None:
        raise WriteError("a video export needs at least one frame")
    doc = _header(first, format_name, image, None, palette, lost)
    doc["frames"] = records
    return doc


def write(path: str | Path, doc: Mapping[str, Any]) -> Path:
    """Validate ``doc`` against the schema and write it atomically."""
    path = Path(path)
    problem = first_problem(doc)
    if problem:
        raise WriteError(f"metadata does not match its schema: {problem}", path)
    atomic_write_text(path, json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    return path


def read(path: str | Path) -> dict[str, Any]:
    """Read and validate a metadata document."""
    path = Path(path)
    doc = load_json(path)
    problem = first_problem(doc)
    if problem:
        raise ReadError(f"not valid SegView metadata: {problem}", path)
    return doc


def mismatch(doc: Mapping[str, Any], mask_path: str | Path, sidecar: str | Path,
             seg: Segmentation) -> str | None:
    """Why ``doc`` (read from ``sidecar``) does not describe the mask ``mask_path``, or None.

    The mask read as ``seg`` must have the document's size and, when the
    document records ``mask_sha256`` (written since SegView 16; older
    documents apply on size alone), be one of its files, byte for byte.
    """
    width, height = doc.get("width"), doc.get("height")
    if isinstance(width, int) and isinstance(height, int) and (width, height) != (
            seg.width, seg.height):
        return f"it describes a {width}x{height} mask, this one is {seg.width}x{seg.height}"
    hashes = doc.get("mask_sha256")
    if not isinstance(hashes, Mapping) or not hashes:
        return None
    try:
        name = Path(os.path.relpath(mask_path, Path(sidecar).parent)).as_posix()
    except ValueError:  # another drive on Windows
        name = str(mask_path)
    if name not in hashes:
        return f"it describes {', '.join(sorted(hashes))}, not {name}"
    if file_sha256(mask_path) != hashes[name]:
        return f"it was written for another version of {name} (the file has changed since)"
    return None


def frame_document(doc: Mapping[str, Any], mask_path: str | Path,
                   sequence: str | Path) -> dict[str, Any] | None:
    """The record of a video document (read from ``sequence``) that lists ``mask_path``.

    Returned as a one-image document (size and ``segments``) for
    :func:`mismatch` and :func:`apply`; None when no frame lists the file.
    """
    try:
        name = Path(os.path.relpath(mask_path, Path(sequence).parent)).as_posix()
    except ValueError:  # another drive on Windows
        return None
    for record in doc.get("frames") or []:
        if name in record.get("mask_files", []):
            return {"width": doc.get("width"), "height": doc.get("height"),
                    "frame": record.get("frame"), "segments": record.get("segments", [])}
    return None


def apply(seg: Segmentation, doc: Mapping[str, Any]) -> int:
    """Restore labels, colours, classes and attributes from a metadata document.

    Segments are matched by source value, so this works whatever ids the
    reader chose. Returns the number of segments updated.
    """
    by_value = {}
    for record in doc.get("segments", []):
        # An index format wrote `value`; a colour format kept the colour key.
        if isinstance(record.get("value"), int):
            by_value.setdefault(record["value"], record)
        values = record.get("source_values") or []
        if len(values) == 1:
            by_value[_key(values[0])] = record
    changes = {}
    for segment in seg.table:
        record = by_value.get(_key(segment.value))
        if record is None:
            continue
        fields = {
            "label": record["label"], "class_id": record["class_id"],
            "instance": record["instance"], "color": tuple(record["color"]),
            "visible": record["visible"], "void": record["void"],
        }
        if record.get("score") is not None:
            fields["score"] = record["score"]
        if record.get("attributes"):
            fields["attributes"] = record["attributes"]
        changes[segment.id] = fields
    if changes:
        seg.table.update_many(changes)
    return len(changes)


def first_problem(doc: Any) -> str | None:
    """Return the first schema violation as a sentence, or None when valid."""
    error = next(iter(sorted(_validator().iter_errors(doc), key=lambda e: list(e.path))), None)
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "top level"
    return f"{where}: {error.message}"


@cache
def _validator():
    import jsonschema  # imported here: only exports, sidecar reads and tests pay for it

    return jsonschema.Draft202012Validator(schema())


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of the document."""
    return load_json(_paths.resources_dir() / "schemas" / SCHEMA_FILE)


def _header(seg: Segmentation, format_name: str | None, image: str | Path | None,
            image_size: tuple[int, int] | None, palette: tuple[str, str] | None,
            lost: Iterable[str]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema": "segview-metadata",
        "schema_version": SCHEMA_VERSION,
        "app": "segview",
        "app_version": __version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "format": format_name or "",
        "width": seg.width,
        "height": seg.height,
        "kind": str(seg.kind),
        "palette": {"id": palette[0], "title": palette[1]} if palette else None,
        "lost": list(lost),
        "provenance": {
            "source_format": seg.provenance.format,
            "source_file": seg.provenance.source,
            "details": _jsonable(dict(seg.provenance.details)),
        },
    }
    if image is not None:
        record: dict[str, Any] = {"file_name": Path(image).name}
        if image_size is not None:
            record["width"], record["height"] = int(image_size[0]), int(image_size[1])
        doc["source_image"] = record
    return doc


def _xywh(bbox) -> dict[str, int] | None:
    if bbox is None:
        return None
    r0, c0, r1, c1 = bbox
    return {"x": int(c0), "y": int(r0), "width": int(c1 - c0), "height": int(r1 - r0)}


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _key(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _jsonable(value: Any) -> Any:
    """Turn numpy scalars, tuples and paths into plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
