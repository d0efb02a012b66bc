"""Benchmark the render path: colorize (label map -> RGBA) and the export blend.

Run from the repository root::

    .venv/bin/python -m benchmarks.render [--sizes 1080p,4k] [--rounds 15]
                                          [--budget 30] [--json results.json]

Every number is the median over round-robin rounds (``benchmarks._timing``)
and every ratio divides two medians of the same group: ``x memcpy`` is the
method over ``np.copyto`` of a buffer of the same output bytes (RGBA for
colorize, RGB for blend). Outputs are checked against references before any
timing; a mismatch exits with status 1. Targets (G9-G12 of ``PERFORMANCE.md``)
are reported PASS/FAIL but do not change the exit status.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/render.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks._timing import (  # noqa: E402
    LABEL_MAPS,
    Size,
    Timings,
    cache_evictor,
    environment,
    format_table,
    label_map,
    parse_sizes,
    photo_like,
    random_rgba_table,
    round_robin,
)
from viewer.core.render.blend import blend, blend_reference, blend_rgba  # noqa: E402
from viewer.core.render.colorize import colorize, colorize_reference  # noqa: E402
from viewer.core.render.lut import pack  # noqa: E402

MAPS = ("u8-21", "u8-150", "u16-21", "u16-5000")
# The per-class loop over 5000 ids takes about a minute per 4K frame: time only
# this many classes and extrapolate linearly (as PERFORMANCE.md did).
NAIVE_MAX_CLASSES = 200
ALPHA = 0.5
BLEND_TOLERANCE = 1  # +-1 against a float reference rounded half up

MEMCPY_RGBA = "memcpy_rgba"
MEMCPY_RGB = "memcpy_rgb"
BLEND_FULL = "blend full frame"
BLEND_MASKED = "blend masked"
BLEND_RGBA = "blend_rgba export path"

Method = Callable[[], object]
Log = Callable[[str], None]


class CorrectnessError(AssertionError):
    """A method gave a wrong result: its timing would be meaningless."""


def colorize_name(map_name: str, threads: int | None = None) -> str:
    """Method name of colorize with default threads (None) or one thread."""
    kind = "colorize" if threads is None else "colorize 1 thread"
    return f"{kind} [{map_name}]"


def naive_name(map_name: str) -> str:
    return f"naive per-class loop [{map_name}]"


def lut_table(ids: int) -> np.ndarray:
    """Random RGBA table for ids 0..ids-1 (0 transparent) plus one transparent
    entry at the end, as ``build_lut`` makes it."""
    return np.concatenate([random_rgba_table(ids), np.zeros((1, 4), np.uint8)])


# --------------------------------------------------------------------------- checks


def naive_loop(labels: np.ndarray, colors: np.ndarray, out: np.ndarray,
               classes: int) -> None:
    """The anti-pattern: one full-frame compare and masked store per class."""
    for k in range(classes):
        out[labels == k] = colors[k]


def _check_colorize(name: str, labels: np.ndarray, lut: np.ndarray,
                    table: np.ndarray, out: np.ndarray) -> None:
    expected = colorize_reference(labels, lut)
    # The reference itself against the plain RGBA-table gather.
    if not np.array_equal(expected, table[np.minimum(labels, len(table) - 1)]):
        raise CorrectnessError(f"{name}: colorize_reference != table[labels]")
    for threads in (None, 1):
        out.fill(0xAB)
        result = colorize(labels, lut, out=out, threads=threads)
        if result is not out:
            raise CorrectnessError(f"{name}: colorize(out=...) returned another array")
        if not np.array_equal(out, expected):
            bad = np.argwhere((out != expected).any(axis=-1))
            raise CorrectnessError(
                f"{name}: colorize(threads={threads}) differs from "
                f"colorize_reference at {len(bad)} pixels, first (row, col) "
                f"{tuple(int(i) for i in bad[0])}")


def _check_naive(name: str, labels: np.ndarray, table: np.ndarray,
                 classes: int) -> None:
    """Check the per-class loop on a strip of rows (the full frame is slow)."""
    strip = labels[: min(16, labels.shape[0])]
    out = np.zeros((*strip.shape, 4), np.uint8)
    naive_loop(strip, table, out, classes)
    expected = table[strip]
    expected[strip >= classes] = 0
    if not np.array_equal(out, expected):
        raise CorrectnessError(f"{name}: the naive per-class loop is wrong")


def _check_blend(name: str, image: np.ndarray, overlay: np.ndarray,
                 overlay_rgba: np.ndarray, mask: np.ndarray, out_full: np.ndarray,
                 out_masked: np.ndarray) -> None:
    ref = np.floor(image * (1.0 - ALPHA) + overlay * float(ALPHA) + 0.5)
    inside = mask.astype(bool)[..., None]
    ref_masked = np.where(inside, ref, image)

    def worst(got: np.ndarray, want: np.ndarray) -> float:
        return float(np.abs(got.astype(np.float64) - want).max(initial=0.0))

    def fail(what: str, err: float) -> CorrectnessError:
        return CorrectnessError(f"{name}: {what} is off by {err} > {BLEND_TOLERANCE}")

    result = blend(image, overlay, ALPHA, out=out_full)
    if result is not out_full or worst(out_full, ref) > BLEND_TOLERANCE:
        raise fail("blend (full frame)", worst(result, ref))
    result = blend(image, overlay, ALPHA, mask=mask, out=out_masked)
    if result is not out_masked or worst(result, ref_masked) > BLEND_TOLERANCE:
        raise fail("blend (masked)", worst(result, ref_masked))
    if not np.array_equal(np.where(inside, 0, out_masked), np.where(inside, 0, image)):
        raise CorrectnessError(f"{name}: blend (masked) changed pixels outside mask")
    err = worst(blend_rgba(image, overlay_rgba, ALPHA),
                blend_reference(image, overlay_rgba, ALPHA))
    if err > BLEND_TOLERANCE:
        raise fail("blend_rgba", err)


# --------------------------------------------------------------------------- groups


def colorize_group(size: Size, rounds: int, budget: float | None, log: Log,
                   before_each: Method | None = None) -> dict:
    """One round-robin group: memcpy, colorize (default / 1 thread) and the
    naive loop for every map, at one size."""
    height, width = size.height, size.width
    src = np.random.default_rng(1).integers(0, 256, (height, width, 4), np.uint8)
    dst = np.empty_like(src)
    methods: dict[str, Method] = {MEMCPY_RGBA: lambda: np.copyto(dst, src)}
    maps: dict[str, dict] = {}
    for map_name in MAPS:
        spec = LABEL_MAPS[map_name]
        labels = label_map(map_name, height, width)
        table = lut_table(spec.ids)
        lut = pack(table)
        out = np.empty((height, width, 4), np.uint8)
        out_naive = np.zeros((height, width, 4), np.uint8)
        classes = min(spec.ids, NAIVE_MAX_CLASSES)
        _check_colorize(f"{size} {map_name}", labels, lut, table, out)
        _check_naive(f"{size} {map_name}", labels, table, classes)
        maps[map_name] = {
            "dtype": str(labels.dtype),
            "ids": spec.ids,
            "ids_present": int(np.unique(labels).size),
            "background_fraction": float(np.count_nonzero(labels == 0) / labels.size),
            "naive_classes_timed": classes,
            "naive_extrapolation": spec.ids / classes,
        }
        methods[colorize_name(map_name)] = (
            lambda labels=labels, lut=lut, out=out: colorize(labels, lut, out=out))
        methods[colorize_name(map_name, 1)] = (
            lambda labels=labels, lut=lut, out=out:
            colorize(labels, lut, out=out, threads=1))
        methods[naive_name(map_name)] = (
            lambda labels=labels, table=table, out=out_naive, classes=classes:
            naive_loop(labels, table, out, classes))
    log(f"[{size}] colorize group: {len(methods)} methods verified; timing ...")
    timings = round_robin(methods, rounds=rounds, budget=budget,
                          before_each=before_each)
    log(f"[{size}] colorize group: {timings.rounds} rounds in {timings.elapsed:.1f} s")
    return {"timings": timings, "maps": maps}


def blend_group(size: Size, rounds: int, budget: float | None, log: Log,
                before_each: Method | None = None) -> dict:
    """One round-robin group: memcpy of RGB, blend without / with a mask and
    the RGBA export path, at one size."""
    height, width = size.height, size.width
    image = photo_like(height, width)
    labels = label_map("u8-21", height, width)
    overlay_rgba = colorize(labels, pack(lut_table(21)))  # alpha 0 on background
    overlay = np.ascontiguousarray(cv2.cvtColor(overlay_rgba, cv2.COLOR_RGBA2RGB))
    mask = cv2.compare(labels, 0, cv2.CMP_NE)  # uint8 0 / 255
    out_full = np.empty_like(image)
    out_masked = image.copy()  # outside the mask the photo stays
    src = np.random.default_rng(2).integers(0, 256, image.shape, np.uint8)
    dst = np.empty_like(src)
    _check_blend(str(size), image, overlay, overlay_rgba, mask, out_full, out_masked)
    methods: dict[str, Method] = {
        MEMCPY_RGB: lambda: np.copyto(dst, src),
        BLEND_FULL: lambda: blend(image, overlay, ALPHA, out=out_full),
        BLEND_MASKED: lambda: blend(image, overlay, ALPHA, mask=mask, out=out_masked),
        BLEND_RGBA: lambda: blend_rgba(image, overlay_rgba, ALPHA),
    }
    log(f"[{size}] blend group: {len(methods)} methods verified; timing ...")
    timings = round_robin(methods, rounds=rounds, budget=budget,
                          before_each=before_each)
    log(f"[{size}] blend group: {timings.rounds} rounds in {timings.elapsed:.1f} s")
    return {"timings": timings,
            "mask_fraction": float(np.count_nonzero(mask) / mask.size)}


# --------------------------------------------------------------------------- report


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    digits = 3 if ms < 1 else 2 if ms < 100 else 1 if ms < 1000 else 0
    return f"{ms:.{digits}f}"


def _range(timings: Timings, name: str, factor: float = 1.0) -> str:
    lo, hi = timings.spread(name)
    return f"{_ms(lo * factor)}-{_ms(hi * factor)}"


def colorize_report(size: Size, group: dict) -> tuple[str, dict]:
    """Return the printed table and a JSON-ready summary of a colorize group."""
    t: Timings = group["timings"]
    base = t[MEMCPY_RGBA]
    rows = [[MEMCPY_RGBA, "", _ms(base), _range(t, MEMCPY_RGBA), "1.00", "",
             "baseline (H*W*4 bytes)"]]
    summary: dict[str, dict] = {MEMCPY_RGBA: {"median_s": base, "x_memcpy": 1.0}}
    notes = []
    for map_name in MAPS:
        info = group["maps"][map_name]
        factor = info["naive_extrapolation"]
        naive = t[naive_name(map_name)] * factor
        for name in (colorize_name(map_name), colorize_name(map_name, 1)):
            rows.append([name.split(" [")[0], map_name, _ms(t[name]), _range(t, name),
                         f"{t[name] / base:.2f}", f"{naive / t[name]:,.0f}x", ""])
            summary[name] = {"median_s": t[name], "x_memcpy": t[name] / base,
                             "speedup_vs_naive": naive / t[name]}
        name = naive_name(map_name)
        extrapolated = factor != 1.0
        if extrapolated:
            notes.append(
                f"* {map_name}: the naive loop is EXTRAPOLATED linearly (x{factor:g}) "
                f"from the first {info['naive_classes_timed']} of {info['ids']} "
                f"classes, measured {_ms(t[name])} ms for those.")
        rows.append(["naive per-class loop" + "*" * extrapolated, map_name, _ms(naive),
                     _range(t, name, factor), f"{naive / base:.1f}", "1x",
                     f"EXTRAPOLATED x{factor:g}" if extrapolated else ""])
        summary[name] = {"median_s": naive, "x_memcpy": naive / base,
                         "extrapolated": extrapolated, "extrapolation_factor": factor,
                         "measured_median_s": t[name]}
    facts = "; ".join(f"{m}: {group['maps'][m]['ids_present']} ids present, "
                      f"{group['maps'][m]['background_fraction']:.0%} background"
                      for m in MAPS)
    headers = ["method", "map", "median ms", "range ms", "x memcpy_rgba",
               "naive/ours", "note"]
    text = "\n".join([
        f"== colorize {size}: label map -> RGBA, preallocated out; "
        f"{t.rounds} rounds, {t.elapsed:.1f} s ==",
        f"   ({facts})",
        format_table(headers, rows, "<<>>>><"),
        *notes,
    ])
    return text, summary


def blend_report(size: Size, group: dict) -> tuple[str, dict]:
    """Return the printed table and a JSON-ready summary of a blend group."""
    t: Timings = group["timings"]
    base = t[MEMCPY_RGB]
    rows, summary = [], {}
    notes = {
        MEMCPY_RGB: "baseline (H*W*3 bytes)",
        BLEND_FULL: "cv2.addWeighted, preallocated out",
        BLEND_MASKED: f"+ cv2.copyTo under mask = labels != 0 "
                      f"({group['mask_fraction']:.0%} of pixels), preallocated out",
        BLEND_RGBA: "informational: from RGBA, one masked blend per alpha level",
    }
    for name in (MEMCPY_RGB, BLEND_FULL, BLEND_MASKED, BLEND_RGBA):
        rows.append([name, _ms(t[name]), _range(t, name), f"{t[name] / base:.2f}",
                     notes[name]])
        summary[name] = {"median_s": t[name], "x_memcpy": t[name] / base}
    text = "\n".join([
        f"== blend {size}: RGB, alpha {ALPHA}; {t.rounds} rounds, "
        f"{t.elapsed:.1f} s ==",
        format_table(["method", "median ms", "range ms", "x memcpy_rgb", "note"],
                     rows, "<>>><"),
    ])
    return text, summary


def check_targets(results: dict[str, dict]) -> list[dict]:
    """Evaluate G9-G12 on ratios of medians (the form PERFORMANCE.md gives CI)."""
    checks: list[dict] = []

    def add(goal: str, what: str, value: float | None, limit: float,
            detail: str) -> None:
        status = "SKIP" if value is None else "PASS" if value <= limit else "FAIL"
        checks.append({"goal": goal, "what": what, "value": value, "limit": limit,
                       "status": status, "detail": detail})

    def group(size_name: str, kind: str) -> Timings | None:
        entry = results.get(size_name)
        return None if entry is None else entry[kind]["timings"]

    u16 = colorize_name("u16-5000")
    for goal, size_name, limit, abs_ms in (("G9", "1080p", 2.5, 3),
                                           ("G10", "4K", 3.0, 15)):
        t = group(size_name, "colorize")
        what = f"{size_name} u16-5000 colorize <= {limit:g}x memcpy_rgba"
        if t is None:
            add(goal, what, None, limit, f"{size_name} not run")
        else:
            add(goal, what, t[u16] / t[MEMCPY_RGBA], limit,
                f"{_ms(t[u16])} ms vs memcpy {_ms(t[MEMCPY_RGBA])} ms "
                f"(absolute goal <= {abs_ms} ms, informational)")
    # G11 asks for O(pixels): compare many ids with few ids on the same code
    # path (uint8 maps go through cv2.LUT, uint16 maps through the gather).
    for size_name in results:
        t = group(size_name, "colorize")
        for many, few in (("u16-5000", "u16-21"), ("u8-150", "u8-21")):
            a, b = colorize_name(many), colorize_name(few)
            add("G11", f"{size_name} {many} colorize <= 1.5x {few} colorize",
                t[a] / t[b], 1.5, f"{_ms(t[a])} ms vs {_ms(t[b])} ms")
    t = group("4K", "blend")
    for name, limit, abs_ms in ((BLEND_FULL, 2.5, 10), (BLEND_MASKED, 5.0, 20)):
        what = f"4K {name} <= {limit:g}x memcpy_rgb"
        if t is None:
            add("G12", what, None, limit, "4K not run")
        else:
            add("G12", what, t[name] / t[MEMCPY_RGB], limit,
                f"{_ms(t[name])} ms vs memcpy {_ms(t[MEMCPY_RGB])} ms "
                f"(absolute goal <= {abs_ms} ms, informational)")
    return checks


def targets_report(checks: list[dict]) -> str:
    rows = [[c["status"], c["goal"], c["what"],
             "-" if c["value"] is None else f"{c['value']:.2f}x", c["detail"]]
            for c in checks]
    return ("== targets (PERFORMANCE.md G9-G12; ratios of medians of one group) ==\n"
            + format_table(["", "goal", "check", "measured", "detail"], rows, "<<<><"))


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.render",
        description="Benchmark colorize and the export blend against memcpy and "
                    "the naive per-class loop; report PERFORMANCE.md goals G9-G12.")
    parser.add_argument("--sizes", default="1080p,4k",
                        help="comma-separated 720p, 1080p, 4k or WxH "
                             "(default: 1080p,4k)")
    parser.add_argument("--rounds", type=int, default=15,
                        help="maximum round-robin rounds per group (default: 15)")
    parser.add_argument("--budget", type=float, default=30.0,
                        help="seconds per group after which no new round starts; "
                             "at least 3 rounds always run (default: 30)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH",
                        help="also write the results as JSON")
    parser.add_argument("--cold", action="store_true",
                        help="evict the CPU caches (stream 96 MiB) before every "
                             "timed call, so no method inherits warm data")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress lines on stderr")
    args = parser.parse_args(argv)
    try:
        args.sizes = parse_sizes(args.sizes)
    except ValueError as exc:
        parser.error(str(exc))
    if not args.sizes:
        parser.error("--sizes is empty")
    if args.rounds < 1:
        parser.error("--rounds must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return 0, or 1 when a correctness check failed."""
    args = parse_args(argv)
    started = time.perf_counter()
    env = environment()

    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    print(f"render benchmark on {env['cpu']}, {env['cpu_count']} CPUs: "
          f"python {env['python']}, numpy {env['numpy']}, opencv {env['opencv']} "
          f"({env['cv2_threads']} threads); <= {args.rounds} rounds, "
          f"budget {args.budget:g} s per group"
          + ("; caches evicted before every call (--cold)" if args.cold else ""))
    results: dict[str, dict] = {}
    sizes_report: dict[str, dict] = {}
    report: dict[str, object] = {"environment": env, "rounds": args.rounds,
                                 "budget_s": args.budget, "cold": args.cold,
                                 "sizes": sizes_report}
    evict = cache_evictor() if args.cold else None
    try:
        for size in args.sizes:
            colorized = colorize_group(size, args.rounds, args.budget, log, evict)
            blended = blend_group(size, args.rounds, args.budget, log, evict)
            results[size.name] = {"colorize": colorized, "blend": blended}
            text_c, summary_c = colorize_report(size, colorized)
            text_b, summary_b = blend_report(size, blended)
            print(f"\n{text_c}\n\n{text_b}", flush=True)
            sizes_report[size.name] = {
                "width": size.width, "height": size.height,
                "colorize": {"rounds": colorized["timings"].rounds,
                             "maps": colorized["maps"], "methods": summary_c,
                             "samples_s": colorized["timings"].samples},
                "blend": {"rounds": blended["timings"].rounds,
                          "mask_fraction": blended["mask_fraction"],
                          "methods": summary_b,
                          "samples_s": blended["timings"].samples},
            }
    except CorrectnessError as exc:
        print(f"\nCORRECTNESS CHECK FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    checks = check_targets(results)
    report["targets"] = checks
    report["total_s"] = time.perf_counter() - started
    print(f"\n{targets_report(checks)}")
    print(f"\ntotal {report['total_s']:.0f} s; targets are reported, not enforced "
          f"(exit status 0).")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
