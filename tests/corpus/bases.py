"""Valid starting files for every reader, written once per corpus by the project's own writers.

Each base is a folder holding one small mask in one format (8x6: background, a
person, a car) without its metadata sidecar; the generator copies a base into
a case folder and breaks one thing in it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from tests.corpus import files
from viewer.core.export import export
from viewer.core.palettes import builtin_palette
from viewer.core.segmentation import Segmentation

NAMES = {0: "background", 1: "person", 2: "car"}


@dataclass(frozen=True)
class Base:
    """A valid mask in one format: ``folder / primary`` is what ``info`` is given."""

    format: str
    folder: Path
    primary: str
    files: tuple[str, ...]  # every file of the mask, relative to folder


def make_bases(root: Path) -> dict[str, Base]:
    """Write one valid mask per registered format (and the read-only ones) under ``root``."""
    from viewer.core.formats.registry import FORMATS

    bases: dict[str, Base] = {}
    for spec in FORMATS:
        if spec.write is None:
            continue
        folder = root / spec.name
        seg = Segmentation.from_values(files.labels(), names=dict(NAMES))
        result = export(seg, spec.name, folder, "frame")
        if result.metadata is not None:
            result.metadata.unlink()
        written = tuple(p.relative_to(folder).as_posix() for p in result.files)
        bases[spec.name] = Base(spec.name, folder, _primary(spec.name, written), written)
    bases["palette-png"] = _palette_png(root / "palette-png")
    bases["celantur-metadata"] = _celantur_boxes(root / "celantur-metadata")
    bases["celantur-chunk"] = _celantur_chunk(root / "celantur-chunk")
    bases["deepstream-jpeg"] = _deepstream_jpeg(root / "deepstream-jpeg")
    return bases


def _primary(name: str, written: tuple[str, ...]) -> str:
    if name in ("nucleus", "clearml", "coco-panoptic"):
        return next(p for p in written if p.endswith(".json"))
    return written[0]


def _palette_png(folder: Path) -> Base:
    folder.mkdir(parents=True)
    img = Image.fromarray(files.labels().astype(np.uint8), "P")
    voc = builtin_palette("voc")
    img.putpalette([c for i in range(256) for c in voc.color(i)])
    img.save(folder / "frame.png")
    return Base("index-png", folder, "frame.png", ("frame.png",))


def celantur_frame(frame_id, size=(8, 6), boxes=((1, 1, 4, 3),)) -> dict:
    dets = [{"id": i, "bbox": list(b), "score": 0.9, "type_label": "face",
             "is_anonymized": True} for i, b in enumerate(boxes)]
    return {"id": frame_id, "detections": dets, "size": list(size), "duration": 0.01}


def _celantur_boxes(folder: Path) -> Base:
    folder.mkdir(parents=True)
    doc = celantur_frame("photo.jpg")
    doc.update(filename="photo.jpg", folder=None)
    (folder / "photo.json").write_text(json.dumps(doc))
    return Base("celantur-metadata", folder, "photo.json", ("photo.json",))


def _celantur_chunk(folder: Path) -> Base:
    folder.mkdir(parents=True)
    (folder / "clip-0-9.json").write_text(json.dumps([celantur_frame(i) for i in range(10)]))
    return Base("celantur-metadata", folder, "clip-0-9.json", ("clip-0-9.json",))


def _deepstream_jpeg(folder: Path) -> Base:
    folder.mkdir(parents=True)
    colors = builtin_palette("deepstream_sample")
    lut = np.array([colors.color(i)[::-1] for i in range(3)], np.uint8)  # the sample paints BGR
    bgr = lut[files.labels(64, 48) % 3]
    Image.fromarray(bgr[..., ::-1].copy(), "RGB").save(folder / "0.jpg", quality=95)
    return Base("deepstream-jpeg", folder, "0.jpg", ("0.jpg",))
