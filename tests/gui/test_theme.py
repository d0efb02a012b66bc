import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from viewer.gui.theme import THEMES, apply_theme, is_dark, make_palette

Role, Group = QPalette.ColorRole, QPalette.ColorGroup


@pytest.fixture
def app(qapp):
    """The application, put back to the system theme afterwards for the other tests."""
    yield qapp
    apply_theme(qapp, "system")


def test_dark_makes_the_window_dark(app: QApplication):
    apply_theme(app, "dark")
    window = app.palette().color(Role.Window)
    assert 25 < window.lightness() < 80  # dark grey, not black
    assert is_dark(app)
    assert app.style().name().lower() == "fusion"
    assert app.palette().color(Role.WindowText).lightness() > 200


def test_light_is_not_dark(app: QApplication):
    apply_theme(app, "light")
    assert app.palette().color(Role.Window).lightness() > 200
    assert not is_dark(app)


def test_system_restores_the_original_palette(app: QApplication):
    apply_theme(app, "system")  # captures the original (it is the first call in a fresh run)
    original = QPalette(app.palette())
    style = app.style().name()
    apply_theme(app, "dark")
    assert app.palette().color(Role.Window) != original.color(Role.Window)
    apply_theme(app, "system")
    assert app.style().name() == style
    for role in (Role.Window, Role.WindowText, Role.Base, Role.Text, Role.Highlight):
        assert app.palette().color(role) == original.color(role), role


def test_unknown_theme_names_the_choices(app: QApplication):
    with pytest.raises(ValueError, match="system, light, dark"):
        apply_theme(app, "solarized")
    assert THEMES == ("system", "light", "dark")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_palettes_set_every_role_in_every_group(theme):
    palette = make_palette(theme)
    roles = [r for r in Role if r not in (Role.NoRole, Role.NColorRoles)]
    for group in (Group.Active, Group.Inactive, Group.Disabled):
        for role in roles:
            assert palette.isBrushSet(group, role), (group, role)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_contrast_and_disabled_text_differs(theme):
    palette = make_palette(theme)
    pairs = [(Role.WindowText, Role.Window), (Role.Text, Role.Base),
             (Role.ButtonText, Role.Button), (Role.HighlightedText, Role.Highlight),
             (Role.ToolTipText, Role.ToolTipBase)]
    for fg, bg in pairs:
        assert _contrast(palette.color(fg), palette.color(bg)) >= 4.5, (fg, bg)
    assert palette.color(Group.Disabled, Role.Text) != palette.color(Group.Active, Role.Text)


def _contrast(a, b) -> float:
    """WCAG contrast ratio of two colours."""
    def luminance(c):
        channels = [v / 255 for v in (c.red(), c.green(), c.blue())]
        lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_a_theme_for_one_run_is_not_saved_but_one_picked_in_the_window_is(qtbot):
    from viewer.core.settings import load_settings
    from viewer.gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.set_theme("dark")  # what `segview --theme dark` does ...
    window.saved_theme = "light"  # ... remembering the saved choice
    window.close()
    assert load_settings().theme == "light"
    window = MainWindow()
    qtbot.addWidget(window)
    window.saved_theme = "light"
    window.theme_actions["dark"].trigger()  # picked in View > Theme
    window.close()
    assert load_settings().theme == "dark"
