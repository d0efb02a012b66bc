"""Small real video clips made with PyAV for the video tests (imported, not collected).

Frame ``i`` of :func:`numbered_frames` carries its number in its pixels: the
top half is grey ``8 + 5 i``, a level a lossy codec moves by a unit or two at
most on a flat area, so :func:`frame_number` reads it back exactly. The
bottom half is a flat grey ``PHOTO_GREY`` on which tests draw overlays.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import av
import numpy as np

SIZE = (64, 48)  # width, height
FRAMES = 48
PHOTO_GREY = 100
#: The square a per-frame mask marks in frame i: rows 30..44, columns i..i+12.
SQUARE_ROWS = (30, 44)
SQUARE_WIDTH = 12


def codec() -> str:
    """libx264 when the PyAV wheel has it (it does on PyPI), else mpeg4."""
    try:
        av.codec.Codec("libx264", "w")
        return "libx264"
    except ValueError:
        return "mpeg4"


def write_clip(path: Path, frames: Iterable[np.ndarray], *, fps: int = 25,
               codec_name: str | None = None, gop: int = 12,
               options: dict[str, str] | None = None) -> Path:
    """Encode RGB frames; H.264 with B-frames, so decode order differs from display order.

    ``options`` go to the muxer (``{"movflags": "faststart"}``: the MP4 index first).
    """
    codec_name = codec_name or codec()
    frames = list(frames)
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w", options=options or {}) as container:
        stream = container.add_stream(codec_name, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        # High quality: at the default CRF, x264 keeps whole flat blocks of the
        # previous frame (skip blocks), which would blur the frame numbers.
        if codec_name == "libx264":
            stream.options = {"g": str(gop), "bf": "2", "crf": "10"}
        else:
            stream.options = {"g": str(gop)}
            stream.bit_rate = 4_000_000
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def numbered_frame(i: int, size: tuple[int, int] = SIZE) -> np.ndarray:
    width, height = size
    rgb = np.full((height, width, 3), PHOTO_GREY, np.uint8)
    rgb[: height // 2] = 8 + 5 * i
    return rgb


def numbered_frames(n: int = FRAMES, size: tuple[int, int] = SIZE) -> list[np.ndarray]:
    return [numbered_frame(i, size) for i in range(n)]


def frame_number(rgb: np.ndarray) -> int:
    """The number :func:`numbered_frame` put in a decoded frame."""
    top = rgb[2: rgb.shape[0] // 2 - 2, 2:-2]
    return round((float(top.mean()) - 8) / 5)


def square_labels(i: int, size: tuple[int, int] = SIZE, value: int = 1) -> np.ndarray:
    """A label map marking frame i's square with ``value``."""
    width, height = size
    labels = np.zeros((height, width), np.uint8)
    labels[SQUARE_ROWS[0]:SQUARE_ROWS[1], i: i + SQUARE_WIDTH] = value
    return labels


def write_masked_clip(folder: Path, n: int = FRAMES, size: tuple[int, int] = SIZE, *,
                      stem: str = "clip", empty: Iterable[int] = ()) -> tuple[Path, Path]:
    """``folder/<stem>.mp4`` of :func:`numbered_frames` and ``folder/masks/<stem>_NNNN.png``
    with frame i's square (an empty mask for the frames in ``empty``)."""
    from PIL import Image

    video = write_clip(folder / f"{stem}.mp4", numbered_frames(n, size))
    masks = folder / "masks"
    masks.mkdir()
    empty = set(empty)
    for i in range(n):
        labels = square_labels(i, size)
        Image.fromarray(labels * (i not in empty)).save(masks / f"{stem}_{i:04d}.png")
    return video, masks
