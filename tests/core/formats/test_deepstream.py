"""DeepStream nvinfer raw dumps (deepstream-bin) and sample-app JPEGs (deepstream-jpeg).

No public sample outputs of these formats exist (FORMATS.md 1.3 and 8), so every
fixture here is specification-derived: score tensors laid out as nvinfer's
``raw-output-file-write`` writes them (FORMATS.md 1.2/1.3, gstnvinfer.cpp), and
JPEGs painted with the sample app's 14 BGR ``COLORS`` and saved with
``cv2.imwrite`` as ``deepstream_segmentation.py`` does.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from viewer.core.errors import ReadError
from viewer.core.formats import deepstream
from viewer.core.segmentation import Segmentation

#: deepstream_python_apps deepstream_segmentation.py COLORS (BGR), as in shared palettes.json.
SAMPLE_COLORS_BGR = [
    [128, 128, 64], [0, 0, 128], [0, 128, 128], [128, 0, 0], [128, 0, 128], [128, 128, 0],
    [0, 128, 0], [0, 0, 64], [0, 0, 192], [0, 128, 64], [0, 128, 192], [128, 0, 64],
    [128, 0, 192], [128, 128, 128],
]
DUMP = "gstnvdsinfer_uid-01_layer-final_conv_BiasAdd_batch-0000000007_batchsize-{:02d}.bin"


def nvinfer_reference(scores: np.ndarray, threshold: float) -> np.ndarray:
    """nvinfer's loop, pixel by pixel, in 32-bit floats (slow and obvious on purpose)."""
    classes, height, width = scores.shape
    out = np.full((height, width), -1, np.int32)
    thr = np.float32(threshold)
    for y in range(height):
        for x in range(width):
            max_prob = np.float32(-1.0)
            for c in range(classes):
                prob = np.float32(scores[c, y, x])
                if prob > max_prob and prob > thr:
                    out[y, x] = c
                    max_prob = prob
    return out


def write_dump(folder: Path, scores_chw: np.ndarray, *, order: str = "NCHW",
               dtype: str = "float32", batch: int = 1, name: str | None = None) -> Path:
    """Write (N,) C, H, W scores as nvinfer does: raw, little-endian, N x item."""
    stack = scores_chw if scores_chw.ndim == 4 else scores_chw[None]
    if order == "NHWC":
        stack = stack.transpose(0, 2, 3, 1)
    path = folder / (name or DUMP.format(batch))
    np.ascontiguousarray(stack).astype(deepstream.DTYPES[dtype]).tofile(path)
    return path


def chw(*planes) -> np.ndarray:
    """Scores from per-class (H, W) lists."""
    return np.array(planes, np.float32)


def read_scores(tmp_path: Path, scores: np.ndarray, threshold: float = 0.0, **options):
    path = write_dump(tmp_path, scores)
    c, h, w = scores.shape
    return deepstream.read_bin(path, classes=c, height=h, width=w, threshold=threshold,
                               **options)


# -- the nvinfer rule ---------------------------------------------------------
def test_a_score_equal_to_the_threshold_does_not_win(tmp_path):
    scores = chw([[0.5, 0.50001]], [[0.2, 0.1]])
    seg = read_scores(tmp_path, scores, threshold=0.5)
    np.testing.assert_array_equal(seg.to_values(), [[-1, 0]])


def test_ties_keep_the_lower_class(tmp_path):
    scores = chw([[0.1, 0.7]], [[0.7, 0.7]], [[0.7, 0.2]])
    seg = read_scores(tmp_path, scores)
    np.testing.assert_array_equal(seg.to_values(), [[1, 0]])


def test_all_below_threshold_is_a_void_hidden_minus_one(tmp_path):
    scores = chw([[0.1, 0.9]], [[0.2, 0.3]])
    seg = read_scores(tmp_path, scores, threshold=0.5)
    np.testing.assert_array_equal(seg.to_values(), [[-1, 0]])
    none = next(s for s in seg.table if s.value == -1)
    assert none.void and not none.visible
    assert none.label == deepstream.NO_CLASS_LABEL
    zero = next(s for s in seg.table if s.value == 0)
    assert zero.label == "class 0" and zero.visible and not zero.void  # not "background"


