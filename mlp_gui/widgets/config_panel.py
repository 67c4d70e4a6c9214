"""The Train form: one control per :class:`~mlp_engine.TrainConfig` field, bound both ways.

Spin boxes carry the engine's limits (``mlp_engine/config.py``), so out-of-range numbers
cannot be typed; what the ranges cannot express (e.g. warm-up longer than the run) is left
to ``TrainConfig`` itself, whose message is shown under the form. ``config()`` and
``set_config()`` are inverse: form -> config -> form is the identity (napari-style controls:
the widget is a view of a plain model object).
"""
from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator, QValidator
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
    QScrollArea, QSpinBox, QToolButton, QVBoxLayout, QWidget,
)

from mlp_engine import ACTIVATIONS, OPTIMIZERS, PREPROCESSING, PRESETS, SCHEDULES, TrainConfig
from mlp_engine.config import AUGMENTATIONS
from mlp_engine.training import LIVE_HYPERPARAMETERS

DATASETS = {"fashion-mnist": "Fashion-MNIST", "mnist": "MNIST", "synthetic": "Synthetic (tiny demo set)"}

# Which optimizer uses which of its own parameters; rows of the others are hidden.
OPTIMIZER_FIELDS = {
    "momentum": ("momentum", "nesterov"),
    "gamma": ("rmsprop",),
    "beta1": ("adam",),
    "beta2": ("adam",),
    "eps": ("rmsprop", "adam"),
}
SCHEDULE_FIELDS = {"step_size": ("step",), "step_gamma": ("step",), "min_lr_ratio": ("cosine",)}
AUGMENT_FIELDS = {"augment_shift": ("shift", "affine"), "augment_rotate": ("affine",), "augment_scale": ("affine",),
                  "augment_flip": ("shift", "affine")}

# One line per field, shown as its tooltip.
HELP = {
    "name": "Name of the run in the Compare tab and in plot legends (empty: numbered automatically).",
    "dataset": "Images to train on: Fashion-MNIST (clothes, the paper's main set), MNIST (digits) or a tiny synthetic set.",
    "hidden": "Hidden layers: number of units of each and its dropout rate; no layer = softmax regression.",
    "activation": "Non-linearity after each hidden layer (the paper uses ReLU).",
    "input_dropout": "Fraction of input pixels dropped at random in training (0 = off, as in the paper).",
    "optimizer": "Update rule: SGD, momentum, Nesterov momentum, RMSProp or Adam.",
    "lr": "Learning rate for the mean batch loss (the paper's summed rates are x batch size). Arrows step 1-2-5.",
    "momentum": "Momentum beta: weight of the previous update in the velocity v = beta v + g.",
    "gamma": "RMSProp decay gamma of the running mean of squared gradients.",
    "beta1": "Adam decay of the running mean of gradients (first moment).",
    "beta2": "Adam decay of the running mean of squared gradients (second moment).",
    "eps": "Small constant added to the denominator of RMSProp / Adam for stability.",
    "weight_decay": "L2 penalty lambda: w <- (1 - lr lambda) w - lr g (0 = off).",
    "max_norm": "Clip the global gradient norm to this value (off = no clipping).",
    "label_smoothing": "Spread this much of each target's probability over the other classes (0 = off).",
    "batch_size": "Images per mini-batch (the paper: 128; 6000 for its near-full-batch study).",
    "epochs": "Passes over the training set.",
    "preprocess": "Pixel transform: none (0..255), scale (/255), log (ln(x+1), the paper's choice) or standardize.",
    "schedule": "Learning-rate schedule over the run: constant, step decay or cosine decay.",
    "step_size": "Step schedule: multiply the learning rate by the factor every this many epochs.",
    "step_gamma": "Step schedule: factor applied to the learning rate at each step.",
    "warmup_epochs": "Raise the learning rate linearly from 0 over this many epochs first (0 = off).",
    "min_lr_ratio": "Cosine schedule: final learning rate as a fraction of the initial one.",
    "augment": "Random distortions of training images: none, shifts, or shifts + rotation + scaling.",
    "augment_shift": "Largest random shift, in pixels.",
    "augment_rotate": "Largest random rotation, in degrees.",
    "augment_scale": "Largest random relative change of size.",
    "augment_flip": "Also mirror a random half of the images left-right (for garments, not digits).",
    "seed": "Seed of every random choice (initial weights, shuffling, dropout): same seed, same run.",
    "val_split": "Fraction of the training images held out for validation (0 = no validation set).",
    "eval_train": "Measure accuracy on the whole training set after each epoch (costs a little time).",
}


