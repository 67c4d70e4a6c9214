"""TrainingWorker / TrainingSession: signals in order, pause, stop, live changes, shutdown."""
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

from mlp_engine import BatchReport, EpochReport, TrainConfig
from mlp_engine.data import synthetic_dataset
from mlp_gui.worker import TrainingSession

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def data():
    return synthetic_dataset(n_train=256, n_test=64)


def config(**kw):
    base = dict(dataset="synthetic", hidden=(16,), optimizer="momentum", lr=0.05, batch_size=32, epochs=2,
                preprocess="scale", seed=1)
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture
def session(qtbot):
    s = TrainingSession()
    yield s
    assert s.shutdown(5000)


def test_run_emits_batches_epochs_then_finished_in_order(qtbot, session, data):
    seen = []
    session.batch.connect(lambda r: seen.append(("batch", r)))
    session.epoch.connect(lambda r, w: seen.append(("epoch", r, w)))
    session.finished.connect(lambda res: seen.append(("finished", res)))
    session.add_dataset(data)
    with qtbot.waitSignals([session.started, session.batch, session.epoch, session.finished, session.ended],
                           order="simple", timeout=10000):
        session.start(config())
    qtbot.waitUntil(lambda: not session.is_running())
    kinds = [s[0] for s in seen]
    # 256 samples / 32 = 8 batches per epoch, then the epoch report; twice; then finished.
    assert kinds == (["batch"] * 8 + ["epoch"]) * 2 + ["finished"]
    batches = [s[1] for s in seen if s[0] == "batch"]
    assert all(isinstance(b, BatchReport) for b in batches)
    assert [b.progress for b in batches[:8]] == pytest.approx([(i + 1) / 8 for i in range(8)])
    epochs = [s for s in seen if s[0] == "epoch"]
    assert [e[1].epoch for e in epochs] == [0, 1]
    assert isinstance(epochs[0][1], EpochReport)
    w1 = epochs[-1][2]
    assert isinstance(w1, np.ndarray) and w1.shape == (784, 16)
    result = seen[-1][1]
    assert result.status == "finished" and len(result.history) == 2
    # The W1 copy is the trained weights at that epoch, not a live view of them.
    np.testing.assert_array_equal(w1, result.net.parameters()[0])
    assert w1 is not result.net.parameters()[0]


def test_worker_loads_synthetic_data_itself(qtbot, session):
    with qtbot.waitSignal(session.ended, timeout=10000) as blocker:
        session.start(config(epochs=1))
    assert blocker.args[0].status == "finished"
    assert blocker.args[0].history[0].test_acc is not None


def test_pause_blocks_until_resume(qtbot, session, data):
    session.add_dataset(data)
    got_first = []
    # Pause from the first batch's handler: the worker may already be a few batches ahead,
    # but it blocks after the next report and says so with `paused`.
    session.batch.connect(lambda r: (got_first or session.pause(), got_first.append(r)))
    with qtbot.waitSignal(session.paused, timeout=10000):
        session.start(config(epochs=50))
    assert session.is_paused()
    qtbot.wait(50)  # let reports emitted before the pause arrive
    n_before = len(got_first)
    with qtbot.waitSignal(session.batch, timeout=400, raising=False) as blocker:
        pass
    assert not blocker.signal_triggered, "a paused worker emitted a batch report"
    assert len(got_first) == n_before
    assert session.is_running()
    with qtbot.waitSignal(session.batch, timeout=5000):
        session.resume()
    with qtbot.waitSignal(session.stopped, timeout=5000):
        session.stop()


def test_stop_takes_effect_within_one_batch(qtbot, session, data):
    session.add_dataset(data)
    with qtbot.waitSignal(session.batch, timeout=10000):
        session.start(config(epochs=10_000))
    # Time-stamp every report in the worker thread itself (direct connection), so reports still
    # queued for the GUI do not blur the measure.
    stamps = []
    session.worker.batch.connect(lambda r: stamps.append(time.perf_counter()), Qt.ConnectionType.DirectConnection)
    qtbot.waitUntil(lambda: len(stamps) >= 3)
    trainer = session.trainer
    session.stop()
    t_stop = time.perf_counter()
    with qtbot.waitSignal(session.ended, timeout=5000) as blocker:
        pass
    assert blocker.args[0].status == "stopped"
    # Only the batch already being computed when stop() was called may still report.
    assert len([t for t in stamps if t > t_stop]) <= 1
    assert trainer.epoch < 10_000 and not session.is_running()


