"""COCO datasets: ``annotations/<task>_<subset>.json`` (+ ``annotations/panoptic_<subset>/``).

The layout Datumaro's COCO exporter writes and its importer, pycocotools and
panopticapi read: one JSON per task and subset with one image record per
input (ids 1..N, ``file_name``, ``width``, ``height``), annotation ids unique
across the dataset, and one category list merged over the inputs. Panoptic
PNGs go in the folder named after the JSON, each annotation naming its PNG.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from viewer.core.errors import WriteError
from viewer.core.export import losses
from viewer.core.formats import coco_panoptic, coco_rle
from viewer.core.formats.common import dump_json, write_png
from viewer.core.layouts.base import DatasetItem, DatasetResult, Names, Record
from viewer.core.transaction import transaction

FORMATS = (coco_rle.NAME, coco_panoptic.NAME)
ANNOTATIONS_DIR = "annotations"
_TASK = {coco_rle.NAME: "instances", coco_panoptic.NAME: "panoptic"}


def write_dataset(items: Iterable[DatasetItem], out_dir: Path, format_name: str,
                  subset: str) -> DatasetResult:
    """Write ``items`` as one COCO dataset of ``format_name`` in ``out_dir``, in one transaction.

    Items are taken one at a time: each panoptic PNG is written (held by the
    transaction) before the next item is read, and only the small per-image
    documents are kept until the JSON is written.
    """
    name = f"{_TASK[format_name]}_{subset}"
    ann_dir = Path(out_dir) / ANNOTATIONS_DIR
    json_path = ann_dir / f"{name}.json"
    images, pngs = Names("image"), Names("panoptic PNG")
    record = Record(ann_dir, format_name)
    result = DatasetResult()
    documents: list[tuple[dict, Path]] = []
    with transaction(home=out_dir, label=str(json_path), format_name=format_name):
        for index, item in enumerate(items, start=1):
            images.add(item.file_name(), item)
            if format_name == coco_panoptic.NAME:
                png = ann_dir / name / f"{Path(item.file_name()).stem}.png"
                pngs.add(png.name, item)
                rgb, doc = coco_panoptic.panoptic_document(item.seg, png, image_id=index,
                                                           file_name=item.file_name())
                write_png(png, rgb)
                files = [json_path, png]
            else:
                doc = coco_rle.coco_document(item.seg, image_id=index, file_name=item.file_name())
                files = [json_path]
            documents.append((doc, item.source))
            result.lost += [(item.source, line) for line in losses(item.seg, format_name)]
            result.files += files[1:]
            record.add(item, files)
        merged, notes = merge(documents)
        _json_out(json_path, merged)
        result.files.insert(0, json_path)
        result.lost += notes
        result.metadata.append(record.write(name, [line for _, line in result.lost]))
    return result


def _json_out(path: Path, document: dict) -> None:
    try:
        dump_json(path, document)
    except (TypeError, ValueError) as exc:  # a score of NaN, an attribute that is no JSON
        raise WriteError(f"cannot write as COCO: {exc}", path) from None


def merge(documents: Sequence[tuple[dict, Path]]
          ) -> tuple[dict[str, Any], list[tuple[Path, str]]]:
    """One COCO document from ``(one-image document, its input)`` pairs: ids made unique.

    A category id that another input uses for another name is given a new id
    (said in the returned notes); annotation ids keep their value when no
    other annotation has it, else take the next free one.
    """
    categories: dict[int, dict] = {}
    by_name: dict[str, int] = {}
    images, annotations, notes = [], [], []
    for doc, source in documents:
        remap = _merge_categories(doc["categories"], categories, by_name, source, notes)
        images += doc["images"]
        for ann in doc["annotations"]:
            if "segments_info" in ann:
                for info in ann["segments_info"]:
                    info["category_id"] = remap.get(info["category_id"], info["category_id"])
            else:
                ann["category_id"] = remap.get(ann["category_id"], ann["category_id"])
            annotations.append(ann)
    if annotations and "segments_info" not in annotations[0]:
        _unique_ids(annotations)
    return ({"images": images, "annotations": annotations,
             "categories": [categories[k] for k in sorted(categories)]}, notes)


def _merge_categories(cats: list[dict], merged: dict[int, dict], by_name: dict[str, int],
                      source: Path, notes: list) -> dict[int, int]:
    remap = {}
    for cat in cats:
        cid, name = cat["id"], cat.get("name")
        if cid not in merged:
            merged[cid] = cat
            by_name.setdefault(name, cid)
            continue
        if merged[cid].get("name") == name:
            continue
        new = by_name.get(name)
        if new is None:
            new = max(merged) + 1
            merged[new] = {**cat, "id": new}
            by_name[name] = new
        remap[cid] = new
        notes.append((source, f"category {cid} ({name}) is written as category {new}: "
                                   f"{cid} is {merged[cid].get('name')!r} in another input"))
    return remap


def _unique_ids(annotations: list[dict]) -> None:
    used: set[int] = set()
    keep = []
    for ann in annotations:
        ok = isinstance(ann.get("id"), int) and not isinstance(ann["id"], bool) \
            and ann["id"] not in used
        keep.append(ok)
        if ok:
            used.add(ann["id"])
    next_id = 1
    for ann, ok in zip(annotations, keep, strict=True):
        if not ok:
            while next_id in used:
                next_id += 1
            ann["id"] = next_id
            used.add(next_id)
