"""The image canvas: a cached photo and overlay layers, alpha applied at paint time.

Follows ``PERFORMANCE.md``: the photo is converted to RGB32 once; the overlay is
a premultiplied ARGB32 image wrapped around a numpy buffer; moving the alpha
slider only calls ``update()`` and paints with ``setOpacity``. The image is
fitted to the widget; masks are never smoothed (nearest neighbour), so pixels
stay crisp when enlarged.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from viewer.gui.qimage import base_image, wrap_premultiplied


class CanvasWidget(QWidget):
    """Shows one photo with overlay layers on top.

    Signals
    -------
    hovered(int, int)
        ``(row, col)`` of the image pixel under the cursor; (-1, -1) outside.
    """

    hovered = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._base: QImage | None = None
        self._layers: list[tuple[QImage, np.ndarray, bool]] = []
        self._alpha = 0.5
        self._overlay_visible = True
        self.setMouseTracking(True)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(40, 40, 44))
        self.setPalette(palette)

    # -- content -------------------------------------------------------------
    def set_image(self, rgb: np.ndarray | None) -> None:
        """Show a new photo, (H, W, 3) uint8 RGB, or nothing."""
        self._base = base_image(rgb) if rgb is not None else None
        self.update()

    def set_overlay(self, fill: np.ndarray | None, outline: np.ndarray | None = None) -> None:
        """Show new overlay layers: premultiplied BGRA (H, W, 4) uint8 buffers.

        ``fill`` is painted at the current alpha, ``outline`` opaque. The
        buffers are wrapped, not copied, and kept alive here.
        """
        self._layers = [(wrap_premultiplied(buf), buf, opaque)
                        for buf, opaque in ((fill, False), (outline, True)) if buf is not None]
        self.update()

    def image_size(self) -> tuple[int, int] | None:
        """``(width, height)`` of the photo, or None."""
        return None if self._base is None else (self._base.width(), self._base.height())

    # -- display state -------------------------------------------------------
    @property
    def alpha(self) -> float:
        """Overlay opacity, 0..1."""
        return self._alpha

    def set_alpha(self, alpha: float) -> None:
        """Change the overlay opacity: one repaint, no re-render."""
        self._alpha = float(np.clip(alpha, 0.0, 1.0))
        self.update()

    @property
    def overlay_visible(self) -> bool:
        """True when the overlay is drawn."""
        return self._overlay_visible

    def set_overlay_visible(self, visible: bool) -> None:
        """Show or hide the overlay."""
        self._overlay_visible = bool(visible)
        self.update()

    # -- geometry ------------------------------------------------------------
    def image_rect(self) -> QRectF:
        """Where the photo is drawn in widget coordinates (fitted, centred)."""
        size = self.image_size()
        if size is None:
            return QRectF()
        width, height = size
        scale = min(self.width() / width, self.height() / height)
        w, h = width * scale, height * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def widget_to_pixel(self, point: QPointF) -> tuple[int, int] | None:
        """Return ``(row, col)`` of the photo pixel under a widget point, or None."""
        rect, size = self.image_rect(), self.image_size()
        if size is None or not rect.contains(point):
            return None
        col = int((point.x() - rect.x()) * size[0] / rect.width())
        row = int((point.y() - rect.y()) * size[1] / rect.height())
        if 0 <= row < size[1] and 0 <= col < size[0]:
            return row, col
        return None

    # -- Qt events -----------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        if self._base is None:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "No image open.\nUse File > Open image… or drop a file here.")
            return
        target = self.image_rect()
        # Smooth only the photo, and only when shrinking it; masks stay nearest-neighbour.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform,
                              target.width() < self._base.width())
        painter.drawImage(target, self._base)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        if self._overlay_visible:
            for image, _buffer, opaque in self._layers:
                painter.setOpacity(1.0 if opaque else self._alpha)
                painter.drawImage(target, image)
        painter.end()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        pixel = self.widget_to_pixel(event.position())
        self.hovered.emit(*(pixel if pixel is not None else (-1, -1)))
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.hovered.emit(-1, -1)
        super().leaveEvent(event)
