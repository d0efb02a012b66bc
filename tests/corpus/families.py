"""Corpus families over the mask formats: byte damage, JSON poisons, wrong values in fields."""

from __future__ import annotations

import json
from pathlib import Path

from tests.corpus import files
from tests.corpus.cases import CLEAN, ERROR, OK

# Files whose damage a reader may tolerate (optional name lists): a clean outcome is enough.
_TOLERABLE = (".txt",)
# Raw dumps have no magic and any bytes of the right length are valid data.
_RAW = (".bin",)
# Companions a reader uses when it can and warns about when it cannot.
_OPTIONAL_COMPANIONS = {("celantur-instance", "frame.json")}
_OWNER = {
    "index-png": "loaders", "palette-png": "loaders", "label-npy": "loaders",
    "cityscapes-labelids": "bombs", "cityscapes-instanceids": "bombs",
    "cityscapes-trainids": "bombs", "celantur-instance": "bombs", "celantur-binary": "bombs",
    "celantur-metadata": "bombs", "celantur-chunk": "bombs", "nucleus": "bombs",
    "deepstream-bin": "bombs", "deepstream-jpeg": "bombs", "opencv-blob": "bombs",
    "coco-rle": "bombs", "coco-panoptic": "bombs", "rgb-legend": "bombs", "camvid": "bombs",
    "voc-rgb": "bombs", "cvat-mask": "bombs", "clearml": "bombs", "labelme": "labelme",
}


def byte_damage(corpus) -> None:
    """Every file of every format: empty, cut to half and to 12 bytes, wrong magic, noise."""
    damages = {
        "empty": files.empty,
        "half": lambda p: files.truncate(p, 0.5),
        "head12": lambda p: files.truncate(p, keep=12),
        "magic": files.wrong_magic,
        "noise": files.garbage,
    }
    for key, base in corpus.bases.items():
        for member in base.files:
            suffix = Path(member).suffix.lower()
            for dname, damage in damages.items():
                if suffix in _RAW and dname in ("magic", "noise"):
                    continue
                if suffix == ".json" and dname == "head12":
                    continue  # same as half for these small files
                cid = f"bytes-{key}-{member.replace('/', '_')}-{dname}"
                folder, _ = corpus.copy_base(cid, key)
                damage(folder / member)
                expect = CLEAN if suffix in _TOLERABLE else ERROR
                warn = False
                if (key, member) in _OPTIONAL_COMPANIONS:
                    expect, warn = OK, True  # the mask opens; the damaged companion is named
                owner = "loaders" if dname in ("empty", "magic", "noise") else _OWNER[key]
                target = corpus.rel(folder / base.primary)
                corpus.add(cid, ["info", "--format", base.format, target],
                           expect, names=[Path(member).name, Path(base.primary).name],
                           owner=owner, problem=f"{dname} bytes in {member}", warn=warn)
                if dname == "half" and expect == ERROR:
                    corpus.add(cid + "-detect", ["info", corpus.rel(folder / base.primary)], ERROR,
                               names=[Path(member).name, Path(base.primary).name], owner=owner,
                               problem=f"truncated {member}, format detected")
                    corpus.add(cid + "-convert", ["convert", corpus.rel(folder / base.primary),
                                                  "--to", "index-png", "--out",
                                                  corpus.rel(folder) + "/out"], ERROR,
                               names=[Path(member).name, Path(base.primary).name], owner=owner,
                               problem=f"truncated {member} converted")


