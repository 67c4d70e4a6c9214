"""Live training curves: loss per batch and per epoch, accuracies per epoch.

Follows matplotlib's ``embedding_in_qt`` example: a ``Figure`` (never pyplot) on a
``FigureCanvasQTAgg``, artists created once and updated with ``set_data``. Data arrive at the
worker's rate (every batch); drawing happens at most ``max_fps`` times a second, from a
timer, and only when something changed. Between changes of the axes (limits, markers, title)
only the curves are redrawn, over a saved image of the rest (matplotlib's "blitting"): a full
draw lays out text and costs 0.1-0.3 s here, a blit of the curves about a tenth of that. Matplotlib is imported when the plot is first shown
(or first flushed), not when the window starts: it costs most of a second to import.
"""
from __future__ import annotations

import math
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

PAUSE_PER_DRAW = 39  # pause between redraws, in multiples of a redraw's cost (see LivePlot)
MAX_PAUSE_MS = 5000
# Colours shared by the live plot and the Compare tab, so a metric looks the same everywhere.
COLORS = {"batch": "#9bb7d4", "ema": "#1f5f9f", "epoch": "#0b3d6b", "train": "#1f77b4", "val": "#ff7f0e",
          "test": "#2ca02c", "change": "#7f7f7f"}


_canvas_class = None


def _timed_canvas_class():
    """FigureCanvasQTAgg that remembers how long its last full draw took (made on first use)."""
    global _canvas_class
    if _canvas_class is None:
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg

        class TimedCanvas(FigureCanvasQTAgg):
            last_draw_seconds = 0.0
            needs_layout = True  # set by a plot whose limits changed (tick labels change width)
            _laid_out = (None, 0)  # (canvas size of the last layout, draws since)

            def draw(self):
                t0 = time.perf_counter()
                # Constrained layout is about half the cost of a draw (measured: 0.31 s vs
                # 0.16 s on a busy machine), and it only needs redoing when the canvas size
                # or the tick labels change: lay out on the first draw at each size, when the
                # owner says so (needs_layout), and every 10th draw; keep positions in between.
                fig = self.figure
                engine = fig.get_layout_engine()
                size, since = self._laid_out
                if engine is None or self.needs_layout or size != self.get_width_height() or since >= 10:
                    self.needs_layout = False
                    self._laid_out = (self.get_width_height(), 0)
                    super().draw()
                else:
                    self._laid_out = (size, since + 1)
                    fig.set_layout_engine("none")
                    try:
                        super().draw()
                    finally:
                        fig.set_layout_engine(engine)
                self.last_draw_seconds = time.perf_counter() - t0

        _canvas_class = TimedCanvas
    return _canvas_class


def change_label(report) -> str:
    """``"lr=0.01, dropout=0.2/0.2"``: the hyperparameters an :class:`EpochReport` says changed."""
    hp = report.hyperparameters
    parts = []
    for name in report.changed:
        v = hp.get(name) if hp else None
        if isinstance(v, (list, tuple)):
            v = "/".join(f"{r:g}" for r in v)
        elif isinstance(v, float):
            v = f"{v:g}"
        parts.append(name if v is None else f"{name}={v}")
    return ", ".join(parts)