def test_running_maximum_starts_at_minus_one(tmp_path):
    # With a threshold below -1, nvinfer still needs a score above its initial max_prob -1.
    scores = chw([[-2.0, -0.5, -1.0]], [[-3.0, -0.7, -1.5]])
    seg = read_scores(tmp_path, scores, threshold=-5.0)
    np.testing.assert_array_equal(seg.to_values(), [[-1, 0, -1]])
    assert any("below -1" in w for w in seg.provenance.details["warnings"])


def test_nan_never_wins_and_is_reported(tmp_path):
    scores = chw([[np.nan, np.nan]], [[0.3, np.nan]])
    seg = read_scores(tmp_path, scores)
    np.testing.assert_array_equal(seg.to_values(), [[1, -1]])
    assert any("NaN" in w for w in seg.provenance.details["warnings"])


def test_confidence_is_the_winning_raw_score_and_scores_are_kept(tmp_path):
    # Logits, as the semantic sample's final_conv/BiasAdd emits: kept as they are.
    scores = chw([[2.5, -0.3], [0.0, 7.0]], [[1.0, -0.1], [3.0, 6.5]], [[-4.0, -0.2], [0.5, 7.0]])
    seg = read_scores(tmp_path, scores)
    np.testing.assert_array_equal(seg.to_values(), [[0, -1], [1, 0]])
    np.testing.assert_array_equal(seg.confidence, np.float32([[2.5, -0.1], [3.0, 7.0]]))
    assert seg.confidence.dtype == np.float32
    np.testing.assert_array_equal(seg.class_scores, scores)
    assert "logits" in seg.provenance.details["scores"]


def test_nchw_and_nhwc_dumps_give_the_same_class_map(tmp_path):
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(5, 6, 7)).astype(np.float32)
    nchw = write_dump(tmp_path, scores, name="a.bin")
    nhwc = write_dump(tmp_path, scores, order="NHWC", name="b.bin")
    a = deepstream.read_bin(nchw, classes=5, height=6, width=7, order="NCHW")
    b = deepstream.read_bin(nhwc, classes=5, height=6, width=7, order="nhwc")
    np.testing.assert_array_equal(a.to_values(), b.to_values())
    np.testing.assert_array_equal(a.class_scores, b.class_scores)
    np.testing.assert_array_equal(a.to_values(), nvinfer_reference(scores, 0.0))


def test_float16_dump(tmp_path):
    scores = chw([[0.25, 0.5, 0.125]], [[0.5, 0.25, 0.125]])
    path = write_dump(tmp_path, scores, dtype="float16")
    assert path.stat().st_size == scores.size * 2
    seg = deepstream.read_bin(path, classes=2, height=1, width=3, dtype="float16",
                              threshold=0.2)
    np.testing.assert_array_equal(seg.to_values(), [[1, 0, -1]])
    assert seg.class_scores.dtype == np.float32


SCORE_VALUES = st.one_of(
    st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, math.inf, -math.inf, math.nan]),
    st.floats(-3, 3, width=32),
)


@settings(max_examples=150, deadline=None)
@given(scores=hnp.arrays(np.float32, st.tuples(st.integers(1, 5), st.integers(1, 4),
                                                st.integers(1, 4)), elements=SCORE_VALUES),
       threshold=st.sampled_from([-2.0, -1.0, 0.0, 0.25, 0.5, 1e-3]))
def test_vectorised_rule_matches_the_per_pixel_loop(scores, threshold):
    class_map, confidence = deepstream.nvinfer_argmax(scores, threshold)
    np.testing.assert_array_equal(class_map, nvinfer_reference(scores, threshold))
    won = class_map >= 0
    rows, cols = np.nonzero(won)
    np.testing.assert_array_equal(confidence[won], scores[class_map[won], rows, cols])


