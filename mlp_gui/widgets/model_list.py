"""A model chooser shared by the Evaluate and Draw tabs.

It lists three kinds of models in one combo box:

* the models bundled with the app (``resources/models/<dataset>.npz``), loaded only when first
  selected, so that building the window costs no disk reads beyond two ``stat`` calls;
* the models of training runs, handed over by the main window with :meth:`ModelChooser.add_model`;
* model files the user opens with "Open model file…" (checked with
  :func:`mlp_engine.load_model`; a bad file is refused with a message naming it and the reason).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QMessageBox, QPushButton, QSizePolicy, QWidget

from mlp_engine import MLP, ModelFileError, load_model
from mlp_engine.data import CLASS_NAMES

__all__ = ["BUNDLED_MODELS", "DATASET_TITLES", "ModelChooser", "ModelEntry", "bundled_models_dir", "guess_dataset", "describe_model"]

#: Bundled model files, in the order they are listed: file stem (= dataset name) -> label.
BUNDLED_MODELS: dict[str, str] = {
    "mnist": "MNIST digits (bundled)",
    "fashion-mnist": "Fashion-MNIST garments (bundled)",
}

#: How data set names are shown to people.
DATASET_TITLES: dict[str, str] = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "synthetic": "synthetic"}


def bundled_models_dir() -> Path:
    """Folder of the bundled models (``resources/models``, installed as ``mlp_studio_resources``)."""
    from mlp_studio_resources import resource_path

    return resource_path("models")


def guess_dataset(net: MLP) -> str:
    """The data set a model was trained on: from its metadata, else from its class names.

    Returns ``""`` when neither tells.
    """
    meta = getattr(net, "meta", None) or {}
    name = meta.get("dataset") or (meta.get("config") or {}).get("dataset")
    if name:
        return str(name)
    names = tuple(net.class_names)
    for dataset, classes in CLASS_NAMES.items():
        if names == tuple(classes):
            return dataset
    return ""


def describe_model(net: MLP, dataset_name: str = "", with_accuracy: bool = True) -> str:
    """One line about a model: architecture, data set, test accuracy if known."""
    sizes = "-".join(str(s) for s in net.layer_sizes)
    kind = "softmax regression" if len(net.layer_sizes) == 2 else f"MLP, {net.activation}"
    parts = [f"{sizes} ({kind})"]
    if dataset_name:
        parts.append(f"trained on {DATASET_TITLES.get(dataset_name, dataset_name)}")
    acc = (net.meta or {}).get("test_acc")
    if with_accuracy and isinstance(acc, (int, float)):
        parts.append(f"test accuracy {100 * acc:.1f} %")
    return " · ".join(parts)


@dataclass
class ModelEntry:
    """One row of the chooser.

    Attributes
    ----------
    key : str
        Stable identifier (a run id, ``"bundled:<dataset>"`` or ``"file:<path>"``).
    label : str
        Text shown in the combo box.
    dataset_name : str
        Data set the model was trained on (``""`` if unknown).
    net : MLP or None
        The model; ``None`` until a bundled model is loaded on first use.
    path : Path or None
        File the model comes from (bundled or opened), for lazy loading and messages.
    """

    key: str
    label: str
    dataset_name: str
    net: MLP | None = None
    path: Path | None = None

    @property
    def is_baseline(self) -> bool:
        """True for softmax regression (no hidden layer), the paper's baseline."""
        return self.net is not None and len(self.net.layer_sizes) == 2


