"""Recolour a segmentation from a palette, and build a palette from its colours.

The rule (:func:`palette_colors`)
---------------------------------
Every segment has a *key*, the palette id it is looked up under: its
``class_id`` when known, else its integer source value, else its id
(:func:`segment_key`). Semantic, binary and class-less instance maps therefore
look up the value in the file; instance and panoptic segments look up their
class.

- Semantic and binary maps: every segment takes the colour of its key, so all
  segments of one class share one colour.
- Instance and panoptic maps: segments sharing a key (the instances of one
  class) take the class colour, the first (lowest id) exactly and the others a
  lighter, darker or slightly hue-shifted shade of it (:func:`shades`). The
  class stays recognisable by its hue family while neighbouring instances stay
  distinguishable. A class the palette lacks gets :func:`stable_color` of the
  class id as its class colour, shaded the same way: one rule for every class
  keeps saving and reloading exact (see below), which per-instance stable
  colours would not.
- Colour lists: a palette that names no entry but id 0 (Okabe-Ito, Tol muted,
  high contrast, DeepStream) is a list of colours, not a class table. When it
  does not list every key present, its colours go to the keys by rank: key 0
  keeps entry 0 (the background colour, given to no other key), the other
  keys in ascending order take the other entries in ascending order, and keys
  beyond the list get stable colours. Matching ids
  instead would leave most classes of a real data set outside the list (VOC's
  person is 15, Okabe-Ito ends at 7), in colours that are not colour-blind
  safe, which would defeat choosing such a palette.
- Negative keys (DeepStream's -1) always get their stable colour: the palette
  file format holds ids >= 0 only.

:func:`palette_from_segmentation` records, for every key, the colour of its
first segment and its label. Those are exactly the colours the rule starts
from, so applying a palette, saving it from the segmentation, loading it and
applying it again gives every segment the same colour back.
"""

from __future__ import annotations

import colorsys
import itertools
from collections.abc import Iterator
from pathlib import Path

from viewer.core.errors import PaletteError
from viewer.core.palettes import (
    Palette,
    PaletteEntry,
    builtin_ids,
    builtin_palette,
    stable_color,
)
from viewer.core.segment_table import Segment
from viewer.core.segmentation import Kind, Segmentation
from viewer.core.types import RGB

#: Kinds whose segments of one key are told apart by shades of the key's colour.
SHADED_KINDS = frozenset({Kind.INSTANCE, Kind.PANOPTIC})

# Lightness steps first (they keep the hue, so the class stays recognisable),
# then small hue steps (in turns) for classes with many instances.
_LIGHTNESS_STEPS = (0.12, -0.12, 0.24, -0.24, 0.06, -0.06, 0.18, -0.18, 0.3, -0.3)
_HUE_STEPS = (0.0, 0.035, -0.035, 0.07, -0.07)


def colorblind_ids() -> list[str]:
    """Return the ids of the built-in palettes marked colour-blind safe, sorted."""
    return [i for i in builtin_ids() if builtin_palette(i).colorblind_safe]


def segment_key(segment: Segment) -> int:
    """Return the palette id a segment is coloured by.

    Its ``class_id`` when known, else its integer source value, else its id
    (segments read from colour masks have a colour tuple as source value).
    """
    if segment.class_id is not None:
        return int(segment.class_id)
    value = segment.value
    return int(value) if isinstance(value, int) else segment.id


def is_color_list(palette: Palette) -> bool:
    """Return True when ``palette`` names no entry but id 0: a list of colours."""
    return not any(e.name for i, e in palette.entries.items() if i != 0)


def maps_by_rank(seg: Segmentation, palette: Palette) -> bool:
    """Return True when ``palette``'s colours go to ``seg``'s keys by rank, not by id.

    That is when the palette is a colour list (:func:`is_color_list`) that does
    not list every non-negative key of ``seg``.
    """
    keys = {k for k in _groups(seg) if k >= 0}
    return is_color_list(palette) and not keys <= set(palette.entries)


def key_colors(seg: Segmentation, palette: Palette) -> dict[int, RGB]:
    """Return the colour of every key of ``seg`` under ``palette`` (the class colours)."""
    keys = sorted(_groups(seg))
    colors = {k: palette.color(k) if k >= 0 else stable_color(k) for k in keys}
    if maps_by_rank(seg, palette):
        colors.update(_rank_colors([k for k in keys if k >= 0], palette))
    return colors


def palette_colors(seg: Segmentation, palette: Palette) -> dict[int, RGB]:
    """Return the new colour of every segment of ``seg`` under ``palette``.

    Parameters
    ----------
    seg : Segmentation
    palette : Palette

    Returns
    -------
    dict of int to tuple of 3 int
        Segment id -> RGB colour, for every row of the segment table. See the
        module docstring for the rule.
    """
    base = key_colors(seg, palette)
    out: dict[int, RGB] = {}
    for key, ids in _groups(seg).items():
        out.update(_group_colors(seg, ids, base[key]))
    return out


