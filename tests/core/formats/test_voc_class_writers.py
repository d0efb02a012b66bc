"""VOC class masks written from an instance read: classes, one labelmap row per class, void declared.

The source is a VOC class + object pair made here (classes 0 / 15 / 255, two
person instances). The labelmap is checked the way Datumaro's
``parse_label_map`` reads it: rows in order, four ``:`` fields, unique names,
and every colour painted in the mask declared.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from viewer.core.export import export, losses
from viewer.core.formats.registry import read_mask
from viewer.core.palettes import builtin_palette
from viewer.core.segmentation import Kind, Segmentation

VOID_COLOR = (224, 224, 192)


def voc_pair(root: Path) -> Path:
    """SegmentationClass/x.png + SegmentationObject/x.png; returns the object mask."""
    cls = np.zeros((8, 10), np.uint8)
    obj = np.zeros_like(cls)
    cls[1:4, 1:4], obj[1:4, 1:4] = 15, 1
    cls[4:7, 5:9], obj[4:7, 5:9] = 15, 2
    cls[0, :], obj[0, :] = 255, 255
    palette = builtin_palette("voc").colors(256).astype(np.uint8).ravel().tolist()
    for folder, values in (("SegmentationClass", cls), ("SegmentationObject", obj)):
        (root / folder).mkdir(parents=True, exist_ok=True)
        img = Image.fromarray(values, "P")
        img.putpalette(palette)
        img.save(root / folder / "x.png")
    return root / "SegmentationObject" / "x.png"


def expected_classes() -> np.ndarray:
    cls = np.zeros((8, 10), np.int64)
    cls[1:4, 1:4] = cls[4:7, 5:9] = 15
    cls[0, :] = 255
    return cls


def datumaro_labelmap(path: Path) -> list[tuple[str, tuple[int, int, int]]]:
    """Parse labelmap.txt as Datumaro's voc format.parse_label_map does (refusing what it refuses)."""
    rows, names = [], set()
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(":")
        assert len(fields) == 4, line
        assert fields[0] not in names, f"Label {fields[0]!r} is already defined"
        names.add(fields[0])
        rows.append((fields[0], tuple(int(c) for c in fields[1].split(","))))
    return rows


def fresh_read(path: Path, fmt: str) -> Segmentation:
    """Read without our sidecar: what another tool's file gives."""
    for sidecar in path.parent.glob("*.segview.json"):
        sidecar.unlink()
    return read_mask(path, fmt)


def pixel_field(seg: Segmentation, name: str) -> np.ndarray:
    lut = {s.id: getattr(s, name) for s in seg.table}
    return np.vectorize(lambda i: lut[int(i)], otypes=[object])(seg.labels)


def test_instance_read_is_written_as_classes_by_index_png_and_reported(tmp_path):
    seg = read_mask(voc_pair(tmp_path / "src"))
    assert seg.kind is Kind.INSTANCE
    assert any("instance numbers are lost" in n and "2 person (class 15)" in n
               for n in losses(seg, "index-png"))
    out = export(seg, "index-png", tmp_path / "out", "x").files[0]
    np.testing.assert_array_equal(np.array(Image.open(out)), expected_classes())
    back = fresh_read(out, "index-png")
    np.testing.assert_array_equal(pixel_field(back, "class_id").astype(np.int64), expected_classes())
    assert set(pixel_field(back, "label")[expected_classes() == 15]) == {"person"}
    assert pixel_field(back, "void")[0].all() and not pixel_field(back, "void")[1:].any()
    assert tuple(np.array(Image.open(out).getpalette()).reshape(-1, 3)[15]) == (192, 128, 128)


