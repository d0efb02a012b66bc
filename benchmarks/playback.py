"""Video playback in the real window with precomputed masks: decode + colourize + repaint, as fps.

Run from the repository root::

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.playback \
        [--sizes 1080p,4k] [--frames 120,60] [--rounds 3] [--masks u8-21]

What issue 6 asks for: playback with precomputed masks, no inference, at
1080p and from a 4K source, both in a ~1920x1080 view, reported as frames
per second next to the raw decode speed measured in the same run.

The clips are made as ``benchmarks.video`` makes them (its ``make_clip``: a
textured, panning scene with fresh noise per frame, libx264 at 8 Mbit/s for
1080p, scaled by pixels to 35 Mbit/s at 4K, 25 fps). The masks are
``benchmarks._timing`` blob maps (``--masks``: ``u8-21``, a semantic model's
21 classes, the default; ``u16-5000``, 5,000 instances), eight of them cycled
over the frames, and they reach the app the way a segmented video's masks do
on replay: every frame's map is put into the session's
:class:`~viewer.core.video.frame_store.FrameStore` with ``put_prediction``
(zlib-packed, unpacked by the worker per frame), as "Segment the whole video"
leaves them, then ``masks_changed`` is emitted as that run does. A folder of
mask PNGs is not used: decoding a 1080p PNG per frame would time the PNG
reader, and "precomputed" means the masks are ready.

Each round times, one after the other (round-robin, so drift on the shared
machine hits both alike); the figures are medians over the rounds:

- decode (the baseline): one sequential pass ``reader.frame(i)`` over the
  clip with a :class:`~viewer.core.video.pyav_reader.VideoReader` of its own
  (cache off), decode + YUV -> RGB, as ``benchmarks.video``'s "decode".
- playback: the real :class:`~viewer.gui.main_window.MainWindow`, shown on
  the offscreen platform and resized so that the canvas widget itself is the
  view size (1920x1080 by default, printed), the video opened through
  ``window.video.open`` and shown at "fit" zoom as the app opens it. The
  player's ``drop_frames`` is set False, so it shows every frame as fast as
  it can instead of keeping the clip's 25 fps clock. Settled on the last
  frame, Play starts at frame 0; Loop is on, so after the last frame the
  player simply asks for frame 0 as it asks for any next frame (no stop and
  no settle inside the timed span), and the pass pauses once the last frame
  is painted. The main thread waits in a ``QEventLoop``, as the app's loop
  does. Wall time runs from Play to the end of the paint of the last frame;
  fps = frames painted / wall time.

How paints are counted: the canvas's ``paintEvent`` is wrapped on the
instance (the app's own paint runs unchanged inside); a paint counts when it
covers the whole canvas and the frame on the canvas (the index of the last
``frame_shown``) differs from the one painted before. Nothing forces a
paint: the app's own ``update()`` path is kept, so a frame shown before Qt
got to paint the previous one would be coalesced with it; the benchmark
reports how many were and counts only what was painted. The reader's frame
cache is emptied before every pass, so no pass shows frames an earlier one
decoded. The garbage collector is off during the timed rounds, as in
``benchmarks._timing.round_robin``.

Where the time goes, per frame, medians over every frame of the timed
passes (wrappers on the instances, see :class:`PaintProbe`): the worker's
``made_ms`` and, inside it, ``reader.frame`` (decode); ``store.mask_for`` on
the worker's mask thread (it reads one frame ahead); on the GUI thread what
happens when a frame arrives (``canvas.set_image`` and the rest of
``_on_shown``), the canvas ``paintEvent`` and the "Over time" dock's plots'
``paintEvent`` (their playhead moves every frame); the interval between two
paints; and the CPU time of the GUI thread and of the whole process. Then
the same parts timed alone with the window idle (``round_robin``, for
scale): ``store.mask_for`` split into zlib and the ``Segmentation``
constructor, ``render_overlay``, ``base_image`` and ``canvas.repaint()``.

Targets (``PERFORMANCE.md`` §3 and issue 6), reported PASS/FAIL, never the
exit status: G14 1080p playback >= 30 fps; G15 a 4K source in a <= 1080p
view >= 24 fps. Exit status 1 only when a correctness check fails: every
frame must be shown, in order (``frame_shown`` 0..N-1), the last frame
painted must be the clip's last, its photo on the canvas must equal the
decoded frame, and its overlay buffers must equal a direct ``render_overlay``
of its mask.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/playback.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import av  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks._timing import (  # noqa: E402
    Size,
    Timings,
    environment,
    format_table,
    label_map,
    parse_size,
    parse_sizes,
    round_robin,
)
from benchmarks.video import FPS, make_clip  # noqa: E402
from viewer.core.segmentation import Kind, Segmentation  # noqa: E402
from viewer.core.video.pyav_reader import VideoReader  # noqa: E402

DECODE = "decode"
PLAYBACK = "playback"
MASKS = 8
KINDS = {"u8-21": Kind.SEMANTIC, "u16-5000": Kind.INSTANCE}
TARGETS = {"1080p": ("G14", 30.0), "4K": ("G15", 24.0)}
TIMEOUT_S = 120.0  # one wait (open, settle, one playback pass) longer than this is a failure


class BenchmarkError(RuntimeError):
    """The window did not get where it should (a hang, a frame never shown)."""


# --------------------------------------------------------------------------- the window


def _app():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = TIMEOUT_S) -> None:
    """Run the event loop until ``predicate()`` holds (polled every 5 ms, sleeping between)."""
    from PySide6.QtCore import QEventLoop, QTimer

    if predicate():
        return
    loop, timer = QEventLoop(), QTimer()
    deadline = time.perf_counter() + timeout

    def poll() -> None:
        if predicate() or time.perf_counter() > deadline:
            loop.quit()

    timer.timeout.connect(poll)
    timer.start(5)
    loop.exec()
    timer.stop()
    if not predicate():
        raise BenchmarkError(f"timed out after {timeout:g} s waiting for {what}")


def fit_canvas(win, width: int, height: int) -> tuple[int, int]:
    """Resize the window until its canvas widget is ``width`` x ``height``; the size reached."""
    app = _app()
    for _ in range(6):
        app.processEvents()
        dw, dh = width - win.canvas.width(), height - win.canvas.height()
        if not dw and not dh:
            break
        win.resize(win.width() + dw, win.height() + dh)
    app.processEvents()
    return win.canvas.width(), win.canvas.height()


class PaintProbe:
    """Counts the canvas paints of distinct frames and times the parts of a frame.

    Wraps, on the instances only (the app's code runs unchanged inside):
    ``canvas.paintEvent`` and ``canvas.set_image`` on the GUI thread, the
    player's ``_display`` (everything the GUI thread does when a frame
    arrives, up to the paint), the session's ``reader.frame`` (decode, on
    the worker thread) and ``store.mask_for`` (unpack the mask, on the
    worker's mask thread, one frame ahead), and the "Over time" dock's two
    plots' ``paintEvent``. The worker's own ``made_ms`` comes from the
    player's ``shown`` signal.
    """

    GUI = ("display", "set_image", "paint", "plots")
    WORKER = ("made", "decode", "mask")

    def __init__(self, win):
        from PySide6.QtCore import QEventLoop

        self.win, self.canvas = win, win.canvas
        self.loop = QEventLoop()
        self.recording = False
        self.target: int | None = None  # quit the loop once this frame is painted
        self.total_shown, self.current_any = 0, None  # every frame_shown, recording or not
        self.reset()
        canvas = self.canvas
        paint = canvas.paintEvent

        def counting_paint(event) -> None:
            t0 = time.perf_counter()
            paint(event)
            t1 = time.perf_counter()
            if not self.recording or self.current is None:
                return
            whole = event.rect().contains(canvas.rect())
            if whole and (not self.painted or self.painted[-1] != self.current):
                self.painted.append(self.current)
                self.paint_times.append(t1)
                self.gui["paint"].append(t1 - t0)
                self.last_paint = t1
                if self.current == self.target:
                    self.capture = {"base": canvas._base, "scale": canvas.scale(),
                                    "layers": [buf.copy() for _, buf, _ in canvas._layers]}
                    self.loop.quit()

        canvas.paintEvent = counting_paint
        canvas.set_image = self._timed(canvas.set_image, "set_image")
        # The "Over time" dock's plots repaint when their playhead marker moves.
        panel = getattr(win, "temporal_panel", None)
        for plot in (getattr(panel, "area_plot", None), getattr(panel, "iou_plot", None)):
            if plot is not None:
                plot.paintEvent = self._timed(plot.paintEvent, "plots")
        win.video.frame_shown.connect(self._on_frame_shown)

    def _timed(self, fn, name: str):
        """``fn`` timed into ``self.gui[name]``, or ``self.worker[name][index]`` (off the
        GUI thread, keyed by frame index: the first argument)."""
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            result = fn(*args, **kwargs)
            if self.recording:
                seconds = time.perf_counter() - t0
                if name in self.worker:  # the worker thread: one entry per frame index
                    self.worker[name][args[0]] = seconds
                else:
                    self.gui[name].append(seconds)
            return result
        return wrapper

    def reset(self) -> None:
        self.painted: list[int] = []
        self.paint_times: list[float] = []
        self.shown: list[int] = []
        self.gui: dict[str, list[float]] = {name: [] for name in self.GUI}
        self.worker: dict[str, dict[int, float]] = {name: {} for name in self.WORKER}
        self.last_paint = 0.0
        self.cpu: dict[str, float] = {}  # CPU seconds of the pass: GUI thread, whole process
        self.capture: dict | None = None  # the canvas's content when the target was painted
        self.current: int | None = None  # the frame on the canvas; only those shown from now

    def attach(self, session) -> None:
        """Wrap a newly opened video's reader, store and player."""
        reader, store, player = session.reader, session.store, session.player
        reader.frame = self._timed(reader.frame, "decode")
        store.mask_for = self._timed(store.mask_for, "mask")
        if hasattr(player, "_display"):  # private: timed only while it exists
            player._display = self._timed(player._display, "display")
        player.shown.connect(self._on_player_shown)

    def _on_frame_shown(self, index: int) -> None:
        self.current = self.current_any = index
        self.total_shown += 1
        if self.recording:
            if self.shown and index < self.shown[-1]:
                self.loop.quit()  # looped back before the target was painted
                return
            self.shown.append(index)

    def _on_player_shown(self, frame, settled: bool) -> None:
        if self.recording and not settled:
            self.worker["made"][frame.index] = frame.made_ms / 1e3


def open_window(view: Size):
    """The main window, shown (its canvas is sized once the video is open)."""
    os.environ.setdefault("SEGVIEW_CONFIG_DIR", tempfile.mkdtemp(prefix="segview-bench-"))
    os.environ.setdefault("SEGVIEW_RECOVERY_DIR", tempfile.mkdtemp(prefix="segview-bench-"))
    from viewer.gui.main_window import MainWindow

    _app()
    win = MainWindow()
    win.show()
    return win


def open_video(win, probe: PaintProbe, clip: Path, segs: list[Segmentation], frames: int) -> None:
    """Open ``clip`` in the window, give every frame its precomputed mask, settle on frame 0."""
    session = win.video
    session.open(clip)
    wait_until(lambda: session.active and session.settled == 0 and not win.loading,
               "the video to open")
    probe.attach(session)
    for i in range(frames):  # what "Segment the whole video" leaves in the store
        session.store.put_prediction(i, segs[i % MASKS])
    session.masks_changed.emit()  # as that run does when it ends
    session.refresh()
    wait_until(lambda: session.settled == 0 and session.worker.idle and
               win.segmentation is not None, "frame 0 with its mask")
    # The "Over time" panel measures the masks once after they change; let it finish.
    panel = getattr(win, "temporal_panel", None)
    timer = getattr(panel, "_auto", None)
    wait_until(lambda: (timer is None or not timer.isActive()) and
               getattr(panel, "handle", None) is None, "the temporal panel's measurement")
    session.reader.cache.clear()


def settle_on(win, probe: PaintProbe, index: int) -> None:
    """Seek to ``index`` and wait until that request's frame is settled on screen.

    The worker makes one frame at a time, so by then any frame still in flight
    from before (a paused playback asked for the next one) was delivered too.
    """
    session = win.video
    before = probe.total_shown
    session.seek(index)
    wait_until(lambda: probe.total_shown > before and probe.current_any == index and
               session.settled == index and session.worker.idle and
               not session.player.playing, f"frame {index} to settle")


def playback_pass(win, probe: PaintProbe, frames: int) -> tuple[float, int]:
    """Play frames 0..N-1 once; (seconds from Play to the last frame's paint, frames painted).

    Loop is on, so after the last frame the player goes on to frame 0 as it
    does between any two frames (no stop, no settle inside the timed span);
    the pass pauses it once the last frame is painted, untimed.
    """
    from PySide6.QtCore import QTimer

    session, player = win.video, win.video.player
    settle_on(win, probe, frames - 1)  # Play from the last frame starts at frame 0
    session.reader.cache.clear()
    player.drop_frames, player.loop = False, True
    probe.reset()
    probe.target, probe.recording = frames - 1, True
    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(probe.loop.quit)
    guard.start(int(TIMEOUT_S * 1000))
    cpu_gui, cpu_all = time.thread_time(), time.process_time()
    start = time.perf_counter()
    session.toggle_play()
    probe.loop.exec()
    probe.cpu = {"gui": time.thread_time() - cpu_gui, "all": time.process_time() - cpu_all}
    guard.stop()
    probe.recording = False
    session.toggle_play()  # pause (settles the frame it stops on)
    if probe.capture is None:
        raise BenchmarkError(f"frame {frames - 1} was not painted (painted "
                             f"{len(probe.painted)} frames, the last {probe.painted[-1:]}; "
                             f"shown {len(probe.shown)})")
    return probe.last_paint - start, len(probe.painted)


def check(win, probe: PaintProbe, reader: VideoReader, segs: list[Segmentation],
          frames: int) -> list[str]:
    """Correctness of the pass just played (see the module docstring)."""
    from viewer.core.render.pipeline import render_overlay
    from viewer.gui.qimage import base_image
    from viewer.gui.video_worker import _for_view

    problems = []
    last = frames - 1
    if probe.shown != list(range(frames)):
        missing = sorted(set(range(frames)) - set(probe.shown))
        problems.append(f"frames shown during playback are not 0..{last} in order "
                        f"({len(probe.shown)} shown, missing {missing[:10]})")
    if not probe.painted or probe.painted[-1] != last:
        problems.append(f"the last frame painted is {probe.painted[-1:]}, not {last}")
    if probe.painted != sorted(probe.painted):
        problems.append("frames were painted out of order")
    capture = probe.capture or {}
    if capture:
        # A frame much larger than the view plays from copies at the view's
        # resolution (viewer.gui.video_worker): check against the same copies.
        photo, seg = _for_view(reader.frame(last), segs[last % MASKS], capture["scale"])
        if capture["base"] != base_image(photo):
            problems.append(f"the photo on the canvas differs from decoded frame {last}")
        want = render_overlay(seg, win.render_settings, order="bgra", premultiplied=True)
        wanted = [buf for buf in (want.fill, want.outline) if buf is not None]
        if len(wanted) != len(capture["layers"]) or not all(
                np.array_equal(a, b) for a, b in zip(wanted, capture["layers"], strict=False)):
            problems.append(f"the overlay on the canvas for frame {last} differs from "
                            "render_overlay of its mask")
    return problems


# --------------------------------------------------------------------------- one size


def masks(size: Size, name: str) -> list[Segmentation]:
    """Eight precomputed segmentations of the named map at the frame size."""
    return [Segmentation.from_values(label_map(name, size.height, size.width, seed=s),
                                     kind=KINDS[name]) for s in range(MASKS)]


def timed_rounds(decode: Callable[[], None], playback: Callable[[], tuple[float, int]],
                 rounds: int, budget: float, min_rounds: int = 3,
                 after_warmup: Callable[[], object] | None = None,
                 progress: Callable[[int], None] | None = None) -> tuple[Timings, list[int]]:
    """Decode pass then playback pass per round, after an untimed warm-up of each.

    As ``benchmarks._timing.round_robin``, except that a playback pass reports
    its own seconds (Play to the last paint), leaving out the untimed settle
    on the last frame that the next pass starts from. Returns the timings and
    the frames painted in each timed playback pass.
    """
    decode()
    playback()
    if after_warmup is not None:
        after_warmup()
    samples: dict[str, list[float]] = {DECODE: [], PLAYBACK: []}
    painted: list[int] = []
    clock = time.perf_counter
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        start = clock()
        done = 0
        while done < rounds:
            t0 = clock()
            decode()
            samples[DECODE].append(clock() - t0)
            seconds, count = playback()
            samples[PLAYBACK].append(seconds)
            painted.append(count)
            done += 1
            if progress is not None:
                progress(done)
            if clock() - start >= budget and done >= min_rounds:
                break
    finally:
        if gc_was_enabled:
            gc.enable()
    medians = {name: statistics.median(values) for name, values in samples.items()}
    return Timings(medians, samples, done, clock() - start), painted


def run_size(size: Size, frames: int, mask_name: str, view: Size, rounds: int, budget: float,
             log: Callable[[str], None]) -> tuple[dict, list[str]]:
    """Make the clip, play it in a fresh window; the figures and the problems found."""
    with tempfile.TemporaryDirectory(prefix="segview-bench-playback-") as folder:
        log(f"{size}: encoding a {frames}-frame clip ...")
        clip = make_clip(Path(folder) / "clip.mp4", size, frames)
        log(f"{size}: {MASKS} {mask_name} masks, opening the window ...")
        segs = masks(size, mask_name)
        win = open_window(view)
        probe = PaintProbe(win)
        try:
            open_video(win, probe, clip, segs, frames)
            # After opening: a video adds the timeline and the "Over time" dock.
            canvas = fit_canvas(win, view.width, view.height)
            if canvas != (view.width, view.height):
                log(f"{size}: the canvas is {canvas[0]}x{canvas[1]}, not {view}")
            if win.video.reader.frame_count != frames:
                return {}, [f"the clip has {win.video.reader.frame_count} frames, "
                            f"{frames} were written"]
            scale = win.canvas.scale()
            with VideoReader(clip, cache_mb=0) as reader:
                def decode() -> None:
                    for i in range(frames):
                        reader.frame(i)

                problems: list[str] = []
                parts: dict[str, list[float]] = {}

                def playback() -> tuple[float, int]:
                    result = playback_pass(win, probe, frames)
                    problems.extend(p for p in check(win, probe, reader, segs, frames)
                                    if p not in problems)
                    for name, values in probe_parts(probe, frames).items():
                        parts.setdefault(name, []).extend(values)
                    return result

                log(f"{size}: timing (<= {rounds} rounds, budget {budget:g} s) ...")
                timings, painted = timed_rounds(
                    decode, playback, rounds, budget,
                    after_warmup=parts.clear,
                    progress=lambda done: log(f"{size}: round {done} done"))
                if problems:
                    return {}, problems
                log(f"{size}: the parts alone ...")
                alone = parts_alone(win, reader, segs, frames, max(rounds, 5))
        finally:
            if win.video.active:
                win.video.close()
            win.close()
            win.deleteLater()
            _app().processEvents()
    decode_fps = frames / timings[DECODE]
    passes = [n / s for n, s in zip(painted, timings.samples[PLAYBACK], strict=True)]
    return {"size": size, "frames": frames, "canvas": canvas, "scale": scale,
            "timings": timings, "painted": painted, "decode_fps": decode_fps,
            "playback_fps": statistics.median(passes), "parts": parts, "alone": alone}, []


ALONE_NAMES = {
    "mask_for": "store.mask_for: unpack one frame's mask",
    "unzip": "  zlib.decompress + copy of the label map",
    "segmentation": "  Segmentation(labels, table): area + bbox stats",
    "render": "render_overlay (colourize, premultiplied BGRA)",
    "base": "base_image: RGB -> RGB32 (canvas.set_image)",
    "repaint": "canvas.repaint() of the frame shown",
}


def parts_alone(win, reader: VideoReader, segs: list[Segmentation], frames: int,
                rounds: int) -> Timings:
    """The parts of a frame timed alone, round-robin, with the window idle (for scale)."""
    import zlib

    from viewer.core.render.pipeline import render_overlay
    from viewer.gui.qimage import base_image

    store, settings, canvas = win.video.store, win.render_settings, win.canvas
    packed = [zlib.compress(np.ascontiguousarray(seg.labels).tobytes(), 1) for seg in segs]
    rgb = np.array(reader.frame(frames - 1))
    turn = dict.fromkeys(ALONE_NAMES, 0)

    def nth(name: str) -> int:
        turn[name] += 1
        return turn[name]

    def unzip() -> np.ndarray:
        k = nth("unzip") % MASKS
        flat = np.frombuffer(zlib.decompress(packed[k]), segs[k].labels.dtype)
        return flat.reshape(segs[k].shape).copy()

    def segmentation() -> Segmentation:
        seg = segs[nth("segmentation") % MASKS]
        return Segmentation(seg.labels.copy(), seg.table.copy(), kind=seg.kind)

    methods = {
        "mask_for": lambda: store.mask_for(nth("mask_for") % frames),
        "unzip": unzip,
        "segmentation": segmentation,
        "render": lambda: render_overlay(segs[nth("render") % MASKS], settings, order="bgra",
                                         premultiplied=True),
        "base": lambda: base_image(rgb),
        "repaint": canvas.repaint,
    }
    return round_robin(methods, rounds=rounds, budget=10.0)


def report(result: dict, mask_name: str) -> None:
    size, frames, timings = result["size"], result["frames"], result["timings"]
    decode_fps, play_fps = result["decode_fps"], result["playback_fps"]
    width, height = result["canvas"]
    low, high = (frames / max(timings.samples[DECODE]), frames / min(timings.samples[DECODE]))
    passes = [n / s for n, s in zip(result["painted"], timings.samples[PLAYBACK], strict=True)]
    coalesced = frames - min(result["painted"])
    print(f"\n== playback {size}, {frames} frames, {mask_name} masks, canvas {width}x{height} "
          f"at scale {result['scale']:.3g} (fit), {timings.rounds} rounds ==")
    rows = [
        (DECODE + " (reader.frame(i), baseline)", f"{decode_fps:.1f}",
         f"{1e3 / decode_fps:.2f}", "1.00", f"{low:.1f}-{high:.1f}"),
        (PLAYBACK + " (decode + colourize + repaint)", f"{play_fps:.1f}",
         f"{1e3 / play_fps:.2f}", f"{play_fps / decode_fps:.2f}",
         f"{min(passes):.1f}-{max(passes):.1f}"),
    ]
    print(format_table(["method", "fps", "ms / frame", "fps / decode", "range fps"], rows))
    print(f"frames painted per pass: {result['painted']} of {frames}"
          + (f" ({coalesced} coalesced by Qt in the worst pass)" if coalesced else
             " (none coalesced)"))
    rows = [(PART_NAMES[name], f"{1e3 * statistics.median(values):.2f}",
             f"{1e3 * np.percentile(values, 90):.2f}") for name, values in result["parts"].items()]
    print("where the time goes, per frame (medians over the frames of the timed passes):")
    print(format_table(["part", "median ms", "p90 ms"], rows))
    alone = result["alone"]
    rows = [(ALONE_NAMES[name], f"{1e3 * alone[name]:.2f}",
             "-".join(f"{1e3 * v:.2f}" for v in alone.spread(name))) for name in alone]
    print(f"the parts alone, window idle ({alone.rounds} rounds round-robin, medians):")
    print(format_table(["part", "median ms", "range ms"], rows))


PART_NAMES = {
    "made": "worker: made_ms, the whole frame (worker thread)",
    "decode": "  reader.frame: decode + YUV -> RGB",
    "rest": "  the rest: wait for the mask, render_overlay (colourize)",
    "mask": "mask thread: store.mask_for, unpack (zlib + Segmentation)",
    "display": "GUI: a frame arrives (set_image, set_overlay, timeline, playheads)",
    "set_image": "  canvas.set_image: RGB -> RGB32",
    "paint": "GUI: canvas paintEvent",
    "plots": "GUI: the \"Over time\" plots' paintEvents, per frame",
    "interval": "GUI: from one frame's paint to the next",
    "cpu_gui": "CPU time of the GUI thread, per frame",
    "cpu_all": "CPU time of the process (all threads), per frame",
}


def probe_parts(probe: PaintProbe, frames: int) -> dict[str, list[float]]:
    """Seconds per frame of each part of one pass (see ``PART_NAMES``)."""
    worker = probe.worker
    made = worker["made"]
    parts = {name: list(worker[name].values()) for name in ("made", "decode")}
    parts["rest"] = [made[i] - worker["decode"][i] for i in made if i in worker["decode"]]
    parts["mask"] = list(worker["mask"].values())
    parts.update({name: list(values) for name, values in probe.gui.items()})
    # The plots: their paints summed over the pass, per frame painted.
    parts["plots"] = [sum(probe.gui["plots"]) / max(len(probe.painted), 1)]
    paint_times = probe.paint_times
    parts["interval"] = list(np.diff(paint_times)) if len(paint_times) > 1 else []
    parts["cpu_gui"] = [probe.cpu["gui"] / frames]
    parts["cpu_all"] = [probe.cpu["all"] / frames]
    return {name: values for name, values in parts.items() if values}


def targets(result: dict) -> list[tuple[str, str, str, float, float]]:
    size = result["size"]
    goal = TARGETS.get(size.name)
    if goal is None:
        return []
    fps = result["playback_fps"]
    source = "1080p" if size.name == "1080p" else "4K source"
    what = f"{source} playback in a {result['canvas'][0]}x{result['canvas'][1]} view, fps"
    return [("PASS" if fps >= goal[1] else "FAIL", goal[0], what, fps, goal[1])]


def _frames_per_size(text: str, sizes: list[Size]) -> list[int]:
    values = [int(v) for v in text.split(",") if v.strip()]
    if len(values) == 1:
        values *= len(sizes)
    if len(values) != len(sizes) or min(values) < 2:
        raise ValueError(f"--frames needs one count >= 2, or one per size ({len(sizes)})")
    return values


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.playback",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1080p,4k", type=parse_sizes,
                        help="source frame sizes: 720p, 1080p, 4k or WxH (default 1080p,4k)")
    parser.add_argument("--frames", default=None,
                        help="frames per clip: one count, or one per size (default: 120 up to "
                             "1080p, 60 above)")
    parser.add_argument("--masks", default="u8-21", choices=sorted(KINDS),
                        help="the precomputed maps: u8-21 (semantic) or u16-5000 (instances)")
    parser.add_argument("--view", default="1920x1080", type=parse_size,
                        help="size of the canvas widget (default 1920x1080)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=40.0,
                        help="seconds per size; no round starts past it (3 rounds always run)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    default = [120 if s.pixels <= 1920 * 1080 else 60 for s in args.sizes]
    try:
        frames = default if args.frames is None else _frames_per_size(args.frames, args.sizes)
    except ValueError as exc:
        parser.error(str(exc))
    env = environment()

    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    from PySide6 import __version__ as pyside_version

    print(f"playback benchmark on {env['cpu']}, {env['cpu_count']} CPUs: python {env['python']}, "
          f"numpy {env['numpy']}, opencv {env['opencv']}, PySide6 {pyside_version}, "
          f"av {av.__version__} (libavcodec "
          f"{'.'.join(map(str, av.library_versions['libavcodec']))}), "
          f"Qt platform {os.environ.get('QT_QPA_PLATFORM')}; clips at {FPS} fps")
    checks = []
    for size, count in zip(args.sizes, frames, strict=True):
        try:
            result, problems = run_size(size, count, args.masks, args.view, args.rounds,
                                        args.budget, log)
        except BenchmarkError as exc:
            result, problems = {}, [str(exc)]
        if problems:
            for problem in problems:
                print(f"CORRECTNESS CHECK FAILED ({size}): {problem}")
            return 1
        report(result, args.masks)
        checks += targets(result)
    if checks:
        print("\n== targets (PERFORMANCE.md G14, G15; issue 6) ==")
        print(format_table(["", "goal", "check", "measured", "floor"],
                           [(s, g, w, f"{v:.1f}", f"{f:g}") for s, g, w, v, f in checks]))
    print("\ntargets are reported, not enforced (exit status 0).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
