"""Honest frame counts: a video cut short is said so, with the counts, never passed as whole.

A file cut to 90 % of its bytes still opens: its container declares 113
frames, 102 packets are left and 99 of them decode. Reading "every frame" then
quietly renders 99. The tasks that go through a whole video
(:func:`~viewer.core.video.export.export_overlay_video`,
:func:`~viewer.core.video.segment_video.segment_video`) read it through
:func:`whole_video_frames` instead, which refuses such a file, before any work
when the packets already fall short and at the cut otherwise, unless the
caller allows a partial result; then it says how much was decoded.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from viewer.core.errors import ReadError
from viewer.core.video.base import FrameReader, VideoCutShort


class PartialVideoError(ReadError):
    """A video whose decodable frames fall short of what its container declares.

    Attributes
    ----------
    decoded : int or None
        Frames decoded before the cut (None when refused before decoding).
    expected : int
        Frames declared (or, without a declaration, found in the file's index).
    """

    def __init__(self, message: str, path, *, decoded: int | None, expected: int):
        self.decoded = decoded
        self.expected = expected
        super().__init__(message, path)


def expected_frames(video: FrameReader) -> int:
    """Frames a whole read should give: the declared count, or the file's own when larger."""
    return max(video.info.declared_frames or 0, video.frame_count)


def shortfall(video: FrameReader) -> str | None:
    """Words for a file whose index already holds fewer frames than declared, or None."""
    declared = video.info.declared_frames
    if declared is None or video.frame_count >= declared:
        return None
    return f"holds {video.frame_count} of the {declared} frames its container declares"


def refuse_short(video: FrameReader) -> None:
    """Raise :class:`PartialVideoError` when the file's index is short of the declared count.

    The cheap check, before any frame is decoded (a cut at a frame boundary
    is found only by decoding, by :func:`whole_video_frames`).
    """
    short = shortfall(video)
    if short is not None:
        raise PartialVideoError(f"{short} (the file is cut short?)", video.path, decoded=None,
                                expected=expected_frames(video))


def whole_video_frames(video: FrameReader, *, allow_partial: bool = False,
                       notes: list[str] | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """``(index, frame)`` for every frame, checking that the whole video is there.

    Parameters
    ----------
    video : FrameReader
    allow_partial : bool
        Give the frames there are when the file is cut short, and append a
        sentence with the counts to ``notes``, instead of raising.
    notes : list of str, optional
        Where that sentence goes.

    Raises
    ------
    PartialVideoError
        Without ``allow_partial``: before the first frame when the file's
        index is short of the declared count, else at the first frame the
        stream ends before.
    ReadError
        A frame that cannot be decoded for another reason.
    """
    expected = expected_frames(video)
    if not allow_partial:
        refuse_short(video)
    decoded = 0
    try:
        for index, rgb in video.frames():
            yield index, rgb
            decoded = index + 1
    except VideoCutShort:
        if not allow_partial:
            raise PartialVideoError(f"decoded {decoded} of {_of(video, expected)} (the rest of "
                                    "the file cannot be read: cut short?)", video.path,
                                    decoded=decoded, expected=expected) from None
    if decoded < expected and notes is not None:
        notes.append(f"warning: decoded {decoded} of {_of(video, expected)}; the rest of "
                     f"{video.path.name} cannot be read (cut short?)")


def _of(video: FrameReader, expected: int) -> str:
    declared = video.info.declared_frames is not None and video.info.declared_frames >= expected
    return f"{expected} declared frames" if declared else f"the {expected} frames in its index"