def test_instance_read_is_written_as_voc_colours_of_classes(tmp_path):
    seg = read_mask(voc_pair(tmp_path / "src"))
    assert any("instance numbers are lost" in n for n in losses(seg, "voc-rgb"))
    out = export(seg, "voc-rgb", tmp_path / "out", "x").files[0]
    rgb = np.array(Image.open(out).convert("RGB"))
    assert tuple(rgb[2, 2]) == tuple(rgb[5, 6]) == (192, 128, 128)
    assert tuple(rgb[0, 0]) == VOID_COLOR
    back = fresh_read(out, "voc-rgb")
    np.testing.assert_array_equal(pixel_field(back, "class_id").astype(np.int64), expected_classes())
    assert pixel_field(back, "void")[0].all() and not pixel_field(back, "void")[1:].any()


def test_renamed_classes_get_one_labelmap_row_each_and_a_void_row(tmp_path):
    seg = read_mask(voc_pair(tmp_path / "src"))
    for s in seg.table:
        if s.class_id == 15:
            seg.table.update(s.id, label="human")
    out = export(seg, "voc-rgb", tmp_path / "out", "x").files[0]
    rows = datumaro_labelmap(out.parent / "labelmap.txt")
    assert [name for name, _ in rows].count("human") == 1
    assert rows[15] == ("human", (192, 128, 128)) and rows[-1] == ("void", VOID_COLOR)
    painted = {tuple(c) for c in np.array(Image.open(out).convert("RGB")).reshape(-1, 3)}
    assert painted <= {color for _, color in rows}, "every painted colour is declared"
    back = fresh_read(out, "voc-rgb")
    by_class = {s.class_id: s for s in back.table if s.area}
    assert sorted(by_class) == [0, 15, 255]
    assert by_class[15].label == "human" and by_class[255].void and by_class[255].label == "void"
    assert by_class[255].color == VOID_COLOR


def test_a_second_mask_extends_the_labelmap_and_void_stays_last(tmp_path):
    seg = read_mask(voc_pair(tmp_path / "src"))
    for s in seg.table:
        if s.class_id == 15:
            seg.table.update(s.id, label="human")
    export(seg, "voc-rgb", tmp_path / "out", "x")
    values = np.zeros((2, 3), np.uint8)
    values[0, 0], values[1, 1] = 18, 255
    other = Segmentation.from_values(values, names={0: "background", 18: "couch", 255: "void"},
                                     void_values=(255,))
    second = export(other, "voc-rgb", tmp_path / "out", "y").files[0]
    rows = datumaro_labelmap(second.parent / "labelmap.txt")
    assert rows[15][0] == "human" and rows[18][0] == "couch" and rows[-1] == ("void", VOID_COLOR)
    assert len(rows) == 20
    for name, wanted in (("x", {0, 15, 255}), ("y", {0, 18, 255})):
        back = fresh_read(tmp_path / "out" / f"{name}.png", "voc-rgb")
        assert {s.class_id for s in back.table if s.area} == wanted
        assert all(s.void == (s.class_id == 255) for s in back.table if s.area)


def test_cvat_mask_keeps_void_and_names_and_reports_the_class_ids_it_renumbers(tmp_path):
    seg = read_mask(voc_pair(tmp_path / "src"))
    assert any("class ids change: person 15 -> 1" in n for n in losses(seg, "cvat-mask"))
    files = export(seg, "cvat-mask", tmp_path / "out", "x").files
    rows = datumaro_labelmap(tmp_path / "out" / "labelmap.txt")
    assert rows[-1] == ("void", VOID_COLOR)
    back = fresh_read(files[0], "cvat-mask")
    by_key = {(s.label, s.instance): s for s in back.table if s.area}
    assert set(by_key) == {("background", None), ("person", 1), ("person", 2), ("void", None)}
    assert by_key[("void", None)].void and by_key[("void", None)].class_id == 255
    assert not any(s.void for k, s in by_key.items() if k[0] != "void")
    assert pixel_field(back, "void")[0].all()
    np.testing.assert_array_equal(pixel_field(back, "instance")[2, 2], 1)
    np.testing.assert_array_equal(pixel_field(back, "instance")[5, 6], 2)
