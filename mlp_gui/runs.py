"""Qt-free records of training runs: what the Compare tab lists, overlays, exports and sweeps.

A :class:`RunRecord` is the model behind one row of the Compare tab (name, configuration,
epoch history, trained network, duration, status). :class:`RunStore` keeps them in order
with unique names. The CSV export and the sweep parser live here too, so they are tested
without a window (napari's split: Qt-free models, thin ``_qt`` views).
"""
from __future__ import annotations

import csv
import io
import itertools
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Iterable, Sequence

from mlp_engine import EpochReport, TrainConfig
from mlp_engine.serialization import atomic_write

# How a run ended. "loaded" marks a model opened from a file that carried its history.
STATUSES = ("finished", "stopped", "diverged", "failed", "loaded")

# metric key -> (label for menus and axes, EpochReport attribute, is an accuracy)
METRICS: dict[str, tuple[str, str, bool]] = {
    "train_loss": ("Training loss per epoch", "train_loss", False),
    "test_acc": ("Test accuracy", "test_acc", True),
    "train_acc": ("Training accuracy", "train_acc", True),
    "val_acc": ("Validation accuracy", "val_acc", True),
    "test_loss": ("Test loss", "test_loss", False),
    "val_loss": ("Validation loss", "val_loss", False),
}

CSV_FIELDS = (
    "run", "status", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc",
    "lr", "train_seconds", "eval_seconds", "config",
)


@dataclass
class RunRecord:
    """One training run, finished or not.

    Attributes
    ----------
    id : int
        Unique within a :class:`RunStore`; the key ``"run-<id>"`` names the model in the
        Evaluate and Draw tabs.
    name : str
        Shown in lists and legends; editable.
    config : TrainConfig
        The configuration the run ended with (live hyperparameter changes included).
    history : list of EpochReport
        One report per finished epoch (epoch 0 first).
    net : MLP or None
        The trained model (for a diverged run: its last good weights).
    duration : float
        Wall-clock seconds from start to end, pauses excluded.
    status : str
        One of :data:`STATUSES`.
    message : str
        Why a run failed or diverged (the engine's message), or where a loaded model came from.
    """

    id: int
    name: str
    config: TrainConfig
    history: list = field(default_factory=list)
    net: object = None
    duration: float = 0.0
    status: str = "finished"
    message: str = ""

    @property
    def key(self) -> str:
        return f"run-{self.id}"

    @property
    def dataset(self) -> str:
        return self.config.dataset

    @property
    def final(self) -> EpochReport | None:
        return self.history[-1] if self.history else None

    def final_metric(self, attribute: str) -> float | None:
        """Value of ``attribute`` (e.g. ``"test_acc"``) after the last epoch, or None."""
        last = self.final
        return None if last is None else getattr(last, attribute)

    def series(self, metric: str) -> tuple[list[int], list[float]]:
        """``(epochs, values)`` of a :data:`METRICS` key; x is epochs trained (1 after epoch 0)."""
        attribute = METRICS[metric][1]
        xs, ys = [], []
        for r in self.history:
            v = getattr(r, attribute)
            if v is not None:
                xs.append(r.epoch + 1)
                ys.append(float(v))
        return xs, ys


@dataclass
class RunResult:
    """What a training worker hands back when a run ends, however it ends.

    ``status`` is "finished", "stopped", "diverged" (the engine restored the last good
    weights, so ``net`` is usable) or "failed" (``net`` may be None, e.g. data not found).
    ``sweep`` names the sweep the run belongs to (``None`` for a single run).
    """

    config: TrainConfig
    net: object
    history: list
    status: str
    message: str = ""
    duration: float = 0.0
    sweep: str | None = None


