"""Run core tasks (generators of ``Progress``) off the GUI thread.

:func:`run_task` starts a superqt ``GeneratorWorker`` and delivers its result,
error or cancellation to callbacks on the GUI thread. Workers only compute and
return; the callbacks are where the window's data changes (ARCHITECTURE C4).
:class:`TaskProgress` is the status-bar progress bar with its Cancel button.
"""

from __future__ import annotations

import contextvars
import sys
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget
from superqt.utils import GeneratorWorker

from viewer.core.error_text import describe
from viewer.core.errors import ViewerError
from viewer.core.tasks import Progress, Task
from viewer.gui.richtext import plain


class TaskHandle(QObject):
    """One running task: cancel it, or listen to how it ends.

    Signals
    -------
    progressed(Progress)
        Each step the task reports.
    ended()
        Once, whether it finished, failed or was cancelled.
    """

    progressed = Signal(object)
    ended = Signal()

    def __init__(self, title: str, on_done: Callable[[Any], None],
                 on_error: Callable[[ViewerError], None],
                 on_cancel: Callable[[], None] | None, parent: QObject | None = None):
        super().__init__(parent)
        self.title = title
        self._on_done, self._on_error, self._on_cancel = on_done, on_error, on_cancel
        self.cancelled = False
        self.finished = False
        self.worker: GeneratorWorker | None = None

    def cancel(self) -> None:
        """Ask the task to stop at its next step; its result, if any, is dropped."""
        if self.finished or self.cancelled:
            return
        self.cancelled = True
        if self.worker is not None:
            self.worker.quit()

    # Slots on a QObject of the GUI thread: Qt queues the worker's signals here.
    @Slot(object)
    def _yielded(self, progress: object) -> None:
        if isinstance(progress, Progress) and not self.cancelled:
            self.progressed.emit(progress)

    @Slot(object)
    def _returned(self, value: object) -> None:
        if not self.cancelled:
            self._on_done(value)

    @Slot(object)
    def _errored(self, exc: object) -> None:
        if self.cancelled:
            return
        if isinstance(exc, _Carried):
            exc = exc.original
        if not isinstance(exc, ViewerError):
            # A bug, not bad input: keep the traceback for a report, show one line.
            traceback.print_exception(exc, file=sys.stderr)
            exc = UnexpectedError.wrap(self.title, exc)
        self._on_error(exc)

    @Slot()
    def _finished(self) -> None:
        self.finished = True
        if self.cancelled and self._on_cancel is not None:
            self._on_cancel()
        self.ended.emit()


class UnexpectedError(ViewerError):
    """An exception that is not a :class:`ViewerError`, as the GUI shows it.

    ``message`` says what failed in a user's words; ``details`` holds the
    exception and traceback for the dialog's "Details" section.
    """

    def __init__(self, message: str, details: str):
        super().__init__(message)
        self.details = details

    @classmethod
    def wrap(cls, title: str, exc: BaseException) -> UnexpectedError:
        """Wrap ``exc``, raised while doing ``title``."""
        words = describe(exc)
        where = getattr(exc, "filename", None)
        if words is None:
            text = f"{title} failed: something went wrong that SegView did not expect."
        else:
            text = f"{title} failed: {f'{where}: ' if where else ''}{words}"
        return cls(text, "".join(traceback.format_exception(exc)).strip())


def run_task(task: Task, *, title: str, on_done: Callable[[Any], None],
             on_error: Callable[[ViewerError], None],
             on_cancel: Callable[[], None] | None = None,
             parent: QObject | None = None) -> TaskHandle:
    """Run ``task`` in a worker thread; the callbacks run on the GUI thread.

    Parameters
    ----------
    task : generator of Progress
        A core task; its return value goes to ``on_done``.
    title : str
        What the task does, for the progress bar and error messages.
    on_error : callable
        Gets a :class:`ViewerError`; other exceptions are wrapped in one.
    on_cancel : callable, optional
        Called once the worker has stopped after :meth:`TaskHandle.cancel`.
    """
    handle = TaskHandle(title, on_done, on_error, on_cancel, parent)
    worker = GeneratorWorker(_guarded, task)
    handle.worker = worker
    worker.yielded.connect(handle._yielded)
    worker.returned.connect(handle._returned)
    worker.errored.connect(handle._errored)
    worker.finished.connect(handle._finished)
    worker.start()
    return handle


def _guarded(task: Task):
    # superqt treats a RuntimeError from the generator as "worker deleted" and
    # never emits finished; any other exception type reaches errored.
    # Each step runs in the task's own context: a transaction or output guard the
    # task sets (core.transaction) must not outlive it in a pooled thread, and a
    # cancelled task is never closed by superqt, only dropped.
    context = contextvars.copy_context()
    value = None
    while True:
        try:
            value = yield context.run(task.send, value)
        except StopIteration as stop:
            return stop.value
        except RuntimeError as exc:
            raise _Carried(exc) from exc


class _Carried(Exception):  # noqa: N818 (a carrier, not an error of its own)
    """A RuntimeError carried past superqt, unwrapped again on the GUI thread."""

    def __init__(self, original: RuntimeError):
        super().__init__(str(original))
        self.original = original


class TaskProgress(QWidget):
    """A status-bar progress bar with Cancel, shown only for tasks that take a while.

    Quick tasks (most image loads) finish before ``delay_ms`` and never flash
    the bar.
    """

    def __init__(self, parent: QWidget | None = None, delay_ms: int = 250):
        super().__init__(parent)
        self.label = plain(QLabel(self))  # task titles hold file names
        self.bar = QProgressBar(self)
        self.bar.setFixedWidth(160)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.label, self.bar, self.cancel_button):
            layout.addWidget(widget)
        self._handle: TaskHandle | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._reveal)
        self.hide()

    @property
    def handle(self) -> TaskHandle | None:
        """The task being shown, or None."""
        return self._handle

    def track(self, handle: TaskHandle) -> None:
        """Show ``handle``'s progress (after the delay) until it ends."""
        self._handle = handle
        self.label.setText(handle.title)
        self.bar.setRange(0, 0)  # busy until the first step with a total
        handle.progressed.connect(self._on_progress)
        handle.ended.connect(lambda: self._on_ended(handle))
        self._timer.start()

    def _reveal(self) -> None:
        if self._handle is not None and not self._handle.finished:
            self.show()

    def _on_progress(self, progress: Progress) -> None:
        if progress.message:
            self.label.setText(progress.message)
        if progress.total:
            self.bar.setRange(0, progress.total)
            self.bar.setValue(progress.done)
        else:
            self.bar.setRange(0, 0)

    def _on_cancel_clicked(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self.label.setText("Cancelling…")

    def _on_ended(self, handle: TaskHandle) -> None:
        if handle is self._handle:
            self._handle = None
            self._timer.stop()
            self.hide()
