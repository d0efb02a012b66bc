"""CVAT "Segmentation mask 1.1": labelmap.txt + SegmentationClass/Object RGB PNGs.

The real export read here is Datumaro's VOC test asset (same layout, RGB masks,
no labelmap.txt, so the VOC classes apply); it is skipped when the shared
samples are absent. The facts asserted were checked by opening the files.
"""

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from mask_compare import (  # tests/core/formats/mask_compare.py
    pixel_labels,
    same_partition,
    semantic,
)
from PIL import Image

from viewer.core.errors import ReadError, WriteError
from viewer.core.formats import cvat_mask, index_png, rgb_mask
from viewer.core.formats.common import write_png
from viewer.core.palettes import builtin_palette
from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import Kind, Segmentation

VOC = builtin_palette("voc")
LABELMAP = "# label:color_rgb:parts:actions\nbackground:0,0,0::\ntool:250,50,83::\ncar:1,2,3::\n"

label_maps = hnp.arrays(np.uint8, st.tuples(st.integers(1, 8), st.integers(1, 8)),
                        elements=st.integers(0, 12))


def export(root: Path, name: str, class_rgb, object_rgb=None, labelmap: str | None = LABELMAP):
    """A hand-made CVAT export: the layout of FORMATS.md 6.4."""
    if labelmap is not None:
        (root / "labelmap.txt").parent.mkdir(parents=True, exist_ok=True)
        (root / "labelmap.txt").write_text(labelmap)
    class_path = write_png(root / "SegmentationClass" / f"{name}.png",
                           np.asarray(class_rgb, np.uint8))
    if object_rgb is not None:
        write_png(root / "SegmentationObject" / f"{name}.png", np.asarray(object_rgb, np.uint8))
    return class_path


def two_tools(root: Path) -> Path:
    """Background, two tool instances (1, 2) and one car (3)."""
    tool, car = (250, 50, 83), (1, 2, 3)
    class_rgb = [[(0, 0, 0), tool, tool], [car, tool, (0, 0, 0)]]
    object_rgb = [[VOC.color(0), VOC.color(1), VOC.color(1)],
                  [VOC.color(3), VOC.color(2), VOC.color(0)]]
    return export(root, "frame1", class_rgb, object_rgb)


def test_datumaro_voc_sample_reads_as_one_bicycle_instance(shared_samples):
    root = shared_samples / "datumaro-format-assets" / "voc_dataset" / "voc_dataset1"
    assert cvat_mask.items(root) == ["2007_000001"]
    for path in (root, root / "SegmentationClass" / "2007_000001.png",
                 root / "SegmentationObject" / "2007_000001.png"):
        assert cvat_mask.sniff(path)
        seg = cvat_mask.read(path)
        # one object per class: a class map, the instance number kept on the segment;
        # the object mask opened on its own means instances (issue 17)
        opened_objects = path.parent.name == "SegmentationObject"
        assert seg.kind is (Kind.INSTANCE if opened_objects else Kind.SEMANTIC)
        assert seg.shape == (10, 20)
        assert [(s.label, s.class_id, s.instance, s.area) for s in seg.table] == [
            ("bicycle", 2, 1, 200)]
        assert seg.table.get(seg.table.ids()[0]).source_value == (0, 128, 0, 128, 0, 0)
        assert seg.provenance.details["labelmap"] == "VOC classes"


def test_labelme_voc_instance_export_reads_with_its_class_names(shared_samples):
    # labelme writes the same layout with palette (mode P) PNGs and class_names.txt.
    root = shared_samples / "labelme" / "instance_segmentation" / "data_dataset_voc"
    assert cvat_mask.sniff(root)
    seg = cvat_mask.read(root)
    assert seg.provenance.details["item"] == "2011_000003"
    assert [(s.label, s.instance, s.area, s.void) for s in seg.table] == [
        ("_background_", None, 125787, False), ("bottle", 3, 873, False),
        ("person", 1, 15662, False), ("person", 2, 17218, False), ("void", None, 9460, True)]
    instances = np.zeros(seg.shape, np.int64)
    for s in seg.table:
        instances[seg.labels == s.id] = s.instance or 0
    twin = np.load(root / "SegmentationObjectNpy" / "2011_000003.npy")
    np.testing.assert_array_equal(instances, np.maximum(twin, 0))


