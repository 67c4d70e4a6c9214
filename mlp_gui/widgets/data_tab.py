"""The Data tab: find (or download) MNIST / Fashion-MNIST and look at it.

Shows where the data set was found, or, when it is missing, the engine's explanation with a
"Download" button (progress bar, cancel) and a "Choose folder…" button. Once loaded: a grid of
sample images with their class names (the paper's Figure 3-3), the number of images per class,
and the paper's feature processing ``ln(x + 1)`` next to the raw pixels.

Loading and downloading run in a thread pool (:class:`BackgroundJob`); the widget only reacts
to the job's signals. This module also provides :class:`BackgroundJob` for the other views.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QRectF, QSettings, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from mlp_engine.data import (
    DATASET_NAMES,
    Dataset,
    DatasetNotFoundError,
    download_dataset,
    load_dataset,
    locate_dataset,
    user_data_dir,
)
from mlp_gui.qt_numpy import array_to_qimage
from mlp_gui.widgets.tables import set_row

__all__ = ["BackgroundJob", "DataTab", "SampleGrid", "sample_mosaic"]

DATASET_TITLES = {"fashion-mnist": "Fashion-MNIST", "mnist": "MNIST"}
DOWNLOAD_SIZES = {"fashion-mnist": "about 30 MB", "mnist": "about 11 MB"}
SAMPLES_PER_CLASS = 8


# ------------------------------------------------------------------------------------------------
# background jobs
# ------------------------------------------------------------------------------------------------


class JobCancelled(Exception):
    """Raised inside a job (e.g. from a progress callback) to end it early on request."""


class BackgroundJob(QObject):
    """Run ``fn(job, *args, **kwargs)`` on a thread of the global ``QThreadPool``.

    The function gets the job itself first, to report progress (``job.report(...)``) and to
    check for cancellation (``job.check_cancelled()``). The job object lives in the thread that
    created it (the UI thread), so its signals, emitted from the worker thread, reach UI slots
    as queued calls: the function never touches a widget.

    Every signal carries the job first, so one owner can tell its jobs apart (``job.tag``) and
    connect bound methods, which Qt disconnects by itself when the owner is destroyed. The job
    has no Qt parent: the owner keeps a reference until ``finished`` or ``failed`` arrives.

    Signals
    -------
    progress(job, object)
        Whatever the function reports.
    finished(job, object)
        The function's return value.
    failed(job, object)
        The exception it raised (never swallowed; :class:`JobCancelled` included).
    """

    progress = Signal(object, object)
    finished = Signal(object, object)
    failed = Signal(object, object)

    def __init__(self, fn: Callable[..., Any], *args: Any, tag: Any = None, **kwargs: Any) -> None:
        super().__init__()
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self.tag = tag
        self.cancelled = threading.Event()

    def start(self, pool: QThreadPool | None = None) -> "BackgroundJob":
        # Passing a bound method keeps this object alive until the pool has run it.
        (pool or QThreadPool.globalInstance()).start(self._run)
        return self

    def cancel(self) -> None:
        """Ask the function to stop (it checks at its own pace, see :meth:`check_cancelled`)."""
        self.cancelled.set()

    def check_cancelled(self) -> None:
        """Raise :class:`JobCancelled` if :meth:`cancel` was called (call from the function)."""
        if self.cancelled.is_set():
            raise JobCancelled("cancelled")

    def report(self, info: Any) -> None:
        """Emit ``progress(self, info)`` (call from the function)."""
        self.progress.emit(self, info)

    def _run(self) -> None:
        try:
            result = self._fn(self, *self._args, **self._kwargs)
        except BaseException as exc:  # noqa: BLE001 - every error must reach the UI
            self.failed.emit(self, exc)
        else:
            self.finished.emit(self, result)


# ------------------------------------------------------------------------------------------------
# pure helpers (no widgets; run in the worker)
# ------------------------------------------------------------------------------------------------


def pick_samples(y: np.ndarray, n_classes: int, per_class: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Indices of ``per_class`` images of each class, ``(n_classes, per_class)``; -1 where a class has fewer.

    Without ``rng`` the first images of each class are taken (the same grid every time).
    """
    out = np.full((n_classes, per_class), -1, dtype=np.int64)
    for k in range(n_classes):
        idx = np.flatnonzero(y == k)
        if rng is not None and len(idx) > per_class:
            idx = np.sort(rng.choice(idx, per_class, replace=False))
        idx = idx[:per_class]
        out[k, : len(idx)] = idx
    return out


