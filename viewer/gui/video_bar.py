"""The timeline under the picture: transport buttons, the scrubber, frame and time, speed."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QLabel, QSlider, QToolBar, QWidget

from viewer.gui.richtext import plain
from viewer.gui.video_player import SPEEDS


def clock(seconds: float) -> str:
    """``mm:ss.cc`` (``h:mm:ss.cc`` past an hour), as video players show time."""
    seconds = max(seconds, 0.0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{int(minutes):02d}:{secs:05.2f}"
    return f"{int(hours)}:{text}" if hours >= 1 else text


class VideoBar(QToolBar):
    """Play/pause, step, first/last, the timeline slider, frame and time, speed and loop.

    Signals
    -------
    scrubbed(int)
        The slider is being dragged to this frame.
    released(int)
        The drag ended on this frame (or a click or key moved the slider).
    speed_chosen(float)
    """

    scrubbed = Signal(int)
    released = Signal(int)
    speed_chosen = Signal(float)

    def __init__(self, actions: list[QAction | None], parent: QWidget | None = None):
        super().__init__("Video", parent)
        self.setObjectName("video_toolbar")
        self.setMovable(False)
        for act in actions:
            self.addSeparator() if act is None else self.addAction(act)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setMinimumWidth(300)
        self.slider.setToolTip("Drag to scrub; click to jump")
        self.slider.setPageStep(10)
        self.addWidget(self.slider)
        self.position = plain(QLabel(self))
        self.position.setToolTip("Frame (counted from 0) and time")
        self.addWidget(self.position)
        self.addSeparator()
        self.addWidget(QLabel(" Speed "))
        self.speed_combo = QComboBox(self)
        for speed in SPEEDS:
            self.speed_combo.addItem(f"{speed:g}x", speed)
        self.speed_combo.setCurrentIndex(SPEEDS.index(1.0))
        self.addWidget(self.speed_combo)
        self.source_label = plain(QLabel(self))
        self.addWidget(self.source_label)
        self._frames, self._fps = 1, 25.0
        self.slider.sliderMoved.connect(self.scrubbed)
        self.slider.sliderReleased.connect(lambda: self.released.emit(self.slider.value()))
        self.slider.actionTriggered.connect(self._on_action)
        self.speed_combo.currentIndexChanged.connect(
            lambda i: self.speed_chosen.emit(float(self.speed_combo.itemData(i))))

    def set_video(self, frame_count: int, fps: float) -> None:
        """A new video: the slider's range and the clock's rate."""
        self._frames, self._fps = max(frame_count, 1), fps
        self.slider.blockSignals(True)
        self.slider.setRange(0, self._frames - 1)
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.show_position(0)

    def show_position(self, index: int, origin: str | None = None) -> None:
        """Move the slider to ``index`` and write "frame i / n  time / length"."""
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(index)
            self.slider.blockSignals(False)
        fps = self._fps if self._fps > 0 else 25.0
        self.position.setText(f"  frame {index} / {self._frames - 1}   "
                              f"{clock(index / fps)} / {clock(self._frames / fps)}  ")
        self.source_label.setText(f"  mask: {origin or 'none'}  ")

    def _on_action(self, action: int) -> None:
        # Clicks on the groove and keys move the slider without a drag: jump there.
        if action != QSlider.SliderAction.SliderMove:
            self.released.emit(self.slider.sliderPosition())
