"""What the window remembers between runs: layout, overlay choices, last export."""

import pytest

from viewer import _paths
from viewer.core.settings import load_settings
from viewer.gui.export_dialog import ExportChoice
from viewer.gui.main_window import MainWindow
from viewer.gui.window_state import WindowState

pytestmark = pytest.mark.gui


def _window(qtbot):
    win = MainWindow(load_settings())
    qtbot.addWidget(win)
    return win


def test_layout_and_choices_survive_a_restart(qtbot, tmp_path):
    first = _window(qtbot)
    first.show()
    qtbot.waitExposed(first)
    first.legend.hide()
    for dock in (first.model_panel, first.review_panel, first.compare_panel):
        dock.hide()  # also lets the window fit the 800 px offscreen screen
    qtbot.wait(20)  # let the layout drop the hidden docks' minimum sizes
    first.resize(720, 530)  # small: the offscreen screen clamps; the minimum may win
    first.alpha_slider.setValue(35)
    first.mode_combo.setCurrentIndex(2)
    assert first.open_image(_paths.sample_image(), _paths.sample_mask())
    result = first.export_to(ExportChoice("index-png", tmp_path, "astro", True))
    assert result is not None
    size = (first.width(), first.height())
    first.close()

    second = _window(qtbot)
    assert second.state.restore_layout(second)
    second.show()
    qtbot.waitExposed(second)
    assert (second.width(), second.height()) == size
    assert second.legend.isHidden() and not second.segments.isHidden()
    assert second.compare_panel.isHidden() and second.model_panel.isHidden()
    assert second.alpha_slider.value() == 35
    assert second.mode_combo.currentIndex() == 2
    assert second.last_export.format_name == "index-png"
    assert second.last_export.folder == tmp_path and second.last_export.with_overlay


def test_nothing_saved_restores_nothing(qtbot, tmp_path):
    win = MainWindow(state=WindowState(tmp_path / "fresh.ini"))
    qtbot.addWidget(win)
    assert not win.state.restore_layout(win)
    assert win.last_export is None and win.state.recent() == []
