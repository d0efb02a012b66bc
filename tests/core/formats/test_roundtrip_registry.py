"""Every lossless format in the registry: export then read gives the same mask.

Parametrized over ``FORMATS``, so a new format is tested here for free. Label
maps come from hypothesis. "The same" means: the same partition of pixels into
segments, the same label for every pixel, and, where the format stores values,
the same value for every pixel. A format whose segmentations need a particular
shape (Celantur types, Cityscapes ids, COCO instances) gets an adapter below
that turns a generated semantic map into one it holds.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from mask_compare import pixel_labels, same_partition  # tests/core/formats/mask_compare.py

from viewer.core.export import export, losses
from viewer.core.formats.registry import FORMATS, read_mask
from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import BACKGROUND_NAMES, Kind, Segmentation

Adapter = Callable[[np.ndarray, dict[int, str]], Segmentation]


def semantic(values: np.ndarray, names: dict[int, str]) -> Segmentation:
    return Segmentation.from_values(values, kind=Kind.SEMANTIC, names=names)


def celantur_instance(values: np.ndarray, names: dict[int, str]) -> Segmentation:
    """Celantur holds 4 types x 256 instance keys: value v >= 1 -> type (v-1) % 4, G (v-1) // 4."""
    from viewer.core.formats import celantur

    codes = (64, 128, 192, 255)
    keys = np.array([0] + [codes[(v - 1) % 4] * 256 + (v - 1) // 4 for v in range(1, 256)])

    def describe(key):
        if key == 0:
            return {"label": "background", "source_value": (0, 0, 0)}
        r, g = key >> 8, key & 0xFF
        return {"label": celantur.TYPES[r], "class_id": r, "instance": g, "source_value": (r, g, 0)}

    return Segmentation.from_values(keys[values.astype(np.int64)], kind=Kind.INSTANCE,
                                    describe=describe)


def celantur_binary(values: np.ndarray, names: dict[int, str]) -> Segmentation:
    return Segmentation.from_values(np.where(values > 0, 255, 0).astype(np.uint8),
                                    kind=Kind.BINARY, names={0: "background", 255: "anonymised"})


def coco_instances(values: np.ndarray, names: dict[int, str]) -> Segmentation:
    """COCO RLE holds instances: one per class present; background stays id 0."""
    present = [int(v) for v in np.unique(values)]
    things = [v for v in present if names[v].lower() not in BACKGROUND_NAMES]
    lut = np.zeros(max(present) + 1, np.uint8)
    rows = []
    for seg_id, v in enumerate(things, start=1):
        lut[v] = seg_id
        rows.append(Segment(seg_id, label=names[v], class_id=v, instance=1))
    if len(things) < len(present):
        rows.append(Segment(0, label="background", visible=False))
    return Segmentation(lut[values], SegmentTable(rows), kind=Kind.INSTANCE)


def panoptic_classes(values: np.ndarray, names: dict[int, str]) -> Segmentation:
    """Panoptic id 0 is VOID, so class v becomes segment id v + 1."""
    return Segmentation.from_values(values.astype(np.int64) + 1, kind=Kind.PANOPTIC,
                                    describe=lambda p: {"label": names[p - 1], "class_id": p - 1})


def cityscapes_label_ids(values: np.ndarray, names: dict[int, str]) -> Segmentation:
    """Cityscapes files carry only the Cityscapes label table's names."""
    from viewer.core.formats import cityscapes

    return Segmentation.from_values(values, names=cityscapes.label_names())


def cityscapes_train_ids(values: np.ndarray, names: dict[int, str]) -> Segmentation:
    from viewer.core.formats import cityscapes

    train = cityscapes.train_names()
    return Segmentation.from_values(values, names={v: train.get(v, "unknown") for v in range(256)},
                                    void_values=(255,))


#: format name -> adapter; formats absent here take `semantic`.
ADAPTERS: dict[str, Adapter] = {
    "celantur-instance": celantur_instance,
    "celantur-binary": celantur_binary,
    "coco-rle": coco_instances,
    "coco-panoptic": panoptic_classes,
    "cityscapes-labelids": cityscapes_label_ids,
    "cityscapes-instanceids": cityscapes_label_ids,
    "cityscapes-trainids": cityscapes_train_ids,
}
#: format name -> read options the round trip needs
READ_OPTIONS: dict[str, dict] = {}

LOSSLESS = [spec for spec in FORMATS if spec.lossless and spec.read and spec.write]

label_maps = hnp.arrays(
    np.uint8,
    st.tuples(st.integers(1, 12), st.integers(1, 12)),
    elements=st.integers(0, 20),
)


def test_every_format_has_a_round_trip():
    assert {spec.name for spec in LOSSLESS} >= {"index-png", "label-npy", "celantur-instance",
                                                "celantur-binary", "nucleus", "deepstream-bin",
                                                "opencv-blob", "coco-rle", "coco-panoptic",
                                                "cityscapes-labelids", "cityscapes-instanceids",
                                                "cityscapes-trainids", "cvat-mask", "rgb-legend",
                                                "camvid", "voc-rgb", "clearml"}


@pytest.mark.parametrize("spec", LOSSLESS, ids=lambda spec: spec.name)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=label_maps)
def test_write_then_read_is_exact(spec, values):
    names = {v: f"class{v}" for v in range(21)}
    names[0] = "background"
    seg = ADAPTERS.get(spec.name, semantic)(values, names)
    assert losses(seg, spec.name) == [], "the adapter must give a segmentation the format holds"
    with tempfile.TemporaryDirectory() as tmp:
        result = export(seg, spec.name, Path(tmp), "mask")
        back = read_mask(result.files[0], spec.name, **READ_OPTIONS.get(spec.name, {}))
        assert back.shape == seg.shape
        assert same_partition(back.labels, seg.labels), spec.name
        np.testing.assert_array_equal(pixel_labels(back), pixel_labels(seg))
        if all(isinstance(s.value, int) for s in [*seg.table, *back.table]):
            np.testing.assert_array_equal(back.to_values(np.int64), seg.to_values(np.int64))
