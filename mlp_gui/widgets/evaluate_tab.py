"""The Evaluate tab: how good is a model, and where does it go wrong?

For the chosen model, on the test set of the data set it was trained on:

* the confusion matrix as an annotated heatmap (click a cell to see those mistakes);
* precision, recall, F1 and ROC AUC per class, with accuracy and macro averages;
* one-vs-rest ROC curves, for one class or all of them (AUC in the legend);
* a gallery of the misclassified test images, most confident mistakes first; click one to see
  it larger with all class probabilities;
* next to the softmax-regression baseline (a model without hidden layer), as the paper did:
  both accuracies, both ROC curves of a class in one plot, both F1 scores per class.

The numbers come from :mod:`mlp_engine.metrics`, computed in a worker thread
(:func:`evaluate_model`, no Qt), because predicting 10,000 images plus ten ROC curves takes
about 0.2 s. Matplotlib is imported when the first result is shown, not at start-up.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPalette, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QSizePolicy,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from mlp_engine import MLP, metrics
from mlp_engine.data import DATASET_NAMES, Dataset, load_dataset
from mlp_gui.qt_numpy import array_to_qimage
from mlp_gui.widgets.data_tab import BackgroundJob
from mlp_gui.widgets.model_list import DATASET_TITLES, ModelChooser, ModelEntry, describe_model
from mlp_gui.widgets.prediction_panel import PredictionPanel
from mlp_gui.widgets.tables import set_row

__all__ = ["EvaluateTab", "Evaluation", "MisclassifiedModel", "evaluate_model"]

THUMB_SCALE = 2
DETAIL_SCALE = 6


# ------------------------------------------------------------------------------------------------
# computation (pure NumPy; runs in a worker)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """A model's results on a test set.

    Attributes
    ----------
    proba : ndarray (n, k) float32
        Predicted class probabilities.
    y_true, y_pred : ndarray (n,) int64
    cm : ndarray (k, k) int64
        Confusion matrix, rows true, columns predicted.
    precision, recall, f1 : ndarray (k,) float64
    support : ndarray (k,) int64
    accuracy : float
    aucs : ndarray (k,) float64
        One-vs-rest ROC AUC per class (NaN when undefined).
    macro_auc : float
    roc : list of (fpr, tpr) or None, one per class
    wrong : ndarray (m,) intp
        Indices of misclassified test images, most confident mistake first.
    X : ndarray (n, 784) uint8
        The test images (a reference, not a copy).
    class_names : tuple of str
    """

    proba: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray
    cm: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    accuracy: float
    aucs: np.ndarray
    macro_auc: float
    roc: list
    wrong: np.ndarray
    X: np.ndarray
    class_names: tuple[str, ...]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def check_compatible(net: MLP, ds: Dataset) -> str:
    """Why ``net`` cannot be evaluated on ``ds`` ("" when it can)."""
    if net.n_inputs != ds.X_test.shape[1]:
        return f"the model takes {net.n_inputs} inputs but the {ds.name} images have {ds.X_test.shape[1]} pixels"
    if net.n_classes != ds.n_classes:
        return f"the model predicts {net.n_classes} classes but {ds.name} has {ds.n_classes}"
    if len(ds.y_test) == 0:
        return f"the {ds.name} test set is empty"
    return ""


def evaluate_model(net: MLP, ds: Dataset) -> Evaluation:
    """Predict the test set of ``ds`` with ``net`` and compute every metric the tab shows."""
    problem = check_compatible(net, ds)
    if problem:
        raise ValueError(f"cannot evaluate this model on {ds.name}: {problem}")
    proba = net.predict_proba(ds.X_test, preprocessed=False)
    y = np.asarray(ds.y_test, dtype=np.int64)
    y_pred = proba.argmax(axis=1)
    k = net.n_classes
    cm = metrics.confusion_matrix(y, y_pred, k)
    precision, recall, f1, support = metrics.precision_recall_f1(cm)
    aucs, macro = metrics.roc_auc_all(y, proba)
    roc = []
    for c in range(k):
        pos = y == c
        roc.append(metrics.roc_curve(pos, proba[:, c])[:2] if 0 < pos.sum() < len(y) else None)
    wrong = metrics.misclassified(y, y_pred)
    confidence = proba[wrong, y_pred[wrong]]
    wrong = wrong[np.argsort(-confidence, kind="stable")]
    return Evaluation(
        proba=proba, y_true=y, y_pred=y_pred, cm=cm, precision=precision, recall=recall, f1=f1,
        support=support, accuracy=metrics.accuracy(y, y_pred), aucs=aucs, macro_auc=macro, roc=roc,
        wrong=wrong, X=ds.X_test, class_names=tuple(net.class_names),
    )


def _evaluate_job(job: BackgroundJob, net: MLP, ds: Dataset) -> Evaluation:
    return evaluate_model(net, ds)


def _load_job(job: BackgroundJob, name: str, data_dir: str | None) -> Dataset:
    return load_dataset(name, data_dir=data_dir)


def _pct(x: float) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{100 * x:.1f} %"


def _num(x: float, digits: int = 3) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


# ------------------------------------------------------------------------------------------------
# misclassified gallery
# ------------------------------------------------------------------------------------------------


class MisclassifiedModel(QAbstractListModel):
    """The misclassified test images of an :class:`Evaluation`, filtered by true / predicted class.

    Thumbnails are made when a row is first displayed (``QListView`` asks only for visible
    rows), so a model with 1,500 mistakes costs nothing up front.
    """

    INDEX_ROLE = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._ev: Evaluation | None = None
        self._rows = np.zeros(0, dtype=np.intp)
        self._icons: dict[int, QPixmap] = {}

    def set_evaluation(self, ev: Evaluation | None, true_class: int = -1, pred_class: int = -1) -> None:
        self.beginResetModel()
        self._ev = ev
        self._icons.clear()
        if ev is None:
            self._rows = np.zeros(0, dtype=np.intp)
        else:
            rows = ev.wrong
            if true_class >= 0:
                rows = rows[ev.y_true[rows] == true_class]
            if pred_class >= 0:
                rows = rows[ev.y_pred[rows] == pred_class]
            self._rows = rows
        self.endResetModel()

    def test_index(self, row: int) -> int:
        """Index into the test set of gallery row ``row``."""
        return int(self._rows[row])

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self._ev is None:
            return None
        ev, i = self._ev, int(self._rows[index.row()])
        names = ev.class_names
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{names[ev.y_true[i]]}\n→ {names[ev.y_pred[i]]}\n{100 * ev.proba[i, ev.y_pred[i]]:.1f} %"
        if role == Qt.ItemDataRole.DecorationRole:
            pix = self._icons.get(i)
            if pix is None:
                img = array_to_qimage(ev.X[i].reshape(28, 28))
                pix = QPixmap.fromImage(img).scaled(
                    28 * THUMB_SCALE, 28 * THUMB_SCALE, Qt.AspectRatioMode.IgnoreAspectRatio,
                    Qt.TransformationMode.FastTransformation,
                )
                self._icons[i] = pix
            return pix
        if role == Qt.ItemDataRole.ToolTipRole:
            return (
                f"Test image #{i}: true class {names[ev.y_true[i]]}, predicted {names[ev.y_pred[i]]} "
                f"with probability {100 * ev.proba[i, ev.y_pred[i]]:.1f} % "
                f"(true class: {100 * ev.proba[i, ev.y_true[i]]:.1f} %)"
            )
        if role == self.INDEX_ROLE:
            return i
        return None


class ThumbnailDelegate(QStyledItemDelegate):
    """Paints a gallery cell: the image on top, then the item's text lines, each elided to fit.

    QListView's icon mode wraps text to the icon's width, which breaks class names such as
    "Ankle boot" over several lines; a fixed cell painted by hand stays tidy.
    """

    def __init__(self, parent=None, width: int = 128) -> None:
        super().__init__(parent)
        self._width = width

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:  # noqa: N802 - Qt override
        line = option.fontMetrics.height()
        return QSize(self._width, 28 * THUMB_SCALE + 3 * line + 14)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        painter.save()
        rect = option.rect
        pal = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect.adjusted(1, 1, -1, -1), pal.color(QPalette.ColorRole.Highlight))
        pix = index.data(Qt.ItemDataRole.DecorationRole)
        size = 28 * THUMB_SCALE
        x = rect.x() + (rect.width() - size) // 2
        if isinstance(pix, QPixmap):
            painter.drawPixmap(x, rect.y() + 4, pix)
        fm = option.fontMetrics
        painter.setPen(pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text))
        y = rect.y() + 6 + size
        for text in str(index.data(Qt.ItemDataRole.DisplayRole) or "").split("\n"):
            line = fm.elidedText(text, Qt.TextElideMode.ElideRight, rect.width() - 6)
            painter.drawText(rect.x() + 3, y, rect.width() - 6, fm.height(), Qt.AlignmentFlag.AlignHCenter, line)
            y += fm.height()
        painter.restore()


# ------------------------------------------------------------------------------------------------
# plots
# ------------------------------------------------------------------------------------------------


class _FigureView(QWidget):
    """A Matplotlib figure in a widget, built on first use (lazy import keeps start-up fast)."""

    def __init__(self, parent: QWidget | None = None, figsize=(5, 4)) -> None:
        super().__init__(parent)
        self._figsize = figsize
        self.figure = None
        self.canvas = None
        QVBoxLayout(self).setContentsMargins(0, 0, 0, 0)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(300, 260)

    def ensure_figure(self):
        if self.figure is None:
            from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
            from matplotlib.figure import Figure

            self.figure = Figure(figsize=self._figsize, layout="constrained")
            self.canvas = FigureCanvasQTAgg(self.figure)
            self.layout().addWidget(self.canvas)
            self.build()
        return self.figure

    def build(self) -> None:  # pragma: no cover - overridden
        pass


class ConfusionMatrixView(_FigureView):
    """Annotated confusion-matrix heatmap; the image and the 100 texts are made once, then updated."""

    cell_clicked = Signal(int, int)  # true class, predicted class

    def build(self) -> None:
        self.ax = self.figure.add_subplot()
        self.image = None
        self.texts: list = []
        self.canvas.mpl_connect("button_press_event", self._on_click)

    def show_matrix(self, cm: np.ndarray, names: tuple[str, ...], title: str) -> None:
        self.ensure_figure()
        k = len(names)
        ax = self.ax
        if self.image is None or self.image.get_array().shape != cm.shape:
            ax.clear()
            self.image = ax.imshow(cm, cmap="Blues", interpolation="nearest")
            self.texts = [
                [ax.text(j, i, "", ha="center", va="center", fontsize=8) for j in range(k)] for i in range(k)
            ]
            ax.set_xticks(range(k))
            ax.set_yticks(range(k))
            ax.set_xlabel("Predicted class")
            ax.set_ylabel("True class")
        self.image.set_data(cm)
        vmax = max(int(cm.max()), 1)
        self.image.set_clim(0, vmax)
        for i in range(k):
            for j in range(k):
                t = self.texts[i][j]
                t.set_text(str(int(cm[i, j])))
                t.set_color("white" if cm[i, j] > 0.55 * vmax else "black")
        rotate = max(len(n) for n in names) > 2
        ax.set_xticklabels(names, rotation=40 if rotate else 0, ha="right" if rotate else "center", fontsize=8)
        ax.set_yticklabels(names, fontsize=8)
        ax.set_title(title, fontsize=10)
        self.canvas.draw_idle()

    def _on_click(self, event) -> None:
        if event.inaxes is self.ax and event.xdata is not None and self.image is not None:
            k = self.image.get_array().shape[0]
            i, j = int(round(event.ydata)), int(round(event.xdata))
            if 0 <= i < k and 0 <= j < k:
                self.cell_clicked.emit(i, j)


class RocView(_FigureView):
    """One-vs-rest ROC curves: one line per class plus one for the baseline, made once."""

    def build(self) -> None:
        self.ax = self.figure.add_subplot()
        self.ax.plot([0, 1], [0, 1], ls=":", color="0.6", lw=1)
        self.ax.set_xlim(-0.01, 1.01)
        self.ax.set_ylim(-0.01, 1.01)
        self.ax.set_xlabel("False positive rate")
        self.ax.set_ylabel("True positive rate")
        self.ax.grid(alpha=0.3)
        self.lines: list = []
        self.baseline_line = self.ax.plot([], [], ls="--", lw=1.8, color="0.25")[0]

    def _ensure_lines(self, k: int) -> None:
        while len(self.lines) < k:
            self.lines.append(self.ax.plot([], [], lw=1.5, color=f"C{len(self.lines) % 10}")[0])

    def show_curves(self, ev: Evaluation, cls: int, baseline: Evaluation | None, model_name: str, baseline_name: str):
        """``cls`` = -1 for all classes. Returns the legend labels (for tests)."""
        self.ensure_figure()
        k = ev.n_classes
        self._ensure_lines(k)
        handles = []
        for c, line in enumerate(self.lines):
            show = c < k and ev.roc[c] is not None and (cls < 0 or cls == c)
            line.set_visible(show)
            if show:
                line.set_data(*ev.roc[c])
                if cls < 0:
                    line.set_label(f"{ev.class_names[c]} (AUC {_num(ev.aucs[c], 4)})")
                else:
                    line.set_label(f"{model_name} (AUC {_num(ev.aucs[c], 4)})")
                handles.append(line)
        show_base = baseline is not None and cls >= 0 and baseline.roc[cls] is not None
        self.baseline_line.set_visible(show_base)
        if show_base:
            self.baseline_line.set_data(*baseline.roc[cls])
            self.baseline_line.set_label(f"{baseline_name} (AUC {_num(baseline.aucs[cls], 4)})")
            handles.append(self.baseline_line)
        if cls < 0:
            title = f"ROC, each class vs rest: macro AUC {_num(ev.macro_auc)}"
            if baseline is not None:
                title += f" (baseline {_num(baseline.macro_auc)})"
        else:
            title = f"ROC of class {ev.class_names[cls]} vs rest"
        self.ax.set_title(title, fontsize=10)
        self.ax.legend(handles=handles, loc="lower right", fontsize=8 if len(handles) > 4 else 9)
        self.canvas.draw_idle()
        return [h.get_label() for h in handles]


# ------------------------------------------------------------------------------------------------
# the tab
# ------------------------------------------------------------------------------------------------


class EvaluateTab(QWidget):
    """Confusion matrix, per-class metrics, ROC curves and mistakes of a chosen model.

    Parameters
    ----------
    parent : QWidget, optional
    models_dir : path, None or "default"
        Folder of the bundled models (default: the app's ``resources/models``); ``None`` for none.
    data_dir : path, optional
        Folder searched first when a test set must be loaded; by default the folder chosen in
        the Data tab (remembered in ``settings``).
    settings : QSettings, optional

    Signals
    -------
    status_message(str)
        A short message for the status bar.
    evaluated(str)
        The key of the model whose results were just shown.
    """

    status_message = Signal(str)
    evaluated = Signal(str)

    def __init__(
        self, parent: QWidget | None = None, *, models_dir="default", data_dir=None, settings: QSettings | None = None
    ) -> None:
        super().__init__(parent)
        if data_dir is None:
            data_dir = (settings if settings is not None else QSettings()).value("data/folder", "", type=str) or None
        self.data_dir = data_dir
        self._datasets: dict[str, Dataset] = {}
        self._cache: dict[str, tuple[int, int, Evaluation]] = {}  # key -> (id(net), id(dataset), result)
        self._jobs: dict[tuple, BackgroundJob] = {}  # running jobs by what they compute
        self._load_errors: dict[str, str] = {}
        self._pending = True
        self.current: Evaluation | None = None
        self.baseline: Evaluation | None = None

        # -- top bar
        self.chooser = ModelChooser(models_dir=models_dir)
        self.chooser.model_changed.connect(lambda _k: self._request())
        self.chooser.status_message.connect(self.status_message)
        self.compare = QCheckBox("Compare with the softmax-regression baseline:")
        self.compare.setToolTip(
            "Show a model without hidden layer (trained on the same data) next to this one, as the paper did"
        )
        self.compare.toggled.connect(lambda _on: self._request())
        self.baseline_combo = QComboBox()
        self.baseline_combo.setToolTip("The baseline model (softmax regression: 784-10)")
        self.baseline_combo.setMinimumContentsLength(18)
        self.baseline_combo.currentIndexChanged.connect(lambda _i: self.compare.isChecked() and self._request())
        top = QHBoxLayout()
        top.addWidget(self.chooser)
        top.addStretch(1)
        top.addWidget(self.compare)
        top.addWidget(self.baseline_combo)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.summary.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.summary.setFont(font)

        # -- page 1: confusion matrix + table
        self.cm_view = ConfusionMatrixView(figsize=(5.5, 5))
        self.cm_view.cell_clicked.connect(self._on_cell_clicked)
        self.table = QTableWidget(0, 0)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        cm_box = QGroupBox("Confusion matrix (click a cell to see those images)")
        QVBoxLayout(cm_box).addWidget(self.cm_view)
        table_box = QGroupBox("Per-class metrics on the test set")
        QVBoxLayout(table_box).addWidget(self.table)
        page1 = QSplitter(Qt.Orientation.Horizontal)
        page1.addWidget(cm_box)
        page1.addWidget(table_box)
        page1.setSizes([560, 520])

        # -- page 2: ROC
        self.roc_class = QComboBox()
        self.roc_class.setToolTip("The class whose one-vs-rest ROC curve is shown, or all classes")
        self.roc_class.currentIndexChanged.connect(lambda _i: self._show_roc())
        self.roc_view = RocView(figsize=(6, 4.5))
        page2 = QWidget()
        p2 = QVBoxLayout(page2)
        row = QHBoxLayout()
        row.addWidget(QLabel("Class:"))
        row.addWidget(self.roc_class)
        row.addStretch(1)
        p2.addLayout(row)
        p2.addWidget(self.roc_view, 1)
        self.roc_labels: list[str] = []

        # -- page 3: misclassified gallery
        self.gallery_model = MisclassifiedModel(self)
        self.gallery = QListView()
        self.gallery.setModel(self.gallery_model)
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setUniformItemSizes(True)
        self.gallery.setItemDelegate(ThumbnailDelegate(self.gallery))
        self.gallery.setSpacing(4)
        self.gallery.selectionModel().currentChanged.connect(lambda cur, _prev: self._show_detail(cur))
        self.filter_true = QComboBox()
        self.filter_true.setToolTip("Only mistakes on images of this class")
        self.filter_pred = QComboBox()
        self.filter_pred.setToolTip("Only mistakes where the model answered this class")
        self.filter_true.currentIndexChanged.connect(lambda _i: self._fill_gallery())
        self.filter_pred.currentIndexChanged.connect(lambda _i: self._fill_gallery())
        self.gallery_count = QLabel()
        frow = QHBoxLayout()
        frow.addWidget(QLabel("True class:"))
        frow.addWidget(self.filter_true)
        frow.addWidget(QLabel("Predicted:"))
        frow.addWidget(self.filter_pred)
        frow.addWidget(self.gallery_count, 1)
        self.detail_image = QLabel()
        self.detail_image.setFixedSize(28 * DETAIL_SCALE, 28 * DETAIL_SCALE)
        self.detail_image.setStyleSheet("background: black;")
        self.detail_text = QLabel("Click an image to see it larger with all class probabilities.")
        self.detail_text.setWordWrap(True)
        self.detail_probs = PredictionPanel()
        detail_box = QGroupBox("Details")
        dl = QVBoxLayout(detail_box)
        dl.addWidget(self.detail_image, 0, Qt.AlignmentFlag.AlignHCenter)
        dl.addWidget(self.detail_text)
        dl.addWidget(self.detail_probs, 1)
        detail_box.setMinimumWidth(300)
        gallery_side = QWidget()
        gl = QVBoxLayout(gallery_side)
        gl.setContentsMargins(0, 0, 0, 0)
        gl.addLayout(frow)
        gl.addWidget(self.gallery, 1)
        page3 = QSplitter(Qt.Orientation.Horizontal)
        page3.addWidget(gallery_side)
        page3.addWidget(detail_box)
        page3.setSizes([800, 320])

        self.pages = QTabWidget()
        self.pages.setDocumentMode(True)
        self.pages.addTab(page1, "Confusion matrix && metrics")
        self.pages.addTab(page2, "ROC curves")
        self.pages.addTab(page3, "Misclassified")

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.message.setStyleSheet("QLabel { padding: 12px; }")

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.message)
        layout.addWidget(self.pages, 1)
        self._show_message(
            "No model to evaluate yet. Train a run (its model appears here when it finishes), "
            "open a saved model with “Open model file…”, or build the bundled models with `make models`."
        )
        self._refresh_baselines()

    # -- public API (used by the main window) -----------------------------------------------------
    def add_model(self, key: str, label: str, net: MLP, dataset_name: str) -> None:
        """Offer a model (e.g. a finished run); replaces an entry with the same key."""
        self._cache.pop(key, None)
        self.chooser.add_model(key, label, net, dataset_name)
        self._refresh_baselines()

    def remove_model(self, key: str) -> None:
        self._cache.pop(key, None)
        self.chooser.remove_model(key)
        self._refresh_baselines()

    def rename_model(self, key: str, label: str) -> None:
        self.chooser.rename_model(key, label)
        self._refresh_baselines()
        if self.current is not None:
            self._show_results()

    def set_dataset(self, dataset: Dataset) -> None:
        """Use this already-loaded data set for models trained on ``dataset.name``."""
        old = self._datasets.get(dataset.name)
        self._datasets[dataset.name] = dataset
        self._load_errors.pop(dataset.name, None)
        if old is not dataset:
            self._request()

    def refresh(self) -> None:
        """Evaluate the chosen model now (normally done when the tab is shown or the model changes)."""
        self._pending = True
        self._evaluate_if_needed()

    # -- scheduling -------------------------------------------------------------------------------
    def _request(self) -> None:
        # Evaluation loads data and predicts 10,000 images: only worth it when someone looks.
        self._pending = True
        if self.isVisible():
            self._evaluate_if_needed()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._pending:
            self._evaluate_if_needed()

    def _entry(self) -> ModelEntry | None:
        return self.chooser.ensure_loaded(self.chooser.current_key())

    def _baseline_entry(self) -> ModelEntry | None:
        if not self.compare.isChecked() or not self.compare.isEnabled():
            return None
        key = self.baseline_combo.currentData()
        return self.chooser.entry(key) if key else None

    def _evaluate_if_needed(self) -> None:
        self._pending = False
        self._refresh_baselines()
        entry = self._entry()
        if entry is None or entry.net is None:
            self.current = None
            self._show_message(
                "No model to evaluate yet. Train a run (its model appears here when it finishes), "
                "open a saved model with “Open model file…”, or build the bundled models with `make models`."
            )
            return
        wanted = [entry]
        base = self._baseline_entry()
        if base is not None and base.key != entry.key:
            wanted.append(base)
        results = []
        for e in wanted:
            res = self._result_for(e)
            if res is None:
                return  # a job was started or a message shown; we come back when it finishes
            results.append(res)
        self.current = results[0]
        self.baseline = results[1] if len(results) > 1 else None
        self._show_results()
        self.evaluated.emit(entry.key)

    def _result_for(self, entry: ModelEntry) -> Evaluation | None:
        """The cached evaluation of ``entry``, or None after starting what is missing."""
        name = entry.dataset_name
        ds = self._datasets.get(name)
        title = DATASET_TITLES.get(name, name or "unknown")
        if ds is None:
            if name in self._load_errors:
                self._show_message(
                    f"<b>{entry.label}</b> was trained on {title}; its test set is needed to evaluate it, "
                    f"but it could not be loaded:<pre>{self._load_errors[name]}</pre>"
                    "Load it in the Data tab (Download or Choose folder…); this view follows."
                )
            elif name in DATASET_NAMES:
                self._start(("load", name), _load_job, name, self.data_dir)
                self._show_message(f"Loading the {title} test set to evaluate <b>{entry.label}</b>…")
            else:
                self._show_message(
                    f"<b>{entry.label}</b> was trained on {title} data, which is not loaded. "
                    "Load that data set (Data tab) to evaluate it."
                )
            return None
        problem = check_compatible(entry.net, ds)
        if problem:
            self._show_message(f"<b>{entry.label}</b> cannot be evaluated on {title}: {problem}.")
            return None
        cached = self._cache.get(entry.key)
        if cached is not None and cached[0] == id(entry.net) and cached[1] == id(ds):
            return cached[2]
        self._start(("eval", entry.key, id(entry.net), id(ds)), _evaluate_job, entry.net, ds)
        self._show_message(f"Evaluating <b>{entry.label}</b> on the {len(ds.y_test):,} {title} test images…")
        return None

    def _start(self, what: tuple, fn, *args) -> None:
        if what in self._jobs:
            return
        job = BackgroundJob(fn, *args, tag=what)
        job.finished.connect(self._on_job_finished)
        job.failed.connect(self._on_job_failed)
        self._jobs[what] = job
        job.start()

    def _on_job_finished(self, job: BackgroundJob, result) -> None:
        what = job.tag
        self._jobs.pop(what, None)
        if what[0] == "load":
            self._datasets.setdefault(what[1], result)
        else:
            _, key, net_id, ds_id = what
            self._cache[key] = (net_id, ds_id, result)
        self._request()

    def _on_job_failed(self, job: BackgroundJob, exc: BaseException) -> None:
        what = job.tag
        self._jobs.pop(what, None)
        if what[0] == "load":
            self._load_errors[what[1]] = str(exc)
            self._request()
        else:
            self._show_message(f"Evaluation failed: {exc}")
            self.status_message.emit(f"Evaluation failed: {exc}")

    # -- display ----------------------------------------------------------------------------------
    def _show_message(self, html: str) -> None:
        self.message.setText(html)
        self.message.show()
        self.pages.setVisible(False)
        self.summary.setVisible(False)

    def _refresh_baselines(self) -> None:
        current = self.chooser.current_entry()
        name = current.dataset_name if current else None
        keep = self.baseline_combo.currentData()
        self.baseline_combo.blockSignals(True)
        self.baseline_combo.clear()
        for e in self.chooser.entries():
            if e.is_baseline and (current is None or (e.key != current.key and e.dataset_name == name)):
                self.baseline_combo.addItem(e.label, e.key)
        if keep is not None:
            i = self.baseline_combo.findData(keep)
            if i >= 0:
                self.baseline_combo.setCurrentIndex(i)
        self.baseline_combo.blockSignals(False)
        has = self.baseline_combo.count() > 0
        self.compare.setEnabled(has)
        self.baseline_combo.setEnabled(has)
        if not has:
            self.compare.setToolTip(
                "Train a run with no hidden layer (preset paper-softmax) on the same data set to compare with it"
            )

    def _names(self) -> tuple[str, str]:
        entry = self.chooser.current_entry()
        base = self._baseline_entry()
        return (entry.label if entry else "model"), (base.label if base else "baseline")

    def _show_results(self) -> None:
        ev = self.current
        if ev is None:
            return
        entry = self.chooser.current_entry()
        model_name, base_name = self._names()
        self.message.hide()
        self.pages.show()
        self.summary.show()
        n_wrong = len(ev.wrong)
        text = (
            f"<b>{model_name}</b>: {describe_model(entry.net, entry.dataset_name, with_accuracy=False)}<br>"
            f"Test accuracy <b>{_pct(ev.accuracy)}</b> ({len(ev.y_true) - n_wrong:,} of {len(ev.y_true):,} right), "
            f"macro F1 {_num(float(np.mean(ev.f1)))}, macro AUC {_num(ev.macro_auc)}"
        )
        if self.baseline is not None:
            b = self.baseline
            diff = 100 * (ev.accuracy - b.accuracy)
            text += (
                f"<br>Baseline <b>{base_name}</b> (softmax regression): accuracy <b>{_pct(b.accuracy)}</b>, "
                f"macro AUC {_num(b.macro_auc)}; the model is {abs(diff):.1f} points "
                f"{'better' if diff >= 0 else 'worse'}."
            )
        self.summary.setText(text)
        self.cm_view.show_matrix(ev.cm, ev.class_names, f"{model_name}: {len(ev.y_true):,} test images")
        self._fill_table()
        self._fill_class_combos()
        self._show_roc()
        self._fill_gallery()

    def _fill_table(self) -> None:
        ev, b = self.current, self.baseline
        cols = ["Class", "Precision", "Recall", "F1", "Support", "ROC AUC"]
        if b is not None:
            cols += ["F1 (baseline)", "AUC (baseline)"]
        k = ev.n_classes
        self.table.clear()
        self.table.setColumnCount(len(cols))
        self.table.setHorizontalHeaderLabels(cols)
        self.table.setRowCount(k + 2)

        def put(row: int, values: list, bold: bool = False) -> None:
            set_row(self.table, row, values, bold)

        for c in range(k):
            vals = [ev.class_names[c], _num(ev.precision[c]), _num(ev.recall[c]), _num(ev.f1[c]),
                    f"{int(ev.support[c]):,}", _num(ev.aucs[c], 4)]
            if b is not None:
                vals += [_num(b.f1[c]), _num(b.aucs[c], 4)]
            put(c, vals)
        macro = ["Macro average", _num(float(np.mean(ev.precision))), _num(float(np.mean(ev.recall))),
                 _num(float(np.mean(ev.f1))), f"{int(ev.support.sum()):,}", _num(ev.macro_auc, 4)]
        acc = ["Accuracy", "", "", _pct(ev.accuracy), f"{int(ev.support.sum()):,}", ""]
        if b is not None:
            macro += [_num(float(np.mean(b.f1))), _num(b.macro_auc, 4)]
            acc += [_pct(b.accuracy), ""]
        put(k, macro, bold=True)
        put(k + 1, acc, bold=True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)

    def _fill_class_combos(self) -> None:
        names = self.current.class_names
        for combo, first in ((self.roc_class, "All classes"), (self.filter_true, "any"), (self.filter_pred, "any")):
            old = combo.currentIndex()
            existing = [combo.itemText(i) for i in range(combo.count())]
            wanted = [first, *names]
            if existing != wanted:
                combo.blockSignals(True)
                combo.clear()
                combo.addItems(wanted)
                combo.setCurrentIndex(old if 0 <= old < len(wanted) else 0)
                combo.blockSignals(False)

    def _show_roc(self) -> None:
        if self.current is None:
            return
        cls = self.roc_class.currentIndex() - 1
        model_name, base_name = self._names()
        self.roc_labels = self.roc_view.show_curves(self.current, cls, self.baseline, model_name, base_name)

    def _fill_gallery(self) -> None:
        ev = self.current
        if ev is None:
            return
        t, p = self.filter_true.currentIndex() - 1, self.filter_pred.currentIndex() - 1
        self.gallery_model.set_evaluation(ev, t, p)
        shown = self.gallery_model.rowCount()
        where = ""
        if t >= 0 or p >= 0:
            where = " (" + ", ".join(
                s for s in (f"true {ev.class_names[t]}" if t >= 0 else "", f"predicted {ev.class_names[p]}" if p >= 0 else "") if s
            ) + ")"
        self.gallery_count.setText(
            f"{shown:,} misclassified{where} of {len(ev.wrong):,} in all; most confident mistakes first"
        )
        if shown:
            self.gallery.setCurrentIndex(self.gallery_model.index(0))
        else:
            self._show_detail(QModelIndex())

    def _on_cell_clicked(self, true_class: int, pred_class: int) -> None:
        if true_class == pred_class:
            self.filter_true.setCurrentIndex(true_class + 1)
            self.filter_pred.setCurrentIndex(0)
        else:
            self.filter_true.setCurrentIndex(true_class + 1)
            self.filter_pred.setCurrentIndex(pred_class + 1)
        self.pages.setCurrentIndex(2)

    def _show_detail(self, index: QModelIndex) -> None:
        ev = self.current
        if ev is None or not index.isValid():
            self.detail_image.setPixmap(QPixmap())
            self.detail_text.setText("No image selected.")
            self.detail_probs.clear("")
            return
        i = self.gallery_model.test_index(index.row())
        self.detail_image.setPixmap(
            QPixmap.fromImage(array_to_qimage(ev.X[i].reshape(28, 28))).scaled(
                28 * DETAIL_SCALE, 28 * DETAIL_SCALE, Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.FastTransformation,
            )
        )
        names = ev.class_names
        self.detail_text.setText(
            f"Test image #{i}<br>True class: <b>{names[ev.y_true[i]]}</b> "
            f"({100 * ev.proba[i, ev.y_true[i]]:.1f} %)<br>"
            f"Predicted: <b>{names[ev.y_pred[i]]}</b> ({100 * ev.proba[i, ev.y_pred[i]]:.1f} %)"
        )
        self.detail_probs.set_probabilities(ev.proba[i], names)
