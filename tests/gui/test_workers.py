"""Tasks in worker threads: results, errors and cancel reach the GUI thread."""

import threading
import time

import pytest

from viewer.core.errors import ReadError, ViewerError
from viewer.core.tasks import Progress
from viewer.gui.workers import TaskProgress, run_task

pytestmark = pytest.mark.gui


def _counting(n, delay=0.0, fail=None):
    for i in range(n):
        if delay:
            time.sleep(delay)
        yield Progress(i, n, f"step {i}")
    if fail is not None:
        raise fail
    return threading.get_ident()


def _run(qtbot, task, **kwargs):
    out = {"done": [], "error": [], "cancel": []}
    handle = run_task(task, title="Counting", on_done=out["done"].append,
                      on_error=out["error"].append,
                      on_cancel=lambda: out["cancel"].append(True), **kwargs)
    return handle, out


def test_result_comes_back_from_another_thread(qtbot):
    seen = []
    handle, out = _run(qtbot, _counting(3))
    handle.progressed.connect(seen.append)
    qtbot.waitUntil(lambda: handle.finished, timeout=5000)
    assert out["done"] and out["done"][0] != threading.get_ident()
    assert not out["error"] and not out["cancel"]


@pytest.mark.parametrize("exc, expected", [
    (ReadError("truncated", "x.png"), "x.png: truncated"),
    (ValueError("boom"), "Counting failed: something went wrong that SegView did not expect."),
    (RuntimeError("odd"), "Counting failed: something went wrong that SegView did not expect."),
    (ValueError("embedded null byte"), "Counting failed: the file name contains a NUL byte"),
])
def test_errors_arrive_as_viewer_errors(qtbot, exc, expected, capsys):
    handle, out = _run(qtbot, _counting(1, fail=exc))
    qtbot.waitUntil(lambda: handle.finished, timeout=5000)
    assert len(out["error"]) == 1 and isinstance(out["error"][0], ViewerError)
    assert str(out["error"][0]) == expected
    if not isinstance(exc, ViewerError):  # the exception itself goes to "Details"
        assert f"{type(exc).__name__}: {exc}" in out["error"][0].details
    assert not out["done"]


def test_cancel_stops_between_steps_and_drops_the_result(qtbot):
    handle, out = _run(qtbot, _counting(200, delay=0.01))
    qtbot.waitUntil(lambda: handle.worker.is_running, timeout=5000)
    handle.cancel()
    qtbot.waitUntil(lambda: handle.finished, timeout=5000)
    assert out["cancel"] == [True] and not out["done"] and not out["error"]


def test_progress_bar_appears_only_for_slow_tasks_and_cancels(qtbot):
    bar = TaskProgress(delay_ms=50)
    qtbot.addWidget(bar)
    quick, _ = _run(qtbot, _counting(2))
    bar.track(quick)
    qtbot.waitUntil(lambda: quick.finished, timeout=5000)
    qtbot.wait(100)
    assert bar.isHidden()
    slow, out = _run(qtbot, _counting(300, delay=0.01))
    bar.track(slow)
    qtbot.waitUntil(lambda: bar.isVisible() or bar.isVisibleTo(None) or not bar.isHidden(),
                    timeout=5000)
    qtbot.waitUntil(lambda: bar.bar.maximum() == 300, timeout=5000)
    bar.cancel_button.click()
    qtbot.waitUntil(lambda: slow.finished, timeout=5000)
    assert out["cancel"] == [True] and bar.isHidden()
