"""``segview convert --layout dataset``: many inputs, one dataset where the owning tool looks.

Checked with the owning readers where they are installed (pycocotools) and by
reading the dataset back with SegView, pixel for pixel.
"""

import json

import numpy as np
import pytest
from PIL import Image

from viewer.cli import main
from viewer.core.formats import coco_rle
from viewer.core.formats.registry import find_reader, list_items, read_mask

mask_utils = pytest.importorskip("pycocotools.mask")
COCO = pytest.importorskip("pycocotools.coco").COCO
# pycocotools 2.0 on NumPy 2 warns once per decoded mask; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _index_png(path, shape, boxes):
    values = np.zeros(shape, np.uint8)
    for value, (r0, r1, c0, c1) in boxes:
        values[r0:r1, c0:c1] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(values).save(path)
    return path


def _coco_container(path):
    """Two images, overlapping instances of one category, ids that clash with the PNGs'."""
    def rle(shape, box):
        mask = np.zeros(shape, np.uint8, order="F")
        r0, r1, c0, c1 = box
        mask[r0:r1, c0:c1] = 1
        encoded = mask_utils.encode(mask)
        return {"size": list(shape), "counts": encoded["counts"].decode("ascii")}

    shape = (24, 32)
    doc = {"images": [{"id": 7, "file_name": "street.jpg", "width": 32, "height": 24},
                      {"id": 9, "file_name": "park.jpg", "width": 32, "height": 24}],
           "categories": [{"id": 1, "name": "car"}, {"id": 15, "name": "person"}],
           "annotations": [
               {"id": 1, "image_id": 7, "category_id": 1, "iscrowd": 0,
                "segmentation": rle(shape, (2, 12, 2, 14))},
               {"id": 2, "image_id": 7, "category_id": 1, "iscrowd": 0,
                "segmentation": rle(shape, (6, 20, 8, 30))},
               {"id": 3, "image_id": 9, "category_id": 15, "iscrowd": 0,
                "segmentation": rle(shape, (0, 24, 0, 5))}]}
    for ann in doc["annotations"]:
        ann["area"] = int(mask_utils.area(ann["segmentation"]))
        ann["bbox"] = [float(v) for v in mask_utils.toBbox(ann["segmentation"])]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def inputs(tmp_path):
    src = tmp_path / "in"
    return [
        # Class 1 is "aeroplane" here and "car" in more.json: one of them gets a new id.
        _index_png(src / "a.png", (40, 60), [(15, (5, 20, 5, 20)), (8, (25, 35, 30, 50)),
                                             (1, (36, 40, 0, 10))]),
        _index_png(src / "b.png", (30, 50), [(8, (2, 10, 2, 30)), (15, (15, 25, 10, 20))]),
        _coco_container(src / "more.json"),
    ]


def _source_items(paths):
    """(class name, mask) pairs per item, in the order convert reads them."""
    out = []
    for path in paths:
        spec = find_reader(path)
        for item in list_items(path, spec.name) or [None]:
            seg = read_mask(path, spec.name, item=item)
            out.append(sorted(((s.label, seg.mask_of(s.id).tobytes())
                               for s in coco_rle.instance_segments(seg)), key=str))
    return out


def test_coco_rle_dataset_loads_in_pycocotools_with_every_mask_exact(tmp_path, inputs, capsys):
    out = tmp_path / "out"
    assert main(["convert", *map(str, inputs), "--to", "coco-rle", "--out", str(out),
                 "--subset", "train"]) == 0
    json_path = out / "annotations" / "instances_train.json"
    coco = COCO(str(json_path))
    images = coco.dataset["images"]
    assert [i["id"] for i in images] == [1, 2, 3, 4]
    assert [i["file_name"] for i in images] == ["a.jpg", "b.jpg", "street.jpg", "park.jpg"]
    assert [(i["width"], i["height"]) for i in images] == [(60, 40), (50, 30), (32, 24), (32, 24)]
    ann_ids = [a["id"] for a in coco.dataset["annotations"]]
    assert len(ann_ids) == len(set(ann_ids))
    cat_ids = [c["id"] for c in coco.dataset["categories"]]
    assert len(cat_ids) == len(set(cat_ids))
    names = {c["id"]: c["name"] for c in coco.dataset["categories"]}
    assert set(names.values()) >= {"aeroplane", "car", "cat", "person"}
    assert "category 1 (car) is written as category" in capsys.readouterr().err
    expected = _source_items(inputs)
    got = [sorted(((names[a["category_id"]], coco.annToMask(a).astype(bool).tobytes())
                   for a in coco.loadAnns(coco.getAnnIds(imgIds=[i["id"]]))), key=str)
           for i in images]
    assert got == expected
    # SegView reads its own dataset back: every item, every mask.
    assert list_items(json_path) == ["a.jpg", "b.jpg", "street.jpg", "park.jpg"]
    assert _source_items([json_path]) == expected


