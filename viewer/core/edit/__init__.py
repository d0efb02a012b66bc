"""Editing segmentations: operations, undoable commands, the history, autosave, save.

- :mod:`~viewer.core.edit.ops`: relabel, rename, recolour, add, merge, split,
  delete; painting (:mod:`~viewer.core.edit.paint`) and clean-up
  (:mod:`~viewer.core.edit.cleanup`) are re-exported there. Each operation
  edits in place and returns a :class:`Change` (the bbox patch before/after
  and the table rows before/after).
- :class:`EditCommand` wraps a change for undo/redo; :class:`Stroke` turns a
  brush stroke into one command; :class:`History` is the memory-bounded
  undo stack with the clean/dirty marker.
- :mod:`~viewer.core.edit.recovery`: autosave and crash recovery;
  :mod:`~viewer.core.edit.save`: save back to the source format;
  :mod:`~viewer.core.edit.diff`: what the edits changed against the original.

Never imports Qt.
"""

from viewer.core.edit.commands import Command, EditCommand
from viewer.core.edit.history import History
from viewer.core.edit.ids import BACKGROUND_ID, SegmentClass, classes
from viewer.core.edit.paint import Brush, Overwrite
from viewer.core.edit.patch import Change, apply_change
from viewer.core.edit.stroke import Stroke

__all__ = [
    "BACKGROUND_ID", "Brush", "Change", "Command", "EditCommand", "History", "Overwrite",
    "SegmentClass", "Stroke", "apply_change", "classes",
]
