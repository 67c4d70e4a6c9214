"""Config validation, presets, preprocessing, the network API, and the no-Qt rule."""
import subprocess
import sys

import numpy as np
import pytest

from mlp_engine import MLP, PRESETS, Preprocessor, TrainConfig, lr_at, preset


def test_engine_import_does_not_load_qt_or_matplotlib():
    code = (
        "import sys, mlp_engine, mlp_engine.training, mlp_engine.data, mlp_engine.metrics, mlp_engine.imaging;"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'matplotlib', 'shiboken'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_mlp_public_api():
    net = MLP([784, 256, 128, 10])
    params = net.parameters()
    assert [p.shape for p in params] == [(784, 256), (256,), (256, 128), (128,), (128, 10), (10,)]
    assert all(p.dtype == np.float32 for p in params)
    assert params[0] is net.parameters()[0]  # live arrays
    limit = np.sqrt(6 / (784 + 256))
    assert np.abs(params[0]).max() <= limit and np.abs(params[0]).max() > 0.9 * limit
    assert not params[1].any()
    X = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    p = net.predict_proba(X)
    assert p.shape == (5, 10) and np.allclose(p.sum(1), 1)
    np.testing.assert_array_equal(net.predict(X), p.argmax(1))
    assert repr(net) == "MLP(784-256-128-10, activation='relu', dtype=float32)"


def test_same_seed_same_init_and_evaluation_ignores_dropout():
    a, b = MLP([20, 8, 3], seed=7, dropout=[0.5]), MLP([20, 8, 3], seed=7, dropout=[0.5])
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p, q)
    X = np.ones((4, 20), dtype=np.float32)
    np.testing.assert_array_equal(a.predict_proba(X), a.predict_proba(X))


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(layer_sizes=[784]), "at least an input and an output"),
        (dict(layer_sizes=[784, 10], activation="swish"), "relu, leaky_relu, sigmoid, tanh"),
        (dict(layer_sizes=[784, 5, 10], dropout=[0.1, 0.2]), "one rate per hidden layer"),
    ],
)
def test_mlp_validation(kw, match):
    with pytest.raises(ValueError, match=match):
        MLP(**kw)


def test_wrong_input_shape():
    with pytest.raises(ValueError, match=r"shape \(n, 784\)"):
        MLP([784, 10]).predict(np.zeros((2, 100)))


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(lr=-0.1), "learning rate"),
        (dict(lr=1e3), "learning rate"),
        (dict(batch_size=0), "batch_size"),
        (dict(epochs=2.5), "epochs must be an integer"),
        (dict(optimizer="adagrad"), "sgd, momentum, nesterov, rmsprop, adam"),
        (dict(hidden=(256, 128), dropout=(0.1,)), "one rate per hidden layer"),
        (dict(dropout=(0.99, 0.0)), "dropout rate"),
        (dict(preprocess="sqrt"), "none, scale, log, standardize"),
        (dict(momentum=1.0), "momentum"),
    ],
)
def test_config_validation_names_the_field(kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        TrainConfig(**kw)


def test_config_round_trip_and_presets():
    for name, (description, cfg) in PRESETS.items():
        assert description and cfg.name == name
        assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert preset("paper").hidden == (256, 128)
    assert preset("paper-softmax").hidden == ()
    with pytest.raises(ValueError, match="valid presets are"):
        preset("nope")


def test_preprocessing_kinds():
    X = np.array([[0, 255], [3, 0]], dtype=np.uint8)
    np.testing.assert_allclose(Preprocessor("none").transform(X), [[0, 255], [3, 0]])
    np.testing.assert_allclose(Preprocessor("scale").transform(X), [[0, 1], [3 / 255, 0]], rtol=1e-6)
    out = Preprocessor("log").transform(X)
    assert out.dtype == np.float32  # never float16, the trap of np.log1p(uint8)
    np.testing.assert_allclose(out, np.log1p(X.astype(np.float64)), rtol=1e-6)
    st = Preprocessor("standardize").fit(X)
    z = st.transform(X)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-6)
    with pytest.raises(ValueError, match="fitted"):
        Preprocessor("standardize").transform(X)


@pytest.mark.parametrize("kind", ["none", "scale", "log"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_8bit_lookup_gives_the_same_numbers_as_computing(kind, dtype, rng):
    X = rng.integers(0, 256, (7, 784)).astype(np.uint8)
    X[0, :256] = np.arange(256)
    fast = Preprocessor(kind).transform(X, dtype=dtype)
    slow = Preprocessor(kind).transform(X.astype(np.int16), dtype=dtype)  # computed element-wise
    assert fast.dtype == dtype and fast.shape == X.shape and fast.flags.c_contiguous
    np.testing.assert_array_equal(fast, slow)


def test_8bit_lookup_works_in_chunks_without_a_large_index_temporary(monkeypatch, rng):
    import tracemalloc

    from mlp_engine import preprocessing

    X = rng.integers(0, 256, (3, 1000)).astype(np.uint8)
    expect = Preprocessor("log").transform(X.astype(np.int16))
    monkeypatch.setattr(preprocessing, "_LOOKUP_CHUNK", 700)  # chunks that straddle rows
    np.testing.assert_array_equal(Preprocessor("log").transform(X), expect)
    monkeypatch.undo()
    big = np.zeros((4000, 784), dtype=np.uint8)  # 3.1 M pixels: intp indices would need 25 MB
    tracemalloc.start()
    out = Preprocessor("scale").transform(big)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < out.nbytes + 2 * preprocessing._LOOKUP_CHUNK * 8 + (1 << 20)


def test_lr_schedules():
    assert lr_at("constant", 0.1, 5.5, 10) == 0.1
    assert lr_at("step", 0.1, 10.0, 30, step_size=5, step_gamma=0.5) == pytest.approx(0.025)
    assert lr_at("cosine", 0.1, 0.0, 10) == pytest.approx(0.1)
    assert lr_at("cosine", 0.1, 5.0, 10) == pytest.approx(0.05)
    assert lr_at("cosine", 0.1, 10.0, 10) == pytest.approx(0.0)
    assert lr_at("cosine", 0.1, 0.5, 10, warmup_epochs=1) == pytest.approx(0.05, rel=1e-2)
