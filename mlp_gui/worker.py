"""Training off the GUI thread: a worker object that drives ``Trainer.run()`` inside a QThread.

The engine's training loop is a generator of immutable reports (superqt's GeneratorWorker
idea); the worker turns each report into a signal and never touches a widget or a figure.
Pausing is simply not pulling the next report: the worker waits on a condition variable
between batches. Stopping sets the trainer's stop flag and wakes a paused worker, so it takes
effect before the next batch. :class:`TrainingSession` owns the thread's life cycle and a
queue of configurations, so a sweep runs its configurations one after another through the
same code path as a single run.
"""
from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, QThread, Signal, Slot

from mlp_engine import BatchReport, TrainConfig, Trainer, TrainingDiverged

from .runs import RunResult


class TrainingWorker(QObject):
    """Runs one training configuration; lives in a QThread and talks only through signals.

    Parameters
    ----------
    config : TrainConfig
    data : Dataset, optional
        Train on this data set. Without it, the worker loads ``config.dataset`` itself
        (``load_dataset``; the tiny ``synthetic_dataset()`` for "synthetic").
    sweep : str, optional
        Passed through to :class:`RunResult` so views can group the runs of one sweep.

    Signals
    -------
    status(str)            human-readable progress ("Loading Fashion-MNIST ...").
    dataset_loaded(object) the Dataset the worker loaded itself (so it can be reused).
    training_started(object) the Trainer, once built (its ``config`` and ``net``).
    batch(object)          a BatchReport after every mini-batch.
    epoch(object, object)  an EpochReport and a copy of the first weight matrix (n_in, n_out).
    paused(), resumed()    emitted when the worker actually blocks / continues.
    finished(object)       the RunResult of a run that trained all its epochs.
    stopped()              the run ended early on request.
    failed(str)            the message of the exception that ended the run (including
                           TrainingDiverged, whose model keeps its last good weights).
    ended(object)          always last: the RunResult, whatever the outcome.
    """

    status = Signal(str)
    dataset_loaded = Signal(object)
    training_started = Signal(object)
    batch = Signal(object)
    epoch = Signal(object, object)
    paused = Signal()
    resumed = Signal()
    finished = Signal(object)
    stopped = Signal()
    failed = Signal(str)
    ended = Signal(object)

    def __init__(self, config: TrainConfig, data=None, sweep: str | None = None) -> None:
        super().__init__()
        self.config = config
        self._data = data
        self._sweep = sweep
        # One condition variable guards the pause/stop flags and the pending hyperparameters;
        # the GUI thread calls pause/resume/stop/update_hyperparameters directly (they are
        # thread-safe) because this worker's event loop is busy inside run() and would never
        # deliver a queued slot call.
        self._cond = threading.Condition()
        self._paused = False
        self._stop = False
        self._pending: dict = {}
        self.trainer: Trainer | None = None

    # -- control, from any thread ----------------------------------------------------------------
    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._paused = False
            if self.trainer is not None:
                self.trainer.stop()
            self._cond.notify_all()

    @property
    def is_paused(self) -> bool:
        return self._paused

    def update_hyperparameters(self, **changes) -> None:
        """Change lr, momentum, weight_decay, dropout... from the next epoch on.

        Raises ``ValueError`` here, in the caller's thread, for an invalid value.
        """
        with self._cond:
            if self.trainer is not None:
                self.trainer.update_hyperparameters(**changes)
            else:
                # Still loading data: validate against the config now, apply once built.
                if "dropout" in changes:
                    changes["dropout"] = tuple(changes["dropout"])
                self.config.replace(**{**self._pending, **changes})
                self._pending.update(changes)

    # -- the run, in the worker thread -------------------------------------------------------------
    def _wait_while_paused(self) -> float:
        """Block while paused; returns the seconds spent paused."""
        with self._cond:
            if not self._paused or self._stop:
                return 0.0
            t0 = time.perf_counter()
            self.paused.emit()
            while self._paused and not self._stop:
                self._cond.wait()
        self.resumed.emit()
        return time.perf_counter() - t0

    def _load_data(self):
        name = self.config.dataset
        if name == "synthetic":
            from mlp_engine.data import synthetic_dataset

            data = synthetic_dataset()
        else:
            from mlp_engine.data import load_dataset

            self.status.emit(f"Loading {name} ...")
            data = load_dataset(name)
        self.dataset_loaded.emit(data)
        return data

    @Slot()
    def run(self) -> None:
        t_start = time.perf_counter()
        paused_for = 0.0
        status, message, trainer = "finished", "", None
        try:
            data = self._data if self._data is not None else self._load_data()
            if self._stop:
                status = "stopped"
            else:
                self.status.emit("Preparing the network ...")
                trainer = Trainer(self.config, data)
                with self._cond:
                    self.trainer = trainer
                    if self._pending:
                        trainer.update_hyperparameters(**self._pending)
                        self._pending = {}
                    if self._stop:
                        trainer.stop()
                self.training_started.emit(trainer)
                # Closing the generator on break (stop requested while paused or right after
                # an epoch's evaluation) ends the run before another batch is computed.
                gen = trainer.run()
                try:
                    for report in gen:
                        if isinstance(report, BatchReport):
                            self.batch.emit(report)
                        else:
                            self.epoch.emit(report, trainer.net.parameters()[0].copy())
                        paused_for += self._wait_while_paused()
                        if self._stop:
                            break
                finally:
                    gen.close()
                done = trainer.epoch >= trainer.config.epochs
                status = "finished" if done else "stopped"
        except TrainingDiverged as exc:
            status, message = "diverged", str(exc)
        except Exception as exc:  # noqa: BLE001 - every failure must reach the UI, never a silent hang
            status = "failed"
            message = str(exc) or type(exc).__name__
            if not isinstance(exc, (ValueError, OSError)):
                message = f"{type(exc).__name__}: {message}"
        result = RunResult(
            config=trainer.config if trainer is not None else self.config,
            net=trainer.net if trainer is not None else None,
            history=list(trainer.history) if trainer is not None else [],
            status=status,
            message=message,
            duration=time.perf_counter() - t_start - paused_for,
            sweep=self._sweep,
        )
        if status == "finished":
            self.finished.emit(result)
        elif status == "stopped":
            self.stopped.emit()
        else:
            self.failed.emit(message)
        self.ended.emit(result)


