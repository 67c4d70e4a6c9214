"""Training configuration: one frozen, validated dataclass, and the named presets.

Learning rates are for a *mean*-reduced loss (the gradient is averaged over the batch). The
paper says its rates were for gradients summed over the batch, which would make its rates
128x larger here; measured, that reading does not reproduce its curves, while its printed
rates used directly do. The comment above ``PRESETS`` gives the evidence and
``docs/paper-reproduction/report.md`` every number.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from .activations import ACTIVATIONS
from .optimizers import OPTIMIZERS
from .preprocessing import PREPROCESSING
from .schedules import SCHEDULES

DATASETS = ("fashion-mnist", "mnist")
AUGMENTATIONS = ("none", "shift", "affine")


def _num(name, value, low, high, integer=False, low_open=False):
    kind = int if integer else float
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not float(value).is_integer()):
        raise TypeError(f"{name} must be {'an integer' if integer else 'a number'}, got {value!r}")
    v = kind(value)
    if not math.isfinite(v) or (v <= low if low_open else v < low) or v > high:
        lo = "(" if low_open else "["
        raise ValueError(f"invalid {name}: {value!r}; it must be in {lo}{low}, {high}]")
    return v


def _choice(name, value, options):
    if value not in options:
        raise ValueError(f"unknown {name} {value!r}; valid values are {', '.join(options)}")
    return value


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of a training run. Validated on creation; change with :meth:`replace`."""

    dataset: str = "fashion-mnist"
    hidden: tuple[int, ...] = (256, 128)
    activation: str = "relu"
    dropout: tuple[float, ...] | None = None  # one rate per hidden layer; None -> all 0
    input_dropout: float = 0.0
    optimizer: str = "momentum"
    lr: float = 0.01
    momentum: float = 0.9
    gamma: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    max_norm: float = 0.0
    label_smoothing: float = 0.0
    batch_size: int = 128
    epochs: int = 10
    preprocess: str = "log"
    schedule: str = "constant"
    step_size: int = 10
    step_gamma: float = 0.1
    warmup_epochs: float = 0.0
    min_lr_ratio: float = 0.0
    augment: str = "none"
    augment_shift: float = 2.0      # pixels, max random translation
    augment_rotate: float = 10.0    # degrees (affine only)
    augment_scale: float = 0.1      # relative (affine only)
    augment_flip: bool = False      # mirror half the images left-right (garments, not digits)
    seed: int = 0
    val_split: float = 0.0
    eval_train: bool = True         # evaluate accuracy on the whole training set after each epoch
    name: str = field(default="", compare=False)

    def __post_init__(self):
        hidden = tuple(int(_num("hidden layer size", h, 1, 16384, integer=True)) for h in self.hidden)
        object.__setattr__(self, "hidden", hidden)
        dropout = (0.0,) * len(hidden) if self.dropout is None else tuple(float(d) for d in self.dropout)
        if len(dropout) != len(hidden):
            raise ValueError(
                f"dropout needs one rate per hidden layer: {len(hidden)} hidden layers, {len(dropout)} rates {dropout}"
            )
        for d in dropout:
            _num("dropout rate", d, 0.0, 0.95)
        object.__setattr__(self, "dropout", dropout)
        _choice("dataset", self.dataset, DATASETS + ("synthetic",))
        _choice("activation", self.activation, tuple(ACTIVATIONS))
        _choice("optimizer", self.optimizer, tuple(OPTIMIZERS))
        _choice("preprocessing", self.preprocess, PREPROCESSING)
        _choice("schedule", self.schedule, SCHEDULES)
        _choice("augmentation", self.augment, AUGMENTATIONS)
        _num("input_dropout", self.input_dropout, 0.0, 0.95)
        _num("learning rate (lr)", self.lr, 0.0, 10.0, low_open=True)
        _num("momentum", self.momentum, 0.0, 0.9999)
        _num("gamma", self.gamma, 0.0, 0.9999)
        _num("beta1", self.beta1, 0.0, 0.9999)
        _num("beta2", self.beta2, 0.0, 0.999999)
        _num("eps", self.eps, 0.0, 1.0, low_open=True)
        _num("weight_decay", self.weight_decay, 0.0, 1.0)
        _num("max_norm", self.max_norm, 0.0, 1e6)
        _num("label_smoothing", self.label_smoothing, 0.0, 0.5)
        _num("batch_size", self.batch_size, 1, 1_000_000, integer=True)
        _num("epochs", self.epochs, 1, 100_000, integer=True)
        _num("step_size", self.step_size, 1, 100_000, integer=True)
        _num("step_gamma", self.step_gamma, 0.0, 1.0, low_open=True)
        _num("warmup_epochs", self.warmup_epochs, 0.0, float(self.epochs))
        _num("min_lr_ratio", self.min_lr_ratio, 0.0, 1.0)
        _num("augment_shift", self.augment_shift, 0.0, 8.0)
        _num("augment_rotate", self.augment_rotate, 0.0, 45.0)
        _num("augment_scale", self.augment_scale, 0.0, 0.5)
        if not isinstance(self.augment_flip, bool):
            raise TypeError(f"augment_flip must be True or False, got {self.augment_flip!r}")
        _num("seed", self.seed, 0, 2**63 - 1, integer=True)
        _num("val_split", self.val_split, 0.0, 0.5)

    def replace(self, **changes) -> "TrainConfig":
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown configuration field(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def with_epochs(self, epochs: int) -> "TrainConfig":
        """The same configuration over ``epochs`` epochs (warm-up shortened to fit, if longer)."""
        return self.replace(epochs=epochs, warmup_epochs=min(self.warmup_epochs, epochs))

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        d["dropout"] = list(self.dropout)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown configuration field(s): {', '.join(sorted(unknown))}")
        d = dict(d)
        for key in ("hidden", "dropout"):
            if d.get(key) is not None:
                d[key] = tuple(d[key])
        return cls(**d)

    def summary(self) -> str:
        """One line for lists and legends, e.g. ``784-256-128-10 relu momentum lr=0.01 bs=128``."""
        arch = "-".join(map(str, ("in", *self.hidden, "out"))) if self.hidden else "softmax regression"
        parts = [arch, self.activation if self.hidden else "", f"{self.optimizer} lr={self.lr:g}"]
        if self.weight_decay:
            parts.append(f"wd={self.weight_decay:g}")
        if any(self.dropout):
            parts.append("dropout=" + "/".join(f"{d:g}" for d in self.dropout))
        parts += [f"bs={self.batch_size}", f"{self.epochs} ep", self.preprocess]
        return " ".join(p for p in parts if p)


_PAPER = dict(dataset="fashion-mnist", hidden=(256, 128), activation="relu", batch_size=128, epochs=10, preprocess="log")

# name -> (description, config), calibrated on the real Fashion-MNIST / MNIST by
# `mlp-engine reproduce` (docs/paper-reproduction/report.md has every number).
#
# How the paper's rates map onto this engine's mean-reduced loss: the paper says its rates
# (SGD 1.28e-3, momentum 0.8e-3) were for gradients summed over the batch, which would make the
# mean-loss rates 128x larger (0.164, 0.1024). Measured, that reading does not reproduce the
# paper: with ln(1+x) inputs SGD at 0.164 diverges in the first epoch and momentum at 0.1024
# falls to chance (10 % accuracy).
# The printed rates used directly as mean-loss rates reproduce the paper's per-epoch tables
# (epochs 0/3/6/9, train loss / train acc / test acc) to within about 1.5 points, and weight
# decay lambda = 0.01 at lr 0.8e-3 (the paper's per-step decay eta*lambda = 8e-6) reproduces its
# weight-decay table and its 86.7 % test accuracy. So the presets keep the printed values.
# RMSProp is scale-invariant, so its printed 8e-2 means the same under both readings, and it
# kills the network here (every ReLU dies: 10 % accuracy); 3e-3 is the rate whose curve is
# closest to the paper's RMSProp table.
# `paper` (the final model) is the one exception: at the paper's exact settings (preset
# `paper-weight-decay`) the final test accuracy is 86.7 % give or take the seed, so `paper` takes
# 5x the rate with the same per-step decay (lr 4e-3, lambda 2e-3: eta*lambda = 8e-6), which
# reaches 88 % on seeds 0, 1 and 2.
PRESETS: dict[str, tuple[str, TrainConfig]] = {}


def _preset(name: str, description: str, **kw) -> None:
    PRESETS[name] = (description, TrainConfig(name=name, **kw))


_MOMENTUM = dict(optimizer="momentum", lr=0.8e-3, momentum=0.9)  # the paper's rate, as a mean-loss rate
_DECAY = dict(_MOMENTUM, weight_decay=0.01)  # the paper's lambda at the paper's rate: eta*lambda = 8e-6

_preset("paper-sgd", "Paper, optimizer study: plain SGD at the paper's lr 1.28e-3 (read as a mean-loss rate: "
        "x128 diverges), log features, 784-256-128-10, batch 128, 10 epochs",
        **_PAPER, optimizer="sgd", lr=1.28e-3)
_preset("paper-momentum", "Paper, optimizer study: momentum 0.9 at the paper's lr 0.8e-3 (read as a mean-loss rate: "
        "x128 = 0.1024 falls to chance)", **_PAPER, **_MOMENTUM)
_preset("paper-rmsprop", "Paper, optimizer study: RMSProp gamma 0.9; lr 3e-3 matches the paper's curve (its printed "
        "8e-2 kills every ReLU here)", **_PAPER, optimizer="rmsprop", lr=3e-3, gamma=0.9)
_preset("paper-weight-decay", "Paper, weight-decay study: momentum lr 0.8e-3, lambda 0.01 (per-step decay 8e-6); "
        "reproduces the paper's table and its 86.7 %", **_PAPER, **_DECAY)
_preset("paper", "Paper's final model: log features, momentum, weight decay, 784-256-128-10, 10 epochs; lr 4e-3 with "
        "lambda 2e-3 keeps the paper's per-step decay 8e-6 and reaches >= 86.7 % on every seed",
        **_PAPER, optimizer="momentum", lr=4e-3, momentum=0.9, weight_decay=2e-3)
_preset("paper-softmax", "Paper's baseline: softmax regression (no hidden layer), the paper's optimizer settings "
        "(momentum lr 0.8e-3, lambda 0.01)", **{**_PAPER, "hidden": ()}, **_DECAY)
_preset("paper-raw", "Paper, feature study: raw pixels 0..255 instead of ln(x+1), momentum lr 0.8e-3, 5 epochs",
        **{**_PAPER, "preprocess": "none", "epochs": 5}, **_MOMENTUM)
_preset("paper-batch6000", "Paper, batch-size study: near full batch (6000), momentum lr 0.8e-3, 5 epochs",
        **{**_PAPER, "batch_size": 6000, "epochs": 5}, **_MOMENTUM)
_preset("paper-dropout", "Paper, dropout study: rates 0.05 / 0.1, 20 epochs, momentum lr 0.8e-3, lambda 0.01",
        **{**_PAPER, "epochs": 20}, dropout=(0.05, 0.1), **_DECAY)
_preset("paper-mnist", "Paper's network moved to MNIST: dropout 0.2 / 0.5, 20 epochs, momentum lr 0.8e-3, "
        "lambda 0.01", **{**_PAPER, "dataset": "mnist", "epochs": 20}, dropout=(0.2, 0.5), **_DECAY)


def preset(name: str) -> TrainConfig:
    try:
        return PRESETS[name][1]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; valid presets are {', '.join(PRESETS)}") from None


# -- Beyond the paper: the best plain MLPs found on a validation split (see README "Results").
# Chosen on a validation split of 10% carved from the training set; the test set is only
# evaluated, never used to pick anything. best-fashion, once chosen, trains on the whole
# training set (its validation experiments are listed in the README).
_preset(
    "best-mnist",
    "Best MNIST MLP: 784-1024-1024-10, dropout 0.3, Adam + cosine, label smoothing, affine augmentation (shifts, "
    "rotations, scales, stroke widths) so drawn digits are recognised too",
    dataset="mnist", hidden=(1024, 1024), dropout=(0.3, 0.3), optimizer="adam", lr=1e-3, schedule="cosine",
    warmup_epochs=1, epochs=30, augment="affine", augment_shift=2.0, augment_rotate=10.0, augment_scale=0.1,
    preprocess="scale", label_smoothing=0.05, val_split=0.1, eval_train=False,
)
_preset(
    "best-fashion",
    "Best Fashion-MNIST MLP: 784-1024-512-10, dropout 0.25, momentum + cosine over 100 epochs, label smoothing "
    "0.1, random 1-pixel shifts and left-right flips; trains on all 60,000 images",
    dataset="fashion-mnist", hidden=(1024, 512), dropout=(0.25, 0.25), optimizer="momentum", lr=0.05, momentum=0.9,
    schedule="cosine", warmup_epochs=1, epochs=100, augment="shift", augment_shift=1.0, augment_flip=True,
    preprocess="scale", label_smoothing=0.1, val_split=0.0, eval_train=False,
)
