"""Core tasks: progress steps, results, tolerant mask errors, folder scans."""

import numpy as np
import pytest
from PIL import Image

from viewer import _paths
from viewer.core.browse import ItemList
from viewer.core.errors import ReadError
from viewer.core.pairing import pair_folder
from viewer.core.tasks import Progress, drain, load_image, scan_folder


def test_load_image_reports_each_step_and_returns_image_and_mask():
    steps = []
    loaded = drain(load_image(_paths.sample_image(), _paths.sample_mask()), steps.append)
    assert [(p.done, p.total) for p in steps] == [(0, 2), (1, 2), (2, 2)]
    assert steps[-1].fraction == 1.0
    assert loaded.image.shape == (512, 512, 3)
    assert loaded.segmentation.table[15].label == "person"
    assert loaded.mask_path == _paths.sample_mask() and loaded.mask_error is None


def test_broken_mask_fails_or_is_reported(tmp_path):
    bad = tmp_path / "bad_mask.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(ReadError, match="bad_mask.png"):
        drain(load_image(_paths.sample_image(), bad))
    loaded = drain(load_image(_paths.sample_image(), bad, mask_required=False))
    assert loaded.segmentation is None
    assert "bad_mask.png" in str(loaded.mask_error)
    assert loaded.image.shape == (512, 512, 3)


def test_progress_fraction_without_total():
    assert Progress(3).fraction is None
    assert Progress(5, 4).fraction == 1.0


def _folder(tmp_path, count=3):
    for i in range(count):
        Image.fromarray(np.full((8, 8, 3), i, np.uint8)).save(tmp_path / f"img{i + 1}.png")
        Image.fromarray(np.full((8, 8), i, np.uint8)).save(tmp_path / f"img{i + 1}_mask.png")
    (tmp_path / "sub").mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "sub" / "img10.png")
    return tmp_path


def test_scan_folder_yields_per_folder_and_matches_pair_folder(tmp_path):
    folder = _folder(tmp_path)
    steps = []
    items = drain(scan_folder(folder), steps.append)
    assert items == pair_folder(folder)
    assert [i.name for i in items] == ["img1.png", "img2.png", "img3.png", "sub/img10.png"]
    assert items[0].masks == (folder / "img1_mask.png",)
    assert len(steps) == 3 and steps[-1].message == "4 images"  # two folders, then the count


def test_scan_folder_can_stop_between_folders(tmp_path):
    task = scan_folder(_folder(tmp_path))
    assert next(task).done == 1
    task.close()  # what a cancelled worker does; nothing else runs


def test_item_list_walks_and_reports_its_position(tmp_path):
    folder = _folder(tmp_path)
    items = ItemList(folder, pair_folder(folder))
    assert items.position_text() == "1 / 4" and items.current.name == "img1.png"
    assert not items.can_step(-1) and items.target(1) == 1
    items.go_to(-1)
    assert items.position_text() == "4 / 4" and items.target(1) is None
    assert items.index_of(folder / "img2.png") == 1
    with pytest.raises(IndexError, match="outside"):
        items.go_to(4)
    empty = ItemList(folder, [])
    assert empty.current is None and empty.position_text() == "0 / 0"
    assert not empty.can_step(1)
