"""The PyAV video reader: exact frame-accurate seeking by presentation timestamp.

To read frame ``i``: seek to the last keyframe at or before it, then decode
forward and keep the frame whose timestamp is the i-th one of the file
(:class:`~viewer.core.video.frame_index.FrameIndex`). A request just ahead of
the last decoded frame, with no keyframe in between, decodes on without a
seek, so playing forward costs one decode per frame.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import av
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
            scan = _scan(self._container, self._stream, path)
        except BaseException:
            self._container.close()
            raise
        self._index = scan.index
        self.info = _info(path, self._container, self._stream, scan)
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
            frame = self._decode_until(index, after_seek=True)
            if frame is not None:
                return frame
        # Every seek landed past the frame: an AVI cut before its index (idx1) can
        # only seek by scanning forward. A fresh demuxer starts at the first frame.
        self._restart()
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

    def _restart(self) -> None:
        self._container.close()
        self._container, self._stream = _open_stream(self.path, self._threads)
        self._decoder, self._next = self._container.decode(self._stream), None

    def _decode_until(self, index: int, *, after_seek: bool = False):
        """Decode forward to frame ``index``; None when the decoder is already past it
        (or, just after a seek, when the seek went beyond the last frame)."""
        seen = False
        for frame in self._decoder:
            seen = True
            position = self._index.position(frame.pts if frame.pts is not None else frame.dts)
            if position is None:
                continue  # a frame the packet scan did not see: cannot be placed
            self._next = position + 1
            if position == index:
                return frame
            if position > index:
                return None
        self._decoder = self._next = None
        if after_seek and not seen:
            return None  # nothing after the seek: it landed past the end, not the stream
        raise VideoCutShort(index, self.path)

    def _decode_counting(self, index: int):
        """No usable timestamps: count frames from the start (slow, but exact)."""
        if self._decoder is None or self._next is None or self._next > index:
            self._restart()
            self._next = 0
        for frame in self._decoder:
            self._next += 1
            if self._next - 1 == index:
                return frame
        self._decoder = self._next = None
        raise VideoCutShort(index, self.path)

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
        # (no codec_tag attribute in every PyAV version: the message must not fail itself)
        tag = getattr(stream, "codec_tag", None) or "?"
        raise ReadError(f"its codec {tag} cannot be decoded by this FFmpeg build (or the file "
                        "is cut short before its codec parameters)", path)
    if threads:
        stream.thread_type = "AUTO"
    return container, stream


class _Scan(NamedTuple):
    index: FrameIndex | None
    packets: int
    #: Seconds from the first frame's start to the last frame's end, when timestamped.
    span: float | None


def _scan(container, stream, path: Path) -> _Scan:
    """Read every packet header once (no decoding): the frame index, the count, the span."""
    packets = []
    first = end = None
    try:
        for packet in container.demux(stream):
            if packet.size:  # size 0: the end-of-stream flush packet
                stamp = packet.pts if packet.pts is not None else packet.dts
                packets.append((stamp, packet.is_keyframe))
                if stamp is not None:
                    stop = stamp + (packet.duration or 0)
                    first = stamp if first is None else min(first, stamp)
                    end = stop if end is None else max(end, stop)
    except av.error.FFmpegError as exc:
        raise ReadError(f"damaged after {len(packets)} frames ({_reason(exc)})", path) from exc
    if not packets:
        raise ReadError("holds no video frames", path)
    span = float((end - first) * stream.time_base) if first is not None and stream.time_base \
        else None
    return _Scan(FrameIndex.from_packets(packets, stream.time_base), len(packets), span)


def _info(path: Path, container, stream, scan: _Scan) -> VideoInfo:
    rate = stream.average_rate or stream.guessed_rate
    index = scan.index
    fps = float(rate) if rate else (index.fps() if index is not None else None)
    fps = fps or FALLBACK_FPS
    count = len(index) if index is not None else scan.packets
    return VideoInfo(path=path, width=int(stream.codec_context.width),
                     height=int(stream.codec_context.height), frame_count=count,
                     fps=fps, codec=stream.codec_context.name, backend=VideoReader.backend,
                     declared_frames=_declared_frames(container, stream, scan, count, fps))


def _declared_frames(container, stream, scan: _Scan, count: int, fps: float) -> int | None:
    """What the header promises: its frame count (MP4, AVI), else its duration (Matroska).

    A count is exact. A duration is compared with the time the packets span
    (the last one's own duration included, so a variable rate does not
    matter), with half a frame of slack for rounding; the frame count it
    implies is then the estimate reported.
    """
    if stream.frames and stream.frames > 0:
        return int(stream.frames)
    duration = _declared_seconds(container, stream)
    if duration is None or scan.span is None:
        return None
    span = scan.span if scan.span > (count - 1) / fps else scan.span + 1 / fps  # no durations
    if span >= duration - 0.5 / fps - 0.002:
        return count
    return max(count + 1, round(duration * fps))


def _declared_seconds(container, stream) -> float | None:
    """The video stream's own duration, or the file's when it holds nothing else."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    tag = (stream.metadata or {}).get("DURATION")  # Matroska's per-stream tag, "H:MM:SS.fff"
    if tag:
        try:
            hours, minutes, seconds = tag.split(":")
            return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
        except ValueError:
            return None
    if len(container.streams) == 1 and container.duration:
        return container.duration / 1_000_000  # AV_TIME_BASE; other streams may be longer
    return None


def _reason(exc: Exception) -> str:
    """FFmpeg's words for an error, without the errno and the repeated file name."""
    return str(getattr(exc, "strerror", None) or exc)
