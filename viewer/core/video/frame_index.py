"""Where every frame of a video stream sits in time: frame index <-> timestamp.

Built once per file from the packets alone (demuxing without decoding, the
way torchvision's ``read_video_timestamps`` does): the sorted presentation
timestamps are the frames in display order, so frame ``i`` has the i-th
smallest timestamp. That is exact for variable frame rates and B-frames,
where ``i / fps`` is not, and it gives the frame count without trusting the
container header (Matroska and WebM often have none).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np


@dataclass(frozen=True)
class FrameIndex:
    """Presentation timestamps of the frames, in display order.

    Attributes
    ----------
    pts : ndarray of shape (N,), int64
        Strictly increasing timestamps in ``time_base`` units.
    keyframes : ndarray of shape (K,), int64
        Frame indices (not timestamps) of the keyframes, ascending.
    time_base : Fraction
        Seconds per timestamp unit.
    """

    pts: np.ndarray
    keyframes: np.ndarray
    time_base: Fraction

    @classmethod
    def from_packets(cls, packets: Iterable[tuple[int | None, bool]],
                     time_base: Fraction | None) -> FrameIndex | None:
        """Build the index from ``(timestamp, is_keyframe)`` per packet.

        Returns None when timestamps are missing or repeat: such a stream can
        only be read by counting frames from its start.
        """
        stamps, keys = [], []
        for pts, key in packets:
            if pts is None:
                return None
            stamps.append(int(pts))
            if key:
                keys.append(int(pts))
        if not stamps or time_base is None:
            return None
        pts = np.sort(np.asarray(stamps, np.int64))
        if np.any(np.diff(pts) <= 0):
            return None
        key_positions = np.searchsorted(pts, np.asarray(keys, np.int64))
        return cls(pts, np.unique(key_positions).astype(np.int64), Fraction(time_base))

    def __len__(self) -> int:
        return int(self.pts.size)

    def position(self, pts: int | None) -> int | None:
        """The frame index of a timestamp, or None when no frame has it."""
        if pts is None:
            return None
        i = int(np.searchsorted(self.pts, pts))
        return i if i < self.pts.size and int(self.pts[i]) == pts else None

    def keyframe_before(self, index: int) -> int:
        """The last keyframe at or before frame ``index`` (0 when there is none)."""
        k = int(np.searchsorted(self.keyframes, index, side="right")) - 1
        return int(self.keyframes[k]) if k >= 0 else 0

    def seek_points(self, index: int) -> Iterator[int]:
        """Keyframes to seek to for ``index``, nearest first, ending with frame 0.

        Some demuxers land a little after the asked timestamp; each further
        point is one keyframe earlier, so a retry can only decode more frames,
        never land later.
        """
        k = self.keyframe_before(index)
        while k > 0:
            yield k
            k = self.keyframe_before(k - 1)
        yield 0

    def time_of(self, index: int) -> float:
        """Seconds from the first frame to frame ``index``."""
        return float((int(self.pts[index]) - int(self.pts[0])) * self.time_base)

    def index_at(self, seconds: float) -> int:
        """The frame shown at ``seconds`` from the first frame (clamped to the video)."""
        # Floor (the frame already on screen), forgiving float round-off of a
        # millionth of a tick so that index_at(time_of(i)) == i.
        target = int(self.pts[0]) + math.floor(seconds / float(self.time_base) + 1e-6)
        return max(0, int(np.searchsorted(self.pts, target, side="right")) - 1)

    def fps(self) -> float | None:
        """Mean frames per second over the stream, or None for a single frame."""
        if self.pts.size < 2:
            return None
        span = float((int(self.pts[-1]) - int(self.pts[0])) * self.time_base)
        return (self.pts.size - 1) / span if span > 0 else None
