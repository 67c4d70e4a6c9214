"""Optimizers: one base class owns validation, weight decay, max-norm and per-parameter state;
each subclass is only its update rule.

All hyperparameters are stored as Python floats so that float32 parameters stay float32
(a NumPy float64 scalar would silently promote them).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .blas import cached_axpy


def _check(name: str, value, low: float, high: float = math.inf, low_open: bool = False, high_open: bool = False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    ok_low = v > low if low_open else v >= low
    ok_high = v < high if high_open else v <= high
    if not (math.isfinite(v) and ok_low and ok_high):
        lo = "(" if low_open else "["
        hi = ")" if high_open or high == math.inf else "]"
        raise ValueError(f"invalid {name}: {value!r}; it must be in {lo}{low}, {high}{hi}")
    return v


class Optimizer:
    """Base optimizer.

    Parameters
    ----------
    params : list of arrays, updated in place (``net.parameters()``).
    lr : learning rate (> 0) for a mean-reduced loss.
    weight_decay : L2 coefficient lambda: adds ``lambda * w`` to the gradient of every weight
        matrix (2-D parameter), not of biases, i.e. the loss gains ``lambda/2 ||W||^2``.
    max_norm : if > 0, after each step every weight matrix's incoming-weight vectors (columns)
        are rescaled to an L2 norm of at most ``max_norm`` (Srivastava et al. 2014).

    ``step(grads)`` may modify ``grads`` in place. An optimizer whose rule starts with
    ``buffer = beta * buffer + grad`` offers that buffer in :meth:`accumulators`, so the network
    can write the gradient straight into it (the Trainer does; see :meth:`MLP._train_step`).
    """

    name = "base"
    hyperparameters: tuple[str, ...] = ()

    def __init__(self, params: Sequence[np.ndarray], lr: float, weight_decay: float = 0.0, max_norm: float = 0.0):
        self.params = list(params)
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_norm = max_norm
        self.t = 0
        self.state: list[dict[str, np.ndarray]] = [{} for _ in self.params]
        self._calls: dict = {}  # prepared BLAS calls (blas.cached_axpy), keyed by (role, index)
        self._matrix = [p.ndim == 2 for p in self.params]

    # Validated hyperparameters: setting one (also between epochs) goes through the same checks.
    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, v) -> None:
        self._lr = _check("learning rate (lr)", v, 0.0, low_open=True)

    @property
    def weight_decay(self) -> float:
        return self._wd

    @weight_decay.setter
    def weight_decay(self, v) -> None:
        self._wd = _check("weight_decay", v, 0.0)

    @property
    def max_norm(self) -> float:
        return self._max_norm

    @max_norm.setter
    def max_norm(self, v) -> None:
        self._max_norm = _check("max_norm", v, 0.0)

    def _zeros(self, i: int, key: str) -> np.ndarray:
        st = self.state[i]
        if key not in st:
            st[key] = np.zeros_like(self.params[i])
        return st[key]

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """Apply one update with ``grads`` aligned with ``params``."""
        if len(grads) != len(self.params):
            raise ValueError(f"expected {len(self.params)} gradients, got {len(grads)}")
        self.t += 1
        wd = self._wd
        for i, (p, g, matrix) in enumerate(zip(self.params, grads, self._matrix)):
            if wd and matrix:
                self._axpy("wd", i, wd, p, g)
            self.update(i, p, g)
            if self._max_norm and matrix:
                norms = np.sqrt(np.einsum("ij,ij->j", p, p))
                over = norms > self._max_norm
                if over.any():
                    p[:, over] *= (self._max_norm / norms[over]).astype(p.dtype)

    def update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _axpy(self, role: str, i: int, a: float, x: np.ndarray, y: np.ndarray) -> None:
        """``y += a * x`` through a prepared BLAS call (the same arrays come back every step)."""
        cached_axpy(self._calls, (role, i), a, x, y)

    def accumulators(self) -> dict[int, tuple[np.ndarray, float]]:
        """``{parameter index: (buffer, beta)}`` for the next :meth:`step`: the gradient of that
        parameter may be delivered already added into ``buffer`` as ``grad + beta * buffer``,
        and then ``step`` is passed ``buffer`` itself as that gradient. Empty: plain gradients."""
        return {}

    def get_hyperparameters(self) -> dict[str, float]:
        keys = ("lr", "weight_decay", "max_norm", *self.hyperparameters)
        return {k: getattr(self, k) for k in keys}

    def set_hyperparameters(self, **values) -> None:
        """Change hyperparameters (validated), e.g. between epochs."""
        known = set(self.get_hyperparameters())
        for k, v in values.items():
            if k not in known:
                raise ValueError(f"{self.name} has no hyperparameter {k!r}; it has {', '.join(sorted(known))}")
            setattr(self, k, v)

    def state_dict(self) -> dict:
        return {
            "name": self.name,
            "t": self.t,
            "hyperparameters": self.get_hyperparameters(),
            "state": [{k: v.copy() for k, v in st.items()} for st in self.state],
        }

    def load_state_dict(self, sd: dict) -> None:
        if sd.get("name") != self.name:
            raise ValueError(f"optimizer state is for {sd.get('name')!r}, not {self.name!r}")
        if len(sd["state"]) != len(self.params):
            raise ValueError(f"optimizer state has {len(sd['state'])} parameters, expected {len(self.params)}")
        self.set_hyperparameters(**sd["hyperparameters"])
        self.t = int(sd["t"])
        self.state = []
        for p, st in zip(self.params, sd["state"]):
            for k, v in st.items():
                if v.shape != p.shape:
                    raise ValueError(f"optimizer state {k!r} has shape {v.shape}, parameter has {p.shape}")
            self.state.append({k: np.array(v, dtype=p.dtype) for k, v in st.items()})

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v:g}" for k, v in self.get_hyperparameters().items())
        return f"{type(self).__name__}({hp})"


class SGD(Optimizer):
    r"""Plain gradient descent: :math:`w \leftarrow w - \eta g`."""

    name = "sgd"

    def update(self, i, p, g):
        self._axpy("w", i, -self._lr, g, p)


class Momentum(Optimizer):
    r"""Heavy-ball momentum, as in the paper: :math:`v \leftarrow \beta v + g;\ w \leftarrow w - \eta v`."""

    name = "momentum"
    hyperparameters = ("momentum",)

    def __init__(self, params, lr, momentum: float = 0.9, **kw):
        super().__init__(params, lr, **kw)
        self.momentum = momentum

    @property
    def momentum(self) -> float:
        return self._beta

    @momentum.setter
    def momentum(self, v) -> None:
        self._beta = _check("momentum", v, 0.0, 1.0, high_open=True)

    def update(self, i, p, g):
        v = self._zeros(i, "v")
        if g is not v:  # else the gradient was already accumulated into v (see accumulators)
            v *= self._beta
            v += g
        self._axpy("w", i, -self._lr, v, p)

    def accumulators(self):
        # Weight decay, added to the gradient in step(), then lands in v = beta * v + grad too.
        return {i: (self._zeros(i, "v"), self._beta) for i in range(len(self.params))}


class Nesterov(Momentum):
    r"""Nesterov momentum: :math:`v \leftarrow \beta v + g;\ w \leftarrow w - \eta (g + \beta v)`."""

    name = "nesterov"

    def update(self, i, p, g):
        v = self._zeros(i, "v")
        v *= self._beta
        v += g
        self._axpy("g", i, -self._lr, g, p)
        self._axpy("w", i, -self._lr * self._beta, v, p)

    def accumulators(self):
        return {}  # the update needs the gradient itself, not only v


class RMSProp(Optimizer):
    r"""RMSProp, as in the paper: :math:`s \leftarrow \gamma s + (1-\gamma) g^2;\ w \leftarrow w - \eta g / \sqrt{s + \epsilon}`."""

    name = "rmsprop"
    hyperparameters = ("gamma", "eps")

    def __init__(self, params, lr, gamma: float = 0.9, eps: float = 1e-8, **kw):
        super().__init__(params, lr, **kw)
        self.gamma = gamma
        self.eps = eps

    @property
    def gamma(self) -> float:
        return self._gamma

    @gamma.setter
    def gamma(self, v) -> None:
        self._gamma = _check("gamma", v, 0.0, 1.0, high_open=True)

    @property
    def eps(self) -> float:
        return self._eps

    @eps.setter
    def eps(self, v) -> None:
        self._eps = _check("eps", v, 0.0, low_open=True)

    def update(self, i, p, g):
        s = self._zeros(i, "s")
        s *= self._gamma
        s += (1.0 - self._gamma) * (g * g)
        denom = s + self._eps
        np.sqrt(denom, out=denom)
        g /= denom
        self._axpy("w", i, -self._lr, g, p)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba 2015):
    :math:`m \leftarrow \beta_1 m + (1-\beta_1) g;\ v \leftarrow \beta_2 v + (1-\beta_2) g^2;`
    :math:`w \leftarrow w - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)` with bias-corrected
    :math:`\hat m = m / (1-\beta_1^t)`, :math:`\hat v = v / (1-\beta_2^t)`."""

    name = "adam"
    hyperparameters = ("beta1", "beta2", "eps")

    def __init__(self, params, lr, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, **kw):
        super().__init__(params, lr, **kw)
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps

    beta1 = property(lambda self: self._b1, lambda self, v: setattr(self, "_b1", _check("beta1", v, 0.0, 1.0, high_open=True)))
    beta2 = property(lambda self: self._b2, lambda self, v: setattr(self, "_b2", _check("beta2", v, 0.0, 1.0, high_open=True)))
    eps = property(lambda self: self._eps, lambda self, v: setattr(self, "_eps", _check("eps", v, 0.0, low_open=True)))

    def update(self, i, p, g):
        m = self._zeros(i, "m")
        v = self._zeros(i, "v")
        m *= self._b1
        m += (1.0 - self._b1) * g
        v *= self._b2
        g *= g
        g *= 1.0 - self._b2
        v += g
        # Fold both bias corrections into the step size: one scalar instead of two array passes.
        step = self._lr * math.sqrt(1.0 - self._b2**self.t) / (1.0 - self._b1**self.t)
        eps_hat = self._eps * math.sqrt(1.0 - self._b2**self.t)
        np.sqrt(v, out=g)
        g += eps_hat
        np.divide(m, g, out=g)
        self._axpy("w", i, -step, g, p)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Momentum, Nesterov, RMSProp, Adam)
}


def make_optimizer(name: str, params, lr: float, **kwargs) -> Optimizer:
    """Build an optimizer by name; ``kwargs`` not used by that optimizer are ignored."""
    try:
        cls = OPTIMIZERS[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; valid optimizers are {', '.join(OPTIMIZERS)}") from None
    allowed = {"weight_decay", "max_norm", *cls.hyperparameters}
    return cls(params, lr, **{k: v for k, v in kwargs.items() if k in allowed})
