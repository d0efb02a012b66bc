"""Model manifests: one JSON file per model, describing how to feed it and read it.

A manifest (schema ``resources/schemas/segview-model.schema.json``) names the
ONNX file and its sha256, the licence and source of the weights, the input
(name, size, layout, colour order, scale, mean/std, resize mode), the outputs
(kind and class axis; for two-output models which one gives the labels and
which one gates them), the class names, the palette and the default
threshold. Errors name the manifest file and the field.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from viewer import _paths
from viewer.core.errors import ModelError, PaletteError, ReadError
from viewer.core.fileio import atomic_write_text
from viewer.core.formats.common import load_json
from viewer.core.palettes import Palette, PaletteEntry, builtin_palette, stable_color
from viewer.core.types import RGB

SCHEMA_FILE = "segview-model.schema.json"
SCHEMA_TAG = "segview-model"
SCHEMA_VERSION = 1
#: The largest input side a manifest may ask for: the resized photo and its float
#: tensor are allocated from it (16384^2 x 3 float32 is 3 GiB already).
MAX_INPUT_SIDE = 16384
#: Output tensors of segmentation models have 2 to 5 dimensions; more is a typo.
MAX_CLASS_AXIS = 7
#: What Linux takes for one file name and for a whole path (NAME_MAX, PATH_MAX).
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096
#: Integers beyond this do not survive the float conversion exactly (and a
#: 400-digit one overflows it): no field of a manifest needs one.
_MAX_INT = 2**53


class Layout(enum.StrEnum):
    """Axis order of the image tensor."""

    NCHW = "NCHW"
    NHWC = "NHWC"


class ColorOrder(enum.StrEnum):
    """Channel order the model was trained with."""

    RGB = "RGB"
    BGR = "BGR"


class ResizeMode(enum.StrEnum):
    """How a photo is brought to the model's input size."""

    STRETCH = "stretch"
    LETTERBOX = "letterbox"


class OutputKind(enum.StrEnum):
    """What an output's values are."""

    LOGITS = "logits"
    PROBABILITIES = "probabilities"
    SIGMOID = "sigmoid"
    CLASS_MAP = "class_map"


class OutputRole(enum.StrEnum):
    """What an output is used for."""

    LABELS = "labels"
    GATE = "gate"


@dataclass(frozen=True)
class InputSpec:
    """How an RGB photo becomes the model's input tensor.

    The tensor is ``(pixel * scale - mean) / std`` in float32, per channel in
    the model's colour order, after resizing the photo to ``size``.

    Attributes
    ----------
    name : str
        The graph input fed.
    size : (height, width) or None
        Size fed; None takes the graph's static size, else the image's own.
    layout : Layout
    color_order : ColorOrder
    scale : float
    mean, std : tuple of 1 or 3 float
        In the model's channel order.
    resize : ResizeMode
    pad_value : int
        Pixel value of the letterbox border (0..255, before scaling).
    """

    name: str
    size: tuple[int, int] | None
    layout: Layout
    color_order: ColorOrder
    scale: float
    mean: tuple[float, ...]
    std: tuple[float, ...]
    resize: ResizeMode
    pad_value: int = 0


@dataclass(frozen=True)
class OutputSpec:
    """One graph output the manifest uses.

    Attributes
    ----------
    name : str
    kind : OutputKind
    class_axis : int or None
        Axis of the classes in the output's shape (None for a class map).
    role : OutputRole
    class_offset : int
        Class index of channel 0 (for logits and probabilities).
    threshold : float
        For a gate: it passes where its probability is above this.
    """

    name: str
    kind: OutputKind
    class_axis: int | None = None
    role: OutputRole = OutputRole.LABELS
    class_offset: int = 0
    threshold: float = 0.5