def decimate(x, y, max_points: int = 2000):
    """At most about ``max_points`` of a long curve, keeping its envelope: the data is cut into
    equal buckets and each contributes its lowest and highest point, in order. A 60-epoch run
    has 28,000 batch losses for an axes a few hundred pixels wide; drawing them all made each
    redraw slower as the run went on."""
    import numpy as np

    n = len(y)
    if n <= max_points:
        return x, y
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    k = math.ceil(2 * n / max_points)
    m = n // k * k
    rows = np.arange(m // k)[:, None] * k
    buckets = y[:m].reshape(-1, k)
    lo, hi = rows[:, 0] + np.argmin(buckets, axis=1), rows[:, 0] + np.argmax(buckets, axis=1)
    keep = np.concatenate([np.sort(np.stack([lo, hi], axis=1), axis=1).ravel(), np.arange(m, n)])
    return x[keep], y[keep]


def make_canvas(parent: QWidget | None = None, figsize=(6.0, 4.0)):
    """A constrained-layout ``Figure`` on a Qt canvas that expands with its widget.

    Returns ``(figure, canvas)``; imports matplotlib on first call. ``canvas.last_draw_seconds``
    tells how long the last draw took (used to keep redraws from hogging the GUI thread).
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, layout="constrained")
    canvas = _timed_canvas_class()(figure)
    canvas.setParent(parent)
    canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    canvas.setMinimumSize(240, 180)
    return figure, canvas


class LivePlot(QWidget):
    """Two axes that follow a training run.

    Left: training loss of every batch (thin), its exponential moving average, and each
    epoch's mean loss (markers), against fractional epochs. Right: train / validation / test
    accuracy after each epoch. Hyperparameters changed during the run are marked with a
    dashed vertical line and a label at the epoch where they took effect.

    Parameters
    ----------
    max_fps : float
        Upper bound on redraws per second. When a draw is slow (a full draw with constrained
        layout costs 0.1-0.3 s on a modest CPU, a blit of the curves 5-20 ms) the pause
        between draws grows to 39 times the time of the redraw (preparing the data + drawing),
        so drawing takes at most a fortieth of the GUI thread (up to a pause of 5 s): on two
        cores, every millisecond the GUI thread computes is taken from training, and more
        when it delays one half of a 2-thread GEMM. Measured on ``best-fashion``, 8 epochs
        (``benchmarks/bench_ui.py --preset best-fashion --epochs 8``): app / engine alone
        0.85 when pacing to a twentieth of the draw time alone, 0.98 now.
    smoothing : float
        EMA factor in [0, 1) for the batch loss (0: no smoothing); bias-corrected, as in
        TensorBoard, so the curve starts at the first loss rather than at 0.
    """

    def __init__(self, parent: QWidget | None = None, max_fps: float = 10.0, smoothing: float = 0.9) -> None:
        super().__init__(parent)
        self.smoothing = smoothing
        self.figure = None
        self.canvas = None
        self.lines: dict = {}
        self.draw_count = 0
        self._dirty = False
        self._markers: list[tuple[float, str]] = []
        self._drawn_markers = 0
        self._marker_artists: list = []
        self._title = ""
        self._epochs: int | None = None
        self._background = None  # the figure without its curves, saved after each full draw
        self._view = None        # what the last full draw showed (limits, markers, texts)
        self.blit_count = 0
        self._reset_data()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        # One timer, kept as an attribute (a local QTimer would be collected): appends only set
        # a flag, the timer turns the flag into at most one draw per interval.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._min_interval_ms = int(1000 / max_fps)
        self._timer.setInterval(self._min_interval_ms)
        self._timer.timeout.connect(self._redraw)

    # -- data ----------------------------------------------------------------------------------
    def _reset_data(self) -> None:
        self.batch_x: list[float] = []
        self.batch_loss: list[float] = []
        self.batch_ema: list[float] = []
        self._ema = 0.0
        self.epoch_x: list[float] = []
        self.epoch_loss: list[float] = []
        self.acc: dict[str, list[tuple[float, float]]] = {"train": [], "val": [], "test": []}

    def append_batch(self, report) -> None:
        """Add a :class:`~mlp_engine.BatchReport` (x = ``report.progress``)."""
        loss = float(report.loss)
        a = self.smoothing
        self._ema = a * self._ema + (1 - a) * loss
        n = len(self.batch_loss) + 1
        self.batch_x.append(report.progress)
        self.batch_loss.append(loss)
        self.batch_ema.append(self._ema / (1 - a**n) if a > 0 else loss)
        self._schedule()

    def append_epoch(self, report) -> None:
        """Add an :class:`~mlp_engine.EpochReport` (x = epochs trained, ``report.epoch + 1``).

        ``report.changed`` (hyperparameters changed at the start of that epoch) becomes a
        marker at ``report.epoch``, where the change took effect.
        """
        x = report.epoch + 1
        self.epoch_x.append(x)
        self.epoch_loss.append(float(report.train_loss))
        for key in ("train", "val", "test"):
            v = getattr(report, f"{key}_acc")
            if v is not None:
                self.acc[key].append((x, float(v)))
        if report.changed:
            self.mark_change(report.epoch, change_label(report))
        self._schedule()

    def mark_change(self, x: float, label: str) -> None:
        """A dashed vertical line at ``x`` (epochs) with ``label`` on both axes."""
        self._markers.append((float(x), label))
        self._schedule()

    def clear(self, title: str = "", epochs: int | None = None) -> None:
        """Forget all data (a new run begins); ``title`` names it above the plots.

        With ``epochs`` (the run's length) the x axes span the whole run from the start, so
        the curves also show how far along the run is.
        """
        self._reset_data()
        self._epochs = epochs
        self._markers = []
        self._title = title
        for artist in self._marker_artists:
            artist.remove()
        self._marker_artists = []
        self._drawn_markers = 0
        self._schedule()

    @property
    def markers(self) -> list[tuple[float, str]]:
        return list(self._markers)

    # -- drawing -------------------------------------------------------------------------------
    def _schedule(self) -> None:
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.canvas is None:
            self.ensure_canvas()
        if self._dirty or self.draw_count == 0:
            self._schedule()

    def ensure_canvas(self) -> None:
        """Create the figure, its axes and every artist (once)."""
        if self.canvas is not None:
            return
        self.figure, self.canvas = make_canvas(self, figsize=(8.0, 3.6))
        self.layout().addWidget(self.canvas)
        ax_loss, ax_acc = self.figure.subplots(1, 2)
        self.ax_loss, self.ax_acc = ax_loss, ax_acc
        ax_loss.set_title("Training loss")
        ax_loss.set_xlabel("epoch")
        ax_loss.set_ylabel("cross-entropy")
        ax_acc.set_title("Accuracy")
        ax_acc.set_xlabel("epoch")
        ax_acc.set_ylabel("accuracy")
        from matplotlib.ticker import MaxNLocator

        for ax in (ax_loss, ax_acc):
            ax.grid(True, alpha=0.3)
        # Accuracies exist only after whole epochs.
        ax_acc.xaxis.set_major_locator(MaxNLocator(integer=True))
        # Sensible empty axes before the first report (autoscaling nothing gives -0.04..0.04).
        ax_loss.set_xlim(0, 1)
        ax_loss.set_ylim(0, 2.5)
        ax_acc.set_xlim(0.5, 2.5)
        ax_acc.set_ylim(0, 1)
        (self.lines["batch"],) = ax_loss.plot([], [], lw=0.6, color=COLORS["batch"], label="batch")
        (self.lines["ema"],) = ax_loss.plot([], [], lw=1.6, color=COLORS["ema"], label="batch (smoothed)")
        (self.lines["epoch"],) = ax_loss.plot([], [], "o", ms=5, color=COLORS["epoch"], label="epoch mean")
        (self.lines["train"],) = ax_acc.plot([], [], "o-", ms=4, color=COLORS["train"], label="train")
        (self.lines["val"],) = ax_acc.plot([], [], "s-", ms=4, color=COLORS["val"], label="validation")
        (self.lines["test"],) = ax_acc.plot([], [], "^-", ms=4, color=COLORS["test"], label="test")
        ax_loss.legend(loc="upper right", fontsize="small")
        ax_acc.legend(loc="lower right", fontsize="small")
        self._suptitle = self.figure.suptitle("", fontsize="medium")
        self._empty_text = ax_loss.text(0.5, 0.5, "Press Start to train;\nthe curves appear here.",
                                        transform=ax_loss.transAxes, ha="center", va="center", color="#666666")
        # The curves are "animated": a full draw leaves them out, saves the rest as the
        # background, then draws them on top (_on_draw); between full draws only they are redrawn.
        for line in self.lines.values():
            line.set_animated(True)
        self.canvas.mpl_connect("draw_event", self._on_draw)

    def _on_draw(self, event) -> None:
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._draw_curves()

    def _draw_curves(self) -> None:
        for line in self.lines.values():
            line.axes.draw_artist(line)

    def _blit(self) -> None:
        t0 = time.perf_counter()
        self.canvas.restore_region(self._background)
        self._draw_curves()
        self.canvas.blit(self.figure.bbox)
        self.blit_count += 1
        self.canvas.last_draw_seconds = time.perf_counter() - t0

    def _loss_top(self) -> float:
        """Upper y limit of the loss axes: ignores the first batches' spikes (cross-entropy of an
        untrained network can be 10x its value a few hundred batches later), as TensorBoard's
        "ignore outliers" does; the smoothed curve and the epoch means always fit."""
        import numpy as np

        if not self.batch_loss and not self.epoch_loss:
            return 2.5
        candidates = list(self.epoch_loss)
        if self.batch_loss:
            losses = np.asarray(self.batch_loss)
            finite = losses[np.isfinite(losses)]
            if finite.size:
                candidates.append(float(np.percentile(finite, 98)))
            ema = np.asarray(self.batch_ema[len(self.batch_ema) // 50:])
            ema = ema[np.isfinite(ema)]
            if ema.size:
                candidates.append(float(ema.max()))
        top = max(candidates) if candidates else 2.5
        if top <= 0:
            return 1.0
        # Round 1.1 * top up to two significant digits, and keep the current limit while it
        # still fits well, so the axes (and the saved background) rarely change.
        current = self.ax_loss.get_ylim()[1]
        if top <= current <= 2.0 * top:
            return current
        step = 10.0 ** (math.floor(math.log10(top * 1.1)) - 1)
        return math.ceil(top * 1.1 / step) * step

    def _acc_limits(self) -> tuple[float, float]:
        """Accuracy axis: the values' range widened to multiples of 0.05, so it changes only
        when a curve crosses such a line (each change costs a full draw)."""
        values = [v for pts in self.acc.values() for _x, v in pts if math.isfinite(v)]
        if not values:
            return 0.0, 1.0
        lo = max(0.0, round(math.floor((min(values) - 0.005) / 0.05) * 0.05, 2))
        hi = min(1.0, round(math.ceil((max(values) + 0.005) / 0.05) * 0.05, 2))
        return (lo, hi) if hi - lo >= 0.05 else (max(0.0, hi - 0.05), hi)

    def flush(self) -> None:
        """Push the data into the artists and request a draw now (tests, screenshots)."""
        self._timer.stop()
        self._redraw(force=True)

    def _redraw(self, force: bool = False) -> None:
        if not (self._dirty or force):
            return
        if not force and not self.isVisible():
            return  # nobody sees it: stay dirty, draw when shown (showEvent)
        self.ensure_canvas()
        t0 = time.perf_counter()
        self._dirty = False
        self.lines["batch"].set_data(*decimate(self.batch_x, self.batch_loss))
        self.lines["ema"].set_data(*decimate(self.batch_x, self.batch_ema))
        self.lines["epoch"].set_data(self.epoch_x, self.epoch_loss)
        for key in ("train", "val", "test"):
            pts = self.acc[key]
            self.lines[key].set_data([p[0] for p in pts], [p[1] for p in pts])
        for x, label in self._markers[self._drawn_markers:]:
            for ax in (self.ax_loss, self.ax_acc):
                self._marker_artists.append(ax.axvline(x, ls="--", lw=1.0, color=COLORS["change"]))
            self._marker_artists.append(self.ax_loss.annotate(
                label, xy=(x, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -3),
                textcoords="offset points", va="top", fontsize="small", color="#444444", rotation=90))
        self._drawn_markers = len(self._markers)
        self._empty_text.set_visible(not self.batch_x and not self.epoch_x)
        self._suptitle.set_text(self._title)
        # y: autoscale an axis once it has data (set_ylim switches autoscaling off, so it is
        # switched back on); x: the run's whole length when known, else what has arrived.
        self.ax_acc.set_ylim(*self._acc_limits())
        self.ax_loss.set_ylim(0, self._loss_top())
        last = max(self.batch_x[-1] if self.batch_x else 0, self.epoch_x[-1] if self.epoch_x else 0)
        right = max(self._epochs or 0, last, 1)
        self.ax_loss.set_xlim(0, right * 1.02)
        self.ax_acc.set_xlim(0.5, max(right, 2) + 0.5)
        view = (self.ax_loss.get_xlim(), self.ax_loss.get_ylim(), self.ax_acc.get_xlim(), self.ax_acc.get_ylim(),
                self._drawn_markers, self._title, self._empty_text.get_visible(), self.canvas.get_width_height())
        if view == self._view and self._background is not None and not force:
            self._blit()
            cost = time.perf_counter() - t0  # preparing the data + the blit
        else:
            if view[:4] != (self._view or (None,) * 4)[:4]:
                self.canvas.needs_layout = True  # new limits, new tick labels
            self._view = view
            self.canvas.draw_idle()
            # the draw itself comes later, from the event loop: count the previous full draw's time
            cost = time.perf_counter() - t0 + self.canvas.last_draw_seconds
        self.draw_count += 1
        self._pace(cost)

    def _pace(self, cost: float) -> None:
        """Pause before the next redraw: PAUSE_PER_DRAW times what this one cost (see max_fps)."""
        self._timer.setInterval(max(self._min_interval_ms, min(MAX_PAUSE_MS, int(1000 * PAUSE_PER_DRAW * cost))))
