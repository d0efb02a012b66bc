"""Cityscapes ground truth PNGs: labelIds, instanceIds and labelTrainIds.

``FORMATS.md`` 6.5, with the label table of cityscapesScripts ``labels.py``
(the built-in ``cityscapes`` palette):

- ``*_gtFine_labelIds.png`` (and ``gtCoarse``): 8-bit grey, values 0..33 = labelId.
  Ids 0..6 (category void) are void segments.
- ``*_gtFine_instanceIds.png``: 16-bit grey (``I;16``). A value below 1000 is a
  plain labelId (stuff, or a crowd region of a thing class); a value from 1000
  is ``labelId * 1000 + n`` with n counting from 0 per class. 8-bit files with
  plain labelIds only (Datumaro writes them) are read too.
- ``*_gtFine_labelTrainIds.png``: 0..18 = trainId, 255 = ignore (void); 19 is
  Datumaro's ``background`` (its ``TRAIN_CITYSCAPES_LABEL_MAP``).

Datumaro's Cityscapes export names its ids in ``label_colors.txt`` (``R G B
name`` lines) at the dataset root, above ``gtFine/<split>/<city>/``: when one
is found (beside the mask, one folder up or at that root), value i is its
class i, counted as Datumaro does (:func:`~viewer.core.formats.color_tables.read_label_colors`:
the black row is the background; without one, the ``background`` Datumaro
left out of the file is class 0, the value of every pixel no mask covered).
A file that lists the Cityscapes labels themselves keeps the built-in table.

Files are chosen by name (the three suffixes) and read with Pillow only:
OpenCV's default ``imread`` turns 16-bit instanceIds into 8-bit colours.
Every segment carries the label table's facts as attributes (``labelId``,
``trainId``, ``category``, ``hasInstances`` ...), which is how a writer
converts between the three encodings (labelId <-> trainId).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from viewer.core import safe_input
from viewer.core import safe_input
from viewer.core.errors import ReadError, WriteError
from viewer.core.formats.base import FormatSpec
from viewer.core.formats.color_tables import LABEL_COLORS, find_in_dataset, read_label_colors
from viewer.core.formats.common import (
    INDEX_MODES,
    fit_to_image,
    read_index_png,
    write_png,
)
from viewer.core.palettes import Palette, PaletteEntry, builtin_palette, stable_color
from viewer.core.segment_table import Segment
from viewer.core.segmentation import Kind, Provenance, Segmentation

LABEL_IDS = "cityscapes-labelids"
INSTANCE_IDS = "cityscapes-instanceids"
TRAIN_IDS = "cityscapes-trainids"
INSTANCE_OFFSET = 1000
IGNORE_TRAIN_ID = 255
#: Datumaro's trainIds label map ends with ``background`` (0, 0, 0) at 19.
DATUMARO_TRAIN_BACKGROUND = 19
#: Folders whose parent is a Cityscapes dataset root.
GT_FOLDERS = frozenset({"gtFine", "gtCoarse"})
MAX_LABEL_ID = 33
MAX_TRAIN_ID = 18
MAX_INSTANCE = INSTANCE_OFFSET - 1
UINT16_MAX = 65535


# -- the label table ----------------------------------------------------------------
def label_palette() -> Palette:
    """The Cityscapes label table keyed by labelId (0..33)."""
    return builtin_palette("cityscapes")


@functools.cache
def train_palette() -> Palette:
    """The Cityscapes label table keyed by trainId (0..18, 255 = ignore)."""
    entries = {}
    for entry in label_palette().entries.values():
        train_id = entry.attributes.get("trainId")
        if isinstance(train_id, int) and 0 <= train_id <= MAX_TRAIN_ID:
            entries[train_id] = PaletteEntry(train_id, entry.color, entry.name, False,
                                             {**entry.attributes, "labelId": entry.id})
    entries[DATUMARO_TRAIN_BACKGROUND] = PaletteEntry(
        DATUMARO_TRAIN_BACKGROUND, (0, 0, 0), "background", False,
        {"trainId": DATUMARO_TRAIN_BACKGROUND, "labelId": 0, "category": "void",
         "datumaro_background": True})
    entries[IGNORE_TRAIN_ID] = PaletteEntry(
        IGNORE_TRAIN_ID, (0, 0, 0), "ignore", True,
        {"trainId": IGNORE_TRAIN_ID, "labelId": 0, "category": "void", "ignoreInEval": True})
    return Palette("cityscapes_train", "Cityscapes (trainIds)", entries,
                   description="labelTrainIds: 0..18, 255 = ignore",
                   provenance=label_palette().provenance, license=label_palette().license)


def label_names() -> dict[int, str]:
    """``{labelId: name}`` for labelIds 0..33."""
    return {i: e.name for i, e in label_palette().entries.items() if e.name}


def train_names() -> dict[int, str]:
    """``{trainId: name}`` for trainIds 0..18 and 255 (``ignore``)."""
    return {i: e.name for i, e in train_palette().entries.items() if e.name}


# -- reading ------------------------------------------------------------------------
def read_label_ids(path: str | Path, *, names: dict[int, str] | None = None,
                   image_size: tuple[int, int] | None = None, **_options: Any) -> Segmentation:
    """Read a ``*_labelIds.png``: every value is a Cityscapes labelId.

    Parameters
    ----------
    names : mapping of value to name, optional
        Overrides the Cityscapes names.
    image_size : (width, height), optional
        The photo's size; a smaller mask of the same aspect ratio is upscaled.
    """
    path = Path(path)
    return _read(path, LABEL_IDS, _dataset_palette(path, "labelId") or label_palette(),
                 Kind.SEMANTIC, _table_describer, names, image_size)


def read_train_ids(path: str | Path, *, names: dict[int, str] | None = None,
                   image_size: tuple[int, int] | None = None, **_options: Any) -> Segmentation:
    """Read a ``*_labelTrainIds.png``: trainIds 0..18, 255 = ignore (void), 19 = Datumaro's
    background; or the classes of a ``label_colors.txt`` of the dataset."""
    path = Path(path)
    return _read(path, TRAIN_IDS, _dataset_palette(path, "trainId") or train_palette(),
                 Kind.SEMANTIC, _table_describer, names, image_size)


def read_instance_ids(path: str | Path, *, names: dict[int, str] | None = None,
                      image_size: tuple[int, int] | None = None,
                      **_options: Any) -> Segmentation:
    """Read a ``*_instanceIds.png`` (16-bit, or 8-bit with labelIds only).

    Values below 1000 are segments of class ``value`` without instance; values
    from 1000 are instance ``value % 1000`` of class ``value // 1000``. Kind
    panoptic: stuff and things in one map.
    """
    path = Path(path)
    return _read(path, INSTANCE_IDS, _dataset_palette(path, "labelId") or label_palette(),
                 Kind.PANOPTIC, _instance_describer, names, image_size)


def find_label_colors(path: Path) -> Path | None:
    """The dataset's ``label_colors.txt``: beside the mask, one up, or above ``gtFine/``."""
    return find_in_dataset(path, LABEL_COLORS, lambda name: name in GT_FOLDERS)


