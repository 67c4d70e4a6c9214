"""Finite-difference gradient checks (float64) for every gate, activation and the loss."""
import numpy as np
import pytest

from mlp_engine.activations import ACTIVATIONS, make_activation
from mlp_engine.layers import AddGate, Dropout, MultiplyGate
from mlp_engine.losses import SoftmaxCrossEntropy
from mlp_engine.network import MLP

EPS = 1e-6


def numeric_grad(f, x):
    """Central differences of scalar f() with respect to array x (perturbed in place)."""
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + EPS
        fp = f()
        x[i] = old - EPS
        fm = f()
        x[i] = old
        g[i] = (fp - fm) / (2 * EPS)
    return g


def check_gate(gate, x, rng):
    """Loss L = sum(forward(x) * R) for a random R, so dL/dout = R."""
    R = rng.normal(size=gate.forward(x.copy(), training=True).shape)

    def loss():
        return float(np.sum(gate.forward(x.copy(), training=True) * R))

    gate.forward(x.copy(), training=True)
    dx = gate.backward(R.copy())
    if dx is not None:
        np.testing.assert_allclose(dx, numeric_grad(loss, x), rtol=1e-5, atol=1e-7)
    for p, g in zip(gate.params, gate.grads):
        np.testing.assert_allclose(g, numeric_grad(loss, p), rtol=1e-5, atol=1e-7)


def test_multiply_gate(rng):
    W = rng.normal(size=(4, 3))
    check_gate(MultiplyGate(W), rng.normal(size=(5, 4)), rng)


def test_multiply_gate_without_input_grad(rng):
    W = rng.normal(size=(4, 3))
    gate = MultiplyGate(W, need_input_grad=False)
    x = rng.normal(size=(5, 4))
    gate.forward(x, training=True)
    assert gate.backward(np.ones((5, 3))) is None
    np.testing.assert_allclose(gate.dW, x.T @ np.ones((5, 3)))


def test_add_gate(rng):
    check_gate(AddGate(rng.normal(size=3)), rng.normal(size=(5, 3)), rng)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activations(name, rng):
    x = rng.normal(size=(6, 5))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from ReLU's kink
    check_gate(make_activation(name), x, rng)


def test_dropout_gradient_uses_the_same_mask(rng):
    gate = Dropout(0.3, np.random.default_rng(1))
    x = rng.normal(size=(6, 5))
    out = gate.forward(x.copy(), training=True)
    mask = out / x
    dy = rng.normal(size=x.shape)
    np.testing.assert_allclose(gate.backward(dy.copy()), dy * mask)
    assert set(np.round(np.unique(mask), 6)) <= {0.0, round(1 / 0.7, 6)}


def test_dropout_is_identity_in_evaluation_and_unbiased_in_training(rng):
    gate = Dropout(0.5, np.random.default_rng(2))
    x = np.ones((2000, 50))
    np.testing.assert_array_equal(gate.forward(x.copy(), training=False), x)
    out = gate.forward(x.copy(), training=True)
    assert abs(out.mean() - 1.0) < 0.02
    assert 0.45 < (out == 0).mean() < 0.55


def test_dropout_rejects_bad_rate():
    with pytest.raises(ValueError, match="dropout rate"):
        Dropout(1.0, np.random.default_rng())


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_softmax_cross_entropy(rng, smoothing):
    z = rng.normal(size=(5, 4)) * 3
    y = rng.integers(0, 4, 5)
    loss_fn = SoftmaxCrossEntropy(smoothing)

    def loss():
        return loss_fn.forward(z.copy(), y)

    loss_fn.forward(z.copy(), y)
    np.testing.assert_allclose(loss_fn.backward(), numeric_grad(loss, z), rtol=1e-5, atol=1e-8)


def test_softmax_cross_entropy_value_and_stability():
    z = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]])
    loss = SoftmaxCrossEntropy().forward(z.copy(), np.array([0, 2]))
    assert np.isfinite(loss)
    np.testing.assert_allclose(loss, (0.0 + np.log(3)) / 2)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_whole_network_gradients(activation, rng):
    net = MLP([6, 5, 4, 3], activation=activation, dtype=np.float64, seed=3)
    X = rng.normal(size=(7, 6))
    y = rng.integers(0, 3, 7)
    loss, grads = net.loss_and_grads(X, y)
    for p, g in zip(net.parameters(), grads):
        np.testing.assert_allclose(g, numeric_grad(lambda: net.loss_and_grads(X, y)[0], p), rtol=1e-4, atol=1e-7)


def test_network_gradients_with_dropout_fixed_mask(rng):
    """With dropout, the gradient is that of the masked network: replay the same masks."""
    net = MLP([6, 5, 3], dropout=[0.4], dtype=np.float64, seed=4)
    X = rng.normal(size=(8, 6))
    y = rng.integers(0, 3, 8)
    state = net.rng.bit_generator.state

    def loss():
        net.rng.bit_generator.state = state
        return net.loss_and_grads(X, y)[0]

    net.rng.bit_generator.state = state
    _, grads = net.loss_and_grads(X, y)
    for p, g in zip(net.parameters(), grads):
        np.testing.assert_allclose(g, numeric_grad(loss, p), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("spread", [1.0, 300.0])  # 300: rows far below the batch's largest logit
def test_softmax_cross_entropy_matches_a_row_wise_float64_reference(rng, smoothing, spread):
    """The fast path shifts by the batch's largest logit and falls back to row maxima when a row
    would underflow; both must give the loss and gradient of the textbook row-wise formula."""
    n, k = 64, 10
    z = (rng.normal(size=(n, k)) * 3 + rng.normal(size=(n, 1)) * spread).astype(np.float32)
    y = rng.integers(0, k, n)
    t = np.full((n, k), smoothing / k)
    t[np.arange(n), y] += 1 - smoothing
    z64 = z.astype(np.float64)
    m = z64.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(z64 - m).sum(axis=1))
    expect_loss = np.mean(lse - (t * z64).sum(axis=1))
    expect_grad = (np.exp(z64 - lse[:, None]) - t) / n
    fn = SoftmaxCrossEntropy(smoothing)
    loss = fn.forward(z.copy(), y)
    grad = fn.backward()
    assert grad.dtype == np.float32
    np.testing.assert_allclose(loss, expect_loss, rtol=2e-5)
    np.testing.assert_allclose(grad, expect_grad, atol=1e-7)


def test_loss_and_grads_rejects_labels_outside_the_classes(rng):
    net = MLP([4, 3])
    with pytest.raises(ValueError, match=r"labels must be integers in \[0, 3\)"):
        net.loss_and_grads(rng.normal(size=(2, 4)), np.array([0, 3]))
    with pytest.raises(ValueError, match="labels must be integers"):
        net.loss_and_grads(rng.normal(size=(2, 4)), np.array([0, -1]))
