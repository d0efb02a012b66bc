"""Run a segmentation model described by a manifest on RGB photos.

``ModelRunner(manifest).run(image)`` returns an ordinary
:class:`~viewer.core.segmentation.Segmentation` (kind semantic, labels and
colours from the manifest, a per-pixel confidence, provenance naming the
model). The onnxruntime session is created on first use, in whatever thread
calls first (a GUI worker), and is then shared: ``InferenceSession.run`` is
thread-safe. The file's sha256 is checked when the session is created.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from viewer.core.errors import ModelError
from viewer.core.inference import session as ort_session
from viewer.core.inference.decode import read_for_model
from viewer.core.inference.manifest import Layout, ModelManifest, OutputKind
from viewer.core.inference.postprocess import (
    crop_content,
    decode_outputs,
    mean_confidence,
    upscale_nearest,
)
from viewer.core.inference.preprocess import Geometry, as_rgb, preprocess
from viewer.core.inference.registry import verify_sha256
from viewer.core.inference.session import shape_text
from viewer.core.segmentation import Kind, Provenance, Segmentation

_FEEDABLE_TYPES = {"float": np.float32, "float16": np.float16, "uint8": np.uint8}


@dataclass(frozen=True)
class Prediction:
    """What a model said about one photo, at the photo's full size.

    Attributes
    ----------
    labels : ndarray of shape (H, W), uint8 or uint16
        Class indices into ``manifest.class_names``.
    confidence : ndarray of shape (H, W), float32, or None
        Probability of the label at each pixel (None for class-map models).
    manifest : ModelManifest
    geometry : Geometry
        How the photo was fed.
    threshold : float
    model_labels, model_confidence : ndarray of shape (h, w), optional
        The same at the model's resolution, letterbox border cut away.
    details : dict
        Facts for the provenance (provider, reduced decode, ...).
    """

    labels: np.ndarray
    confidence: np.ndarray | None
    manifest: ModelManifest
    geometry: Geometry
    threshold: float
    model_labels: np.ndarray | None = None
    model_confidence: np.ndarray | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_segmentation(self, source: str | Path | None = None) -> Segmentation:
        """Return the prediction as a semantic :class:`Segmentation`.

        Class 0 named like background is hidden; each segment's ``score`` is
        its mean confidence.
        """
        manifest = self.manifest
        names = dict(enumerate(manifest.class_names))
        seg = Segmentation.from_values(
            self.labels, kind=Kind.SEMANTIC, names=names, palette=manifest.class_palette(),
            confidence=self.confidence,
            provenance=Provenance(None if source is None else str(source), None,
                                  self._provenance_details()))
        scores = self.scores()
        changes = {i: {"score": s} for i, s in scores.items() if i in seg.table}
        if changes:
            seg.table.update_many(changes)
        return seg

    def scores(self) -> dict[int, float]:
        """Mean confidence of each class present (empty without a confidence)."""
        if self.confidence is None:
            return {}
        if self.model_labels is None or self.model_confidence is None:
            return mean_confidence(self.labels, self.confidence, self.labels.shape)
        return mean_confidence(self.model_labels, self.model_confidence, self.labels.shape)

    def _provenance_details(self) -> dict[str, Any]:
        manifest = self.manifest
        return {
            "model": {"id": manifest.id, "name": manifest.name, "file": Path(manifest.file).name,
                      "sha256": manifest.sha256, "licence": manifest.licence},
            "input_size": list(self.geometry.input_size),
            "resize": str(manifest.input.resize),
            "threshold": self.threshold,
            **self.details,
        }


class ModelRunner:
    """A loaded model: feed RGB photos, get label maps.

    Parameters
    ----------
    manifest : ModelManifest
    providers : sequence of str, optional
        Execution providers, short (``"cuda"``) or full names; CPU by default
        and always as the fallback (see :func:`available_providers`).
    threads : int
        onnxruntime intra-op threads (1: as fast as 2 on two cores and leaves
        a core to the GUI).
    """

    def __init__(self, manifest: ModelManifest, providers: Sequence[str] | None = None, *,
                 threads: int = 1):
        self.manifest = manifest
        self.providers = ort_session.resolve_providers(providers)
        self.threads = threads
        self._session = None
        self._input_size: tuple[int, int] | None = None
        self._input_dtype: type = np.float32
        self._lock = threading.Lock()

    # -- loading -----------------------------------------------------------------------
    def load(self) -> None:
        """Create the session now (it is otherwise created on first use).

        Raises
        ------
        ModelError
            Missing file, sha256 mismatch, not ONNX, or an input or output the
            manifest describes differently from the graph.
        """
        with self._lock:
            if self._session is not None:
                return
            path = self.manifest.model_path
            if not path.is_file():
                raise ModelError("model file not found", path)
            verify_sha256(self.manifest)
            session = ort_session.open_session(path, self.providers, self.threads)
            self._input_size, self._input_dtype = _check_graph(session, self.manifest)
            self._session = session

    @property
    def loaded(self) -> bool:
        """True once the session exists."""
        return self._session is not None

    @property
    def active_providers(self) -> list[str]:
        """Providers the session really uses (loads the model)."""
        self.load()
        return list(self._session.get_providers())

    def input_size(self, image_size: tuple[int, int] | None = None) -> tuple[int, int] | None:
        """The (height, width) fed for a photo of ``image_size`` (loads the model).

        None when the model takes any size and no photo size is given.
        """
        self.load()
        return self._input_size or image_size

    # -- running -----------------------------------------------------------------------
    def forward(self, tensor: np.ndarray) -> dict[str, np.ndarray]:
        """Run the graph on a prepared input tensor; return the outputs the manifest uses.

        Raises
        ------
        ModelError
            When onnxruntime refuses the input or fails.
        """
        self.load()
        names = [o.name for o in self.manifest.outputs]
        try:
            arrays = self._session.run(names, {self.manifest.input.name: tensor})
        except ort_session.ort_errors() as exc:
            reason = ort_session.short_message(exc)
            raise ModelError(f"the model failed on an input of shape {list(tensor.shape)}: "
                             f"{reason}", self.manifest.model_path) from None
        return dict(zip(names, arrays, strict=True))

    def prepare(self, image: np.ndarray) -> tuple[np.ndarray, Geometry]:
        """Return the input tensor for an RGB photo and where the photo went (loads the model)."""
        image = as_rgb(image)
        size = self.input_size(image.shape[:2])
        return preprocess(image, self.manifest.input, size, self._input_dtype)

    def predict(self, image: np.ndarray, *, threshold: float | None = None,
                full_size: tuple[int, int] | None = None) -> Prediction:
        """Segment one photo and return the arrays at the photo's size.

        Parameters
        ----------
        image : ndarray of shape (H, W, 3), uint8, RGB
            Greys and RGBA are accepted too.
        threshold : float, optional
            For sigmoid outputs; the manifest's default when omitted.
        full_size : (height, width), optional
            Size of the result when ``image`` is a reduced decode of the photo.
        """
        tensor, geometry = self.prepare(image)
        outputs = self.forward(tensor)
        threshold = self.manifest.threshold if threshold is None else float(threshold)
        labels, confidence = decode_outputs(outputs, self.manifest, threshold)
        size = full_size or geometry.image_size
        small_labels = crop_content(labels, geometry)
        small_confidence = None if confidence is None else crop_content(confidence, geometry)
        details: dict[str, Any] = {"provider": self._session.get_providers()[0]}
        full_confidence = None
        if small_confidence is not None:
            full_confidence = _full_confidence(small_confidence, size, details)
        return Prediction(
            labels=upscale_nearest(small_labels, size),
            confidence=full_confidence,
            manifest=self.manifest, geometry=geometry, threshold=threshold,
            model_labels=small_labels, model_confidence=small_confidence,
            details=details)

    def run(self, image: np.ndarray, *, threshold: float | None = None,
            source: str | Path | None = None) -> Segmentation:
        """Segment one RGB photo; return a :class:`Segmentation` of its size.

        Parameters
        ----------
        image : ndarray of shape (H, W, 3), uint8, RGB
        threshold : float, optional
            For sigmoid outputs; the manifest's default when omitted.
        source : str or Path, optional
            The photo's file, recorded in the provenance.
        """
        return self.predict(image, threshold=threshold).to_segmentation(source)

    def run_file(self, path: str | Path, *, threshold: float | None = None,
                 reduced_decode: bool = True) -> Segmentation:
        """Read a photo and segment it.

        Parameters
        ----------
        path : str or Path
        threshold : float, optional
        reduced_decode : bool
            Decode a JPEG at a reduced size that is still at least the model's
            input (see :mod:`viewer.core.inference.decode`); the result always
            has the photo's full size.

        Raises
        ------
        ReadError
            When the photo cannot be read.
        ModelError
            When the model cannot run on it.
        """
        min_size = self.input_size() if reduced_decode else None
        photo = read_for_model(path, min_size)
        prediction = self.predict(photo.image, threshold=threshold, full_size=photo.full_size)
        if photo.reduced:
            h, w = photo.image.shape[:2]
            prediction = replace(prediction, details={**prediction.details, "decoded_at": [w, h]})
        return prediction.to_segmentation(path)


def _check_graph(session, manifest: ModelManifest) -> tuple[tuple[int, int] | None, type]:
    """Check the graph takes what the manifest feeds; return the input size and dtype."""
    path = manifest.model_path
    spec = manifest.input
    inputs = {t.name: t for t in ort_session.inputs_of(session)}
    if spec.name not in inputs:
        raise ModelError(f"the model has no input {spec.name!r} (it has "
                         f"{', '.join(map(repr, inputs))}); check input/name", path)
    if len(inputs) > 1:
        raise ModelError(f"the model needs {len(inputs)} inputs ({', '.join(inputs)}); "
                         "SegView feeds one image", path)
    info = inputs[spec.name]
    shape = info.shape
    channel_axis = 1 if spec.layout is Layout.NCHW else 3
    if shape is None or len(shape) != 4 or shape[channel_axis] not in (3, None):
        raise ModelError(f"input {spec.name!r} has shape {shape_text(shape)}: cannot feed it "
                         f"an {spec.layout} colour image (expected 4 dimensions with 3 channels "
                         f"on axis {channel_axis})", path)
    if shape[0] not in (1, None):
        raise ModelError(f"input {spec.name!r} has a batch of {shape[0]}; SegView feeds one", path)
    if info.dtype not in _FEEDABLE_TYPES:
        raise ModelError(f"input {spec.name!r} takes {info.dtype}; SegView feeds float or "
                         "uint8 images", path)
    size = _input_size(shape, spec.layout, spec.size, path)
    _check_outputs(session, manifest)
    return size, _FEEDABLE_TYPES[info.dtype]


def _input_size(shape: tuple[int | None, ...], layout: Layout,
                wanted: tuple[int, int] | None, path: Path) -> tuple[int, int] | None:
    graph = shape[2:4] if layout is Layout.NCHW else shape[1:3]
    if wanted is None:
        return tuple(graph) if None not in graph else None
    for got, want, what in zip(graph, wanted, ("height", "width"), strict=True):
        if got is not None and got != want:
            raise ModelError(f"input/size: the manifest feeds {wanted[0]}x{wanted[1]} but the "
                             f"graph's {what} is {got}", path)
    return wanted


def _check_outputs(session, manifest: ModelManifest) -> None:
    outputs = {t.name: t for t in ort_session.outputs_of(session)}
    for spec in manifest.outputs:
        info = outputs.get(spec.name)
        if info is None:
            raise ModelError(f"the model has no output {spec.name!r} (it has "
                             f"{', '.join(map(repr, outputs))})", manifest.model_path)
        rank = None if info.shape is None else len(info.shape)
        if spec.kind is not OutputKind.CLASS_MAP and rank is not None and spec.class_axis >= rank:
            raise ModelError(f"output {spec.name!r} has {rank} dimensions: there is no class "
                             f"axis {spec.class_axis}", manifest.model_path)


#: The per-pixel confidence is float32 at the photo's size; above this it is not kept
#: (the label map is, and per-class scores come from the model's own resolution).
#: A 225 Mpx photo would need 858 MiB for it alone, most of a segment run's peak.
CONFIDENCE_BUDGET = 256 << 20


def _full_confidence(small: np.ndarray, size: tuple[int, int],
                     details: dict[str, Any]) -> np.ndarray | None:
    height, width = size
    needed = height * width * 4
    if needed <= CONFIDENCE_BUDGET:
        return upscale_nearest(small, size)
    details["warnings"] = [f"the per-pixel confidence is not kept for this {width}x{height} "
                           f"photo: it would take {needed / 2**20:,.0f} MiB, more than the "
                           f"{CONFIDENCE_BUDGET >> 20} MiB allowed; the mask and per-class "
                           "scores are complete"]
    return None