def sample_mosaic(X: np.ndarray, indices: np.ndarray, gap: int = 2, background: int = 60) -> np.ndarray:
    """One uint8 image holding the 28x28 images ``X[indices]`` in a grid, ``gap`` pixels apart.

    Parameters
    ----------
    X : ndarray, shape (n, 784), uint8
    indices : ndarray, shape (rows, cols), int; -1 leaves a tile empty (black).

    Returns
    -------
    ndarray, shape (rows * (28 + gap) - gap, cols * (28 + gap) - gap), uint8
    """
    rows, cols = indices.shape
    step = 28 + gap
    out = np.full((rows * step - gap, cols * step - gap), background, dtype=np.uint8)
    for r in range(rows):
        for c in range(cols):
            i = indices[r, c]
            tile = X[i].reshape(28, 28) if i >= 0 else 0
            out[r * step : r * step + 28, c * step : c * step + 28] = tile
    return out


def class_counts(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Images per class in the training and the test set."""
    k = ds.n_classes
    return np.bincount(ds.y_train, minlength=k)[:k], np.bincount(ds.y_test, minlength=k)[:k]


# ------------------------------------------------------------------------------------------------
# widgets
# ------------------------------------------------------------------------------------------------


class SampleGrid(QWidget):
    """Rows of sample images, one row per class, the class name on the left.

    The whole grid is one image (built with NumPy), painted scaled to fit with nearest-neighbour
    sampling so the pixels stay crisp.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._names: tuple[str, ...] = ()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(260, 260)

    def set_grid(self, mosaic: np.ndarray | None, names: Sequence[str]) -> None:
        self._image = None if mosaic is None else array_to_qimage(mosaic)
        self._names = tuple(names)
        self.update()

    def image(self) -> QImage | None:
        return self._image

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(560, 600)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        if self._image is None or not self._names:
            return
        painter = QPainter(self)
        fm = painter.fontMetrics()
        name_w = max(fm.horizontalAdvance(n) for n in self._names) + 12
        iw, ih = self._image.width(), self._image.height()
        scale = min((self.width() - name_w) / iw, self.height() / ih)
        if scale >= 1:
            scale = float(np.floor(scale * 2) / 2)  # whole or half steps: even pixel sizes
        w, h = iw * scale, ih * scale
        x0 = max((self.width() - name_w - w) / 2, 0)  # centre names + images together
        target = QRectF(x0 + name_w, 0, w, h)
        painter.drawImage(target, self._image)  # no SmoothPixmapTransform: nearest neighbour
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        row_h = h / len(self._names)
        for i, name in enumerate(self._names):
            painter.drawText(
                QRectF(x0, i * row_h, name_w - 8, row_h), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, name
            )
        painter.end()


class PreprocessingPreview(QWidget):
    """A few images as raw pixels (0..255) and as ``ln(x + 1)``, with the pixel-value histograms.

    Matplotlib is imported on the first :meth:`set_images`, i.e. after a data set has loaded,
    never while the window is being built.
    """

    N_IMAGES = 4

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.figure = None
        self.canvas = None
        self._images_raw: list = []
        self._images_log: list = []
        self._stairs: list = []
        self.setMinimumHeight(240)

    def _build(self) -> None:
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(6, 3.2), layout="constrained")
        bg = self.palette().color(QPalette.ColorRole.Window)
        self.figure.set_facecolor(bg.name())  # blend into the window instead of a white box
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._layout.addWidget(self.canvas)
        n = self.N_IMAGES
        gs = self.figure.add_gridspec(2, n + 1, width_ratios=[1] * n + [2.4])
        blank = np.zeros((28, 28))
        for row, (store, vmax, title) in enumerate(
            ((self._images_raw, 255.0, "raw x"), (self._images_log, float(np.log1p(255.0)), "ln(x + 1)"))
        ):
            for c in range(n):
                ax = self.figure.add_subplot(gs[row, c])
                ax.set_axis_off()
                store.append(ax.imshow(blank, cmap="gray", vmin=0.0, vmax=vmax, interpolation="nearest"))
            store[0].axes.set_title(f"{title}, 0..{vmax:.3g}", loc="left", fontsize=9)
            hax = self.figure.add_subplot(gs[row, n])
            edges = np.linspace(0.0, vmax, 33)
            self._stairs.append(hax.stairs(np.zeros(32), edges, fill=True, alpha=0.8, color="C0" if row == 0 else "C1"))
            hax.set_xlim(0, vmax)
            hax.set_yticks([])
            hax.set_title("histogram, pixels > 0", fontsize=9)
            hax.tick_params(labelsize=8)

    def set_images(self, X: np.ndarray, hist_pixels: np.ndarray) -> None:
        """Show ``X`` ``(N_IMAGES, 784)`` raw and log-transformed; histograms of ``hist_pixels`` (uint8)."""
        if self.figure is None:
            self._build()
        for i, (raw, log) in enumerate(zip(self._images_raw, self._images_log)):
            img = X[i].reshape(28, 28).astype(np.float32) if i < len(X) else np.zeros((28, 28), np.float32)
            raw.set_data(img)
            log.set_data(np.log1p(img))
        nz = hist_pixels[hist_pixels > 0].astype(np.float32)
        for stairs, values in zip(self._stairs, (nz, np.log1p(nz))):
            edges = stairs.get_data().edges
            counts, _ = np.histogram(values, bins=edges)
            stairs.set_data(counts.astype(float), edges)
            stairs.axes.set_ylim(0, max(counts.max(), 1) * 1.08)
        self.canvas.draw_idle()


