"""segment_images: a task that reports a failing photo and goes on."""

from dataclasses import replace

import numpy as np
import pytest
from onnx_graphs import conv1x1, identity, manifest_for
from PIL import Image

from viewer.core.errors import ModelError, ReadError
from viewer.core.inference.runner import ModelRunner
from viewer.core.inference.tasks import segment_images
from viewer.core.tasks import drain


@pytest.fixture
def photos(tmp_path):
    paths = []
    for name, colour in (("red.png", (200, 0, 0)), ("blue.jpg", (0, 0, 200))):
        Image.new("RGB", (16, 12), colour).save(tmp_path / name)
        paths.append(tmp_path / name)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return [paths[0], broken, tmp_path / "missing.png", paths[1]]


def test_a_failing_photo_is_reported_and_the_batch_goes_on(tmp_path, photos):
    runner = ModelRunner(manifest_for(identity(tmp_path / "id.onnx")))
    progress = []
    results = drain(segment_images(runner, photos), progress.append)
    assert [r.path for r in results] == photos
    assert [r.ok for r in results] == [True, False, False, True]
    assert isinstance(results[1].error, ReadError) and "broken.png" in str(results[1].error)
    assert "file not found" in str(results[2].error)
    assert (results[0].segmentation.labels == 0).all()  # red
    assert (results[3].segmentation.labels == 2).all()  # blue
    assert results[0].segmentation.shape == (12, 16)
    assert progress[-1].done == progress[-1].total == 4
    assert [p.message for p in progress][:3] == ["Loading the model", "Segmenting red.png",
                                                 "Segmenting broken.png"]


def test_results_can_be_streamed_without_keeping_them(tmp_path, photos):
    runner = ModelRunner(manifest_for(identity(tmp_path / "id.onnx")))
    seen = []
    results = drain(segment_images(runner, photos, on_result=seen.append, keep=False))
    assert [r.segmentation is not None for r in seen] == [True, False, False, True]
    assert all(r.segmentation is None for r in results)
    assert [r.ok for r in results] == [True, False, False, True]


def test_a_model_that_cannot_load_fails_the_task(tmp_path, photos):
    manifest = replace(manifest_for(identity(tmp_path / "id.onnx")), sha256="f" * 64)
    with pytest.raises(ModelError, match="sha256 mismatch"):
        drain(segment_images(ModelRunner(manifest), photos))


def test_threshold_reaches_the_model(tmp_path):
    model = conv1x1(tmp_path / "sig.onnx", [[1 / 255, 0, 0]], [0.0], size=(4, 4),
                    activation="Sigmoid")
    manifest = manifest_for(model, size=(4, 4), kind="sigmoid", names=("bg", "red"))
    photo = tmp_path / "red.png"
    Image.new("RGB", (4, 4), (255, 0, 0)).save(photo)  # p = sigmoid(1) = 0.73
    runner = ModelRunner(manifest)
    low, = drain(segment_images(runner, [photo], threshold=0.7))
    high, = drain(segment_images(runner, [photo], threshold=0.75))
    assert np.all(low.segmentation.labels == 1) and np.all(high.segmentation.labels == 0)
