"""Our metadata JSON for a video export: one record per frame with a mask.

The records are the ``frames`` of ``segview-metadata.schema.json``, made by
:func:`viewer.core.metadata.build_video` one frame at a time while the export
runs, so no label map is held longer than its frame; the document's header
(size, kind, provenance) comes from the first frame recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from viewer.core import metadata
from viewer.core.errors import WriteError
from viewer.core.segmentation import Segmentation


class VideoMetadata:
    """Collects frame records during an export, then writes the document.

    Parameters
    ----------
    video : str or Path
        The source video (``source_image`` of the document).
    format_name : str, optional
        Registry name of mask files written per frame, if any.
    """

    def __init__(self, video: str | Path, *, format_name: str | None = None):
        self.video = Path(video)
        self.format_name = format_name
        self._header: dict[str, Any] | None = None
        self.records: list[dict[str, Any]] = []

    def add(self, frame_index: int, seconds: float | None, seg: Segmentation,
            mask_files: Sequence[str | Path] = ()) -> None:
        """Record the segments of one frame."""
        doc = metadata.build_video([(frame_index, seconds, seg, list(mask_files))],
                                   format_name=self.format_name, image=self.video)
        if self._header is None:
            self._header = doc
        self.records.append(doc["frames"][0])

    def document(self, *, overlay_file: str | None = None) -> dict[str, Any]:
        """The whole document (``frames`` in the order recorded)."""
        if self._header is None:
            raise WriteError("no frame had a mask, so there is no metadata to write", self.video)
        doc = dict(self._header, frames=list(self.records))
        if overlay_file is not None:
            doc["overlay_file"] = overlay_file
        return doc

    def write(self, path: str | Path, *, overlay_file: str | None = None) -> Path:
        """Validate and write the document atomically."""
        return metadata.write(path, self.document(overlay_file=overlay_file))
