"""The colour-table side files colour masks come with: finding, reading, writing.

- ``label_colors.txt`` (CamVid, Datumaro): ``R G B name`` lines; the black
  row is class 0. :data:`CAMVID_CLASSES` stands in when there is none.
- ``labelmap.txt`` (CVAT, Datumaro VOC): ``name:R,G,B:parts:actions`` lines,
  line i = class i; :func:`voc_rows` lays one over the VOC colour map.
- JSON legends: ``{"name": [R, G, B]}`` (``<mask stem>.legend.json``,
  ``legend.json``, ClearML's ``_mask_legend.json``) or Datumaro's
  ``dataset_meta.json`` (``label_map``, ``segmentation_colors``,
  ``background_label``).

A table sits beside the mask or one folder up (:func:`find_beside`). Writers
extend an existing file instead of replacing it (:func:`write_table`), so the
lines they do not understand stay as they are, and clean labels a line-based
table cannot hold (:func:`clean_name`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from viewer.core import safe_input
from viewer.core.budget import whole_number
from viewer.core.errors import ReadError, WriteError
from viewer.core.fileio import atomic_write_text
from viewer.core.formats.color_lookup import BLACK, ColorClass
from viewer.core.formats.common import load_json
from viewer.core.palettes import builtin_palette
from viewer.core.transaction import current_path
from viewer.core.types import RGB

VOC_VOID = 255
MASK_FOLDERS = ("SegmentationClass", "SegmentationObject")
LABEL_COLORS = "label_colors.txt"
LABELMAP = "labelmap.txt"
LABELMAP_HEADER = "# label:color_rgb:parts:actions"
LEGEND_SUFFIX = ".legend.json"
LEGEND_FILES = ("legend.json", "_mask_legend.json", "dataset_meta.json")

#: The CamVid release's 32 classes and colours (``label_colors.txt``; Datumaro's
#: ``CamvidLabelMap`` lists the same, Void first).
CAMVID_CLASSES: tuple[tuple[str, RGB], ...] = (
    ("Void", (0, 0, 0)), ("Animal", (64, 128, 64)), ("Archway", (192, 0, 128)),
    ("Bicyclist", (0, 128, 192)), ("Bridge", (0, 128, 64)), ("Building", (128, 0, 0)),
    ("Car", (64, 0, 128)), ("CartLuggagePram", (64, 0, 192)), ("Child", (192, 128, 64)),
    ("Column_Pole", (192, 192, 128)), ("Fence", (64, 64, 128)), ("LaneMkgsDriv", (128, 0, 192)),
    ("LaneMkgsNonDriv", (192, 0, 64)), ("Misc_Text", (128, 128, 64)),
    ("MotorcycleScooter", (192, 0, 192)), ("OtherMoving", (128, 64, 64)),
    ("ParkingBlock", (64, 192, 128)), ("Pedestrian", (64, 64, 0)), ("Road", (128, 64, 128)),
    ("RoadShoulder", (128, 128, 192)), ("Sidewalk", (0, 0, 192)), ("SignSymbol", (192, 128, 128)),
    ("Sky", (128, 128, 128)), ("SUVPickupTruck", (64, 128, 192)), ("TrafficCone", (0, 0, 64)),
    ("TrafficLight", (0, 64, 64)), ("Train", (192, 64, 128)), ("Tree", (128, 128, 0)),
    ("Truck_Bus", (192, 128, 192)), ("Tunnel", (64, 0, 64)), ("VegetationMisc", (192, 192, 0)),
    ("Wall", (64, 192, 0)),
)


# -- finding a table -----------------------------------------------------------------
def find_beside(mask_path: Path, names: Sequence[str]) -> Path | None:
    """Return the first of ``names`` beside the mask, else one folder up, else None."""
    for folder in (mask_path.parent, mask_path.parent.parent):
        for name in names:
            if (folder / name).is_file():
                return folder / name
    return None


def table_path_for_write(mask_path: Path, name: str) -> Path:
    """Where a writer puts (or finds, to extend) the shared colour table ``name``.

    An existing table beside the mask or one folder up is extended; a mask in
    a VOC/CVAT mask folder gets it at the dataset root; otherwise beside it.
    """
    found = find_beside(mask_path, [name])
    if found is not None:
        return found
    if mask_path.parent.name in MASK_FOLDERS:
        return mask_path.parent.parent / name
    return mask_path.parent / name


def find_in_dataset(mask_path: Path, name: str, is_mask_folder: Callable[[str], bool],
                    depth: int = 8) -> Path | None:
    """``name`` beside the mask, one folder up, or at the root of the dataset it lies in.

    The root is the folder above the nearest ancestor ``is_mask_folder``
    accepts (Datumaro's ``gtFine/`` for Cityscapes, ``<subset>annot/`` for
    CamVid), looked for at most ``depth`` folders up: item ids may hold
    folders (``gtFine/<split>/<city>/``, ``trainannot/seq/``).
    """
    found = find_beside(mask_path, [name])
    if found is not None:
        return found
    for folder in list(mask_path.parents)[:depth]:
        if is_mask_folder(folder.name):
            candidate = folder.parent / name
            return candidate if candidate.is_file() else None
    return None


def find_legend(path: Path) -> Path | None:
    """``<stem>.legend.json`` beside the mask, else a shared legend beside it or one folder up."""
    own = path.with_name(path.stem + LEGEND_SUFFIX)
    return own if own.is_file() else find_beside(path, LEGEND_FILES)



# -- text tables -----------------------------------------------------------------------
def _read_text(path: Path) -> str:
    try:
        return safe_input.read_text(path, what="colour table")
    except FileNotFoundError:
        raise ReadError("file not found", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReadError(f"cannot read the colour table: {exc}", path) from None


def _table_lines(path: Path) -> Iterable[tuple[int, str]]:
    """Non-empty, non-comment lines with their 1-based line numbers."""
    for number, line in enumerate(_read_text(path).splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            yield number, line


def _parse_color(parts: Sequence[str], path: Path, number: int) -> RGB:
    try:
        color = tuple(int(p) for p in parts)
    except ValueError:
        color = ()
    if len(color) != 3 or not all(0 <= c <= 255 for c in color):
        raise ReadError(f"line {number}: colour {' '.join(parts)!r} should be three numbers "
                        "0..255", path)
    return color


def read_label_colors(path: Path, *, black_first: bool = True) -> list[ColorClass]:
    """Rows of a ``label_colors.txt``: ``R G B name`` (a bare ``name`` has no colour).

    Class indices are Datumaro's (``make_camvid_categories`` and
    ``make_cityscapes_categories``), which its CamVid and Cityscapes masks use:

    - the black row is the background; without one, a row named
      ``background`` (added, black, when the file has none: Datumaro leaves it
      out of the file it writes) becomes index 0;
    - ``black_first`` (CamVid) also moves a black row to index 0; Cityscapes
      keeps it where it is;
    - a file without any colour (Datumaro writes `` name`` lines for labels
      without colours) gets the VOC colours by index, as Datumaro paints them.
    """
    rows: list[tuple[RGB | None, str]] = []
    for number, line in _table_lines(path):
        parts = line.split(maxsplit=3)
        if len(parts) >= 3 and all(whole_number(p, signed=True) is not None for p in parts[:3]):
            rows.append((_parse_color(parts[:3], path, number), parts[3] if len(parts) > 3 else ""))
        else:
            rows.append((None, line))
    rows, added = _datumaro_background(rows, black_first)
    if rows and all(color is None for color, _ in rows):
        voc = builtin_palette("voc")
        rows = [(voc.color(i), name) for i, (_none, name) in enumerate(rows)]
    return [ColorClass(color, name, i, void=name.lower() == "void" and color == BLACK,
                       background=i == 0 and (color == BLACK or added),
                       attributes={"datumaro_background": True} if i == 0 and added else {})
            for i, (color, name) in enumerate(rows)]


def _datumaro_background(rows: list[tuple[RGB | None, str]],
                         black_first: bool) -> tuple[list[tuple[RGB | None, str]], bool]:
    """Put the background row where Datumaro does; True when it had to be added."""
    black = next((i for i, (color, _) in enumerate(rows) if color == BLACK), None)
    added = False
    if black is None:
        black = next((i for i, (_c, name) in enumerate(rows) if name == "background"), None)
        if black is None:
            has_colors = any(color is not None for color, _ in rows)
            rows = [*rows, (BLACK if has_colors else None, "background")]
            black, added = len(rows) - 1, True
        black_first = True
    if black_first and black:
        rows = [rows[black], *rows[:black], *rows[black + 1:]]
    return rows, added


def format_label_colors(rows: Sequence[tuple[str, RGB]], header: bool = True) -> str:
    """Lines of a ``label_colors.txt`` (as Datumaro writes it: ``R G B name``; no header)."""
    return "".join(f"{r} {g} {b} {name}\n" for name, (r, g, b) in rows)


def read_labelmap(path: Path) -> list[ColorClass]:
    """Rows of a CVAT/Datumaro VOC ``labelmap.txt``: ``name:R,G,B:parts:actions``.

    Line i (comments and blank lines skipped) is class index i. A row without
    a colour gets the VOC colour of its index, as Datumaro does.
    """
    voc = builtin_palette("voc")
    rows = []
    for number, line in _table_lines(path):
        name, _, rest = line.partition(":")
        color_text = rest.split(":", 1)[0].strip()
        index = len(rows)
        color = (_parse_color(color_text.split(","), path, number) if color_text
                 else voc.color(index))
        rows.append(ColorClass(color, name.strip(), index))
    return rows


def format_labelmap(rows: Sequence[tuple[str, RGB]], header: bool = True) -> str:
    """Lines of a ``labelmap.txt`` (``name:R,G,B::``), after CVAT's header line."""
    lines = [LABELMAP_HEADER] if header else []
    lines += [f"{name}:{r},{g},{b}::" for name, (r, g, b) in rows]
    return "".join(f"{line}\n" for line in lines)


