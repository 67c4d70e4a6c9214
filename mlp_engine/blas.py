"""Two BLAS calls NumPy does not expose, made on the BLAS library NumPy itself loaded.

``np.matmul`` always computes ``C = A @ B``; BLAS's GEMM computes ``C = A @ B + beta * C`` in
the same pass, and AXPY ``y += a * x`` in one pass where NumPy needs a temporary and two.
Momentum's ``v = beta * v + g`` followed by ``w -= lr * v`` therefore costs one GEMM and one
AXPY instead of a GEMM and four array passes: on 784-1024-1024-10 that was a fifth of an
epoch (benchmarks/bench_epoch.py).

The functions below always work. When the BLAS that NumPy loaded can be called directly
(Linux, NumPy's own OpenBLAS or a system CBLAS), they call it through ``ctypes`` (same
library, same thread pool, so no second pool competes for the cores); otherwise they fall
back to NumPy with the same results. ``MLP_STUDIO_BLAS=numpy`` forces the fallback.
"""
from __future__ import annotations

import ctypes
import os

import numpy as np

__all__ = ["gemm_tn", "axpy", "cached_gemm_tn", "cached_axpy", "backend"]

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
# (prefix, suffix, integer type): NumPy >= 2 wheels (scipy-openblas, 64-bit ints), NumPy 1.x
# wheels (openblas64_), then a plain CBLAS with 32-bit ints (Debian's numpy, MKL, BLIS).
_SYMBOLS = (("scipy_cblas_", "64_", ctypes.c_int64), ("cblas_", "64_", ctypes.c_int64), ("cblas_", "", ctypes.c_int))


def _loaded_blas_paths() -> list[str]:
    """Shared libraries mapped into this process whose names look like a BLAS (Linux only)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split(None, 5)[-1].strip() for line in f if ".so" in line}
    except OSError:
        return []
    keys = ("blas", "mkl_rt", "blis")
    return sorted(p for p in paths if p.startswith("/") and any(k in os.path.basename(p).lower() for k in keys))


class _Blas:
    def __init__(self, lib: ctypes.CDLL, prefix: str, suffix: str, int_t) -> None:
        P, i = ctypes.c_void_p, int_t
        self.gemm, self.axpy = {}, {}
        for ch, real in (("s", ctypes.c_float), ("d", ctypes.c_double)):
            g = getattr(lib, f"{prefix}{ch}gemm{suffix}")
            g.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, i, i, i, real, P, i, P, i, real, P, i]
            g.restype = None
            a = getattr(lib, f"{prefix}{ch}axpy{suffix}")
            a.argtypes = [i, real, P, i, P, i]
            a.restype = None
            dt = np.dtype(np.float32 if ch == "s" else np.float64)
            self.gemm[dt], self.axpy[dt] = g, a
        self.name = f"{os.path.basename(lib._name)}:{prefix}*{suffix}"


def _find() -> _Blas | None:
    if os.environ.get("MLP_STUDIO_BLAS", "").lower() == "numpy":
        return None
    for path in _loaded_blas_paths():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix, int_t in _SYMBOLS:
            if hasattr(lib, f"{prefix}sgemm{suffix}") and hasattr(lib, f"{prefix}daxpy{suffix}"):
                blas = _Blas(lib, prefix, suffix, int_t)
                if _works(blas):
                    return blas
    return None


def _works(blas: _Blas) -> bool:
    """Check the calls on small arrays against NumPy before trusting them."""
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64):
        A, B, C = (rng.standard_normal(s).astype(dt) for s in ((5, 3), (5, 4), (3, 4)))
        expect = A.T @ B + 0.5 * C
        _gemm_tn_blas(blas, A, B, C, 0.5)
        y, x = rng.standard_normal(7).astype(dt), rng.standard_normal(7).astype(dt)
        expect_y = y + 2.0 * x
        blas.axpy[np.dtype(dt)](7, 2.0, x.ctypes.data, 1, y.ctypes.data, 1)
        if not (np.allclose(C, expect, rtol=1e-4) and np.allclose(y, expect_y, rtol=1e-5)):
            return False
    return True


def _gemm_tn_blas(blas: _Blas, A, B, C, beta) -> None:
    k, m = A.shape
    n = B.shape[1]
    blas.gemm[C.dtype](_ROW_MAJOR, _TRANS, _NO_TRANS, m, n, k, 1.0, A.ctypes.data, m, B.ctypes.data, n,
                       beta, C.ctypes.data, n)


_BLAS = _find()


def backend() -> str:
    """Where :func:`gemm_tn` and :func:`axpy` go: the BLAS library and symbols, or ``numpy``."""
    return _BLAS.name if _BLAS else "numpy"


def _direct(*arrays) -> bool:
    dt = arrays[0].dtype
    return _BLAS is not None and dt in _BLAS.gemm and all(
        a.dtype == dt and a.flags.c_contiguous for a in arrays
    )


def gemm_tn(A: np.ndarray, B: np.ndarray, C: np.ndarray, beta: float = 0.0) -> np.ndarray:
    """``C = A.T @ B + beta * C`` in place; ``A`` ``(k, m)``, ``B`` ``(k, n)``, ``C`` ``(m, n)``."""
    if C.ndim != 2:
        raise ValueError(f"gemm_tn shapes do not match: A {A.shape}, B {B.shape}, C {C.shape}")
    _GemmTN(A, B, C)(float(beta))
    return C


def axpy(a: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``y += a * x`` in place (same shape)."""
    _Axpy(x, y)(float(a))
    return y


