"""Segmenting many photos as a task (a generator of :class:`~viewer.core.tasks.Progress`).

The GUI runs it in a worker (``run_task``), the CLI drains it; both get one
:class:`SegmentResult` per photo. A photo that cannot be read or segmented is
reported in its result and the batch goes on; a model that cannot be loaded
fails the task at once, since it would fail every photo the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from viewer.core.errors import ViewerError
from viewer.core.inference.runner import ModelRunner
from viewer.core.segmentation import Segmentation
from viewer.core.tasks import Progress, Task


@dataclass(frozen=True)
class SegmentResult:
    """The outcome for one photo: a segmentation, or the error that stopped it.

    ``segmentation`` is also None when the task was asked not to keep results.
    """

    path: Path
    segmentation: Segmentation | None = None
    error: ViewerError | None = None

    @property
    def ok(self) -> bool:
        """True when the photo was segmented."""
        return self.error is None


def segment_images(runner: ModelRunner, paths: Sequence[str | Path], *,
                   threshold: float | None = None, reduced_decode: bool = True,
                   on_result: Callable[[SegmentResult], None] | None = None,
                   keep: bool = True) -> Task[list[SegmentResult]]:
    """Segment photos one after the other.

    Parameters
    ----------
    runner : ModelRunner
    paths : sequence of str or Path
    threshold : float, optional
        For sigmoid outputs; the manifest's default when omitted.
    reduced_decode : bool
        Decode JPEGs at a reduced size that still covers the model's input
        (see :meth:`ModelRunner.run_file`).
    on_result : callable, optional
        Called with each result as soon as it is ready (the CLI writes the
        mask there), on the task's thread.
    keep : bool
        When False, returned results carry no segmentation, so a long batch
        does not hold every label map in memory.

    Returns
    -------
    list of SegmentResult
        One per path, in order (the generator's return value).

    Raises
    ------
    ModelError
        When the model itself cannot be loaded.
    """
    paths = [Path(p) for p in paths]
    total = len(paths)
    yield Progress(0, total, "Loading the model")
    runner.load()
    results = []
    for done, path in enumerate(paths):
        yield Progress(done, total, f"Segmenting {path.name}")
        try:
            result = SegmentResult(path, runner.run_file(path, threshold=threshold,
                                                         reduced_decode=reduced_decode))
        except ViewerError as exc:
            result = SegmentResult(path, error=exc)
        if on_result is not None:
            on_result(result)
        results.append(result if keep else SegmentResult(path, error=result.error))
    yield Progress(total, total, "Done")
    return results
