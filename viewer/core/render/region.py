"""Re-render only the box of the overlay that an edit changed.

A brush dab changes a few hundred pixels of a 4K map; colourizing the whole
frame again (and, for outlines, running the morphology over it) would cost
more than the 16 ms a dab may take end to end. :func:`render_region` writes
the new colours of the box, in place, into the layers :func:`render_overlay`
returned, so the canvas (which wraps those buffers without a copy) repaints
just that box.
"""

from __future__ import annotations

import numpy as np

from viewer.core.render.colorize import colorize
from viewer.core.render.outline import boundary_mask
from viewer.core.render.pipeline import OverlayLayers
from viewer.core.types import BBox


def grow_box(bbox: BBox, margin: int, height: int, width: int) -> BBox:
    """``bbox`` grown by ``margin`` pixels on every side, clipped to the frame."""
    r0, c0, r1, c1 = bbox
    return (max(r0 - margin, 0), max(c0 - margin, 0),
            min(r1 + margin, height), min(c1 + margin, width))


def render_region(labels: np.ndarray, lut: np.ndarray, layers: OverlayLayers, bbox: BBox,
                  thickness: int = 1) -> BBox:
    """Update ``layers`` where ``labels`` changed inside ``bbox``; return the box redrawn.

    The result equals rendering the whole frame again with the same ``lut``
    (the tests check this). The fill changes only inside ``bbox``; the
    outline band of a pixel depends on its neighbours up to ``thickness``
    away, so the outline is redrawn in ``bbox`` grown by ``thickness``, from
    labels grown by twice that (a crop border then never lies within reach
    of a redrawn pixel, and the frame border is handled as in the full render).

    Parameters
    ----------
    labels : ndarray of shape (H, W)
    lut : ndarray of shape (N,), uint32
        The colour table the layers were rendered with (ids beyond it clip to
        its last, transparent entry, as in :func:`colorize`).
    layers : OverlayLayers
        Buffers of shape (H, W, 4) to update in place.
    bbox : tuple of int
        ``(row0, col0, row1, col1)``, half-open.
    thickness : int
        The outline thickness the layers were rendered with.
    """
    height, width = labels.shape
    r0, c0, r1, c1 = grow_box(bbox, 0, height, width)
    if r0 >= r1 or c0 >= c1:
        return (r0, c0, r0, c0)
    if layers.fill is not None:
        layers.fill[r0:r1, c0:c1] = colorize(np.ascontiguousarray(labels[r0:r1, c0:c1]), lut,
                                             threads=1)
    if layers.outline is None:
        return (r0, c0, r1, c1)
    inner = grow_box(bbox, thickness, height, width)
    outer = grow_box(bbox, 2 * thickness, height, width)
    crop = np.ascontiguousarray(labels[outer[0]:outer[2], outer[1]:outer[3]])
    edge = boundary_mask(crop, thickness)
    colors = colorize(crop, lut, threads=1)
    colors.view(np.uint32)[..., 0][edge == 0] = 0
    ir0, ic0 = inner[0] - outer[0], inner[1] - outer[1]
    ir1, ic1 = ir0 + inner[2] - inner[0], ic0 + inner[3] - inner[1]
    layers.outline[inner[0]:inner[2], inner[1]:inner[3]] = colors[ir0:ir1, ic0:ic1]
    return inner
