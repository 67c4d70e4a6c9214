"""Compare tab and run records: overlay, exports, rename/delete/save, sweeps."""
import csv
import io

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from mlp_engine import TrainConfig, load_model
from mlp_engine.data import synthetic_dataset
from mlp_gui.runs import CSV_FIELDS, RunStore, histories_csv, sweep_configs
from mlp_gui.widgets.compare_tab import CompareTab
from mlp_gui.worker import TrainingSession

BASE = TrainConfig(dataset="synthetic", hidden=(16,), optimizer="momentum", lr=0.05, batch_size=32, epochs=2,
                   preprocess="scale", val_split=0.25)


@pytest.fixture(scope="module")
def data():
    return synthetic_dataset(n_train=256, n_test=64)


@pytest.fixture
def tab(qtbot, data):
    session = TrainingSession()
    session.add_dataset(data)
    t = CompareTab(session, base_config=lambda: BASE)
    qtbot.addWidget(t)
    t.resize(1200, 700)
    t.show()
    qtbot.waitExposed(t)
    yield t
    assert session.shutdown(5000)


def train(qtbot, tab, **kw):
    with qtbot.waitSignal(tab.run_added, timeout=10000) as blocker:
        tab.session.start(BASE.replace(**kw))
    qtbot.waitUntil(lambda: not tab.session.is_running())
    return blocker.args[0]


def test_overlay_shows_one_line_per_ticked_run(qtbot, tab):
    runs = [train(qtbot, tab, optimizer=o, lr=lr, name=o) for o, lr in (("sgd", 0.2), ("momentum", 0.05),
                                                                         ("rmsprop", 0.002))]
    assert [tab.table.item(r, 0).text() for r in range(3)] == ["sgd", "momentum", "rmsprop"]
    assert tab.checked_runs() == runs  # new runs are ticked
    lines = tab.plot.lines
    assert len(lines) == 3
    for r in runs:
        assert list(lines[r.id].get_ydata()) == [h.train_loss for h in r.history]
        assert list(lines[r.id].get_xdata()) == [1, 2]
    legend = [t.get_text() for t in tab.plot.ax.get_legend().get_texts()]
    assert legend == ["sgd", "momentum", "rmsprop"]
    tab.set_checked(runs[1], False)
    assert set(tab.plot.lines) == {runs[0].id, runs[2].id}
    tab.set_metric("test_acc")
    assert list(tab.plot.lines[runs[0].id].get_ydata()) == [h.test_acc for h in runs[0].history]
    tab.set_metric("val_acc")
    assert list(tab.plot.lines[runs[2].id].get_ydata()) == [h.val_acc for h in runs[2].history]
    # The table shows the final metrics.
    assert tab.table.item(0, 5).text() == f"{100 * runs[0].history[-1].test_acc:.2f} %"


def test_export_png_svg_and_csv(qtbot, tab, tmp_path, monkeypatch):
    a = train(qtbot, tab, name="a")
    b = train(qtbot, tab, name="b", epochs=3)
    png = tmp_path / "overlay.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(png), "PNG image (*.png)"))
    assert tab.export_figure() == png
    assert png.read_bytes().startswith(b"\x89PNG")
    svg = tmp_path / "overlay"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(svg), "SVG image (*.svg)"))
    assert tab.export_figure() == tmp_path / "overlay.svg"
    assert b"<svg" in (tmp_path / "overlay.svg").read_bytes()[:500]

    out = tmp_path / "hist.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "CSV file (*.csv)"))
    assert tab.export_csv() == out
    rows = list(csv.reader(out.open()))
    assert tuple(rows[0]) == CSV_FIELDS
    assert [(r[0], r[2]) for r in rows[1:]] == [("a", "0"), ("a", "1"), ("b", "0"), ("b", "1"), ("b", "2")]
    assert float(rows[3][CSV_FIELDS.index("test_acc")]) == b.history[0].test_acc
    assert float(rows[1][CSV_FIELDS.index("val_loss")]) == a.history[0].val_loss
    # Only ticked runs are exported when some are ticked.
    tab.set_checked(a, False)
    tab.export_csv(out)
    assert {r[0] for r in list(csv.reader(out.open()))[1:]} == {"b"}


def test_export_error_is_reported(qtbot, tab, tmp_path, monkeypatch):
    train(qtbot, tab, name="a")
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a: shown.append(a[2]))
    assert tab.export_figure(tmp_path / "figure.jpg") is None
    assert "use .png or .svg" in shown[-1]


def test_rename_delete_and_save_model(qtbot, tab, tmp_path, monkeypatch):
    a = train(qtbot, tab, name="first")
    b = train(qtbot, tab, name="second")
    renamed = []
    tab.run_renamed.connect(lambda k, n: renamed.append((k, n)))
    tab.table.item(0, 0).setText("baseline")
    assert a.name == "baseline" and renamed == [(a.key, "baseline")]
    assert "baseline" in [t.get_text() for t in tab.plot.ax.get_legend().get_texts()]
    tab.table.item(1, 0).setText("baseline")  # names stay unique
    assert b.name == "baseline (2)" and tab.table.item(1, 0).text() == "baseline (2)"
    tab.table.item(1, 0).setText("   ")  # an empty name is refused
    assert b.name == "baseline (2)" and tab.table.item(1, 0).text() == "baseline (2)"

    path = tmp_path / "model.npz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    tab.select(a)
    assert tab.save_model() == path
    loaded = load_model(path)
    for p, q in zip(loaded.parameters(), a.net.parameters()):
        np.testing.assert_array_equal(p, q)
    assert loaded.meta["test_acc"] == a.history[-1].test_acc

    removed = []
    tab.run_removed.connect(removed.append)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    tab.select(a)
    tab.delete_selected()
    assert len(tab.store) == 2 and removed == []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    tab.delete_selected()
    assert removed == [a.key] and list(tab.store) == [b]
    assert tab.table.rowCount() == 1 and set(tab.plot.lines) == {b.id}


