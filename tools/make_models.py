"""Train the models bundled with the app: resources/models/mnist.npz and fashion-mnist.npz.

    make models                      # both, with the presets best-mnist and best-fashion
    python tools/make_models.py mnist --epochs 3   # quicker, for a try

Each model is trained by the engine's own Trainer from a preset, saved in float16 (the app
and CLI load it back to float32; predictions are checked to be unchanged on the test set),
and carries its preprocessing, class names, training config, history and test accuracy.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from mlp_engine import EpochReport, Trainer, load_dataset, load_model, preset, save_model

ROOT = Path(__file__).resolve().parents[1]
PRESET_OF = {"mnist": "best-mnist", "fashion-mnist": "best-fashion"}


def build(name: str, epochs: int | None, out_dir: Path, seed: int | None) -> Path:
    cfg = preset(PRESET_OF[name])
    if epochs:
        cfg = cfg.with_epochs(epochs)
    if seed is not None:
        cfg = cfg.replace(seed=seed)
    data = load_dataset(name)
    trainer = Trainer(cfg, data)
    t0 = time.perf_counter()
    for r in trainer.run():
        if isinstance(r, EpochReport):
            print(
                f"{name} epoch {r.epoch:3d}  loss {r.train_loss:.4f}  val {r.val_acc if r.val_acc is None else round(r.val_acc, 4)}"
                f"  test {r.test_acc:.4f}  ({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
    net = trainer.net
    net.meta["train_seconds_total"] = sum(h.train_seconds for h in trainer.history)
    net.meta["wall_seconds"] = time.perf_counter() - t0
    net.meta["preset"] = PRESET_OF[name]
    path = out_dir / f"{name}.npz"
    save_model(net, path, half=True)
    loaded = load_model(path)
    agree = np.mean(loaded.predict(data.X_test, preprocessed=False) == net.predict(data.X_test, preprocessed=False))
    acc = np.mean(loaded.predict(data.X_test, preprocessed=False) == data.y_test)
    print(f"saved {path} ({path.stat().st_size / 1e6:.1f} MB): test accuracy {acc:.4f}, float16 agrees with float32 on {agree:.2%}")
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=["mnist", "fashion-mnist"], choices=["mnist", "fashion-mnist"])
    ap.add_argument("--epochs", type=int, help="override the preset's epoch count (quick try)")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--out", type=Path, default=ROOT / "resources" / "models")
    a = ap.parse_args(argv)
    for name in a.names:
        build(name, a.epochs, a.out, a.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
