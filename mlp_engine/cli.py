"""The ``mlp-engine`` command line (also ``python -m mlp_engine``).

Subcommands::

    mlp-engine train     [--preset NAME] [hyperparameter options] [--save PATH] [--json]
    mlp-engine evaluate  --model PATH [--dataset NAME] [--json]
    mlp-engine classify  --model PATH|mnist|fashion-mnist IMAGE... [--json]
    mlp-engine reproduce [--out DIR] [--quick]
    mlp-engine datasets  [list | download NAME [--dest DIR]]

This module and :mod:`mlp_engine.report` are the only places of the engine that print. Every
expected failure (missing data, corrupt file, invalid hyperparameter, divergence, unreadable
image ...) ends as a one-paragraph message on stderr and a non-zero exit code: 2 for a wrong
command line (argparse errors and values the configuration rejects), 1 for everything else,
130 after Ctrl-C. Nothing is ever written half-way: models are saved once, at the end,
atomically.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from .config import PRESETS, TrainConfig
from .data import (
    DATASET_NAMES,
    DataFileError,
    DatasetNotFoundError,
    DownloadError,
    load_dataset,
    locate_dataset,
    search_dirs,
    synthetic_dataset,
)
from .serialization import ModelFileError

PROG = "mlp-engine"
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# Size of the generated stand-in used by ``--dataset synthetic`` (quick tries without data).
SYNTHETIC_SIZE = (6000, 1000)


class CLIError(Exception):
    """An expected failure: ``message`` goes to stderr, ``code`` becomes the exit status."""

    def __init__(self, message: str, code: int = EXIT_ERROR):
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------------------------
# Output helpers
# --------------------------------------------------------------------------------------------


def _err(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def _out(text: str = "") -> None:
    print(text, flush=True)


class ProgressBar:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal.

    Redraws at most ten times a second: writing to a terminal after every one of 469 batches
    would cost more than the batches themselves on a slow console.
    """

    def __init__(self, stream=None, width: int = 30, min_interval: float = 0.1):
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.width = width
        self.min_interval = min_interval
        self._last = 0.0
        self._shown = False

    def update(self, fraction: float, prefix: str = "", suffix: str = "", force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.min_interval:
            return
        self._last = now
        fraction = min(max(fraction, 0.0), 1.0)
        filled = int(round(fraction * self.width))
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{prefix} [{bar}] {fraction * 100:3.0f}% {suffix}\x1b[K")
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False


def _fmt(value, spec: str = ".4f") -> str:
    return "-" if value is None else format(value, spec)


# --------------------------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------------------------

# (option, TrainConfig field, argparse kwargs). Every option defaults to None so that we can
# tell which ones were given explicitly: only those override the preset.
_TRAIN_OPTIONS: list[tuple[str, str, dict]] = [
    ("--dataset", "dataset", dict(choices=DATASET_NAMES + ("synthetic",),
                                  help="data set; 'synthetic' is a small generated stand-in for quick tries")),
    ("--hidden", "hidden", dict(type=int, nargs="*", metavar="N",
                                help="hidden layer sizes, e.g. --hidden 256 128; --hidden alone = softmax regression")),
    ("--activation", "activation", dict(choices=None, help="hidden-layer activation")),
    ("--dropout", "dropout", dict(type=float, nargs="*", metavar="RATE",
                                  help="one dropout rate per hidden layer, e.g. --dropout 0.2 0.5")),
    ("--input-dropout", "input_dropout", dict(type=float, metavar="RATE", help="dropout rate on the input pixels")),
    ("--optimizer", "optimizer", dict(choices=None, help="update rule")),
    ("--lr", "lr", dict(type=float, help="learning rate for the mean-reduced loss (paper's summed rate x batch size)")),
    ("--momentum", "momentum", dict(type=float, help="momentum coefficient beta (momentum, nesterov)")),
    ("--gamma", "gamma", dict(type=float, help="RMSProp decay of the squared-gradient average")),
    ("--beta1", "beta1", dict(type=float, help="Adam first-moment decay")),
    ("--beta2", "beta2", dict(type=float, help="Adam second-moment decay")),
    ("--eps", "eps", dict(type=float, help="RMSProp / Adam epsilon")),
    ("--weight-decay", "weight_decay", dict(type=float, metavar="LAMBDA", help="L2 coefficient on the weights (not biases)")),
    ("--max-norm", "max_norm", dict(type=float, help="max-norm constraint on incoming weights (0 = off)")),
    ("--label-smoothing", "label_smoothing", dict(type=float, help="label smoothing of the training loss")),
    ("--batch-size", "batch_size", dict(type=int, help="mini-batch size")),
    ("--epochs", "epochs", dict(type=int, help="number of passes over the training set")),
    ("--preprocess", "preprocess", dict(choices=None, help="input features: none (0..255), scale (/255), log (ln(x+1), the paper's), standardize")),
    ("--schedule", "schedule", dict(choices=None, help="learning-rate schedule")),
    ("--step-size", "step_size", dict(type=int, help="epochs between decays of the step schedule")),
    ("--step-gamma", "step_gamma", dict(type=float, help="factor applied by the step schedule")),
    ("--warmup-epochs", "warmup_epochs", dict(type=float, help="linear learning-rate warm-up, in epochs")),
    ("--min-lr-ratio", "min_lr_ratio", dict(type=float, help="final learning rate of the cosine schedule, relative")),
    ("--augment", "augment", dict(choices=None, help="data augmentation of the training images")),
    ("--augment-shift", "augment_shift", dict(type=float, metavar="PIXELS", help="largest random shift")),
    ("--augment-rotate", "augment_rotate", dict(type=float, metavar="DEGREES", help="largest random rotation (affine)")),
    ("--augment-scale", "augment_scale", dict(type=float, metavar="FRACTION", help="largest random scaling (affine)")),
    ("--augment-flip", "augment_flip", dict(action=argparse.BooleanOptionalAction,
                                             help="random left-right flips (garments; not for digits)")),
    ("--seed", "seed", dict(type=int, help="seed of all randomness (initialisation, shuffling, dropout)")),
    ("--val-split", "val_split", dict(type=float, metavar="FRACTION", help="fraction of the training set held out for validation")),
    ("--name", "name", dict(help="a name for the run, stored with the model")),
]


def _option_choices() -> dict[str, tuple[str, ...]]:
    from .activations import ACTIVATIONS
    from .config import AUGMENTATIONS
    from .optimizers import OPTIMIZERS
    from .preprocessing import PREPROCESSING
    from .schedules import SCHEDULES

    return {
        "activation": tuple(ACTIVATIONS),
        "optimizer": tuple(OPTIMIZERS),
        "preprocess": tuple(PREPROCESSING),
        "schedule": tuple(SCHEDULES),
        "augment": tuple(AUGMENTATIONS),
    }


def _add_train_parser(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a model and print one line per epoch",
        description=(
            "Train the MLP. Start from --preset NAME (see --list-presets) or from the defaults; every option "
            "given explicitly overrides the preset's value. Learning rates and weight decay are for a loss "
            "averaged over the batch (the paper's summed-gradient rates times the batch size)."
        ),
    )
    p.add_argument("--preset", choices=list(PRESETS), metavar="NAME",
                   help="start from a named configuration: " + ", ".join(PRESETS))
    p.add_argument("--list-presets", action="store_true", help="list the presets and exit")
    p.add_argument("--data-dir", metavar="DIR", help="directory holding the IDX files (searched first)")
    choices = _option_choices()
    for option, field, kwargs in _TRAIN_OPTIONS:
        kwargs = dict(kwargs)
        if "choices" in kwargs and kwargs["choices"] is None:
            kwargs["choices"] = choices[field]
        p.add_argument(option, dest=field, default=None, **kwargs)
    p.add_argument("--no-eval-train", dest="eval_train", action="store_const", const=False, default=None,
                   help="skip measuring accuracy on the whole training set after each epoch (faster)")
    p.add_argument("--save", metavar="PATH", help="save the trained model (.npz) here, atomically, at the end")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object per epoch on stdout, then a final object with \"final\": true")
    p.set_defaults(func=cmd_train)


def build_config(args: argparse.Namespace) -> TrainConfig:
    """The :class:`TrainConfig` of a ``train`` command line: the preset, then explicit options.

    Raises :class:`CLIError` (usage) when the configuration rejects a value.
    """
    base = PRESETS[args.preset][1] if args.preset else TrainConfig()
    overrides = {}
    for _, field, _ in _TRAIN_OPTIONS:
        value = getattr(args, field)
        if value is not None:
            overrides[field] = tuple(value) if isinstance(value, list) else value
    if args.eval_train is not None:
        overrides["eval_train"] = args.eval_train
    # A new architecture without new dropout rates gets no dropout rather than an error about
    # rates for layers that no longer exist.
    if "hidden" in overrides and "dropout" not in overrides and len(base.dropout) != len(overrides["hidden"]):
        overrides["dropout"] = None
    args.overridden = sorted(k for k in overrides if getattr(args, k, None) is not None)  # for the header line
    try:
        return base.replace(**overrides)
    except (TypeError, ValueError) as exc:
        raise CLIError(f"invalid training configuration: {exc}", EXIT_USAGE) from None


def load_data(name: str, data_dir=None):
    """Load a data set by name (``synthetic`` generates one); errors are the engine's."""
    if name == "synthetic":
        return synthetic_dataset(*SYNTHETIC_SIZE)
    return load_dataset(name, data_dir)


def _epoch_json(report, train_set_loss) -> dict:
    return {
        "epoch": report.epoch,
        "epochs": report.epochs,
        "train_loss": report.train_loss,
        "train_set_loss": train_set_loss,
        "train_acc": report.train_acc,
        "val_loss": report.val_loss,
        "val_acc": report.val_acc,
        "test_loss": report.test_loss,
        "test_acc": report.test_acc,
        "lr": report.lr,
        "train_seconds": round(report.train_seconds, 4),
        "eval_seconds": round(report.eval_seconds, 4),
    }


def _list_presets() -> int:
    width = max(map(len, PRESETS))
    for name, (description, config) in PRESETS.items():
        _out(f"{name:<{width}}  {description}")
        _out(f"{'':<{width}}  {config.dataset}: {config.summary()}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    if args.list_presets:
        return _list_presets()
    from .training import EpochReport, Trainer, TrainingDiverged

    config = build_config(args)
    data = load_data(config.dataset, args.data_dir)
    try:
        trainer = Trainer(config, data)
    except ValueError as exc:  # e.g. a batch larger than the training set
        raise CLIError(f"cannot train on {config.dataset}: {exc}") from None
    save_path = Path(args.save).expanduser() if args.save else None
    if save_path is not None and save_path.is_dir():
        raise CLIError(f"--save {save_path} is a directory; give a file name such as {save_path / 'model.npz'}", EXIT_USAGE)

    net = trainer.net
    human = not args.json
    with_val = config.val_split > 0
    if human:
        where = f" from {data.source}" if data.source else ""
        origin = f"preset {args.preset}" if args.preset else "defaults"
        if args.overridden:
            origin += " with " + ", ".join(f"--{k.replace('_', '-')}" for k in args.overridden)
        _out(f"{origin}: {config.summary()}")
        _out(f"data: {data.name}, {len(trainer.y_train)} training / "
             f"{0 if data.X_test is None else len(data.X_test)} test images{where}")
        # The paper's table: train loss and accuracy over the whole training set after the epoch.
        # The mean of the epoch's batch losses (what the trainer reports) follows as "batch loss".
        header = f"{'epoch':>5}  {'train loss':>10}  {'train acc':>9}  " + (f"{'val acc':>8}  " if with_val else "")
        _out(header + f"{'test acc':>8}  {'batch loss':>10}  {'lr':>9}  {'train s':>7}")

    bar = ProgressBar()
    last = None
    start = time.perf_counter()
    try:
        for report in trainer.run():
            if isinstance(report, EpochReport):
                bar.clear()
                last = report
                last_set_loss = report.train_set_loss
                if human:
                    line = f"{report.epoch:>5}  {_fmt(last_set_loss):>10}  {_fmt(report.train_acc, '.4f'):>9}  "
                    if with_val:
                        line += f"{_fmt(report.val_acc):>8}  "
                    _out(line + f"{_fmt(report.test_acc):>8}  {report.train_loss:>10.4f}  {report.lr:>9.3g}  "
                         f"{report.train_seconds:>7.1f}")
                else:
                    _out(json.dumps(_epoch_json(report, last_set_loss)))
            else:
                bar.update(report.progress - report.epoch, prefix=f"epoch {report.epoch}/{config.epochs - 1}",
                           suffix=f"loss {report.loss:.4f}")
    except KeyboardInterrupt:
        trainer.stop()
        bar.clear()
        done = len(trainer.history)
        _err(f"interrupted by Ctrl-C after {done} complete epoch(s) of {config.epochs}; "
             + ("the model was NOT saved (--save writes only a finished run)." if save_path else "nothing was saved."))
        return EXIT_INTERRUPTED
    except TrainingDiverged as exc:
        bar.clear()
        message = str(exc)
        if save_path is not None and trainer.history:
            net.save(save_path)
            message += (f" The last good model (end of epoch {trainer.history[-1].epoch}) was saved to {save_path}.")
        elif save_path is not None:
            message += f" Nothing was saved to {save_path}: no epoch finished before the divergence."
        raise CLIError(message) from None

    total = time.perf_counter() - start
    if save_path is not None:
        try:
            net.save(save_path)
        except OSError as exc:
            raise CLIError(f"could not save the model to {save_path}: {exc}") from None
    if human:
        train_s = sum(r.train_seconds for r in trainer.history)
        _out(f"done in {total:.1f} s ({train_s:.1f} s training): test accuracy {_fmt(last.test_acc)}"
             + (f"; model saved to {save_path}" if save_path else ""))
    else:
        final = _epoch_json(last, last_set_loss)
        final.update(final=True, total_seconds=round(total, 3), saved=str(save_path) if save_path else None,
                     config=config.to_dict())
        _out(json.dumps(final))
    return 0


# --------------------------------------------------------------------------------------------
# evaluate
# --------------------------------------------------------------------------------------------


def _add_evaluate_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="accuracy, per-class table, confusion matrix and AUC of a saved model",
                       description="Evaluate a saved model on the test split of a data set.")
    p.add_argument("--model", required=True, metavar="PATH", help="model file (.npz) saved by train --save or the GUI")
    p.add_argument("--dataset", choices=DATASET_NAMES + ("synthetic",),
                   help="data set to evaluate on (default: the one the model was trained on)")
    p.add_argument("--data-dir", metavar="DIR", help="directory holding the IDX files (searched first)")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object")
    p.set_defaults(func=cmd_evaluate)


def _load_model_file(path, n_inputs=None, n_classes=None):
    from .serialization import load_model

    try:
        return load_model(path, expect_inputs=n_inputs, expect_classes=n_classes)
    except FileNotFoundError:
        raise CLIError(f"model file {path} does not exist; train one with `{PROG} train --save {path}`") from None
    except IsADirectoryError:
        raise CLIError(f"model path {path} is a directory, not a model file (.npz)") from None


def cmd_evaluate(args: argparse.Namespace) -> int:
    net = _load_model_file(args.model)
    name = args.dataset or net.meta.get("dataset")
    if name not in DATASET_NAMES + ("synthetic",):
        raise CLIError(f"{args.model} does not record which data set it was trained on; pass --dataset "
                       f"({', '.join(DATASET_NAMES)})", EXIT_USAGE)
    data = load_data(name, args.data_dir)
    trained_on = net.meta.get("dataset")
    if trained_on and trained_on != name:
        _err(f"note: {args.model} was trained on {trained_on}, evaluating it on {name}")
    if net.n_inputs != data.X_test.shape[1] or net.n_classes != data.n_classes:
        raise CLIError(f"{args.model} takes {net.n_inputs} inputs and predicts {net.n_classes} classes; "
                       f"{name} has {data.X_test.shape[1]} inputs and {data.n_classes} classes")
    from . import metrics

    proba = net.predict_proba(data.X_test, preprocessed=False)
    y = data.y_test
    pred = proba.argmax(axis=1)
    cm = metrics.confusion_matrix(y, pred, data.n_classes)
    precision, recall, f1, support = metrics.precision_recall_f1(cm)
    per_class_auc, macro_auc = metrics.roc_auc_all(y, proba)
    acc = metrics.accuracy(y, pred)
    names = list(data.class_names)
    if args.json:
        _out(json.dumps({
            "model": str(args.model), "dataset": name, "n": int(len(y)), "accuracy": float(acc),
            "macro_auc": float(macro_auc),
            "classes": [
                {"label": i, "class": names[i], "precision": float(precision[i]), "recall": float(recall[i]),
                 "f1": float(f1[i]), "support": int(support[i]), "auc": float(per_class_auc[i])}
                for i in range(len(names))
            ],
            "confusion_matrix": np.asarray(cm).astype(int).tolist(),
        }))
        return 0
    _out(f"model {args.model} ({'-'.join(map(str, net.layer_sizes))}, {net.activation}) on the {name} test set "
         f"({len(y)} images)")
    _out(f"accuracy {acc:.4f}   macro AUC {macro_auc:.4f}")
    _out()
    w = max(12, max(map(len, names)))
    _out(f"{'label':>5}  {'class':<{w}}  {'precision':>9}  {'recall':>6}  {'f1':>6}  {'AUC':>6}  {'support':>7}")
    for i, cls in enumerate(names):
        _out(f"{i:>5}  {cls:<{w}}  {precision[i]:>9.4f}  {recall[i]:>6.4f}  {f1[i]:>6.4f}  "
             f"{per_class_auc[i]:>6.4f}  {int(support[i]):>7}")
    _out()
    _out("confusion matrix (rows: true label, columns: predicted label)")
    cm = np.asarray(cm).astype(int)
    cw = max(5, len(str(cm.max())) + 1)
    _out(" " * 6 + "".join(f"{j:>{cw}}" for j in range(len(names))))
    for i, row in enumerate(cm):
        _out(f"{i:>5} " + "".join(f"{v:>{cw}}" for v in row))
    return 0


# --------------------------------------------------------------------------------------------
# classify
# --------------------------------------------------------------------------------------------


def _add_classify_parser(sub) -> None:
    p = sub.add_parser(
        "classify", help="classify image files (drawings, photos, scans) with a model",
        description=("Classify image files. Each image is converted the way MNIST was made (ink cropped, scaled "
                     "to 20 px, centred by its centre of mass; dark-on-light images are inverted), then run "
                     "through the model."))
    p.add_argument("--model", required=True, metavar="PATH|mnist|fashion-mnist",
                   help="a model file, or 'mnist' / 'fashion-mnist' for the bundled models")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG, ...)")
    p.add_argument("--top", type=int, default=3, metavar="K", help="how many of the most likely classes to list (default 3)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON list of objects with path, label, class, probabilities")
    p.set_defaults(func=cmd_classify)


