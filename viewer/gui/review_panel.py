"""The "Review" dock: the shown item's state, progress, a filter and comments.

The panel shows a :class:`viewer.core.review.Review` and asks for changes
through signals; :class:`viewer.gui.review_session.ReviewSession` makes them and
saves the sidecar file.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from viewer.core.review import ItemReview, ReviewProgress, State
from viewer.gui.richtext import escape, tip

STATE_COLORS = {State.UNREVIEWED: "#888888", State.ACCEPTED: "#009E73",
                State.REJECTED: "#D55E00", State.FLAGGED: "#E69F00"}  # Okabe–Ito
FILTERS = {"All items": tuple(State), "Unreviewed": (State.UNREVIEWED,),
           "Accepted": (State.ACCEPTED,), "Rejected": (State.REJECTED,),
           "Flagged": (State.FLAGGED,), "Rejected or flagged": (State.REJECTED, State.FLAGGED)}
COMMENT_ROLE = Qt.ItemDataRole.UserRole


class ReviewPanel(QDockWidget):
    """Dock for reviewing: state buttons, progress, filter, comments.

    Signals
    -------
    state_requested(str)
        The user chose a state for the shown item.
    segment_state_requested(str)
        The user chose a state for the selected segments.
    comment_added(str, bool)
        A new comment's text, and whether to pin it to the last clicked point.
    comment_deleted(str)
        The id of a comment to delete.
    comment_activated(str)
        The user double-clicked a comment (to show where it is pinned).
    """

    state_requested = Signal(str)
    segment_state_requested = Signal(str)
    comment_added = Signal(str, bool)
    comment_deleted = Signal(str)
    comment_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Review", parent)
        self.setObjectName("review_panel")
        self.state_label = QLabel()
        self.state_label.setTextFormat(Qt.TextFormat.RichText)
        self.buttons = {}
        for state, text in ((State.ACCEPTED, "Accept"), (State.REJECTED, "Reject"),
                            (State.FLAGGED, "Flag"), (State.UNREVIEWED, "Reset")):
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, s=state: self.state_requested.emit(str(s)))
            self.buttons[state] = button
        self.segment_flag_button = QPushButton("Flag selected segments")
        self.segment_flag_button.clicked.connect(
            lambda: self.segment_state_requested.emit(str(State.FLAGGED)))
        self.progress_bar = QProgressBar()
        self.progress_bar.setFormat("%v / %m reviewed")
        self.counts_label = QLabel()
        self.filter_combo = QComboBox()
        for title in FILTERS:
            self.filter_combo.addItem(title)
        self.comments = QListWidget()
        self.comments.itemDoubleClicked.connect(
            lambda item: self.comment_activated.emit(item.data(COMMENT_ROLE)))
        self.comment_edit = QLineEdit()
        self.comment_edit.setPlaceholderText("Add a comment and press Enter")
        self.comment_edit.returnPressed.connect(self._on_comment_entered)
        self.pin_check = QCheckBox("Pin to the last clicked point")
        self.delete_button = QPushButton("Delete comment")
        self.delete_button.clicked.connect(self._on_delete_clicked)
        self.setWidget(self._layout())
        self.show_item(None, None)

    def _layout(self) -> QWidget:
        states = QHBoxLayout()
        for button in self.buttons.values():
            states.addWidget(button)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Next goes to"))
        filters.addWidget(self.filter_combo, 1)
        column = QVBoxLayout()
        for part in (self.state_label, states, self.segment_flag_button, self.progress_bar,
                     self.counts_label, filters, QLabel("Comments"), self.comments,
                     self.comment_edit, self.pin_check, self.delete_button):
            if isinstance(part, QHBoxLayout):
                column.addLayout(part)
            else:
                column.addWidget(part)
        body = QWidget()
        body.setLayout(column)
        return body

    # -- public API ----------------------------------------------------------
    @property
    def filter_states(self) -> tuple[State, ...]:
        """The states "next" and "previous" stop at."""
        return FILTERS[self.filter_combo.currentText()]

    def show_item(self, key: str | None, item: ItemReview | None) -> None:
        """Show the review of the item ``key`` (None: nothing to review)."""
        enabled = key is not None
        for widget in (*self.buttons.values(), self.segment_flag_button, self.comment_edit,
                       self.pin_check, self.delete_button):
            widget.setEnabled(enabled)
        if key is None or item is None:
            self.state_label.setText("Open an image or a folder to review it.")
            self.comments.clear()
            return
        color = STATE_COLORS[item.state]
        who = f" by {item.author}" if item.author and item.state != State.UNREVIEWED else ""
        # The key is a file name and the author a user's: escaped, never markup.
        self.state_label.setText(f"<b>{escape(key)}</b><br><span style='color:{color}'>●</span> "
                                 f"{escape(item.state.value.capitalize())}{escape(who)}")
        flagged = [f"{seg_id} ({r.label or 'segment'}): {r.state.value}"
                   for seg_id, r in sorted(item.segments.items())]
        self.state_label.setToolTip(tip("Segments: " + "; ".join(flagged)) if flagged else "")
        self.comments.clear()
        for comment in item.visible_comments:
            where = f" @ ({comment.point[1]}, {comment.point[0]})" if comment.point else ""
            entry = QListWidgetItem(f"{comment.text}\n— {comment.author}{where}")
            entry.setData(COMMENT_ROLE, comment.id)
            entry.setToolTip(f"{comment.created}{where}")
            self.comments.addItem(entry)
        self.delete_button.setEnabled(bool(item.visible_comments))

    def show_progress(self, progress: ReviewProgress) -> None:
        """Show ``"118 / 340 reviewed"`` and the count of each state."""
        self.progress_bar.setRange(0, max(progress.total, 1))
        self.progress_bar.setValue(progress.reviewed)
        self.progress_bar.setFormat(progress.text)
        self.counts_label.setText("   ".join(
            f"<span style='color:{STATE_COLORS[s]}'>●</span> {progress.counts[s]} {s.value}"
            for s in (State.ACCEPTED, State.REJECTED, State.FLAGGED)))

    def _on_comment_entered(self) -> None:
        text = self.comment_edit.text().strip()
        if text:
            self.comment_added.emit(text, self.pin_check.isChecked())
            self.comment_edit.clear()

    def _on_delete_clicked(self) -> None:
        item = self.comments.currentItem() or self.comments.item(self.comments.count() - 1)
        if item is not None:
            self.comment_deleted.emit(item.data(COMMENT_ROLE))
