"""What every video reader shares: facts about the file, bounds, the frame cache.

A backend (:mod:`~viewer.core.video.pyav_reader`, or
:mod:`~viewer.core.video.opencv_reader` when PyAV is missing) only decodes
one frame by index; this class checks the index, serves repeats from the
cache and keeps one thread at a time in the decoder, so the GUI's worker and
a scrubbing request cannot interleave seeks.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from viewer.core.errors import ReadError
from viewer.core.video.cache import DEFAULT_CACHE_MB, FrameCache

#: Suffixes opened as videos (what issue 6 lists, plus .m4v); others are still tried.
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm")
def is_video(path: str | Path) -> bool:
    """True for a file name with a video suffix (the file is not opened)."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


#: What ffmpeg itself assumes when a stream states no rate at all.
FALLBACK_FPS = 25.0


@dataclass(frozen=True)
class VideoInfo:
    """Facts about an opened video stream.

    Attributes
    ----------
    path : Path
    width, height : int
        Frame size in pixels.
    frame_count : int
        Frames that can be read, counted from the file (not the header).
    fps : float
        Mean frames per second.
    codec : str
        Decoder name (``h264``, ``mjpeg``, ...).
    backend : str
        ``"pyav"`` or ``"opencv"``.
    declared_frames : int or None
        Frames the container's header declares (its frame count, or its
        duration times the rate), None when it declares nothing usable. More
        than ``frame_count`` when the file was cut short.
    """

    path: Path
    width: int
    height: int
    frame_count: int
    fps: float
    codec: str
    backend: str
    declared_frames: int | None = None

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)``, the order ``image_size`` takes everywhere."""
        return self.width, self.height

    @property
    def duration_s(self) -> float:
        """Length in seconds at the mean frame rate."""
        return self.frame_count / self.fps if self.fps > 0 else 0.0


class VideoCutShort(ReadError):
    """The stream ended before a frame the file's index promised (a truncated file).

    Attributes
    ----------
    index : int
        The frame asked for; frames before it may have been decoded.
    """

    def __init__(self, index: int, path: str | Path):
        self.index = index
        super().__init__(f"frame {index} is missing: the stream ends before it (truncated?)",
                         path)


class FrameReader(ABC):
    """Random and sequential access to the RGB frames of one video.

    Subclasses set :attr:`info` and implement :meth:`_decode` and
    :meth:`_release`.
    """

    info: VideoInfo

    def __init__(self, cache_mb: float = DEFAULT_CACHE_MB):
        self.cache = FrameCache(int(cache_mb * (1 << 20)))
        self._lock = threading.Lock()
        self._closed = False

    # -- facts -------------------------------------------------------------------
    @property
    def path(self) -> Path:
        """The video file."""
        return self.info.path

    @property
    def frame_count(self) -> int:
        """Frames that can be read."""
        return self.info.frame_count

    @property
    def fps(self) -> float:
        """Mean frames per second."""
        return self.info.fps

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)``."""
        return self.info.size

    def time_of(self, index: int) -> float:
        """Seconds from the first frame to frame ``index``."""
        self._check_index(index)
        return index / self.fps if self.fps > 0 else 0.0

    def index_at(self, seconds: float) -> int:
        """The frame on screen at ``seconds`` (clamped to the video)."""
        index = int(seconds * self.fps + 1e-6) if self.fps > 0 else 0
        return min(max(index, 0), self.frame_count - 1)

    # -- frames ------------------------------------------------------------------
    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` as an (H, W, 3) uint8 RGB array (read-only, may be shared).

        Raises
        ------
        IndexError
            ``index`` outside ``0..frame_count-1``.
        VideoCutShort
            The stream ends before this frame (a truncated file).
        ReadError
            The frame cannot be decoded (damaged file), naming the file.
        """
        self._check_index(index)
        with self._lock:
            if self._closed:
                raise ReadError("the video was closed", self.path)
            cached = self.cache.get(index)
            if cached is not None:
                return cached
            return self.cache.put(index, self._decode(index))

    def scrub_target(self, index: int) -> int:
        """The frame to show while the user drags towards ``index``: itself when it is
        quick to decode, else a nearby frame that is (the reader's own choice).

        A seek far past a keyframe decodes every frame in between: on a camera
        file with one keyframe every ten seconds that is hundreds of frames per
        position, so a drag would show nothing until released.
        """
        return index

    def frames(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """``(index, frame)`` for ``start <= index < stop``, decoded in one forward pass."""
        stop = self.frame_count if stop is None else min(stop, self.frame_count)
        for index in range(max(start, 0), stop):
            yield index, self.frame(index)

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.frame_count:
            raise IndexError(f"frame {index} is outside 0..{self.frame_count - 1} of {self.path}")

    # -- lifetime ----------------------------------------------------------------
    def close(self) -> None:
        """Release the file and the cached frames (safe to call twice)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self.cache.clear()
                self._release()

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @abstractmethod
    def _decode(self, index: int) -> np.ndarray:
        """Decode frame ``index`` (in range; called under the lock) as RGB."""

    @abstractmethod
    def _release(self) -> None:
        """Close the file."""


def check_video_path(path: str | Path) -> Path:
    """The path as a Path, or a ReadError when it is missing or a folder."""
    path = Path(path)
    if not path.exists():
        raise ReadError("file not found", path)
    if path.is_dir():
        raise ReadError("is a folder, not a video", path)
    return path