def test_instances_are_class_and_object_pairs(tmp_path):
    path = two_tools(tmp_path)
    seg = cvat_mask.read(path)
    assert seg.kind is Kind.INSTANCE
    rows = sorted((s.label, s.class_id, s.instance, s.area, s.visible) for s in seg.table)
    assert rows == [("background", 0, None, 2, False), ("car", 2, 3, 1, True),
                    ("tool", 1, 1, 2, True), ("tool", 1, 2, 1, True)]
    assert cvat_mask.read(tmp_path, item="frame1").table.to_list() == seg.table.to_list()
    assert cvat_mask.items(tmp_path) == ["frame1"]


def test_without_object_mask_the_read_is_semantic(tmp_path):
    path = export(tmp_path, "a", [[(0, 0, 0), (250, 50, 83)]])
    seg = cvat_mask.read(path)
    assert seg.kind is Kind.SEMANTIC
    assert [(s.label, s.class_id, s.instance, s.source_value) for s in seg.table] == [
        ("background", 0, None, (0, 0, 0)), ("tool", 1, None, (250, 50, 83))]


def test_labelmap_rows_without_colour_take_the_voc_colour_of_their_line(tmp_path):
    path = export(tmp_path, "a", [[(0, 0, 0), VOC.color(2)]],
                  labelmap="background:::\ncat\ndog:::\n")
    assert [s.label for s in cvat_mask.read(path).table] == ["background", "dog"]


def test_unknown_colours_in_either_mask_are_kept_and_reported(tmp_path):
    class_rgb = [[(0, 0, 0), (9, 9, 9), (9, 9, 9)], [(250, 50, 83), (250, 50, 83), (0, 0, 0)]]
    object_rgb = [[VOC.color(0), VOC.color(1), VOC.color(2)],
                  [VOC.color(3), (5, 5, 5), VOC.color(0)]]
    seg = cvat_mask.read(export(tmp_path, "a", class_rgb, object_rgb))
    unknown = [s for s in seg.table if s.attributes.get("unknown_color")]
    assert sorted((s.label, s.instance, s.area) for s in unknown) == [("unknown", 1, 1),
                                                                      ("unknown", 2, 1)]
    odd = [s for s in seg.table if s.attributes.get("unknown_object_color")]
    assert [(s.label, s.area, s.source_value[3:]) for s in odd] == [("tool", 1, (5, 5, 5))]
    details = seg.provenance.details
    assert details["unknown_colors"] == [
        {"color": [9, 9, 9], "pixels": 2, "bbox": [0, 1, 1, 3], "mask": "SegmentationClass"},
        {"color": [5, 5, 5], "pixels": 1, "bbox": [1, 1, 2, 2], "mask": "SegmentationObject"}]
    assert details["warnings"][0].startswith("2 pixels in SegmentationClass of colour (9, 9, 9), "
                                             "which labelmap.txt does not list (rows 0-0, "
                                             "columns 1-2)")
    # Written back, the unknown class colour stays as it was.
    files = cvat_mask.write(seg, tmp_path / "out" / "a.png")
    np.testing.assert_array_equal(np.asarray(Image.open(files[0])), np.asarray(class_rgb))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=label_maps)
def test_write_then_read_keeps_partition_and_labels(values):
    seg = semantic(values)
    assert cvat_mask.losses(seg) == []
    with tempfile.TemporaryDirectory() as tmp:
        files = cvat_mask.write(seg, Path(tmp) / "img.png")
        back = cvat_mask.read(files[0])
    assert same_partition(back.labels, seg.labels)
    np.testing.assert_array_equal(pixel_labels(back), pixel_labels(seg))