def apply_palette(seg: Segmentation, palette: Palette) -> dict[int, Segment]:
    """Recolour ``seg`` with ``palette`` in one table update (one event, one undo step).

    Labels are left alone: they come from the data, the palette only colours.

    Returns
    -------
    dict of int to Segment
        The rows as they were before, for the segments whose colour changed
        (``seg.table.put(old.values())`` undoes it).
    """
    return _set_colors(seg, palette_colors(seg, palette))


def recolor_class(seg: Segmentation, seg_id: int, color: RGB) -> dict[int, Segment]:
    """Give the class (key) of segment ``seg_id`` the colour ``color``, in one update.

    Every segment with the same key is recoloured: all of them ``color`` in
    semantic and binary maps, ``color`` and its shades in instance and panoptic
    maps (the same rule as :func:`palette_colors`).

    Returns
    -------
    dict of int to Segment
        The rows as they were before, for the segments whose colour changed.
    """
    key = segment_key(seg.table[seg_id])
    ids = _groups(seg)[key]
    return _set_colors(seg, _group_colors(seg, ids, tuple(int(c) for c in color)))


def palette_from_segmentation(seg: Segmentation, *, id: str = "custom",
                              name: str = "Custom", base: Palette | None = None,
                              description: str = "") -> Palette:
    """Build a palette of ``seg``'s current colours and labels, keyed like the rule.

    Every non-negative key gets the colour of its first (lowest id) segment,
    the first non-empty label of its segments as name, and the void flag of
    its first segment.

    Parameters
    ----------
    seg : Segmentation
    id, name : str
        The new palette's id and human-readable name.
    base : Palette, optional
        Entries of ``base`` for keys ``seg`` does not have are kept (so saving
        an edited VOC keeps all 256 entries), unless ``base`` maps to ``seg``
        by rank, in which case its ids mean nothing for ``seg``.
    description : str

    Raises
    ------
    PaletteError
        When ``seg`` has no segment with a non-negative key.
    """
    entries: dict[int, PaletteEntry] = {}
    if base is not None and not maps_by_rank(seg, base):
        entries.update(base.entries)
    for key, ids in _groups(seg).items():
        if key < 0:
            continue
        first = seg.table[ids[0]]
        label = next((seg.table[i].label for i in ids if seg.table[i].label), None)
        entries[key] = PaletteEntry(key, first.color, label, first.void)
    if not entries:
        raise PaletteError("the segmentation has no segments to make a palette of")
    source = seg.provenance.source
    provenance = f"saved by SegView from the colours of {Path(source).name}" if source else (
        "saved by SegView from the colours of a segmentation")
    return Palette(id=id, name=name, entries=dict(sorted(entries.items())),
                   description=description, provenance=provenance)


def shades(color: RGB) -> Iterator[RGB]:
    """Yield ``color`` and then ever more shades of it, each different from all before.

    Lightness changes first, then small hue shifts; when those run out (a
    grey has no hue to shift), stable colours follow, so there is always a
    next colour.
    """
    seen = {tuple(color)}
    yield tuple(color)
    h, lightness, s = colorsys.rgb_to_hls(*(c / 255.0 for c in color))
    for dh, dl in itertools.product(_HUE_STEPS, _LIGHTNESS_STEPS):
        # Near black or white a step the other way keeps the shades apart.
        new_l = lightness + dl if 0.08 <= lightness + dl <= 0.92 else lightness - dl
        new_l = min(max(new_l, 0.08), 0.92)
        rgb = tuple(round(c * 255) for c in colorsys.hls_to_rgb((h + dh) % 1.0, new_l, s))
        if rgb not in seen:
            seen.add(rgb)
            yield rgb
    for n in itertools.count():
        rgb = stable_color(n)
        if rgb not in seen:
            seen.add(rgb)
            yield rgb


def _groups(seg: Segmentation) -> dict[int, list[int]]:
    """Segment ids by key, each list in ascending id order."""
    groups: dict[int, list[int]] = {}
    for segment in seg.table:
        groups.setdefault(segment_key(segment), []).append(segment.id)
    return groups


def _group_colors(seg: Segmentation, ids: list[int], color: RGB) -> dict[int, RGB]:
    if seg.kind not in SHADED_KINDS:
        return dict.fromkeys(ids, color)
    return dict(zip(ids, shades(color), strict=False))


def _rank_colors(keys: list[int], palette: Palette) -> dict[int, RGB]:
    """Colours of a colour list by rank: 0 keeps entry 0, the rest in order."""
    out: dict[int, RGB] = {}
    listed = sorted(palette.entries)
    if 0 in palette.entries:  # entry 0 is the background colour, for key 0 only
        listed.remove(0)
        if 0 in keys:
            out[0] = palette.entries[0].color
            keys = [k for k in keys if k != 0]
    for key, entry_id in itertools.zip_longest(keys, listed):
        if key is None:
            break
        out[key] = palette.entries[entry_id].color if entry_id is not None else stable_color(key)
    return out


def _set_colors(seg: Segmentation, colors: dict[int, RGB]) -> dict[int, Segment]:
    changes = {i: {"color": c} for i, c in colors.items() if seg.table[i].color != c}
    return seg.table.update_many(changes)
