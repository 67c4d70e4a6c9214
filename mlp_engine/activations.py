"""Activation gates. Each computes its derivative from its own output where it can (no input cached).

``ACTIVATIONS`` maps the names used in configs, the CLI and the GUI to the classes.
"""
from __future__ import annotations

import numpy as np

from .layers import Layer


class ReLU(Layer):
    """``out = max(x, 0)``; ``dx = dy * (out > 0)``. In place on ``x``.

    Computed as ``x * mask`` with a 0/1 mask in x's own dtype, kept for the backward pass:
    ``np.maximum`` (it handles NaN specially) and a multiply by a boolean array (a mixed-type
    loop) are each 3-4x slower than a comparison plus a same-dtype multiply (measured at
    128 x 256 float32: 28 -> 13 microseconds for forward + backward).
    """

    def forward(self, x, training=False):
        if not training:  # no mask to keep (and no mask-sized buffers for large evaluation chunks)
            return np.maximum(x, 0, out=x)
        positive = self._buffer("positive", x.shape, np.bool_)
        mask = self._buffer("mask", x.shape, x.dtype)
        np.greater(x, 0, out=positive)
        np.copyto(mask, positive)
        x *= mask
        return x

    def backward(self, dy):
        dy *= self._buffers["mask"]
        return dy


class LeakyReLU(Layer):
    """``out = x`` for ``x > 0`` else ``slope * x``; ``dx = dy`` or ``slope * dy``."""

    def __init__(self, slope: float = 0.01) -> None:
        super().__init__()
        if not 0.0 <= slope < 1.0:
            raise ValueError(f"LeakyReLU slope must be in [0, 1), got {slope!r}")
        self.slope = float(slope)

    def forward(self, x, training=False):
        # For 0 <= slope < 1, max(x, slope * x) is exactly the leaky ReLU.
        scaled = self._buffer("scaled", x.shape, x.dtype)
        np.multiply(x, self.slope, out=scaled)
        np.maximum(x, scaled, out=x)
        self._out = x
        return x

    def backward(self, dy):
        neg = self._out <= 0
        dy[neg] *= self.slope
        return dy


class Sigmoid(Layer):
    """``out = 1 / (1 + exp(-x))``; ``dx = dy * out * (1 - out)``."""

    def forward(self, x, training=False):
        # exp(-x) overflows to inf for very negative x, and 1 / (1 + inf) is the right limit 0.
        np.negative(x, out=x)
        with np.errstate(over="ignore"):
            np.exp(x, out=x)
        x += 1
        np.reciprocal(x, out=x)
        self._out = x
        return x

    def backward(self, dy):
        tmp = self._buffer("tmp", dy.shape, dy.dtype)
        np.subtract(1, self._out, out=tmp)
        tmp *= self._out
        dy *= tmp
        return dy


class Tanh(Layer):
    """``out = tanh(x)``; ``dx = dy * (1 - out**2)``."""

    def forward(self, x, training=False):
        np.tanh(x, out=x)
        self._out = x
        return x

    def backward(self, dy):
        tmp = self._buffer("tmp", dy.shape, dy.dtype)
        np.multiply(self._out, self._out, out=tmp)
        np.subtract(1, tmp, out=tmp)
        dy *= tmp
        return dy


ACTIVATIONS: dict[str, type[Layer]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
}


def make_activation(name: str) -> Layer:
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; supported activations are {', '.join(ACTIVATIONS)}"
        ) from None
