"""NVIDIA DeepStream (nvinfer) segmentation output: raw tensor dumps and the sample app's JPEGs.

Two formats (``FORMATS.md`` section 1):

``deepstream-bin``
    Files written by nvinfer's ``raw-output-file-write=1``,
    ``gstnvdsinfer_uid-XX_layer-NAME_batch-NNNNNNNNNN_batchsize-NN.bin``: the
    raw output layer of a whole batch, no header, little-endian,
    ``batchsize x C x H x W`` elements (NCHW) or ``batchsize x H x W x C``
    (NHWC). The file cannot describe itself, so ``classes``, ``height``,
    ``width``, ``dtype`` and ``order`` come from read options or from a JSON
    sidecar ``<file>.json`` beside it. Float dumps are the network's scores
    and are turned into a class map with nvinfer's own rule (see
    :func:`nvinfer_argmax`); int32 dumps are class maps already (a model that
    ends in ArgMax, or a file this module wrote). Writing gives an int32 class
    map plus the sidecar, which reads back exactly (-1 included). nvinfer's
    own parser reads the layer buffer as 32-bit floats; a float16 dump (a HALF
    output layer) is widened to float32 exactly before the rule is applied.

``deepstream-jpeg``
    ``<frame_number>.jpg`` files written by the Python sample app
    ``deepstream_segmentation.py`` (or a folder of them): each class painted
    with the sample's 14 BGR ``COLORS`` and JPEG-compressed. Every pixel is
    snapped to the nearest sample colour; the result is lossy, so the format
    is read-only. Class -1 is painted like class 13 (Python's ``COLORS[-1]``)
    and the two cannot be told apart.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from viewer.core import safe_input
from viewer.core.budget import MAX_CLASSES, check_bytes, check_count, whole_number
from viewer.core.errors import ReadError, WriteError
from viewer.core.fileio import atomic_open
from viewer.core.formats.base import FormatSpec
from viewer.core.formats.common import (
    check_pixels,
    dump_json,
    fit_to_image,
    load_json,
    open_raster,
)
from viewer.core.palettes import Palette, builtin_palette
from viewer.core.segmentation import Kind, Provenance, Segmentation
from viewer.core.types import RGB

BIN_NAME = "deepstream-bin"
JPEG_NAME = "deepstream-jpeg"

NO_CLASS = -1
NO_CLASS_LABEL = "no class above threshold"
#: nvinfer starts every pixel's running maximum at -1 (``float max_prob = -1``).
NVINFER_START = np.float32(-1.0)

#: Layer data types a dump may hold, as little-endian numpy dtypes.
DTYPES = {"float32": np.dtype("<f4"), "float16": np.dtype("<f2"), "int32": np.dtype("<i4")}
ORDERS = ("NCHW", "NHWC")
DUMP_FILE = re.compile(r"^gstnvdsinfer_uid-(\d+)_layer-(.+)_batch-(\d+)_batchsize-(\d+)\.bin$")
SIDECAR_SUFFIX = ".json"
SETTING_KEYS = ("classes", "height", "width", "dtype", "order", "threshold", "batch", "batch_size")

#: The sample app writes ``<frame_number>.jpg``.
FRAME_FILE = re.compile(r"^(\d+)\.jpe?g$", re.IGNORECASE)
SAMPLE_CLASSES = 14
SHARED_COLOR_CLASS = 13  # COLORS[13] is also COLORS[-1]
#: RGB distance within which a JPEG pixel is taken as its nearest sample colour for
#: sure. The 14 colours are at least 64 apart, so inside 24 no other colour is nearer
#: than 40; beyond it the pixel is an edge mix or ringing and counted as ambiguous.
JPEG_TOLERANCE = 24.0
#: Share of pixels near a sample colour above which a JPEG is taken for a sample-app output.
SNIFF_SHARE = 0.8
#: Longest side the sniffer decodes at (JPEG DCT scaling above it).
SNIFF_SIDE = 512


# -- the nvinfer rule -------------------------------------------------------------
def nvinfer_argmax(scores: np.ndarray, threshold: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Turn (C, H, W) scores into nvinfer's class map, exactly as nvinfer does.

    ``SegmentPostprocessor::fillSegmentationOutput`` (DeepStream SDK) runs, per
    pixel, ``cls = -1; max_prob = -1; for c: if p(c) > max_prob and p(c) >
    threshold: cls = c; max_prob = p(c)`` in 32-bit floats. So a class wins
    only when its score is strictly above both the threshold and -1 (the
    initial ``max_prob``: with logits and a threshold below -1, scores <= -1
    never win), ties keep the lower class, NaN never wins (every comparison
    with NaN is false) and a pixel where nothing wins is -1. That is the first
    maximum over the classes whose score passes both bounds, which is what is
    computed here, vectorised, in O(C*H*W).

    Parameters
    ----------
    scores : ndarray of shape (C, H, W), float
        Raw output of the network (probabilities or logits); float16 is
        widened to float32 exactly.
    threshold : float
        nvinfer's ``segmentation-threshold``, compared as a 32-bit float.

    Returns
    -------
    class_map : ndarray of shape (H, W), int32
        Values -1..C-1.
    confidence : ndarray of shape (H, W), float32
        The winning score; where no class won, the highest score that failed
        the bounds (NaN where every score is NaN).
    """
    scores = np.asarray(scores, dtype=np.float32)
    passes = (scores > NVINFER_START) & (scores > np.float32(threshold))
    # Failing scores become -inf, below any passing one (those are > -1), so the first
    # maximum is nvinfer's winner; the strict '>' in its loop keeps the lower class on ties.
    winner = np.where(passes, scores, np.float32(-np.inf)).argmax(axis=0)
    class_map = np.where(passes.any(axis=0), winner, NO_CLASS).astype(np.int32)
    # Where a class won, its score is the largest non-NaN score (the ones that failed are
    # <= max(threshold, -1) < winner), so one NaN-ignoring maximum serves every pixel.
    confidence = np.fmax.reduce(scores, axis=0).astype(np.float32)
    return class_map, confidence


