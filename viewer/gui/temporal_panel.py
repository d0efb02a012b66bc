"""The "Over time" dock: each class's area and the frame-to-frame IoU of a video's masks.

The numbers come from :func:`viewer.core.video.temporal.temporal_stats`, run in
a worker over the video's frame store (edits and model results included).
Clicking a plot seeks to that frame; "Next suspicious" walks the frames
where the IoU drops below the threshold or a class flickers.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QDockWidget,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from viewer.core.text import count
from viewer.core.video.temporal import Suspicion, TemporalStats, temporal_stats
from viewer.gui.richtext import plain
from viewer.gui.stats_panel import follow_palette, plot_widget
from viewer.gui.workers import run_task

if TYPE_CHECKING:
    from viewer.gui.main_window import MainWindow

_MARK_INTERVAL_S = 0.2
#: Classes drawn at most (the largest by mean area); more would be unreadable.
MAX_CURVES = 12


class TemporalPanel(QDockWidget):
    """Area per class and IoU over the frames, with the shown frame marked."""

    def __init__(self, window: MainWindow):
        super().__init__("Over time", window)
        self.setObjectName("temporal_panel")
        self.window = window
        self.stats: TemporalStats | None = None
        self.handle = None
        self._stale = False
        body = QWidget(self)
        column = QVBoxLayout(body)
        self.area_plot = _plot("Area (% of frame)")
        self.iou_plot = _plot("IoU with previous frame")
        self.iou_plot.setXLink(self.area_plot)
        self.iou_plot.setYRange(0, 1.05)
        self.lines = []
        for widget in (self.area_plot, self.iou_plot):
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#e0a000", width=2))
            widget.addItem(line, ignoreBounds=True)
            self.lines.append(line)
            widget.scene().sigMouseClicked.connect(
                lambda event, w=widget: self._on_click(w, event))
        self.threshold_line = pg.InfiniteLine(0.5, angle=0, movable=False,
                                              pen=pg.mkPen("#c03030", style=Qt.PenStyle.DashLine))
        self.iou_plot.addItem(self.threshold_line, ignoreBounds=True)
        self.marks = pg.ScatterPlotItem(size=9, brush=pg.mkBrush("#c03030"), pen=None)
        self.iou_plot.addItem(self.marks)
        self.area_plot.addLegend(offset=(-5, 5), labelTextSize="8pt")
        # Side by side: the dock is wide and short under the picture, and each plot
        # then gets its whole height.
        plots = QHBoxLayout()
        plots.addWidget(self.area_plot, 3)
        plots.addWidget(self.iou_plot, 2)
        column.addLayout(plots, 1)
        column.addLayout(self._controls(body))
        self.status = plain(QLabel("Open a video with masks, then Compute.", body))
        self.status.setWordWrap(True)
        column.addWidget(self.status)
        self.setWidget(body)
        self._auto = QTimer(self)
        self._auto.setSingleShot(True)
        self._auto.setInterval(300)
        self._auto.timeout.connect(self.compute)
        self._marked, self._moved_at = 0, 0.0
        self._mark_timer = QTimer(self)
        self._mark_timer.setSingleShot(True)
        self._mark_timer.timeout.connect(self._move_lines)
        follow_palette((self.area_plot, self.iou_plot), self.palette())

    def _controls(self, body: QWidget) -> QHBoxLayout:
        """Compute, the IoU threshold and Next suspicious, in a row."""
        row = QHBoxLayout()
        self.compute_button = QPushButton("Compute", body)
        self.compute_button.setToolTip("Read every frame's mask and measure it")
        self.compute_button.clicked.connect(self.compute)
        self.threshold = QDoubleSpinBox(body)
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(0.5)
        self.threshold.setPrefix("IoU below ")
        self.threshold.valueChanged.connect(self._on_threshold)
        self.next_button = QPushButton("Next suspicious", body)
        self.next_button.setToolTip("Where the IoU drops below the threshold or a class "
                                    "appears or vanishes for one frame (N)")
        self.next_button.clicked.connect(self.next_suspicious)
        row.addWidget(self.compute_button)
        row.addWidget(self.threshold)
        row.addWidget(self.next_button)
        return row

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt API)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            follow_palette((self.area_plot, self.iou_plot), self.palette())
            self._draw()

    # -- video events ----------------------------------------------------------
    def video_opened(self) -> None:
        """A video was opened or closed: clear, and measure it when it has masks."""
        self._cancel()
        self.stats = None
        self._draw()
        video = self.window.video
        if video.active and video.store.frames():
            self._auto.start()
        else:
            self.status.setText("Open a video with masks (or segment it), then Compute.")

    def masks_changed(self) -> None:
        """Frames got new masks: measure again soon."""
        self._stale = True
        self._auto.start()

    def frames_edited(self) -> None:
        """A frame was edited: say the plots are out of date (measuring again reads
        every frame, too slow to do after each edit of a long video)."""
        if self.stats is not None and not self._stale:
            self._stale = True
            self.status.setText(self.status.text().split("\n")[0]
                                + "\nFrames were edited since: Compute to measure again.")

    def frame_shown(self, index: int) -> None:
        """Mark the frame on screen; during playback at most every 200 ms (each move
        repaints both plots, which would cost more than the frame itself)."""
        self._marked = index
        now = time.perf_counter()
        if now - self._moved_at >= _MARK_INTERVAL_S:
            self._move_lines()
        elif not self._mark_timer.isActive():
            self._mark_timer.start(int(_MARK_INTERVAL_S * 1000))

    def _move_lines(self) -> None:
        self._moved_at = time.perf_counter()
        for line in self.lines:
            line.setValue(self._marked)

    # -- computing -------------------------------------------------------------
    def compute(self):
        """Measure every frame's mask in a worker; the plots update when done."""
        video = self.window.video
        if not video.active:
            return None
        self._cancel()
        video.commit()
        self.status.setText("Measuring the frames…")
        store = video.store

        def done(stats: TemporalStats) -> None:
            self.handle = None
            self._stale = False
            self.stats = stats
            self._draw()

        def failed(exc) -> None:
            self.handle = None
            self.status.setText(f"Could not measure: {exc}")

        self.handle = run_task(temporal_stats(store, store.frame_count),
                               title="Measuring masks over time", on_done=done,
                               on_error=failed, parent=self)
        self.window.progress.track(self.handle)
        return self.handle

    def _cancel(self) -> None:
        self._auto.stop()
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None

    def suspicions(self) -> list[Suspicion]:
        if self.stats is None:
            return []
        return self.stats.suspicious(iou_below=self.threshold.value())

    def next_suspicious(self) -> Suspicion | None:
        """Seek to the next suspicious frame after the shown one (wrapping)."""
        video = self.window.video
        if self.stats is None or video.player is None:
            self.status.setText("Compute first.")
            return None
        found = self.stats.next_suspicious(video.player.index,
                                           iou_below=self.threshold.value())
        if found is None:
            self.status.setText("No suspicious frame at this threshold.")
            return None
        reasons = [s.reason for s in self.suspicions() if s.frame == found.frame]
        self.status.setText(f"Frame {found.frame}: {'; '.join(reasons or [found.reason])}")
        video.seek(found.frame)
        return found

    # -- drawing ---------------------------------------------------------------
    def _draw(self) -> None:
        for plot in (self.area_plot, self.iou_plot):
            for item in list(plot.getPlotItem().listDataItems()):
                if item is not self.marks:
                    plot.removeItem(item)
        legend = self.area_plot.getPlotItem().legend
        if legend is not None:
            legend.clear()
            legend.setLabelTextColor(self.palette().color(QPalette.ColorRole.WindowText))
        self.marks.setData([], [])
        stats = self.stats
        if stats is None or not len(stats.frames):
            return
        x = stats.frames.astype(float)
        order = np.argsort(-np.nanmean(stats.areas, axis=0)) if stats.areas.size else []
        for column in list(order)[:MAX_CURVES]:
            tracked = stats.classes[column]
            self.area_plot.plot(x, stats.areas[:, column] * 100, name=tracked.name,
                                pen=pg.mkPen(tuple(tracked.color), width=2))
        self.iou_plot.plot(x, stats.iou, pen=pg.mkPen("#3070d0", width=2), connect="finite")
        self._mark()

    def _mark(self) -> None:
        found = self.suspicions()
        stats = self.stats
        if stats is None:
            return
        where = {int(f): i for i, f in enumerate(stats.frames)}
        xs = [s.frame for s in found]
        ys = [stats.iou[where[s.frame]] if s.frame in where and np.isfinite(
            stats.iou[where[s.frame]]) else 0.0 for s in found]
        self.marks.setData(xs, ys)
        shown = len(stats.classes)
        more = f" (the {MAX_CURVES} largest drawn)" if shown > MAX_CURVES else ""
        # Reading every frame is also when a mask video learns how far its colours
        # were from the legend: say so here.
        video = self.window.video
        notes = [line for line in video.store.summary() if "colour" in line] if video.active else []
        self.status.setText(f"{count(len(stats.frames), 'frame')} with masks, "
                            f"{count(shown, 'class', 'classes')}{more}; "
                            f"{count(len(found), 'suspicious frame')}. "
                            "Click a plot to go to a frame."
                            + "".join(f"\n{note}" for note in notes))

    def _on_threshold(self, value: float) -> None:
        self.threshold_line.setValue(value)
        self._mark()

    def _on_click(self, widget: pg.PlotWidget, event) -> None:
        video = self.window.video
        if video.player is None:
            return
        point = widget.getPlotItem().vb.mapSceneToView(event.scenePos())
        video.seek(round(point.x()))


def _plot(title: str) -> pg.PlotWidget:
    widget = plot_widget()
    plot = widget.getPlotItem()
    plot.setTitle(title, size="9pt")
    plot.showGrid(x=True, y=True, alpha=0.2)
    # Small enough that the dock fits a laptop screen under the picture; it grows with the dock.
    widget.setMinimumHeight(90)
    return widget