def write_table(path: Path, rows: Sequence[tuple[str, RGB]], existing: int,
                formatter: Callable[..., str]) -> Path:
    """Write a colour table: new rows are appended to an existing file, whose lines stay as
    they are (CVAT parts and actions, comments, CamVid rows without a colour).

    Parameters
    ----------
    rows : sequence of (name, colour)
        The whole table; the first ``existing`` rows came from the file.
    formatter : callable
        ``formatter(rows, header=...)`` returns the text of rows.
    """
    source = current_path(path)
    if source.is_file():
        text = _read_text(source)
        if text and not text.endswith("\n"):
            text += "\n"
        text += formatter(rows[existing:], header=False)
    else:
        text = formatter(rows)
    atomic_write_text(path, text)
    return path


def void_row_last(rows: list[ColorClass]) -> list[ColorClass]:
    """A labelmap's last row in the VOC void colour is value 255, void.

    Datumaro's VOC labelmap ends with ``ignored:224,224,192::`` (row 21) and
    ours with ``void:224,224,192::``: the colour VOC paints its void
    (value 255) pixels with.
    """
    void_color = builtin_palette("voc").color(VOC_VOID)
    if rows and rows[-1].color == void_color and rows[-1].value != VOC_VOID:
        last = rows[-1]
        return [*rows[:-1], ColorClass(last.color, last.name, VOC_VOID, void=True)]
    return rows


