"""A panel over the window that lists the keyboard shortcuts, built from the window's actions."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, pairwise

from PySide6.QtCore import QEvent, QObject, QRect, QRectF, Qt
from PySide6.QtGui import QAction, QColor, QFont, QFontMetrics, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import QWidget

Groups = list[tuple[str, list[QAction]]]

_MODIFIER_KEYS = {Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta,
                  Qt.Key.Key_AltGr, Qt.Key.Key_CapsLock}
_BACKDROP = QColor(0, 0, 0, 150)
_PAD = 28        # card padding
_COL_GAP = 40    # between columns
_KEY_GAP = 18    # between an action's text and its keys
_MARGIN = 24     # kept free around the card


def action_text(action: QAction) -> str:
    """An action's menu text without mnemonics ('&'), ellipses or a tab-separated shortcut."""
    text = action.text().split("\t", 1)[0]
    text = text.replace("&&", "\0").replace("&", "").replace("\0", "&")
    return text.replace("…", "").replace("...", "").strip()


def _key_rows(groups: Groups) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """Like shortcut_rows, but each action's sequences kept apart (one key cap each)."""
    result = []
    for title, actions in groups:
        rows = []
        for action in actions:
            keys = [seq.toString(QKeySequence.SequenceFormat.NativeText)
                    for seq in action.shortcuts() if not seq.isEmpty()]
            if keys and not action.isSeparator() and action.isVisible():
                rows.append((action_text(action), keys))
        if rows:
            result.append((title, rows))
    return result


def shortcut_rows(groups: Groups) -> list[tuple[str, list[tuple[str, str]]]]:
    """(group title, [(action text, shortcuts)]) for the actions that have a shortcut.

    Several shortcuts of one action are joined with " or " (a comma can itself be a key).
    Groups left without rows are dropped.
    """
    return [(title, [(text, " or ".join(keys)) for text, keys in rows])
            for title, rows in _key_rows(groups)]


@dataclass
class _Fonts:
    title: QFont
    header: QFont
    row: QFont
    key: QFont

    @classmethod
    def from_base(cls, base: QFont, scale: float = 1.0) -> _Fonts:
        title, header, row, key = QFont(base), QFont(base), QFont(base), QFont(base)
        points = base.pointSizeF()
        for font, factor in ((title, 1.35), (header, 1.0), (row, 1.0), (key, 0.92)):
            if points > 0:
                font.setPointSizeF(points * factor * scale)
            else:  # a font given in pixels
                font.setPixelSize(max(1, round(base.pixelSize() * factor * scale)))
        title.setBold(True)
        header.setBold(True)
        return cls(title, header, row, key)


