"""Class probabilities as a bar chart, with the top prediction in big text.

A light custom widget rather than Matplotlib: it repaints in well under a millisecond, which is
what a prediction that follows the pen needs (a Matplotlib redraw takes tens of milliseconds).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

__all__ = ["PredictionPanel", "ProbabilityBars"]


class ProbabilityBars(QWidget):
    """One horizontal bar per class: name, bar, percentage; the most likely class highlighted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._p: np.ndarray | None = None
        self._names: tuple[str, ...] = ()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(220, 280)

    def set_values(self, p: np.ndarray | None, names: Sequence[str]) -> None:
        self._p = None if p is None else np.asarray(p, dtype=np.float64)
        self._names = tuple(names)
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(300, 26 * max(len(self._names), 10))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        names = self._names
        if not names:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        fm = painter.fontMetrics()
        n = len(names)
        row_h = min(self.height() / n, 34.0)
        name_w = max(fm.horizontalAdvance(s) for s in names) + 10
        pct_w = fm.horizontalAdvance("100.0 %") + 8
        bar_x = name_w
        bar_w = max(self.width() - name_w - pct_w, 10)
        top = int(np.argmax(self._p)) if self._p is not None else -1
        highlight = pal.color(QPalette.ColorRole.Highlight)
        track = pal.color(QPalette.ColorRole.Mid)
        track.setAlpha(60)
        other = QColor(highlight)
        other.setAlpha(110)
        for i, name in enumerate(names):
            y = i * row_h
            bar_h = row_h * 0.62
            by = y + (row_h - bar_h) / 2
            painter.setPen(pal.color(QPalette.ColorRole.WindowText))
            font = painter.font()
            font.setBold(i == top)
            painter.setFont(font)
            painter.drawText(
                QRectF(0, y, name_w - 6, row_h), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, name
            )
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(track)
            painter.drawRoundedRect(QRectF(bar_x, by, bar_w, bar_h), 3, 3)
            if self._p is not None:
                v = float(self._p[i])
                painter.setBrush(highlight if i == top else other)
                painter.drawRoundedRect(QRectF(bar_x, by, max(bar_w * v, 1.0), bar_h), 3, 3)
                painter.setPen(pal.color(QPalette.ColorRole.WindowText))
                painter.drawText(
                    QRectF(bar_x + bar_w + 4, y, pct_w, row_h),
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                    f"{100 * v:.1f} %",
                )
        painter.end()


class PredictionPanel(QWidget):
    """The network's answer: top class in big text, then all class probabilities as bars.

    Methods
    -------
    set_probabilities(p, class_names)
        Show a prediction (``p`` sums to 1).
    clear(hint)
        No prediction; ``hint`` (e.g. "Draw a digit…") takes the place of the answer.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._p: np.ndarray | None = None
        self._names: tuple[str, ...] = ()
        self.headline = QLabel()
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 3.0)
        font.setBold(True)
        self.headline.setFont(font)
        self.headline.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.bars = ProbabilityBars()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.headline)
        layout.addWidget(self.detail)
        layout.addSpacing(6)
        layout.addWidget(self.bars, 1)
        self.clear("")

    def probabilities(self) -> np.ndarray | None:
        """The probabilities shown, or None when there is no prediction."""
        return None if self._p is None else self._p.copy()

    def top_class(self) -> int | None:
        return None if self._p is None else int(np.argmax(self._p))

    def set_probabilities(self, p: np.ndarray, class_names: Sequence[str]) -> None:
        p = np.asarray(p, dtype=np.float64).ravel()
        if len(p) != len(class_names):
            raise ValueError(f"{len(p)} probabilities for {len(class_names)} class names")
        self._p = p
        self._names = tuple(class_names)
        order = np.argsort(p)[::-1]
        top = int(order[0])
        self.headline.setText(self._names[top])
        second = f"; next: {self._names[order[1]]} ({100 * p[order[1]]:.1f} %)" if len(p) > 1 else ""
        self.detail.setText(f"{100 * p[top]:.1f} % sure{second}")
        self.bars.set_values(p, self._names)

    def clear(self, hint: str = "", class_names: Sequence[str] | None = None) -> None:
        """Remove the prediction; show ``hint`` instead and empty bars for ``class_names``."""
        self._p = None
        if class_names is not None:
            self._names = tuple(class_names)
        self.headline.setText(hint)
        self.detail.setText("")
        self.bars.set_values(None, self._names)
