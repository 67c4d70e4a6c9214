"""The two direct BLAS calls (GEMM with beta, AXPY) and the momentum path that uses them:
same numbers as plain NumPy, whether the BLAS is reached directly or through the fallback."""
import numpy as np
import pytest

from mlp_engine import MLP, blas
from mlp_engine.optimizers import Momentum, make_optimizer


@pytest.fixture(params=["direct", "numpy"])
def backend(request, monkeypatch):
    if request.param == "numpy":
        monkeypatch.setattr(blas, "_BLAS", None)
    elif blas._BLAS is None:
        pytest.skip("NumPy's BLAS cannot be called directly on this platform")
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("beta", [0.0, 0.9, 1.0])
def test_gemm_tn_matches_numpy(backend, rng, dtype, beta):
    A, B, C = (rng.standard_normal(s).astype(dtype) for s in ((37, 13), (37, 21), (13, 21)))
    expect = A.T @ B + beta * C
    out = blas.gemm_tn(A, B, C, beta)
    assert out is C and C.dtype == dtype
    np.testing.assert_allclose(C, expect, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axpy_matches_numpy(backend, rng, dtype):
    x, y = rng.standard_normal((2, 50, 3)).astype(dtype)
    expect = y - 0.25 * x
    assert blas.axpy(-0.25, x, y) is y
    np.testing.assert_allclose(y, expect, rtol=1e-6)


def test_non_contiguous_arrays_take_the_numpy_path(rng):
    A = rng.standard_normal((20, 12)).astype(np.float32)[:, ::2]  # strided view
    B = rng.standard_normal((20, 4)).astype(np.float32)
    C = np.ones((6, 4), np.float32)
    np.testing.assert_allclose(blas.gemm_tn(A, B, C, 0.5), A.T @ B + 0.5, rtol=1e-5)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shapes"):
        blas.gemm_tn(np.zeros((3, 2)), np.zeros((4, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="shapes"):
        blas.axpy(1.0, np.zeros(3), np.zeros(4))


def test_backend_names_the_library_or_numpy(monkeypatch):
    if blas._BLAS is not None:
        assert blas.backend().startswith(tuple("/abcdefghijklmnopqrstuvwxyz")) and ":" in blas.backend()
    monkeypatch.setattr(blas, "_BLAS", None)
    assert blas.backend() == "numpy"


@pytest.mark.parametrize("wd", [0.0, 0.01])
def test_momentum_with_accumulated_gradients_equals_the_plain_rule(backend, rng, wd):
    """The Trainer's path (gradient GEMM'd into v) gives the same weights as grads + step."""
    X = rng.standard_normal((32, 12)).astype(np.float32)
    y = rng.integers(0, 4, 32)
    nets = [MLP([12, 16, 8, 4], seed=3) for _ in range(2)]
    opts = [Momentum(n.parameters(), lr=0.05, momentum=0.9, weight_decay=wd) for n in nets]
    for step in range(5):
        nets[0]._train_step(X, y)
        opts[0].step(nets[0]._grads)
        acc = opts[1].accumulators()
        assert sorted(acc) == [0, 1, 2, 3, 4, 5]  # every weight matrix and bias
        nets[1]._train_step(X, y, acc)
        opts[1].step([acc[i][0] if i in acc else g for i, g in enumerate(nets[1]._grads)])
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["sgd", "nesterov", "rmsprop", "adam"])
def test_other_optimizers_take_plain_gradients(name):
    opt = make_optimizer(name, MLP([4, 3, 2]).parameters(), 0.1)
    assert opt.accumulators() == {}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prepared_calls_match_numpy_and_follow_new_arrays(backend, rng, dtype):
    cache = {}
    A, B = rng.standard_normal((9, 5)).astype(dtype), rng.standard_normal((9, 4)).astype(dtype)
    C1, C2 = rng.standard_normal((2, 5, 4)).astype(dtype)
    expect1 = A.T @ B + 0.5 * C1
    blas.cached_gemm_tn(cache, "k", A, B, C1, 0.5)
    np.testing.assert_allclose(C1, expect1, rtol=1e-5)
    B *= 2  # same array, new contents: the prepared call reads them
    expect2 = A.T @ B
    blas.cached_gemm_tn(cache, "k", A, B, C2, 0.0)  # another output array: the call is rebuilt
    np.testing.assert_allclose(C2, expect2, rtol=1e-5)
    np.testing.assert_allclose(C1, expect1, rtol=1e-5)  # untouched
    # one-column A with a 1-D result: the bias gradient ones @ dZ (+ beta * buffer)
    ones, v = np.ones((9, 1), dtype), rng.standard_normal(4).astype(dtype)
    expect_v = B.sum(axis=0) + 0.9 * v
    blas.cached_gemm_tn(cache, "b", ones, B, v, 0.9)
    np.testing.assert_allclose(v, expect_v, rtol=1e-5)
    x, y = rng.standard_normal((2, 3, 7)).astype(dtype)
    expect_y = y - 0.25 * x
    blas.cached_axpy(cache, "a", -0.25, x, y)
    np.testing.assert_allclose(y, expect_y, rtol=1e-6)
    with pytest.raises(ValueError, match="shapes"):
        blas.cached_gemm_tn(cache, "k", A, B, np.zeros((4, 5), dtype))