def resolve_model_path(spec: str) -> Path:
    """``mnist`` / ``fashion-mnist`` name the bundled models; anything else is a path."""
    if spec in DATASET_NAMES and not Path(spec).exists():
        from mlp_studio_resources import resource_path

        path = resource_path("models", spec + ".npz")
        if not path.is_file():
            raise CLIError(f"no bundled model {spec!r} (expected {path}); run `make models` or pass --model PATH")
        return path
    return Path(spec).expanduser()


def _read_image(path: str):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            return img.copy()
    except FileNotFoundError:
        raise CLIError(f"image {path} does not exist") from None
    except IsADirectoryError:
        raise CLIError(f"image path {path} is a directory, not an image file") from None
    except UnidentifiedImageError:
        raise CLIError(f"cannot read image {path}: not an image format Pillow recognises (PNG, JPEG, BMP, ...)") from None
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or damaged files
        raise CLIError(f"cannot read image {path}: {exc}") from None


def cmd_classify(args: argparse.Namespace) -> int:
    from .imaging import EmptyDrawingError, to_mnist

    if args.top < 1:
        raise CLIError(f"--top must be at least 1, got {args.top}", EXIT_USAGE)
    path = resolve_model_path(args.model)
    net = _load_model_file(path, n_inputs=28 * 28)
    # Convert every image before printing anything, so a bad file in the list leaves no
    # half-printed result behind.
    inputs = []
    for image_path in args.images:
        img = _read_image(image_path)
        try:
            inputs.append(to_mnist(img).reshape(1, -1))
        except EmptyDrawingError:
            raise CLIError(f"image {image_path} is empty: it holds no ink (one uniform colour); draw or scan a digit") from None
        except ValueError as exc:
            raise CLIError(f"cannot use image {image_path}: {exc}") from None
    # to_mnist gives ink in [0, 1]; the model expects raw 0..255 pixels and applies its own
    # preprocessing (ln(x+1) for the paper's models) exactly as in training.
    proba = net.predict_proba(np.concatenate(inputs) * 255.0, preprocessed=False)
    results = []
    for image_path, p in zip(args.images, proba):
        label = int(np.argmax(p))
        results.append({"path": image_path, "label": label, "class": net.class_names[label],
                        "probabilities": [round(float(v), 6) for v in p]})
    if args.json:
        _out(json.dumps(results))
        return 0
    k = min(args.top, net.n_classes)
    for r in results:
        order = np.argsort(r["probabilities"])[::-1][:k]
        others = ", ".join(f"{net.class_names[i]} {r['probabilities'][i]:.3f}" for i in order)
        _out(f"{r['path']}: {r['label']} ({r['class']})   [{others}]")
    return 0


