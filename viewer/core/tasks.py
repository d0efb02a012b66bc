"""Long operations as generators of :class:`Progress`.

A task is a generator that yields ``Progress`` between steps and returns its
result. The GUI runs it in a worker thread (``viewer.gui.workers.run_task``),
which shows the progress and stops the generator between two yields when the
user cancels; the CLI and the tests run the same generator with :func:`drain`.
A task never touches the window's data: it only returns a value.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from viewer.core.errors import ViewerError
from viewer.core.formats.registry import read_mask
from viewer.core.images import read_image
from viewer.core.pairing import Item, pair_folder_steps
from viewer.core.segmentation import Segmentation

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    """How far a task is: ``done`` of ``total`` steps (``total`` None: unknown)."""

    done: int
    total: int | None = None
    message: str = ""

    @property
    def fraction(self) -> float | None:
        """``done / total`` in 0..1, or None when the total is unknown."""
        if not self.total:
            return None
        return min(max(self.done / self.total, 0.0), 1.0)


Task = Generator[Progress, None, T]


def drain(task: Task[T], on_progress: Callable[[Progress], None] | None = None) -> T:
    """Run ``task`` to the end on this thread and return its result."""
    while True:
        try:
            progress = next(task)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(progress)


@dataclass(frozen=True)
class Loaded:
    """An image read from disk with its mask, if one was asked for and could be read."""

    image: np.ndarray
    image_path: Path
    segmentation: Segmentation | None
    mask_path: Path | None
    mask_error: ViewerError | None = None


def load_image(image: str | Path, mask: str | Path | None = None, *,
               mask_required: bool = True) -> Task[Loaded]:
    """Read a photo and, optionally, its mask (sized to the photo).

    Parameters
    ----------
    mask_required : bool
        When False, a mask that cannot be read does not fail the task: the
        photo is returned with ``mask_error`` set, so that browsing a folder
        still shows the photo whose mask is broken.

    Raises
    ------
    ViewerError
        From the image reader, or the mask's format when ``mask_required``.
    """
    total = 2 if mask is not None else 1
    yield Progress(0, total, f"Reading {Path(image).name}")
    rgb = read_image(image)
    seg, error = None, None
    if mask is not None:
        yield Progress(1, total, f"Reading {Path(mask).name}")
        try:
            seg = read_mask(mask, image_size=(rgb.shape[1], rgb.shape[0]))
        except ViewerError as exc:
            if mask_required:
                raise
            error = exc
    yield Progress(total, total, "Done")
    return Loaded(rgb, Path(image), seg, Path(mask) if mask is not None else None, error)


def load_mask(mask: str | Path, image_size: tuple[int, int] | None = None) -> Task[Segmentation]:
    """Read a mask for an open photo of ``image_size`` (width, height)."""
    yield Progress(0, 1, f"Reading {Path(mask).name}")
    seg = read_mask(mask, image_size=image_size)
    yield Progress(1, 1, "Done")
    return seg


def scan_folder(folder: str | Path) -> Task[list[Item]]:
    """Pair every image under ``folder`` with its masks (see :mod:`viewer.core.pairing`)."""
    steps = pair_folder_steps(folder)
    while True:
        try:
            scanned = next(steps)
        except StopIteration as stop:
            items = stop.value
            yield Progress(1, 1, f"{len(items)} images")
            return items
        yield Progress(scanned, None, f"Scanned {scanned} folders")