def _rgb2id(rgb):
    rgb = rgb.astype(np.uint32)
    return rgb[..., 0] + 256 * rgb[..., 1] + 256 * 256 * rgb[..., 2]


def test_coco_panoptic_dataset_has_the_png_folder_named_after_the_json(tmp_path, inputs):
    out = tmp_path / "out"
    pngs = inputs[:2]
    assert main(["convert", *map(str, pngs), "--to", "coco-panoptic", "--out", str(out)]) == 0
    json_path = out / "annotations" / "panoptic_default.json"
    doc = json.loads(json_path.read_text())
    assert [i["id"] for i in doc["images"]] == [1, 2]
    assert [i["file_name"] for i in doc["images"]] == ["a.jpg", "b.jpg"]
    assert [a["file_name"] for a in doc["annotations"]] == ["a.png", "b.png"]
    assert [a["image_id"] for a in doc["annotations"]] == [1, 2]
    categories = {c["id"] for c in doc["categories"]}
    assert len(categories) == len(doc["categories"])
    for src, ann in zip(pngs, doc["annotations"], strict=True):
        # As panopticapi reads it: rgb2id of the PNG in annotations/panoptic_default/.
        with Image.open(out / "annotations" / "panoptic_default" / ann["file_name"]) as img:
            pan = _rgb2id(np.array(img.convert("RGB")))
        with Image.open(src) as img:
            source = np.array(img)
        info = {s["id"]: s for s in ann["segments_info"]}
        assert set(np.unique(pan).tolist()) - {0} == set(info)
        for pid, s in info.items():
            assert s["category_id"] in categories
            assert s["area"] == int((pan == pid).sum())
        # Every labelled pixel's class comes through (background 0 is VOID).
        classes = np.vectorize(lambda v: info[v]["category_id"] if v else 0)(pan)
        assert (classes == source).all()
        back = read_mask(out / "annotations" / "panoptic_default" / ann["file_name"])
        assert back.provenance.format == "coco-panoptic"
        lut = {s.id: (s.class_id or 0) for s in back.table}
        assert (np.vectorize(lut.get)(back.labels) == source).all()


def test_cityscapes_dataset_names_the_kind_written(tmp_path):
    src = tmp_path / "gtFine" / "val" / "frankfurt" / "frankfurt_000000_000294_gtFine_labelIds.png"
    # labelIds 7 road, 26 car, 24 person: trainIds 0, 13, 11.
    _index_png(src, (128, 256), [(7, (0, 64, 0, 256)), (26, (64, 128, 0, 128)),
                                 (24, (64, 128, 128, 256))])
    out = tmp_path / "out"
    assert main(["convert", str(src), "--to", "cityscapes-trainids", "--out", str(out),
                 "--subset", "val"]) == 0
    written = (out / "gtFine" / "val" / "frankfurt"
               / "frankfurt_000000_000294_gtFine_labelTrainIds.png")
    assert written.is_file()
    assert not list(out.rglob("*_labelIds.png"))
    back = read_mask(written)
    assert back.provenance.format == "cityscapes-trainids"
    with Image.open(written) as img:
        pixels = np.array(img)
    expected = np.zeros((128, 256), np.uint8)
    expected[64:, :128], expected[64:, 128:] = 13, 11
    assert (pixels == expected).all()  # 32,768 of 32,768 px right
    names = {s.id: s.label for s in back.table}
    assert names[np.unique(back.labels[64:, :128])[0]] == "car"


def test_cityscapes_city_defaults_and_file_layout_is_unchanged(tmp_path):
    src = _index_png(tmp_path / "in" / "x_gtFine_labelIds.png", (8, 8), [(26, (0, 4, 0, 8))])
    out = tmp_path / "out"
    assert main(["convert", str(src), "--to", "cityscapes-instanceids", "--out", str(out)]) == 0
    assert (out / "gtFine" / "default" / "default" / "x_gtFine_instanceIds.png").is_file()
    flat = tmp_path / "flat"
    assert main(["convert", str(src), "--to", "cityscapes-trainids", "--out", str(flat),
                 "--layout", "file"]) == 0
    assert (flat / "x_gtFine_labelIds.png").is_file()  # today's per-file output, as it was