# --------------------------------------------------------------------------------------------
# reproduce
# --------------------------------------------------------------------------------------------


def _add_reproduce_parser(sub) -> None:
    p = sub.add_parser(
        "reproduce", help="run every experiment of the paper and write report.md with figures",
        description=("Run the paper's experiments (features, batch size, optimizers, weight decay, dropout, "
                     "softmax regression, ROC, MNIST transfer) and write DIR/report.md plus PNG figures, each "
                     "table beside the paper's numbers. The full run took 36 minutes on a busy 2-core machine."))
    p.add_argument("--out", default="reports/paper", metavar="DIR", help="output directory (default reports/paper)")
    p.add_argument("--quick", action="store_true",
                   help="a minutes-long smoke run: 2 epochs per experiment on a 10k-image subset")
    p.add_argument("--data-dir", "--dataset-dir", dest="data_dir", metavar="DIR",
                   help="directory holding the IDX files (searched first)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run in the same --out: finished runs are reused")
    p.add_argument("--render-only", action="store_true",
                   help="rebuild report.md and the figures from DIR/results.json of an earlier run, without training")
    p.set_defaults(func=cmd_reproduce)


def cmd_reproduce(args: argparse.Namespace) -> int:
    from .report import reproduce

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        result = reproduce(args.out, quick=args.quick, data_dir=args.data_dir, progress=progress,
                           render_only=args.render_only, resume=args.resume)
    except KeyboardInterrupt:
        _err(f"interrupted by Ctrl-C; the finished runs are kept in {Path(args.out) / 'results.partial.json'}: "
             f"continue with `{PROG} reproduce --out {args.out} --resume`")
        return EXIT_INTERRUPTED
    _out(f"report written to {result}")
    return 0


