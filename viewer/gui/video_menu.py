"""The Video menu, its actions and the timeline toolbar.

The keys follow video players: Space plays and pauses, the arrows step one
frame (ten with Shift), Home and End go to the ends. Space, Home and End
belong to the review and folder actions too; those are disabled while a
video is open and these while none is, so each key has one owner at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from viewer.core.video.base import VIDEO_EXTENSIONS
from viewer.gui import dialogs
from viewer.gui.demo_mode import DemoMode
from viewer.gui.menus import action
from viewer.gui.stream_session import StreamSession
from viewer.gui.temporal_panel import TemporalPanel
from viewer.gui.video_bar import VideoBar

if TYPE_CHECKING:
    from viewer.gui.main_window import MainWindow

VIDEO_FILTER = ("Videos (" + " ".join(f"*{ext}" for ext in VIDEO_EXTENSIONS) + ");;All files (*)")
MASK_FILE_FILTER = ("Mask videos and Celantur chunks ("
                    + " ".join(f"*{e}" for e in VIDEO_EXTENSIONS) + " *.json);;All files (*)")


def build_video_menu(w: MainWindow) -> None:
    """Create the video actions on ``w``, the Video menu and the timeline (hidden)."""
    video = w.video
    w.open_video_action = action(w, "Open &video…", "Ctrl+Shift+V", lambda: choose_video(w))
    w.frame_masks_folder_action = action(w, "Per-frame masks from a &folder…", None,
                                         lambda: choose_masks(w, folder=True))
    w.frame_masks_file_action = action(
        w, "Per-frame masks from a fi&le…", None, lambda: choose_masks(w, folder=False),
        tip="A mask video (ClearML) or a Celantur video metadata chunk")
    w.play_action = action(w, "&Play", "Space", video.toggle_play, checkable=True)
    w.step_back_action = action(w, "Step &back", "Left", lambda: video.step(-1))
    w.step_forward_action = action(w, "Step &forward", "Right", lambda: video.step(1))
    w.back_ten_action = action(w, "Back 10 frames", "Shift+Left", lambda: video.step(-10))
    w.forward_ten_action = action(w, "Forward 10 frames", "Shift+Right", lambda: video.step(10))
    w.first_frame_action = action(w, "First frame", "Home", lambda: video.seek(0))
    w.last_frame_action = action(w, "Last frame", "End",
                                 lambda: video.seek(video.reader.frame_count - 1))
    w.go_to_frame_action = action(w, "&Go to frame…", "Ctrl+J", lambda: ask_frame(w))
    w.loop_action = action(w, "&Loop", None, lambda on: setattr(video.player, "loop", on),
                           checkable=True)
    w.live_action = action(w, "Segment while &playing", None, video.set_live, checkable=True,
                           tip="Run the chosen model on frames that have no mask, as they "
                               "are shown; results are kept")
    w.segment_video_action = action(w, "Segment the whole &video", None, video.segment_all)
    w.relabel_everywhere_action = action(
        w, "Relabels apply to &every frame", None,
        lambda on: setattr(video, "relabel_everywhere", on), checkable=True,
        tip="Relabel (number keys, Relabel to) changes the class in every frame of the video")
    w.revert_frame_action = action(w, "&Revert this frame's edits", None, video.revert_frame)
    w.next_suspicious_action = action(w, "Next &suspicious frame", "N",
                                      lambda: w.temporal_panel.next_suspicious())
    w.export_video_action = action(w, "E&xport video masks…", None,
                                   lambda: w.video_exports.choose())
    w.open_stream_action = action(w, "Open &camera or stream…", None, lambda: ask_stream(w),
                                  tip="A camera number (0 is the first) or a stream URL")
    w.demo_action = action(w, "&Demo mode", "F11", lambda: w.demo.toggle(),
                           tip="Full screen, looping, live segmentation, FPS readout")
    w.next_palette_action = action(w, "Next &palette", "C",
                                   lambda: w.palette_panel.next_palette())
    w.play_action.setIconText("▶")
    w.step_back_action.setIconText("◀|")
    w.step_forward_action.setIconText("|▶")
    w.first_frame_action.setIconText("|◀◀")
    w.last_frame_action.setIconText("▶▶|")
    w.video_actions = [w.play_action, w.step_back_action, w.step_forward_action,
                       w.back_ten_action, w.forward_ten_action, w.first_frame_action,
                       w.last_frame_action, w.go_to_frame_action, w.loop_action,
                       w.live_action, w.segment_video_action, w.relabel_everywhere_action,
                       w.export_video_action, w.next_suspicious_action,
                       w.revert_frame_action,
                       w.frame_masks_folder_action,
                       w.frame_masks_file_action]
    menu = QMenu("V&ideo", w)
    # After Go and before View: playing a video is moving through it.
    view = next(a for a in w.menuBar().actions() if a.text() == "&View")
    w.menuBar().insertMenu(view, menu)
    for entry in (w.open_video_action, w.frame_masks_folder_action, w.frame_masks_file_action,
                  w.open_stream_action, None, w.play_action, w.step_back_action,
                  w.step_forward_action, w.back_ten_action, w.forward_ten_action,
                  w.first_frame_action, w.last_frame_action, w.go_to_frame_action,
                  w.loop_action, None,
                  w.live_action, w.segment_video_action, w.relabel_everywhere_action,
                  w.revert_frame_action, w.next_suspicious_action, None,
                  w.export_video_action, None, w.demo_action, w.next_palette_action):
        menu.addSeparator() if entry is None else menu.addAction(entry)
    w.video_menu = menu
    _build_bar_and_panel(w)


def _build_bar_and_panel(w: MainWindow) -> None:
    video = w.video
    w.stream = StreamSession(w)
    w.demo = DemoMode(w)
    w.video_bar = VideoBar([w.first_frame_action, w.step_back_action, w.play_action,
                            w.step_forward_action, w.last_frame_action, None], w)
    w.video_bar.scrubbed.connect(lambda i: video.seek(i, settle=False))
    w.video_bar.released.connect(lambda i: video.seek(i, settle=True))
    w.video_bar.speed_chosen.connect(lambda s: video.player and video.player.set_speed(s))
    w.video_bar.addAction(w.loop_action)
    w.addToolBar(Qt.ToolBarArea.BottomToolBarArea, w.video_bar)
    w.video_bar.hide()
    w.temporal_panel = panel = TemporalPanel(w)
    w.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, panel)
    panel.hide()
    video.opened.connect(w.update_actions)
    video.opened.connect(panel.video_opened)
    video.opened.connect(lambda: _show_panel(w))
    video.frame_shown.connect(panel.frame_shown)
    video.masks_changed.connect(panel.masks_changed)
    video.frames_edited.connect(panel.frames_edited)


def update_video_actions(w: MainWindow) -> None:
    """Enable the video actions only while a video is open, and give it the shared keys."""
    on = w.video.active
    for act in w.video_actions:
        act.setEnabled(on)
    # The Model panel's buttons act on the frame and the video while one is open.
    w.model_panel.run_image_button.setText("Segment this frame" if on else "Segment this image")
    w.model_panel.run_folder_button.setText("Segment the video" if on else "Segment the folder")
    w.live_action.setEnabled(on or w.stream.active)
    w.video_bar.setVisible(on)
    for act in (w.next_unreviewed_action, w.accept_action, w.reject_action, w.flag_action,
                w.next_filtered_action, w.previous_filtered_action):
        act.setEnabled(not on)


def _show_panel(w: MainWindow) -> None:
    panel = w.temporal_panel
    first = not panel.isVisible() and w.video.active
    panel.setVisible(w.video.active)
    if first:
        # Room for the two plots; the picture keeps most of the height.
        w.resizeDocks([panel], [max(200, w.height() // 4)], Qt.Orientation.Vertical)


def choose_video(w: MainWindow) -> None:
    path = dialogs.ask_open_file(w, "Open video", w.last_dir(), VIDEO_FILTER)
    if path:
        w.open_path(path)


def choose_masks(w: MainWindow, *, folder: bool) -> None:
    if folder:
        path = dialogs.ask_folder(w, "Folder of per-frame masks", w.last_dir())
    else:
        path = dialogs.ask_open_file(w, "Per-frame masks", w.last_dir(), MASK_FILE_FILTER)
    if path:
        w.video.open_masks(path)


def ask_frame(w: MainWindow) -> None:
    video = w.video
    if video.player is None:
        return
    last = video.reader.frame_count - 1
    number = dialogs.ask_int(w, "Go to frame", f"Frame (0 to {last}):", video.player.index,
                             0, last)
    if number is not None:
        video.seek(number)


def ask_stream(w: MainWindow) -> None:
    text = dialogs.ask_text(w, "Open camera or stream",
                            "Camera number (0 is the first) or stream URL (rtsp://, http://):",
                            str(w.state.value("stream", "0") or "0"))
    if text:
        w.state.set_value("stream", text)
        w.stream.open(text)
