"""The benchmark script runs end to end (a tiny size; the figures are not checked here)."""

import json

from benchmarks import render


def test_benchmark_smoke_run_checks_correctness_and_reports(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert render.main(["--sizes", "64x48", "--rounds", "3", "--quiet", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "memcpy_rgba" in printed and "G11" in printed
    data = json.loads(out.read_text())
    goals = {check["goal"] for check in data["targets"]}
    assert {"G9", "G11", "G12"} <= goals


def test_canvas_benchmark_smoke_run(qapp, capsys):
    from benchmarks import canvas

    assert canvas.main(["--sizes", "64x48", "--rounds", "3"]) == 0
    printed = capsys.readouterr().out
    assert "alpha repaint" in printed and "recolour u16" in printed


def test_edit_window_benchmark_smoke_run(qapp, capsys):
    from benchmarks import edit_window

    assert edit_window.main(["--size", "320x200", "--rounds", "3", "--budget", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "dab at 1:1" in out and "undo of an 85 % fill" in out and "history per dab" in out
