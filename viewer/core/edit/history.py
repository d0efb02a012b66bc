"""The undo/redo history: a stack of commands bounded by memory.

Commands hold only the patches they altered, so a history of hundreds of
strokes costs megabytes; still, when the bytes held pass the budget (the
``history_budget_mb`` setting), the oldest steps are dropped. The history also
knows the saved position, for the dirty marker in the title and the prompt
before closing unsaved work.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from psygnal import Signal

from viewer.core.edit.commands import Command
from viewer.core.settings import Settings

DEFAULT_BUDGET_BYTES = 512 << 20
DEFAULT_MAX_STEPS = 10_000


@dataclass(frozen=True)
class HistoryStack:
    """The steps of a history taken out of it (:meth:`History.take`), to put back later."""

    done: list
    undone: list
    dropped: int
    clean_at: int | None
    nbytes: int


class History:
    """Undo and redo stacks of :class:`~viewer.core.edit.commands.Command`.

    Parameters
    ----------
    budget_bytes : int
        Most bytes the commands may hold; the oldest undo steps are dropped
        beyond it (the newest step always stays, however large).
    max_steps : int
        Most undo steps kept.

    Signals
    -------
    changed()
        After anything changed (a step recorded, undone, redone, dropped, saved).
    can_undo_changed(bool), can_redo_changed(bool)
        When undo or redo becomes possible or impossible.
    clean_changed(bool)
        When the state becomes the saved one, or stops being it.
    """

    changed = Signal()
    can_undo_changed = Signal(bool)
    can_redo_changed = Signal(bool)
    clean_changed = Signal(bool)

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES,
                 max_steps: int = DEFAULT_MAX_STEPS):
        if budget_bytes < 0 or max_steps < 1:
            raise ValueError(f"budget {budget_bytes} bytes and {max_steps} steps must be positive")
        self.budget_bytes = int(budget_bytes)
        self.max_steps = int(max_steps)
        self._done: deque[Command] = deque()
        self._undone: list[Command] = []
        self._dropped = 0  # steps dropped from the bottom: positions stay absolute
        self._clean_at: int | None = 0
        self._nbytes = 0
        self.version = 0  # bumps on every change of state (autosave compares it)

    @classmethod
    def from_settings(cls, settings: Settings) -> History:
        """A history with the budget of the ``history_budget_mb`` setting."""
        return cls(budget_bytes=settings.history_budget_mb << 20)

    # -- reading -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._done)

    @property
    def can_undo(self) -> bool:
        """True when there is a step to undo."""
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        """True when there is a step to redo."""
        return bool(self._undone)

    @property
    def undo_text(self) -> str:
        """Text of the step undo would undo ("" when none)."""
        return self._done[-1].text if self._done else ""

    @property
    def redo_text(self) -> str:
        """Text of the step redo would redo ("" when none)."""
        return self._undone[-1].text if self._undone else ""

    @property
    def redo_steps(self) -> int:
        """Steps that can be redone."""
        return len(self._undone)

    @property
    def nbytes(self) -> int:
        """Bytes held by every command, undo and redo sides."""
        return self._nbytes

    @property
    def clean(self) -> bool:
        """True when the state is the saved one (or the opened one, before any edit)."""
        return self._clean_at == self._position

    @property
    def _position(self) -> int:
        return self._dropped + len(self._done)

    # -- writing -------------------------------------------------------------------------
    def push(self, command: Command) -> None:
        """Do ``command`` and record it."""
        command.redo()
        self.record(command)

    def record(self, command: Command | None, *, merge: bool = False) -> bool:
        """Record a command that is already done; return False when it was skipped.

        Empty commands (and None, what a stroke that changed nothing returns)
        are skipped. With ``merge``, the command joins the last step when that
        step accepts it and is not the saved state (consecutive strokes).
        """
        if command is None or getattr(command, "empty", False):
            return False
        state = self._state()
        if self._undone and self._clean_at is not None and self._clean_at > self._position:
            self._clean_at = None  # the saved state was in the redo branch, now gone
        self._nbytes -= sum(c.nbytes for c in self._undone)
        self._undone.clear()
        top = self._done[-1] if self._done else None
        if merge and top is not None and self._clean_at != self._position:
            old = top.nbytes
            if top.merge(command):
                self._nbytes += top.nbytes - old
                self._trim()
                self._emit(state)
                return True
        self._done.append(command)
        self._nbytes += command.nbytes
        self._trim()
        self._emit(state)
        return True

    def undo(self) -> Command | None:
        """Undo the last step and return it (None when there is none)."""
        if not self._done:
            return None
        state = self._state()
        command = self._done.pop()
        command.undo()
        self._undone.append(command)
        self._emit(state)
        return command

    def redo(self) -> Command | None:
        """Redo the last undone step and return it (None when there is none)."""
        if not self._undone:
            return None
        state = self._state()
        command = self._undone.pop()
        command.redo()
        self._done.append(command)
        self._emit(state)
        return command

    def mark_clean(self) -> None:
        """The current state was saved."""
        state = self._state()
        self._clean_at = self._position
        self._emit(state)

    def mark_dirty(self) -> None:
        """No reachable state is saved (e.g. a mask that came from a model)."""
        state = self._state()
        self._clean_at = None
        self._emit(state)

    def clear(self) -> None:
        """Forget every step; the current state counts as saved when it was."""
        state = self._state()
        clean = self.clean
        self._done.clear()
        self._undone.clear()
        self._dropped, self._nbytes = 0, 0
        self._clean_at = 0 if clean else None
        self._emit(state)

    def take(self) -> HistoryStack:
        """Hand over every step and clear (for a video frame the user leaves; see :meth:`put`)."""
        stack = HistoryStack(list(self._done), list(self._undone), self._dropped,
                             self._clean_at, self._nbytes)
        state = self._state()
        self._done.clear()
        self._undone.clear()
        self._dropped, self._nbytes, self._clean_at = 0, 0, 0
        self._emit(state)
        return stack

    def put(self, stack: HistoryStack) -> None:
        """Take back steps handed over by :meth:`take` (the frame is shown again)."""
        state = self._state()
        self._done = deque(stack.done)
        self._undone = list(stack.undone)
        self._dropped, self._clean_at, self._nbytes = stack.dropped, stack.clean_at, stack.nbytes
        self._trim()
        self._emit(state)

    def trim(self) -> None:
        """Drop the oldest steps while over the budget (after lowering it) or the step limit."""
        state = self._state()
        self._trim()
        self._emit(state)

    def _trim(self) -> None:
        """Drop the oldest steps while over the budget or the step limit."""
        while len(self._done) > 1 and (self._nbytes > self.budget_bytes
                                       or len(self._done) > self.max_steps):
            self._nbytes -= self._done.popleft().nbytes
            self._dropped += 1

    def _state(self) -> tuple[bool, bool, bool]:
        return self.can_undo, self.can_redo, self.clean

    def _emit(self, before: tuple[bool, bool, bool]) -> None:
        self.version += 1
        can_undo, can_redo, clean = self._state()
        if can_undo != before[0]:
            self.can_undo_changed.emit(can_undo)
        if can_redo != before[1]:
            self.can_redo_changed.emit(can_redo)
        if clean != before[2]:
            self.clean_changed.emit(clean)
        self.changed.emit()
