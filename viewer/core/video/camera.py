"""A live source of frames for demo mode: a camera, a network stream or a file read once.

Unlike :class:`~viewer.core.video.base.FrameReader`, a live stream has no
frame count and no seeking: frames come in order until the stream ends. It
wraps ``cv2.VideoCapture``, which opens camera indices (V4L2, DirectShow,
AVFoundation), URLs (RTSP, HTTP) and files alike; frames leave it as RGB,
like every other frame in the core.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np

from viewer.core.budget import whole_number
from viewer.core.errors import ReadError, ViewerError
from viewer.core.video.base import FALLBACK_FPS


class LiveStream:
    """Frames from an open ``cv2.VideoCapture``, in order, as RGB.

    Use :func:`open_stream` to make one.

    Parameters
    ----------
    capture : cv2.VideoCapture
        Already opened.
    name : str
        What to call the source in the window title and in messages.
    """

    def __init__(self, capture: cv2.VideoCapture, name: str):
        self._capture = capture
        self.name = name
        self._first: np.ndarray | None = None
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if width <= 0 or height <= 0:
            # Some network streams report their size only once a frame arrived.
            self._first = self._grab()
            height, width = self._first.shape[:2] if self._first is not None else (0, 0)
        self.size = (width, height)
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        # Webcam drivers often report 0 (or NaN): the rate is not known in advance.
        self.fps = fps if fps > 0 else FALLBACK_FPS

    def read(self) -> np.ndarray | None:
        """The next frame, (H, W, 3) uint8 RGB; None at the end of the stream or once closed."""
        if self._first is not None:
            frame, self._first = self._first, None
            return frame
        return self._grab()

    def _grab(self) -> np.ndarray | None:
        if self._capture is None:
            return None
        ok, image = self._capture.read()
        if not ok or image is None:
            return None
        return _to_rgb(image)

    def close(self) -> None:
        """Release the camera or stream (safe to call twice)."""
        if self._capture is not None:
            self._capture.release()
            self._capture = None
            self._first = None

    def __enter__(self) -> LiveStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LiveStream({self.name!r}, {self.size[0]}x{self.size[1]}, {self.fps:g} fps)"


def parse_source(text: str) -> int | str:
    """What the user typed as a source: ``"0"`` is camera 0, anything else a URL or path.

    A file whose name is only digits is given as ``./0``.

    Raises
    ------
    ViewerError
        When ``text`` is blank.
    """
    text = text.strip()
    if not text:
        raise ViewerError("no source given: type a camera number (0, 1, ...), "
                          "a stream URL (rtsp://...) or a video file")
    index = whole_number(text)
    return text if index is None else index


def open_stream(source: int | str | Path) -> LiveStream:
    """Open a camera by index, or a stream URL or video file, for live reading.

    Raises
    ------
    ReadError
        Naming the source, when OpenCV cannot open it.
    """
    if isinstance(source, int):
        return _open(source, f"camera {source}", lambda: _no_camera(source))
    text = str(source)
    if _is_url(text):
        shown = _without_password(text)
        return _open(text, shown, lambda: ReadError(
            f"cannot open the stream {shown}: check the address, and that the server is "
            "running and reachable from this computer"))
    path = Path(text).expanduser()
    if not path.exists():
        raise ReadError("file not found", path)
    return _open(str(path), path.name, lambda: ReadError("cannot be opened as a video", path))


def _open(target: int | str, name: str, error) -> LiveStream:
    # OpenCV prints its own warnings to stderr when a camera is missing; ours says it better.
    logging = cv2.utils.logging
    level = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_ERROR)
    try:
        capture = cv2.VideoCapture(target)
    finally:
        logging.setLogLevel(level)
    if not capture.isOpened():
        capture.release()
        raise error()
    return LiveStream(capture, name)


def _no_camera(index: int) -> ReadError:
    if sys.platform.startswith("linux"):
        hint = f"is one connected, and may this user use /dev/video{index}?"
    else:
        hint = "is one connected, and may this program use the camera?"
    return ReadError(f"no camera at index {index}: cv2.VideoCapture could not open it ({hint})")


def _is_url(text: str) -> bool:
    return "://" in text


def _without_password(url: str) -> str:
    """The URL as it may be shown: ``rtsp://user:secret@host`` becomes ``rtsp://user:***@host``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def _to_rgb(image: np.ndarray) -> np.ndarray:
    """OpenCV's BGR (or grey, or BGRA) frame as RGB."""
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