def _dataset_palette(path: Path, id_key: str) -> Palette | None:
    """The classes of the dataset's ``label_colors.txt`` keyed by value, or None.

    None also when the file lists the built-in table's labels (Datumaro's
    ``--label-map cityscapes``), so their void flags and trainIds stay.
    """
    table = find_label_colors(path)
    if table is None:
        return None
    rows = read_label_colors(table, black_first=False)
    builtin = label_palette() if id_key == "labelId" else train_palette()
    if _same_names([r.name for r in rows], builtin):
        return None
    entries = {r.value: PaletteEntry(r.value, r.color or stable_color(r.value), r.name, r.void,
                                     {id_key: r.value, "label_colors": True,
                                      **dict(r.attributes)})
               for r in rows}
    return Palette("label_colors", str(table), entries,
                   description=f"classes of {table} (Datumaro's Cityscapes label map)")


def _same_names(names: list[str], palette: Palette) -> bool:
    """True when ``names`` are the palette's, ignoring case and spaces (Datumaro drops them)."""
    def plain(name: str | None) -> str:
        return (name or "").replace(" ", "").replace("_", "").lower()
    listed = {i: plain(e.name) for i, e in palette.entries.items()
              if e.name and i != IGNORE_TRAIN_ID}  # 255 is never a row of a label map
    # Datumaro's map has one more row (licenseplate, which never appears in a mask).
    return len(names) >= len(listed) and all(
        listed[i] == plain(name) for i, name in enumerate(names) if i in listed)


