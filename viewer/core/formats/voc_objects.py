"""A VOC ``SegmentationObject/<name>.png`` index mask opened on its own: instances, not classes.

Pascal VOC and labelme's ``labelme2voc.py`` write the object mask as a palette
PNG whose value is the instance number (0 background, 255 void border), with
the VOC colour map as palette. Read as an ordinary index mask, instance 1
would be named after VOC class 1 ("aeroplane"). Here each value is an
instance; its class comes from ``../SegmentationClass/<name>.png`` when that
file is there (one segment per (class, instance) pair, so every pixel keeps
both), named by the class-name file beside it (``class_names.txt``,
``labelmap.txt`` ...), else by the VOC names when the class PNG has the VOC
palette. Each segment's ``source_value`` is the object value: an object
mask read without its class mask is written back as an index PNG as it was;
with classes, class masks (index-png, voc-rgb) hold each segment's
``class_id`` and report the instances lost
(:mod:`~viewer.core.formats.instance_classes`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from viewer.core.errors import ReadError
from viewer.core.formats.common import check_same_size, read_index_png
from viewer.core.formats.names import read_names_beside
from viewer.core.palettes import builtin_palette, stable_color
from viewer.core.segmentation import Kind, Provenance, Segmentation

OBJECT_DIR = "SegmentationObject"
CLASS_DIR = "SegmentationClass"
VOID = 255
#: Object values are at most 16-bit, so class * STRIDE + object is one key per pair.
STRIDE = 1 << 16


def is_object_mask(path: Path) -> bool:
    """True for a mask in a ``SegmentationObject/`` folder."""
    return path.parent.name == OBJECT_DIR


def read(path: Path, values: np.ndarray, *, format_name: str,
         names: dict[int, str] | None = None) -> Segmentation:
    """Build the instance segmentation of an object mask's ``values``.

    Parameters
    ----------
    path : Path
        The object mask.
    values : ndarray
        Its pixel values (instance numbers).
    format_name : str
        Recorded in the provenance.
    names : mapping of class value to name, optional
        Overrides the class names.
    """
    details: dict[str, Any] = {"object_mask": str(path)}
    class_path = path.parent.parent / CLASS_DIR / path.name
    classes, class_names = _classes(class_path, values, details)
    class_names.update(names or {})
    voc = builtin_palette("voc")
    if classes is None:
        keys = values.astype(np.int64)
    else:
        keys = classes.astype(np.int64) * STRIDE + values

    def describe(key: int) -> dict[str, Any]:
        class_value, instance = divmod(key, STRIDE) if classes is not None else (None, key)
        void = instance == VOID or class_value == VOID
        fields: dict[str, Any] = {
            "instance": None if instance in (0, VOID) else instance,
            "class_id": class_value, "void": void, "source_value": instance,
            "color": voc.color(VOID if void else instance) if instance <= VOID
            else stable_color(instance),
            "attributes": {"object_value": instance},
        }
        if class_value is None:
            fields["label"] = "void" if void else ("background" if instance == 0 else "")
        else:
            fields["label"] = class_names.get(class_value, "void" if class_value == VOID else "")
        fields["visible"] = not (instance == 0 and (class_value in (None, 0) or void))
        return fields

    return Segmentation.from_values(keys, kind=Kind.INSTANCE, describe=describe,
                                    provenance=Provenance(str(path), format_name, details))


def _classes(class_path: Path, values: np.ndarray,
             details: dict[str, Any]) -> tuple[np.ndarray | None, dict[int, str]]:
    """The class mask beside the object mask and its class names, or (None, {})."""
    if not class_path.is_file():
        details["warnings"] = [f"no {CLASS_DIR}/{class_path.name} beside it: read as "
                               "instances without classes"]
        return None, {}
    try:
        classes, _mode, palette = read_index_png(class_path)
        check_same_size(classes.shape[::-1], values.shape[::-1], class_path)
    except ReadError as exc:
        details["warnings"] = [f"classes not read from {CLASS_DIR}/{class_path.name}: "
                               f"{exc.message}"]
        return None, {}
    details["class_mask"] = str(class_path)
    names = read_names_beside(class_path)
    if not names and palette is not None and _is_voc(palette):
        voc = builtin_palette("voc")
        names = {i: voc.name_of(i) for i in range(256) if voc.name_of(i)}
    return classes, dict(names)


def _is_voc(colors: np.ndarray) -> bool:
    voc = builtin_palette("voc")
    return all(tuple(int(c) for c in colors[i]) == voc.color(i) for i in (*range(21), VOID))
