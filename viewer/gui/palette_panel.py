"""The "Palette" dock: choose, preview, edit, load and save palettes.

The panel recolours the segmentation itself (through :mod:`viewer.core.recolor`,
one table update per action, so the window redraws on the table's ``changed``
event and one action is one undo step). It tells the window what happened
through two signals: ``palette_chosen`` (to remember the choice in settings)
and ``recolored`` (the old rows, for an undo command).

Dialogs go through the module functions :func:`ask_color`, :func:`ask_open_path`
and :func:`ask_save_path` and error boxes through :meth:`PalettePanel._show_error`,
so tests replace them instead of driving modal dialogs.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from viewer.core.errors import ViewerError
from viewer.core.palettes import (
    Palette,
    PaletteEntry,
    builtin_ids,
    builtin_palette,
    load_palette,
    save_palette,
)
from viewer.core.recolor import (
    apply_palette,
    maps_by_rank,
    palette_from_segmentation,
    recolor_class,
    segment_key,
)
from viewer.core.segmentation import Segmentation
from viewer.gui import dialogs
from viewer.gui.richtext import plain, tip

JSON_FILTER = "Palettes (*.json);;All files (*)"
#: The list entry that keeps (or brings back) the colours the mask came with.
FILE_KEY = "file"
FILE_NAME = "Colours from the file"
ICON_COLORS = 12
ICON_SIZE = QSize(ICON_COLORS * 8, 14)
_FRAME = QColor(128, 128, 128)


def ask_color(parent: QWidget | None, initial: QColor) -> QColor | None:
    """Ask for a colour; None when cancelled."""
    color = QColorDialog.getColor(initial, parent, "Class colour")
    return color if color.isValid() else None


def ask_open_path(parent: QWidget | None) -> str | None:
    """Ask for a palette file to load; None when cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, "Load palette", "", JSON_FILTER)
    return path or None


def ask_save_path(parent: QWidget | None, suggested: str) -> str | None:
    """Ask where to save a palette; None when cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, "Save palette", suggested, JSON_FILTER)
    return path or None


def display_name(palette: Palette) -> str:
    """The name shown in the list, marked when the palette is colour-blind safe."""
    if palette.colorblind_safe and "colour-blind" not in palette.name.lower():
        return f"{palette.name} (colour-blind safe)"
    return palette.name


def first_entries(palette: Palette, count: int) -> list[PaletteEntry]:
    """The first ``count`` entries of ``palette`` in id order."""
    return [palette.entries[i] for i in sorted(palette.entries)[:count]]


def palette_icon(palette: Palette, size: QSize = ICON_SIZE) -> QIcon:
    """A strip of the palette's first colours, framed so black cells still show."""
    pixmap = QPixmap(size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    _paint_swatches(painter, QRectF(0, 0, size.width(), size.height()),
                    first_entries(palette, ICON_COLORS))
    painter.end()
    return QIcon(pixmap)


def _paint_swatches(painter: QPainter, rect: QRectF, entries: Sequence[PaletteEntry]) -> None:
    if not entries:
        return
    width = rect.width() / len(entries)
    for index, entry in enumerate(entries):
        cell = QRectF(rect.left() + index * width, rect.top(), width, rect.height())
        painter.fillRect(cell, QColor(*entry.color))
    painter.setPen(QPen(_FRAME, 1))
    painter.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))


class ElidedComboBox(QComboBox):
    """A combo box that ends a too-long current text with "…" instead of clipping it."""

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        room = field.width() - (self.iconSize().width() + 6 if not option.currentIcon.isNull()
                                else 0)
        option.currentText = self.fontMetrics().elidedText(
            option.currentText, Qt.TextElideMode.ElideRight, max(room, 0))
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)


