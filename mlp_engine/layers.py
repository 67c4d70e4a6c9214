"""Gates: the network's building blocks, each owning its forward and its local backward.

The paper calls every unit of the forward chain a *gate*. Each class here is one gate with
``forward(x, training)`` and ``backward(dy)``; ``forward`` caches only what ``backward``
needs. Gates with parameters expose them in ``params`` and their gradients, aligned, in
``grads`` (preallocated arrays that ``backward`` overwrites).

Performance notes (why buffers): a training epoch is a handful of matrix products, and
allocating every intermediate array per batch costs a measurable share of it. Each gate
therefore writes into arrays it owns, reused while the batch shape stays the same. Two
consequences, both internal to the engine: the array ``forward`` returns is overwritten by
the next ``forward`` of the same gate, and ``backward`` may overwrite the ``dy`` it is given.
"""
from __future__ import annotations

import numpy as np

from .blas import cached_gemm_tn


class Layer:
    """Base gate. Subclasses implement ``forward`` and ``backward``."""

    params: list[np.ndarray]
    grads: list[np.ndarray]

    def __init__(self) -> None:
        self.params = []
        self.grads = []
        self._buffers: dict[str, np.ndarray] = {}
        self._calls: dict = {}  # prepared BLAS calls on the buffers (see blas.cached_gemm_tn)

    def _buffer(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """A reusable work array of this shape and dtype (allocated on first use)."""
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = np.empty(shape, dtype=dtype)
            self._buffers[name] = buf
        return buf

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def release(self) -> None:
        """Drop cached activations and work buffers (e.g. before saving or after evaluation)."""
        self._buffers.clear()
        self._calls.clear()


class MultiplyGate(Layer):
    """``out = X @ W``.

    Shape: X ``(n, n_in)``, W ``(n_in, n_out)``, out ``(n, n_out)``.
    Backward: ``dW = X.T @ dZ``, ``dX = dZ @ W.T``. The first gate of a network does not need
    ``dX``; ``need_input_grad=False`` skips that product. When ``accumulate`` is set to
    ``(buffer, beta)`` for one backward pass, the weight gradient goes straight into an
    optimizer's buffer as ``buffer = dW + beta * buffer`` (one GEMM, see :mod:`.blas`).
    """

    def __init__(self, W: np.ndarray, need_input_grad: bool = True) -> None:
        super().__init__()
        self.W = W
        self.dW = np.zeros_like(W)
        self.params = [W]
        self.grads = [self.dW]
        self.need_input_grad = need_input_grad
        self.accumulate: tuple[np.ndarray, float] | None = None
        self._x: np.ndarray | None = None

    def forward(self, x, training=False):
        out = self._buffer("out", (x.shape[0], self.W.shape[1]), self.W.dtype)
        np.matmul(x, self.W, out=out)
        self._x = x if training else None
        return out

    def backward(self, dy):
        target, beta = self.accumulate or (self.dW, 0.0)
        cached_gemm_tn(self._calls, "dW", self._x, dy, target, beta)
        if not self.need_input_grad:
            return None
        dx = self._buffer("dx", (dy.shape[0], self.W.shape[0]), self.W.dtype)
        np.matmul(dy, self.W.T, out=dx)
        return dx


class AddGate(Layer):
    """``out = X + b`` (in place: X is the preceding MultiplyGate's own output buffer).

    Shape: X ``(n, n_out)``, b ``(n_out,)``. Backward: ``db = ones(1, n) @ dZ``, ``dX = dZ``.
    ``accumulate`` works as for :class:`MultiplyGate` (``buffer = db + beta * buffer``).
    """

    def __init__(self, b: np.ndarray) -> None:
        super().__init__()
        self.b = b
        self.db = np.zeros_like(b)
        self.params = [b]
        self.grads = [self.db]
        self.accumulate: tuple[np.ndarray, float] | None = None

    def forward(self, x, training=False):
        x += self.b
        return x

    def backward(self, dy):
        # ones @ dy is one GEMV; it beats dy.sum(axis=0) (a strided reduction) at these shapes.
        ones = self._buffers.get("ones")
        if ones is None or ones.shape[0] != dy.shape[0] or ones.dtype != dy.dtype:
            ones = self._buffers["ones"] = np.ones((dy.shape[0], 1), dtype=dy.dtype)
        target, beta = self.accumulate or (self.db, 0.0)
        cached_gemm_tn(self._calls, "db", ones, dy, target, beta)
        return dy


class Dropout(Layer):
    """Inverted dropout: keep each unit with probability ``1 - rate`` and scale by ``1/(1 - rate)``.

    So ``E[out] = x`` and evaluation needs no rescaling; in evaluation mode (``training=False``)
    or with ``rate == 0`` it is the identity. The mask comes from ``rng`` (a
    ``np.random.Generator``) and is drawn into a preallocated float32/float64 buffer.
    """

    def __init__(self, rate: float, rng: np.random.Generator, inplace: bool = True) -> None:
        super().__init__()
        self.rate = float(rate)
        self.rng = rng
        self.inplace = inplace  # False on the input, whose array belongs to the caller
        self._active = False

    @property
    def rate(self) -> float:
        return self._rate

    @rate.setter
    def rate(self, value: float) -> None:
        value = float(value)
        if not 0.0 <= value < 1.0:
            raise ValueError(f"dropout rate must be in [0, 1), got {value!r}")
        self._rate = value

    def forward(self, x, training=False):
        self._active = training and self._rate > 0.0
        if not self._active:
            return x
        mask = self._buffer("mask", x.shape, x.dtype)
        self.rng.random(out=mask, dtype=mask.dtype)
        # mask <- (u >= rate) / (1 - rate), computed in place without a boolean temporary
        keep_scale = 1.0 / (1.0 - self._rate)
        np.greater_equal(mask, self._rate, out=mask, casting="unsafe")
        mask *= keep_scale
        if self.inplace:
            x *= mask
            return x
        out = self._buffer("out", x.shape, x.dtype)
        np.multiply(x, mask, out=out)
        return out

    def backward(self, dy):
        if self._active:
            dy *= self._buffers["mask"]
        return dy
