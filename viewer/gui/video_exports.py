"""Exporting a video's masks from the window: per-frame files, overlay video, Celantur chunks.

The work is the core's (the same functions ``segview render`` and ``segview
segment`` use), run in a worker with the status bar's progress and Cancel.
Frames are read through the video's :class:`FrameStore`, so the export holds
the edits, the model's results and the whole-video relabels, coloured with
the palette chosen in the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)

from viewer.core.formats.registry import FORMATS
from viewer.core.output_guard import guarded
from viewer.core.palettes import Palette
from viewer.core.recolor import apply_palette
from viewer.core.segmentation import Segmentation
from viewer.core.text import count
from viewer.core.video.celantur_export import export_celantur_chunks
from viewer.core.video.export import export_overlay_video
from viewer.core.video.mask_source import MaskSource
from viewer.core.video.sequence_export import export_mask_sequence
from viewer.gui import dialogs
from viewer.gui.richtext import plain
from viewer.gui.workers import run_task

if TYPE_CHECKING:
    from viewer.gui.main_window import MainWindow

OVERLAY = "overlay-video"
CHUNKS = "celantur-chunks"


@dataclass(frozen=True)
class VideoExportChoice:
    """What to write: ``what`` is a mask format's registry name, OVERLAY or CHUNKS."""

    what: str
    folder: Path
    name: str


class VideoExportDialog(QDialog):
    """Ask what to export and where."""

    def __init__(self, name: str, folder: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export video masks")
        self.what_combo = QComboBox(self)
        for spec in FORMATS:
            if spec.write is not None:
                self.what_combo.addItem(f"Masks, one file per frame: {spec.title}  "
                                        f"[{spec.name}]", spec.name)
        self.what_combo.addItem("Overlay video (H.264 .mp4) with its metadata JSON", OVERLAY)
        self.what_combo.addItem("Celantur video metadata chunks (name-start-end.json)", CHUNKS)
        self.folder_edit = QLineEdit(folder, self)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        self.name_edit = QLineEdit(name, self)
        self.note = plain(QLabel(self))  # names files and classes the user chose
        self.note.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Export", self.what_combo)
        form.addRow("Folder", row)
        form.addRow("Name", self.name_edit)
        form.addRow("", self.note)
        form.addRow(self.buttons)
        self.what_combo.currentIndexChanged.connect(self._update)
        self.folder_edit.textChanged.connect(self._update)
        self.name_edit.textChanged.connect(self._update)
        self._update()
        self.resize(620, self.sizeHint().height())

    def choice(self) -> VideoExportChoice:
        return VideoExportChoice(self.what_combo.currentData(),
                                 Path(self.folder_edit.text().strip()),
                                 self.name_edit.text().strip())

    def select(self, what: str) -> None:
        self.what_combo.setCurrentIndex(max(self.what_combo.findData(what), 0))

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def _update(self) -> None:
        what = self.what_combo.currentData()
        name = self.name_edit.text().strip() or "video"
        if what == OVERLAY:
            text = f"Writes {name}.mp4 and {name}.segview.json (one record per frame)."
        elif what == CHUNKS:
            text = (f"Writes {name}-START-END.json, at most 500 frames each; segments become "
                    "detection boxes (Celantur metadata holds no pixels).")
        else:
            text = (f"Writes {name}_000000, {name}_000001, … one file per frame with a mask, "
                    f"and {name}.segview.json with one record per frame.")
        self.note.setText(text)
        ready = bool(self.folder_edit.text().strip() and self.name_edit.text().strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(ready)


class VideoExports(QObject):
    """Runs the exports the dialog asks for."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.last: VideoExportChoice | None = None
        self.handle = None

    def choose(self) -> bool:
        """Ask, then export in a worker; True when an export was started."""
        video = self.window.video
        if not video.active:
            return False
        video.commit()
        last = self.last
        dialog = VideoExportDialog(last.name if last else video.path.stem,
                                   str(last.folder) if last else self.window.last_dir(),
                                   self.window)
        if last is not None:
            dialog.select(last.what)
        if not dialogs.run_dialog(dialog):
            return False
        return self.export(dialog.choice()) is not None

    def export(self, choice: VideoExportChoice):
        """Start the export ``choice`` describes; the handle of the worker."""
        video, w = self.window.video, self.window
        video.commit()
        masks = _Recoloured(video.store, w.palette_panel.palette_to_apply)
        folder, name = choice.folder, choice.name
        if choice.what == OVERLAY:
            task = export_overlay_video(video.reader, masks, folder / f"{name}.mp4",
                                        alpha=w.canvas.alpha, settings=w.render_settings)
        elif choice.what == CHUNKS:
            task = export_celantur_chunks(masks, folder, name, video_size=video.reader.size)
        else:
            task = export_mask_sequence(masks, choice.what, folder, video=video.reader,
                                        stem=name)
        existing = _existing_outputs(folder, name)
        if existing and not _ask_replace(w, folder, existing):
            return None
        # In the worker's thread: never over the video, and the files found were agreed to.
        task = _guarded(task, [video.path], overwrite=bool(existing))
        self.last = choice
        store = video.store

        def done(result) -> None:
            if choice.what not in (OVERLAY, CHUNKS):
                store.mark_saved()  # the masks themselves are on disk now
                if video.autosaver is not None:
                    video.autosaver.discard()
                w.update_title()
            w.statusBar().showMessage(_describe(result, folder), 15000)

        self.handle = run_task(task, title="Exporting the video", on_done=done,
                               on_error=lambda exc: w.show_error("Export failed", exc),
                               parent=self)
        w.progress.track(self.handle)
        return self.handle


class _Recoloured:
    """A mask source whose masks take the palette chosen in the window."""

    def __init__(self, source: MaskSource, palette: Palette | None):
        self.source, self.palette = source, palette

    def frames(self) -> list[int]:
        return self.source.frames()

    def mask_for(self, index: int) -> Segmentation | None:
        seg = self.source.mask_for(index)
        if seg is not None and self.palette is not None and self.source.origin(index) != "edited":
            apply_palette(seg, self.palette)
        return seg

    def summary(self) -> list[str]:
        return self.source.summary()

    def close(self) -> None:
        """The store stays open: the window still shows it."""


def _existing_outputs(folder: Path, name: str) -> list[Path]:
    """Files in ``folder`` an export named ``name`` may replace (its names start so)."""
    try:
        return sorted(p for p in folder.iterdir() if p.name.startswith(name) and p.is_file())
    except OSError:
        return []


def _ask_replace(parent: QWidget, folder: Path, existing: list[Path]) -> bool:
    shown = ", ".join(p.name for p in existing[:5]) + (" ..." if len(existing) > 5 else "")
    button = QMessageBox.StandardButton
    answer = QMessageBox.question(
        parent, "Replace files?",
        f"{folder} already holds {count(len(existing), 'file')} with this name ({shown}). "
        "The export may replace them. Go on?", button.Yes | button.No, button.No)
    return answer == button.Yes


def _guarded(task, reads: list[Path], *, overwrite: bool):
    """``task`` run under an output guard (set in whichever thread runs the task)."""
    with guarded(reads, overwrite=overwrite):
        return (yield from task)


def _describe(result, folder: Path) -> str:
    if isinstance(result, list):
        return f"Wrote {count(len(result), 'Celantur chunk')} to {folder}"
    if hasattr(result, "mask_files"):
        lost = f"; lost: {'; '.join(result.lost)}" if result.lost else ""
        return f"Wrote {len(result.mask_files)} frame masks to {folder}{lost}"
    return f"Wrote {result.video} ({result.masked_frames} of {result.frames} frames with a mask)"