class DataTab(QWidget):
    """Choose, find, download and inspect a data set.

    Parameters
    ----------
    parent : QWidget, optional
    data_dir : path, optional
        Folder searched first (as ``load_dataset(data_dir=...)``); "Choose folder…" sets it.
    mirrors : sequence of str, optional
        Download mirrors (default: the engine's); tests point this at a local server.
    checksums : mapping, optional
        SHA-256 per file name overriding the official ones (tests).
    download_dir : path, optional
        Where downloads go (default ``user_data_dir()/<name>``).
    settings : QSettings, optional
        Where the chosen folder is remembered (default ``QSettings()``).

    Signals
    -------
    dataset_loaded(object)
        The :class:`mlp_engine.data.Dataset` once loaded.
    status_message(str)
        A short message for the status bar.
    load_failed(str)
        The message shown when a load or download failed (or was cancelled).
    """

    dataset_loaded = Signal(object)
    status_message = Signal(str)
    load_failed = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        data_dir: str | Path | None = None,
        mirrors: Sequence[str] | None = None,
        checksums: Mapping[str, str] | None = None,
        download_dir: str | Path | None = None,
        settings: QSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings if settings is not None else QSettings()
        saved = self._settings.value("data/folder", "", type=str)
        self.data_dir: str | None = str(data_dir) if data_dir else (saved or None)
        self.mirrors = mirrors
        self.checksums = checksums
        self.download_dir = download_dir
        self._dataset: Dataset | None = None
        self._job: BackgroundJob | None = None
        self._generation = 0
        self._download_files: list[str] = []
        self._sample_seed = 0
        self._shown_once = False

        # -- header
        self.combo = QComboBox()
        for name in DATASET_NAMES:
            self.combo.addItem(DATASET_TITLES.get(name, name), name)
        self.combo.setToolTip("The data set to load: Fashion-MNIST (clothes) or MNIST (handwritten digits)")
        last = self._settings.value("data/name", "", type=str)
        if last in DATASET_NAMES:
            self.combo.setCurrentIndex(self.combo.findData(last))
        self.combo.activated.connect(lambda _i: self.load(self.combo.currentData()))
        self.location = QLabel()
        self.location.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.location.setWordWrap(True)
        self.folder_button = QPushButton("Choose folder…")
        self.folder_button.setToolTip("Pick the folder that holds the four IDX files (.gz or not)")
        self.folder_button.clicked.connect(self.choose_folder)
        header = QHBoxLayout()
        header.addWidget(QLabel("Data set:"))
        header.addWidget(self.combo)
        header.addWidget(self.location, 1)
        header.addWidget(self.folder_button)

        # -- message panel (missing data, errors, download progress)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(self.download)
        self.folder_button2 = QPushButton("Choose folder…")
        self.folder_button2.setToolTip(self.folder_button.toolTip())
        self.folder_button2.clicked.connect(self.choose_folder)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress_label = QLabel()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the download; nothing half-downloaded is kept")
        self.cancel_button.clicked.connect(self.cancel)
        self.panel = QFrame()
        self.panel.setFrameShape(QFrame.Shape.StyledPanel)
        pl = QVBoxLayout(self.panel)
        pl.addWidget(self.message)
        buttons = QHBoxLayout()
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.folder_button2)
        buttons.addStretch(1)
        pl.addLayout(buttons)
        prow = QHBoxLayout()
        prow.addWidget(self.progress_label)
        prow.addWidget(self.progress, 1)
        prow.addWidget(self.cancel_button)
        pl.addLayout(prow)

        # -- content
        self.grid = SampleGrid()
        self.shuffle_button = QPushButton("Other samples")
        self.shuffle_button.setToolTip("Show other randomly chosen training images")
        self.shuffle_button.clicked.connect(self.shuffle_samples)
        grid_box = QGroupBox(f"Samples ({SAMPLES_PER_CLASS} training images per class)")
        gl = QVBoxLayout(grid_box)
        gl.addWidget(self.grid, 1)
        gl.addWidget(self.shuffle_button, 0, Qt.AlignmentFlag.AlignLeft)

        self.counts = QTableWidget(0, 3)
        self.counts.setHorizontalHeaderLabels(["Class", "Train", "Test"])
        self.counts.verticalHeader().setVisible(False)
        self.counts.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.counts.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.counts.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.counts.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        counts_box = QGroupBox("Images per class")
        QVBoxLayout(counts_box).addWidget(self.counts)

        self.preview = PreprocessingPreview()
        prep_box = QGroupBox("Feature processing: raw pixels vs ln(x + 1)")
        prep_l = QVBoxLayout(prep_box)
        prep_l.addWidget(self.preview, 1)
        note = QLabel(
            "ln(x + 1) lifts the faint pixels and compresses the bright ones; the paper found it trains "
            "faster and is far less sensitive to the learning rate."
        )
        note.setWordWrap(True)
        prep_l.addWidget(note)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(counts_box)
        right.addWidget(prep_box)
        right.setStretchFactor(0, 2)
        right.setStretchFactor(1, 3)
        self.content = QSplitter(Qt.Orientation.Horizontal)
        self.content.addWidget(grid_box)
        self.content.addWidget(right)
        # Proportions, not pixels: QSplitter scales these to the space it gets.
        self.content.setSizes([540, 560])
        right.setSizes([330, 420])

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.panel)
        layout.addWidget(self.content, 1)
        self._stretch_placeholder = QWidget()
        layout.addWidget(self._stretch_placeholder, 1)

        app = QCoreApplication.instance()
        if app is not None:
            # A download must not keep the pool (and so the app) alive after the window closed.
            app.aboutToQuit.connect(self.cancel)
        self._show_state("idle")

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        # First time on screen: load the data set right away when it is on disk (in the
        # background), so a new user sees the images without having to ask.
        if not self._shown_once:
            self._shown_once = True
            if self._dataset is None and self._job is None and locate_dataset(self.current_name(), self.data_dir):
                self.load(self.current_name())

    # -- public API -------------------------------------------------------------------------------
    def dataset(self) -> Dataset | None:
        """The loaded data set, or None."""
        return self._dataset

    def current_name(self) -> str:
        return self.combo.currentData()

    def is_busy(self) -> bool:
        return self._job is not None

    def load(self, name: str) -> None:
        """Load data set ``name`` ("fashion-mnist" or "mnist") in the background.

        Emits :attr:`dataset_loaded` on success; on failure the tab explains what to do (and
        :attr:`load_failed` carries the message).
        """
        if name not in DATASET_NAMES:
            raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASET_NAMES)}")
        self._select(name)
        self._settings.setValue("data/name", name)
        self._start(_load_job, name, self.data_dir)
        self._show_state("loading")

    def download(self) -> None:
        """Download the selected data set (verified), then load it."""
        name = self.current_name()
        self._download_files = []
        dest = Path(self.download_dir) if self.download_dir else user_data_dir() / name
        self._start(_download_job, name, dest, self.mirrors, self.checksums)
        self._show_state("downloading")
        self.progress.setRange(0, 0)
        self.progress_label.setText(f"Connecting… (saving to {dest})")

    def cancel(self) -> None:
        """Cancel a running download (a plain load is short and just finishes)."""
        if self._job is not None:
            self._job.cancel()

    def choose_folder(self) -> None:
        """Ask for the folder holding the IDX files, then load from it."""
        folder = QFileDialog.getExistingDirectory(
            self, f"Folder with the {DATASET_TITLES[self.current_name()]} files", self.data_dir or str(Path.home())
        )
        if folder:
            self.set_data_dir(folder)
            self.load(self.current_name())

    def set_data_dir(self, folder: str | Path | None) -> None:
        """Search ``folder`` first from now on (remembered across sessions)."""
        self.data_dir = str(folder) if folder else None
        self._settings.setValue("data/folder", self.data_dir or "")

    def shuffle_samples(self) -> None:
        """Show other randomly chosen training images."""
        if self._dataset is None:
            return
        self._sample_seed += 1
        view = _prepare_view(self._dataset, np.random.default_rng(self._sample_seed))
        self.grid.set_grid(view["mosaic"], self._dataset.class_names)

    # -- jobs -------------------------------------------------------------------------------------
    def _select(self, name: str) -> None:
        index = self.combo.findData(name)
        if index >= 0 and index != self.combo.currentIndex():
            self.combo.setCurrentIndex(index)

    def _start(self, fn, *args) -> None:
        if self._job is not None:
            self._job.cancel()
        self._generation += 1
        job = BackgroundJob(fn, *args, tag=self._generation)
        job.progress.connect(self._on_progress)
        job.finished.connect(self._on_finished)
        job.failed.connect(self._on_failed)
        self._job = job
        job.start()

    def _end_job(self, job: BackgroundJob) -> bool:
        """Forget ``job``; True if it is the latest one (older results are ignored)."""
        if self._job is job:
            self._job = None
        return job.tag == self._generation

    def _on_progress(self, job: BackgroundJob, info) -> None:
        if job.tag != self._generation:
            return
        file_name, done, total = info
        if file_name not in self._download_files:
            self._download_files.append(file_name)
        i = len(self._download_files)
        mb = done / 1e6
        if total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * done / total))
            amount = f"{mb:.1f} of {total / 1e6:.1f} MB"
        else:
            self.progress.setRange(0, 0)
            amount = f"{mb:.1f} MB"
        self.progress_label.setText(f"File {i} of 4: {file_name}, {amount}")

    def _on_finished(self, job: BackgroundJob, result) -> None:
        if not self._end_job(job):
            return
        ds, view = result
        self._dataset = ds
        self._show_dataset(ds, view)
        self._show_state("loaded")
        n_train, n_test = len(ds.y_train), len(ds.y_test)
        self.status_message.emit(
            f"Loaded {DATASET_TITLES.get(ds.name, ds.name)}: {n_train:,} training and {n_test:,} test images from {ds.source}"
        )
        self.dataset_loaded.emit(ds)

    def _on_failed(self, job: BackgroundJob, exc: BaseException) -> None:
        if not self._end_job(job):
            return
        name = self.current_name()
        title = DATASET_TITLES.get(name, name)
        if isinstance(exc, JobCancelled):
            text = f"Download of {title} cancelled; nothing half-downloaded was kept."
            self._show_state("missing", text + "\n\n" + _missing_text(name, self.data_dir))
        elif isinstance(exc, DatasetNotFoundError):
            text = str(exc)
            self._show_state("missing", _gui_hint(name) + text)
        else:
            text = f"{title} could not be loaded:\n\n{exc}"
            self._show_state("error", text)
        self.status_message.emit(text.splitlines()[0])
        self.load_failed.emit(text)

    # -- view -------------------------------------------------------------------------------------
    def _show_state(self, state: str, text: str = "") -> None:
        name = self.current_name()
        title = DATASET_TITLES.get(name, name)
        busy = state in ("loading", "downloading")
        self.combo.setEnabled(state != "downloading")
        self.folder_button.setEnabled(not busy)
        self.folder_button2.setEnabled(not busy)
        self.download_button.setEnabled(not busy)
        self.download_button.setText(f"Download {title} ({DOWNLOAD_SIZES.get(name, '')})")
        self.download_button.setToolTip(
            f"Download the four {title} files into {Path(self.download_dir) if self.download_dir else user_data_dir() / name}, "
            "checking each against its official checksum"
        )
        for w in (self.progress, self.progress_label, self.cancel_button):
            w.setVisible(state == "downloading")
        show_panel = state in ("missing", "error", "downloading", "idle")
        self.panel.setVisible(show_panel)
        self.download_button.setVisible(state in ("missing", "error", "downloading"))
        self.folder_button2.setVisible(state in ("missing", "error"))
        loaded = state == "loaded" or (self._dataset is not None and self._dataset.name == name and state == "loading")
        self.content.setVisible(loaded)
        self._stretch_placeholder.setVisible(not loaded)
        if state == "idle":
            found = locate_dataset(name, self.data_dir)  # a few stat calls: fine on the UI thread
            self.location.setText(f"{title}: found in {found}" if found else f"{title}: not loaded")
            self.message.setText(f"{title} is ready to load." if found else _missing_text(name, self.data_dir))
            self.panel.setVisible(True)
            self.download_button.setVisible(found is None)
            self.folder_button2.setVisible(found is None)
        elif state == "loading":
            self.location.setText(f"Loading {title}…")
        elif state == "downloading":
            self.message.setText(f"Downloading {title} ({DOWNLOAD_SIZES.get(name, '')})…")
        elif state == "loaded":
            ds = self._dataset
            self.location.setText(
                f"{title}: {len(ds.y_train):,} training and {len(ds.y_test):,} test images, found in {ds.source}"
            )
        elif state in ("missing", "error"):
            self.location.setText(f"{title}: not loaded")
            self.message.setText(text)

    def _show_dataset(self, ds: Dataset, view: dict) -> None:
        self.grid.set_grid(view["mosaic"], ds.class_names)
        train, test = view["counts"]
        self.counts.setRowCount(ds.n_classes + 1)
        for k, name in enumerate(ds.class_names):
            self._set_row(k, f"{k}  {name}" if name != str(k) else name, train[k], test[k])
        self._set_row(ds.n_classes, "Total", train.sum(), test.sum(), bold=True)
        self.counts.resizeColumnsToContents()
        self.counts.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.preview.set_images(view["preview"], view["hist_pixels"])

    def _set_row(self, row: int, label: str, train: int, test: int, bold: bool = False) -> None:
        set_row(self.counts, row, (label, f"{int(train):,}", f"{int(test):,}"), bold)