@settings(max_examples=40, deadline=None)
@given(scores=hnp.arrays(np.float32, st.tuples(st.integers(1, 4), st.integers(1, 4),
                                                st.integers(1, 4)), elements=SCORE_VALUES),
       order=st.sampled_from(["NCHW", "NHWC"]), dtype=st.sampled_from(["float32", "float16"]),
       threshold=st.sampled_from([0.0, 0.5, -1.5]))
def test_reading_a_dump_matches_the_per_pixel_loop(scores, order, dtype, threshold):
    stored = scores.astype(deepstream.DTYPES[dtype]).astype(np.float32)
    c, h, w = scores.shape
    with tempfile.TemporaryDirectory() as tmp:
        path = write_dump(Path(tmp), scores, order=order, dtype=dtype)
        seg = deepstream.read_bin(path, classes=c, height=h, width=w, order=order, dtype=dtype,
                                  threshold=threshold)
        np.testing.assert_array_equal(seg.to_values(np.int32),
                                      nvinfer_reference(stored, threshold))


# -- dump settings and bad input ------------------------------------------------------
def test_batch_items_and_sidecar_settings(tmp_path):
    first = chw([[0.9, 0.1]], [[0.1, 0.9]])
    second = chw([[0.1, 0.1]], [[0.9, 0.9]])
    path = write_dump(tmp_path, np.stack([first, second]), batch=2)
    (tmp_path / (path.name + ".json")).write_text(json.dumps(
        {"classes": 2, "height": 1, "width": 2, "dtype": "float32", "order": "NCHW",
         "threshold": 0.5, "names": {"0": "road", "1": "car"}}))
    assert deepstream.bin_items(path) == ["0", "1"]
    assert deepstream.sniff_bin(path)
    np.testing.assert_array_equal(deepstream.read_bin(path).to_values(), [[0, 1]])
    seg = deepstream.read_bin(path, item="1")
    np.testing.assert_array_equal(seg.to_values(), [[1, 1]])
    assert {s.value: s.label for s in seg.table}[1] == "car"
    assert seg.provenance.details["layer"] == "final_conv_BiasAdd"
    assert seg.provenance.details["threshold"] == 0.5
    # Options win over the sidecar.
    np.testing.assert_array_equal(deepstream.read_bin(path, item="1", threshold=0.95)
                                  .to_values(), [[-1, -1]])
    with pytest.raises(ReadError, match=r"batchsize-02\.bin: batch index 2 is out of range"):
        deepstream.read_bin(path, item="2")


def test_size_mismatch_names_expected_and_actual_bytes(tmp_path):
    path = write_dump(tmp_path, np.zeros((3, 4, 5), np.float32))  # 240 bytes
    with pytest.raises(ReadError) as info:
        deepstream.read_bin(path, classes=4, height=4, width=5)
    assert path.name in str(info.value)
    assert "240 bytes" in info.value.message and "320 bytes were expected" in info.value.message
    other = write_dump(tmp_path, np.zeros((3, 4, 5), np.float32), name="renamed.bin")
    with pytest.raises(ReadError, match=r"renamed\.bin: file is 240 bytes, not a whole number"):
        deepstream.read_bin(other, classes=7, height=4, width=5)


def test_truncated_empty_and_headerless_dumps_raise_naming_the_file(tmp_path):
    path = write_dump(tmp_path, np.ones((2, 3, 3), np.float32))
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ReadError, match=r"batchsize-01\.bin: file is 67 bytes but 1 x 2 x 3"):
        deepstream.read_bin(path, classes=2, height=3, width=3)
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with pytest.raises(ReadError, match=r"empty\.bin: file is empty"):
        deepstream.read_bin(empty, classes=2, height=3, width=3)
    with pytest.raises(ReadError, match=r"empty\.bin: a raw nvinfer dump has no header; give "
                                        r"classes, height, width"):
        deepstream.read_bin(empty)
    with pytest.raises(ReadError, match=r"missing\.bin: file not found"):
        deepstream.read_bin(tmp_path / "missing.bin", classes=2, height=3, width=3)