# -- JSON readers: (key, base, the JSON member, argv maker, expected, owner) ---------------------
def _json_targets(corpus):
    info = lambda fmt, primary: lambda rel: ["info", "--format", fmt, rel(primary)]  # noqa: E731
    return [
        ("nucleus", "nucleus", "frame.json", info("nucleus", "frame.json"), ERROR, "loaders"),
        ("coco-rle", "coco-rle", "frame.json", info("coco-rle", "frame.json"), ERROR, "loaders"),
        ("coco-panoptic", "coco-panoptic", "frame.json", info("coco-panoptic", "frame.json"),
         ERROR, "loaders"),
        ("clearml", "clearml", "frame.json", info("clearml", "frame.json"), ERROR, "loaders"),
        ("celantur-image", "celantur-metadata", "photo.json",
         info("celantur-metadata", "photo.json"), ERROR, "loaders"),
        ("celantur-chunk", "celantur-chunk", "clip-0-9.json",
         info("celantur-metadata", "clip-0-9.json"), ERROR, "loaders"),
        ("legend", "rgb-legend", "frame.legend.json", info("rgb-legend", "frame.png"), ERROR,
         "loaders"),
        ("deepstream-sidecar", "deepstream-bin", "frame.bin.json",
         info("deepstream-bin", "frame.bin"), ERROR, "loaders"),
        ("coco-rle-detect", "coco-rle", "frame.json", lambda rel: ["info", rel("frame.json")],
         ERROR, "loaders"),
    ]


def json_poisons(corpus) -> None:
    """Every JSON reader: deep nesting, 5000 digits, NaN, wrong top-level types, bad UTF-8."""
    for key, base_key, member, argv, expect, owner in _json_targets(corpus):
        base = corpus.bases[base_key]
        doc = json.loads((base.folder / member).read_text())
        poisons = dict(files.WHOLE_POISONS)
        for fname, raw in files.FIELD_POISONS.items():
            if isinstance(doc, dict):
                poisons[fname] = files.with_raw_field(doc, "corpus", raw)
        for pname, text in poisons.items():
            cid = f"json-{key}-{pname}"
            folder, _ = corpus.copy_base(cid, base_key)
            (folder / member).write_text(text)
            rel = lambda name, f=folder: corpus.rel(f / name)  # noqa: E731
            corpus.add(cid, argv(rel), expect, names=[member], owner=owner,
                       problem=f"{pname} in {member}")
        cid = f"json-{key}-utf8"
        folder, _ = corpus.copy_base(cid, base_key)
        files.non_utf8(folder / member)
        corpus.add(cid, argv(lambda name, f=folder: corpus.rel(f / name)), expect,
                   names=[member], owner=owner, problem=f"bytes that are not UTF-8 in {member}")


# -- wrong values in the fields of each format ----------------------------------------------------
# Values a tolerant reader may skip with a warning naming them (FORMATS.md: keep parsers tolerant
# of missing keys): a clean outcome is enough.
_TOLERATED = {"index-huge", "bbox-nan", "bbox-strings", "bbox-short", "detections-dict",
              "detection-int", "names-list", "height-superscript"}
def _edit(corpus, cid, base_key, member, change, argv_of, expect=ERROR, *, names=None,
          owner="bombs", problem="", bomb=False, warn=False, stdout_has=()):
    """Copy a base, let ``change(doc, folder)`` return the new JSON text, add the case."""
    folder, base = corpus.copy_base(cid, base_key)
    doc = json.loads((folder / member).read_text())
    text = change(doc, folder)
    if text is not None:
        (folder / member).write_text(text if isinstance(text, str) else json.dumps(text))
    argv = argv_of(folder, base)
    corpus.add(cid, argv, expect, names=names or [member], owner=owner, problem=problem,
               bomb=bomb, warn=warn, stdout_has=list(stdout_has))


def _info(corpus, fmt=None, name=None):
    def argv(folder, base):
        return ["info", *(["--format", fmt] if fmt else []),
                corpus.rel(folder / (name or base.primary))]
    return argv


def _setter(path, value):
    def change(doc, folder):
        target = doc
        for k in path[:-1]:
            target = target[k]
        target[path[-1]] = value
        return doc
    return change


def _raw(path, raw):
    return lambda doc, folder: files.set_raw(doc, path, raw)


