"""From a model's outputs to a label map and a per-pixel confidence.

Everything runs at the model's resolution: the argmax over the class axis and
the confidence (top softmax probability for logits, the probability of the
chosen label for probabilities and sigmoid outputs). Only then is the small
label map brought to the photo's size, with nearest neighbour only (any other
filter would invent classes), after cutting away a letterbox border. Resizing
21 logit planes to the photo first and taking the argmax there costs three
times the inference (``MODELS.md``).

Output kinds
------------
- ``logits`` / ``probabilities`` with C channels: class ``class_offset + argmax``.
- ``sigmoid`` with C channels (and one-channel logits or probabilities):
  class ``1 + argmax`` where the top probability is above the threshold,
  else 0 (background); one channel gives background / foreground.
- ``class_map``: the values are the classes.
- A ``gate`` output (one channel) keeps labels where its probability is above
  its threshold and sets background elsewhere (BodyPix: a person mask gating
  the body-part logits).
"""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

from viewer.core.errors import ModelError
from viewer.core.inference.manifest import ModelManifest, OutputKind, OutputSpec
from viewer.core.inference.preprocess import Geometry
from viewer.core.types import BBox


def decode_outputs(outputs: Mapping[str, np.ndarray], manifest: ModelManifest,
                   threshold: float | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Return the label map and confidence at the model's resolution.

    Parameters
    ----------
    outputs : mapping of output name to ndarray
    manifest : ModelManifest
    threshold : float, optional
        For sigmoid outputs; the manifest's default when omitted.

    Returns
    -------
    labels : ndarray of shape (h, w), uint8 (uint16 beyond 256 classes)
    confidence : ndarray of shape (h, w), float32, or None for a class map

    Raises
    ------
    ModelError
        An output of an unexpected shape, or more classes than the manifest names.
    """
    spec = manifest.labels_output
    count = len(manifest.class_names)
    dtype = np.dtype(np.uint8 if count <= 256 else np.uint16)
    threshold = manifest.threshold if threshold is None else float(threshold)
    array = _output(outputs, spec)
    if spec.kind is OutputKind.CLASS_MAP:
        labels, confidence = _class_map(array, spec, count, dtype), None
    else:
        planes = class_planes(array, spec)
        if _is_sigmoid(spec, planes):
            _check_classes(spec, 1 + len(planes), count)
            labels, confidence = _sigmoid_labels(_probabilities(planes, spec), threshold, dtype)
        else:
            _check_classes(spec, spec.class_offset + len(planes), count)
            labels, confidence = _multiclass_labels(planes, spec, dtype)
    gate = manifest.gate_output
    if gate is not None:
        labels, confidence = _apply_gate(labels, confidence, _output(outputs, gate), gate)
    return labels, confidence


def class_planes(array: np.ndarray, spec: OutputSpec) -> np.ndarray:
    """Return an output as contiguous (C, h, w) float32 planes.

    Raises
    ------
    ModelError
        When the output is not one image with the class axis the manifest names.
    """
    axis = spec.class_axis
    if axis is None or axis >= array.ndim:
        raise ModelError(f"output {spec.name!r} has shape {list(array.shape)}: it has no "
                         f"class axis {axis}")
    moved = np.moveaxis(array, axis, 0)
    rest = moved.shape[1:]
    if len(rest) < 2 or any(d != 1 for d in rest[:-2]):
        raise ModelError(f"output {spec.name!r} has shape {list(array.shape)}: expected one "
                         f"image with its classes on axis {axis}")
    planes = moved.reshape(moved.shape[0], rest[-2], rest[-1])
    return np.ascontiguousarray(planes, dtype=np.float32)


def argmax_planes(planes: np.ndarray, dtype: np.dtype | type = np.uint8
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Return the index and the value of the largest plane at every pixel.

    Ties go to the first plane, as ``np.argmax`` does. A running maximum over
    whole planes is used because ``planes.argmax(axis=0)`` walks each
    pixel's values with a stride of a plane and is about ten times slower.

    Parameters
    ----------
    planes : ndarray of shape (C, h, w), float32
    dtype : numpy dtype
        Of the index (uint8 or uint16).
    """
    best = planes[0].copy()
    index = np.zeros(best.shape, dtype)
    greater = np.empty(best.shape, np.bool_)
    flags = greater.view(np.uint8)
    for channel in range(1, len(planes)):
        np.greater(planes[channel], best, out=greater)
        np.fmax(best, planes[channel], out=best)
        # index = channel where greater, branch-free: x ^ ((x ^ c) * 1) == c, x ^ 0 == x
        index ^= (index ^ np.asarray(channel, dtype)) * flags
    return index, best


def restore_size(plane: np.ndarray, geometry: Geometry,
                 size: tuple[int, int] | None = None) -> np.ndarray:
    """Bring a plane at the model's resolution back to the photo, nearest neighbour only.

    The letterbox border is cut away first (:func:`crop_content`), then the
    rest is upscaled (:func:`upscale_nearest`).

    Parameters
    ----------
    plane : ndarray of shape (h, w)
        Labels or confidence at the model's output resolution.
    geometry : Geometry
        From pre-processing.
    size : (height, width), optional
        The result's size; the photo's by default (a photo decoded at a
        reduced size is restored to its full size).
    """
    return upscale_nearest(crop_content(plane, geometry), size or geometry.image_size)


def crop_content(plane: np.ndarray, geometry: Geometry) -> np.ndarray:
    """The part of an output plane that shows the photo (without a letterbox border)."""
    r0, c0, r1, c1 = content_box(plane.shape, geometry)
    return np.ascontiguousarray(plane[r0:r1, c0:c1])


def upscale_nearest(plane: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a plane to ``size`` (height, width) with nearest neighbour at pixel centres.

    ``INTER_NEAREST_EXACT`` samples at pixel centres; plain ``INTER_NEAREST``
    would shift the map by half a model pixel towards the top left (several
    photo pixels at 1080p).
    """
    height, width = size
    if plane.shape == (height, width):
        return plane
    return cv2.resize(plane, (width, height), interpolation=cv2.INTER_NEAREST_EXACT)


def mean_confidence(labels: np.ndarray, confidence: np.ndarray,
                    size: tuple[int, int]) -> dict[int, float]:
    """Mean confidence of every class over the map :func:`upscale_nearest` would make.

    Computed at the model's resolution, each model pixel weighted by the
    number of photo pixels it becomes (nearest neighbour repeats whole rows
    and columns), so it equals the mean over the full-size maps without
    touching them (15 ms at 1080p).

    Parameters
    ----------
    labels, confidence : ndarray of shape (h, w)
        Cropped to the photo (:func:`crop_content`).
    size : (height, width)
        The full size.
    """
    rows = _repeats(labels.shape[0], size[0])
    cols = _repeats(labels.shape[1], size[1])
    weights = np.outer(rows, cols).ravel()
    flat = labels.ravel()
    pixels = np.bincount(flat, weights=weights)
    total = np.bincount(flat, weights=weights * confidence.ravel())
    return {int(i): float(total[i] / pixels[i]) for i in np.flatnonzero(pixels)}


def content_box(shape: tuple[int, int], geometry: Geometry) -> BBox:
    """The photo's box inside an output plane of ``shape`` (which may be smaller than the input)."""
    (ph, pw), (ih, iw) = shape, geometry.input_size
    r0, c0, r1, c1 = geometry.content
    if (ph, pw) == (ih, iw):
        return (r0, c0, r1, c1)
    r0, r1 = round(r0 * ph / ih), max(round(r1 * ph / ih), round(r0 * ph / ih) + 1)
    c0, c1 = round(c0 * pw / iw), max(round(c1 * pw / iw), round(c0 * pw / iw) + 1)
    return (r0, c0, min(r1, ph), min(c1, pw))


def _repeats(source: int, target: int) -> np.ndarray:
    """How many of ``target`` pixels each of ``source`` pixels becomes under upscale_nearest."""
    # Resizing the index ramp itself gives cv2's own mapping, whatever its rounding.
    ramp = np.arange(source, dtype=np.float32)[None, :]
    mapped = upscale_nearest(ramp, (1, target))[0].astype(np.int64)
    return np.bincount(mapped, minlength=source)


# -- kinds ---------------------------------------------------------------------------
def _output(outputs: Mapping[str, np.ndarray], spec: OutputSpec) -> np.ndarray:
    if spec.name not in outputs:
        raise ModelError(f"the model gave no output {spec.name!r}; it gave "
                         f"{', '.join(map(repr, outputs))}")
    return np.asarray(outputs[spec.name])


def _is_sigmoid(spec: OutputSpec, planes: np.ndarray) -> bool:
    return spec.kind is OutputKind.SIGMOID or len(planes) == 1


def _probabilities(planes: np.ndarray, spec: OutputSpec) -> np.ndarray:
    if spec.kind is not OutputKind.LOGITS:
        return planes
    out = np.negative(planes)
    with np.errstate(over="ignore"):  # exp(-x) = inf for very negative logits: p = 0, as it should
        np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def _sigmoid_labels(probs: np.ndarray, threshold: float, dtype: np.dtype
                    ) -> tuple[np.ndarray, np.ndarray]:
    index, top = argmax_planes(probs, dtype)
    foreground = top > np.float32(threshold)
    labels = np.where(foreground, index + dtype.type(1), dtype.type(0)).astype(dtype)
    # The probability of the label given: p where foreground, 1 - p where background.
    confidence = np.where(foreground, top, np.float32(1.0) - top).astype(np.float32)
    return labels, confidence


def _multiclass_labels(planes: np.ndarray, spec: OutputSpec, dtype: np.dtype
                       ) -> tuple[np.ndarray, np.ndarray]:
    index, top = argmax_planes(planes, dtype)
    confidence = top if spec.kind is OutputKind.PROBABILITIES else top_softmax(planes, top)
    if spec.class_offset:
        index += dtype.type(spec.class_offset)
    return index, confidence


def top_softmax(planes: np.ndarray, top: np.ndarray) -> np.ndarray:
    """The largest softmax probability of (C, h, w) logits whose maximum is ``top``.

    That is 1 / sum(exp(l - max)), summed one plane at a time.
    """
    total = np.zeros(top.shape, np.float32)
    scratch = np.empty_like(total)
    for plane in planes:
        np.subtract(plane, top, out=scratch)
        cv2.exp(scratch, dst=scratch)  # twice as fast as np.exp, within 1e-6 relative
        total += scratch
    return np.reciprocal(total, out=total)


def _class_map(array: np.ndarray, spec: OutputSpec, count: int, dtype: np.dtype) -> np.ndarray:
    if array.ndim < 2 or any(d != 1 for d in array.shape[:-2]):
        raise ModelError(f"class map {spec.name!r} has shape {list(array.shape)}: expected "
                         "one (H, W) map")
    values = array.reshape(array.shape[-2:])
    if not np.issubdtype(values.dtype, np.integer):
        values = np.rint(values)
    low = int(values.min()) + spec.class_offset
    high = int(values.max()) + spec.class_offset
    if low < spec.class_offset or high >= count:
        raise ModelError(f"class map {spec.name!r} holds classes {low}..{high} but the manifest "
                         f"names {count}")
    labels = values.astype(dtype)
    if spec.class_offset:
        labels += dtype.type(spec.class_offset)
    return labels


def _apply_gate(labels: np.ndarray, confidence: np.ndarray | None, array: np.ndarray,
                spec: OutputSpec) -> tuple[np.ndarray, np.ndarray]:
    planes = class_planes(array, spec)
    if len(planes) != 1 or planes.shape[1:] != labels.shape:
        raise ModelError(f"gate {spec.name!r} has shape {list(array.shape)}: expected one "
                         f"channel of {labels.shape[0]}x{labels.shape[1]}, as the labels")
    prob = _probabilities(planes, spec)[0]
    passes = prob > np.float32(spec.threshold)
    labels = np.where(passes, labels, labels.dtype.type(0))
    inside = prob if confidence is None else confidence * prob
    return labels, np.where(passes, inside, np.float32(1.0) - prob).astype(np.float32)


def _check_classes(spec: OutputSpec, needed: int, count: int) -> None:
    if needed != count:
        raise ModelError(f"output {spec.name!r} gives {needed} classes but the manifest names "
                         f"{count}")
