"""The training generator: learning, determinism, resume, stop, live changes, divergence."""
import numpy as np
import pytest

from mlp_engine import MLP, BatchReport, EpochReport, Trainer, TrainConfig, TrainingDiverged, load_model
from mlp_engine.data import synthetic_dataset


@pytest.fixture(scope="module")
def data():
    return synthetic_dataset(n_train=256, n_test=64, seed=0)


def cfg(**kw):
    base = dict(dataset="synthetic", hidden=(32,), epochs=3, batch_size=32, lr=0.05, preprocess="scale")
    return TrainConfig(**{**base, **kw})


def test_overfits_a_tiny_set_to_100_percent():
    d = synthetic_dataset(n_train=64, n_test=16, seed=1)
    hist = Trainer(cfg(hidden=(64,), epochs=60, batch_size=16, optimizer="adam", lr=0.01), d).fit()
    assert hist[-1].train_acc == 1.0
    assert hist[-1].train_loss < 0.05


def test_reports_in_order(data):
    reports = list(Trainer(cfg(epochs=2), data).run())
    kinds = [type(r) for r in reports]
    assert kinds == ([BatchReport] * 8 + [EpochReport]) * 2
    assert [r.epoch for r in reports if isinstance(r, EpochReport)] == [0, 1]
    ep = reports[-1]
    assert ep.train_seconds > 0 and 0 <= ep.test_acc <= 1 and 0 <= ep.train_acc <= 1
    assert reports[7].progress == pytest.approx(1.0)


def test_same_seed_gives_bit_identical_histories(data):
    c = cfg(dropout=(0.3,), epochs=2)
    a = [r.loss for r in Trainer(c, data).run() if isinstance(r, BatchReport)]
    b = [r.loss for r in Trainer(c, data).run() if isinstance(r, BatchReport)]
    other = [r.loss for r in Trainer(c.replace(seed=1), data).run() if isinstance(r, BatchReport)]
    assert a == b
    assert a != other


@pytest.mark.parametrize("optimizer", ["momentum", "adam", "rmsprop"])
def test_resumed_training_equals_uninterrupted(data, tmp_path, optimizer):
    c = cfg(epochs=4, optimizer=optimizer, lr=0.01, dropout=(0.2,))
    full = Trainer(c, data)
    full.fit()
    first = Trainer(c.replace(epochs=2), data)
    first.fit()
    first.save(tmp_path / "ckpt.npz")
    resumed = Trainer.resume(tmp_path / "ckpt.npz", data, config=c)
    resumed.fit()
    for p, q in zip(full.net.parameters(), resumed.net.parameters()):
        np.testing.assert_array_equal(p, q)
    assert [h.train_loss for h in full.history] == [h.train_loss for h in resumed.history]


def test_stop_ends_the_run_before_the_next_batch(data):
    trainer = Trainer(cfg(epochs=5), data)
    seen = []
    for r in trainer.run():
        seen.append(r)
        if isinstance(r, BatchReport) and r.batch == 2:
            trainer.stop()
    assert len(seen) == 3


def test_hyperparameter_change_applies_from_next_epoch(data):
    trainer = Trainer(cfg(epochs=3, dropout=(0.0,)), data)
    epochs = []
    for r in trainer.run():
        if isinstance(r, EpochReport):
            epochs.append(r)
            if r.epoch == 0:
                trainer.update_hyperparameters(lr=0.01, momentum=0.5, weight_decay=1e-3, dropout=[0.25])
                assert trainer.optimizer.momentum == 0.9  # not before the next epoch
    assert epochs[1].changed == ("lr", "momentum", "weight_decay", "dropout")
    assert epochs[1].hyperparameters["lr"] == 0.01
    assert trainer.optimizer.momentum == 0.5 and trainer.optimizer.weight_decay == 1e-3
    assert trainer.net.dropout == [0.25]
    assert epochs[2].changed == ()


def test_invalid_live_change_is_refused_immediately(data):
    trainer = Trainer(cfg(), data)
    with pytest.raises(ValueError, match="learning rate"):
        trainer.update_hyperparameters(lr=-1)
    with pytest.raises(ValueError, match="cannot change batch_size"):
        trainer.update_hyperparameters(batch_size=3)


def test_divergence_stops_with_a_clear_error_and_keeps_last_good_weights(data):
    trainer = Trainer(cfg(epochs=3, optimizer="sgd", lr=0.001, preprocess="none", hidden=()), data)
    reports = trainer.run()
    for r in reports:
        if isinstance(r, EpochReport):
            break
    good = trainer.net.get_weights()
    trainer.update_hyperparameters(lr=10.0)
    with pytest.raises(TrainingDiverged, match=r"diverged at epoch 1 batch \d+.*smaller learning rate"):
        for _ in reports:
            pass
    for p, g in zip(trainer.net.parameters(), good):
        np.testing.assert_array_equal(p, g)


def test_validation_split(data):
    hist = Trainer(cfg(val_split=0.25, epochs=1), data).fit()
    assert hist[0].val_acc is not None and hist[0].val_loss is not None


def test_batch_larger_than_data_is_refused(data):
    with pytest.raises(ValueError, match="batch_size 1000 is larger than the 256 training samples"):
        Trainer(cfg(batch_size=1000), data)


def test_trained_model_predicts_raw_pixels_and_round_trips(data, tmp_path):
    trainer = Trainer(cfg(preprocess="standardize", epochs=2), data)
    trainer.fit()
    net = trainer.net
    net.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    p1 = net.predict_proba(data.X_test, preprocessed=False)
    p2 = loaded.predict_proba(data.X_test, preprocessed=False)
    np.testing.assert_allclose(p1, p2)
    assert loaded.meta["history"][-1]["test_acc"] == trainer.history[-1].test_acc
    assert loaded.class_names == data.class_names


def test_softmax_regression_has_no_hidden_layer(data):
    t = Trainer(cfg(hidden=(), epochs=2), data)
    t.fit()
    assert t.net.layer_sizes == [784, 10] and len(t.net.parameters()) == 2
    assert t.history[-1].test_acc > 0.5


def test_schedules_change_the_learning_rate(data):
    lrs = [r.lr for r in Trainer(cfg(epochs=4, schedule="cosine", warmup_epochs=1), data).run() if isinstance(r, BatchReport)]
    assert lrs[0] < lrs[8] and lrs[-1] < 0.01 * 0.05 * 10
    steps = [r.lr for r in Trainer(cfg(epochs=3, schedule="step", step_size=1, step_gamma=0.5), data).run() if isinstance(r, EpochReport)]
    assert steps == pytest.approx([0.025, 0.0125, 0.00625])


def test_input_dropout_does_not_touch_the_callers_array():
    net = MLP([4, 3, 2], input_dropout=0.5)
    X = np.ones((5, 4), dtype=np.float32)
    net.loss_and_grads(X, np.zeros(5, dtype=int))
    assert (X == 1).all()


def test_epoch_report_carries_the_whole_training_set_loss(data):
    from mlp_engine import evaluate

    trainer = Trainer(cfg(epochs=1), data)
    (report,) = trainer.fit()
    loss, acc = evaluate(trainer.net, trainer.X_train, trainer.y_train)
    assert report.train_set_loss == pytest.approx(loss) and report.train_acc == acc
    assert Trainer(cfg(epochs=1, eval_train=False), data).fit()[0].train_set_loss is None
