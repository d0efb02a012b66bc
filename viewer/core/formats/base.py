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
        ``read(path, **options) -> Segmentation``.
    write : callable or None
        ``write(seg, path, **options) -> list of written paths``.
    sniff : callable or None
        ``sniff(path) -> bool``: cheap check of the file's content.
    priority : int
        Higher wins when several formats accept a file.
    lossless : bool
        True when write then read gives back the same label map and labels.
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

    def accepts(self, path: Path) -> bool:
        """Return True when ``path``'s suffix matches and the sniffer (if any) agrees."""
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
        }
