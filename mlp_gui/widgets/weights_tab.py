"""The Weights tab: what the first layer looks for, one 28x28 image per hidden unit.

Column ``j`` of ``W1`` (784 x n_hidden) holds the weights from every pixel to hidden unit ``j``;
reshaped to 28x28 it shows the pattern that excites the unit (red, positive weight) or inhibits
it (blue, negative weight). :meth:`WeightsTab.show_weights` is called after every epoch, so it
must be cheap: the grid is assembled as one RGB array with NumPy (about 1 ms for 64 units) and
shown as a single pixmap, instead of 64 Matplotlib axes (which would take a second to draw).
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QImage, QLinearGradient, QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSpinBox, QVBoxLayout, QWidget

from mlp_gui.qt_numpy import array_to_qimage

__all__ = ["WeightsTab", "diverging_lut", "weights_mosaic"]

TILE = 28
GAP = 2
MAX_UNITS = 64

# Anchor colours of a blue-white-red diverging map (ColorBrewer RdBu, reversed): negative
# weights blue, zero white, positive red. Interpolated once into a 256-entry table, so the
# tab needs no Matplotlib.
_ANCHORS = np.array(
    [
        [5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240],
        [247, 247, 247],
        [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31],
    ],
    dtype=np.float64,
)


def diverging_lut() -> np.ndarray:
    """A (256, 3) uint8 colour table: index 0 = most negative, 128 = zero, 255 = most positive."""
    x = np.linspace(0.0, 1.0, len(_ANCHORS))
    t = np.linspace(0.0, 1.0, 256)
    return np.stack([np.interp(t, x, _ANCHORS[:, c]) for c in range(3)], axis=1).round().astype(np.uint8)


_LUT = diverging_lut()


def weights_mosaic(
    W1: np.ndarray, max_units: int = MAX_UNITS, columns: int | None = None, background: int = 236
) -> np.ndarray:
    """First-layer weights as one RGB image of 28x28 tiles.

    Parameters
    ----------
    W1 : ndarray, shape (784, n_hidden)
        Weights from the pixels to the first hidden layer (or to the classes, for softmax
        regression).
    max_units : int
        Show at most this many units (the first ones).
    columns : int, optional
        Tiles per row; default ``ceil(sqrt(n))``.
    background : int
        Grey level of the gaps and of unused cells.

    Returns
    -------
    ndarray, shape (rows * 30 - 2, columns * 30 - 2, 3), uint8
        Each tile scaled symmetrically by its own largest absolute weight, so 0 is always white
        and every unit uses the full colour range; tiles are 2 px apart.
    """
    W = np.asarray(W1, dtype=np.float32)
    if W.ndim != 2 or W.shape[0] != TILE * TILE:
        raise ValueError(f"expected first-layer weights of shape (784, n_hidden), got {W.shape}")
    n = min(W.shape[1], max_units)
    if n == 0:
        raise ValueError("the layer has no units")
    cols = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    W = W[:, :n]
    scale = np.abs(W).max(axis=0)
    scale[scale == 0] = 1.0
    # -1..1 per unit, then to 0..255 indices into the colour table.
    idx = np.rint((W / scale + 1.0) * 127.5).astype(np.uint8)
    tiles = _LUT[idx.T.reshape(n, TILE, TILE)]  # (n, 28, 28, 3)
    step = TILE + GAP
    out = np.full((rows * step - GAP, cols * step - GAP, 3), background, dtype=np.uint8)
    for j in range(n):
        r, c = divmod(j, cols)
        out[r * step : r * step + TILE, c * step : c * step + TILE] = tiles[j]
    return out


class _MosaicView(QWidget):
    """Paints an image scaled to fit, without smoothing (each weight stays a sharp square)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 200)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(600, 600)

    def set_image(self, image: QImage | None) -> None:
        self.image = image
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        if self.image is None:
            return
        iw, ih = self.image.width(), self.image.height()
        # Fill the space (fractional scale): at 2x and more, the uneven pixel sizes of nearest-
        # neighbour scaling are not visible, and whole multiples would leave much of it empty.
        scale = min(self.width() / iw, self.height() / ih)
        w, h = iw * scale, ih * scale
        painter = QPainter(self)
        painter.drawImage(QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h), self.image)
        painter.end()