def _read(path: Path, format_name: str, palette: Palette, kind: Kind,
          make_describer: Callable[..., Callable[[int], dict[str, Any]]],
          names: dict[int, str] | None, image_size: tuple[int, int] | None) -> Segmentation:
    values, mode, _colors = read_index_png(path)
    describe = make_describer(palette, names or {})
    details: dict[str, Any] = {"png_mode": mode}
    seg = Segmentation.from_values(
        values, kind=kind, names=names, palette=palette, describe=describe,
        void_values=[v for v, e in palette.entries.items() if e.void],
        provenance=Provenance(str(path), format_name, details))
    unknown = [s for s in seg.table if s.attributes.get("unknown_value")]
    details["warnings"] = _unknown_warning(unknown, format_name, palette)
    if palette.id == "label_colors":
        details["label_colors"] = palette.name
    if image_size is not None:
        seg = fit_to_image(seg, image_size, path)
    return seg


def _table_describer(palette: Palette, names: dict[int, str]):
    """Fields of a labelIds/trainIds value: the table's name and attributes."""

    def describe(value: int) -> dict[str, Any]:
        entry = palette.entries.get(value)
        if entry is None:
            return {"label": names.get(value, "unknown"), "attributes": {"unknown_value": True}}
        attributes = {"labelId": value, **dict(entry.attributes)}
        fields = {"label": names.get(value, entry.name or ""), "attributes": attributes}
        if attributes.get("datumaro_background"):
            fields["visible"] = False  # a background like value 0's, hidden in overlays
        return fields

    return describe


def _instance_describer(palette: Palette, names: dict[int, str]):
    """Fields of an instanceIds value: class and instance, the table's name."""

    def describe(value: int) -> dict[str, Any]:
        class_id, instance = (divmod(value, INSTANCE_OFFSET) if value >= INSTANCE_OFFSET
                              else (value, None))
        entry = palette.entries.get(class_id)
        fields: dict[str, Any] = {"class_id": class_id, "instance": instance}
        if entry is None:
            fields.update(label="unknown", attributes={"unknown_value": True})
        else:
            fields.update(label=entry.name or "", void=entry.void,
                          attributes={"labelId": class_id, **dict(entry.attributes)})
        if instance is not None:
            fields["color"] = stable_color(value)  # instances of one class must differ
        if value in names:
            fields["label"] = names[value]
        return fields

    return describe


def _unknown_warning(unknown: list[Segment], format_name: str, palette: Palette) -> list[str]:
    if not unknown:
        return []
    table = "trainId" if format_name == TRAIN_IDS else "label"
    where = (f"the classes of {Path(palette.name).name}" if palette.id == "label_colors"
             else f"the Cityscapes {table} table")
    listed = ", ".join(f"{s.value} ({s.area:,} pixels)" for s in unknown[:8])
    verb = "value is" if len(unknown) == 1 else "values are"
    return [f"{len(unknown)} {verb} not in {where}: {listed}; labelled 'unknown'"]


# -- writing ------------------------------------------------------------------------
def write_label_ids(seg: Segmentation, path: str | Path, **_options: Any) -> list[Path]:
    """Write an 8-bit ``*_labelIds.png``.

    Each segment is written as its labelId: the ``labelId`` attribute (set by
    every Cityscapes reader), else its ``class_id``, else its value. Instances
    of a class become one class region.

    Raises
    ------
    WriteError
        When a labelId is outside 0..255.
    """
    path = Path(path)
    lut = _lut(seg, _label_id, path, 255)
    return [write_png(path, lut[seg.labels].astype(np.uint8))]


def write_train_ids(seg: Segmentation, path: str | Path, **_options: Any) -> list[Path]:
    """Write an 8-bit ``*_labelTrainIds.png``.

    Each segment is written as its trainId: the ``trainId`` attribute (so
    labelIds convert through the Cityscapes table, classes without a trainId
    becoming 255), else its ``class_id``, else its value; void segments as 255.

    Raises
    ------
    WriteError
        When a trainId is outside 0..255.
    """
    path = Path(path)
    lut = _lut(seg, _train_id, path, 255)
    return [write_png(path, lut[seg.labels].astype(np.uint8))]


