"""The multilayer perceptron: a chain of gates built from layer sizes."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .activations import ACTIVATIONS, make_activation
from .layers import AddGate, Dropout, Layer, MultiplyGate
from .losses import SoftmaxCrossEntropy, softmax
from .preprocessing import Preprocessor

_EVAL_CHUNK = 10_000


class MLP:
    """Multilayer perceptron with ReLU/Sigmoid/Tanh/LeakyReLU hidden layers and a softmax output.

    ``MLP([784, 256, 128, 10])`` is the paper's network; ``MLP([784, 10])`` (no hidden layer)
    is softmax regression, the paper's baseline. Each hidden layer is the gate chain
    MultiplyGate -> AddGate -> activation -> Dropout, the output layer MultiplyGate -> AddGate,
    followed by the fused softmax + cross-entropy.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[n_in, hidden..., n_classes]``, at least two entries.
    activation : str
        One of ``ACTIVATIONS`` (relu, leaky_relu, sigmoid, tanh).
    dropout : sequence of float, optional
        One inverted-dropout rate per hidden layer (0 disables); never on the output.
    input_dropout : float
        Dropout rate on the input pixels (0, the paper's choice, disables it).
    seed : int or np.random.Generator
        Source of all randomness: Xavier-uniform initialisation and dropout masks.
    dtype : float32 (default) or float64 (gradient checks).
    label_smoothing : float
        Label smoothing of the training loss.

    Weights are Xavier/Glorot uniform ``U(-sqrt(6/(n_in+n_out)), +sqrt(6/(n_in+n_out)))``, biases 0.
    ``preprocessor`` (a :class:`Preprocessor`, default none) and ``class_names`` travel with
    the model so that :meth:`predict_proba` on raw pixels always applies the same preprocessing.
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: str = "relu",
        dropout: Sequence[float] | None = None,
        seed: int | np.random.Generator = 0,
        dtype=np.float32,
        input_dropout: float = 0.0,
        label_smoothing: float = 0.0,
    ) -> None:
        sizes = [int(s) for s in layer_sizes]
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ValueError(
                f"layer_sizes must list at least an input and an output size, all >= 1; got {list(layer_sizes)!r}"
            )
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; supported activations are {', '.join(ACTIVATIONS)}")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dtype}")
        n_hidden = len(sizes) - 2
        dropout = [0.0] * n_hidden if dropout is None else [float(r) for r in dropout]
        if len(dropout) != n_hidden:
            raise ValueError(
                f"dropout needs one rate per hidden layer ({n_hidden}), got {len(dropout)}: {dropout!r}"
            )
        self.layer_sizes = sizes
        self.activation = activation
        self.dtype = dtype
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.preprocessor = Preprocessor("none")
        self.class_names: tuple[str, ...] = tuple(str(i) for i in range(sizes[-1]))
        self.meta: dict = {}

        self.input_dropout = Dropout(input_dropout, self.rng, inplace=False)
        self.layers: list[Layer] = [self.input_dropout]
        self.dropouts: list[Dropout] = []
        self._params: list[np.ndarray] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            limit = np.sqrt(6.0 / (n_in + n_out))
            W = self.rng.uniform(-limit, limit, size=(n_in, n_out)).astype(dtype)
            b = np.zeros(n_out, dtype=dtype)
            self.layers += [MultiplyGate(W, need_input_grad=i > 0), AddGate(b)]
            self._params += [W, b]
            if i < n_hidden:
                drop = Dropout(dropout[i], self.rng)
                self.dropouts.append(drop)
                self.layers += [make_activation(activation), drop]
        self.loss = SoftmaxCrossEntropy(label_smoothing)
        self._grads = [g for layer in self.layers for g in layer.grads]
        # each gate with a parameter holds exactly one, in parameters() order: W1, b1, W2, ...
        self._param_gates = [layer for layer in self.layers if layer.params]

    # -- the small protocol ------------------------------------------------------------------
    def parameters(self) -> list[np.ndarray]:
        """``[W1, b1, W2, b2, ...]``: the live arrays (``W`` is ``(n_in, n_out)``, ``b`` is ``(n_out,)``)."""
        return list(self._params)

    @property
    def dropout(self) -> list[float]:
        """Dropout rate of each hidden layer."""
        return [d.rate for d in self.dropouts]

    def set_dropout(self, rates: Sequence[float]) -> None:
        if len(rates) != len(self.dropouts):
            raise ValueError(f"dropout needs one rate per hidden layer ({len(self.dropouts)}), got {list(rates)!r}")
        for d, r in zip(self.dropouts, rates):
            d.rate = r

    @property
    def n_inputs(self) -> int:
        return self.layer_sizes[0]

    @property
    def n_classes(self) -> int:
        return self.layer_sizes[-1]

    def n_parameters(self) -> int:
        return sum(p.size for p in self._params)

    def __repr__(self) -> str:
        sizes = "-".join(map(str, self.layer_sizes))
        drop = f", dropout={self.dropout}" if any(self.dropout) else ""
        return f"MLP({sizes}, activation={self.activation!r}{drop}, dtype={self.dtype.name})"

    # -- computation ---------------------------------------------------------------------------
    def _check_input(self, X: np.ndarray) -> None:
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ValueError(f"expected inputs of shape (n, {self.n_inputs}), got {X.shape}")

    def _forward(self, X: np.ndarray, training: bool) -> np.ndarray:
        h = X
        for layer in self.layers:
            h = layer.forward(h, training)
        return h

    def _train_step(self, X: np.ndarray, y: np.ndarray, accumulate: dict | None = None) -> float:
        """Forward + backward on a preprocessed batch; gradients land in the live ``_grads`` buffers.

        ``accumulate`` (from :meth:`Optimizer.accumulators`) maps a parameter index to
        ``(buffer, beta)``: that parameter's gradient is then added into the optimizer's buffer
        (``buffer = grad + beta * buffer``) instead of ``_grads``.
        """
        for i, gate in enumerate(self._param_gates):
            gate.accumulate = accumulate.get(i) if accumulate else None
        z = self._forward(X, training=True)
        loss = self.loss.forward(z, y)
        d = self.loss.backward()
        for layer in reversed(self.layers):
            d = layer.backward(d)
            if d is None:  # the first MultiplyGate needs no input gradient
                break
        return loss

    def loss_and_grads(self, X: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
        """Mean softmax cross-entropy of a batch and its gradients, aligned with :meth:`parameters`.

        ``X`` ``(n, n_in)`` are network inputs (already preprocessed); ``y`` ``(n,)`` int labels.
        Training mode: dropout is active where its rate is > 0. No weight-decay term (the
        optimizer owns weight decay). Returns copies of the gradients.
        """
        X = np.ascontiguousarray(X, dtype=self.dtype)
        self._check_input(X)
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"labels must have shape ({X.shape[0]},), got {y.shape}")
        if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= self.n_classes):
            raise ValueError(f"labels must be integers in [0, {self.n_classes}), got {y.dtype} in [{y.min()}, {y.max()}]")
        loss = self._train_step(X, y)
        return loss, [g.copy() for g in self._grads]

    def logits(self, X: np.ndarray, preprocessed: bool = True) -> np.ndarray:
        """Output-layer values before softmax, ``(n, n_classes)`` (evaluation mode)."""
        X = self._inputs(X, preprocessed)
        out = np.empty((X.shape[0], self.n_classes), dtype=self.dtype)
        for start in range(0, X.shape[0], _EVAL_CHUNK):
            out[start : start + _EVAL_CHUNK] = self._forward(X[start : start + _EVAL_CHUNK], training=False)
        return out

    def _inputs(self, X: np.ndarray, preprocessed: bool) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim == 1:
            X = X[None, :]
        self._check_input(X)
        if not preprocessed:
            return self.preprocessor.transform(X, dtype=self.dtype.type)
        return np.ascontiguousarray(X, dtype=self.dtype)

    def predict_proba(self, X: np.ndarray, preprocessed: bool = True) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` in evaluation mode (no dropout).

        By default ``X`` is network input. With ``preprocessed=False``, ``X`` is raw pixels
        (0..255) and the model's own preprocessing is applied first.
        """
        z = self.logits(X, preprocessed)
        return softmax(z, out=z)

    def predict(self, X: np.ndarray, preprocessed: bool = True) -> np.ndarray:
        """Predicted labels ``(n,)``."""
        return self.logits(X, preprocessed).argmax(axis=1)

    # -- state ----------------------------------------------------------------------------------
    def config(self) -> dict:
        return {
            "layer_sizes": self.layer_sizes,
            "activation": self.activation,
            "dropout": self.dropout,
            "input_dropout": self.input_dropout.rate,
            "label_smoothing": self.loss.label_smoothing,
            "dtype": self.dtype.name,
        }

    def get_weights(self) -> list[np.ndarray]:
        return [p.copy() for p in self._params]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Copy ``weights`` into the live parameters (shapes must match)."""
        if len(weights) != len(self._params):
            raise ValueError(f"expected {len(self._params)} arrays, got {len(weights)}")
        for p, w in zip(self._params, weights):
            if p.shape != np.shape(w):
                raise ValueError(f"weight shape mismatch: model has {p.shape}, got {np.shape(w)}")
            p[...] = w

    def save(self, path) -> None:
        """Write the model (weights, preprocessing, class names, metadata) to ``path`` atomically."""
        from .serialization import save_model

        save_model(self, path)