class ShortcutsOverlay(QWidget):
    """Covers its parent with a dimmed backdrop and a card listing shortcuts in columns.

    Hidden until ``show_overlay``; any key (Esc, the toggle key) or a click closes it. While it is
    shown it takes the keyboard, so the window's own shortcuts do not fire behind it.
    """

    def __init__(self, parent: QWidget, groups: Groups | None = None,
                 title: str = "Keyboard shortcuts"):
        super().__init__(parent)
        self.title = title
        self._groups: Groups = []
        self._rows: list[tuple[str, list[tuple[str, list[str]]]]] = []
        self._previous_focus: QWidget | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(title)
        self.hide()
        parent.installEventFilter(self)
        if groups:
            self.set_groups(groups)

    # -- public --------------------------------------------------------------
    def set_groups(self, groups: Groups) -> None:
        """Show these actions; read again on each call (shortcuts may have changed)."""
        self._groups = list(groups)
        self._rows = _key_rows(self._groups)
        self.update()

    def rows(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """What the card lists now (see shortcut_rows)."""
        return shortcut_rows(self._groups)

    def show_overlay(self) -> None:
        self._rows = _key_rows(self._groups)  # pick up shortcuts changed since set_groups
        self.setGeometry(self.parentWidget().rect())
        self.raise_()
        if not self.isVisible():
            self._previous_focus = self.window().focusWidget()
        self.show()
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def hide_overlay(self) -> None:
        if not self.isVisible():
            return
        self.hide()
        if self._previous_focus is not None and self._previous_focus.isVisible():
            self._previous_focus.setFocus(Qt.FocusReason.OtherFocusReason)
        self._previous_focus = None

    def toggle(self) -> None:
        if self.isVisible():
            self.hide_overlay()
        else:
            self.show_overlay()

    # -- events --------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
        return False

    def event(self, event: QEvent) -> bool:
        # Claim every key before the shortcut map sees it: the keys then reach keyPressEvent and
        # close the card instead of, say, toggling the overlay or zooming the canvas behind it.
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        # A lone modifier is part of a chord (Shift for "?"), so wait for the real key.
        if event.key() not in _MODIFIER_KEYS:
            self.hide_overlay()
        event.accept()

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.hide_overlay()
        event.accept()

    def wheelEvent(self, event) -> None:  # noqa: N802 (Qt override)
        event.accept()  # nothing behind the card should scroll or zoom

    # -- painting ------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), _BACKDROP)
        fonts, columns = self._layout()
        width, height = self._card_size(fonts, columns)
        card = QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)
        card = card.intersected(QRectF(self.rect()).adjusted(8, 8, -8, -8))
        palette = self.palette()
        window = palette.color(QPalette.ColorRole.Window)
        dark = window.lightness() < 128
        painter.setPen(QColor(255, 255, 255, 45) if dark else QColor(0, 0, 0, 60))
        painter.setBrush(window)
        painter.drawRoundedRect(card, 12, 12)
        painter.setClipRect(card)
        self._paint_content(painter, fonts, columns, card.toRect(), dark)
        painter.end()

    def _paint_content(self, painter: QPainter, fonts: _Fonts, columns, card: QRect,
                       dark: bool) -> None:
        palette = self.palette()
        text_color = palette.color(QPalette.ColorRole.WindowText)
        muted = palette.color(QPalette.ColorRole.PlaceholderText)
        left, top = card.left() + _PAD, card.top() + _PAD
        painter.setFont(fonts.title)
        title_h = QFontMetrics(fonts.title).height()
        painter.setPen(text_color)
        painter.drawText(QRect(left, top, card.width() - 2 * _PAD, title_h),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.title)
        painter.setFont(fonts.row)
        painter.setPen(muted)
        painter.drawText(QRect(left, top, card.width() - 2 * _PAD, title_h),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         "Esc or click to close")
        top += title_h + _PAD // 2
        painter.setPen(QColor(255, 255, 255, 40) if dark else QColor(0, 0, 0, 40))
        painter.drawLine(left, top, card.right() - _PAD, top)
        top += _PAD // 2
        x = left
        for groups in columns:
            text_w, keys_w = self._column_widths(fonts, groups)
            self._paint_column(painter, fonts, groups, x, top, text_w, dark)
            x += text_w + _KEY_GAP + keys_w + _COL_GAP

    def _paint_column(self, painter: QPainter, fonts: _Fonts, groups, x: int, y: int,
                      text_w: int, dark: bool) -> None:
        palette = self.palette()
        text_color = palette.color(QPalette.ColorRole.WindowText)
        accent = palette.color(QPalette.ColorRole.Link)
        cap_fill = palette.color(QPalette.ColorRole.Base if dark else QPalette.ColorRole.Button)
        cap_edge = QColor(255, 255, 255, 60) if dark else QColor(0, 0, 0, 70)
        header_h, row_h = self._line_heights(fonts)
        key_fm = QFontMetrics(fonts.key)
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        for index, (title, rows) in enumerate(groups):
            if index:
                y += row_h // 2
            painter.setFont(fonts.header)
            painter.setPen(accent)
            painter.drawText(QRect(x, y, text_w, header_h), left, title)
            y += header_h
            for text, keys in rows:
                painter.setFont(fonts.row)
                painter.setPen(text_color)
                painter.drawText(QRect(x, y, text_w, row_h), left, text)
                cap_x = x + text_w + _KEY_GAP
                painter.setFont(fonts.key)
                for key in keys:
                    cap = QRectF(cap_x, y + 3, _cap_width(key_fm, key), row_h - 6)
                    painter.setPen(cap_edge)
                    painter.setBrush(cap_fill)
                    painter.drawRoundedRect(cap, 4, 4)
                    painter.setPen(text_color)
                    painter.drawText(cap, Qt.AlignmentFlag.AlignCenter, key)
                    cap_x += cap.width() + 6
                y += row_h

    # -- layout --------------------------------------------------------------
    def _line_heights(self, fonts: _Fonts) -> tuple[int, int]:
        header_h = QFontMetrics(fonts.header).height() + 8
        row_h = max(QFontMetrics(fonts.row).height(), QFontMetrics(fonts.key).height()) + 12
        return header_h, row_h

    def _group_height(self, fonts: _Fonts, rows) -> int:
        header_h, row_h = self._line_heights(fonts)
        return header_h + row_h * len(rows)

    def _column_height(self, fonts: _Fonts, groups) -> int:
        _, row_h = self._line_heights(fonts)
        gaps = row_h // 2 * max(len(groups) - 1, 0)
        return sum(self._group_height(fonts, rows) for _, rows in groups) + gaps

    def _column_widths(self, fonts: _Fonts, groups) -> tuple[int, int]:
        row_fm, header_fm, key_fm = (QFontMetrics(f) for f in (fonts.row, fonts.header, fonts.key))
        text_w = max([header_fm.horizontalAdvance(title) for title, _ in groups]
                     + [row_fm.horizontalAdvance(text) for _, rows in groups for text, _ in rows]
                     + [0])
        keys_w = max([sum(_cap_width(key_fm, k) + 6 for k in keys) - 6
                      for _, rows in groups for _, keys in rows] + [0])
        return text_w, keys_w

    def _split(self, fonts: _Fonts, count: int) -> list[list]:
        """Groups in reading order, whole, in ``count`` columns with the lowest tallest column."""
        groups = self._rows
        best: tuple[int, list[list]] | None = None
        # Few groups and at most three columns: trying every pair of cut points is cheap.
        for cuts in combinations(range(1, len(groups)), count - 1):
            bounds = (0, *cuts, len(groups))
            columns = [groups[a:b] for a, b in pairwise(bounds)]
            tallest = max(self._column_height(fonts, column) for column in columns)
            if best is None or tallest < best[0]:
                best = (tallest, columns)
        return best[1] if best else [groups]

    def _card_size(self, fonts: _Fonts, columns) -> tuple[int, int]:
        widths = [sum(self._column_widths(fonts, groups)) + _KEY_GAP for groups in columns]
        row_fm = QFontMetrics(fonts.row)
        title_w = (QFontMetrics(fonts.title).horizontalAdvance(self.title) + _COL_GAP
                   + row_fm.horizontalAdvance("Esc or click to close"))
        content_w = max(sum(widths) + _COL_GAP * (len(columns) - 1), title_w)
        content_h = max([self._column_height(fonts, groups) for groups in columns] + [0])
        header_h = QFontMetrics(fonts.title).height() + _PAD
        return content_w + 2 * _PAD, content_h + header_h + 2 * _PAD

    def _layout(self) -> tuple[_Fonts, list[list]]:
        """Fonts and columns: two columns, else three, else smaller type, whatever fits first."""
        counts = [n for n in (2, 3) if n <= len(self._rows)] or [1]
        room_w, room_h = self.width() - 2 * _MARGIN, self.height() - 2 * _MARGIN
        for scale in (1.0, 0.9, 0.8, 0.7):
            fonts = _Fonts.from_base(self.font(), scale)
            for count in counts:
                columns = self._split(fonts, count)
                width, height = self._card_size(fonts, columns)
                if width <= room_w and height <= room_h:
                    return fonts, columns
        return fonts, columns  # too small a window: the card is clipped


def _cap_width(metrics: QFontMetrics, key: str) -> int:
    return max(metrics.horizontalAdvance(key) + 16, metrics.height() + 8)