def test_bad_settings_name_the_file_they_came_from(tmp_path):
    path = write_dump(tmp_path, np.ones((2, 3, 3), np.float32), name="x.bin")
    sidecar = tmp_path / "x.bin.json"
    sidecar.write_text(json.dumps({"classes": 2, "height": 3, "width": 3, "dtype": "float64"}))
    with pytest.raises(ReadError, match=r"x\.bin\.json: dtype must be one of float32, float16"):
        deepstream.read_bin(path)
    sidecar.write_text('{"classes": 2,')
    with pytest.raises(ReadError, match=r"x\.bin\.json: JSON syntax error at line 1"):
        deepstream.read_bin(path)
    sidecar.unlink()
    with pytest.raises(ReadError, match=r"x\.bin: height must be a positive integer"):
        deepstream.read_bin(path, classes=2, height=0, width=3)
    with pytest.raises(ReadError, match=r"x\.bin: order must be one of NCHW, NHWC"):
        deepstream.read_bin(path, classes=2, height=3, width=3, order="CHW")
    with pytest.raises(ReadError, match=r"x\.bin: unknown read option\(s\) colour"):
        deepstream.read_bin(path, classes=2, height=3, width=3, colour=1)


# -- int32 class maps: write then read --------------------------------------------------------
def test_int32_class_map_round_trip_keeps_minus_one(tmp_path):
    values = np.array([[-1, 0, 3], [2, -1, 0]], np.int32)
    names = {-1: "nothing", 0: "road", 2: "car", 3: "person"}
    seg = Segmentation.from_values(values, names=names, void_values=(-1,))
    assert deepstream.bin_losses(seg) == []
    files = deepstream.write_bin(seg, tmp_path / "mask.bin")
    assert [f.name for f in files] == ["mask.bin", "mask.bin.json"]
    assert files[0].read_bytes() == values.astype("<i4").tobytes()  # raw, no header
    sidecar = json.loads(files[1].read_text())
    assert sidecar["dtype"] == "int32" and (sidecar["height"], sidecar["width"]) == (2, 3)
    back = deepstream.read_bin(files[0])
    np.testing.assert_array_equal(back.to_values(np.int32), values)
    assert {s.value: s.label for s in back.table} == names
    assert {s.value: s.color for s in back.table} == {s.value: s.color for s in seg.table}
    assert next(s for s in back.table if s.value == -1).void


def test_int32_dump_needs_no_classes_and_warns_about_out_of_range_values(tmp_path):
    path = tmp_path / "classmap.bin"
    np.array([[0, 1], [5, -1]], "<i4").tofile(path)
    seg = deepstream.read_bin(path, height=2, width=2, dtype="int32", classes=2)
    np.testing.assert_array_equal(seg.to_values(), [[0, 1], [5, -1]])
    assert seg.class_scores is None
    assert any("outside -1..1" in w for w in seg.provenance.details["warnings"])


def test_losses_name_scores_that_the_class_map_dump_drops(tmp_path):
    seg = read_scores(tmp_path, chw([[0.9, 0.1]], [[0.1, 0.9]]))
    assert any("scores" in line for line in deepstream.bin_losses(seg))


# -- sample-app JPEGs -----------------------------------------------------------------
def paint_like_the_sample(class_map: np.ndarray) -> np.ndarray:
    """map_mask_as_display_bgr: COLORS[idx] per pixel, so -1 takes COLORS[-1]."""
    colors = np.array(SAMPLE_COLORS_BGR, np.uint8)
    return colors[class_map]  # numpy negative indexing, exactly as the sample's Python list


def sample_class_map() -> np.ndarray:
    blocks = (np.arange(64).reshape(8, 8) % 15) - 1  # -1..13, in 32 x 32 blocks
    return np.kron(blocks, np.ones((32, 32), np.int64))


