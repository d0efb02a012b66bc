"""Demo mode: the picture full screen, looping, segmented live, with an FPS readout.

For a stand at a fair or a screen in a lab: menus, panels and toolbars go
away, the video loops (a camera just runs), the chosen model segments frames
that have no mask, and a corner label shows the frames per second and the
keys. Leaving (Esc or F11) puts every panel and bar back as it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QLabel, QToolBar

from viewer.gui.menus import action
from viewer.gui.richtext import plain

if TYPE_CHECKING:
    from viewer.gui.main_window import MainWindow

KEYS_TEXT = "Space play/pause · O overlay · [ ] alpha · C palette · M mode · Esc leave"


class DemoMode(QObject):
    """Enter and leave demo mode on a window."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.on = False
        self._bars: list = []
        self._layout = None
        self._was_maximized = False
        self._was_live = False
        self.label = plain(QLabel(window.canvas))
        self.label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.label.setStyleSheet("QLabel { background: rgba(0, 0, 0, 160); color: white; "
                                 "padding: 6px 10px; border-radius: 4px; font-size: 13pt; }")
        self.label.hide()
        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self.update_readout)
        self.leave_action = action(window, "Leave demo mode", "Esc", self.leave)
        self.leave_action.setEnabled(False)
        window.addAction(self.leave_action)

    def toggle(self) -> None:
        """Enter when out, leave when in."""
        self.leave() if self.on else self.enter()

    def enter(self) -> None:
        """Full screen, no chrome, looping with live segmentation."""
        w = self.window
        if self.on:
            return
        self.on = True
        self._was_maximized = w.isMaximized()
        # Qt's own record of the docks and toolbars (tabs, sizes, visibility): showing
        # tabbed docks one by one afterwards would rearrange them.
        self._layout = w.saveState()
        self._bars = [bar for bar in (w.menuBar(), w.statusBar()) if bar.isVisible()]
        for bar in [*w.findChildren(QDockWidget), *w.findChildren(QToolBar), *self._bars]:
            bar.hide()
        # The keys must work with the menus hidden: give the window the actions.
        w.addActions(self._actions())
        w.cancel_edit_action.setEnabled(False)  # Esc leaves instead
        self.leave_action.setEnabled(True)
        self._was_live = w.video.live
        if w.models.runner() is not None and not w.live_action.isChecked():
            w.live_action.trigger()
        video = w.video
        if video.player is not None:
            video.player.loop = True
            if not video.player.playing:
                video.toggle_play()
        w.showFullScreen()
        w.canvas.zoom_to_fit()
        self.label.show()
        self.label.raise_()
        self.update_readout()
        self._timer.start()

    def leave(self) -> None:
        """Back to the window as it was (panels, bars, size); playback goes on."""
        w = self.window
        if not self.on:
            return
        self.on = False
        self._timer.stop()
        self.label.hide()
        for act in self._actions():
            w.removeAction(act)
        w.cancel_edit_action.setEnabled(True)
        self.leave_action.setEnabled(False)
        if w.live_action.isChecked() != self._was_live:
            w.live_action.trigger()
        if w.video.player is not None:
            w.video.player.loop = w.loop_action.isChecked()
        w.showMaximized() if self._was_maximized else w.showNormal()
        w.restoreState(self._layout)
        for bar in self._bars:
            bar.show()
        self._bars = []

    def update_readout(self) -> None:
        """FPS, the source and the model, and the keys."""
        w = self.window
        if w.stream.active:
            fps, source = w.stream.meter.fps, w.stream.stream.name
        elif w.video.active:
            fps, source = w.video.player.measured_fps, w.video.path.name
        else:
            fps, source = 0.0, "nothing open"
        manifest = w.model_panel.manifest
        model = manifest.name if manifest is not None and w.video.live else "no live model"
        self.label.setText(f"{fps:5.1f} fps · {source} · {model}\n{KEYS_TEXT}")
        self.label.adjustSize()
        self.label.move(12, 12)

    def _actions(self) -> list:
        w = self.window
        return [w.play_action, w.overlay_action, w.alpha_up_action, w.alpha_down_action,
                w.next_palette_action, w.next_mode_action, w.demo_action]
