"""One hand-computed step per optimizer (with and without weight decay), golden values over
several steps, state round trip, validation."""
import math

import numpy as np
import pytest

from mlp_engine.optimizers import OPTIMIZERS, SGD, Adam, Momentum, Nesterov, RMSProp, make_optimizer


def params():
    # a weight matrix (decayed) and a bias vector (never decayed)
    return [np.array([[1.0, -2.0], [0.5, 0.0]], dtype=np.float32), np.array([0.5, -0.5], dtype=np.float32)]


def grads():
    return [np.array([[0.1, 0.2], [-0.3, 0.4]], dtype=np.float32), np.array([1.0, -1.0], dtype=np.float32)]


def run(opt_cls, steps=1, **kw):
    p = params()
    opt = opt_cls(p, **kw)
    for _ in range(steps):
        opt.step(grads())
    return p


W0, b0 = params()
gW, gb = grads()


@pytest.mark.parametrize("wd", [0.0, 0.1])
def test_sgd_step(wd):
    W, b = run(SGD, lr=0.5, weight_decay=wd)
    np.testing.assert_allclose(W, W0 - 0.5 * (gW + wd * W0), rtol=1e-6)
    np.testing.assert_allclose(b, b0 - 0.5 * gb, rtol=1e-6)  # biases are not decayed


@pytest.mark.parametrize("wd", [0.0, 0.1])
def test_momentum_two_steps(wd):
    W, b = run(Momentum, steps=2, lr=0.1, momentum=0.9, weight_decay=wd)
    # step 1: v1 = g + wd W0; W1 = W0 - lr v1. step 2: v2 = 0.9 v1 + g + wd W1; W2 = W1 - lr v2
    v1 = gW + wd * W0
    W1 = W0 - 0.1 * v1
    v2 = 0.9 * v1 + gW + wd * W1
    np.testing.assert_allclose(W, W1 - 0.1 * v2, rtol=1e-6)
    np.testing.assert_allclose(b, b0 - 0.1 * gb - 0.1 * (0.9 * gb + gb), rtol=1e-6)


def test_nesterov_two_steps():
    W, _ = run(Nesterov, steps=2, lr=0.1, momentum=0.9)
    v1 = gW
    W1 = W0 - 0.1 * (gW + 0.9 * v1)
    v2 = 0.9 * v1 + gW
    np.testing.assert_allclose(W, W1 - 0.1 * (gW + 0.9 * v2), rtol=1e-6)


@pytest.mark.parametrize("wd", [0.0, 0.1])
def test_rmsprop_two_steps(wd):
    W, b = run(RMSProp, steps=2, lr=0.01, gamma=0.9, eps=1e-8, weight_decay=wd)
    g1 = gW + wd * W0
    s1 = 0.1 * g1**2
    W1 = W0 - 0.01 * g1 / np.sqrt(s1 + 1e-8)
    g2 = gW + wd * W1
    s2 = 0.9 * s1 + 0.1 * g2**2
    np.testing.assert_allclose(W, W1 - 0.01 * g2 / np.sqrt(s2 + 1e-8), rtol=1e-5)
    # first RMSProp step on b: g / sqrt(0.1 g^2) = sign(g) * sqrt(10)
    sb1 = 0.1 * gb**2
    b1 = b0 - 0.01 * gb / np.sqrt(sb1 + 1e-8)
    np.testing.assert_allclose(b, b1 - 0.01 * gb / np.sqrt(0.9 * sb1 + 0.1 * gb**2 + 1e-8), rtol=1e-5)


def test_adam_first_step_is_lr_times_sign():
    W, b = run(Adam, lr=0.01)
    # bias-corrected first step: m_hat = g, v_hat = g^2 -> step = lr * g / (|g| + eps)
    np.testing.assert_allclose(W, W0 - 0.01 * np.sign(gW), rtol=1e-5)
    np.testing.assert_allclose(b, b0 - 0.01 * np.sign(gb), rtol=1e-5)


def test_adam_golden_three_steps():
    W, _ = run(Adam, steps=3, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.05)
    # reference implementation written out in float64
    w = W0.astype(np.float64)
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t in range(1, 4):
        g = gW + 0.05 * w
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w = w - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    np.testing.assert_allclose(W, w, rtol=1e-5)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_float32_is_preserved(name):
    p = params()
    opt = make_optimizer(name, p, lr=np.float64(0.01), weight_decay=np.float64(0.01))
    opt.step(grads())
    assert all(x.dtype == np.float32 for x in p)
    assert all(v.dtype == np.float32 for st in opt.state for v in st.values())


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_state_dict_round_trip_continues_identically(name):
    a = params()
    opt_a = make_optimizer(name, a, lr=0.01, weight_decay=0.01)
    for _ in range(3):
        opt_a.step(grads())
    b = [x.copy() for x in a]
    opt_b = make_optimizer(name, b, lr=0.5)
    opt_b.load_state_dict(opt_a.state_dict())
    assert opt_b.lr == 0.01
    for _ in range(2):
        opt_a.step(grads())
        opt_b.step(grads())
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_max_norm_clips_columns():
    W = np.array([[3.0, 0.1], [4.0, 0.1]], dtype=np.float32)  # column norms 5 and ~0.14
    opt = SGD([W], lr=1e-9, max_norm=2.0)
    opt.step([np.zeros_like(W)])
    np.testing.assert_allclose(np.linalg.norm(W, axis=0), [2.0, np.sqrt(0.02)], rtol=1e-5)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(lr=0), "learning rate"),
        (dict(lr=-1), "learning rate"),
        (dict(lr=float("nan")), "learning rate"),
        (dict(lr=0.1, weight_decay=-0.1), "weight_decay"),
        (dict(lr=0.1, momentum=1.0), "momentum"),
    ],
)
def test_invalid_arguments_name_the_parameter(kw, match):
    with pytest.raises(ValueError, match=match):
        Momentum(params(), **kw)


def test_unknown_optimizer_lists_valid_ones():
    with pytest.raises(ValueError, match="sgd, momentum"):
        make_optimizer("adagrad", params(), lr=0.1)


def test_set_hyperparameters_validates():
    opt = Adam(params(), lr=0.1)
    opt.set_hyperparameters(lr=0.2, beta1=0.8)
    assert (opt.lr, opt.beta1) == (0.2, 0.8)
    with pytest.raises(ValueError, match="no hyperparameter 'momentum'"):
        opt.set_hyperparameters(momentum=0.9)
    with pytest.raises(ValueError, match="beta2"):
        opt.set_hyperparameters(beta2=1.5)
    assert math.isclose(opt.beta2, 0.999)
