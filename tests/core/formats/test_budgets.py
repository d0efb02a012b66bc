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
