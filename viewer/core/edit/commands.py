"""Undoable commands: each holds the bounding-box patch and the rows one edit altered.

Operations (:mod:`viewer.core.edit.ops`) apply an edit at once and return its
:class:`~viewer.core.edit.patch.Change`; wrapping that in an
:class:`EditCommand` and recording it on the
:class:`~viewer.core.edit.history.History` makes it undoable::

    history.record(EditCommand(seg, ops.merge(seg, [3, 7]), "Merge"))

A command never copies the label map: pixel edits keep the before and after
of the box that changed, table edits (relabel, rename, recolour, visibility)
keep only rows.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from viewer.core.edit.patch import Change, apply_change, compose
from viewer.core.segmentation import Segmentation

# A command's own bookkeeping (object, text), on top of its change.
_OVERHEAD_BYTES = 200


@runtime_checkable
class Command(Protocol):
    """What the history needs of a command."""

    text: str

    @property
    def nbytes(self) -> int:
        """Bytes the command keeps alive."""

    def undo(self) -> None:
        """Return to the state before the command."""

    def redo(self) -> None:
        """Do the command again (or for the first time, for :meth:`History.push`)."""

    def merge(self, other: Command) -> bool:
        """Absorb ``other``, done right after this one; False when it cannot."""


class EditCommand:
    """An edit of one segmentation, undone and redone from its :class:`Change`.

    Parameters
    ----------
    seg : Segmentation
    change : Change
        What the edit altered (already applied, as operations return it).
    text : str
        What the edit was, for "Undo <text>" in a menu.
    kind : str, optional
        Commands of the same non-empty kind on the same segmentation may be
        merged into one step (consecutive brush strokes, when asked).
    """

    def __init__(self, seg: Segmentation, change: Change, text: str = "Edit",
                 kind: str | None = None):
        self.seg = seg
        self.change = change
        self.text = text
        self.kind = kind

    def __repr__(self) -> str:
        return f"EditCommand({self.text!r}, bbox={self.change.bbox}, {self.nbytes} bytes)"

    @property
    def empty(self) -> bool:
        """True when the edit changed nothing (the history skips it)."""
        return self.change.empty

    @property
    def nbytes(self) -> int:
        """Bytes held: the patches, rows and masks of the change."""
        return self.change.nbytes + _OVERHEAD_BYTES

    def undo(self) -> None:
        """Restore the pixels and rows from before the edit."""
        apply_change(self.seg, self.change.inverse())

    def redo(self) -> None:
        """Apply the edit again."""
        apply_change(self.seg, self.change)

    def merge(self, other: Command) -> bool:
        """Absorb ``other`` (same segmentation and kind), done right after this one."""
        if (not isinstance(other, EditCommand) or other.seg is not self.seg
                or self.kind is None or other.kind != self.kind):
            return False
        self.change = compose(self.change, other.change, self.seg.labels)
        return True