def test_written_layout(tmp_path):
    seg = semantic(np.array([[0, 1], [2, 2]], np.uint8))
    files = cvat_mask.write(seg, tmp_path / "img.png")
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "SegmentationClass/img.png", "SegmentationObject/img.png", "labelmap.txt",
        "ImageSets/Segmentation/default.txt"]
    lines = files[2].read_text().splitlines()
    assert lines[0] == "# label:color_rgb:parts:actions" and lines[1] == "background:0,0,0::"
    assert [line.split(":")[0] for line in lines[1:]] == ["background", "class1", "class2"]
    assert files[3].read_text() == "img\n"
    for path in files[:2]:
        with Image.open(path) as img:
            assert img.mode == "RGB"
    objects = np.asarray(Image.open(files[1]))
    assert objects[0, 0].tolist() == [0, 0, 0]
    assert {tuple(objects[0, 1]), tuple(objects[1, 0])} == {VOC.color(1), VOC.color(2)}


def test_read_then_write_then_read_is_identical(tmp_path):
    seg = cvat_mask.read(two_tools(tmp_path / "in"))
    files = cvat_mask.write(seg, tmp_path / "out")
    assert files[0] == tmp_path / "out" / "SegmentationClass" / "frame1.png"
    back = cvat_mask.read(files[0])
    np.testing.assert_array_equal(back.labels, seg.labels)
    keep = ("label", "class_id", "instance", "source_value", "area")
    assert [[getattr(s, k) for k in keep] for s in back.table] == \
           [[getattr(s, k) for k in keep] for s in seg.table]
    assert (tmp_path / "out" / "labelmap.txt").read_text() == LABELMAP


def test_instance_segmentations_share_one_label_per_class(tmp_path):
    labels = np.array([[0, 1, 2], [3, 3, 0]], np.uint8)
    table = SegmentTable([
        Segment(0, "background", class_id=0), Segment(1, "person", class_id=15, instance=7),
        Segment(2, "person", class_id=15, instance=9, color=(1, 1, 1)),
        Segment(3, "car", class_id=7, instance=1)])
    seg = Segmentation(labels, table, kind=Kind.INSTANCE)
    # CVAT numbers labels by labelmap row: the class ids are lost, and said so (issue 17).
    assert cvat_mask.losses(seg) == ["CVAT numbers classes by their labelmap row, so class ids "
                                     "change: car 7 -> 2, person 15 -> 1"]
    files = cvat_mask.write(seg, tmp_path / "x.png")
    names = [line.split(":")[0] for line in files[2].read_text().splitlines()[1:]]
    assert names == ["background", "person", "car"]
    back = cvat_mask.read(files[0])
    assert sorted((s.label, s.instance, s.area) for s in back.table) == [
        ("background", None, 2), ("car", 1, 2), ("person", 7, 1), ("person", 9, 1)]


def test_items_of_one_export_share_the_labelmap(tmp_path):
    cvat_mask.write(semantic(np.array([[0, 1]], np.uint8)), tmp_path / "a.png")
    second = semantic(np.array([[1, 4]], np.uint8))
    cvat_mask.write(second, tmp_path, item="b")
    assert cvat_mask.items(tmp_path) == ["a", "b"]
    assert (tmp_path / "ImageSets/Segmentation/default.txt").read_text() == "a\nb\n"
    rows = (tmp_path / "labelmap.txt").read_text().splitlines()[1:]
    assert [r.split(":")[0] for r in rows] == ["background", "class1", "class4"]
    for item, labels in (("a", ["background", "class1"]), ("b", ["class1", "class4"])):
        assert sorted(s.label for s in cvat_mask.read(tmp_path, item=item).table) == labels


def test_existing_labelmap_that_disagrees_is_refused(tmp_path):
    seg = cvat_mask.read(two_tools(tmp_path / "in"))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "labelmap.txt").write_text("background:0,0,0::\nhammer:250,50,83::\n")
    with pytest.raises(WriteError, match=r"frame1\.png: labelmap\.txt already there .*"
                                         r"'hammer', but this mask uses it for 'tool'"):
        cvat_mask.write(seg, tmp_path / "out" / "frame1.png")
    assert not (tmp_path / "out" / "SegmentationClass").exists()


