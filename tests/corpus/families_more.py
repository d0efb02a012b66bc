"""Corpus families beyond the mask formats' fields: arrays, bombs, FIFOs, sidecars, videos,
models, recovery files, settings, palettes, reviews and paths."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from tests.corpus import files
from tests.corpus.bases import celantur_frame
from tests.corpus.cases import CLEAN, ERROR, OK

# What ``info --json`` prints for the corpus's valid 8x6 mask: the result is right.
_VALID_8X6 = ['"width": 8', '"height": 6']


def arrays(corpus) -> None:
    """npy/npz: lying headers, negative shapes, objects, broken archives, empty arrays."""
    def case(cid, name, make, argv_extra=(), expect=ERROR, bomb=False, owner="loaders",
             problem="", command="info"):
        folder = corpus.folder(cid)
        path = folder / name
        make(path)
        if command == "info":
            argv = ["info", *argv_extra, corpus.rel(path)]
        else:
            argv = ["convert", corpus.rel(path), "--to", command, "--out",
                    corpus.rel(folder / "out")]
        corpus.add(cid, argv, expect, names=[name], bomb=bomb, owner=owner, problem=problem)

    header = files.npy_with_header
    case("npy-negative-shape", "m.npy", lambda p: header(p, files.npy_header((-6, 8))),
         problem="negative shape in the header")
    case("npy-huge-3d", "m.npy", lambda p: header(p, files.npy_header((66000, 66000, 1))),
         bomb=True, problem="(66000, 66000, 1) declared, 16 bytes of data")
    case("npy-huge-first-axes", "m.npy",
         lambda p: header(p, files.npy_header((70000, 70000, 1, 1))),
         bomb=True, problem="4-d shape whose first axes are huge")
    case("npy-short-data", "m.npy", lambda p: header(p, files.npy_header((6, 8))),
         problem="header says 6x8 int32, 16 bytes follow")
    case("npy-header-garbage", "m.npy", lambda p: header(p, "{'descr': <i4, shape: ((("),
         problem="unparsable header dict")
    case("npy-object", "m.npy", lambda p: np.save(p, np.array([{"a": 1}], object),
                                                   allow_pickle=True),
         problem="object array (would need pickle)")
    case("npy-shape-bigint", "m.npy", lambda p: header(p, "{'descr': '<i4', 'fortran_order': "
                                                      f"False, 'shape': ({files.BIG_INT}, 8), }}"),
         problem="5000-digit dimension")
    case("npy-complex", "m.npy", lambda p: np.save(p, np.ones((6, 8), np.complex64)),
         expect=CLEAN, problem="complex values")
    case("npy-float-nan", "m.npy", lambda p: np.save(p, np.full((6, 8), np.nan)),
         expect=CLEAN, problem="float NaN labels")
    case("npy-empty-info", "m.npy", lambda p: np.save(p, np.zeros((0, 0), np.int32)),
         expect=CLEAN, problem="(0, 0) array")
    case("npy-empty-convert", "m.npy", lambda p: np.save(p, np.zeros((0, 0), np.int32)),
         command="index-png", problem="(0, 0) array converted")
    case("npy-empty-rows-convert", "m.npy", lambda p: np.save(p, np.zeros((0, 8), np.int32)),
         command="coco-rle", problem="(0, 8) array converted")
    case("npy-scalar", "m.npy", lambda p: np.save(p, np.int32(3)), problem="0-d array")
    case("npy-1d", "m.npy", lambda p: np.save(p, np.arange(8, dtype=np.int32)),
         problem="1-d array")
    case("npy-uint64-huge", "m.npy", lambda p: np.save(p, np.full((6, 8), 2 ** 63 + 5, np.uint64)),
         expect=CLEAN, owner="bombs", problem="uint64 values above int64")
    case("npz-broken", "m.npz", lambda p: (np.savez(p, labels=files.labels()),
                                           files.truncate(p, 0.6)),
         problem="truncated npz")
    case("npz-not-zip", "m.npz", lambda p: p.write_bytes(b"PK\x03\x04" + b"\x00" * 40),
         problem="zip magic, nothing else")
    case("npz-object", "m.npz", lambda p: np.savez(p, labels=np.array([{"a": 1}], object)),
         problem="object array in an npz")
    case("npz-negative-shape", "m.npz", lambda p: _npz_member(
        p, header(p.with_suffix(".tmp"), files.npy_header((-1, 8)))),
         problem="negative shape in npz")
    case("npz-bomb", "m.npz", lambda p: files.npz_zero_bomb(p, (60000, 60000)), bomb=True,
         problem="npz member inflating to 3.6 GB")
    case("npz-bomb-small-shape", "m.npz", lambda p: files.npz_zero_bomb(p, (17000, 17000)),
         expect=CLEAN, bomb=True, problem="npz member of 289 M pixels (under the limit?)")
    case("npy-million-ids", "m.npy", lambda p: np.save(
        p, np.arange(1_000_000, dtype=np.int32).reshape(1000, 1000)), expect=CLEAN, bomb=True,
         owner="bombs", problem="a million distinct ids in 4 MB")
    case("npy-million-ids-convert", "m.npy", lambda p: np.save(
        p, np.arange(1_000_000, dtype=np.int32).reshape(1000, 1000)), expect=CLEAN, bomb=True,
         owner="bombs", command="index-png", problem="a million distinct ids converted")
    blob = files.npy_header((1, 5000, 512, 400), "<f4")
    case("opencv-5000-classes", "m.npy", lambda p: header(p, blob), ("--format", "opencv-blob"),
         bomb=True, owner="bombs", problem="(1, 5000, 512, 400) float blob, 16 bytes of data")
    case("opencv-rank1", "m.npy", lambda p: np.save(p, np.zeros(48, np.float32)),
         ("--format", "opencv-blob"), owner="bombs", problem="rank-1 blob")
    case("opencv-zero-classes", "m.npy", lambda p: np.save(p, np.zeros((1, 0, 6, 8), np.float32)),
         ("--format", "opencv-blob"), owner="bombs", problem="a blob with 0 classes")
    case("opencv-nan", "m.npy", lambda p: np.save(p, np.full((1, 3, 6, 8), np.nan, np.float32)),
         ("--format", "opencv-blob"), expect=CLEAN, owner="bombs", problem="NaN scores")


def _npz_member(path: Path, member: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(member, "labels.npy")
    member.unlink()


def bombs(corpus) -> None:
    """Huge declared sizes and counts in small files."""
    def png_case(cid, data, expect, problem, argv_extra=(), name="m.png", owner="loaders"):
        folder = corpus.folder(cid)
        (folder / name).write_bytes(data)
        corpus.add(cid, ["info", *argv_extra, corpus.rel(folder / name)], expect, names=[name],
                   bomb=True, owner=owner, problem=problem)

    png_case("png-pillow-bomb", files.zero_png_bomb(15000, 15000), CLEAN,
             "valid 1-bit PNG of 225 M pixels, above Pillow's bomb threshold")
    png_case("png-pillow-bomb-index", files.zero_png_bomb(15000, 15000), CLEAN,
             "the same, read as index-png", ("--format", "index-png"))
    png_case("png-header-huge", files.png_bytes(100_000, 100_000), ERROR,
             "IHDR 100000x100000, 64 bytes of data")
    png_case("png-header-max", files.png_bytes(2 ** 31 - 1, 1), ERROR, "IHDR width 2^31-1")
    png_case("png-header-zero", files.png_bytes(0, 0), ERROR, "IHDR 0x0")
    png_case("png-header-16bit-huge", files.png_bytes(30000, 30000, bit_depth=16), ERROR,
             "16-bit IHDR 30000x30000, tiny data")
    png_case("png-text-bomb", files.png_bytes(8, 6, extra=files.text_bomb_chunk(),
                                              idat=__import__("zlib").compress(b"\x00" * 9 * 6)),
             CLEAN, "zTXt chunk inflating to 64 MB")
    png_case("png-celantur-huge", files.png_bytes(40000, 40000, color_type=2), ERROR,
             "Celantur instance PNG header 40000x40000", name="f_ins_maks.png", owner="bombs")
    png_case("png-cityscapes-huge", files.png_bytes(40000, 40000, bit_depth=16), ERROR,
             "Cityscapes instanceIds header 40000x40000", name="c_gtFine_instanceIds.png",
             owner="bombs")
    # 16-bit random noise to the 256-colour VOC map: refuse or finish quickly.
    folder = corpus.folder("voc-rgb-random-uint16")
    from PIL import Image

    noise = np.random.default_rng(1).integers(0, 65535, (300, 300), np.uint16)
    Image.fromarray(noise).save(folder / "noise.png")
    corpus.add("voc-rgb-random-uint16", ["convert", corpus.rel(folder / "noise.png"), "--to",
                                         "voc-rgb", "--out", corpus.rel(folder / "out")],
               CLEAN, names=["noise.png"], bomb=True, owner="bombs",
               problem="300x300 random uint16 to voc-rgb")
    _coco_bombs(corpus)
    _celantur_bombs(corpus)
    _deepstream_bomb(corpus)


def _coco_doc(width, height, anns):
    return {"images": [{"id": 1, "width": width, "height": height}],
            "annotations": anns, "categories": [{"id": 1, "name": "thing"}]}


def _coco_bombs(corpus) -> None:
    anns = [{"id": i + 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
             "segmentation": {"size": [100, 200], "counts": [i, 1, 20000 - i - 1]}}
            for i in range(20000)]
    folder = corpus.folder("coco-20000-instances")
    (folder / "c.json").write_text(json.dumps(_coco_doc(200, 100, anns)))
    corpus.add("coco-20000-instances",
               ["info", "--format", "coco-rle", corpus.rel(folder / "c.json")],
               CLEAN, names=["c.json"], bomb=True, owner="bombs",
               problem="20,000 one-pixel instances")
    full = [{"id": i + 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
             "segmentation": {"size": [4000, 4000], "counts": [0, 16_000_000]}} for i in range(300)]
    folder = corpus.folder("coco-300-full-instances")
    (folder / "c.json").write_text(json.dumps(_coco_doc(4000, 4000, full)))
    corpus.add("coco-300-full-instances", ["info", "--format", "coco-rle",
                                           corpus.rel(folder / "c.json")],
               CLEAN, names=["c.json"], bomb=True, owner="bombs",
               problem="300 full-image instances at 4000x4000")
    folder = corpus.folder("coco-huge-size")
    huge = [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
             "segmentation": {"size": [60000, 60000], "counts": [0, 3_600_000_000]}}]
    (folder / "c.json").write_text(json.dumps(_coco_doc(60000, 60000, huge)))
    corpus.add("coco-huge-size", ["info", "--format", "coco-rle", corpus.rel(folder / "c.json")],
               ERROR, names=["c.json"], bomb=True, owner="bombs",
               problem="one instance of 60000x60000")
    folder = corpus.folder("panoptic-20000-segments")
    base = corpus.bases["coco-panoptic"]
    files.copy_tree(base.folder, folder)
    doc = json.loads((folder / "frame.json").read_text())
    doc["annotations"][0]["segments_info"] = [{"id": i + 3, "category_id": 1, "area": 0,
                                               "iscrowd": 0} for i in range(20000)]
    (folder / "frame.json").write_text(json.dumps(doc))
    corpus.add("panoptic-20000-segments", ["info", "--format", "coco-panoptic",
                                           corpus.rel(folder / "frame.json")],
               CLEAN, names=["frame.json"], bomb=True, owner="bombs",
               problem="20,000 segments_info entries for 3 ids")


def _celantur_bombs(corpus) -> None:
    boxes = [(i * 300, i * 300, i * 300 + 5000, i * 300 + 5000) for i in range(50)]
    folder = corpus.folder("celantur-17000-50-boxes")
    doc = celantur_frame("big.jpg", size=(17000, 17000), boxes=boxes)
    (folder / "big.json").write_text(json.dumps(doc))
    corpus.add("celantur-17000-50-boxes", ["info", "--format", "celantur-metadata",
                                           corpus.rel(folder / "big.json")],
               CLEAN, names=["big.json"], bomb=True, owner="bombs",
               problem="3 KB JSON declaring 17000x17000 with 50 boxes")
    folder = corpus.folder("celantur-chunk-huge-size")
    frames = [celantur_frame(i, size=(17000, 17000), boxes=boxes[:5]) for i in range(3)]
    (folder / "v-0-2.json").write_text(json.dumps(frames))
    corpus.add("celantur-chunk-huge-size", ["info", "--format", "celantur-metadata",
                                            corpus.rel(folder / "v-0-2.json")],
               CLEAN, names=["v-0-2.json"], bomb=True, owner="bombs",
               problem="video chunk frames of 17000x17000")


def _deepstream_bomb(corpus) -> None:
    folder = corpus.folder("deepstream-5000-classes")
    (folder / "d.bin").write_bytes(b"\x00" * 64)
    (folder / "d.bin.json").write_text(json.dumps({"classes": 5000, "height": 512, "width": 400,
                                                  "dtype": "float32", "order": "NCHW"}))
    corpus.add("deepstream-5000-classes", ["info", "--format", "deepstream-bin",
                                           corpus.rel(folder / "d.bin")],
               ERROR, names=["d.bin", "d.bin.json"], bomb=True, owner="bombs",
               problem="sidecar declaring 5000x512x400 floats for 64 bytes")
    folder = corpus.folder("deepstream-5000-classes-options")
    (folder / "d.bin").write_bytes(b"\x00" * 64)
    corpus.add("deepstream-5000-classes-options", ["info", "--format", "deepstream-bin",
                                                   corpus.rel(folder / "d.bin")],
               ERROR, names=["d.bin"], bomb=False, owner="bombs",
               problem="a .bin without its sidecar")


def fifos(corpus) -> None:
    """FIFOs and devices where files belong: never block, never read a device."""
    from tests.corpus.generate import fifo

    def valid_mask(folder):
        files.copy_tree(corpus.bases["index-png"].folder, folder)
        return folder / "frame.png"

    folder = corpus.folder("fifo-json-beside-png")
    mask = valid_mask(folder)
    fifo(folder / "x.json")
    corpus.add("fifo-json-beside-png", ["info", "--json", corpus.rel(mask)], OK,
               stdout_has=_VALID_8X6, problem="a FIFO named x.json next to the mask")
    folder = corpus.folder("fifo-json-in-parent")
    mask = valid_mask(folder / "sub")
    fifo(folder / "y.json")
    corpus.add("fifo-json-in-parent", ["info", "--json", corpus.rel(mask)], OK,
               stdout_has=_VALID_8X6, problem="a FIFO named y.json in the parent folder")
    folder = corpus.folder("fifo-json-beside-png-convert")
    mask = valid_mask(folder)
    fifo(folder / "z.json")
    corpus.add("fifo-json-beside-png-convert", ["convert", corpus.rel(mask), "--to", "nucleus",
                                                "--out", corpus.rel(folder / "out")], OK,
               problem="a FIFO next to the mask, convert")
    folder = corpus.folder("fifo-panoptic-json")
    files.copy_tree(corpus.bases["coco-panoptic"].folder, folder)
    fifo(folder / "other.json")
    corpus.add("fifo-panoptic-json", ["info", corpus.rel(folder / "frame.png")], CLEAN,
               names=["frame.png"], problem="a FIFO JSON beside a panoptic PNG")
    for cid, name, argv_extra in (("fifo-as-png", "m.png", ()), ("fifo-as-json", "m.json", ()),
                                  ("fifo-as-npy", "m.npy", ()),
                                  ("fifo-as-nucleus", "m.json", ("--format", "nucleus"))):
        folder = corpus.folder(cid)
        fifo(folder / name)
        corpus.add(cid, ["info", *argv_extra, corpus.rel(folder / name)], ERROR, names=[name],
                   problem=f"a FIFO given as {name}")
    folder = corpus.folder("device-as-png")
    (folder / "m.png").symlink_to("/dev/zero")
    corpus.add("device-as-png", ["info", corpus.rel(folder / "m.png")], ERROR, names=["m.png"],
               problem="m.png is /dev/zero")
    folder = corpus.folder("device-as-json")
    (folder / "m.json").symlink_to("/dev/zero")
    corpus.add("device-as-json", ["info", "--format", "coco-rle", corpus.rel(folder / "m.json")],
               ERROR, names=["m.json"], bomb=True, problem="m.json is /dev/zero")
    folder = corpus.folder("folder-as-png")
    (folder / "m.png").mkdir()
    corpus.add("folder-as-png", ["info", "--format", "index-png", corpus.rel(folder / "m.png")],
               ERROR, names=["m.png"], problem="m.png is a folder")
    folder, base = corpus.copy_base("fifo-nucleus-mask", "nucleus")
    (folder / "frame.png").unlink()
    fifo(folder / "frame.png")
    corpus.add("fifo-nucleus-mask",
               ["info", "--format", "nucleus", corpus.rel(folder / "frame.json")],
               ERROR, names=["frame.png", "frame.json"], problem="the Nucleus mask is a FIFO")
    folder, base = corpus.copy_base("fifo-legend", "rgb-legend")
    (folder / "frame.legend.json").unlink()
    fifo(folder / "frame.legend.json")
    corpus.add("fifo-legend", ["info", "--format", "rgb-legend", corpus.rel(folder / "frame.png")],
               ERROR, names=["frame.legend.json", "frame.png"], problem="the legend is a FIFO")
    folder, base = corpus.copy_base("fifo-deepstream-sidecar", "deepstream-bin")
    (folder / "frame.bin.json").unlink()
    fifo(folder / "frame.bin.json")
    corpus.add("fifo-deepstream-sidecar", ["info", "--format", "deepstream-bin",
                                           corpus.rel(folder / "frame.bin")], ERROR,
               names=["frame.bin.json", "frame.bin"], problem="the .bin sidecar is a FIFO")


def sidecars(corpus) -> None:
    """A damaged ``.segview.json`` beside a valid mask: the mask opens, with a warning."""
    from tests.corpus.generate import fifo

    def write(text):
        return lambda p: p.write_text(text)

    damages = {
        "empty": write(""),
        "truncated": write('{"schema": "segview-metadata", "segments": [{"id": 1, "lab'),
        "deep": write(files.DEEP),
        "bigint": write('{"schema": "segview-metadata", "schema_version": 1, "width": '
                        + files.BIG_INT + "}"),
        "nan-id": write('{"schema": "segview-metadata", "schema_version": 1, "width": 8, '
                        '"height": 6, "segments": [{"id": NaN, "label": "x"}]}'),
        "segments-int": write('{"schema": "segview-metadata", "schema_version": 1, "width": 8, '
                              '"height": 6, "segments": 5}'),
        "segments-ints": write('{"schema": "segview-metadata", "schema_version": 1, "width": 8, '
                               '"height": 6, "segments": [1, 2]}'),
        "id-superscript": write('{"schema": "segview-metadata", "schema_version": 1, '
                                '"segments": [{"id": "\u00b2", "label": "x"}]}'),
        "id-huge": write('{"schema": "segview-metadata", "schema_version": 1, '
                         '"segments": [{"id": 1000000000000000000000000000000, "label": "x"}]}'),
        "label-list": write('{"schema": "segview-metadata", "schema_version": 1, '
                            '"segments": [{"id": 1, "label": ["a"], "color": [1, 2, 3]}]}'),
        "color-bad": write('{"schema": "segview-metadata", "schema_version": 1, '
                           '"segments": [{"id": 1, "label": "x", "color": [300, -1, NaN]}]}'),
        "list": write("[]"),
        "utf8": lambda p: p.write_bytes(b'{"schema": "\xff\xfe"}'),
        "folder": lambda p: p.mkdir(),
        "fifo": lambda p: fifo(p),
        "other-mask": None,  # a sound sidecar written for a 16x12 mask
    }
    for base_key, info_fmt in (("index-png", None), ("label-npy", None)):
        base = corpus.bases[base_key]
        stem = Path(base.primary).stem
        for name, damage in damages.items():
            cid = f"sidecar-{base_key}-{name}"
            folder, _ = corpus.copy_base(cid, base_key)
            side = folder / f"{stem}.segview.json"
            if damage is None:
                _foreign_sidecar(folder, base_key, stem)
            else:
                damage(side)
            owner = "txn" if name == "other-mask" else "loaders"
            corpus.add(cid, ["info", "--json", corpus.rel(folder / base.primary)], OK, warn=True,
                       names=[side.name], stdout_has=_VALID_8X6, owner=owner,
                       problem=f"sidecar: {name}")
    folder, base = corpus.copy_base("sidecar-convert-deep", "index-png")
    (folder / "frame.segview.json").write_text(files.DEEP)
    corpus.add("sidecar-convert-deep", ["convert", corpus.rel(folder / "frame.png"), "--to",
                                        "label-npy", "--out", corpus.rel(folder / "out")], OK,
               warn=True, names=["frame.segview.json"],
               problem="deep sidecar beside a converted mask")


def _foreign_sidecar(folder: Path, base_key: str, stem: str) -> None:
    """A sound sidecar of another mask (16x12, other labels) put beside this one."""
    from viewer.core.export import export
    from viewer.core.segmentation import Segmentation

    other = folder / "_other"
    values = files.labels(16, 12)
    export(Segmentation.from_values(values, names={0: "sky", 1: "tree", 2: "road"}),
           base_key, other, stem)
    os.replace(other / f"{stem}.segview.json", folder / f"{stem}.segview.json")
    for p in sorted(other.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    other.rmdir()


def paths(corpus) -> None:
    """NUL bytes and over-long names given on the command line."""
    folder = corpus.folder("path-args")
    long = "n" * 5000 + ".png"
    nul = "ma\x00sk.png"
    rel = corpus.rel(folder)
    corpus.add("path-nul-info", ["info", f"{rel}/{nul}"], ERROR, names=["sk.png"],
               problem="NUL byte in the path")
    corpus.add("path-long-info", ["info", f"{rel}/{long}"], ERROR, names=["nnnn"],
               problem="5000-character name")
    corpus.add("path-nul-convert-out", ["convert", corpus.rel(corpus.bases["index-png"].folder
                                                             / "frame.png"),
                                        "--to", "index-png", "--out", f"{rel}/o\x00ut"], ERROR,
               owner="txn", problem="NUL byte in --out")
    corpus.add("path-long-convert-out", ["convert", corpus.rel(corpus.bases["index-png"].folder
                                                              / "frame.png"),
                                         "--to", "index-png", "--out", f"{rel}/{'o' * 5000}"],
               ERROR, owner="txn", problem="5000-character --out")
    corpus.add("path-long-image", ["info", "--image", f"{rel}/{long}",
                                   corpus.rel(corpus.bases["index-png"].folder / "frame.png")],
               ERROR, names=["nnnn"], problem="5000-character --image")


FAMILIES = (arrays, bombs, fifos, sidecars, paths)
__all__ = ["FAMILIES"]