class ScientificSpinBox(QDoubleSpinBox):
    """A spin box for values spanning orders of magnitude (learning rates, eps, decay).

    Shows the shortest readable form (``0.0128``, ``1e-08``), accepts scientific notation,
    and the arrows walk a 1-2-5 ladder (0.01 -> 0.02 -> 0.05 -> 0.1) instead of adding a
    fixed step that is too big for 1e-4 and too small for 0.5.
    """

    def __init__(self, minimum: float, maximum: float, zero_step: float = 1e-5, parent=None) -> None:
        super().__init__(parent)
        # Enough decimals that QDoubleSpinBox's rounding never alters a value typed or set.
        self.setDecimals(15)
        self.setRange(minimum, maximum)
        self._zero_step = zero_step
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        t = text.strip()
        try:
            v = float(t)
        except ValueError:
            partial = t == "" or all(c in "0123456789.eE+-" for c in t)
            return (QValidator.State.Intermediate if partial else QValidator.State.Invalid), text, pos
        if self.minimum() <= v <= self.maximum() and math.isfinite(v):
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def fixup(self, text: str) -> str:
        return self.textFromValue(self.value())

    def stepBy(self, steps: int) -> None:
        v = self.value()
        for _ in range(abs(steps)):
            v = _ladder(v, up=steps > 0, zero_step=self._zero_step)
        self.setValue(min(max(v, self.minimum()), self.maximum()))


def _ladder(v: float, up: bool, zero_step: float) -> float:
    """Next value of the 1-2-5 sequence above (or below) ``v``."""
    if v <= 0:
        return zero_step if up else 0.0
    exp = math.floor(math.log10(v))
    candidates = [m * 10.0**e for e in (exp - 1, exp, exp + 1) for m in (1, 2, 5)]
    if up:
        nxt = [c for c in candidates if c > v * (1 + 1e-9)]
        return float(f"{min(nxt):.12g}")
    nxt = [c for c in candidates if c < v * (1 - 1e-9)]
    return float(f"{max(nxt):.12g}") if v > zero_step * (1 + 1e-9) else 0.0


def _dspin(low, high, decimals, step, special="") -> QDoubleSpinBox:
    w = QDoubleSpinBox()
    w.setDecimals(decimals)  # before the range: changing decimals re-rounds the bounds
    w.setRange(low, high)
    w.setSingleStep(step)
    w.setKeyboardTracking(False)
    if special:
        w.setSpecialValueText(special)
    return w


def _ispin(low, high, step=1) -> QSpinBox:
    w = QSpinBox()
    w.setRange(low, high)
    w.setSingleStep(step)
    w.setKeyboardTracking(False)
    w.setGroupSeparatorShown(False)
    return w


def _combo(items: dict | tuple) -> QComboBox:
    w = QComboBox()
    pairs = items.items() if isinstance(items, dict) else ((k, k) for k in items)
    for key, text in pairs:
        w.addItem(text, key)
    return w


