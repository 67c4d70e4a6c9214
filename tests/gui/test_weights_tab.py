"""WeightsTab: first-layer weights as one image of 28x28 tiles."""
from __future__ import annotations

import time

import numpy as np
import pytest

from mlp_gui.qt_numpy import array_to_qimage, qimage_to_array
from mlp_gui.widgets.weights_tab import WeightsTab, diverging_lut, weights_mosaic


@pytest.fixture
def tab(qtbot):
    t = WeightsTab()
    qtbot.addWidget(t)
    t.resize(900, 700)
    t.show()
    return t


def test_shows_a_pixmap_of_the_expected_size(tab):
    W1 = np.random.default_rng(0).normal(size=(784, 256)).astype(np.float32)
    tab.show_weights(W1, "Run 1 · epoch 3")
    img = tab.image()
    assert (img.width(), img.height()) == (8 * 30 - 2, 8 * 30 - 2)  # first 64 units, 8 x 8
    assert tab.title.text() == "Run 1 · epoch 3"
    assert "first 64 of 256" in tab.caption.text()
    assert tab.view.isVisible() and not tab.hint.isVisible()
    tab.units.setValue(10)  # 4 columns x 3 rows
    assert (tab.image().width(), tab.image().height()) == (4 * 30 - 2, 3 * 30 - 2)


def test_tiles_are_the_weight_columns_on_a_diverging_scale():
    W = np.zeros((784, 2), np.float32)
    W[0, 0] = 2.0  # top-left pixel of unit 0: most positive -> dark red
    W[783, 0] = -2.0  # bottom-right pixel of unit 0: most negative -> dark blue
    W[28 * 14 + 3, 1] = -0.5  # unit 1 scaled by its own max |w|
    m = weights_mosaic(W, columns=2)
    lut = diverging_lut()
    assert m.shape == (28, 58, 3)
    np.testing.assert_array_equal(m[0, 0], lut[255])
    np.testing.assert_array_equal(m[27, 27], lut[0])
    np.testing.assert_array_equal(m[5, 5], lut[128])  # zero -> the middle (white) colour
    np.testing.assert_array_equal(m[14, 30 + 3], lut[0])
    assert lut[128].min() > 240  # white-ish middle


def test_update_per_epoch_is_cheap(tab):
    W1 = np.random.default_rng(1).normal(size=(784, 256)).astype(np.float32)
    tab.show_weights(W1, "warm-up")
    t0 = time.perf_counter()
    for epoch in range(5):
        tab.show_weights(W1 * (epoch + 1), f"epoch {epoch}")
    assert (time.perf_counter() - t0) / 5 < 0.05


def test_clear_and_wrong_shape(tab):
    tab.show_weights(np.ones((784, 4), np.float32), "x")
    tab.clear()
    assert tab.image() is None and tab.hint.isVisible()
    tab.show_weights(np.ones((100, 4), np.float32), "Small model")
    assert tab.image() is None and "784" in tab.hint.text()


def test_qimage_roundtrip_with_row_padding(qtbot):
    a = np.random.default_rng(0).integers(0, 256, size=(7, 30), dtype=np.uint8)  # 30 px: padded rows
    img = array_to_qimage(a)
    a_copy = a.copy()
    a[:] = 0  # the image owns its pixels
    np.testing.assert_array_equal(qimage_to_array(img), a_copy)
    f = np.linspace(0, 1, 28 * 28, dtype=np.float32).reshape(28, 28)
    np.testing.assert_array_equal(qimage_to_array(array_to_qimage(f)), np.rint(f * 255).astype(np.uint8))
    rgb = np.zeros((3, 5, 3), np.uint8)
    rgb[..., 0] = 255
    assert array_to_qimage(rgb).pixelColor(4, 2).red() == 255
    with pytest.raises(ValueError):
        array_to_qimage(np.zeros((2, 2, 2), np.uint8))
