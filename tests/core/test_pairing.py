"""Pairing images with masks by names only (viewer.core.pairing)."""

import os
from pathlib import Path

import pytest

from viewer.core.errors import ReadError
from viewer.core.pairing import Item, is_mask_folder, natural_key, pair_folder, pair_image


def touch(root: Path, *names: str) -> None:
    """Create empty files (nothing is decoded, so content does not matter)."""
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()


def as_dict(items: list[Item], root: Path) -> dict[str, list[str]]:
    return {item.name: [m.relative_to(root).as_posix() for m in item.masks] for item in items}


def test_item_is_frozen(tmp_path):
    touch(tmp_path, "a.jpg")
    (item,) = pair_folder(tmp_path)
    assert item == Item(tmp_path / "a.jpg", (), "a.jpg")
    with pytest.raises(AttributeError):
        item.name = "b"


def test_natural_sort_including_folders(tmp_path):
    touch(tmp_path, "img10.jpg", "img2.jpg", "IMG1.jpg", "sub10/a.jpg", "sub9/a.jpg")
    assert [i.name for i in pair_folder(tmp_path)] == [
        "IMG1.jpg", "img2.jpg", "img10.jpg", "sub9/a.jpg", "sub10/a.jpg"]
    assert natural_key("a2b") < natural_key("a10b")


def test_celantur_and_clearml_suffixes_beside(tmp_path):
    touch(tmp_path, "p.jpg", "p_bin_mask.png", "p_ins_maks.png", "q.jpg", "q_ins_mask.png",
          "r.jpg", "r_mask.png")
    assert as_dict(pair_folder(tmp_path), tmp_path) == {
        "p.jpg": ["p_ins_maks.png", "p_bin_mask.png"],   # instance before binary
        "q.jpg": ["q_ins_mask.png"],
        "r.jpg": ["r_mask.png"],
    }


def test_same_stem_png_and_npy_beside_a_photo(tmp_path):
    touch(tmp_path, "frame1.jpg", "frame1.png", "frame1.npy", "frame2.jpg")
    assert as_dict(pair_folder(tmp_path), tmp_path) == {
        # frame1.png is frame1.jpg's mask, so it is not listed as an image.
        "frame1.jpg": ["frame1.png", "frame1.npy"],
        "frame2.jpg": [],
    }


def test_png_image_is_never_its_own_mask(tmp_path):
    touch(tmp_path, "x.png", "y.png", "y.npy")
    assert as_dict(pair_folder(tmp_path), tmp_path) == {"x.png": [], "y.png": ["y.npy"]}
    assert pair_image(tmp_path / "x.png") == ()


def test_voc_cvat_labelme_layout(tmp_path):
    touch(tmp_path, "JPEGImages/2007_1.jpg", "JPEGImages/2007_2.jpg",
          "SegmentationClass/2007_1.png", "SegmentationObject/2007_1.png",
          "SegmentationClassNpy/2007_1.npy", "SegmentationClassVisualization/2007_1.jpg",
          "SegmentationClass/2007_2.png", "ImageSets/Segmentation/default.txt")
    assert as_dict(pair_folder(tmp_path), tmp_path) == {
        "JPEGImages/2007_1.jpg": ["SegmentationClass/2007_1.png", "SegmentationClassNpy/2007_1.npy",
                                  "SegmentationObject/2007_1.png",
                                  "SegmentationClassVisualization/2007_1.jpg"],
        "JPEGImages/2007_2.jpg": ["SegmentationClass/2007_2.png"],
    }


def test_opening_the_image_folder_itself_finds_sibling_mask_folders(tmp_path):
    touch(tmp_path, "JPEGImages/a.jpg", "SegmentationClass/a.png")
    items = pair_folder(tmp_path / "JPEGImages")
    assert [(i.name, i.masks) for i in items] == [
        ("a.jpg", (tmp_path / "SegmentationClass/a.png",))]


