"""CVAT "Segmentation mask 1.1" (the VOC-style layout CVAT and Datumaro export).

Layout (``FORMATS.md`` 6.4)::

    labelmap.txt                       # label:color_rgb:parts:actions / name:R,G,B::
    ImageSets/Segmentation/default.txt # item names without extension
    SegmentationClass/<item>.png       # RGB, pixel = the class's labelmap colour
    SegmentationObject/<item>.png      # RGB, pixel = VOC colour of the instance number
    JPEGImages/<item>.jpg              # optional, the photos

Without ``labelmap.txt`` the VOC classes and colours apply (Datumaro's VOC
export has the same layout). Reading gives one segment per (class, instance)
pair when the object mask exists (kind ``instance``), else one per class
(``semantic``). A segment's ``source_value`` is its class colour, followed by
its object colour when there is an object mask: ``(R, G, B, r, g, b)``.
Colours in neither table become ``"unknown"`` segments with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from viewer.core import safe_input
from viewer.core.errors import ReadError, WriteError
from viewer.core.fileio import atomic_write_text
from viewer.core.formats.base import FormatSpec
from viewer.core.formats.color_lookup import (
    BLACK,
    UNKNOWN,
    ColorClass,
    add_warnings,
    duplicate_color_warnings,
    finish,
    is_rgb_png,
    match_colors,
    rename_rows,
    report_unknown,
)
from viewer.core.formats.color_plan import (
    ClassRequest,
    ColorPlan,
    check_conflicts,
    colour_key,
    is_unknown,
    paint,
    plan_colors,
)
from viewer.core.formats.color_tables import (
    LABELMAP,
    MASK_FOLDERS,
    VOC_VOID,
    clean_name,
    existing_rows,
    format_labelmap,
    name_problems,
    read_labelmap,
    voc_rows,
    void_row_last,
    write_table,
)
from viewer.core.formats.common import (
    check_same_size,
    image_size_of,
    read_rgb_png,
    write_png,
)
from viewer.core.formats.names import read_names_beside
from viewer.core.palettes import builtin_palette
from viewer.core.segment_table import Segment
from viewer.core.segmentation import BACKGROUND_NAMES, Kind, Provenance, Segmentation
from viewer.core.transaction import current_path
from viewer.core.types import RGB

NAME = "cvat-mask"
CLASS_DIR, OBJECT_DIR = MASK_FOLDERS
IMAGE_SET = Path("ImageSets") / "Segmentation" / "default.txt"
IMAGE_DIR = "JPEGImages"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
#: Instance numbers a SegmentationObject PNG holds (VOC colours 1..255; 0 is background).
MAX_INSTANCES = 255
#: Largest (class, instance) key counted with a dense table when ranking.
_DENSE_KEYS = 1 << 24


@dataclass(frozen=True)
class Item:
    """One image of a CVAT export: its masks, some of which may be missing."""

    root: Path
    name: str
    class_mask: Path | None
    object_mask: Path | None

    @property
    def primary(self) -> Path:
        """The mask that names the item in errors and provenance."""
        return self.class_mask or self.object_mask


# -- locating ---------------------------------------------------------------------
def dataset_root(path: Path) -> Path:
    """The export's root folder for a mask file or the folder itself."""
    path = Path(path)
    if path.is_dir():
        return path
    return path.parent.parent if path.parent.name in MASK_FOLDERS else path.parent


def items(path: str | Path) -> list[str]:
    """The item names of an export folder (``default.txt`` order, then the other masks).

    A single mask file holds one item: ``[]``.
    """
    path = Path(path)
    if not path.is_dir():
        return []
    with_masks = {p.stem for folder in MASK_FOLDERS for p in (path / folder).glob("*.png")}
    listed = []
    if (path / IMAGE_SET).is_file():
        listed = [n for n in _read_lines(path / IMAGE_SET) if n in with_masks]
    return listed + sorted(with_masks - set(listed))


