"""Save edits back to the file and format a mask was read from, atomically.

Saving back is allowed only when the format holds the edited segmentation
exactly (its loss check, as for an export, finds nothing) and writing the file
cannot drop anything else (a container holding several images, a folder, a
mask stored smaller than its image). Otherwise :class:`SaveError` says why and
suggests an export. The files are written into a temporary folder beside the
mask and moved over the originals one by one with ``os.replace``, so every file
is either the old one or the new one, never half written. Our metadata JSON is
written beside, as after an export, so that names and colours read back; with
``original`` it also records what the edits changed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from viewer.core import metadata
from viewer.core.edit.diff import ChangeReport, change_report
from viewer.core.edit.ids import CLASS_KINDS
from viewer.core.errors import ViewerError, WriteError
from viewer.core.export import losses
from viewer.core.formats.base import FormatSpec
from viewer.core.formats.common import write_png
from viewer.core.formats.names import SIDECAR_SUFFIX
from viewer.core.formats.registry import get_format, list_items
from viewer.core.segment_table import SegmentTable
from viewer.core.segmentation import Segmentation

CHANGED_SUFFIX = "_changed.png"
_EXPORT_HINT = "Export it instead (File > Export), e.g. as index-png or label-npy."


class SaveError(WriteError):
    """The mask cannot be saved back to its file; the message says why."""


@dataclass(frozen=True)
class SaveResult:
    """What a save wrote.

    Attributes
    ----------
    files : list of Path
        Mask files, the primary one (the source) first.
    metadata : Path
        The metadata JSON.
    changes : ChangeReport or None
        What the edits changed against the original, when asked.
    changed_mask : Path or None
        The "changed pixels" PNG (255 = changed), when asked.
    """

    files: list[Path]
    metadata: Path
    changes: ChangeReport | None = None
    changed_mask: Path | None = None


def save_problems(seg: Segmentation, path: str | Path | None = None,
                  format_name: str | None = None) -> list[str]:
    """Return why ``seg`` cannot be saved back (empty when it can), as sentences.

    ``path`` and ``format_name`` default to where ``seg`` was read from.
    """
    path = path or seg.provenance.source
    format_name = format_name or seg.provenance.format
    if not path or not format_name:
        return ["the mask was not read from a file, so there is nothing to save back to"]
    try:
        spec = get_format(format_name)
    except ViewerError as exc:
        return [exc.message]
    problems = _file_problems(seg, Path(path), spec)
    if not problems:
        problems = losses(canonical(seg), spec.name)
    return problems


def save(seg: Segmentation, path: str | Path | None = None, *, format_name: str | None = None,
         original: Segmentation | None = None, write_changes: bool = False,
         options: Mapping | None = None) -> SaveResult:
    """Write ``seg`` back to its file in its format, plus the metadata JSON.

    Parameters
    ----------
    seg : Segmentation
    path : str or Path, optional
        Default: the file ``seg`` was read from.
    format_name : str, optional
        Default: the format ``seg`` was read as.
    original : Segmentation, optional
        The segmentation as it was read; with it the metadata records
        per-class change statistics under ``provenance.details.edits``.
    write_changes : bool
        Also write ``<stem>_changed.png`` (255 where a pixel changed); needs
        ``original``.
    options : mapping, optional
        Passed to the format's writer.

    Raises
    ------
    SaveError
        When the format cannot hold the edit or the file holds more than this mask.
    """
    path = Path(path or seg.provenance.source or "")
    problems = save_problems(seg, path, format_name)
    if problems:
        raise SaveError("cannot save back: " + "; ".join(problems) + ". " + _EXPORT_HINT, path)
    spec = get_format(format_name or seg.provenance.format)
    written = canonical(seg)
    files = _write_in_place(written, path, spec, dict(options or {}))
    doc = metadata.build(written, mask_files=[f.name for f in files], format_name=spec.name)
    report = changed = None
    if original is not None:
        report = change_report(original, seg)
        edits = report.to_json()
        if write_changes:
            changed = write_png(path.parent / f"{path.stem}{CHANGED_SUFFIX}",
                                report.mask.view(np.uint8) * np.uint8(255))
            edits["changed_mask_file"] = changed.name
        doc["provenance"].setdefault("details", {})["edits"] = edits
    meta = metadata.write(path.parent / f"{files[0].stem}{SIDECAR_SUFFIX}", doc)
    return SaveResult(files, meta, report, changed)


def canonical(seg: Segmentation) -> Segmentation:
    """Return ``seg`` with class-map segments written as the same value merged into one.

    In a class map, segments that share a value are one class in the file
    (a relabel through the table, the pieces of a split); formats that check
    for merging values would otherwise report a loss. ``seg`` is returned
    itself when there is nothing to merge.
    """
    if seg.kind not in CLASS_KINDS:
        return seg
    groups: dict[object, list[int]] = {}
    for row in seg.table:
        groups.setdefault(row.value, []).append(row.id)
    shared = {v: ids for v, ids in groups.items() if len(ids) > 1}
    if not shared:
        return seg
    lut = np.arange(max(int(seg.labels.max(initial=0)), seg.table.max_id()) + 1,
                    dtype=seg.labels.dtype)
    dropped = set()
    for value, ids in shared.items():
        keep = next((i for i in ids if i == value), ids[0])
        for seg_id in ids:
            if seg_id != keep:
                lut[seg_id] = keep
                dropped.add(seg_id)
    table = SegmentTable(r for r in seg.table if r.id not in dropped)
    masks = {i: m for i, m in seg.full_masks.items() if i not in dropped}
    return Segmentation(np.take(lut, seg.labels), table, kind=seg.kind,
                        confidence=seg.confidence, class_scores=seg.class_scores,
                        provenance=seg.provenance, full_masks=masks)


def _file_problems(seg: Segmentation, path: Path, spec: FormatSpec) -> list[str]:
    """What stops writing this format to this file, whatever the segmentation holds."""
    if spec.write is None:
        return [f"the {spec.title} format can be read but not written"]
    if not spec.lossless:
        return [f"the {spec.title} format is lossy"]
    if path.is_dir():
        return [f"{path.name} is a folder (a dataset export); saving one mask into it "
                "could drop the rest"]
    upscaled = seg.provenance.details.get("upscaled_from")
    if upscaled:
        return [f"the file stores the mask at {upscaled[0]}x{upscaled[1]} and it is shown "
                f"upscaled to {seg.width}x{seg.height}"]
    if spec.items is not None and path.is_file():
        try:
            count = len(list_items(path, spec.name))
        except ViewerError as exc:
            return [exc.message]
        if count > 1:
            return [f"{path.name} holds {count} images or frames; writing this one would "
                    "drop the others"]
    return []


def _write_in_place(seg: Segmentation, path: Path, spec: FormatSpec,
                    options: dict) -> list[Path]:
    """Write into a temporary folder beside ``path``, then move each file over its target."""
    try:
        staging = Path(tempfile.mkdtemp(prefix=".segview-save-", dir=path.parent))
    except OSError as exc:
        raise SaveError(f"cannot write here: {exc.strerror or exc}", path) from exc
    try:
        written = [Path(f) for f in spec.write(seg, staging / path.name, **options)]
        if not written or written[0].name != path.name:
            name = written[0].name if written else "nothing"
            raise SaveError(f"the {spec.name} writer writes {name}, not {path.name}. "
                            + _EXPORT_HINT, path)
        targets = []
        for file in written:
            target = path.parent / file.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(file, target)
            targets.append(target)
        return targets
    except OSError as exc:
        raise SaveError(f"cannot write: {exc.strerror or exc}", path) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