def voc_rows(labelmap: Path | None, instance: bool = False) -> list[ColorClass]:
    """The VOC colour map as a table: value v = VOC colour v, 255 = void.

    Rows of a ``labelmap.txt`` come first and override names and colours;
    default rows whose colour a labelmap row took are left out. A last row in
    the VOC void colour (Datumaro's "ignored", our "void") is value 255,
    void: the pixels a VOC mask paints in that colour.
    """
    voc = builtin_palette("voc")
    given = read_labelmap(labelmap) if labelmap else []
    if not instance:
        given = void_row_last(given)
    taken_values = {row.value for row in given}
    taken_colors = {row.color for row in given}
    rows = list(given)
    for value in range(256):
        color = voc.color(value)
        if value in taken_values or color in taken_colors:
            continue
        void = value == VOC_VOID and not instance
        name = "" if instance else (voc.name_of(value) or ("void" if void else ""))
        rows.append(ColorClass(color, name, value, void=void))
    if instance:
        rows = [ColorClass(r.color, "", r.value,
                           fields={"instance": r.value or None, "class_id": None})
                for r in rows]
    return rows



# -- JSON legends ----------------------------------------------------------------------
def read_legend(path: Path) -> list[ColorClass]:
    """Rows of a JSON legend: ``{"name": [R, G, B]}`` or Datumaro's ``dataset_meta.json``."""
    data = load_json(path)
    if not isinstance(data, dict):
        raise ReadError(f"a legend is a JSON object, found {type(data).__name__}", path)
    if "label_map" in data or "segmentation_colors" in data:
        return _datumaro_meta(data, path)
    return [ColorClass(_json_color(color, path, repr(name)), str(name), i)
            for i, (name, color) in enumerate(data.items())]


