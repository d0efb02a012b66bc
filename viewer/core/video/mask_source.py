"""Per-frame masks behind one small interface, and the choice of source for a path.

Every source answers ``mask_for(frame_index)`` with a new
:class:`~viewer.core.segmentation.Segmentation` (the caller may edit it) or
None for a frame without a mask; caching belongs to the caller, which knows
what was edited.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from viewer.core.errors import ReadError
from viewer.core.formats.celantur_common import METADATA
from viewer.core.formats.registry import list_items
from viewer.core.segmentation import Segmentation
from viewer.core.video.base import VIDEO_EXTENSIONS, is_video
from viewer.core.video.celantur_chunks import CelanturChunks, chunk_files
from viewer.core.video.mask_folder import MaskFolder
from viewer.core.video.mask_video import MaskVideo


@runtime_checkable
class MaskSource(Protocol):
    """Masks for the frames of one video."""

    def frames(self) -> list[int]:
        """Frame indices that have a mask, ascending."""

    def mask_for(self, frame_index: int) -> Segmentation | None:
        """The mask of a frame, or None when it has none."""

    def summary(self) -> list[str]:
        """Sentences worth telling the user after a run (colour damage, counts)."""

    def close(self) -> None:
        """Release open files."""


def open_mask_source(path: str | Path, *, video_size: tuple[int, int] | None = None,
                     legend: str | Path | None = None, format_name: str | None = None,
                     pattern: str = "*", first_number: int = 0,
                     backend: str | None = None) -> MaskSource:
    """Open the per-frame masks at ``path``.

    - a folder of Celantur chunks ``name-START-END.json``, or one chunk:
      :class:`CelanturChunks`;
    - any other folder: :class:`MaskFolder` (one mask file per frame);
    - a video file: :class:`MaskVideo` (RGB masks snapped to ``legend``).

    Raises
    ------
    ReadError
        Naming the path: missing, or nothing above.
    """
    path = Path(path)
    if not path.exists():
        raise ReadError("file not found", path)
    if path.is_dir():
        chunks = chunk_files(path)
        if chunks:
            return CelanturChunks(chunks, video_size=video_size, first_number=first_number)
        return MaskFolder(path, video_size=video_size, format_name=format_name,
                          pattern=pattern, first_number=first_number)
    if is_video(path):
        return MaskVideo(path, legend=legend, video_size=video_size, backend=backend)
    # A JSON that is not a chunk falls through; a damaged one says where it breaks.
    if path.suffix.lower() == ".json" and list_items(path, METADATA):
        return CelanturChunks([path], video_size=video_size, first_number=first_number)
    raise ReadError("is not a source of per-frame masks: give a folder with one mask per "
                    f"frame, a mask video ({', '.join(VIDEO_EXTENSIONS)}) or Celantur video "
                    "metadata chunks", path)

