"""OpenCV DNN semantic-segmentation score blobs saved as ``.npy`` (``FORMATS.md`` section 4).

``net.forward()`` of a segmentation model gives a float32 blob of shape
(1, C, H, W); OpenCV's ``samples/dnn/segmentation.py`` takes
``np.argmax(score[0], axis=0)`` as the class map: no threshold, no "none"
value, ties go to the lowest class. This module reads such a blob saved with
``np.save`` (also (C, H, W), and (1, H, W, C) / (H, W, C) with
``layout="NHWC"``), keeps the scores as ``class_scores`` and the winning
score as ``confidence``.

Class names and colours, most specific first:

- ``colors=`` option, else ``<stem>.colors.txt`` or ``colors.txt`` beside the
  blob: the sample's ``--colors`` file, one ``B G R`` line per class
  (**BGR**, converted to RGB here);
- ``classes=`` option, else ``<stem>.classes.txt`` or ``classes.txt`` beside
  the blob: OpenCV's ``enet-classes.txt`` (one name per line) or
  ``pascal-classes.txt`` (``name R G B`` lines, **RGB**); without one, the
  usual class-name side files (``class_names.txt`` ...);
- a palette by the number of classes: 21 is Pascal VOC, 20 is OpenCV's ENet
  list (0 = Unlabeled, k = Cityscapes trainId k-1, Cityscapes colours);
  otherwise stable colours.

Writing gives a (1, C, H, W) float32 blob plus ``<stem>.classes.txt`` and
``<stem>.colors.txt`` (usable as the sample's ``--classes``/``--colors``).
The blob holds the segmentation's own scores when their argmax is its label
map; otherwise (no scores, or an edited map) one-hot scores (1.0 for the
pixel's class, 0.0 elsewhere), whose argmax is exactly the label map.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from viewer.core import safe_input
from viewer.core.budget import MAX_CLASSES, check_bytes, check_count, whole_number
from viewer.core.errors import ReadError, WriteError
from viewer.core.fileio import atomic_open
from viewer.core.formats.base import FormatSpec
from viewer.core.formats.common import check_pixels, fit_to_image, load_npy, save_npy
from viewer.core.formats.names import read_names_beside
from viewer.core.palettes import Palette, PaletteEntry, builtin_palette
from viewer.core.segmentation import Kind, Provenance, Segmentation
from viewer.core.types import RGB

NAME = "opencv-blob"
LAYOUTS = ("NCHW", "NHWC")
#: The most channels a written blob may have (one float32 plane per class).
#: OpenCV samples/data/dnn/enet-classes.txt: index 0 Unlabeled, index k = Cityscapes trainId k-1.
ENET_CLASSES = (
    "Unlabeled", "Road", "Sidewalk", "Building", "Wall", "Fence", "Pole", "TrafficLight",
    "TrafficSign", "Vegetation", "Terrain", "Sky", "Person", "Rider", "Car", "Truck", "Bus",
    "Train", "Motorcycle", "Bicycle",
)
VOC_CLASSES = 21
_OPTIONS = frozenset({"layout", "classes", "colors", "names", "image_size"})


# -- reading ---------------------------------------------------------------------
def read(path: str | Path, *, item: str | None = None, **options: Any) -> Segmentation:
    """Read a score blob and take its argmax as OpenCV's sample does.

    Parameters
    ----------
    path : str or Path
        A ``.npy`` of floats, (1, C, H, W) or (C, H, W).
    item : str, optional
        Index in a blob of several images (N, C, H, W); default 0.
    **options
        ``layout`` (``NCHW``, default, or ``NHWC`` for (1, H, W, C)),
        ``classes`` (a class-names file), ``colors`` (a ``B G R`` colours
        file), ``names`` ({class: name}, wins over files), ``image_size``.

    Returns
    -------
    Segmentation
        Values 0..C-1; ``class_scores`` the (C, H, W) scores, ``confidence``
        the winning score (as the model gives it: softmax or logit).
    """
    path = Path(path)
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise ReadError(f"unknown read option(s) {', '.join(unknown)} for {NAME}; it takes "
                        f"{', '.join(sorted(_OPTIONS))}", path)
    layout = _layout(options.get("layout"), path)
    blob = load_npy(path)
    scores = score_planes(blob, layout, item, path)
    class_map = np.argmax(scores, axis=0)
    confidence = np.take_along_axis(scores, class_map[None], axis=0)[0].astype(np.float32)
    names, colors, warnings = class_table(path, scores.shape[0], options)
    nan = int(np.count_nonzero(np.isnan(scores)))
    if nan:
        warnings.append(f"{nan:,} scores are NaN; np.argmax (as in OpenCV's sample) picks the "
                        "first NaN class of a pixel")
    details = {"layout": layout, "classes": int(scores.shape[0]),
               "dtype": str(blob.dtype), "shape": list(blob.shape), "warnings": warnings}
    seg = Segmentation.from_values(
        class_map.astype(np.int32), kind=Kind.SEMANTIC, names=names, palette=colors,
        provenance=Provenance(str(path), NAME, details), confidence=confidence,
        class_scores=_float_scores(scores))
    image_size = options.get("image_size")
    return seg if image_size is None else fit_to_image(seg, image_size, path)


def score_planes(blob: np.ndarray, layout: str, item: str | None, path: Path) -> np.ndarray:
    """Return one image's scores as (C, H, W), checking dtype and shape.

    Raises
    ------
    ReadError
        Not floats, not 3 or 4 dimensions, empty, or ``item`` out of range.
    """
    if not np.issubdtype(blob.dtype, np.floating):
        raise ReadError(f"holds {blob.dtype} values, not float scores (integer label maps are "
                        "read by the label-npy format)", path)
    if blob.ndim == 4:
        blob = blob[_batch_index(item, blob.shape[0], path)]
    elif blob.ndim == 3:
        _batch_index(item, 1, path)
    else:
        raise ReadError(f"a score blob is (1, C, H, W) or (C, H, W); this array has shape "
                        f"{blob.shape}", path)
    scores = blob if layout == "NCHW" else np.moveaxis(blob, -1, 0)
    classes, height, width = scores.shape
    if classes == 0:
        raise ReadError(f"the blob has no classes (shape {blob.shape}, layout {layout})", path)
    check_pixels(width, height, path)
    # The scores are copied and kept as float32 beside an argmax of int64 per pixel.
    check_count(classes, MAX_CLASSES, "classes", path,
                hint=f"is layout {layout} right for shape {blob.shape}?")
    check_bytes(classes * height * width * 4, f"{classes:,} score planes of {width}x{height}",
                path)
    return np.ascontiguousarray(scores)


def _batch_index(item: str | None, count: int, path: Path) -> int:
    if item is None:
        return 0
    index = whole_number(str(item))
    if index is None or index >= count:
        raise ReadError(f"item {item!r} is not an image index of this blob (0..{count - 1})", path)
    return index


def _layout(value: Any, path: Path) -> str:
    if value is None:
        return "NCHW"
    text = str(value).strip().upper()
    if text not in LAYOUTS:
        raise ReadError(f"layout must be NCHW or NHWC, got {value!r}", path)
    return text


def _float_scores(scores: np.ndarray) -> np.ndarray:
    # Segmentation keeps float16/float32; wider floats are narrowed once, here.
    return scores if scores.dtype in (np.float16, np.float32) else scores.astype(np.float32)


# -- class names and colours -----------------------------------------------------------
def class_table(path: Path, classes: int, options: dict[str, Any]
                ) -> tuple[dict[int, str], Palette | None, list[str]]:
    """Names and a palette for ``classes`` classes from options, side files or the class count.

    Returns
    -------
    names : dict of int to str
    palette : Palette or None
        None means stable colours.
    warnings : list of str
    """
    warnings: list[str] = []
    base = _palette_for(classes)
    names = {i: e.name for i, e in (base.entries.items() if base else ()) if e.name}
    colors = {i: e.color for i, e in (base.entries.items() if base else ())}
    classes_file = _option_file(options.get("classes"), path) or _beside(path, "classes.txt")
    if classes_file is not None:
        file_names, file_colors = read_class_file(classes_file)
        names.update(file_names)
        colors.update(file_colors)
        warnings += _count_warning(classes_file, len(_lines(classes_file)), classes, "names")
    else:
        names.update(read_names_beside(path))
    colors_file = _option_file(options.get("colors"), path) or _beside(path, "colors.txt")
    if colors_file is not None:
        file_colors = read_colors_file(colors_file)
        colors.update(file_colors)
        warnings += _count_warning(colors_file, len(file_colors), classes, "colours")
    names.update(_names_option(options.get("names"), path))
    if not colors:
        return names, None, warnings
    entries = {i: PaletteEntry(i, color, names.get(i)) for i, color in colors.items()}
    return names, Palette("opencv", "OpenCV DNN classes", entries), warnings


def _palette_for(classes: int) -> Palette | None:
    if classes == VOC_CLASSES:
        return builtin_palette("voc")
    if classes == len(ENET_CLASSES):
        return enet_palette()
    return None


def enet_palette() -> Palette:
    """OpenCV's ENet classes in Cityscapes colours by trainId (0 = Unlabeled, black)."""
    by_train_id: dict[int, RGB] = {}
    for entry in sorted(builtin_palette("cityscapes").entries.values(), key=lambda e: e.id):
        train_id = entry.attributes.get("trainId")
        if isinstance(train_id, int) and 0 <= train_id < 255:
            by_train_id.setdefault(train_id, entry.color)
    entries = {0: PaletteEntry(0, (0, 0, 0), ENET_CLASSES[0])}
    for index, name in enumerate(ENET_CLASSES[1:], start=1):
        entries[index] = PaletteEntry(index, by_train_id[index - 1], name)
    return Palette("enet", "OpenCV ENet (Cityscapes trainIds + 1)", entries,
                   provenance="opencv samples/data/dnn/enet-classes.txt; colours from the "
                              "Cityscapes label table by trainId")


