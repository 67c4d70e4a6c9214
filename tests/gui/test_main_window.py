"""MainWindow: composition and wiring, runs end to end, files, settings, closing mid-run."""
import json

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from mlp_engine import MLP, TrainConfig
from mlp_engine.data import synthetic_dataset
from mlp_gui.main_window import MainWindow
from mlp_gui.settings import Settings

CONFIG = TrainConfig(dataset="synthetic", hidden=(16,), optimizer="momentum", lr=0.05, batch_size=32, epochs=2,
                     preprocess="scale", name="tiny")


@pytest.fixture(scope="module")
def data():
    return synthetic_dataset(n_train=256, n_test=64)


def make_window(qtbot, tmp_path, data, config=CONFIG):
    settings = Settings(tmp_path / "settings.ini")
    # Keep the Data tab (and its auto-load of real data) off screen, and the live plot too: a
    # full matplotlib draw takes ~0.25 s here, during which a worker on 256 synthetic images
    # queues thousands of batch reports. Tests that look at the plot flush it themselves.
    settings.set_current_tab("Compare")
    w = MainWindow(settings=settings, models_dir=None)
    qtbot.addWidget(w)
    w.session.add_dataset(data)
    w.train_tab.panel.set_config(config)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def window(qtbot, tmp_path, data):
    w = make_window(qtbot, tmp_path, data)
    yield w
    w.session.shutdown(5000)


def run_once(qtbot, window, config=None):
    if config is not None:
        window.train_tab.panel.set_config(config)
    with qtbot.waitSignal(window.compare_tab.run_added, timeout=10000) as blocker:
        window.train_tab.start_button.click()
    qtbot.waitUntil(lambda: not window.session.is_running())
    return blocker.args[0]


def test_tabs_menus_and_about(qtbot, window):
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == list(MainWindow.TAB_NAMES)
    file_actions = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert "&Open model ..." in file_actions and "&Quit" in file_actions
    assert any("Save model" in t for t in file_actions) and "Recent models" in file_actions
    window.about_action.trigger()
    assert window.about_dialog.isVisible()
    assert "SGD vs. momentum vs. RMSProp" in window.about_browser.toPlainText().replace("\n", " ")
    window.about_dialog.close()


def test_a_run_reaches_every_tab(qtbot, window):
    enabled_during_run = []
    window.session.batch.connect(lambda r: enabled_during_run.append(window.train_tab.start_button.isEnabled()))
    record = run_once(qtbot, window)
    assert enabled_during_run and not any(enabled_during_run), "Start must be disabled while a run is going"
    assert record.status == "finished" and len(record.history) == 2
    assert list(window.compare_tab.store) == [record]
    # Evaluate and Draw offer the run's model under its key.
    for tab in (window.evaluate_tab, window.draw_tab):
        tab.chooser.set_current(record.key)
        assert tab.chooser.current_key() == record.key
        assert tab.chooser.current_model() is record.net
    # Weights tab shows the first layer after the last epoch.
    assert "after epoch 1" in window.weights_tab.title.text()
    # The live plot holds every batch (8 per epoch) and every epoch.
    plot = window.train_tab.plot
    plot.flush()
    assert len(plot.lines["batch"].get_xdata()) == 16
    assert list(plot.lines["test"].get_ydata()) == [h.test_acc for h in record.history]
    assert window.train_tab.epoch_table.rowCount() == 2
    assert window.train_tab.progress.value() == 1000
    assert "finished" in window.train_tab.progress.text()
    assert window.train_tab.start_button.isEnabled()
    assert "finished" in window.statusBar().currentMessage()


