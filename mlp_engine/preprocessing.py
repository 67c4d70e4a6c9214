"""Input preprocessing, fitted on the training set and saved with the model.

Every kind takes raw pixel values on the 0..255 scale (uint8 or float) and returns float32
(or the requested dtype). ``log`` is the paper's ``ln(x + 1)``.
"""
from __future__ import annotations

import numpy as np

PREPROCESSING = ("none", "scale", "log", "standardize")
_LOOKUP_CHUNK = 1 << 20  # pixels per lookup: an 8 MB index temporary


class Preprocessor:
    """Maps raw pixels (0..255) to network inputs.

    kinds:
      - ``none``: the raw values as floats (0..255)
      - ``scale``: ``x / 255``
      - ``log``: ``ln(x + 1)`` (the paper's feature processing, 0..5.55)
      - ``standardize``: ``(x / 255 - mean_j) / std``, with per-pixel means and one global
        standard deviation fitted on the training set (a per-pixel std would blow up pixels
        that are almost always 0).
    """

    def __init__(self, kind: str = "log", mean: np.ndarray | None = None, std: float | None = None) -> None:
        if kind not in PREPROCESSING:
            raise ValueError(f"unknown preprocessing {kind!r}; valid kinds are {', '.join(PREPROCESSING)}")
        self.kind = kind
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float32)
        self.std = None if std is None else float(std)

    @property
    def fitted(self) -> bool:
        return self.kind != "standardize" or self.mean is not None

    def fit(self, X: np.ndarray) -> "Preprocessor":
        """Fit on training pixels ``X`` ``(n, d)``; only ``standardize`` has anything to learn."""
        if self.kind == "standardize":
            Xs = np.asarray(X, dtype=np.float32) / np.float32(255)
            self.mean = Xs.mean(axis=0, dtype=np.float64).astype(np.float32)
            std = float(Xs.std(dtype=np.float64))
            self.std = std if std > 0 else 1.0
        return self

    def transform(self, X: np.ndarray, dtype=np.float32) -> np.ndarray:
        """Network inputs for raw pixels ``X`` ``(n, d)``, as a new C-contiguous ``dtype`` array."""
        if not self.fitted:
            raise ValueError("the standardize preprocessing must be fitted on training data first")
        X = np.asarray(X)
        if X.dtype == np.uint8 and self.kind in ("none", "scale", "log"):
            # Pixel-wise kinds on 8-bit pixels: transform the 256 possible values once and look
            # them up (same numbers; 10,000 images: log1p 0.10 s, lookup 0.01 s).
            # In chunks: np.take converts the uint8 indices to intp (8 bytes each) first, which
            # for the whole training set would be a 376 MB temporary.
            table = self.transform(np.arange(256, dtype=np.float32), dtype=dtype)
            X = np.ascontiguousarray(X)
            out = np.empty(X.shape, dtype=dtype)
            flat_in, flat_out = X.reshape(-1), out.reshape(-1)
            for start in range(0, flat_in.size, _LOOKUP_CHUNK):
                np.take(table, flat_in[start : start + _LOOKUP_CHUNK], out=flat_out[start : start + _LOOKUP_CHUNK])
            return out
        # Cast first: np.log1p of a uint8 array returns float16, whose matmuls are ~400x slower.
        out = np.array(X, dtype=dtype, order="C", copy=True)
        if self.kind == "scale":
            out *= dtype(1.0 / 255.0)
        elif self.kind == "log":
            np.log1p(out, out=out)
        elif self.kind == "standardize":
            out *= dtype(1.0 / 255.0)
            out -= self.mean.astype(dtype, copy=False)
            out *= dtype(1.0 / self.std)
        return out

    def to_dict(self) -> dict:
        return {"kind": self.kind, "std": self.std}

    def __repr__(self) -> str:
        return f"Preprocessor({self.kind!r})"
