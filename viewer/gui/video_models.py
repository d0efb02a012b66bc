"""Running the chosen model on a video's frames: the frame shown, all of them, or live.

Part of :class:`~viewer.gui.video_session.VideoSession` (a mixin, so the
menus and the Model panel call the session). Results go into the frame
store, packed; they are dropped when another model is chosen.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from viewer.core.inference.runner import ModelRunner
from viewer.core.tasks import Progress, Task
from viewer.core.video.frame_store import FrameStore
from viewer.core.video.readers import open_video
from viewer.gui.workers import run_task

#: Frames decoded for the background model run are read once; keep its cache small.
_BACKGROUND_CACHE_MB = 64


class ModelOnFrames:
    """The model half of a video session (needs ``window``, ``store``, ``reader``, ``player``,
    ``settled``, ``live``, ``model_id``, ``_segmenting``, ``masks_changed``, ``refresh``,
    ``commit``)."""

    def runner(self) -> ModelRunner | None:
        """The chosen model's runner; kept results are dropped when the model changes."""
        runner = self.window.models.runner()
        model_id = runner.manifest.id if runner is not None else None
        if self.store is not None and model_id != self.model_id:
            if self.model_id is not None:
                self.store.forget_predictions()
            self.model_id = model_id
        return runner

    def set_live(self, on: bool) -> None:
        """Segment frames that have no mask as they are shown (results are kept)."""
        self.live = bool(on)
        runner = self.window.models.runner()
        if on and runner is None:
            self.window.statusBar().showMessage("Choose a model in the Model panel first", 8000)
        self.window.stream.runner = runner if on else None
        self.refresh()

    def segment_frame(self):
        """Segment the frame shown (for the Model menu's "Segment this image")."""
        runner = self.runner()
        if runner is None or self.settled is None:
            self.window.statusBar().showMessage("Stop on a frame and choose a model first", 5000)
            return None
        index, image = self.settled, self.window.image

        def task() -> Task[None]:
            yield Progress(0, 1, f"Segmenting frame {index}")
            self.store.put_prediction(index, runner.run(image, source=self.reader.path))
            yield Progress(1, 1, "Done")

        def done(_) -> None:
            self.masks_changed.emit()
            if self.settled == index:
                self.player.seek(index)

        return self.window.start_task(task(), f"Segmenting frame {index}", done, "Model failed")

    def segment_all(self):
        """Segment every frame in the background (progress, Cancel); results are kept."""
        runner = self.runner()
        if runner is None or self.reader is None:
            self.window.statusBar().showMessage("Open a video and choose a model first", 5000)
            return None
        if self._segmenting is not None:
            return self._segmenting
        self.commit()

        def ended(_=None) -> None:
            self._segmenting = None
            self.masks_changed.emit()
            self.refresh()

        handle = run_task(_segment_video(self.reader.path, runner, self.store),
                          title="Segmenting the video", on_done=ended,
                          on_error=lambda exc: (ended(), self.window.show_error(
                              "Model failed", exc)),
                          on_cancel=ended, parent=self)
        self._segmenting = handle
        self.window.progress.track(handle)
        return handle


def _segment_video(path: Path, runner: ModelRunner, store: FrameStore) -> Task[int]:
    """Run ``runner`` on every frame not edited and not segmented yet; returns the count."""
    # A reader of its own: the player keeps seeking its reader while this one runs ahead.
    reader = open_video(path, cache_mb=_BACKGROUND_CACHE_MB)
    with closing(reader):
        total = reader.frame_count
        yield Progress(0, total, "Loading the model")
        runner.load()
        done = 0
        for index in range(total):
            if store.origin(index) not in ("edited", "model"):
                store.put_prediction(index, runner.run(reader.frame(index), source=path))
                done += 1
            yield Progress(index + 1, total, f"Frame {index + 1} of {total}")
    return done
