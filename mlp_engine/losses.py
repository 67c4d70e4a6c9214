"""Fused softmax + cross-entropy, numerically stable (log-sum-exp)."""
from __future__ import annotations

import numpy as np


def softmax(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Row-wise softmax of logits ``z`` ``(n, k)``; subtracts the row max first so exp never overflows."""
    out = np.subtract(z, z.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


class SoftmaxCrossEntropy:
    """Mean cross-entropy of ``softmax(z)`` against integer labels, with optional label smoothing.

    ``loss = mean_i [ logsumexp(z_i) - sum_c t_ic z_ic ]`` where ``t`` is the one-hot target,
    or ``(1 - s) onehot + s / k`` with label smoothing ``s``.
    Backward: ``dz = (softmax(z) - t) / n``.

    Shape: z ``(n, k)`` float, y ``(n,)`` int in ``[0, k)``.
    """

    def __init__(self, label_smoothing: float = 0.0) -> None:
        self.label_smoothing = label_smoothing
        self._p: np.ndarray | None = None
        self._y: np.ndarray | None = None

    @property
    def label_smoothing(self) -> float:
        return self._smoothing

    @label_smoothing.setter
    def label_smoothing(self, value: float) -> None:
        value = float(value)
        if not 0.0 <= value < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {value!r}")
        self._smoothing = value

    def forward(self, z: np.ndarray, y: np.ndarray) -> float:
        """Loss of logits ``z`` for labels ``y``. Overwrites ``z`` with the probabilities."""
        n, k = z.shape
        rows = np.arange(n)
        z -= z.max(axis=1, keepdims=True)
        z_true = z[rows, y]
        s = self._smoothing
        z_mean = z.mean(axis=1) if s else None
        np.exp(z, out=z)
        sums = z.sum(axis=1)
        lse = np.log(sums)
        # -log p_true = lse - z_true; smoothing mixes in the mean over classes of -log p_c
        per_sample = lse - z_true if not s else lse - (1 - s) * z_true - s * z_mean
        z /= sums[:, None]
        self._p, self._y = z, y
        return float(per_sample.mean(dtype=np.float64))

    def backward(self) -> np.ndarray:
        """Gradient at the logits, ``(p - t) / n``, written over the cached probabilities."""
        p, y = self._p, self._y
        n, k = p.shape
        s = self._smoothing
        if s:
            p -= s / k
        p[np.arange(n), y] -= 1.0 - s
        p *= 1.0 / n
        return p
