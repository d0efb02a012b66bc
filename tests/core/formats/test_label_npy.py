"""Integer label maps in .npy/.npz (labelme int32 with -1, DeepStream class maps)."""

import numpy as np
import pytest

from viewer.core.errors import ReadError, WriteError
from viewer.core.formats import label_npy
from viewer.core.formats.registry import find_reader, read_mask
from viewer.core.segmentation import Segmentation


def test_minus_one_is_its_own_void_segment_and_comes_back(tmp_path):
    values = np.array([[-1, 0, 0], [5, 5, -1]], np.int32)
    path = tmp_path / "map.npy"
    np.save(path, values)
    seg = label_npy.read(path)
    minus = next(s for s in seg.table if s.value == -1)
    assert minus.void and minus.label == "ignore"
    assert minus.id not in (0, 5)
    out = label_npy.write(seg, tmp_path / "back.npy")[0]
    back = np.load(out)
    assert back.dtype == np.int32
    np.testing.assert_array_equal(back, values)


def test_npz_picks_the_named_or_only_array(tmp_path):
    path = tmp_path / "maps.npz"
    np.savez(path, labels=np.eye(3, dtype=np.uint16) * 700, other=np.zeros(2))
    seg = read_mask(path)
    assert sorted(s.value for s in seg.table) == [0, 700]
    with pytest.raises(ReadError, match=r"maps\.npz: no array 'nope'"):
        label_npy.read(path, item="nope")


def test_refuses_pickles_floats_and_wrong_shapes_naming_the_file(tmp_path):
    objects = tmp_path / "objects.npy"
    np.save(objects, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ReadError, match=r"objects\.npy: .*pickle"):
        label_npy.read(objects)
    floats = tmp_path / "floats.npy"
    np.save(floats, np.zeros((2, 2), np.float32))
    with pytest.raises(ReadError, match=r"floats\.npy: holds float32"):
        label_npy.read(floats)
    cube = tmp_path / "cube.npy"
    np.save(cube, np.zeros((2, 2, 2), np.int32))
    with pytest.raises(ReadError, match=r"cube\.npy: a label map is 2-D"):
        label_npy.read(cube)
    truncated = tmp_path / "truncated.npy"
    np.save(truncated, np.zeros((50, 50), np.int32))
    truncated.write_bytes(truncated.read_bytes()[:300])
    with pytest.raises(ReadError, match=r"truncated\.npy: not a valid numpy file"):
        label_npy.read(truncated)


def test_sniffer_leaves_float_blobs_to_other_formats(tmp_path):
    blob = tmp_path / "blob.npy"
    np.save(blob, np.zeros((1, 3, 4, 4), np.float32))
    assert not label_npy.sniff(blob)
    labels = tmp_path / "labels.npy"
    np.save(labels, np.zeros((4, 4), np.int64))
    assert find_reader(labels).name == "label-npy"


def test_write_refuses_values_beyond_the_dtype(tmp_path):
    seg = Segmentation.from_values(np.array([[0, 70000]], np.int64))
    with pytest.raises(WriteError, match=r"x\.npy: values 0\.\.70000 do not fit int16"):
        label_npy.write(seg, tmp_path / "x.npy", dtype="int16")


def test_labelme_npy_sample(shared_samples):
    folder = shared_samples / "labelme/semantic_segmentation/data_dataset_voc"
    seg = read_mask(folder / "SegmentationClassNpy/2011_000003.npy")
    assert sorted(s.value for s in seg.table) == [-1, 0, 5, 15]
    names = {s.value: s.label for s in seg.table}
    # class_names.txt one folder up: line 0 is _background_, 5 bottle, 15 person
    assert names[0] == "_background_" and names[15] == "person"
    # the PNG twin holds 255 where the .npy holds -1
    png = read_mask(folder / "SegmentationClass/2011_000003.png")
    np.testing.assert_array_equal(png.to_values(np.int64) == 255, seg.to_values(np.int64) == -1)