# -- raw dumps: settings ---------------------------------------------------------------
@dataclass(frozen=True)
class DumpLayout:
    """The settings that decode one raw dump (from options, the sidecar and the file name)."""

    height: int
    width: int
    dtype: str
    order: str
    threshold: float
    batch: int
    classes: int | None = None
    batch_size: int | None = None
    names: dict[int, str] = field(default_factory=dict)
    colors: dict[int, RGB] = field(default_factory=dict)
    assumed: tuple[str, ...] = ()

    @property
    def channels(self) -> int:
        """Elements per pixel in the file: 1 for an int32 class map, C for scores."""
        return 1 if self.dtype == "int32" else int(self.classes or 0)

    @property
    def frame_bytes(self) -> int:
        """Bytes of one batch item."""
        return self.channels * self.height * self.width * DTYPES[self.dtype].itemsize


def sidecar_of(path: Path) -> Path:
    """Return the JSON sidecar path of a dump: ``<file>.json``."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def dump_layout(path: str | Path, options: dict[str, Any] | None = None,
                item: str | None = None) -> DumpLayout:
    """Collect a dump's settings from its sidecar, its file name and ``options``.

    Options win over the sidecar; the batch size comes from the options, the
    sidecar or the nvinfer file name (``batchsize-NN``), in that order.

    Raises
    ------
    ReadError
        A required setting is missing or a value is invalid; the error names
        the file the bad value came from (the dump or its sidecar).
    """
    path = Path(path)
    found, extra = _gathered_settings(path, options or {})
    missing = [key for key in ("height", "width") if key not in found]
    dtype = _choice(*found.get("dtype", ("float32", path)), DTYPES, "dtype")
    if dtype != "int32" and "classes" not in found:
        missing.insert(0, "classes")
    if missing:
        raise ReadError(
            f"a raw nvinfer dump has no header; give {', '.join(missing)} as read options or in "
            f"a JSON sidecar {sidecar_of(path).name} beside it, e.g. {{\"classes\": 4, "
            "\"height\": 512, \"width\": 512, \"dtype\": \"float32\", \"order\": \"NCHW\", "
            "\"threshold\": 0.0}", path)
    from_name = DUMP_FILE.match(path.name)
    batch_size = _int_setting(found, "batch_size", minimum=1)
    if batch_size is None and from_name:
        batch_size = int(from_name.group(4)) or None
    batch = _int_setting(found, "batch", minimum=0) or 0
    if item is not None:
        batch = _int_value(item, "item (batch index)", path, minimum=0)
    return DumpLayout(
        height=_int_setting(found, "height", minimum=1),
        width=_int_setting(found, "width", minimum=1),
        dtype=dtype, order=_choice(*found.get("order", ("NCHW", path)), ORDERS, "order"),
        threshold=_float_setting(found, "threshold", 0.0), batch=batch,
        classes=_int_setting(found, "classes", minimum=1), batch_size=batch_size,
        names={**_names_setting(extra), **_names_setting(extra, "option_names")},
        colors=_colors_setting(extra),
        assumed=tuple(key for key in ("dtype", "order") if key not in found
                      and not (key == "order" and dtype == "int32")))


def _gathered_settings(path: Path, options: dict[str, Any]
                       ) -> tuple[dict[str, tuple[Any, Path]], dict[str, tuple[Any, Path]]]:
    """Settings as ``{key: (value, file it came from)}``, plus names and colours."""
    found: dict[str, tuple[Any, Path]] = {}
    extra: dict[str, tuple[Any, Path]] = {}
    sidecar = sidecar_of(path)
    if sidecar.is_file():
        data = load_json(sidecar, finite_only=False)  # each setting is checked, naming it
        if not isinstance(data, dict):
            raise ReadError(f"expected a JSON object of dump settings, found {type(data).__name__}",
                            sidecar)
        found.update({k: (data[k], sidecar) for k in SETTING_KEYS if data.get(k) is not None})
        extra.update({k: (data[k], sidecar) for k in ("names", "colors") if data.get(k)})
    found.update({k: (options[k], path) for k in SETTING_KEYS if options.get(k) is not None})
    if options.get("names"):
        extra["option_names"] = (options["names"], path)
    return found, extra


def _int_value(value: Any, key: str, source: Path, minimum: int) -> int:
    if isinstance(value, str) and whole_number(value, signed=True) is not None:
        value = whole_number(value, signed=True)
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        need = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ReadError(f"{key} must be {need}, got {value!r}", source)
    return int(value)


def _int_setting(found: dict[str, tuple[Any, Path]], key: str, minimum: int) -> int | None:
    if key not in found:
        return None
    value, source = found[key]
    return _int_value(value, key, source, minimum)


def _float_setting(found: dict[str, tuple[Any, Path]], key: str, default: float) -> float:
    if key not in found:
        return default
    value, source = found[key]
    try:
        if isinstance(value, bool):
            raise TypeError
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ReadError(f"{key} must be a number, got {value!r}", source) from None
    if not math.isfinite(number):
        raise ReadError(f"{key} must be a finite number, got {value!r}", source)
    return number


def _choice(value: Any, source: Path, allowed, key: str) -> str:
    text = str(value).strip()
    for choice in allowed:
        if text.lower() == choice.lower():
            return choice
    raise ReadError(f"{key} must be one of {', '.join(allowed)}, got {value!r}", source)


def _names_setting(extra: dict[str, tuple[Any, Path]], key: str = "names") -> dict[int, str]:
    if key not in extra:
        return {}
    raw, source = extra[key]
    if isinstance(raw, list):
        raw = dict(enumerate(raw))
    if not isinstance(raw, dict):
        raise ReadError(f"names must map class values to names, got {type(raw).__name__}", source)
    return {_int_value(k, "a names key", source, minimum=NO_CLASS): str(v)
            for k, v in raw.items() if v is not None and str(v)}


def _colors_setting(extra: dict[str, tuple[Any, Path]]) -> dict[int, RGB]:
    if "colors" not in extra:
        return {}
    raw, source = extra["colors"]
    if not isinstance(raw, dict):
        raise ReadError(f"colors must map class values to [R, G, B], got {type(raw).__name__}",
                        source)
    colors = {}
    for key, color in raw.items():
        if (not isinstance(color, list) or len(color) != 3
                or not all(isinstance(c, int) and 0 <= c <= 255 for c in color)):
            raise ReadError(f"colour of class {key} must be [R, G, B] in 0..255, got {color!r}",
                            source)
        colors[_int_value(key, "a colors key", source, minimum=NO_CLASS)] = tuple(color)
    return colors


# -- raw dumps: reading -------------------------------------------------------------
_BIN_OPTIONS = frozenset({*SETTING_KEYS, "names", "image_size"})


def read_bin(path: str | Path, *, item: str | None = None, **options: Any) -> Segmentation:
    """Read an nvinfer raw output dump (``raw-output-file-write``).

    Parameters
    ----------
    path : str or Path
        The ``.bin`` file.
    item : str, optional
        Batch index inside the dump ("0" .. batch size - 1); default 0.
    **options
        ``classes`` (C, required for float dumps), ``height``, ``width``
        (required), ``dtype`` (``float32``, default; ``float16``; ``int32``
        for a class map), ``order`` (``NCHW``, nvinfer's default; ``NHWC``),
        ``threshold`` (``segmentation-threshold``, default 0.0), ``batch``
        (same as ``item``), ``batch_size`` (default: from the file name, else
        the file size), ``names`` ({value: name}), ``image_size``. Any of the
        settings may come from a sidecar ``<file>.json`` instead (options win);
        the sidecar may also hold ``names`` and ``colors`` ({value: [R, G, B]}).

    Returns
    -------
    Segmentation
        Values -1..C-1; -1 ("no class above threshold") is a void, hidden
        segment. For float dumps ``class_scores`` holds the (C, H, W) raw
        scores and ``confidence`` the winning raw score (logits stay logits).
    """
    path = Path(path)
    _reject_unknown(options, _BIN_OPTIONS, BIN_NAME, path)
    layout = dump_layout(path, options, item)
    check_pixels(layout.width, layout.height, path)
    _check_class_budget(layout, path)
    batch_size = _batch_size(path, layout)
    raw = _read_frame(path, layout, batch_size)
    details: dict[str, Any] = {"dtype": layout.dtype, "order": layout.order,
                               "height": layout.height, "width": layout.width,
                               "classes": layout.classes, "batch": layout.batch,
                               "batch_size": batch_size, **_name_details(path)}
    warnings = _assumed_warnings(layout)
    if layout.dtype == "int32":
        values, scores, confidence = raw.reshape(layout.height, layout.width), None, None
        warnings += _range_warnings(values, layout.classes)
    else:
        scores = _chw(raw, layout).astype(np.float32)
        values, confidence = nvinfer_argmax(scores, layout.threshold)
        warnings += _score_warnings(scores, layout.threshold)
        details["threshold"] = layout.threshold
        details["scores"] = ("raw network output as the model emits it (probabilities or "
                             "logits); confidence is the winning raw score, not rescaled")
    details["warnings"] = warnings
    seg = _class_map_segmentation(values, layout.names, layout.colors, details, path,
                                  confidence=confidence, class_scores=scores)
    return _fitted(seg, options.get("image_size"), path)


def _check_class_budget(layout: DumpLayout, path: Path) -> None:
    """Refuse declared classes whose float32 score planes would not fit the budget."""
    if layout.dtype == "int32" or layout.classes is None:
        return
    source = sidecar_of(path) if sidecar_of(path).is_file() else path
    check_count(layout.classes, MAX_CLASSES, "classes", source)
    check_bytes(layout.classes * layout.height * layout.width * 4,
                f"{layout.classes:,} score planes of {layout.width}x{layout.height}", path)


def _read_frame(path: Path, layout: DumpLayout, batch_size: int) -> np.ndarray:
    """Return one batch item's elements (the file size is already checked)."""
    if layout.batch >= batch_size:
        raise ReadError(f"batch index {layout.batch} is out of range: the dump holds "
                        f"{batch_size} item(s)", path)
    count = layout.frame_bytes // DTYPES[layout.dtype].itemsize
    try:
        return np.fromfile(path, dtype=DTYPES[layout.dtype], count=count,
                           offset=layout.batch * layout.frame_bytes)
    except (OSError, ValueError) as exc:
        raise ReadError(f"cannot read the dump: {exc}", path) from None


def _assumed_warnings(layout: DumpLayout) -> list[str]:
    if not layout.assumed:
        return []
    given = ", ".join(f"{key} {getattr(layout, key)}" for key in layout.assumed)
    return [f"{' and '.join(layout.assumed)} not given: assumed {given} (nvinfer's defaults)"]


def _batch_size(path: Path, layout: DumpLayout) -> int:
    """The number of items in the dump; raise when the size does not add up."""
    size = _file_size(path)
    if size == 0:
        raise ReadError("file is empty (0 bytes): not an nvinfer dump", path)
    frame = layout.frame_bytes
    shape = (f"{layout.channels} x {layout.height} x {layout.width} x "
             f"{DTYPES[layout.dtype].itemsize} bytes ({layout.dtype}"
             f"{', a class map' if layout.dtype == 'int32' else ''})")
    if layout.batch_size is not None:
        expected = layout.batch_size * frame
        if size != expected:
            raise ReadError(f"file is {size:,} bytes but {layout.batch_size} x {shape} = "
                            f"{expected:,} bytes were expected; check classes, height, width, "
                            "dtype and batch size", path)
        return layout.batch_size
    if size % frame:
        raise ReadError(f"file is {size:,} bytes, not a whole number of items of {shape} = "
                        f"{frame:,} bytes; check classes, height, width and dtype", path)
    return size // frame


def _file_size(path: Path) -> int:
    try:
        if path.is_dir():
            raise ReadError("is a folder, not an nvinfer dump", path)
        return path.stat().st_size
    except FileNotFoundError:
        raise ReadError("file not found", path) from None
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}", path) from None


