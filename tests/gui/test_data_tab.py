"""DataTab: load from a folder of IDX files, explain a missing data set, download (local server), cancel."""
from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import os
import socket
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from mlp_engine.data import FILES, locate_dataset, synthetic_dataset, write_idx
from mlp_gui.widgets import data_tab as data_tab_module
from mlp_gui.widgets.data_tab import BackgroundJob, DataTab, JobCancelled, sample_mosaic

TIMEOUT = 10_000
# Captured before the autouse fixture below hides it from every test.
_REAL_DATA = os.environ.get("MLP_STUDIO_DATA", "")


# Every user/data/cache location points into tmp_path (fixture in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("isolated_env")


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def write_dataset(directory: Path, n_train=60, n_test=20, gz=True):
    directory.mkdir(parents=True, exist_ok=True)
    ds = synthetic_dataset(n_train=n_train, n_test=n_test, seed=3)
    arrays = {
        "train_images": ds.X_train.reshape(-1, 28, 28),
        "train_labels": ds.y_train.astype(np.uint8),
        "test_images": ds.X_test.reshape(-1, 28, 28),
        "test_labels": ds.y_test.astype(np.uint8),
    }
    checksums = {}
    for key, arr in arrays.items():
        path = write_idx(directory / (FILES[key] + (".gz" if gz else "")), arr)
        if gz:
            checksums[FILES[key]] = hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()
    return ds, checksums


def make_tab(qtbot, settings, **kw) -> DataTab:
    tab = DataTab(settings=settings, **kw)
    qtbot.addWidget(tab)
    tab.resize(1100, 750)
    tab.show()
    return tab


def test_loads_a_folder_of_idx_files_and_shows_it(qtbot, tmp_path, settings):
    folder = tmp_path / "idx"
    expected, _ = write_dataset(folder)
    tab = make_tab(qtbot, settings, data_dir=folder)
    with qtbot.waitSignal(tab.dataset_loaded, timeout=TIMEOUT) as blocker:
        tab.load("mnist")
    ds = blocker.args[0]
    assert tab.dataset() is ds
    np.testing.assert_array_equal(ds.X_train, expected.X_train)
    assert ds.name == "mnist" and ds.source == folder
    assert str(folder) in tab.location.text()
    assert tab.content.isVisible() and not tab.panel.isVisible()
    # 10 classes x 8 samples of 28x28 with 2-px gaps
    img = tab.grid.image()
    assert (img.width(), img.height()) == (8 * 30 - 2, 10 * 30 - 2)
    # class counts: one row per class + total, matching the data
    assert tab.counts.rowCount() == 11
    train_counts = np.bincount(expected.y_train, minlength=10)
    assert [int(tab.counts.item(k, 1).text()) for k in range(10)] == train_counts.tolist()
    assert tab.counts.item(10, 1).text() == "60" and tab.counts.item(10, 2).text() == "20"
    # preprocessing preview: raw and ln(x+1) versions of the same image
    raw = tab.preview._images_raw[0].get_array()
    log = tab.preview._images_log[0].get_array()
    np.testing.assert_allclose(log, np.log1p(raw), rtol=1e-6)
    assert raw.max() > 6  # raw pixels, not already transformed


def test_sample_mosaic_places_each_image():
    X = np.arange(3 * 784, dtype=np.int64).reshape(3, 784) % 251
    X = X.astype(np.uint8)
    m = sample_mosaic(X, np.array([[0, 1], [2, -1]]), gap=2, background=7)
    assert m.shape == (58, 58)
    np.testing.assert_array_equal(m[:28, 30:], X[1].reshape(28, 28))
    np.testing.assert_array_equal(m[30:, :28], X[2].reshape(28, 28))
    assert (m[30:, 30:] == 0).all() and (m[28:30, :] == 7).all()


def test_missing_dataset_explains_what_to_do(qtbot, tmp_path, settings):
    tab = make_tab(qtbot, settings)
    with qtbot.waitSignal(tab.load_failed, timeout=TIMEOUT) as blocker:
        tab.load("fashion-mnist")
    text = tab.message.text()
    assert blocker.args[0] in text
    assert "not found" in text and "MLP_STUDIO_DATA" in text
    assert str(tmp_path / "xdg" / "mlp-studio" / "fashion-mnist") in text  # a searched folder
    assert tab.download_button.isVisible() and tab.folder_button2.isVisible()
    assert "Fashion-MNIST" in tab.download_button.text()
    assert not tab.content.isVisible()
    assert tab.dataset() is None