def _gui_hint(name: str) -> str:
    title = DATASET_TITLES.get(name, name)
    return f"Click “Download {title}” below, or “Choose folder…” if you already have the files.\n\n"


def _missing_text(name: str, data_dir) -> str:
    """What the engine says when ``name`` is not found (searched folders and fixes), plus the GUI's way."""
    # The engine's own wording: every folder searched and how to fix it.
    from mlp_engine.data import not_found_error

    return _gui_hint(name) + str(not_found_error(name, data_dir))


def _prepare_view(ds: Dataset, rng: np.random.Generator | None = None) -> dict:
    """Everything the tab shows, computed off the UI thread: sample mosaic, counts, preview images."""
    indices = pick_samples(ds.y_train, ds.n_classes, SAMPLES_PER_CLASS, rng)
    mosaic = sample_mosaic(ds.X_train, indices)
    # Preview: the first sample of four different classes; histogram over up to 2000 images.
    firsts = [i for i in indices[:, 0] if i >= 0][: PreprocessingPreview.N_IMAGES]
    hist_pixels = ds.X_train[: min(len(ds.X_train), 2000)].ravel()
    return {
        "mosaic": mosaic,
        "counts": class_counts(ds),
        "preview": ds.X_train[firsts],
        "hist_pixels": hist_pixels,
    }


def _load_job(job: BackgroundJob, name: str, data_dir) -> tuple[Dataset, dict]:
    ds = load_dataset(name, data_dir=data_dir)
    return ds, _prepare_view(ds)


def _download_job(job: BackgroundJob, name: str, dest: Path, mirrors, checksums) -> tuple[Dataset, dict]:
    def progress(file_name: str, done: int, total: int | None) -> None:
        # Raising here aborts the transfer; the engine then removes the partial file.
        job.check_cancelled()
        job.report((file_name, done, total))

    directory = download_dataset(name, dest=dest, progress=progress, mirrors=mirrors, checksums=checksums)
    job.check_cancelled()
    ds = load_dataset(name, data_dir=directory)
    return ds, _prepare_view(ds)