def _chw(raw: np.ndarray, layout: DumpLayout) -> np.ndarray:
    """Arrange one item's scores as (C, H, W), whatever the tensor order."""
    c, h, w = layout.channels, layout.height, layout.width
    if layout.order == "NCHW":
        return raw.reshape(c, h, w)
    # NHWC: element (y, x, c) sits at C*(y*W + x) + c.
    return np.ascontiguousarray(raw.reshape(h, w, c).transpose(2, 0, 1))


def _name_details(path: Path) -> dict[str, Any]:
    match = DUMP_FILE.match(path.name)
    if not match:
        return {}
    return {"uid": int(match.group(1)), "layer": match.group(2),
            "batch_number": int(match.group(3))}


def _range_warnings(values: np.ndarray, classes: int | None) -> list[str]:
    if classes is None or not values.size:
        return []
    outside = int(np.count_nonzero((values < NO_CLASS) | (values >= classes)))
    if not outside:
        return []
    return [f"{outside:,} pixels hold values outside -1..{classes - 1} (classes = {classes}); "
            "they are kept as they are"]


def _score_warnings(scores: np.ndarray, threshold: float) -> list[str]:
    warnings = []
    nan = int(np.count_nonzero(np.isnan(scores)))
    if nan:
        warnings.append(f"{nan:,} scores are NaN; as in nvinfer, a NaN score never wins")
    if threshold < -1:
        warnings.append(f"threshold {threshold} is below -1, but nvinfer starts its running "
                        "maximum at -1, so scores of -1 or less never win")
    return warnings


