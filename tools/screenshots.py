"""Drive MLP Studio through a short scripted session offscreen and save one PNG per tab.

    QT_QPA_PLATFORM=offscreen MLP_STUDIO_DATA=../shared/data python tools/screenshots.py --out docs
    make screenshots

The session: load Fashion-MNIST in the Data tab; train the paper's network with SGD, RMSProp
and momentum for two epochs each (the Train tab shows the last run live); overlay the three
in Compare (the paper's Figure 3-9); evaluate the momentum run; draw on the canvas (a digit
with the bundled MNIST model when it exists, otherwise a pair of trousers with the run's
Fashion-MNIST model); show the first-layer weights. Without the real data it falls back to
the synthetic set, says so, and still writes every picture.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def wait_for(signal, timeout_s: float):
    """Run the event loop until ``signal`` fires (returns its arguments) or the timeout (None)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    got = []

    def on_signal(*args):
        got.append(args)
        loop.quit()

    signal.connect(on_signal)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(on_signal)
    return got[0] if got else None


def settle(app, seconds: float = 0.5) -> None:
    """Let pending events, throttled redraws and background jobs finish."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs", help="folder for the PNGs (default docs)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per training run (default 2)")
    parser.add_argument("--size", default="1400x900", help="window size WIDTHxHEIGHT (default 1400x900)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    width, height = (int(v) for v in args.size.lower().split("x"))

    from PySide6.QtWidgets import QApplication

    from mlp_engine import preset
    from mlp_engine.data import locate_dataset
    from mlp_gui.app import apply_style
    from mlp_gui.main_window import MainWindow
    from mlp_gui.settings import Settings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("MLP Studio")
    apply_style(app)
    tmp = tempfile.TemporaryDirectory()
    window = MainWindow(settings=Settings(Path(tmp.name) / "settings.ini"))
    window.resize(width, height)
    window.show()
    settle(app, 0.3)

    def shoot(name: str) -> None:
        settle(app, 0.6)
        path = out / f"{name}.png"
        window.grab().save(str(path))
        # A 256-colour palette keeps the PNGs about three times smaller (they go in the README)
        # with no visible change: screenshots have few colours.
        from PIL import Image

        with Image.open(path) as im:
            small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        small.save(path, optimize=True)
        print(f"wrote {path}")

    # -- Data -------------------------------------------------------------------------------------
    real = locate_dataset("fashion-mnist") is not None
    window.tabs.setCurrentWidget(window.data_tab)
    if real:
        # The Data tab starts loading on its first show; it may already be done.
        if window.data_tab.dataset() is None:
            if not window.data_tab.is_busy():
                window.data_tab.load("fashion-mnist")
            wait_for(window.data_tab.dataset_loaded, 120)
        real = window.data_tab.dataset() is not None
    if not real:
        print("Fashion-MNIST not found (set MLP_STUDIO_DATA to the folder holding it); "
              "training on the synthetic set instead.", file=sys.stderr)
    shoot("data")

    # -- Train: the paper's optimizer study, shortened -----------------------------------------------
    runs = []
    for i, name in enumerate(("paper-sgd", "paper-rmsprop", "paper-momentum")):
        cfg = preset(name).replace(epochs=args.epochs)
        if not real:
            cfg = cfg.replace(dataset="synthetic", hidden=(64, 32), batch_size=32)
        if i == 2:
            window.tabs.setCurrentWidget(window.train_tab)  # watch the last run live
        window.train_tab.panel.apply_preset(name)
        window.train_tab.panel.set_config(cfg)
        window.train_tab.start()
        result = wait_for(window.compare_tab.run_added, 900)
        if result is None:
            print(f"run {name} did not finish in time", file=sys.stderr)
            window.session.shutdown()
            return 1
        runs.append(result[0])
        print(f"trained {name}: test accuracy {runs[-1].final_metric('test_acc'):.4f}")
    window.train_tab.plot.flush()
    shoot("train")

    # -- Compare ---------------------------------------------------------------------------------------
    window.tabs.setCurrentWidget(window.compare_tab)
    window.compare_tab.set_metric("train_loss")
    lr = runs[-1].config.lr
    window.compare_tab.set_sweep("lr", ", ".join(f"{lr * f:g}" for f in (0.5, 1, 2)))
    window.compare_tab.select(runs[-1])
    shoot("compare")

    # -- Evaluate ----------------------------------------------------------------------------------------
    window.tabs.setCurrentWidget(window.evaluate_tab)
    window.evaluate_tab.chooser.set_current(runs[-1].key)
    window.evaluate_tab.refresh()
    wait_for(window.evaluate_tab.evaluated, 120)
    shoot("evaluate")

    # -- Draw ----------------------------------------------------------------------------------------------
    window.tabs.setCurrentWidget(window.draw_tab)
    settle(app, 0.3)
    chooser = window.draw_tab.chooser
    canvas = window.draw_tab.canvas
    canvas.clear()
    if "bundled:mnist" in chooser.keys() and chooser.ensure_loaded("bundled:mnist") is not None:
        chooser.set_current("bundled:mnist")
        # A handwritten 7: the top bar, then the slanted stem with a slight curve.
        canvas.draw_stroke([(70, 62), (130, 58), (205, 60)])
        canvas.draw_stroke([(205, 60), (180, 110), (155, 165), (138, 225)])
    else:
        chooser.set_current(runs[-1].key)
        # Trousers: waistband and two legs (Fashion-MNIST's class 1).
        canvas.draw_stroke([(95, 45), (185, 45)], width=22)
        canvas.draw_stroke([(100, 45), (95, 140), (90, 240)], width=30)
        canvas.draw_stroke([(180, 45), (185, 140), (190, 240)], width=30)
        canvas.draw_stroke([(140, 50), (140, 90)], width=26)
    window.draw_tab.predict_now()
    shoot("draw")

    # -- Weights -----------------------------------------------------------------------------------------
    window.tabs.setCurrentWidget(window.weights_tab)
    shoot("weights")

    window.session.shutdown()
    window.close()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
