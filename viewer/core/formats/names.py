"""Class-name side files found beside a mask (or one folder up, the VOC layout).

- ``class_names.txt`` / ``label_names.txt``: one name per line, line i = value i
  (labelme, APC2016).
- ``labels.txt``: labelme's input list; a first line ``__ignore__`` is value -1,
  so ``_background_`` on the next line is 0.
- ``labelmap.txt``: CVAT/VOC ``name:R,G,B:parts:actions`` lines (``#`` comments),
  line i = value i.

Our own metadata JSON, ``<mask stem>.segview.json``, is located here
(:func:`sidecar_path`) and applied by ``registry.read_mask``.
"""

from __future__ import annotations

import re
from pathlib import Path

from viewer.core import safe_input
from viewer.core.errors import ReadError

PLAIN_FILES = ("class_names.txt", "label_names.txt")
SIDECAR_SUFFIX = ".segview.json"
#: ``_<frame number>`` in a sequence export's file names (6 digits or more).
_FRAME_NUMBER = re.compile(r"_\d{6,}(?!\d)")


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


def sequence_sidecar_paths(mask_path: Path) -> list[Path]:
    """The sequence JSONs that may list ``mask_path``: ``<stem>.segview.json`` of a video export.

    ``segview segment VIDEO`` and the video mask export name each frame's
    file ``<stem>_<frame, 6 digits or more>...`` and write one
    ``<stem>.segview.json`` in the folder (one folder up for a layout with
    mask subfolders). Only those names are looked at, so a folder of many
    exports costs a few ``stat`` calls, not a scan.
    """
    found = []
    for match in _FRAME_NUMBER.finditer(mask_path.stem):
        name = mask_path.stem[:match.start()] + SIDECAR_SUFFIX
        for folder in (mask_path.parent, mask_path.parent.parent):
            if (folder / name).is_file() and folder / name not in found:
                found.append(folder / name)
    return found


def read_names_beside(mask_path: Path) -> dict[int, str]:
    """Return ``{value: name}`` from the first text side file found, or ``{}``.

    Our own metadata JSON is not read here: :func:`registry.read_mask` applies
    it to every format once the mask is read (labels, colours, visibility).
    """
    for folder in (mask_path.parent, mask_path.parent.parent):
        for name in PLAIN_FILES:
            if (folder / name).is_file():
                return _plain(folder / name)
        if (folder / "labelmap.txt").is_file():
            return read_labelmap_names(folder / "labelmap.txt")
        if (folder / "labels.txt").is_file():
            return _labelme_labels(folder / "labels.txt")
    return {}


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
        return safe_input.read_text(path, what="class names file")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReadError(f"cannot read class names: {exc}", path) from None


def _lines(path: Path, keep_comments: bool = False) -> list[str]:
    lines = [line.strip() for line in _read(path).splitlines()]
    return [line for line in lines if line and (keep_comments or not line.startswith("#"))]
