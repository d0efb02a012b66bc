"""labelme / X-AnyLabeling JSON: pixels as labelme's ``shapes_to_label`` draws them.

The reference below is computed independently of the module: every shape on a
fresh full-size mode ``L`` image with the Pillow call labelme documents for its
type, painted in file order (the module draws on one shared canvas and reads
only each shape's box). Rectangles and masks are also checked against plain
numpy geometry, which needs no Pillow at all.
"""

from __future__ import annotations

import base64
import io
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from viewer.cli import main
from viewer.core.errors import ReadError
from viewer.core.formats import labelme
from viewer.core.formats.registry import find_reader, get_format, read_mask
from viewer.core.segmentation import Kind, Segmentation

ITEMS = ("2011_000003", "2011_000006", "2011_000025")
#: labelme regenerated its example outputs in 2023 with Pillow 10.x, whose polygon
#: rasteriser (10.0 to 11.0) fills this one edge pixel; Pillow <= 9 and >= 11.3 do not
#: (checked with 7.2, 8.3, 10.0.0, 10.0.1, 10.1, 10.4, 11.0, 11.3 and 13.0). labelme's
#: own pre-2023 output of the same file matches Pillow >= 11.3 exactly.
PILLOW_10_PIXELS = {"2011_000006": {(290, 104)}}


# -- an independent reference ---------------------------------------------------------
def reference(doc: dict, class_of: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """labelme's shapes_to_label + labelme2voc's ``ins[cls == -1] = 0``, restated."""
    h, w = doc["imageHeight"], doc["imageWidth"]
    cls = np.zeros((h, w), np.int64)
    ins = np.zeros((h, w), np.int64)
    objects: list = []
    for n, shape in enumerate(doc["shapes"]):
        key = (shape["label"], shape.get("group_id") if shape.get("group_id") is not None
               else f"alone-{n}")
        if key not in objects:
            objects.append(key)
        mask = shape_mask(shape, h, w)
        cls[mask] = class_of[shape["label"]]
        ins[mask] = objects.index(key) + 1
    ins[cls == -1] = 0
    return cls, ins


def shape_mask(shape: dict, h: int, w: int) -> np.ndarray:
    kind = shape.get("shape_type") or "polygon"
    xy = [tuple(p) for p in shape["points"]]
    if kind == "mask":
        return mask_reference(shape, h, w)
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    if kind == "circle":
        (cx, cy), (px, py) = xy
        r = math.dist((cx, cy), (px, py))
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=1, fill=1)
    elif kind == "rectangle":
        (a, b), (c, d) = xy
        draw.rectangle([min(a, c), min(b, d), max(a, c), max(b, d)], outline=1, fill=1)
    elif kind == "line":
        draw.line(xy, fill=1, width=10)
    elif kind == "linestrip":
        draw.line(xy, fill=1, width=10, joint="curve")
    elif kind in ("point", "points"):
        for cx, cy in xy:
            draw.ellipse([cx - 5, cy - 5, cx + 5, cy + 5], outline=1, fill=1)
    else:
        draw.polygon(xy, outline=1, fill=1)
    return np.array(img) > 0


def mask_reference(shape: dict, h: int, w: int) -> np.ndarray:
    patch = np.array(Image.open(io.BytesIO(base64.b64decode(shape["mask"])))) > 0
    pts = np.array(shape["points"], float)
    (x1, y1), (x2, y2) = np.round(pts).astype(int)
    ph, pw = (y2 - y1 + 1, x2 - x1 + 1) if (pts == np.trunc(pts)).all() else patch.shape
    out = np.zeros((h, w), bool)
    for r in range(max(y1, 0), min(y1 + ph, h)):
        for c in range(max(x1, 0), min(x1 + pw, w)):
            out[r, c] = patch[r - y1, c - x1]
    return out


