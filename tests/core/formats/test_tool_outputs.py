"""Files the tools write read right (issue 17, item 2).

Datumaro's Cityscapes and CamVid exports with their ``label_colors.txt`` (real
fixtures from ../shared/samples, and files laid out as Datumaro's exporters
write them, see :mod:`tests.core.formats.datumaro_layouts`), VOC/labelme object
masks opened on their own, and SegView's own per-frame sequence export.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.core.formats import datumaro_layouts as layouts
from viewer.core.formats.color_tables import read_label_colors
from viewer.core.formats.registry import find_reader, read_mask
from viewer.core.palettes import builtin_palette
from viewer.core.segmentation import Kind, Segmentation
from viewer.core.video.sequence_export import SequenceWriter

DATUMARO = "datumaro-format-assets"
VOC = builtin_palette("voc")
#: Label maps as Datumaro takes them from its sources.
SOURCES = {
    "cvat": [("background", (0, 0, 0)), ("tool", (250, 50, 83)), ("person", (220, 20, 60)),
             ("car", (0, 0, 142))],
    "voc": [(VOC.name_of(i), VOC.color(i)) for i in range(21)],
    # no colours: Datumaro adds a background, leaves it out of the file, paints VOC colours
    "names-only": [("a", None), ("b", None), ("c", None)],
    # colours but no black row: the added background is class 0 and not in the file
    "no-black": [("road", (128, 64, 128)), ("tree", (0, 200, 0))],
}


def _grid(names: list, seed: int, shape=(4, 6)) -> np.ndarray:
    return np.random.default_rng(seed).choice(np.array(names, dtype=object), size=shape)


def _items(rows, ids: list[str]) -> dict[str, dict[str, np.ndarray]]:
    names = [n for n, _c in rows] + [None]  # None: no mask covers the pixel
    return {"train": {ids[0]: _grid(names, 1), ids[1]: _grid(names, 2)},
            "val": {ids[2]: _grid(names, 3)}}


def _expect_names(seg: Segmentation, ordered, truth: np.ndarray, *, colors: bool) -> None:
    """Every pixel's label and class id (and colour) are Datumaro's."""
    index = {name: i for i, (name, _c) in enumerate(ordered)}
    want = np.vectorize(lambda n: 0 if n is None else index[n], otypes=[np.int64])(truth)
    rows = {s.id: s for s in seg.table}
    got_class = np.vectorize(lambda i: rows[i].class_id, otypes=[np.int64])(seg.labels)
    np.testing.assert_array_equal(got_class, want)
    got_label = np.vectorize(lambda i: rows[i].label, otypes=[object])(seg.labels)
    np.testing.assert_array_equal(got_label, np.array([ordered[v][0] for v in want.ravel()],
                                                       dtype=object).reshape(want.shape))
    if colors:
        for s in seg.table:
            assert s.color == ordered[s.class_id][1]


# -- Cityscapes -------------------------------------------------------------------------
CITY_IDS = ["defaultcity/defaultcity_000001_000001", "defaultcity/defaultcity_000001_000002",
            "defaultcity/defaultcity_000002_000001"]


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("kind", ["labelIds", "instanceIds"])
def test_datumaro_cityscapes_export_is_named_by_its_label_colors(tmp_path, source, kind):
    ordered, files = layouts.cityscapes(tmp_path, SOURCES[source],
                                        _items(SOURCES[source], CITY_IDS))
    truths = [t for subset in _items(SOURCES[source], CITY_IDS).values() for t in subset.values()]
    for labels_file, truth in zip(files, truths):
        path = Path(str(labels_file).replace("_labelIds", f"_{kind}"))
        seg = read_mask(path)
        assert seg.provenance.details["label_colors"] == str(tmp_path / "label_colors.txt")
        _expect_names(seg, ordered, truth, colors=True)
        background = [s for s in seg.table if s.class_id == 0]
        # value 0, every pixel no mask covered, is the background: hidden, not void
        assert all(s.label == ordered[0][0] and not s.visible and not s.void
                   for s in background)


def test_cvat_labels_through_datumaro_cityscapes_are_not_the_cityscapes_table(tmp_path):
    _ordered, files = layouts.cityscapes(tmp_path, SOURCES["cvat"],
                                         _items(SOURCES["cvat"], CITY_IDS))
    labels = {s.label for f in files for s in read_mask(f).table}
    assert "tool" in labels and "ego vehicle" not in labels


def test_a_label_colors_of_the_cityscapes_labels_keeps_the_table(tmp_path):
    # Datumaro's --label-map cityscapes writes its CITYSCAPES_LABEL_MAP (no spaces in names).
    table = builtin_palette("cityscapes")
    rows = [(e.name.replace(" ", ""), e.color) for _i, e in sorted(table.entries.items())]
    rows.append(("licenseplate", (0, 0, 142)))
    (tmp_path / "label_colors.txt").write_text(layouts.label_colors_text(rows))
    mask = tmp_path / "gtFine" / "val" / "c" / "c_000001_000001_gtFine_labelIds.png"
    mask.parent.mkdir(parents=True)
    Image.fromarray(np.array([[1, 24, 26]], np.uint8)).save(mask)
    seg = read_mask(mask)
    assert [(s.label, s.void) for s in seg.table] == [
        ("ego vehicle", True), ("person", False), ("car", False)]


def test_datumaro_train_ids_fixture_reads_its_background(shared_samples):
    # Expected labels are Datumaro's own (tests/unit/test_cityscapes_format.py,
    # test_can_import_with_train_label_map): 19 is TRAIN_CITYSCAPES_LABEL_MAP's background.
    folder = shared_samples / DATUMARO / "cityscapes_dataset/train_dataset/gtFine"
    expected = {"test/defaultcity/defaultcity_000001_000031": [19, 19, 14, 14, 14],
                "test/defaultcity/defaultcity_000001_000032": [16, 16, 3, 19, 19],
                "train/defaultcity/defaultcity_000002_000045": [19, 19, 11, 19, 19],
                "val/defaultcity/defaultcity_000001_000019": [19, 19, 19, 19, 19]}
    for item, values in expected.items():
        seg = read_mask(folder / f"{item}_gtFine_labelTrainIds.png")
        rows = {s.id: s for s in seg.table}
        assert [rows[i].class_id for i in seg.labels[0]] == values
        assert all(rows[i].label == "background" and not rows[i].visible
                   for i, v in zip(seg.labels[0], values) if v == 19)
        assert not seg.provenance.details["warnings"]


def test_datumaro_cityscapes_fixture_without_label_colors_uses_the_table(shared_samples):
    # Datumaro's test_can_import: labels 3 and 27 of CITYSCAPES_LABEL_MAP.
    path = (shared_samples / DATUMARO / "cityscapes_dataset/dataset/gtFine/test/defaultcity/"
            "defaultcity_000001_000031_gtFine_instanceIds.png")
    seg = read_mask(path)
    rows = {s.id: s for s in seg.table}
    assert [rows[i].class_id for i in seg.labels[0]] == [3, 3, 27, 27, 27]
    assert rows[seg.labels[0][2]].label == "truck"


# -- CamVid -----------------------------------------------------------------------------
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_datumaro_camvid_export_finds_label_colors_at_the_root(tmp_path, source):
    ids = ["seq/0001", "0002", "0003"]  # an item id with a folder puts its mask two down
    ordered, files = layouts.camvid(tmp_path, SOURCES[source], _items(SOURCES[source], ids))
    truths = [t for subset in _items(SOURCES[source], ids).values() for t in subset.values()]
    for path, truth in zip(files, truths):
        assert find_reader(path).name == "camvid"
        seg = read_mask(path)
        assert seg.provenance.details["color_table"] == str(tmp_path / "label_colors.txt")
        _expect_names(seg, ordered, truth, colors=True)
        assert not [s for s in seg.table if s.label == "unknown"]


def test_names_only_label_colors_get_datumaro_colours(tmp_path):
    (tmp_path / "label_colors.txt").write_text(" cat\n dog\n")
    rows = read_label_colors(tmp_path / "label_colors.txt")
    assert [(r.value, r.name, r.color, r.background) for r in rows] == [
        (0, "background", (0, 0, 0), True), (1, "cat", VOC.color(1), False),
        (2, "dog", VOC.color(2), False)]


def test_datumaro_camvid_fixture_reads_datumaro_labels(shared_samples):
    # Datumaro's test_can_import: 0001TP_006690 has labels 3 and 18 of CamvidLabelMap.
    path = shared_samples / DATUMARO / "camvid_dataset/trainannot/0001TP_006690.png"
    seg = read_mask(path)
    rows = {s.id: s for s in seg.table}
    assert [rows[i].class_id for i in seg.labels[0]] == [3, 3, 18, 3, 3]
    assert {rows[i].label for i in seg.labels[0]} == {"Bicyclist", "Road"}


# -- VOC / labelme object masks -----------------------------------------------------------
def test_labelme_object_mask_opened_alone_is_instances_with_classes(shared_samples):
    root = shared_samples / "labelme" / "instance_segmentation" / "data_dataset_voc"
    for path in sorted((root / "SegmentationObject").glob("*.png")):
        seg = read_mask(path)
        assert seg.kind is Kind.INSTANCE
        objects = np.array(Image.open(path))
        classes = np.array(Image.open(root / "SegmentationClass" / path.name))
        rows = {s.id: s for s in seg.table}
        got_instance = np.vectorize(lambda i: rows[i].instance or 0)(seg.labels)
        got_class = np.vectorize(lambda i: rows[i].class_id)(seg.labels)
        np.testing.assert_array_equal(got_instance, np.where(objects == 255, 0, objects))
        np.testing.assert_array_equal(got_class, classes)
        np.testing.assert_array_equal(seg.to_values(np.int64), objects)
        assert "aeroplane" not in {s.label for s in seg.table}


def _voc_pair(root: Path, objects: np.ndarray, classes: np.ndarray | None) -> Path:
    palette = VOC.colors(256).astype(np.uint8).reshape(-1).tolist()
    for folder, values in (("SegmentationObject", objects), ("SegmentationClass", classes)):
        if values is None:
            continue
        (root / folder).mkdir(parents=True, exist_ok=True)
        img = Image.fromarray(values.astype(np.uint8), "P")
        img.putpalette(palette)
        img.save(root / folder / "x.png")
    return root / "SegmentationObject" / "x.png"


def test_object_mask_with_class_names_and_void(tmp_path):
    objects = np.array([[0, 1, 1, 2, 255]])
    classes = np.array([[0, 15, 15, 7, 255]])
    path = _voc_pair(tmp_path, objects, classes)
    (tmp_path / "labelmap.txt").write_text(
        "# label:color_rgb:parts:actions\n" + "".join(
            f"{'walker' if i == 15 else VOC.name_of(i)}:{','.join(map(str, VOC.color(i)))}::\n"
            for i in range(21)))
    seg = read_mask(path)
    assert [(s.label, s.class_id, s.instance, s.void) for s in seg.table] == [
        ("background", 0, None, False), ("car", 7, 2, False), ("walker", 15, 1, False),
        ("void", 255, None, True)]


def test_object_mask_without_class_mask_is_unnamed_instances(tmp_path):
    path = _voc_pair(tmp_path, np.array([[0, 1, 2, 2]]), None)
    (tmp_path / "class_names.txt").write_text("_background_\naeroplane\nbicycle\n")
    seg = read_mask(path)
    assert seg.kind is Kind.INSTANCE
    assert [(s.label, s.class_id, s.instance) for s in seg.table] == [
        ("background", None, None), ("", None, 1), ("", None, 2)]
    assert "instances without classes" in seg.provenance.details["warnings"][0]


def test_datumaro_voc_object_mask_opened_alone_is_an_instance(shared_samples):
    path = shared_samples / DATUMARO / "voc_dataset/voc_dataset1/SegmentationObject/2007_000001.png"
    seg = read_mask(path)
    assert seg.kind is Kind.INSTANCE
    assert [(s.label, s.class_id, s.instance) for s in seg.table] == [("bicycle", 2, 1)]


# -- SegView's own sequence export -------------------------------------------------------
def _frame(i: int) -> Segmentation:
    values = np.zeros((8, 10), np.uint8)
    values[1:4, 1 + i % 3:5 + i % 3] = 1
    values[5:7, 6:9] = 2
    seg = Segmentation.from_values(values, names={0: "background", 1: "person", 2: "car"})
    # Colour formats paint the background black (CVAT's and CamVid's convention).
    seg.table.update_many({0: {"color": (0, 0, 0)}, 1: {"color": (200, 10, 10)},
                           2: {"color": (10, 10, 200)}})
    return seg


@pytest.mark.parametrize("format_name", ["index-png", "label-npy", "voc-rgb",
                                         "cityscapes-labelids", "camvid", "cvat-mask"])
def test_each_frame_of_a_sequence_export_opens_with_its_labels(tmp_path, format_name):
    writer = SequenceWriter(format_name, tmp_path, stem="clip")
    for i in (0, 3, 12):
        writer.add(i, _frame(i))
    result = writer.finish()
    assert not list(tmp_path.rglob("clip_*.segview.json"))  # no per-frame sidecar
    for i, path in result.mask_files.items():
        seg = read_mask(path)
        want = _frame(i)
        got = {s.id: (s.label, s.color) for s in seg.table}
        expected = {s.id: (s.label, s.color) for s in want.table}
        np.testing.assert_array_equal(
            np.vectorize(lambda v: str(got[v]))(seg.labels),
            np.vectorize(lambda v: str(expected[v]))(want.labels))


def test_a_sequence_json_of_another_size_is_skipped_with_a_warning(tmp_path):
    writer = SequenceWriter("index-png", tmp_path, stem="clip")
    writer.add(0, _frame(0))
    path = writer.finish().mask_files[0]
    Image.fromarray(np.ones((3, 3), np.uint8)).save(path)  # replaced by another mask
    seg = read_mask(path)
    assert "labels not restored from clip.segview.json" in seg.provenance.details["warnings"][-1]
    assert [s.label for s in seg.table] != ["person"]


def test_a_sequence_json_that_does_not_list_the_file_is_ignored(tmp_path):
    writer = SequenceWriter("index-png", tmp_path, stem="clip")
    writer.add(0, _frame(0))
    writer.finish()
    other = tmp_path / "clip_000099.png"
    Image.fromarray(np.array([[0, 1, 5]] * 8, np.uint8)).save(other)
    seg = read_mask(other)
    assert "person" not in {s.label for s in seg.table}  # frame 0's value 1 is not this one
    assert not seg.provenance.details.get("warnings")
