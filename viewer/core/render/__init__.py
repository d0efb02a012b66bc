"""The render path: label map + colour tables -> RGBA, pure numpy/OpenCV."""

from viewer.core.render.blend import blend, blend_rgba
from viewer.core.render.colorize import colorize
from viewer.core.render.lut import Selection, build_lut, pack
from viewer.core.render.outline import boundary_mask
from viewer.core.render.pipeline import (
    Mode,
    OverlayLayers,
    RenderSettings,
    outline_layer,
    render_export,
    render_overlay,
)

__all__ = [
    "Mode", "OverlayLayers", "RenderSettings", "Selection", "blend", "blend_rgba",
    "boundary_mask", "build_lut", "colorize", "outline_layer", "pack", "render_export",
    "render_overlay",
]
