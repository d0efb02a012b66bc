"""Export a video with its masks rendered in, as a task (a generator of Progress).

Each frame goes through the same ``render_export`` as an exported overlay
PNG, so a video frame looks exactly like the still of that frame; frames
without a mask are written as they are. The metadata JSON
(``<output stem>.segview.json``) records every frame that had a mask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from viewer.core import metadata
from viewer.core.errors import ViewerError
from viewer.core.formats.names import SIDECAR_SUFFIX
from viewer.core.render.pipeline import RenderSettings, render_export
from viewer.core.segmentation import Segmentation
from viewer.core.tasks import Progress, Task
from viewer.core.transaction import transaction
from viewer.core.video.base import FrameReader
from viewer.core.video.complete import whole_video_frames
from viewer.core.video.frame_metadata import VideoMetadata
from viewer.core.video.mask_source import MaskSource
from viewer.core.video.writer import VideoWriter


@dataclass(frozen=True)
class OverlayVideo:
    """What :func:`export_overlay_video` wrote.

    Attributes
    ----------
    video : Path
    metadata : Path or None
    frames : int
        Frames written.
    masked_frames : int
        Frames that had a mask.
    notes : list of str
        Things worth telling (padding to an even size; frames missing from a
        video cut short, the sentence starting with "warning:").
    """

    video: Path
    metadata: Path | None
    frames: int
    masked_frames: int
    notes: list[str] = field(default_factory=list)


def metadata_path(video: str | Path) -> Path:
    """Where the metadata JSON of an exported video goes: ``<stem>.segview.json``."""
    video = Path(video)
    return video.with_name(video.stem + SIDECAR_SUFFIX)


def export_overlay_video(video: FrameReader, masks: MaskSource, out: str | Path, *,
                         alpha: float = 0.5, settings: RenderSettings | None = None,
                         write_metadata: bool = True, codec: str | None = None,
                         allow_partial: bool = False) -> Task[OverlayVideo]:
    """Render every frame of ``video`` with its mask and write an H.264 video.

    Parameters
    ----------
    video : FrameReader
    masks : MaskSource
    out : str or Path
        The video to write (``.mp4``, ``.mov``, ``.mkv``, ``.m4v``).
    alpha : float
        Overlay weight in 0..1.
    settings : RenderSettings, optional
        Default: filled segments.
    write_metadata : bool
        Also write ``<stem>.segview.json`` with one record per masked frame.
    codec : str, optional
        Encoder; default the first H.264 encoder available.
    allow_partial : bool
        Render the frames there are of a video cut short (a warning with
        the counts in ``notes``) instead of failing.

    Raises
    ------
    PartialVideoError
        The video is cut short and ``allow_partial`` is false.
    ViewerError
        A frame or mask that cannot be read, or a file that cannot be
        written; nothing is left at ``out`` then.
    """
    out = Path(out)
    settings = settings or RenderSettings()
    total = video.frame_count
    width, height = video.size
    record = VideoMetadata(video.path) if write_metadata else None
    masked = written = 0
    partial: list[str] = []
    yield Progress(0, total, f"Rendering {video.path.name}")
    # One transaction: the video and its metadata appear together, or neither does.
    with transaction(home=out.parent, label=str(video.path)):
        with VideoWriter(out, width, height, video.fps, codec=codec) as writer:
            for index, rgb in whole_video_frames(video, allow_partial=allow_partial,
                                                 notes=partial):
                seg = masks.mask_for(index)
                if seg is not None:
                    _check_size(seg, video, index)
                    rgb = render_export(rgb, seg, alpha, settings)
                    masked += 1
                    if record is not None:
                        record.add(index, video.time_of(index), seg)
                writer.write(rgb)
                written += 1
                yield Progress(index + 1, total, f"Frame {index + 1} of {total}")
            notes = [*_notes(writer), *partial]
            document = record.document(overlay_file=out.name) if record and masked else None
        meta = None
        if document is not None:
            meta = metadata.write(metadata_path(out), document)
    return OverlayVideo(out, meta, written, masked, notes)


def _check_size(seg: Segmentation, video: FrameReader, index: int) -> None:
    if seg.shape != (video.size[1], video.size[0]):
        source = seg.provenance.source or "the mask source"
        raise ViewerError(f"the mask of frame {index} ({source}) is {seg.width}x{seg.height}, "
                          f"the video {video.size[0]}x{video.size[1]}", video.path)


def _notes(writer: VideoWriter) -> list[str]:
    if writer.padded == writer.size:
        return []
    return [f"{writer.size[0]}x{writer.size[1]} padded to {writer.padded[0]}x"
            f"{writer.padded[1]} (H.264 4:2:0 needs even sizes) by repeating the edge"]
