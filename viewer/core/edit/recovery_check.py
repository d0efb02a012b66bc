"""Checks of a recovery file before anything in it is used.

A recovery file is read at start-up, before the user has done anything, so a
damaged one (a disk error, another program, a hand edit, a newer version) must
never crash the start or put wrong data in front of the user. Every field of
``session.json`` is checked for its type here, and every array's header against
the shape the file declares before the array is read, so a bad file becomes a
:class:`~viewer.core.errors.ReadError` naming it.
"""

from __future__ import annotations

import datetime as _dt
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from viewer.core.errors import ReadError
from viewer.core.images import MAX_PIXELS
from viewer.core.segmentation import Kind

# The fields of a Segment row and the JSON types each may hold (None: may be null).
_INT, _NUM, _STR, _BOOL = (int,), (int, float), (str,), (bool,)
_SEGMENT_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "id": (_INT, False), "label": (_STR, False), "class_id": (_INT, True),
    "instance": (_INT, True), "color": ((list,), False), "visible": (_BOOL, False),
    "score": (_NUM, True), "area": (_INT, False), "bbox": ((list,), True),
    "source_value": ((int, list), True), "void": (_BOOL, False),
    "attributes": ((dict,), False),
}


def check_meta(meta: Any, path: Path) -> dict[str, Any]:
    """Return ``session.json``'s content once every field has the right type.

    Raises
    ------
    ReadError
        Naming ``path`` and the first field that is wrong.
    """
    if not isinstance(meta, dict):
        raise ReadError("session.json is not a JSON object", path)
    _need(meta, "session_id", path, str)
    if not meta["session_id"] or not all(c.isalnum() or c in "-_" for c in meta["session_id"]):
        raise ReadError(f"bad session id {meta['session_id']!r}", path)
    _need(meta, "saved_at", path, str)
    shape = _need(meta, "shape", path, list)
    if len(shape) != 2 or not all(_is_int(n) and n > 0 for n in shape):
        raise ReadError(f"'shape' must be two positive whole numbers, got {shape!r}", path)
    if shape[0] * shape[1] > MAX_PIXELS:
        raise ReadError(f"the label map declares {shape[0]}x{shape[1]} pixels, more than the "
                        f"{MAX_PIXELS:,} this viewer opens", path)
    kind = _need(meta, "kind", path, str)
    if kind not in {str(k) for k in Kind}:
        raise ReadError(f"unknown kind {kind!r}", path)
    for key in ("source", "format"):
        _need(meta, key, path, str, optional=True)
        if "\0" in (meta.get(key) or ""):
            raise ReadError(f"{key!r} holds a NUL byte", path)
    details = _need(meta, "details", path, dict, optional=True) or {}
    image = details.get("image")
    if image is not None and (not isinstance(image, str) or "\0" in image):
        raise ReadError("'details.image' must be a file name", path)
    _check_segments(_need(meta, "segments", path, list), path)
    _check_masks(_need(meta, "masks", path, dict, optional=True) or {}, shape, path)
    return meta


def saved_at(meta: Mapping[str, Any], path: Path) -> _dt.datetime:
    """When the file was written, in UTC (a time without a zone is taken as UTC)."""
    try:
        when = _dt.datetime.fromisoformat(meta["saved_at"])
    except (KeyError, TypeError, ValueError):
        raise ReadError(f"'saved_at' is not a date and time: {meta.get('saved_at')!r}",
                        path) from None
    # Older or hand-made files may lack the zone; comparing them with aware
    # times would raise, so they are read as what SegView always writes: UTC.
    return when if when.tzinfo is not None else when.replace(tzinfo=_dt.UTC)


def read_checked_array(archive: zipfile.ZipFile, name: str, shape: tuple[int, ...],
                       kind: str, path: Path) -> np.ndarray:
    """Read one ``.npy`` member whose header must say ``shape`` and an integer or bool dtype.

    The header is checked before the data is read, so a damaged or hostile
    file cannot make us allocate more than the shape the file declares.
    """
    try:
        with archive.open(name) as member:
            version = np.lib.format.read_magic(member)
            header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                      else np.lib.format.read_array_header_2_0)
            found, fortran, dtype = header(member)
    except KeyError:
        raise ReadError(f"{name} is missing", path) from None
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ReadError(f"{name} is damaged: {exc}", path) from None
    if tuple(found) != tuple(shape):
        raise ReadError(f"{name} is {_size(found)}, but the file says {_size(shape)}", path)
    if dtype.kind not in kind or dtype.hasobject:
        raise ReadError(f"{name} holds {dtype}, not a label map", path)
    try:
        with archive.open(name) as member:
            return np.lib.format.read_array(member, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ReadError(f"{name} is damaged: {exc}", path) from None


def check_fits(labels_shape: tuple[int, int], image_shape: tuple[int, ...] | None,
               path: Path, onto: str = "the photo is") -> None:
    """Refuse a label map that is not the size of the image it would be restored onto."""
    if image_shape is not None and tuple(image_shape[:2]) != tuple(labels_shape):
        raise ReadError(f"the autosaved mask is {_size(labels_shape)} but {onto} "
                        f"{_size(image_shape[:2])}; it was not restored", path)


def _check_segments(rows: list, path: Path) -> None:
    for number, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ReadError(f"segment {number} is not a JSON object", path)
        for key, value in row.items():
            if key not in _SEGMENT_FIELDS:
                raise ReadError(f"segment {number}: unknown field {key!r}", path)
            types, nullable = _SEGMENT_FIELDS[key]
            if value is None and nullable:
                continue
            if isinstance(value, bool) and bool not in types or not isinstance(value, types):
                raise ReadError(f"segment {number}: {key!r} has the wrong type "
                                f"({type(value).__name__})", path)
        if "id" not in row:
            raise ReadError(f"segment {number} has no id", path)
        for key, length in (("color", 3), ("bbox", 4)):
            value = row.get(key)
            if value is not None and (len(value) != length or not all(map(_is_int, value))):
                raise ReadError(f"segment {number}: {key!r} must be {length} whole numbers", path)


def _check_masks(masks: dict, shape: list[int], path: Path) -> None:
    for key, box in masks.items():
        if not key.isdigit():
            raise ReadError(f"mask key {key!r} is not a segment id", path)
        if (not isinstance(box, list) or len(box) != 4 or not all(map(_is_int, box))
                or not 0 <= box[0] < box[2] <= shape[0] or not 0 <= box[1] < box[3] <= shape[1]):
            raise ReadError(f"mask {key}: bad box {box!r}", path)


def _need(meta: dict, key: str, path: Path, kind: type, *, optional: bool = False) -> Any:
    if key not in meta:
        if optional:
            return None
        raise ReadError(f"session.json lacks {key!r}", path)
    value = meta[key]
    if optional and value is None:
        return None
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ReadError(f"{key!r} must be {_TYPE_NAMES[kind]}, got {type(value).__name__}",
                        path)
    return value


_TYPE_NAMES = {str: "text", list: "a list", dict: "a JSON object", int: "a whole number"}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _size(shape) -> str:
    return "x".join(str(int(n)) for n in shape)