# --------------------------------------------------------------------------------------------
# datasets
# --------------------------------------------------------------------------------------------


def _add_datasets_parser(sub) -> None:
    p = sub.add_parser("datasets", help="show where the data sets are, or download one",
                       description="Without an action: list where each data set was found (or where it was looked for).")
    p.add_argument("--data-dir", metavar="DIR", help="directory to search first")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("list", help="where each data set was found (the default)")
    d = actions.add_parser("download", help="download a data set (verified by checksum)")
    d.add_argument("name", choices=DATASET_NAMES, help="data set to download")
    d.add_argument("--dest", metavar="DIR", help="target directory (default: the per-user data directory)")
    p.set_defaults(func=cmd_datasets)


def cmd_datasets(args: argparse.Namespace) -> int:
    if args.action == "download":
        return _download(args.name, args.dest)
    for name in DATASET_NAMES:
        found = locate_dataset(name, args.data_dir)
        if found is not None:
            _out(f"{name}: found in {found}")
        else:
            _out(f"{name}: not found; searched:")
            for d in search_dirs(name, args.data_dir):
                _out(f"    {d}")
            _out(f"  get it with `{PROG} datasets download {name}` or set MLP_STUDIO_DATA")
    return 0


def _download(name: str, dest) -> int:
    from .data import download_dataset

    bar = ProgressBar()
    finished = set()

    def progress(file_name, done, total):
        if total:
            bar.update(done / total, prefix=f"{file_name:<28}", suffix=f"{done / 1e6:6.1f}/{total / 1e6:.1f} MB",
                       force=done >= total)
        if total and done >= total and file_name not in finished:
            finished.add(file_name)
            bar.clear()
            _out(f"{file_name}: {done / 1e6:.1f} MB ok")

    try:
        path = download_dataset(name, dest=dest, progress=progress)
    except KeyboardInterrupt:
        bar.clear()
        _err("download interrupted by Ctrl-C; no partial file was kept")
        return EXIT_INTERRUPTED
    bar.clear()
    _out(f"{name} is in {path}")
    return 0


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors as ``mlp-engine train: error: ...`` plus a hint, exit 2."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\nRun `{self.prog} --help` for the options.\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Train, evaluate and use the paper's NumPy multilayer perceptron on MNIST / Fashion-MNIST.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    _add_train_parser(sub)
    _add_evaluate_parser(sub)
    _add_classify_parser(sub)
    _add_reproduce_parser(sub)
    _add_datasets_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    from .training import TrainingDiverged

    try:
        # Overflow on the way to a divergence is detected and reported by the trainer
        # (TrainingDiverged); NumPy's RuntimeWarnings would only repeat it less clearly.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return args.func(args)
    except CLIError as exc:
        _err(str(exc))
        return exc.code
    except KeyboardInterrupt:
        _err("interrupted by Ctrl-C")
        return EXIT_INTERRUPTED
    except (DatasetNotFoundError, DataFileError, DownloadError, ModelFileError, TrainingDiverged) as exc:
        _err(str(exc))
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away; that is not an error of ours.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except (ValueError, OSError) as exc:
        _err(f"{type(exc).__name__}: {exc}")
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
