"""Write RGB frames as an H.264 video with PyAV, atomically.

OpenCV's pip wheel cannot encode H.264 (``PERFORMANCE.md``: its FFmpeg only
tries ``h264_v4l2m2m``); PyAV's wheel has ``libx264``. Frames go to a
temporary file beside the target, renamed over it only once the stream is
complete, so a failed or cancelled export never leaves half a video.
"""

from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path

import numpy as np

from viewer.core.errors import WriteError
from viewer.core.fileio import atomic_open

#: Container by suffix; H.264 fits all of them (WebM does not take H.264).
CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
#: Encoders that write H.264, the first one present is used.
H264_ENCODERS = ("libx264", "libopenh264")
#: libx264 quality: CRF 18 is visually lossless for overlays; "veryfast" keeps a
#: 1080p export near real time on two cores at the cost of a larger file.
X264_OPTIONS = {"crf": "18", "preset": "veryfast"}


def h264_encoder() -> str | None:
    """The name of an H.264 encoder in this PyAV build, or None."""
    import av

    for name in H264_ENCODERS:
        with contextlib.suppress(ValueError):  # av's UnknownCodecError is a ValueError
            av.codec.Codec(name, "w")
            return name
    return None


class VideoWriter:
    """An H.264 video written one RGB frame at a time.

    Parameters
    ----------
    path : str or Path
        ``.mp4``, ``.m4v``, ``.mov`` or ``.mkv``.
    width, height : int
        Frame size. 4:2:0 video needs even sizes: an odd width or height is
        padded by repeating the last column or row (see :attr:`padded`).
    fps : float or Fraction
    codec : str, optional
        Encoder name; default the first H.264 encoder available.

    Use as a context manager: leaving it normally finishes the file, an
    exception discards it.
    """

    def __init__(self, path: str | Path, width: int, height: int, fps: float | Fraction, *,
                 codec: str | None = None):
        self.path = Path(path)
        container_format = CONTAINERS.get(self.path.suffix.lower())
        if container_format is None:
            raise WriteError(f"cannot write a {self.path.suffix or 'suffix-less'} video; use "
                             f"{', '.join(CONTAINERS)}", self.path)
        import av

        codec = codec or h264_encoder()
        if codec is None:
            raise WriteError("this PyAV build has no H.264 encoder "
                             f"({' or '.join(H264_ENCODERS)})", self.path)
        self.size = (width, height)
        self.padded = (width + width % 2, height + height % 2)
        self.frames_written = 0
        rate = Fraction(fps).limit_denominator(1001 * 1000) if fps else Fraction(25)
        self._stack = contextlib.ExitStack()
        handle = self._stack.enter_context(atomic_open(self.path, "wb"))
        try:
            self._container = av.open(handle, mode="w", format=container_format)
            self._stream = self._container.add_stream(codec, rate=rate)
        except (av.error.FFmpegError, ValueError) as exc:
            self._stack.__exit__(type(exc), exc, exc.__traceback__)
            raise WriteError(f"cannot start a {codec} video: {exc}", self.path) from exc
        self._stream.width, self._stream.height = self.padded
        self._stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            self._stream.options = dict(X264_OPTIONS)
        self._time_base = Fraction(1) / rate

    def write(self, rgb: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 RGB frame of the writer's size."""
        import av

        if rgb.shape != (self.size[1], self.size[0], 3) or rgb.dtype != np.uint8:
            raise ValueError(f"expected a {self.size[0]}x{self.size[1]} RGB uint8 frame, got "
                             f"{rgb.shape} {rgb.dtype}")
        frame = av.VideoFrame.from_ndarray(_pad_even(rgb), format="rgb24")
        frame.pts, frame.time_base = self.frames_written, self._time_base
        self._mux(self._stream.encode(frame))
        self.frames_written += 1

    def close(self) -> Path:
        """Flush the encoder, finish the file and move it into place."""
        self._mux(self._stream.encode())
        try:
            self._container.close()
        except OSError as exc:  # the last packets meet a full disk
            raise WriteError(f"cannot write: {exc.strerror or exc}", self.path) from exc
        self._stack.close()
        return self.path

    def abort(self, exc: BaseException | None = None) -> None:
        """Drop the partial file."""
        with contextlib.suppress(Exception):
            self._container.close()
        error = exc or WriteError("export abandoned", self.path)
        with contextlib.suppress(BaseException):
            self._stack.__exit__(type(error), error, error.__traceback__)

    def _mux(self, packets) -> None:
        import av

        try:
            self._container.mux(packets)
        except OSError as exc:  # from our file handle, through PyAV: a full disk, a quota
            raise WriteError(f"cannot write frame {self.frames_written}: "
                             f"{exc.strerror or exc}", self.path) from exc
        except av.error.FFmpegError as exc:
            raise WriteError(f"cannot write frame {self.frames_written}: {exc}", self.path) \
                from exc

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort(exc)


def _pad_even(rgb: np.ndarray) -> np.ndarray:
    rows, cols = rgb.shape[0] % 2, rgb.shape[1] % 2
    if not rows and not cols:
        return rgb
    return np.pad(rgb, ((0, rows), (0, cols), (0, 0)), mode="edge")
