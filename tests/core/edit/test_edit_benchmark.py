"""The edit benchmark runs end to end on a tiny map (its figures are not checked here)."""

import json

from benchmarks import edit


def test_edit_benchmark_smoke_run(tmp_path, capsys):
    out = tmp_path / "edit.json"
    assert edit.main(["--sizes", "64x48", "--rounds", "3", "--quiet", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "dab: stroke + command + record" in printed and "fill: undo" in printed
    assert "dab stroke step" in printed
    data = json.loads(out.read_text())
    assert {c["goal"] for c in data["targets"]} >= {"dab <= 16 ms (core share)",
                                                     "undo of a large fill <= 50 ms"}
