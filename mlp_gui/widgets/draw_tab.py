"""The Draw tab: draw a digit (or a garment) and watch the network classify it as you draw.

Pipeline per update: canvas pixels (280x280) -> :func:`mlp_engine.to_mnist` (28x28, MNIST-style
crop, scale and centring) -> ``net.predict_proba(..., preprocessed=False)`` with the model's own
preprocessing. About 3 ms in all, so it can follow the pen; a single-shot timer still throttles
it to one update per 30 ms, because mouse moves arrive faster than anyone can see a change.
"""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from mlp_engine import MLP, EmptyDrawingError, to_mnist
from mlp_gui.qt_numpy import array_to_qimage
from mlp_gui.widgets.drawing_canvas import DrawingCanvas
from mlp_gui.widgets.model_list import ModelChooser, describe_model
from mlp_gui.widgets.prediction_panel import PredictionPanel

__all__ = ["DrawTab"]

PREVIEW_SCALE = 6  # the 28x28 input shown as 168x168, nearest-neighbour so pixels stay visible
THROTTLE_MS = 30

FASHION_NOTE = (
    "<b>Note:</b> this model learned from <i>photographs</i> of clothes (Fashion-MNIST), not from "
    "drawings. A sketch looks different from those photos, so expect shaky answers. Filled "
    "silhouettes work best: a trouser, a bag, a boot."
)
NO_MODEL_NOTE = (
    "<b>No model available.</b> Train a run in the Train tab (its model appears here when it "
    "finishes), open a saved model with “Open model file…”, or build the bundled models with "
    "<code>make models</code>."
)


