"""CamVid datasets: ``<subset>annot/<name>.png``, ``<subset>.txt``, root ``label_colors.txt``.

The layout Datumaro's CamVid exporter writes and its importer reads: the
colour masks of a subset in ``<subset>annot/``, one ``label_colors.txt``
shared by every item at the dataset root, and ``<subset>.txt`` pairing each
photo (``/<subset>/<photo>``) with its mask.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from viewer.core import safe_input
from viewer.core.export import export
from viewer.core.fileio import atomic_write_text
from viewer.core.formats import rgb_mask
from viewer.core.layouts.base import DatasetItem, DatasetResult, check_unique, write_record
from viewer.core.transaction import current_path, transaction

FORMATS = (rgb_mask.CAMVID,)
LABEL_COLORS = "label_colors.txt"


def write_dataset(items: Sequence[DatasetItem], out_dir: Path, format_name: str,
                  subset: str) -> DatasetResult:
    """Write ``items`` as one CamVid subset in ``out_dir``, in one transaction."""
    out_dir = Path(out_dir)
    mask_dir = f"{subset}{rgb_mask.CAMVID_MASK_SUFFIX}"
    check_unique(items, lambda i: i.stem, "item")
    table = out_dir / LABEL_COLORS
    result = DatasetResult()
    with transaction(home=out_dir, label=str(out_dir / f"{subset}.txt"),
                     format_name=format_name):
        pairs, files_of = [], []
        for item in items:
            written = export(item.seg, format_name, out_dir / mask_dir, item.stem,
                             image=item.image, label_colors=table)
            files_of.append(written.files)
            result.files += [f for f in written.files if f not in result.files]
            result.metadata.append(written.metadata)
            result.lost += [(item.source, line) for line in written.lost]
            pairs.append(f"/{subset}/{item.file_name()} {mask_dir}/{item.stem}.png")
        listing = _subset_list(out_dir / f"{subset}.txt", pairs)
        result.files.append(listing)
        # The root's shared files (label_colors.txt, the list) are then known as this dataset's.
        result.metadata.append(write_record(out_dir, f"{subset}.{format_name}", format_name, items,
                                            [[*files, listing] for files in files_of],
                                            [line for _, line in result.lost]))
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