class TrainingSession(QObject):
    """Owns the training thread: starts runs (one, or a queue for a sweep), relays their signals.

    Only one run trains at a time; :meth:`start` while running raises ``RuntimeError``
    (the Train tab disables Start, this is the backstop). Data sets loaded by a worker or
    handed in with :meth:`add_dataset` are kept and reused by later runs.

    Signals
    -------
    Those of :class:`TrainingWorker` (``batch``, ``epoch``, ``paused``, ``resumed``,
    ``finished``, ``stopped``, ``failed``, ``ended``, ``status``, ``training_started``), plus:
    started(object)         the TrainConfig of a run about to start.
    running_changed(bool)   a run (or sweep) began / everything ended.
    sweep_started(str, int) a sweep's name and number of runs.
    sweep_ended(str, bool)  a sweep's name and whether every run was trained.
    """

    status = Signal(str)
    started = Signal(object)
    training_started = Signal(object)
    batch = Signal(object)
    epoch = Signal(object, object)
    paused = Signal()
    resumed = Signal()
    finished = Signal(object)
    stopped = Signal()
    failed = Signal(str)
    ended = Signal(object)
    # Not Signal(bool): PySide6 6.12 drops a reference to True/False on every emit of a
    # Python-declared bool signal, and the interpreter aborts once the count reaches zero.
    running_changed = Signal(object)
    sweep_started = Signal(str, int)
    sweep_ended = Signal(str, object)
    dataset_loaded = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        # Threads that were asked to quit but may not have returned yet, with their workers;
        # keeping the references prevents Python from destroying a QThread that is still
        # running (a hard crash) or a worker still unwinding its run().
        self._retiring: dict[QThread, TrainingWorker] = {}
        self._queue: list[TrainConfig] = []
        self._sweep: str | None = None
        self._sweep_total = 0
        self._datasets: dict[str, object] = {}

    # -- data ----------------------------------------------------------------------------------
    def add_dataset(self, dataset) -> None:
        """Reuse ``dataset`` for runs whose ``config.dataset`` equals ``dataset.name``."""
        self._datasets[dataset.name] = dataset

    def dataset(self, name: str):
        return self._datasets.get(name)

    def _on_dataset_loaded(self, dataset) -> None:
        self.add_dataset(dataset)
        self.dataset_loaded.emit(dataset)

    # -- state ---------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._worker is not None

    @property
    def thread(self) -> QThread | None:
        return self._thread

    @property
    def worker(self) -> TrainingWorker | None:
        return self._worker

    @property
    def trainer(self) -> Trainer | None:
        return None if self._worker is None else self._worker.trainer

    @property
    def sweep_name(self) -> str | None:
        return self._sweep

    def sweep_position(self) -> tuple[int, int]:
        """``(runs started, total)`` of the current sweep; ``(0, 0)`` outside a sweep."""
        if self._sweep is None:
            return 0, 0
        return self._sweep_total - len(self._queue), self._sweep_total

    def is_paused(self) -> bool:
        return self._worker is not None and self._worker.is_paused

    # -- control ---------------------------------------------------------------------------------
    def start(self, config: TrainConfig, data=None) -> None:
        """Train ``config`` in a new thread; ``data`` overrides the cached/loaded data set."""
        if self.is_running():
            raise RuntimeError("a training run is already going; stop it before starting another")
        self._launch(config, data)
        self.running_changed.emit(True)

    def start_sweep(self, name: str, configs: list[TrainConfig]) -> None:
        """Train ``configs`` one after another; each result's ``sweep`` is ``name``."""
        if self.is_running():
            raise RuntimeError("a training run is already going; stop it before starting a sweep")
        if not configs:
            raise ValueError("a sweep needs at least one configuration")
        self._sweep, self._sweep_total = name, len(configs)
        self._queue = list(configs[1:])
        self.sweep_started.emit(name, len(configs))
        self._launch(configs[0], None)
        self.running_changed.emit(True)

    def _launch(self, config: TrainConfig, data) -> None:
        data = data if data is not None else self._datasets.get(config.dataset)
        worker = TrainingWorker(config, data, sweep=self._sweep)
        thread = QThread(self)
        thread.setObjectName("mlp-training")
        worker.moveToThread(thread)
        for name in ("status", "training_started", "batch", "epoch", "paused", "resumed", "finished",
                     "stopped", "failed"):
            getattr(worker, name).connect(getattr(self, name))
        worker.dataset_loaded.connect(self._on_dataset_loaded)
        worker.ended.connect(self._on_ended)
        thread.started.connect(worker.run)
        # Bound methods of this GUI-thread object (not lambdas), so that the connections are
        # queued into the GUI thread.
        thread.finished.connect(self._on_thread_finished)
        self._worker, self._thread = worker, thread
        self.started.emit(config)
        thread.start()

    @Slot(object)
    def _on_ended(self, result: RunResult) -> None:
        worker, thread = self._worker, self._thread
        if worker is None or self.sender() is not worker:
            return  # a late signal from a worker already retired by shutdown()
        self._worker = None
        self._retire(thread, worker)
        self.ended.emit(result)
        # The next configuration of a sweep starts only after the views saw this run end.
        if self._queue and result.status != "stopped" and self._worker is None:
            self._launch(self._queue.pop(0), None)
            return
        sweep, complete = self._sweep, not self._queue and result.status != "stopped"
        self._queue, self._sweep, self._sweep_total = [], None, 0
        if sweep is not None:
            self.sweep_ended.emit(sweep, complete)
        self.running_changed.emit(False)

    def _retire(self, thread: QThread | None, worker: TrainingWorker | None) -> None:
        if thread is None:
            return
        self._retiring[thread] = worker
        thread.quit()
        if thread is self._thread:
            self._thread = None

    @Slot()
    def _on_thread_finished(self) -> None:
        thread = self.sender()
        if isinstance(thread, QThread) and thread in self._retiring:
            del self._retiring[thread]
            thread.deleteLater()

    def pause(self) -> None:
        if self._worker is not None:
            self._worker.pause()

    def resume(self) -> None:
        if self._worker is not None:
            self._worker.resume()

    def stop(self) -> None:
        """Stop the current run before its next batch, and drop the rest of a sweep."""
        self._queue = []
        if self._worker is not None:
            self._worker.stop()

    def update_hyperparameters(self, **changes) -> None:
        """Forward to the running trainer (applied from the next epoch); ``ValueError`` if invalid."""
        if self._worker is None:
            raise RuntimeError("no training run is going")
        self._worker.update_hyperparameters(**changes)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop everything and wait for the threads; True if none is left running.

        Called when the window closes, so that no thread outlives the widgets it reports to.
        """
        self.stop()
        threads = list(self._retiring)
        if self._thread is not None:
            threads.append(self._thread)
        deadline = time.perf_counter() + timeout_ms / 1000
        ok = True
        for thread in threads:
            thread.quit()
            left = max(0, int((deadline - time.perf_counter()) * 1000))
            ok = thread.wait(left) and ok
        if self._worker is not None:
            self._retire(self._thread, self._worker)
            self._worker = None
            self.running_changed.emit(False)
        return ok
