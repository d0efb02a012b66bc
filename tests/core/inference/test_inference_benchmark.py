"""The inference benchmark runs end to end (bundled model, a tiny photo; figures not checked)."""

import json

import cv2

from benchmarks import inference


def test_inference_benchmark_smoke_run(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert inference.main(["--model", "selfie", "--size", "64x48", "--rounds", "2", "--quiet",
                           "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    for method in (inference.RAW, inference.PIPE_FILE, inference.PIPE_ARRAY, inference.PIPE_SEG,
                   inference.DNN_RAW, inference.DNN_PIPE):
        assert method in printed
    assert "cv2.dnn engine: " in printed
    data = json.loads(out.read_text())
    assert data["model"] == "selfie" and data["agreement_with_cv2_dnn"] > 0.95
    assert data["threads"] == 1
    assert [c["status"] for c in data["targets"]] == ["INFO", "INFO"]


def test_every_engine_gets_the_same_threads_and_opencv_is_restored(capsys, monkeypatch):
    before = cv2.getNumThreads()
    seen = []
    real_build = inference.build_methods

    def spy(manifest, photo, threads):
        seen.append((threads, cv2.getNumThreads()))
        return real_build(manifest, photo, threads)

    monkeypatch.setattr(inference, "build_methods", spy)
    assert inference.main(["--model", "selfie", "--size", "64x48", "--rounds", "1",
                           "--threads", "2", "--quiet"]) == 0
    assert seen == [(2, 2)]  # onnxruntime and OpenCV alike
    assert cv2.getNumThreads() == before
    assert "2 thread(s) each" in capsys.readouterr().out