def test_cityscapes_layout(tmp_path):
    base = "aachen_000000_000019"
    touch(tmp_path,
          f"leftImg8bit/train/aachen/{base}_leftImg8bit.png",
          f"gtFine/train/aachen/{base}_gtFine_labelIds.png",
          f"gtFine/train/aachen/{base}_gtFine_labelTrainIds.png",
          f"gtFine/train/aachen/{base}_gtFine_color.png",
          f"gtFine/train/aachen/{base}_gtFine_instanceIds.png",
          f"gtFine/train/aachen/{base}_gtFine_polygons.json",
          f"gtFine/val/aachen/{base}_gtFine_labelIds.png")   # other split: not ours
    assert as_dict(pair_folder(tmp_path), tmp_path) == {
        f"leftImg8bit/train/aachen/{base}_leftImg8bit.png": [
            f"gtFine/train/aachen/{base}_gtFine_instanceIds.png",
            f"gtFine/train/aachen/{base}_gtFine_labelIds.png",
            f"gtFine/train/aachen/{base}_gtFine_labelTrainIds.png",
            f"gtFine/train/aachen/{base}_gtFine_color.png",
        ]}


def test_cityscapes_flat_folder(tmp_path):
    touch(tmp_path, "a_leftImg8bit.png", "a_gtFine_labelIds.png")
    assert as_dict(pair_folder(tmp_path), tmp_path) == {
        "a_leftImg8bit.png": ["a_gtFine_labelIds.png"]}


def test_camvid_annot_serves_only_its_split(tmp_path):
    touch(tmp_path, "train/0001.png", "trainannot/0001.png", "val/0001.png", "valannot/0001.png",
          "test/0001.png")
    assert as_dict(pair_folder(tmp_path), tmp_path) == {
        "test/0001.png": [],
        "train/0001.png": ["trainannot/0001.png"],
        "val/0001.png": ["valannot/0001.png"],
    }


def test_coco_panoptic_folder_beside(tmp_path):
    touch(tmp_path, "images/0042.jpg", "panoptic_val2017/0042.png", "annotations/panoptic.json")
    assert as_dict(pair_folder(tmp_path), tmp_path) == {
        "images/0042.jpg": ["panoptic_val2017/0042.png"]}


def test_instance_rank_beats_class_across_conventions(tmp_path):
    touch(tmp_path, "imgs/a.jpg", "imgs/a_ins_mask.png", "imgs/a.png", "panoptic/a.png",
          "SegmentationObject/a.png", "imgs/a_bin_mask.png")
    assert pair_image(tmp_path / "imgs/a.jpg") == (
        tmp_path / "imgs/a_ins_mask.png", tmp_path / "panoptic/a.png", tmp_path / "imgs/a.png",
        tmp_path / "SegmentationObject/a.png", tmp_path / "imgs/a_bin_mask.png")


def test_skips_mask_and_hidden_folders_and_mask_named_files(tmp_path):
    touch(tmp_path, "a.jpg", ".cache/b.jpg", "._a.jpg", "masks/c.png", "SegmentationClass/d.png",
          "gtFine/x/e.png", "trainannot/f.png", "e_mask.png", "notes.txt", "data.npy")
    assert [i.name for i in pair_folder(tmp_path)] == ["a.jpg"]


def test_a_folder_of_only_masks_yields_no_items(tmp_path):
    touch(tmp_path, "SegmentationClass/a.png", "x_mask.png", "y_bin_mask.png")
    assert pair_folder(tmp_path) == []


def test_mask_folder_inside_the_image_folder(tmp_path):
    touch(tmp_path, "a.jpg", "masks/a.png")
    assert as_dict(pair_folder(tmp_path), tmp_path) == {"a.jpg": ["masks/a.png"]}


def test_pair_image_matches_pair_folder(tmp_path):
    touch(tmp_path, "JPEGImages/a.jpg", "SegmentationClass/a.png", "SegmentationObject/a.png")
    (item,) = pair_folder(tmp_path)
    assert pair_image(tmp_path / "JPEGImages/a.jpg") == item.masks


def test_is_mask_folder():
    for name in ("SegmentationClass", "SegmentationObjectNpy", "gtFine", "trainannot",
                 "panoptic_val2017", "masks"):
        assert is_mask_folder(name), name
    for name in ("JPEGImages", "train", "images", "leftImg8bit", "annotation_tool"):
        assert not is_mask_folder(name), name