class _ColorBar(QWidget):
    """A horizontal legend of the colour map: negative, 0, positive."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedHeight(34)
        self.setMinimumWidth(240)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        fm = painter.fontMetrics()
        bar = QRectF(0, 0, self.width(), 14)
        grad = QLinearGradient(bar.topLeft(), bar.topRight())
        for i in range(0, 256, 32):
            grad.setColorAt(i / 255, QColor(*map(int, _LUT[i])))
        grad.setColorAt(1.0, QColor(*map(int, _LUT[255])))
        painter.fillRect(bar, grad)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        y = 16
        h = fm.height()
        painter.drawText(QRectF(0, y, self.width(), h), Qt.AlignmentFlag.AlignLeft, "−max (inhibits)")
        painter.drawText(QRectF(0, y, self.width(), h), Qt.AlignmentFlag.AlignHCenter, "0")
        painter.drawText(QRectF(0, y, self.width(), h), Qt.AlignmentFlag.AlignRight, "+max (excites)")
        painter.end()


class WeightsTab(QWidget):
    """The first layer's weights of the current model as a grid of 28x28 images.

    Methods
    -------
    show_weights(W1, title)
        Show ``W1`` ``(784, n_hidden)`` (a copy is fine; it is not kept).
    clear()
        Show the "nothing yet" hint.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._W: np.ndarray | None = None
        bg = self.palette().color(QPalette.ColorRole.Window)
        self._background = int(round(0.299 * bg.red() + 0.587 * bg.green() + 0.114 * bg.blue()))
        self._title = ""
        self.title = QLabel()
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.title.setFont(font)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.units = QSpinBox()
        self.units.setRange(1, 1024)
        self.units.setValue(MAX_UNITS)
        self.units.setToolTip("How many hidden units to show (the first ones)")
        self.units.valueChanged.connect(lambda _v: self._render())
        self.view = _MosaicView()
        self.colorbar = _ColorBar()
        self.hint = QLabel(
            "The first layer's weights appear here while a run trains (after each epoch): one 28x28 "
            "image per hidden unit, showing which pixels excite it (red) or inhibit it (blue)."
        )
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)

        controls = QHBoxLayout()
        controls.addWidget(self.title, 1)
        self.units_label = QLabel("Units shown:")
        controls.addWidget(self.units_label)
        controls.addWidget(self.units)
        legend = QHBoxLayout()
        legend.addStretch(1)
        legend.addWidget(self.colorbar, 2)
        legend.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.caption)
        layout.addWidget(self.hint, 1)
        layout.addWidget(self.view, 1)
        layout.addLayout(legend)
        self.clear()

    def image(self) -> QImage | None:
        """The grid image shown (one pixel per weight plus 2-px gaps), or None."""
        return self.view.image

    def show_weights(self, W1: np.ndarray, title: str) -> None:
        """Show first-layer weights ``W1`` of shape ``(784, n_hidden)`` under ``title``."""
        W = np.asarray(W1)
        if W.ndim != 2 or W.shape[0] != TILE * TILE:
            self.clear(f"{title}: the first layer has shape {W.shape}; only 28x28-pixel inputs (784) can be shown.")
            return
        self._W = W
        self._title = title
        self._render()

    def clear(self, message: str | None = None) -> None:
        self._W = None
        self.view.set_image(None)
        self.title.setText("")
        self.caption.setText("")
        if message:
            self.hint.setText(message)
        self.hint.show()
        for w in (self.view, self.colorbar, self.units, self.units_label):
            w.hide()

    def _render(self) -> None:
        if self._W is None:
            return
        W = self._W
        n_units = W.shape[1]
        n = min(self.units.value(), n_units)
        self.view.set_image(array_to_qimage(weights_mosaic(W, max_units=n, background=self._background)))
        self.title.setText(self._title)
        which = f"all {n_units}" if n == n_units else f"the first {n} of {n_units}"
        self.caption.setText(
            f"Weights from the 784 pixels to {which} units of the first layer, each image scaled to its "
            "own largest weight. (Without a hidden layer, the units are the classes and each image is a "
            "class template.)"
        )
        self.hint.hide()
        for w in (self.view, self.colorbar, self.units, self.units_label):
            w.show()
