"""Playback timing: which frame to ask for, and when to show it.

The worker (:mod:`viewer.gui.video_worker`) makes frames; this class keeps
the clock. While playing, a frame that comes early is held until its time;
when it goes on screen the next one is asked for, so decoding the next
overlaps painting this one, and at most one frame is in flight. When frames
come late it skips ahead to the frame due now rather than falling behind
(``drop_frames``; the benchmark turns it off to measure throughput).

A frame is "settled" when the user stops on it (paused, a step, the end of
a drag): only then do the panels and the editor take its mask, which
playback would make too costly per frame.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QObject, QTimer, Signal

from viewer.gui.video_worker import FrameJob, FrameWorker, ShownFrame

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)


class FpsMeter:
    """Frames per second over the last second, from the times frames went on screen."""

    def __init__(self):
        self._times: deque[float] = deque(maxlen=480)

    def tick(self) -> None:
        """A frame was shown now."""
        self._times.append(time.perf_counter())

    @property
    def fps(self) -> float:
        now = time.perf_counter()
        recent = [t for t in self._times if now - t <= 1.0]
        if len(recent) < 2 or recent[-1] <= recent[0]:
            return 0.0
        return (len(recent) - 1) / (recent[-1] - recent[0])


class VideoPlayer(QObject):
    """Seek, step and play one video through a :class:`FrameWorker`.

    Parameters
    ----------
    worker : FrameWorker
    frame_count, fps : int, float
    make_job : callable
        ``make_job(index)`` gives the job for a frame with the settings of the moment.

    Signals
    -------
    shown(ShownFrame, bool)
        Put this frame on screen; the flag says it is settled.
    playing_changed(bool)
    """

    shown = Signal(object, bool)
    playing_changed = Signal(bool)

    def __init__(self, worker: FrameWorker, frame_count: int, fps: float,
                 make_job: Callable[[int], FrameJob], parent: QObject | None = None):
        super().__init__(parent)
        self.worker, self.frame_count, self.fps = worker, frame_count, fps
        self.make_job = make_job
        self.index = 0
        self.playing = False
        self.speed = 1.0
        self.loop = False
        self.drop_frames = True
        self.last: ShownFrame | None = None
        # The frame asked for last; None once a stop is settled. Any other frame
        # that arrives was made for an older request (before a seek or a pause).
        self._asked: int | None = None
        self._settle = False
        self._clock: tuple[float, int] = (0.0, 0)  # (time, index) playback started from
        self._held: ShownFrame | None = None
        self._hold = QTimer(self)
        self._hold.setSingleShot(True)
        self._hold.timeout.connect(self._show_held)
        self.meter = FpsMeter()
        worker.ready.connect(self._on_ready)

    # -- commands ----------------------------------------------------------------
    def seek(self, index: int, *, settle: bool = True) -> None:
        """Show frame ``index`` (clamped); keeps playing from there when playing."""
        index = min(max(int(index), 0), self.frame_count - 1)
        if self.playing:
            self._hold.stop()  # a frame waiting for its time belongs to the old position
            self._held = None
            self._start_clock(index)
            self._request(index)
            return
        self._settle = settle
        self._request(index)

    def step(self, delta: int) -> None:
        """Pause, then show the frame ``delta`` frames away."""
        self.pause()
        self.seek(self.index + delta)

    def play(self) -> None:
        """Play from the frame shown (from the start when at the end)."""
        if self.playing or self.frame_count < 2:
            return
        start = 0 if self.index >= self.frame_count - 1 else self.index + 1
        self.playing = True
        self._start_clock(start)
        self._request(start)
        self.playing_changed.emit(True)

    def pause(self) -> None:
        """Stop on the frame shown and settle it."""
        if not self.playing:
            return
        self.playing = False
        self._hold.stop()
        if self._held is not None:
            self._display(self._held, settled=False)
            self._held = None
        self.playing_changed.emit(False)
        self._settle = True
        if self.last is not None and self.last.index == self.index:
            self._asked = None
            self.shown.emit(self.last, True)
        else:
            self._request(self.index)

    def toggle(self) -> None:
        """Play when paused, pause when playing."""
        self.pause() if self.playing else self.play()

    def refresh(self) -> None:
        """Make the shown frame again (the settings or its mask changed)."""
        if not self.playing:
            self.seek(self.index, settle=True)

    def set_speed(self, speed: float) -> None:
        """Playback speed as a factor of the video's own rate."""
        self.speed = max(float(speed), 0.01)
        if self.playing:
            self._start_clock(self.index)

    @property
    def measured_fps(self) -> float:
        """Frames shown per second over the last second (0 when idle)."""
        return self.meter.fps

    # -- timing ------------------------------------------------------------------
    def _rate(self) -> float:
        return self.fps * self.speed

    def _start_clock(self, index: int) -> None:
        self._clock = (time.perf_counter(), index)

    def _due(self, index: int) -> float:
        start, first = self._clock
        return start + (index - first) / self._rate()

    def _request(self, index: int) -> None:
        self._asked = index
        # Reading the next frame's mask ahead pays off when the next frame comes
        # (playing, stepping), not for the positions of a drag.
        job = replace(self.make_job(index), read_ahead=self.playing or self._settle)
        self.worker.request(job)

    def _on_ready(self, frame: ShownFrame) -> None:
        if frame.index != self._asked:
            # Made for an older request: shown while playing, its successor would
            # start a second chain of requests beside the current one.
            return
        if not self.playing:
            settled = self._settle and self.worker.idle
            if settled:
                self._asked = None
            self._display(frame, settled=settled)
            return
        delay = self._due(frame.index) - time.perf_counter()
        if delay > 0.002 and self.drop_frames:
            self._held = frame
            self._hold.start(int(delay * 1000))
        else:
            self._request_next(frame.index)
            self._display(frame, settled=False)

    def _show_held(self) -> None:
        frame, self._held = self._held, None
        if frame is not None and self.playing:
            # Ask for the next frame first: it decodes while this one is painted.
            self._request_next(frame.index)
            self._display(frame, settled=False)

    def _request_next(self, index: int) -> None:
        following = index + 1
        if self.drop_frames:
            start, first = self._clock
            due_now = first + int((time.perf_counter() - start) * self._rate())
            following = max(following, due_now + 1)
        if following >= self.frame_count:
            if not self.loop:
                self._stop_at_end()
                return
            # Frame 0 comes one frame after the last one's time, as if the video went on.
            restart = max(self._due(index), time.perf_counter()) + 1 / self._rate()
            self._clock = (restart, 0)
            following = 0
        self._request(following)

    def _stop_at_end(self) -> None:
        # The last frame is still on its way to the screen; settle it when shown.
        QTimer.singleShot(0, self.pause)

    def _display(self, frame: ShownFrame, *, settled: bool) -> None:
        self.index = frame.index
        self.last = frame
        self.meter.tick()
        self.shown.emit(frame, settled)
