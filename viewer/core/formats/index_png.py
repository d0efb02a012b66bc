"""Index masks in PNG: 8-bit ``L``, palette ``P`` and 16-bit grey.

The pixel value is the class (or instance) value. Read with Pillow, never
OpenCV: cv2 expands palette PNGs to colours and loses the indices
(``FORMATS.md`` golden rule 1). Class names come from a ``class_names.txt``
or ``label_names.txt`` (one name per line, line i = value i) beside the mask
or in its parent folder (the VOC layout ``SegmentationClass/../class_names.txt``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from viewer.core.errors import ReadError, WriteError
from viewer.core.fileio import atomic_open
from viewer.core.formats.base import FormatSpec
from viewer.core.images import MAX_PIXELS
from viewer.core.palettes import Palette, PaletteEntry, builtin_palette
from viewer.core.segmentation import Kind, Provenance, Segmentation

NAME_FILES = ("class_names.txt", "label_names.txt")
VOC_VOID = 255


def read(path: str | Path, *, kind: Kind | str | None = None,
         void_values: tuple[int, ...] | None = None) -> Segmentation:
    """Read an index PNG.

    Parameters
    ----------
    path : str or Path
    kind : Kind, optional
        Defaults to binary for {0, 1} or {0, 255} masks, else semantic.
    void_values : tuple of int, optional
        Values meaning void. Default: 255 in a palette PNG with the VOC colour
        map; none otherwise (a grey {0, 255} mask is a binary mask, not void).
    """
    path = Path(path)
    values, palette = _load(path)
    is_voc = palette is not None and _is_voc(palette)
    if is_voc:
        palette = builtin_palette("voc")  # same colours, plus the class names
    if kind is None:
        kind = Kind.BINARY if _looks_binary(values) else Kind.SEMANTIC
    if void_values is None:
        void_values = (VOC_VOID,) if is_voc else ()
    names = read_class_names(path)
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

    Raises
    ------
    WriteError
        When a value is negative or above 65,535 (use ``.npy`` for those).
    """
    path = Path(path)
    values = seg.to_values(np.int64)
    low, high = (int(values.min()), int(values.max())) if values.size else (0, 0)
    if low < 0 or high > 65535:
        raise WriteError(f"PNG index masks hold values 0..65535; this mask has {low}..{high} "
                         "(use .npy to keep them)", path)
    if high <= 255:
        img = Image.fromarray(values.astype(np.uint8), mode="L").convert("P")
        img.putpalette(_plte(seg))
    else:
        img = Image.fromarray(values.astype(np.uint16))
    with atomic_open(path) as handle:
        img.save(handle, format="PNG")
    return [path]


def read_class_names(mask_path: Path) -> dict[int, str]:
    """Return ``{value: name}`` from a names file beside the mask or one level up."""
    for folder in (mask_path.parent, mask_path.parent.parent):
        for name in NAME_FILES:
            candidate = folder / name
            if candidate.is_file():
                lines = candidate.read_text(encoding="utf-8").splitlines()
                return {i: line.strip() for i, line in enumerate(lines) if line.strip()}
    return {}


def sniff(path: Path) -> bool:
    """True for PNGs whose mode is an index mode (L, P, 1, 16-bit grey)."""
    try:
        with Image.open(path) as img:
            return img.format == "PNG" and img.mode in ("L", "P", "1", "I;16", "I;16B", "I")
    except OSError:
        return False


def _load(path: Path) -> tuple[np.ndarray, Palette | None]:
    try:
        with Image.open(path) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ReadError(f"mask is {img.width}x{img.height}, larger than {MAX_PIXELS:,} pixels", path)
            mode = img.mode
            if mode not in ("L", "P", "1", "I;16", "I;16B", "I;16L", "I"):
                raise ReadError(f"PNG mode {mode} is not an index mask (RGB masks need a colour map)", path)
            palette = _file_palette(img) if mode == "P" else None
            values = np.array(img)
    except FileNotFoundError:
        raise ReadError("file not found", path) from None
    except ReadError:
        raise
    except (OSError, SyntaxError, ValueError) as exc:
        raise ReadError(f"cannot decode PNG (truncated or corrupt?): {exc}", path) from None
    if values.dtype == bool:
        values = values.astype(np.uint8)
    return values, palette


def _file_palette(img: Image.Image) -> Palette:
    raw = img.getpalette() or []
    colors = np.zeros((256, 3), np.uint8)
    raw = np.asarray(raw[: 256 * 3], np.uint8).reshape(-1, 3)
    colors[: len(raw)] = raw
    entries = {i: PaletteEntry(i, tuple(int(c) for c in colors[i])) for i in range(256)}
    return Palette("file", "palette stored in the PNG", entries)


def _binary_palette() -> Palette:
    fg = builtin_palette("high_contrast").color(1)
    entries = {0: PaletteEntry(0, (0, 0, 0)), 1: PaletteEntry(1, fg), 255: PaletteEntry(255, fg)}
    return Palette("binary", "binary mask", entries)


def _is_voc(palette: Palette) -> bool:
    voc = builtin_palette("voc")
    return all(palette.color(i) == voc.color(i) for i in (*range(21), VOC_VOID))


def _looks_binary(values: np.ndarray) -> bool:
    if values.dtype != np.uint8:
        return False
    counts = np.bincount(values.reshape(-1), minlength=256)
    used = set(np.flatnonzero(counts).tolist())
    return used <= {0, 1} or used <= {0, 255}


def _plte(seg: Segmentation) -> list[int]:
    colors = builtin_palette("voc").colors(256)
    for s in seg.table:
        value = s.value
        if isinstance(value, int) and 0 <= value <= 255:
            colors[value] = s.color
    return colors.reshape(-1).tolist()


FORMAT = FormatSpec(
    name="index-png",
    title="Index mask PNG (8-bit L, palette P, 16-bit grey)",
    extensions=(".png",),
    read=read,
    write=write,
    sniff=sniff,
    priority=10,
    notes="255 = void in VOC palette PNGs; class names from class_names.txt",
)
