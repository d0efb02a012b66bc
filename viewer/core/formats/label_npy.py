"""Integer label maps in ``.npy`` / ``.npz``: labelme's int32 maps and DeepStream class maps.

Both write int32 (H, W): labelme's ``SegmentationClassNpy`` uses -1 for its
``__ignore__`` class, DeepStream's ``get_segmentation_masks()`` uses -1 for "no
class above the threshold" (``FORMATS.md`` 1.3 and 6.3). Either way -1 is a
void segment of its own, never merged into class 0, and written back as -1.
Files are loaded without pickle; class names come from the same side files as
index PNGs. Float arrays (score blobs) belong to ``opencv-blob``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from viewer.core import safe_input
from viewer.core.errors import ReadError, WriteError
from viewer.core.formats.base import FormatSpec
from viewer.core.formats.common import load_npy, save_npy
from viewer.core.formats.names import read_names_beside
from viewer.core.palettes import builtin_palette
from viewer.core.segmentation import Kind, Provenance, Segmentation

NAME = "label-npy"


def read(path: str | Path, *, item: str | None = None, kind: Kind | str = Kind.SEMANTIC,
         names: dict[int, str] | None = None, void_values: tuple[int, ...] = (-1,),
         **_options) -> Segmentation:
    """Read an integer label map.

    Parameters
    ----------
    path : str or Path
        ``.npy``, or ``.npz`` (``item`` names the array; default the only one
        or ``labels``/``mask``).
    kind : Kind
    names : mapping of value to name, optional
        Overrides names found in side files.
    void_values : tuple of int
        Values meaning void; -1 by default (labelme ignore, DeepStream none).
    """
    path = Path(path)
    values = load_npy(path, key=item)
    if values.ndim == 3 and values.shape[0] == 1:
        values = values[0]
    if values.ndim != 2:
        raise ReadError(f"a label map is 2-D (H, W); this array has shape {values.shape}", path)
    if values.dtype == bool:
        values = values.astype(np.uint8)
    if not np.issubdtype(values.dtype, np.integer):
        raise ReadError(f"holds {values.dtype} values, not integer labels (score blobs are "
                        "read by the opencv-blob format)", path)
    found = read_names_beside(path)
    found.update(names or {})
    details = {"dtype": str(values.dtype)}
    if found.get(-1) is None and (values == -1).any():
        found[-1] = "ignore"
    return Segmentation.from_values(
        values, kind=kind, names=found, palette=builtin_palette("voc"), void_values=void_values,
        provenance=Provenance(str(path), NAME, details))


def write(seg: Segmentation, path: str | Path, *, dtype: str = "int32", **_options) -> list[Path]:
    """Write the source values as an int32 (default) ``.npy``.

    Raises
    ------
    WriteError
        When a value does not fit the dtype.
    """
    path = Path(path)
    if path.suffix.lower() != ".npy":
        path = path.with_suffix(".npy")
    values = seg.to_values(np.int64)
    target = np.dtype(dtype)
    info = np.iinfo(target)
    if values.size and (values.min() < info.min or values.max() > info.max):
        raise WriteError(f"values {values.min()}..{values.max()} do not fit {target}", path)
    return [save_npy(path, values.astype(target))]


def sniff(path: Path) -> bool:
    """True for an array of integers with 2 dimensions (or 1 x H x W)."""
    try:
        if path.suffix.lower() == ".npz":
            return True
        shape, dtype = safe_input.npy_header(path)
    except (OSError, ValueError, EOFError, ReadError):
        return False
    integer = np.issubdtype(dtype, np.integer) or dtype == bool
    return integer and (len(shape) == 2 or (len(shape) == 3 and shape[0] == 1))


FORMAT = FormatSpec(
    name=NAME,
    title="Integer label map .npy/.npz (labelme, DeepStream class map)",
    extensions=(".npy", ".npz"),
    read=read,
    write=write,
    sniff=sniff,
    priority=10,
    notes="int32, -1 = ignore / no class above threshold; never unpickled",
)
FORMATS = (FORMAT,)