def test_choose_folder_loads_from_it_and_remembers_it(qtbot, tmp_path, settings, monkeypatch):
    folder = tmp_path / "picked"
    write_dataset(folder)
    monkeypatch.setattr(data_tab_module.QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    tab = make_tab(qtbot, settings)
    tab.combo.setCurrentIndex(tab.combo.findData("mnist"))
    with qtbot.waitSignal(tab.dataset_loaded, timeout=TIMEOUT):
        tab.folder_button.click()
    assert tab.dataset().source == folder
    assert settings.value("data/folder") == str(folder)
    # a new tab (next start of the app) searches the remembered folder first
    tab2 = make_tab(qtbot, settings)
    assert tab2.data_dir == str(folder)


# --------------------------------------------------------------------------
# download against a local HTTP server
# --------------------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    gate: threading.Event | None = None

    def do_GET(self):  # noqa: N802
        if self.gate is not None:
            self.gate.wait(5)
        super().do_GET()

    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    gate = threading.Event()
    gate.set()
    handler = functools.partial(type("H", (_Handler,), {"gate": gate}), directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", root, gate
    finally:
        gate.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_download_shows_progress_then_loads(qtbot, tmp_path, settings, server):
    base, root, _gate = server
    expected, checksums = write_dataset(root / "mnist", n_train=300, n_test=40)
    dest = tmp_path / "downloaded"
    tab = make_tab(qtbot, settings, mirrors=[base + "mnist/"], checksums=checksums, download_dir=dest)
    with qtbot.waitSignal(tab.load_failed, timeout=TIMEOUT):
        tab.load("mnist")
    seen = []
    tab_progress = lambda: seen.append((tab.progress.value(), tab.progress_label.text()))  # noqa: E731
    tab.progress.valueChanged.connect(lambda _v: tab_progress())
    with qtbot.waitSignal(tab.dataset_loaded, timeout=TIMEOUT) as blocker:
        tab.download_button.click()
        assert tab.progress.isVisible() and tab.cancel_button.isVisible()
        assert not tab.download_button.isEnabled()
    ds = blocker.args[0]
    np.testing.assert_array_equal(ds.X_test, expected.X_test)
    assert sorted(p.name for p in dest.iterdir()) == sorted(f + ".gz" for f in FILES.values())
    assert seen and any("of 4" in label for _, label in seen)
    assert not tab.progress.isVisible()
    assert tab.content.isVisible()


def test_cancel_download_keeps_nothing(qtbot, tmp_path, settings, server):
    base, root, gate = server
    _, checksums = write_dataset(root / "mnist")
    gate.clear()  # the server holds every request until the test has pressed Cancel
    dest = tmp_path / "downloaded"
    tab = make_tab(qtbot, settings, mirrors=[base + "mnist/"], checksums=checksums, download_dir=dest)
    tab.combo.setCurrentIndex(tab.combo.findData("mnist"))
    with qtbot.waitSignal(tab.load_failed, timeout=TIMEOUT) as blocker:
        tab.download()
        tab.cancel_button.click()
        gate.set()
    assert "cancelled" in blocker.args[0]
    assert "cancelled" in tab.message.text()
    assert not dest.exists() or list(dest.iterdir()) == []
    assert tab.download_button.isEnabled() and tab.combo.isEnabled()


def test_failed_download_shows_the_reason(qtbot, tmp_path, settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/nothing/"
    tab = make_tab(qtbot, settings, mirrors=[dead], checksums={f: "0" * 64 for f in FILES.values()},
                   download_dir=tmp_path / "dl")
    tab.combo.setCurrentIndex(tab.combo.findData("mnist"))
    with qtbot.waitSignal(tab.load_failed, timeout=TIMEOUT) as blocker:
        tab.download()
    assert "Could not download" in blocker.args[0]
    assert "Could not download" in tab.message.text() and dead in tab.message.text()
    assert tab.download_button.isEnabled()


def test_background_job_reports_errors_and_results(qtbot):
    def work(job, x):
        job.report(x)
        if x < 0:
            raise ValueError("negative")
        return 2 * x

    ok = BackgroundJob(work, 21)
    got = []
    ok.progress.connect(lambda job, info: got.append(("progress", job, info)))
    ok.finished.connect(lambda job, result: got.append(("finished", job, result)))
    with qtbot.waitSignals([ok.progress, ok.finished], order="strict", timeout=TIMEOUT):
        ok.start()
    assert got == [("progress", ok, 21), ("finished", ok, 42)]

    bad = BackgroundJob(work, -1)
    with qtbot.waitSignal(bad.failed, timeout=TIMEOUT) as blocker:
        bad.start()
    assert isinstance(blocker.args[1], ValueError)

    cancelled = BackgroundJob(lambda job: job.check_cancelled())
    cancelled.cancel()
    with qtbot.waitSignal(cancelled.failed, timeout=TIMEOUT) as blocker:
        cancelled.start()
    assert isinstance(blocker.args[1], JobCancelled)


@pytest.mark.realdata
def test_real_mnist_loads_and_shows_all_classes(qtbot, settings, monkeypatch):
    if _REAL_DATA:
        monkeypatch.setenv("MLP_STUDIO_DATA", _REAL_DATA)
    if locate_dataset("mnist") is None:
        pytest.skip("MNIST not found (set MLP_STUDIO_DATA to the folder holding mnist/)")
    tab = make_tab(qtbot, settings)
    with qtbot.waitSignal(tab.dataset_loaded, timeout=60_000) as blocker:
        tab.load("mnist")
    ds = blocker.args[0]
    assert ds.X_train.shape == (60000, 784) and ds.X_test.shape == (10000, 784)
    assert tab.counts.item(10, 1).text() == "60,000" and tab.counts.item(10, 2).text() == "10,000"
    assert (tab.grid.image().width(), tab.grid.image().height()) == (238, 298)