class ModelChooser(QWidget):
    """Combo box of models plus an "Open model file…" button.

    Parameters
    ----------
    parent : QWidget, optional
    models_dir : Path or None
        Where the bundled models are looked for; default :func:`bundled_models_dir`. ``None``
        after construction-time resolution means "no bundled models" (tests pass an empty
        folder or their own).
    expect_inputs : int
        Input size every model must have (784 = 28x28 pixels); others are refused.
    allow_open : bool
        Show the "Open model file…" button.

    Signals
    -------
    model_changed(str)
        The key of the newly selected model, ``""`` when none is left.
    status_message(str)
        A short message for the status bar.
    """

    model_changed = Signal(str)
    status_message = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        models_dir: Path | str | None = "default",
        expect_inputs: int = 784,
        allow_open: bool = True,
    ) -> None:
        super().__init__(parent)
        self.expect_inputs = expect_inputs
        self._entries: dict[str, ModelEntry] = {}
        self._last_dir = ""

        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.setMinimumContentsLength(28)
        self.combo.setPlaceholderText("No model available")
        self.combo.setToolTip("The model to use")
        self.combo.currentIndexChanged.connect(self._on_index_changed)
        self.open_button = QPushButton("Open model file…")
        self.open_button.setToolTip("Load a model saved by MLP Studio (.npz)")
        self.open_button.clicked.connect(lambda: self.open_file())
        self.open_button.setVisible(allow_open)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        label = QLabel("Model:")
        label.setBuddy(self.combo)
        layout.addWidget(label)
        layout.addWidget(self.combo)
        layout.addWidget(self.open_button)
        layout.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

        if models_dir == "default":
            models_dir = bundled_models_dir()
        if models_dir is not None:
            for stem, label_text in BUNDLED_MODELS.items():
                path = Path(models_dir) / f"{stem}.npz"
                # Only a stat here: loading waits until the model is first needed (start-up time).
                if path.is_file():
                    self._insert(ModelEntry(f"bundled:{stem}", label_text, stem, None, path), select=False)
        if self.combo.count():
            self.combo.setCurrentIndex(0)

    # -- queries --------------------------------------------------------------------------------
    def keys(self) -> list[str]:
        """Keys of all entries, in display order."""
        return [self.combo.itemData(i) for i in range(self.combo.count())]

    def entry(self, key: str) -> ModelEntry | None:
        return self._entries.get(key)

    def entries(self) -> list[ModelEntry]:
        return [self._entries[k] for k in self.keys()]

    def current_key(self) -> str:
        data = self.combo.currentData()
        return data if isinstance(data, str) else ""

    def current_entry(self) -> ModelEntry | None:
        return self._entries.get(self.current_key())

    def ensure_loaded(self, key: str) -> ModelEntry | None:
        """The entry with its model loaded (bundled models load lazily).

        A bundled file that cannot be read is reported in a message box and removed from the
        list; ``None`` is returned then.
        """
        entry = self._entries.get(key)
        if entry is None or entry.net is not None:
            return entry
        try:
            entry.net = load_model(entry.path, expect_inputs=self.expect_inputs)
        except (ModelFileError, OSError) as exc:
            QMessageBox.warning(
                self,
                "Cannot load model",
                f"The bundled model {entry.path} cannot be used:\n\n{exc}\n\n"
                "Rebuild it with `make models`, or train a run and use its model.",
            )
            self.remove_model(key)
            return None
        self._refresh_tooltip(key)
        return entry

    def current_model(self) -> MLP | None:
        """The selected model, loading it if needed; ``None`` when there is none."""
        entry = self.ensure_loaded(self.current_key())
        return entry.net if entry is not None else None

    # -- changes --------------------------------------------------------------------------------
    def add_model(self, key: str, label: str, net: MLP, dataset_name: str = "", select: bool | None = None) -> None:
        """Add (or replace) a model.

        ``select=None`` selects the new model when nothing or a bundled model was selected, so a
        freshly trained run becomes current without taking away a run the user picked.
        """
        if net.n_inputs != self.expect_inputs:
            raise ValueError(
                f"model {label!r} takes {net.n_inputs} inputs; this view needs {self.expect_inputs} (28x28 images)"
            )
        current = self.current_key()
        if select is None:
            select = not current or current.startswith("bundled:") or current == key
        self._insert(ModelEntry(key, label, dataset_name or guess_dataset(net), net, None), select=select)

    def remove_model(self, key: str) -> None:
        index = self.combo.findData(key)
        if index < 0:
            return
        was_current = index == self.combo.currentIndex()
        self._entries.pop(key, None)
        self.combo.blockSignals(True)
        self.combo.removeItem(index)
        if self.combo.count() and self.combo.currentIndex() < 0:
            self.combo.setCurrentIndex(0)
        self.combo.blockSignals(False)
        if was_current:
            self.model_changed.emit(self.current_key())

    def rename_model(self, key: str, label: str) -> None:
        index = self.combo.findData(key)
        if index >= 0:
            self._entries[key].label = label
            self.combo.setItemText(index, label)

    def set_current(self, key: str) -> None:
        index = self.combo.findData(key)
        if index >= 0:
            self.combo.setCurrentIndex(index)

    def open_file(self, path: str | Path | None = None) -> str:
        """Load a model file (asking for it when ``path`` is None) and select it.

        Returns the new entry's key, or ``""`` when cancelled or refused (the reason is shown
        in a message box naming the file).
        """
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Open model", self._last_dir, "MLP Studio models (*.npz);;All files (*)"
            )
            if not path:
                return ""
        path = Path(path)
        self._last_dir = str(path.parent)
        try:
            net = load_model(path, expect_inputs=self.expect_inputs)
        except FileNotFoundError:
            QMessageBox.warning(self, "Cannot open model", f"{path} does not exist.")
            return ""
        except ModelFileError as exc:
            QMessageBox.warning(
                self,
                "Cannot open model",
                f"{path.name} cannot be used:\n\n{exc}\n\nChoose a model saved by MLP Studio for 28x28 images.",
            )
            return ""
        except OSError as exc:
            QMessageBox.warning(self, "Cannot open model", f"{path} cannot be read: {exc}")
            return ""
        key = f"file:{path.resolve()}"
        self._insert(ModelEntry(key, path.name, guess_dataset(net), net, path), select=True)
        self.status_message.emit(f"Opened model {path}")
        return key

    # -- internals ------------------------------------------------------------------------------
    def _insert(self, entry: ModelEntry, select: bool) -> None:
        self._entries[entry.key] = entry
        index = self.combo.findData(entry.key)
        replacing_current = index >= 0 and index == self.combo.currentIndex()
        if index >= 0:
            self.combo.setItemText(index, entry.label)
        else:
            self.combo.addItem(entry.label, entry.key)
            index = self.combo.count() - 1
        self._refresh_tooltip(entry.key)
        if select and index != self.combo.currentIndex():
            self.combo.setCurrentIndex(index)  # emits model_changed via _on_index_changed
        elif replacing_current or (select and index == self.combo.currentIndex()):
            # Same key, new model (e.g. a run trained further): views must refresh.
            self.model_changed.emit(entry.key)

    def _refresh_tooltip(self, key: str) -> None:
        entry = self._entries[key]
        index = self.combo.findData(key)
        if entry.net is not None:
            tip = describe_model(entry.net, entry.dataset_name)
        else:
            tip = f"{entry.path} (loaded when selected)"
        self.combo.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)

    def _on_index_changed(self, _index: int) -> None:
        self.model_changed.emit(self.current_key())
