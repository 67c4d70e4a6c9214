"""The Compare tab: every run kept, overlaid, exported, renamed, deleted, saved; and sweeps.

The run list is a view of a Qt-free :class:`~mlp_gui.runs.RunStore`. Ticking runs overlays
one curve per run in a single plot (the paper's Figure 3-9 is SGD, momentum and RMSProp
ticked together). A sweep trains one configuration per value of a hyperparameter through
the shared :class:`~mlp_gui.worker.TrainingSession` and lists the final metrics.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QMessageBox, QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from mlp_engine import TrainConfig
from mlp_engine.serialization import atomic_write

from ..runs import METRICS, SWEEP_PARAMETERS, RunRecord, RunStore, history_from_meta, sweep_configs, write_histories_csv
from .live_plot import change_label, make_canvas
from .train_tab import _pct, format_duration


def _item(text: str, editable: bool = False, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
    if editable:
        flags |= Qt.ItemFlag.ItemIsEditable
    item.setFlags(flags)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class OverlayPlot(QWidget):
    """One metric of several runs in one axes; one Line2D per run, kept while the run is ticked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.figure = None
        self.canvas = None
        self.ax = None
        self.lines: dict[int, object] = {}  # run id -> Line2D
        self.change_markers: list[tuple[int, float, str]] = []  # (run id, epoch, label) shown
        self._marker_artists: list = []
        self._runs: list[RunRecord] = []
        self._metric = "train_loss"
        QVBoxLayout(self).setContentsMargins(0, 0, 0, 0)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.canvas is None:
            self.ensure_canvas()
            self._update()

    def ensure_canvas(self) -> None:
        if self.canvas is not None:
            return
        self.figure, self.canvas = make_canvas(self, figsize=(6.5, 4.5))
        self.layout().addWidget(self.canvas)
        self.ax = self.figure.add_subplot()
        self.ax.grid(True, alpha=0.3)
        self._empty = self.ax.text(0.5, 0.5, "Tick runs in the list to compare their curves.",
                                   transform=self.ax.transAxes, ha="center", va="center", color="#666666")

    def set_runs(self, runs: list[RunRecord], metric: str) -> None:
        self._runs, self._metric = list(runs), metric
        if self.canvas is not None:
            self._update()

    def _update(self) -> None:
        ax = self.ax
        label, _attr, is_acc = METRICS[self._metric]
        wanted = {r.id for r in self._runs}
        for run_id in list(self.lines):
            if run_id not in wanted:
                self.lines.pop(run_id).remove()
        for r in self._runs:
            xs, ys = r.series(self._metric)
            line = self.lines.get(r.id)
            if line is None:
                (line,) = ax.plot([], [], "o-", ms=4, lw=1.6, color=f"C{(r.id - 1) % 10}")
                self.lines[r.id] = line
            line.set_data(xs, ys)
            line.set_label(r.name)
        # Hyperparameters changed during a run: a dashed line in the run's colour where the
        # change took effect, labelled as on the Train tab.
        for artist in self._marker_artists:
            artist.remove()
        self._marker_artists, self.change_markers = [], []
        for r in self._runs:
            color = self.lines[r.id].get_color()
            for report in r.history:
                if report.changed:
                    label = change_label(report)
                    self.change_markers.append((r.id, report.epoch, label))
                    self._marker_artists.append(ax.axvline(report.epoch, ls="--", lw=1.0, color=color, alpha=0.8))
                    self._marker_artists.append(ax.annotate(
                        label, xy=(report.epoch, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -3),
                        textcoords="offset points", va="top", fontsize="small", color=color, rotation=90))
        short = label.replace(" per epoch", "")
        ax.set_title(f"{short} per epoch")
        ax.set_xlabel("epoch")
        ax.set_ylabel(short.lower())
        ax.relim()
        ax.autoscale_view()
        if self.lines:
            ax.legend(loc="lower right" if is_acc else "upper right", fontsize="small")
        elif ax.get_legend() is not None:
            ax.get_legend().remove()
        self._empty.set_visible(not self.lines)
        # Whole epochs on the x axis.
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        self.canvas.draw_idle()

    def save(self, path: str | Path) -> None:
        """Write the figure as PNG or SVG (from the suffix), atomically."""
        self.ensure_canvas()
        self._update()
        fmt = Path(path).suffix.lower().lstrip(".")
        if fmt not in ("png", "svg"):
            raise ValueError(f"cannot export the figure as {fmt or 'a file without extension'}; use .png or .svg")
        atomic_write(path, lambda f: self.figure.savefig(f, format=fmt, dpi=150))


