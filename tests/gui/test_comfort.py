"""Palettes, themes and the shortcut card, driven through the real window."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from viewer.core.palettes import builtin_palette
from viewer.core.recolor import palette_colors
from viewer.core.settings import load_settings
from viewer.gui.theme import is_dark

pytestmark = pytest.mark.gui


def test_picking_a_palette_recolours_the_canvas_and_is_remembered(window, qtbot):
    combo = window.palette_panel.combo
    index = combo.findData("okabe_ito")
    combo.activated.emit(index)  # what a user's pick in the list sends
    seg = window.segmentation
    expected = palette_colors(seg, builtin_palette("okabe_ito"))
    assert {s.id: s.color for s in seg.table} == expected
    row, col = np.argwhere(seg.labels == 15)[0]
    fill = window.canvas._layers[0][1]  # premultiplied BGRA at full alpha
    assert tuple(int(v) for v in fill[row, col, 2::-1]) == expected[15]
    window.close()
    assert load_settings().palette == "okabe_ito"


def test_theme_switch_is_applied_and_saved(window, qtbot):
    app = QApplication.instance()
    try:
        window.theme_actions["dark"].trigger()
        assert is_dark(app) and window.theme_actions["dark"].isChecked()
        window.theme_actions["light"].trigger()
        assert not is_dark(app)
        window.close()
        assert load_settings().theme == "light"
    finally:
        window.set_theme("system")


def test_f1_shows_the_shortcut_card_and_esc_closes_it(window, qtbot):
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F1)
    overlay = window.shortcuts_overlay
    assert overlay.isVisible()
    assert overlay.geometry() == window.rect()
    groups = dict(overlay.rows())
    assert ("Next image", "D or PgDown") in groups["Folder"]
    assert any(text == "Show overlay" and keys == "O" for text, keys in groups["Overlay"])
    qtbot.keyClick(overlay, Qt.Key.Key_Escape)
    assert not overlay.isVisible()
