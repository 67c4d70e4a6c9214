"""Save and load models as ``.npz``: weights, preprocessing, class names and JSON metadata.

Writes are atomic (temporary file in the same directory, then ``os.replace``), so a crash or a
full disk never leaves a half-written model where a good one was. Loading checks everything
and raises :class:`ModelFileError` naming the file and what is wrong.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from .fileio import atomic_write

FORMAT = "mlp-studio-model"
VERSION = 1


class ModelFileError(ValueError):
    """A model file that cannot be used: corrupt, of another format, or inconsistent."""




def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return obj


def save_model(net, path, optimizer_state: dict | None = None, half: bool = False) -> Path:
    """Save ``net`` (an :class:`~mlp_engine.network.MLP`) to ``path`` (``.npz``).

    ``optimizer_state`` (an optimizer's ``state_dict()``) is stored too when given, so that a
    saved run can resume training. ``half=True`` stores the weights as float16 (half the
    size, for the models bundled with the app; loading casts them back to the model's dtype).
    """
    arrays = {f"param_{i}": p.astype(np.float16) if half else p for i, p in enumerate(net.parameters())}
    pre = net.preprocessor
    if pre.mean is not None:
        arrays["preprocess_mean"] = pre.mean
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "network": net.config(),
        "preprocessing": pre.to_dict(),
        "class_names": list(net.class_names),
        "meta": net.meta,
    }
    if optimizer_state is not None:
        meta["optimizer"] = {k: v for k, v in optimizer_state.items() if k != "state"}
        for i, st in enumerate(optimizer_state["state"]):
            for key, arr in st.items():
                arrays[f"opt_{i}_{key}"] = arr
    arrays["meta_json"] = np.array(json.dumps(_jsonable(meta)))
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def read_model_file(path) -> tuple[dict, dict[str, np.ndarray]]:
    """The metadata and arrays of a model file, checked for format; raises ModelFileError."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as exc:
        raise ModelFileError(f"{path} is not a readable MLP Studio model (.npz): {exc}") from None
    if "meta_json" not in arrays:
        raise ModelFileError(f"{path} is an .npz file but not an MLP Studio model (no metadata)")
    try:
        meta = json.loads(str(arrays.pop("meta_json")))
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}: the model metadata is corrupt ({exc})") from None
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not an MLP Studio model (format {meta.get('format')!r})")
    if meta.get("version", 0) > VERSION:
        raise ModelFileError(
            f"{path} was written by a newer MLP Studio (model format {meta['version']}, this one reads {VERSION}); update the app"
        )
    return meta, arrays


def load_model(path, expect_inputs: int | None = None, expect_classes: int | None = None):
    """Load a model saved by :func:`save_model`. Returns an :class:`~mlp_engine.network.MLP`.

    ``expect_inputs`` / ``expect_classes``, when given, refuse a model of another shape with
    a message saying what the file has and what was expected.
    """
    return load_checkpoint(path, expect_inputs, expect_classes)[0]


def load_checkpoint(path, expect_inputs: int | None = None, expect_classes: int | None = None):
    """Like :func:`load_model`, returning ``(net, optimizer_state or None)`` to resume training."""
    from .network import MLP
    from .preprocessing import Preprocessor

    path = Path(path)
    meta, arrays = read_model_file(path)
    try:
        cfg = meta["network"]
        net = MLP(
            cfg["layer_sizes"],
            activation=cfg["activation"],
            dropout=cfg["dropout"],
            input_dropout=cfg.get("input_dropout", 0.0),
            label_smoothing=cfg.get("label_smoothing", 0.0),
            dtype=np.dtype(cfg.get("dtype", "float32")),
        )
        params = net.parameters()
        for i, p in enumerate(params):
            key = f"param_{i}"
            if key not in arrays:
                raise ModelFileError(f"{path}: parameter {i} is missing")
            a = arrays[key]
            if a.shape != p.shape:
                raise ModelFileError(
                    f"{path}: parameter {i} has shape {a.shape}, but layer sizes {cfg['layer_sizes']} need {p.shape}"
                )
            if a.dtype.kind != "f" or not np.all(np.isfinite(a)):
                raise ModelFileError(f"{path}: parameter {i} is not finite floating-point data")
            p[...] = a
        pre = meta["preprocessing"]
        net.preprocessor = Preprocessor(pre["kind"], mean=arrays.get("preprocess_mean"), std=pre.get("std"))
        names = tuple(meta.get("class_names") or net.class_names)
        if len(names) != net.n_classes:
            raise ModelFileError(f"{path}: {len(names)} class names for {net.n_classes} outputs")
        net.class_names = names
        net.meta = meta.get("meta", {})
        opt = None
        if "optimizer" in meta:
            opt = dict(meta["optimizer"])
            opt["state"] = [
                {k.split("_", 2)[2]: v for k, v in arrays.items() if k.startswith(f"opt_{i}_")}
                for i in range(len(params))
            ]
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: the model description is invalid ({exc})") from None
    if expect_inputs is not None and net.n_inputs != expect_inputs:
        raise ModelFileError(
            f"{path} takes {net.n_inputs} inputs, but this needs {expect_inputs} (28x28 images); choose a model trained on MNIST or Fashion-MNIST"
        )
    if expect_classes is not None and net.n_classes != expect_classes:
        raise ModelFileError(f"{path} predicts {net.n_classes} classes, but this needs {expect_classes}")
    return net, opt
