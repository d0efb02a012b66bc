"""COCO instance/results files: exact RLE, overlaps kept, round trips, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pycocotools import mask as mask_utils

from viewer.core.errors import ReadError
from viewer.core.formats import coco_rle
from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import BACKGROUND_NAMES, FullMask, Kind, Segmentation

RESULTS = "coco-rle-cocoapi/instances_val2014_fakesegm100_results.json"
DATUMARO = "datumaro-format-assets/coco_dataset/coco_instances/annotations"
DATUMARO_VAL = f"{DATUMARO}/instances_val.json"
DATUMARO_TRAIN = f"{DATUMARO}/instances_train.json"
PANOPTIC_AS_DETECTION = "coco-panoptic-panopticapi/sample_data/panoptic_coco_detection_format.json"
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def coco_instances(values: np.ndarray, names: dict[int, str]) -> Segmentation:
    """A semantic map as COCO holds it: one instance per class present.

    Background-named classes stay unlabelled pixels (id 0); the others get ids
    1..N in ascending class order, which is the order the reader numbers the
    annotations in.
    """
    present = [int(v) for v in np.unique(values)]
    things = [v for v in present if names[v].lower() not in BACKGROUND_NAMES]
    lut = np.zeros(max(present) + 1, np.uint8)
    rows = []
    for seg_id, value in enumerate(things, start=1):
        lut[value] = seg_id
        rows.append(Segment(seg_id, label=names[value], class_id=value, instance=1))
    if len(things) < len(present):
        rows.append(Segment(0, label="background", visible=False))
    return Segmentation(lut[values], SegmentTable(rows), kind=Kind.INSTANCE)


def overlapping(masks: list[np.ndarray]) -> Segmentation:
    """Instances painted the way the reader paints annotation files (largest first)."""
    order = sorted(range(len(masks)), key=lambda i: -int(masks[i].sum()))
    labels = np.zeros(masks[0].shape, np.uint8)
    for i in order:
        labels[masks[i]] = i + 1
    full = {}
    for i, mask in enumerate(masks):
        if (mask & (labels != i + 1)).any():
            rows, cols = np.nonzero(mask)
            box = (int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1)
            full[i + 1] = FullMask(box, mask[box[0]:box[2], box[1]:box[3]].copy())
    table = SegmentTable([Segment(i + 1, label=f"thing{i % 3}", class_id=i % 3 + 1,
                                  instance=i // 3 + 1) for i in range(len(masks))])
    return Segmentation(labels, table, kind=Kind.INSTANCE, full_masks=full)


label_maps = hnp.arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12)),
                        elements=st.integers(0, 20))


@st.composite
def rectangles(draw):
    height, width = draw(st.integers(2, 12)), draw(st.integers(2, 12))
    masks = []
    for _ in range(draw(st.integers(1, 5))):
        r0, c0 = draw(st.integers(0, height - 1)), draw(st.integers(0, width - 1))
        r1, c1 = draw(st.integers(r0 + 1, height)), draw(st.integers(c0 + 1, width))
        mask = np.zeros((height, width), bool)
        mask[r0:r1, c0:c1] = True
        masks.append(mask)
    return masks


# -- the RLE string decoder -----------------------------------------------------------
@SETTINGS
@given(mask=hnp.arrays(np.uint8, st.tuples(st.integers(1, 40), st.integers(1, 40)),
                       elements=st.integers(0, 1)))
def test_counts_decoder_agrees_with_pycocotools(mask):
    rle = mask_utils.encode(np.asfortranarray(mask))
    runs = coco_rle.rle_string_counts(rle["counts"].decode("ascii"))
    assert runs.min() >= 0 and runs.sum() == mask.size
    flat = np.repeat(np.arange(runs.size) % 2, runs).astype(np.uint8)
    np.testing.assert_array_equal(flat.reshape(mask.shape, order="F"), mask)


def test_counts_decoder_handles_large_runs_and_refuses_garbage():
    big = np.zeros((300, 300), np.uint8)
    big[7:290, 3:250] = 1
    rle = mask_utils.encode(np.asfortranarray(big))
    assert coco_rle.rle_string_counts(rle["counts"].decode()).sum() == big.size
    for bad in ("!!", "0`", "zzzzzzzz0"):
        with pytest.raises(ValueError):
            coco_rle.rle_string_counts(bad)


# -- real files (FORMATS.md section 8) ---------------------------------------------------
def test_cocoapi_results_file(shared_samples):
    path = shared_samples / RESULTS
    raw = json.loads(path.read_text())
    assert isinstance(raw, list) and len(raw) == 734
    names = coco_rle.items(path)
    assert len(names) == 99 and len({a["image_id"] for a in raw}) == 99
    assert names[0] == str(raw[0]["image_id"])
    seg = coco_rle.read(path)
    assert seg.shape == (478, 640) and seg.kind is Kind.INSTANCE
    first = seg.table[1]
    assert first.class_id == raw[0]["category_id"] and first.label == f"category {first.class_id}"
    assert first.score == pytest.approx(raw[0]["score"])
    assert first.attributes["image_id"] == raw[0]["image_id"]
    assert int(seg.mask_of(1).sum()) == 53487 == int(mask_utils.area(raw[0]["segmentation"]))
    assert "ascending score" in seg.provenance.details["z_order"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools vs numpy 2
def test_every_image_of_the_results_file_keeps_every_mask(shared_samples):
    path = shared_samples / RESULTS
    raw = json.loads(path.read_text())
    total = 0
    for item in coco_rle.items(path):
        seg = coco_rle.read(path, item=item)
        anns = [a for a in raw if str(a["image_id"]) == item]
        instances = [s for s in seg.table if s.id]
        assert len(instances) == len(anns)
        total += len(instances)
        for segment, ann in zip(instances, anns, strict=True):
            expected = mask_utils.decode(ann["segmentation"]).astype(bool)
            np.testing.assert_array_equal(seg.mask_of(segment.id), expected)
    assert total == 734


def test_overlapping_results_keep_full_masks_with_highest_score_on_top(shared_samples):
    path = shared_samples / RESULTS
    seg = coco_rle.read(path, item="164")
    assert seg.full_masks and seg.covered_pixels() > 0
    assert any("covered by others" in w for w in seg.provenance.details["warnings"])
    scores = {s.id: s.score for s in seg.table if s.id}
    for seg_id, full in seg.full_masks.items():
        r0, c0, r1, c1 = full.bbox
        winners = seg.labels[r0:r1, c0:c1][full.mask]
        # Every pixel it lost went to an instance with a higher (or equal, later) score.
        assert all(scores[w] >= scores[seg_id] for w in winners.tolist() if w != seg_id)


def test_results_image_written_and_read_back_is_identical(shared_samples, tmp_path):
    seg = coco_rle.read(shared_samples / RESULTS, item="164")
    out = coco_rle.write(seg, tmp_path / "back.json")[0]
    back = coco_rle.read(out)
    np.testing.assert_array_equal(back.labels, seg.labels)
    assert back.full_masks.keys() == seg.full_masks.keys()
    for s in seg.table:
        np.testing.assert_array_equal(back.mask_of(s.id), seg.mask_of(s.id))
        assert (back.table[s.id].score, back.table[s.id].class_id) == (s.score, s.class_id)


def test_datumaro_uncompressed_rle_and_polygon(shared_samples):
    path = shared_samples / DATUMARO_VAL
    anns = json.loads(path.read_text())["annotations"]
    assert anns[1]["segmentation"] == {"counts": [0, 20, 30], "size": [10, 5]}
    seg = coco_rle.read(path)
    assert coco_rle.items(path) == ["b.jpg"] and seg.shape == (10, 5)
    crowd = seg.table[2]
    assert (crowd.label, crowd.class_id, crowd.attributes["iscrowd"]) == ("b", 2, 1)
    assert crowd.attributes["segmentation"] == "uncompressed rle"
    expected = np.zeros((10, 5), bool)
    expected[:, :2] = True  # 20 ones down the first two columns (column-major runs)
    np.testing.assert_array_equal(seg.mask_of(2), expected)
    polygon = seg.table[1]
    assert polygon.attributes["bbox"] == [0.0, 0.0, 1.0, 2.0]
    assert polygon.attributes["attributes"] == {"x": 1, "y": "hello"}
    warnings = seg.provenance.details["warnings"]
    assert any("rasterised" in w and "lossy" in w for w in warnings)
    # The small polygon lies on the large crowd region: it stays visible, the crowd is kept whole.
    assert 2 in seg.full_masks and seg.covered_pixels() == seg.mask_of(1).sum() > 0


def test_empty_segmentation_is_kept_and_reported(shared_samples):
    seg = coco_rle.read(shared_samples / DATUMARO_TRAIN)
    assert seg.table[1].label == "b" and seg.table[1].area == 0
    assert any("empty segmentation" in w for w in seg.provenance.details["warnings"])


def test_panoptic_detection_file_reads_as_instances(shared_samples):
    path = shared_samples / PANOPTIC_AS_DETECTION
    assert coco_rle.sniff(path)
    names = coco_rle.items(path)
    seg = coco_rle.read(path, item=names[1])
    assert seg.shape == (360, 640)
    assert all(s.label for s in seg.table)


# -- round trips ------------------------------------------------------------------------
@SETTINGS
@given(values=label_maps)
def test_semantic_map_as_instances_round_trips(tmp_path_factory, values):
    names = {v: f"class{v}" for v in range(21)}
    names[0] = "background"
    seg = coco_instances(values, names)
    assert coco_rle.losses(seg) == []
    path = tmp_path_factory.mktemp("coco") / "mask.json"
    back = coco_rle.read(coco_rle.write(seg, path)[0])
    np.testing.assert_array_equal(back.to_values(np.int64), seg.to_values(np.int64))
    assert [(s.id, s.label, s.class_id) for s in back.table] == \
        [(s.id, s.label, s.class_id) for s in seg.table]


@SETTINGS
@given(masks=rectangles())
def test_overlapping_instances_round_trip_exactly(tmp_path_factory, masks):
    seg = overlapping(masks)
    path = tmp_path_factory.mktemp("coco") / "over.json"
    back = coco_rle.read(coco_rle.write(seg, path)[0])
    np.testing.assert_array_equal(back.labels, seg.labels)
    assert back.full_masks.keys() == seg.full_masks.keys()
    assert back.covered_pixels() == seg.covered_pixels()
    for i, mask in enumerate(masks, start=1):
        np.testing.assert_array_equal(back.mask_of(i), mask)


def test_written_file_is_plain_coco(tmp_path):
    seg = overlapping([np.eye(4, dtype=bool), np.ones((4, 4), bool)])
    doc = json.loads(coco_rle.write(seg, tmp_path / "x.json", file_name="x.jpg")[0].read_text())
    assert doc["images"] == [{"id": 1, "file_name": "x.jpg", "width": 4, "height": 4}]
    first = doc["annotations"][0]
    assert isinstance(first["segmentation"]["counts"], str)
    assert (first["area"], first["bbox"]) == (4, [0.0, 0.0, 4.0, 4.0])
    assert doc["annotations"][1]["area"] == 16
    assert {c["id"] for c in doc["categories"]} == {1, 2}


def test_losses_name_void_and_classless_segments():
    labels = np.array([[0, 1, 2]], np.uint8)
    table = SegmentTable([Segment(0, label="background"), Segment(1, label="void", void=True),
                          Segment(2, label="tree")])
    lost = coco_rle.losses(Segmentation(labels, table))
    assert any("void" in line and "not written" in line for line in lost)
    assert any("no class id" in line for line in lost)


def test_upscaling_to_the_photo_keeps_full_masks(tmp_path):
    seg = overlapping([np.ones((2, 3), bool), np.array([[1, 0, 0], [0, 0, 0]], bool)])
    path = coco_rle.write(seg, tmp_path / "small.json")[0]
    big = coco_rle.read(path, image_size=(6, 4))
    assert big.shape == (4, 6) and big.provenance.details["upscaled_from"] == [3, 2]
    assert big.mask_of(1).all() and big.mask_of(2).sum() == 4


# -- bad input ---------------------------------------------------------------------------
def test_json_syntax_error_names_line_and_column(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"images": [],\n "annotations": [}\n')
    with pytest.raises(ReadError, match=r"broken\.json: JSON syntax error at line 2, column"):
        coco_rle.read(path)


def _one_annotation(tmp_path, segmentation, width=4, height=3):
    doc = {"images": [{"id": 1, "file_name": "a.jpg", "width": width, "height": height}],
           "annotations": [{"id": 9, "image_id": 1, "category_id": 1,
                            "segmentation": segmentation, "iscrowd": 1}],
           "categories": [{"id": 1, "name": "thing"}]}
    path = tmp_path / "one.json"
    path.write_text(json.dumps(doc))
    return path


def test_rle_size_not_matching_the_image(tmp_path):
    path = _one_annotation(tmp_path, {"size": [4, 4], "counts": [0, 16]})
    with pytest.raises(ReadError, match=r"one\.json: annotation 9 .*RLE size \[4, 4\].*4x3"):
        coco_rle.read(path)


@pytest.mark.parametrize("counts, message", [
    ([0, 5], "RLE runs cover 5 pixels but its size has 12"),
    ([0, 13, -1], "negative run"),
    ("0", "RLE runs cover 0 pixels"),
    ("!!", "not valid"),
    ("\u00e9", "not valid"),
    (3.5, "should be a string or a list"),
])
def test_malformed_counts_are_refused_before_decoding(tmp_path, counts, message):
    # pycocotools would decode short counts into uninitialised memory.
    path = _one_annotation(tmp_path, {"size": [3, 4], "counts": counts})
    with pytest.raises(ReadError, match=rf"one\.json: .*{message}"):
        coco_rle.read(path)


def test_other_bad_input(tmp_path):
    path = _one_annotation(tmp_path, [[0, 0, 1]])
    with pytest.raises(ReadError, match=r"one\.json: .*polygon"):
        coco_rle.read(path)
    # A vertex at 1e308 would make pycocotools rasterise until memory runs out.
    far = _one_annotation(tmp_path, [[0, 0, 1e308, 0, 1, 2]])
    with pytest.raises(ReadError, match=r"one\.json: .*far outside the 4x3 image"):
        coco_rle.read(far)
    with pytest.raises(ReadError, match=r"one\.json: no image 'zzz' in this file \(it has a\.jpg"):
        coco_rle.read(_one_annotation(tmp_path, {"size": [3, 4], "counts": [12]}), item="zzz")
    other = tmp_path / "other.json"
    other.write_text('{"shapes": []}')
    with pytest.raises(ReadError, match=r"other\.json: not a COCO file"):
        coco_rle.read(other)
    with pytest.raises(ReadError, match="z_order"):
        coco_rle.read(path, z_order="random")


def test_sniff(shared_samples, tmp_path):
    assert coco_rle.sniff(shared_samples / RESULTS)
    assert coco_rle.sniff(shared_samples / DATUMARO_VAL)
    assert not coco_rle.sniff(shared_samples / "coco-panoptic-panopticapi/sample_data/"
                                                "panoptic_examples.json")
    labelme = tmp_path / "labelme.json"
    labelme.write_text('{"shapes": [], "imagePath": "a.jpg"}')
    assert not coco_rle.sniff(labelme)
