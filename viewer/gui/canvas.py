"""The image canvas: a cached photo and overlay layers, alpha applied at paint time.

Follows ``PERFORMANCE.md``: the photo is converted to RGB32 once; the overlay is
a premultiplied ARGB32 image wrapped around a numpy buffer; moving the alpha
slider only calls ``update()`` and paints with ``setOpacity``. The view fits
the widget until the user zooms (wheel about the cursor, or the zoom methods)
and pans (drag); only the visible part of the image is drawn. Masks are never
smoothed (nearest neighbour), so pixels stay crisp when enlarged.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from viewer.gui.qimage import base_image, wrap_premultiplied

EMPTY_TEXT = ("No image open\n\n"
              "Open an image (Ctrl+O) or a folder (Ctrl+Shift+O),\n"
              "or drop images, masks or a folder here.\n\n"
              "F1 lists the keyboard shortcuts.")


class CanvasWidget(QWidget):
    """Shows one photo with overlay layers on top.

    Signals
    -------
    hovered(int, int)
        ``(row, col)`` of the image pixel under the cursor; (-1, -1) outside.
    clicked(int, int)
        ``(row, col)`` of a pixel clicked without dragging.
    zoom_changed(float)
        The new scale (screen pixels per image pixel).
    view_moved()
        Zoom or pan changed (a linked view follows with :meth:`set_view_state`).
    stroke_started(int, int), stroke_moved(int, int), stroke_ended()
        With a painting tool (:meth:`set_tool`): the left button paints, the
        middle button still pans.
    double_clicked(int, int)
        A double click on a pixel (closes a polygon).
    """

    hovered = Signal(int, int)
    clicked = Signal(int, int)
    zoom_changed = Signal(float)
    view_moved = Signal()
    stroke_started = Signal(int, int)
    stroke_moved = Signal(int, int)
    stroke_ended = Signal()
    double_clicked = Signal(int, int)

    MIN_ZOOM, MAX_ZOOM = 0.02, 64.0
    WHEEL_STEP = 1.25
    DRAG_THRESHOLD = 4  # pixels of movement before a press becomes a pan

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._base: QImage | None = None
        self._size: tuple[int, int] | None = None  # the photo's (width, height)
        # Buffer pixels per photo pixel: below 1 when a video plays from copies made
        # at the view's resolution, so a 4K frame is not scaled down at every paint.
        self._density = 1.0
        self._layers: list[tuple[QImage, np.ndarray, bool]] = []
        self._alpha = 0.5
        self._overlay_visible = True
        self._zoom: float | None = None  # None: fit the widget
        self._center = QPointF()  # image point shown at the widget's centre
        self._press: QPointF | None = None
        self._dragging = False
        self._tool = "select"
        self._brush = (9, "round")
        self._hover: QPointF | None = None
        self._stroking = False
        self._polygon: list[tuple[int, int]] = []
        # Split view: the second overlay's layers, shown right of this fraction of the width.
        self._split: float | None = None
        self._split_layers: list[tuple[QImage, np.ndarray, bool]] = []
        self.setMouseTracking(True)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(40, 40, 44))
        self.setPalette(palette)

    # -- content -------------------------------------------------------------
    def set_image(self, rgb: np.ndarray | None, *, size: tuple[int, int] | None = None) -> None:
        """Show a new photo, (H, W, 3) uint8 RGB, or nothing; a new size resets the view.

        ``size`` is the photo's ``(width, height)`` when ``rgb`` is a smaller copy of it
        (video playback at the view's resolution); the overlay layers set next must be
        of ``rgb``'s size then.
        """
        old = self.image_size()
        self._base = base_image(rgb) if rgb is not None else None
        if rgb is None:
            self._size, self._density = None, 1.0
        else:
            self._size = size or (rgb.shape[1], rgb.shape[0])
            self._density = rgb.shape[1] / self._size[0]
        if self.image_size() != old:
            self.zoom_to_fit()
        self.update()

    def set_overlay(self, fill: np.ndarray | None, outline: np.ndarray | None = None) -> None:
        """Show new overlay layers: premultiplied BGRA (H, W, 4) uint8 buffers.

        ``fill`` is painted at the current alpha, ``outline`` opaque. The
        buffers are wrapped, not copied, and kept alive here.
        """
        self._layers = [(wrap_premultiplied(buf), buf, opaque)
                        for buf, opaque in ((fill, False), (outline, True)) if buf is not None]
        self.update()

    def update_box(self, bbox: tuple[int, int, int, int]) -> None:
        """Repaint only the widget area over image box ``(row0, col0, row1, col1)``.

        The overlay buffers were changed in place there (an edit), so nothing
        else needs drawing again.
        """
        rect, scale = self.image_rect(), self.scale()
        r0, c0, r1, c1 = bbox
        area = QRectF(rect.x() + c0 * scale, rect.y() + r0 * scale,
                      (c1 - c0) * scale, (r1 - r0) * scale)
        self.update(area.toAlignedRect().adjusted(-1, -1, 1, 1))

    @property
    def density(self) -> float:
        """Buffer pixels per photo pixel: 1, or less while a video plays from view-sized copies."""
        return self._density

    def image_size(self) -> tuple[int, int] | None:
        """``(width, height)`` of the photo, or None."""
        return self._size

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

    # -- view ------------------------------------------------------------------
    def scale(self) -> float:
        """Screen pixels per image pixel."""
        size = self.image_size()
        if size is None:
            return 1.0
        if self._zoom is None:
            return min(self.width() / size[0], self.height() / size[1])
        return self._zoom

    def zoom_to_fit(self) -> None:
        """Fit the whole image in the widget (follows resizes)."""
        size = self.image_size()
        self._zoom = None
        self._center = QPointF(size[0] / 2, size[1] / 2) if size else QPointF()
        self._view_changed()

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``zoom`` (1.0 = one screen pixel per image pixel).

        ``anchor`` (widget coordinates, default the centre) keeps the image
        point under it in place, as wheel zooming should.
        """
        if self.image_size() is None:
            return
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        fixed = self._widget_to_image(anchor)
        zoom = float(np.clip(zoom, self.MIN_ZOOM, self.MAX_ZOOM))
        self._zoom = zoom
        offset = (QPointF(self.width() / 2, self.height() / 2) - anchor) / zoom
        self._center = fixed + offset
        self._view_changed()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Multiply the zoom by ``factor``."""
        self.set_zoom(self.scale() * factor, anchor)

    def zoom_to_rect(self, row0: int, col0: int, row1: int, col1: int, margin: float = 0.1) -> None:
        """Show the image box ``(row0, col0, row1, col1)`` (half-open) filling the widget."""
        width, height = max(col1 - col0, 1), max(row1 - row0, 1)
        zoom = min(self.width() / width, self.height() / height) / (1 + 2 * margin)
        self._zoom = float(np.clip(zoom, self.MIN_ZOOM, self.MAX_ZOOM))
        self._center = QPointF((col0 + col1) / 2, (row0 + row1) / 2)
        self._view_changed()

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the view by a widget-space offset (a drag of dx, dy)."""
        if self._zoom is None:
            self._zoom = self.scale()
        self._center -= QPointF(dx, dy) / self.scale()
        self._view_changed()

    def _view_changed(self) -> None:
        self.zoom_changed.emit(self.scale())
        self.view_moved.emit()
        self.update()

    def view_state(self) -> tuple[float | None, QPointF]:
        """``(zoom, centre)``: zoom None means "fit"; the centre is in image pixels."""
        return self._zoom, QPointF(self._center)

    def set_view_state(self, state: tuple[float | None, QPointF]) -> None:
        """Show the same part of the image as another canvas (linked views)."""
        zoom, center = state
        if zoom == self._zoom and center == self._center:
            return  # already there: stops two linked canvases echoing each other
        self._zoom, self._center = zoom, QPointF(center)
        self._view_changed()

    @property
    def tool(self) -> str:
        """The tool the mouse uses: "select", "brush", "eraser", "fill", "polygon" or "lasso"."""
        return self._tool

    def set_tool(self, tool: str, size: int | None = None, shape: str | None = None) -> None:
        """Choose the mouse tool and, for brushes, the size (image pixels) and shape."""
        self._tool = tool
        self._brush = (size or self._brush[0], shape or self._brush[1])
        painting = tool in ("brush", "eraser")
        self.setCursor(Qt.CursorShape.BlankCursor if painting else
                       Qt.CursorShape.CrossCursor if tool != "select" else
                       Qt.CursorShape.ArrowCursor)
        self.update()

    def set_polygon(self, points: list[tuple[int, int]]) -> None:
        """Show the outline of a polygon being drawn, vertices ``(row, col)``."""
        self._polygon = list(points)
        self.update()

    def set_split(self, fraction: float | None,
                  fill: np.ndarray | None = None, outline: np.ndarray | None = None) -> None:
        """Show a second overlay right of ``fraction`` of the width (None: no split)."""
        self._split = None if fraction is None else float(np.clip(fraction, 0.0, 1.0))
        self._split_layers = [(wrap_premultiplied(buf), buf, opaque)
                              for buf, opaque in ((fill, False), (outline, True))
                              if buf is not None] if fraction is not None else []
        self.update()

    # -- geometry ------------------------------------------------------------
    def image_rect(self) -> QRectF:
        """Where the whole photo lies in widget coordinates (may extend past the widget)."""
        size = self.image_size()
        if size is None:
            return QRectF()
        scale = self.scale()
        center = QPointF(size[0] / 2, size[1] / 2) if self._zoom is None else self._center
        left = self.width() / 2 - center.x() * scale
        top = self.height() / 2 - center.y() * scale
        return QRectF(left, top, size[0] * scale, size[1] * scale)

    def _widget_to_image(self, point: QPointF) -> QPointF:
        rect = self.image_rect()
        scale = self.scale()
        return QPointF((point.x() - rect.x()) / scale, (point.y() - rect.y()) / scale)

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
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, EMPTY_TEXT)
            return
        rect, scale = self.image_rect(), self.scale()
        # Draw only the visible part: at high zoom a 4K image is mostly off-screen.
        visible = rect.intersected(QRectF(self.rect()))
        if visible.isEmpty():
            painter.end()
            return
        source = QRectF((visible.x() - rect.x()) / scale, (visible.y() - rect.y()) / scale,
                        visible.width() / scale, visible.height() / scale)
        # Whole image pixels, so photo and mask pixels stay aligned at any zoom.
        source = QRectF(np.floor(source.left()), np.floor(source.top()),
                        np.ceil(source.right()) - np.floor(source.left()),
                        np.ceil(source.bottom()) - np.floor(source.top()))
        target = QRectF(rect.x() + source.x() * scale, rect.y() + source.y() * scale,
                        source.width() * scale, source.height() * scale)
        if self._density != 1.0:
            d = self._density
            source = QRectF(source.x() * d, source.y() * d, source.width() * d,
                            source.height() * d)
        # Smooth only the photo, and only when shrinking it; masks stay nearest-neighbour.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform,
                              scale < self._density)
        painter.drawImage(target, self._base, source)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        if self._overlay_visible:
            self._paint_layers(painter, target, source)
        self._paint_tool(painter, rect, scale)
        painter.end()

    def _paint_tool(self, painter: QPainter, rect: QRectF, scale: float) -> None:
        # The brush outline at its true size, and the polygon being drawn.
        painter.setOpacity(1.0)
        painter.setClipping(False)
        if self._tool in ("brush", "eraser") and self._hover is not None:
            pixel = self.widget_to_pixel(self._hover)
            if pixel is not None:
                size, shape = self._brush
                row, col = pixel
                box = QRectF(rect.x() + (col - (size - 1) // 2) * scale,
                             rect.y() + (row - (size - 1) // 2) * scale, size * scale, size * scale)
                for color, inset in ((QColor(0, 0, 0), 0.0), (QColor(255, 255, 255), 1.0)):
                    painter.setPen(color)
                    shrunk = box.adjusted(inset, inset, -inset, -inset)
                    if shape == "square":
                        painter.drawRect(shrunk)
                    else:
                        painter.drawEllipse(shrunk)
        if len(self._polygon) > 0:
            painter.setPen(QColor(255, 255, 0))
            points = [QPointF(rect.x() + (c + 0.5) * scale, rect.y() + (r + 0.5) * scale)
                      for r, c in self._polygon]
            if self._hover is not None:
                points.append(self._hover)
            painter.drawPolyline(points)

    def _paint_layers(self, painter: QPainter, target: QRectF, source: QRectF) -> None:
        split_x = None if self._split is None else self.width() * self._split
        groups = [(self._layers, None)]
        if split_x is not None:
            left = QRectF(0, 0, split_x, self.height())
            right = QRectF(split_x, 0, self.width() - split_x, self.height())
            groups = [(self._layers, left), (self._split_layers, right)]
        for layers, clip in groups:
            if clip is not None:
                painter.setClipRect(clip)
            for image, _buffer, opaque in layers:
                painter.setOpacity(1.0 if opaque else self._alpha)
                painter.drawImage(target, image, source)
        if split_x is not None:
            painter.setClipping(False)
            painter.setOpacity(1.0)
            painter.setPen(QColor(255, 255, 255))
            painter.drawLine(QPointF(split_x, 0), QPointF(split_x, self.height()))

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        pixel = self.widget_to_pixel(event.position())
        if (self._tool in ("brush", "eraser", "lasso")
                and event.button() == Qt.MouseButton.LeftButton
                and pixel is not None):
            self._stroking = True
            self.stroke_started.emit(*pixel)
        elif event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
            self._press, self._dragging = event.position(), False
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 (Qt override)
        pixel = self.widget_to_pixel(event.position())
        if pixel is not None and event.button() == Qt.MouseButton.LeftButton:
            self.double_clicked.emit(*pixel)
        super().mouseDoubleClickEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self._hover = event.position()
        if self._tool != "select":
            self.update()  # the brush outline or polygon follows the mouse
        if self._stroking:
            pixel = self.widget_to_pixel(event.position())
            if pixel is not None:
                self.stroke_moved.emit(*pixel)
        elif self._press is not None:
            delta = event.position() - self._press
            if self._dragging or delta.manhattanLength() >= self.DRAG_THRESHOLD:
                self._dragging = True
                self.pan_by(delta.x(), delta.y())
                self._press = event.position()
        pixel = self.widget_to_pixel(event.position())
        self.hovered.emit(*(pixel if pixel is not None else (-1, -1)))
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._stroking and event.button() == Qt.MouseButton.LeftButton:
            self._stroking = False
            self.stroke_ended.emit()
        elif self._press is not None and not self._dragging:
            pixel = self.widget_to_pixel(event.position())
            if pixel is not None and event.button() == Qt.MouseButton.LeftButton:
                self.clicked.emit(*pixel)
        self._press, self._dragging = None, False
        super().mouseReleaseEvent(event)

    def wheelEvent(self, event) -> None:  # noqa: N802 (Qt override)
        steps = event.angleDelta().y() / 120
        if steps and self.image_size() is not None:
            self.zoom_by(self.WHEEL_STEP ** steps, event.position())
        event.accept()

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self._hover = None
        self.update()
        self.hovered.emit(-1, -1)
        super().leaveEvent(event)
