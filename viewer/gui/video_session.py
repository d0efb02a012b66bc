"""A video in the window: opening it, its per-frame masks, playback, per-frame edits.

The window shows one frame at a time through the same canvas, panels and
editor as a photo. Playing puts frames straight on the canvas; when the user
stops on a frame it becomes the window's segmentation, so the panels show it
and the editor edits it. Edits are kept in the :class:`FrameStore` when the
user moves to another frame, and the window asks before they are lost.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from viewer.core.edit import EditCommand
from viewer.core.edit.history import HistoryStack
from viewer.core.edit.ids import SegmentClass
from viewer.core.edit.ops import relabel
from viewer.core.edit.session_lock import SessionLock
from viewer.core.errors import ViewerError
from viewer.core.tasks import Progress, Task
from viewer.core.text import count
from viewer.core.video.base import FrameReader
from viewer.core.video.frame_store import ClassRule, FrameStore
from viewer.core.video.mask_source import MaskSource, open_mask_source
from viewer.core.video.readers import open_video
from viewer.core.video.recovery import VideoAutosaver, VideoRecovery
from viewer.gui import dialogs
from viewer.gui.video_models import ModelOnFrames
from viewer.gui.video_player import VideoPlayer
from viewer.gui.video_recovery import FrameRecovery
from viewer.gui.video_worker import FrameJob, FrameWorker, ShownFrame

if TYPE_CHECKING:
    from viewer.gui.main_window import MainWindow


class VideoSession(ModelOnFrames, FrameRecovery, QObject):
    """The open video of a window (at most one), or nothing.

    Signals
    -------
    opened()
        A video was opened (or closed: :attr:`active` tells).
    frame_shown(int)
        A frame went on screen.
    masks_changed()
        Frames got new masks (a mask source, a model run, a whole-video relabel).
    frames_edited()
        A frame's edits were kept (the measurements over time are out of date).
    """

    opened = Signal()
    frame_shown = Signal(int)
    masks_changed = Signal()
    frames_edited = Signal()

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.reader: FrameReader | None = None
        self.store: FrameStore | None = None
        self.player: VideoPlayer | None = None
        self.worker: FrameWorker | None = None
        self.masks_path: Path | None = None
        self.settled: int | None = None  # the frame the panels and the editor hold
        self.live = False
        self.relabel_everywhere = False
        self.model_id: str | None = None
        self.autosaver: VideoAutosaver | None = None
        self._segmenting = None
        self._restoring: tuple[VideoRecovery, SessionLock] | None = None
        self._stacks: OrderedDict[int, HistoryStack] = OrderedDict()  # undo steps per frame

    @property
    def active(self) -> bool:
        """True while a video is open."""
        return self.reader is not None

    @property
    def path(self) -> Path | None:
        return self.reader.path if self.reader is not None else None

    # -- opening and closing ---------------------------------------------------
    def open(self, path: str | Path, masks: str | Path | None = None):
        """Open a video (and optionally its per-frame masks) in a worker."""
        path = Path(path)
        return self.window.start_task(_open(path, masks), f"Opening {path.name}",
                                      lambda opened: self._install(path, masks, *opened),
                                      "Cannot open video")

    def open_masks(self, masks: str | Path):
        """Read per-frame masks for the open video (a folder, a mask video, Celantur chunks)."""
        if self.reader is None or not self.may_leave():
            return None
        return self.open(self.reader.path, masks)

    def _install(self, path: Path, masks, reader: FrameReader, source: MaskSource | None) -> None:
        self.close()
        w = self.window
        w.stream.close()
        self.reader = reader
        self.store = FrameStore(source, frame_count=reader.frame_count)
        self.masks_path = Path(masks) if masks is not None else None
        self.autosaver = VideoAutosaver(self.store, path, self.masks_path)
        self._take_restored()
        self.worker = FrameWorker(reader, self.store, self)
        self.player = VideoPlayer(self.worker, reader.frame_count, reader.fps, self._job, self)
        self.player.shown.connect(self._on_shown)
        self.player.playing_changed.connect(self._on_playing_changed)
        self.worker.failed.connect(self._on_failed)
        w.items = None
        w.image_path, w.mask_path = path, self.masks_path
        w.video_bar.set_video(reader.frame_count, reader.fps)
        w.remember_path(path)
        self.opened.emit()
        self.player.seek(0)
        info = reader.info
        text = (f"{path.name}: {info.width}x{info.height}, {info.frame_count} frames at "
                f"{info.fps:.3g} fps ({info.codec}, {info.backend})")
        summary = self.store.summary()
        w.statusBar().showMessage(text + (f"; {summary[0]}" if summary else ""), 15000)

    def close(self) -> None:
        """Close the open video (its unsaved edits must have been dealt with)."""
        if self.reader is None:
            return
        if self._segmenting is not None:
            self._segmenting.cancel()
        if not self.store.dirty:
            self.autosaver.discard()
        else:
            self.autosaver.close()  # unexported work stays on disk for the next start
        self.player.pause()
        self.worker.stop()
        self.player.deleteLater()
        self.worker.deleteLater()
        self.store.close()
        self.reader.close()
        self.reader = self.store = self.player = self.worker = None
        self.settled = None
        self._stacks.clear()
        self.opened.emit()

    # -- playback --------------------------------------------------------------
    def _job(self, index: int) -> FrameJob:
        w = self.window
        palette = w.palette_panel.palette_to_apply
        runner = self.runner() if self.live else None
        return FrameJob(index, w.render_settings, palette, runner, w.canvas.scale())

    def seek(self, index: int, *, settle: bool = True) -> None:
        """Show frame ``index``; the frame left keeps its edits."""
        if self.player is not None:
            self._leave_frame()
            if not settle and not self.player.playing:
                # Dragging: a frame that decodes quickly now, the exact one on release.
                index = self.reader.scrub_target(min(max(int(index), 0),
                                                     self.reader.frame_count - 1))
            self.player.seek(index, settle=settle)

    def step(self, delta: int) -> None:
        """Pause and move ``delta`` frames."""
        if self.player is not None:
            self._leave_frame()
            self.player.step(delta)

    def toggle_play(self) -> None:
        """Play or pause."""
        if self.player is not None:
            self._leave_frame()
            self.player.toggle()

    def refresh(self) -> None:
        """Show the current frame again (its mask or the settings changed)."""
        if self.player is not None:
            self._leave_frame()
            self.player.refresh()

    def _leave_frame(self) -> None:
        """Keep the settled frame's edits, and its undo steps for when it is shown again."""
        self.commit()
        history = self.window.edits.history
        if self.settled is None or not (history.can_undo or history.can_redo):
            return
        self._stacks[self.settled] = history.take()
        self._stacks.move_to_end(self.settled)
        # Kept steps count against the undo memory like the shown frame's own.
        while len(self._stacks) > 1 and sum(st.nbytes for st in self._stacks.values()) > \
                history.budget_bytes:
            self._stacks.popitem(last=False)

    def _take_back_steps(self, frame: ShownFrame) -> None:
        stack = self._stacks.pop(frame.index, None)
        # Only onto the very segmentation the steps were made on (the kept edit).
        if stack is not None and self.store.origin(frame.index) == "edited" and \
                self.store.mask_for(frame.index) is frame.seg:
            self.window.edits.history.put(stack)

    def _on_playing_changed(self, playing: bool) -> None:
        w = self.window
        if playing:
            # The editor lets go of the settled frame: strokes during playback
            # would land on a frame no longer shown.
            self.settled = None
            w.edits.bind(None)
        w.play_action.setChecked(playing)
        w.play_action.setText("&Pause" if playing else "&Play")

    def _on_shown(self, frame: ShownFrame, settled: bool) -> None:
        w = self.window
        w.image = frame.rgb
        if settled:
            # Full resolution: the editor and the readout work on the frame's own pixels.
            w.canvas.set_image(frame.rgb)
            self.settled = frame.index
            w.set_segmentation(frame.seg)
            self._take_back_steps(frame)
        else:
            w.canvas.set_image(frame.view_rgb if frame.view_rgb is not None else frame.rgb,
                               size=frame.size)
            layers = frame.layers
            w.canvas.set_overlay(*((layers.fill, layers.outline) if layers else (None, None)))
        w.video_bar.show_position(frame.index, self.store.origin(frame.index))
        if frame.error is not None and settled:
            w.statusBar().showMessage(f"Frame {frame.index}: {frame.error}", 10000)
        self.frame_shown.emit(frame.index)

    def _on_failed(self, index: int, error: ViewerError) -> None:
        if self.player is not None:
            self.player.pause()
        self.window.statusBar().showMessage(f"Frame {index} not shown: {error}", 15000)

    # -- edits -------------------------------------------------------------------
    def commit(self) -> None:
        """Keep the settled frame's edits in the store (they stay until exported)."""
        w = self.window
        if self.store is None or self.settled is None or w.segmentation is None:
            return
        if w.edits.dirty:
            self.store.keep_edit(self.settled, w.segmentation)
            w.edits.history.mark_clean()
            w.update_title()
            self.frames_edited.emit()

    def revert_frame(self) -> None:
        """Drop the shown frame's edits: its mask comes from its source again."""
        w = self.window
        if self.store is None or self.settled is None:
            return
        index = self.settled
        w.edits.history.mark_clean()  # the edits go; nothing to commit
        self._stacks.pop(index, None)
        if self.store.revert(index) or w.edits.history.can_undo:
            w.statusBar().showMessage(f"Frame {index}: edits dropped", 8000)
        self.settled = None
        self.player.seek(index)

    @property
    def dirty(self) -> bool:
        """True when edits or model results have not been exported."""
        return self.store is not None and (self.store.dirty or self.window.edits.dirty)

    def may_leave(self) -> bool:
        """Before closing the video: export, discard or stay."""
        self.commit()
        if self.store is None or not self.store.dirty:
            return True
        answer = dialogs.ask_unexported(self.window, self.unexported_text())
        if answer == "save":
            return bool(self.window.video_exports.choose())
        if answer == "discard":
            self.store.mark_saved()
            self.autosaver.discard()
            return True
        return False

    def unexported_text(self) -> str:
        """"3 edited frames and 1 whole-video relabel are", for the prompt."""
        frames, rules = len(self.store.edited_frames()), len(self.store.rules)
        parts = [count(frames, "edited frame")] if frames else []
        if rules:
            parts.append(count(rules, "whole-video relabel"))
        return (" and ".join(parts) or "Changes") + (" are" if frames + rules != 1 else " is")

    def relabel_all(self, ids: list[int], chosen: SegmentClass) -> bool:
        """Relabel ``ids``'s classes to ``chosen`` in this frame and every other, as one step."""
        w, seg = self.window, self.window.segmentation
        if self.store is None or seg is None or chosen.class_id is None or not ids:
            return False
        classes = sorted({seg.table[i].class_id for i in ids
                          if seg.table[i].class_id not in (None, chosen.class_id)})
        if not classes:
            return False
        commands = [EditCommand(seg, relabel(seg, ids, chosen.class_id, label=chosen.label))]
        rules = [ClassRule(c, chosen.class_id, chosen.label) for c in classes]
        for rule in rules:
            commands += [EditCommand(s, change) for _, s, change in self.store.add_rule(rule)]
        name = chosen.label or f"class {chosen.class_id}"
        w.edits.history.record(RuleCommand(self, rules, commands, f"Relabel to {name} "
                                           "in every frame"))
        w.statusBar().showMessage(f"Every frame: class {', '.join(map(str, classes))} is now "
                                  f"{name}", 10000)
        self.masks_changed.emit()
        return True

