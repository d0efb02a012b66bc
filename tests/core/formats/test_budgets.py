"""Small files that declare huge counts: refused clearly or read quickly with bounded memory.

Each case goes through the public API and the CLI (exit 2 and one line naming
the file, or the right result). Peak memory is measured in a child process.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from viewer.cli import main
from viewer.core.budget import MAX_SEGMENTS
from viewer.core.errors import ReadError
from viewer.core.formats import coco_rle
from viewer.core.formats.registry import read_mask
from viewer.core.segmentation import Segmentation

pytestmark = pytest.mark.timeout(300)
GIB = 1 << 30


def peak_rss_of(code: str) -> int:
    """Run ``code`` in a fresh interpreter and return its peak RSS in bytes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, "-c", code], check=True, timeout=280)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest of any child so far (KiB on Linux).
    assert after >= before
    return after * 1024


def cli_error(capsys, *args: str) -> str:
    assert main(list(args)) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def coco_file(path: Path, segmentation, *, category=1, image=None) -> Path:
    path.write_text(json.dumps({
        "images": [image or {"id": 1, "width": 5, "height": 4}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": category,
                         "segmentation": segmentation}],
        "categories": [{"id": 1, "name": "x"}]}))
    return path


# -- distinct ids ----------------------------------------------------------------------
def test_a_million_distinct_ids_is_refused_at_once(tmp_path, capsys):
    path = tmp_path / "noise.npy"
    np.save(path, np.random.default_rng(0).permutation(1_000_000).astype(np.int32)
            .reshape(1000, 1000))
    line = cli_error(capsys, "info", str(path))
    assert str(path) in line and "1,000,000 distinct values" in line and f"{MAX_SEGMENTS:,}" in line


def test_many_ids_below_the_limit_are_read_with_their_statistics():
    values = np.random.default_rng(1).permutation(90_000).reshape(300, 300) - 5
    seg = Segmentation.from_values(values)
    assert len(seg.table) == 90_000
    assert all(s.area == 1 for s in seg.table)
    row, col = np.argwhere(values == 1234)[0]
    found = seg.segment_at(int(row), int(col))
    assert found.bbox == (row, col, row + 1, col + 1)
    assert np.array_equal(seg.to_values(), values)


# -- COCO ------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
def test_masks_decoded_from_runs_match_pycocotools(tmp_path, seed):
    rng = np.random.default_rng(seed)
    height, width = rng.integers(1, 40, 2)
    masks = [rng.random((height, width)) < p for p in (0.02, 0.5, 0.97)]
    masks.append(np.zeros((height, width), bool))
    anns = []
    for i, mask in enumerate(masks):
        rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        anns.append({"id": i + 1, "image_id": 1, "category_id": 1, "score": i / 10,
                     "segmentation": {"size": [int(height), int(width)],
                                      "counts": rle["counts"].decode()}})
    path = tmp_path / "r.json"
    path.write_text(json.dumps(anns))
    seg = read_mask(path, "coco-rle")
    for i, mask in enumerate(masks):
        assert np.array_equal(seg.mask_of(i + 1), mask)
    covered = sum(int(np.count_nonzero(m & (seg.labels != i + 1))) for i, m in enumerate(masks))
    assert seg.covered_pixels() == covered == seg.provenance.details["covered_pixels"]


def test_twenty_thousand_one_pixel_instances_are_read(tmp_path):
    height, width = 120, 200
    anns = [{"id": i + 1, "image_id": 1, "category_id": 1,
             "segmentation": {"size": [height, width], "counts": [i, 1, height * width - i - 1]}}
            for i in range(20_000)]
    path = tmp_path / "many.json"
    path.write_text(json.dumps(anns))
    seg = read_mask(path, "coco-rle")
    assert len(seg.table) == 20_001 and not seg.full_masks
    row, col = 17 % height, 17 // height  # column-major
    assert seg.labels[row, col] == 18


def test_overlapping_full_image_instances_take_bounded_memory(tmp_path):
    size = 4000
    full = mask_utils.encode(np.asfortranarray(np.ones((size, size), np.uint8)))["counts"]
    anns = [{"id": i + 1, "image_id": 1, "category_id": 1, "score": i / 1000,
             "segmentation": {"size": [size, size], "counts": full.decode()}}
            for i in range(300)]
    path = tmp_path / "full.json"
    path.write_text(json.dumps(anns))
    assert path.stat().st_size < 64 * 1024
    code = ("from viewer.cli import main; import sys; "
            f"sys.exit(main(['info', {str(path)!r}]))")
    assert peak_rss_of(code) < 2 * GIB
    seg = read_mask(path, "coco-rle")
    assert len(seg.full_masks) == 299
    assert seg.covered_pixels() == 299 * size * size
    assert seg.mask_of(1).all()