def _option_file(value: Any, path: Path) -> Path | None:
    if value is None:
        return None
    found = Path(value)
    if not found.is_file():
        raise ReadError(f"the classes/colours file {found} does not exist", path)
    return found


def _beside(path: Path, suffix: str) -> Path | None:
    for candidate in (path.with_name(f"{path.stem}.{suffix}"), path.with_name(suffix)):
        if candidate.is_file():
            return candidate
    return None


def _lines(path: Path) -> list[str]:
    """The lines as OpenCV's sample reads them: trailing newlines dropped, line i = class i."""
    try:
        text = safe_input.read_text(path, what="class list")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReadError(f"cannot read: {exc}", path) from None
    return text.rstrip("\r\n").splitlines() if text.strip() else []


def read_class_file(path: Path) -> tuple[dict[int, str], dict[int, RGB]]:
    """Parse ``enet-classes.txt`` (names) or ``pascal-classes.txt`` (``name R G B``, RGB).

    Returns ``({class: name}, {class: RGB})``; the colours are empty for a
    names-only file.
    """
    names: dict[int, str] = {}
    colors: dict[int, RGB] = {}
    for index, line in enumerate(_lines(path)):
        tokens = line.split()
        if len(tokens) >= 4 and all(_is_byte(t) for t in tokens[-3:]):
            names[index] = " ".join(tokens[:-3])
            colors[index] = tuple(int(t) for t in tokens[-3:])
        elif line.strip():
            names[index] = line.strip()
    return names, colors


