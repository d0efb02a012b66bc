"""From an RGB photo to a model's input tensor, exactly as the manifest says.

The steps, in this order (the tests rebuild each with numpy and compare bit
for bit):

1. resize the uint8 photo to the input size with cv2: ``INTER_AREA`` when it
   shrinks by 2x or more (it averages, so small inputs do not alias),
   ``INTER_LINEAR`` otherwise (:func:`interpolation`). ``stretch`` fills the input; ``letterbox``
   keeps the aspect ratio, centres the photo and pads with ``pad_value``;
2. reorder channels to the model's colour order;
3. in float32: ``(pixel * scale - mean) / std`` per channel;
4. lay out as ``NCHW`` or ``NHWC`` with a batch of one.

Resizing the uint8 photo before any float work keeps the cost at the model's
size (a 257x257 input), not the photo's.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from viewer.core.errors import ModelError
from viewer.core.inference.manifest import ColorOrder, InputSpec, Layout, ResizeMode
from viewer.core.types import BBox


@dataclass(frozen=True)
class Geometry:
    """Where the photo went inside the model's input.

    Attributes
    ----------
    image_size : (height, width)
        The photo as given.
    input_size : (height, width)
        The tensor's spatial size.
    content : (row0, col0, row1, col1)
        The box of the input the photo fills (all of it unless letterboxed).
    """

    image_size: tuple[int, int]
    input_size: tuple[int, int]
    content: BBox


def as_rgb(image: np.ndarray) -> np.ndarray:
    """Return ``image`` as (H, W, 3) uint8: greys are repeated, alpha is dropped.

    Raises
    ------
    ModelError
        For any other shape or dtype.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ModelError(f"models take uint8 photos, got {image.dtype}")
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2)
    if image.ndim == 3 and image.shape[2] in (3, 4) and min(image.shape[:2]) > 0:
        return image if image.shape[2] == 3 else np.ascontiguousarray(image[..., :3])
    raise ModelError(f"cannot feed an image of shape {image.shape}: expected (H, W, 3)")


def letterbox_box(image_size: tuple[int, int], input_size: tuple[int, int]) -> BBox:
    """The centred box a photo of ``image_size`` fills inside ``input_size`` (aspect kept)."""
    (h, w), (th, tw) = image_size, input_size
    ratio = min(th / h, tw / w)
    nh = min(th, max(1, round(h * ratio)))
    nw = min(tw, max(1, round(w * ratio)))
    top, left = (th - nh) // 2, (tw - nw) // 2
    return (top, left, top + nh, left + nw)


def resize_to_input(image: np.ndarray, spec: InputSpec,
                    input_size: tuple[int, int]) -> tuple[np.ndarray, Geometry]:
    """Resize an (H, W, 3) uint8 photo into the input's size (step 1).

    Returns
    -------
    canvas : ndarray of shape (h, w, 3), uint8
    geometry : Geometry
    """
    image_size = image.shape[:2]
    th, tw = input_size
    if spec.resize is ResizeMode.STRETCH:
        box = (0, 0, th, tw)
        return _resize(image, (th, tw)), Geometry(image_size, input_size, box)
    box = letterbox_box(image_size, input_size)
    r0, c0, r1, c1 = box
    canvas = np.full((th, tw, 3), spec.pad_value, np.uint8)
    canvas[r0:r1, c0:c1] = _resize(image, (r1 - r0, c1 - c0))
    return canvas, Geometry(image_size, input_size, box)


def normalize(canvas: np.ndarray, spec: InputSpec,
              dtype: np.dtype | type = np.float32) -> np.ndarray:
    """Colour order, scale, mean/std and layout (steps 2-4) of a resized photo.

    Parameters
    ----------
    canvas : ndarray of shape (h, w, 3), uint8
    spec : InputSpec
    dtype : numpy dtype
        The graph input's type: float32, float16, or uint8 (which takes the
        pixels as they are, so it needs scale 1, mean 0, std 1).

    Returns
    -------
    ndarray of shape (1, 3, h, w) or (1, h, w, 3)
    """
    order = (2, 1, 0) if spec.color_order is ColorOrder.BGR else (0, 1, 2)
    if np.dtype(dtype) == np.uint8:
        return _uint8_tensor(canvas, spec, order)
    mean = _three(spec.mean)
    std = _three(spec.std)
    scale = np.float32(spec.scale)
    if spec.layout is Layout.NCHW:
        out = np.empty((1, 3, *canvas.shape[:2]), np.float32)
        for channel, source in enumerate(order):
            plane = out[0, channel]
            plane[...] = canvas[..., source]
            plane *= scale
            plane -= mean[channel]
            plane /= std[channel]
    else:
        out = canvas[None, :, :, order].astype(np.float32)
        out *= scale
        out -= mean
        out /= std
    return out if np.dtype(dtype) == np.float32 else out.astype(dtype)


def preprocess(image: np.ndarray, spec: InputSpec, input_size: tuple[int, int],
               dtype: np.dtype | type = np.float32) -> tuple[np.ndarray, Geometry]:
    """Return the input tensor of an RGB photo and where the photo went.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8
    spec : InputSpec
    input_size : (height, width)
        The size fed (the manifest's, the graph's, or the photo's own).
    dtype : numpy dtype
        The graph input's element type.
    """
    image = as_rgb(image)
    canvas, geometry = resize_to_input(image, spec, input_size)
    return normalize(canvas, spec, dtype), geometry


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    h, w = size
    if image.shape[:2] == (h, w):
        return np.ascontiguousarray(image)
    return cv2.resize(image, (w, h), interpolation=interpolation(image.shape[:2], size))


def interpolation(source: tuple[int, int], target: tuple[int, int]) -> int:
    """The cv2 filter for a resize: area when it shrinks 2x or more, else bilinear.

    Below a factor of two, bilinear sampling still draws on every source pixel
    (and costs a sixth of ``INTER_AREA``'s general case); from two on it
    would skip pixels and alias, so the area average takes over.
    """
    (sh, sw), (th, tw) = source, target
    shrinks = th <= sh and tw <= sw
    return cv2.INTER_AREA if shrinks and (sh >= 2 * th or sw >= 2 * tw) else cv2.INTER_LINEAR


def _three(values: tuple[float, ...]) -> np.ndarray:
    return np.asarray(values * 3 if len(values) == 1 else values, np.float32)


def _uint8_tensor(canvas: np.ndarray, spec: InputSpec, order: tuple[int, int, int]) -> np.ndarray:
    if spec.scale != 1 or any(spec.mean) or any(s != 1 for s in spec.std):
        raise ModelError(f"input {spec.name!r} takes uint8 pixels: scale must be 1, mean 0, std 1")
    pixels = canvas[..., order]
    if spec.layout is Layout.NCHW:
        pixels = pixels.transpose(2, 0, 1)
    return np.ascontiguousarray(pixels[None])
