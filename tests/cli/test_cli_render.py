"""segview render: a video with per-frame masks rendered in, end to end and headless."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.video_clips import (
    FRAMES,
    SIZE,
    SQUARE_ROWS,
    frame_number,
    numbered_frames,
    square_labels,
    write_clip,
)
from viewer.cli import main
from viewer.core import metadata
from viewer.core.video import open_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", numbered_frames())


@pytest.fixture(scope="module")
def masks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("masks")
    for i in range(FRAMES):
        Image.fromarray(square_labels(i)).save(folder / f"frame_{i + 1:04d}.png")
    (folder / "classes.txt").write_text("background\nsquare\n")  # not a mask: left alone
    return folder


def test_render_writes_the_overlay_video_and_its_metadata(clip, masks, tmp_path, capsys):
    out = tmp_path / "overlay.mp4"
    assert main(["render", str(clip), "--masks", str(masks), "-o", str(out), "--alpha", "1",
                 "--first-number", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.out.split() == [str(out), str(tmp_path / "overlay.segview.json")]
    assert "[########################] 48/48" in captured.err
    assert f"{FRAMES} of {FRAMES} frames had a mask" in captured.err
    with open_video(out) as video:
        assert (video.frame_count, video.size) == (FRAMES, SIZE)
        rgb = video.frame(30)
        assert frame_number(rgb) == 30
    # alpha 1: the square is the segment's colour, within the codec's tolerance.
    colour = np.array(metadata.read(tmp_path / "overlay.segview.json")["frames"][30]
                      ["segments"][1]["color"])
    inside = rgb[SQUARE_ROWS[0] + 3: SQUARE_ROWS[1] - 3, 33:39].reshape(-1, 3)
    assert np.abs(inside.mean(axis=0) - colour).max() <= 6


def test_outline_mode_and_no_metadata(clip, masks, tmp_path, capsys):
    out = tmp_path / "outline.mov"
    assert main(["render", str(clip), "--masks", str(masks), "-o", str(out), "--mode",
                 "outline", "--thickness", "1", "--no-metadata", "--quiet",
                 "--first-number", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.out.split() == [str(out)] and "[#" not in captured.err
    with open_video(out) as video:
        rgb = video.frame(10).astype(int)
    # Filled pixels deep inside the square stay the photo's grey; only the border is drawn.
    inside = rgb[SQUARE_ROWS[0] + 4: SQUARE_ROWS[1] - 4, 14:18]
    assert np.abs(inside - 100).max() <= 8


def test_a_mask_video_with_its_legend(clip, tmp_path, capsys):
    legend = tmp_path / "legend.json"
    legend.write_text(json.dumps({"background": [0, 0, 0], "square": [255, 0, 0]}))
    colours = np.array([[0, 0, 0], [255, 0, 0]], np.uint8)
    mask_video = write_clip(tmp_path / "masks.mp4",
                            [colours[square_labels(i)] for i in range(FRAMES)])
    out = tmp_path / "overlay.mp4"
    assert main(["render", str(clip), "--masks", str(mask_video), "--legend", str(legend),
                 "-o", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "mask video masks.mp4:" in err and "snapped to the nearest" in err
    doc = metadata.read(tmp_path / "overlay.segview.json")
    assert {s["label"] for s in doc["frames"][0]["segments"]} == {"background", "square"}


def _one_error_line(err: str, name: str, problem: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("segview: error: ") and name in lines[0] and problem in lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize(("make", "problem"), [
    (lambda d, clip, masks: [str(d / "missing.mp4"), "--masks", str(masks)], "file not found"),
    (lambda d, clip, masks: [str(masks), "--masks", str(masks)], "is a folder, not a video"),
    (lambda d, clip, masks: [str(masks / "classes.txt"), "--masks", str(masks)],
     "classes.txt: not a video FFmpeg can read"),
    (lambda d, clip, masks: [str(clip), "--masks", str(d / "nothing")], "file not found"),
    (lambda d, clip, masks: [str(clip), "--masks", str(masks), "--first-number", "-100"],
     "has masks for frames 101-148, none of the video's 0-47"),
    (lambda d, clip, masks: [str(clip), "--masks", str(masks), "--first-number", "500"],
     "all 48 mask files are numbered below 500"),
    (lambda d, clip, masks: [str(clip), "--masks", str(clip)], "needs its colour legend"),
])
def test_bad_input_exits_2_with_one_line(clip, masks, tmp_path, capsys, make, problem):
    argv = make(tmp_path, clip, masks)
    assert main(["render", *argv, "-o", str(tmp_path / "out.mp4")]) == 2
    _one_error_line(capsys.readouterr().err, "", problem)
    assert not (tmp_path / "out.mp4").exists()


def test_a_bad_mask_half_way_exits_2_naming_it_and_writes_nothing(clip, masks, tmp_path,
                                                                    capsys):
    folder = tmp_path / "masks"
    folder.mkdir()
    for path in masks.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "frame_0021.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    out = tmp_path / "out.mp4"
    assert main(["render", str(clip), "--masks", str(folder), "-o", str(out), "--quiet",
                 "--first-number", "1"]) == 2
    _one_error_line(capsys.readouterr().err, "frame_0021.png", "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["masks"]


def test_bad_output_and_options_exit_2(clip, masks, tmp_path, capsys):
    assert main(["render", str(clip), "--masks", str(masks), "-o", str(tmp_path / "o.webm"),
                 "--quiet"]) == 2
    _one_error_line(capsys.readouterr().err, "o.webm", "cannot write a .webm video")
    assert main(["render", str(clip), "--masks", str(masks), "-o", str(clip)]) == 2
    _one_error_line(capsys.readouterr().err, "clip.mp4", "would overwrite the input")
    with pytest.raises(SystemExit) as info:
        main(["render", str(clip), "--masks", str(masks), "-o", "x.mp4", "--alpha", "2"])
    assert info.value.code == 2
    assert "must be in 0..1" in capsys.readouterr().err


def test_render_runs_without_importing_qt(clip, masks, tmp_path):
    argv = ["render", str(clip), "--masks", str(masks), "-o", str(tmp_path / "o.mp4"),
            "--quiet", "--first-number", "1"]
    code = ("import sys; from viewer.cli import main; "
            f"rc = main({argv!r}); "
            "assert not any(m.startswith(('PySide6', 'shiboken6', 'pyqtgraph')) "
            "for m in sys.modules); sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "o.mp4").is_file()


def test_masks_smaller_than_the_video_are_used_with_a_warning(clip, tmp_path, capsys):
    half = tmp_path / "half"
    half.mkdir()
    for i in range(FRAMES):
        Image.fromarray(square_labels(i)[::2, ::2].copy()).save(half / f"frame_{i:04d}.png")
    out = tmp_path / "overlay.mp4"
    assert main(["render", str(clip), "--masks", str(half), "-o", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert f"the masks are 32x24, smaller than the video's {SIZE[0]}x{SIZE[1]}" in err


def test_info_describes_a_video_and_says_what_to_run(clip, capsys):
    assert main(["info", str(clip)]) == 0
    out = capsys.readouterr().out
    assert f"video, {SIZE[0]}x{SIZE[1]}, {FRAMES} frames at 25 fps" in out
    assert "segview render" in out
    assert main(["info", str(clip), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["kind"], doc["frames"], doc["width"]) == ("video", FRAMES, SIZE[0])
