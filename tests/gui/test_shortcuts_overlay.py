import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from viewer.gui.shortcuts_overlay import ShortcutsOverlay, shortcut_rows


@pytest.fixture
def parent(qtbot):
    widget = QWidget()
    widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    qtbot.addWidget(widget)
    widget.resize(500, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _actions(parent):
    open_action = QAction("&Open image…", parent)
    open_action.setShortcut(QKeySequence("Ctrl+O"))
    zoom_in = QAction("Zoom &in", parent)
    zoom_in.setShortcuts([QKeySequence("+"), QKeySequence("=")])
    no_key = QAction("About", parent)
    save = QAction("Save && close", parent)
    save.setShortcut(QKeySequence("Ctrl+S"))
    return [("File", [open_action, no_key, save]), ("View", [zoom_in]), ("Help", [no_key])]


def test_rows_skip_actions_without_shortcut_and_strip_mnemonics(parent):
    rows = shortcut_rows(_actions(parent))
    native = QKeySequence.SequenceFormat.NativeText
    assert rows == [
        ("File", [("Open image", QKeySequence("Ctrl+O").toString(native)),
                  ("Save & close", QKeySequence("Ctrl+S").toString(native))]),
        ("View", [("Zoom in", "+ or =")]),
    ]  # "Help" has no shortcut left, so no group either


def test_overlay_covers_parent_after_resize(parent, qtbot):
    overlay = ShortcutsOverlay(parent, _actions(parent))
    overlay.show_overlay()
    assert overlay.isVisible()
    assert overlay.geometry() == parent.rect()
    parent.resize(720, 530)
    qtbot.waitUntil(lambda: overlay.geometry() == parent.rect())
    assert overlay.size().width() == 720


def test_escape_hides(parent, qtbot):
    overlay = ShortcutsOverlay(parent, _actions(parent))
    overlay.show_overlay()
    qtbot.keyClick(overlay, Qt.Key.Key_Escape)
    assert not overlay.isVisible()


def test_click_hides(parent, qtbot):
    overlay = ShortcutsOverlay(parent, _actions(parent))
    overlay.show_overlay()
    qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton)
    assert not overlay.isVisible()


def test_toggle_shows_and_hides(parent):
    overlay = ShortcutsOverlay(parent)
    overlay.set_groups(_actions(parent))
    assert not overlay.isVisible()
    overlay.toggle()
    assert overlay.isVisible()
    overlay.toggle()
    assert not overlay.isVisible()


def test_window_shortcuts_do_not_fire_behind_it(parent, qtbot):
    fired = []
    action = QAction("Show overlay", parent)
    action.setShortcut(QKeySequence("O"))
    action.triggered.connect(lambda: fired.append(True))
    parent.addAction(action)
    overlay = ShortcutsOverlay(parent, [("View", [action])])
    overlay.show_overlay()
    qtbot.keyClick(overlay, Qt.Key.Key_O)
    assert not fired
    assert not overlay.isVisible()
    qtbot.keyClick(parent, Qt.Key.Key_O)  # and the shortcut works again once it is closed
    assert fired


def test_paints_in_a_small_window_without_error(parent, qtbot):
    overlay = ShortcutsOverlay(parent, _actions(parent) * 6)
    parent.resize(300, 200)
    overlay.show_overlay()
    image = overlay.grab()
    assert image.width() == 300


def test_takes_focus_and_gives_it_back(parent, qtbot):
    parent.activateWindow()
    qtbot.waitActive(parent)
    parent.setFocus()
    overlay = ShortcutsOverlay(parent, _actions(parent))
    overlay.show_overlay()
    qtbot.waitUntil(overlay.hasFocus)
    overlay.hide_overlay()
    qtbot.waitUntil(parent.hasFocus)