def coco_rle_fields(corpus) -> None:
    ann = ["annotations", 0]
    img = ["images", 0]
    info = _info(corpus, "coco-rle")
    cases = {
        "category-list": _setter([*ann, "category_id"], [1]),
        "category-string": _setter([*ann, "category_id"], "1"),
        "category-bigint": _raw([*ann, "category_id"], files.BIG_INT),
        "height-superscript": _setter([*img, "height"], "\u00b2"),
        "height-string": _setter([*img, "height"], "6"),
        "height-zero": _setter([*img, "height"], 0),
        "height-negative": _setter([*img, "height"], -6),
        "height-huge": _setter([*img, "height"], 10 ** 12),
        "height-nan": _raw([*img, "height"], "NaN"),
        "width-infinity": _raw([*img, "width"], "Infinity"),
        "width-float": _setter([*img, "width"], 8.5),
        "size-list-of-lists": _setter([*ann, "segmentation", "size"], [[6], [8]]),
        "size-negative": _setter([*ann, "segmentation", "size"], [-6, -8]),
        "size-nan": _raw([*ann, "segmentation", "size"], "[NaN, 8]"),
        "counts-garbage": _setter([*ann, "segmentation", "counts"], "\x7f\x7f\x7f~~~"),
        "counts-int": _setter([*ann, "segmentation", "counts"], 5),
        "counts-not-summing": _setter([*ann, "segmentation", "counts"], [3, 4, 5]),
        "counts-too-many": _setter([*ann, "segmentation", "counts"], [1] * 100),
        "counts-uint32": _setter([*ann, "segmentation", "counts"], [2 ** 32 + 5, 43]),
        "counts-2pow64": _setter([*ann, "segmentation", "counts"], [2 ** 64 + 1, 3]),
        "counts-negative": _setter([*ann, "segmentation", "counts"], [-10, 58]),
        "counts-float": _setter([*ann, "segmentation", "counts"], [1.5, 46.5]),
        "counts-nan": _raw([*ann, "segmentation", "counts"], "[NaN, 48]"),
        "counts-strings": _setter([*ann, "segmentation", "counts"], ["10", "38"]),
        "counts-huge-rle-string": _setter([*ann, "segmentation", "counts"], "_" * 3000 + "0"),
        "segmentation-string": _setter([*ann, "segmentation"], "mask"),
        "polygon-nan": _raw([*ann, "segmentation"], "[[1, 1, NaN, 1, 3, 3]]"),
        "polygon-strings": _setter([*ann, "segmentation"], [["1", "1", "4", "1", "4", "4"]]),
        "polygon-odd": _setter([*ann, "segmentation"], [[1, 1, 4]]),
        "annotations-dict": _setter(["annotations"], {"0": 1}),
        "annotation-int": _setter(["annotations"], [7]),
        "images-string": _setter(["images"], "frame.png"),
        "image-id-list": _setter([*img, "id"], [1]),
    }
    for name, change in cases.items():
        _edit(corpus, f"coco-rle-{name}", "coco-rle", "frame.json", change, info,
              problem=name.replace("-", " "))
    _edit(corpus, "coco-rle-bbox-infinity", "coco-rle", "frame.json",
          _raw([*ann, "bbox"], "[1, 1, Infinity, 2]"), info, CLEAN, problem="bbox with Infinity")
    _edit(corpus, "coco-rle-image-id-missing", "coco-rle", "frame.json",
          _setter([*ann, "image_id"], 99), info, CLEAN, problem="annotation of no image")


