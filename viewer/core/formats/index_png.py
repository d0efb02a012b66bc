"""Index masks in PNG: 8-bit ``L``, palette ``P`` and 16-bit grey.

The pixel value is the class (or instance) value. Read with Pillow, never
OpenCV: cv2 expands palette PNGs to colours and loses the indices
(``FORMATS.md`` golden rule 1). Class names come from the side files
:mod:`viewer.core.formats.names` knows (``class_names.txt``, ``label_names.txt``,
``labels.txt``, ``labelmap.txt``, our metadata JSON) beside the mask or in its
parent folder (the VOC layout ``SegmentationClass/../class_names.txt``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from viewer.core import safe_input
from viewer.core.errors import ReadError, WriteError
from viewer.core.formats import voc_objects
from viewer.core.formats.instance_classes import class_values, instance_loss
from viewer.core.formats.base import FormatSpec
from viewer.core.formats.common import read_index_png, write_png
from viewer.core.formats.names import read_names_beside
from viewer.core.palettes import Palette, PaletteEntry, builtin_palette
from viewer.core.segmentation import Kind, Provenance, Segmentation

VOC_VOID = 255


def read(path: str | Path, *, kind: Kind | str | None = None,
         void_values: tuple[int, ...] | None = None, names: dict[int, str] | None = None,
         **_options) -> Segmentation:
    """Read an index PNG.

    Parameters
    ----------
    path : str or Path
    kind : Kind, optional
        Defaults to binary for {0, 1} or {0, 255} masks, else semantic; a
        mask in ``SegmentationObject/`` is read as instances
        (:mod:`~viewer.core.formats.voc_objects`).
    void_values : tuple of int, optional
        Values meaning void. Default: 255 in a palette PNG with the VOC colour
        map; none otherwise (a grey {0, 255} mask is a binary mask, not void).
    """
    path = Path(path)
    values, palette = _load(path)
    if kind is None and voc_objects.is_object_mask(path):
        # Instance numbers, classes from the SegmentationClass mask beside it.
        return voc_objects.read(path, values, format_name=FORMAT.name, names=names)
    is_voc = palette is not None and _is_voc(palette)
    if is_voc:
        palette = builtin_palette("voc")  # same colours, plus the class names
    if kind is None:
        kind = Kind.BINARY if _looks_binary(values) else Kind.SEMANTIC
    if void_values is None:
        void_values = (VOC_VOID,) if is_voc else ()
    names = {**read_names_beside(path), **(names or {})}
    if kind == Kind.BINARY and palette is None:
        palette = _binary_palette()
        names = names or {0: "background", 1: "foreground", 255: "foreground"}
    return Segmentation.from_values(
        values, kind=kind, names=names, palette=palette or builtin_palette("voc"),
        void_values=void_values,
        provenance=Provenance(str(path), FORMAT.name, {"png_mode": "P" if palette else "grey"}))


def write(seg: Segmentation, path: str | Path) -> list[Path]:
    """Write the label map's values: palette PNG up to 255, 16-bit grey above.

    The palette PNG carries every segment's colour in a full 256-entry PLTE.
    An instance segmentation with classes (a VOC class + object pair) is
    written as its classes (:func:`~viewer.core.formats.instance_classes.class_values`).

    Raises
    ------
    WriteError
        When a value is negative or above 65,535 (use ``.npy`` for those).
    """
    path = Path(path)
    # The value of each id present, then one lookup into the PNG's own dtype: a full
    # int64 copy of the map (8 bytes a pixel) was the peak of writing a large mask.
    ids = seg.present_ids()
    by_id = _values_of(seg)
    values = np.array([by_id.get(i, i) for i in ids.tolist()], np.int64)
    if _minus_one_as_void(values):
        values = np.where(values == -1, VOC_VOID, values)
    low, high = (int(values.min()), int(values.max())) if values.size else (0, 0)
    if low < 0 or high > 65535:
        raise WriteError(f"PNG index masks hold values 0..65535; this mask has {low}..{high} "
                         "(use .npy to keep them)", path)
    dtype = np.uint8 if high <= 255 else np.uint16
    lut = np.zeros(int(ids[-1]) + 1 if ids.size else 1, dtype)
    lut[ids] = values
    pixels = _look_up(lut, seg.labels)
    if dtype == np.uint8:
        return [write_png(path, pixels, palette=_plte(seg))]
    return [write_png(path, pixels)]


def _values_of(seg: Segmentation) -> dict[int, int]:
    """The value written for each segment: its class in an instance read, else its own value."""
    classes = class_values(seg)
    return seg.integer_values() if classes is None else classes


def losses(seg: Segmentation) -> list[str]:
    """What an index PNG cannot hold: instances, negative values (except -1 as 255), values above 65,535."""
    classes = class_values(seg)
    by_id = seg.integer_values() if classes is None else classes
    if not by_id:
        return []
    notes = [] if classes is None else instance_loss(seg, classes, "an index PNG")
    return notes + _value_losses(list(by_id.values()))


def _value_losses(values: list[int]) -> list[str]:
    low, high = min(values), max(values)
    if low == -1 and high < VOC_VOID and sum(v < 0 for v in values) == 1:
        return ["value -1 is written as 255, the VOC void value, as labelme does"]
    if low < 0 or high > 65535:
        return [f"values {low}..{high} do not fit a PNG index mask (0..65535); use label-npy"]
    return []


def _look_up(lut: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``lut[labels]`` in bands: np.take widens its indices to int64, 8 bytes a pixel."""
    out = np.empty(labels.shape, lut.dtype)
    rows = max(1, (1 << 22) // max(labels.shape[1], 1))
    for top in range(0, labels.shape[0], rows):
        np.take(lut, labels[top:top + rows], out=out[top:top + rows])
    return out


def _minus_one_as_void(values: np.ndarray) -> bool:
    # labelme writes its -1 (__ignore__) as 255 in PNGs; do the same when 255 is free.
    if not values.size or values.min() != -1:
        return False
    rest = values[values != -1]
    return not rest.size or (rest.min() >= 0 and rest.max() < VOC_VOID)


def sniff(path: Path) -> bool:
    """True for PNGs whose mode is an index mode (L, P, 1, 16-bit grey)."""
    try:
        with safe_input.open_image(path, check_size=False) as img:
            return img.format == "PNG" and img.mode in ("L", "P", "1", "I;16", "I;16B", "I")
    except (OSError, ReadError):
        return False


def _load(path: Path) -> tuple[np.ndarray, Palette | None]:
    values, _mode, colors = read_index_png(path)
    if colors is None:
        return values, None
    entries = {i: PaletteEntry(i, tuple(int(c) for c in colors[i])) for i in range(256)}
    return values, Palette("file", "palette stored in the PNG", entries)


def _binary_palette() -> Palette:
    fg = builtin_palette("high_contrast").color(1)
    entries = {0: PaletteEntry(0, (0, 0, 0)), 1: PaletteEntry(1, fg), 255: PaletteEntry(255, fg)}
    return Palette("binary", "binary mask", entries)


def _is_voc(palette: Palette) -> bool:
    voc = builtin_palette("voc")
    return all(palette.color(i) == voc.color(i) for i in (*range(21), VOC_VOID))


def _looks_binary(values: np.ndarray) -> bool:
    if values.dtype != np.uint8 or not values.size:
        return False
    # No bincount: it widens every pixel to int64 (8 bytes a pixel, seconds on a large mask).
    if int(values.max()) <= 1:
        return True
    return np.count_nonzero(values) == np.count_nonzero(values == 255)


def _plte(seg: Segmentation) -> np.ndarray:
    """VOC colours, overridden by each segment's colour at the value it is written as."""
    colors = builtin_palette("voc").colors(256)
    if class_values(seg) is not None:
        return colors  # instance colours would stand for the whole class: keep VOC's
    for seg_id, value in seg.integer_values().items():
        if 0 <= value <= 255:
            colors[value] = seg.table[seg_id].color
    return colors


FORMAT = FormatSpec(
    name="index-png",
    title="Index mask PNG (8-bit L, palette P, 16-bit grey)",
    extensions=(".png",),
    read=read,
    write=write,
    sniff=sniff,
    priority=10,
    notes="255 = void in VOC palette PNGs; class names from class_names.txt",
    losses=losses,
)
FORMATS = (FORMAT,)
