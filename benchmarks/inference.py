"""Benchmark inference: raw onnxruntime, our whole pipeline and cv2.dnn, on one model and photo.

Run from the repository root::

    .venv/bin/python -m benchmarks.inference [--model PATH] [--size 1080p] [--threads 1]
                                             [--rounds 15] [--budget 30] [--json PATH]

The model is DeepLabV3 (``../shared/models/deeplabv3_257_mv_gpu.onnx``) when
present, else the bundled selfie model. The photo is the bundled astronaut
resized to ``--size`` and saved as a JPEG (quality 90). Methods, timed
round-robin in one group (``benchmarks._timing``), medians:

- ``ort raw``: ``InferenceSession.run`` on a ready tensor (the runner's
  options): the baseline of every ratio;
- ``pipeline file -> labels``: our whole path: decode the JPEG, pre-process,
  infer, post-process to a full-size label map and confidence
  (``read_for_model`` + ``ModelRunner.predict``);
- ``pipeline array -> labels``: the same from a decoded photo (the GUI's case);
- ``pipeline file -> Segmentation``: ``ModelRunner.run_file``, which also
  builds the :class:`Segmentation` (segment table, areas, boxes, scores);
- ``cv2.dnn raw`` and ``cv2.dnn pipeline`` (``cv2.imread``, ``blobFromImage``,
  forward, argmax, nearest resize), with ``ENGINE_CLASSIC`` on OpenCV 5.0 (its new
  engine gives wrong output on DeepLab, ``MODELS.md``). OpenCV 5.1 has no
  ``ENGINE_CLASSIC`` any more; its default engine is used and the report names
  it. The correctness check below guards against a wrong engine either way.

Every engine gets the same number of threads (``--threads``, default 1, what
the app's runner uses): onnxruntime's intra-op threads, and
``cv2.setNumThreads`` for the whole run (cv2.dnn, and the cv2 calls inside our
pipeline alike). OpenCV would otherwise take every core while onnxruntime has
one, and the comparison would measure the thread counts, not the pipelines.

Targets: pipeline file -> labels <= 1.5x ort raw (for DeepLab at 1080p), and
faster than the cv2.dnn pipeline. Before timing, the pipeline's labels are
checked against cv2.dnn's; a mismatch exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/inference.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks._timing import Size, environment, format_table, parse_size, round_robin  # noqa: E402
from viewer import _paths  # noqa: E402
from viewer.core.images import read_image  # noqa: E402
from viewer.core.inference import session as ort_session  # noqa: E402
from viewer.core.inference.decode import read_for_model  # noqa: E402
from viewer.core.inference.manifest import ModelManifest, manifest_from_json  # noqa: E402
from viewer.core.inference.registry import file_sha256, find_model  # noqa: E402
from viewer.core.inference.runner import ModelRunner  # noqa: E402

DEEPLAB = Path(__file__).resolve().parents[2] / "shared" / "models" / "deeplabv3_257_mv_gpu.onnx"
RAW = "ort raw"
PIPE_FILE = "pipeline file -> labels"
PIPE_ARRAY = "pipeline array -> labels"
PIPE_SEG = "pipeline file -> Segmentation"
DNN_RAW = "cv2.dnn raw"
DNN_PIPE = "cv2.dnn pipeline"
MIN_AGREEMENT = 0.95  # pixels where our labels and cv2.dnn's agree (their resize differs)


class CorrectnessError(AssertionError):
    """The pipelines disagree: their timings would be meaningless."""


def deeplab_manifest(path: Path) -> ModelManifest:
    """The manifest the tests use for DeepLab (it is not bundled)."""
    names = ["background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car",
             "cat", "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person",
             "pottedplant", "sheep", "sofa", "train", "tvmonitor"]
    return manifest_from_json({
        "schema": "segview-model", "schema_version": 1, "id": "deeplab", "name": "DeepLabV3 VOC",
        "file": str(path), "sha256": file_sha256(path), "licence": "Apache-2.0",
        "source": str(path),
        "input": {"name": "input", "size": [257, 257], "layout": "NCHW", "color_order": "RGB",
                  "scale": 1 / 127.5, "mean": 1.0, "std": 1.0, "resize": "stretch"},
        "outputs": [{"name": "output", "kind": "logits", "class_axis": 1}],
        "class_names": names, "palette": "voc",
    })


def choose_manifest(model: str | None) -> ModelManifest:
    if model:
        return find_model(model)
    return deeplab_manifest(DEEPLAB) if DEEPLAB.is_file() else find_model("selfie")


def make_photo(size: Size, folder: Path) -> Path:
    """The astronaut resized to ``size``, saved as a JPEG."""
    image = cv2.resize(read_image(_paths.sample_image()), (size.width, size.height),
                       interpolation=cv2.INTER_LINEAR)
    path = folder / f"astronaut_{size.width}x{size.height}.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    return path


class DnnPipeline:
    """What a cv2.dnn user writes: imread, blobFromImage, forward, argmax, nearest resize."""

    def __init__(self, manifest: ModelManifest):
        spec = manifest.input
        if len(set(spec.std)) != 1 or spec.layout != "NCHW" or spec.size is None:
            raise SystemExit("the cv2.dnn comparison needs an NCHW model of fixed size with "
                             "one std for all channels")
        engine = getattr(cv2.dnn, "ENGINE_CLASSIC", None)
        path = str(manifest.model_path)
        self.net = cv2.dnn.readNet(path, engine=engine) if engine is not None else (
            cv2.dnn.readNet(path))
        # blobFromImage computes (pixel - mean) * scale; ours is (pixel * s - m) / std.
        self.scale = spec.scale / spec.std[0]
        means = spec.mean * 3 if len(spec.mean) == 1 else spec.mean
        self.mean = tuple(m / spec.scale for m in means)
        self.size = (spec.size[1], spec.size[0])
        self.swap = spec.color_order == "RGB"
        self.threshold = manifest.threshold
        self.engine = "ENGINE_CLASSIC" if engine is not None else _default_engine()

    def forward(self, blob: np.ndarray) -> np.ndarray:
        self.net.setInput(blob)
        return self.net.forward()

    def blob(self, bgr: np.ndarray) -> np.ndarray:
        return cv2.dnn.blobFromImage(bgr, self.scale, self.size, self.mean, swapRB=self.swap)

    def __call__(self, path: Path) -> np.ndarray:
        bgr = cv2.imread(str(path))
        scores = self.forward(self.blob(bgr))[0]
        labels = (scores[0] > self.threshold if len(scores) == 1 else scores.argmax(axis=0))
        return cv2.resize(labels.astype(np.uint8), (bgr.shape[1], bgr.shape[0]),
                          interpolation=cv2.INTER_NEAREST)


def _default_engine() -> str:
    """The name of the engine cv2.dnn uses when none is asked for."""
    if int(cv2.__version__.split(".")[0]) < 5:
        return "default (OpenCV 4 has one engine)"
    return (f"default (ENGINE_AUTO = ENGINE_OPENCV; OpenCV {cv2.__version__} has no "
            "ENGINE_CLASSIC)")


def build_methods(manifest: ModelManifest, photo: Path, threads: int = 1) -> tuple[dict, dict]:
    """The timed methods and facts about the data, after the correctness checks."""
    runner = ModelRunner(manifest, threads=threads)
    runner.load()
    session = ort_session.open_session(manifest.model_path, [ort_session.CPU], threads=threads)
    image = read_image(photo)
    tensor, _ = runner.prepare(image)
    feed = {manifest.input.name: tensor}
    min_size = runner.input_size()
    dnn = DnnPipeline(manifest)
    blob = dnn.blob(cv2.imread(str(photo)))

    def pipeline_file():
        decoded = read_for_model(photo, min_size)
        return runner.predict(decoded.image, full_size=decoded.full_size)

    ours = pipeline_file().labels
    theirs = dnn(photo)
    agreement = float(np.mean(ours == theirs))
    if ours.shape != image.shape[:2] or agreement < MIN_AGREEMENT:
        raise CorrectnessError(f"our labels {ours.shape} agree with cv2.dnn's {theirs.shape} on "
                               f"{agreement:.1%} of pixels (< {MIN_AGREEMENT:.0%})")
    raw = session.run(None, feed)[0]
    if not np.array_equal(raw, runner.forward(tensor)[manifest.labels_output.name]):
        raise CorrectnessError("the runner's session gives another output than a plain session")
    methods = {
        RAW: lambda: session.run(None, feed),
        PIPE_FILE: pipeline_file,
        PIPE_ARRAY: lambda: runner.predict(image),
        PIPE_SEG: lambda: runner.run_file(photo),
        DNN_RAW: lambda: dnn.forward(blob),
        DNN_PIPE: lambda: dnn(photo),
    }
    facts = {"agreement_with_cv2_dnn": agreement, "cv2_dnn_engine": dnn.engine,
             "classes_found": int(np.unique(ours).size)}
    return methods, facts


def check_targets(timings, manifest: ModelManifest, size: Size) -> list[dict]:
    """The two targets, PASS/FAIL for DeepLab at 1080p (where they are defined), INFO otherwise."""
    defined = manifest.id == "deeplab" and size.name == "1080p"
    checks = []
    for goal, value, limit in (
        (f"{PIPE_FILE} <= 1.5x {RAW}", timings[PIPE_FILE] / timings[RAW], 1.5),
        (f"{PIPE_FILE} faster than {DNN_PIPE}", timings[PIPE_FILE] / timings[DNN_PIPE], 1.0),
    ):
        status = ("PASS" if value <= limit else "FAIL") if defined else "INFO"
        checks.append({"check": goal, "value": value, "limit": limit, "status": status})
    return checks


def report(timings, checks: list[dict]) -> str:
    """The timing table and the targets, as printed."""
    base = timings[RAW]
    rows = []
    for name in timings:
        lo, hi = timings.spread(name)
        rows.append([name, f"{timings[name] * 1e3:.2f}", f"{lo * 1e3:.2f}-{hi * 1e3:.2f}",
                     f"{timings[name] / base:.2f}"])
    table = format_table(["method", "median ms", "range ms", f"x {RAW}"], rows, "<>>>")
    targets = format_table(["", "check", "measured", "limit"],
                           [[c["status"], c["check"], f"{c['value']:.2f}x", f"{c['limit']:g}x"]
                            for c in checks], "<<>>")
    note = "" if checks[0]["status"] != "INFO" else (
        "\n(INFO: the targets are defined for DeepLab on a 1080p photo)")
    return f"{table}\n\n== targets ==\n{targets}{note}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.inference",
        description="Time raw onnxruntime, our whole pipeline and cv2.dnn on one model/photo.")
    parser.add_argument("--model", help="model id, manifest or ONNX file (default: DeepLab "
                                        "from ../shared/models, else the bundled selfie model)")
    parser.add_argument("--size", default="1080p", help="photo size: 720p, 1080p, 4k or WxH")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for onnxruntime (intra-op) and for OpenCV alike "
                             "(default: 1, as the app's runner)")
    parser.add_argument("--rounds", type=int, default=15, help="most rounds (default: 15)")
    parser.add_argument("--budget", type=float, default=30.0,
                        help="seconds after which no new round starts (default: 30)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    try:
        args.size = parse_size(args.size)
    except ValueError as exc:
        parser.error(str(exc))
    if args.rounds < 1:
        parser.error("--rounds must be >= 1")
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return 0, or 1 when a correctness check failed."""
    args = parse_args(argv)
    previous_cv2_threads = cv2.getNumThreads()
    cv2.setNumThreads(args.threads)
    try:
        return _run(args)
    finally:
        cv2.setNumThreads(previous_cv2_threads)