class HiddenLayersEditor(QWidget):
    """Rows of (units, dropout) with add/remove; empty means softmax regression.

    Signals
    -------
    changed()  any size, rate or the number of layers changed.
    """

    changed = Signal()
    MAX_LAYERS = 8

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[QWidget, QSpinBox, QDoubleSpinBox, QToolButton]] = []
        self._structure_editable = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        header = QHBoxLayout()
        for text, stretch in (("units", 1), ("dropout", 1)):
            lab = QLabel(text)
            lab.setObjectName("hint")
            header.addWidget(lab, stretch)
        header.addSpacing(28)
        self._header = QWidget()
        self._header.setLayout(header)
        header.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._header)
        self._rows_box = QVBoxLayout()
        self._rows_box.setSpacing(4)
        layout.addLayout(self._rows_box)
        self._empty = QLabel("No hidden layer: softmax regression")
        self._empty.setObjectName("hint")
        layout.addWidget(self._empty)
        self.add_button = QPushButton("Add layer")
        self.add_button.setToolTip("Add a hidden layer after the last one (same size, no dropout).")
        self.add_button.clicked.connect(self._on_add)
        layout.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)
        self._refresh()

    def _on_add(self) -> None:
        size = self._rows[-1][1].value() if self._rows else 128
        self._add_row(size, 0.0)
        self._refresh()
        self.changed.emit()

    def _add_row(self, size: int, rate: float) -> None:
        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        size_box = _ispin(1, 16384, 16)
        size_box.setValue(size)
        size_box.setToolTip("Units in this hidden layer (1 to 16384).")
        rate_box = _dspin(0.0, 0.95, 2, 0.05)
        rate_box.setValue(rate)
        rate_box.setToolTip("Inverted-dropout rate of this layer in training (0 = off, at most 0.95).")
        remove = QToolButton()
        remove.setText("\u2212")
        remove.setToolTip("Remove this hidden layer.")
        remove.clicked.connect(lambda _=False, r=row: self._remove(r))
        size_box.valueChanged.connect(self.changed)
        rate_box.valueChanged.connect(self.changed)
        h.addWidget(size_box, 1)
        h.addWidget(rate_box, 1)
        h.addWidget(remove)
        self._rows_box.addWidget(row)
        self._rows.append((row, size_box, rate_box, remove))

    def _remove(self, row: QWidget) -> None:
        for i, r in enumerate(self._rows):
            if r[0] is row:
                del self._rows[i]
                row.setParent(None)
                row.deleteLater()
                break
        self._refresh()
        self.changed.emit()

    def _refresh(self) -> None:
        has = bool(self._rows)
        self._header.setVisible(has)
        self._empty.setVisible(not has)
        self.add_button.setEnabled(self._structure_editable and len(self._rows) < self.MAX_LAYERS)
        for _, size_box, _, remove in self._rows:
            size_box.setEnabled(self._structure_editable)
            remove.setEnabled(self._structure_editable)

    def layers(self) -> tuple[tuple[int, ...], tuple[float, ...]]:
        """``(sizes, dropout rates)``, one entry per hidden layer."""
        return tuple(r[1].value() for r in self._rows), tuple(r[2].value() for r in self._rows)

    def set_layers(self, sizes, rates) -> None:
        blocked = self.signalsBlocked()
        self.blockSignals(True)
        try:
            while self._rows:
                row = self._rows.pop()[0]
                row.setParent(None)
                row.deleteLater()
            for size, rate in zip(sizes, rates):
                self._add_row(int(size), float(rate))
        finally:
            self.blockSignals(blocked)
        self._refresh()
        self.changed.emit()

    def rate_boxes(self) -> list[QDoubleSpinBox]:
        return [r[2] for r in self._rows]

    def set_structure_editable(self, editable: bool) -> None:
        """Lock the number and sizes of layers (during a run) while rates stay editable."""
        self._structure_editable = editable
        self._refresh()


