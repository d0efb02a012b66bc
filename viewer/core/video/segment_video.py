"""Segment every frame of a video with a model, as a task: masks, metadata, overlay.

One pass over the video: each frame is decoded once, segmented once, written
as a mask file by the same :class:`~viewer.core.video.sequence_export.SequenceWriter`
as :func:`~viewer.core.video.sequence_export.export_mask_sequence`, and, when
asked, rendered into an overlay video by the same ``render_export`` and
:class:`~viewer.core.video.writer.VideoWriter` as
:func:`~viewer.core.video.export.export_overlay_video`. Running the overlay
export afterwards would run the model twice or hold every label map; here
no more than one frame's label map is alive at a time.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from viewer.core.inference.runner import ModelRunner
from viewer.core.render.pipeline import RenderSettings, render_export
from viewer.core.tasks import Progress, Task
from viewer.core.transaction import transaction
from viewer.core.video.base import FrameReader
from viewer.core.video.complete import refuse_short, whole_video_frames
from viewer.core.video.export import _notes as overlay_notes
from viewer.core.video.sequence_export import SequenceResult, SequenceWriter
from viewer.core.video.writer import VideoWriter


def segment_video(runner: ModelRunner, video: FrameReader, format_name: str,
                  out_dir: str | Path, *, overlay: str | Path | None = None,
                  threshold: float | None = None, stem: str | None = None,
                  alpha: float = 0.5, settings: RenderSettings | None = None,
                  sidecars: bool = False, allow_partial: bool = False) -> Task[SequenceResult]:
    """Run the model on every frame; write the masks, their metadata and an overlay video.

    Parameters
    ----------
    runner : ModelRunner
    video : FrameReader
    format_name : str
        Registry name of a writable mask format.
    out_dir : str or Path
        Folder of the masks and of ``<stem>.segview.json``.
    overlay : str or Path, optional
        H.264 video to write with the masks rendered in (``.mp4``, ``.mov``,
        ``.mkv``, ``.m4v``).
    threshold : float, optional
        For sigmoid models; default the manifest's.
    stem : str, optional
        Base of the mask file names; default the video's stem.
    alpha : float
        Overlay opacity in 0..1.
    settings : RenderSettings, optional
        How the overlay draws segments; default filled.
    sidecars : bool
        Also a ``.segview.json`` beside every mask (see
        :mod:`viewer.core.video.sequence_export`).
    allow_partial : bool
        Segment the frames there are of a video cut short (a warning with the
        counts in the result's ``notes``) instead of failing.

    Raises
    ------
    ModelError
        The model cannot be loaded or run.
    PartialVideoError
        The video is cut short and ``allow_partial`` is false.
    ViewerError
        A frame that cannot be decoded or a file that cannot be written; a
        partial overlay video is removed.
    """
    manifest = runner.manifest
    sequence = SequenceWriter(format_name, out_dir, stem=stem, video=video,
                              palette=(f"model:{manifest.id}", manifest.name), sidecars=sidecars)
    total = video.frame_count
    if not allow_partial:
        refuse_short(video)  # before the model loads: a cut file is known from its index
    yield Progress(0, total, "Loading the model")
    runner.load()
    partial: list[str] = []
    # One transaction: every mask, the metadata and the overlay appear together.
    with transaction(home=out_dir, label=str(video.path)):
        with _writer(overlay, video) as writer:
            for index, rgb in whole_video_frames(video, allow_partial=allow_partial,
                                                 notes=partial):
                seg = runner.run(rgb, threshold=threshold, source=video.path)
                sequence.add(index, seg)
                if writer is not None:
                    writer.write(render_export(rgb, seg, alpha, settings or RenderSettings()))
                yield Progress(index + 1, total, f"Frame {index + 1} of {total}")
        notes = [*(overlay_notes(writer) if writer is not None else []), *partial]
        return sequence.finish(overlay=Path(overlay) if overlay is not None else None,
                               notes=notes)


def _writer(overlay: str | Path | None,
            video: FrameReader) -> contextlib.AbstractContextManager[VideoWriter | None]:
    if overlay is None:
        return contextlib.nullcontext()
    width, height = video.size
    return VideoWriter(overlay, width, height, video.fps)