def test_pause_resume_stop_buttons(qtbot, window):
    tab = window.train_tab
    tab.panel.set_config(CONFIG.replace(epochs=2000))
    window.session.batch.connect(lambda r: tab.pause_button.isEnabled() and tab.pause_button.click())
    with qtbot.waitSignal(window.session.paused, timeout=10000):
        tab.start_button.click()
    assert tab.resume_button.isEnabled() and not tab.pause_button.isEnabled()
    assert not tab.start_button.isEnabled() and tab.stop_button.isEnabled()
    assert "paused" in tab.progress.text()
    qtbot.wait(30)
    with qtbot.waitSignal(window.session.batch, timeout=300, raising=False) as blocker:
        pass
    assert not blocker.signal_triggered
    with qtbot.waitSignal(window.session.paused, timeout=5000):
        tab.resume_button.click()  # resumes, and the batch handler pauses it again
    with qtbot.waitSignal(window.compare_tab.run_added, timeout=5000) as blocker:
        tab.stop_button.click()
    assert blocker.args[0].status == "stopped"
    qtbot.waitUntil(lambda: tab.start_button.isEnabled())
    assert not tab.stop_button.isEnabled()


def test_apply_button_changes_hyperparameters_from_the_next_epoch(qtbot, window):
    tab = window.train_tab
    tab.panel.set_config(CONFIG.replace(epochs=1000))
    reports = []
    window.session.epoch.connect(lambda r, w: reports.append(r))
    window.session.epoch.connect(lambda r, w: len(reports) == 1 and window.session.pause())
    # Stop once the change shows up, so the run is short whatever the timing.
    window.session.epoch.connect(lambda r, w: r.changed and window.session.stop())
    with qtbot.waitSignal(window.session.paused, timeout=10000):
        tab.start_button.click()
    assert tab.panel.fields["lr"].isEnabled() and not tab.panel.fields["batch_size"].isEnabled()
    tab.panel.fields["lr"].setValue(0.01)
    tab.panel.fields["momentum"].setValue(0.5)
    tab.apply_button.click()
    with qtbot.waitSignal(window.compare_tab.run_added, timeout=10000) as blocker:
        tab.resume_button.click()
    record = blocker.args[0]
    changed = [h for h in record.history if h.changed]
    assert len(changed) == 1
    first = changed[0]
    assert set(first.changed) == {"lr", "momentum"}
    assert first.hyperparameters["lr"] == 0.01 and first.hyperparameters["momentum"] == 0.5
    assert all(h.hyperparameters["lr"] == 0.05 for h in record.history[: first.epoch])
    assert record.config.lr == 0.01  # the run's final configuration
    assert tab.plot.markers == [(float(first.epoch), "lr=0.01, momentum=0.5")]


def test_divergence_shows_the_engine_message_and_keeps_the_run(qtbot, window, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a: shown.append((a[1], a[2])))
    record = run_once(qtbot, window, CONFIG.replace(optimizer="sgd", lr=10.0, preprocess="none", epochs=3))
    assert record.status == "diverged" and record.net is not None
    assert shown and shown[0][0] == "Training diverged" and "Try a smaller learning rate" in shown[0][1]
    assert window.compare_tab.table.item(0, 1).text() == "diverged"


def test_missing_data_set_points_to_the_data_tab(qtbot, window, monkeypatch):
    import mlp_engine.data

    texts = []
    monkeypatch.setattr(mlp_engine.data, "locate_dataset", lambda name, data_dir=None: None)
    monkeypatch.setattr(QMessageBox, "exec", lambda self: texts.append(self.text()) or 0)
    window.train_tab.panel.set_config(CONFIG.replace(dataset="mnist"))
    window.train_tab.start_button.click()
    assert texts and "MNIST is not on this computer" in texts[0] and "Data tab" in texts[0]
    assert not window.session.is_running()


def test_corrupt_or_foreign_model_file_is_refused_with_its_name(qtbot, window, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a: shown.append(a[2]))
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"this is not a zip file")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    window.open_action.trigger()
    assert len(shown) == 1 and str(bad) in shown[0] and "not a readable" in shown[0]

    small = tmp_path / "small.npz"
    MLP([100, 10]).save(small)
    assert window.open_model(small) is None
    assert str(small) in shown[1] and "784" in shown[1]

    missing = tmp_path / "gone.npz"
    assert window.open_model(missing) is None
    assert "does not exist" in shown[2]
    assert len(window.compare_tab.store) == 0