def write_instance_ids(seg: Segmentation, path: str | Path, **_options: Any) -> list[Path]:
    """Write a 16-bit ``*_instanceIds.png``.

    A segment with an instance number n and class c is written as
    ``c * 1000 + n``; one without an instance as its labelId c (below 1000).

    Raises
    ------
    WriteError
        When a segment does not fit (class above 65, n above 999, a class of
        1000 or more without instance); :func:`losses_instance_ids` lists them first.
    """
    path = Path(path)
    for s in seg.table:
        problem = _instance_problem(s)
        if problem:
            raise WriteError(f"segment {_brief(s)} cannot be written: {problem}", path)
    lut = _lut(seg, _instance_value, path, UINT16_MAX)
    return [write_png(path, lut[seg.labels].astype(np.uint16))]


def _lut(seg: Segmentation, value_of: Callable[[Segment], int], path: Path,
         top: int) -> np.ndarray:
    """Segment id -> written value, checked against 0..top."""
    size = max(int(seg.labels.max(initial=0)), seg.table.max_id()) + 1
    lut = np.zeros(size, np.int64)
    for s in seg.table:
        value = value_of(s)
        if value is None or not 0 <= value <= top:
            raise WriteError(f"segment {s.id} ({s.label or 'unnamed'}) would be written as "
                             f"{_show(value)}, outside 0..{top}", path)
        lut[s.id] = value
    return lut


def _show(value: int | None) -> str:
    return "nothing (no class id or integer value)" if value is None else str(value)


def _int_attr(s: Segment, key: str) -> int | None:
    value = s.attributes.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _class_of(s: Segment) -> int | None:
    """class_id, else an integer value."""
    if s.class_id is not None:
        return s.class_id
    return s.value if isinstance(s.value, int) else None


def _label_id(s: Segment) -> int | None:
    label_id = _int_attr(s, "labelId")
    return label_id if label_id is not None else _class_of(s)


def _train_id(s: Segment) -> int | None:
    if s.void:
        return IGNORE_TRAIN_ID
    train_id = _int_attr(s, "trainId")
    return train_id if train_id is not None else _class_of(s)


def _instance_value(s: Segment) -> int | None:
    label_id = _label_id(s)
    if label_id is None:
        return None
    if s.instance is None:
        return label_id
    return label_id * INSTANCE_OFFSET + s.instance


def _instance_problem(s: Segment) -> str | None:
    """Why ``s`` does not fit ``labelId * 1000 + n`` in 16 bits, or None."""
    label_id = _label_id(s)
    if label_id is None:
        return "it has no class id and no integer value"
    if s.instance is None:
        if not 0 <= label_id < INSTANCE_OFFSET:
            # It would read back as class label_id // 1000, instance label_id % 1000.
            return f"class {label_id} without instance must be in 0..999"
        return None
    if not 0 <= s.instance <= MAX_INSTANCE:
        return f"instance {s.instance} is outside 0..{MAX_INSTANCE}"
    value = _instance_value(s)
    if not 0 <= value <= UINT16_MAX:
        return f"class {label_id} instance {s.instance} gives {value}, outside 0..{UINT16_MAX}"
    return None


# -- losses -------------------------------------------------------------------------
def losses_label_ids(seg: Segmentation) -> list[str]:
    """What a labelIds PNG cannot hold: other ids, other names and instances."""
    return _common_losses(seg, _label_id, label_palette(), "label", 255)


def losses_train_ids(seg: Segmentation) -> list[str]:
    """What a labelTrainIds PNG cannot hold: other ids and names, instances."""
    return _common_losses(seg, _train_id, train_palette(), "trainId", 255)


def losses_instance_ids(seg: Segmentation) -> list[str]:
    """What an instanceIds PNG cannot hold: classes above 65, n above 999, other names."""
    out = []
    bad = [s for s in seg.table if _instance_problem(s)]
    if bad:
        out.append(f"{len(bad)} segments do not fit the encoding labelId * 1000 + n in 16 bits: "
                   + "; ".join(f"{_brief(s)}: {_instance_problem(s)}" for s in bad[:5]))
    good = [s for s in seg.table if s not in bad]
    out += _merges(good, _instance_value)
    out += _name_losses(good, _label_id, label_palette(), "label")
    return out