def _run(args: argparse.Namespace) -> int:
    import onnxruntime

    env = environment()
    manifest = choose_manifest(args.model)
    started = time.perf_counter()
    print(f"inference benchmark on {env['cpu']}, {env['cpu_count']} CPUs: opencv "
          f"{env['opencv']}, onnxruntime {onnxruntime.__version__}, {args.threads} thread(s) "
          f"each; model {manifest.id} ({manifest.model_path.name}), photo {args.size} JPEG")
    with tempfile.TemporaryDirectory() as folder:
        photo = make_photo(args.size, Path(folder))
        try:
            methods, facts = build_methods(manifest, photo, args.threads)
        except CorrectnessError as exc:
            print(f"\nCORRECTNESS CHECK FAILED: {exc}", file=sys.stderr, flush=True)
            return 1
        if not args.quiet:
            print(f"checked: labels agree with cv2.dnn on {facts['agreement_with_cv2_dnn']:.1%}"
                  " of pixels; timing ...", file=sys.stderr, flush=True)
        timings = round_robin(methods, rounds=args.rounds, budget=args.budget)
    checks = check_targets(timings, manifest, args.size)
    print(f"\n== {args.size}, {timings.rounds} rounds, {timings.elapsed:.1f} s; "
          f"cv2.dnn engine: {facts['cv2_dnn_engine']} ==")
    print(report(timings, checks))
    print(f"\ntotal {time.perf_counter() - started:.0f} s; targets are reported, not enforced.")
    if args.json is not None:
        doc = {"environment": env, "model": manifest.id, "size": str(args.size),
               "threads": args.threads, **facts,
               "medians_s": dict(timings), "samples_s": timings.samples, "targets": checks}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