def read_colors_file(path: Path) -> dict[int, RGB]:
    """Parse a ``--colors`` file: one ``B G R`` line per class, returned as RGB.

    Raises
    ------
    ReadError
        A line that is not three integers 0..255, naming the line.
    """
    colors: dict[int, RGB] = {}
    for index, line in enumerate(_lines(path)):
        tokens = line.replace(",", " ").split()
        if len(tokens) != 3 or not all(_is_byte(t) for t in tokens):
            raise ReadError(f"line {index + 1}: expected three integers 'B G R' in 0..255, "
                            f"got {line!r}", path)
        blue, green, red = (int(t) for t in tokens)
        colors[index] = (red, green, blue)
    return colors


def _is_byte(token: str) -> bool:
    value = whole_number(token)
    return value is not None and value <= 255


def _count_warning(path: Path, found: int, classes: int, what: str) -> list[str]:
    if found == classes:
        return []
    return [f"{path.name} lists {found} {what} for the blob's {classes} classes"]


def _names_option(value: Any, path: Path) -> dict[int, str]:
    if not value:
        return {}
    if not isinstance(value, dict):
        raise ReadError(f"names must map classes to names, got {type(value).__name__}", path)
    try:
        return {int(k): str(v) for k, v in value.items()}
    except (TypeError, ValueError):
        raise ReadError("names keys must be class numbers", path) from None


def items(path: Path) -> list[str]:
    """Image indices of a blob of several images (N, C, H, W); [] for one."""
    try:
        shape, _dtype = safe_input.npy_header(path)
    except (OSError, ValueError, EOFError) as exc:
        raise ReadError(f"not a valid numpy file: {exc}", path) from None
    count = shape[0] if len(shape) == 4 else 1
    return [str(i) for i in range(count)] if count > 1 else []


def sniff(path: Path) -> bool:
    """True for a ``.npy`` whose header says floats in 3 or 4 dimensions (data not read)."""
    try:
        shape, dtype = safe_input.npy_header(path)
    except (OSError, ValueError, EOFError, ReadError):
        return False
    return np.issubdtype(dtype, np.floating) and len(shape) in (3, 4)


