"""``segview info``, ``segview convert`` and ``segview formats``: headless, core only.

Exit codes: 0 success, 2 bad input (the message names the file and the
problem, no traceback), 1 an unexpected failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from viewer.cli_args import output_path
from viewer.core.errors import ViewerError
from viewer.core.export import default_stem, export
from viewer.core.formats.common import image_size_of
from viewer.core.formats.registry import FORMATS, find_reader, get_format, list_items, read_mask
from viewer.core.formats.names import sidecar_path
from viewer.core.layouts import LAYOUTS, DatasetItem, layout_for
from viewer.core.layouts.base import DEFAULT_SUBSET
from viewer.core.metadata import segment_records
from viewer.core.output_guard import guarded
from viewer.core.segmentation import Segmentation
from viewer.core.transaction import recover
from viewer.core.video.base import is_video

EXIT_BAD_INPUT = 2


def info_main(argv: Sequence[str]) -> int:
    """``segview info PATH [--format NAME] [--item ITEM] [--json]``."""
    parser = argparse.ArgumentParser(prog="segview info",
                                     description="Describe a mask file: format, size, kind, segments.")
    parser.add_argument("path", type=Path)
    parser.add_argument("--format", dest="format_name", help="format name (default: detected)")
    parser.add_argument("--item", help="image or frame inside a container file (default: the first)")
    parser.add_argument("--image", type=Path, help="the photo, to check sizes and upscale small masks")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.format_name is None and is_video(args.path):
        return _video_info(args.path, as_json=args.json)
    try:
        spec = get_format(args.format_name) if args.format_name else find_reader(args.path)
        options = _image_options(args.image)
        seg = read_mask(args.path, spec.name, item=args.item, **options)
        items = list_items(args.path, spec.name)
    except ViewerError as exc:
        return _fail(exc)
    if args.json:
        print(json.dumps(_info_doc(seg, spec.name, items), indent=2, ensure_ascii=False))
    else:
        print(_info_text(seg, spec.name, items))
    return 0


def _video_info(path: Path, *, as_json: bool) -> int:
    """A video's facts, and what to run on it (a video is not a mask file)."""
    from viewer.core.video.complete import shortfall
    from viewer.core.video.readers import open_video

    try:
        with open_video(path) as video:
            info, short = video.info, shortfall(video)
    except ViewerError as exc:
        return _fail(exc)
    facts = {"path": str(path), "kind": "video", "width": info.width, "height": info.height,
             "frames": info.frame_count, "declared_frames": info.declared_frames,
             "fps": round(info.fps, 3), "duration_s": round(info.duration_s, 3),
             "codec": info.codec, "reader": info.backend}
    if as_json:
        print(json.dumps(facts, indent=2))
        return 0
    print(f"{path}: video, {info.width}x{info.height}, {info.frame_count} frames at "
          f"{info.fps:.3g} fps ({info.duration_s:.2f} s), {info.codec}, read with {info.backend}")
    if short is not None:
        print(f"  warning: it {short} (cut short?)")
    print("  masks per frame: segview render VIDEO --masks SOURCE -o overlay.mp4; "
          "segview segment --model ID VIDEO --out DIR")
    return 0


def convert_main(argv: Sequence[str]) -> int:
    """``segview convert INPUT... --to FORMAT --out DIR [--layout dataset|file] [--subset S]``."""
    parser = argparse.ArgumentParser(
        prog="segview convert",
        description="Convert masks to another format, writing a metadata JSON beside each. "
                    "Containers (a COCO file) convert every image they hold.")
    parser.add_argument("inputs", nargs="+", type=Path)
    parser.add_argument("--to", required=True, dest="to", help="target format (segview formats)")
    parser.add_argument("--out", required=True, type=output_path, help="output folder")
    parser.add_argument("--from", dest="source", help="source format (default: detected)")
    parser.add_argument("--image", type=Path, help="the photo: sizes are checked, small masks "
                                                   "upscaled with nearest neighbour")
    parser.add_argument("--layout", choices=("dataset", "file"),
                        help="dataset: every input into ONE dataset in the layout the format's "
                             "own tool reads (the default for formats that have one: "
                             + ", ".join(sorted(LAYOUTS)) + "); file: one output per input")
    parser.add_argument("--subset", default=DEFAULT_SUBSET,
                        help="the dataset's subset or split (default: %(default)s)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing files in --out that are not from an earlier "
                             "export of these masks (never an input)")
    args = parser.parse_args(argv)
    for note in recover(args.out):
        print(f"segview: {note}", file=sys.stderr)
    try:
        target = get_format(args.to)
        if target.write is None:
            raise ViewerError(f"format {target.name!r} is read-only; segview formats lists "
                              "the ones that write")
        if args.image is not None and len(args.inputs) > 1:
            raise ViewerError("--image belongs to a single input")
        options = _image_options(args.image)
        layout = _layout(target.name, args.layout, args.subset)
        with guarded(_read_files(args), overwrite=args.overwrite):
            if layout is None:
                for path in args.inputs:
                    _convert_one(path, args, options)
            else:
                _convert_dataset(layout, target.name, args, options)
    except ViewerError as exc:
        return _fail(exc)
    return 0