def _class_map_segmentation(values: np.ndarray, names: dict[int, str], colors: dict[int, RGB],
                            details: dict[str, Any], path: Path, *, fmt: str = BIN_NAME,
                            hidden: tuple[int, ...] = (NO_CLASS,), **planes: Any
                            ) -> Segmentation:
    """Build the segmentation of a DeepStream class map (-1 void, default names and colours)."""
    labels = {NO_CLASS: NO_CLASS_LABEL, **names}

    def describe(value: int) -> dict[str, Any]:
        # Unnamed classes are "class N": nvinfer classes have no names, and class 0 is not
        # background (in the industrial sample -1 is the background, 0 the defect).
        fields: dict[str, Any] = {"label": labels.get(value, f"class {value}")}
        if value in colors:
            fields["color"] = colors[value]
        return fields

    return Segmentation.from_values(
        values, kind=Kind.SEMANTIC, palette=_sample_palette(), void_values=(NO_CLASS,),
        hidden_values=hidden, describe=describe,
        provenance=Provenance(str(path), fmt, details), **planes)


def _sample_palette() -> Palette:
    return builtin_palette("deepstream_sample")


def _fitted(seg: Segmentation, image_size: Any, path: Path) -> Segmentation:
    return seg if image_size is None else fit_to_image(seg, image_size, path)


