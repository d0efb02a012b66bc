"""Render path: exact equality against straightforward references on small arrays."""

import numpy as np
import pytest

from viewer.core.render import (
    Mode,
    RenderSettings,
    Selection,
    blend,
    blend_rgba,
    boundary_mask,
    build_lut,
    colorize,
    pack,
    render_export,
    render_overlay,
)
from viewer.core.render.blend import blend_reference
from viewer.core.render.colorize import PARALLEL_MIN_PIXELS, colorize_reference
from viewer.core.render.outline import boundary_mask_reference
from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import Segmentation

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def _table():
    return SegmentTable([Segment(0, "background", color=(0, 0, 0), visible=False),
                         Segment(1, "a", color=RED), Segment(2, "b", color=GREEN),
                         Segment(3, "c", color=BLUE)])


def _expected_rgba(labels, colours):
    """Reference: a dict id -> RGBA filled pixel by pixel."""
    out = np.zeros((*labels.shape, 4), np.uint8)
    for (r, c), value in np.ndenumerate(labels):
        out[r, c] = colours.get(int(value), (0, 0, 0, 0))
    return out


def test_lut_colours_hidden_and_byte_order():
    lut = build_lut(_table())
    assert lut.dtype == np.uint32 and lut.size == 5  # ids 0..3 + one transparent spare
    rgba = lut.view(np.uint8).reshape(-1, 4)
    assert rgba[1].tolist() == [255, 0, 0, 255]
    assert rgba[0].tolist() == [0, 0, 0, 0]  # hidden
    assert rgba[4].tolist() == [0, 0, 0, 0]
    bgra = build_lut(_table(), order="bgra").view(np.uint8).reshape(-1, 4)
    assert bgra[1].tolist() == [0, 0, 255, 255]
    # little-endian 0xAARRGGBB, as Qt's ARGB32 reads it
    assert int(build_lut(_table(), order="bgra")[1]) == 0xFFFF0000


def test_premultiplied_and_selection():
    rgba = pack(np.array([[200, 100, 50, 128]], np.uint8), premultiplied=True).view(np.uint8)
    assert rgba.tolist() == [100, 50, 25, 128]
    table = _table()
    high = build_lut(table, selected={2}, selection=Selection.HIGHLIGHT, dim=0.5)
    alphas = high.view(np.uint8).reshape(-1, 4)[:, 3].tolist()
    assert alphas[:4] == [0, 128, 255, 128]
    iso = build_lut(table, selected={2}, selection="isolate")
    assert iso.view(np.uint8).reshape(-1, 4)[:, 3].tolist()[:4] == [0, 0, 255, 0]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32])
def test_colorize_equals_the_reference(dtype):
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 4, size=(7, 9)).astype(dtype)
    table = _table()
    table.update(3, visible=False)
    out = colorize(labels, build_lut(table))
    expected = _expected_rgba(labels, {1: (*RED, 255), 2: (*GREEN, 255)})
    np.testing.assert_array_equal(out, expected)


def test_colorize_two_threads_and_out_buffer():
    rng = np.random.default_rng(4)
    side = int(np.sqrt(PARALLEL_MIN_PIXELS)) + 20
    # uint32 ids: the threaded gather (uint8/uint16 go through cv2.LUT)
    labels = rng.integers(0, 5000, size=(side, side)).astype(np.uint32)
    lut = pack(rng.integers(0, 256, size=(5000, 4)).astype(np.uint8))
    out = np.empty((side, side, 4), np.uint8)
    result = colorize(labels, lut, out=out, threads=2)
    assert result is out
    np.testing.assert_array_equal(out, colorize_reference(labels, lut))
    np.testing.assert_array_equal(colorize(labels, lut, threads=1), out)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("entries", [3, 256, 300, 70000])
def test_table_lookup_clips_like_the_gather(dtype, entries):
    # uint8/uint16 maps take the cv2.LUT path; it must clip ids past the table as np.take does.
    rng = np.random.default_rng(5)
    labels = rng.integers(0, np.iinfo(dtype).max + 1, size=(40, 33)).astype(dtype)
    lut = pack(rng.integers(0, 256, size=(entries, 4)).astype(np.uint8))
    out = np.full((40, 33, 4), 7, np.uint8)
    assert colorize(labels, lut, out=out) is out
    np.testing.assert_array_equal(out, colorize_reference(labels, lut))
    strided = labels[:, ::2]
    np.testing.assert_array_equal(colorize(strided, lut), colorize_reference(strided, lut))


def test_ids_beyond_the_table_are_transparent():
    labels = np.array([[1, 200]], np.uint16)
    out = colorize(labels, build_lut(_table()))
    assert out[0, 1].tolist() == [0, 0, 0, 0]
    with pytest.raises(ValueError, match="out must be"):
        colorize(labels, build_lut(_table()), out=np.empty((1, 2, 3), np.uint8))


def test_boundary_mask_by_hand():
    labels = np.zeros((5, 5), np.uint8)
    labels[1:4, 1:4] = 1
    expected = np.full((5, 5), 255, np.uint8)
    expected[2, 2] = 0  # the only pixel whose whole 3x3 window is one segment
    np.testing.assert_array_equal(boundary_mask(labels, 1), expected)
    assert boundary_mask(np.ones((4, 4), np.uint8)).max() == 0  # the image frame is no edge


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32])
@pytest.mark.parametrize("thickness", [1, 2, 3])
def test_boundary_mask_matches_reference(dtype, thickness):
    rng = np.random.default_rng(thickness)
    labels = np.kron(rng.integers(0, 4, size=(6, 7)), np.ones((4, 4), int)).astype(dtype)
    np.testing.assert_array_equal(boundary_mask(labels, thickness),
                                  boundary_mask_reference(labels, thickness))
    with pytest.raises(ValueError):
        boundary_mask(labels, 0)


