"""segview info / convert / formats, end to end on real files, without Qt."""

import json
import subprocess
import sys

import numpy as np
from PIL import Image

from viewer import _paths
from viewer.cli import main
from viewer.core.formats.registry import FORMATS


def test_formats_lists_the_registry(capsys):
    assert main(["formats"]) == 0
    out = capsys.readouterr().out
    for spec in FORMATS:
        assert spec.name in out
    assert main(["formats", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} == {s.name for s in FORMATS}
    assert all({"read", "write", "lossless", "extensions"} <= set(r) for r in rows)


def test_info_json_has_the_documented_keys(capsys):
    assert main(["info", str(_paths.sample_mask()), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["format"] == "index-png" and (doc["width"], doc["height"]) == (512, 512)
    assert doc["kind"] == "semantic"
    areas = {s["label"]: s["area"] for s in doc["segments"]}
    assert areas == {"background": 115_676, "person": 139_322, "void": 7_146}
    assert all({"id", "label", "area"} <= set(s) for s in doc["segments"])


def test_info_text_shows_the_table(capsys):
    assert main(["info", str(_paths.sample_mask())]) == 0
    out = capsys.readouterr().out
    assert "index-png" in out and "512 x 512" in out and "person" in out and "139,322" in out


def test_convert_writes_masks_and_metadata_and_reports_losses(tmp_path, capsys):
    values = np.array([[-1, 0, 3], [3, 3, 0]], np.int32)
    src = tmp_path / "in" / "frame.npy"
    src.parent.mkdir()
    np.save(src, values)
    out = tmp_path / "out"
    assert main(["convert", str(src), "--to", "index-png", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert str(out / "frame.png") in captured.out
    assert "lost in index-png: value -1 is written as 255" in captured.err
    doc = json.loads((out / "frame.segview.json").read_text())
    assert doc["lost"] and doc["mask_files"] == ["frame.png"]
    with Image.open(out / "frame.png") as img:
        assert np.array(img).tolist() == [[255, 0, 3], [3, 3, 0]]


def test_convert_round_trip_through_npy_is_exact(tmp_path):
    assert main(["convert", str(_paths.sample_mask()), "--to", "label-npy", "--out", str(tmp_path),
                 "--image", str(_paths.sample_image())]) == 0
    with Image.open(_paths.sample_mask()) as img:
        original = np.array(img)
    np.testing.assert_array_equal(np.load(tmp_path / "astronaut_mask.npy"), original)


def test_bad_input_exits_2_with_the_file_named(tmp_path, capsys):
    broken = tmp_path / "broken.png"
    broken.write_bytes(_paths.sample_mask().read_bytes()[:120])
    assert main(["info", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "broken.png" in err and "Traceback" not in err
    small = tmp_path / "small.png"
    Image.new("RGB", (10, 10)).save(small)
    assert main(["convert", str(_paths.sample_mask()), "--to", "label-npy", "--out",
                 str(tmp_path / "o"), "--image", str(small)]) == 2
    assert "the image is 10x10" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
    assert main(["convert", str(_paths.sample_mask()), "--to", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown format 'nope'" in capsys.readouterr().err


def test_info_runs_without_importing_qt():
    code = ("import sys; from viewer.cli import main; "
            f"rc = main(['info', {str(_paths.sample_mask())!r}]); "
            "assert not any(m.startswith(('PySide6', 'shiboken6', 'pyqtgraph')) for m in sys.modules); "
            "sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