def test_jpeg_snapping_recovers_the_class_map_and_counts_ambiguous_pixels(tmp_path):
    truth = sample_class_map()
    frame = tmp_path / "out" / "42.jpg"
    frame.parent.mkdir()
    assert cv2.imwrite(str(frame), paint_like_the_sample(truth))
    seg = deepstream.read_jpeg(frame)
    expected = np.where(truth == -1, 13, truth)  # -1 is painted like 13
    recovered = np.mean(seg.to_values() == expected)
    assert recovered > 0.95
    details = seg.provenance.details
    ambiguous = details["ambiguous_pixels"]
    assert 0 < ambiguous < 0.1 * truth.size
    assert any(f"{ambiguous:,} of {truth.size:,} pixels" in w for w in details["warnings"])
    assert any("cannot be told apart" in w for w in details["warnings"])
    label_13 = next(s.label for s in seg.table if s.value == 13)
    assert "-1" in label_13
    assert deepstream.JPEG_FORMAT.write is None and not deepstream.JPEG_FORMAT.lossless
    # A tighter tolerance counts more pixels as ambiguous, the classes do not change.
    strict = deepstream.read_jpeg(frame, tolerance=4)
    assert strict.provenance.details["ambiguous_pixels"] > ambiguous
    np.testing.assert_array_equal(strict.to_values(), seg.to_values())


def test_jpeg_folder_lists_frames_and_reads_the_one_asked_for(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for number, cls in ((10, 3), (2, 5), (7, 0)):
        cv2.imwrite(str(folder / f"{number}.jpg"),
                    paint_like_the_sample(np.full((16, 16), cls, np.int64)))
    (folder / "notes.txt").write_text("not a frame")
    assert deepstream.jpeg_items(folder) == ["2", "7", "10"]
    assert deepstream.sniff_jpeg(folder) and deepstream.JPEG_FORMAT.accepts(folder)
    assert set(np.unique(deepstream.read_jpeg(folder).to_values())) == {5}
    seg = deepstream.read_jpeg(folder, item="10")
    assert set(np.unique(seg.to_values())) == {3}
    assert seg.provenance.source.endswith("10.jpg")
    with pytest.raises(ReadError, match=r"frames: no frame '11' in the folder"):
        deepstream.read_jpeg(folder, item="11")


def test_jpeg_sniffer_refuses_photos_and_empty_folders(tmp_path):
    rng = np.random.default_rng(3)
    noise = tmp_path / "0001.jpg"
    cv2.imwrite(str(noise), rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    assert not deepstream.sniff_jpeg(noise)
    # A large smooth "photo" (sky-like gradient with texture), read at a reduced scale.
    rows, cols = np.mgrid[0:1200, 0:1600]
    photo = np.stack([rows * 200 // 1200, 90 + cols * 100 // 1600,
                      255 - rows * 120 // 1200], axis=-1)
    photo = np.clip(photo + rng.integers(-20, 20, photo.shape), 0, 255).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "0002.jpg"), photo)
    assert not deepstream.sniff_jpeg(tmp_path / "0002.jpg")
    painted = tmp_path / "0003.jpg"
    cv2.imwrite(str(painted), paint_like_the_sample(np.kron(sample_class_map(),
                                                            np.ones((3, 3), np.int64))))
    assert deepstream.sniff_jpeg(painted)  # 768 x 768: decoded at a reduced scale
    (tmp_path / "empty").mkdir()
    assert not deepstream.sniff_jpeg(tmp_path / "empty")
    with pytest.raises(ReadError, match=r"empty: no <frame_number>\.jpg files"):
        deepstream.read_jpeg(tmp_path / "empty")
    broken = tmp_path / "3.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert not deepstream.sniff_jpeg(broken)
    with pytest.raises(ReadError, match=r"3\.jpg: "):
        deepstream.read_jpeg(broken)


def test_jpeg_upscales_to_the_image_size_with_nearest_neighbour(tmp_path):
    frame = tmp_path / "1.jpg"
    cv2.imwrite(str(frame), paint_like_the_sample(np.kron(np.array([[1, 6], [8, 12]]),
                                                           np.ones((16, 16), np.int64))))
    seg = deepstream.read_jpeg(frame, image_size=(64, 64))
    assert seg.shape == (64, 64)
    assert seg.provenance.details["upscaled_from"] == [32, 32]
    truth = np.kron(np.array([[1, 6], [8, 12]]), np.ones((32, 32), np.int64))
    assert np.mean(seg.to_values() == truth) > 0.8  # 16-pixel blocks: JPEG edges weigh a lot
