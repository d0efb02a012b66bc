"""Render settings and the two renderings built from them.

- :func:`render_overlay` gives the overlay layers a canvas paints, with
  alpha applied later at paint time.
- :func:`render_export` blends the overlay into the photo on the CPU, for
  export ("burned-in" overlay PNGs and videos).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

import numpy as np

from viewer.core.render.blend import blend_rgba
from viewer.core.render.colorize import colorize
from viewer.core.render.lut import Selection, build_lut
from viewer.core.render.outline import boundary_mask
from viewer.core.segmentation import Segmentation


#: The widest outline band drawn (the settings' range too): the band's kernel is
#: (2t+1)^2, so an unbounded width is an allocation of any size.
MAX_THICKNESS = 50


class Mode(enum.StrEnum):
    """How segments are drawn."""

    FILLED = "filled"
    OUTLINE = "outline"
    FILLED_OUTLINE = "filled+outline"


@dataclass(frozen=True)
class RenderSettings:
    """Everything that decides the look of an overlay (except global alpha).

    Attributes
    ----------
    mode : Mode
    thickness : int
        Outline band width in pixels.
    selected : frozenset of int
        Selected segment ids.
    selection : Selection
        How the selection is shown.
    dim : float
        Alpha factor of unselected segments when highlighting.
    """

    mode: Mode = Mode.FILLED
    thickness: int = 1
    selected: frozenset[int] = field(default_factory=frozenset)
    selection: Selection = Selection.NONE
    dim: float = 0.3

    def __post_init__(self):
        # Accept plain strings and any iterable of ids (Qt item data gives strings back).
        object.__setattr__(self, "mode", Mode(self.mode))
        object.__setattr__(self, "selection", Selection(self.selection))
        object.__setattr__(self, "selected", frozenset(int(i) for i in self.selected))
        if not 1 <= self.thickness <= MAX_THICKNESS:
            raise ValueError(f"outline thickness must be in 1..{MAX_THICKNESS}, "
                             f"got {self.thickness}")

    def with_(self, **changes) -> RenderSettings:
        """Return a copy with ``changes`` applied."""
        return replace(self, **changes)


@dataclass
class OverlayLayers:
    """The overlay as two RGBA layers: fill (shown at the user's alpha) and
    outline (shown opaque). Either may be None when the mode does not draw it.
    ``lut`` is the colour table they were rendered with, kept so an edit can
    re-render just its box (:func:`viewer.core.render.region.render_region`)."""

    fill: np.ndarray | None
    outline: np.ndarray | None
    lut: np.ndarray | None = None


def render_overlay(seg: Segmentation, settings: RenderSettings = RenderSettings(), *,
                   order: str = "rgba", premultiplied: bool = False) -> OverlayLayers:
    """Colourize ``seg`` as ``settings`` say.

    Parameters
    ----------
    seg : Segmentation
    settings : RenderSettings
    order : {"rgba", "bgra"}
        Byte order of the result (see :mod:`viewer.core.render.lut`).
    premultiplied : bool
        Premultiply colours by alpha.

    Returns
    -------
    OverlayLayers
        Arrays of shape (H, W, 4), uint8.
    """
    # The table covers every id in the map (Segmentation.refresh_stats adds missing
    # rows), and colorize clips larger ids to the transparent last entry, so no
    # labels.max() pass over the frame is needed here.
    lut = build_lut(seg.table, order=order,
                    premultiplied=premultiplied, selected=settings.selected,
                    selection=settings.selection, dim=settings.dim)
    fill = outline = None
    if settings.mode in (Mode.FILLED, Mode.FILLED_OUTLINE):
        fill = colorize(seg.labels, lut)
    if settings.mode in (Mode.OUTLINE, Mode.FILLED_OUTLINE):
        outline = outline_layer(seg.labels, lut, settings.thickness,
                                source=fill)
    return OverlayLayers(fill, outline, lut)


def outline_layer(labels: np.ndarray, lut: np.ndarray, thickness: int,
                  source: np.ndarray | None = None) -> np.ndarray:
    """Colourize only the boundary band of every segment.

    Parameters
    ----------
    labels : ndarray of shape (H, W)
    lut : ndarray of shape (N,), uint32
    thickness : int
    source : ndarray of shape (H, W, 4), optional
        The already colourized fill, reused instead of gathering again.
    """
    colors = colorize(labels, lut) if source is None else source.copy()
    edge = boundary_mask(labels, thickness)
    # Keep colours on the band, zero (transparent) elsewhere: one uint32 multiply.
    np.multiply(colors.view(np.uint32), (edge.reshape(*edge.shape, 1) // 255).astype(np.uint32),
                out=colors.view(np.uint32))
    return colors


def render_export(image: np.ndarray, seg: Segmentation, alpha: float,
                  settings: RenderSettings = RenderSettings()) -> np.ndarray:
    """Return the photo with the overlay blended in, as the canvas shows it.

    The fill is blended at ``alpha`` (scaled by each segment's own alpha:
    dimmed when highlighting), the outline at full strength; pixels of hidden
    segments and of the background keep the photo unchanged.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8, RGB
    seg : Segmentation
        Must have the image's height and width.
    alpha : float
    settings : RenderSettings

    Returns
    -------
    ndarray of shape (H, W, 3), uint8
    """
    if image.shape[:2] != seg.shape:
        raise ValueError(f"image is {image.shape[1]}x{image.shape[0]}, mask {seg.width}x{seg.height}")
    layers = render_overlay(seg, settings)
    out = image
    if layers.fill is not None:
        out = blend_rgba(out, layers.fill, alpha)
    if layers.outline is not None:
        out = blend_rgba(out, layers.outline, 1.0)
    return out if out is not image else image.copy()
