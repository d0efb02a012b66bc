"""``segview segment`` and ``segview models``: run segmentation models headless.

A video input is segmented frame by frame by :mod:`viewer.cli_segment_video`.

Exit codes: 0 success, 2 bad input (one line per problem naming the file;
the other photos of a batch are still segmented), 1 an unexpected failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from viewer.cli_args import fraction, output_path
from viewer.cli_progress import ProgressBar
from viewer.core.errors import ModelError, ViewerError
from viewer.core.export import default_stem, export
from viewer.core.formats.registry import get_format
from viewer.core.images import IMAGE_EXTENSIONS
from viewer.core.inference.manifest import ModelManifest
from viewer.core.inference.registry import (
    describe_onnx,
    find_model,
    scan_models,
    verify_sha256,
)
from viewer.core.inference.runner import ModelRunner
from viewer.core.inference.session import available_providers
from viewer.core.inference.tasks import SegmentResult, segment_images
from viewer.core.output_guard import guarded
from viewer.core.tasks import drain
from viewer.core.transaction import recover

EXIT_BAD_INPUT = 2
DEFAULT_FORMAT = "index-png"


def segment_main(argv: Sequence[str]) -> int:
    """``segview segment --model ID_OR_FILE INPUT... --out DIR [--format FORMAT]``."""
    from viewer import cli_segment_video  # imports this module: not at the top

    args = _segment_parser().parse_args(argv)
    for note in recover(args.out):
        print(f"segview: {note}", file=sys.stderr)
    try:
        target = get_format(args.format)
        if target.write is None:
            raise ViewerError(f"format {target.name!r} is read-only; segview formats lists "
                              "the ones that write")
        manifest = find_model(args.model, args.models_dir, warn=_warn)
        runner = ModelRunner(manifest, [args.provider] if args.provider else None)
        if cli_segment_video.wants_video(args):
            return cli_segment_video.segment_video_main(args, runner, target.name)
        paths = _expand_inputs(args.inputs)
    except ViewerError as exc:
        return _fail(exc)
    bar = ProgressBar(sys.stderr, enabled=not args.quiet)
    writer = _Writer(manifest, target.name, args.out, bar)
    task = segment_images(runner, paths, threshold=args.threshold, on_result=writer,
                          keep=False)
    try:
        with guarded(paths, overwrite=args.overwrite):
            drain(task, bar.update)
    except ViewerError as exc:
        bar.finish()
        return _fail(exc)
    bar.finish()
    for loss in writer.lost:
        print(f"segview: lost in {target.name}: {loss}", file=sys.stderr)
    return EXIT_BAD_INPUT if writer.failures else 0


def models_main(argv: Sequence[str]) -> int:
    """``segview models [--json] [--models-dir DIR] [--describe FILE.onnx]``."""
    parser = argparse.ArgumentParser(
        prog="segview models",
        description="List the segmentation models found (bundled, user folder, --models-dir, "
                    "$SEGVIEW_MODELS_DIR), or describe an ONNX file.")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--models-dir", action="append", default=[], type=Path, metavar="DIR",
                        help="another folder of model manifests (repeatable)")
    parser.add_argument("--describe", type=Path, metavar="ONNX",
                        help="print a manifest pre-filled from what this ONNX graph says")
    args = parser.parse_args(argv)
    if args.describe is not None:
        return _describe(args.describe, args.json)
    scan = scan_models(args.models_dir)
    providers = available_providers()
    checks = {m.id: _check_file(m) for m in scan.models}
    if args.json:
        print(json.dumps({
            "models": [_model_record(m, checks[m.id]) for m in scan.models],
            "folders": [str(f) for f in scan.folders],
            "providers": providers,
            "problems": [str(p) for p in scan.problems],
        }, indent=2, ensure_ascii=False))
    else:
        print(_models_text(scan.models, scan.folders, providers, checks))
    for problem in scan.problems:
        _warn(problem)
    for error in filter(None, checks.values()):  # listed, but they cannot run
        print(f"segview: warning: {error}", file=sys.stderr)
    return 0


def _check_file(manifest: ModelManifest) -> ModelError | None:
    """Why the model file cannot be loaded (missing, or not the file its manifest hashed).

    Listing is where a user looks for what works, so it pays for one hash of
    each model file here rather than let ``segment`` be the first to say so.
    """
    if not manifest.model_path.is_file():
        return ModelError(f"model file not found: {manifest.model_path}", manifest.path)
    try:
        verify_sha256(manifest)
    except ModelError as exc:
        return exc
    return None


class _Writer:
    """Writes each result as it comes (mask + metadata JSON) and collects failures."""

    def __init__(self, manifest: ModelManifest, format_name: str, out_dir: Path,
                 bar: ProgressBar):
        self.manifest = manifest
        self.format_name = format_name
        self.out_dir = out_dir
        self.bar = bar
        self.failures: list[str] = []
        self.lost: list[str] = []

    def __call__(self, result: SegmentResult) -> None:
        if result.error is not None:
            self._report(result.path, result.error)
            return
        seg = result.segmentation
        try:
            written = export(seg, self.format_name, self.out_dir,
                             default_stem(result.path, self.out_dir),
                             image=result.path, image_size=(seg.width, seg.height),
                             palette=(f"model:{self.manifest.id}", self.manifest.name))
        except ViewerError as exc:
            self._report(result.path, exc)
            return
        for path in [*written.files, written.metadata]:
            print(path)
        self.lost.extend(loss for loss in written.lost if loss not in self.lost)

    def _report(self, photo: Path, error: ViewerError) -> None:
        text = str(error) if error.path == photo else f"{photo}: {error}"
        self.failures.append(text)
        self.bar.message(f"segview: error: {text}")


def _segment_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segview segment",
        description="Segment photos with a model; write each mask and its metadata JSON. "
                    "A video is segmented frame by frame: one mask per frame and one "
                    "metadata JSON for the video.")
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT",
                        help="photos, or folders of photos, or one video (mp4, mov, mkv, avi, "
                             "webm, m4v)")
    parser.add_argument("--model", required=True, metavar="ID_OR_FILE",
                        help="model id (segview models), manifest .json or .onnx file")
    parser.add_argument("--out", required=True, type=output_path, help="output folder")
    parser.add_argument("--format", default=DEFAULT_FORMAT,
                        help=f"mask format (segview formats; default: {DEFAULT_FORMAT})")
    parser.add_argument("--models-dir", action="append", default=[], type=Path, metavar="DIR",
                        help="another folder of model manifests (repeatable)")
    parser.add_argument("--provider", help="execution provider: cpu (default), cuda, tensorrt, "
                                           "coreml, directml, when available")
    parser.add_argument("--threshold", type=fraction,
                        help="foreground threshold of sigmoid models (default: the manifest's)")
    parser.add_argument("--overlay", type=output_path, metavar="VIDEO",
                        help="video input: also write this H.264 video (.mp4, .mov, .mkv, "
                             ".m4v) with the masks rendered in")
    parser.add_argument("--alpha", type=fraction, default=0.5,
                        help="opacity of the --overlay masks in 0..1 (default 0.5)")
    parser.add_argument("--sidecars", action="store_true",
                        help="video input: also a .segview.json beside every frame's mask "
                             "(default: only <video stem>.segview.json for all frames)")
    parser.add_argument("--allow-partial", action="store_true",
                        help="video input cut short: segment the frames there are, with a "
                             "warning (default: exit 2 saying how many frames are missing)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing files in --out that are not from an earlier "
                             "export (never an input)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _expand_inputs(inputs: Sequence[Path]) -> list[Path]:
    """Files as given, folders as their photos (sorted); distinct output names."""
    paths: list[Path] = []
    for item in inputs:
        if item.is_dir():
            found = sorted(p for p in item.iterdir()
                           if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
            if not found:
                raise ViewerError("no photos in this folder", item)
            paths.extend(found)
        else:
            paths.append(item)
    seen: dict[str, Path] = {}
    for path in paths:
        other = seen.setdefault(path.stem, path)
        if other != path:
            raise ViewerError(f"{other} and {path} would write the same mask name "
                              f"{path.stem!r}; segment them into different --out folders")
    return paths


def _describe(path: Path, as_json: bool) -> int:
    try:
        description = describe_onnx(path)
    except ViewerError as exc:
        return _fail(exc)
    if as_json:
        print(json.dumps(description.to_json(), indent=2, ensure_ascii=False))
        return 0
    print(json.dumps(description.manifest.to_json(), indent=2, ensure_ascii=False))
    for note in description.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _model_record(manifest: ModelManifest, problem: ModelError | None) -> dict:
    spec = manifest.input
    return {
        "id": manifest.id, "name": manifest.name, "manifest": str(manifest.path),
        "file": str(manifest.model_path), "present": manifest.model_path.is_file(),
        "usable": problem is None, "problem": str(problem) if problem else None,
        "licence": manifest.licence, "classes": list(manifest.class_names),
        "input_size": list(spec.size) if spec.size else None,
        "outputs": [o.name for o in manifest.outputs],
    }


def _models_text(models: Sequence[ModelManifest], folders: Sequence[Path],
                 providers: Sequence[str], checks: dict[str, ModelError | None]) -> str:
    rows = [("id", "classes", "input", "file", "name")]
    for m in models:
        size = "x".join(map(str, m.input.size)) if m.input.size else "any"
        present = "ok" if checks[m.id] is None else \
            "MISSING" if not m.model_path.is_file() else "BAD SHA256"
        rows.append((m.id, str(len(m.class_names)), size, present, m.name))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    table = "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                      for r in rows)
    lines = [table if models else "no models found", "", "searched:"]
    lines += [f"  {f}{'' if f.is_dir() else '  (absent)'}" for f in folders]
    lines.append(f"providers: {', '.join(providers)}")
    return "\n".join(lines)


def _warn(problem: ViewerError) -> None:
    """A manifest that cannot be read is skipped, and said so: one line naming it."""
    print(f"segview: warning: {problem} (skipped)", file=sys.stderr)


def _fail(exc: ViewerError) -> int:
    print(f"segview: error: {exc}", file=sys.stderr)
    return EXIT_BAD_INPUT