class RunStore:
    """Ordered collection of :class:`RunRecord` with unique ids and unique names."""

    def __init__(self) -> None:
        self._runs: list[RunRecord] = []
        self._ids = itertools.count(1)

    def __len__(self) -> int:
        return len(self._runs)

    def __iter__(self):
        return iter(self._runs)

    def __getitem__(self, index: int) -> RunRecord:
        return self._runs[index]

    def unique_name(self, wanted: str, exclude: RunRecord | None = None) -> str:
        """``wanted``, or ``wanted (2)``, ``(3)``... if another run already has that name."""
        taken = {r.name for r in self._runs if r is not exclude}
        name, n = wanted, 2
        while name in taken:
            name, n = f"{wanted} ({n})", n + 1
        return name

    def add(self, config: TrainConfig, history: Sequence[EpochReport] = (), net=None, duration: float = 0.0,
            status: str = "finished", message: str = "", name: str | None = None) -> RunRecord:
        if status not in STATUSES:
            raise ValueError(f"unknown run status {status!r}; valid values are {', '.join(STATUSES)}")
        run_id = next(self._ids)
        wanted = (name or config.name or f"run {run_id}").strip() or f"run {run_id}"
        record = RunRecord(run_id, self.unique_name(wanted), config, list(history), net, float(duration), status, message)
        self._runs.append(record)
        return record

    def add_result(self, result: RunResult) -> RunRecord:
        return self.add(result.config, result.history, result.net, result.duration, result.status, result.message)

    def get(self, key_or_id) -> RunRecord:
        for r in self._runs:
            if r.id == key_or_id or r.key == key_or_id:
                return r
        raise KeyError(f"no run {key_or_id!r}")

    def rename(self, record: RunRecord, name: str) -> str:
        """Rename ``record``; returns the name actually given (made unique, never empty)."""
        name = name.strip()
        if not name:
            raise ValueError("a run name cannot be empty")
        record.name = self.unique_name(name, exclude=record)
        return record.name

    def remove(self, record: RunRecord) -> None:
        self._runs.remove(record)


def history_from_meta(meta: dict) -> list[EpochReport]:
    """The epoch history stored in a saved model's ``meta`` (``[]`` when absent or unreadable)."""
    out = []
    for h in meta.get("history", []) or []:
        try:
            h = dict(h)
            h["changed"] = tuple(h.get("changed", ()))
            h["hyperparameters"] = MappingProxyType(dict(h.get("hyperparameters", {})))
            out.append(EpochReport(**h))
        except TypeError:
            # A history written by another version of the engine: the model is still usable,
            # only its curves are not, so drop them rather than refuse the file.
            return []
    return out


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(v)
    return str(v)