def _common_losses(seg: Segmentation, value_of: Callable[[Segment], int | None],
                   palette: Palette, table: str, top: int) -> list[str]:
    out = []
    bad = [s for s in seg.table if value_of(s) is None or not 0 <= value_of(s) <= top]
    if bad:
        out.append(f"{len(bad)} segments have no value in 0..{top}: "
                   + ", ".join(_brief(s) for s in bad[:5]))
    good = [s for s in seg.table if s not in bad]
    out += _merges(good, value_of)
    out += _name_losses(good, value_of, palette, table)
    return out


def _merges(segments: list[Segment], value_of: Callable[[Segment], int | None]) -> list[str]:
    by_value: dict[int, list[Segment]] = {}
    for s in segments:
        by_value.setdefault(value_of(s), []).append(s)
    merged = {v: group for v, group in by_value.items() if len(group) > 1}
    if not merged:
        return []
    count = sum(len(group) for group in merged.values())
    return [f"{count} segments share {len(merged)} values and merge: "
            + "; ".join(f"{v}: " + ", ".join(_brief(s) for s in group[:3])
                        for v, group in list(merged.items())[:3])]


def _name_losses(segments: list[Segment], value_of: Callable[[Segment], int | None],
                 palette: Palette, table: str) -> list[str]:
    # Pixels of values outside the table survive; only a real name is lost.
    outside = sorted({value_of(s) for s in segments if value_of(s) not in palette.entries
                      and s.label not in ("", "unknown")})
    out = []
    if outside:
        out.append(f"names of values not in the Cityscapes {table} table are lost (they read "
                   "back as 'unknown'): " + ", ".join(map(str, outside[:10])))
    renamed = [s for s in segments if value_of(s) in palette.entries and s.label
               and s.label != palette.name_of(value_of(s))]
    if renamed:
        out.append(f"{len(renamed)} labels are not the Cityscapes names and read back as them: "
                   + ", ".join(f"{s.label!r} -> {palette.name_of(value_of(s))!r}"
                               for s in renamed[:5]))
    return out


def _brief(s: Segment) -> str:
    return f"{s.id} ({s.label})" if s.label else str(s.id)


# -- sniffing -----------------------------------------------------------------------
def _name_sniffer(*suffixes: str) -> Callable[[Path], bool]:
    """Accept PNGs whose name ends with one of ``suffixes`` and whose mode is an index mode."""

    def sniff(path: Path) -> bool:
        if not path.name.lower().endswith(suffixes):
            return False
        try:
            with safe_input.open_image(path, check_size=False) as img:
                return img.format == "PNG" and img.mode in INDEX_MODES
        except (OSError, ReadError):
            return False

    return sniff


sniff_label_ids = _name_sniffer("_labelids.png")
sniff_instance_ids = _name_sniffer("_instanceids.png")
sniff_train_ids = _name_sniffer("trainids.png")

FORMATS = (
    FormatSpec(
        name=LABEL_IDS, title="Cityscapes labelIds PNG (*_gtFine_labelIds.png)",
        extensions=(".png",), read=read_label_ids, write=write_label_ids,
        sniff=sniff_label_ids, priority=20, losses=losses_label_ids,
        notes="8-bit labelIds 0..33 with the Cityscapes names and colours; 0..6 void"),
    FormatSpec(
        name=INSTANCE_IDS, title="Cityscapes instanceIds PNG (*_gtFine_instanceIds.png)",
        extensions=(".png",), read=read_instance_ids, write=write_instance_ids,
        sniff=sniff_instance_ids, priority=20, losses=losses_instance_ids,
        notes="16-bit: value < 1000 = labelId, else labelId * 1000 + n (n from 0); "
              "8-bit files accepted"),
    FormatSpec(
        name=TRAIN_IDS, title="Cityscapes labelTrainIds PNG (*_gtFine_labelTrainIds.png)",
        extensions=(".png",), read=read_train_ids, write=write_train_ids,
        sniff=sniff_train_ids, priority=20, losses=losses_train_ids,
        notes="trainIds 0..18, 255 = ignore (void)"),
)
