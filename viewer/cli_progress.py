"""Progress on stderr for the commands that run long tasks (segment, render).

A bar redrawn in place on a terminal; in a log file, one line per step, at
most about one per percent so a 100,000-frame video does not write 100,000
lines.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO, TypeVar

from viewer.core.tasks import Progress, Task, drain

T = TypeVar("T")
#: Progress lines at most per run when stderr is not a terminal (a log file).
PROGRESS_STEPS = 100


class ProgressBar:
    """A progress bar on a stream: redrawn in place on a terminal, one line per step otherwise."""

    WIDTH = 24

    def __init__(self, stream: TextIO, *, enabled: bool = True):
        self.stream = stream
        self.enabled = enabled
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._drawn = False

    def update(self, progress: Progress) -> None:
        """Draw ``progress``."""
        if not self.enabled:
            return
        fraction = progress.fraction or 0.0
        filled = round(fraction * self.WIDTH)
        count = f"{progress.done}/{progress.total}" if progress.total is not None else ""
        line = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {count} {progress.message}"
        if self.tty:
            self.stream.write("\r\x1b[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._drawn = True

    def message(self, text: str) -> None:
        """Print a line without tearing the bar."""
        if self.tty and self._drawn:
            self.stream.write("\r\x1b[K")
        self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """End the bar's line."""
        if self.enabled and self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
        self._drawn = False


def every_percent(update: Callable[[Progress], None]) -> Callable[[Progress], None]:
    """Pass on the first, the last and about one progress step per percent."""
    last = [-1]

    def throttled(progress: Progress) -> None:
        step = int((progress.fraction or 0.0) * PROGRESS_STEPS)
        if step != last[0] or progress.done == progress.total:
            last[0] = step
            update(progress)

    return throttled


def drain_with_bar(task: Task[T], *, quiet: bool = False) -> T:
    """Run ``task`` with a bar on stderr (ended even when the task fails); its result."""
    bar = ProgressBar(sys.stderr, enabled=not quiet)
    try:
        return drain(task, every_percent(bar.update))
    finally:
        bar.finish()