def b64_png(mask: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(mask.astype(np.uint8)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def maps(seg: Segmentation) -> tuple[np.ndarray, np.ndarray]:
    """Class id and instance number of every pixel."""
    ids = range(int(seg.labels.max()) + 1)
    cls = np.array([seg.table[i].class_id if i in seg.table else 0 for i in ids], np.int64)
    ins = np.array([(seg.table[i].instance or 0) if i in seg.table else 0 for i in ids], np.int64)
    return cls[seg.labels], ins[seg.labels]


def shape(label, shape_type, points, group_id=None, **extra):
    return {"label": label, "points": points, "group_id": group_id, "shape_type": shape_type,
            "flags": {}, **extra}


def write_doc(path: Path, shapes: list, w: int = 64, h: int = 48, **extra) -> Path:
    doc = {"version": "5.4.1", "flags": {}, "shapes": shapes, "imagePath": "photo.jpg",
           "imageData": None, "imageHeight": h, "imageWidth": w, **extra}
    path.write_text(json.dumps(doc))
    return path


def every_shape_type() -> list[dict]:
    blob = np.zeros((7, 9), bool)
    blob[1:6, 2:8] = True
    blob[3, 4] = False
    return [
        shape("cat", "polygon", [[3.2, 4.7], [30.5, 2.1], [22.9, 27.3], [-4.0, 20.5]]),
        shape("dog", "rectangle", [[40.6, 30.2], [25.3, 12.8]]),
        shape("cat", "circle", [[50.5, 10.25], [57.1, 14.9]], group_id=1),
        shape("bird", "line", [[2.0, 40.0], [60.3, 44.7]]),
        shape("bird", "linestrip", [[5.5, 30.0], [20.0, 45.2], [35.7, 31.1], [45.0, 46.0]]),
        shape("dog", "point", [[12.4, 12.6]]),
        shape("dog", "points", [[60.0, 2.0], [62.5, 40.5]]),
        shape("cat", "rotation", [[44.0, 20.0], [52.0, 24.0], [48.0, 32.0], [40.0, 28.0]],
              group_id=1, direction=0.46),
        shape("cat", "oriented_rectangle", [[8.0, 8.0], [14.0, 6.0], [16.0, 12.0], [10.0, 14.0]]),
        shape("__ignore__", "polygon", [[28.0, 20.0], [34.0, 20.0], [31.0, 26.0]]),
        shape("_background_", "rectangle", [[0.0, 0.0], [3.0, 3.0]]),
        shape("fish", "mask", [[55.0, 40.0], [63.0, 46.0]], mask=b64_png(blob)),
        shape("fish", "mask", [[-2.4, 33.6], [6.4, 39.6]], mask=b64_png(blob), group_id=7),
    ]


# -- labelme's own examples --------------------------------------------------------------
@pytest.mark.parametrize("item", ITEMS)
def test_semantic_examples_equal_labelme2voc_output(shared_samples, tmp_path, item):
    """data_annotated/*.json read with class_names.txt beside: labelme2voc's .npy exactly."""
    folder = shared_samples / "labelme/semantic_segmentation"
    source = tmp_path / f"{item}.json"
    shutil.copy(folder / "data_annotated" / f"{item}.json", source)
    shutil.copy(folder / "data_dataset_voc/class_names.txt", tmp_path / "class_names.txt")
    seg = read_mask(source)
    assert seg.provenance.format == "labelme" and seg.kind is Kind.SEMANTIC
    expected = np.load(folder / f"data_dataset_voc/SegmentationClassNpy/{item}.npy")
    values = seg.to_values(np.int64)
    assert_same_or_pillow_pixels(values, expected, item)
    png = np.array(Image.open(folder / f"data_dataset_voc/SegmentationClass/{item}.png"))
    assert_same_or_pillow_pixels(values.astype(np.uint8), png, item)
    names = {s.value: s.label for s in seg.table}
    assert names[0] == "_background_" and names[-1] == "__ignore__" if -1 in names else True
    assert all(s.void == (s.value == -1) for s in seg.table)
    # The class names come from class_names.txt: VOC's person is 15.
    assert {s.label: s.value for s in seg.table}.get("person", 15) == 15


@pytest.mark.parametrize("item", ITEMS)
def test_semantic_examples_match_the_reference(shared_samples, item):
    """The same files against this test's own restatement of labelme's rule (no tolerance)."""
    folder = shared_samples / "labelme/semantic_segmentation"
    path = folder / "data_annotated" / f"{item}.json"
    names = (folder / "data_dataset_voc/class_names.txt").read_text().splitlines()
    class_of = {name: i for i, name in enumerate(names)} | {"__ignore__": -1}
    cls, ins = reference(json.loads(path.read_text()), class_of)
    seg = labelme.read(path, labels=folder / "data_dataset_voc/class_names.txt")
    np.testing.assert_array_equal(seg.to_values(np.int64), cls)
    inst = labelme.read(path, labels=folder / "data_dataset_voc/class_names.txt", kind="instance")
    got_cls, got_ins = maps(inst)
    np.testing.assert_array_equal(got_ins, ins)
    np.testing.assert_array_equal(got_cls, cls)


@pytest.mark.parametrize("item", ITEMS)
def test_instance_examples_equal_labelme2voc_output(shared_samples, tmp_path, item):
    """instance_segmentation/data_annotated (group_id): SegmentationClass and SegmentationObject."""
    folder = shared_samples / "labelme/instance_segmentation"
    source = folder / "data_annotated" / f"{item}.json"
    if not source.is_file():
        pytest.skip("labelme's instance_segmentation/data_annotated JSONs are not in the samples")
    voc = folder / "data_dataset_voc"
    seg = labelme.read(source, labels=voc / "class_names.txt", kind="instance")
    cls, ins = maps(seg)
    cls_png = np.array(Image.open(voc / f"SegmentationClass/{item}.png")).astype(np.int64)
    cls_png[cls_png == 255] = -1
    assert_same_or_pillow_pixels(cls, cls_png, item)
    assert_same_or_pillow_pixels(ins, np.array(Image.open(voc / f"SegmentationObject/{item}.png")),
                                 item)
    for npy, got in (("SegmentationClassNpy", cls), ("SegmentationObjectNpy", ins)):
        if (voc / npy / f"{item}.npy").is_file():
            assert_same_or_pillow_pixels(got, np.load(voc / npy / f"{item}.npy"), item)


def assert_same_or_pillow_pixels(got: np.ndarray, expected: np.ndarray, item: str) -> None:
    assert got.shape == expected.shape
    wrong = {tuple(p) for p in np.argwhere(got != expected).tolist()}
    assert wrong in (set(), PILLOW_10_PIXELS.get(item, set())), sorted(wrong)[:10]


def test_examples_are_found_and_paired(shared_samples):
    folder = shared_samples / "labelme/semantic_segmentation/data_annotated"
    assert find_reader(folder / "2011_000003.json").name == "labelme"
    from viewer.core.pairing import pair_folder

    items = {item.name: item.masks for item in pair_folder(folder)}
    assert items["2011_000003.jpg"] == (folder / "2011_000003.json",)


# -- generated files: every shape type ---------------------------------------------------
def test_every_shape_type_matches_the_reference(tmp_path):
    shapes = every_shape_type()
    path = write_doc(tmp_path / "all.json", shapes)
    seg = labelme.read(path, kind="semantic")
    class_of = {"_background_": 0, "__ignore__": -1, "cat": 1, "dog": 2, "bird": 3, "fish": 4}
    cls, ins = reference(json.loads(path.read_text()), class_of)
    np.testing.assert_array_equal(seg.to_values(np.int64), cls)
    assert {s.label: s.value for s in seg.table if s.value > 0} == {"cat": 1, "dog": 2,
                                                                   "bird": 3, "fish": 4}
    inst = labelme.read(path)
    assert inst.kind is Kind.INSTANCE
    got_cls, got_ins = maps(inst)
    np.testing.assert_array_equal(got_ins, ins)
    np.testing.assert_array_equal(got_cls, cls)
    # The circle and the rotated box share group_id 1: one cat object, not two.
    assert got_ins[10, 50] == got_ins[26, 46] > 0  # their centres
    assert "points" in " ".join(inst.provenance.details["warnings"])


def test_rectangles_and_masks_against_plain_geometry(tmp_path):
    """Integral corners: a rectangle fills x0..x1 and y0..y1 inclusive; a mask sits at (x1, y1)."""
    patch = np.zeros((4, 5), bool)
    patch[0, :] = patch[:, 0] = True
    shapes = [shape("box", "rectangle", [[10, 20], [3, 5]]),
              shape("m", "mask", [[30, 2], [34, 5]], mask=b64_png(patch)),
              # clipped at the bottom edge
              shape("m", "mask", [[38, 45], [42, 48]], mask=b64_png(patch))]
    seg = labelme.read(write_doc(tmp_path / "g.json", shapes), kind="semantic")
    expected = np.zeros((48, 64), np.int64)
    expected[5:21, 3:11] = 1
    expected[2:6, 30:35][patch] = 2
    expected[45:48, 38:43][patch[:3]] = 2
    np.testing.assert_array_equal(seg.to_values(np.int64), expected)


def test_fractional_mask_corners_use_the_png_extent(tmp_path):
    patch = np.ones((3, 4), bool)
    shapes = [shape("m", "mask", [[10.4, 6.6], [13.2, 8.9]], mask=b64_png(patch))]
    seg = labelme.read(write_doc(tmp_path / "f.json", shapes))
    expected = np.zeros((48, 64), np.int64)
    expected[7:10, 10:14] = 1
    np.testing.assert_array_equal(seg.to_values(np.int64), expected)


def test_labels_file_and_first_appearance_order(tmp_path):
    shapes = [shape("tree", "rectangle", [[0, 0], [5, 5]]),
              shape("car", "rectangle", [[8, 8], [9, 9]])]
    path = write_doc(tmp_path / "a.json", shapes)
    assert {s.label: s.value for s in labelme.read(path).table} == \
        {"_background_": 0, "tree": 1, "car": 2}
    (tmp_path / "labels.txt").write_text("__ignore__\n_background_\ncar\ntree\n")
    assert {s.label: s.value for s in read_mask(path).table} == \
        {"_background_": 0, "tree": 2, "car": 1}
    seg = labelme.read(path, labels=["__ignore__", "_background_", "bus", "car"])
    assert {s.label: s.value for s in seg.table} == {"_background_": 0, "car": 2, "tree": 3}
    assert "not in" in " ".join(seg.provenance.details["warnings"])


def test_size_from_the_photo_when_not_declared(tmp_path):
    Image.new("RGB", (20, 10)).save(tmp_path / "photo.jpg")
    path = write_doc(tmp_path / "p.json", [shape("a", "rectangle", [[1, 1], [4, 4]])])
    doc = json.loads(path.read_text())
    del doc["imageHeight"], doc["imageWidth"]
    path.write_text(json.dumps(doc))
    assert labelme.read(path).shape == (10, 20)
    assert labelme.read(path, image_size=(30, 15)).shape == (15, 30)
    declared = write_doc(tmp_path / "d.json", [], w=20, h=10)
    with pytest.raises(ReadError, match="declares a 20x10"):
        labelme.read(declared, image_size=(30, 10))


# -- writing -------------------------------------------------------------------------
def test_semantic_round_trip_is_exact(tmp_path):
    values = np.zeros((30, 40), np.int64)
    values[2:10, 3:20] = 15
    values[12:25, 5:9] = 7
    values[20:28, 30:39] = 255
    values[0, 39] = 3
    names = {0: "background", 15: "person", 7: "cat", 255: "void", 3: "tiny"}
    seg = Segmentation.from_values(values, names=names, void_values=(255,))
    assert labelme.losses(seg) == []
    [out] = labelme.write(seg, tmp_path / "x")
    assert out.suffix == ".json"
    doc = json.loads(out.read_text())
    assert {s["shape_type"] for s in doc["shapes"]} == {"mask"}
    assert doc["imageData"] is None and doc["imagePath"] == "x.jpg"
    assert {s["label"] for s in doc["shapes"]} == {"person", "cat", "__ignore__", "tiny"}
    back = read_mask(out)
    np.testing.assert_array_equal(back.to_values(np.int64), values)
    assert {s.value: (s.label, s.color, s.void) for s in back.table} == \
        {s.value: (s.label, s.color, s.void) for s in seg.table}


def test_mask_shapes_are_what_labelme_places(tmp_path):
    """Written mask shapes drawn by the independent reference give the label map back."""
    values = np.zeros((20, 30), np.int64)
    values[3:9, 4:11] = 1
    values[5, 6] = 0
    values[10:20, 25:30] = 2
    seg = Segmentation.from_values(values, names={0: "background", 1: "a", 2: "b"})
    [out] = labelme.write(seg, tmp_path / "m.json")
    cls, _ = reference(json.loads(out.read_text()), {"a": 1, "b": 2})
    np.testing.assert_array_equal(cls, values)


def test_instance_round_trip_keeps_objects(tmp_path):
    path = write_doc(tmp_path / "src.json", every_shape_type())
    seg = labelme.read(path)
    assert labelme.losses(seg) == []
    [out] = labelme.write(seg, tmp_path / "out.json")
    back = labelme.read(out)
    assert back.kind is Kind.INSTANCE
    np.testing.assert_array_equal(back.to_values(np.int64), seg.to_values(np.int64))
    for a, b in zip(maps(back), maps(seg), strict=True):
        np.testing.assert_array_equal(a, b)
    groups = {(s["label"], s["group_id"]) for s in json.loads(out.read_text())["shapes"]}
    assert ("cat", 1) in groups and ("fish", 7) in groups


def test_image_path_is_relative_to_the_photo(tmp_path):
    (tmp_path / "photos").mkdir()
    Image.new("RGB", (4, 3)).save(tmp_path / "photos" / "p.png")
    seg = Segmentation.from_values(np.ones((3, 4), np.uint8), names={1: "a"})
    [out] = labelme.write(seg, tmp_path / "ann" / "p.json", image=tmp_path / "photos" / "p.png")
    assert json.loads(out.read_text())["imagePath"] == "../photos/p.png"


def test_polygons_option_traces_and_says_what_it_loses(tmp_path):
    values = np.zeros((40, 40), np.uint8)
    values[5:30, 5:30] = 1
    values[12:18, 12:18] = 0  # a hole, which an outer polygon fills
    seg = Segmentation.from_values(values, names={0: "background", 1: "a"})
    [out] = labelme.write(seg, tmp_path / "p.json", polygons=True, epsilon=1.0)
    doc = json.loads(out.read_text())
    assert [s["shape_type"] for s in doc["shapes"]] == ["polygon"]
    back = labelme.read(out).to_values(np.int64)
    assert (back[values == 1] == 1).all() and (back[12:18, 12:18] == 1).all()
    with pytest.raises(Exception, match="epsilon"):
        labelme.write(seg, tmp_path / "q.json", polygons=True, epsilon=float("nan"))


def test_losses_name_scores_and_merged_labels():
    values = np.array([[0, 1, 2]], np.uint8)
    seg = Segmentation.from_values(values, names={0: "background", 1: "a", 2: "a"},
                                   confidence=np.ones((1, 3), np.float32))
    lost = " ".join(labelme.losses(seg))
    assert "share the label 'a'" in lost and "confidence" in lost


# -- bad files ---------------------------------------------------------------------
BAD = {
    "not an object": [],
    "no shapes": {"imageHeight": 4, "imageWidth": 4},
    "shapes not a list": {"shapes": {}, "imageHeight": 4, "imageWidth": 4},
    "label not a string": {"shapes": [shape(3, "polygon", [[0, 0], [1, 0], [1, 1]])]},
    "NaN point": {"shapes": [shape("a", "polygon", [[float("nan"), 0], [1, 0], [1, 1]])]},
    "infinite point": {"shapes": [shape("a", "point", [[float("inf"), 0]])]},
    "far point": {"shapes": [shape("a", "circle", [[0, 0], [1e300, 0]])]},
    "point not a pair": {"shapes": [shape("a", "polygon", [[0, 0, 0], [1, 0], [1, 1]])]},
    "point of strings": {"shapes": [shape("a", "point", [["1", "2"]])]},
    "empty points": {"shapes": [shape("a", "polygon", [])]},
    "circle of 3": {"shapes": [shape("a", "circle", [[0, 0], [1, 1], [2, 2]])]},
    "unknown type": {"shapes": [shape("a", "cuboid", [[0, 0]])]},
    "bool group": {"shapes": [shape("a", "point", [[1, 1]], group_id=True)]},
    "mask not base64": {"shapes": [shape("a", "mask", [[0, 0], [1, 1]], mask="@@not base64@@")]},
    "mask not png": {"shapes": [shape("a", "mask", [[0, 0], [1, 1]],
                                      mask=base64.b64encode(b"hello").decode())]},
    "mask missing": {"shapes": [shape("a", "mask", [[0, 0], [1, 1]])]},
    "mask too large": {"shapes": [shape("a", "mask", [[0, 0], [1, 1]],
                                        mask=b64_png(np.ones((100, 3), bool)))]},
    "mask RGB": {"shapes": [shape("a", "mask", [[0, 0], [1, 1]],
                                  mask=b64_png(np.ones((2, 2, 3), np.uint8)))]},
    "imageData not base64": {"imageData": "!!!"},
    "imageData a number": {"imageData": 5},
    "width a string": {"imageWidth": "²"},
    "height negative": {"imageHeight": -4},
    "huge size": {"imageWidth": 10**6, "imageHeight": 10**6},
    "no size, no photo": {"imageWidth": None, "imageHeight": None, "imagePath": ""},
    "score NaN": {"shapes": [shape("a", "point", [[1, 1]], score=float("nan"))]},
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_files_raise_read_error_naming_the_file(tmp_path, case):
    path = tmp_path / "bad.json"
    content = BAD[case]
    if isinstance(content, dict):
        doc = {"version": "5.0", "shapes": [], "imagePath": "x.jpg", "imageData": None,
               "imageHeight": 8, "imageWidth": 8}
        doc.update(content)
        if "shapes" not in content and case == "no shapes":
            del doc["shapes"]
        content = doc
    path.write_text(json.dumps(content))
    with pytest.raises(ReadError) as info:
        labelme.read(path)
    assert str(path) in str(info.value)


def test_shape_and_point_budgets(tmp_path, monkeypatch):
    monkeypatch.setattr(labelme, "MAX_SHAPES", 3)
    path = write_doc(tmp_path / "many.json", [shape("a", "point", [[1, 1]])] * 4)
    with pytest.raises(ReadError, match="4 shapes"):
        labelme.read(path)
    monkeypatch.setattr(labelme, "MAX_POINTS", 10)
    path = write_doc(tmp_path / "long.json", [shape("a", "linestrip", [[1, 1]] * 11)])
    with pytest.raises(ReadError, match="points"):
        labelme.read(path)
    monkeypatch.setattr(labelme, "MAX_PAINTED", 64 * 48 * 2)
    path = write_doc(tmp_path / "paint.json", [shape("a", "rectangle", [[0, 0], [63, 47]])] * 3)
    with pytest.raises(ReadError, match="paint"):
        labelme.read(path)


# -- sniffing and the command line ------------------------------------------------------
def test_sniff_tells_labelme_from_other_json(tmp_path):
    ours = write_doc(tmp_path / "a.json", [shape("a", "point", [[1, 1]])])
    assert find_reader(ours).name == "labelme"
    nucleus = tmp_path / "n.json"
    nucleus.write_text(json.dumps({"mask_url": "m.png", "annotations": []}))
    assert not labelme.sniff(nucleus)
    other = tmp_path / "o.json"
    other.write_text(json.dumps({"shapes": [], "colour": "red"}))
    assert not labelme.sniff(other)
    # A long shapes list pushes imagePath beyond the sniffed head.
    long = write_doc(tmp_path / "long.json",
                     [shape("a", "polygon", [[i, 0], [i, 5], [i + 1, 5]]) for i in range(2000)])
    assert labelme.sniff(long)


def test_cli_info_and_convert(tmp_path, capsys):
    path = write_doc(tmp_path / "c.json", every_shape_type())
    assert main(["info", str(path)]) == 0
    assert "labelme" in capsys.readouterr().out
    assert main(["convert", str(path), "--to", "index-png", "--out", str(tmp_path / "out")]) == 0
    png = np.array(Image.open(tmp_path / "out" / "c.png"))
    assert png.shape == (48, 64) and png.max() > 0
    assert main(["convert", str(tmp_path / "out" / "c.png"), "--to", "labelme",
                 "--out", str(tmp_path / "back")]) == 0
    assert get_format("labelme").read(tmp_path / "back" / "c.json").shape == (48, 64)


def test_cli_bad_file_is_one_line(tmp_path, capsys):
    path = write_doc(tmp_path / "b.json", [shape("a", "circle", [[0, 0]])])
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and "circle" in err[0]