def test_more_than_255_instances_is_a_reported_loss(tmp_path):
    values = np.arange(300, dtype=np.uint16).reshape(15, 20)
    seg = Segmentation.from_values(values, names=dict.fromkeys(range(300), "cell"),
                                   kind=Kind.INSTANCE)
    lost = cvat_mask.losses(seg)
    assert lost[0].startswith("45 segments beyond the 255 instances a SegmentationObject PNG "
                              "holds are written as background there")
    files = cvat_mask.write(seg, tmp_path / "many.png")
    back = cvat_mask.read(files[0])
    assert max(s.instance or 0 for s in back.table) == 255
    assert len(back.table) == 300  # every segment kept its own class colour


def test_colons_in_labels_are_reported(tmp_path):
    seg = Segmentation.from_values(np.array([[0, 1]], np.uint8), names={1: "a:b"})
    assert any("'a:b'" in note for note in cvat_mask.losses(seg))
    files = cvat_mask.write(seg, tmp_path / "m.png")
    assert "a_b:" in files[2].read_text()


def test_mask_sizes_must_agree_with_each_other_and_the_photo(tmp_path):
    path = export(tmp_path, "a", np.zeros((2, 3, 3)), np.zeros((3, 3, 3)))
    with pytest.raises(ReadError, match=r"SegmentationObject/a\.png: mask is 3x3 but the image "
                                        r"is 3x2"):
        cvat_mask.read(path)
    path = export(tmp_path, "b", np.zeros((2, 3, 3)), np.zeros((2, 3, 3)))
    (tmp_path / "JPEGImages").mkdir()
    Image.new("RGB", (4, 2)).save(tmp_path / "JPEGImages" / "b.jpg")
    with pytest.raises(ReadError, match=r"SegmentationClass/b\.png: mask is 3x2 but its image "
                                        r"JPEGImages/b\.jpg is 4x2"):
        cvat_mask.read(path)


def test_bad_files_name_themselves(tmp_path):
    path = export(tmp_path, "a", np.zeros((30, 30, 3)))
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(ReadError, match=r"SegmentationClass/a\.png: "):
        cvat_mask.read(path)
    export(tmp_path, "b", np.zeros((1, 1, 3)), labelmap="background:0,0,0::\ntool:250,50::\n")
    with pytest.raises(ReadError, match=r"labelmap\.txt: line 2: colour '250 50'"):
        cvat_mask.read(tmp_path, item="b")
    with pytest.raises(ReadError, match=r"no mask for item 'zzz'"):
        cvat_mask.read(tmp_path, item="zzz")
    loose = write_png(tmp_path / "loose.png", np.zeros((1, 1, 3), np.uint8))
    with pytest.raises(ReadError, match=r"loose\.png: a CVAT mask lies in SegmentationClass/"):
        cvat_mask.read(loose)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReadError, match=r"empty: no SegmentationClass/ or SegmentationObject/"):
        cvat_mask.read(tmp_path / "empty")


def test_sniff_prefers_cvat_for_its_layout(tmp_path):
    path = two_tools(tmp_path)
    specs = [*index_png.FORMATS, *rgb_mask.FORMATS, *cvat_mask.FORMATS]
    chosen = max((s for s in specs if s.accepts(path)), key=lambda s: s.priority)
    assert chosen.name == "cvat-mask"
    assert cvat_mask.FORMAT.accepts(tmp_path)
    assert not cvat_mask.sniff(tmp_path / "labelmap.txt")
    assert not cvat_mask.sniff(write_png(tmp_path / "x.png", np.zeros((1, 1, 3), np.uint8)))


def test_extending_a_labelmap_keeps_its_lines_as_they_are(tmp_path):
    original = "# label:color_rgb:parts:actions\nbackground:0,0,0::\ntool:250,50,83:blade:cut\n"
    (tmp_path / "labelmap.txt").write_text(original)
    seg = Segmentation.from_values(np.array([[0, 1, 2]], np.uint8),
                                   names={0: "background", 1: "tool", 2: "wheel"})
    files = cvat_mask.write(seg, tmp_path / "a.png")
    text = files[2].read_text()
    assert text.startswith(original) and text.count("\n") == 4
    assert text.splitlines()[3].startswith("wheel:")
    back = cvat_mask.read(files[0])
    assert {s.label: s.source_value[:3] for s in back.table}["tool"] == (250, 50, 83)
