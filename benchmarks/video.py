"""Video benchmark: sequential decode + colourize with precomputed masks, as fps and ratios.

Run from the repository root::

    .venv/bin/python -m benchmarks.video [--sizes 1080p,4k] [--frames 120] [--rounds 5]

A clip is made first (PyAV, libx264, in a temporary folder): a textured scene
that pans two pixels a frame with fresh noise in every frame, at a forced
bitrate (8 Mbit/s at 1080p, scaled by pixels: 35 Mbit/s at 4K), as the clips of
``PERFORMANCE.md`` were. The masks are precomputed ``u8-21`` (semantic) and
``u16-5000`` (instance) blob maps from ``benchmarks._timing``, eight of each,
cycled over the frames: no inference is timed.

Each method below is one sequential pass over the whole clip through
:class:`viewer.core.video.VideoReader` (seeking back to frame 0 at its start,
cache off), timed round-robin so drift hits all alike; the figure is the
median pass. ``x decode`` divides by the median of "decode", timed in the same
group, so it is the cost of the overlay relative to decoding alone.

- decode, no RGB: PyAV alone, opening the file and decoding YUV frames without
  conversion, for scale.
- decode: ``reader.frame(i)``, decode + YUV -> RGB ndarray (what playback needs).
- + colourize u8 / u16: and ``render_overlay`` into premultiplied BGRA, the
  canvas's overlay (the repaint itself is the canvas benchmark's).
- + export blend u8: and ``render_export``, what ``segview render`` writes.

Targets (``PERFORMANCE.md`` §3), reported PASS/FAIL, never the exit status:
G13 decode >= 120 fps at 1080p and >= 35 fps at 4K; G14 without the repaint,
decode + colourize >= 30 fps at 1080p; G15 at 1:1 without the repaint, >= 15
fps at 4K. Exit status 1 only when a correctness check fails (frame count,
exact frame after the seek back, overlay equal to a direct render).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/video.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av  # noqa: E402
import cv2  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks._timing import (  # noqa: E402
    Size,
    environment,
    format_table,
    label_map,
    parse_sizes,
    photo_like,
    round_robin,
)
from viewer.core.render.pipeline import RenderSettings, render_export, render_overlay  # noqa: E402
from viewer.core.segmentation import Kind, Segmentation  # noqa: E402
from viewer.core.video.pyav_reader import VideoReader  # noqa: E402

DECODE = "decode"
RAW = "decode, no RGB"
COLOUR_U8 = "decode + colourize u8-21"
COLOUR_U16 = "decode + colourize u16-5000"
EXPORT_U8 = "decode + export blend u8-21"
MASKS = 8
BITS_PER_PIXEL_1080P = 8e6 / (1920 * 1080)
FPS = 25


def make_clip(path: Path, size: Size, frames: int) -> Path:
    """A panning, noisy scene encoded with libx264 at a forced bitrate."""
    pan = 2 * frames
    scene = photo_like(size.height, size.width + pan, noise=0)
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = size.width, size.height, "yuv420p"
        stream.bit_rate = int(BITS_PER_PIXEL_1080P * size.pixels * FPS / 25)
        stream.options = {"preset": "veryfast", "g": str(2 * FPS)}
        for i in range(frames):
            view = scene[:, 2 * i: 2 * i + size.width].astype(np.int16)
            view += rng.integers(-8, 9, size=view.shape, dtype=np.int16)
            rgb = np.clip(view, 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def masks(size: Size) -> dict[str, list[Segmentation]]:
    """Eight precomputed segmentations of each kind at the frame size."""
    return {
        "u8": [Segmentation.from_values(label_map("u8-21", size.height, size.width, seed=s),
                                        kind=Kind.SEMANTIC) for s in range(MASKS)],
        "u16": [Segmentation.from_values(label_map("u16-5000", size.height, size.width, seed=s),
                                         kind=Kind.INSTANCE) for s in range(MASKS)],
    }


def passes(reader: VideoReader, segs: dict[str, list[Segmentation]]) -> dict[str, Callable]:
    """One zero-argument callable per method: a whole sequential pass over the clip."""
    n, settings = reader.frame_count, RenderSettings()

    def each(work: Callable[[np.ndarray, int], object]) -> Callable[[], None]:
        def run() -> None:
            for i in range(n):
                work(reader.frame(i), i)
        return run

    def raw() -> None:
        with av.open(str(reader.path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # as the reader decodes
            for _ in container.decode(stream):
                pass

    return {
        RAW: raw,
        DECODE: each(lambda rgb, i: None),
        COLOUR_U8: each(lambda rgb, i: render_overlay(segs["u8"][i % MASKS], settings,
                                                       order="bgra", premultiplied=True)),
        COLOUR_U16: each(lambda rgb, i: render_overlay(segs["u16"][i % MASKS], settings,
                                                        order="bgra", premultiplied=True)),
        EXPORT_U8: each(lambda rgb, i: render_export(rgb, segs["u8"][i % MASKS], 0.5)),
    }


def check(reader: VideoReader, frames: int, segs: dict[str, list[Segmentation]]) -> list[str]:
    """Correctness before timing: count, the seek back to 0, one overlay."""
    problems = []
    if reader.frame_count != frames:
        problems.append(f"the clip has {reader.frame_count} frames, {frames} were written")
    first = reader.frame(0).copy()
    for _ in reader.frames(1):
        pass
    if not np.array_equal(reader.frame(0), first):
        problems.append("frame 0 read after a full pass differs from the first read")
    seg = segs["u8"][0]
    blended = render_export(first, seg, 0.5)
    overlay = render_overlay(seg).fill
    shown = seg.labels != 0
    want = cv2.addWeighted(first, 0.5, overlay[..., :3], 0.5, 0)
    if np.abs(blended[shown].astype(int) - want[shown].astype(int)).max(initial=0) > 1:
        problems.append("render_export differs from a direct blend by more than 1")
    return problems


def targets(size: Size, fps: dict[str, float]) -> list[tuple[str, str, str, float, float]]:
    rows = []

    def add(goal: str, what: str, value: float, floor: float) -> None:
        rows.append(("PASS" if value >= floor else "FAIL", goal, what, value, floor))

    if size.name == "1080p":
        add("G13", "1080p decode, fps", fps[DECODE], 120)
        add("G14", "1080p decode + colourize u8, fps (no repaint)", fps[COLOUR_U8], 30)
        add("G14", "1080p decode + colourize u16, fps (no repaint)", fps[COLOUR_U16], 30)
    elif size.name == "4K":
        add("G13", "4K decode, fps", fps[DECODE], 35)
        add("G15", "4K decode + colourize u8 at 1:1, fps (no repaint)", fps[COLOUR_U8], 15)
        add("G15", "4K decode + colourize u16 at 1:1, fps (no repaint)", fps[COLOUR_U16], 15)
    return rows


def run_size(size: Size, frames: int, rounds: int, budget: float,
             log: Callable[[str], None]) -> tuple[dict[str, float], list[str]]:
    """Make the clip, check, time; return fps per method and the problems found."""
    with tempfile.TemporaryDirectory(prefix="segview-bench-video-") as folder:
        log(f"{size}: encoding a {frames}-frame clip ...")
        clip = make_clip(Path(folder) / "clip.mp4", size, frames)
        segs = masks(size)
        with VideoReader(clip, cache_mb=0) as reader:
            problems = check(reader, frames, segs)
            if problems:
                return {}, problems
            log(f"{size}: timing (<= {rounds} rounds, budget {budget:g} s) ...")
            timings = round_robin(passes(reader, segs), rounds=rounds, budget=budget)
    fps = {name: frames / seconds for name, seconds in timings.items()}
    rows = [(name, f"{fps[name]:.1f}", f"{1e3 * timings[name] / frames:.2f}",
             f"{timings[name] / timings[DECODE]:.2f}") for name in timings]
    print(f"\n== video {size}, {frames} frames, {timings.rounds} rounds ==")
    print(format_table(["method", "fps", "ms / frame", "x decode"], rows))
    return fps, []


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.video", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1080p", type=parse_sizes,
                        help="frame sizes: 720p, 1080p, 4k or WxH (default 1080p)")
    parser.add_argument("--frames", type=int, default=120, help="frames in the clip")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per size")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    env = environment()

    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    print(f"video benchmark on {env['cpu']}, {env['cpu_count']} CPUs: python {env['python']}, "
          f"numpy {env['numpy']}, opencv {env['opencv']}, av {av.__version__} "
          f"(libavcodec {'.'.join(map(str, av.library_versions['libavcodec']))})")
    checks = []
    for size in args.sizes:
        fps, problems = run_size(size, args.frames, args.rounds, args.budget, log)
        if problems:
            for problem in problems:
                print(f"CORRECTNESS CHECK FAILED ({size}): {problem}")
            return 1
        checks += targets(size, fps)
    if checks:
        print("\n== targets (PERFORMANCE.md) ==")
        print(format_table(["", "goal", "check", "measured", "floor"],
                           [(s, g, w, f"{v:.1f}", f"{f:g}") for s, g, w, v, f in checks]))
    print("\ntargets are reported, not enforced (exit status 0).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
