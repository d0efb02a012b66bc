"""Finding models: manifests in model folders, by id or by ONNX file; describing any ONNX file.

Folders are searched in this order, and the first manifest with an id wins
(so a user can override a bundled model):

1. folders given on the command line (``--models-dir``) or by the caller;
2. folders in ``$SEGVIEW_MODELS_DIR`` (``os.pathsep``-separated);
3. the user models folder (platformdirs ``user_data_dir("segview") / "models"``);
4. the bundled ``models/`` folder.

Every ``*.json`` file whose ``"schema"`` is ``"segview-model"`` is a manifest;
other JSON files are ignored. A broken manifest does not hide the others: it
is reported in :attr:`ModelScan.problems`.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from viewer import _paths
from viewer.core import safe_input
from viewer.core.errors import ModelError, ReadError
from viewer.core.fileio import atomic_open
from viewer.core.formats.common import load_json
from viewer.core.inference import session as ort_session
from viewer.core.inference.manifest import (
    SCHEMA_TAG,
    ColorOrder,
    InputSpec,
    Layout,
    ModelManifest,
    OutputKind,
    OutputSpec,
    ResizeMode,
    is_manifest_document,
    manifest_from_json,
)
from viewer.core.inference.session import shape_text

ENV_VAR = "SEGVIEW_MODELS_DIR"
#: Fields only a model manifest has (two of them make a JSON file look like one).
_MANIFEST_KEYS = frozenset({"schema_version", "sha256", "input", "outputs", "class_names"})
# Output names that usually hold the segmentation (a pre-fill guess only).
_LABEL_HINTS = ("segment", "mask", "logit", "prob", "label", "class", "output", "out")


@dataclass(frozen=True)
class ModelScan:
    """Manifests found in the model folders.

    Attributes
    ----------
    models : tuple of ModelManifest
        One per id, in folder order.
    problems : tuple of ModelError
        Manifests that could not be read (each names its file).
    folders : tuple of Path
        The folders searched, in order.
    """

    models: tuple[ModelManifest, ...]
    problems: tuple[ModelError, ...] = ()
    folders: tuple[Path, ...] = ()


@dataclass(frozen=True)
class ModelDescription:
    """What an ONNX graph tells about itself, with a manifest pre-filled from it.

    Attributes
    ----------
    path : Path
    sha256 : str
    inputs, outputs : tuple of TensorInfo
    manifest : ModelManifest
        Guesses where the graph says nothing (scale, mean/std, colour order,
        output kind): to be confirmed by the user before it is saved.
    notes : tuple of str
        What was guessed and why.
    """

    path: Path
    sha256: str
    inputs: tuple[ort_session.TensorInfo, ...]
    outputs: tuple[ort_session.TensorInfo, ...]
    manifest: ModelManifest
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready record (the manifest as its document)."""
        return {"path": str(self.path), "sha256": self.sha256,
                "inputs": [t.to_json() for t in self.inputs],
                "outputs": [t.to_json() for t in self.outputs],
                "manifest": self.manifest.to_json(), "notes": list(self.notes)}


# -- folders -----------------------------------------------------------------------------
def bundled_models_dir() -> Path:
    """The ``models/`` folder shipped with the application."""
    return _paths.models_dir()


