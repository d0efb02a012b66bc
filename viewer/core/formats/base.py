"""What every format module exposes: a :class:`FormatSpec`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from viewer.core.segmentation import Segmentation

Reader = Callable[..., Segmentation]
Writer = Callable[..., list[Path]]
Sniffer = Callable[[Path], bool]
Losses = Callable[[Segmentation], list[str]]
Items = Callable[[Path], list[str]]


@dataclass(frozen=True)
class FormatSpec:
    """A registered mask format.

    Attributes
    ----------
    name : str
        Registry name used on the command line (``index-png``).
    title : str
        Human-readable name.
    extensions : tuple of str
        Lower-case file suffixes it reads, with the dot.
    read : callable or None
        ``read(path, *, item=None, **options) -> Segmentation``. ``item``
        picks one image or frame of a file that holds several (see ``items``);
        None means the first. Readers put what they had to report (unknown
        colours, ambiguous pixels, upscaling) in
        ``seg.provenance.details["warnings"]`` as sentences.
    write : callable or None
        ``write(seg, path, **options) -> list of written paths``, the primary
        file first. Every file is written atomically.
    sniff : callable or None
        ``sniff(path) -> bool``: cheap check of the file's content.
    priority : int
        Higher wins when several formats accept a file.
    lossless : bool
        True when write then read gives back the same label map and labels
        (for the segmentations the format can hold; see ``losses``).
    losses : callable or None
        ``losses(seg) -> list of str``: what writing ``seg`` would lose, as
        sentences; empty when nothing. None means the format never loses.
    items : callable or None
        ``items(path) -> list of str``: the images or frames a container file
        holds (a COCO file, a video metadata chunk), for ``read(item=...)``.
    folders : bool
        True when ``read`` also takes a folder (a CVAT export, a folder of
        frames); the sniffer then decides whether a folder is one.
    overlaps : bool
        True when the format holds overlapping segments (COCO RLE), so the
        complete masks in ``Segmentation.full_masks`` survive a write.
    """

    name: str
    title: str
    extensions: tuple[str, ...]
    read: Reader | None = None
    write: Writer | None = None
    sniff: Sniffer | None = None
    priority: int = 0
    lossless: bool = True
    notes: str = ""
    losses: Losses | None = None
    items: Items | None = None
    folders: bool = False
    overlaps: bool = False

    def accepts(self, path: Path) -> bool:
        """Return True when ``path``'s suffix matches and the sniffer (if any) agrees."""
        if path.is_dir():
            return self.folders and self.sniff is not None and self.sniff(path)
        if path.suffix.lower() not in self.extensions:
            return False
        return self.sniff is None or self.sniff(path)

    def describe(self) -> dict[str, Any]:
        """Return a row for ``segview formats``."""
        return {
            "name": self.name,
            "title": self.title,
            "extensions": list(self.extensions),
            "read": self.read is not None,
            "write": self.write is not None,
            "lossless": self.lossless,
            "notes": self.notes,
        }

    def check_losses(self, seg: Segmentation) -> list[str]:
        """Return what writing ``seg`` in this format would lose (empty when nothing)."""
        return [] if self.losses is None else list(self.losses(seg))
