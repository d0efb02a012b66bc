"""Canvas benchmark: alpha repaint and recolour after a relabel, as ratios to memcpy.

Goals from ``../shared/PERFORMANCE.md``:

- G1 / G2: alpha-slider repaint at 1:1, 4K <= 4.5x and 1080p <= 3x memcpy of the RGBA frame.
- G5: recolour after a relabel, 4K uint8 <= 1.5x memcpy.
- G6: recolour after a relabel, 4K uint16 instance map <= 2.5x memcpy.
- G8: relabel -> pixels repainted end to end, 4K: <= 25 ms (uint8), <= 35 ms (uint16).

"Recolour" is what the window does when a segment's colour or label changes:
render the overlay through the colour table into a premultiplied buffer and
hand it to the canvas. "Repaint" paints the canvas widget (offscreen Qt
platform, so no compositor or GPU is involved). Every ratio is a ratio of
medians of one round-robin group, timed in this process.

Run: ``.venv/bin/python -m benchmarks.canvas [--sizes 1080p,4k] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from benchmarks._timing import format_table, label_map, parse_sizes, photo_like, round_robin  # noqa: E402

MEMCPY = "memcpy_rgba"


def _app():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def canvas_group(width: int, height: int, rounds: int, budget: float) -> dict[str, float]:
    """Time repaint and recolour for one frame size; return medians in seconds."""
    from viewer.core.render import RenderSettings, render_overlay
    from viewer.core.segmentation import Kind, Segmentation
    from viewer.gui.canvas import CanvasWidget

    class CountingCanvas(CanvasWidget):
        """The real canvas, counting paint events so the benchmark knows it painted."""

        paints = 0

        def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
            super().paintEvent(event)
            self.paints += 1

    app = _app()
    photo = photo_like(height, width)
    canvas = CountingCanvas()
    canvas.resize(width, height)
    canvas.show()
    _wait_exposed(app, canvas)
    canvas.set_image(photo)
    canvas.set_zoom(1.0)
    settings = RenderSettings()
    segs = {
        "u8": Segmentation.from_values(label_map("u8-21", height, width), kind=Kind.SEMANTIC),
        "u16": Segmentation.from_values(label_map("u16-5000", height, width), kind=Kind.INSTANCE),
    }
    src = np.ones((height, width, 4), np.uint8)
    dst = np.empty_like(src)
    alphas = iter(np.tile([0.3, 0.6], 10_000))
    colours = iter(np.random.default_rng(0).integers(0, 256, (100_000, 3)).tolist())

    def recolour(seg: Segmentation) -> None:
        layers = render_overlay(seg, settings, order="bgra", premultiplied=True)
        canvas.set_overlay(layers.fill, layers.outline)

    def relabel(seg: Segmentation) -> None:
        # What a relabel costs the user: the table row changes, the overlay is
        # rendered again and the pixels are repainted.
        seg.table.update(1, color=tuple(next(colours)))
        recolour(seg)
        canvas.repaint()

    recolour(segs["u8"])
    methods = {
        MEMCPY: lambda: np.copyto(dst, src),
        "alpha repaint": lambda: (canvas.set_alpha(next(alphas)), canvas.repaint()),
    }
    for name, seg in segs.items():
        methods[f"recolour {name}"] = lambda seg=seg: recolour(seg)
        methods[f"relabel -> repaint {name}"] = lambda seg=seg: relabel(seg)
    before = canvas.paints
    canvas.repaint()
    if canvas.paints != before + 1:
        raise RuntimeError("the canvas did not paint on repaint(); the timings would be empty")
    timings = round_robin(methods, rounds=rounds, budget=budget)
    canvas.close()
    return dict(timings)


def _wait_exposed(app, widget, seconds: float = 5.0) -> None:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        handle = widget.windowHandle()
        if handle is not None and handle.isExposed():
            return
        time.sleep(0.01)
    raise RuntimeError("the canvas window was never exposed")


def check(size_name: str, t: dict[str, float]) -> list[tuple[str, str, float, float, str]]:
    """(status, what, value, limit, goal) rows for one size."""
    rows = []

    def add(goal: str, what: str, value: float, limit: float) -> None:
        rows.append(("PASS" if value <= limit else "FAIL", goal, what, value, limit))

    memcpy = t[MEMCPY]
    if size_name == "4K":
        add("G1", "4K alpha repaint / memcpy", t["alpha repaint"] / memcpy, 4.5)
        add("G5", "4K recolour u8 / memcpy", t["recolour u8"] / memcpy, 1.5)
        add("G6", "4K recolour u16 / memcpy", t["recolour u16"] / memcpy, 2.5)
        add("G8", "4K relabel -> repaint u8, ms", t["relabel -> repaint u8"] * 1e3, 25)
        add("G8", "4K relabel -> repaint u16, ms", t["relabel -> repaint u16"] * 1e3, 35)
    elif size_name == "1080p":
        add("G2", "1080p alpha repaint / memcpy", t["alpha repaint"] / memcpy, 3.0)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.canvas", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1080p,4k", type=parse_sizes)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--budget", type=float, default=30.0)
    args = parser.parse_args(argv)
    checks = []
    for size in args.sizes:
        t = canvas_group(size.width, size.height, args.rounds, args.budget)
        rows = [(name, f"{sec * 1e3:.3f}", f"{sec / t[MEMCPY]:.2f}") for name, sec in t.items()]
        print(f"\n== canvas {size} ==")
        print(format_table(["method", "median ms", "x memcpy_rgba"], rows))
        checks += check(size.name, t)
    if checks:
        print("\n== targets (PERFORMANCE.md) ==")
        print(format_table(["", "goal", "check", "measured", "limit"],
                           [(s, g, w, f"{v:.2f}", f"{lim:g}") for s, g, w, v, lim in checks]))
    print("\ntargets are reported, not enforced (exit status 0).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
