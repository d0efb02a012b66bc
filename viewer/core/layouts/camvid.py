"""CamVid datasets: ``<subset>annot/<name>.png``, ``<subset>.txt``, root ``label_colors.txt``.

The layout Datumaro's CamVid exporter writes and its importer reads: the
colour masks of a subset in ``<subset>annot/``, one ``label_colors.txt``
shared by every item at the dataset root, and ``<subset>.txt`` pairing each
photo (``/<subset>/<photo>``) with its mask.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from viewer.core import safe_input
from viewer.core.export import export
from viewer.core.fileio import atomic_write_text
from viewer.core.formats import rgb_mask
from viewer.core.layouts.base import DatasetItem, DatasetResult, Names, Record
from viewer.core.transaction import current_path, transaction

FORMATS = (rgb_mask.CAMVID,)
LABEL_COLORS = "label_colors.txt"


def write_dataset(items: Iterable[DatasetItem], out_dir: Path, format_name: str,
                  subset: str) -> DatasetResult:
    """Write ``items`` as one CamVid subset in ``out_dir``, in one transaction."""
    out_dir = Path(out_dir)
    mask_dir = f"{subset}{rgb_mask.CAMVID_MASK_SUFFIX}"
    names = Names("item")
    record = Record(out_dir, format_name)
    table = out_dir / LABEL_COLORS
    result = DatasetResult()
    with transaction(home=out_dir, label=str(out_dir / f"{subset}.txt"),
                     format_name=format_name):
        pairs = []
        for item in items:
            names.add(item.stem, item)
            written = export(item.seg, format_name, out_dir / mask_dir, item.stem,
                             image=item.image, label_colors=table)
            record.add(item, written.files)
            result.files += [f for f in written.files if f not in result.files]
            result.metadata.append(written.metadata)
            result.lost += [(item.source, line) for line in written.lost]
            pairs.append(f"/{subset}/{item.file_name()} {mask_dir}/{item.stem}.png")
        listing = _subset_list(out_dir / f"{subset}.txt", pairs)
        result.files.append(listing)
        # The root's shared files (label_colors.txt, the list) are then known as this dataset's.
        result.metadata.append(record.write(f"{subset}.{format_name}",
                                            [line for _, line in result.lost], [listing]))
    return result


def _subset_list(path: Path, pairs: list[str]) -> Path:
    """Write ``<subset>.txt``; an earlier export's lines for other masks stay."""
    current = current_path(path)
    text = safe_input.read_text(current, what="subset list") if current.is_file() else ""
    ours = {pair.split()[-1] for pair in pairs}
    kept = [line for line in text.splitlines()
            if line.strip() and line.split()[-1] not in ours]
    atomic_write_text(path, "".join(f"{line}\n" for line in [*kept, *pairs]))
    return path
