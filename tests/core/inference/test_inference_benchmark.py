"""The inference benchmark runs end to end (bundled model, a tiny photo; figures not checked)."""

import json

from benchmarks import inference


def test_inference_benchmark_smoke_run(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert inference.main(["--model", "selfie", "--size", "64x48", "--rounds", "2", "--quiet",
                           "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    for method in (inference.RAW, inference.PIPE_FILE, inference.PIPE_ARRAY, inference.PIPE_SEG,
                   inference.DNN_RAW, inference.DNN_PIPE):
        assert method in printed
    data = json.loads(out.read_text())
    assert data["model"] == "selfie" and data["agreement_with_cv2_dnn"] > 0.95
    assert [c["status"] for c in data["targets"]] == ["INFO", "INFO"]