class RuleCommand:
    """Undo step of a whole-video relabel: the rules and what they changed in edited frames."""

    def __init__(self, session: VideoSession, rules: list[ClassRule],
                 commands: list[EditCommand], text: str):
        self.session, self.rules, self.commands, self.text = session, rules, commands, text
        self.store = session.store

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.commands)

    def undo(self) -> None:
        for rule in self.rules:
            self.store.remove_rule(rule)
        for command in reversed(self.commands):
            command.undo()
        self.session.masks_changed.emit()

    def redo(self) -> None:
        for rule in self.rules:
            self.store.reinstate_rule(rule)
        for command in self.commands:
            command.redo()
        self.session.masks_changed.emit()

    def merge(self, other) -> bool:
        return False


def _open(path: Path, masks) -> Task[tuple[FrameReader, MaskSource | None]]:
    yield Progress(0, 2, f"Reading {path.name}")
    reader = open_video(path)
    source = None
    try:
        if masks is not None:
            yield Progress(1, 2, f"Reading masks from {Path(masks).name}")
            source = open_mask_source(masks, video_size=reader.size)
            frames = source.frames()
            if frames and not any(0 <= f < reader.frame_count for f in frames):
                source.close()
                raise ViewerError(f"has masks for frames {frames[0]}-{frames[-1]}, none of the "
                                  f"video's 0-{reader.frame_count - 1}", masks)
    except BaseException:
        reader.close()
        raise
    yield Progress(2, 2, "Done")
    return reader, source