def test_render_overlay_modes():
    labels = np.zeros((6, 6), np.uint8)
    labels[1:5, 1:5] = 1
    labels[2:4, 2:4] = 2
    seg = Segmentation(labels, _table())
    filled = render_overlay(seg)
    assert filled.outline is None
    np.testing.assert_array_equal(
        filled.fill, _expected_rgba(labels, {1: (*RED, 255), 2: (*GREEN, 255)}))
    outline = render_overlay(seg, RenderSettings(mode=Mode.OUTLINE)).outline
    edge = boundary_mask_reference(labels, 1) > 0
    expected = np.where(edge[..., None], filled.fill, 0)
    np.testing.assert_array_equal(outline, expected)
    both = render_overlay(seg, RenderSettings(mode=Mode.FILLED_OUTLINE))
    np.testing.assert_array_equal(both.fill, filled.fill)
    np.testing.assert_array_equal(both.outline, expected)


def test_render_overlay_selected_and_hidden():
    labels = np.array([[0, 1, 2, 3]], np.uint8)
    table = _table()
    table.update(3, visible=False)
    seg = Segmentation(labels, table)
    iso = render_overlay(seg, RenderSettings(selected=frozenset({2}), selection=Selection.ISOLATE))
    np.testing.assert_array_equal(iso.fill, _expected_rgba(labels, {2: (*GREEN, 255)}))
    high = render_overlay(seg, RenderSettings(selected=frozenset({2}), selection=Selection.HIGHLIGHT,
                                              dim=0.2), premultiplied=True, order="bgra")
    # red dimmed to alpha 51 and premultiplied; green full; hidden blue transparent
    assert high.fill[0].tolist() == [[0, 0, 0, 0], [0, 0, 51, 51], [0, 255, 0, 255], [0, 0, 0, 0]]


def test_blend_full_and_masked():
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, size=(8, 9, 3)).astype(np.uint8)
    overlay = rng.integers(0, 256, size=(8, 9, 3)).astype(np.uint8)
    full = blend(image, overlay, 0.3)
    reference = image * 0.7 + overlay * 0.3
    assert np.abs(full.astype(float) - reference).max() <= 1.0
    mask = np.zeros((8, 9), np.uint8)
    mask[2:5, 3:7] = 255
    masked = blend(image, overlay, 0.3, mask=mask)
    np.testing.assert_array_equal(masked[mask == 0], image[mask == 0])
    np.testing.assert_array_equal(masked[mask > 0], full[mask > 0])
    with pytest.raises(ValueError, match="one shape"):
        blend(image, overlay[:4], 0.5)


def test_blend_in_two_bands_matches_one_band():
    # Frames this large are split between two threads; the result must not change.
    rng = np.random.default_rng(6)
    shape = (PARALLEL_MIN_PIXELS // 500 + 3, 500, 3)
    image = rng.integers(0, 256, size=shape).astype(np.uint8)
    overlay = rng.integers(0, 256, size=shape).astype(np.uint8)
    mask = (rng.random(shape[:2]) < 0.5).astype(np.uint8)
    import cv2
    whole = cv2.addWeighted(image, 0.6, overlay, 0.4, 0.0)
    np.testing.assert_array_equal(blend(image, overlay, 0.4), whole)
    out = image.copy()
    assert blend(image, overlay, 0.4, mask=mask, out=out) is out
    np.testing.assert_array_equal(out[mask > 0], whole[mask > 0])
    np.testing.assert_array_equal(out[mask == 0], image[mask == 0])


def test_blend_rgba_only_where_visible():
    rng = np.random.default_rng(6)
    image = rng.integers(0, 256, size=(10, 12, 3)).astype(np.uint8)
    overlay = rng.integers(0, 256, size=(10, 12, 4)).astype(np.uint8)
    overlay[..., 3] = rng.choice([0, 77, 255], size=(10, 12))
    out = blend_rgba(image, overlay, 0.6)
    hidden = overlay[..., 3] == 0
    np.testing.assert_array_equal(out[hidden], image[hidden])
    assert np.abs(out.astype(int) - blend_reference(image, overlay, 0.6)).max() <= 1


def test_render_export_keeps_background_pixels():
    labels = np.zeros((4, 4), np.uint8)
    labels[:2] = 1
    image = np.full((4, 4, 3), 100, np.uint8)
    seg = Segmentation(labels, _table())
    out = render_export(image, seg, 0.5)
    np.testing.assert_array_equal(out[2:], image[2:])
    assert np.abs(out[:2].astype(int) - [178, 50, 50]).max() <= 1
    assert image[0, 0].tolist() == [100, 100, 100]  # input untouched
    outline = render_export(image, seg, 0.0, RenderSettings(mode=Mode.FILLED_OUTLINE))
    assert outline[1, 0].tolist() == [255, 0, 0]  # outlines stay opaque at alpha 0
    assert outline[0, 0].tolist() == [100, 100, 100]
    with pytest.raises(ValueError, match="image is 3x4"):
        render_export(image[:, :3], seg, 0.5)