def test_stop_while_paused_reports_nothing_more(qtbot, session, data):
    session.add_dataset(data)
    reports = []
    session.batch.connect(reports.append)
    session.batch.connect(lambda r: session.pause() if len(reports) == 1 else None)
    with qtbot.waitSignal(session.paused, timeout=10000):
        session.start(config(epochs=50))
    n = len(reports)  # every report emitted before `paused` has been delivered by now
    with qtbot.waitSignal(session.ended, timeout=5000) as blocker:
        session.stop()
    assert blocker.args[0].status == "stopped"
    assert len(reports) == n


def test_hyperparameter_change_reaches_the_optimizer(qtbot, session, data):
    session.add_dataset(data)
    epochs = []
    session.epoch.connect(lambda r, w: epochs.append(r))
    session.epoch.connect(lambda r, w: session.pause() if len(epochs) == 1 else None)
    session.epoch.connect(lambda r, w: r.changed and session.stop())
    with qtbot.waitSignal(session.paused, timeout=10000):
        session.start(config(epochs=1000))
    trainer = session.trainer
    session.update_hyperparameters(lr=0.01, momentum=0.5, dropout=[0.25])
    with pytest.raises(ValueError, match="momentum"):
        session.update_hyperparameters(momentum=2.0)
    with qtbot.waitSignal(session.ended, timeout=10000):
        session.resume()
    changed = [r for r in epochs if r.changed]
    assert len(changed) == 1, "exactly one epoch report marks the change"
    first = changed[0]
    assert set(first.changed) == {"lr", "momentum", "dropout"}
    assert first.hyperparameters["lr"] == 0.01 and first.hyperparameters["momentum"] == 0.5
    assert first.hyperparameters["dropout"] == [0.25]
    assert all(r.hyperparameters["lr"] == 0.05 for r in epochs[: first.epoch])
    # The optimizer and the network themselves were changed, not only the report.
    assert trainer.optimizer.get_hyperparameters()["momentum"] == 0.5
    assert trainer.config.lr == 0.01 and trainer.net.dropout == [0.25]


def test_divergence_reports_failed_and_keeps_the_model(qtbot, session, data):
    session.add_dataset(data)
    failed = []
    session.failed.connect(failed.append)
    with qtbot.waitSignal(session.ended, timeout=10000) as blocker:
        session.start(config(optimizer="sgd", lr=10.0, preprocess="none", epochs=3))
    result = blocker.args[0]
    assert result.status == "diverged"
    assert failed and "diverged" in failed[0] and "learning rate" in failed[0]
    assert result.net is not None
    assert all(np.isfinite(p).all() for p in result.net.parameters())


def test_bad_config_for_the_data_fails_with_the_engine_message(qtbot, session, data):
    session.add_dataset(data)
    with qtbot.waitSignal(session.failed, timeout=10000) as blocker:
        session.start(config(batch_size=1000))
    assert "batch_size 1000" in blocker.args[0]
    qtbot.waitUntil(lambda: not session.is_running())


def test_second_start_is_refused(qtbot, session, data):
    session.add_dataset(data)
    session.batch.connect(lambda r: session.pause())
    with qtbot.waitSignal(session.paused, timeout=10000):
        session.start(config(epochs=50))
    with pytest.raises(RuntimeError, match="already"):
        session.start(config())
    with qtbot.waitSignal(session.ended, timeout=5000):
        session.stop()


def test_shutdown_mid_run_leaves_no_thread(qtbot, data):
    session = TrainingSession()
    session.add_dataset(data)
    with qtbot.waitSignal(session.batch, timeout=10000):
        session.start(config(epochs=10_000))
    thread = session.thread
    assert thread.isRunning()
    assert session.shutdown(5000)
    assert not thread.isRunning()
    assert not session.is_running()


def test_sweep_runs_each_configuration_in_turn(qtbot, session, data):
    session.add_dataset(data)
    results = []
    session.ended.connect(results.append)
    configs = [config(epochs=1, lr=lr, name=f"lr={lr}") for lr in (0.01, 0.05, 0.1)]
    with qtbot.waitSignal(session.sweep_ended, timeout=20000) as blocker:
        session.start_sweep("lr", configs)
    assert blocker.args == ["lr", True]
    assert [r.config.lr for r in results] == [0.01, 0.05, 0.1]
    assert all(r.sweep == "lr" and r.status == "finished" for r in results)
    assert not session.is_running()


def test_many_emissions_do_not_exhaust_true(qtbot):
    # PySide6 6.12 leaks a reference to True per emit(); the worker module guards against it.
    import sys

    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        ping = Signal(object)

    e = Emitter()
    before = sys.getrefcount(True)
    for i in range(20_000):
        e.ping.emit(i)
    assert sys.getrefcount(True) > 10_000 or sys.getrefcount(True) >= before