def formats_main(argv: Sequence[str]) -> int:
    """``segview formats [--json]``: the registry as a table."""
    parser = argparse.ArgumentParser(prog="segview formats", description="List the mask formats.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = [spec.describe() for spec in FORMATS]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    table = [("name", "extensions", "read", "write", "lossless", "title")]
    for row in rows:
        table.append((row["name"], " ".join(row["extensions"]), _yes(row["read"]),
                      _yes(row["write"]), _yes(row["lossless"]), row["title"]))
    print(_table(table))
    return 0


def _convert_one(path: Path, args: argparse.Namespace, options: dict) -> None:
    spec = get_format(args.source) if args.source else find_reader(path)
    items = list_items(path, spec.name) or [None]
    for item in items:
        seg = read_mask(path, spec.name, item=item, **options)
        stem = default_stem(path if item is None else path.with_name(Path(str(item)).name),
                            args.out)
        result = export(seg, args.to, args.out, stem, image=args.image,
                        image_size=options.get("image_size"))
        for note in seg.provenance.details.get("warnings", []):
            print(f"{path}: warning: {note}", file=sys.stderr)
        for written in [*result.files, result.metadata]:
            print(written)
        for loss in result.lost:
            print(f"{path}: lost in {args.to}: {loss}", file=sys.stderr)


def _layout(format_name: str, asked: str | None, subset: str):
    """The dataset layout module to write with, or None for one output per input."""
    layout = layout_for(format_name)
    if asked == "file":
        return None
    if layout is None:
        if asked == "dataset":
            raise ViewerError(f"format {format_name!r} has no dataset layout; formats with one: "
                              + ", ".join(sorted(LAYOUTS)))
        return None
    # The subset becomes a folder or a file name: one plain name, nothing that climbs out.
    if not subset or subset in (".", "..") or any(c in subset for c in "/\\:\0"):
        raise ViewerError(f"--subset {subset!r}: give a plain name such as train, val or default")
    return layout


def _convert_dataset(layout, format_name: str, args: argparse.Namespace, options: dict) -> None:
    """Write every input as one dataset (one transaction), reading them one at a time."""
    result = layout.write_dataset(_dataset_items(args, options), args.out, format_name,
                                  args.subset)
    for written in [*result.files, *result.metadata]:
        print(written)
    for source, loss in result.lost:
        print(f"{source}: lost in {format_name}: {loss}", file=sys.stderr)


def _dataset_items(args: argparse.Namespace, options: dict) -> Iterator[DatasetItem]:
    """Each image of each input, read when the layout asks for it (one in memory at a time)."""
    for path in args.inputs:
        spec = get_format(args.source) if args.source else find_reader(path)
        for item in list_items(path, spec.name) or [None]:
            seg = read_mask(path, spec.name, item=item, **options)
            for note in seg.provenance.details.get("warnings", []):
                print(f"{path}: warning: {note}", file=sys.stderr)
            recorded = seg.provenance.details.get("image")
            name = recorded.get("file_name") if isinstance(recorded, dict) else None
            yield DatasetItem(seg, path, Path(str(item)).stem if item else path.stem,
                              args.image, name if isinstance(name, str) else None)


def _read_files(args: argparse.Namespace) -> list[Path]:
    """What convert reads: the inputs, their metadata JSONs, the photo (never written over)."""
    files = [*args.inputs, *([args.image] if args.image is not None else [])]
    return files + [s for s in (sidecar_path(p) for p in args.inputs) if s is not None]


def _image_options(image: Path | None) -> dict:
    return {} if image is None else {"image_size": image_size_of(image)}


def _info_doc(seg: Segmentation, format_name: str, items: list[str]) -> dict:
    doc = {
        "format": format_name,
        "path": seg.provenance.source,
        "width": seg.width,
        "height": seg.height,
        "kind": str(seg.kind),
        "segments": segment_records(seg),
        "warnings": list(seg.provenance.details.get("warnings", [])),
    }
    if items:
        doc["items"] = items
    if seg.full_masks:
        doc["covered_pixels"] = seg.covered_pixels()
    return doc


def _info_text(seg: Segmentation, format_name: str, items: list[str]) -> str:
    lines = [
        f"file:    {seg.provenance.source}",
        f"format:  {format_name}",
        f"size:    {seg.width} x {seg.height}",
        f"kind:    {seg.kind}",
        f"segments: {len(seg.table)}",
    ]
    if items:
        shown = ", ".join(items[:5]) + (f", ... ({len(items)} in all)" if len(items) > 5 else "")
        lines.append(f"items:   {shown}")
    if seg.full_masks:
        lines.append(f"overlap: {seg.covered_pixels():,} pixels covered by other segments")
    rows = [("id", "value", "label", "class", "inst", "area", "%", "colour", "score", "")]
    total = max(seg.height * seg.width, 1)
    for s in seg.table:
        value = s.value
        rows.append((
            str(s.id), str(list(value) if isinstance(value, tuple) else value), s.label or "-",
            _opt(s.class_id), _opt(s.instance), f"{s.area:,}", f"{100 * s.area / total:.2f}",
            "#{:02x}{:02x}{:02x}".format(*s.color), "-" if s.score is None else f"{s.score:.3f}",
            " ".join(flag for flag, on in (("void", s.void), ("hidden", not s.visible)) if on),
        ))
    lines += ["", _table(rows)]
    for note in seg.provenance.details.get("warnings", []):
        lines.append(f"warning: {note}")
    return "\n".join(lines)


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def _opt(value) -> str:
    return "-" if value is None else str(value)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _fail(exc: ViewerError) -> int:
    print(f"segview: error: {exc}", file=sys.stderr)
    return EXIT_BAD_INPUT
