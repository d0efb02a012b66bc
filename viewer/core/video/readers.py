"""Open a video with the best reader available: PyAV, else OpenCV."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from viewer.core.errors import ReadError
from viewer.core.video.base import FrameReader
from viewer.core.video.cache import DEFAULT_CACHE_MB

BACKENDS = ("pyav", "opencv")


def pyav_available() -> bool:
    """True when PyAV can be imported (checked without importing it)."""
    return importlib.util.find_spec("av") is not None


def open_video(path: str | Path, *, backend: str | None = None,
               cache_mb: float = DEFAULT_CACHE_MB) -> FrameReader:
    """Open ``path`` for reading frames.

    Parameters
    ----------
    path : str or Path
    backend : {"pyav", "opencv"}, optional
        Default: PyAV when installed (exact seeking), else OpenCV.
    cache_mb : float
        Budget of the decoded-frame cache.

    Raises
    ------
    ReadError
        Naming the file: missing, not a video, no video stream, unsupported
        codec, damaged; or PyAV asked for but not installed.
    """
    backend = backend or ("pyav" if pyav_available() else "opencv")
    if backend == "pyav":
        if not pyav_available():
            raise ReadError("reading this video with PyAV needs the 'av' package "
                            "(pip install av)", path)
        from viewer.core.video.pyav_reader import VideoReader

        return VideoReader(path, cache_mb=cache_mb)
    if backend == "opencv":
        from viewer.core.video.opencv_reader import OpenCVReader

        return OpenCVReader(path, cache_mb=cache_mb)
    raise ValueError(f"unknown video backend {backend!r}; known: {', '.join(BACKENDS)}")
