"""Light, dark and system themes: the Fusion style with a complete palette.

Qt only follows the desktop's colour scheme where a platform theme exists (Windows, macOS, some
Linux desktops); on offscreen, Xvfb or a bare X session there is none. So "light" and "dark" set
every palette role explicitly, which looks the same everywhere, and "system" puts back the style
and palette the application had before the first call.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QToolTip

THEMES = ("system", "light", "dark")

_Role = QPalette.ColorRole
_Group = QPalette.ColorGroup

# Neutral greys (no tint), text well above WCAG AA contrast on every background it sits on.
# Disabled text is kept at about 3:1 so it reads as disabled but stays legible.
_DARK = {
    _Role.Window: "#2b2b2b",
    _Role.WindowText: "#e6e6e6",
    _Role.Base: "#333333",
    _Role.AlternateBase: "#393939",
    _Role.Text: "#e6e6e6",
    _Role.PlaceholderText: "#8f8f8f",
    _Role.Button: "#3c3c3c",
    _Role.ButtonText: "#e6e6e6",
    _Role.BrightText: "#ffffff",
    _Role.Light: "#555555",
    _Role.Midlight: "#484848",
    _Role.Mid: "#4a4a4a",
    _Role.Dark: "#1f1f1f",
    _Role.Shadow: "#121212",
    _Role.Highlight: "#2f6ac0",
    _Role.HighlightedText: "#ffffff",
    _Role.Accent: "#2f6ac0",
    _Role.Link: "#6cabff",
    _Role.LinkVisited: "#b993f0",
    _Role.ToolTipBase: "#3a3a3a",
    _Role.ToolTipText: "#f0f0f0",
}
_DARK_DISABLED = {
    _Role.WindowText: "#7c7c7c",
    _Role.Text: "#7c7c7c",
    _Role.ButtonText: "#7c7c7c",
    _Role.PlaceholderText: "#5e5e5e",
    _Role.Base: "#2e2e2e",
    _Role.Button: "#333333",
    _Role.Highlight: "#484848",
    _Role.HighlightedText: "#a0a0a0",
    _Role.Accent: "#484848",
    _Role.Light: "#3c3c3c",
}

_LIGHT = {
    _Role.Window: "#efefef",
    _Role.WindowText: "#1d1d1d",
    _Role.Base: "#ffffff",
    _Role.AlternateBase: "#f5f5f5",
    _Role.Text: "#1d1d1d",
    _Role.PlaceholderText: "#767676",
    _Role.Button: "#e9e9e9",
    _Role.ButtonText: "#1d1d1d",
    _Role.BrightText: "#ffffff",
    _Role.Light: "#ffffff",
    _Role.Midlight: "#f6f6f6",
    _Role.Mid: "#b8b8b8",
    _Role.Dark: "#9f9f9f",
    _Role.Shadow: "#5c5c5c",
    _Role.Highlight: "#2a64c4",
    _Role.HighlightedText: "#ffffff",
    _Role.Accent: "#2a64c4",
    _Role.Link: "#0a56c2",
    _Role.LinkVisited: "#7236b0",
    _Role.ToolTipBase: "#ffffff",
    _Role.ToolTipText: "#1d1d1d",
}
_LIGHT_DISABLED = {
    _Role.WindowText: "#8c8c8c",
    _Role.Text: "#8c8c8c",
    _Role.ButtonText: "#8c8c8c",
    _Role.PlaceholderText: "#b0b0b0",
    _Role.Base: "#efefef",
    _Role.Button: "#e4e4e4",
    _Role.Highlight: "#c4c4c4",
    _Role.HighlightedText: "#f4f4f4",
    _Role.Accent: "#c4c4c4",
}

# What the application looked like before the first call: style name, palette, tooltip palette.
_system: tuple[str, QPalette, QPalette] | None = None


def make_palette(theme: str) -> QPalette:
    """The explicit palette of ``theme`` ("light" or "dark"), every role set in every group."""
    if theme not in ("light", "dark"):
        raise ValueError(f"no explicit palette for theme {theme!r}; expected 'light' or 'dark'")
    colors, disabled = (_DARK, _DARK_DISABLED) if theme == "dark" else (_LIGHT, _LIGHT_DISABLED)
    palette = QPalette()
    for group in (_Group.Active, _Group.Inactive, _Group.Disabled):
        for role, color in colors.items():
            palette.setColor(group, role, QColor(disabled.get(role, color)
                                                 if group == _Group.Disabled else color))
    return palette


def apply_theme(app: QApplication, theme: str) -> None:
    """Switch ``app`` to ``theme``: one of THEMES."""
    global _system
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}; choose one of {', '.join(THEMES)}")
    if _system is None:
        _system = (app.style().name(), QPalette(app.palette()), QPalette(QToolTip.palette()))
    style_name, palette, tooltip_palette = _system
    hints = app.styleHints()
    if theme != "system":
        # The colour-scheme hint (Qt 6.8+) lets native parts such as title bars follow; set it
        # before the palette, because the theme change it triggers re-resolves the palette.
        if hasattr(hints, "setColorScheme"):
            hints.setColorScheme(Qt.ColorScheme.Dark if theme == "dark" else Qt.ColorScheme.Light)
        style_name, palette = "Fusion", make_palette(theme)
        tooltip_palette = palette
    elif hasattr(hints, "unsetColorScheme"):
        hints.unsetColorScheme()
    # The style goes first: setStyle replaces an application palette that was not set explicitly.
    if app.style().name().lower() != style_name.lower():
        app.setStyle(style_name)
    app.setPalette(palette)
    # Tooltips keep their own palette (taken from the platform theme where one exists).
    QToolTip.setPalette(tooltip_palette)


def is_dark(app: QApplication) -> bool:
    """Whether ``app``'s windows are dark, judged from the window colour's lightness."""
    return app.palette().color(_Role.Window).lightness() < 128