class DrawTab(QWidget):
    """Canvas, the 28x28 image the network sees, and the network's prediction.

    Parameters
    ----------
    parent : QWidget, optional
    models_dir : path, None or "default"
        Folder of the bundled models (default: the app's ``resources/models``); ``None`` for none.

    Signals
    -------
    status_message(str)
        A short message for the status bar.
    prediction_changed(object)
        The probabilities after each prediction (ndarray), or None when cleared.
    """

    status_message = Signal(str)
    prediction_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, models_dir="default") -> None:
        super().__init__(parent)
        self._net: MLP | None = None
        self._net_key = ""
        self._model_stale = True
        self.last_input: np.ndarray | None = None  # the (28, 28) image of the last prediction
        self.last_seconds = 0.0  # time spent on the last prediction (conversion + forward pass)

        self.chooser = ModelChooser(models_dir=models_dir)
        self.chooser.model_changed.connect(self._on_model_changed)
        self.chooser.status_message.connect(self.status_message)
        self.model_info = QLabel()
        self.model_info.setStyleSheet("color: #555;")
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.RichText)
        self.note.setFrameShape(QFrame.Shape.StyledPanel)
        self.note.setStyleSheet("QLabel { background: #fff4d6; color: #4a3b00; padding: 8px; border-radius: 4px; }")

        # -- canvas column
        self.canvas = DrawingCanvas()
        self.canvas.drawing_changed.connect(self._schedule)
        self.canvas.stroke_finished.connect(self.predict_now)
        canvas_frame = QFrame()
        canvas_frame.setFrameShape(QFrame.Shape.Box)
        frame_layout = QVBoxLayout(canvas_frame)
        frame_layout.setContentsMargins(1, 1, 1, 1)
        frame_layout.addWidget(self.canvas)
        canvas_frame.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.width_slider = QSlider(Qt.Orientation.Horizontal)
        self.width_slider.setRange(DrawingCanvas.MIN_PEN_WIDTH, DrawingCanvas.MAX_PEN_WIDTH)
        self.width_slider.setValue(int(self.canvas.pen_width))
        self.width_slider.setToolTip("Brush diameter in pixels")
        self.width_label = QLabel()
        self.width_slider.valueChanged.connect(self._on_width)
        self._on_width(self.width_slider.value())
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Remove the last stroke (Ctrl+Z)")
        self.undo_button.clicked.connect(self.canvas.undo)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Erase the drawing (Delete, Esc or Ctrl+L)")
        self.clear_button.clicked.connect(self.canvas.clear)

        canvas_box = QGroupBox("Draw here")
        cl = QGridLayout(canvas_box)
        cl.addWidget(canvas_frame, 0, 0, 1, 3, Qt.AlignmentFlag.AlignHCenter)
        cl.addWidget(QLabel("Brush:"), 1, 0)
        cl.addWidget(self.width_slider, 1, 1)
        cl.addWidget(self.width_label, 1, 2)
        buttons = QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.clear_button)
        cl.addLayout(buttons, 2, 0, 1, 3)
        cl.setRowStretch(3, 1)

        # -- what the network sees
        self.preview = QLabel()
        self.preview.setFixedSize(28 * PREVIEW_SCALE, 28 * PREVIEW_SCALE)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background: black; color: #888;")
        preview_caption = QLabel(
            "Your drawing cropped, scaled to 20x20 and centred on a 28x28 grid by its centre of mass, "
            "as the MNIST digits were prepared."
        )
        preview_caption.setWordWrap(True)
        preview_caption.setMaximumWidth(28 * PREVIEW_SCALE + 40)
        preview_box = QGroupBox("What the network sees (28x28)")
        pl = QVBoxLayout(preview_box)
        pl.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignHCenter)
        pl.addWidget(preview_caption)
        pl.addStretch(1)

        # -- prediction
        self.panel = PredictionPanel()
        panel_box = QGroupBox("Prediction")
        QVBoxLayout(panel_box).addWidget(self.panel)

        # Bars wider than ~600 px are harder to compare, not easier: cap the panel and let the
        # row end in empty space on very wide windows.
        panel_box.setMaximumWidth(640)
        panel_box.setMinimumWidth(340)
        row = QHBoxLayout()
        row.addWidget(canvas_box)
        row.addWidget(preview_box)
        row.addWidget(panel_box, 1)
        row.addStretch(0)
        top = QVBoxLayout(self)
        top.addWidget(self.chooser)
        top.addWidget(self.model_info)
        top.addWidget(self.note)
        top.addLayout(row)
        top.addStretch(1)

        # The timer must be an attribute: a local QTimer would be garbage-collected before firing.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(THROTTLE_MS)
        self._timer.timeout.connect(self.predict_now)

        # Shortcuts only while this tab (or a child) has focus, so they never clash with other tabs.
        ctx = Qt.ShortcutContext.WidgetWithChildrenShortcut
        for seq, slot in (
            (QKeySequence.StandardKey.Undo, self.canvas.undo),
            (QKeySequence(Qt.Key.Key_Delete), self.canvas.clear),
            (QKeySequence(Qt.Key.Key_Escape), self.canvas.clear),
            (QKeySequence("Ctrl+L"), self.canvas.clear),
        ):
            shortcut = QShortcut(QKeySequence(seq), self)
            shortcut.setContext(ctx)
            shortcut.activated.connect(slot)

        self._update_note()
        self._show_empty()

    # -- public API (used by the main window) ---------------------------------------------------
    def add_model(self, key: str, label: str, net: MLP, dataset_name: str) -> None:
        """Offer a run's model in the chooser (replacing an entry with the same key)."""
        self.chooser.add_model(key, label, net, dataset_name)

    def remove_model(self, key: str) -> None:
        self.chooser.remove_model(key)

    def rename_model(self, key: str, label: str) -> None:
        self.chooser.rename_model(key, label)

    def current_model(self) -> MLP | None:
        """The model predictions come from (loads a bundled model on first use)."""
        self._ensure_model()
        return self._net

    # -- model ------------------------------------------------------------------------------------
    def _on_model_changed(self, _key: str) -> None:
        self._model_stale = True
        # Loading a bundled model reads a file: wait until the tab is actually shown.
        if self.isVisible():
            self._ensure_model()
            self.predict_now()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._model_stale:
            self._ensure_model()
            self.predict_now()

    def _ensure_model(self) -> None:
        if not self._model_stale:
            return
        self._model_stale = False
        self._net = self.chooser.current_model()
        entry = self.chooser.current_entry()
        self._net_key = entry.key if entry else ""
        self._update_note()

    def _dataset_name(self) -> str:
        entry = self.chooser.current_entry()
        return entry.dataset_name if entry else ""

    def _update_note(self) -> None:
        net, name = self._net, self._dataset_name()
        if net is None and not self.chooser.keys():
            self.note.setText(NO_MODEL_NOTE)
            self.note.show()
        elif name == "fashion-mnist":
            self.note.setText(FASHION_NOTE)
            self.note.show()
        else:
            self.note.hide()
        self.model_info.setText(describe_model(net, name) if net is not None else "")
        self.model_info.setVisible(net is not None)

    def _hint(self) -> str:
        if self._net is None:
            return "No model"
        if self._dataset_name() == "fashion-mnist":
            return "Draw a garment…"
        if self._dataset_name() == "mnist" or tuple(self._net.class_names) == tuple(map(str, range(10))):
            return "Draw a digit…"
        return "Draw something…"

    # -- prediction -------------------------------------------------------------------------------
    def _on_width(self, value: int) -> None:
        self.canvas.set_pen_width(value)
        self.width_label.setText(f"{value} px")

    def _schedule(self) -> None:
        # Throttle, not debounce: a timer restarted on every move would never fire while the
        # pen keeps moving; this one fires 30 ms after the first change it has not yet shown.
        if not self._timer.isActive():
            self._timer.start()

    def _show_empty(self) -> None:
        names = self._net.class_names if self._net is not None else ()
        self.panel.clear(self._hint(), names)
        self.preview.setPixmap(QPixmap())
        self.preview.setText("empty")
        self.last_input = None

    def predict_now(self) -> None:
        """Classify the current drawing now (also called by the throttle timer and on mouse release)."""
        self._timer.stop()
        self._ensure_model()
        if self.canvas.is_empty():
            self._show_empty()
            self.prediction_changed.emit(None)
            return
        t0 = time.perf_counter()
        try:
            x = to_mnist(self.canvas.image(), invert=False)
        except EmptyDrawingError:
            self._show_empty()
            self.prediction_changed.emit(None)
            return
        self.last_input = x
        self.preview.setPixmap(
            QPixmap.fromImage(array_to_qimage(x)).scaled(
                28 * PREVIEW_SCALE,
                28 * PREVIEW_SCALE,
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.FastTransformation,  # nearest neighbour: show the real pixels
            )
        )
        if self._net is None:
            self.panel.clear(self._hint())
            self.prediction_changed.emit(None)
            return
        # to_mnist gives ink in [0, 1]; the model expects raw 0..255 pixels and applies its own
        # preprocessing (log, scale, ...), exactly as in training.
        proba = self._net.predict_proba(x.reshape(1, -1) * np.float32(255), preprocessed=False)[0]
        self.last_seconds = time.perf_counter() - t0
        self.panel.set_probabilities(proba, self._net.class_names)
        self.prediction_changed.emit(proba)
