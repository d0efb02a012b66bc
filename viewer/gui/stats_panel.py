"""The "Statistics" dock: area per class and a confidence histogram (pyqtgraph).

The numbers come from :mod:`viewer.core.summary`; this module only draws them.
It follows the segment table's events and redraws once per burst of changes
(a 0 ms single-shot timer), so a "hide all" of 500 segments costs one redraw.
Colours come from the widget's palette, re-read when the palette changes, so
the plots follow light and dark themes without touching pyqtgraph's global
options.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QCursor, QPalette
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QScrollArea,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from viewer.core.segmentation import Segmentation
from viewer.core.summary import (
    ClassArea,
    ConfidenceHistogram,
    ConfidenceSource,
    class_areas,
    confidence_histogram,
)
from viewer.core.text import count
from viewer.gui.segment_table_model import schedule, stats_only
from viewer.gui.richtext import plain, tip

#: Table fields whose change alters a chart; others (bbox, attributes) do not.
_CHART_FIELDS = frozenset({"label", "class_id", "color", "visible", "score", "area", "void"})
_ROW_PX = 20  # height of one bar row: room for a tick label in the default font
_NAME_CHARS = 18  # longer class names are cut so the axis does not eat the bars
_HISTOGRAM_PX = 190


class StatsPanel(QDockWidget):
    """Dock with a bar chart of area per class and a confidence histogram.

    Parameters
    ----------
    parent : QWidget, optional
    max_bars : int
        Classes drawn as bars; the rest are summed up in a "+K more" line.
    bins : int
        Bins of the confidence histogram over [0, 1].

    Signals
    -------
    refreshed()
        Emitted after the charts were redrawn.
    """

    refreshed = Signal()

    def __init__(self, parent: QWidget | None = None, *, max_bars: int = 30, bins: int = 20):
        super().__init__("Statistics", parent)
        self.setObjectName("stats_panel")
        self._seg: Segmentation | None = None
        self._max_bars = max(int(max_bars), 1)
        self._bins = bins
        self._rows: tuple[ClassArea, ...] = ()
        self._histogram: ConfidenceHistogram | None = None
        self._histogram_of: object = None  # the confidence array the histogram was made from

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._redraw)

        self.summary_label = _wrapping_label()
        self.area_title = _wrapping_label("Area per class (% of image)")
        self.area_plot = plot_widget()
        self.area_plot.showAxis("right")
        self.area_plot.hideAxis("bottom")
        self.area_plot.getPlotItem().invertY(True)  # largest class on top
        # Names on the axis may be shortened: hovering a bar tells the whole story.
        self.area_plot.scene().sigMouseMoved.connect(self._on_area_plot_mouse_moved)
        self.more_label = _wrapping_label()
        self.confidence_title = _wrapping_label()
        self.histogram_plot = plot_widget()
        self.histogram_plot.setFixedHeight(_HISTOGRAM_PX)
        self.histogram_plot.setLabel("bottom", "confidence")
        self.histogram_plot.setXRange(0.0, 1.0, padding=0.04)  # room for the "1" tick
        self.no_confidence_label = _wrapping_label("No confidence is known for this mask.")
        self.area_bars = pg.BarGraphItem(x0=[], y=[], height=[], width=[])
        self.area_plot.addItem(self.area_bars)
        self.histogram_bars = pg.BarGraphItem(x=[], height=[], width=[])
        self.histogram_plot.addItem(self.histogram_bars)
        self.setWidget(self._layout())
        self._apply_palette()
        self._redraw()

    def _layout(self) -> QScrollArea:
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        for widget in (self.summary_label, self.area_title, self.area_plot, self.more_label,
                       self.confidence_title, self.histogram_plot, self.no_confidence_label):
            layout.addWidget(widget)
        layout.addStretch(1)
        # The bar chart grows with the number of classes so that every name stays
        # readable; a short dock scrolls instead of squeezing the rows.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        return scroll

    # -- public API ----------------------------------------------------------
    @property
    def segmentation(self) -> Segmentation | None:
        """The segmentation summarised, or None."""
        return self._seg

    @property
    def class_rows(self) -> tuple[ClassArea, ...]:
        """Every class of the segmentation, largest first (also those not drawn)."""
        return self._rows

    @property
    def shown_rows(self) -> tuple[ClassArea, ...]:
        """The classes drawn as bars, top to bottom."""
        return self._rows[:self._max_bars]

    @property
    def bar_labels(self) -> tuple[str, ...]:
        """Class names on the bar chart's axis, top to bottom (long ones shortened)."""
        return tuple(_short(r.name) for r in self.shown_rows)

    @property
    def more_count(self) -> int:
        """Classes left out of the bar chart."""
        return max(len(self._rows) - self._max_bars, 0)

    @property
    def histogram(self) -> ConfidenceHistogram | None:
        """The confidence histogram shown, or None."""
        return self._histogram

    @property
    def histogram_counts(self) -> np.ndarray | None:
        """Values per histogram bin (read-only), or None without a confidence."""
        return None if self._histogram is None else self._histogram.counts

    @property
    def has_confidence(self) -> bool:
        """True when a per-pixel confidence or segment scores are shown."""
        return self._histogram is not None

    @property
    def plot_colors(self) -> tuple[QColor, QColor]:
        """Background and axis colours the plots use now (for tests and themes)."""
        axis = self.area_plot.getPlotItem().getAxis("left")
        return QColor(self.area_plot.backgroundBrush().color()), QColor(axis.textPen().color())

    def bar_tooltip(self, index: int) -> str:
        """Return the text shown when hovering bar ``index`` (0 is the top bar)."""
        row = self.shown_rows[index]
        segments = count(row.segments, "segment")
        text = f"{row.name}\n{row.area:,} px ({100 * row.share:.2f} % of image), {segments}"
        if row.visible_area != row.area:
            text += f"\n{row.visible_area:,} px visible" if row.visible_area else "\nhidden"
        return text

    def set_segmentation(self, seg: Segmentation | None) -> None:
        """Summarise ``seg`` (None empties the panel) and follow its table."""
        self._bind(seg)
        self.refresh()

    def refresh(self) -> None:
        """Recompute everything now, the confidence map included.

        Call this after changing ``confidence`` in place; table edits are
        followed automatically.
        """
        self._timer.stop()
        self._histogram_of = None
        self._redraw()

    # -- following the table -------------------------------------------------
    def _bind(self, seg: Segmentation | None) -> None:
        """Follow the table of ``seg`` instead of the current one."""
        if self._seg is not None:
            self._connect_table(self._seg, connect=False)
        self._seg = seg
        if seg is not None:
            self._connect_table(seg, connect=True)

    def _connect_table(self, seg: Segmentation, *, connect: bool) -> None:
        table = seg.table
        for signal, slot in ((table.changed, self._on_table_changed),
                             (table.inserted, self._on_table_rows),
                             (table.removed, self._on_table_rows),
                             (table.reset, self._on_table_reset)):
            if connect:
                signal.connect(slot)
            else:
                signal.disconnect(slot)

    def _on_table_changed(self, ids: tuple[int, ...], fields: frozenset[str]) -> None:
        if fields & _CHART_FIELDS:
            # Areas change with every brush dab: redraw once painting pauses.
            self._schedule(stats_only(fields))

    def _on_table_rows(self, ids: tuple[int, ...]) -> None:
        self._schedule()

    def _on_table_reset(self) -> None:
        self._schedule()

    def _schedule(self, later: bool = False) -> None:
        if not shiboken6.isValid(self):
            # The widget was deleted while the table lives on: stop listening.
            self._bind(None)
            return
        schedule(self._timer, later)

    def _on_area_plot_mouse_moved(self, scene_pos) -> None:
        point = self.area_plot.getPlotItem().vb.mapSceneToView(scene_pos)
        index = round(point.y())
        if 0 <= index < len(self.shown_rows) and abs(point.y() - index) < 0.4:
            QToolTip.showText(QCursor.pos(), tip(self.bar_tooltip(index)), self.area_plot)
        else:
            QToolTip.hideText()

    # -- drawing -------------------------------------------------------------
    def _redraw(self) -> None:
        seg = self._seg
        self._rows = tuple(class_areas(seg)) if seg is not None else ()
        self._histogram = self._current_histogram()
        self._show_summary()
        self._draw_areas()
        self._draw_histogram()
        self.refreshed.emit()

    def _current_histogram(self) -> ConfidenceHistogram | None:
        seg = self._seg
        if seg is None:
            return None
        # The per-pixel histogram reads every pixel (~20 ms at 4K); table edits
        # cannot change it, so keep it while the confidence array is the same.
        if seg.confidence is not None and seg.confidence is self._histogram_of:
            return self._histogram
        self._histogram_of = seg.confidence
        return confidence_histogram(seg, self._bins)

    def _show_summary(self) -> None:
        seg = self._seg
        has_seg = seg is not None
        for widget in (self.area_title, self.area_plot, self.confidence_title):
            widget.setVisible(has_seg)
        if seg is None:
            self.summary_label.setText("No mask loaded.")
        else:
            classes = count(len(self._rows), "class", "classes")
            segments = count(sum(r.segments for r in self._rows), "segment")
            size = f"{seg.width}\u00a0×\u00a0{seg.height}\u00a0px"  # kept on one line
            self.summary_label.setText(f"{classes}, {segments} · {size}")
        notes = []
        more = self._rows[self._max_bars:]
        if more:
            share = sum(r.share for r in more)
            notes.append(f"+{len(more)} more ({100 * share:.1f} % of image)")
        if any(r.hidden for r in self.shown_rows):
            notes.append("Hatched: hidden classes.")
        self.more_label.setVisible(bool(notes))
        self.more_label.setText("  ".join(notes))

    def _draw_areas(self) -> None:
        rows = self.shown_rows
        percents = [100.0 * r.share for r in rows]
        self.area_bars.setOpts(x0=np.zeros(len(rows)), y=np.arange(len(rows)), height=0.72,
                               width=np.asarray(percents, float),
                               brushes=self._bar_brushes(rows), pen=self._outline_pen())
        names = list(enumerate(self.bar_labels))
        values = [(i, f"{p:.1f} %") for i, p in enumerate(percents)]
        plot = self.area_plot.getPlotItem()
        plot.getAxis("left").setTicks([names, []])
        plot.getAxis("right").setTicks([values, []])
        plot.setYRange(-0.5, max(len(rows), 1) - 0.5, padding=0)
        plot.setXRange(0.0, max(percents, default=1.0), padding=0.02)
        self.area_plot.setFixedHeight(max(len(rows), 2) * _ROW_PX + 12)

    @staticmethod
    def _bar_brushes(rows: tuple[ClassArea, ...]) -> list[QBrush]:
        # Hidden classes keep their colour but are hatched, not solid grey: a
        # grey bar would read as a class whose colour is grey.
        hatch, solid = Qt.BrushStyle.BDiagPattern, Qt.BrushStyle.SolidPattern
        return [QBrush(QColor(*r.color), hatch if r.hidden else solid) for r in rows]

    def _outline_pen(self) -> QColor:
        # A faint outline in the text colour keeps black or white classes
        # visible on a background of the same colour.
        pen = QColor(self.palette().color(QPalette.ColorRole.WindowText))
        pen.setAlpha(110)
        return pen

    def _draw_histogram(self) -> None:
        hist = self._histogram
        has_seg = self._seg is not None
        self.histogram_plot.setVisible(hist is not None)
        self.no_confidence_label.setVisible(has_seg and hist is None)
        if hist is None:
            self.confidence_title.setText("Confidence")
            self.histogram_bars.setOpts(x=[], height=[], width=[])
            return
        centers = (hist.edges[:-1] + hist.edges[1:]) / 2
        if hist.source is ConfidenceSource.PIXELS:
            heights = 100.0 * hist.counts / max(hist.total, 1)
            unit = "% of pixels"
        else:
            heights = hist.counts.astype(float)
            unit = "segments"
        self.histogram_bars.setOpts(x=centers, height=heights, width=np.diff(hist.edges),
                                    brush=self.palette().color(QPalette.ColorRole.Highlight),
                                    pen=self._outline_pen())
        self.histogram_plot.setLabel("left", unit)
        self.histogram_plot.setYRange(0.0, max(float(heights.max(initial=0.0)), 1e-9))
        self.confidence_title.setText(_histogram_title(hist))

    # -- palette -------------------------------------------------------------
    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt API)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
            self._draw_areas()
            self._draw_histogram()

    def _apply_palette(self) -> None:
        follow_palette((self.area_plot, self.histogram_plot), self.palette())


