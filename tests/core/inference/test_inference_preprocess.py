"""Every pre-processing option, checked bit for bit against numpy references.

An Identity graph returns exactly the tensor the runner fed it, so each test
runs the whole feeding path (runner.prepare -> onnxruntime -> output).
"""

import numpy as np
import pytest
from onnx import TensorProto
from onnx_graphs import identity, manifest_for

from viewer.core.errors import ModelError
from viewer.core.inference.preprocess import letterbox_box, preprocess
from viewer.core.inference.runner import ModelRunner

F32 = np.float32


def fed(manifest, image):
    """The tensor the model received, as the Identity graph gives it back."""
    runner = ModelRunner(manifest)
    tensor, geometry = runner.prepare(image)
    out = runner.forward(tensor)["y"]
    np.testing.assert_array_equal(out, tensor)
    return out, geometry


def nchw(image_hwc):
    return image_hwc.transpose(2, 0, 1)[None].astype(F32)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_same_size_is_fed_as_is_in_nchw(tmp_path, rng):
    model = identity(tmp_path / "id.onnx")
    image = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    out, geometry = fed(manifest_for(model), image)
    np.testing.assert_array_equal(out, nchw(image))
    assert geometry.content == (0, 0, 8, 8)


def test_stretch_shrinks_by_area_average(tmp_path, rng):
    model = identity(tmp_path / "id.onnx")
    image = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    out, _ = fed(manifest_for(model), image)
    # Integer factor 2: the mean of each 2x2 block, rounded half up.
    blocks = image.reshape(8, 2, 8, 2, 3).astype(np.int64).sum(axis=(1, 3))
    np.testing.assert_array_equal(out, nchw((blocks + 2) // 4))


def test_stretch_with_two_factors_averages_each_block(tmp_path, rng):
    model = identity(tmp_path / "id.onnx")
    image = rng.integers(0, 256, (16, 32, 3), dtype=np.uint8)  # 2x rows, 4x columns
    out, geometry = fed(manifest_for(model), image)
    blocks = image.reshape(8, 2, 8, 4, 3).astype(np.float64).sum(axis=(1, 3))
    np.testing.assert_array_equal(out, nchw(np.rint(blocks / 8)))  # half to even
    assert geometry.image_size == (16, 32) and geometry.content == (0, 0, 8, 8)


def test_stretch_enlarges_bilinearly_at_pixel_centres(tmp_path, rng):
    model = identity(tmp_path / "id.onnx")
    # Multiples of 16 make the 2x bilinear values whole numbers: no rounding rule involved.
    small = (rng.integers(0, 16, (4, 4, 3)) * 16).astype(np.uint8)
    out, _ = fed(manifest_for(model), small)
    src = np.clip((np.arange(8) + 0.5) / 2 - 0.5, 0, 3)
    i0 = np.floor(src).astype(int)
    i1 = np.minimum(i0 + 1, 3)
    f = src - i0
    x = small.astype(np.float64)
    rows = x[i0] * (1 - f)[:, None, None] + x[i1] * f[:, None, None]
    expected = rows[:, i0] * (1 - f)[None, :, None] + rows[:, i1] * f[None, :, None]
    np.testing.assert_array_equal(out, nchw(expected))


def test_letterbox_centres_the_photo_and_pads(tmp_path, rng):
    model = identity(tmp_path / "id.onnx")
    manifest = manifest_for(model, input_resize="letterbox", input_pad_value=114)
    image = rng.integers(0, 256, (16, 32, 3), dtype=np.uint8)  # wide: bars above and below
    out, geometry = fed(manifest, image)
    expected = np.full((8, 8, 3), 114, np.int64)
    blocks = image.reshape(4, 4, 8, 4, 3).astype(np.int64).sum(axis=(1, 3))
    expected[2:6] = np.rint(blocks / 16)  # factor 4 both ways: rounded half to even
    np.testing.assert_array_equal(out, nchw(expected))
    assert geometry.content == (2, 0, 6, 8)


@pytest.mark.parametrize(("image_size", "input_size", "box"), [
    ((16, 32), (8, 8), (2, 0, 6, 8)),
    ((32, 16), (8, 8), (0, 2, 8, 6)),
    ((10, 10), (8, 16), (0, 4, 8, 12)),
    ((480, 640), (256, 256), (32, 0, 224, 256)),
    ((1, 1000), (8, 8), (3, 0, 4, 8)),  # never thinner than one pixel
])
def test_letterbox_box(image_size, input_size, box):
    assert letterbox_box(image_size, input_size) == box


def test_bgr_reverses_the_channels(tmp_path, rng):
    model = identity(tmp_path / "id.onnx")
    image = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    out, _ = fed(manifest_for(model, input_color_order="BGR"), image)
    np.testing.assert_array_equal(out, nchw(image[..., ::-1]))


def test_nhwc_layout(tmp_path, rng):
    model = identity(tmp_path / "id.onnx", shape=(1, 8, 8, 3))
    image = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    manifest = manifest_for(model, layout="NHWC", input_color_order="BGR", class_axis=3)
    out, _ = fed(manifest, image)
    np.testing.assert_array_equal(out, image[None, ..., ::-1].astype(F32))


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_scale_then_mean_then_std_per_channel(tmp_path, rng, layout):
    shape = (1, 3, 8, 8) if layout == "NCHW" else (1, 8, 8, 3)
    model = identity(tmp_path / "id.onnx", shape=shape)
    scale, mean, std = 1 / 255, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    manifest = manifest_for(model, layout=layout, class_axis=1 if layout == "NCHW" else 3,
                            input_scale=scale, input_mean=mean, input_std=std)
    image = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    out, _ = fed(manifest, image)
    expected = (image.astype(F32) * F32(scale) - np.array(mean, F32)) / np.array(std, F32)
    expected = expected[None] if layout == "NHWC" else expected.transpose(2, 0, 1)[None]
    np.testing.assert_array_equal(out, expected)


def test_scalar_mean_and_std_apply_to_every_channel(tmp_path, rng):
    model = identity(tmp_path / "id.onnx")
    manifest = manifest_for(model, input_scale=1 / 127.5, input_mean=1.0, input_std=1.0)
    image = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    out, _ = fed(manifest, image)
    np.testing.assert_array_equal(out, nchw(image) * F32(1 / 127.5) - F32(1.0))
    assert out.min() >= -1 and out.max() <= 1


def test_uint8_input_graph_gets_the_pixels(tmp_path, rng):
    model = identity(tmp_path / "id.onnx", elem=TensorProto.UINT8)
    image = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    out, _ = fed(manifest_for(model), image)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, image.transpose(2, 0, 1)[None])


def test_uint8_input_graph_refuses_scaling(tmp_path):
    model = identity(tmp_path / "id.onnx", elem=TensorProto.UINT8)
    runner = ModelRunner(manifest_for(model, input_scale=0.5))
    with pytest.raises(ModelError, match="uint8 pixels: scale must be 1"):
        runner.prepare(np.zeros((8, 8, 3), np.uint8))


def test_float16_input_graph(tmp_path, rng):
    model = identity(tmp_path / "id.onnx", elem=TensorProto.FLOAT16)
    image = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    out, _ = fed(manifest_for(model, input_scale=1 / 255), image)
    assert out.dtype == np.float16
    np.testing.assert_array_equal(out, (nchw(image) * F32(1 / 255)).astype(np.float16))


def test_grey_and_rgba_photos_are_accepted(tmp_path, rng):
    model = identity(tmp_path / "id.onnx")
    grey = rng.integers(0, 256, (8, 8), dtype=np.uint8)
    out, _ = fed(manifest_for(model), grey)
    np.testing.assert_array_equal(out, nchw(np.dstack([grey] * 3)))
    rgba = rng.integers(0, 256, (8, 8, 4), dtype=np.uint8)
    out, _ = fed(manifest_for(model), rgba)
    np.testing.assert_array_equal(out, nchw(rgba[..., :3]))


@pytest.mark.parametrize("image", [np.zeros((8, 8, 2), np.uint8), np.zeros((8, 8, 3), np.float32),
                                   np.zeros((2, 8, 8, 3), np.uint8), np.zeros((0, 8, 3), np.uint8)])
def test_photos_that_cannot_be_fed(tmp_path, image):
    model = identity(tmp_path / "id.onnx")
    with pytest.raises(ModelError, match="cannot feed|uint8"):
        ModelRunner(manifest_for(model)).prepare(image)


def test_dynamic_size_feeds_the_photo_as_it_is(tmp_path, rng):
    model = identity(tmp_path / "id.onnx", shape=(1, 3, "h", "w"))
    image = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    out, geometry = fed(manifest_for(model, size=None), image)
    np.testing.assert_array_equal(out, nchw(image))
    assert geometry.input_size == (5, 7)


def test_preprocess_function_matches_the_runner(tmp_path, rng):
    model = identity(tmp_path / "id.onnx")
    manifest = manifest_for(model, input_resize="letterbox", input_scale=0.5)
    image = rng.integers(0, 256, (12, 20, 3), dtype=np.uint8)
    tensor, geometry = preprocess(image, manifest.input, (8, 8))
    out, fed_geometry = fed(manifest, image)
    np.testing.assert_array_equal(out, tensor)
    assert geometry == fed_geometry