class PaletteStrip(QWidget):
    """A wide preview of a palette's first colours; hover a cell for its id and name."""

    MAX_COLORS = 32

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._entries: list[PaletteEntry] = []
        self.setMinimumHeight(28)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_palette(self, palette: Palette | None) -> None:
        """Show ``palette`` (None clears the strip)."""
        self._entries = first_entries(palette, self.MAX_COLORS) if palette is not None else []
        self.update()

    def entry_at(self, x: float) -> PaletteEntry | None:
        """The entry drawn at horizontal position ``x``, if any."""
        if not self._entries or not 0 <= x < self.width():
            return None
        return self._entries[int(x * len(self._entries) / max(self.width(), 1))]

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(240, 28)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        _paint_swatches(painter, QRectF(self.rect()), self._entries)
        painter.end()

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            entry = self.entry_at(QPointF(event.pos()).x())
            if entry is None:
                QToolTip.hideText()
            else:
                r, g, b = entry.color
                name = f" {entry.name}" if entry.name else ""
                QToolTip.showText(event.globalPos(), tip(f"{entry.id}{name}  #{r:02X}{g:02X}{b:02X}"),
                                  self)
            return True
        return super().event(event)


class PalettePanel(QDockWidget):
    """Dock to choose a built-in or loaded palette, recolour a class, load and save.

    Signals
    -------
    palette_chosen(Palette)
        The user picked or loaded a palette (also :meth:`choose` and :meth:`load`).
    recolored(dict)
        Segment id -> the row as it was, after each recolouring that changed
        something (``table.put(rows.values())`` undoes it).
    """

    palette_chosen = Signal(object)
    recolored = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Palette", parent)
        self.setObjectName("palette_panel")
        self._seg: Segmentation | None = None
        self._selected: tuple[int, ...] = ()
        # Every palette the list can show, by key: built-in ids, "file:<path>" for loaded ones.
        self._palettes: dict[str, Palette] = {i: builtin_palette(i) for i in builtin_ids()}
        self._order = sorted(self._palettes, key=lambda k: self._palettes[k].name.lower())
        # First entry: the mask's own colours (COCO panoptic, Cityscapes files carry meaning).
        self._file_colors: dict[int, tuple[int, int, int]] = {}
        self._palettes[FILE_KEY] = _file_palette(None)
        self._order.insert(0, FILE_KEY)
        self._current_key = FILE_KEY
        self._build()
        self._refill_combo()
        self._show_current()
        self._update_selection()

    # -- building ------------------------------------------------------------
    def _build(self) -> None:
        self.combo = ElidedComboBox()
        self.combo.setIconSize(ICON_SIZE)
        # Long names must not force the dock wide; the popup shows them in full.
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(14)
        self.combo.activated.connect(self._on_combo_activated)
        self.colorblind_only = QCheckBox("Colour-blind safe only")
        self.colorblind_only.toggled.connect(self._on_colorblind_only_toggled)
        self.strip = PaletteStrip()
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.selection_label = plain(QLabel())
        self.selection_label.setWordWrap(True)
        self.change_button = QPushButton("Change colour…")
        self.change_button.clicked.connect(self._on_change_button_clicked)
        self.load_button = QPushButton("Load…")
        self.load_button.clicked.connect(self._on_load_button_clicked)
        self.save_button = QPushButton("Save…")
        self.save_button.clicked.connect(self._on_save_button_clicked)
        self.setWidget(self._layout())

    def _layout(self) -> QWidget:
        files = QHBoxLayout()
        files.addWidget(self.load_button)
        files.addWidget(self.save_button)
        column = QVBoxLayout()
        for widget in (self.combo, self.colorblind_only, self.strip, self.info,
                       self.selection_label, self.change_button):
            column.addWidget(widget)
        column.addLayout(files)
        column.addStretch(1)
        body = QWidget()
        body.setLayout(column)
        return body

    # -- public API ----------------------------------------------------------
    @property
    def current_palette(self) -> Palette:
        """The palette shown as chosen."""
        return self._palettes[self._current_key]

    @property
    def palette_to_apply(self) -> Palette | None:
        """The chosen palette, or None when the file's own colours are chosen."""
        return None if self._current_key == FILE_KEY else self.current_palette

    def set_segmentation(self, seg: Segmentation | None) -> None:
        """Work on ``seg`` from now on.

        Its colours are remembered as "Colours from the file"; when another
        palette is chosen, ``seg`` is recoloured with it, so a choice made on
        one image holds for the next one of a folder.
        """
        if self._seg is not None:
            for signal in (self._seg.table.changed, self._seg.table.removed,
                           self._seg.table.reset):
                signal.disconnect(self._on_table_changed)
        self._seg = seg
        self._selected = ()
        self._file_colors = {s.id: s.color for s in seg.table} if seg is not None else {}
        self._palettes[FILE_KEY] = _file_palette(seg)
        if seg is not None:
            for signal in (seg.table.changed, seg.table.removed, seg.table.reset):
                signal.connect(self._on_table_changed)
            if self._current_key != FILE_KEY:
                self.apply()
        self._refill_combo()
        self._show_current()
        self._update_selection()

    def set_selected_ids(self, ids: Iterable[int]) -> None:
        """Tell the panel which segments are selected; "Change colour" uses the first."""
        self._selected = tuple(sorted(int(i) for i in ids))
        self._update_selection()

    def choose(self, palette_id: str, *, apply: bool = True) -> bool:
        """Make ``palette_id`` (a built-in id, or a loaded palette's key) the chosen one.

        With ``apply`` (the default) the segmentation is recoloured and
        ``palette_chosen`` emitted, as when the user picks it; without, the
        list only shows it (for restoring a saved choice). Returns False for
        an unknown id.
        """
        if palette_id not in self._palettes:
            return False
        if self.colorblind_only.isChecked() and not self._palettes[palette_id].colorblind_safe:
            self.colorblind_only.blockSignals(True)
            self.colorblind_only.setChecked(False)
            self.colorblind_only.blockSignals(False)
            self._refill_combo()
        self._use(palette_id, apply=apply)
        return True

    def apply(self) -> None:
        """Recolour the segmentation with the chosen palette (one table update)."""
        if self._seg is None:
            return
        if self._current_key == FILE_KEY:
            old = _restore_colors(self._seg, self._file_colors)
        else:
            old = apply_palette(self._seg, self.current_palette)
        if old:
            self.recolored.emit(old)

    def load(self, path: str | Path) -> bool:
        """Load a palette file, add it to the list, choose and apply it.

        Errors are shown (naming the file and the problem) and change nothing.
        """
        try:
            palette = load_palette(path)
        except ViewerError as exc:
            self._show_error("Load palette", f"Cannot load the palette.\n\n{exc}")
            return False
        key = f"file:{Path(path).resolve()}"
        if key not in self._palettes:
            self._order.append(key)
        self._palettes[key] = palette
        self._refill_combo()
        return self.choose(key)

    def save(self, path: str | Path) -> bool:
        """Save the current colours and labels as a palette file.

        With a segmentation, the palette holds its colours (edits included) on
        top of the chosen palette's entries; without one, the chosen palette.
        """
        path = Path(path)
        try:
            save_palette(self._palette_to_save(path.stem), path)
        except ViewerError as exc:
            self._show_error("Save palette", f"Cannot save the palette.\n\n{exc}")
            return False
        return True

    def change_color(self) -> bool:
        """Ask for a colour for the selected segment's class and recolour that class."""
        segment = self._selected_segment()
        if segment is None or self._seg is None:
            return False
        color = ask_color(self, QColor(*segment.color))
        if color is None:
            return False
        old = recolor_class(self._seg, segment.id, (color.red(), color.green(), color.blue()))
        if old:
            self.recolored.emit(old)
        return True

    def next_palette(self) -> None:
        """Choose and apply the palette after the current one in the list (wrapping)."""
        if self.combo.count():
            self._use(self.combo.itemData((self.combo.currentIndex() + 1) % self.combo.count()))

    # -- slots ---------------------------------------------------------------
    def _on_combo_activated(self, index: int) -> None:
        # "activated" also fires when the same item is picked again: that re-applies it.
        self._use(self.combo.itemData(index))

    def _on_colorblind_only_toggled(self, checked: bool) -> None:
        self._refill_combo()
        if checked and not self.current_palette.colorblind_safe and self.combo.count():
            self._use(self.combo.itemData(0))

    def _on_change_button_clicked(self) -> None:
        self.change_color()

    def _on_load_button_clicked(self) -> None:
        path = ask_open_path(self)
        if path:
            self.load(path)

    def _on_save_button_clicked(self) -> None:
        path = ask_save_path(self, f"{self.current_palette.id}.json")
        if path:
            self.save(path if Path(path).suffix else f"{path}.json")

    def _on_table_changed(self, *args) -> None:
        self._update_selection()

    # -- helpers -------------------------------------------------------------
    def _show_error(self, title: str, message: str) -> None:
        """Show an error box (tests replace this)."""
        dialogs.run_message(dialogs.plain_box(QMessageBox.Icon.Critical, title, message, self))

    def _use(self, key: str, *, apply: bool = True) -> None:
        self._current_key = key
        index = self.combo.findData(key)
        if index >= 0:
            self.combo.setCurrentIndex(index)
        self._show_current()
        if apply:
            self.apply()
            self.palette_chosen.emit(self.current_palette)

    def _refill_combo(self) -> None:
        only_safe = self.colorblind_only.isChecked()
        self.combo.blockSignals(True)
        self.combo.clear()
        for key in self._order:
            palette = self._palettes[key]
            if only_safe and not palette.colorblind_safe:
                continue
            text = display_name(palette)
            if key.startswith("file:"):  # loaded: say from which file, unless the name does
                file = Path(key[5:])
                text += " (loaded)" if palette.name == file.stem else f" [{file.name}]"
            self.combo.addItem(palette_icon(palette), text, key)
            self.combo.setItemData(self.combo.count() - 1, _tooltip(palette),
                                   Qt.ItemDataRole.ToolTipRole)
        self.combo.setCurrentIndex(self.combo.findData(self._current_key))
        self.combo.blockSignals(False)
        # The popup is as wide as its longest name, even when the combo is narrow.
        self.combo.view().setMinimumWidth(self.combo.view().sizeHintForColumn(0) + 24)

    def _show_current(self) -> None:
        palette = self.current_palette
        self.strip.set_palette(palette)
        self.strip.setToolTip(_tooltip(palette))
        self.combo.setToolTip(tip(display_name(palette)))
        facts = [f"{len(palette.entries)} colours"]
        if palette.colorblind_safe:
            facts.append("colour-blind safe")
        if self._seg is not None and maps_by_rank(self._seg, palette):
            facts.append("given to this mask's classes in order")
        self.info.setText(" · ".join(facts))

    def _selected_segment(self):
        if self._seg is None:
            return None
        return next((self._seg.table[i] for i in self._selected if i in self._seg.table), None)

    def _update_selection(self) -> None:
        segment = self._selected_segment()
        self.change_button.setEnabled(segment is not None)
        if segment is None:
            self.selection_label.setText("Select a segment to change its class colour.")
            return
        name = segment.label or f"segment {segment.id}"
        self.selection_label.setText(f"Class: {name} (palette id {segment_key(segment)})")

    def _palette_to_save(self, stem: str) -> Palette:
        current = self.current_palette
        if self._seg is None:
            return dataclasses.replace(current, id=stem, name=stem)
        return palette_from_segmentation(self._seg, id=stem, name=stem, base=current,
                                         description=f"Based on {current.name}.")