def test_failed_and_diverged_runs_are_kept(qtbot, tab):
    r = train(qtbot, tab, optimizer="sgd", lr=10.0, preprocess="none", name="too fast")
    assert r.status == "diverged" and r.net is not None
    assert tab.table.item(0, 1).text() == "diverged"
    assert "learning rate" in tab.table.item(0, 1).toolTip()


def test_sweep_trains_one_run_per_value_and_overlays_them(qtbot, tab):
    train(qtbot, tab, name="before")
    tab.set_sweep("lr", "0.01, 0.05, 0.1")
    with qtbot.waitSignal(tab.session.sweep_ended, timeout=20000):
        assert tab.start_sweep()
    qtbot.waitUntil(lambda: tab.sweep_table.rowCount() == 3)
    sweep_runs = list(tab.store)[1:]
    assert [r.config.lr for r in sweep_runs] == [0.01, 0.05, 0.1]
    assert [r.name for r in sweep_runs] == ["lr=0.01", "lr=0.05", "lr=0.1"]
    assert tab.checked_runs() == sweep_runs  # the earlier run is unticked for the overlay
    assert len(tab.plot.lines) == 3
    assert [tab.sweep_table.item(i, 0).text() for i in range(3)] == ["0.01", "0.05", "0.1"]
    assert tab.sweep_table.item(2, 5).text() == f"{100 * sweep_runs[2].history[-1].test_acc:.2f} %"
    assert "finished" in tab.sweep_status.text()


def test_sweep_can_be_stopped(qtbot, tab):
    tab.set_sweep("batch_size", "16, 32, 64")
    tab.base_config = lambda: BASE.replace(epochs=5000)
    tab.session.batch.connect(lambda r: tab.stop_sweep())
    with qtbot.waitSignal(tab.session.sweep_ended, timeout=10000) as blocker:
        tab.start_sweep()
    assert blocker.args[1] is False
    assert len(tab.store) == 1 and tab.store[0].status == "stopped"
    assert "stopped" in tab.sweep_status.text()


def test_bad_sweep_values_are_explained(qtbot, tab, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: shown.append(a[2]))
    tab.set_sweep("momentum", "0.5, 2")
    assert not tab.start_sweep()
    assert "momentum = 2" in shown[-1] and "0.9999" in shown[-1]
    assert not tab.session.is_running()


def test_sweep_configs_parse_every_kind_of_value():
    base = TrainConfig(hidden=(256, 128), dropout=(0.1, 0.2))
    assert [c.hidden for c in sweep_configs(base, "hidden", "none, 64, 32-16")] == [(), (64,), (32, 16)]
    assert [c.dropout for c in sweep_configs(base, "hidden", "64-32")] == [(0.1, 0.2)]
    assert [c.hidden for c in sweep_configs(base, "hidden_width", "64")] == [(64, 64)]
    assert [c.dropout for c in sweep_configs(base, "dropout", "0.5")] == [(0.5, 0.5)]
    assert [c.optimizer for c in sweep_configs(base, "optimizer", "sgd, adam")] == ["sgd", "adam"]
    assert [c.batch_size for c in sweep_configs(base, "batch_size", "32, 6000")] == [32, 6000]
    with pytest.raises(ValueError, match="batch size = 1.5"):
        sweep_configs(base, "batch_size", "1.5")
    with pytest.raises(ValueError, match="'lbfgs' is not one of"):
        sweep_configs(base, "optimizer", "lbfgs")
    with pytest.raises(ValueError, match="empty value"):
        sweep_configs(base, "lr", "0.1,,0.2")
    with pytest.raises(ValueError, match="separated by commas"):
        sweep_configs(base, "lr", " ")


def test_histories_csv_leaves_missing_values_empty():
    from types import MappingProxyType

    from mlp_engine import EpochReport

    store = RunStore()
    h = EpochReport(0, 1, 0.5, None, None, None, 0.6, 0.8, 0.1, 1.0, 0.1, MappingProxyType({}), ())
    store.add(TrainConfig(), [h], name="x")
    rows = list(csv.reader(io.StringIO(histories_csv(store))))
    assert rows[1][:9] == ["x", "finished", "0", "0.5", "", "", "", "0.6", "0.8"]


def test_live_changes_are_marked_on_the_overlay(tab):
    from types import MappingProxyType

    from mlp_engine import EpochReport
    from mlp_gui.runs import RunResult

    def report(epoch, changed=(), lr=0.05):
        return EpochReport(epoch, 3, 0.5, 0.8, None, None, 0.6, 0.7, lr, 0.1, 0.01,
                           MappingProxyType({"lr": lr, "dropout": [0.0]}), tuple(changed))

    plain = tab.add_result(RunResult(BASE, None, [report(0), report(1), report(2)], "finished"))
    tuned = tab.add_result(RunResult(BASE, None, [report(0), report(1, ("lr",), lr=0.01), report(2)], "finished"))
    assert tab.plot.change_markers == [(tuned.id, 1, "lr=0.01")]
    texts = [t.get_text() for t in tab.plot.ax.texts if t.get_visible()]
    assert "lr=0.01" in texts
    tab.set_checked(tuned, False)  # unticked: its marker goes with its line
    assert tab.plot.change_markers == [] and "lr=0.01" not in [t.get_text() for t in tab.plot.ax.texts]
    assert plain.id in tab.plot.lines
