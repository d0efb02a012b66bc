"""Redrawing only an edited box gives the same overlay as a full render."""

import numpy as np
import pytest

from viewer.core.render import Mode, RenderSettings, render_overlay
from viewer.core.render.region import grow_box, render_region
from viewer.core.segmentation import Segmentation


def _seg(dtype, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 6, (40, 50)).astype(dtype)
    labels[5:30, 8:40] = 3  # a large region, so outlines have interiors too
    return Segmentation(labels)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize("thickness", [1, 3])
@pytest.mark.parametrize("box", [(10, 12, 14, 20), (0, 0, 3, 4), (36, 44, 40, 50), (0, 0, 40, 50)])
def test_region_equals_full_render(dtype, mode, thickness, box):
    seg = _seg(dtype)
    settings = RenderSettings(mode=mode, thickness=thickness)
    layers = render_overlay(seg, settings, order="bgra", premultiplied=True)
    r0, c0, r1, c1 = box
    seg.labels[r0:r1, c0:c1] = 5  # an edit inside the box
    seg.labels[r0, c0] = 1
    drawn = render_region(seg.labels, layers.lut, layers, box, thickness)
    full = render_overlay(seg, settings, order="bgra", premultiplied=True)
    for got, want in ((layers.fill, full.fill), (layers.outline, full.outline)):
        assert (got is None) == (want is None)
        if got is not None:
            assert np.array_equal(got, want)
    outline = mode != Mode.FILLED
    assert drawn == (grow_box(box, thickness, 40, 50) if outline else box)


def test_pixels_outside_the_redrawn_box_are_left_alone():
    seg = _seg(np.uint16)
    layers = render_overlay(seg, RenderSettings(mode=Mode.FILLED_OUTLINE))
    layers.fill[:] = 7  # a marker: only the box may be overwritten
    layers.outline[:] = 7
    box = render_region(seg.labels, layers.lut, layers, (20, 20, 22, 25), 1)
    outside = np.ones((40, 50), bool)
    outside[box[0]:box[2], box[1]:box[3]] = False
    assert (layers.fill[outside] == 7).all() and (layers.outline[outside] == 7).all()
    assert not (layers.fill[20:22, 20:25] == 7).all()


def test_an_empty_box_draws_nothing():
    seg = _seg(np.uint8)
    layers = render_overlay(seg)
    before = layers.fill.copy()
    box = render_region(seg.labels, layers.lut, layers, (5, 5, 5, 9), 1)
    assert box[0] == box[2] and np.array_equal(layers.fill, before)
