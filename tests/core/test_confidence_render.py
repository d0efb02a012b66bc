"""Confidence heatmap and uncertain regions, checked exactly on small maps."""

import numpy as np
import pytest

from viewer.core.render.confidence import (
    LOW_COLOR,
    confidence_overlay,
    heatmap_table,
    quantize,
    uncertain_regions,
)


def test_quantize_rounds_and_clips():
    conf = np.array([[0.0, 0.5, 1.0, np.nan, 1.2, -0.1]], np.float32)
    assert quantize(conf).tolist() == [[0, 128, 255, 0, 255, 0]]


def test_heatmap_is_the_ramp_and_low_pixels_are_marked():
    conf = np.array([[0.1, 0.6, 0.95, np.nan]], np.float32)
    table = heatmap_table()
    rgba = confidence_overlay(conf, order="rgba")
    levels = quantize(conf)[0]
    assert rgba[0, :, :3].tolist() == table[levels].tolist()
    assert (rgba[..., 3] == 255).all()
    marked = confidence_overlay(conf, threshold=0.5, order="rgba")
    assert tuple(marked[0, 0, :3]) == LOW_COLOR and tuple(marked[0, 3, :3]) == LOW_COLOR
    assert marked[0, 1:3, :3].tolist() == table[levels[1:3]].tolist()
    bgra = confidence_overlay(conf, threshold=0.5)
    assert bgra[..., :3].tolist() == marked[..., 2::-1].tolist()
    with pytest.raises(ValueError, match="order"):
        confidence_overlay(conf, order="argb")


def test_threshold_edge_matches_the_comparison_on_levels():
    conf = (np.arange(256, dtype=np.float32) / 255.0).reshape(16, 16)
    marked = confidence_overlay(conf, threshold=0.5, order="rgba")
    low = (marked[..., :3] == LOW_COLOR).all(axis=-1)
    assert np.array_equal(low, conf < 0.5)


def test_uncertain_regions_largest_first_with_their_boxes():
    conf = np.ones((20, 30), np.float32)
    conf[2:6, 3:9] = 0.2       # 24 px
    conf[10:18, 20:28] = 0.4   # 64 px
    conf[0, 29] = 0.1          # 1 px: below min_area
    conf[15, 2] = np.nan       # NaN counts as unsure, but alone
    regions = uncertain_regions(conf, 0.5, min_area=4)
    assert [r.bbox for r in regions] == [(10, 20, 18, 28), (2, 3, 6, 9)]
    assert [r.area for r in regions] == [64, 24]
    assert regions[0].mean_confidence == pytest.approx(0.4)
    assert regions[1].centroid == pytest.approx((3.5, 5.5))
    assert uncertain_regions(np.ones((4, 4), np.float32), 0.5) == []