# -- prepared calls ---------------------------------------------------------------------------
# The training loop makes the same few calls on the same preallocated arrays every batch. Working
# out pointers and sizes costs more than a small BLAS call itself (``a.ctypes.data`` alone is
# about a microsecond), so a prepared call does it once and keeps the arrays alive; the caller
# keeps it in a dict and it is rebuilt whenever one of the arrays is a different object.
class _GemmTN:
    __slots__ = ("A", "B", "C", "_f", "_head", "_tail", "_C2")

    def __init__(self, A: np.ndarray, B: np.ndarray, C: np.ndarray) -> None:
        (k, m), n = A.shape, B.shape[1]
        if B.shape[0] != k or C.size != m * n or (C.ndim == 2 and C.shape != (m, n)) or C.ndim > 2:
            raise ValueError(f"gemm_tn shapes do not match: A {A.shape}, B {B.shape}, C {C.shape}")
        self.A, self.B, self.C = A, B, C
        self._C2 = C.reshape(m, n)
        self._f = _BLAS.gemm[C.dtype] if _direct(A, B, C) else None
        if self._f is not None:
            self._head = (_ROW_MAJOR, _TRANS, _NO_TRANS, m, n, k, 1.0, A.ctypes.data, m, B.ctypes.data, n)
            self._tail = (C.ctypes.data, n)

    def __call__(self, beta: float) -> None:
        if self._f is not None:
            self._f(*self._head, beta, *self._tail)
        elif beta == 0.0:
            np.matmul(self.A.T, self.B, out=self._C2)
        else:
            self._C2 *= beta
            self._C2 += self.A.T @ self.B


class _Axpy:
    __slots__ = ("x", "y", "_f", "_n", "_px", "_py")

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        if x.shape != y.shape:
            raise ValueError(f"axpy shapes do not match: x {x.shape}, y {y.shape}")
        self.x, self.y = x, y
        self._f = _BLAS.axpy[y.dtype] if _direct(x, y) else None
        if self._f is not None:
            self._n, self._px, self._py = y.size, x.ctypes.data, y.ctypes.data

    def __call__(self, a: float) -> None:
        if self._f is not None:
            self._f(self._n, a, self._px, 1, self._py, 1)
        else:
            self.y += a * self.x


def cached_gemm_tn(cache: dict, key, A: np.ndarray, B: np.ndarray, C: np.ndarray, beta: float = 0.0) -> None:
    """:func:`gemm_tn` through a prepared call kept in ``cache[key]``; ``C`` may also be the 1-D
    ``(n,)`` result when ``A`` has one column (a GEMV: the bias gradient ``ones @ dZ``)."""
    call = cache.get(key)
    if call is None or call.A is not A or call.B is not B or call.C is not C:
        call = cache[key] = _GemmTN(A, B, C)
    call(float(beta))


def cached_axpy(cache: dict, key, a: float, x: np.ndarray, y: np.ndarray) -> None:
    """:func:`axpy` through a prepared call kept in ``cache[key]``."""
    call = cache.get(key)
    if call is None or call.x is not x or call.y is not y:
        call = cache[key] = _Axpy(x, y)
    call(float(a))
