"""Video: frame-accurate readers, per-frame mask sources and overlay export.

Pure core (PyAV or OpenCV, numpy; never Qt). PyAV is imported only by the
modules that need it, so ``open_video`` still works on OpenCV without it.
"""

from viewer.core.video.base import VIDEO_EXTENSIONS, FrameReader, VideoInfo
from viewer.core.video.cache import FrameCache
from viewer.core.video.frame_index import FrameIndex
from viewer.core.video.readers import open_video, pyav_available

__all__ = [
    "VIDEO_EXTENSIONS", "FrameCache", "FrameIndex", "FrameReader", "VideoInfo", "open_video",
    "pyav_available",
]
