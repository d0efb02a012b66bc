"""The video benchmark runs end to end (a tiny clip; the figures are not checked here)."""

from benchmarks import video


def test_video_benchmark_smoke_run(capsys):
    assert video.main(["--sizes", "64x48", "--frames", "6", "--rounds", "2", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "decode + colourize u16-5000" in out and "x decode" in out
    assert "CORRECTNESS CHECK FAILED" not in out