def locate(path: str | Path, item: str | None = None) -> Item:
    """Find the masks of ``item`` (default: the mask given, or the folder's first item).

    Raises
    ------
    ReadError
        A file outside the CVAT mask folders, or an item without masks.
    """
    path = Path(path)
    if path.is_dir():
        root = path
        if item is None:
            names = items(root)
            if not names:
                raise ReadError(f"no {CLASS_DIR}/ or {OBJECT_DIR}/ PNG masks in this folder", root)
            item = names[0]
    elif path.parent.name in MASK_FOLDERS:
        root = path.parent.parent
        item = item or path.stem
    else:
        raise ReadError(f"a CVAT mask lies in {CLASS_DIR}/ or {OBJECT_DIR}/ under the export "
                        "folder; open the PNG there or the export folder", path)
    found = [root / folder / f"{item}.png" for folder in MASK_FOLDERS]
    class_mask, object_mask = (p if p.is_file() else None for p in found)
    if class_mask is None and object_mask is None:
        raise ReadError(f"no mask for item {item!r} in {CLASS_DIR}/ or {OBJECT_DIR}/", root)
    return Item(root, item, class_mask, object_mask)


def _read_lines(path: Path) -> list[str]:
    try:
        text = safe_input.read_text(path, what="image list")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReadError(f"cannot read the image list: {exc}", path) from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def _image_of(item: Item) -> Path | None:
    for suffix in IMAGE_SUFFIXES:
        for candidate in (item.root / IMAGE_DIR / f"{item.name}{suffix}",
                          item.root / IMAGE_DIR / f"{item.name}{suffix.upper()}"):
            if candidate.is_file():
                return candidate
    return None


# -- reading ----------------------------------------------------------------------
def read(path: str | Path, *, item: str | None = None, labelmap: str | Path | None = None,
         names: Mapping[int, str] | None = None, image_size: tuple[int, int] | None = None,
         **_options) -> Segmentation:
    """Read one item of a CVAT segmentation-mask export.

    Parameters
    ----------
    path : str or Path
        ``SegmentationClass/<item>.png``, ``SegmentationObject/<item>.png`` or
        the export folder.
    item : str, optional
        The item (image name without extension); see :func:`items`.
    labelmap : str or Path, optional
        Default: ``labelmap.txt`` in the export folder, else the VOC classes.
    names : mapping of class index to name, optional
    image_size : (width, height), optional

    Raises
    ------
    ReadError
        Missing masks, masks of different sizes, a mask whose size differs
        from its photo in ``JPEGImages/``, or a broken labelmap.txt.
    """
    found = locate(path, item)
    table = Path(labelmap) if labelmap else found.root / LABELMAP
    if labelmap or table.is_file():
        rows = void_row_last(read_labelmap(table))
    else:
        # No labelmap: the VOC classes, named by class_names.txt when labelme wrote the export.
        rows = rename_rows(voc_rows(None), read_names_beside(found.primary))
    rows = rename_rows(rows, names)
    class_rgb, object_rgb = _load_masks(found)
    table_name = table.name if table.is_file() else "the VOC colour map"
    details: dict[str, Any] = {"item": found.name,
                               "labelmap": str(table) if table.is_file() else "VOC classes",
                               "object_mask": str(found.object_mask) if found.object_mask else None}
    add_warnings(details, duplicate_color_warnings(rows, table_name))
    # The object mask opened on its own means instances, even one per class.
    opened_objects = Path(path).parent.name == OBJECT_DIR
    seg = _build(class_rgb, object_rgb, rows, found, details, instances=opened_objects)
    report_unknown(seg, table_name, color_of=lambda s: s.source_value[:3], mask=CLASS_DIR)
    report_unknown(seg, "the VOC colour map", flag="unknown_object_color",
                   color_of=lambda s: s.source_value[3:], mask=OBJECT_DIR)
    return finish(seg, found.primary, image_size)