def _reject_unknown(options: dict[str, Any], known: frozenset[str], fmt: str, path: Path) -> None:
    unknown = sorted(set(options) - known)
    if unknown:
        raise ReadError(f"unknown read option(s) {', '.join(unknown)} for {fmt}; it takes "
                        f"{', '.join(sorted(known))}", path)


def bin_items(path: Path) -> list[str]:
    """Batch indices of a dump holding more than one item ([] for one)."""
    path = Path(path)
    match = DUMP_FILE.match(path.name)
    if sidecar_of(path).is_file():
        try:
            count = _batch_size(path, dump_layout(path))
        except ReadError:
            count = int(match.group(4)) if match else 1
    else:
        count = int(match.group(4)) if match else 1
    return [str(i) for i in range(count)] if count > 1 else []


def sniff_bin(path: Path) -> bool:
    """True for nvinfer's dump file names and for ``.bin`` files with a sidecar."""
    return bool(DUMP_FILE.match(path.name)) or sidecar_of(path).is_file()


# -- raw dumps: writing --------------------------------------------------------------
def write_bin(seg: Segmentation, path: str | Path, **_options: Any) -> list[Path]:
    """Write the class map as a raw little-endian int32 dump plus its JSON sidecar.

    The sidecar ``<file>.json`` holds height, width, dtype ``int32``, order,
    classes, threshold and the names and colours by value, so that
    :func:`read_bin` reads the file back exactly (-1 included).

    Raises
    ------
    WriteError
        When a value does not fit int32.
    """
    path = Path(path)
    if path.suffix.lower() != ".bin":
        path = path.with_suffix(".bin")
    values = seg.to_values(np.int64)
    info = np.iinfo(np.int32)
    if values.size and (values.min() < info.min or values.max() > info.max):
        raise WriteError(f"values {values.min()}..{values.max()} do not fit int32", path)
    with atomic_open(path) as handle:
        handle.write(values.astype("<i4").tobytes())
    sidecar = dump_json(sidecar_of(path), _sidecar_document(seg, values))
    return [path, sidecar]


