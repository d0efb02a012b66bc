"""Colour masks: RGB PNGs whose colours stand for classes through a colour table.

Three formats, each an RGB PNG and a colour table beside it:

- ``camvid``: RGB PNG + ``label_colors.txt`` (``R G B name`` lines, CamVid and
  Datumaro) beside the mask, one folder up, or at Datumaro's dataset root (the
  folder holding ``<subset>annot/``, however deep the mask lies below it).
  Class indices are Datumaro's: the black label is class 0, a ``background``
  is added when there is none, and a file of names without colours gets the
  VOC colours. Without the file, the standard CamVid 32-class colours are used
  when the format is asked for by name.
- ``voc-rgb``: RGB PNG painted with the VOC colour map (CVAT and Datumaro save
  VOC masks this way): colour of index ``v`` = value ``v``, (224, 224, 192) =
  255 = void. A ``labelmap.txt`` (``name:R,G,B:parts:actions``) beside the
  mask or one folder up renames (and may recolour) the values.
- ``rgb-legend``: RGB PNG + a JSON legend: ``<mask stem>.legend.json``,
  ``legend.json`` or ``_mask_legend.json`` as ClearML's
  ``register_dataset_masks.py`` reads it (``{"name": [R, G, B]}``), or
  Datumaro's ``dataset_meta.json`` (``label_map``, ``segmentation_colors``,
  ``background_label``).

All three read ``.png`` like ``index-png``; their sniffers accept only RGB(A)
PNGs (``index-png`` keeps L/P files at priority 10) and rely on the side file.
Colours missing from a table are never dropped: each becomes one segment
labelled ``"unknown"`` with ``attributes={"unknown_color": True}``, a warning
sentence with its pixel count and bounding box, and an entry of
``provenance.details["unknown_colors"]``.

The steps these formats share with :mod:`~viewer.core.formats.cvat_mask` and
:mod:`~viewer.core.formats.clearml` live in :mod:`~viewer.core.formats.color_lookup`
(reading a mask through a table), :mod:`~viewer.core.formats.color_tables`
(the side files) and :mod:`~viewer.core.formats.color_plan` (choosing colours
when writing).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


from viewer.core import safe_input
from viewer.core.errors import ReadError, WriteError
from viewer.core.fileio import atomic_write_text
from viewer.core.formats.base import FormatSpec
from viewer.core.formats.color_lookup import (
    ColorClass,
    finish,
    is_rgb_png,
    match_colors,
    rename_rows,
    segmentation_from_colors,
)
from viewer.core.formats.color_plan import (
    ClassRequest,
    ColorPlan,
    check_conflicts,
    colour_key,
    is_unknown,
    labelmap_rows,
    paint,
    plan_colors,
    segment_requests,
    voc_color_table,
    voc_indices,
)
from viewer.core.formats.color_tables import (
    CAMVID_CLASSES,
    LABEL_COLORS,
    LABELMAP,
    LEGEND_FILES,
    LEGEND_SUFFIX,
    clean_name,
    existing_rows,
    find_beside,
    find_in_dataset,
    find_legend,
    format_label_colors,
    format_labelmap,
    name_problems,
    read_label_colors,
    read_labelmap,
    read_legend,
    table_path_for_write,
    voc_rows,
    write_table,
)
from viewer.core.formats.common import dump_json, read_rgb_png, write_png
from viewer.core.formats.names import read_names_beside
from viewer.core.palettes import builtin_palette
from viewer.core.segmentation import Kind, Segmentation
from viewer.core.transaction import current_path
from viewer.core.types import RGB

PHOTO_FOLDERS = frozenset({"images", "image", "imgs", "img", "jpegimages", "photos"})
#: Sniffing decodes a PNG to check its colours only up to this size.
_SNIFF_DECODE_PIXELS = 40_000_000


# -- shared steps -------------------------------------------------------------------
def in_photo_folder(path: Path) -> bool:
    """True for a file in a folder of photos (``images/``, or ``train/`` beside ``trainannot/``).

    Datumaro keeps ``dataset_meta.json`` and ``label_colors.txt`` one folder
    above both the masks and the photos; the photos are not masks.
    """
    parent = path.parent
    return (parent.name.lower() in PHOTO_FOLDERS
            or (parent.parent / f"{parent.name}annot").is_dir())


def _png_path(path: str | Path) -> Path:
    path = Path(path)
    return path if path.suffix.lower() == ".png" else path.with_suffix(".png")


# -- camvid -------------------------------------------------------------------------
CAMVID = "camvid"
#: Datumaro keeps a subset's masks in ``<subset>annot/``.
CAMVID_MASK_SUFFIX = "annot"


def read_camvid(path: str | Path, *, label_colors: str | Path | None = None,
                names: Mapping[int, str] | None = None,
                image_size: tuple[int, int] | None = None, **_options) -> Segmentation:
    """Read a CamVid colour mask.

    Parameters
    ----------
    path : str or Path
    label_colors : str or Path, optional
        The ``label_colors.txt`` to use; default the one beside the mask or
        one folder up, else the standard CamVid colours (with a warning).
    names : mapping of class index to name, optional
        Overrides names of the table.
    image_size : (width, height), optional
    """
    path = Path(path)
    table = Path(label_colors) if label_colors else find_camvid_table(path)
    details: dict[str, Any] = {}
    if table is None:
        rows = [ColorClass(c, n, i, void=n == "Void") for i, (n, c) in enumerate(CAMVID_CLASSES)]
        details["warnings"] = [f"no {LABEL_COLORS} beside the mask, one folder up or at the "
                               "dataset root; read with the standard CamVid 32-class colours"]
        details["color_table"] = "CamVid standard colours"
    else:
        rows = read_label_colors(table)
        details["color_table"] = str(table)
    seg = segmentation_from_colors(read_rgb_png(path), rename_rows(rows, names), source=path,
                                   format_name=CAMVID, details=details,
                                   table=table.name if table else "the CamVid colour map")
    return finish(seg, path, image_size)


def _is_annot_folder(name: str) -> bool:
    return name.endswith(CAMVID_MASK_SUFFIX) and len(name) > len(CAMVID_MASK_SUFFIX)


def find_camvid_table(path: Path) -> Path | None:
    """``label_colors.txt`` beside the mask, one folder up, or at Datumaro's dataset root.

    Datumaro reads it only at the root, the folder holding ``<subset>annot/``,
    which may be several folders up when item ids hold folders
    (``trainannot/seq/0001.png``).
    """
    return find_in_dataset(path, LABEL_COLORS, _is_annot_folder)


def write_camvid(seg: Segmentation, path: str | Path, *, label_colors: str | Path | None = None,
                 **_options) -> list[Path]:
    """Write an RGB mask and its ``label_colors.txt`` (extended when it already exists).

    ``label_colors`` names the table (a dataset's, at its root); default the
    one beside the mask or one folder up, else a new one beside it.

    Raises
    ------
    WriteError
        When the existing ``label_colors.txt`` gives one of this mask's colours another name.
    """
    path = _png_path(path)
    table = Path(label_colors) if label_colors else table_path_for_write(path, LABEL_COLORS)
    requests = [ClassRequest(clean_name(r.name, "\r\n"), r.segment_ids, r.fixed, r.wish)
                for r in segment_requests(seg)]
    existing = existing_rows(table, read_label_colors)
    plan = plan_colors(seg, requests, existing)
    check_conflicts(plan, table, path)
    write_png(path, paint(seg.labels, plan.colors))
    write_table(table, plan.rows, len(existing), format_label_colors)
    return [path, table]


def camvid_losses(seg: Segmentation) -> list[str]:
    """Colour keys that must move, and labels the text table cannot hold."""
    plan = plan_colors(seg, segment_requests(seg))
    return plan.notes + name_problems((s.label for s in seg.table), "\r\n", LABEL_COLORS)


def sniff_camvid(path: Path) -> bool:
    """An RGB PNG with ``label_colors.txt`` beside it or one folder up.

    Also a mask in Datumaro's CamVid layout without the file
    (``<subset>annot/`` beside ``<subset>.txt``), read with the standard colours.
    """
    if in_photo_folder(path) or not is_rgb_png(path):
        return False
    parent = path.parent
    datumaro = parent.name.endswith("annot") and \
        (parent.parent / f"{parent.name[:-len('annot')]}.txt").is_file()
    return datumaro or find_camvid_table(path) is not None


# -- voc-rgb ------------------------------------------------------------------------
VOC_RGB = "voc-rgb"


def read_voc_rgb(path: str | Path, *, labelmap: str | Path | None = None,
                 kind: Kind | str | None = None, names: Mapping[int, str] | None = None,
                 image_size: tuple[int, int] | None = None, **_options) -> Segmentation:
    """Read a VOC mask saved as RGB colours (CVAT, Datumaro).

    Parameters
    ----------
    path : str or Path
    labelmap : str or Path, optional
        Default: ``labelmap.txt`` beside the mask or one folder up.
    kind : Kind, optional
        ``instance`` reads colours as instance numbers (the default in a
        ``SegmentationObject`` folder); else semantic.
    names : mapping of value to name, optional
    image_size : (width, height), optional
    """
    path = Path(path)
    if kind is None:
        kind = Kind.INSTANCE if path.parent.name == "SegmentationObject" else Kind.SEMANTIC
    kind = Kind(kind)
    table = Path(labelmap) if labelmap else find_beside(path, [LABELMAP])
    rows = voc_rows(table if kind is not Kind.INSTANCE else None, instance=kind is Kind.INSTANCE)
    if table is None and kind is not Kind.INSTANCE:
        # labelme's VOC export names the values in class_names.txt instead.
        rows = rename_rows(rows, read_names_beside(path))
    details = {"color_table": str(table) if table else "VOC colour map"}
    seg = segmentation_from_colors(
        read_rgb_png(path), rename_rows(rows, names), source=path, format_name=VOC_RGB,
        details=details, table=table.name if table else "the VOC colour map", color_keyed=False,
        kind=kind, unknown_base=256)
    return finish(seg, path, image_size)


def write_voc_rgb(seg: Segmentation, path: str | Path, **_options) -> list[Path]:
    """Write VOC colours, plus a ``labelmap.txt`` when labels differ from VOC's.

    Unknown-colour segments keep their own colour. An existing ``labelmap.txt``
    beside the mask (or one folder up) is extended, its colours used, and its
    names must agree with this mask's.

    Raises
    ------
    WriteError
        Values outside 0..255, or an existing labelmap.txt that disagrees.
    """
    path = _png_path(path)
    indices, _notes = voc_indices(seg)
    bad = sorted({v for v in indices.values() if not 0 <= v <= 255})
    if bad:
        raise WriteError(f"VOC colour masks hold values 0..255; this mask has {bad[:10]} "
                         "(use index-png or label-npy)", path)
    table = table_path_for_write(path, LABELMAP)
    current = current_path(table)  # as an earlier item of this export left it
    existing = [(r.name, r.color) for r in read_labelmap(current)] if current.is_file() else []
    rows = labelmap_rows(seg, indices, existing, table, path)
    color_of = voc_color_table(existing)
    colors = {seg_id: color_of[v] for seg_id, v in indices.items()}
    colors.update({s.id: colour_key(s) for s in seg.table if is_unknown(s)})
    write_png(path, paint(seg.labels, colors))
    if rows is None:
        return [path]
    if rows[:len(existing)] == existing:
        write_table(table, rows, len(existing), format_labelmap)
    else:  # the void row moved to the end: Datumaro reads rows in order
        atomic_write_text(table, format_labelmap(rows))
    return [path, table]


def voc_losses(seg: Segmentation) -> list[str]:
    """Values outside 0..255, colour keys replaced by VOC colours, labels with ``:``."""
    _indices, notes = voc_indices(seg)
    return notes + name_problems((s.label for s in seg.table), ":\r\n", LABELMAP)


def sniff_voc_rgb(path: Path) -> bool:
    """An RGB PNG with a ``labelmap.txt`` near it, or whose colours are all VOC colours."""
    if in_photo_folder(path) or not is_rgb_png(path):
        return False
    if find_beside(path, [LABELMAP]) is not None:
        return True
    try:
        with safe_input.open_image(path, check_size=False) as img:
            if img.width * img.height > _SNIFF_DECODE_PIXELS:
                return False
        rgb = read_rgb_png(path)
    except (ReadError, OSError):
        return False
    colors = builtin_palette("voc").colors(256)
    return match_colors(rgb, colors).unknown.size == 0


# -- rgb-legend -----------------------------------------------------------------------
RGB_LEGEND = "rgb-legend"


def read_rgb_legend(path: str | Path, *, legend: str | Path | None = None,
                    names: Mapping[int, str] | None = None,
                    image_size: tuple[int, int] | None = None, **_options) -> Segmentation:
    """Read a colour mask with a JSON legend.

    Parameters
    ----------
    path : str or Path
    legend : str or Path, optional
        The legend JSON; default found by :func:`find_legend`.
    names : mapping of class index to name, optional
    image_size : (width, height), optional

    Raises
    ------
    ReadError
        No legend found, or a legend that is not valid.
    """
    path = Path(path)
    table = Path(legend) if legend else find_legend(path)
    if table is None:
        raise ReadError(f"no legend JSON ({path.stem}{LEGEND_SUFFIX}, "
                        f"{', '.join(LEGEND_FILES)}) beside the mask or one folder up", path)
    rows = rename_rows(read_legend(table), names)
    seg = segmentation_from_colors(read_rgb_png(path), rows, source=path, format_name=RGB_LEGEND,
                                   details={"color_table": str(table)}, table=table.name)
    return finish(seg, path, image_size)


def _legend_rows(seg: Segmentation) -> tuple[ColorPlan, dict[str, RGB], list[str]]:
    """The plan, the legend object, and the labels that had to be made unique."""
    plan = plan_colors(seg, segment_requests(seg))
    legend: dict[str, RGB] = {}
    renamed = []
    for name, color in plan.rows:
        key, n = name, 2
        while key in legend:
            key, n = f"{name} ({n})", n + 1
        if key != name:
            renamed.append(f"{name!r} -> {key!r}")
        legend[key] = color
    return plan, legend, renamed


def write_rgb_legend(seg: Segmentation, path: str | Path, **_options) -> list[Path]:
    """Write an RGB mask and ``<stem>.legend.json`` (``{"name": [R, G, B]}``, ClearML style)."""
    path = _png_path(path)
    plan, legend, _renamed = _legend_rows(seg)
    write_png(path, paint(seg.labels, plan.colors))
    table = dump_json(path.with_name(path.stem + LEGEND_SUFFIX),
                      {name: list(color) for name, color in legend.items()})
    return [path, table]


def legend_losses(seg: Segmentation) -> list[str]:
    """Colour keys that must move, and labels a name-keyed legend must make unique."""
    plan, _legend, renamed = _legend_rows(seg)
    if renamed:
        plan.notes.append("a legend maps each label to one colour, so labels used by several "
                          f"segments are numbered: {', '.join(renamed[:10])}")
    return plan.notes


def sniff_rgb_legend(path: Path) -> bool:
    """An RGB PNG with a legend JSON beside it (or ``dataset_meta.json`` one folder up)."""
    return not in_photo_folder(path) and is_rgb_png(path) and find_legend(path) is not None


FORMATS = (
    FormatSpec(
        name=RGB_LEGEND, title="RGB colour mask + JSON legend (ClearML _mask_legend.json, "
        "Datumaro dataset_meta.json)", extensions=(".png",), read=read_rgb_legend,
        write=write_rgb_legend, sniff=sniff_rgb_legend, priority=7, losses=legend_losses,
        notes="legend {name: [R, G, B]}; colours not in it become 'unknown' segments"),
    FormatSpec(
        name=CAMVID, title="CamVid RGB colour mask + label_colors.txt", extensions=(".png",),
        read=read_camvid, write=write_camvid, sniff=sniff_camvid, priority=6,
        losses=camvid_losses,
        notes="'R G B name' lines; black is class 0; standard CamVid colours when absent"),
    FormatSpec(
        name=VOC_RGB, title="Pascal VOC colour map as RGB PNG (CVAT, Datumaro)",
        extensions=(".png",), read=read_voc_rgb, write=write_voc_rgb, sniff=sniff_voc_rgb,
        priority=4, losses=voc_losses,
        notes="(224, 224, 192) = 255 void; names from labelmap.txt"),
)
