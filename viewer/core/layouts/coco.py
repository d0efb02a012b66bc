"""COCO datasets: ``annotations/<task>_<subset>.json`` (+ ``annotations/panoptic_<subset>/``).

The layout Datumaro's COCO exporter writes and its importer, pycocotools and
panopticapi read: one JSON per task and subset with one image record per
input (ids 1..N, ``file_name``, ``width``, ``height``), annotation ids unique
across the dataset, and one category list merged over the inputs. Panoptic
PNGs go in the folder named after the JSON, each annotation naming its PNG.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from viewer.core.errors import WriteError
from viewer.core.export import losses
from viewer.core.formats import coco_panoptic, coco_rle
from viewer.core.formats.common import dump_json, write_png
from viewer.core.layouts.base import DatasetItem, DatasetResult, check_unique, write_record
from viewer.core.transaction import transaction

FORMATS = (coco_rle.NAME, coco_panoptic.NAME)
ANNOTATIONS_DIR = "annotations"
_TASK = {coco_rle.NAME: "instances", coco_panoptic.NAME: "panoptic"}


def write_dataset(items: Sequence[DatasetItem], out_dir: Path, format_name: str,
                  subset: str) -> DatasetResult:
    """Write ``items`` as one COCO dataset of ``format_name`` in ``out_dir``, in one transaction."""
    name = f"{_TASK[format_name]}_{subset}"
    ann_dir = Path(out_dir) / ANNOTATIONS_DIR
    json_path = ann_dir / f"{name}.json"
    check_unique(items, DatasetItem.file_name, "image")
    result = DatasetResult()
    with transaction(home=out_dir, label=str(json_path),
                     format_name=format_name):
        if format_name == coco_panoptic.NAME:
            check_unique(items, lambda i: Path(i.file_name()).stem, "panoptic PNG")
            documents, files_of = _panoptic(items, ann_dir / name)
        else:
            documents = [coco_rle.coco_document(item.seg, image_id=index,
                                                file_name=item.file_name())
                         for index, item in enumerate(items, start=1)]
            files_of = [[] for _ in items]
        merged, notes = merge(documents, items)
        _json_out(json_path, merged)
        files_of = [[json_path, *files] for files in files_of]
        for item in items:
            result.lost += [(item.source, line) for line in losses(item.seg, format_name)]
        result.lost += notes
        result.files = [json_path] + [f for files in files_of for f in files[1:]]
        result.metadata.append(write_record(ann_dir, name, format_name, items, files_of,
                                            [line for _, line in result.lost]))
    return result


def _panoptic(items: Sequence[DatasetItem], png_dir: Path) -> tuple[list[dict], list[list[Path]]]:
    documents, files_of = [], []
    for index, item in enumerate(items, start=1):
        png = png_dir / f"{Path(item.file_name()).stem}.png"
        rgb, doc = coco_panoptic.panoptic_document(item.seg, png, image_id=index,
                                                   file_name=item.file_name())
        write_png(png, rgb)
        documents.append(doc)
        files_of.append([png])
    return documents, files_of


def _json_out(path: Path, document: dict) -> None:
    try:
        dump_json(path, document)
    except (TypeError, ValueError) as exc:  # a score of NaN, an attribute that is no JSON
        raise WriteError(f"cannot write as COCO: {exc}", path) from None


def merge(documents: Sequence[dict], items: Sequence[DatasetItem]
          ) -> tuple[dict[str, Any], list[tuple[Path, str]]]:
    """One COCO document from one-image documents: ids made unique, categories merged.

    A category id that another input uses for another name is given a new id
    (said in the returned notes); annotation ids keep their value when no
    other annotation has it, else take the next free one.
    """
    categories: dict[int, dict] = {}
    by_name: dict[str, int] = {}
    images, annotations, notes = [], [], []
    for doc, item in zip(documents, items, strict=True):
        remap = _merge_categories(doc["categories"], categories, by_name, item, notes)
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
                      item: DatasetItem, notes: list) -> dict[int, int]:
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
        notes.append((item.source, f"category {cid} ({name}) is written as category {new}: "
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
