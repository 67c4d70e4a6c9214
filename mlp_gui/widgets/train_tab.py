"""The Train tab: the configuration form, run controls, progress, live curves and epoch table.

It is a view over a :class:`~mlp_gui.worker.TrainingSession`: buttons call the session,
session signals update the widgets. It never trains, loads data or computes a metric itself.
"""
from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QFrame, QHBoxLayout, QHeaderView, QLabel, QMessageBox, QProgressBar, QPushButton, QSplitter,
    QStyle, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from mlp_engine import TrainConfig

from .config_panel import ConfigPanel
from .live_plot import LivePlot

DATASET_TITLES = {"fashion-mnist": "Fashion-MNIST", "mnist": "MNIST", "synthetic": "synthetic"}


def format_duration(seconds: float, short: bool = False) -> str:
    """``mm:ss`` (``h:mm:ss`` from one hour); with ``short``, ``12.3 s`` under a minute."""
    if short and seconds < 59.95:
        return f"{max(seconds, 0.0):.1f} s"
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def _pct(v) -> str:
    return "" if v is None else f"{100 * v:.2f} %"


class TrainTab(QWidget):
    """Configure, start, pause, resume and stop training; watch it live.

    Parameters
    ----------
    session : TrainingSession
        Runs the training; shared with the Compare tab's sweeps.

    Signals
    -------
    status_message(str)
        Short news for the status bar.
    data_tab_requested()
        The user chose to fix a missing data set in the Data tab.
    """

    status_message = Signal(str)
    data_tab_requested = Signal()
    EPOCH_COLUMNS = ("epoch", "train loss", "train acc", "val acc", "test acc", "lr", "time")

    def __init__(self, session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._running_config: TrainConfig | None = None  # what the trainer uses, incl. applied changes
        self._last_batch = None
        self._t_start = 0.0
        self._paused_at: float | None = None
        self._paused_total = 0.0

        self.panel = ConfigPanel()
        self.panel.setMinimumWidth(340)
        self.panel.setMaximumWidth(460)
        self.panel.config_changed.connect(self._on_config_changed)

        style = self.style()
        self.start_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Start")
        self.start_button.setToolTip("Train a new network with this configuration (Ctrl+Return).")
        self.start_button.setShortcut("Ctrl+Return")
        self.start_button.setObjectName("primary")
        self.pause_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaPause), "Pause")
        self.pause_button.setToolTip("Pause after the current batch; nothing is lost.")
        self.resume_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward), "Resume")
        self.resume_button.setToolTip("Continue a paused run.")
        self.stop_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "Stop")
        self.stop_button.setToolTip("End the run before its next batch; the model trained so far is kept.")
        self.apply_button = QPushButton("Apply from next epoch")
        self.apply_button.setToolTip(
            "Send the edited learning rate, momentum, weight decay or dropout to the running trainer; "
            "they take effect at the start of the next epoch, marked on the plots.")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.pause)
        self.resume_button.clicked.connect(self.resume)
        self.stop_button.clicked.connect(self.stop)
        self.apply_button.clicked.connect(self.apply_changes)

        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.resume_button, self.stop_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.apply_button)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("idle")
        self.progress.setToolTip("Progress of the current run; the time left is estimated from the time so far.")
        self.run_label = QLabel("No run yet. Choose a preset or edit the form, then press Start.")
        self.run_label.setObjectName("hint")
        self.run_label.setWordWrap(True)
        self.run_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.plot = LivePlot()

        self.epoch_table = QTableWidget(0, len(self.EPOCH_COLUMNS))
        self.epoch_table.setHorizontalHeaderLabels(self.EPOCH_COLUMNS)
        self.epoch_table.verticalHeader().setVisible(False)
        self.epoch_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.epoch_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.epoch_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.epoch_table.setToolTip("One row per epoch, as in the paper's tables (epoch 0 is the first).")

        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addLayout(buttons)
        rv.addWidget(self.progress)
        rv.addWidget(self.run_label)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.plot)
        splitter.addWidget(self.epoch_table)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        # The table's size hint would claim half the height; the curves matter more.
        self.epoch_table.setMinimumHeight(110)
        splitter.setSizes([560, 170])
        rv.addWidget(splitter, 1)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.VLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout = QHBoxLayout(self)
        layout.addWidget(self.panel)
        layout.addWidget(line)
        layout.addWidget(right, 1)

        # Progress text is refreshed at most 10 times a second, like the plot: batch reports
        # can arrive thousands of times a second on small data.
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(100)
        self._progress_timer.timeout.connect(self._update_progress)

        session.started.connect(self._on_started)
        session.batch.connect(self._on_batch)
        session.epoch.connect(self._on_epoch)
        session.paused.connect(self._on_paused)
        session.resumed.connect(self._on_resumed)
        session.failed.connect(self._on_failed)
        session.ended.connect(self._on_ended)
        session.running_changed.connect(lambda _r: self._update_buttons())
        session.status.connect(self.status_message)
        self._update_buttons()

    # -- actions ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start a run with the form's configuration (ignored while one is going)."""
        if self.session.is_running():
            return
        try:
            config = self.panel.config()
        except ValueError as exc:
            QMessageBox.warning(self, "Cannot start training", f"The configuration is invalid:\n{exc}")
            return
        if not self._data_available(config.dataset):
            return
        try:
            self.session.start(config)
        except RuntimeError as exc:
            QMessageBox.warning(self, "Cannot start training", str(exc))

    def _data_available(self, name: str) -> bool:
        if name == "synthetic" or self.session.dataset(name) is not None:
            return True
        from mlp_engine.data import locate_dataset, search_dirs

        if locate_dataset(name) is not None:
            return True
        title = DATASET_TITLES.get(name, name)
        places = "\n".join(f"  {p}" for p in search_dirs(name))
        box = QMessageBox(QMessageBox.Icon.Warning, f"{title} not found",
                          f"{title} is not on this computer yet, so the run cannot start.\n\n"
                          f"Open the Data tab to download it (about 30 MB) or to choose the folder that holds "
                          f"its four IDX files. Places searched:\n{places}", parent=self)
        go = box.addButton("Open the Data tab", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is go:
            self.data_tab_requested.emit()
        return False

    def pause(self) -> None:
        self.session.pause()
        self._update_buttons(pausing=True)
        self.status_message.emit("Pausing after the current batch ...")

    def resume(self) -> None:
        self.session.resume()

    def stop(self) -> None:
        self.session.stop()
        self.stop_button.setEnabled(False)
        self.status_message.emit("Stopping before the next batch ...")

    def apply_changes(self) -> None:
        """Send the edited live hyperparameters to the running trainer."""
        if not self.session.is_running() or self._running_config is None:
            return
        changes = self.panel.live_changes(self._running_config)
        if not changes:
            self.status_message.emit("Nothing to apply: the live fields match the running values.")
            return
        try:
            self.session.update_hyperparameters(**changes)
        except (ValueError, RuntimeError) as exc:
            QMessageBox.warning(self, "Cannot apply the change", str(exc))
            return
        self._running_config = self._running_config.replace(
            **{k: tuple(v) if k == "dropout" else v for k, v in changes.items()})
        text = ", ".join(f"{k}={'/'.join(f'{r:g}' for r in v) if k == 'dropout' else f'{v:g}'}"
                         for k, v in changes.items())
        self.status_message.emit(f"{text}: applies from the next epoch.")
        self._update_buttons()

    # -- session signals ---------------------------------------------------------------------------
    def _on_started(self, config: TrainConfig) -> None:
        self._running_config = config
        self._last_batch = None
        self._t_start = time.perf_counter()
        self._paused_at, self._paused_total = None, 0.0
        if self.session.sweep_name is None:
            self.panel.set_config(config)
        title = config.name or config.summary()
        done, total = self.session.sweep_position()
        if total:
            title = f"Sweep {done}/{total}: {title}"
        self.plot.clear(title, epochs=config.epochs)
        self.epoch_table.setRowCount(0)
        self.progress.setValue(0)
        self.progress.setFormat("starting ...")
        self.run_label.setText(title if not config.name else f"{title}: {config.summary()}")
        self.panel.set_running(True)
        self._update_buttons()

    def _on_batch(self, report) -> None:
        self.plot.append_batch(report)
        self._last_batch = report
        if not self._progress_timer.isActive():
            self._progress_timer.start()

    def _active_seconds(self) -> float:
        now = time.perf_counter()
        paused = self._paused_total + ((now - self._paused_at) if self._paused_at is not None else 0.0)
        return now - self._t_start - paused

    def _update_progress(self) -> None:
        r = self._last_batch
        if r is None or self._running_config is None:
            return
        epochs = self._running_config.epochs
        fraction = min(r.progress / epochs, 1.0)
        elapsed = self._active_seconds()
        left = elapsed * (1 - fraction) / fraction if fraction > 0 else 0.0
        self.progress.setValue(int(round(1000 * fraction)))
        state = " · paused" if self._paused_at is not None else ""
        # Percent signs would be read as QProgressBar placeholders.
        self.progress.setFormat(
            f"epoch {r.epoch + 1}/{epochs} · batch {r.batch + 1}/{r.n_batches} · time left {format_duration(left)}{state}"
        )

    def _on_epoch(self, report, _w1) -> None:
        self.plot.append_epoch(report)
        row = self.epoch_table.rowCount()
        self.epoch_table.insertRow(row)
        values = (str(report.epoch), f"{report.train_loss:.4f}", _pct(report.train_acc), _pct(report.val_acc),
                  _pct(report.test_acc), f"{report.lr:.4g}", f"{report.train_seconds + report.eval_seconds:.1f} s")
        for col, text in enumerate(values):
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if report.changed:
                item.setToolTip("changed from this epoch: " + ", ".join(report.changed))
            self.epoch_table.setItem(row, col, item)
        self.epoch_table.scrollToBottom()
        if report.changed:
            hp = report.hyperparameters
            self.status_message.emit(f"Epoch {report.epoch}: now using "
                                     + ", ".join(f"{k}={hp.get(k)}" for k in report.changed))

    def _on_paused(self) -> None:
        self._paused_at = time.perf_counter()
        self._update_progress()
        self._update_buttons()
        self.status_message.emit("Paused. Resume to continue, or Stop to keep the model as it is.")

    def _on_resumed(self) -> None:
        if self._paused_at is not None:
            self._paused_total += time.perf_counter() - self._paused_at
            self._paused_at = None
        self._update_buttons()
        self.status_message.emit("Resumed.")

    def _on_failed(self, message: str) -> None:
        if self.session.sweep_name is not None:
            # A sweep goes on (a diverging learning rate is a result, not an accident); the
            # Compare tab's sweep table shows the message.
            self.status_message.emit(f"Sweep run failed: {message}")
            return
        title = "Training diverged" if "diverged" in message else "Training failed"
        QMessageBox.critical(self, title, message)

    def _on_ended(self, result) -> None:
        self._progress_timer.stop()
        self._update_progress()
        self._paused_at = None
        self.plot.flush() if self.plot.canvas is not None else None
        self.panel.set_running(False)
        name = result.config.name or result.config.summary()
        duration = format_duration(result.duration, short=True)
        final = result.history[-1] if result.history else None
        metrics = ""
        if final is not None and final.test_acc is not None:
            metrics = f": test accuracy {100 * final.test_acc:.2f} % after {len(result.history)} epochs"
        if result.status == "finished":
            self.progress.setValue(1000)
            self.progress.setFormat(f"finished in {duration}")  # no time left: the run is over
            text = f"Run '{name}' finished in {duration}{metrics}."
        elif result.status == "stopped":
            self.progress.setFormat(f"stopped after {duration}")
            text = f"Run '{name}' stopped after {duration}{metrics}; the model trained so far is kept in Compare."
        else:
            self.progress.setFormat(result.status)
            kept = " The last good model is kept in Compare." if result.net is not None else ""
            text = f"Run '{name}' {result.status}: {result.message}{kept}"
        self.run_label.setText(text)
        self.status_message.emit(text)
        self._running_config = None
        self._update_buttons()

    def _on_config_changed(self, _config) -> None:
        self._update_buttons()

    # -- state ---------------------------------------------------------------------------------------
    def _update_buttons(self, pausing: bool = False) -> None:
        running = self.session.is_running()
        paused = running and (self._paused_at is not None or pausing)
        self.start_button.setEnabled(not running and self.panel.is_valid())
        self.start_button.setToolTip(
            "Train a new network with this configuration (Ctrl+Return)." if self.panel.is_valid()
            else "Fix the configuration first: " + self.panel.error())
        self.pause_button.setEnabled(running and not paused)
        self.resume_button.setEnabled(running and paused)
        self.stop_button.setEnabled(running)
        self.apply_button.setEnabled(running and self.panel.is_valid())
