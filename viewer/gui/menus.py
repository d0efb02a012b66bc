"""The window's actions, menus and overlay toolbar, in one place.

Every command the user can give is a ``QAction`` with its shortcut here, so the
menus, the toolbars and the shortcut help overlay all list the same things.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QSlider, QToolBar

from viewer.core.render import Mode

if TYPE_CHECKING:
    from viewer.gui.main_window import MainWindow

MODE_TITLES = {Mode.FILLED: "Filled", Mode.OUTLINE: "Outline",
               Mode.FILLED_OUTLINE: "Filled + outline"}
THEME_TITLES = {"system": "&System", "light": "&Light", "dark": "&Dark"}


def action(window: MainWindow, text: str, shortcuts, slot, *, checkable: bool = False,
           tip: str = "") -> QAction:
    """A window action; ``shortcuts`` is one key sequence or a list of them."""
    act = QAction(text, window)
    if not isinstance(shortcuts, list | tuple):
        shortcuts = [shortcuts] if shortcuts else []
    act.setShortcuts([QKeySequence(s) for s in shortcuts])
    act.setCheckable(checkable)
    if tip:
        act.setStatusTip(tip)
    act.triggered.connect(slot)
    return act


def build_menus(w: MainWindow) -> None:
    """Create the actions as attributes of ``w`` and put them in menus."""
    # File
    w.open_image_action = action(w, "Open &image…", QKeySequence.StandardKey.Open,
                                 w.choose_image)
    w.open_folder_action = action(w, "Open &folder…", "Ctrl+Shift+O", w.choose_folder)
    w.open_mask_action = action(w, "Open &mask…", "Ctrl+M", w.choose_mask)
    w.export_action = action(w, "&Export mask…", "Ctrl+E", w.choose_export)
    w.quit_action = action(w, "&Quit", QKeySequence.StandardKey.Quit, w.close)
    menu = w.menuBar().addMenu("&File")
    w.compare_action = action(w, "&Compare with a second mask…", "Ctrl+K",
                              lambda: w.compare.choose_other())
    w.compare_original_action = action(w, "Compare with the mask as &opened (before edits)",
                                       "Ctrl+Shift+K", lambda: w.compare.compare_with_original())
    menu.addActions([w.open_image_action, w.open_folder_action, w.open_mask_action,
                     w.compare_action, w.compare_original_action])
    w.recent_menu = menu.addMenu("Open &recent")
    w.recent_menu.aboutToShow.connect(w.fill_recent_menu)
    menu.addSeparator()
    menu.addAction(w.export_action)
    menu.addSeparator()
    menu.addAction(w.quit_action)

    _build_go_menu(w)
    _build_view_menu(w)
    _build_model_and_review_menus(w)
    # Help
    w.shortcuts_action = action(w, "&Keyboard shortcuts", ["F1", "?"], w.toggle_shortcuts)
    help_menu = w.menuBar().addMenu("&Help")
    help_menu.addAction(w.shortcuts_action)
    from viewer.gui.about_dialog import show_about

    w.about_action = action(w, "&About SegView", None, lambda: show_about(w))
    w.about_action.setMenuRole(QAction.MenuRole.AboutRole)  # macOS: the application menu
    help_menu.addAction(w.about_action)


def _build_go_menu(w: MainWindow) -> None:
    # Go: folder navigation. A/D as in labelme, Page keys as in image browsers.
    w.previous_action = action(w, "&Previous image", ["A", "PgUp"], lambda: w.step_item(-1))
    w.next_action = action(w, "&Next image", ["D", "PgDown"], lambda: w.step_item(1))
    w.first_action = action(w, "&First image", "Home", lambda: w.go_to_item(0))
    w.last_action = action(w, "&Last image", "End", lambda: w.go_to_item(-1))
    w.previous_action.setIconText("◀")
    w.next_action.setIconText("▶")
    go = w.menuBar().addMenu("&Go")
    go.addActions([w.previous_action, w.next_action, w.first_action, w.last_action])


def _build_view_menu(w: MainWindow) -> None:
    w.overlay_action = action(w, "Show &overlay", "O", w.canvas.set_overlay_visible,
                              checkable=True)
    w.overlay_action.setChecked(True)
    w.isolate_action = action(w, "Show only &selected", "S", w.set_isolate, checkable=True)
    w.zoom_fit_action = action(w, "Zoom to &fit", "F", w.canvas.zoom_to_fit)
    w.zoom_actual_action = action(w, "&Actual pixels (1:1)", "Ctrl+1",
                                  lambda: w.canvas.set_zoom(1.0))
    w.zoom_in_action = action(w, "Zoom &in", ["+", "="], lambda: w.canvas.zoom_by(1.25))
    w.zoom_out_action = action(w, "Zoom &out", "-", lambda: w.canvas.zoom_by(0.8))
    w.zoom_selection_action = action(w, "Zoom to &selection", "Z", w.zoom_to_selection)
    w.alpha_up_action = action(w, "More opaque overlay", "]", lambda: w.step_alpha(10))
    w.alpha_down_action = action(w, "More transparent overlay", "[", lambda: w.step_alpha(-10))
    w.next_mode_action = action(w, "Next overlay &mode", "M", w.cycle_mode)
    view = w.menuBar().addMenu("&View")
    for entry in (w.overlay_action, w.isolate_action, w.next_mode_action, None,
                  w.alpha_up_action, w.alpha_down_action, None, w.zoom_fit_action,
                  w.zoom_actual_action, w.zoom_in_action, w.zoom_out_action,
                  w.zoom_selection_action, None):
        if entry is None:
            view.addSeparator()
        else:
            view.addAction(entry)
    themes = view.addMenu("&Theme")
    w.theme_group = QActionGroup(w)
    w.theme_actions = {}
    for name, title in THEME_TITLES.items():
        act = action(w, title, None, lambda _=False, n=name: w.set_theme(n), checkable=True)
        w.theme_group.addAction(act)
        themes.addAction(act)
        w.theme_actions[name] = act
    w.panels_menu = view.addMenu("&Panels")


def _build_model_and_review_menus(w: MainWindow) -> None:
    # Model
    w.segment_image_action = action(w, "&Segment this image", "Ctrl+R", w.models.run_on_image)
    w.segment_folder_action = action(w, "Segment the &folder", "Ctrl+Shift+R",
                                     w.models.run_on_folder)
    w.heatmap_action = action(w, "Confidence &heatmap", "H", w.models.set_heatmap,
                              checkable=True)
    w.model_panel.heatmap_toggled.connect(w.heatmap_action.setChecked)
    w.next_uncertain_action = action(w, "Next &uncertain region", "U", w.models.next_uncertain)
    model = w.menuBar().addMenu("&Model")
    model.addActions([w.segment_image_action, w.segment_folder_action, w.heatmap_action,
                      w.next_uncertain_action])

    # Review: one key each, reachable with the left hand beside A/D.
    w.accept_action = action(w, "&Accept", "Y", lambda: w.reviews.set_state("accepted"))
    w.reject_action = action(w, "&Reject", "R", lambda: w.reviews.set_state("rejected"))
    w.flag_action = action(w, "&Flag", "G", lambda: w.reviews.set_state("flagged"))
    w.next_unreviewed_action = action(w, "&Next unreviewed", "Space", w.reviews.next_unreviewed)
    w.next_filtered_action = action(w, "Next in &filter", "Shift+D", lambda: w.reviews.step())
    w.previous_filtered_action = action(w, "Previous in f&ilter", "Shift+A",
                                        lambda: w.reviews.step(backwards=True))
    w.report_action = action(w, "Write review &report…", None,
                             lambda: w.reviews.choose_report_folder())
    review = w.menuBar().addMenu("&Review")
    review.addActions([w.accept_action, w.reject_action, w.flag_action,
                       w.next_unreviewed_action, w.next_filtered_action,
                       w.previous_filtered_action])
    review.addSeparator()
    review.addAction(w.report_action)


def shortcut_groups(w: MainWindow) -> list[tuple[str, list[QAction]]]:
    """The actions listed by the shortcut help overlay, grouped as in the menus."""
    return [
        ("Files", [w.open_image_action, w.open_folder_action, w.open_mask_action,
                   w.compare_action, w.export_action, w.quit_action]),
        ("Folder", [w.previous_action, w.next_action, w.first_action, w.last_action]),
        ("Overlay", [w.overlay_action, w.isolate_action, w.next_mode_action,
                     w.alpha_up_action, w.alpha_down_action]),
        ("Zoom", [w.zoom_fit_action, w.zoom_actual_action, w.zoom_in_action,
                  w.zoom_out_action, w.zoom_selection_action]),
        ("Model", [w.segment_image_action, w.segment_folder_action, w.heatmap_action,
                   w.next_uncertain_action]),
        ("Edit", [w.undo_action, w.redo_action, w.save_action, *w.tool_actions.values(),
                  w.smaller_brush_action, w.larger_brush_action, w.square_brush_action,
                  w.close_polygon_action, w.cancel_edit_action, w.relabel_actions[0],
                  w.rename_class_action, w.add_class_action, w.merge_action, w.split_action,
                  w.delete_action, w.delete_void_action]),
        ("Review", [w.accept_action, w.reject_action, w.flag_action, w.next_unreviewed_action,
                    w.next_filtered_action, w.previous_filtered_action]),
        ("Video", [w.open_video_action, w.play_action, w.step_back_action,
                   w.step_forward_action, w.back_ten_action, w.forward_ten_action,
                   w.first_frame_action, w.last_frame_action, w.go_to_frame_action,
                   w.next_suspicious_action, w.demo_action, w.next_palette_action]),
        ("Help", [w.shortcuts_action]),
    ]


def build_overlay_toolbar(w: MainWindow) -> QToolBar:
    """Overlay toggle, alpha slider with its value, and the mode choice."""
    bar = QToolBar("Overlay", w)
    bar.setObjectName("overlay_toolbar")
    bar.addAction(w.overlay_action)
    bar.addSeparator()
    bar.addWidget(QLabel(" Alpha "))
    w.alpha_slider = QSlider(Qt.Orientation.Horizontal, w)
    w.alpha_slider.setRange(0, 100)
    w.alpha_slider.setFixedWidth(180)
    w.alpha_slider.setToolTip("Overlay opacity ([ and ] step it)")
    w.alpha_slider.setValue(round(w.canvas.alpha * 100))
    bar.addWidget(w.alpha_slider)
    w.alpha_label = QLabel(f" {w.alpha_slider.value():3d} % ")
    bar.addWidget(w.alpha_label)
    bar.addSeparator()
    bar.addWidget(QLabel(" Mode "))
    w.mode_combo = QComboBox(w)
    for mode, title in MODE_TITLES.items():
        w.mode_combo.addItem(title, mode)
    w.mode_combo.setCurrentIndex(list(MODE_TITLES).index(w.render_settings.mode))
    bar.addWidget(w.mode_combo)
    bar.addSeparator()
    bar.addAction(w.isolate_action)
    bar.addAction(w.zoom_selection_action)
    return bar
