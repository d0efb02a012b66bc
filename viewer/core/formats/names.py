"""Class-name side files found beside a mask (or one folder up, the VOC layout).

- ``class_names.txt`` / ``label_names.txt``: one name per line, line i = value i
  (labelme, APC2016).
- ``labels.txt``: labelme's input list; a first line ``__ignore__`` is value -1,
  so ``_background_`` on the next line is 0.
- ``labelmap.txt``: CVAT/VOC ``name:R,G,B:parts:actions`` lines (``#`` comments),
  line i = value i.
- our own metadata JSON, ``<mask stem>.segview.json``: the names by source value.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from viewer.core.errors import ReadError

PLAIN_FILES = ("class_names.txt", "label_names.txt")
SIDECAR_SUFFIX = ".segview.json"


def sidecar_path(mask_path: Path) -> Path | None:
    """Return our metadata JSON for ``mask_path`` when there is one.

    An export writes ``<stem>.segview.json`` beside the primary mask file; a
    layout with mask subfolders (CVAT) has it one folder up.
    """
    name = mask_path.stem + SIDECAR_SUFFIX
    for folder in (mask_path.parent, mask_path.parent.parent):
        if (folder / name).is_file():
            return folder / name
    return None


def read_names_beside(mask_path: Path) -> dict[int, str]:
    """Return ``{value: name}`` from the first side file found, or ``{}``."""
    sidecar = sidecar_path(mask_path)
    if sidecar is not None:
        # A damaged sidecar is reported by registry.read_mask; fall back to the text files.
        with contextlib.suppress(ReadError):
            names = names_from_sidecar(sidecar)
            if names:
                return names
    for folder in (mask_path.parent, mask_path.parent.parent):
        for name in PLAIN_FILES:
            if (folder / name).is_file():
                return _plain(folder / name)
        if (folder / "labelmap.txt").is_file():
            return read_labelmap_names(folder / "labelmap.txt")
        if (folder / "labels.txt").is_file():
            return _labelme_labels(folder / "labels.txt")
    return {}


def names_from_sidecar(path: Path) -> dict[int, str]:
    """Names by source value from our metadata JSON (empty when it has none)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReadError(f"cannot read the SegView metadata beside the mask: {exc}", path) from None
    names: dict[int, str] = {}
    for segment in data.get("segments", []) if isinstance(data, dict) else []:
        label = segment.get("label")
        values = segment.get("source_values") or []
        written = segment.get("value")
        if not label:
            continue
        if isinstance(written, int):
            names.setdefault(written, label)
        if len(values) == 1 and isinstance(values[0], int):
            names[values[0]] = label
    return names


def read_labelmap_names(path: Path) -> dict[int, str]:
    """``{line index: name}`` of a CVAT/VOC ``labelmap.txt``."""
    names = {}
    for index, line in enumerate(_lines(path)):
        names[index] = line.split(":", 1)[0].strip()
    return names


def _plain(path: Path) -> dict[int, str]:
    # Blank lines still count: line i is value i.
    lines = _read(path).splitlines()
    return {i: line.strip() for i, line in enumerate(lines) if line.strip()}


def _labelme_labels(path: Path) -> dict[int, str]:
    lines = _lines(path, keep_comments=True)
    start = -1 if lines and lines[0] == "__ignore__" else 0
    return {start + i: line for i, line in enumerate(lines)}


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReadError(f"cannot read class names: {exc}", path) from None


def _lines(path: Path, keep_comments: bool = False) -> list[str]:
    lines = [line.strip() for line in _read(path).splitlines()]
    return [line for line in lines if line and (keep_comments or not line.startswith("#"))]
