"""The conversions FORMATS.md section 7 calls lossless end to end, tested as chains.

A -> B -> C ... -> A through ``export`` and ``read_mask``, as ``segview convert``
does, must keep the partition of pixels and every pixel's label; where both ends
store integer values, the values too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from mask_compare import pixel_labels, same_partition  # tests/core/formats/mask_compare.py

from viewer.core.export import export, losses
from viewer.core.formats.registry import read_mask
from viewer.core.segmentation import Kind, Segmentation

# Colour-keyed formats (CVAT, ClearML, VOC-RGB) have no class index of their own,
# so through them the class map and names are kept, not the index numbers.
SEMANTIC_CHAIN = ["index-png", "cvat-mask", "nucleus", "clearml", "label-npy", "deepstream-bin",
                  "voc-rgb", "index-png"]
# Between index formats the values themselves survive.
INDEX_CHAIN = ["nucleus", "label-npy", "deepstream-bin", "index-png"]

semantic_maps = hnp.arrays(np.uint8, st.tuples(st.integers(2, 10), st.integers(2, 10)),
                           elements=st.integers(0, 20))


def _through(seg: Segmentation, chain: list[str], folder: Path) -> list[Segmentation]:
    results = [seg]
    for step, name in enumerate(chain):
        assert losses(results[-1], name) == [], f"{name} would lose something"
        written = export(results[-1], name, folder / f"{step}-{name}", "mask")
        results.append(read_mask(written.files[0], name))
    return results


def _assert_same(a: Segmentation, b: Segmentation, what: str) -> None:
    assert same_partition(a.labels, b.labels), what
    np.testing.assert_array_equal(pixel_labels(a), pixel_labels(b), err_msg=what)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(values=semantic_maps)
def test_voc_cvat_nucleus_clearml_deepstream_chain_keeps_the_class_map(tmp_path_factory, values):
    from viewer.core.palettes import builtin_palette

    voc = builtin_palette("voc")
    seg = Segmentation.from_values(values, kind=Kind.SEMANTIC, palette=voc)
    folder = tmp_path_factory.mktemp("chain")
    results = _through(seg, SEMANTIC_CHAIN, folder)
    for name, result in zip(SEMANTIC_CHAIN, results[1:], strict=True):
        _assert_same(seg, result, f"after {name}")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(values=semantic_maps)
def test_index_formats_chain_keeps_values_exactly(tmp_path_factory, values):
    names = {v: f"class{v}" for v in range(21)}
    seg = Segmentation.from_values(values, kind=Kind.SEMANTIC, names=names)
    results = _through(seg, INDEX_CHAIN, tmp_path_factory.mktemp("index"))
    for name, result in zip(INDEX_CHAIN, results[1:], strict=True):
        _assert_same(seg, result, f"after {name}")
        np.testing.assert_array_equal(result.to_values(np.int64), values, err_msg=name)


def test_cityscapes_and_coco_panoptic_chain_keeps_ids_classes_and_instances(tmp_path):
    values = np.zeros((6, 8), np.int64)
    values[:, :4] = 7  # road: stuff, a plain labelId
    values[1:3, 4:6] = 26000  # car, instance 0
    values[3:5, 4:6] = 26001  # car, instance 1
    values[0, 7] = 24000  # person
    seg = read_mask(_write_instance_ids(values, tmp_path / "a_gtFine_instanceIds.png"))
    assert seg.provenance.format == "cityscapes-instanceids"
    results = _through(seg, ["coco-panoptic", "cityscapes-instanceids"], tmp_path)
    for result in results[1:]:
        _assert_same(seg, result, result.provenance.format)
        classes = {s.value: s.class_id for s in result.table}
        assert classes[26001] == 26 and classes[24000] == 24
    np.testing.assert_array_equal(results[-1].to_values(np.int64), values)


def test_coco_rle_keeps_every_instance_mask_through_a_second_file(tmp_path):
    import json

    from pycocotools import mask as rle

    a = np.zeros((9, 7), np.uint8, order="F")
    a[1:6, 1:5] = 1
    b = np.zeros((9, 7), np.uint8, order="F")
    b[3:8, 3:7] = 1  # overlaps a
    anns = []
    for i, (m, score) in enumerate(((a, 0.9), (b, 0.6)), start=1):
        code = rle.encode(np.asfortranarray(m))
        code["counts"] = code["counts"].decode()
        anns.append({"id": i, "image_id": 1, "category_id": 3, "segmentation": code,
                     "area": int(m.sum()), "bbox": list(rle.toBbox(code)), "iscrowd": 0,
                     "score": score})
    source = tmp_path / "instances.json"
    source.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "x.jpg", "height": 9, "width": 7}],
        "annotations": anns, "categories": [{"id": 3, "name": "car"}]}))
    seg = read_mask(source)
    assert seg.covered_pixels() == 6  # b's corner under a (a has the higher score)
    back = _through(seg, ["coco-rle"], tmp_path)[-1]
    cars = [s for s in back.table if s.label == "car"]
    assert len(cars) == 2
    got = sorted((back.mask_of(s.id) for s in cars), key=lambda m: int(m.sum()))
    want = sorted((a.astype(bool), b.astype(bool)), key=lambda m: int(m.sum()))
    for mask, expected in zip(got, want, strict=True):
        np.testing.assert_array_equal(mask, expected)


def _write_instance_ids(values: np.ndarray, path: Path) -> Path:
    from PIL import Image

    Image.fromarray(values.astype(np.uint16)).save(path)
    return path