@pytest.mark.parametrize(("segmentation", "message"), [
    ({"size": [4, 5], "counts": [2**64 + 5, 15]}, "run length of 18,446,744,073,709,551,621"),
    ({"size": [4, 5], "counts": [2**32 + 5, 15]}, "run length of 4,294,967,301"),
    ({"size": [4, 5], "counts": [5, 5]}, "cover 10 pixels"),
    ({"size": [4, 5], "counts": [5, 50]}, "run length of 50"),
    ({"size": [-4, 5], "counts": [5, 15]}, "'size' should be [height, width]"),
])
def test_bad_rle_counts_are_refused(tmp_path, capsys, segmentation, message):
    path = coco_file(tmp_path / "bad.json", segmentation)
    line = cli_error(capsys, "info", str(path))
    assert line.startswith(f"segview: error: {path}: ") and message in line


def test_a_list_as_category_id_is_refused(tmp_path, capsys):
    path = coco_file(tmp_path / "cat.json", {"size": [4, 5], "counts": [5, 15]}, category=[1, 2])
    assert "'category_id' should be an integer, found list" in cli_error(capsys, "info", str(path))


@pytest.mark.parametrize("height", ["²", "4", 4.0, True])
def test_a_coco_image_size_that_is_no_whole_number_is_refused(tmp_path, capsys, height):
    path = coco_file(tmp_path / "size.json", {"size": [4, 5], "counts": [5, 15]},
                     image={"id": 1, "width": 5, "height": height})
    assert "'height' should be a whole number of pixels" in cli_error(capsys, "info", str(path))


@pytest.mark.parametrize("width", [-5, 0])
def test_a_coco_image_of_no_pixels_is_refused(tmp_path, capsys, width):
    path = coco_file(tmp_path / "size.json", {"size": [4, 5], "counts": [5, 15]},
                     image={"id": 1, "width": width, "height": 4})
    assert "is empty" in cli_error(capsys, "info", str(path))


# -- text that looks like digits --------------------------------------------------------
def test_a_deepstream_height_of_superscript_two_is_refused(tmp_path, capsys):
    dump = tmp_path / "d.bin"
    np.zeros((4, 5), np.int32).tofile(dump)
    sidecar = tmp_path / "d.bin.json"
    sidecar.write_text(json.dumps({"height": "²", "width": 5, "dtype": "int32"}))
    line = cli_error(capsys, "info", str(dump))
    assert str(sidecar) in line and "height must be a positive integer" in line


def test_a_celantur_frame_id_of_superscript_two_is_refused(tmp_path, capsys):
    chunk = tmp_path / "v-0-0.json"
    chunk.write_text(json.dumps([{"id": "²", "size": [8, 6], "detections": [
        {"id": 0, "bbox": [1, 1, 4, 4], "type_label": "face", "score": 0.9}]}]))
    assert "id '²' is not a frame number" in cli_error(capsys, "info", str(chunk))


# -- classes ----------------------------------------------------------------------------
def test_a_deepstream_dump_declaring_5000_classes_is_refused(tmp_path, capsys):
    dump = tmp_path / "d.bin"
    np.zeros((5000, 8, 8), np.float16).tofile(dump)
    (tmp_path / "d.bin.json").write_text(json.dumps(
        {"classes": 5000, "height": 8, "width": 8, "dtype": "float16"}))
    assert "5,000 classes, more than the 1,024" in cli_error(capsys, "info", str(dump))


def test_an_opencv_blob_of_5000_classes_is_refused(tmp_path, capsys):
    blob = tmp_path / "b.npy"
    np.save(blob, np.zeros((1, 5000, 8, 8), np.float16))
    line = cli_error(capsys, "info", "--format", "opencv-blob", str(blob))
    assert str(blob) in line and "5,000 classes" in line


# -- Celantur ---------------------------------------------------------------------------
def test_fifty_boxes_on_17000_squared_take_bounded_memory(tmp_path):
    side = 17000
    dets = [{"id": i, "bbox": [0, 0, side - 10 * i, side - 10 * i], "type_label": "face",
             "score": 0.9} for i in range(50)]
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"id": "big.jpg", "size": [side, side], "duration": 1.0,
                                "detections": dets}))
    assert path.stat().st_size < 8192
    code = ("from viewer.core.formats.registry import read_mask; "
            f"seg = read_mask({str(path)!r}); assert len(seg.full_masks) == 49, seg.full_masks; "
            "print(seg.covered_pixels())")
    assert peak_rss_of(code) < 2 * GIB


