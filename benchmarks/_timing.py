"""Reusable benchmark helpers: a round-robin timer, frame sizes and test data.

The timer follows ``PERFORMANCE.md`` ("How the numbers were taken"): every
method of a group runs once per round, in a fixed order, so drift on a shared,
noisy machine hits all methods alike; the result is the median over rounds.
Ratios should only ever be formed between medians of one group.

The data helpers build the ``PERFORMANCE.md`` "Test data": spatially coherent
blob label maps (a coarse random grid of ids upscaled with nearest neighbour,
about 35 % background 0), a photo-like RGB image and random colour tables.
Everything is deterministic for a given seed.
"""

from __future__ import annotations

import gc
import os
import platform
import re
import statistics
import sys
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = [
    "LABEL_MAPS", "NAMED_SIZES", "LabelMapSpec", "Size", "Timings", "blob_labels",
    "cache_evictor", "environment", "format_table", "label_map", "parse_size",
    "parse_sizes", "photo_like", "random_rgba_table", "round_robin",
]

# --------------------------------------------------------------------------- timer


class Timings(dict):
    """Median seconds per method name (a plain dict), plus the raw samples.

    Attributes
    ----------
    samples : dict of str -> list of float
        Seconds of every timed call, per method, in round order.
    rounds : int
        Rounds completed.
    elapsed : float
        Seconds spent in the timed rounds (warm-up excluded).
    """

    def __init__(self, medians: Mapping[str, float], samples: Mapping[str, list[float]],
                 rounds: int, elapsed: float):
        super().__init__(medians)
        self.samples = dict(samples)
        self.rounds = rounds
        self.elapsed = elapsed

    def spread(self, name: str) -> tuple[float, float]:
        """Return the (min, max) seconds of one method over the rounds."""
        values = self.samples[name]
        return min(values), max(values)


