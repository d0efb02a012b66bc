"""The Statistics dock: what it shows and how it follows the segment table."""

import numpy as np
import pytest
import shiboken6
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from viewer import _paths
from viewer.core.formats.registry import read_mask
from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import Segmentation
from viewer.core.summary import ConfidenceSource
from viewer.gui.stats_panel import StatsPanel

pytestmark = pytest.mark.gui


@pytest.fixture
def panel(qtbot):
    panel = StatsPanel()
    qtbot.addWidget(panel)
    panel.resize(400, 700)
    panel.show()
    return panel


def _shown(widget) -> bool:
    return not widget.isHidden()


def _tick_names(panel, side="left"):
    """The tick texts as drawn: pyqtgraph keeps explicit ticks only in a private field."""
    axis = panel.area_plot.getPlotItem().getAxis(side)
    texts = [text for _, text in axis._tickLevels[0]]
    if side == "left":
        assert tuple(texts) == panel.bar_labels
    return texts


def _scored():
    """2 x 4 map: id 1 "car" (4 px, score 0.9), id 2 "dog" (2 px, score 0.2), 2 px background."""
    labels = np.array([[1, 1, 1, 1], [2, 2, 0, 0]], np.uint8)
    table = SegmentTable([Segment(0, "background", visible=False),
                          Segment(1, "car", class_id=1, color=(255, 0, 0), score=0.9),
                          Segment(2, "dog", class_id=2, color=(0, 0, 255), score=0.2)])
    return Segmentation(labels, table)


def test_empty_state(panel):
    assert panel.objectName() == "stats_panel" and panel.windowTitle() == "Statistics"
    assert panel.segmentation is None and panel.class_rows == ()
    assert not panel.has_confidence and panel.histogram_counts is None
    assert panel.summary_label.text() == "No mask loaded."
    assert not _shown(panel.area_plot) and not _shown(panel.histogram_plot)
    assert not _shown(panel.no_confidence_label)


def test_bundled_sample(panel):
    seg = read_mask(_paths.sample_mask())
    panel.set_segmentation(seg)
    assert [r.name for r in panel.class_rows] == ["person", "background"]  # void left out
    assert [r.hidden for r in panel.class_rows] == [False, True]
    assert _tick_names(panel) == ["person", "background"]
    total = seg.labels.size
    np.testing.assert_allclose(panel.area_bars.opts["width"],
                               [100 * 139322 / total, 100 * 115676 / total])
    assert _tick_names(panel, "right") == ["53.1 %", "44.1 %"]
    assert not panel.has_confidence
    assert _shown(panel.no_confidence_label) and not _shown(panel.histogram_plot)
    assert "512" in panel.summary_label.text()
    panel.set_segmentation(None)
    assert panel.class_rows == () and panel.summary_label.text() == "No mask loaded."


def test_table_changes_update_the_chart(panel, qtbot):
    seg = _scored()
    panel.set_segmentation(seg)
    assert [r.name for r in panel.class_rows] == ["car", "background", "dog"]
    with qtbot.waitSignal(panel.refreshed):
        seg.table.update(1, visible=False, label="truck")
    assert panel.class_rows[0].hidden and _tick_names(panel)[0] == "truck"
    assert "Hatched" in panel.more_label.text()
    with qtbot.waitSignal(panel.refreshed):
        seg.table.update(2, color=(1, 2, 3))
    assert panel.class_rows[2].color == (1, 2, 3)
    with qtbot.waitSignal(panel.refreshed):
        seg.table.remove([2])
    assert [r.name for r in panel.class_rows] == ["truck", "background"]
    with qtbot.waitSignal(panel.refreshed):
        seg.table.add(Segment(9, "ghost", area=3))
    assert "ghost" in [r.name for r in panel.class_rows]
    with qtbot.waitSignal(panel.refreshed):
        seg.table.replace_all([Segment(1, "only", area=8)])
    assert [r.name for r in panel.class_rows] == ["only"]


def test_hovering_a_bar_explains_it(panel):
    seg = _scored()
    seg.table.update(1, label="a long name that the axis cannot show")
    panel.set_segmentation(seg)
    assert panel.bar_labels[0] == "a long name that …"
    assert panel.bar_tooltip(0) == (
        "a long name that the axis cannot show\n4 px (50.00 % of image), 1 segment")
    assert panel.bar_tooltip(1).endswith("\nhidden")  # the background


def test_many_changes_cause_one_redraw(panel, qtbot):
    seg = _scored()
    panel.set_segmentation(seg)
    redraws = []
    panel.refreshed.connect(lambda: redraws.append(1))
    with qtbot.waitSignal(panel.refreshed):
        for i in range(50):
            seg.table.update(1 + i % 2, visible=bool(i % 3))
    QApplication.processEvents()
    assert len(redraws) == 1


def test_changes_that_do_not_touch_the_charts_are_ignored(panel, qtbot):
    seg = _scored()
    panel.set_segmentation(seg)
    with qtbot.assertNotEmitted(panel.refreshed, wait=20):
        seg.table.update(1, attributes={"note": "x"}, bbox=(0, 0, 1, 1))


