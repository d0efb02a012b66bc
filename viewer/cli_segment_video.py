"""``segview segment --model M VIDEO --out DIR``: segment every frame of a video.

Kept apart from :mod:`viewer.cli_segment` (photos) so that each stays small;
the work itself is the core task :func:`viewer.core.video.segment_video.segment_video`.
Writes ``DIR/<video stem>_<frame:06d>.<ext>`` per frame, ``DIR/<video
stem>.segview.json`` (one record per frame) and, with ``--overlay``, an H.264
video with the masks rendered in. Prints the metadata JSON and the overlay
on stdout (the metadata lists every mask file), one progress bar over the
frames on stderr.

Exit codes: 0 success, 2 bad input or a failure naming its file (one line),
among it a video cut short unless ``--allow-partial``, 1 an unexpected failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

from viewer.cli_progress import drain_with_bar
from viewer.cli_segment import EXIT_BAD_INPUT
from viewer.core.errors import ViewerError
from viewer.core.output_guard import guarded
from viewer.core.inference.runner import ModelRunner
from viewer.core.video.base import is_video
from viewer.core.video.complete import PartialVideoError
from viewer.core.video.readers import open_video
from viewer.core.video.segment_video import segment_video
from viewer.core.video.sequence_export import SequenceResult


def wants_video(args: argparse.Namespace) -> bool:
    """True when ``segview segment`` was given a video (or a video-only option)."""
    return args.overlay is not None or any(is_video(p) for p in args.inputs)


def segment_video_main(args: argparse.Namespace, runner: ModelRunner, format_name: str) -> int:
    """Segment the one video in ``args.inputs``; return the exit code."""
    try:
        path = _the_video(args.inputs, args.overlay)
        video = open_video(path)
    except ViewerError as exc:
        return _fail(exc)
    with closing(video):
        task = segment_video(runner, video, format_name, args.out, overlay=args.overlay,
                             threshold=args.threshold, alpha=args.alpha,
                             sidecars=args.sidecars, allow_partial=args.allow_partial)
        try:
            with guarded([path], named=[args.overlay] if args.overlay else [],
                         overwrite=args.overwrite):
                result = drain_with_bar(task, quiet=args.quiet)
        except ViewerError as exc:
            return _fail(exc)
    _report(result, path, len(result.mask_files))
    return 0


def _the_video(inputs: Sequence[Path], overlay: Path | None) -> Path:
    videos = [p for p in inputs if is_video(p)]
    if not videos:
        raise ViewerError("--overlay needs a video to segment, not photos", overlay)
    if len(inputs) > 1:
        others = ", ".join(str(p) for p in inputs if p != videos[0])
        raise ViewerError(f"segment one video at a time, without other inputs ({others})",
                          videos[0])
    if not videos[0].is_file():
        raise ViewerError("file not found", videos[0])
    if overlay is not None and overlay.resolve() == videos[0].resolve():
        raise ViewerError("the overlay would overwrite the input video", overlay)
    return videos[0]


def _report(result: SequenceResult, video: Path, frames: int) -> None:
    print(result.metadata)
    if result.overlay is not None:
        print(result.overlay)
    print(f"segview: {frames} frames of {video.name} segmented; masks in {result.folder} as "
          f"{result.format_name} ({result.pattern})", file=sys.stderr)
    for loss in result.lost:
        print(f"segview: lost in {result.format_name}: {loss}", file=sys.stderr)
    for note in result.notes:
        print(f"segview: {note}", file=sys.stderr)


def _fail(exc: ViewerError) -> int:
    hint = "; --allow-partial segments the frames there are" \
        if isinstance(exc, PartialVideoError) else ""
    print(f"segview: error: {exc}{hint}", file=sys.stderr)
    return EXIT_BAD_INPUT
