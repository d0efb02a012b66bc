#!/usr/bin/env python3
"""Regenerate the built-in palette files in resources/palettes/.

Usage (from the repository root):

    python resources/palettes/make_palettes.py [--shared PATH] [--out DIR]

--shared  folder holding palettes.json and samples/ (default: the "shared" folder next to the
          repository, i.e. <repo>/../shared)
--out     output folder (default: the folder this script lives in)

Standalone: Python standard library + numpy only. The output is deterministic (same inputs ->
byte-identical files), so a re-run followed by `git diff` shows whether anything changed.

Every file uses the "segview-palette" format described in README.md (next to this script).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

FORMAT = "segview-palette"
VERSION = 1
HERE = Path(__file__).resolve().parent
DEFAULT_SHARED = Path(__file__).resolve().parents[2].parent / "shared"

COCO_PANOPTIC_COMMIT = "7bb4655548f98f3fedc07bf37e9040a992b054b0"
DEEPSTREAM_COMMIT = "202743531730e1393a9b7df98af5b3bcf38fdcdc"

HEADER_KEYS = ("format", "version", "id", "name", "description", "colorblind_safe",
               "provenance", "license")
ENTRY_KEYS = ("id", "name", "color", "void", "attributes")


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------

def hex_to_rgb(h: str) -> list[int]:
    h = h.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"bad hex colour {h!r}")
    return [int(h[i:i + 2], 16) for i in (0, 2, 4)]


def entry(id_, color, name=None, void=False, attributes=None) -> dict:
    e = {"id": int(id_)}
    if name is not None:
        e["name"] = str(name)
    e["color"] = [int(c) for c in color]
    if void:
        e["void"] = True
    if attributes:
        e["attributes"] = attributes
    return e


def validate(palette: dict) -> None:
    for k in HEADER_KEYS:
        if k not in palette:
            raise ValueError(f"{palette.get('id')}: missing key {k}")
    ids = [e["id"] for e in palette["entries"]]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{palette['id']}: duplicate ids")
    if ids != sorted(ids):
        raise ValueError(f"{palette['id']}: ids not sorted")
    for e in palette["entries"]:
        if type(e["id"]) is not int:
            raise ValueError(f"{palette['id']}: non-int id {e['id']!r}")
        c = e["color"]
        if len(c) != 3 or any(type(v) is not int or not 0 <= v <= 255 for v in c):
            raise ValueError(f"{palette['id']}: bad colour {c!r} for id {e['id']}")
        if set(e) - set(ENTRY_KEYS):
            raise ValueError(f"{palette['id']}: unknown entry keys {set(e) - set(ENTRY_KEYS)}")


def dumps(palette: dict) -> str:
    """Pretty JSON: header keys one per line, one entry per line. Deterministic."""
    validate(palette)
    lines = ["{"]
    for k in HEADER_KEYS:
        lines.append(f"  {json.dumps(k)}: {json.dumps(palette[k], ensure_ascii=False)},")
    lines.append('  "entries": [')
    ents = palette["entries"]
    for i, e in enumerate(ents):
        ordered = {k: e[k] for k in ENTRY_KEYS if k in e}
        sep = "," if i < len(ents) - 1 else ""
        lines.append("    " + json.dumps(ordered, ensure_ascii=False) + sep)
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def make(id_, name, description, provenance, license_, entries, colorblind_safe=False) -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "id": id_,
        "name": name,
        "description": description,
        "colorblind_safe": bool(colorblind_safe),
        "provenance": provenance,
        "license": license_,
        "entries": sorted(entries, key=lambda e: e["id"]),
    }


def voc_colormap(n: int = 256) -> list[list[int]]:
    """The VOCdevkit labelcolormap bit-interleave algorithm (used to cross-check the shared data)."""
    out = []
    for i in range(n):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        out.append([r, g, b])
    return out


# --------------------------------------------------------------------------------------------
# palettes built from the shared, verified data
# --------------------------------------------------------------------------------------------

def build_voc(pal: dict) -> dict:
    colors = pal["voc_palette_256_rgb"]
    names = pal["voc_class_names"]
    assert len(colors) == 256 and len(names) == 21
    assert colors == voc_colormap(256), "shared VOC palette differs from the VOCdevkit algorithm"
    prov = pal["_provenance"]
    entries = []
    for i, c in enumerate(colors):
        if i < len(names):
            entries.append(entry(i, c, names[i]))
        elif i == 255:
            entries.append(entry(i, c, "void", void=True))
        else:
            entries.append(entry(i, c))
    return make(
        "voc", "PASCAL VOC (256)",
        "PASCAL VOC segmentation colormap for mode-P label PNGs: ids 0..20 are the VOC classes "
        "(0 = background), 255 = void / 'don't care' (object borders, difficult regions); ids 21..254 "
        "carry the standard colormap without names (also used for SegmentationObject instance numbers).",
        f"colours: {prov['voc']}. Class names: {prov['voc_class_names']}.",
        "colours: generated by the public VOCdevkit colormap algorithm (no copyrightable data); "
        "class names: OpenCV samples/data (Apache-2.0)",
        entries)


def build_cityscapes(pal: dict) -> dict:
    labels = pal["cityscapes_labels"]
    entries, skipped = [], []
    for lab in labels:
        if lab["id"] < 0:
            skipped.append(lab)
            continue
        entries.append(entry(
            lab["id"], lab["color_rgb"], lab["name"],
            void=(lab["category"] == "void"),
            attributes={
                "trainId": lab["trainId"],
                "category": lab["category"],
                "catId": lab["catId"],
                "hasInstances": bool(lab["hasInstances"]),
                "ignoreInEval": bool(lab["ignoreInEval"]),
            }))
    assert [e["id"] for e in entries] == list(range(34)), "expected Cityscapes labelIds 0..33"
    assert [s["name"] for s in skipped] == ["license plate"], skipped
    return make(
        "cityscapes", "Cityscapes (labelIds)",
        "Cityscapes label table keyed by labelId (values 0..33 in *_gtFine_labelIds.png; in "
        "*_instanceIds.png values >= 1000 are labelId*1000 + instance). Entries of category 'void' "
        "(ids 0..6) are marked void; attributes carry trainId (255 = ignore), category, catId, "
        "hasInstances and ignoreInEval. The 'license plate' label (id -1, trainId -1, colour "
        "(0,0,142) like car) never appears in label images and is omitted. Note: several labels "
        "share colours (ids 0..4 are black, polegroup = pole), so colour images are not fully invertible.",
        pal["_provenance"]["cityscapes"],
        "MIT (cityscapesScripts); the Cityscapes dataset itself is under its own terms of use",
        entries)


def build_ade20k(pal: dict) -> dict:
    ade = pal["ade20k_150"]
    classes, colors = ade["classes"], ade["palette_rgb"]
    assert len(classes) == 150 and len(colors) == 150
    stripped = [c for c in classes if c != c.strip()]
    entries = [entry(i, c, n.strip()) for i, (n, c) in enumerate(zip(classes, colors))]
    return make(
        "ade20k150", "ADE20K / SceneParse150",
        "ADE20K 150-class scene-parsing palette in the mmsegmentation convention (reduce_zero_label): "
        "id i = model output channel i = class i (0 = wall). Raw ADE20K annotation PNGs store class i "
        "as i+1 and 0 = 'other/unlabeled' (mapped to ignore 255 by mmseg, not included here). "
        f"Trailing spaces in the source class names were stripped ({', '.join(repr(s) for s in stripped)}). "
        "The source palette gives road (6) and skyscraper (48) the same colour (140,140,140).",
        pal["_provenance"]["ade20k_150"],
        "Apache-2.0 (mmsegmentation); ADE20K annotations under the ADE20K terms of use",
        entries)


def build_coco_panoptic(shared: Path) -> dict:
    path = shared / "samples" / "coco-panoptic-panopticapi" / "panoptic_coco_categories.json"
    cats = json.loads(path.read_text(encoding="utf-8"))
    assert len(cats) == 133
    entries = [entry(0, [0, 0, 0], "void", void=True)]
    for c in cats:
        assert c["id"] != 0
        entries.append(entry(c["id"], c["color"], c["name"], attributes={
            "isthing": bool(c["isthing"]),
            "supercategory": c["supercategory"],
        }))
    return make(
        "coco_panoptic", "COCO panoptic (133)",
        "COCO panoptic categories keyed by category id (non-contiguous, 1..200; 80 things + 53 stuff), "
        "for semantic maps of category ids such as the R channel of panopticapi's 2-channel format. "
        "Id 0 = VOID (unlabelled). Panoptic RGB PNGs store segment ids (R + 256*G + 65536*B), not "
        "category ids: resolve them through segments_info first.",
        f"cocodataset/panopticapi@{COCO_PANOPTIC_COMMIT} panoptic_coco_categories.json "
        "(id, name, color, isthing, supercategory copied unchanged); id 0 'void' added by us "
        "following the panoptic format's VOID = 0.",
        "panopticapi: BSD-2-Clause-style (license.txt, (c) 2018 Alexander Kirillov); "
        "COCO annotations CC BY 4.0",
        entries)


def build_celantur(pal: dict) -> dict:
    codes = pal["celantur_instance_R_channel"]
    expected = {"license plate": 64, "person": 128, "face": 192, "vehicle": 255}
    assert codes == expected, codes
    entries = [entry(0, [0, 0, 0], "background")]
    for name, r in codes.items():
        entries.append(entry(r, [r, 0, 0], name))
    return make(
        "celantur", "Celantur instance mask (R channel)",
        "Object types of Celantur instance masks (*_ins_maks.png, sic; accept *_ins_mask.png too): the R channel encodes the type "
        "(64 license plate, 128 person, 192 face, 255 vehicle), the G channel the instance, B = 0; "
        "(0,0,0) is background. Use the R channel as the label map; colours are [R, 0, 0], i.e. "
        "how each type looks in the mask with G = 0.",
        "Celantur documentation, doc.celantur.com/container/usage/segmentation-masks-and-metadata "
        "(R-channel codes as recorded in shared palettes.json 'celantur_instance_R_channel')",
        "n/a: format constants from vendor documentation (no copyrightable data)",
        entries)


def build_deepstream(pal: dict) -> dict:
    bgr = pal["deepstream_python_segmentation_sample_COLORS_bgr"]
    assert len(bgr) == 14 and bgr[0] == [128, 128, 64] and bgr[13] == [128, 128, 128]
    entries = [entry(i, [c[2], c[1], c[0]]) for i, c in enumerate(bgr)]
    return make(
        "deepstream_sample", "DeepStream segmentation sample (14)",
        "Colours painted by NVIDIA's deepstream_python_apps segmentation sample into its JPEG output, "
        "converted from the sample's BGR to RGB; ids 0..13 are nvinfer class indices (the sample defines "
        "no class names). Class -1 ('no class above segmentation-threshold') is painted with COLORS[-1], "
        "i.e. identical to class 13, so -1 and 13 cannot be told apart in those JPEGs.",
        f"NVIDIA-AI-IOT/deepstream_python_apps@{DEEPSTREAM_COMMIT} "
        "apps/deepstream-segmentation/deepstream_segmentation.py, list COLORS (BGR), "
        "via shared palettes.json 'deepstream_python_segmentation_sample_COLORS_bgr'; converted BGR -> RGB",
        "Apache-2.0 (deepstream_python_apps)",
        entries)


# --------------------------------------------------------------------------------------------
# colour-blind-safe qualitative schemes (published hex values)
# --------------------------------------------------------------------------------------------

OKABE_ITO = [  # Okabe & Ito (2008), in their published order (black first)
    ("black", "#000000"),
    ("orange", "#E69F00"),
    ("sky blue", "#56B4E9"),
    ("bluish green", "#009E73"),
    ("yellow", "#F0E442"),
    ("blue", "#0072B2"),
    ("vermillion", "#D55E00"),
    ("reddish purple", "#CC79A7"),
]

TOL_MUTED = [  # Paul Tol, qualitative scheme "muted", order as in his tol_colors.py
    ("rose", "#CC6677"),
    ("indigo", "#332288"),
    ("sand", "#DDCC77"),
    ("green", "#117733"),
    ("cyan", "#88CCEE"),
    ("wine", "#882255"),
    ("teal", "#44AA99"),
    ("olive", "#999933"),
    ("purple", "#AA4499"),
]


def build_okabe_ito() -> dict:
    entries = []
    for i, (cname, hx) in enumerate(OKABE_ITO):
        entries.append(entry(i, hex_to_rgb(hx), "background" if i == 0 else None,
                             attributes={"color_name": cname, "hex": hx}))
    return make(
        "okabe_ito", "Okabe-Ito (8, colour-blind safe)",
        "Okabe-Ito colour-universal-design palette for up to 7 classes: id 0 = black (background), "
        "ids 1..7 the seven hues. Entries carry no class names; the colour name is in attributes.",
        "Okabe, M. & Ito, K. (2008), 'Color Universal Design (CUD): how to make figures and "
        "presentations that are friendly to colorblind people', https://jfly.uni-koeln.de/color/ "
        "(hex values as also shipped in R grDevices::palette.colors('Okabe-Ito'))",
        "colour values only; public domain / not copyrightable (cite Okabe & Ito 2008)",
        entries, colorblind_safe=True)


def build_tol_muted() -> dict:
    entries = [entry(0, [0, 0, 0], "background", attributes={"color_name": "black", "hex": "#000000"})]
    for i, (cname, hx) in enumerate(TOL_MUTED, start=1):
        entries.append(entry(i, hex_to_rgb(hx), attributes={"color_name": cname, "hex": hx}))
    return make(
        "tol_muted", "Paul Tol muted (9, colour-blind safe)",
        "Paul Tol's 'muted' qualitative scheme for up to 9 classes: id 0 = black background (added by "
        "us), ids 1..9 the nine muted colours in Tol's order. Tol's pale grey #DDDDDD for bad/missing "
        "data is not included. Entries carry no class names; the colour name is in attributes.",
        "Paul Tol, 'Colour Schemes', SRON technical note SRON/EPS/TN/09-002, "
        "https://personal.sron.nl/~pault/ (qualitative scheme 'muted'; order as in tol_colors.py)",
        "colour values only; public domain / not copyrightable (Tol's tol_colors.py is BSD-3-Clause; "
        "no code copied)",
        entries, colorblind_safe=True)


# --------------------------------------------------------------------------------------------
# generated: greedy farthest-point sampling in CIELAB
# --------------------------------------------------------------------------------------------

def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (0..255, shape (..., 3)) -> CIELAB (D65 white), float64."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124564, 0.3575761, 0.1804375],
                  [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = lin @ m.T
    white = np.array([0.95047, 1.0, 1.08883])
    t = xyz / white
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(t > eps, np.cbrt(t), (kappa * t + 16) / 116)
    L = 116 * f[..., 1] - 16
    a = 500 * (f[..., 0] - f[..., 1])
    b = 200 * (f[..., 1] - f[..., 2])
    return np.stack([L, a, b], axis=-1)


HC_SEED = [230, 25, 75]
HC_LEVELS = [round(i * 255 / 31) for i in range(32)]  # 0, 8, 16, ..., 247, 255 (32 levels)
HC_L_MIN, HC_L_MAX = 20.0, 95.0


def greedy_high_contrast(n_picks: int = 255) -> tuple[list[list[int]], float]:
    lv = np.array(HC_LEVELS)
    grid = np.stack(np.meshgrid(lv, lv, lv, indexing="ij"), axis=-1).reshape(-1, 3)
    lab = srgb_to_lab(grid)
    keep = (lab[:, 0] >= HC_L_MIN) & (lab[:, 0] <= HC_L_MAX)
    grid, lab = grid[keep], lab[keep]

    def dist_to(c):
        return np.sqrt(((lab - srgb_to_lab(np.array(c))) ** 2).sum(axis=1))

    # "already taken": black and white (kept far from all picks), then the fixed seed
    mind = np.minimum(dist_to([0, 0, 0]), dist_to([255, 255, 255]))
    picks = [list(HC_SEED)]
    mind = np.minimum(mind, dist_to(HC_SEED))
    while len(picks) < n_picks:
        i = int(np.argmax(mind))  # ties -> lowest grid index (deterministic)
        c = [int(v) for v in grid[i]]
        picks.append(c)
        mind = np.minimum(mind, dist_to(c))
    return picks, float(mind.max())


def min_pairwise_lab(colors) -> float:
    lab = srgb_to_lab(np.array(colors))
    d = np.sqrt(((lab[:, None, :] - lab[None, :, :]) ** 2).sum(axis=-1))
    d[np.diag_indices(len(colors))] = np.inf
    return float(d.min())


def build_high_contrast() -> dict:
    picks, _ = greedy_high_contrast(255)
    entries = [entry(0, [0, 0, 0], "background")]
    entries += [entry(i, c) for i, c in enumerate(picks, start=1)]
    d_all = min_pairwise_lab([e["color"] for e in entries])
    return make(
        "high_contrast", "High contrast (256, generated)",
        "256 maximally distinct colours for instance maps or many classes: id 0 = black background, "
        "ids 1..255 in greedy pick order, so the first N ids are as mutually distinct as possible for "
        f"any N. Minimum pairwise CIELAB (CIE76) distance over all 256 entries: {d_all:.2f}.",
        "generated by resources/palettes/make_palettes.py: greedy farthest-point sampling in CIELAB "
        "(the Glasbey et al. 2007 idea), no third-party data. Candidates: 32x32x32 sRGB grid "
        f"(levels round(i*255/31)) with {HC_L_MIN:g} <= L* <= {HC_L_MAX:g}; black and white pre-seeded as "
        f"taken; first pick {HC_SEED}; CIE76 distance, D65.",
        "generated; public domain (CC0)",
        entries)


# --------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                    help=f"folder with palettes.json and samples/ (default: {DEFAULT_SHARED})")
    ap.add_argument("--out", type=Path, default=HERE, help=f"output folder (default: {HERE})")
    args = ap.parse_args(argv)

    pal_path = args.shared / "palettes.json"
    if not pal_path.is_file():
        print(f"error: {pal_path} not found (use --shared)", file=sys.stderr)
        return 2
    pal = json.loads(pal_path.read_text(encoding="utf-8"))

    palettes = [
        build_voc(pal),
        build_cityscapes(pal),
        build_ade20k(pal),
        build_coco_panoptic(args.shared),
        build_celantur(pal),
        build_deepstream(pal),
        build_okabe_ito(),
        build_tol_muted(),
        build_high_contrast(),
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    for p in palettes:
        path = args.out / f"{p['id']}.json"
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(dumps(p))
        print(f"wrote {path} ({len(p['entries'])} entries)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