def test_another_segmentation_disconnects_the_old_table(panel, qtbot):
    old = _scored()
    panel.set_segmentation(old)
    panel.set_segmentation(_scored())
    with qtbot.assertNotEmitted(panel.refreshed, wait=20):
        old.table.update(1, label="elsewhere")
    assert "elsewhere" not in [r.name for r in panel.class_rows]


def test_segment_scores_histogram(panel, qtbot):
    seg = _scored()
    panel.set_segmentation(seg)
    assert panel.has_confidence and panel.histogram.source is ConfidenceSource.SEGMENTS
    counts = panel.histogram_counts
    assert counts.sum() == 2 and counts[4] == 1 and counts[18] == 1  # 20 bins: 0.2, 0.9
    assert _shown(panel.histogram_plot) and not _shown(panel.no_confidence_label)
    assert "per segment" in panel.confidence_title.text()
    with qtbot.waitSignal(panel.refreshed):
        seg.table.update(2, score=0.95)
    assert panel.histogram_counts[19] == 1 and panel.histogram_counts[4] == 0
    with qtbot.waitSignal(panel.refreshed):
        seg.table.update_many({1: {"score": None}, 2: {"score": None}})
    assert not panel.has_confidence and _shown(panel.no_confidence_label)


def test_pixel_confidence_histogram(qtbot):
    panel = StatsPanel(bins=4)
    qtbot.addWidget(panel)
    conf = np.array([[0.1, 0.3, np.nan, 0.9], [0.95, 1.0, 0.6, np.nan]], np.float32)
    seg = Segmentation.from_values(np.array([[1, 1, 2, 2], [0, 0, 1, 2]]), confidence=conf,
                                   names={1: "a", 2: "b"})
    panel.set_segmentation(seg)
    assert panel.histogram.source is ConfidenceSource.PIXELS
    np.testing.assert_array_equal(panel.histogram_counts, [1, 1, 1, 3])
    np.testing.assert_allclose(panel.histogram_bars.opts["height"], [100 / 6, 100 / 6,
                                                                     100 / 6, 50])
    assert "2 pixels ignored" in panel.confidence_title.text()
    # The map is read again only on request (table edits cannot change it).
    conf_before = panel.histogram
    seg.table.update(1, label="renamed")
    qtbot.waitUntil(lambda: "renamed" in [r.name for r in panel.class_rows])
    assert panel.histogram is conf_before
    seg.confidence[:] = 0.0
    panel.refresh()
    np.testing.assert_array_equal(panel.histogram_counts, [8, 0, 0, 0])


def test_many_classes_are_cut_to_the_top_bars(qtbot):
    panel = StatsPanel(max_bars=30)
    qtbot.addWidget(panel)
    values = np.repeat(np.arange(40), np.arange(40) + 1)[None, :]  # class k has k + 1 px
    panel.set_segmentation(Segmentation.from_values(values, hidden_values=()))
    assert len(panel.class_rows) == 40 and len(panel.shown_rows) == 30
    assert panel.more_count == 10
    assert panel.shown_rows[0].area == 40 and panel.shown_rows[-1].area == 11
    assert len(_tick_names(panel)) == 30
    assert panel.more_label.text().startswith("+10 more")
    assert all(len(name) <= 18 for name in _tick_names(panel))


def test_long_names_are_shortened_on_the_axis(panel):
    seg = Segmentation(np.ones((2, 2), np.uint8),
                       SegmentTable([Segment(1, "chest of drawers, chest, bureau, dresser")]))
    panel.set_segmentation(seg)
    assert _tick_names(panel) == ["chest of drawers,…"]
    assert panel.class_rows[0].name == "chest of drawers, chest, bureau, dresser"


def test_plots_follow_the_palette(panel):
    panel.set_segmentation(_scored())
    window, text = panel.palette().color(QPalette.ColorRole.Window), panel.palette().color(
        QPalette.ColorRole.WindowText)
    assert panel.plot_colors == (window, text)
    dark = QPalette(panel.palette())
    dark.setColor(QPalette.ColorRole.Window, QColor("#202124"))
    dark.setColor(QPalette.ColorRole.WindowText, QColor("#e8eaed"))
    panel.setPalette(dark)
    assert panel.plot_colors == (QColor("#202124"), QColor("#e8eaed"))
    axis = panel.histogram_plot.getPlotItem().getAxis("bottom")
    assert axis.textPen().color() == QColor("#e8eaed")


def test_plots_follow_the_application_palette(panel, qtbot):
    app = QApplication.instance()
    old = QPalette(app.palette())
    dark = QPalette(old)
    dark.setColor(QPalette.ColorRole.Window, QColor("#123456"))
    try:
        app.setPalette(dark)  # what a theme switch does; widgets hear of it later
        qtbot.waitUntil(lambda: panel.plot_colors[0] == QColor("#123456"))
    finally:
        app.setPalette(old)
    qtbot.waitUntil(lambda: panel.plot_colors[0] == old.color(QPalette.ColorRole.Window))


def test_a_deleted_panel_stops_listening(qtbot):
    seg = _scored()
    panel = StatsPanel()
    panel.set_segmentation(seg)
    shiboken6.delete(panel)
    seg.table.update(1, label="after")  # must not touch the deleted widget
    seg.table.update(1, label="again")
    assert panel.segmentation is None