# -- writing -------------------------------------------------------------------
def write(seg: Segmentation, path: str | Path, **_options: Any) -> list[Path]:
    """Write a (1, C, H, W) float32 blob and its ``.classes.txt`` / ``.colors.txt``.

    The segmentation's ``class_scores`` are written when their argmax is the
    label map; otherwise one-hot scores of the label map (see the module
    docstring), so that reading gives back the same classes.

    Raises
    ------
    WriteError
        When a class value is negative (a score blob has no "none" class) or
        there are more than ``MAX_CLASSES`` classes.
    """
    path = Path(path)
    if path.suffix.lower() != ".npy":
        path = path.with_suffix(".npy")
    values = _class_values(seg, path)
    scores = _scores_to_write(seg, values)
    files = [save_npy(path, scores[None])]
    classes = scores.shape[0]
    labels, colors = _names_and_colors(seg, classes)
    files.append(_write_lines(path.with_name(f"{path.stem}.classes.txt"), labels))
    files.append(_write_lines(path.with_name(f"{path.stem}.colors.txt"),
                              [f"{b} {g} {r}" for r, g, b in colors]))
    return files


def _class_values(seg: Segmentation, path: Path) -> np.ndarray:
    problem = _value_problem(seg)
    if problem:
        raise WriteError(problem, path)
    return seg.to_values(np.int64)


def _value_problem(seg: Segmentation) -> str | None:
    values = [s.value for s in seg.table if isinstance(s.value, int) and s.area]
    if not values:
        return None
    if min(values) < 0:
        negative = sorted({v for v in values if v < 0})
        return (f"values {negative} cannot be written: a score blob's classes are 0..C-1, "
                "with no 'none' class")
    if max(values) >= MAX_CLASSES:
        return (f"value {max(values)} would need {max(values) + 1} score planes, more than "
                f"the {MAX_CLASSES} this writer makes")
    return None


def _scores_to_write(seg: Segmentation, values: np.ndarray) -> np.ndarray:
    """The segmentation's scores when they agree with the label map, else one-hot scores."""
    if _scores_agree(seg, values):
        return np.asarray(seg.class_scores, np.float32)
    top = int(values.max()) if values.size else 0
    classes = max(top + 1, 0 if seg.class_scores is None else seg.class_scores.shape[0])
    return (values[None] == np.arange(classes)[:, None, None]).astype(np.float32)


def _scores_agree(seg: Segmentation, values: np.ndarray) -> bool:
    scores = seg.class_scores
    if scores is None or (values.size and int(values.max()) >= scores.shape[0]):
        return False
    # Compare in float32, the dtype written, so that reading gives this argmax back.
    return bool(np.array_equal(np.argmax(np.asarray(scores, np.float32), axis=0), values))


def _names_and_colors(seg: Segmentation, classes: int) -> tuple[list[str], list[RGB]]:
    by_value = {s.value: s for s in seg.table if isinstance(s.value, int)}
    fallback = _palette_for(classes)
    labels, colors = [], []
    for c in range(classes):
        segment = by_value.get(c)
        if segment is not None:
            label, color = segment.label, segment.color
        else:  # a class no pixel has: the name and colour the blob's class count implies
            label = (fallback.name_of(c) if fallback else None) or ""
            color = fallback.color(c) if fallback else builtin_palette("voc").color(c)
        # A newline inside a name would shift every following class by one line.
        labels.append(" ".join(label.split()))
        colors.append(color)
    return labels, colors


def _write_lines(path: Path, lines: list[str]) -> Path:
    with atomic_open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def losses(seg: Segmentation) -> list[str]:
    """What a score blob cannot hold: negative values, too many classes, edited scores."""
    problem = _value_problem(seg)
    if problem:
        return [problem]
    lost = []
    keyed = sum(1 for s in seg.table if not isinstance(s.value, int))
    if keyed:
        lost.append(f"{keyed} segments keyed by colour are written as classes by segment id")
    if seg.class_scores is not None and not _scores_agree(seg, seg.to_values(np.int64)):
        lost.append("the per-class scores disagree with the (edited?) label map, so one-hot "
                    "scores of the label map are written instead of them")
    elif seg.class_scores is None and seg.confidence is not None:
        lost.append("per-pixel confidence is not written (one-hot scores give 1.0 everywhere)")
    return lost


FORMAT = FormatSpec(
    name=NAME,
    title="OpenCV DNN score blob .npy (1, C, H, W) float",
    extensions=(".npy",),
    read=read,
    write=write,
    sniff=sniff,
    priority=10,
    lossless=True,
    notes="argmax over C (ties -> lowest class); scores and confidence kept; --colors files "
          "are B G R; writes scores (or one-hot) + .classes.txt/.colors.txt",
    losses=losses,
    items=items,
)
FORMATS = (FORMAT,)