def test_a_dataset_is_written_again_over_itself(tmp_path, inputs):
    out = tmp_path / "out"
    args = ["convert", *map(str, inputs[:2]), "--to", "coco-rle", "--out", str(out)]
    assert main(args) == 0
    first = (out / "annotations" / "instances_default.json").read_text()
    assert main(args) == 0  # the guard knows the dataset's files as ours
    assert json.loads(first)["images"] == json.loads(
        (out / "annotations" / "instances_default.json").read_text())["images"]


def test_two_inputs_with_one_name_are_refused_naming_both(tmp_path, capsys):
    a = _index_png(tmp_path / "one" / "x.png", (4, 4), [(1, (0, 2, 0, 2))])
    b = _index_png(tmp_path / "two" / "x.png", (4, 4), [(2, (0, 2, 0, 2))])
    out = tmp_path / "out"
    assert main(["convert", str(a), str(b), "--to", "coco-panoptic", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(a) in err and str(b) in err
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))


def test_a_failing_item_leaves_no_dataset_behind(tmp_path, capsys):
    good = _index_png(tmp_path / "in" / "good.png", (4, 4), [(1, (0, 2, 0, 2))])
    bad = tmp_path / "in" / "bad.npy"
    np.save(bad, np.full((4, 4), 1 << 25, np.int64))  # no 24-bit panoptic id
    out = tmp_path / "out"
    assert main(["convert", str(good), str(bad), "--to", "coco-panoptic", "--out",
                 str(out)]) == 2
    assert "bad" in capsys.readouterr().err
    assert not any(p.is_file() for p in out.rglob("*"))  # good.png's PNG was rolled back


@pytest.mark.parametrize("extra", [["--subset", "../up"], ["--subset", ""],
                                   ["--layout", "dataset", "--to", "index-png"]])
def test_bad_layout_options_exit_2(tmp_path, inputs, capsys, extra):
    args = ["convert", str(inputs[0]), "--to", "coco-rle", "--out", str(tmp_path / "o"), *extra]
    assert main(args) == 2
    assert capsys.readouterr().err.startswith("segview: error:")


def _coco_one(path, cats):
    """A one-image COCO file with one box per category, side by side."""
    doc = {"images": [{"id": 1, "file_name": path.stem + ".jpg", "width": 20, "height": 10}],
           "categories": [{"id": i, "name": n} for i, n in cats], "annotations": []}
    for k, (cid, _name) in enumerate(cats):
        mask = np.zeros((10, 20), np.uint8, order="F")
        mask[0:5, k * 5:k * 5 + 5] = 1
        counts = mask_utils.encode(mask)["counts"].decode("ascii")
        doc["annotations"].append({"id": k + 1, "image_id": 1, "category_id": cid, "iscrowd": 0,
                                   "segmentation": {"size": [10, 20], "counts": counts}})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def named_inputs(tmp_path):
    return [_coco_one(tmp_path / "in" / "one.json", [(1, "car")]),
            _coco_one(tmp_path / "in" / "two.json", [(1, "car"), (2, "tree")])]


def _labels_by_pixel(seg):
    names = {s.id: s.label for s in seg.table}
    return np.vectorize(names.get)(seg.labels)


@pytest.mark.parametrize("fmt", ["voc-rgb", "cvat-mask"])
def test_voc_layouts_share_one_labelmap_and_list_the_subset(tmp_path, named_inputs, fmt):
    out = tmp_path / "out"
    assert main(["convert", *map(str, named_inputs), "--to", fmt, "--out", str(out),
                 "--subset", "train"]) == 0
    assert (out / "ImageSets" / "Segmentation" / "train.txt").read_text().split() == ["one", "two"]
    assert not (out / "ImageSets" / "Segmentation" / "default.txt").exists()
    rows = [line.split(":")[0] for line in (out / "labelmap.txt").read_text().splitlines()
            if line and not line.startswith("#")]
    assert sorted(rows) == sorted(set(rows)) and {"car", "tree"} <= set(rows)
    assert not list((out / "SegmentationClass").glob("labelmap.txt"))
    for src in named_inputs:
        written = out / "SegmentationClass" / f"{src.stem}.png"
        written.with_suffix(".segview.json").unlink(missing_ok=True)  # as another tool sees it
        for sidecar in out.glob(f"{src.stem}.segview.json"):
            sidecar.unlink()
        back = read_mask(written)
        assert (_labels_by_pixel(back) == _labels_by_pixel(read_mask(src))).all()


