"""The fallback reader on ``cv2.VideoCapture``, used only when PyAV is missing.

OpenCV's FFmpeg backend seeks by frame number (``CAP_PROP_POS_FRAMES``),
which it derives from timestamps and the stated rate: right for the common
constant-rate files, but neither its frame count nor its seeking is
guaranteed for variable-rate or damaged ones, which is why PyAV comes first.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from viewer.core.errors import ReadError
from viewer.core.video.base import (
    FALLBACK_FPS,
    FrameReader,
    VideoCutShort,
    VideoInfo,
    check_video_path,
)
from viewer.core.video.cache import DEFAULT_CACHE_MB


class OpenCVReader(FrameReader):
    """Read the frames of a video file with OpenCV.

    Parameters
    ----------
    path : str or Path
    cache_mb : float
        Budget of the decoded-frame cache.
    """

    backend = "opencv"

    def __init__(self, path: str | Path, *, cache_mb: float = DEFAULT_CACHE_MB):
        super().__init__(cache_mb)
        path = check_video_path(path)
        self._capture = cv2.VideoCapture(str(path))
        if not self._capture.isOpened():
            raise ReadError("not a video OpenCV can read", path)
        declared = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        count = declared if declared > 0 else self._count_frames()
        if count <= 0:
            self._capture.release()
            raise ReadError("holds no video frames", path)
        fourcc = int(self._capture.get(cv2.CAP_PROP_FOURCC))
        self.info = VideoInfo(
            path=path, width=int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT)), frame_count=count,
            fps=float(self._capture.get(cv2.CAP_PROP_FPS)) or FALLBACK_FPS,
            codec=fourcc.to_bytes(4, "little").decode("ascii", "replace").strip("\x00 ").lower(),
            backend=self.backend, declared_frames=declared if declared > 0 else None)
        self._next = 0
        self._furthest = -1  # the highest frame decoded so far

    def _count_frames(self) -> int:
        """Count by grabbing through the file (headers without a count), then rewind."""
        count = 0
        while self._capture.grab():
            count += 1
        self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
        return count

    def _decode(self, index: int) -> np.ndarray:
        if index != self._next:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, bgr = self._capture.read()
        if not ok or bgr is None:
            # Reading on from the last frame decoded (or the furthest, when the frames
            # in between came from the cache): OpenCV trusts the header's count, and
            # the file ends before it.
            reading_on = index in (self._next, self._furthest + 1)
            self._next = -1  # position unknown: seek next time
            if reading_on:
                raise VideoCutShort(index, self.path)
            raise ReadError(f"frame {index} cannot be decoded (damaged or truncated file?)",
                            self.path)
        self._next = index + 1
        self._furthest = max(self._furthest, index)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def _release(self) -> None:
        self._capture.release()
