"""Decode, segment and colourize video frames on a thread of their own.

The GUI thread only hands a finished frame to the canvas; everything that
costs milliseconds (decoding, the model when segmenting live, recolouring
with the chosen palette, colourizing, outlining) happens here. Requests
replace each other: while the user drags the timeline only the newest frame
asked for is made, so scrubbing never queues up stale work.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from viewer.core.errors import ViewerError
from viewer.core.inference.runner import ModelRunner
from viewer.core.palettes import Palette
from viewer.core.recolor import apply_palette
from viewer.core.render.pipeline import OverlayLayers, RenderSettings, render_overlay
from viewer.core.segmentation import Segmentation
from viewer.core.video.base import FrameReader
from viewer.core.video.frame_store import FrameStore


@dataclass(frozen=True)
class FrameJob:
    """What to make of one frame.

    Attributes
    ----------
    index : int
    settings : RenderSettings
        How to colourize (mode, selection, outline thickness).
    palette : Palette or None
        Recolour each frame's mask with it (None: the file's colours).
    runner : ModelRunner or None
        Segment frames that have no mask yet (live segmentation); the result
        is kept in the store, so the next pass over the frame is free.
    """

    index: int
    settings: RenderSettings
    palette: Palette | None = None
    runner: ModelRunner | None = None


@dataclass(frozen=True)
class ShownFrame:
    """A frame ready for the canvas.

    Attributes
    ----------
    index : int
    rgb : ndarray (H, W, 3) uint8
    seg : Segmentation or None
    layers : OverlayLayers or None
        The colourized overlay in the canvas's byte order (BGRA, premultiplied).
    error : ViewerError or None
        The mask or the model failed; the frame is still shown.
    made_ms : float
        Time from taking the job to the frame being ready.
    """

    index: int
    rgb: np.ndarray
    seg: Segmentation | None
    layers: OverlayLayers | None
    error: ViewerError | None = None
    made_ms: float = 0.0


class FrameWorker(QObject):
    """One background thread making frames; the newest request wins.

    Signals
    -------
    ready(ShownFrame)
        Delivered on the GUI thread (queued across threads).
    failed(int, ViewerError)
        The frame itself could not be decoded.
    """

    ready = Signal(object)
    failed = Signal(int, object)

    def __init__(self, reader: FrameReader, store: FrameStore, parent: QObject | None = None):
        super().__init__(parent)
        self.reader, self.store = reader, store
        self._job: FrameJob | None = None
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="segview-frames", daemon=True)
        self._thread.start()

    def request(self, job: FrameJob) -> None:
        """Make ``job`` next, dropping any request not started yet."""
        with self._wake:
            self._job = job
            self._wake.notify()

    @property
    def idle(self) -> bool:
        """True when no request is waiting."""
        with self._wake:
            return self._job is None

    def stop(self) -> None:
        """End the thread after the frame in hand (waits up to a few seconds)."""
        with self._wake:
            self._stopping = True
            self._job = None
            self._wake.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._job is None and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                job, self._job = self._job, None
            try:
                frame = make_frame(self.reader, self.store, job)
            except ViewerError as exc:
                self.failed.emit(job.index, exc)
                continue
            except Exception as exc:  # noqa: BLE001 - a bug must not kill playback silently
                self.failed.emit(job.index, ViewerError(f"frame {job.index}: {exc!r}"))
                continue
            if not self._stopping:
                self.ready.emit(frame)


def make_frame(reader: FrameReader, store: FrameStore, job: FrameJob) -> ShownFrame:
    """Decode frame ``job.index``, find or make its mask, and colourize it.

    Raises ViewerError only when the frame itself cannot be read; a mask
    or model failure is carried in :attr:`ShownFrame.error`.
    """
    start = time.perf_counter()
    rgb = reader.frame(job.index)
    seg, error = None, None
    try:
        seg = store.mask_for(job.index)
        if seg is None and job.runner is not None:
            seg = job.runner.run(rgb, source=reader.path)
            store.put_prediction(job.index, seg)
    except ViewerError as exc:
        seg, error = None, exc
    layers = None
    if seg is not None:
        if seg.shape != rgb.shape[:2]:
            error = ViewerError(f"the mask of frame {job.index} is {seg.width}x{seg.height}, "
                                f"the video {rgb.shape[1]}x{rgb.shape[0]}", reader.path)
            seg = None
        else:
            if job.palette is not None and store.origin(job.index) != "edited":
                apply_palette(seg, job.palette)
            layers = render_overlay(seg, job.settings, order="bgra", premultiplied=True)
    return ShownFrame(job.index, rgb, seg, layers, error,
                      (time.perf_counter() - start) * 1000)
