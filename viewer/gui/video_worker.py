"""Decode, segment and colourize video frames on a thread of their own.

The GUI thread only hands a finished frame to the canvas; everything that
costs milliseconds (decoding, the model when segmenting live, recolouring
with the chosen palette, colourizing, outlining) happens here. Requests
replace each other: while the user drags the timeline only the newest frame
asked for is made, so scrubbing never queues up stale work.

Reading a frame's mask from a file (PNG decoding, building the segment
table) costs more than decoding the frame itself, so a second thread reads
the mask of the frame after the one being made: in playback that is the
next request, and the two reads overlap on two cores.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import cv2
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
    read_ahead : bool
        Also read the next frame's mask, on the mask thread (for playback and steps).
    view_scale : float
        Screen pixels per frame pixel. Well below 1 (a 4K frame in a 1080p
        view), the photo and the overlay are made at the view's resolution:
        scaling them here costs a millisecond, scaling a 4K image at every
        paint costs the GUI thread twelve.
    """

    index: int
    settings: RenderSettings
    palette: Palette | None = None
    runner: ModelRunner | None = None
    view_scale: float = 1.0
    read_ahead: bool = True


@dataclass(frozen=True)
class ShownFrame:
    """A frame ready for the canvas.

    Attributes
    ----------
    index : int
    rgb : ndarray (H, W, 3) uint8
        The frame at its own size (what the window keeps once settled).
    seg : Segmentation or None
    layers : OverlayLayers or None
        The colourized overlay in the canvas's byte order (BGRA, premultiplied),
        of ``view_rgb``'s size.
    view_rgb : ndarray or None
        The frame made for the screen: ``rgb`` itself, or a copy scaled down to
        the view (see :attr:`FrameJob.view_scale`).
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
    view_rgb: np.ndarray | None = None

    @property
    def size(self) -> tuple[int, int]:
        """The frame's ``(width, height)``."""
        return self.rgb.shape[1], self.rgb.shape[0]


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
        self._masks = ThreadPoolExecutor(1, thread_name_prefix="segview-masks")
        self._ahead: tuple[int, int, Future] | None = None  # (index, store version, read)
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
        self._masks.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._job is None and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                job, self._job = self._job, None
            try:
                frame = make_frame(self.reader, self.store, job,
                                   self._mask_read(job.index, job.read_ahead))
            except ViewerError as exc:
                self.failed.emit(job.index, exc)
                continue
            except Exception as exc:  # noqa: BLE001 - a bug must not kill playback silently
                self.failed.emit(job.index, ViewerError(f"frame {job.index}: {exc!r}"))
                continue
            if not self._stopping:
                self.ready.emit(frame)

    def _mask_read(self, index: int, ahead: bool) -> Future:
        """The read of frame ``index``'s mask (the one made ahead when it still holds),
        and, when ``ahead``, the read of the next frame's mask started beside it."""
        ahead, self._ahead = self._ahead, None
        version = self.store.version
        if ahead is not None and ahead[:2] == (index, version):
            read = ahead[2]
        else:
            read = self._masks.submit(self.store.mask_for, index)
        if ahead and index + 1 < self.reader.frame_count:
            self._ahead = (index + 1, version, self._masks.submit(self.store.mask_for, index + 1))
        return read


def make_frame(reader: FrameReader, store: FrameStore, job: FrameJob,
               mask: Future | None = None) -> ShownFrame:
    """Decode frame ``job.index``, find or make its mask, and colourize it.

    ``mask`` is the mask's read already under way (default: read it here).
    Raises ViewerError only when the frame itself cannot be read; a mask
    or model failure is carried in :attr:`ShownFrame.error`.
    """
    start = time.perf_counter()
    rgb = reader.frame(job.index)
    seg, error = None, None
    try:
        seg = mask.result() if mask is not None else store.mask_for(job.index)
        if seg is None and job.runner is not None:
            seg = job.runner.run(rgb, source=reader.path)
            store.put_prediction(job.index, seg)
    except ViewerError as exc:
        seg, error = None, exc
    layers = None
    view_rgb, view_seg = _for_view(rgb, seg, job.view_scale)
    if seg is not None:
        if seg.shape != rgb.shape[:2]:
            error = ViewerError(f"the mask of frame {job.index} is {seg.width}x{seg.height}, "
                                f"the video {rgb.shape[1]}x{rgb.shape[0]}", reader.path)
            seg = None
        else:
            # An edited frame keeps the colours the user gave it. The view copy
            # shares the table, so recolouring it recolours the frame's mask.
            palette = job.palette if store.origin(job.index) != "edited" else None
            layers = colourize(view_seg, job.settings, palette)
    return ShownFrame(job.index, rgb, seg, layers, error,
                      (time.perf_counter() - start) * 1000, view_rgb)


def colourize(seg: Segmentation, settings: RenderSettings,
              palette: Palette | None = None) -> OverlayLayers:
    """The canvas's overlay of ``seg`` (BGRA, premultiplied), recoloured with ``palette`` first."""
    if palette is not None:
        apply_palette(seg, palette)
    return render_overlay(seg, settings, order="bgra", premultiplied=True)


#: Below this view scale, frames are made at the view's resolution.
VIEW_COPY_BELOW = 0.6


def _for_view(rgb: np.ndarray, seg: Segmentation | None,
              scale: float) -> tuple[np.ndarray, Segmentation | None]:
    """The photo and the mask to colourize, at the view's resolution when much smaller."""
    if scale >= VIEW_COPY_BELOW:
        return rgb, seg
    height, width = rgb.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    if seg is None or seg.shape != rgb.shape[:2]:
        return small, seg
    # Nearest neighbour, as the canvas samples masks; ids stay ids. The rows are
    # shared: only the colour table is read from them.
    labels = seg.labels.view(np.int32) if seg.labels.dtype == np.uint32 else seg.labels
    small_labels = cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST)
    return small, Segmentation(small_labels.view(seg.labels.dtype), seg.table, kind=seg.kind,
                               stats_known=True)
