"""Corpus families for the inputs around the masks: videos, model manifests, recovery files,
settings, palettes and review files."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from tests.corpus import files
from tests.corpus.cases import CLEAN, ERROR, OK

_POISONS = {**files.WHOLE_POISONS, "utf8": None}


def _poison(path: Path, name: str) -> None:
    if name == "utf8":
        files.non_utf8(path)
    else:
        path.write_text(files.WHOLE_POISONS[name])


def videos(corpus) -> None:
    """Cut videos for info, render and segment; options that make no sense."""
    from tests.corpus.generate import fifo
    from tests.video_clips import numbered_frames, square_labels, write_clip

    shared = corpus.folder("_video")
    clip = write_clip(shared / "clip.mp4", numbered_frames(48))
    masks = shared / "masks"
    masks.mkdir()
    for i in range(48):
        files.save_l(masks / f"frame_{i:06d}.png", square_labels(i))
    model = _tiny_model(corpus.folder("_model"))
    data = clip.read_bytes()
    for pct in (10, 90):
        cid = f"video-cut-{pct}"
        folder = corpus.folder(cid)
        (folder / "cut.mp4").write_bytes(data[: len(data) * pct // 100])
        cut = corpus.rel(folder / "cut.mp4")
        corpus.add(cid + "-info", ["info", cut], CLEAN, names=["cut.mp4"], owner="honest",
                   problem=f"video cut to {pct} % of its bytes")
        corpus.add(cid + "-render", ["render", cut, "--masks", corpus.rel(masks), "-o",
                                     corpus.rel(folder / "o.mp4"), "--quiet"], ERROR,
                   names=["cut.mp4"], owner="honest",
                   problem=f"render a video cut to {pct} %: frames short of the container's count")
        corpus.add(cid + "-segment", ["segment", "--model", corpus.rel(model), cut, "--out",
                                      corpus.rel(folder / "seg"), "--quiet"], ERROR,
                   names=["cut.mp4"], owner="honest",
                   problem=f"segment a video cut to {pct} %")
    for name, make in (("empty", files.empty), ("noise", files.garbage),
                       ("magic", files.wrong_magic)):
        cid = f"video-{name}"
        folder = corpus.folder(cid)
        (folder / "v.mp4").write_bytes(data)
        make(folder / "v.mp4")
        # GIF89a in front of the bytes makes a GIF a reader may open: either outcome is clean.
        corpus.add(cid + "-info", ["info", corpus.rel(folder / "v.mp4")],
                   CLEAN if name == "magic" else ERROR, names=["v.mp4"],
                   owner="honest", problem=f"{name} video")
        corpus.add(cid + "-render", ["render", corpus.rel(folder / "v.mp4"), "--masks",
                                     corpus.rel(masks), "-o", corpus.rel(folder / "o.mp4"),
                                     "--quiet"], ERROR, names=["v.mp4"], owner="honest",
                   problem=f"render an {name} video")
    folder = corpus.folder("video-fifo")
    fifo(folder / "v.mp4")
    corpus.add("video-fifo-info", ["info", corpus.rel(folder / "v.mp4")], ERROR, names=["v.mp4"],
               owner="loaders", problem="a FIFO named v.mp4")
    render = ["render", corpus.rel(clip), "--masks", corpus.rel(masks), "--quiet", "-o"]
    for cid, extra, problem in (
            ("render-thickness-huge", ["--mode", "outline", "--thickness", "100000"],
             "--thickness 100000"),
            ("render-thickness-negative", ["--mode", "outline", "--thickness", "-3"],
             "--thickness -3"),
            ("render-alpha-nan", ["--alpha", "nan"], "--alpha nan"),
            ("render-alpha-inf", ["--alpha", "inf"], "--alpha inf"),
            ("render-first-number-huge", ["--first-number", "9" * 5000],
             "5000-digit --first-number")):
        folder = corpus.folder(cid)
        corpus.add(cid, [*render, corpus.rel(folder / "o.mp4"), *extra], ERROR, owner="honest",
                   problem=problem)
    # Per-frame masks that are broken half way, and Celantur chunks that break the rules.
    folder = corpus.folder("render-mask-truncated")
    bad = folder / "masks"
    files.copy_tree(masks, bad)
    files.truncate(bad / "frame_000020.png", 0.5)
    corpus.add("render-mask-truncated", ["render", corpus.rel(clip), "--masks", corpus.rel(bad),
                                         "-o", corpus.rel(folder / "o.mp4"), "--quiet"], ERROR,
               names=["frame_000020.png"], owner="honest", problem="one mask file cut short")
    folder = corpus.folder("render-mask-fifo")
    bad = folder / "masks"
    files.copy_tree(masks, bad)
    (bad / "frame_000007.png").unlink()
    fifo(bad / "frame_000007.png")
    corpus.add("render-mask-fifo", ["render", corpus.rel(clip), "--masks", corpus.rel(bad),
                                    "-o", corpus.rel(folder / "o.mp4"), "--quiet"], CLEAN,
               names=["frame_000007.png"], owner="loaders",
               problem="one mask file is a FIFO (refused, or skipped as not a file)")
    from tests.corpus.bases import celantur_frame

    folder = corpus.folder("render-chunk-601")
    chunks = folder / "chunks"
    chunks.mkdir()
    frames = [celantur_frame(i, size=(64, 48)) for i in range(601)]
    (chunks / "clip-0-600.json").write_text(json.dumps(frames))
    corpus.add("render-chunk-601", ["render", corpus.rel(clip), "--masks", corpus.rel(chunks),
                                    "-o", corpus.rel(folder / "o.mp4"), "--quiet"], ERROR,
               names=["clip-0-600.json"], owner="bombs", problem="a 601-frame Celantur chunk")
    folder = corpus.folder("render-chunk-deep")
    chunks = folder / "chunks"
    chunks.mkdir()
    (chunks / "clip-0-47.json").write_text(files.DEEP)
    corpus.add("render-chunk-deep", ["render", corpus.rel(clip), "--masks", corpus.rel(chunks),
                                     "-o", corpus.rel(folder / "o.mp4"), "--quiet"], ERROR,
               names=["clip-0-47.json"], owner="loaders", problem="a deeply nested chunk")


def _tiny_model(folder: Path) -> Path:
    """A 1x1-convolution ONNX model (3 classes, 8x8 input) and its manifest."""
    from tests.core.inference.onnx_graphs import conv1x1, manifest_doc

    model = conv1x1(folder / "tiny.onnx", [[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 0, 0])
    manifest = folder / "tiny.json"
    manifest.write_text(json.dumps(manifest_doc(model)))
    return manifest


def models(corpus) -> None:
    """Bad manifests: in a models folder (reported, skipped), given directly (an error)."""
    from tests.core.inference.onnx_graphs import conv1x1, identity, manifest_doc, save_graph, tensor
    from onnx import helper

    template = corpus.folder("_model_template")
    model = conv1x1(template / "m.onnx", [[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 0, 0])
    good = manifest_doc(model)
    (corpus.root / "_outside.onnx").write_bytes(model.read_bytes())
    photo = files.save_rgb(corpus.folder("_photo") / "photo.png",
                           np.random.default_rng(2).integers(0, 255, (12, 16, 3)))

    def doc_with(path, value):
        doc = json.loads(json.dumps(good))
        target = doc
        for k in path[:-1]:
            target = target[k]
        if value is _DELETE:
            del target[path[-1]]
            return json.dumps(doc)
        if isinstance(value, _Raw):
            return files.set_raw(doc, path, value.text)
        target[path[-1]] = value
        return json.dumps(doc)

    bad = {
        "scale-nan": (["input", "scale"], _Raw("NaN")),
        "std-zero": (["input", "std"], 0),
        "std-infinity": (["input", "std"], _Raw("Infinity")),
        "mean-neg-infinity": (["input", "mean"], _Raw("-Infinity")),
        "threshold-nan": (["threshold"], _Raw("NaN")),
        "size-negative": (["input", "size"], [-8, 8]),
        "size-zero": (["input", "size"], [0, 0]),
        "size-huge": (["input", "size"], [10 ** 9, 10 ** 9]),
        "size-superscript": (["input", "size"], ["\u00b2", 8]),
        "size-bigint": (["input", "size"], _Raw(f"[{files.BIG_INT}, 8]")),
        "file-outside": (["file"], "../_outside.onnx"),
        "file-absolute": (["file"], "/etc/hostname"),
        "file-nul": (["file"], "m\x00.onnx"),
        "file-long": (["file"], "f" * 5000 + ".onnx"),
        "file-missing": (["file"], "missing.onnx"),
        "file-int": (["file"], 5),
        "sha256-wrong": (["sha256"], "0" * 64),
        "class-names-int": (["class_names"], 3),
        "outputs-empty": (["outputs"], []),
        "output-kind-unknown": (["outputs", 0, "kind"], "magic"),
        "class-axis-huge": (["outputs", 0, "class_axis"], 10 ** 6),
        "schema-missing": (["schema"], _DELETE),
    }
    texts = {name: doc_with(path, value) for name, (path, value) in bad.items()}
    for name in _POISONS:
        texts[f"json-{name}"] = None
    for name, text in texts.items():
        cid = f"manifest-{name}"
        folder = corpus.folder(cid)
        (folder / "m.onnx").write_bytes(model.read_bytes())
        if text is None:
            _poison(folder / "m.json", name.removeprefix("json-"))
        else:
            (folder / "m.json").write_text(text)
        corpus.add(cid + "-direct", ["segment", "--model", corpus.rel(folder / "m.json"),
                                     corpus.rel(photo), "--out", corpus.rel(folder / "out"),
                                     "--quiet"], ERROR, names=["m.json", ".onnx"], owner="honest",
                   problem=f"manifest {name}, given to segment")
        # A JSON document that is no object (a list, a string, NaN) is no manifest at all:
        # models folders hold such files (labels.json lists), so they are passed over quietly.
        not_object = name in ("json-nan", "json-list", "json-string", "json-null", "json-number")
        corpus.add(cid + "-listed", ["models", "--models-dir", corpus.rel(folder)], OK,
                   warn=not not_object, names=["m.json"], owner="honest",
                   problem=f"manifest {name} in a models folder: "
                           + ("passed over" if not_object else "reported and skipped"))
    # One bad manifest must not stop segment with a good model from another folder.
    folder = corpus.folder("manifest-bad-beside-good")
    files.copy_tree(template, folder / "good")
    (folder / "good" / "m.json").write_text(json.dumps({**good, "id": "tinygood"}))
    (folder / "bad").mkdir()
    (folder / "bad" / "x.json").write_text(files.DEEP)
    corpus.add("manifest-bad-beside-good", [
        "segment", "--model", "tinygood", "--models-dir", corpus.rel(folder / "good"),
        "--models-dir", corpus.rel(folder / "bad"), corpus.rel(photo), "--out",
        corpus.rel(folder / "out"), "--quiet"], OK, owner="honest",
        problem="a deeply nested manifest in another models folder")
    from tests.corpus.generate import fifo

    folder = corpus.folder("manifest-fifo-listed")
    fifo(folder / "f.json")
    corpus.add("manifest-fifo-listed", ["models", "--models-dir", corpus.rel(folder)], OK,
               warn=True, names=["f.json"], owner="loaders", problem="a FIFO manifest in a folder")
    # ONNX files for --describe.
    describe = corpus.folder("describe")
    node = helper.make_node("ReduceMean", ["x"], ["y"], axes=[1, 2, 3], keepdims=0)
    save_graph(describe / "rank1.onnx", [node], [tensor("x", [1, 3, 8, 8])], [tensor("y", [1])])
    identity(describe / "ok.onnx")
    corpus.add("describe-rank1", ["models", "--describe", corpus.rel(describe / "rank1.onnx")],
               CLEAN, names=["rank1.onnx"], owner="honest", problem="--describe of a rank-1 output")
    for name, make in (("empty", files.empty), ("half", lambda p: files.truncate(p, 0.5)),
                       ("noise", files.garbage)):
        path = describe / f"{name}.onnx"
        path.write_bytes((describe / "ok.onnx").read_bytes())
        make(path)
        corpus.add(f"describe-{name}", ["models", "--describe", corpus.rel(path)], ERROR,
                   names=[path.name], owner="honest", problem=f"--describe of a {name} ONNX file")
        corpus.add(f"segment-model-{name}", ["segment", "--model", corpus.rel(path),
                                             corpus.rel(photo), "--out",
                                             corpus.rel(describe / f"out-{name}"), "--quiet"],
                   ERROR, names=[path.name], owner="honest", problem=f"segment with a {name} ONNX")
    # Photos that are bad inputs to segment.
    manifest = corpus.rel(template / "tiny.json")
    (template / "tiny.json").write_text(json.dumps(good))
    for name, data in (("photo-bomb", files.zero_png_bomb(15000, 15000)),
                       ("photo-header-huge", files.png_bytes(100_000, 100_000)),
                       ("photo-truncated", photo.read_bytes()[:60])):
        folder = corpus.folder(name)
        (folder / "p.png").write_bytes(data)
        corpus.add(name, ["segment", "--model", manifest, corpus.rel(folder / "p.png"), "--out",
                          corpus.rel(folder / "out"), "--quiet"],
                   CLEAN if name == "photo-bomb" else ERROR, names=["p.png"],
                   bomb=name != "photo-truncated", owner="loaders", problem=name.replace("-", " "))
    folder = corpus.folder("photo-fifo")
    fifo(folder / "p.png")
    corpus.add("photo-fifo", ["segment", "--model", manifest, corpus.rel(folder / "p.png"),
                              "--out", corpus.rel(folder / "out"), "--quiet"], ERROR,
               names=["p.png"], owner="loaders", problem="the photo is a FIFO")


class _Raw:
    def __init__(self, text: str):
        self.text = text


_DELETE = object()


def settings_palettes_reviews(corpus) -> None:
    """The settings file, palette JSON and review JSON: every poison names the file."""
    from viewer.core.palettes import builtin_palette
    from viewer.core.review import Review

    good_settings = {"overlay_alpha": 0.5, "theme": "dark"}
    good_palette = builtin_palette("okabe_ito").to_json()
    review = Review()
    review.set_state("frame.png", "accepted", author="corpus")
    good_review = review.to_dict()
    gt = corpus.bases["index-png"].folder / "frame.png"
    targets = {
        "settings": ("settings.json", good_settings, lambda p: ["@settings", p]),
        "palette": ("pal.json", good_palette, lambda p: ["@palette", p]),
        "review": ("review.json", good_review,
                   lambda p: ["compare", corpus.rel(gt), corpus.rel(gt), "--review", p]),
    }
    field_values = {
        "settings": {"alpha-nan": ("overlay_alpha", _Raw("NaN")),
                     "alpha-string": ("overlay_alpha", "0.5"),
                     "alpha-bigint": ("overlay_alpha", _Raw(files.BIG_INT)),
                     "threads-infinity": ("colorize_threads", _Raw("Infinity")),
                     "island-list": ("island_size", [50])},
        "palette": {"entries-int": ("entries", 5), "entries-deep": ("entries", _Raw(files.DEEP)),
                    "name-list": ("name", ["a"])},
        "review": {"items-int": ("items", 5), "items-deep": ("items", _Raw(files.DEEP))},
    }
    for key, (name, doc, argv) in targets.items():
        cases = {p: None for p in _POISONS}
        for fname, (field, value) in field_values[key].items():
            cases[fname] = (field, value)
        for pname, change in cases.items():
            cid = f"{key}-{pname}"
            folder = corpus.folder(cid)
            path = folder / name
            if change is None:
                _poison(path, pname)
            else:
                field, value = change
                data = json.loads(json.dumps(doc))
                if isinstance(value, _Raw):
                    path.write_text(files.set_raw(data, [field], value.text))
                else:
                    data[field] = value
                    path.write_text(json.dumps(data))
            owner = "loaders"
            corpus.add(cid, argv(corpus.rel(path)), ERROR, names=[name], owner=owner,
                       problem=f"{key}: {pname}")
    from tests.corpus.generate import fifo

    for key, (name, _, argv) in targets.items():
        folder = corpus.folder(f"{key}-fifo")
        fifo(folder / name)
        corpus.add(f"{key}-fifo", argv(corpus.rel(folder / name)), ERROR, names=[name],
                   owner="loaders", problem=f"{key} file is a FIFO")


def recovery_files(corpus) -> None:
    """Damaged autosaves: listing skips them (the good one is still offered), restoring refuses."""
    from viewer.core.edit import recovery
    from viewer.core.segmentation import Segmentation

    seg = Segmentation.from_values(files.labels(), names={0: "bg", 1: "a", 2: "b"})
    template = corpus.folder("_recovery")
    good = recovery.write_snapshot(recovery.snapshot(seg, "good"), template)
    meta = json.loads(zipfile.ZipFile(good).read("session.json"))

    def rewrite(path: Path, session_text: str | None = None, labels: np.ndarray | None = None):
        with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename == "session.json" and session_text is not None:
                    data = session_text.encode("utf-8", "surrogateescape")
                if item.filename == "labels.npy" and labels is not None:
                    import io

                    buf = io.BytesIO()
                    np.save(buf, labels)
                    data = buf.getvalue()
                dst.writestr(item.filename, data)

    def meta_with(**changes):
        doc = {**meta, **changes}
        return json.dumps(doc)

    damaged = {
        "masks-list": meta_with(masks=[1]),
        "naive-saved-at": meta_with(saved_at="2020-01-01T00:00:00", session_id="naive"),
        "shape-mismatch": None,
        "segments-int": meta_with(segments=5),
        "segments-ints": meta_with(segments=[1, 2]),
        "shape-bigint": files.set_raw(json.loads(json.dumps(meta)), ["shape"],
                                      f"[{files.BIG_INT}, 8]"),
        "deep": files.DEEP,
        "nan-shape": files.set_raw(json.loads(json.dumps(meta)), ["shape"], "[NaN, 8]"),
        "kind-unknown": meta_with(kind="everything"),
        "truncated-zip": None,
    }
    for name, text in damaged.items():
        cid = f"recovery-{name}"
        folder = corpus.folder(cid)
        path = folder / "damaged.npz"
        if name == "shape-mismatch":
            rewrite(path, meta_with(shape=[512, 512]), np.zeros((3, 3), np.uint8))
        elif name == "truncated-zip":
            path.write_bytes(good.read_bytes()[:200])
        else:
            rewrite(path, text)
        (folder / "good.npz").write_bytes(good.read_bytes())
        # Listing may offer or skip a damaged file; it must not fail (start-up calls it).
        corpus.add(cid + "-list", ["@recovery-list", corpus.rel(folder)], OK, owner="recovery",
                   problem=f"recovery file {name} beside a good one: skipped")
        expect = CLEAN if name == "naive-saved-at" else ERROR
        corpus.add(cid + "-restore", ["@recovery-restore", corpus.rel(path)], expect,
                   names=["damaged.npz"], owner="recovery", problem=f"restore recovery file {name}")
    for name in ("deep", "bigint", "list", "utf8"):
        cid = f"recovery-video-{name}"
        folder = corpus.folder(cid)
        (folder / "good.npz").write_bytes(good.read_bytes())
        session = folder / "video-abc"
        session.mkdir()
        _poison(session / "video.json", name)
        corpus.add(cid, ["@recovery-list", corpus.rel(folder)], OK, owner="recovery",
                   problem=f"video recovery header {name}: skipped")


FAMILIES = (videos, models, settings_palettes_reviews, recovery_files)
