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

__all__ = ["gemm_tn", "axpy", "backend"]

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
    if A.shape[0] != B.shape[0] or C.shape != (A.shape[1], B.shape[1]):
        raise ValueError(f"gemm_tn shapes do not match: A {A.shape}, B {B.shape}, C {C.shape}")
    if _direct(A, B, C):
        _gemm_tn_blas(_BLAS, A, B, C, float(beta))
    elif beta == 0.0:
        np.matmul(A.T, B, out=C)
    else:
        C *= beta
        C += A.T @ B
    return C


def axpy(a: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``y += a * x`` in place (same shape)."""
    if x.shape != y.shape:
        raise ValueError(f"axpy shapes do not match: x {x.shape}, y {y.shape}")
    if _direct(x, y):
        _BLAS.axpy[y.dtype](y.size, float(a), x.ctypes.data, 1, y.ctypes.data, 1)
    else:
        y += a * x
    return y
