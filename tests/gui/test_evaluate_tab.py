"""EvaluateTab: confusion matrix, metrics table, ROC/AUC, misclassified gallery, baseline comparison."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings

import mlp_engine
from mlp_engine import MLP, metrics
from mlp_engine.data import FILES, synthetic_dataset, write_idx
from mlp_gui.widgets.evaluate_tab import EvaluateTab, evaluate_model

TIMEOUT = 10_000


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("MLP_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MLP_STUDIO_DATA", raising=False)


@pytest.fixture(scope="module")
def data():
    return synthetic_dataset(n_train=256, n_test=64)


def _train(data, hidden):
    trainer = mlp_engine.Trainer(
        mlp_engine.TrainConfig(dataset="synthetic", hidden=hidden, epochs=2, batch_size=32), data
    )
    trainer.fit()
    return trainer.net


@pytest.fixture(scope="module")
def net(data):
    return _train(data, (16,))


@pytest.fixture(scope="module")
def baseline(data):
    return _train(data, ())


@pytest.fixture(scope="module")
def weak():
    """An untrained model: many mistakes for the gallery."""
    return MLP([784, 16, 10], seed=1)


@pytest.fixture
def tab(qtbot, tmp_path):
    t = EvaluateTab(models_dir=None, settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(t)
    t.resize(1200, 800)
    t.show()
    return t


def shown_counts(tab) -> np.ndarray:
    k = len(tab.cm_view.texts)
    return np.array([[int(tab.cm_view.texts[i][j].get_text()) for j in range(k)] for i in range(k)])


def test_confusion_matrix_and_metrics_table(qtbot, tab, net, data):
    tab.add_model("run-1", "Run 1", net, "synthetic")
    assert "not loaded" in tab.message.text()  # no test set yet, and it says so
    with qtbot.waitSignal(tab.evaluated, timeout=TIMEOUT) as blocker:
        tab.set_dataset(data)
    assert blocker.args == ["run-1"]
    cm = tab.cm_view.image.get_array()
    assert cm.sum() == len(data.y_test) == shown_counts(tab).sum()
    np.testing.assert_array_equal(shown_counts(tab), cm)
    y_pred = net.predict(data.X_test, preprocessed=False)
    np.testing.assert_array_equal(cm, metrics.confusion_matrix(data.y_test, y_pred, 10))
    # table: one row per class, then macro average and accuracy
    assert tab.table.rowCount() == 12
    header = [tab.table.horizontalHeaderItem(c).text() for c in range(tab.table.columnCount())]
    assert header[:6] == ["Class", "Precision", "Recall", "F1", "Support", "ROC AUC"]
    _, _, f1, support = metrics.precision_recall_f1(cm)
    for c in range(10):
        assert tab.table.item(c, 3).text() == f"{f1[c]:.3f}"
        assert tab.table.item(c, 4).text() == str(support[c])
    acc = metrics.accuracy(data.y_test, y_pred)
    assert tab.table.item(11, 0).text() == "Accuracy" and tab.table.item(11, 3).text() == f"{100 * acc:.1f} %"
    assert f"{100 * acc:.1f} %" in tab.summary.text()
    assert tab.pages.isVisible() and not tab.message.isVisible()


def test_roc_curves_show_auc(qtbot, tab, net, data):
    tab.set_dataset(data)
    with qtbot.waitSignal(tab.evaluated, timeout=TIMEOUT):
        tab.add_model("run-1", "Run 1", net, "synthetic")
    tab.pages.setCurrentIndex(1)
    assert len(tab.roc_labels) == 10 and all("AUC" in label for label in tab.roc_labels)
    tab.roc_class.setCurrentIndex(4)  # class 3
    proba = net.predict_proba(data.X_test, preprocessed=False)
    auc3 = metrics.roc_auc_ovr(data.y_test, proba, 3)
    assert tab.roc_labels == [f"Run 1 (AUC {auc3:.4f})"]
    line = tab.roc_view.lines[3]
    fpr, tpr, _ = metrics.roc_curve(data.y_test == 3, proba[:, 3])
    np.testing.assert_allclose(line.get_xdata(), fpr)
    np.testing.assert_allclose(line.get_ydata(), tpr)
    assert not tab.roc_view.lines[2].get_visible()


def test_misclassified_gallery(qtbot, tab, weak, data):
    tab.set_dataset(data)
    with qtbot.waitSignal(tab.evaluated, timeout=TIMEOUT):
        tab.add_model("weak", "Untrained", weak, "synthetic")
    y_pred = weak.predict(data.X_test, preprocessed=False)
    wrong = np.flatnonzero(y_pred != data.y_test)
    assert len(wrong) > 5
    model = tab.gallery_model
    assert model.rowCount() == len(wrong)
    assert sorted(model.test_index(r) for r in range(model.rowCount())) == wrong.tolist()
    # most confident mistakes first
    proba = weak.predict_proba(data.X_test, preprocessed=False)
    conf = [proba[model.test_index(r), y_pred[model.test_index(r)]] for r in range(model.rowCount())]
    assert conf == sorted(conf, reverse=True)
    # clicking a confusion-matrix cell filters the gallery to those images
    t, p = int(data.y_test[wrong[0]]), int(y_pred[wrong[0]])
    tab.cm_view.cell_clicked.emit(t, p)
    assert tab.pages.currentIndex() == 2
    expected = np.sum((data.y_test == t) & (y_pred == p))
    assert model.rowCount() == expected
    # details of the selected image: its 10 probabilities
    tab.gallery.setCurrentIndex(model.index(0))
    i = model.test_index(0)
    np.testing.assert_allclose(tab.detail_probs.probabilities(), proba[i], rtol=1e-6)
    assert f"#{i}" in tab.detail_text.text()
    assert not tab.detail_image.pixmap().isNull()
    icon = model.data(model.index(0), 1)  # DecorationRole
    assert (icon.width(), icon.height()) == (56, 56)


def test_baseline_side_by_side(qtbot, tab, net, baseline, data):
    tab.set_dataset(data)
    with qtbot.waitSignal(tab.evaluated, timeout=TIMEOUT):
        tab.add_model("run-1", "MLP run", net, "synthetic")
    assert not tab.compare.isEnabled()  # no baseline yet
    tab.add_model("base", "Softmax run", baseline, "synthetic")
    assert tab.chooser.current_key() == "run-1"
    assert tab.compare.isEnabled() and tab.baseline_combo.currentData() == "base"
    with qtbot.waitSignal(tab.evaluated, timeout=TIMEOUT):
        tab.compare.setChecked(True)
    base_acc = metrics.accuracy(data.y_test, baseline.predict(data.X_test, preprocessed=False))
    assert "Baseline" in tab.summary.text() and f"{100 * base_acc:.1f} %" in tab.summary.text()
    assert tab.table.columnCount() == 8
    tab.roc_class.setCurrentIndex(1)
    assert len(tab.roc_labels) == 2
    assert tab.roc_labels[0].startswith("MLP run (AUC") and tab.roc_labels[1].startswith("Softmax run (AUC")
    assert tab.roc_view.baseline_line.get_visible()


def test_loads_the_test_set_itself(qtbot, tmp_path, net):
    folder = tmp_path / "mnist-files"
    folder.mkdir()
    ds = synthetic_dataset(n_train=40, n_test=30, seed=5)
    for key, arr in (("train_images", ds.X_train.reshape(-1, 28, 28)), ("train_labels", ds.y_train.astype(np.uint8)),
                     ("test_images", ds.X_test.reshape(-1, 28, 28)), ("test_labels", ds.y_test.astype(np.uint8))):
        write_idx(folder / FILES[key], arr)
    t = EvaluateTab(models_dir=None, data_dir=folder)
    qtbot.addWidget(t)
    t.show()
    with qtbot.waitSignal(t.evaluated, timeout=TIMEOUT):
        t.add_model("m", "MNIST run", net, "mnist")
    assert t.cm_view.image.get_array().sum() == 30


def test_missing_test_set_is_explained(qtbot, tab, net):
    tab.add_model("m", "MNIST run", net, "mnist")
    qtbot.waitUntil(lambda: "could not be loaded" in tab.message.text(), timeout=TIMEOUT)
    assert "Data tab" in tab.message.text() and "not found" in tab.message.text()
    assert not tab.pages.isVisible()


def test_incompatible_model_is_refused(qtbot, tab, data):
    tab.set_dataset(data)
    tab.add_model("five", "Five classes", MLP([784, 8, 5]), "synthetic")
    assert "predicts 5 classes" in tab.message.text()


def test_remove_and_rename(qtbot, tab, net, data):
    tab.set_dataset(data)
    with qtbot.waitSignal(tab.evaluated, timeout=TIMEOUT):
        tab.add_model("run-1", "Run 1", net, "synthetic")
    tab.rename_model("run-1", "Best run")
    assert tab.chooser.combo.currentText() == "Best run" and "Best run" in tab.summary.text()
    tab.remove_model("run-1")
    assert "No model to evaluate" in tab.message.text() and not tab.pages.isVisible()


def test_evaluate_model_is_pure_and_consistent(net, data):
    ev = evaluate_model(net, data)
    assert ev.cm.sum() == len(data.y_test)
    assert ev.accuracy == pytest.approx(np.trace(ev.cm) / ev.cm.sum())
    assert set(ev.wrong.tolist()) == set(np.flatnonzero(ev.y_pred != data.y_test).tolist())
    with pytest.raises(ValueError, match="predicts 5 classes"):
        evaluate_model(MLP([784, 5]), data)