class CompareTab(QWidget):
    """Kept runs: list with final metrics, overlay of ticked runs, exports, sweeps.

    Parameters
    ----------
    session : TrainingSession
        Its ``ended`` signal adds each finished, stopped or diverged run; sweeps run through it.
    base_config : callable returning TrainConfig, optional
        The configuration a sweep starts from (the Train tab's form).

    Signals
    -------
    run_added(object)      a new :class:`RunRecord` (its ``net`` may be None for a failed run).
    run_renamed(str, str)  key and new name.
    run_removed(str)       key of a deleted run.
    status_message(str)
    """

    run_added = Signal(object)
    run_renamed = Signal(str, str)
    run_removed = Signal(str)
    status_message = Signal(str)
    COLUMNS = ("Run", "Status", "Configuration", "Train acc", "Val acc", "Test acc", "Duration")

    def __init__(self, session, base_config: Callable[[], TrainConfig] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.base_config = base_config or TrainConfig
        self.store = RunStore()
        self._filling = False
        self._sweep_count = 0
        self._sweep_name: str | None = None
        self._sweep_records: list[RunRecord] = []
        self._last_dir = str(Path.home())

        # -- run list
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Tick runs to overlay them; double-click a name to rename it.")
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.save_button = QPushButton("Save model ...")
        self.save_button.setToolTip("Save the selected run's trained network to a .npz file.")
        self.save_button.clicked.connect(lambda: self.save_model())
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Forget the selected runs and their models (Delete key).")
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        self.csv_button = QPushButton("Export CSV ...")
        self.csv_button.setToolTip("Write the epoch histories (one row per run per epoch) of the ticked runs, "
                                   "or of all runs when none is ticked.")
        self.csv_button.clicked.connect(lambda: self.export_csv())
        self.tick_all_button = QPushButton("Tick all")
        self.tick_all_button.setToolTip("Tick every run (again: untick every run).")
        self.tick_all_button.clicked.connect(self._toggle_all)
        QShortcut(QKeySequence.StandardKey.Delete, self.table, activated=lambda: self.delete_selected())
        run_buttons = QHBoxLayout()
        for b in (self.tick_all_button, self.save_button, self.delete_button):
            run_buttons.addWidget(b)
        run_buttons.addStretch(1)
        run_buttons.addWidget(self.csv_button)

        # -- sweep
        sweep_box = QGroupBox("Sweep one hyperparameter")
        sweep_form = QFormLayout(sweep_box)
        self.sweep_param = QComboBox()
        for key, (label, *_rest) in SWEEP_PARAMETERS.items():
            self.sweep_param.addItem(label, key)
        self.sweep_param.setToolTip("The hyperparameter to vary; every other one comes from the Train tab's form.")
        self.sweep_param.currentIndexChanged.connect(self._on_sweep_param_changed)
        self.sweep_values = QLineEdit()
        self.sweep_values.setToolTip("Values to try, separated by commas; one run is trained per value.")
        self.sweep_values.returnPressed.connect(lambda: self.start_sweep())
        self.sweep_start = QPushButton("Run sweep")
        self.sweep_start.setToolTip("Train one run per value, one after another, and overlay them.")
        self.sweep_start.clicked.connect(lambda: self.start_sweep())
        self.sweep_stop = QPushButton("Stop sweep")
        self.sweep_stop.setToolTip("Stop the current run of the sweep and skip the remaining values.")
        self.sweep_stop.clicked.connect(self.stop_sweep)
        sweep_buttons = QHBoxLayout()
        sweep_buttons.addWidget(self.sweep_start)
        sweep_buttons.addWidget(self.sweep_stop)
        sweep_buttons.addStretch(1)
        self.sweep_status = QLabel("")
        self.sweep_status.setObjectName("hint")
        self.sweep_status.setWordWrap(True)
        self.sweep_table = QTableWidget(0, 7)
        self.sweep_table.setHorizontalHeaderLabels(["Value", "Status", "Train loss", "Train acc", "Val acc",
                                                    "Test acc", "Duration"])
        self.sweep_table.verticalHeader().setVisible(False)
        self.sweep_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.sweep_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.sweep_table.setToolTip("Final metrics of the current (or last) sweep, one row per value.")
        sweep_form.addRow("Parameter", self.sweep_param)
        sweep_form.addRow("Values", self.sweep_values)
        sweep_form.addRow(sweep_buttons)
        sweep_form.addRow(self.sweep_status)
        sweep_form.addRow(self.sweep_table)
        self._on_sweep_param_changed()

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.table, 3)
        lv.addLayout(run_buttons)
        lv.addWidget(sweep_box, 2)

        # -- overlay
        self.metric_combo = QComboBox()
        for key, (label, _attr, _acc) in METRICS.items():
            self.metric_combo.addItem(label, key)
        self.metric_combo.setToolTip("The per-epoch quantity drawn for every ticked run.")
        self.metric_combo.currentIndexChanged.connect(self._refresh_plot)
        self.export_button = QPushButton("Export figure ...")
        self.export_button.setToolTip("Save the overlay as a PNG or SVG image.")
        self.export_button.clicked.connect(lambda: self.export_figure())
        plot_bar = QHBoxLayout()
        plot_bar.addWidget(QLabel("Show"))
        plot_bar.addWidget(self.metric_combo, 1)
        plot_bar.addWidget(self.export_button)
        self.plot = OverlayPlot()
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addLayout(plot_bar)
        rv.addWidget(self.plot, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        QVBoxLayout(self).addWidget(splitter)

        session.ended.connect(self.add_result)
        session.sweep_started.connect(self._on_sweep_started)
        session.sweep_ended.connect(self._on_sweep_ended)
        session.running_changed.connect(lambda _r: self._update_buttons())
        self._update_buttons()

    # -- runs ------------------------------------------------------------------------------------
    def add_result(self, result) -> RunRecord:
        """Keep a run that ended (any status) and tick it for the overlay."""
        record = self.store.add_result(result)
        self._append_row(record, checked=bool(record.history))
        if result.sweep is not None and result.sweep == self._sweep_name:
            self._sweep_records.append(record)
            self._append_sweep_row(record)
        self._refresh_plot()
        self.run_added.emit(record)
        return record

    def add_loaded_model(self, net, path: str | Path) -> RunRecord | None:
        """List a model opened from a file, with the history it carries (None if it has none)."""
        meta = getattr(net, "meta", {}) or {}
        try:
            config = TrainConfig.from_dict(meta["config"])
        except (KeyError, TypeError, ValueError):
            return None
        history = history_from_meta(meta)
        record = self.store.add(config, history, net, 0.0, "loaded", f"loaded from {path}",
                                name=Path(path).stem)
        self._append_row(record, checked=False)
        self.run_added.emit(record)
        return record

    def _append_row(self, record: RunRecord, checked: bool) -> None:
        self._filling = True
        try:
            row = self.table.rowCount()
            self.table.insertRow(row)
            name = _item(record.name, editable=True)
            name.setFlags(name.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            name.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            name.setData(Qt.ItemDataRole.UserRole, record.id)
            tip = record.config.summary() + (f"\n{record.message}" if record.message else "")
            cells = [
                name,
                _item(record.status),
                _item(record.config.summary()),
                _item(_pct(record.final_metric("train_acc")), align_right=True),
                _item(_pct(record.final_metric("val_acc")), align_right=True),
                _item(_pct(record.final_metric("test_acc")), align_right=True),
                _item(format_duration(record.duration, short=True) if record.status != "loaded" else "", align_right=True),
            ]
            for col, item in enumerate(cells):
                item.setToolTip(tip)
                self.table.setItem(row, col, item)
            if record.status in ("diverged", "failed"):
                cells[1].setForeground(Qt.GlobalColor.darkRed)
        finally:
            self._filling = False
        self._update_buttons()

    def _row_of(self, record: RunRecord) -> int:
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).data(Qt.ItemDataRole.UserRole) == record.id:
                return row
        raise KeyError(record.key)

    def _record_at(self, row: int) -> RunRecord:
        return self.store.get(self.table.item(row, 0).data(Qt.ItemDataRole.UserRole))

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != 0:
            return
        record = self._record_at(item.row())
        text = item.text().strip()
        if text != record.name:
            if text:
                name = self.store.rename(record, text)
                self.run_renamed.emit(record.key, name)
                self.status_message.emit(f"Run renamed to '{name}'.")
            self._filling = True
            item.setText(record.name)  # the unique (or, for an empty entry, the old) name
            self._filling = False
        self._refresh_plot()

    def checked_runs(self) -> list[RunRecord]:
        return [self._record_at(row) for row in range(self.table.rowCount())
                if self.table.item(row, 0).checkState() == Qt.CheckState.Checked]

    def set_checked(self, record: RunRecord, checked: bool) -> None:
        self.table.item(self._row_of(record), 0).setCheckState(
            Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def _toggle_all(self) -> None:
        state = Qt.CheckState.Unchecked if len(self.checked_runs()) == len(self.store) else Qt.CheckState.Checked
        self._filling = True
        for row in range(self.table.rowCount()):
            self.table.item(row, 0).setCheckState(state)
        self._filling = False
        self._refresh_plot()

    def selected_runs(self) -> list[RunRecord]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self._record_at(r) for r in rows]

    def selected_run(self) -> RunRecord | None:
        runs = self.selected_runs()
        return runs[0] if runs else None

    def select(self, record: RunRecord) -> None:
        self.table.selectRow(self._row_of(record))

    def current_metric(self) -> str:
        return self.metric_combo.currentData()

    def set_metric(self, metric: str) -> None:
        self.metric_combo.setCurrentIndex(self.metric_combo.findData(metric))

    def _refresh_plot(self, *_args) -> None:
        self.plot.set_runs(self.checked_runs(), self.current_metric())

    # -- actions -------------------------------------------------------------------------------------
    def delete_selected(self, confirm: bool = True) -> None:
        runs = self.selected_runs()
        if not runs:
            return
        if confirm:
            names = ", ".join(f"'{r.name}'" for r in runs)
            answer = QMessageBox.question(
                self, "Delete runs", f"Delete {names}? Their curves and trained models are forgotten "
                "(save a model first to keep it).")
            if answer != QMessageBox.StandardButton.Yes:
                return
        for r in runs:
            self.table.removeRow(self._row_of(r))
            self.store.remove(r)
            self.run_removed.emit(r.key)
        self._refresh_plot()
        self._update_buttons()
        self.status_message.emit(f"Deleted {len(runs)} run(s).")

    def _ask_save_path(self, title: str, default_name: str, filters: str) -> tuple[str, str]:
        path, selected = QFileDialog.getSaveFileName(self, title, str(Path(self._last_dir) / default_name), filters)
        if path:
            self._last_dir = str(Path(path).parent)
        return path, selected

    def save_model(self, record: RunRecord | None = None, path: str | Path | None = None) -> Path | None:
        """Save a run's network (default: the selected run), asking for the file unless given."""
        record = record or self.selected_run()
        if record is None:
            QMessageBox.information(self, "Save model", "Select a run in the list first.")
            return None
        if record.net is None:
            QMessageBox.warning(self, "Save model", f"Run '{record.name}' has no model: it {record.status} before "
                                f"training began.\n{record.message}")
            return None
        if path is None:
            safe = "".join(c if c.isalnum() or c in "-_=." else "_" for c in record.name)
            path, _ = self._ask_save_path("Save model", f"{safe}.npz", "MLP Studio model (*.npz)")
            if not path:
                return None
        path = Path(path)
        if path.suffix.lower() != ".npz":
            path = path.with_name(path.name + ".npz")
        try:
            record.net.save(path)
        except OSError as exc:
            QMessageBox.critical(self, "Could not save the model", f"Could not write {path}:\n{exc}")
            return None
        self.status_message.emit(f"Saved model of '{record.name}' to {path}.")
        return path

    def export_figure(self, path: str | Path | None = None) -> Path | None:
        """Save the overlay as PNG or SVG (asks for the file unless given)."""
        if path is None:
            path, selected = self._ask_save_path("Export figure", "compare.png",
                                                 "PNG image (*.png);;SVG image (*.svg)")
            if not path:
                return None
            if Path(path).suffix.lower() not in (".png", ".svg"):
                path += ".svg" if "svg" in selected.lower() else ".png"
        try:
            self.plot.save(path)
        except (OSError, ValueError) as exc:
            QMessageBox.critical(self, "Could not export the figure", f"Could not write {path}:\n{exc}")
            return None
        self.status_message.emit(f"Figure written to {path}.")
        return Path(path)

    def export_csv(self, path: str | Path | None = None) -> Path | None:
        """Write the histories of the ticked runs (all runs if none is ticked) as CSV."""
        runs = self.checked_runs() or list(self.store)
        if not runs:
            QMessageBox.information(self, "Export CSV", "There is no run to export yet.")
            return None
        if path is None:
            path, _ = self._ask_save_path("Export histories", "histories.csv", "CSV file (*.csv)")
            if not path:
                return None
            if not path.lower().endswith(".csv"):
                path += ".csv"
        try:
            write_histories_csv(runs, path)
        except OSError as exc:
            QMessageBox.critical(self, "Could not export the histories", f"Could not write {path}:\n{exc}")
            return None
        self.status_message.emit(f"Histories of {len(runs)} run(s) written to {path}.")
        return Path(path)

    # -- sweeps -------------------------------------------------------------------------------------
    def _on_sweep_param_changed(self, *_args) -> None:
        key = self.sweep_param.currentData()
        label, _parse, _apply, example = SWEEP_PARAMETERS[key]
        self.sweep_values.setPlaceholderText(f"e.g. {example}")

    def set_sweep(self, parameter: str, values: str) -> None:
        self.sweep_param.setCurrentIndex(self.sweep_param.findData(parameter))
        self.sweep_values.setText(values)

    def start_sweep(self) -> bool:
        """Train one run per value; the rest of the configuration comes from ``base_config()``."""
        if self.session.is_running():
            QMessageBox.information(self, "Sweep", "A run is going; stop it or wait for it to end first.")
            return False
        key = self.sweep_param.currentData()
        try:
            base = self.base_config()
            configs = sweep_configs(base, key, self.sweep_values.text())
        except ValueError as exc:
            QMessageBox.warning(self, "Cannot start the sweep", str(exc))
            return False
        self._sweep_count += 1
        name = f"sweep {self._sweep_count}: {SWEEP_PARAMETERS[key][0]}"
        self._sweep_name = name
        self.session.start_sweep(name, configs)
        return True

    def stop_sweep(self) -> None:
        self.session.stop()

    def _on_sweep_started(self, name: str, n: int) -> None:
        self._sweep_name = name
        self._sweep_records = []
        self.sweep_table.setRowCount(0)
        self._filling = True
        for row in range(self.table.rowCount()):
            self.table.item(row, 0).setCheckState(Qt.CheckState.Unchecked)
        self._filling = False
        self._refresh_plot()
        self.sweep_status.setText(f"{name}: training {n} runs one after another (progress in the Train tab).")
        self.status_message.emit(f"{name}: {n} runs")

    def _append_sweep_row(self, record: RunRecord) -> None:
        row = self.sweep_table.rowCount()
        self.sweep_table.insertRow(row)
        value = record.config.name.split("=", 1)[-1]
        cells = (value, record.status, "" if record.final is None else f"{record.final.train_loss:.4f}",
                 _pct(record.final_metric("train_acc")), _pct(record.final_metric("val_acc")),
                 _pct(record.final_metric("test_acc")), format_duration(record.duration, short=True))
        for col, text in enumerate(cells):
            item = _item(text, align_right=col > 1)
            if record.message:
                item.setToolTip(record.message)
            self.sweep_table.setItem(row, col, item)
        done, total = self.session.sweep_position()
        if total:
            self.sweep_status.setText(f"{self._sweep_name}: {row + 1} of {total} runs done.")

    def _on_sweep_ended(self, name: str, complete) -> None:
        kept = {r.id for r in self.store}
        mine = [r for r in self._sweep_records if r.id in kept]
        best = max((r for r in mine if r.final_metric("test_acc") is not None),
                   key=lambda r: r.final_metric("test_acc"), default=None)
        text = f"{name}: {'finished' if complete else 'stopped'}."
        if best is not None:
            text += f" Best test accuracy: {best.name} ({_pct(best.final_metric('test_acc'))})."
        self.sweep_status.setText(text)
        self.status_message.emit(text)
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.session.is_running()
        has_selection = bool(self.table.selectedIndexes())
        self.save_button.setEnabled(has_selection)
        self.delete_button.setEnabled(has_selection)
        self.csv_button.setEnabled(len(self.store) > 0)
        self.tick_all_button.setEnabled(len(self.store) > 0)
        self.sweep_start.setEnabled(not running)
        self.sweep_stop.setEnabled(running and self.session.sweep_name is not None)
