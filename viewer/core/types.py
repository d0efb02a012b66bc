"""Array conventions and the label-map dtype policy.

Conventions
-----------
- Arrays are ``(H, W[, C])`` and points are ``(row, col)``.
- Colours inside the core are RGB(A) ``uint8``; BGR exists only at cv2 I/O edges.
- A bounding box is ``(row0, col0, row1, col1)``, half-open: rows ``row0..row1-1``.

Dtype policy for label maps
---------------------------
A label map holds segment *ids*, not the values found in a file. It is stored as
compactly as the ids allow, because every full-frame pass (colourize, statistics)
costs bandwidth in proportion to the bytes per pixel:

- ``uint8`` while every id is below 256 (semantic class maps, binary masks);
- ``uint16`` while every id is below 65,536 (instance maps);
- ``uint32`` only beyond that.

Source values that are not valid ids (negative values such as DeepStream's -1,
or values too large to keep, such as COCO panoptic ids up to 2**24) are mapped to
compact ids; each segment remembers its ``source_value`` so that export restores
the exact file values.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np

LabelMap: TypeAlias = np.ndarray
RGBImage: TypeAlias = np.ndarray
RGBAImage: TypeAlias = np.ndarray
BBox: TypeAlias = tuple[int, int, int, int]
RGB: TypeAlias = tuple[int, int, int]

LABEL_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.uint32))


def dtype_for_max_id(max_id: int) -> np.dtype:
    """Return the most compact label dtype that holds ids ``0..max_id``.

    Parameters
    ----------
    max_id : int
        The largest id that must be stored.

    Returns
    -------
    numpy.dtype
        ``uint8``, ``uint16`` or ``uint32``.
    """
    if max_id < 0:
        raise ValueError(f"ids are non-negative, got {max_id}")
    if max_id < 2**8:
        return np.dtype(np.uint8)
    if max_id < 2**16:
        return np.dtype(np.uint16)
    if max_id < 2**32:
        return np.dtype(np.uint32)
    raise ValueError(f"id {max_id} does not fit in 32 bits")
