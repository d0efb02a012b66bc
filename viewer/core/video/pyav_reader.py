"""The PyAV video reader: exact frame-accurate seeking by presentation timestamp.

To read frame ``i``: seek to the last keyframe at or before it, then decode
forward and keep the frame whose timestamp is the i-th one of the file
(:class:`~viewer.core.video.frame_index.FrameIndex`). A request just ahead of
the last decoded frame, with no keyframe in between, decodes on without a
seek, so playing forward costs one decode per frame.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from viewer.core.errors import ReadError
from viewer.core.video.base import FALLBACK_FPS, FrameReader, VideoInfo, check_video_path
from viewer.core.video.cache import DEFAULT_CACHE_MB
from viewer.core.video.frame_index import FrameIndex

#: Frames a scrubbing request may cost to decode before the keyframe is shown instead.
SCRUB_SPAN = 12


class VideoReader(FrameReader):
    """Read the frames of a video file with PyAV (FFmpeg).

    Parameters
    ----------
    path : str or Path
    cache_mb : float
        Budget of the decoded-frame cache.
    threads : bool
        Let FFmpeg decode on several threads (frame and slice threading).

    Raises
    ------
    ReadError
        The file is missing, not a video FFmpeg can read, has no video
        stream, uses a codec this FFmpeg build cannot decode, or is damaged.
    """

    backend = "pyav"

    def __init__(self, path: str | Path, *, cache_mb: float = DEFAULT_CACHE_MB,
                 threads: bool = True):
        super().__init__(cache_mb)
        path = check_video_path(path)
        self._threads = threads
        self._container, self._stream = _open_stream(path, threads)
        try:
            self._index, packets = _scan(self._container, self._stream, path)
        except BaseException:
            self._container.close()
            raise
        self.info = _info(path, self._stream, self._index, packets)
        self._decoder = None  # the live decode generator, None until the first seek
        self._next: int | None = None  # index of the frame it yields next, when known

    # -- timing by timestamps ------------------------------------------------------
    def time_of(self, index: int) -> float:
        if self._index is None:
            return super().time_of(index)
        self._check_index(index)
        return self._index.time_of(index)

    def index_at(self, seconds: float) -> int:
        if self._index is None:
            return super().index_at(seconds)
        return min(self._index.index_at(seconds), self.frame_count - 1)

    def scrub_target(self, index: int) -> int:
        """``index``, or the keyframe before it when more than :data:`SCRUB_SPAN` frames
        would have to be decoded to reach it (and it is not cached or next in line)."""
        self._check_index(index)
        if self._index is None or index in self.cache:
            return index
        key = self._index.keyframe_before(index)
        # Racy read of the decoder's position (the frame thread owns it): a guess is fine.
        nxt = self._next
        reach = index - nxt if self._decoder is not None and nxt is not None and \
            key <= nxt <= index else index - key
        return index if reach <= SCRUB_SPAN else key

    # -- decoding ------------------------------------------------------------------
    def _decode(self, index: int) -> np.ndarray:
        try:
            frame = self._decode_frame(index)
            return frame.to_ndarray(format="rgb24")
        except av.error.FFmpegError as exc:
            self._decoder = self._next = None
            raise ReadError(f"frame {index} cannot be decoded ({_reason(exc)})", self.path) from exc

    def _decode_frame(self, index: int):
        if self._index is None:
            return self._decode_counting(index)
        if self._can_continue_to(index):
            frame = self._decode_until(index)
            if frame is not None:
                return frame
        for point in self._index.seek_points(index):
            self._seek(point)
            frame = self._decode_until(index)
            if frame is not None:
                return frame
        raise ReadError(f"frame {index} never comes out of the decoder (damaged file?)",
                        self.path)

    def _can_continue_to(self, index: int) -> bool:
        # Decoding on from here is never more work than a seek would be when no
        # keyframe lies between the next frame and the target.
        return (self._decoder is not None and self._next is not None and self._next <= index
                and self._index.keyframe_before(index) <= self._next)

    def _seek(self, position: int) -> None:
        target = int(self._index.pts[position])
        self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        self._decoder = self._container.decode(self._stream)
        self._next = None  # a seek lands on some keyframe at or before the target

    def _decode_until(self, index: int):
        """Decode forward to frame ``index``; None when the decoder is already past it."""
        for frame in self._decoder:
            position = self._index.position(frame.pts if frame.pts is not None else frame.dts)
            if position is None:
                continue  # a frame the packet scan did not see: cannot be placed
            self._next = position + 1
            if position == index:
                return frame
            if position > index:
                return None
        self._decoder = self._next = None
        raise ReadError(f"frame {index} is missing: the stream ends before it (truncated?)",
                        self.path)

    def _decode_counting(self, index: int):
        """No usable timestamps: count frames from the start (slow, but exact)."""
        if self._decoder is None or self._next is None or self._next > index:
            self._container.close()
            self._container, self._stream = _open_stream(self.path, self._threads)
            self._decoder, self._next = self._container.decode(self._stream), 0
        for frame in self._decoder:
            self._next += 1
            if self._next - 1 == index:
                return frame
        self._decoder = self._next = None
        raise ReadError(f"frame {index} is missing: the stream ends before it (truncated?)",
                        self.path)

    def _release(self) -> None:
        self._decoder = None
        self._container.close()


def _open_stream(path: Path, threads: bool):
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise ReadError(f"not a video FFmpeg can read ({_reason(exc)})", path) from exc
    if not container.streams.video:
        container.close()
        raise ReadError("has no video stream", path)
    stream = container.streams.video[0]
    if stream.codec_context is None:
        container.close()
        raise ReadError(f"its codec {stream.codec_tag or '?'} cannot be decoded by this FFmpeg "
                        "build", path)
    if threads:
        stream.thread_type = "AUTO"
    return container, stream


def _scan(container, stream, path: Path) -> tuple[FrameIndex | None, int]:
    """Read every packet header once (no decoding): the frame index and the count."""
    packets = []
    try:
        for packet in container.demux(stream):
            if packet.size:  # size 0: the end-of-stream flush packet
                stamp = packet.pts if packet.pts is not None else packet.dts
                packets.append((stamp, packet.is_keyframe))
    except av.error.FFmpegError as exc:
        raise ReadError(f"damaged after {len(packets)} frames ({_reason(exc)})", path) from exc
    if not packets:
        raise ReadError("holds no video frames", path)
    return FrameIndex.from_packets(packets, stream.time_base), len(packets)


def _info(path: Path, stream, index: FrameIndex | None, packets: int) -> VideoInfo:
    rate = stream.average_rate or stream.guessed_rate
    fps = float(rate) if rate else (index.fps() if index is not None else None)
    return VideoInfo(path=path, width=int(stream.codec_context.width),
                     height=int(stream.codec_context.height),
                     frame_count=len(index) if index is not None else packets,
                     fps=fps or FALLBACK_FPS, codec=stream.codec_context.name,
                     backend=VideoReader.backend)


def _reason(exc: Exception) -> str:
    """FFmpeg's words for an error, without the errno and the repeated file name."""
    return str(getattr(exc, "strerror", None) or exc)
