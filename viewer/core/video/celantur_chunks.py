"""Per-frame masks from Celantur video metadata chunks ``name-START-END.json``.

Celantur writes a video's detections in chunks of at most 500 frames
(``FORMATS.md`` 2); the ``celantur-metadata`` format reads one frame of a
chunk as box segments. This source maps every frame id of every chunk to its
file. Frame ids are Celantur's sequential frame numbers; ``first_number``
says which id is the video's first frame.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from viewer.core.errors import ReadError
from viewer.core.formats.celantur_common import METADATA
from viewer.core.formats.celantur_metadata import sniff_chunk
from viewer.core.formats.registry import list_items, read_mask
from viewer.core.segmentation import Segmentation


def chunk_files(folder: Path) -> list[Path]:
    """The Celantur video metadata chunks in a folder, by name and content."""
    return sorted(p for p in folder.iterdir() if p.is_file() and sniff_chunk(p))


class CelanturChunks:
    """Celantur video metadata chunks as a per-frame mask source.

    Parameters
    ----------
    paths : iterable of str or Path
        Chunk files.
    video_size : (width, height), optional
        Where to draw the boxes; default each frame's own ``size``.
    first_number : int
        The frame id of the video's first frame.

    Raises
    ------
    ReadError
        A file that is not a video chunk, or one frame in two chunks.
    """

    def __init__(self, paths: Iterable[str | Path], *,
                 video_size: tuple[int, int] | None = None, first_number: int = 0):
        self.video_size = video_size
        self.first_number = first_number
        self.chunks: dict[int, Path] = {}
        for path in map(Path, paths):
            frame_ids = list_items(path, METADATA)
            if not frame_ids:
                raise ReadError("is per-image Celantur metadata, not a video chunk", path)
            for frame_id in map(int, frame_ids):
                other = self.chunks.setdefault(frame_id - first_number, path)
                if other != path:
                    raise ReadError(f"frame {frame_id} is also in {other.name}", path)

    def frames(self) -> list[int]:
        """The frame indices that have metadata, ascending."""
        return sorted(i for i in self.chunks if i >= 0)

    def mask_for(self, frame_index: int) -> Segmentation | None:
        """The detections of frame ``frame_index`` as box segments, or None."""
        path = self.chunks.get(frame_index)
        if path is None:
            return None
        return read_mask(path, METADATA, item=str(frame_index + self.first_number),
                         image_size=self.video_size)

    def summary(self) -> list[str]:
        """How many frames and chunks were found."""
        files = sorted(set(self.chunks.values()))
        return [f"{len(self.chunks)} frames of Celantur metadata in {len(files)} chunks "
                "(detections drawn as boxes)"]

    def close(self) -> None:
        """Nothing stays open between reads."""
