"""Overlay controls in the real window: hide a class, show only the selection, zoom to it."""

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from viewer.core.render.lut import Selection
from viewer.core.segment_table import Segment, SegmentTable
from viewer.core.segmentation import Kind, Segmentation

pytestmark = pytest.mark.gui


def _painted_alpha(window, seg_id):
    """Alpha of the fill layer at one pixel of ``seg_id``."""
    row, col = np.argwhere(window.segmentation.labels == seg_id)[0]
    fill = window.canvas._layers[0][1]
    return int(fill[row, col, 3])


def test_hide_and_show_a_class_from_the_segments_panel(window):
    assert _painted_alpha(window, 15) == 255
    window.set_class_visible(15, False)
    assert not window.segmentation.table[15].visible
    assert _painted_alpha(window, 15) == 0
    window.set_class_visible(15, True)
    assert _painted_alpha(window, 15) == 255


def test_show_only_one_class_hides_the_others():
    table = SegmentTable([Segment(0, label="background", visible=False),
                          Segment(1, label="car", instance=1),
                          Segment(2, label="car", instance=2),
                          Segment(3, label="person", instance=1)])
    assert table.class_mates(1) == (1, 2)
    assert table.class_mates(3) == (3,)
    table.add(Segment(4, class_id=7))
    table.add(Segment(5, class_id=7))
    assert table.class_mates(5) == (4, 5)


def test_show_only_class_through_the_panel(qtbot):
    from viewer.gui.segments_panel import SegmentsPanel

    labels = np.array([[1, 2, 3]], np.uint8)
    table = SegmentTable([Segment(1, label="car"), Segment(2, label="car"),
                          Segment(3, label="tree")])
    seg = Segmentation(labels, table, kind=Kind.INSTANCE)
    panel = SegmentsPanel()
    qtbot.addWidget(panel)
    panel.set_segmentation(seg)
    events = []
    table.changed.connect(lambda ids, fields: events.append(ids))
    panel.show_only_class(2)
    assert [s.visible for s in table] == [True, True, False]
    assert len(events) == 1  # one change, so one re-render (and later one undo step)


def test_isolate_shows_only_the_selected_segment(window, qtbot):
    window.select_segments([15])
    assert window.render_settings.selection is Selection.HIGHLIGHT
    other = next(s.id for s in window.segmentation.table if s.visible and s.id != 15)
    assert 0 < _painted_alpha(window, other) < 255  # dimmed
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_S)
    assert window.isolate_action.isChecked()
    assert window.render_settings.selection is Selection.ISOLATE
    assert _painted_alpha(window, other) == 0 and _painted_alpha(window, 15) == 255
    window.select_segments([])
    assert window.render_settings.selection is Selection.NONE
    assert _painted_alpha(window, other) == 255


def test_zoom_to_selection_frames_the_segment(window, qtbot, tmp_path):
    window.zoom_to_selection()  # nothing selected: a hint, no change
    assert "Select a segment" in window.statusBar().currentMessage()
    mask = np.zeros((512, 512), np.uint8)
    mask[300:340, 100:160] = 9
    Image.fromarray(mask).save(tmp_path / "small.png")
    assert window.open_mask(tmp_path / "small.png")
    small = window.segmentation.table[9]
    window.segments.select_ids([small.id])
    window.select_segments([small.id])
    assert window.zoom_selection_action.isEnabled()
    before = window.canvas.scale()
    window.zoom_selection_action.trigger()
    assert window.canvas.scale() > before
    r0, c0, r1, c1 = small.bbox
    rect = window.canvas.image_rect()
    scale = window.canvas.scale()
    # The box's corners are inside the widget.
    for row, col in ((r0, c0), (r1, c1)):
        x, y = rect.x() + col * scale, rect.y() + row * scale
        assert -1 <= x <= window.canvas.width() + 1 and -1 <= y <= window.canvas.height() + 1


def test_mode_key_cycles_modes(window, qtbot):
    start = window.mode_combo.currentIndex()
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert window.mode_combo.currentIndex() == (start + 1) % window.mode_combo.count()