@dataclass(frozen=True)
class ModelManifest:
    """A segmentation model described by its manifest.

    Attributes
    ----------
    id, name : str
    file : str
        The ONNX file, relative to the manifest's folder (or absolute); it must
        resolve inside that folder.
    sha256 : str
        Checked when the model is loaded.
    licence, source : str
        Licence and provenance of the weights.
    input : InputSpec
    outputs : tuple of OutputSpec
        One ``labels`` output and at most one ``gate``.
    class_names : tuple of str
        Class 0 first.
    palette : str, tuple of RGB, or None
        A built-in palette id, one colour per class, or None for stable colours.
    threshold : float
        Default threshold of sigmoid outputs.
    description : str
    path : Path or None
        The manifest file it was read from (not saved).
    """

    id: str
    name: str
    file: str
    sha256: str
    licence: str
    source: str
    input: InputSpec
    outputs: tuple[OutputSpec, ...]
    class_names: tuple[str, ...]
    palette: str | tuple[RGB, ...] | None = None
    threshold: float = 0.5
    description: str = ""
    path: Path | None = field(default=None, compare=False)

    @property
    def model_path(self) -> Path:
        """The ONNX file, resolved against the manifest's folder."""
        file = Path(self.file)
        if file.is_absolute() or self.path is None:
            return file
        return self.path.parent / file

    @property
    def labels_output(self) -> OutputSpec:
        """The output the labels come from."""
        return next(o for o in self.outputs if o.role is OutputRole.LABELS)

    @property
    def gate_output(self) -> OutputSpec | None:
        """The output that gates the labels, if any."""
        return next((o for o in self.outputs if o.role is OutputRole.GATE), None)

    def class_palette(self) -> Palette:
        """Return the colours and names of the classes as a :class:`Palette`."""
        return class_palette(self)

    def to_json(self) -> dict[str, Any]:
        """Return the manifest as its JSON document."""
        return manifest_to_json(self)


# -- reading and writing ---------------------------------------------------------
def load_manifest(path: str | Path) -> ModelManifest:
    """Read and validate a manifest file.

    Raises
    ------
    ModelError
        Naming the file and the field: missing file, bad JSON, schema
        violation, inconsistent outputs, unknown palette.
    """
    path = Path(path)
    try:
        data = load_json(path, finite_only=False)  # manifest_from_json names the bad field
    except ReadError as exc:
        raise ModelError(exc.message, path) from None
    return manifest_from_json(data, path)