def follow_palette(widgets, palette: QPalette) -> None:
    """Give plots the widget palette's background and text colours (light or dark theme)."""
    background = palette.color(QPalette.ColorRole.Window)
    text = palette.color(QPalette.ColorRole.WindowText)
    for widget in widgets:
        widget.setBackground(background)
        plot = widget.getPlotItem()
        for name in ("left", "bottom", "right"):
            axis = plot.getAxis(name)
            axis.setPen(text)
            axis.setTextPen(text)
        plot.titleLabel.setText(plot.titleLabel.text, color=text)


def plot_widget() -> pg.PlotWidget:
    """A plot that is only looked at: no pan, zoom, context menu or auto-range button.

    With the mouse off, the view box ignores the wheel, so it scrolls the panel.
    """
    widget = pg.PlotWidget()
    plot = widget.getPlotItem()
    plot.setMouseEnabled(x=False, y=False)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    widget.setMinimumWidth(160)
    return widget


def _wrapping_label(text: str = "") -> QLabel:
    label = plain(QLabel(text))  # class names are the user's text
    label.setWordWrap(True)
    return label


def _short(name: str) -> str:
    return name if len(name) <= _NAME_CHARS else name[:_NAME_CHARS - 1] + "…"


def _histogram_title(hist: ConfidenceHistogram) -> str:
    what = "per pixel" if hist.source is ConfidenceSource.PIXELS else "per segment (scores)"
    parts = [f"Confidence {what}"]
    if hist.mean is not None:
        parts.append(f"mean {hist.mean:.2f}")
    if hist.ignored:
        noun = "pixels" if hist.source is ConfidenceSource.PIXELS else "scores"
        parts.append(f"{hist.ignored:,} {noun} ignored (NaN or inf)")
    return " · ".join(parts)
