"""Drawing canvas, prediction panel and Draw tab, driven by synthetic mouse events."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

import mlp_engine
from mlp_engine import MLP
from mlp_engine.data import synthetic_dataset
from mlp_gui.widgets import model_list
from mlp_gui.widgets.draw_tab import DrawTab
from mlp_gui.widgets.drawing_canvas import DrawingCanvas
from mlp_gui.widgets.prediction_panel import PredictionPanel


@pytest.fixture(scope="module")
def net():
    """A tiny model trained on synthetic data (10 classes named "0".."9", like MNIST)."""
    data = synthetic_dataset(n_train=256, n_test=64)
    trainer = mlp_engine.Trainer(
        mlp_engine.TrainConfig(dataset="synthetic", hidden=(16,), epochs=2, batch_size=32), data
    )
    trainer.fit()
    return trainer.net


def _send(widget, kind, x, y, button, buttons):
    event = QMouseEvent(kind, QPointF(x, y), widget.mapToGlobal(QPointF(x, y)), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def mouse_stroke(canvas, points, release=True):
    """Press at the first point, move through the others with the left button held, release."""
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    _send(canvas, QEvent.Type.MouseButtonPress, *points[0], left, left)
    for x, y in points[1:]:
        _send(canvas, QEvent.Type.MouseMove, x, y, none, left)
    if release:
        _send(canvas, QEvent.Type.MouseButtonRelease, *points[-1], left, none)


SEVEN = [(90, 70), (150, 60), (190, 80), (170, 120), (140, 170), (120, 220)]


@pytest.fixture
def tab(qtbot, net):
    t = DrawTab(models_dir=None)
    qtbot.addWidget(t)
    t.add_model("run-1", "Run 1", net, "synthetic")
    t.resize(1000, 600)
    t.show()
    qtbot.waitExposed(t)
    return t


# -- canvas ------------------------------------------------------------------------------------


def test_canvas_mouse_stroke_paints_white_ink(qtbot):
    canvas = DrawingCanvas()
    qtbot.addWidget(canvas)
    assert canvas.is_empty() and canvas.image().max() == 0
    with qtbot.waitSignal(canvas.stroke_finished):
        mouse_stroke(canvas, [(50, 140), (230, 140)])
    img = canvas.image()
    assert img.shape == (280, 280) and img.dtype == np.float32
    assert img[140, 50:231].min() > 0.99  # along the stroke
    assert img[140 - 20, :].max() == 0 and img[:, 10].max() == 0  # away from it (brush 18 px)
    assert canvas.stroke_count() == 1


def test_canvas_undo_and_clear(qtbot):
    canvas = DrawingCanvas()
    qtbot.addWidget(canvas)
    canvas.draw_stroke([(40, 40), (240, 40)])
    first = canvas.image()
    canvas.set_pen_width(30)
    canvas.draw_stroke([(140, 60), (140, 250)])
    assert canvas.image()[200, 140] > 0.99 and canvas.image()[200, 140 + 13] > 0.5  # wider brush
    with qtbot.waitSignal(canvas.drawing_changed):
        canvas.undo()
    np.testing.assert_array_equal(canvas.image(), first)
    with qtbot.waitSignal(canvas.drawing_changed):
        canvas.clear()
    assert canvas.is_empty() and canvas.image().max() == 0
    canvas.undo()  # nothing left to undo: no error


def test_prediction_panel_shows_top_class():
    panel = PredictionPanel()
    p = np.array([0.1, 0.7, 0.2])
    panel.set_probabilities(p, ["cat", "dog", "bird"])
    assert panel.headline.text() == "dog" and "70.0 %" in panel.detail.text()
    np.testing.assert_allclose(panel.probabilities(), p)
    panel.clear("Draw…")
    assert panel.probabilities() is None and panel.headline.text() == "Draw…"
    with pytest.raises(ValueError):
        panel.set_probabilities(p, ["a", "b"])


# -- draw tab ----------------------------------------------------------------------------------


def test_mouse_drawing_gives_a_prediction_and_the_28x28_input(qtbot, tab, net):
    with qtbot.waitSignal(tab.prediction_changed) as blocker:
        mouse_stroke(tab.canvas, SEVEN)
    proba = blocker.args[0]
    assert proba is not None and proba.shape == (10,)
    shown = tab.panel.probabilities()
    assert shown.sum() == pytest.approx(1.0, abs=1e-5)
    assert tab.panel.headline.text() == net.class_names[int(np.argmax(shown))]
    x = tab.last_input
    assert x.shape == (28, 28) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    rows, cols = np.indices(x.shape)
    cy, cx = (rows * x).sum() / x.sum(), (cols * x).sum() / x.sum()
    assert abs(cy - 14) < 1 and abs(cx - 14) < 1  # MNIST-style centring by centre of mass
    pix = tab.preview.pixmap()
    assert not pix.isNull() and (pix.width(), pix.height()) == (168, 168)
    # the prediction is the model's answer for exactly that 28x28 image
    expected = net.predict_proba(x.reshape(1, -1) * 255, preprocessed=False)[0]
    np.testing.assert_allclose(shown, expected, rtol=1e-5)


def test_prediction_follows_the_pen_before_release(qtbot, tab):
    with qtbot.waitSignal(tab.prediction_changed, timeout=2000) as blocker:
        mouse_stroke(tab.canvas, SEVEN, release=False)  # the throttle timer fires while drawing
    assert blocker.args[0] is not None


def test_prediction_is_fast(tab):
    tab.canvas.draw_stroke(SEVEN)
    times = []
    for _ in range(7):
        tab.predict_now()
        times.append(tab.last_seconds)
    assert np.median(times) < 0.015  # stroke -> prediction within 15 ms of work


def test_empty_canvas_gives_no_prediction(qtbot, tab):
    tab.predict_now()
    assert tab.panel.probabilities() is None
    assert tab.panel.headline.text() == "Draw a digit…"
    tab.canvas.draw_stroke(SEVEN)
    assert tab.panel.probabilities() is not None
    with qtbot.waitSignal(tab.prediction_changed) as blocker:
        tab.clear_button.click()
        tab.predict_now()
    assert blocker.args[0] is None
    assert tab.panel.probabilities() is None and tab.last_input is None
    assert tab.preview.pixmap().isNull()


def test_undo_button_restores_previous_prediction(qtbot, tab):
    tab.canvas.draw_stroke(SEVEN)
    one = tab.panel.probabilities()
    tab.canvas.draw_stroke([(60, 240), (230, 240)])
    assert not np.allclose(tab.panel.probabilities(), one)
    tab.undo_button.click()
    tab.predict_now()
    np.testing.assert_allclose(tab.panel.probabilities(), one, rtol=1e-6)


def test_keyboard_shortcuts_undo_and_clear(qtbot, tab):
    tab.activateWindow()
    tab.canvas.setFocus()
    qtbot.waitUntil(tab.canvas.hasFocus, timeout=2000)
    tab.canvas.draw_stroke(SEVEN)
    tab.canvas.draw_stroke([(60, 240), (230, 240)])
    qtbot.keyClick(tab.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert tab.canvas.stroke_count() == 1
    qtbot.keyClick(tab.canvas, Qt.Key.Key_Escape)
    assert tab.canvas.is_empty()
    tab.canvas.draw_stroke(SEVEN)
    qtbot.keyClick(tab.canvas, Qt.Key.Key_Delete)
    assert tab.canvas.is_empty()


def test_no_model_says_how_to_get_one(qtbot):
    t = DrawTab(models_dir=None)
    qtbot.addWidget(t)
    t.show()
    assert t.note.isVisible()
    assert "No model available" in t.note.text() and "make models" in t.note.text()
    t.canvas.draw_stroke(SEVEN)
    assert t.panel.probabilities() is None and t.panel.headline.text() == "No model"
    assert t.last_input is not None  # the 28x28 input is still shown


def test_bundled_models_load_when_shown(qtbot, tmp_path, net):
    net.save(tmp_path / "mnist.npz")
    t = DrawTab(models_dir=tmp_path)
    qtbot.addWidget(t)
    assert t.chooser.keys() == ["bundled:mnist"]
    assert t.chooser.entry("bundled:mnist").net is None  # nothing read before the tab is shown
    t.show()
    assert t.current_model() is not None
    t.canvas.draw_stroke(SEVEN)
    assert t.panel.probabilities() is not None


def test_fashion_model_gets_a_visible_note(qtbot, tab, net):
    tab.add_model("run-f", "Fashion run", net, "fashion-mnist")
    assert tab.chooser.current_key() == "run-1"  # a run the user picked stays selected
    tab.chooser.set_current("run-f")
    assert tab.note.isVisible() and "photographs" in tab.note.text()
    tab.chooser.set_current("run-1")
    assert not tab.note.isVisible()


def test_remove_and_rename_models(tab):
    tab.rename_model("run-1", "Renamed")
    assert tab.chooser.combo.currentText() == "Renamed"
    tab.remove_model("run-1")
    assert tab.chooser.keys() == [] and tab.current_model() is None
    assert "No model available" in tab.note.text()


@pytest.fixture
def warnings_shown(monkeypatch):
    shown = []
    monkeypatch.setattr(model_list.QMessageBox, "warning", lambda parent, title, text, *a: shown.append((title, text)))
    return shown


def test_open_corrupt_model_file_shows_the_error(qtbot, tab, tmp_path, monkeypatch, warnings_shown):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"this is not a zip file at all")
    monkeypatch.setattr(model_list.QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    tab.chooser.open_button.click()
    assert len(warnings_shown) == 1
    title, text = warnings_shown[0]
    assert "broken.npz" in text and "not a readable" in text
    assert tab.chooser.current_key() == "run-1"  # nothing changed


def test_model_with_wrong_input_size_is_refused(qtbot, tab, tmp_path, monkeypatch, warnings_shown):
    path = tmp_path / "small.npz"
    MLP([100, 8, 10]).save(path)
    monkeypatch.setattr(model_list.QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    tab.chooser.open_button.click()
    assert len(warnings_shown) == 1
    assert "small.npz" in warnings_shown[0][1] and "100 inputs" in warnings_shown[0][1] and "784" in warnings_shown[0][1]
    assert len(tab.chooser.keys()) == 1


def test_open_good_model_file_selects_it(qtbot, tab, tmp_path, net, monkeypatch, warnings_shown):
    path = tmp_path / "saved.npz"
    net.save(path)
    monkeypatch.setattr(model_list.QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    tab.chooser.open_button.click()
    assert warnings_shown == []
    assert tab.chooser.combo.currentText() == "saved.npz"
    tab.canvas.draw_stroke(SEVEN)
    np.testing.assert_allclose(tab.panel.probabilities().sum(), 1.0, rtol=1e-5)
