"""Export per-frame masks as Celantur video metadata chunks ``name-START-END.json``.

Celantur writes a video's detections in files of at most 500 frames, named
by the first and last frame id they hold, both inclusive (``FORMATS.md`` 2;
the reader, :mod:`viewer.core.formats.celantur_metadata`, checks
``END - START + 1 <= 500`` and every id within START..END). Chunks here
cover aligned windows of frame indices (0-499, 500-999, ...), each named by
the first and last frame it actually holds, so a video with a mask on every
frame gets exactly Celantur's layout and one with gaps gets no empty files.

Each frame is ``{"id", "detections", "size", "duration"}`` with ``id`` the
sequential frame number (``first_number`` for the video's first frame) and
one detection per segment that is neither background nor void:

- ``bbox`` ``[x1, y1, x2, y2]``: the segment's box, its covered pixels
  included (``Segmentation.full_masks``), with exclusive ends, so the
  reader's boxes cover the same pixels;
- ``offset``: the box's upper-left corner (the attribute table's meaning),
  or the value read from Celantur for a detection that came from it;
- ``score``: the segment's score, else its mean per-pixel confidence, else
  null;
- ``type_label``: the Celantur type name when the label is one (``person``,
  ``face``, ``vehicle``, ``license plate``), else the label as it is, which
  Celantur itself never writes but the reader keeps; ``type`` and ``color``
  as read from Celantur, else null; ``is_anonymized`` as read, else true;
- ``parent_image``: the frame's id (a per-image file's detections carry the
  image's id the same way).

What is lost: the shape of every mask (Celantur metadata holds boxes), and
frames without a mask (no record, as opposed to a record with no
detections).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from viewer.core.errors import WriteError
from viewer.core.formats.celantur_common import TYPES, type_code
from viewer.core.formats.celantur_metadata import MAX_CHUNK_FRAMES
from viewer.core.formats.common import dump_json
from viewer.core.segment_table import Segment
from viewer.core.segmentation import BACKGROUND_NAMES, Segmentation
from viewer.core.tasks import Progress, Task
from viewer.core.transaction import transaction
from viewer.core.types import BBox
from viewer.core.video.mask_source import MaskSource


def chunk_name(name: str, start: int, end: int) -> str:
    """``name-START-END.json``, ``END`` inclusive as the reader expects."""
    return f"{name}-{start}-{end}.json"


def export_celantur_chunks(masks: MaskSource, out_dir: str | Path, name: str, *,
                           video_size: tuple[int, int] | None, first_number: int = 0,
                           chunk_frames: int = MAX_CHUNK_FRAMES) -> Task[list[Path]]:
    """Write the masks' segments as Celantur video metadata chunks.

    Parameters
    ----------
    masks : MaskSource
    out_dir : str or Path
        Created when missing.
    name : str
        The chunks' base name (usually the video's stem).
    video_size : (width, height) or None
        Written as each frame's ``size``; a mask of another size is refused.
        None: each mask's own size.
    first_number : int
        The frame id of the video's first frame.
    chunk_frames : int
        Frames per chunk, 1..500.

    Returns
    -------
    list of Path
        The chunks, in frame order.

    Raises
    ------
    WriteError
        A bad name, a mask of the wrong size, a file that cannot be written,
        or no frame with a mask.
    """
    out_dir = Path(out_dir)
    _check_arguments(out_dir, name, first_number, chunk_frames)
    frames = masks.frames()
    total = len(frames)
    written: list[Path] = []
    batch: list[dict[str, Any]] = []
    window = None
    yield Progress(0, total, "Writing Celantur metadata")
    # One transaction: all the chunks appear together, or none does.
    with transaction(home=out_dir, label=name):
        for done, index in enumerate(frames, start=1):
            seg = masks.mask_for(index)
            if seg is not None:
                if batch and index // chunk_frames != window:
                    written.append(_write_chunk(out_dir, name, batch))
                    batch = []
                window = index // chunk_frames
                batch.append(frame_record(seg, index + first_number,
                                          _size(seg, video_size, index, out_dir)))
            yield Progress(done, total, f"Frame {index}")
        if batch:
            written.append(_write_chunk(out_dir, name, batch))
        if not written:
            raise WriteError("no frame had a mask, so no Celantur metadata was written",
                             out_dir)
    return written


def frame_record(seg: Segmentation, frame_id: int, size: tuple[int, int]) -> dict[str, Any]:
    """One frame of a chunk: its id, size and one detection per object segment."""
    segments = [s for s in seg.table if _is_object(s) and _box(seg, s) is not None]
    return {
        "id": frame_id,
        "detections": [detection_record(seg, s, number, frame_id)
                       for number, s in enumerate(segments)],
        "size": [int(size[0]), int(size[1])],
        "duration": None,  # Celantur's processing time; there was none
    }


def detection_record(seg: Segmentation, segment: Segment, number: int,
                     frame_id: int) -> dict[str, Any]:
    """One detection: the segment's box, score and type (see the module docstring)."""
    r0, c0, r1, c1 = _box(seg, segment)
    a = segment.attributes
    code = type_code(segment.label)
    offset = a.get("offset")
    return {
        "id": number,
        "parent_image": frame_id,
        "offset": list(offset) if isinstance(offset, list | tuple) else [c0, r0],
        "bbox": [c0, r0, c1, r1],
        "score": _score(seg, segment),
        "is_anonymized": a.get("is_anonymized", True),
        "type_label": TYPES[code] if code is not None else (segment.label or "unknown"),
        "type": a.get("type"),
        "color": a.get("color"),
    }