def _file_palette(seg: Segmentation | None) -> Palette:
    """The open mask's own colours, as a palette (for the preview and for saving)."""
    description = "The colours the mask file (or its format) gave, unchanged."
    if seg is None or not len(seg.table):
        return Palette(FILE_KEY, FILE_NAME, {0: PaletteEntry(0, (0, 0, 0), "background")},
                       description=description)
    return palette_from_segmentation(seg, id=FILE_KEY, name=FILE_NAME, description=description)


def _restore_colors(seg: Segmentation, colors: dict[int, tuple[int, int, int]]) -> dict:
    """Put back the remembered colours in one table update; return the old rows."""
    table = seg.table
    changes = {i: {"color": c} for i, c in colors.items() if i in table and table[i].color != c}
    old = {i: table[i] for i in changes}
    if changes:
        table.update_many(changes)
    return old


def _tooltip(palette: Palette) -> str:
    # Rich text, so Qt wraps the long descriptions instead of one very wide line.
    parts = [f"<b>{html.escape(palette.name)}</b>", html.escape(palette.description)]
    if palette.provenance:
        parts.append(f"Source: {html.escape(palette.provenance)}")
    if palette.license:
        parts.append(f"Licence: {html.escape(palette.license)}")
    return "".join(f"<p>{p}</p>" for p in parts if p)
