"""The one table of mask formats. Add a module, then one line here."""

from __future__ import annotations

from pathlib import Path

from viewer.core.errors import FormatError, ReadError
from viewer.core.formats import index_png
from viewer.core.formats.base import FormatSpec
from viewer.core.segmentation import Segmentation

FORMATS: tuple[FormatSpec, ...] = (
    index_png.FORMAT,
)


def get_format(name: str) -> FormatSpec:
    """Return the format registered as ``name``."""
    for spec in FORMATS:
        if spec.name == name:
            return spec
    raise FormatError(f"unknown format {name!r}; known: {', '.join(f.name for f in FORMATS)}")


def find_reader(path: str | Path) -> FormatSpec:
    """Return the best format that can read ``path`` (extension, then sniff, then priority)."""
    path = Path(path)
    if not path.exists():
        raise ReadError("file not found", path)
    candidates = [f for f in FORMATS if f.read is not None and f.accepts(path)]
    if not candidates:
        raise ReadError("no registered format reads this file", path)
    return max(candidates, key=lambda f: f.priority)


def read_mask(path: str | Path, format_name: str | None = None, **options) -> Segmentation:
    """Read a mask with the named format, or the one :func:`find_reader` picks."""
    spec = get_format(format_name) if format_name else find_reader(path)
    if spec.read is None:
        raise FormatError(f"format {spec.name!r} cannot read", path)
    return spec.read(Path(path), **options)
