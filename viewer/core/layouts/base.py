"""What a dataset layout writer is given and returns, and the dataset's own record."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from viewer.core import metadata
from viewer.core.errors import WriteError
from viewer.core.formats.names import SIDECAR_SUFFIX
from viewer.core.segmentation import Segmentation
from viewer.core.transaction import current_path, file_sha256

DEFAULT_SUBSET = "default"  # Datumaro's name for a dataset without subsets


@dataclass(frozen=True)
class DatasetItem:
    """One image of the dataset.

    Attributes
    ----------
    seg : Segmentation
    source : Path
        The input file it was read from (for messages).
    stem : str
        The item's name, unique in the dataset (the input's stem, or the
        container item's).
    image : Path or None
        The photo, when given (``--image``).
    image_name : str or None
        The photo's file name as the source recorded it (a COCO ``file_name``).
    """

    seg: Segmentation
    source: Path
    stem: str
    image: Path | None = None
    image_name: str | None = None

    def file_name(self) -> str:
        """The photo's name: the given photo's, the one recorded, else ``<stem>.jpg``."""
        if self.image is not None:
            return self.image.name
        if self.image_name:
            return Path(self.image_name).name
        return f"{self.stem}.jpg"


@dataclass
class DatasetResult:
    """What a layout writer wrote.

    Attributes
    ----------
    files : list of Path
        Every dataset file (annotation JSONs, masks, side files).
    metadata : list of Path
        Our metadata JSONs.
    lost : list of (Path, str)
        The input and a sentence, for each thing the format could not hold.
    """

    files: list[Path] = field(default_factory=list)
    metadata: list[Path] = field(default_factory=list)
    lost: list[tuple[Path, str]] = field(default_factory=list)


def check_unique(items: Sequence[DatasetItem], key, what: str) -> None:
    """Refuse two inputs that would become one dataset entry, naming both."""
    seen: dict[str, DatasetItem] = {}
    for item in items:
        name = key(item)
        if name in seen:
            raise WriteError(f"{seen[name].source} and {item.source} would both be the "
                             f"{what} {name!r} of one dataset; rename one or convert them "
                             "into different output folders", item.source)
        seen[name] = item


def write_record(out_dir: Path, name: str, format_name: str, items: Sequence[DatasetItem],
                 files_of: Sequence[Sequence[Path]], lost: Sequence[str]) -> Path:
    """Write ``<out_dir>/<name>.dataset.segview.json``: the dataset's files, one record per item.

    Named after no mask, so that reading a mask never applies it; it tells a
    later export into ``out_dir`` which files are SegView's (the output guard
    reads it) and keeps each item's provenance.
    """
    frames = [(index, None, item.seg, [_relative(f, out_dir) for f in files])
              for index, (item, files) in enumerate(zip(items, files_of, strict=True))]
    doc = metadata.build_video(frames, format_name=format_name, lost=lost)
    doc["mask_sha256"] = {_relative(f, out_dir): file_sha256(current_path(f))
                          for files in files_of for f in files}
    return metadata.write(out_dir / f"{name}.dataset{SIDECAR_SUFFIX}", doc)


def _relative(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path, base)).as_posix()
