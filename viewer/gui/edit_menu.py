"""The Edit menu and toolbar: undo/redo, save, tools, brush, overwrite mode, segment operations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QActionGroup, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QMenu, QSlider, QToolBar

from viewer.gui.legend_panel import swatch
from viewer.gui.menus import action

if TYPE_CHECKING:
    from viewer.gui.main_window import MainWindow

TOOL_KEYS = {"select": ("&Select", "V"), "brush": ("&Brush", "B"), "eraser": ("&Eraser", "E"),
             "fill": ("&Fill", "K"), "polygon": ("&Polygon fill", "P"),
             "lasso": ("&Lasso fill", "L")}
OVERWRITE = {"all": "Paint over everything", "background": "Over background only",
             "segment": "Over the selected segment only"}
HISTORY_BUDGETS_MB = (64, 256, 512, 1024, 4096)


def build_edit_menu(w: MainWindow) -> None:
    """Create the edit actions on ``w`` and the Edit menu (placed after File)."""
    edits = w.edits
    w.undo_action = action(w, "&Undo", QKeySequence.StandardKey.Undo, edits.undo)
    w.redo_action = action(w, "&Redo", ["Ctrl+Shift+Z", "Ctrl+Y"], edits.redo)
    w.save_action = action(w, "&Save mask", QKeySequence.StandardKey.Save, edits.save)
    w.changed_mask_action = action(
        w, "Also write a &changed-pixels mask", None,
        lambda on: w.remember(write_changed_mask=bool(on)), checkable=True,
        tip="Save writes <name>_changed.png (255 where a pixel changed) beside the mask")
    w.changed_mask_action.setChecked(w.settings.write_changed_mask)
    # psygnal wants Python callables (it cannot read a Qt builtin's signature).
    edits.history.changed.connect(lambda: _sync_undo(w))  # after every step, undo or redo
    _sync_undo(w)
    _build_tools(w)
    w.close_polygon_action = action(w, "Close the polygon", ["Return", "Enter"],
                                    edits.close_polygon)
    w.cancel_edit_action = action(w, "Cancel the polygon or stroke", "Escape", edits.cancel)
    # Only while the canvas has focus, so Enter still submits a comment or a search.
    for act in (w.close_polygon_action, w.cancel_edit_action):
        w.canvas.addAction(act)
        act.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
    w.merge_action = action(w, "&Merge selected segments", "Ctrl+G", edits.merge)
    w.split_action = action(w, "S&plit into connected parts", "Ctrl+Shift+G", edits.split)
    w.delete_action = action(w, "&Delete selected (to background)", "Delete",
                             lambda: edits.delete("background"))
    w.delete_void_action = action(w, "Delete selected to &void", "Shift+Delete",
                                  lambda: edits.delete("void"))
    w.rename_class_action = action(w, "Re&name class…", "F2", edits.rename_class)
    w.add_class_action = action(w, "&Add class…", "Ctrl+Shift+N", edits.add_class)
    w.add_instance_action = action(w, "Add &instance of selected class", "Ctrl+Shift+I",
                                   edits.add_instance)
    w.relabel_actions = [action(w, f"Class {n} (relabel, or paint with it)", str(n),
                                lambda _=False, n=n: edits.relabel_to(n)) for n in range(1, 10)]
    w.islands_action = action(w, "Remove &islands smaller than…", None,
                              lambda: edits.cleanup("islands"))
    w.largest_action = action(w, "Keep the &largest part", None,
                              lambda: edits.cleanup("largest"))
    w.holes_action = action(w, "Fill &holes", None, lambda: edits.cleanup("holes"))

    menu = w.menuBar().addMenu("&Edit")
    w.menuBar().insertMenu(w.menuBar().actions()[1], menu)  # right after File
    _add(menu, w.undo_action, w.redo_action, None, w.save_action, w.changed_mask_action, None,
         *w.tool_actions.values())
    brush = menu.addMenu("Brush and &overwrite")
    _add(brush, w.smaller_brush_action, w.larger_brush_action, w.square_brush_action, None,
         *w.overwrite_actions.values())
    _add(menu, w.close_polygon_action, w.cancel_edit_action, None)
    w.relabel_menu = menu.addMenu("Re&label to")
    w.relabel_menu.aboutToShow.connect(lambda: _fill_relabel_menu(w, w.relabel_menu))
    _add(menu, w.rename_class_action, w.add_class_action, w.add_instance_action, None,
         w.merge_action, w.split_action, w.delete_action, w.delete_void_action)
    cleanup = menu.addMenu("&Clean up (selected, or all)")
    _add(cleanup, w.islands_action, w.largest_action, w.holes_action)
    budget = menu.addMenu("Undo &memory")
    w.budget_group = QActionGroup(w)
    for mb in HISTORY_BUDGETS_MB:
        act = budget.addAction(f"{mb} MB" if mb < 1024 else f"{mb // 1024} GB")
        act.setCheckable(True)
        act.setChecked(mb == w.settings.history_budget_mb)
        act.triggered.connect(lambda _=False, mb=mb: edits.set_history_budget(mb))
        w.budget_group.addAction(act)
    # Keys without a menu entry of their own (the number keys) still need the window.
    w.addActions(w.relabel_actions)
    w.segments.edit_actions = [w.rename_class_action, w.merge_action, w.split_action,
                               w.delete_action, w.delete_void_action, None,
                               w.islands_action, w.largest_action, w.holes_action]
    w.segments.relabel_menu = lambda parent: _fill_relabel_menu(w, QMenu("Relabel to", parent))


def _build_tools(w: MainWindow) -> None:
    edits = w.edits
    w.tool_group = QActionGroup(w)
    w.tool_actions = {}
    for tool, (text, key) in TOOL_KEYS.items():
        act = action(w, text, key, lambda _=False, t=tool: w.set_edit_tool(t), checkable=True)
        w.tool_group.addAction(act)
        w.tool_actions[tool] = act
    w.tool_actions["select"].setChecked(True)
    w.smaller_brush_action = action(w, "Smaller brush", ",",
                                    lambda: w.set_brush_size(edits.brush.size - 2))
    w.larger_brush_action = action(w, "Larger brush", ".",
                                   lambda: w.set_brush_size(edits.brush.size + 2))
    w.square_brush_action = action(
        w, "S&quare brush", "Q", checkable=True,
        slot=lambda on: w.brush_shape_combo.setCurrentText("square" if on else "round"))
    w.overwrite_group = QActionGroup(w)
    w.overwrite_actions = {}
    for key, title in OVERWRITE.items():
        act = action(w, title, None, lambda _=False, k=key: w.set_overwrite(k), checkable=True)
        w.overwrite_group.addAction(act)
        w.overwrite_actions[key] = act
    w.overwrite_actions["all"].setChecked(True)


def build_edit_toolbar(w: MainWindow) -> QToolBar:
    """Tools, brush size and shape, overwrite mode and the class to paint."""
    bar = QToolBar("Edit", w)
    bar.setObjectName("edit_toolbar")
    bar.addActions([w.undo_action, w.redo_action])
    bar.addSeparator()
    bar.addActions(list(w.tool_actions.values()))
    w.brush_label = QLabel(f" Size {w.edits.brush.size:3d} px ")
    bar.addWidget(w.brush_label)
    w.brush_slider = QSlider(Qt.Orientation.Horizontal, w)
    w.brush_slider.setRange(1, 128)
    w.brush_slider.setFixedWidth(110)
    w.brush_slider.setValue(w.edits.brush.size)
    w.brush_slider.setToolTip("Brush size in image pixels (, and . change it)")
    w.brush_slider.valueChanged.connect(w.on_brush_size_changed)
    bar.addWidget(w.brush_slider)
    w.brush_shape_combo = QComboBox(w)
    w.brush_shape_combo.addItems(["round", "square"])
    w.brush_shape_combo.currentTextChanged.connect(w.on_brush_shape_changed)
    bar.addWidget(w.brush_shape_combo)
    w.overwrite_combo = QComboBox(w)
    for key, title in OVERWRITE.items():
        w.overwrite_combo.addItem(title, key)
    w.overwrite_combo.currentIndexChanged.connect(lambda i: w.apply_overwrite())
    bar.addWidget(w.overwrite_combo)
    bar.addWidget(QLabel(" Paint "))
    w.paint_combo = QComboBox(w)
    w.paint_combo.setMinimumContentsLength(12)
    w.paint_combo.setToolTip("The class the brush, fill and polygon paint (number keys pick one)")
    w.paint_combo.activated.connect(lambda i: w.choose_paint(w.paint_combo.itemData(i)))
    bar.addWidget(w.paint_combo)
    return bar


def _fill_relabel_menu(w: MainWindow, menu: QMenu) -> QMenu:
    """One entry per class, with its colour and number key."""
    menu.clear()
    for number, cls in enumerate(w.edits.paint_classes(), start=1):
        label = cls.label or f"segment {cls.id}"
        # The key as text after a tab: a real shortcut here would clash with the window's.
        act = menu.addAction(swatch(cls.color), f"{label}\t{number}" if number <= 9 else label)
        act.triggered.connect(lambda _=False, c=cls: w.edits.relabel_to_class(c))
    if menu.isEmpty():
        menu.addAction("No classes").setEnabled(False)
    return menu


def _sync_undo(w: MainWindow) -> None:
    history = w.edits.history
    w.undo_action.setEnabled(history.can_undo)
    w.redo_action.setEnabled(history.can_redo)
    w.undo_action.setText(f"&Undo {history.undo_text}".rstrip() if history.can_undo else "&Undo")
    w.redo_action.setText(f"&Redo {history.redo_text}".rstrip() if history.can_redo else "&Redo")


def _add(menu: QMenu, *entries) -> None:
    for entry in entries:
        if entry is None:
            menu.addSeparator()
        else:
            menu.addAction(entry)