def _is_object(s: Segment) -> bool:
    """Neither void nor background (by name, or value 0 without a name)."""
    if s.void or s.label.strip().lower() in BACKGROUND_NAMES:
        return False
    return not (s.label == "" and s.value in (0, (0, 0, 0)))


def _box(seg: Segmentation, s: Segment) -> BBox | None:
    """The segment's box ``(row0, col0, row1, col1)``, covered pixels included."""
    full = seg.full_masks.get(s.id)
    boxes = [b for b in (s.bbox, full.bbox if full is not None else None) if b is not None]
    if not boxes:
        return None
    return (int(min(b[0] for b in boxes)), int(min(b[1] for b in boxes)),
            int(max(b[2] for b in boxes)), int(max(b[3] for b in boxes)))


def _score(seg: Segmentation, s: Segment) -> float | None:
    if s.score is not None and math.isfinite(s.score):
        return float(s.score)
    if seg.confidence is None or s.bbox is None:
        return None
    r0, c0, r1, c1 = s.bbox
    inside = seg.labels[r0:r1, c0:c1] == s.id
    value = float(np.mean(seg.confidence[r0:r1, c0:c1][inside])) if inside.any() else None
    return value if value is not None and math.isfinite(value) else None


def _size(seg: Segmentation, video_size: tuple[int, int] | None, index: int,
          out_dir: Path) -> tuple[int, int]:
    if video_size is None:
        return seg.width, seg.height
    if tuple(video_size) != (seg.width, seg.height):
        raise WriteError(f"the mask of frame {index} is {seg.width}x{seg.height}, the video "
                         f"{video_size[0]}x{video_size[1]}", out_dir)
    return int(video_size[0]), int(video_size[1])


def _write_chunk(out_dir: Path, name: str, frames: list[Mapping[str, Any]]) -> Path:
    path = out_dir / chunk_name(name, frames[0]["id"], frames[-1]["id"])
    return dump_json(path, frames)


def _check_arguments(out_dir: Path, name: str, first_number: int, chunk_frames: int) -> None:
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise WriteError(f"the chunk name {name!r} is not a plain file name", out_dir)
    if first_number < 0:
        raise WriteError(f"frame ids start at 0 or more, not {first_number}", out_dir)
    if not 1 <= chunk_frames <= MAX_CHUNK_FRAMES:
        raise WriteError(f"a chunk holds 1 to {MAX_CHUNK_FRAMES} frames, not {chunk_frames}",
                         out_dir)
