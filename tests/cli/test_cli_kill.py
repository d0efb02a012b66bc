"""SIGKILL of ``convert`` and ``render`` at seeded random moments, then the next run's cleanup.

After each kill the output folder holds either all its old files or all the
new ones, and none of our temporaries once the next run (here
:func:`viewer.core.transaction.recover`, which every command runs first on its
output folder) has looked at it.
"""

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.video_clips import numbered_frames, square_labels, write_clip
from viewer.core import transaction
from viewer.core.video import open_video

REPO = Path(__file__).resolve().parents[2]
MOMENTS = 4  # per command: bounded time on a small machine
TIMEOUT_S = 120


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "viewer", *args]


def _state(folder: Path) -> dict[str, bytes]:
    """Every file by name; JSON without its creation time (two runs differ there)."""
    files = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix == ".json":
            doc = json.loads(data)
            if isinstance(doc, dict):
                doc.pop("created", None)
            data = json.dumps(doc, sort_keys=True).encode()
        files[path.relative_to(folder).as_posix()] = data
    return files


def _ours(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if transaction.MARK in p.name]


def _run(args: list[str], cwd: Path) -> float:
    start = time.monotonic()
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, timeout=TIMEOUT_S)
    return time.monotonic() - start


def _kill_at(args: list[str], cwd: Path, watch: Path, delay: float, after_journal: bool):
    """Start ``args``; SIGKILL it ``delay`` s after start (or after its journal appears)."""
    child = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        if after_journal:
            deadline = time.monotonic() + TIMEOUT_S
            while child.poll() is None and time.monotonic() < deadline and not any(
                    p.name.endswith(transaction.JOURNAL_SUFFIX) for p in watch.iterdir()):
                time.sleep(0.002)
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=TIMEOUT_S)


def _moments(seed: int, duration: float) -> list[tuple[float, bool]]:
    rng = random.Random(seed)
    return [(rng.uniform(0, duration), i % 2 == 1) for i in range(MOMENTS)]


def _big_voc(path: Path, shift: int) -> Path:
    values = np.zeros((1200, 1600), np.uint8)
    values[100:700, 200 + shift:900] = 15
    values[800:1100, 300:1400 - shift] = 1
    values[::7, ::5] = 0  # detail, so that the PNG takes a while to compress
    Image.fromarray(values).save(path)
    return path


def test_killed_convert_leaves_all_old_or_all_new(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    old_input = _big_voc(tmp_path / "a" / "shot.png", 0)
    new_input = _big_voc(tmp_path / "b" / "shot.png", 40)
    base = tmp_path / "base"
    _run(_command("convert", str(old_input), "--to", "cvat-mask", "--out", str(base)), REPO)
    old = _state(base)
    shutil.copytree(base, tmp_path / "full")
    duration = _run(_command("convert", str(new_input), "--to", "cvat-mask", "--out",
                             str(tmp_path / "full")), REPO)
    new = _state(tmp_path / "full")
    assert new != old
    seen = set()
    for number, (delay, after_journal) in enumerate(_moments(16, duration)):
        work = tmp_path / f"kill{number}"
        shutil.copytree(base, work)
        _kill_at(_command("convert", str(new_input), "--to", "cvat-mask", "--out", str(work)),
                 REPO, work, delay / (3 if after_journal else 1), after_journal)
        transaction.recover(work)
        state = _state(work)
        assert state in (old, new), f"kill {number} at {delay:.3f} s: a mix"
        assert _ours(work) == [], f"kill {number}: {_ours(work)}"
        seen.add("old" if state == old else "new")
    assert seen  # which ones depends on the machine's speed; both are right


@pytest.fixture(scope="module")
def big_clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bigclip")
    frames = [np.kron(f, np.ones((6, 6, 1), np.uint8)) for f in numbered_frames()]
    write_clip(folder / "clip.mp4", frames * 2)
    masks = folder / "masks"
    masks.mkdir()
    for i in range(len(frames) * 2):
        labels = np.kron(square_labels(i % len(frames)), np.ones((6, 6), np.uint8))
        Image.fromarray(labels).save(masks / f"frame_{i:04d}.png")
    return folder


def test_killed_render_leaves_all_old_or_all_new_and_no_temporary(big_clip, tmp_path):
    def render(out: Path, alpha: str) -> list[str]:
        return _command("render", str(big_clip / "clip.mp4"), "--masks",
                        str(big_clip / "masks"), "-o", str(out / "o.mp4"), "--alpha", alpha,
                        "--quiet")

    base = tmp_path / "base"
    base.mkdir()
    _run(render(base, "0.3"), REPO)
    old = _state(base)
    shutil.copytree(base, tmp_path / "full")
    duration = _run(render(tmp_path / "full", "0.9"), REPO)
    new_json = _state(tmp_path / "full")["o.segview.json"]
    for number, (delay, after_journal) in enumerate(_moments(17, duration)):
        work = tmp_path / f"kill{number}"
        shutil.copytree(base, work)
        _kill_at(render(work, "0.9"), REPO, work, delay / (2 if after_journal else 1),
                 after_journal)
        transaction.recover(work)
        assert _ours(work) == [], f"kill {number}: {_ours(work)}"
        state = _state(work)
        if state != old:  # then wholly new: the new metadata and a whole video
            assert sorted(state) == ["o.mp4", "o.segview.json"]
            assert state["o.segview.json"] == new_json, f"kill {number}: a mix"
            with open_video(work / "o.mp4") as video:
                assert video.frame_count == 96


def test_the_next_render_cleans_what_a_killed_one_left(big_clip, tmp_path):
    out = tmp_path / "o.mp4"
    args = _command("render", str(big_clip / "clip.mp4"), "--masks", str(big_clip / "masks"),
                    "-o", str(out), "--quiet")
    _kill_at(args, REPO, tmp_path, 0.05, after_journal=True)
    assert _ours(tmp_path), "the kill came too late to leave anything"
    _run(args, REPO)
    assert _ours(tmp_path) == [] and out.is_file()