def test_save_then_open_a_model_through_the_file_menu(qtbot, window, tmp_path, monkeypatch):
    record = run_once(qtbot, window)
    path = tmp_path / "saved model.npz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.compare_tab.select(record)
    window.save_action.trigger()
    assert path.exists()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.open_action.trigger()
    assert len(window.compare_tab.store) == 2
    loaded = window.compare_tab.store[1]
    assert loaded.status == "loaded" and loaded.name == "saved model"
    for p, q in zip(loaded.net.parameters(), record.net.parameters()):
        np.testing.assert_array_equal(p, q)
    assert [h.test_acc for h in loaded.history] == [h.test_acc for h in record.history]
    assert loaded.config == record.config
    window.draw_tab.chooser.set_current(loaded.key)
    assert window.draw_tab.chooser.current_model() is loaded.net
    assert window.settings.recent_models()[0] == str(path.resolve())
    window._fill_recent_menu()
    assert [a.text() for a in window.recent_menu.actions()][0] == "saved model.npz"


def test_model_without_history_goes_to_evaluate_and_draw(qtbot, window, tmp_path):
    path = tmp_path / "bare.npz"
    MLP([784, 10]).save(path)
    net = window.open_model(path)
    assert net is not None and len(window.compare_tab.store) == 0
    key = f"file:{path.resolve()}"
    window.evaluate_tab.chooser.set_current(key)
    assert window.evaluate_tab.chooser.current_key() == key


def test_closing_mid_run_stops_and_joins_the_thread(qtbot, tmp_path, data, monkeypatch):
    w = make_window(qtbot, tmp_path, data, CONFIG.replace(epochs=100_000, name="long"))
    with qtbot.waitSignal(w.session.batch, timeout=10000):
        w.train_tab.start_button.click()
    thread = w.session.thread
    assert thread.isRunning()
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    assert w.close()
    assert asked and "training run is going" in asked[0]
    assert not thread.isRunning()
    assert not w.session.is_running()


def test_closing_can_be_cancelled_while_training(qtbot, window, monkeypatch):
    window.train_tab.panel.set_config(CONFIG.replace(epochs=100_000))
    with qtbot.waitSignal(window.session.batch, timeout=10000):
        window.train_tab.start_button.click()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    assert not window.close()
    assert window.session.is_running() and window.isVisible()
    with qtbot.waitSignal(window.session.ended, timeout=5000):
        window.train_tab.stop_button.click()


def test_settings_remember_config_geometry_and_tab(qtbot, tmp_path, data):
    custom = CONFIG.replace(hidden=(32, 8), dropout=(0.1, 0.2), lr=0.002, epochs=7, name="remember me")
    w = make_window(qtbot, tmp_path, data, custom)
    w.tabs.setCurrentWidget(w.evaluate_tab)
    geometry = w.saveGeometry()
    w.close()
    assert Settings(tmp_path / "settings.ini").geometry() == geometry
    w2 = MainWindow(settings=Settings(tmp_path / "settings.ini"), models_dir=None)
    qtbot.addWidget(w2)
    assert w2.train_tab.panel.config() == custom
    assert w2.tabs.currentWidget() is w2.evaluate_tab


def test_stale_stored_config_is_ignored(qtbot, tmp_path):
    s = Settings(tmp_path / "stale.ini")
    s.qsettings.setValue("train/last_config", json.dumps({"hidden": [10], "no_such_field": 1}))
    assert s.last_config() is None
    s.qsettings.setValue("train/last_config", "{not json")
    assert s.last_config() is None
    s.qsettings.setValue("train/last_config", json.dumps({"lr": -1}))
    w = MainWindow(settings=s, models_dir=None)
    qtbot.addWidget(w)
    assert w.train_tab.panel.config() == TrainConfig()
