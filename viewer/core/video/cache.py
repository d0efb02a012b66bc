"""A bounded least-recently-used cache of decoded frames.

Bounded by bytes, not by count: one 4K RGB frame is 25 MB, a 720p one 2.8 MB,
so a count that suits one would starve or swamp the other.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

DEFAULT_CACHE_MB = 256


class FrameCache:
    """Frames by index, the least recently used dropped first once over budget.

    Parameters
    ----------
    max_bytes : int
        Budget for the arrays held. A single frame larger than the budget is
        not kept at all.

    Notes
    -----
    Cached arrays are made read-only, so a caller that draws on a frame gets
    an error instead of silently changing what the next reader sees.
    """

    def __init__(self, max_bytes: int = DEFAULT_CACHE_MB << 20):
        if max_bytes < 0:
            raise ValueError(f"cache budget must be >= 0 bytes, got {max_bytes}")
        self.max_bytes = int(max_bytes)
        self.nbytes = 0
        self._frames: OrderedDict[int, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self._frames)

    def __contains__(self, index: int) -> bool:
        return index in self._frames

    def get(self, index: int) -> np.ndarray | None:
        """Return the cached frame (marking it most recently used), or None."""
        frame = self._frames.get(index)
        if frame is not None:
            self._frames.move_to_end(index)
        return frame

    def put(self, index: int, frame: np.ndarray) -> np.ndarray:
        """Keep ``frame`` (read-only from now on) and return it."""
        frame.flags.writeable = False
        if frame.nbytes > self.max_bytes:
            return frame
        old = self._frames.pop(index, None)
        if old is not None:
            self.nbytes -= old.nbytes
        self._frames[index] = frame
        self.nbytes += frame.nbytes
        while self.nbytes > self.max_bytes:
            _, dropped = self._frames.popitem(last=False)
            self.nbytes -= dropped.nbytes
        return frame

    def clear(self) -> None:
        """Drop every frame."""
        self._frames.clear()
        self.nbytes = 0