def test_unreadable_or_missing_folder_raises_naming_it(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(ReadError) as info:
        pair_folder(missing)
    assert info.value.path == missing
    with pytest.raises(ReadError):
        pair_image(missing / "a.jpg")


def test_unreadable_subfolder_raises_naming_it(tmp_path, monkeypatch):
    # Permission bits do not stop root (CI containers), so refuse the listing instead.
    touch(tmp_path, "ok/a.jpg", "locked/b.jpg")
    locked = tmp_path / "locked"
    real_scandir = os.scandir

    def scandir(path):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr("viewer.core.pairing.os.scandir", scandir)
    with pytest.raises(ReadError) as info:
        pair_folder(tmp_path)
    assert info.value.path == locked
    assert "Permission denied" in str(info.value)


def test_unreadable_sibling_folder_only_means_no_masks(tmp_path, monkeypatch):
    touch(tmp_path, "JPEGImages/a.jpg", "SegmentationClass/a.png")
    real_scandir = os.scandir

    def scandir(path):
        if Path(path) == tmp_path:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr("viewer.core.pairing.os.scandir", scandir)
    expected = [Item(tmp_path / "JPEGImages/a.jpg", (), "a.jpg")]
    assert pair_folder(tmp_path / "JPEGImages") == expected


def test_ten_thousand_files(tmp_path):
    # 2,500 images x (image + class + object + npy): pairing must use look-ups, not a
    # search per image; correctness is asserted, speed is left to the benchmarks.
    for folder in ("JPEGImages", "SegmentationClass", "SegmentationObject", "SegmentationClassNpy"):
        (tmp_path / folder).mkdir()
    for i in range(2500):
        (tmp_path / "JPEGImages" / f"img{i}.jpg").touch()
        (tmp_path / "SegmentationClass" / f"img{i}.png").touch()
        (tmp_path / "SegmentationObject" / f"img{i}.png").touch()
        (tmp_path / "SegmentationClassNpy" / f"img{i}.npy").touch()
    items = pair_folder(tmp_path)
    assert len(items) == 2500
    assert [i.name for i in items[:3]] == ["JPEGImages/img0.jpg", "JPEGImages/img1.jpg",
                                           "JPEGImages/img2.jpg"]
    assert items[-1].name == "JPEGImages/img2499.jpg"
    for i, item in enumerate(items):
        assert item.masks == (tmp_path / "SegmentationClass" / f"img{i}.png",
                              tmp_path / "SegmentationClassNpy" / f"img{i}.npy",
                              tmp_path / "SegmentationObject" / f"img{i}.png")


def test_real_labelme_voc(shared_samples):
    root = shared_samples / "labelme/semantic_segmentation/data_dataset_voc"
    items = {i.name: i.masks for i in pair_folder(root)}
    assert set(items) == {"JPEGImages/2011_000003.jpg", "JPEGImages/2011_000006.jpg",
                          "JPEGImages/2011_000025.jpg"}
    assert items["JPEGImages/2011_000003.jpg"] == (
        root / "SegmentationClass/2011_000003.png",
        root / "SegmentationClassNpy/2011_000003.npy",
        root / "SegmentationClassVisualization/2011_000003.jpg")


def test_real_datumaro_cityscapes(shared_samples):
    root = shared_samples / "datumaro-format-assets/cityscapes_dataset/train_dataset"
    items = {i.name: i.masks for i in pair_folder(root)}
    stem = "defaultcity_000001_000031"
    gt = root / "gtFine/test/defaultcity"
    assert items[f"leftImg8bit/test/defaultcity/{stem}_leftImg8bit.png"] == (
        gt / f"{stem}_gtFine_instanceIds.png", gt / f"{stem}_gtFine_labelTrainIds.png")
    assert len(items) == 4
    assert all(masks for masks in items.values())


def test_real_coco_panoptic(shared_samples):
    root = shared_samples / "coco-panoptic-panopticapi/sample_data"
    items = {i.name: i.masks for i in pair_folder(root)}
    assert set(items) == {"input_images/000000142238.jpg", "input_images/000000439180.jpg"}
    assert set(items["input_images/000000142238.jpg"]) == {
        root / "panoptic_examples/000000142238.png",
        root / "panoptic_examples_2ch_format/000000142238.png"}
