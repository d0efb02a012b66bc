"""Reading Celantur metadata JSON on its own: per-image files and video chunks.

``image-name.json`` with a mask beside it reads that mask (through
:mod:`~viewer.core.formats.celantur_read`); without one, and for every frame
of a video chunk ``name-START-END.json``, each detection becomes a box
segment. :data:`SPEC` is the ``celantur-metadata`` format that
:data:`viewer.core.formats.celantur.FORMATS` lists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from viewer.core import safe_input
from viewer.core.budget import whole_number
from viewer.core.errors import ReadError
from viewer.core.formats.base import FormatSpec
from viewer.core.formats.celantur_common import METADATA, TYPES, mask_beside, type_code
from viewer.core.formats.celantur_detections import (
    box_of,
    detection_attributes,
    detections_of,
    frame_facts,
    is_chunk,
    score_of,
    size_of,
)
from viewer.core.formats.celantur_read import read_binary, read_instance
from viewer.core.formats.common import check_pixels, load_json
from viewer.core.formats.names import SIDECAR_SUFFIX
from viewer.core.palettes import stable_color
from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import FullMask, Kind, Provenance, Segmentation
from viewer.core.types import dtype_for_max_id

MAX_CHUNK_FRAMES = 500
CHUNK_NAME = re.compile(r"^(?P<name>.+)-(?P<start>\d+)-(?P<end>\d+)\.json$", re.IGNORECASE)
_SNIFF_BYTES = 64 * 1024


def read_metadata(path: str | Path, *, item: str | None = None,
                  image_size: tuple[int, int] | None = None, **options) -> Segmentation:
    """Read ``image-name.json`` or a video chunk ``name-START-END.json``.

    A per-image file with its mask beside it reads that mask (instance first)
    with the metadata attached; otherwise, and for video frames, each detection
    becomes a box segment. ``item`` is a frame id of a video chunk (default:
    the first frame).

    Raises
    ------
    ReadError
        Syntax errors (line and column), a chunk that breaks the 500-frame or
        START..END rules, an unknown frame, or no size to draw boxes in.
    """
    path = Path(path)
    data = load_json(path)
    if is_chunk(data):
        frame_id, frame = _pick_frame(chunk_frames(path, data), item, path)
        return _boxes(path, frame, image_size, {"frame": frame_id})
    if not isinstance(data, dict):
        raise ReadError(f"expected Celantur metadata (a JSON object), found "
                        f"{type(data).__name__}", path)
    if item is not None and str(item) != str(data.get("id", item)):
        raise ReadError(f"holds one image ({data.get('id')!r}), not {item!r}", path)
    beside = mask_beside(path)
    if beside is not None:
        reader = read_instance if beside[1] else read_binary
        return reader(beside[0], image_size=image_size, **options)
    return _boxes(path, data, image_size, {})


def items(path: str | Path) -> list[str]:
    """Return the frame ids of a video chunk; [] for per-image metadata."""
    path = Path(path)
    data = load_json(path)
    if not is_chunk(data):
        return []
    return [str(frame_id) for frame_id, _frame in chunk_frames(path, data)]


def chunk_frames(path: Path, data: Any) -> list[tuple[int, dict[str, Any]]]:
    """Return ``[(frame id, frame)]`` of a video chunk, checked.

    Raises
    ------
    ReadError
        More than 500 frames, a file-name range wider than 500 frames or
        reversed, a frame that is not an object, a frame id that is not an
        integer, repeats, or lies outside START..END of the file name.
    """
    frames = data if isinstance(data, list) else data["frames"]
    if len(frames) > MAX_CHUNK_FRAMES:
        raise ReadError(f"holds {len(frames)} frames; Celantur video metadata has at most "
                        f"{MAX_CHUNK_FRAMES} per file", path)
    start, end = _chunk_range(path)
    out, seen = [], set()
    for position, frame in enumerate(frames):
        if not isinstance(frame, dict):
            raise ReadError(f"frame {position}: expected a JSON object, found "
                            f"{type(frame).__name__}", path)
        frame_id = _frame_id(frame, position, start, path)
        if end is not None and not start <= frame_id <= end:
            raise ReadError(f"frame {position} has id {frame_id}, outside {start}-{end} "
                            "given by the file name", path)
        if frame_id in seen:
            raise ReadError(f"frame id {frame_id} appears twice", path)
        seen.add(frame_id)
        out.append((frame_id, frame))
    return out


def _chunk_range(path: Path) -> tuple[int, int | None]:
    match = CHUNK_NAME.match(path.name)
    if match is None:
        return 0, None  # renamed file: no range to check against
    start, end = int(match["start"]), int(match["end"])
    if end < start:
        raise ReadError(f"the file name gives frames {start}-{end}, which run backwards", path)
    if end - start + 1 > MAX_CHUNK_FRAMES:
        raise ReadError(f"the file name gives frames {start}-{end} ({end - start + 1} frames); "
                        f"Celantur video metadata has at most {MAX_CHUNK_FRAMES} per file", path)
    return start, end


def _frame_id(frame: Mapping[str, Any], position: int, start: int, path: Path) -> int:
    if "id" not in frame:
        return start + position
    value = frame["id"]
    if isinstance(value, str) and whole_number(value) is not None:
        return whole_number(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ReadError(f"frame {position}: id {value!r} is not a frame number", path)


def _pick_frame(frames: list[tuple[int, dict]], item: str | None,
                path: Path) -> tuple[int, dict]:
    if not frames:
        raise ReadError("holds no frames", path)
    if item is None:
        return frames[0]
    for frame_id, frame in frames:
        if str(frame_id) == str(item).strip():
            return frame_id, frame
    shown = ", ".join(str(f) for f, _ in frames[:5])
    raise ReadError(f"no frame {item!r} (it holds {len(frames)} frames: {shown}"
                    f"{', ...' if len(frames) > 5 else ''})", path)


# -- detections as boxes ------------------------------------------------------------
def _boxes(path: Path, frame: Mapping[str, Any], image_size: tuple[int, int] | None,
           details: dict[str, Any]) -> Segmentation:
    """One rectangular segment per detection; smaller boxes drawn on top."""
    warnings: list[str] = []
    size = image_size if image_size is not None else size_of(frame, path, warnings)
    if size is None:
        raise ReadError("the metadata gives no 'size' to draw its boxes in; pass the image "
                        "(image_size) or put the mask beside it", path)
    width, height = (int(v) for v in size)
    check_pixels(width, height, path)
    detections = list(detections_of(frame, path, warnings))
    boxes = [(i, _pixel_box(box_of(d), width, height)) for i, d in enumerate(detections)]
    skipped = [detections[i].get("id", i) for i, b in boxes if b is None]
    drawn = sorted(((i, b) for i, b in boxes if b is not None),
                   key=lambda ib: -(ib[1][2] - ib[1][0]) * (ib[1][3] - ib[1][1]))
    labels = np.zeros((height, width), dtype_for_max_id(len(detections)))
    rows = [Segment(0, label="background", class_id=0, visible=False)]
    for index, (x1, y1, x2, y2) in drawn:
        labels[y1:y2, x1:x2] = index + 1
        rows.append(_box_segment(index + 1, detections[index]))
    # Boxes are kept as boxes, not as pixels: 50 boxes on 17000 x 17000 took 14 GB.
    full = {index + 1: FullMask.filled((y1, x1, y2, x2))
            for index, (x1, y1, x2, y2) in drawn}
    warnings.append("Celantur metadata holds boxes, not masks: each detection is shown as "
                    "its box")
    if skipped:
        warnings.append(f"{len(skipped)} detections have no usable bbox inside the image and "
                        f"are not drawn: {skipped[:10]}")
    details.update(frame_facts(frame), detections=detections, warnings=warnings)
    seg = Segmentation(labels, SegmentTable(rows), kind=Kind.INSTANCE,
                       provenance=Provenance(str(path), METADATA, details))
    # Keep only the boxes that something covers: the rest are whole in the label map.
    seg.full_masks = {k: v for k, v in full.items() if seg.table[k].area != v.area}
    return seg


def _pixel_box(box: tuple[float, ...] | None, width: int,
               height: int) -> tuple[int, int, int, int] | None:
    if box is None:
        return None
    x1, y1 = max(0, int(np.floor(box[0]))), max(0, int(np.floor(box[1])))
    x2, y2 = min(width, int(np.ceil(box[2]))), min(height, int(np.ceil(box[3])))
    return (x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None


def _box_segment(seg_id: int, det: Mapping[str, Any]) -> Segment:
    code = type_code(det.get("type_label"))
    label = TYPES[code] if code is not None else str(det.get("type_label") or "unknown")
    attributes = {**detection_attributes(det), "from_box": True}
    return Segment(seg_id, label=label, class_id=code, color=stable_color(seg_id),
                   score=score_of(det), attributes=attributes)


def sniff_metadata(path: Path) -> bool:
    """True when the first 64 KiB of a JSON file look like Celantur metadata."""
    if path.name.lower().endswith(SIDECAR_SUFFIX):
        return False  # our own metadata may quote Celantur detections in its provenance
    try:
        with safe_input.open_regular(path) as handle:
            head = handle.read(_SNIFF_BYTES).decode("utf-8", "ignore")
    except (OSError, ReadError):
        return False
    markers = ('"type_label"', '"parent_image"', '"duration"', '"is_anonymi')
    return '"detections"' in head and any(m in head for m in markers)


def sniff_chunk(path: Path) -> bool:
    """True for a file named ``name-START-END.json`` that holds Celantur frames.

    Looser than :func:`sniff_metadata`: a chunk whose first frames detected
    nothing has none of its markers, and was dropped from its folder without a
    word. Every Celantur frame has ``detections``; reading it says the rest.
    """
    if not CHUNK_NAME.match(path.name) or path.name.lower().endswith(SIDECAR_SUFFIX):
        return False
    try:
        with safe_input.open_regular(path) as handle:
            head = handle.read(_SNIFF_BYTES).decode("utf-8", "ignore")
    except (OSError, ReadError):
        return False
    return '"detections"' in head


SPEC = FormatSpec(
    name=METADATA,
    title="Celantur metadata JSON (image-name.json, video name-START-END.json)",
    extensions=(".json",),
    read=read_metadata,
    sniff=sniff_metadata,
    priority=20,
    lossless=False,
    notes="reads the mask beside it, else the detection boxes; video chunks list frames",
    items=items,
)
