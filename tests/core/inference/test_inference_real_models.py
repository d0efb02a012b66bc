"""Real models on real photos: the bundled selfie model, and DeepLab / BodyPix from ../shared."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from viewer import _paths
from viewer.core.formats.registry import read_mask
from viewer.core.images import read_image
from viewer.core.inference.manifest import manifest_from_json
from viewer.core.inference.registry import file_sha256, find_model
from viewer.core.inference.runner import ModelRunner

SAMPLES = Path(__file__).resolve().parents[4] / "shared" / "samples"
VOC = ("background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
       "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
       "sheep", "sofa", "train", "tvmonitor")
PERSON, BUS, CAT = 15, 6, 8
BODY_PARTS = (
    "left_face", "right_face", "left_upper_arm_front", "left_upper_arm_back",
    "right_upper_arm_front", "right_upper_arm_back", "left_lower_arm_front",
    "left_lower_arm_back", "right_lower_arm_front", "right_lower_arm_back", "left_hand",
    "right_hand", "torso_front", "torso_back", "left_upper_leg_front", "left_upper_leg_back",
    "right_upper_leg_front", "right_upper_leg_back", "left_lower_leg_front",
    "left_lower_leg_back", "right_lower_leg_front", "right_lower_leg_back", "left_foot",
    "right_foot")
# Top-right corner of the astronaut photo: backdrop and the shuttle model, nobody.
TOP_RIGHT = (slice(0, 128), slice(384, 512))


def iou(a, b):
    return np.count_nonzero(a & b) / np.count_nonzero(a | b)


@pytest.fixture(scope="module")
def astronaut():
    return read_image(_paths.sample_image())


@pytest.fixture(scope="module")
def sample_person():
    return read_mask(_paths.sample_mask()).to_values() == PERSON


def deeplab_manifest(path):
    return manifest_from_json({
        "schema": "segview-model", "schema_version": 1, "id": "deeplab", "name": "DeepLabV3 VOC",
        "file": str(path), "sha256": file_sha256(path), "licence": "Apache-2.0",
        "source": "../shared/models (test only)",
        "input": {"name": "input", "size": [257, 257], "layout": "NCHW", "color_order": "RGB",
                  "scale": 1 / 127.5, "mean": 1.0, "std": 1.0, "resize": "stretch"},
        "outputs": [{"name": "output", "kind": "logits", "class_axis": 1}],
        "class_names": list(VOC), "palette": "voc",
    })


def test_selfie_model_finds_the_astronaut(astronaut, sample_person):
    seg = ModelRunner(find_model("selfie")).run(astronaut)
    person = seg.labels == 1
    assert seg.shape == astronaut.shape[:2]
    assert iou(person, sample_person) > 0.85
    assert person[TOP_RIGHT].mean() < 0.05
    assert seg.table[1].label == "person" and 0.9 < seg.table[1].score <= 1.0
    assert seg.confidence.min() >= 0.5 and seg.confidence.max() <= 1.0  # p or 1 - p at 0.5


def test_selfie_model_from_the_file(tmp_path, astronaut, sample_person):
    photo = tmp_path / "astronaut.jpg"
    Image.fromarray(astronaut).resize((1024, 1024)).save(photo, quality=92)
    seg = ModelRunner(find_model("selfie")).run_file(photo)
    assert seg.shape == (1024, 1024)
    assert seg.provenance.details["decoded_at"] == [256, 256]
    small = np.asarray(Image.fromarray(seg.labels).resize((512, 512), Image.NEAREST))
    assert iou(small == 1, sample_person) > 0.85


def test_deeplab_finds_the_person(shared_model, astronaut, sample_person):
    seg = ModelRunner(deeplab_manifest(shared_model("deeplabv3_257_mv_gpu.onnx"))).run(astronaut)
    counts = np.bincount(seg.labels.ravel(), minlength=21)
    assert counts[1:].argmax() + 1 == PERSON
    assert 0.35 < counts[PERSON] / seg.labels.size < 0.6  # MODELS.md: 46 %
    assert iou(seg.labels == PERSON, sample_person) > 0.6  # 0.76: DeepLab leaves out the helmet
    assert (seg.labels[TOP_RIGHT] == PERSON).mean() < 0.05
    assert seg.table[PERSON].label == "person" and seg.table[PERSON].color == (192, 128, 128)


def test_deeplab_finds_the_bus_in_a_voc_photo(shared_model):
    photo = SAMPLES / "labelme/semantic_segmentation/data_dataset_voc/JPEGImages/2011_000025.jpg"
    truth = photo.parents[1] / "SegmentationClass" / "2011_000025.png"
    if not photo.is_file():
        pytest.skip("the VOC bus photo is not in ../shared/samples")
    runner = ModelRunner(deeplab_manifest(shared_model("deeplabv3_257_mv_gpu.onnx")))
    seg = runner.run_file(photo)
    expected = np.asarray(Image.open(truth))
    assert seg.shape == expected.shape
    assert iou(seg.labels == BUS, expected == BUS) > 0.7


def test_deeplab_finds_a_cat(shared_model):
    cats = sorted(p for p in SAMPLES.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")
                  and any(k in p.stem.lower() for k in ("cat", "chelsea", "kitten")))
    if not cats:
        pytest.skip("no cat photo in ../shared/samples")
    runner = ModelRunner(deeplab_manifest(shared_model("deeplabv3_257_mv_gpu.onnx")))
    counts = np.bincount(runner.run_file(cats[0]).labels.ravel(), minlength=21)
    assert counts[1:].argmax() + 1 == CAT


def test_bodypix_parts_gated_by_its_person_mask(shared_model, astronaut):
    path = shared_model("bodypix_mobilenetv1_x050_stride16.onnx")
    manifest = manifest_from_json({
        "schema": "segview-model", "schema_version": 1, "id": "bodypix", "name": "BodyPix",
        "file": str(path), "sha256": file_sha256(path), "licence": "Apache-2.0",
        "source": "../shared/models (test only)",
        "input": {"name": "input", "size": [513, 513], "layout": "NHWC", "color_order": "RGB",
                  "scale": 1 / 127.5, "mean": 1.0, "std": 1.0, "resize": "stretch"},
        "outputs": [
            {"name": "part_heatmaps", "kind": "logits", "class_axis": 3, "role": "labels",
             "class_offset": 1},
            {"name": "segments", "kind": "logits", "class_axis": 3, "role": "gate",
             "threshold": 0.5},
        ],
        "class_names": ["background", *BODY_PARTS],
    })
    seg = ModelRunner(manifest).run(astronaut)
    person = seg.labels > 0
    assert 0.35 < person.mean() < 0.65  # MODELS.md: 48 %
    present = {s.label for s in seg.table if s.area}
    assert {"torso_front", "left_face", "right_face"} <= present
    face_rows = np.nonzero(np.isin(seg.labels, [1, 2]).any(axis=1))[0]
    assert face_rows.mean() < 200  # the face is in the upper part of the photo