def coco_panoptic_fields(corpus) -> None:
    seg0 = ["annotations", 0, "segments_info", 0]
    ann = ["annotations", 0]
    info = _info(corpus, "coco-panoptic")
    errors = {
        "segment-id-list": _setter([*seg0, "id"], [1]),
        "category-list": _setter([*seg0, "category_id"], [1]),
        "category-superscript": _setter([*seg0, "category_id"], "\u00b2"),
        "height-superscript": _setter(["images", 0, "height"], "\u00b2"),
        "segments-info-dict": _setter([*ann, "segments_info"], {"id": 1}),
        "segment-int": _setter([*ann, "segments_info"], [3]),
        "file-name-nul": _setter([*ann, "file_name"], "frame\x00.png"),
        "file-name-long": _setter([*ann, "file_name"], "x" * 5000 + ".png"),
        "file-name-outside": _setter([*ann, "file_name"], "../_outside.png"),
        "file-name-absolute": _setter([*ann, "file_name"], "/etc/hostname"),
        "file-name-int": _setter([*ann, "file_name"], 5),
        "segment-id-bigint": _raw([*seg0, "id"], files.BIG_INT),
        "segment-id-nan": _raw([*seg0, "id"], "NaN"),
    }
    for name, change in errors.items():
        _edit(corpus, f"coco-panoptic-{name}", "coco-panoptic", "frame.json", change, info,
              CLEAN if name in _TOLERATED else ERROR, names=["frame.json", "frame.png"],
              owner="loaders" if "file-name" in name else "bombs", problem=name.replace("-", " "))
    (corpus.root / "_outside.png").write_bytes((corpus.bases["coco-panoptic"].folder
                                                / "frame.png").read_bytes())


def nucleus_fields(corpus) -> None:
    info = _info(corpus, "nucleus")
    ann0 = ["annotations", 0]
    errors = {
        "mask-url-nul": (_setter(["mask_url"], "frame\x00.png"), "loaders"),
        "mask-url-long": (_setter(["mask_url"], "m" * 5000 + ".png"), "loaders"),
        "mask-url-outside": (_setter(["mask_url"], "../_outside.png"), "loaders"),
        "mask-url-absolute": (_setter(["mask_url"], "/etc/hostname"), "loaders"),
        "mask-url-remote": (_setter(["mask_url"], "https://example.invalid/m.png"), "loaders"),
        "mask-url-int": (_setter(["mask_url"], 17), "bombs"),
        "mask-url-list": (_setter(["mask_url"], ["frame.png"]), "bombs"),
        "mask-url-folder": (_setter(["mask_url"], "."), "loaders"),
        "index-list": (_setter([*ann0, "index"], [0]), "bombs"),
        "index-superscript": (_setter([*ann0, "index"], "\u00b2"), "bombs"),
        "index-huge": (_setter([*ann0, "index"], 10 ** 30), "bombs"),
        "index-nan": (_raw([*ann0, "index"], "NaN"), "bombs"),
        "index-bigint": (_raw([*ann0, "index"], files.BIG_INT), "loaders"),
        "annotations-dict": (_setter(["annotations"], {"label": "x"}), "bombs"),
        "label-list": (_setter([*ann0, "label"], ["a", "b"]), "bombs"),
    }
    for name, (change, owner) in errors.items():
        _edit(corpus, f"nucleus-{name}", "nucleus", "frame.json", change, info,
              CLEAN if name in _TOLERATED else ERROR, owner=owner,
              names=["frame.json", "frame.png"], problem=name.replace("-", " "))


def clearml_fields(corpus) -> None:
    info = _info(corpus, "clearml")
    src = ["sources", 0]
    roi = ["rois", 1]
    errors = {
        "width-negative": _setter([*src, "width"], -8),
        "width-zero": _setter([*src, "width"], 0),
        "width-superscript": _setter([*src, "width"], "\u00b2"),
        "width-huge": _setter([*src, "width"], 10 ** 9),
        "height-nan": _raw([*src, "height"], "NaN"),
        "height-list": _setter([*src, "height"], [6]),
        "uri-nul": _setter([*src, "masks", 0, "uri"], "frame\x00_mask.png"),
        "uri-long": _setter([*src, "masks", 0, "uri"], "u" * 5000 + ".png"),
        "uri-outside": _setter([*src, "masks", 0, "uri"], "../_outside.png"),
        "uri-int": _setter([*src, "masks", 0, "uri"], 3),
        "value-nan": _raw([*roi, "mask", "value"], "[NaN, 82, 206]"),
        "value-string": _setter([*roi, "mask", "value"], "red"),
        "value-too-big": _setter([*roi, "mask", "value"], [300, 82, 206]),
        "value-short": _setter([*roi, "mask", "value"], [30]),
        "rois-dict": _setter(["rois"], {"id": 1}),
        "sources-string": _setter(["sources"], "source"),
        "masks-int": _setter([*src, "masks"], 4),
    }
    for name, change in errors.items():
        owner = "loaders" if name.startswith("uri") else "bombs"
        _edit(corpus, f"clearml-{name}", "clearml", "frame.json", change, info, owner=owner,
              names=["frame.json", "frame_mask.png"], problem=name.replace("-", " "))


