"""Each output kind, gating and the return to full size, against numpy references."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx_graphs import argmax_map, conv1x1, gated, identity, manifest_for, unary

from viewer.core.errors import ModelError
from viewer.core.inference.manifest import manifest_from_json
from viewer.core.inference.postprocess import (
    argmax_planes,
    content_box,
    mean_confidence,
    restore_size,
    upscale_nearest,
)
from viewer.core.inference.preprocess import Geometry
from viewer.core.inference.runner import ModelRunner
from viewer.core.segmentation import Kind

F32 = np.float32


def distinct_values(rng, size=(8, 8), channels=3):
    """Pixels whose channels all differ (no argmax ties, so any reference agrees)."""
    values = np.stack([rng.choice(256, channels, replace=False) for _ in range(size[0] * size[1])])
    return values.reshape(*size, channels).astype(np.uint8)


def softmax_top(logits_hwc):
    x = logits_hwc.astype(np.float64)
    e = np.exp(x - x.max(axis=2, keepdims=True))
    return (e / e.sum(axis=2, keepdims=True)).max(axis=2)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


@pytest.fixture
def rng():
    return np.random.default_rng(3)


def test_logits_argmax_with_ties_and_softmax_confidence(tmp_path, rng):
    model = identity(tmp_path / "id.onnx")
    manifest = manifest_for(model, input_scale=1 / 16)
    image = rng.integers(0, 40, (8, 8, 3), dtype=np.uint8)  # small range: many ties
    prediction = ModelRunner(manifest).predict(image)
    np.testing.assert_array_equal(prediction.labels, image.argmax(axis=2))
    logits = image.astype(F32) * F32(1 / 16)
    np.testing.assert_allclose(prediction.confidence, softmax_top(logits), rtol=1e-6)
    assert prediction.labels.dtype == np.uint8 and prediction.confidence.dtype == np.float32


def test_probabilities_from_a_softmax_graph(tmp_path, rng):
    model = unary(tmp_path / "softmax.onnx", "Softmax", axis=1)
    manifest = manifest_for(model, kind="probabilities", input_scale=1 / 32)
    image = distinct_values(rng)
    prediction = ModelRunner(manifest).predict(image)
    np.testing.assert_array_equal(prediction.labels, image.argmax(axis=2))
    np.testing.assert_allclose(prediction.confidence, softmax_top(image / 32.0), atol=1e-6)


def test_one_channel_sigmoid_is_background_or_foreground(tmp_path, rng):
    model = conv1x1(tmp_path / "sig.onnx", [[1 / 64, 0, 0]], [-2.0], activation="Sigmoid")
    manifest = manifest_for(model, kind="sigmoid", names=("background", "person"))
    image = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    image[..., 0][image[..., 0] == 128] = 129  # p = 0.5 exactly is a float coin toss
    p = sigmoid(image[..., 0] / 64 - 2)
    for threshold in (None, 0.8):
        prediction = ModelRunner(manifest).predict(image, threshold=threshold)
        foreground = p > (threshold or 0.5)
        np.testing.assert_array_equal(prediction.labels, foreground)
        np.testing.assert_allclose(prediction.confidence, np.where(foreground, p, 1 - p),
                                   atol=1e-6)


def test_several_sigmoid_channels_are_classes_from_one(tmp_path, rng):
    weights = [[1 / 64, 0, 0], [0, 1 / 64, 0]]
    model = conv1x1(tmp_path / "sig2.onnx", weights, [-2.0, -2.0], activation="Sigmoid")
    manifest = manifest_for(model, kind="sigmoid", names=("background", "red", "green"),
                            threshold=0.6)
    image = distinct_values(rng)
    prediction = ModelRunner(manifest).predict(image)
    p = sigmoid(image[..., :2] / 64 - 2)
    top = p.max(axis=2)
    expected = np.where(top > 0.6, 1 + p.argmax(axis=2), 0)
    np.testing.assert_array_equal(prediction.labels, expected)
    np.testing.assert_allclose(prediction.confidence, np.where(top > 0.6, top, 1 - top), atol=1e-6)


def test_one_channel_logits_go_through_a_sigmoid(tmp_path, rng):
    model = conv1x1(tmp_path / "logit.onnx", [[1 / 64, 0, 0]], [-2.0])
    manifest = manifest_for(model, kind="logits", names=("background", "thing"))
    image = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    image[..., 0][image[..., 0] == 128] = 127
    prediction = ModelRunner(manifest).predict(image)
    p = sigmoid(image[..., 0] / 64 - 2)
    np.testing.assert_array_equal(prediction.labels, p > 0.5)
    np.testing.assert_allclose(prediction.confidence, np.maximum(p, 1 - p), atol=1e-6)


def test_class_map_passes_through(tmp_path, rng):
    model = argmax_map(tmp_path / "argmax.onnx")
    manifest = manifest_for(model, kind="class_map", class_axis=None)
    image = rng.integers(0, 40, (8, 8, 3), dtype=np.uint8)
    prediction = ModelRunner(manifest).predict(image)
    np.testing.assert_array_equal(prediction.labels, image.argmax(axis=2))
    assert prediction.confidence is None
    seg = prediction.to_segmentation()
    assert seg.confidence is None and {s.label for s in seg.table} <= {"a", "b", "c"}


def test_class_map_with_more_classes_than_named_is_an_error(tmp_path, rng):
    model = argmax_map(tmp_path / "argmax.onnx")
    manifest = manifest_for(model, kind="class_map", class_axis=None, names=("a", "b"))
    image = np.zeros((8, 8, 3), np.uint8)
    image[..., 2] = 9  # class 2 everywhere
    with pytest.raises(ModelError, match="holds classes 2..2 but the manifest names 2"):
        ModelRunner(manifest).predict(image)


def test_gate_keeps_part_labels_only_where_it_passes(tmp_path, rng):
    model = gated(tmp_path / "parts.onnx")
    manifest = manifest_for(model, layout="NHWC", class_axis=3,
                            names=("background", "p1", "p2", "p3"))
    doc = manifest.to_json()
    doc["outputs"] = [
        {"name": "parts", "kind": "logits", "class_axis": 3, "role": "labels", "class_offset": 1},
        {"name": "person", "kind": "logits", "class_axis": 3, "role": "gate", "threshold": 0.5},
    ]
    manifest = manifest_from_json(doc, manifest.path)
    image = distinct_values(rng)
    prediction = ModelRunner(manifest).predict(image)
    gate = sigmoid(image[..., 0].astype(np.float64) - 100)
    passes = gate > 0.5
    np.testing.assert_array_equal(prediction.labels, np.where(passes, 1 + image.argmax(axis=2), 0))
    expected = np.where(passes, softmax_top(image) * gate, 1 - gate)
    np.testing.assert_allclose(prediction.confidence, expected, atol=1e-6)


def test_letterbox_border_is_cut_before_the_nearest_upscale(tmp_path, rng):
    model = identity(tmp_path / "id.onnx")
    manifest = manifest_for(model, input_resize="letterbox")
    image = rng.integers(0, 256, (16, 32, 3), dtype=np.uint8)
    runner = ModelRunner(manifest)
    fed = runner.forward(runner.prepare(image)[0])["y"][0].transpose(1, 2, 0)
    prediction = runner.predict(image)
    content = fed[2:6].argmax(axis=2)  # the 4x8 photo inside the 8x8 input
    expected = np.repeat(np.repeat(content, 4, axis=0), 4, axis=1)
    np.testing.assert_array_equal(prediction.labels, expected)
    assert prediction.confidence.shape == (16, 32)


def test_restore_size_samples_pixel_centres():
    plane = np.arange(6, dtype=np.uint8).reshape(2, 3)
    geometry = Geometry((5, 7), (2, 3), (0, 0, 2, 3))
    rows = np.floor((np.arange(5) + 0.5) * 2 / 5).astype(int)
    cols = np.floor((np.arange(7) + 0.5) * 3 / 7).astype(int)
    np.testing.assert_array_equal(restore_size(plane, geometry), plane[rows][:, cols])


def test_content_box_of_a_smaller_output():
    geometry = Geometry((100, 200), (256, 256), (64, 0, 192, 256))
    assert content_box((256, 256), geometry) == (64, 0, 192, 256)
    assert content_box((32, 32), geometry) == (8, 0, 24, 32)
    assert content_box((17, 17), geometry) == (4, 0, 13, 17)


def test_more_channels_than_classes_is_an_error(tmp_path, rng):
    model = identity(tmp_path / "id.onnx")
    manifest = manifest_for(model, names=("a", "b"))
    with pytest.raises(ModelError, match="'y' gives 3 classes but the manifest names 2"):
        ModelRunner(manifest).predict(np.zeros((8, 8, 3), np.uint8))


def test_wrong_class_axis_is_an_error(tmp_path):
    model = identity(tmp_path / "id.onnx")
    manifest = manifest_for(model, class_axis=2)  # a spatial axis: 8 "classes" over 3 rows
    with pytest.raises(ModelError, match="gives 8 classes"):
        ModelRunner(manifest).predict(np.zeros((8, 8, 3), np.uint8))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.integers(0, 2**31 - 1))
def test_argmax_planes_matches_numpy_argmax(channels, seed):
    rng = np.random.default_rng(seed)
    planes = rng.integers(0, 4, (channels, 3, 5)).astype(F32)  # many ties
    dtype = np.uint8 if channels <= 256 else np.uint16
    index, top = argmax_planes(planes, dtype)
    np.testing.assert_array_equal(index, planes.argmax(axis=0))
    np.testing.assert_array_equal(top, planes.max(axis=0))
    assert index.dtype == dtype


def test_segmentation_from_a_model(tmp_path, rng):
    model = conv1x1(tmp_path / "sig.onnx", [[1 / 64, 0, 0]], [-2.0], activation="Sigmoid")
    manifest = manifest_for(model, kind="sigmoid", names=("background", "person"),
                            palette=[[0, 0, 0], [192, 128, 128]])
    image = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    seg = ModelRunner(manifest).run(image, source="photo.png")
    assert seg.kind is Kind.SEMANTIC
    background, person = seg.table[0], seg.table[1]
    assert (background.label, background.visible) == ("background", False)
    assert (person.label, person.color, person.visible) == ("person", (192, 128, 128), True)
    assert person.score == pytest.approx(float(seg.confidence[seg.labels == 1].mean()))
    assert seg.provenance.source == "photo.png"
    assert seg.provenance.details["model"]["id"] == "sig"
    assert seg.provenance.details["threshold"] == 0.5


@pytest.mark.parametrize(("small", "size"), [((7, 5), (23, 11)), ((5, 9), (5, 9)),
                                             ((257, 257), (1080, 1920)), ((9, 9), (4, 30))])
def test_mean_confidence_equals_the_mean_over_the_full_size_maps(rng, small, size):
    labels = rng.integers(0, 4, small).astype(np.uint8)
    confidence = rng.random(small).astype(F32)
    scores = mean_confidence(labels, confidence, size)
    full_labels = upscale_nearest(labels, size)
    full_confidence = upscale_nearest(confidence, size)
    expected = {int(i): float(full_confidence[full_labels == i].mean())
                for i in np.unique(full_labels)}
    assert scores.keys() == expected.keys()
    for i, value in expected.items():
        assert scores[i] == pytest.approx(value, rel=1e-6)