def _json_color(color: Any, path: Path, where: str) -> RGB:
    ok = (isinstance(color, (list, tuple)) and len(color) == 3
          and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in color))
    if not ok:
        raise ReadError(f"{where}: colour should be [R, G, B] with numbers 0..255, got {color!r}",
                        path)
    return tuple(color)


def _datumaro_meta(data: Mapping[str, Any], path: Path) -> list[ColorClass]:
    label_map = data.get("label_map", {})
    if isinstance(label_map, list):
        label_map = {str(i): name for i, name in enumerate(label_map)}
    if not isinstance(label_map, dict):
        raise ReadError("'label_map' should be an object {index: name}", path)
    colors = data.get("segmentation_colors") or []
    if not isinstance(colors, list):
        raise ReadError("'segmentation_colors' should be a list of [R, G, B]", path)
    background = str(data.get("background_label", ""))
    rows = []
    for key, name in label_map.items():
        index = whole_number(str(key))
        if index is None:
            raise ReadError(f"label_map key {key!r} should be a class index", path)
        color = colors[index] if index < len(colors) else None
        rgb = None if color is None else _json_color(color, path, f"segmentation_colors[{index}]")
        rows.append(ColorClass(rgb, str(name), index, background=str(key) == background))
    return sorted(rows, key=lambda row: row.value)



# -- writing into a table -------------------------------------------------------------
def existing_rows(path: Path, reader: Callable[[Path], list[ColorClass]]) -> list[tuple[str, RGB]]:
    """The coloured rows of a table file being extended ([] when there is none)."""
    source = current_path(path)  # an earlier frame of the same export may have written it
    if not source.is_file():
        return []
    try:
        # A background row Datumaro would add is not in the file: it is not extended with it.
        return [(row.name, row.color) for row in reader(source)
                if row.color is not None and not row.attributes.get("datumaro_background")]
    except ReadError as exc:
        raise WriteError(f"cannot extend the colour table: {exc.message}", path) from None


def name_problems(names: Iterable[str], forbidden: str, table: str) -> list[str]:
    """Sentences for labels a line-based table cannot hold as they are."""
    bad = sorted({n for n in names if n != n.strip() or any(ch in n for ch in forbidden)})
    if not bad:
        return []
    shown = " ".join(repr(ch) for ch in forbidden)
    return [f"labels with surrounding spaces or any of {shown} are cleaned in {table}: "
            + ", ".join(repr(n) for n in bad[:10])]


def clean_name(name: str, forbidden: str) -> str:
    """A label made safe for a line-based table (:func:`name_problems` reports the change)."""
    for ch in forbidden:
        name = name.replace(ch, "_")
    return name.strip()