def _sidecar_document(seg: Segmentation, values: np.ndarray) -> dict[str, Any]:
    details = seg.provenance.details if seg.provenance.format == BIN_NAME else {}
    top = int(values.max()) if values.size else 0
    classes = max(top + 1, 1, int(details.get("classes") or 0))
    ints = [s for s in seg.table if isinstance(s.value, int)]
    return {
        "format": "segview-deepstream-bin",
        "classes": classes,
        "height": seg.height,
        "width": seg.width,
        "dtype": "int32",
        "order": "NCHW",
        "threshold": float(details.get("threshold", 0.0)),
        "batch_size": 1,
        "names": {str(s.value): s.label for s in ints if s.label},
        "colors": {str(s.value): list(s.color) for s in ints},
    }


def bin_losses(seg: Segmentation) -> list[str]:
    """What an int32 dump cannot hold: scores, confidence, values beyond int32, colour keys."""
    lost = []
    if seg.class_scores is not None or seg.confidence is not None:
        lost.append("per-class scores and per-pixel confidence are not written (the dump holds "
                    "the int32 class map)")
    ints = [s.value for s in seg.table if isinstance(s.value, int)]
    if ints and (min(ints) < -(2**31) or max(ints) >= 2**31):
        lost.append(f"values {min(ints)}..{max(ints)} do not fit int32")
    keyed = sum(1 for s in seg.table if not isinstance(s.value, int))
    if keyed:
        lost.append(f"{keyed} segments keyed by colour are written by their segment ids")
    return lost


# -- sample-app JPEGs --------------------------------------------------------------
_JPEG_OPTIONS = frozenset({"tolerance", "names", "image_size"})


