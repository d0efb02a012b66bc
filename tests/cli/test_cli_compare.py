"""segview compare GT PRED: files and folders, --json, --report; the core's numbers exactly."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from viewer.cli_compare import compare_main, pair_inputs
from viewer.core import metrics
from viewer.core.formats.registry import read_mask
from viewer.core.review import Review, State
from viewer.core.review import save as save_review

GT = np.array([[0, 0, 1, 1], [0, 2, 2, 1], [9, 9, 2, 2]], np.uint8)
PRED = np.array([[0, 1, 1, 1], [0, 2, 3, 1], [0, 9, 2, 2]], np.uint8)


def _png(path, values):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(values, np.uint8)).save(path)
    return path


def _npy(path, values):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, np.asarray(values, np.int32))
    return path


def _core_scores(gt_path, pred_path, ignore=()):
    return metrics.compare(read_mask(gt_path), read_mask(pred_path), ignore=ignore)


def _as_json(value):
    return json.loads(json.dumps(value))


@pytest.fixture
def folders(tmp_path):
    """gt/ and pred/ with three pairs (one by stem only) and one unpaired file each."""
    rng = np.random.default_rng(5)
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    _png(gt / "x.png", GT)
    _npy(pred / "x.npy", PRED)                       # same relative path, other format
    _png(gt / "sub" / "y.png", rng.integers(0, 4, (5, 7)))
    _png(pred / "sub" / "y.png", rng.integers(0, 4, (5, 7)))
    _png(gt / "val" / "z.png", rng.integers(0, 3, (4, 4)))
    _png(pred / "z.png", rng.integers(0, 3, (4, 4)))  # paired by its unique stem
    _png(gt / "only_gt.png", GT)
    _png(pred / "only_pred.png", GT)
    (gt / "notes.txt").write_text("not a mask")
    return gt, pred


def test_single_files_print_the_core_numbers(tmp_path, capsys):
    gt, pred = _png(tmp_path / "gt.png", GT), _png(tmp_path / "pred.png", PRED)
    assert compare_main([str(gt), str(pred)]) == 0
    out = capsys.readouterr().out
    s = _core_scores(gt, pred)
    assert f"pixel accuracy: {s.pixel_accuracy:.4f}" in out
    assert f"mean IoU:       {s.mean_iou:.4f}" in out
    assert f"mean Dice:      {s.mean_dice:.4f}" in out
    row = next(line for line in out.splitlines() if line.startswith("3 "))
    assert row.split()[-4:] == ["0.0000", "0.0000", "0", "1"]


def test_single_files_json_equals_the_core(tmp_path, capsys):
    gt, pred = _png(tmp_path / "gt.png", GT), _npy(tmp_path / "pred.npy", PRED)
    assert compare_main([str(gt), str(pred), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    s = _core_scores(gt, pred)
    assert doc["overall"] == _as_json(s.to_dict())
    assert [i["item"] for i in doc["items"]] == ["gt.png"]
    assert doc["items"][0]["mean_iou"] == s.mean_iou
    # a hand check of the same numbers: 9 is an ordinary class in a plain grey PNG
    assert doc["overall"]["pixel_accuracy"] == pytest.approx(9 / 12)


def test_ignore_makes_a_value_void(tmp_path, capsys):
    gt, pred = _png(tmp_path / "gt.png", GT), _png(tmp_path / "pred.png", PRED)
    assert compare_main([str(gt), str(pred), "--json", "--ignore", "9"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["overall"] == _as_json(_core_scores(gt, pred, ignore=[9]).to_dict())
    assert doc["overall"]["ignored_pixels"] == 2
    assert doc["overall"]["pixel_accuracy"] == pytest.approx(8 / 10)


def test_folders_are_paired_and_accumulated(folders, capsys):
    gt, pred = folders
    assert compare_main([str(gt), str(pred), "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    pairs = [("x.png", gt / "x.png", pred / "x.npy"),
             ("sub/y.png", gt / "sub" / "y.png", pred / "sub" / "y.png"),
             ("val/z.png", gt / "val" / "z.png", pred / "z.png")]
    assert sorted(i["item"] for i in doc["items"]) == sorted(p[0] for p in pairs)
    per_item = {name: _core_scores(g, p) for name, g, p in pairs}
    for item in doc["items"]:
        assert {k: v for k, v in item.items() if k != "item"} == _as_json(
            per_item[item["item"]].to_dict())
    total = metrics.scores(metrics.accumulate(s.confusion for s in per_item.values()))
    assert doc["overall"] == _as_json(total.to_dict())
    assert "only_gt.png" in captured.err and "only_pred.png" in captured.err
    assert "have no prediction" in captured.err and "have no ground truth" in captured.err


def test_folder_text_lists_items_and_totals(folders, capsys):
    gt, pred = folders
    assert compare_main([str(gt), str(pred)]) == 0
    out = capsys.readouterr().out
    assert "sub/y.png" in out and "val/z.png" in out and "all 3 items" in out


def test_pairing_prefers_png_and_says_so(tmp_path):
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    _png(gt / "a.png", GT)
    _npy(gt / "a.npy", GT)
    _png(pred / "a.png", GT)
    pairs, warnings = pair_inputs(gt, pred)
    assert [(p.name, p.gt.name) for p in pairs] == [("a.png", "a.png")]
    assert any("a.npy: skipped" in w for w in warnings)


def test_report_folder(folders, tmp_path, capsys):
    gt, pred = folders
    sidecar = Review()
    sidecar.set_state("sub/y.jpg", State.REJECTED, author="lead")  # the photo's key
    sidecar.add_comment("sub/y.jpg", "edges too coarse", point=(2, 3), author="lead")
    review_file = save_review(sidecar, tmp_path / "segview-review.json")
    out = tmp_path / "report"
    assert compare_main([str(gt), str(pred), "--json", "--report", str(out),
                         "--review", str(review_file)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert json.loads((out / "metrics.json").read_text(encoding="utf-8")) == printed
    rows = list(csv.DictReader((out / "metrics.csv").open(encoding="utf-8")))
    total = next(r for r in rows if r["item"] == metrics.ALL_ITEMS and r["class"] == "all")
    assert float(total["mean_iou"]) == pytest.approx(printed["overall"]["mean_iou"], abs=1e-6)
    confusion = list(csv.reader((out / "confusion.csv").open(encoding="utf-8")))
    assert confusion[0][-1] == "void" and len(confusion) == len(confusion[0])
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    y = next(i for i in doc["items"] if i["item"] == "sub/y.png")
    assert y["state"] == "rejected" and y["comments"][0]["text"] == "edges too coarse"
    assert doc["progress"]["text"] == "1 / 3 reviewed"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "edges too coarse" in page and "sub/y.png" in page
    assert len(list((out / "thumbs").glob("*.png"))) == 9


@pytest.mark.parametrize("case", ["size", "truncated", "missing", "kinds", "nothing", "review"])
def test_bad_input_exits_2_with_one_line_naming_the_file(tmp_path, capsys, case):
    gt = _png(tmp_path / "gt.png", GT)
    args = {
        "size": lambda: [gt, _png(tmp_path / "small.png", GT[:2])],
        "truncated": lambda: [gt, tmp_path / "broken.png"],
        "missing": lambda: [gt, tmp_path / "absent.png"],
        "kinds": lambda: [gt, tmp_path],
        "nothing": lambda: [_png(tmp_path / "g" / "a.png", GT).parent,
                            _png(tmp_path / "p" / "b.png", GT).parent],
        "review": lambda: [gt, gt, "--review", _bad_json(tmp_path / "r.json")],
    }
    (tmp_path / "broken.png").write_bytes(gt.read_bytes()[:40])
    argv = [str(a) for a in args[case]()]
    assert compare_main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("segview: error: ")
    named = {"size": "small.png", "truncated": "broken.png", "missing": "absent.png",
             "kinds": str(tmp_path), "nothing": "p", "review": "r.json"}[case]
    assert named in lines[0]
    if case == "size":
        assert "4x2 does not match the ground truth" in lines[0] and "gt.png" in lines[0]
    if case == "review":
        assert "line 1, column" in lines[0]


def _bad_json(path):
    path.write_text("{oops", encoding="utf-8")
    return path


def test_compare_runs_without_importing_qt(tmp_path):
    gt, pred = _png(tmp_path / "gt.png", GT), _png(tmp_path / "pred.png", PRED)
    argv = [str(gt), str(pred), "--report", str(tmp_path / "r")]
    code = ("import sys; from viewer.cli_compare import compare_main; "
            f"rc = compare_main({argv!r}); "
            "assert not any(m.startswith(('PySide6', 'shiboken6', 'pyqtgraph')) "
            "for m in sys.modules); sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr


def test_segview_compare_is_a_subcommand(capsys):
    from viewer import _paths
    from viewer.cli import main

    mask = str(_paths.sample_mask())
    assert main(["compare", mask, mask, "--json"]) == 0
    assert '"mean_iou": 1.0' in capsys.readouterr().out