def celantur_fields(corpus) -> None:
    info = _info(corpus, "celantur-metadata")
    det = ["detections", 0]
    errors = {
        "size-superscript": _setter(["size"], ["\u00b2", 6]),
        "size-negative": _setter(["size"], [-8, 6]),
        "size-zero": _setter(["size"], [0, 0]),
        "size-nan": _raw(["size"], "[NaN, 6]"),
        "size-huge": _setter(["size"], [10 ** 12, 10 ** 12]),
        "size-string": _setter(["size"], "8x6"),
        "bbox-nan": _raw([*det, "bbox"], "[1, 1, NaN, 3]"),
        "bbox-strings": _setter([*det, "bbox"], ["1", "1", "4", "3"]),
        "bbox-short": _setter([*det, "bbox"], [1, 2]),
        "bbox-bigint": _raw([*det, "bbox"], f"[1, 1, {files.BIG_INT}, 3]"),
        "detections-dict": _setter(["detections"], {"id": 0}),
        "detection-int": _setter(["detections"], [5]),
    }
    for name, change in errors.items():
        _edit(corpus, f"celantur-image-{name}", "celantur-metadata", "photo.json", change, info,
              CLEAN if name in _TOLERATED else ERROR, problem=name.replace("-", " "))
    _edit(corpus, "celantur-image-bbox-outside", "celantur-metadata", "photo.json",
          _setter([*det, "bbox"], [-50, -50, 10 ** 6, 10 ** 6]), info, CLEAN,
          problem="a box far outside the image")
    chunk = _info(corpus, "celantur-metadata")
    chunk_errors = {
        "frame-id-superscript": _setter([0, "id"], "\u00b2"),
        "frame-id-list": _setter([0, "id"], [0]),
        "frame-size-negative": _setter([0, "size"], [-8, 6]),
        "frame-int": _setter([0], 7),
    }
    for name, change in chunk_errors.items():
        _edit(corpus, f"celantur-chunk-{name}", "celantur-chunk", "clip-0-9.json", change, chunk,
              problem=name.replace("-", " "))
    # Frames that break the START-END rules of the chunk's name.
    folder = corpus.folder("celantur-chunk-reversed-name")
    (folder / "clip-9-0.json").write_text(json.dumps([_frame(i) for i in range(10)]))
    corpus.add("celantur-chunk-reversed-name", ["info", "--format", "celantur-metadata",
                                                corpus.rel(folder / "clip-9-0.json")], ERROR,
               names=["clip-9-0.json"], owner="bombs", problem="chunk named 9-0")
    folder = corpus.folder("celantur-chunk-601-frames")
    (folder / "clip-0-600.json").write_text(json.dumps([_frame(i) for i in range(601)]))
    corpus.add("celantur-chunk-601-frames", ["info", "--format", "celantur-metadata",
                                             corpus.rel(folder / "clip-0-600.json")], ERROR,
               names=["clip-0-600.json"], owner="bombs", problem="601 frames in one chunk")


def _frame(i):
    from tests.corpus.bases import celantur_frame

    return celantur_frame(i)


