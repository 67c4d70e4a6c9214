"""A square canvas to draw digits and garments on: white ink on black, like MNIST.

Built after Qt's "Scribble" example: strokes are painted into an off-screen ``QImage`` as the
mouse moves, and ``paintEvent`` only copies the damaged part of that image to the screen. The
strokes are also kept as point lists, so undo simply repaints all but the last one (a few
hundred line segments: well under a millisecond).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from mlp_gui.qt_numpy import qimage_to_array

__all__ = ["DrawingCanvas"]


class DrawingCanvas(QWidget):
    """A ``size`` x ``size`` drawing surface with a round brush, undo and clear.

    Parameters
    ----------
    parent : QWidget, optional
    size : int
        Side of the canvas in pixels (280 = 10x the 28x28 MNIST images).
    pen_width : float
        Initial brush diameter in pixels.

    Signals
    -------
    drawing_changed()
        After every change of the picture (each mouse move while drawing, undo, clear). It
        carries no array: converting the image on every mouse move would be wasted work; the
        listener throttles and calls :meth:`image` when it wants the pixels.
    stroke_finished()
        When a stroke ends (mouse release or :meth:`draw_stroke`).
    """

    drawing_changed = Signal()
    stroke_finished = Signal()

    MIN_PEN_WIDTH = 4
    MAX_PEN_WIDTH = 48

    def __init__(self, parent: QWidget | None = None, size: int = 280, pen_width: float = 18) -> None:
        super().__init__(parent)
        self._size = int(size)
        self._pen_width = float(pen_width)
        self._image = QImage(self._size, self._size, QImage.Format.Format_Grayscale8)
        self._image.fill(0)
        # Each stroke: (pen width, points). Kept to replay for undo.
        self._strokes: list[tuple[float, list[QPointF]]] = []
        self._current: list[QPointF] | None = None
        self.setFixedSize(self._size, self._size)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        # The image covers every pixel, so Qt need not clear the background first.
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip("Draw with the left mouse button. Ctrl+Z undoes a stroke; Delete, Esc or Ctrl+L clears.")

    # -- state ------------------------------------------------------------------------------------
    @property
    def pen_width(self) -> float:
        return self._pen_width

    def set_pen_width(self, width: float) -> None:
        """Brush diameter in pixels for the next strokes (clamped to 4..48)."""
        self._pen_width = float(min(max(width, self.MIN_PEN_WIDTH), self.MAX_PEN_WIDTH))

    def is_empty(self) -> bool:
        return not self._strokes and self._current is None

    def stroke_count(self) -> int:
        return len(self._strokes) + (self._current is not None)

    def qimage(self) -> QImage:
        """A copy of the off-screen image (Grayscale8)."""
        return self._image.copy()

    def image(self) -> np.ndarray:
        """The drawing as a ``(size, size)`` float32 array in [0, 1], ink = 1."""
        return qimage_to_array(self._image).astype(np.float32) * np.float32(1.0 / 255.0)

    # -- editing ----------------------------------------------------------------------------------
    def clear(self) -> None:
        """Erase everything (undo history included)."""
        if self.is_empty():
            return
        self._strokes.clear()
        self._current = None
        self._image.fill(0)
        self.update()
        self.drawing_changed.emit()

    def undo(self) -> None:
        """Remove the last stroke."""
        if not self._strokes:
            return
        self._strokes.pop()
        self._image.fill(0)
        for width, points in self._strokes:
            self._paint_polyline(width, points)
        self.update()
        self.drawing_changed.emit()

    def draw_stroke(self, points: Iterable[Sequence[float]], width: float | None = None) -> None:
        """Draw a whole stroke through ``points`` ``[(x, y), ...]`` (widget pixels), as the mouse would.

        For tests and scripts (e.g. the screenshot session).
        """
        pts = [QPointF(float(x), float(y)) for x, y in points]
        if not pts:
            return
        w = self._pen_width if width is None else float(width)
        self._strokes.append((w, pts))
        self._paint_polyline(w, pts)
        self.update()
        self.drawing_changed.emit()
        self.stroke_finished.emit()

    # -- painting ---------------------------------------------------------------------------------
    def _pen(self, width: float) -> QPen:
        pen = QPen(QColor(255, 255, 255))
        pen.setWidthF(width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return pen

    def _paint_polyline(self, width: float, points: list[QPointF]) -> None:
        painter = QPainter(self._image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(self._pen(width))
        if len(points) == 1:
            painter.drawPoint(points[0])
        else:
            painter.drawPolyline(points)
        painter.end()

    def _paint_segment(self, a: QPointF, b: QPointF) -> None:
        painter = QPainter(self._image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(self._pen(self._pen_width))
        if a == b:
            painter.drawPoint(a)
        else:
            painter.drawLine(a, b)
        painter.end()
        # Repaint only the segment's bounding box grown by the brush radius.
        r = self._pen_width / 2 + 2
        box = QRectF(a, b).normalized().adjusted(-r, -r, r, r)
        self.update(box.toAlignedRect())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        rect: QRect = event.rect()
        painter.drawImage(rect, self._image, rect)
        painter.end()

    # -- mouse --------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        p = event.position()
        self._current = [p]
        self._paint_segment(p, p)
        self.drawing_changed.emit()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._current is None or not (event.buttons() & Qt.MouseButton.LeftButton):
            return super().mouseMoveEvent(event)
        p = event.position()
        self._paint_segment(self._current[-1], p)
        self._current.append(p)
        self.drawing_changed.emit()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() != Qt.MouseButton.LeftButton or self._current is None:
            return super().mouseReleaseEvent(event)
        p = event.position()
        if p != self._current[-1]:
            self._paint_segment(self._current[-1], p)
            self._current.append(p)
        self._strokes.append((self._pen_width, self._current))
        self._current = None
        self.drawing_changed.emit()
        self.stroke_finished.emit()
