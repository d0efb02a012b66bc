"""Cityscapes labelIds / instanceIds / labelTrainIds: Datumaro fixtures, round trips, losses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from viewer.core.errors import ReadError, WriteError
from viewer.core.formats import cityscapes
from viewer.core.segmentation import Kind, Segmentation

FIXTURES = "datumaro-format-assets/cityscapes_dataset"
FRAMES = [f"{split}/defaultcity/defaultcity_{frame}" for split, frame in (
    ("test", "000001_000031"), ("test", "000001_000032"), ("train", "000002_000045"),
    ("val", "000001_000019"))]
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
SPECS = {spec.name: spec for spec in cityscapes.FORMATS}


def cityscapes_label_ids(values: np.ndarray, _names: dict[int, str]) -> Segmentation:
    """A semantic map of values 0..33 as labelIds (or plain instanceIds): Cityscapes names."""
    return Segmentation.from_values(values, names=cityscapes.label_names())


def cityscapes_train_ids(values: np.ndarray, _names: dict[int, str]) -> Segmentation:
    """A semantic map as trainIds: Cityscapes names, 'unknown' beyond 18, 255 void."""
    names = cityscapes.train_names()
    return Segmentation.from_values(
        values, names={v: names.get(v, "unknown") for v in range(256)}, void_values=(255,))


def raw(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path)).astype(np.int64)


# -- the Datumaro fixtures --------------------------------------------------------------
@pytest.mark.parametrize("frame", FRAMES)
def test_16_bit_instance_ids(shared_samples, frame):
    path = shared_samples / FIXTURES / "train_dataset/gtFine" / f"{frame}_gtFine_instanceIds.png"
    assert Image.open(path).mode == "I;16"
    assert SPECS["cityscapes-instanceids"].accepts(path)
    seg = cityscapes.read_instance_ids(path)
    assert seg.kind is Kind.PANOPTIC and seg.labels.dtype == np.uint16
    values = raw(path)
    np.testing.assert_array_equal(seg.to_values(np.int64), values)
    for s in seg.table:
        if s.value >= 1000:
            assert (s.class_id, s.instance) == divmod(s.value, 1000)
        else:
            assert (s.class_id, s.instance) == (s.value, None)
        assert s.label == cityscapes.label_names()[s.class_id]


@pytest.mark.parametrize("frame", FRAMES)
def test_8_bit_instance_ids_are_the_class_of_the_16_bit_ones(shared_samples, frame):
    # Datumaro's dataset/ twin holds only labelIds (< 256) in an 8-bit PNG.
    eight = shared_samples / FIXTURES / "dataset/gtFine" / f"{frame}_gtFine_instanceIds.png"
    sixteen = shared_samples / FIXTURES / "train_dataset/gtFine" / f"{frame}_gtFine_instanceIds.png"
    assert Image.open(eight).mode == "L"
    small = cityscapes.read_instance_ids(eight)
    big = cityscapes.read_instance_ids(sixteen)
    assert all(s.instance is None for s in small.table)
    big_values = big.to_values(np.int64)
    classes = np.where(big_values >= 1000, big_values // 1000, big_values)
    np.testing.assert_array_equal(classes, small.to_values(np.int64))


@pytest.mark.parametrize("frame", FRAMES)
def test_train_ids_agree_with_the_table(shared_samples, frame):
    folder = shared_samples / FIXTURES / "train_dataset/gtFine"
    train = cityscapes.read_train_ids(folder / f"{frame}_gtFine_labelTrainIds.png")
    instances = cityscapes.read_instance_ids(folder / f"{frame}_gtFine_instanceIds.png")
    # Through the writer: instanceIds -> labelTrainIds uses each class's trainId.
    expected = np.array([s.attributes.get("trainId", -1) for s in _rows(instances)])[
        instances.labels.astype(np.int64)]
    found = train.to_values(np.int64)
    known = expected != 255
    np.testing.assert_array_equal(found[known], expected[known])
    # Datumaro writes 19, its TRAIN_CITYSCAPES_LABEL_MAP's background, where the class has no
    # trainId: kept, read as that background (hidden, not void), no warning.
    assert set(found[~known].tolist()) <= {19}
    if (~known).any():
        assert train.table[19].label == "background"
        assert not train.table[19].visible and not train.table[19].void
        assert not train.provenance.details["warnings"]


def _rows(seg: Segmentation) -> list:
    rows = [None] * (seg.table.max_id() + 1)
    for s in seg.table:
        rows[s.id] = s
    return [r if r is not None else _Empty() for r in rows]


class _Empty:
    attributes: dict = {}


# -- round trips ----------------------------------------------------------------------
@SETTINGS
@given(values=hnp.arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12)),
                         elements=st.integers(0, 33)))
def test_label_ids_round_trip(tmp_path_factory, values):
    seg = cityscapes_label_ids(values, {})
    assert cityscapes.losses_label_ids(seg) == []
    path = tmp_path_factory.mktemp("cs") / "a_gtFine_labelIds.png"
    cityscapes.write_label_ids(seg, path)
    assert Image.open(path).mode == "L"
    back = cityscapes.read_label_ids(path)
    np.testing.assert_array_equal(back.to_values(np.int64), values)
    assert [(s.id, s.label) for s in back.table] == [(s.id, s.label) for s in seg.table]
    assert all(back.table[v].void == (v <= 6) for v in back.table.ids())


instance_values = st.one_of(st.integers(0, 33), st.builds(lambda c, n: c * 1000 + n,
                                                         st.integers(24, 33), st.integers(0, 999)))


@SETTINGS
@given(data=st.data())
def test_instance_ids_round_trip(tmp_path_factory, data):
    choices = data.draw(st.lists(instance_values, min_size=1, max_size=6, unique=True))
    values = data.draw(hnp.arrays(np.int64, st.tuples(st.integers(1, 10), st.integers(1, 10)),
                                  elements=st.sampled_from(choices)))
    seg = Segmentation.from_values(values, kind=Kind.PANOPTIC, describe=lambda v: {
        "class_id": v // 1000 if v >= 1000 else v,
        "instance": v % 1000 if v >= 1000 else None,
        "label": cityscapes.label_names()[v // 1000 if v >= 1000 else v]})
    assert cityscapes.losses_instance_ids(seg) == []
    path = tmp_path_factory.mktemp("cs") / "a_gtFine_instanceIds.png"
    cityscapes.write_instance_ids(seg, path)
    assert Image.open(path).mode == "I;16"
    back = cityscapes.read_instance_ids(path)
    np.testing.assert_array_equal(back.to_values(np.int64), values)
    assert [(s.value, s.label, s.class_id, s.instance) for s in back.table] == \
        [(s.value, s.label, s.class_id, s.instance) for s in seg.table]


@SETTINGS
@given(values=hnp.arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12)),
                         elements=st.sampled_from([*range(21), 255])))
def test_train_ids_round_trip(tmp_path_factory, values):
    seg = cityscapes_train_ids(values, {})
    assert cityscapes.losses_train_ids(seg) == []
    path = tmp_path_factory.mktemp("cs") / "a_gtFine_labelTrainIds.png"
    back = cityscapes.read_train_ids(cityscapes.write_train_ids(seg, path)[0])
    np.testing.assert_array_equal(back.to_values(np.int64), values)
    assert [(s.id, s.label, s.void) for s in back.table] == \
        [(s.id, s.label, s.void) for s in seg.table]


def test_conversions_go_through_the_label_table(tmp_path):
    values = np.array([[26001, 26002, 7], [24000, 0, 9]], np.int64)
    seg = Segmentation.from_values(values, kind=Kind.PANOPTIC)
    path = tmp_path / "x_gtFine_instanceIds.png"
    Image.fromarray(values.astype(np.uint16)).save(path)
    seg = cityscapes.read_instance_ids(path)
    labels = tmp_path / "x_gtFine_labelIds.png"
    cityscapes.write_label_ids(seg, labels)
    assert raw(labels).tolist() == [[26, 26, 7], [24, 0, 9]]
    assert any("merge" in line for line in cityscapes.losses_label_ids(seg))
    train = tmp_path / "x_gtFine_labelTrainIds.png"
    cityscapes.write_train_ids(cityscapes.read_label_ids(labels), train)
    # car 13, road 0, person 11; unlabeled (void) and parking have no trainId: 255.
    assert raw(train).tolist() == [[13, 13, 0], [11, 255, 255]]
    again = tmp_path / "y_gtFine_labelIds.png"
    cityscapes.write_label_ids(cityscapes.read_train_ids(train), again)
    assert raw(again).tolist() == [[26, 26, 7], [24, 0, 0]]


# -- losses and refusals -----------------------------------------------------------------
def test_instance_encoding_limits():
    fits = Segmentation.from_values(np.array([[26]], np.uint8), names=cityscapes.label_names())
    assert cityscapes.losses_instance_ids(fits) == []
    for class_id, instance, why in ((66, 1, "gives 66001"), (65, 536, "gives 65536"),
                                    (24, 1000, "instance 1000 is outside 0..999")):
        seg = Segmentation.from_values(np.array([[0, 1]], np.uint8), kind=Kind.PANOPTIC,
                                       describe=lambda v, c=class_id, n=instance:
                                       {"class_id": c, "instance": n} if v else {})
        lost = cityscapes.losses_instance_ids(seg)
        assert lost and "16 bits" in lost[0], (class_id, instance)
        with pytest.raises(WriteError, match=rf"x\.png: segment 1 cannot be written: .*{why}"):
            cityscapes.write_instance_ids(seg, Path("/nonexistent/x.png"))
    plain = Segmentation.from_values(np.array([[1500]], np.uint16))
    lost = cityscapes.losses_instance_ids(plain)
    assert "class 1500 without instance must be in 0..999" in lost[0]


def test_label_losses_name_what_changes():
    seg = Segmentation.from_values(np.array([[5, 40]], np.uint8), names={5: "tree", 40: "sign"})
    lost = cityscapes.losses_label_ids(seg)
    assert any("'tree' -> 'dynamic'" in line for line in lost)
    assert any("not in the Cityscapes label table" in line and "40" in line for line in lost)
    with pytest.raises(WriteError, match="outside 0..255"):
        cityscapes.write_label_ids(Segmentation.from_values(np.array([[300]], np.uint16)),
                                   Path("/nonexistent/a.png"))


# -- sniffing and bad input ---------------------------------------------------------------
def test_sniffers_go_by_name_and_mode(tmp_path):
    grey = np.zeros((2, 2), np.uint8)
    for name, spec in [("a_gtFine_labelIds.png", "cityscapes-labelids"),
                       ("a_gtCoarse_labelIds.png", "cityscapes-labelids"),
                       ("a_gtFine_instanceIds.png", "cityscapes-instanceids"),
                       ("a_gtFine_labelTrainIds.png", "cityscapes-trainids")]:
        path = tmp_path / name
        Image.fromarray(grey).save(path)
        assert [s.name for s in cityscapes.FORMATS if s.accepts(path)] == [spec], name
    colour = tmp_path / "b_gtFine_labelIds.png"
    Image.new("RGB", (2, 2)).save(colour)
    plain = tmp_path / "mask.png"
    Image.fromarray(grey).save(plain)
    assert not any(s.accepts(p) for s in cityscapes.FORMATS for p in (colour, plain))


def test_truncated_png_names_the_file(tmp_path):
    path = tmp_path / "c_gtFine_instanceIds.png"
    Image.fromarray(np.arange(4000, dtype=np.uint16).reshape(40, 100) * 16).save(path)
    path.write_bytes(path.read_bytes()[:120])
    for read in (cityscapes.read_instance_ids, cityscapes.read_label_ids,
                 cityscapes.read_train_ids):
        with pytest.raises(ReadError, match=r"c_gtFine_instanceIds\.png: cannot decode image"):
            read(path)


def test_upscale_to_the_photo(tmp_path):
    path = tmp_path / "d_gtFine_labelIds.png"
    Image.fromarray(np.array([[7, 26]], np.uint8)).save(path)
    seg = cityscapes.read_label_ids(path, image_size=(4, 2))
    assert seg.to_values().tolist() == [[7, 7, 26, 26], [7, 7, 26, 26]]
    assert seg.provenance.details["upscaled_from"] == [2, 1]