class ConfigPanel(QWidget):
    """Form for every field of :class:`~mlp_engine.TrainConfig`, with presets.

    Signals
    -------
    config_changed(object)
        After any edit: the new ``TrainConfig``, or ``None`` when the combination is invalid
        (the engine's message is then shown under the form and returned by :meth:`error`).
    """

    config_changed = Signal(object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.fields: dict[str, QWidget] = {}
        self._forms: dict[str, QFormLayout] = {}
        self._updating = False
        self._running = False
        self._error = ""

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)

        preset_row = QHBoxLayout()
        preset_row.addWidget(QLabel("Preset"))
        self.preset_combo = QComboBox()
        self.preset_combo.addItem("Choose a preset ...", "")
        for name, (description, _cfg) in PRESETS.items():
            self.preset_combo.addItem(name, name)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.setToolTip("Fill the form with one of the paper's configurations (hover an entry for details).")
        self.preset_combo.activated.connect(self._on_preset_activated)
        preset_row.addWidget(self.preset_combo, 1)
        outer.addLayout(preset_row)
        self.preset_description = QLabel("")
        self.preset_description.setObjectName("hint")
        self.preset_description.setWordWrap(True)
        outer.addWidget(self.preset_description)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        self._body = QVBoxLayout(body)
        self._body.setContentsMargins(0, 0, 6, 0)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)

        self.error_label = QLabel("")
        self.error_label.setObjectName("error")
        self.error_label.setWordWrap(True)
        self.error_label.setVisible(False)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.error_label)

        self._build_fields()
        self.set_config(TrainConfig())

    # -- construction ----------------------------------------------------------------------------
    def _group(self, title: str) -> QFormLayout:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self._body.addWidget(box)
        self._forms[title] = form
        return form

    def _add(self, form: QFormLayout, name: str, label: str, widget: QWidget) -> None:
        widget.setToolTip(HELP[name])
        widget.setObjectName(f"field_{name}")
        form.addRow(label, widget)
        lab = form.labelForField(widget)
        if lab is not None:
            lab.setToolTip(HELP[name])
        self.fields[name] = widget
        if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
            widget.valueChanged.connect(self._on_edit)
        elif isinstance(widget, QComboBox):
            widget.currentIndexChanged.connect(self._on_edit)
        elif isinstance(widget, QCheckBox):
            widget.toggled.connect(self._on_edit)
        elif isinstance(widget, QLineEdit):
            widget.textChanged.connect(self._on_edit)

    def _build_fields(self) -> None:
        run = self._group("Run")
        name = QLineEdit()
        name.setPlaceholderText("automatic")
        self._add(run, "name", "Name", name)
        self._add(run, "dataset", "Data set", _combo(DATASETS))
        self._add(run, "epochs", "Epochs", _ispin(1, 100_000))
        self._add(run, "batch_size", "Batch size", _ispin(1, 1_000_000, 32))
        self._add(run, "val_split", "Validation split", _dspin(0.0, 0.5, 3, 0.05))
        self._add(run, "eval_train", "Train accuracy", QCheckBox("evaluate after each epoch"))
        seed = QLineEdit()
        # Digits only (up to 19 of them: the engine's limit is 2**63 - 1, beyond QSpinBox's int).
        seed.setValidator(QRegularExpressionValidator(r"[0-9]{1,19}"))
        self._add(run, "seed", "Seed", seed)

        net = self._group("Network")
        self.hidden_editor = HiddenLayersEditor()
        self.hidden_editor.changed.connect(self._on_edit)
        self.hidden_editor.setToolTip(HELP["hidden"])
        net.addRow("Hidden layers", self.hidden_editor)
        net.labelForField(self.hidden_editor).setToolTip(HELP["hidden"])
        self.fields["hidden"] = self.hidden_editor
        self._add(net, "activation", "Activation", _combo(tuple(ACTIVATIONS)))
        self._add(net, "input_dropout", "Input dropout", _dspin(0.0, 0.95, 2, 0.05))

        opt = self._group("Optimizer")
        self._add(opt, "optimizer", "Optimizer", _combo(tuple(OPTIMIZERS)))
        # (0, 10]: the smallest positive value the box shows stands for the open bound.
        self._add(opt, "lr", "Learning rate", ScientificSpinBox(1e-12, 10.0, zero_step=1e-5))
        self._add(opt, "momentum", "Momentum", _dspin(0.0, 0.9999, 4, 0.05))
        self._add(opt, "gamma", "RMSProp gamma", _dspin(0.0, 0.9999, 4, 0.01))
        self._add(opt, "beta1", "Adam beta1", _dspin(0.0, 0.9999, 4, 0.01))
        self._add(opt, "beta2", "Adam beta2", _dspin(0.0, 0.999999, 6, 0.001))
        self._add(opt, "eps", "Epsilon", ScientificSpinBox(1e-12, 1.0, zero_step=1e-12))
        self._add(opt, "weight_decay", "Weight decay", ScientificSpinBox(0.0, 1.0, zero_step=1e-5))
        self._add(opt, "max_norm", "Gradient clipping", _dspin(0.0, 1e6, 3, 0.5, special="off"))
        self._add(opt, "label_smoothing", "Label smoothing", _dspin(0.0, 0.5, 3, 0.05))

        sched = self._group("Learning-rate schedule")
        self._add(sched, "schedule", "Schedule", _combo(SCHEDULES))
        self._add(sched, "step_size", "Step every (epochs)", _ispin(1, 100_000))
        self._add(sched, "step_gamma", "Step factor", _dspin(0.0001, 1.0, 4, 0.05))
        # Up to the engine's bound for any run; longer than the run's epochs is reported by
        # the engine's own check (an invalid combination, not an invalid number).
        self._add(sched, "warmup_epochs", "Warm-up (epochs)", _dspin(0.0, 100_000.0, 2, 0.5))
        self._add(sched, "min_lr_ratio", "Final lr ratio", _dspin(0.0, 1.0, 3, 0.05))

        data = self._group("Input")
        self._add(data, "preprocess", "Preprocessing", _combo(PREPROCESSING))
        self._add(data, "augment", "Augmentation", _combo(AUGMENTATIONS))
        self._add(data, "augment_shift", "Shift (pixels)", _dspin(0.0, 8.0, 1, 0.5))
        self._add(data, "augment_rotate", "Rotation (degrees)", _dspin(0.0, 45.0, 1, 1.0))
        self._add(data, "augment_scale", "Scale (relative)", _dspin(0.0, 0.5, 2, 0.05))
        self._add(data, "augment_flip", "Flips", QCheckBox("mirror half the images left-right"))
        self._body.addStretch(1)

    # -- model <-> form --------------------------------------------------------------------------
    def set_config(self, config: TrainConfig) -> None:
        """Show ``config`` in the form (emits ``config_changed`` once)."""
        self._updating = True
        try:
            for name, widget in self.fields.items():
                if name == "hidden":
                    self.hidden_editor.set_layers(config.hidden, config.dropout)
                    continue
                value = getattr(config, name)
                if isinstance(widget, QComboBox):
                    index = widget.findData(value)
                    if index < 0:
                        raise ValueError(f"{name} {value!r} is not offered by the form")
                    widget.setCurrentIndex(index)
                elif isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
                elif isinstance(widget, QLineEdit):
                    widget.setText(str(value))
                else:
                    widget.setValue(value)
        finally:
            self._updating = False
        self._on_edit()

    def config(self) -> TrainConfig:
        """The configuration in the form; raises the engine's ``ValueError`` if invalid."""
        values = {}
        for name, widget in self.fields.items():
            if name == "hidden":
                values["hidden"], values["dropout"] = self.hidden_editor.layers()
            elif isinstance(widget, QComboBox):
                values[name] = widget.currentData()
            elif isinstance(widget, QCheckBox):
                values[name] = widget.isChecked()
            elif name == "seed":
                text = widget.text().strip()
                if not text:
                    raise ValueError("seed is empty; enter a whole number (e.g. 0)")
                values[name] = int(text)
            elif isinstance(widget, QLineEdit):
                values[name] = widget.text().strip()
            else:
                values[name] = widget.value()
        return TrainConfig(**values)

    def error(self) -> str:
        """The engine's message for the current (invalid) form, or ``""``."""
        return self._error

    def is_valid(self) -> bool:
        return not self._error

    def apply_preset(self, name: str) -> None:
        """Fill the form with ``PRESETS[name]``."""
        description, config = PRESETS[name]
        self.set_config(config)
        index = self.preset_combo.findData(name)
        self.preset_combo.setCurrentIndex(index)
        self.preset_description.setText(description)

    def _on_preset_activated(self, index: int) -> None:
        name = self.preset_combo.itemData(index)
        if name:
            self.apply_preset(name)

    def _on_edit(self, *_args) -> None:
        if self._updating:
            return
        self._update_visibility()
        try:
            cfg = self.config()
        except (ValueError, TypeError) as exc:
            cfg, self._error = None, str(exc)
        else:
            self._error = ""
        self.error_label.setText(self._error)
        self.error_label.setVisible(bool(self._error))
        self.config_changed.emit(cfg)

    def _update_visibility(self) -> None:
        rules = (
            (OPTIMIZER_FIELDS, self.fields["optimizer"].currentData()),
            (SCHEDULE_FIELDS, self.fields["schedule"].currentData()),
            (AUGMENT_FIELDS, self.fields["augment"].currentData()),
        )
        for table, current in rules:
            for name, users in table.items():
                widget = self.fields[name]
                for form in self._forms.values():
                    if form.indexOf(widget) >= 0:
                        form.setRowVisible(widget, current in users)

    # -- during a run ------------------------------------------------------------------------------
    def set_running(self, running: bool) -> None:
        """Lock every field but those a running trainer accepts (lr, momentum, decay, dropout...)."""
        self._running = running
        self.preset_combo.setEnabled(not running)
        for name, widget in self.fields.items():
            if name == "hidden":
                self.hidden_editor.set_structure_editable(not running)
            else:
                widget.setEnabled(not running or name in LIVE_HYPERPARAMETERS)

    def live_changes(self, running: TrainConfig) -> dict:
        """Live hyperparameters whose form value differs from ``running`` (for ``update_hyperparameters``)."""
        _sizes, rates = self.hidden_editor.layers()
        form = {name: self.fields[name].value() for name in LIVE_HYPERPARAMETERS if name != "dropout"}
        form["dropout"] = tuple(rates)
        changes = {}
        for name, value in form.items():
            current = getattr(running, name)
            if name == "dropout":
                if tuple(value) != tuple(current):
                    changes[name] = list(value)
            elif not math.isclose(value, current, rel_tol=1e-12, abs_tol=0.0):
                changes[name] = value
        return changes
