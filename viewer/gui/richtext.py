"""User text in Qt widgets, shown as written and never read as markup.

Qt guesses: a label, message box or tooltip whose first line holds something
like a tag (``<img src=x>.png``, ``<b>``) is rendered as rich text, so a file,
class or author name could show an image, a link or hide the rest of the
text. Labels that show user text are made plain (:func:`plain`); text that
goes into rich text is escaped (:func:`escape`); tooltips, which have no
format setting, go through :func:`tip`.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


def escape(text: object) -> str:
    """``text`` for inclusion in Qt rich text: markup characters escaped, line breaks kept."""
    return html.escape(str(text)).replace("\n", "<br>")


def plain(label: QLabel) -> QLabel:
    """Make ``label`` show its text as written (returns it, for chaining)."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def tip(text: str) -> str:
    """A tooltip that shows ``text`` as written.

    Text Qt would not take for markup is returned unchanged (it stays plain,
    with its line breaks); otherwise it becomes escaped rich text.
    """
    if not text or not Qt.mightBeRichText(text):
        return text
    return f"<qt>{escape(text)}</qt>"
