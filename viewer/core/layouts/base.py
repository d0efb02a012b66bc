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


class Names:
    """The entry names of a dataset so far: a second input with one name is refused, naming both."""

    def __init__(self, what: str):
        self.what = what
        self._seen: dict[str, DatasetItem] = {}

    def add(self, name: str, item: DatasetItem) -> None:
        """Take ``name`` for ``item``, or raise :class:`WriteError` naming both inputs."""
        first = self._seen.setdefault(name, item)
        if first is not item:
            raise WriteError(f"{first.source} and {item.source} would both be the {self.what} "
                             f"{name!r} of one dataset; rename one or convert them into "
                             "different output folders", item.source)


class Record:
    """The dataset's metadata JSON, built one item at a time (no segmentation is kept).

    Written as ``<folder>/<name>.dataset.segview.json``: named after no mask,
    so that reading a mask never applies it; it tells a later export into the
    dataset which files are SegView's (the output guard reads it) and keeps
    each item's provenance and segments.
    """

    def __init__(self, folder: Path, format_name: str):
        self.folder = Path(folder)
        self.format_name = format_name
        self._header: dict | None = None
        self._frames: list[tuple[dict, list[Path]]] = []

    def add(self, item: DatasetItem, files: Sequence[Path]) -> None:
        """Record ``item`` and the dataset files that hold it."""
        doc = metadata.build_video([(len(self._frames), None, item.seg, [])],
                                   format_name=self.format_name)
        if self._header is None:
            self._header = doc
        self._frames.append((doc["frames"][0], list(files)))

    def write(self, name: str, lost: Sequence[str], shared: Sequence[Path] = ()) -> Path:
        """Write the record; ``shared`` files (an image set) belong to every item."""
        if self._header is None:
            raise WriteError("a dataset needs at least one item", self.folder)
        doc = dict(self._header, lost=list(lost))
        doc["frames"] = []
        hashes = {}
        for frame, files in self._frames:
            names = [_relative(f, self.folder) for f in [*files, *shared]]
            doc["frames"].append(dict(frame, mask_files=names))
            hashes.update({n: f for n, f in zip(names, [*files, *shared], strict=True)})
        doc["mask_sha256"] = {n: file_sha256(current_path(f)) for n, f in hashes.items()}
        return metadata.write(self.folder / f"{name}.dataset{SIDECAR_SUFFIX}", doc)


def _relative(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path, base)).as_posix()