def deepstream_fields(corpus) -> None:
    info = _info(corpus, "deepstream-bin")
    errors = {
        "classes-negative": _setter(["classes"], -1),
        "classes-superscript": _setter(["classes"], "\u00b2"),
        "classes-list": _setter(["classes"], [3]),
        "width-zero": _setter(["width"], 0),
        "height-huge": _setter(["height"], 10 ** 9),
        "height-bigint": _raw(["height"], files.BIG_INT),
        "dtype-unknown": _setter(["dtype"], "float128"),
        "order-unknown": _setter(["order"], "XYZ"),
        "threshold-nan": _raw(["threshold"], "NaN"),
        "batch-size-zero": _setter(["batch_size"], 0),
        "names-list": _setter(["names"], ["a", "b"]),
        "colors-nan": _raw(["colors", "1"], "[NaN, 0, 0]"),
    }
    for name, change in errors.items():
        _edit(corpus, f"deepstream-{name}", "deepstream-bin", "frame.bin.json", change, info,
              CLEAN if name in _TOLERATED else ERROR, names=["frame.bin.json", "frame.bin"],
              problem=name.replace("-", " "))


def legend_fields(corpus) -> None:
    info = _info(corpus, "rgb-legend", "frame.png")
    errors = {
        "color-nan": _raw(["person"], "[NaN, 82, 206]"),
        "color-superscript": _setter(["person"], ["\u00b2", 82, 206]),
        "color-short": _setter(["person"], [30, 82]),
        "color-too-big": _setter(["person"], [3000, 82, 206]),
        "color-bigint": _raw(["person"], f"[{files.BIG_INT}, 82, 206]"),
    }
    for name, change in errors.items():
        _edit(corpus, f"legend-{name}", "rgb-legend", "frame.legend.json", change, info,
              names=["frame.legend.json"], problem=name.replace("-", " "))


def text_tables(corpus) -> None:
    """labelmap.txt (CVAT, VOC), label_colors.txt (CamVid): numbers and bytes that are wrong."""
    bad = {
        "bigint": "background:0,0,0::\nperson:" + files.BIG_INT + ",0,0::\ncar:0,128,0::\n",
        "too-big": "background:0,0,0::\nperson:300,0,0::\ncar:0,128,0::\n",
        "nul": "background:0,0,0::\nper\x00son:128,0,0::\ncar:0,128,0::\n",
        "no-colons": "background 0 0 0\nperson\n",
        "binary": "\xff\xfe\x00\x01" * 20,
    }
    for key, member in (("cvat-mask", "labelmap.txt"), ("voc-rgb", "labelmap.txt")):
        base = corpus.bases[key]
        for name, text in bad.items():
            cid = f"table-{key}-{name}"
            folder, _ = corpus.copy_base(cid, key)
            (folder / member).write_bytes(text.encode("utf-8", "surrogateescape")
                                          if name != "binary" else text.encode("latin1"))
            expect = CLEAN if name in ("nul", "no-colons") else ERROR  # read as names / skipped
            corpus.add(cid, ["info", "--format", key, corpus.rel(folder / base.primary)], expect,
                       names=[member], owner="bombs", problem=f"{name} in {member}")
    camvid = {
        "nan": "nan nan nan background\n30 82 206 person\n130 204 26 car\n",
        "bigint": f"0 0 0 background\n{files.BIG_INT} 82 206 person\n",
        "too-big": "0 0 0 background\n300 82 206 person\n",
        "binary": "\xff\xfe\x00\x01" * 20,
    }
    base = corpus.bases["camvid"]
    for name, text in camvid.items():
        cid = f"table-camvid-{name}"
        folder, _ = corpus.copy_base(cid, "camvid")
        (folder / "label_colors.txt").write_bytes(text.encode("latin1"))
        corpus.add(cid, ["info", "--format", "camvid", corpus.rel(folder / base.primary)],
                   # A line that is not a colour is skipped, and its colour warned about.
                   CLEAN if name in ("nan", "bigint") else ERROR,
                   names=["label_colors.txt"], owner="bombs", problem=f"{name} in label_colors.txt")


FAMILIES = (byte_damage, json_poisons, coco_rle_fields, coco_panoptic_fields, nucleus_fields,
            clearml_fields, celantur_fields, deepstream_fields, legend_fields, text_tables)
__all__ = ["FAMILIES", "OK"]
