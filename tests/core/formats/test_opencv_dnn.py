"""OpenCV DNN score blobs (opencv-blob): argmax, confidence, class names and BGR colours.

No public score-blob files exist (FORMATS.md 8), so every fixture here is
specification-derived: blobs shaped like ``net.forward()`` output (1, C, H, W)
float32 as used by OpenCV's ``samples/dnn/segmentation.py``, class files in the
layout of OpenCV's ``enet-classes.txt`` (names) and ``pascal-classes.txt``
(``name R G B``), and ``--colors`` files of ``B G R`` lines (FORMATS.md 4).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from viewer.core.errors import ReadError, WriteError
from viewer.core.formats import opencv_dnn
from viewer.core.segmentation import Segmentation


def save_blob(path: Path, blob: np.ndarray) -> Path:
    np.save(path, blob)
    return path


def labels_by_value(seg: Segmentation) -> dict[int, str]:
    return {s.value: s.label for s in seg.table}


def colors_by_value(seg: Segmentation) -> dict[int, tuple[int, int, int]]:
    return {s.value: s.color for s in seg.table}


# -- argmax -------------------------------------------------------------------------
def test_argmax_confidence_and_scores(tmp_path):
    scores = np.array([[[0.7, 0.2, 0.4]],
                       [[0.2, 0.5, 0.4]],   # tie with class 0 at column 2 -> class 0
                       [[0.1, 0.3, 0.2]]], np.float32)
    seg = opencv_dnn.read(save_blob(tmp_path / "score.npy", scores[None]))
    np.testing.assert_array_equal(seg.to_values(), [[0, 1, 0]])
    np.testing.assert_array_equal(seg.confidence, np.float32([[0.7, 0.5, 0.4]]))
    np.testing.assert_array_equal(seg.class_scores, scores)
    assert seg.provenance.format == "opencv-blob"
    assert seg.provenance.details["classes"] == 3


def test_chw_and_nhwc_blobs_give_the_same_class_map(tmp_path):
    rng = np.random.default_rng(5)
    blob = rng.normal(size=(1, 6, 5, 4)).astype(np.float32)
    nchw = opencv_dnn.read(save_blob(tmp_path / "a.npy", blob))
    chw = opencv_dnn.read(save_blob(tmp_path / "b.npy", blob[0]))
    nhwc = opencv_dnn.read(save_blob(tmp_path / "c.npy", blob.transpose(0, 2, 3, 1)),
                           layout="NHWC")
    expected = np.argmax(blob[0], axis=0)
    for seg in (nchw, chw, nhwc):
        np.testing.assert_array_equal(seg.to_values(), expected)
        np.testing.assert_array_equal(seg.class_scores, blob[0])


def test_batch_items(tmp_path):
    blob = np.zeros((2, 2, 1, 2), np.float32)
    blob[0, 0] = 1
    blob[1, 1] = 1
    path = save_blob(tmp_path / "batch.npy", blob)
    assert opencv_dnn.items(path) == ["0", "1"]
    np.testing.assert_array_equal(opencv_dnn.read(path, item="1").to_values(), [[1, 1]])
    with pytest.raises(ReadError, match=r"batch\.npy: item '2' is not an image index"):
        opencv_dnn.read(path, item="2")


# -- names and colours --------------------------------------------------------------
def test_class_names_file_and_bgr_colours_file(tmp_path):
    blob = np.zeros((1, 3, 1, 3), np.float32)
    for c in range(3):
        blob[0, c, 0, c] = 1.0
    path = save_blob(tmp_path / "blob.npy", blob)
    names = tmp_path / "enet-like.txt"
    names.write_text("Unlabeled\nRoad\nSidewalk\n")
    colors = tmp_path / "my-colors.txt"
    colors.write_text("0 0 255\n0 255 0\n255 0 0\n")  # B G R: red, green, blue
    seg = opencv_dnn.read(path, classes=names, colors=colors)
    assert labels_by_value(seg) == {0: "Unlabeled", 1: "Road", 2: "Sidewalk"}
    assert colors_by_value(seg) == {0: (255, 0, 0), 1: (0, 255, 0), 2: (0, 0, 255)}


def test_pascal_classes_file_colours_are_rgb_and_a_colours_file_wins(tmp_path):
    blob = np.zeros((1, 2, 1, 2), np.float32)
    blob[0, 1, 0, 1] = 1.0
    path = save_blob(tmp_path / "blob.npy", blob)
    pascal = tmp_path / "pascal-classes.txt"
    pascal.write_text("background 0 0 0\npotted plant 0 64 0\n")
    seg = opencv_dnn.read(path, classes=pascal)
    assert labels_by_value(seg) == {0: "background", 1: "potted plant"}
    assert colors_by_value(seg)[1] == (0, 64, 0)
    colors = tmp_path / "colors.txt"
    colors.write_text("10 20 30\n40 50 60\n")
    seg = opencv_dnn.read(path, classes=pascal, colors=colors)
    assert colors_by_value(seg)[1] == (60, 50, 40)


def test_side_files_beside_the_blob_are_found(tmp_path):
    blob = np.zeros((1, 2, 1, 2), np.float32)
    blob[0, 1, 0, 1] = 1.0
    path = save_blob(tmp_path / "blob.npy", blob)
    (tmp_path / "classes.txt").write_text("sky\ntree\n")
    (tmp_path / "blob.colors.txt").write_text("255 0 0\n0 0 255\n")
    seg = opencv_dnn.read(path)
    assert labels_by_value(seg) == {0: "sky", 1: "tree"}
    assert colors_by_value(seg) == {0: (0, 0, 255), 1: (255, 0, 0)}


def test_palette_by_class_count(tmp_path):
    voc = np.zeros((1, 21, 1, 2), np.float32)
    voc[0, 15, 0, 1] = 1.0
    seg = opencv_dnn.read(save_blob(tmp_path / "voc.npy", voc))
    assert labels_by_value(seg) == {0: "background", 15: "person"}
    assert colors_by_value(seg)[15] == (192, 128, 128)
    enet = np.zeros((1, 20, 1, 3), np.float32)
    enet[0, 1, 0, 1] = 1.0   # Road = Cityscapes trainId 0
    enet[0, 14, 0, 2] = 1.0  # Car = trainId 13
    seg = opencv_dnn.read(save_blob(tmp_path / "enet.npy", enet))
    assert labels_by_value(seg) == {0: "Unlabeled", 1: "Road", 14: "Car"}
    assert colors_by_value(seg) == {0: (0, 0, 0), 1: (128, 64, 128), 14: (0, 0, 142)}
    other = np.zeros((1, 5, 1, 1), np.float32)
    other[0, 3] = 1.0
    seg = opencv_dnn.read(save_blob(tmp_path / "other.npy", other))
    assert labels_by_value(seg) == {3: ""}


def test_bad_colours_file_names_the_file_and_line(tmp_path):
    path = save_blob(tmp_path / "blob.npy", np.zeros((1, 2, 1, 1), np.float32))
    colors = tmp_path / "colors.txt"
    colors.write_text("0 0 0\n0 300 0\n")
    with pytest.raises(ReadError, match=r"colors\.txt: line 2: expected three integers"):
        opencv_dnn.read(path)


# -- bad input and sniffing -------------------------------------------------------------
class _Tripwire:
    """Unpickling this creates a file: proof that a reader unpickled."""

    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (Path.touch, (Path(self.target),))


def test_object_arrays_are_refused_without_unpickling(tmp_path):
    tripwire = tmp_path / "unpickled"
    path = tmp_path / "evil.npy"
    np.save(path, np.array([_Tripwire(str(tripwire))], dtype=object), allow_pickle=True)
    assert not tripwire.exists()
    with pytest.raises(ReadError, match=r"evil\.npy: .*pickle"):
        opencv_dnn.read(path)
    assert not opencv_dnn.sniff(path)
    assert not tripwire.exists()
    np.load(path, allow_pickle=True)  # the fixture really is armed
    assert tripwire.exists()


def test_wrong_dims_integers_and_truncated_files_raise_naming_the_file(tmp_path):
    flat = save_blob(tmp_path / "flat.npy", np.zeros((4, 4), np.float32))
    with pytest.raises(ReadError, match=r"flat\.npy: a score blob is \(1, C, H, W\) or"):
        opencv_dnn.read(flat)
    five = save_blob(tmp_path / "five.npy", np.zeros((1, 1, 2, 2, 2), np.float32))
    with pytest.raises(ReadError, match=r"five\.npy: a score blob is"):
        opencv_dnn.read(five)
    ints = save_blob(tmp_path / "ints.npy", np.zeros((1, 3, 2, 2), np.int32))
    with pytest.raises(ReadError, match=r"ints\.npy: holds int32 values, not float scores"):
        opencv_dnn.read(ints)
    truncated = save_blob(tmp_path / "truncated.npy", np.zeros((1, 3, 20, 20), np.float32))
    truncated.write_bytes(truncated.read_bytes()[:400])
    with pytest.raises(ReadError, match=r"truncated\.npy: not a valid numpy file"):
        opencv_dnn.read(truncated)
    empty = save_blob(tmp_path / "empty.npy", np.zeros((1, 0, 2, 2), np.float32))
    with pytest.raises(ReadError, match=r"empty\.npy: array of shape \(1, 0, 2, 2\) is empty"):
        opencv_dnn.read(empty)
    with pytest.raises(ReadError, match=r"flat\.npy: layout must be NCHW or NHWC"):
        opencv_dnn.read(flat, layout="CHW")
    with pytest.raises(ReadError, match=r"flat\.npy: unknown read option\(s\) palette"):
        opencv_dnn.read(flat, palette="voc")


def test_sniffer_reads_only_the_header(tmp_path):
    assert opencv_dnn.sniff(save_blob(tmp_path / "a.npy", np.zeros((1, 3, 4, 4), np.float32)))
    assert opencv_dnn.sniff(save_blob(tmp_path / "b.npy", np.zeros((3, 4, 4), np.float16)))
    assert not opencv_dnn.sniff(save_blob(tmp_path / "c.npy", np.zeros((4, 4), np.float32)))
    assert not opencv_dnn.sniff(save_blob(tmp_path / "d.npy", np.zeros((1, 4, 4), np.int32)))
    junk = tmp_path / "e.npy"
    junk.write_bytes(b"not numpy")
    assert not opencv_dnn.sniff(junk)


# -- writing ----------------------------------------------------------------------
def test_scores_are_written_as_they_are_and_read_back(tmp_path):
    rng = np.random.default_rng(7)
    blob = rng.random((1, 4, 3, 5)).astype(np.float32)
    seg = opencv_dnn.read(save_blob(tmp_path / "in.npy", blob))
    assert opencv_dnn.losses(seg) == []
    files = opencv_dnn.write(seg, tmp_path / "out" / "mask.npy")
    assert [f.name for f in files] == ["mask.npy", "mask.classes.txt", "mask.colors.txt"]
    written = np.load(files[0])
    assert written.shape == (1, 4, 3, 5) and written.dtype == np.float32
    np.testing.assert_array_equal(written, blob)
    back = opencv_dnn.read(files[0])
    np.testing.assert_array_equal(back.to_values(), seg.to_values())
    assert colors_by_value(back) == colors_by_value(seg)


def test_a_label_map_without_scores_is_written_one_hot(tmp_path):
    values = np.array([[0, 3, 3], [5, 0, 1]], np.uint8)
    names = {0: "background", 1: "cat", 3: "dog", 5: "tree\nwith newline"}
    seg = Segmentation.from_values(values, names=names)
    assert opencv_dnn.losses(seg) == []
    files = opencv_dnn.write(seg, tmp_path / "mask.npy")
    written = np.load(files[0])
    assert written.shape == (1, 6, 2, 3)
    assert set(np.unique(written)) == {0.0, 1.0}
    np.testing.assert_array_equal(written[0].sum(axis=0), 1.0)
    back = opencv_dnn.read(files[0])
    np.testing.assert_array_equal(back.to_values(), values)
    assert labels_by_value(back) == {**names, 5: "tree with newline"}
    assert colors_by_value(back) == colors_by_value(seg)
    # The colours file is the sample's --colors format: B G R.
    red, green, blue = seg.table[3].color
    assert files[2].read_text().splitlines()[3] == f"{blue} {green} {red}"


def test_edited_label_map_writes_one_hot_and_says_so(tmp_path):
    blob = np.zeros((1, 2, 1, 2), np.float32)
    blob[0, 0, 0, 0] = blob[0, 1, 0, 1] = 1.0
    seg = opencv_dnn.read(save_blob(tmp_path / "in.npy", blob))
    seg.labels[0, 0] = seg.labels[0, 1]  # paint class 1 over class 0
    seg.refresh_stats()
    assert any("one-hot" in line for line in opencv_dnn.losses(seg))
    files = opencv_dnn.write(seg, tmp_path / "out.npy")
    np.testing.assert_array_equal(opencv_dnn.read(files[0]).to_values(), [[1, 1]])


def test_negative_values_cannot_be_written(tmp_path):
    seg = Segmentation.from_values(np.array([[-1, 0]], np.int32), void_values=(-1,))
    assert any("[-1] cannot be written" in line for line in opencv_dnn.losses(seg))
    with pytest.raises(WriteError, match=r"mask\.npy: values \[-1\] cannot be written"):
        opencv_dnn.write(seg, tmp_path / "mask.npy")
    assert not (tmp_path / "mask.npy").exists()