def save_manifest(manifest: ModelManifest, path: str | Path) -> Path:
    """Validate ``manifest`` and write it as JSON, atomically; return the path."""
    path = Path(path)
    doc = manifest_to_json(manifest)
    manifest_from_json(doc, path)
    atomic_write_text(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return path


def is_manifest_document(data: Any) -> bool:
    """Return True when parsed JSON claims to be a model manifest."""
    return isinstance(data, Mapping) and data.get("schema") == SCHEMA_TAG


def manifest_from_json(data: Any, path: str | Path | None = None) -> ModelManifest:
    """Build a :class:`ModelManifest` from parsed JSON, validating it.

    Raises
    ------
    ModelError
        Naming ``path`` and the first bad field.
    """
    problem = first_problem(data)
    if problem:
        raise ModelError(f"not a valid model manifest: {problem}", path)
    manifest = ModelManifest(
        id=data["id"], name=data["name"], file=data["file"], sha256=data["sha256"],
        licence=data["licence"], source=data["source"],
        input=_input_from_json(data["input"]),
        outputs=tuple(_output_from_json(o) for o in data["outputs"]),
        class_names=tuple(data["class_names"]),
        palette=_palette_from_json(data.get("palette")),
        threshold=float(data.get("threshold", 0.5)),
        description=data.get("description", ""),
        path=Path(path) if path is not None else None,
    )
    _check_consistency(manifest, path)
    return manifest


def manifest_to_json(manifest: ModelManifest) -> dict[str, Any]:
    """Return the JSON document of ``manifest`` (the inverse of :func:`manifest_from_json`)."""
    spec = manifest.input
    doc: dict[str, Any] = {
        "schema": SCHEMA_TAG, "schema_version": SCHEMA_VERSION,
        "id": manifest.id, "name": manifest.name,
    }
    if manifest.description:
        doc["description"] = manifest.description
    doc.update({
        "file": manifest.file, "sha256": manifest.sha256,
        "licence": manifest.licence, "source": manifest.source,
        "input": {
            "name": spec.name, "size": list(spec.size) if spec.size else None,
            "layout": str(spec.layout), "color_order": str(spec.color_order),
            "scale": spec.scale, "mean": _per_channel_json(spec.mean),
            "std": _per_channel_json(spec.std), "resize": str(spec.resize),
            "pad_value": spec.pad_value,
        },
        "outputs": [_output_to_json(o) for o in manifest.outputs],
        "class_names": list(manifest.class_names),
        "palette": (list(map(list, manifest.palette)) if isinstance(manifest.palette, tuple)
                    else manifest.palette),
        "threshold": manifest.threshold,
    })
    return doc


def first_problem(doc: Any) -> str | None:
    """Return the first schema violation as ``field: message``, or None when valid.

    NaN, infinities and integers beyond 2^53 are violations too: Python's
    JSON reader accepts ``NaN`` and every range check of the schema is false
    for it, so ``"scale": NaN`` would pass the schema alone.
    """
    odd = _first_odd_number(doc, ())
    if odd is not None:
        return odd
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return None
    error = errors[0]
    where = "/".join(str(p) for p in error.absolute_path) or "top level"
    return f"{where}: {error.message}"


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of a manifest."""
    return load_json(_paths.resources_dir() / "schemas" / SCHEMA_FILE)


def class_palette(manifest: ModelManifest) -> Palette:
    """Colours and names of a manifest's classes.

    Raises
    ------
    ModelError
        When the palette id is not a built-in palette.
    """
    if isinstance(manifest.palette, str):
        try:
            base = builtin_palette(manifest.palette)
        except PaletteError as exc:
            raise ModelError(f"palette: {exc}", manifest.path) from None
        colors = [base.color(i) for i in range(len(manifest.class_names))]
    elif isinstance(manifest.palette, tuple):
        colors = list(manifest.palette)
    else:
        colors = [stable_color(i) for i in range(len(manifest.class_names))]
    entries = {i: PaletteEntry(i, tuple(colors[i]), name)
               for i, name in enumerate(manifest.class_names)}
    return Palette(f"model:{manifest.id}", manifest.name, entries)


# -- helpers ---------------------------------------------------------------------
def _first_odd_number(value: Any, where: tuple[str, ...]) -> str | None:
    """``field: message`` for the first non-finite or huge number in a document, or None."""
    if isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        name = "/".join(where) or "top level"
        if isinstance(value, float) and not math.isfinite(value):
            spelled = "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
            return f"{name}: {spelled} is not a finite number"
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_INT:
            return f"{name}: {value:.3g} is too large" if abs(value) < 10**300 else \
                f"{name}: a {len(str(abs(value)))}-digit number is too large"
        return None
    for key, item in items:
        problem = _first_odd_number(item, (*where, str(key)))
        if problem is not None:
            return problem
    return None


@cache
def _validator():
    import jsonschema  # imported here: only loading a manifest pays for it

    return jsonschema.Draft202012Validator(schema())


def _input_from_json(data: Mapping[str, Any]) -> InputSpec:
    return InputSpec(
        name=data["name"],
        size=tuple(data["size"]) if data["size"] is not None else None,
        layout=Layout(data["layout"]), color_order=ColorOrder(data["color_order"]),
        scale=float(data["scale"]), mean=_per_channel(data["mean"]), std=_per_channel(data["std"]),
        resize=ResizeMode(data["resize"]), pad_value=int(data.get("pad_value", 0)),
    )


def _output_from_json(data: Mapping[str, Any]) -> OutputSpec:
    return OutputSpec(
        name=data["name"], kind=OutputKind(data["kind"]), class_axis=data.get("class_axis"),
        role=OutputRole(data.get("role", "labels")), class_offset=int(data.get("class_offset", 0)),
        threshold=float(data.get("threshold", 0.5)),
    )


def _output_to_json(spec: OutputSpec) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": spec.name, "kind": str(spec.kind),
                           "class_axis": spec.class_axis, "role": str(spec.role)}
    if spec.class_offset:
        doc["class_offset"] = spec.class_offset
    if spec.role is OutputRole.GATE:
        doc["threshold"] = spec.threshold
    return doc


def _per_channel(value: float | list[float]) -> tuple[float, ...]:
    return tuple(float(v) for v in value) if isinstance(value, list) else (float(value),)


def _per_channel_json(values: tuple[float, ...]) -> float | list[float]:
    return values[0] if len(values) == 1 else list(values)


def _palette_from_json(value: Any) -> str | tuple[RGB, ...] | None:
    if isinstance(value, list):
        return tuple(tuple(int(c) for c in rgb) for rgb in value)
    return value


def _check_consistency(manifest: ModelManifest, path: str | Path | None) -> None:
    """Rules the schema cannot say: roles, class axes, std, palette size."""
    roles = [o.role for o in manifest.outputs]
    if roles.count(OutputRole.LABELS) != 1:
        raise ModelError("outputs: exactly one output must have the role 'labels'", path)
    for index, out in enumerate(manifest.outputs):
        where = f"outputs/{index}"
        if out.kind is not OutputKind.CLASS_MAP and out.class_axis is None:
            raise ModelError(f"{where}/class_axis: a {out.kind} output needs its class axis", path)
        if out.role is OutputRole.GATE and out.kind is OutputKind.CLASS_MAP:
            raise ModelError(f"{where}/kind: a gate is a probability, logit or sigmoid, "
                             "not a class map", path)
        if out.class_offset and out.kind is OutputKind.SIGMOID:
            raise ModelError(f"{where}/class_offset: sigmoid channels are classes 1.. already",
                             path)
    _check_file_name(manifest.file, path)
    _check_input(manifest.input, path)
    for index, out in enumerate(manifest.outputs):
        _check_output_numbers(out, f"outputs/{index}", len(manifest.class_names), path)
    if isinstance(manifest.palette, tuple) and len(manifest.palette) < len(manifest.class_names):
        raise ModelError(f"palette: {len(manifest.palette)} colours for "
                         f"{len(manifest.class_names)} classes", path)
    if isinstance(manifest.palette, str):
        class_palette(manifest)  # an unknown id fails here, at load
    if path is not None:
        _check_file_inside(manifest, Path(path))


def _check_file_name(file: str, path: str | Path | None) -> None:
    """A name the operating system can take (else every later stat() of it fails)."""
    if "\0" in file:
        raise ModelError("file: the name holds a NUL byte", path)
    encoded = file.encode("utf-8", "surrogateescape")
    if len(encoded) > MAX_PATH_BYTES or any(len(part.encode("utf-8", "surrogateescape"))
                                            > MAX_NAME_BYTES for part in Path(file).parts):
        raise ModelError(f"file: a name of {len(file)} characters is too long", path)


def _check_input(spec: InputSpec, path: str | Path | None) -> None:
    """Values that are numbers to the schema but no sensible preprocessing."""
    if spec.size is not None and max(spec.size) > MAX_INPUT_SIDE:
        raise ModelError(f"input/size: {spec.size[0]}x{spec.size[1]} is larger than the "
                         f"{MAX_INPUT_SIDE}x{MAX_INPUT_SIDE} a model input may be", path)
    if any(s <= 0 for s in spec.std):
        raise ModelError(f"input/std: must be positive, got {_per_channel_json(spec.std)}", path)
    if any(m < 0 for m in spec.mean):
        raise ModelError(f"input/mean: the mean of pixel values cannot be negative, got "
                         f"{_per_channel_json(spec.mean)}", path)


def _check_output_numbers(out: OutputSpec, where: str, classes: int,
                          path: str | Path | None) -> None:
    if out.class_axis is not None and out.class_axis > MAX_CLASS_AXIS:
        raise ModelError(f"{where}/class_axis: {out.class_axis} is beyond the "
                         f"{MAX_CLASS_AXIS + 1} dimensions an output may have", path)
    if out.class_offset >= classes:
        raise ModelError(f"{where}/class_offset: {out.class_offset} is not a class (the "
                         f"manifest names {classes})", path)


def _check_file_inside(manifest: ModelManifest, path: Path) -> None:
    """The model file must resolve (symbolic links followed) inside the manifest's folder.

    A manifest is a small text file that people share and drop into their
    models folder; letting it name any file on disk would make it a way to
    run, or probe for, files the user never chose.
    """
    folder = path.parent.resolve()
    target = (path.parent / manifest.file).resolve()
    if not target.is_relative_to(folder):
        raise ModelError(f"file: {manifest.file!r} resolves to {target}, outside the manifest's "
                         f"folder {folder}; put the model beside its manifest", path)