def histories_csv(records: Iterable[RunRecord]) -> str:
    """CSV text with one row per run per epoch; the header is :data:`CSV_FIELDS`.

    Missing values (no validation split, no training-set evaluation) are empty cells.
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for rec in records:
        summary = rec.config.summary()
        for r in rec.history:
            w.writerow([
                rec.name, rec.status, r.epoch, _fmt(r.train_loss), _fmt(r.train_acc), _fmt(r.val_loss),
                _fmt(r.val_acc), _fmt(r.test_loss), _fmt(r.test_acc), _fmt(r.lr), _fmt(r.train_seconds),
                _fmt(r.eval_seconds), summary,
            ])
    return buf.getvalue()


def write_histories_csv(records: Iterable[RunRecord], path) -> None:
    """Write :func:`histories_csv` to ``path`` atomically (a crash never leaves half a file)."""
    data = histories_csv(records).encode("utf-8")
    atomic_write(path, lambda f: f.write(data))


# -- sweeps -------------------------------------------------------------------------------------

def _float(text: str) -> float:
    return float(text)


def _int(text: str) -> int:
    v = float(text)
    if not v.is_integer():
        raise ValueError(f"{text!r} is not a whole number")
    return int(v)


def _layers(text: str) -> tuple[int, ...]:
    # "256-128" -> (256, 128); "0" / "none" -> () (softmax regression)
    if text.lower() in ("0", "none", "()", "-"):
        return ()
    return tuple(_int(p) for p in text.replace("x", "-").split("-") if p.strip())


def _with_hidden(cfg: TrainConfig, hidden: tuple[int, ...]) -> TrainConfig:
    # Keep the dropout rates when the depth is unchanged; otherwise no dropout (a rate per
    # layer cannot be guessed for a different depth).
    dropout = cfg.dropout if len(cfg.dropout) == len(hidden) else (0.0,) * len(hidden)
    return cfg.replace(hidden=hidden, dropout=dropout)


def _with_width(cfg: TrainConfig, width: int) -> TrainConfig:
    if not cfg.hidden:
        raise ValueError("the base configuration has no hidden layer to resize; add one in the Train tab")
    return cfg.replace(hidden=(width,) * len(cfg.hidden))


def _with_dropout(cfg: TrainConfig, rate: float) -> TrainConfig:
    if not cfg.hidden:
        raise ValueError("dropout applies to hidden layers and the base configuration has none")
    return cfg.replace(dropout=(rate,) * len(cfg.hidden))


def _choice(options: Sequence[str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(f"{text!r} is not one of {', '.join(options)}")
        return text
    return parse


def _sweep_parameters() -> dict[str, tuple[str, Callable[[str], object], Callable[[TrainConfig, object], TrainConfig], str]]:
    from mlp_engine import ACTIVATIONS, OPTIMIZERS, PREPROCESSING

    def field_(name):
        return lambda cfg, v: cfg.replace(**{name: v})

    return {
        "lr": ("learning rate", _float, field_("lr"), "0.001, 0.01, 0.05"),
        "batch_size": ("batch size", _int, field_("batch_size"), "32, 128, 512"),
        "momentum": ("momentum", _float, field_("momentum"), "0, 0.5, 0.9"),
        "weight_decay": ("weight decay", _float, field_("weight_decay"), "0, 1e-4, 1e-3"),
        "hidden_width": ("hidden size (every layer)", _int, _with_width, "64, 128, 256"),
        "hidden": ("hidden layers", _layers, _with_hidden, "none, 128, 256-128"),
        "dropout": ("dropout (every layer)", _float, _with_dropout, "0, 0.2, 0.5"),
        "epochs": ("epochs", _int, field_("epochs"), "5, 10, 20"),
        "optimizer": ("optimizer", _choice(tuple(OPTIMIZERS)), field_("optimizer"), "sgd, momentum, rmsprop"),
        "activation": ("activation", _choice(tuple(ACTIVATIONS)), field_("activation"), "relu, tanh, sigmoid"),
        "preprocess": ("preprocessing", _choice(PREPROCESSING), field_("preprocess"), "none, log"),
        "gamma": ("RMSProp gamma", _float, field_("gamma"), "0.9, 0.99"),
        "label_smoothing": ("label smoothing", _float, field_("label_smoothing"), "0, 0.1"),
        "seed": ("seed", _int, field_("seed"), "0, 1, 2"),
    }


SWEEP_PARAMETERS = _sweep_parameters()


def sweep_configs(base: TrainConfig, parameter: str, text: str) -> list[TrainConfig]:
    """One configuration per comma-separated value of ``parameter``, each named after it.

    Raises ``ValueError`` naming the bad value and the rule (the engine's validation message
    for out-of-range numbers), so the Compare tab can show it as typed.

    Examples
    --------
    >>> [c.lr for c in sweep_configs(TrainConfig(), "lr", "0.001, 0.01")]
    [0.001, 0.01]
    """
    if parameter not in SWEEP_PARAMETERS:
        raise ValueError(f"cannot sweep {parameter!r}; choose one of {', '.join(SWEEP_PARAMETERS)}")
    label, parse, apply, _example = SWEEP_PARAMETERS[parameter]
    items = [t.strip() for t in text.split(",")]
    if not any(items):
        raise ValueError(f"enter the values of {label} to try, separated by commas (e.g. {_example})")
    configs = []
    for item in items:
        if not item:
            raise ValueError(f"empty value in the list {text!r}; separate values with single commas")
        try:
            value = parse(item)
            cfg = apply(base, value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{label} = {item}: {exc}") from None
        configs.append(cfg.replace(name=f"{parameter}={item}"))
    return configs
