"""A live source in the window: a camera or a network stream, segmented as it comes.

A thread reads a frame, segments it with the chosen model (when one is
chosen and live segmentation is on), colourizes it and hands it to the
canvas; it reads the next one only when the canvas has taken the last, so
a slow model shows the newest frames it can rather than a growing backlog.
There is no timeline: a live source cannot seek.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from viewer.core.errors import ViewerError
from viewer.core.tasks import Progress, Task
from viewer.core.video.camera import LiveStream, open_stream, parse_source
from viewer.gui.video_player import FpsMeter
from viewer.gui.video_worker import ShownFrame, colourize

if TYPE_CHECKING:
    from viewer.gui.main_window import MainWindow


class StreamSession(QObject):
    """The window's live source, or nothing.

    Signals
    -------
    ready(ShownFrame)
        A frame was made (queued to the GUI thread).
    ended(str)
        The stream stopped; the text says why.
    """

    ready = Signal(object)
    ended = Signal(str)

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.stream: LiveStream | None = None
        self.meter = FpsMeter()
        self.frames = 0
        self.runner = None  # set on the GUI thread (live segmentation on or off)
        self._taken = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.ready.connect(self._on_ready)
        self.ended.connect(self._on_ended)

    @property
    def active(self) -> bool:
        return self.stream is not None

    def open(self, text: str):
        """Open a camera index or a stream URL (in a worker: opening may take seconds)."""
        try:
            source = parse_source(text)
        except ViewerError as exc:
            self.window.show_error("Cannot open the stream", exc)
            return None
        return self.window.start_task(_open(source), f"Opening {text}", self._start,
                                      "Cannot open the camera or stream")

    def _start(self, stream: LiveStream) -> None:
        w = self.window
        w.video.close()
        self.close()
        w.items = None
        w.image_path = w.mask_path = None
        w.set_segmentation(None)
        self.stream, self.frames = stream, 0
        self.runner = w.models.runner() if w.video.live else None
        self._stopping.clear()
        self._taken.set()
        self._thread = threading.Thread(target=self._run, name="segview-stream", daemon=True)
        self._thread.start()
        w.update_actions()
        w.setWindowTitle(f"{stream.name} — SegView")
        w.statusBar().showMessage(f"Live: {stream.name}, {stream.size[0]}x{stream.size[1]}", 10000)

    def close(self) -> None:
        """Stop reading and release the camera."""
        if self.stream is None:
            return
        self._stopping.set()
        self._taken.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.stream.close()
        self.stream = self._thread = None
        self.window.update_actions()

    def _run(self) -> None:
        stream = self.stream
        index = 0
        while not self._stopping.is_set():
            self._taken.wait()
            if self._stopping.is_set():
                return
            self._taken.clear()
            rgb = stream.read()
            if rgb is None:
                self.ended.emit(f"{stream.name} ended after {index} frames")
                return
            try:
                frame = self._make(index, rgb)
            except ViewerError as exc:
                self.ended.emit(f"{stream.name}: {exc}")
                return
            self.ready.emit(frame)
            index += 1

    def _make(self, index: int, rgb) -> ShownFrame:
        # Read the window's choices on this thread: plain attribute reads, no Qt calls.
        w = self.window
        start = time.perf_counter()
        runner = self.runner
        seg = runner.run(rgb, source=self.stream.name) if runner is not None else None
        layers = None
        if seg is not None:
            layers = colourize(seg, w.render_settings, w.palette_panel.palette_to_apply)
        return ShownFrame(index, rgb, seg, layers, None, (time.perf_counter() - start) * 1000, rgb)

    def _on_ready(self, frame: ShownFrame) -> None:
        w = self.window
        if self.stream is None:
            return
        w.image = frame.rgb
        w.canvas.set_image(frame.rgb)
        layers = frame.layers
        w.canvas.set_overlay(*((layers.fill, layers.outline) if layers else (None, None)))
        self.frames += 1
        self.meter.tick()
        self._taken.set()

    def _on_ended(self, text: str) -> None:
        self.close()
        self.window.statusBar().showMessage(text, 15000)


def _open(source: int | str) -> Task[LiveStream]:
    yield Progress(0, 1, f"Opening {source}")
    return open_stream(source)