def user_models_dir() -> Path:
    """The per-user models folder (it may not exist yet)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("segview", appauthor=False)) / "models"


def env_models_dirs() -> list[Path]:
    """Folders named by ``$SEGVIEW_MODELS_DIR``."""
    value = os.environ.get(ENV_VAR, "")
    return [Path(p) for p in value.split(os.pathsep) if p.strip()]


def model_dirs(extra: Iterable[str | Path] = ()) -> list[Path]:
    """All model folders in search order, without duplicates (existing or not)."""
    found: list[Path] = []
    seen: set[Path] = set()
    for folder in [*map(Path, extra), *env_models_dirs(), user_models_dir(), bundled_models_dir()]:
        key = folder.expanduser().resolve()
        if key not in seen:
            seen.add(key)
            found.append(folder.expanduser())
    return found


# -- finding -----------------------------------------------------------------------------
def scan_models(extra_dirs: Iterable[str | Path] = ()) -> ModelScan:
    """Read every manifest in the model folders (see the module docstring for the order)."""
    folders = model_dirs(extra_dirs)
    models: dict[str, ModelManifest] = {}
    problems: list[ModelError] = []
    for folder in folders:
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
            try:
                manifest = _read_if_manifest(path)
            except ModelError as exc:
                problems.append(exc)
                continue
            if manifest is not None and manifest.id not in models:
                models[manifest.id] = manifest
    return ModelScan(tuple(models.values()), tuple(problems), tuple(folders))


def list_models(extra_dirs: Iterable[str | Path] = ()) -> list[ModelManifest]:
    """Every usable model, one per id (broken manifests are left out)."""
    return list(scan_models(extra_dirs).models)


def find_model(id_or_path: str | Path, extra_dirs: Iterable[str | Path] = (), *,
               warn: Callable[[ModelError], None] | None = None) -> ModelManifest:
    """Return the manifest of a model given by id, manifest file or ONNX file.

    An ONNX file is matched to the manifest that names it, in the model
    folders or beside it (``model.json`` next to ``model.onnx``).

    Parameters
    ----------
    id_or_path : str or Path
    extra_dirs : iterable of str or Path
        Folders searched first.
    warn : callable, optional
        Called with each manifest of the folders that could not be read (it is
        skipped), so that one broken file is reported, never fatal.

    Raises
    ------
    ModelError
        Unknown id (the known ids are listed, and the unreadable manifests
        counted), unreadable manifest named, or an ONNX file no manifest
        describes.
    """
    text = str(id_or_path)
    path = Path(text).expanduser()
    if path.suffix.lower() == ".json":
        return _load_named(path)
    if path.suffix.lower() == ".onnx":
        return _manifest_for_onnx(path, extra_dirs, warn)
    scan = _scan_warning(extra_dirs, warn)
    for manifest in scan.models:
        if manifest.id == text:
            return manifest
    known = ", ".join(m.id for m in scan.models) or "none"
    skipped = (f"; {len(scan.problems)} manifest(s) could not be read: "
               f"{'; '.join(map(str, scan.problems))}" if scan.problems else "")
    raise ModelError(f"no model {text!r}; known models: {known} (segview models lists them)"
                     f"{skipped}")


def _scan_warning(extra_dirs: Iterable[str | Path],
                  warn: Callable[[ModelError], None] | None) -> ModelScan:
    scan = scan_models(extra_dirs)
    for problem in scan.problems if warn is not None else ():
        warn(problem)
    return scan


# -- integrity -----------------------------------------------------------------------------
def file_sha256(path: str | Path) -> str:
    """Return the hex sha256 of a file."""
    digest = hashlib.sha256()
    with safe_input.open_regular(path, "model file") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(manifest: ModelManifest) -> None:
    """Check the model file against the manifest's sha256.

    Raises
    ------
    ModelError
        When the file is missing or its sha256 differs.
    """
    path = manifest.model_path
    try:
        actual = file_sha256(path)
    except FileNotFoundError:
        raise ModelError("model file not found", path) from None
    except OSError as exc:
        raise ModelError(f"cannot read the model file: {exc.strerror or exc}", path) from None
    if actual != manifest.sha256:
        where = manifest.path or "the manifest"
        raise ModelError(f"sha256 mismatch: {where} says {manifest.sha256}, the file has "
                         f"{actual} (the file changed, or it is not the model the manifest "
                         "describes)", path)


# -- describing ------------------------------------------------------------------------------
#: Class names beside a model: ``model.labels.txt`` (one a line).
LABELS_SUFFIX = ".labels.txt"
def describe_onnx(path: str | Path) -> ModelDescription:
    """Read what an ONNX graph says about its inputs and outputs; pre-fill a manifest.

    The pre-filled manifest sits beside the file (``model.json``, ``file``
    relative); pass it through :func:`relocate` before saving it elsewhere.
    Class names come from ``<stem>.labels.txt`` (or ``<file>.labels.txt``)
    beside the model when there is one, one name a line, line i = class i.

    Raises
    ------
    ModelError
        When the file is missing or onnxruntime cannot load it, or the graph
        cannot be a segmentation model SegView runs (no 4-dimensional image
        input, no output with a height and a width).
    """
    path = Path(path)
    session = ort_session.open_session(path, [ort_session.CPU])
    inputs = tuple(ort_session.inputs_of(session))
    outputs = tuple(ort_session.outputs_of(session))
    if not inputs or not outputs:
        raise ModelError("the graph has no inputs or no outputs", path)
    _check_describable(inputs[0], outputs, path)
    notes: list[str] = []
    spec = _guess_input(inputs[0], notes)
    output = _guess_output(_image_outputs(outputs), spec.layout, notes)
    names = _names_beside(path, _guess_names(output, outputs), notes)
    manifest = ModelManifest(
        id=_slug(path.stem), name=path.stem, file=path.name, sha256=file_sha256(path),
        licence="unknown", source=f"described from {path.name}", input=spec,
        outputs=(output,), class_names=names, palette=None,
        threshold=0.5, path=path.with_suffix(".json"))
    return ModelDescription(path, manifest.sha256, inputs, outputs, manifest, tuple(notes))


def relocate(manifest: ModelManifest, json_path: str | Path) -> ModelManifest:
    """Return ``manifest`` to be saved as ``json_path``, its ``file`` still pointing at the model.

    ``file`` becomes relative to the new folder.

    Raises
    ------
    ModelError
        When the model is not in that folder or below it (a manifest may only
        name a model inside its own folder): :func:`install_model` copies it.
    """
    json_path = Path(json_path)
    model = manifest.model_path.resolve()
    try:
        file = model.relative_to(json_path.parent.resolve()).as_posix()
    except ValueError:
        raise ModelError(f"the model {model} is outside {json_path.parent}, and a manifest may "
                         "only name a model in its own folder", json_path) from None
    return replace(manifest, file=file, path=json_path)


def install_model(manifest: ModelManifest, json_path: str | Path) -> ModelManifest:
    """Like :func:`relocate`, copying the model beside ``json_path`` when it is elsewhere.

    Raises
    ------
    ModelError
        A different file already has the model's name there, or the copy fails.
    """
    json_path = Path(json_path)
    model = manifest.model_path
    folder = json_path.parent
    if model.resolve().is_relative_to(folder.resolve()):
        return relocate(manifest, json_path)
    target = folder / model.name
    if target.exists() and not (target.is_file() and file_sha256(target) == manifest.sha256):
        raise ModelError(f"another file is already called {model.name} there; rename the model",
                         target)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_open(target, "wb") as out, open(model, "rb") as source:
            shutil.copyfileobj(source, out)
    except OSError as exc:
        raise ModelError(f"cannot copy the model here: {exc.strerror or exc}", target) from None
    return relocate(replace(manifest, file=str(target.resolve()), path=None), json_path)


# -- helpers ---------------------------------------------------------------------------------
def _read_if_manifest(path: Path) -> ModelManifest | None:
    try:
        data = load_json(path, finite_only=False)  # manifest_from_json names the bad field
    except ReadError as exc:
        raise ModelError(exc.message, path) from None
    except (RecursionError, ValueError) as exc:
        # Nesting too deep or a number too long for Python's parser: a bad file like
        # any other, which must not stop the scan of the folder (issue 16).
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:120]
        raise ModelError(f"cannot be read as JSON: {reason}", path) from None
    if not is_manifest_document(data):
        if isinstance(data, dict) and len(_MANIFEST_KEYS & data.keys()) >= 2:
            # Other JSON files in a models folder are not ours (class lists, configs);
            # one with a manifest's fields is a manifest that forgot its first line.
            raise ModelError(f'looks like a model manifest but lacks "schema": "{SCHEMA_TAG}"',
                             path)
        return None
    return manifest_from_json(data, path)


def _load_named(path: Path) -> ModelManifest:
    manifest = _read_if_manifest(path)
    if manifest is None:
        raise ModelError('not a model manifest ("schema": "segview-model" is missing)', path)
    return manifest


def _manifest_for_onnx(path: Path, extra_dirs: Iterable[str | Path],
                       warn: Callable[[ModelError], None] | None) -> ModelManifest:
    if not path.is_file():
        raise ModelError("model file not found", path)
    target = path.resolve()
    beside = path.with_suffix(".json")
    if beside.is_file():
        manifest = _read_if_manifest(beside)
        if manifest is not None and manifest.model_path.resolve() == target:
            return manifest
    for manifest in _scan_warning(extra_dirs, warn).models:
        if manifest.model_path.resolve() == target:
            return manifest
    raise ModelError("no manifest describes this model; `segview models --describe FILE` "
                     "prints a pre-filled one to check and save beside it", path)


def _image_outputs(outputs: Sequence[ort_session.TensorInfo]) -> list[ort_session.TensorInfo]:
    """Outputs that can hold a segmentation: a class map has (H, W) at least, scores
    (C, H, W); an output of unknown rank may be either."""
    return [o for o in outputs
            if o.shape is None or len(o.shape) >= (2 if "int" in o.dtype else 3)]


def _check_describable(first: ort_session.TensorInfo, outputs: Sequence[ort_session.TensorInfo],
                       path: Path) -> None:
    if first.shape is not None and len(first.shape) != 4:
        raise ModelError(f"input {first.name!r} has shape {shape_text(first.shape)}: SegView "
                         "feeds one image as 4 dimensions (NCHW or NHWC), so this graph is not "
                         "a segmentation model it can run", path)
    if not _image_outputs(outputs):
        shapes = ", ".join(f"{o.name!r} {shape_text(o.shape)}" for o in outputs)
        raise ModelError(f"no output can be a segmentation ({shapes}): a class map needs a "
                         "height and a width, class scores a class axis as well", path)


def _guess_input(info: ort_session.TensorInfo, notes: list[str]) -> InputSpec:
    shape = info.shape or (None,) * 4
    layout = Layout.NHWC if len(shape) == 4 and shape[3] == 3 and shape[1] != 3 else Layout.NCHW
    dims = shape[2:4] if layout is Layout.NCHW else shape[1:3]
    size = tuple(dims) if len(shape) == 4 and None not in dims else None
    notes.append(f"input {info.name!r} {shape_text(info.shape)}: layout {layout} from where the 3 "
                 "channels are; size " + ("fixed by the graph" if size else "dynamic (null)"))
    notes.append("colour order RGB, scale 1/255, mean 0, std 1 and stretch are guesses: the "
                 "graph does not say how it was trained")
    return InputSpec(name=info.name, size=size, layout=layout, color_order=ColorOrder.RGB,
                     scale=1 / 255, mean=(0.0,), std=(1.0,), resize=ResizeMode.STRETCH)


def _guess_output(outputs: Sequence[ort_session.TensorInfo], layout: Layout,
                  notes: list[str]) -> OutputSpec:
    named = [o for o in outputs if any(h in o.name.lower() for h in _LABEL_HINTS)]
    info = (named or list(outputs))[0]
    rank = len(info.shape) if info.shape is not None else 4
    if "int" in info.dtype:
        notes.append(f"output {info.name!r} {shape_text(info.shape)} holds integers: a class map")
        return OutputSpec(info.name, OutputKind.CLASS_MAP)
    axis = 0 if rank < 4 else (1 if layout is Layout.NCHW else rank - 1)
    channels = info.shape[axis] if info.shape is not None else None
    # One channel is most often a probability (a logit thresholded at 0.5 is
    # still usable); several channels take an argmax, which is the same for
    # logits and probabilities: only the confidence differs.
    kind = OutputKind.SIGMOID if channels == 1 else OutputKind.LOGITS
    notes.append(f"output {info.name!r} {shape_text(info.shape)} (one of {len(outputs)}) gives "
                 f"the labels: kind {kind}, classes on axis {axis} (a guess)")
    return OutputSpec(info.name, kind, class_axis=axis)


def _guess_names(output: OutputSpec, outputs: Sequence[ort_session.TensorInfo]) -> tuple[str, ...]:
    info = next(o for o in outputs if o.name == output.name)
    channels = None
    if output.class_axis is not None and info.shape is not None:
        channels = info.shape[output.class_axis]
    if output.kind is OutputKind.CLASS_MAP or not channels or channels == 1:
        return ("background", "foreground")
    return tuple(f"class {i}" for i in range(channels))


def labels_file(path: Path) -> Path | None:
    """``model.labels.txt`` or ``model.onnx.labels.txt`` beside ``model.onnx``, if present."""
    for candidate in (path.with_suffix(LABELS_SUFFIX), path.with_name(path.name + LABELS_SUFFIX)):
        if candidate.is_file():
            return candidate
    return None


def _names_beside(path: Path, guessed: tuple[str, ...], notes: list[str]) -> tuple[str, ...]:
    """The names of the labels file beside the model, else ``guessed``.

    Raises
    ------
    ModelError
        When the labels file cannot be read or names no class.
    """
    table = labels_file(path)
    if table is None:
        return guessed
    try:
        text = safe_input.read_text(table, what="labels file")
    except ReadError as exc:
        raise ModelError(f"cannot read the class names: {exc.message}", table) from None
    names = tuple(line.strip() for line in text.splitlines())
    while names and not names[-1]:
        names = names[:-1]
    if not names:
        raise ModelError("the labels file names no class", table)
    notes.append(f"class names from {table.name} ({len(names)})")
    if len(names) != len(guessed) and len(guessed) > 2:
        notes.append(f"{table.name} names {len(names)} classes, the output has {len(guessed)} "
                     "channels: check class_offset or the file")
    return names


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")
    return slug or "model"