def test_a_small_box_inside_a_covered_one_counts_its_covered_pixels(tmp_path):
    path = tmp_path / "boxes.json"
    path.write_text(json.dumps({"id": "a.jpg", "size": [10, 8], "detections": [
        {"id": 0, "bbox": [0, 0, 10, 8], "type_label": "face", "score": 0.9},
        {"id": 1, "bbox": [2, 2, 5, 4], "type_label": "person", "score": 0.8}]}))
    seg = read_mask(path)
    assert seg.covered_pixels() == 3 * 2
    assert seg.mask_of(1).sum() == 80


def test_a_chunk_whose_first_frames_detect_nothing_is_not_dropped(tmp_path):
    from viewer.core.video.mask_source import open_mask_source

    (tmp_path / "v-0-600.json").write_text(json.dumps(
        [{"id": i, "detections": []} for i in range(601)]))
    (tmp_path / "v-601-610.json").write_text(json.dumps(
        [{"id": i, "size": [8, 6], "detections": [
            {"id": 0, "bbox": [1, 1, 4, 4], "type_label": "face"}]} for i in range(601, 611)]))
    with pytest.raises(ReadError, match=r"v-0-600\.json: holds 601 frames"):
        open_mask_source(tmp_path)


# -- ClearML ----------------------------------------------------------------------------
@pytest.mark.parametrize("width", [-5, 0, "5", 5.5])
def test_a_clearml_source_size_that_is_not_positive_is_refused(tmp_path, capsys, width):
    Image.fromarray(np.zeros((4, 5, 3), np.uint8)).save(tmp_path / "m.png")
    frame = tmp_path / "frame.json"
    frame.write_text(json.dumps({
        "id": "f", "sources": [{"id": "s", "uri": "x.png", "width": width, "height": 4,
                                "masks": [{"id": "seg", "uri": "m.png",
                                           "content_type": "image/png"}]}],
        "rois": [{"id": "r", "label": ["a"], "mask": {"id": "seg", "value": [0, 0, 0]},
                  "sources": ["s"]}]}))
    line = cli_error(capsys, "info", str(frame))
    assert str(frame) in line and f"source width {width!r} is not a positive" in line


# -- colour masks -----------------------------------------------------------------------
def test_random_16_bit_png_to_voc_rgb_is_refused(tmp_path, capsys):
    png = tmp_path / "noise.png"
    Image.fromarray(np.random.default_rng(2).integers(0, 65535, (300, 300), dtype=np.uint16)
                    ).save(png)
    line = cli_error(capsys, "convert", str(png), "--to", "voc-rgb", "--out", str(tmp_path / "o"))
    assert "VOC colour masks hold values 0..255" in line


@pytest.mark.parametrize("slice_runs", [0, 1 << 20])
def test_rle_decoder_gives_the_same_pixels_both_ways(monkeypatch, slice_runs):
    monkeypatch.setattr(coco_rle, "SLICE_RUNS", slice_runs)
    mask = np.zeros((50, 40), bool)
    mask[::2, ::3] = True
    mask[7:30, 20:33] = True
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    runs = coco_rle.rle_string_counts(rle["counts"].decode())
    decoded = coco_rle.Decoded(runs, 50, "rle")
    r0, c0, r1, c1 = decoded.bbox
    assert np.array_equal(decoded.crop(), mask[r0:r1, c0:c1])


def test_a_deepstream_threshold_of_nan_is_refused(tmp_path, capsys):
    dump = tmp_path / "d.bin"
    np.zeros((2, 4, 5), np.float32).tofile(dump)
    (tmp_path / "d.bin.json").write_text(
        '{"classes": 2, "height": 4, "width": 5, "threshold": NaN}')
    assert "threshold must be a finite number" in cli_error(capsys, "info", str(dump))


def test_a_list_as_coco_image_id_is_refused(tmp_path, capsys):
    path = tmp_path / "r.json"
    path.write_text(json.dumps([{"image_id": [1], "category_id": 1,
                                 "segmentation": {"size": [4, 5], "counts": [5, 15]}}]))
    assert "'image_id' should be an integer or a string" in cli_error(capsys, "info", str(path))


def test_uint64_values_above_int64_are_refused_not_wrapped(tmp_path, capsys):
    path = tmp_path / "big.npy"
    np.save(path, np.array([[0, 2**63 + 5], [1, 2**64 - 1]], np.uint64))
    line = cli_error(capsys, "info", str(path))
    assert str(path) in line and "18,446,744,073,709,551,615" in line


@pytest.mark.parametrize("text", ["²", "1²", "", "-", "9" * 19, "9" * 5000, "1.5"])
def test_whole_number_refuses_what_is_no_count(text):
    from viewer.core.budget import whole_number

    assert whole_number(text) is None


def test_whole_number_reads_plain_and_signed_digits():
    from viewer.core.budget import whole_number

    assert whole_number(" 42 ") == 42
    assert whole_number("-3", signed=True) == -3
    assert whole_number("-3") is None
