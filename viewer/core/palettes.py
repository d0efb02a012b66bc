"""Palettes: id -> colour (and optional name) tables, as data files.

A palette file is JSON (``"format": "segview-palette"``) with a list of entries
``{"id", "color", ["name"], ["void"], ["attributes"]}``. The built-in palettes
live in ``resources/palettes/`` with their provenance; users load and save
their own in the same format. Ids a palette does not list get a stable colour
derived from the id alone, so colours never change between runs or machines.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from viewer._paths import palettes_dir
from viewer.core import safe_input
from viewer.core.errors import PaletteError, ReadError
from viewer.core.fileio import atomic_write_text
from viewer.core.types import RGB

FORMAT_TAG = "segview-palette"
FORMAT_VERSION = 1
#: A palette of 65,536 entries is ~5 MB of JSON; refuse what cannot be one.
MAX_PALETTE_BYTES = 64 << 20


@dataclass(frozen=True)
class PaletteEntry:
    """One id of a palette: its colour, and optionally a name and a void flag."""

    id: int
    color: RGB
    name: str | None = None
    void: bool = False
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Palette:
    """A named id -> colour table with provenance.

    Attributes
    ----------
    id : str
        Short identifier ("voc").
    name : str
        Human-readable name.
    entries : dict of int to PaletteEntry
        The listed ids.
    """

    id: str
    name: str
    entries: Mapping[int, PaletteEntry]
    description: str = ""
    provenance: str = ""
    license: str = ""
    colorblind_safe: bool = False

    def color(self, value: int) -> RGB:
        """Return the colour of ``value``; unlisted ids get :func:`stable_color`."""
        entry = self.entries.get(int(value))
        return entry.color if entry is not None else stable_color(int(value))

    def name_of(self, value: int) -> str | None:
        """Return the class name of ``value``, or None."""
        entry = self.entries.get(int(value))
        return entry.name if entry is not None else None

    def is_void(self, value: int) -> bool:
        """Return True when ``value`` is a void/ignore entry."""
        entry = self.entries.get(int(value))
        return bool(entry and entry.void)

    def colors(self, size: int) -> np.ndarray:
        """Return an ``(size, 3)`` uint8 array: the colour of every id below ``size``."""
        out = np.empty((size, 3), np.uint8)
        for i in range(size):
            out[i] = self.color(i)
        return out

    def to_json(self) -> dict[str, Any]:
        """Return the palette in the file format."""
        return {
            "format": FORMAT_TAG,
            "version": FORMAT_VERSION,
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "colorblind_safe": self.colorblind_safe,
            "provenance": self.provenance,
            "license": self.license,
            "entries": [_entry_json(self.entries[i]) for i in sorted(self.entries)],
        }


def stable_color(value: int) -> RGB:
    """Return a colour that depends only on ``value``: bright, distinct neighbours.

    Hue steps by the golden ratio so consecutive ids differ strongly; a 64-bit
    mix of the id varies saturation and value a little so far-apart ids whose
    hues coincide still differ.
    """
    mixed = _splitmix64(int(value))
    hue = (int(value) * 0.618033988749895) % 1.0
    sat = 0.55 + 0.4 * ((mixed & 0xFF) / 255.0)
    val = 0.7 + 0.3 * (((mixed >> 8) & 0xFF) / 255.0)
    return _hsv_to_rgb(hue, sat, val)


def builtin_ids() -> list[str]:
    """Return the ids of the built-in palettes, sorted."""
    return sorted(_builtin_files())


def builtin_palette(palette_id: str) -> Palette:
    """Return the built-in palette ``palette_id`` (e.g. ``"voc"``).

    Raises
    ------
    PaletteError
        If there is no such palette; the message lists the known ids.
    """
    files = _builtin_files()
    if palette_id not in files:
        raise PaletteError(f"unknown palette {palette_id!r}; known: {', '.join(sorted(files))}")
    return _load_cached(files[palette_id])


def load_palette(path: str | Path) -> Palette:
    """Read a palette JSON file, checking every entry.

    Raises
    ------
    PaletteError
        Naming the file and the problem (syntax with line and column, bad entry).
    """
    path = Path(path)
    try:
        data = safe_input.load_json(path, MAX_PALETTE_BYTES, "palette file")
    except ReadError as exc:
        raise PaletteError(exc.message, exc.path) from None
    return palette_from_json(data, path)


def save_palette(palette: Palette, path: str | Path) -> None:
    """Write ``palette`` as JSON, atomically."""
    atomic_write_text(path, json.dumps(palette.to_json(), indent=1) + "\n")


def palette_from_json(data: Any, path: str | Path | None = None) -> Palette:
    """Build a :class:`Palette` from parsed JSON, validating it."""
    if not isinstance(data, dict) or data.get("format") != FORMAT_TAG:
        raise PaletteError(f'not a palette file (expected "format": "{FORMAT_TAG}")', path)
    if data.get("version") != FORMAT_VERSION:
        raise PaletteError(f"unsupported palette version {data.get('version')!r}", path)
    raw = data.get("entries")
    if not isinstance(raw, list) or not raw:
        raise PaletteError('"entries" must be a non-empty list', path)
    entries: dict[int, PaletteEntry] = {}
    for index, item in enumerate(raw):
        entry = _parse_entry(item, index, path)
        if entry.id in entries:
            raise PaletteError(f"entry {index}: duplicate id {entry.id}", path)
        entries[entry.id] = entry
    palette_id = _text(data, "id", path) or Path(path or "custom").stem
    colorblind_safe = data.get("colorblind_safe", False)
    if not isinstance(colorblind_safe, bool):
        raise PaletteError('"colorblind_safe" must be true or false', path)
    return Palette(
        id=palette_id,
        name=_text(data, "name", path) or palette_id,
        entries=entries,
        description=_text(data, "description", path),
        provenance=_text(data, "provenance", path),
        license=_text(data, "license", path),
        colorblind_safe=colorblind_safe,
    )


def _text(data: dict, key: str, path: str | Path | None) -> str:
    """A string field ("" when absent); a list or number there is an error, not its repr."""
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PaletteError(f'"{key}" must be a string, got {type(value).__name__}', path)
    return value


def _parse_entry(item: Any, index: int, path: str | Path | None) -> PaletteEntry:
    if not isinstance(item, dict):
        raise PaletteError(f"entry {index} is not an object", path)
    seg_id, color = item.get("id"), item.get("color")
    if not isinstance(seg_id, int) or isinstance(seg_id, bool) or seg_id < 0:
        raise PaletteError(f"entry {index}: id must be a non-negative integer, got {seg_id!r}", path)
    if (not isinstance(color, list) or len(color) != 3
            or not all(isinstance(c, int) and 0 <= c <= 255 for c in color)):
        raise PaletteError(f"entry {index} (id {seg_id}): color must be [R, G, B] in 0..255, got {color!r}", path)
    name = item.get("name")
    if name is not None and not isinstance(name, str):
        raise PaletteError(f"entry {index} (id {seg_id}): name must be a string", path)
    void, attributes = item.get("void", False), item.get("attributes") or {}
    if not isinstance(void, bool) or not isinstance(attributes, dict):
        raise PaletteError(f"entry {index} (id {seg_id}): void must be true or false and "
                           "attributes an object", path)
    return PaletteEntry(seg_id, tuple(color), name, void, dict(attributes))


def _entry_json(entry: PaletteEntry) -> dict[str, Any]:
    out: dict[str, Any] = {"id": entry.id}
    if entry.name is not None:
        out["name"] = entry.name
    out["color"] = list(entry.color)
    if entry.void:
        out["void"] = True
    if entry.attributes:
        out["attributes"] = dict(entry.attributes)
    return out


@cache
def _builtin_files() -> dict[str, Path]:
    found = {}
    for path in sorted(palettes_dir().glob("*.json")):
        found[path.stem] = path
    return found


@cache
def _load_cached(path: Path) -> Palette:
    return load_palette(path)


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


def _hsv_to_rgb(h: float, s: float, v: float) -> RGB:
    i = int(h * 6.0) % 6
    f = h * 6.0 - int(h * 6.0)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return (round(r * 255), round(g * 255), round(b * 255))
