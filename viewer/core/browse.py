"""Walking through the items of an opened folder: current position, next, previous."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from viewer.core.pairing import Item


class ItemList:
    """The items of an opened folder and which one is shown.

    Parameters
    ----------
    folder : Path
        The folder that was opened.
    items : sequence of Item
        Its images with their masks, in display order.
    """

    def __init__(self, folder: str | Path, items: Sequence[Item]):
        self.folder = Path(folder)
        self.items = list(items)
        self.index = 0 if self.items else -1

    def __len__(self) -> int:
        return len(self.items)

    @property
    def current(self) -> Item | None:
        """The item shown, or None for an empty folder."""
        return self.items[self.index] if self.index >= 0 else None

    def position_text(self) -> str:
        """``"12 / 340"``, 1-based, for the position indicator."""
        return f"{self.index + 1} / {len(self.items)}" if self.items else "0 / 0"

    def can_step(self, delta: int) -> bool:
        """True when moving by ``delta`` stays inside the list."""
        return bool(self.items) and 0 <= self.index + delta < len(self.items)

    def target(self, delta: int) -> int | None:
        """The index ``delta`` steps away, or None past either end."""
        return self.index + delta if self.can_step(delta) else None

    def go_to(self, index: int) -> Item:
        """Make ``index`` (negative counts from the end) the current item."""
        if not self.items:
            raise IndexError("the folder has no images")
        if index < 0:
            index += len(self.items)
        if not 0 <= index < len(self.items):
            raise IndexError(f"item {index} is outside 0..{len(self.items) - 1}")
        self.index = index
        return self.items[index]

    def index_of(self, image: str | Path) -> int | None:
        """The index of the item whose image is ``image``, or None."""
        image = Path(image)
        for i, item in enumerate(self.items):
            if item.image == image:
                return i
        return None