def _load_masks(found: Item) -> tuple[np.ndarray | None, np.ndarray | None]:
    class_rgb = read_rgb_png(found.class_mask) if found.class_mask else None
    object_rgb = read_rgb_png(found.object_mask) if found.object_mask else None
    if class_rgb is not None and object_rgb is not None:
        check_same_size(object_rgb.shape[1::-1], class_rgb.shape[1::-1], found.object_mask)
    image = _image_of(found)
    if image is not None:
        mask = class_rgb if class_rgb is not None else object_rgb
        size = image_size_of(image)
        if tuple(mask.shape[1::-1]) != tuple(size):
            raise ReadError(f"mask is {mask.shape[1]}x{mask.shape[0]} but its image "
                            f"{IMAGE_DIR}/{image.name} is {size[0]}x{size[1]}", found.primary)
    return class_rgb, object_rgb


def _build(class_rgb: np.ndarray | None, object_rgb: np.ndarray | None,
           rows: Sequence[ColorClass], found: Item, details: dict[str, Any], *,
           instances: bool = False) -> Segmentation:
    """Combine the class and object masks into one key per pixel and make segments."""
    shape = (class_rgb if class_rgb is not None else object_rgb).shape[:2]
    classes, class_colors = _class_values(class_rgb, rows, shape)
    objects, object_colors = _object_values(object_rgb, shape)
    stride = max(object_colors) + 1
    ranks, keys = _rank(classes.astype(np.int64) * stride + objects)
    by_value = {r.value: r for r in rows if r.color is not None}
    # CVAT writes an object mask even for semantic work; with at most one
    # object per class the map is a class map, and reads back as one.
    one_per_class = np.unique(keys // stride).size == keys.size
    kind = Kind.INSTANCE if object_rgb is not None and (instances or not one_per_class) \
        else Kind.SEMANTIC
    describe = _describer(by_value, class_colors, object_colors, stride,
                          has_objects=object_rgb is not None, by_class=kind is Kind.SEMANTIC)
    return Segmentation.from_values(ranks, kind=kind, describe=lambda r: describe(int(keys[r])),
                                    provenance=Provenance(str(found.primary), NAME, details))


def _rank(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compact ids 0..n-1 for the distinct (class, instance) keys, in key order.

    Dense counting keeps this O(pixels); only a mask with a huge number of
    unknown colours falls back to sorting.
    """
    if int(keys.max()) < _DENSE_KEYS:
        present = np.flatnonzero(np.bincount(keys.reshape(-1)))
        lut = np.zeros(int(present[-1]) + 1, np.int64)
        lut[present] = np.arange(present.size)
        return lut[keys], present
    present, inverse = np.unique(keys, return_inverse=True)
    return inverse.reshape(keys.shape), present


def _class_values(rgb: np.ndarray | None, rows: Sequence[ColorClass],
                  shape: tuple[int, int]) -> tuple[np.ndarray, dict[int, RGB | None]]:
    """Class value per pixel, and the colour of every value (unknown ones included)."""
    usable = [r for r in rows if r.color is not None]
    colors: dict[int, RGB | None] = {r.value: r.color for r in usable}
    if rgb is None:
        # Only an object mask: every pixel is of no known class (value -1 stands for that).
        base = max(colors, default=-1) + 1
        return np.full(shape, base, np.int64), {**colors, base: None}
    match = match_colors(rgb, [r.color for r in usable])
    base = max(colors, default=-1) + 1
    unknown = {base + k: tuple(int(c) for c in color) for k, color in enumerate(match.unknown)}
    value_of_row = np.array([r.value for r in usable] + list(unknown), np.int64)
    return value_of_row[match.rows], {**colors, **unknown}


def _object_values(rgb: np.ndarray | None,
                   shape: tuple[int, int]) -> tuple[np.ndarray, dict[int, RGB]]:
    """Instance number per pixel (0 = none), unknown colours numbered from 256."""
    voc = builtin_palette("voc").colors(256)
    colors = {i: tuple(int(c) for c in voc[i]) for i in range(256)}
    if rgb is None:
        return np.zeros(shape, np.int64), colors
    match = match_colors(rgb, voc)
    colors.update({256 + k: tuple(int(c) for c in color) for k, color in enumerate(match.unknown)})
    return match.rows.astype(np.int64), colors


def _describer(by_value: Mapping[int, ColorClass], class_colors: Mapping[int, RGB | None],
               object_colors: Mapping[int, RGB], stride: int, *, has_objects: bool,
               by_class: bool = False):
    def describe(key: int) -> dict[str, Any]:
        value, instance = divmod(key, stride)
        row = by_value.get(value)
        class_color = class_colors.get(value)
        fields: dict[str, Any] = {"attributes": {}}
        if row is not None:
            fields.update(label=row.name, class_id=row.value, void=row.void)
        else:
            fields.update(label=UNKNOWN if class_color is not None else "", class_id=None)
            if class_color is not None:
                fields["attributes"]["unknown_color"] = True
        if instance >= 256:
            fields["attributes"]["unknown_object_color"] = True
        object_color = object_colors[instance]
        if instance == VOC_VOID and row is not None and row.void:
            instance = 0  # VOC marks void borders 255 in both masks: no object there
        fields["instance"] = instance or None
        use_object = instance and not by_class
        fields["color"] = object_colors[instance] if use_object else (class_color or BLACK)
        fields["visible"] = not (instance == 0 and fields["label"].lower() in BACKGROUND_NAMES)
        key_color = class_color or BLACK
        fields["source_value"] = (*key_color, *object_color) if has_objects else key_color
        return fields
    return describe


# -- writing ----------------------------------------------------------------------
def write(seg: Segmentation, path: str | Path, *, item: str | None = None,
          subset: str = "default", **_options) -> list[Path]:
    """Write the whole layout: both masks, ``labelmap.txt`` and ``default.txt``.

    Parameters
    ----------
    seg : Segmentation
    path : str or Path
        ``<folder>/<item>.png`` (or ``<folder>/SegmentationClass/<item>.png``)
        writes item ``<item>`` into ``<folder>``; a folder writes ``item`` (default
        the stem of the file the segmentation came from) into it.
    item : str, optional
    subset : str
        The image set listing the item, ``ImageSets/Segmentation/<subset>.txt``.

    Returns
    -------
    list of Path
        ``SegmentationClass/<item>.png`` first, then the object mask,
        ``labelmap.txt`` and ``default.txt``. An existing labelmap.txt and
        default.txt are extended, so several items share one export.

    Raises
    ------
    WriteError
        When the existing labelmap.txt gives one of this mask's colours another name.
    """
    root, name = _target(Path(path), item, seg)
    labelmap = root / LABELMAP
    existing = existing_rows(labelmap, read_labelmap)
    plan = _plan(seg, existing)
    class_path = root / CLASS_DIR / f"{name}.png"
    check_conflicts(plan, labelmap, class_path)
    instances, _notes = instance_numbers(seg, plan)
    voc = builtin_palette("voc")
    object_colors = {seg_id: voc.color(n) for seg_id, n in instances.items()}
    object_path = root / OBJECT_DIR / f"{name}.png"
    write_png(class_path, paint(seg.labels, plan.colors))
    write_png(object_path, paint(seg.labels, object_colors))
    write_table(labelmap, plan.rows, len(existing), format_labelmap)
    image_set = root / IMAGE_SET.with_name(f"{subset}.txt")
    current = current_path(image_set)  # as an earlier frame of this export left it
    listed = _read_lines(current) if current.is_file() else []
    if name not in listed:
        listed.append(name)
    atomic_write_text(image_set, "".join(f"{n}\n" for n in listed))
    return [class_path, object_path, labelmap, image_set]


def _target(path: Path, item: str | None, seg: Segmentation) -> tuple[Path, str]:
    if path.suffix.lower() == ".png":
        root = path.parent.parent if path.parent.name in MASK_FOLDERS else path.parent
        return root, item or path.stem
    source = seg.provenance.source
    name = item or (Path(source).stem if source else "mask")
    if not name or "/" in name or "\\" in name:
        raise WriteError(f"item name {name!r} cannot be a file name", path)
    return path, name


def class_requests(seg: Segmentation) -> tuple[list[ClassRequest], list[str]]:
    """Group segments into CVAT labels: instances of one class share its colour.

    Segments keyed by a class colour keep it; instances (``instance`` set)
    group by label and class; any other segment is a label of its own.
    """
    groups: dict[tuple, list[Segment]] = {}
    for s in seg.table:
        if is_unknown(s):
            continue
        fixed = colour_key(s)
        if fixed is not None:
            key: tuple = ("fixed", fixed)
        elif s.instance is not None:
            key = ("class", s.label, s.class_id)
        else:
            key = ("segment", s.id)
        groups.setdefault(key, []).append(s)
    requests, notes = [], []
    for members in groups.values():
        first = members[0]
        labels = sorted({m.label for m in members})
        if len(labels) > 1:
            notes.append(f"segments of colour {colour_key(first)} carry the labels "
                         f"{', '.join(map(repr, labels))}; CVAT keeps one: {first.label!r}")
        requests.append(ClassRequest(clean_name(first.label, ":\r\n"),
                                     tuple(m.id for m in members), colour_key(first),
                                     _wish(first)))
    return requests, notes


def _wish(segment: Segment) -> RGB:
    if segment.instance is None and segment.label.strip().lower() in BACKGROUND_NAMES:
        return BLACK
    return segment.color


def _plan(seg: Segmentation, existing: Sequence[tuple[str, RGB]]) -> ColorPlan:
    requests, notes = class_requests(seg)
    plan = plan_colors(seg, requests, existing)
    plan.notes[:0] = notes
    raw = {colour_key(s) for s in seg.table if is_unknown(s)}
    has_black = any(color == BLACK for _name, color in plan.rows)
    if not existing and not has_black and BLACK not in raw:
        # CVAT's labelmap starts with background:0,0,0:: by convention.
        plan.rows.insert(0, ("background", BLACK))
        plan.row_of = {k: v + 1 for k, v in plan.row_of.items()}
    return plan


def instance_numbers(seg: Segmentation, plan: ColorPlan) -> tuple[dict[int, int], list[str]]:
    """The instance number (0..255) of every segment in the object mask, and what is lost.

    Object colours read from a CVAT file are kept, then ``instance`` numbers
    1..255, then free numbers in id order; segments painted with the
    background colour and without an instance get 0.
    """
    voc_index = {tuple(int(c) for c in color): i
                 for i, color in enumerate(builtin_palette("voc").colors(256))}
    numbers: dict[int, int] = {}
    taken: set[int] = set()
    for s in seg.table:
        value = s.source_value
        number = voc_index.get(tuple(value[3:])) if isinstance(value, tuple) and len(value) == 6 \
            else None
        if number is not None and (number == 0 or number not in taken):
            numbers[s.id] = number
            taken.add(number)
    for s in seg.table:
        if s.id not in numbers and s.void and s.instance is None:
            numbers[s.id] = VOC_VOID  # VOC marks void 255 in both masks; read back as no object
            taken.add(VOC_VOID)
    for s in seg.table:
        if (s.id not in numbers and isinstance(s.instance, int)
                and 1 <= s.instance <= MAX_INSTANCES and s.instance not in taken):
            numbers[s.id] = s.instance
            taken.add(s.instance)
    overflow = _number_the_rest(seg, plan, numbers, taken)
    return numbers, _instance_notes(seg, plan, numbers, overflow)


def _number_the_rest(seg: Segmentation, plan: ColorPlan, numbers: dict[int, int],
                     taken: set[int]) -> int:
    free = (n for n in range(1, MAX_INSTANCES + 1) if n not in taken)
    overflow = 0
    for s in seg.table:
        if s.id in numbers:
            continue
        if s.instance is None and plan.colors.get(s.id) == BLACK:
            numbers[s.id] = 0
            continue
        numbers[s.id] = next(free, 0)
        overflow += numbers[s.id] == 0
    return overflow


def _instance_notes(seg: Segmentation, plan: ColorPlan, numbers: Mapping[int, int],
                    overflow: int) -> list[str]:
    notes = []
    if overflow:
        notes.append(f"{overflow} segments beyond the {MAX_INSTANCES} instances a "
                     f"{OBJECT_DIR} PNG holds are written as background there")
    seen: dict[tuple, list[str]] = {}
    for s in seg.table:
        seen.setdefault((plan.colors.get(s.id), numbers[s.id]), []).append(s.label or str(s.id))
    merged = [labels for labels in seen.values() if len(labels) > 1]
    if merged:
        notes.append("segments with the same class colour and instance number merge: "
                     + "; ".join(", ".join(labels) for labels in merged[:5]))
    return notes


def losses(seg: Segmentation) -> list[str]:
    """Colours that must move, labels CVAT cannot hold, instances beyond 255, merges, class ids."""
    plan = _plan(seg, ())
    _numbers, notes = instance_numbers(seg, plan)
    return (plan.notes + notes + _class_id_notes(seg, plan)
            + name_problems((s.label for s in seg.table), ":\r\n", LABELMAP))


def _class_id_notes(seg: Segmentation, plan: ColorPlan) -> list[str]:
    """Class ids that become another number: CVAT numbers its labels by labelmap row.

    Void stays void (its row, last in the VOC void colour, reads back as 255).
    Only instance reads are checked: a class map's values are its labels'
    numbers, which the registry's round trip treats as kept by the labels.
    """
    if Kind(seg.kind) is not Kind.INSTANCE:
        return []
    void_color = builtin_palette("voc").color(VOC_VOID)
    moved: dict[tuple[str, int], int] = {}
    for s in seg.table:
        row = plan.row_of.get(s.id)
        if not isinstance(s.class_id, int) or row is None:
            continue
        back = VOC_VOID if plan.rows[row][1] == void_color and row == len(plan.rows) - 1 \
            else row
        if back != s.class_id:
            moved[(s.label or str(s.id), s.class_id)] = back
    if not moved:
        return []
    parts = ", ".join(f"{label} {old} -> {new}" for (label, old), new in sorted(moved.items())[:10])
    return [f"CVAT numbers classes by their labelmap row, so class ids change: {parts}"]


def sniff(path: Path) -> bool:
    """An export folder, or an RGB PNG in its SegmentationClass/ or SegmentationObject/."""
    path = Path(path)
    if path.is_dir():
        folders = [(path / d).is_dir() for d in MASK_FOLDERS]
        return all(folders) or ((path / LABELMAP).is_file() and any(folders))
    if path.parent.name not in MASK_FOLDERS or not is_rgb_png(path):
        return False
    root = path.parent.parent
    return (root / LABELMAP).is_file() or all((root / d).is_dir() for d in MASK_FOLDERS)


FORMAT = FormatSpec(
    name=NAME,
    title="CVAT Segmentation mask 1.1 (labelmap.txt + SegmentationClass/Object RGB PNGs)",
    extensions=(".png",),
    read=read,
    write=write,
    sniff=sniff,
    priority=8,
    notes="reads a mask PNG or the export folder; up to 255 instances per image",
    losses=losses,
    items=items,
    folders=True,
)
FORMATS = (FORMAT,)
