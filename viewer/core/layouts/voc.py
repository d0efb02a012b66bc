"""Pascal VOC / CVAT datasets: ``SegmentationClass/``, ``ImageSets/Segmentation/<subset>.txt``.

The layout Datumaro's VOC importer and CVAT's "Segmentation mask 1.1" read:
class masks in ``SegmentationClass/<name>.png`` (and, for ``cvat-mask``, the
instance masks in ``SegmentationObject/<name>.png``), one ``labelmap.txt`` at
the dataset root shared by every item, and the subset's item list.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from viewer.core import safe_input
from viewer.core.export import export
from viewer.core.fileio import atomic_write_text
from viewer.core.formats import cvat_mask, rgb_mask
from viewer.core.layouts.base import DatasetItem, DatasetResult, Names, Record
from viewer.core.transaction import current_path, transaction

FORMATS = (rgb_mask.VOC_RGB, cvat_mask.NAME)
CLASS_DIR = "SegmentationClass"
IMAGE_SETS = Path("ImageSets") / "Segmentation"


def write_dataset(items: Iterable[DatasetItem], out_dir: Path, format_name: str,
                  subset: str) -> DatasetResult:
    """Write ``items`` as one VOC/CVAT dataset of ``format_name``, in one transaction."""
    out_dir = Path(out_dir)
    names = Names("item")
    record = Record(out_dir, format_name)
    result = DatasetResult()
    stems = []
    with transaction(home=out_dir, label=str(out_dir / IMAGE_SETS / f"{subset}.txt"),
                     format_name=format_name):
        for item in items:
            names.add(item.stem, item)
            if format_name == cvat_mask.NAME:
                # The CVAT writer lays out its own item: both masks, labelmap, image set.
                written = export(item.seg, format_name, out_dir, item.stem, image=item.image,
                                 item=item.stem, subset=subset)
            else:
                written = export(item.seg, format_name, out_dir / CLASS_DIR, item.stem,
                                 image=item.image)
            stems.append(item.stem)
            record.add(item, written.files)
            result.files += [f for f in written.files if f not in result.files]
            result.metadata.append(written.metadata)
            result.lost += [(item.source, line) for line in written.lost]
        shared = []
        if format_name != cvat_mask.NAME:
            shared = [_image_set(out_dir / IMAGE_SETS / f"{subset}.txt", stems)]
            result.files += shared
        # The root's shared files (labelmap, image set) are then known as this dataset's.
        result.metadata.append(record.write(f"{subset}.{format_name}",
                                            [line for _, line in result.lost], shared))
    return result


def _image_set(path: Path, names: list[str]) -> Path:
    """Write the subset's item list, keeping the items an earlier export listed."""
    current = current_path(path)
    text = safe_input.read_text(current, what="image set") if current.is_file() else ""
    listed = [line.strip() for line in text.splitlines() if line.strip()]
    listed += [n for n in names if n not in listed]
    atomic_write_text(path, "".join(f"{n}\n" for n in listed))
    return path
