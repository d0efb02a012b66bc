import numpy as np
import pytest
from PIL import Image

from viewer import _paths
from viewer.core.errors import ReadError, WriteError
from viewer.core.formats import index_png
from viewer.core.formats.registry import FORMATS, find_reader, get_format, read_mask
from viewer.core.segmentation import Kind, Segmentation


def test_bundled_sample_mask():
    seg = read_mask(_paths.sample_mask())
    assert seg.provenance.format == "index-png"
    assert seg.shape == (512, 512) and seg.labels.dtype == np.uint8
    assert seg.table.ids() == (0, 15, 255)
    assert seg.table[15].label == "person" and seg.table[15].color == (192, 128, 128)
    assert seg.table[255].void and seg.table[255].label == "void"
    assert not seg.table[0].visible
    assert seg.table[15].area == 139_322 and seg.table[255].area == 7_146


@pytest.mark.parametrize("values", [
    np.array([[0, 1, 2], [20, 255, 3]], np.uint8),
    np.array([[0, 26000, 26001], [24000, 7, 65535]], np.uint16),
])
def test_write_then_read_is_exact(tmp_path, values):
    seg = Segmentation.from_values(values)
    path = tmp_path / "mask.png"
    assert index_png.write(seg, path) == [path]
    again = index_png.read(path, void_values=())
    np.testing.assert_array_equal(again.to_values(np.int64), values)
    if values.max() <= 255:
        with Image.open(path) as img:
            assert img.mode == "P" and len(img.getpalette()) == 768


def test_negative_values_are_refused_with_a_reason(tmp_path):
    seg = Segmentation.from_values(np.array([[-2, -1, 0]], np.int32))
    assert "use label-npy" in index_png.losses(seg)[0]
    with pytest.raises(WriteError, match=r"mask\.png: PNG index masks hold values 0\.\.65535.*-2\.\.0"):
        index_png.write(seg, tmp_path / "mask.png")
    assert not (tmp_path / "mask.png").exists()


def test_minus_one_is_written_as_voc_void_like_labelme(tmp_path):
    seg = Segmentation.from_values(np.array([[-1, 0, 5]], np.int32), void_values=(-1,))
    assert index_png.losses(seg) == ["value -1 is written as 255, the VOC void value, as labelme does"]
    back = index_png.read(index_png.write(seg, tmp_path / "mask.png")[0])
    assert back.to_values(np.int64).tolist() == [[255, 0, 5]]


def test_binary_grey_masks_are_not_void(tmp_path):
    path = tmp_path / "bin.png"
    Image.fromarray(np.array([[0, 255], [255, 0]], np.uint8), mode="L").save(path)
    seg = read_mask(path)
    assert seg.kind is Kind.BINARY
    assert not seg.table[255].void and seg.table[255].label == "foreground"


def test_bad_files(tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(_paths.sample_mask().read_bytes()[:100])
    with pytest.raises(ReadError, match=r"broken\.png: cannot decode image \(truncated or corrupt"):
        index_png.read(broken)
    rgb = tmp_path / "rgb.png"
    Image.new("RGB", (2, 2), (1, 2, 3)).save(rgb)  # not a VOC colour: no format claims it
    with pytest.raises(ReadError, match="no registered format reads this file"):
        find_reader(rgb)
    with pytest.raises(ReadError, match="RGB masks need a colour map"):
        index_png.read(rgb)
    with pytest.raises(ReadError, match="file not found"):
        read_mask(tmp_path / "nope.png")


def test_registry():
    assert get_format("index-png") in FORMATS
    assert get_format("index-png").describe()["lossless"] is True
    with pytest.raises(Exception, match="unknown format 'nope'"):
        get_format("nope")


def test_labelme_voc_sample(shared_samples):
    """FORMATS.md section 8: mode P, 500x338, values {0, 5, 15, 255}."""
    folder = shared_samples / "labelme/semantic_segmentation/data_dataset_voc"
    path = folder / "SegmentationClass/2011_000003.png"
    with Image.open(path) as img:
        assert img.mode == "P" and img.size == (500, 338)
    seg = read_mask(path)
    assert seg.table.ids() == (0, 5, 15, 255)
    assert seg.table[255].void
    # names come from labelme's class_names.txt one level up
    assert seg.table[15].label == "person" and seg.table[5].label == "bottle"
    assert seg.table[0].label == "_background_" and not seg.table[0].visible
    npy = np.load(folder / "SegmentationClassNpy/2011_000003.npy")
    assert set(np.unique(npy).tolist()) == {-1, 0, 5, 15}
    np.testing.assert_array_equal(np.where(npy == -1, 255, npy), seg.to_values(np.int32))