def round_robin(methods: Mapping[str, Callable[[], object]], *, rounds: int = 15,
                budget: float | None = None, min_rounds: int = 3, warmup: bool = True,
                before_each: Callable[[], object] | None = None,
                progress: Callable[[int, float], None] | None = None) -> Timings:
    """Time zero-argument callables round-robin and return their medians.

    Parameters
    ----------
    methods : mapping of str -> callable
        The group; called in the mapping's order.
    rounds : int
        Maximum number of rounds (each calls every method once).
    budget : float, optional
        Seconds; after a round that ends past this budget (counted from the
        first timed round, warm-up excluded) no further round starts, but
        never before ``min_rounds`` rounds.
    min_rounds : int
        Rounds always run (capped at ``rounds``) whatever the budget.
    warmup : bool
        Call every method once, untimed, before the first round.
    before_each : callable, optional
        Called, untimed, before every timed call (e.g. a
        :func:`cache_evictor`, so that no method profits from the data the
        previous one left in the caches).
    progress : callable, optional
        Called as ``progress(rounds_done, elapsed_seconds)`` after each round.

    Returns
    -------
    Timings
        ``{name: median seconds}`` with ``samples``, ``rounds``, ``elapsed``.
    """
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    names = list(methods)
    if warmup:
        for name in names:
            methods[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    clock = time.perf_counter
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()  # no collector pause lands inside one method's sample
    try:
        start = clock()
        done = 0
        while done < rounds:
            for name in names:
                fn = methods[name]
                if before_each is not None:
                    before_each()
                t0 = clock()
                fn()
                samples[name].append(clock() - t0)
            done += 1
            elapsed = clock() - start
            if progress is not None:
                progress(done, elapsed)
            if budget is not None and elapsed >= budget and done >= min_rounds:
                break
    finally:
        if gc_was_enabled:
            gc.enable()
    medians = {name: statistics.median(values) for name, values in samples.items()}
    return Timings(medians, samples, done, clock() - start)


def cache_evictor(nbytes: int = 96 << 20) -> Callable[[], None]:
    """Return a callable that streams through ``nbytes`` of private memory.

    Called between timed calls it pushes the previous method's data out of
    the CPU caches (choose ``nbytes`` a few times the last-level cache), so
    every method starts cold, as a call after unrelated work does in an app.
    """
    buffer = np.ones(max(1, nbytes // 8), np.int64)

    def evict() -> None:
        np.add(buffer, 1, out=buffer)

    return evict


# --------------------------------------------------------------------------- sizes


@dataclass(frozen=True)
class Size:
    """A frame size and how to call it."""

    width: int
    height: int
    name: str

    @property
    def pixels(self) -> int:
        return self.width * self.height

    def __str__(self) -> str:
        wxh = f"{self.width}x{self.height}"
        return self.name if self.name == wxh else f"{self.name} ({wxh})"


NAMED_SIZES = {
    "720p": (1280, 720),
    "1080p": (1920, 1080),
    "4k": (3840, 2160),
    "2160p": (3840, 2160),
}
_CANONICAL = {"4k": "4K", "2160p": "4K"}


def parse_size(token: str) -> Size:
    """Parse ``720p``, ``1080p``, ``4k`` / ``2160p`` or ``WxH`` (e.g. ``64x48``)."""
    key = token.strip().lower()
    if key in NAMED_SIZES:
        width, height = NAMED_SIZES[key]
        return Size(width, height, _CANONICAL.get(key, key))
    match = re.fullmatch(r"(\d+)\s*[x*]\s*(\d+)", key)
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise ValueError(f"size must be 720p, 1080p, 4k or WxH, got {token!r}")
    width, height = int(match[1]), int(match[2])
    return Size(width, height, f"{width}x{height}")


def parse_sizes(text: str) -> list[Size]:
    """Parse a comma-separated list of size tokens."""
    return [parse_size(t) for t in text.split(",") if t.strip()]


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class LabelMapSpec:
    """A named kind of label map: dtype and number of ids (0 = background)."""

    name: str
    dtype: type
    ids: int  # ids 0 .. ids-1


LABEL_MAPS = {
    spec.name: spec
    for spec in (
        LabelMapSpec("u8-21", np.uint8, 21),  # semantic, e.g. PASCAL VOC
        LabelMapSpec("u8-150", np.uint8, 150),  # semantic, e.g. ADE20K
        # uint16 with few ids: the same code path as u16-5000, for G11
        LabelMapSpec("u16-21", np.uint16, 21),
        LabelMapSpec("u16-5000", np.uint16, 5000),  # instances: every id 1..4999
    )
}


def _seed(*parts: object) -> int:
    """A stable seed from any parts (``hash()`` of str is salted per process)."""
    return zlib.crc32(repr(parts).encode())


def blob_labels(height: int, width: int, ids: int, dtype=np.uint8, *, seed: int = 0,
                background: float = 0.35, min_cells: int = 600) -> np.ndarray:
    """Return a spatially coherent blob label map.

    A coarse grid of random ids is upscaled to ``(height, width)`` with
    nearest neighbour. A ``background`` fraction of the grid cells is 0. The
    grid has enough cells that every id ``1 .. ids-1`` occurs at least once
    (and at least ``min_cells`` cells); when the frame has fewer pixels than
    that, the grid is the frame itself and not every id can occur.

    Parameters
    ----------
    height, width : int
    ids : int
        Ids ``0 .. ids-1``; 0 is the background.
    dtype : numpy dtype
        uint8 or uint16 (what ``cv2.resize`` keeps as is).
    seed : int
    background : float
        Fraction of cells (so, roughly, of pixels) that are 0.
    min_cells : int
        Lower bound on the number of grid cells (blob size for few ids).

    Returns
    -------
    ndarray of shape (height, width), ``dtype``
    """
    dtype = np.dtype(dtype)
    if ids > np.iinfo(dtype).max + 1:
        raise ValueError(f"{ids} ids do not fit {dtype}")
    rng = np.random.default_rng(seed)
    foreground = max(ids - 1, 0)
    # 1.25: slack so the grid is not exactly the number of ids.
    needed = foreground / max(1e-9, 1.0 - background)
    wanted = max(min_cells, int(np.ceil(needed * 1.25)))
    grid_w = int(np.clip(round(np.sqrt(wanted * width / height)), 1, width))
    grid_h = int(np.clip(int(np.ceil(wanted / grid_w)), 1, height))
    cells = grid_w * grid_h
    n_bg = min(cells, round(background * cells)) if foreground else cells
    n_fg = cells - n_bg
    if foreground:
        first = rng.permutation(np.arange(1, ids))[:n_fg]  # every id once, if room
        rest = rng.integers(1, ids, size=n_fg - first.size)
        values = np.concatenate([np.zeros(n_bg, np.int64), first, rest])
    else:
        values = np.zeros(cells, np.int64)
    grid = rng.permutation(values).astype(dtype).reshape(grid_h, grid_w)
    return cv2.resize(grid, (width, height), interpolation=cv2.INTER_NEAREST)


def label_map(name: str, height: int, width: int, *, seed: int = 0) -> np.ndarray:
    """Return the named test map (``u8-21``, ``u8-150``, ``u16-21``, ``u16-5000``) at a size."""
    spec = LABEL_MAPS[name]
    return blob_labels(height, width, spec.ids, spec.dtype,
                       seed=_seed("labels", name, height, width, seed))


def random_rgba_table(n: int, *, seed: int = 0, alpha: int = 255,
                      transparent_background: bool = True) -> np.ndarray:
    """Return an ``(n, 4)`` uint8 RGBA table of random colours.

    Entry 0 is all zero (transparent) when ``transparent_background``.
    """
    rng = np.random.default_rng(_seed("rgba", n, seed))
    table = np.empty((n, 4), np.uint8)
    table[:, :3] = rng.integers(0, 256, size=(n, 3), dtype=np.uint8)
    table[:, 3] = alpha
    if transparent_background and n:
        table[0] = 0
    return table


def photo_like(height: int, width: int, *, seed: int = 0, noise: int = 8) -> np.ndarray:
    """Return an RGB uint8 image with smooth structure plus sensor-like noise.

    Smooth colour gradients (a coarse random grid upscaled bicubically) with
    uniform noise of +-``noise`` on top: content that neither compresses to
    nothing nor is pure white noise.
    """
    rng = np.random.default_rng(_seed("photo", height, width, seed))
    coarse = rng.integers(0, 256, size=(max(2, height // 120), max(2, width // 120), 3),
                          dtype=np.uint8)
    image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    if noise:
        jitter = rng.integers(-noise, noise + 1, size=image.shape, dtype=np.int16)
        image = np.clip(image.astype(np.int16) + jitter, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image)


# --------------------------------------------------------------------------- report


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment() -> dict[str, object]:
    """Versions and machine facts worth printing next to any number."""
    return {
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "cv2_threads": cv2.getNumThreads(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "executable": sys.executable,
    }


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]],
                 align: str | None = None) -> str:
    """Format rows as a plain-text table; ``align`` is one of ``<>`` per column."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    align = align or "<" + ">" * (len(headers) - 1)

    def line(row: Sequence[str]) -> str:
        parts = zip(row, align, widths, strict=True)
        return "  ".join(f"{c:{a}{w}}" for c, a, w in parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])
