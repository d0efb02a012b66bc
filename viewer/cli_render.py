"""``segview render``: a video with its per-frame masks rendered in, as H.264.

Exit codes: 0 success, 2 bad input (one line naming the file and the
problem; nothing is written), among it a video cut short (fewer frames decode
than its container declares) unless ``--allow-partial``, 1 an unexpected failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

from viewer.cli_args import fraction, int_in, output_path
from viewer.cli_progress import drain_with_bar
from viewer.core.errors import ViewerError
from viewer.core.output_guard import guarded
from viewer.core.render.pipeline import MAX_THICKNESS, Mode, RenderSettings
from viewer.core.transaction import recover
from viewer.core.video.base import FrameReader
from viewer.core.video.complete import PartialVideoError
from viewer.core.video.export import OverlayVideo, export_overlay_video
from viewer.core.video.mask_source import MaskSource, open_mask_source
from viewer.core.video.readers import open_video

EXIT_BAD_INPUT = 2
#: Far beyond any real frame number, small enough that no arithmetic on it overflows.
MAX_FRAME_NUMBER = 10**9


def render_main(argv: Sequence[str]) -> int:
    """``segview render VIDEO --masks SOURCE -o OUT [--alpha A] ...``."""
    args = _parser().parse_args(argv)
    for note in recover(args.output.parent):
        print(f"segview: {note}", file=sys.stderr)
    try:
        if args.output.resolve() == args.video.resolve():
            raise ViewerError("the output would overwrite the input video", args.output)
        video = open_video(args.video)
    except ViewerError as exc:
        return _fail(exc)
    with closing(video):
        try:
            masks = _open_masks(args, video)
        except ViewerError as exc:
            return _fail(exc)
        with closing(masks):
            settings = RenderSettings(mode=args.mode, thickness=args.thickness)
            task = export_overlay_video(video, masks, args.output, alpha=args.alpha,
                                        settings=settings, write_metadata=not args.no_metadata,
                                        allow_partial=args.allow_partial)
            try:
                with guarded(_read_files(args), named=[args.output], overwrite=args.overwrite):
                    result = drain_with_bar(task, quiet=args.quiet)
            except ViewerError as exc:
                return _fail(exc)
            _report(result, masks)
    return 0


def _open_masks(args: argparse.Namespace, video: FrameReader) -> MaskSource:
    masks = open_mask_source(args.masks, video_size=video.size, legend=args.legend,
                             format_name=args.format, pattern=args.pattern,
                             first_number=args.first_number)
    frames = masks.frames()
    if not any(0 <= f < video.frame_count for f in frames):
        masks.close()
        shown = f"frames {frames[0]}-{frames[-1]}" if frames else "no frames"
        raise ViewerError(f"has masks for {shown}, none of the video's 0-{video.frame_count - 1} "
                          "(is --first-number right?)", args.masks)
    return masks


def _read_files(args: argparse.Namespace) -> list[Path]:
    """What render reads (never written over): the video, the masks, the legend."""
    return [p for p in (args.video, args.masks, args.legend) if p is not None]


def _report(result: OverlayVideo, masks: MaskSource) -> None:
    print(result.video)
    if result.metadata is not None:
        print(result.metadata)
    print(f"segview: {result.masked_frames} of {result.frames} frames had a mask",
          file=sys.stderr)
    for line in [*masks.summary(), *result.notes]:
        print(f"segview: {line}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segview render",
        description="Render per-frame masks over a video and write it as H.264, with the "
                    "metadata JSON (one record per frame).")
    parser.add_argument("video", type=Path, metavar="VIDEO",
                        help="mp4, mov, mkv, avi, webm, ...")
    parser.add_argument("--masks", required=True, type=Path, metavar="SOURCE",
                        help="a folder with one mask per frame (any registered format, matched "
                             "by the frame number in the name), a mask video (RGB masks, "
                             "e.g. ClearML mp4) or Celantur video metadata chunks")
    parser.add_argument("-o", "--output", required=True, type=output_path, metavar="OUT",
                        help="video to write: .mp4, .mov, .mkv or .m4v")
    parser.add_argument("--alpha", type=fraction, default=0.5,
                        help="overlay opacity in 0..1 (default 0.5)")
    parser.add_argument("--mode", choices=[m.value for m in Mode], default=Mode.FILLED.value,
                        help="draw segments filled, as outlines, or both (default filled)")
    parser.add_argument("--thickness", type=int_in(1, MAX_THICKNESS), default=2,
                        help=f"outline width in pixels, 1..{MAX_THICKNESS} (default 2)")
    parser.add_argument("--legend", type=Path, metavar="JSON",
                        help="colour legend of a mask video (ClearML mask_labels.json or "
                             "_mask_legend.json; default: found beside the mask video)")
    parser.add_argument("--format", help="format of the mask files (segview formats; "
                                         "default: detected per file)")
    parser.add_argument("--pattern", default="*", metavar="GLOB",
                        help="which files of the mask folder to use (default all)")
    parser.add_argument("--first-number", type=int_in(-MAX_FRAME_NUMBER, MAX_FRAME_NUMBER),
                        default=0, metavar="N",
                        help="the frame number that names the video's first frame in the mask "
                             "files or chunks (default 0)")
    parser.add_argument("--no-metadata", action="store_true",
                        help="do not write <OUT stem>.segview.json")
    parser.add_argument("--allow-partial", action="store_true",
                        help="render the frames there are of a video cut short, with a "
                             "warning (default: exit 2 saying how many frames are missing)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing <OUT stem>.segview.json that is not the "
                             "metadata of OUT (OUT itself is replaced: you named it)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _fail(exc: ViewerError) -> int:
    hint = "; --allow-partial renders the frames there are" \
        if isinstance(exc, PartialVideoError) else ""
    print(f"segview: error: {exc}{hint}", file=sys.stderr)
    return EXIT_BAD_INPUT