def read_jpeg(path: str | Path, *, item: str | None = None, **options: Any) -> Segmentation:
    """Read a JPEG written by the DeepStream segmentation sample, snapping colours.

    Parameters
    ----------
    path : str or Path
        One ``<frame>.jpg`` or the sample's output folder of them.
    item : str, optional
        The frame number to read from a folder (see :func:`jpeg_items`);
        default the first.
    **options
        ``tolerance`` (RGB distance, default 24: pixels farther than this from
        every sample colour are counted as ambiguous; they still get the
        nearest colour's class), ``names`` ({class: name}), ``image_size``.

    Returns
    -------
    Segmentation
        Classes 0..13; class 13 also stands for -1 (same colour in the sample).
        ``details["ambiguous_pixels"]`` counts the ambiguous pixels.
    """
    path = Path(path)
    _reject_unknown(options, _JPEG_OPTIONS, JPEG_NAME, path)
    frame = _frame_file(path, item)
    tolerance = _tolerance(options, path)
    pixels = np.asarray(open_raster(frame).convert("RGB"), np.uint8)
    values, distance = snap_to_colors(pixels, _sample_palette().colors(SAMPLE_CLASSES))
    ambiguous = int(np.count_nonzero(distance > tolerance * tolerance))
    details = {"frame": frame.stem, "tolerance": tolerance, "ambiguous_pixels": ambiguous,
               "warnings": _jpeg_warnings(values, ambiguous, tolerance)}
    names = {c: f"class {c}" for c in range(SAMPLE_CLASSES)}
    names[SHARED_COLOR_CLASS] = f"class {SHARED_COLOR_CLASS} or no class (-1)"
    if options.get("names"):
        names.update(_names_setting({"names": (options["names"], path)}))
    seg = _class_map_segmentation(values, names, {}, details, frame, fmt=JPEG_NAME, hidden=())
    return _fitted(seg, options.get("image_size"), frame)


def _tolerance(options: dict[str, Any], path: Path) -> float:
    if options.get("tolerance") is None:
        return JPEG_TOLERANCE
    tolerance = _float_setting({"tolerance": (options["tolerance"], path)}, "tolerance", 0.0)
    if not tolerance >= 0:
        raise ReadError(f"tolerance must be a distance >= 0, got {options['tolerance']!r}", path)
    return tolerance