def test_camvid_layout_has_label_colors_at_the_root_and_a_subset_list(tmp_path, named_inputs):
    out = tmp_path / "out"
    assert main(["convert", *map(str, named_inputs), "--to", "camvid", "--out", str(out),
                 "--subset", "val"]) == 0
    assert (out / "val.txt").read_text().splitlines() == [
        "/val/one.jpg valannot/one.png", "/val/two.jpg valannot/two.png"]
    assert (out / "label_colors.txt").is_file()
    assert not (out / "valannot" / "label_colors.txt").exists()
    lines = (out / "label_colors.txt").read_text().splitlines()
    names = [line.split(maxsplit=3)[3] for line in lines]
    assert len(names) == len(set(names)) and {"car", "tree"} <= set(names)
    for src in named_inputs:
        written = out / "valannot" / f"{src.stem}.png"
        written.with_suffix(".segview.json").unlink()  # read as Datumaro would: the table only
        back = read_mask(written)
        assert back.provenance.format == "camvid"
        assert (_labels_by_pixel(back) == _labels_by_pixel(read_mask(src))).all()


@pytest.mark.parametrize("fmt", ["voc-rgb", "cvat-mask", "camvid"])
def test_a_later_convert_extends_the_dataset_its_tables_and_lists(tmp_path, named_inputs, fmt):
    out = tmp_path / "out"
    first, second = named_inputs
    assert main(["convert", str(first), "--to", fmt, "--out", str(out)]) == 0
    # The shared tables at the root are this dataset's: the guard lets the next item extend them.
    assert main(["convert", str(second), "--to", fmt, "--out", str(out)]) == 0
    table = out / ("label_colors.txt" if fmt == "camvid" else "labelmap.txt")
    assert "tree" in table.read_text()
    listing = out / ("default.txt" if fmt == "camvid" else "ImageSets/Segmentation/default.txt")
    assert len(listing.read_text().splitlines()) == 2
    assert fmt == "cvat-mask" or (out / f"default.{fmt}.dataset.segview.json").is_file()


def _pycocotools_items(json_path):
    coco = COCO(str(json_path))
    names = {c["id"]: c["name"] for c in coco.dataset["categories"]}
    return [sorted(((names[a["category_id"]], coco.annToMask(a).astype(bool).tobytes())
                    for a in coco.loadAnns(coco.getAnnIds(imgIds=[i["id"]]))), key=str)
            for i in coco.dataset["images"]]


def test_cocoapi_and_panopticapi_samples_become_one_dataset_each(tmp_path, shared_samples):
    results = shared_samples / "coco-rle-cocoapi" / "instances_val2014_fakesegm100_results.json"
    pngs = sorted((shared_samples / "coco-panoptic-panopticapi" / "sample_data"
                   / "panoptic_examples").glob("*.png"))
    if not results.is_file() or not pngs:
        pytest.skip("the cocoapi / panopticapi samples are not there")
    for inputs, out in (([results], tmp_path / "rle"), (pngs, tmp_path / "pan")):
        assert main(["convert", *map(str, inputs), "--to", "coco-rle", "--out", str(out)]) == 0
        json_path = out / "annotations" / "instances_default.json"
        expected = _source_items(inputs)
        assert len(expected) == (99 if inputs == [results] else 2)
        assert _pycocotools_items(json_path) == expected  # every instance of every image
        assert _source_items([json_path]) == expected


@pytest.mark.parametrize("fmt", ["coco-panoptic", "cityscapes-labelids", "voc-rgb", "camvid"])
def test_an_unreadable_later_input_leaves_no_dataset_behind(tmp_path, capsys, fmt):
    good = _index_png(tmp_path / "in" / "good.png", (4, 4), [(1, (0, 2, 0, 2))])
    broken = tmp_path / "in" / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not a png")
    out = tmp_path / "out"
    # The first item is written (held by the transaction) before the second is read.
    assert main(["convert", str(good), str(broken), "--to", fmt, "--out", str(out),
                 "--from", "index-png"]) == 2
    assert "broken.png" in capsys.readouterr().err
    assert not any(p.is_file() for p in out.rglob("*"))


@pytest.mark.parametrize("fmt", ["coco-rle", "coco-panoptic"])
def test_layout_file_keeps_one_output_beside_each_input_name(tmp_path, inputs, fmt):
    out = tmp_path / "out"
    assert main(["convert", str(inputs[0]), "--to", fmt, "--out", str(out),
                 "--layout", "file"]) == 0
    assert (out / "a.json").is_file() and not (out / "annotations").exists()