def snap_to_colors(pixels: np.ndarray, colors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Give every pixel the index of its nearest colour (squared RGB distance).

    Loops over the K colours (14), not over pixels, keeping the running nearest,
    so memory stays O(H*W) however large the image. Ties keep the lower index.

    Returns
    -------
    index : ndarray of shape (H, W), uint8
    distance : ndarray of shape (H, W), int32
        Squared distance to the nearest colour.
    """
    planes = [pixels[..., k].astype(np.int32) for k in range(3)]
    best = np.full(pixels.shape[:2], np.iinfo(np.int32).max, np.int32)
    index = np.zeros(pixels.shape[:2], np.uint8)
    for k, color in enumerate(np.asarray(colors, np.int32)):
        dist = sum((plane - int(c)) ** 2 for plane, c in zip(planes, color, strict=True))
        nearer = dist < best
        best[nearer] = dist[nearer]
        index[nearer] = k
    return index, best


def _jpeg_warnings(values: np.ndarray, ambiguous: int, tolerance: float) -> list[str]:
    total = values.size
    warnings = [
        "sample-app JPEG: classes recovered by snapping every pixel to the nearest of the "
        "sample's 14 colours; JPEG compression makes this lossy",
        f"{ambiguous:,} of {total:,} pixels ({100.0 * ambiguous / max(total, 1):.2f}%) are "
        f"ambiguous: farther than {tolerance:g} (RGB distance) from every sample colour, mostly "
        "JPEG artefacts at class edges; they were given the nearest colour's class",
    ]
    if ambiguous > (1.0 - SNIFF_SHARE) * total:
        warnings.append("so many pixels are far from the sample colours that this may not be "
                        "a DeepStream sample-app output")
    shared = int(np.count_nonzero(values == SHARED_COLOR_CLASS))
    if shared:
        warnings.append(f"{shared:,} pixels have the colour (128, 128, 128) that the sample "
                        f"paints for both class {SHARED_COLOR_CLASS} and -1 (no class above "
                        "threshold); they are shown as one segment, the two cannot be told apart")
    return warnings


def _frame_files(folder: Path) -> list[Path]:
    """The folder's ``<frame>.jpg`` files in frame order."""
    try:
        files = [p for p in folder.iterdir() if FRAME_FILE.match(p.name) and p.is_file()]
    except OSError as exc:
        raise ReadError(f"cannot list the folder: {exc.strerror or exc}", folder) from None
    return sorted(files, key=lambda p: (int(p.stem), p.name))


def _frame_file(path: Path, item: str | None) -> Path:
    if not path.exists():
        raise ReadError("file not found", path)
    if not path.is_dir():
        if item is not None and item != path.stem:
            raise ReadError(f"a single JPEG holds one frame ({path.stem}), not {item!r}", path)
        return path
    frames = _frame_files(path)
    if not frames:
        raise ReadError("no <frame_number>.jpg files from the DeepStream sample in this folder",
                        path)
    if item is None:
        return frames[0]
    for frame in frames:
        if frame.stem == str(item):
            return frame
    wanted = whole_number(str(item))
    if wanted is not None:
        for frame in frames:
            if int(frame.stem) == wanted:
                return frame
    raise ReadError(f"no frame {item!r} in the folder (it has {len(frames)} frames, "
                    f"{frames[0].stem}..{frames[-1].stem})", path)


def jpeg_items(path: Path) -> list[str]:
    """Frame numbers of a sample-app output folder ([] for one JPEG)."""
    path = Path(path)
    return [p.stem for p in _frame_files(path)] if path.is_dir() else []


def sniff_jpeg(path: Path) -> bool:
    """True for a JPEG (or a folder whose first ``<frame>.jpg``) looks painted by the sample.

    Decodes at most about 512 pixels across (JPEG DCT scaling) and asks that
    most pixels lie near one of the 14 sample colours, so ordinary photos are
    not taken.
    """
    try:
        if path.is_dir():
            frames = _frame_files(path)
            if not frames:
                return False
            path = frames[0]
        return _looks_painted(path)
    except (OSError, ReadError, ValueError):
        return False


def _looks_painted(path: Path) -> bool:
    with safe_input.open_image(path, check_size=False) as img:
        if img.format != "JPEG":
            return False
        # The sample writes the network's output size (512 x 512 in its config): decode that
        # in full, and larger images at a reduced DCT scale. Not smaller: averaging a busy
        # photo into few pixels turns it grey, and grey is a sample colour.
        scale = max(img.width, img.height) / SNIFF_SIDE
        if scale > 1:
            img.draft("RGB", (math.ceil(img.width / scale), math.ceil(img.height / scale)))
        pixels = np.asarray(img.convert("RGB"), np.uint8)
    _index, distance = snap_to_colors(pixels, _sample_palette().colors(SAMPLE_CLASSES))
    # Reduced decodes blend edges more, so allow a wider distance than the read's tolerance.
    near = np.count_nonzero(distance <= (2 * JPEG_TOLERANCE) ** 2)
    return near >= SNIFF_SHARE * distance.size


BIN_FORMAT = FormatSpec(
    name=BIN_NAME,
    title="DeepStream nvinfer raw output dump (.bin, raw-output-file-write)",
    extensions=(".bin",),
    read=read_bin,
    write=write_bin,
    sniff=sniff_bin,
    priority=10,
    lossless=True,
    notes="no header: classes/height/width/dtype/order from options or <file>.json; float "
          "scores -> nvinfer's argmax (strict > threshold, -1 = none); writes int32 + sidecar",
    losses=bin_losses,
    items=bin_items,
)
JPEG_FORMAT = FormatSpec(
    name=JPEG_NAME,
    title="DeepStream segmentation sample JPEGs (<frame>.jpg, 14 BGR colours)",
    extensions=(".jpg", ".jpeg"),
    read=read_jpeg,
    write=None,
    sniff=sniff_jpeg,
    priority=5,
    lossless=False,
    notes="lossy: nearest-colour snapping, ambiguous pixels counted; -1 and class 13 share a "
          "colour; read-only",
    items=jpeg_items,
    folders=True,
)
FORMATS = (BIN_FORMAT, JPEG_FORMAT)
