"""LivePlot: artists hold the data, redraws are throttled, change markers appear."""
from types import MappingProxyType

import pytest

from mlp_engine import BatchReport, EpochReport
from mlp_gui.widgets.live_plot import LivePlot


def batch(epoch, b, n=4, loss=1.0):
    return BatchReport(epoch, b, n, loss, 0.1, 0.01 * (b + 1))


def epoch_report(epoch, loss=0.5, acc=0.8, changed=(), lr=0.1, val=None):
    return EpochReport(epoch, 3, loss, acc, None if val is None else 0.6, val, 0.55, acc - 0.05, lr, 0.1, 0.01,
                       MappingProxyType({"lr": lr, "momentum": 0.9, "dropout": [0.1]}), tuple(changed))


@pytest.fixture
def plot(qtbot, monkeypatch):
    from mlp_gui.widgets import live_plot

    monkeypatch.setattr(live_plot, "PAUSE_PER_DRAW", 1)  # tests wait for redraws; the pacing has its own test
    p = LivePlot()
    qtbot.addWidget(p)
    p.resize(800, 320)
    return p


def test_lines_hold_the_appended_data(plot):
    losses = [2.0, 1.5, 1.0, 0.8]
    for b, loss in enumerate(losses):
        plot.append_batch(batch(0, b, loss=loss))
    plot.append_epoch(epoch_report(0, loss=1.325, acc=0.7, val=0.65))
    plot.flush()
    x, y = plot.lines["batch"].get_data()
    assert list(x) == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert list(y) == losses
    ema = list(plot.lines["ema"].get_ydata())
    # Bias-corrected EMA starts at the first value and lags behind a falling loss.
    assert ema[0] == pytest.approx(2.0)
    assert all(e >= l for e, l in zip(ema[1:], losses[1:]))
    assert list(plot.lines["epoch"].get_data()[0]) == [1]
    assert list(plot.lines["epoch"].get_ydata()) == [1.325]
    assert list(plot.lines["train"].get_ydata()) == [0.7]
    assert list(plot.lines["val"].get_ydata()) == [0.65]
    assert list(plot.lines["test"].get_ydata()) == pytest.approx([0.65])
    # Loss axes span the batches; accuracy in [0, 1] is visible.
    assert plot.ax_loss.get_xlim()[1] >= 1.0
    lo, hi = plot.ax_acc.get_ylim()
    assert lo <= 0.65 and hi >= 0.7


def test_clear_empties_every_line(plot):
    plot.append_batch(batch(0, 0))
    plot.append_epoch(epoch_report(0, changed=("lr",)))
    plot.flush()
    plot.clear("next run")
    plot.flush()
    for line in plot.lines.values():
        assert len(line.get_xdata()) == 0
    assert plot.markers == []
    assert plot._suptitle.get_text() == "next run"


def test_redraws_are_throttled(qtbot, plot):
    plot.show()
    qtbot.waitExposed(plot)
    qtbot.waitUntil(lambda: plot.draw_count >= 1)
    start = plot.draw_count
    for i in range(2000):
        plot.append_batch(batch(i // 100, i % 100, n=100, loss=1.0 / (i + 1)))
    # 2000 reports arrived at once: at most one draw is due now, the next ~100 ms later.
    # the pace adapts to the cost of a draw (up to 2 s apart on a loaded machine)
    qtbot.waitUntil(lambda: plot.draw_count > start, timeout=6000)
    qtbot.wait(250)
    assert plot.draw_count - start <= 3
    assert len(plot.lines["batch"].get_xdata()) == 2000
    # Nothing new: no more draws.
    n = plot.draw_count
    qtbot.wait(250)
    assert plot.draw_count == n


def test_hyperparameter_change_is_marked_where_it_took_effect(plot):
    plot.append_epoch(epoch_report(0))
    plot.append_epoch(epoch_report(1, changed=("lr", "dropout"), lr=0.01))
    plot.flush()
    assert plot.markers == [(1.0, "lr=0.01, dropout=0.1")]
    vlines = [l for l in plot.ax_loss.lines if l.get_linestyle() == "--"]
    assert len(vlines) == 1 and list(vlines[0].get_xdata()) == [1.0, 1.0]
    assert any("lr=0.01" in t.get_text() for t in plot.ax_loss.texts)
    # Flushing again does not duplicate the marker.
    plot.flush()
    assert len([l for l in plot.ax_loss.lines if l.get_linestyle() == "--"]) == 1


def test_matplotlib_is_not_needed_until_shown(qtbot):
    p = LivePlot()
    qtbot.addWidget(p)
    p.resize(800, 320)
    p.append_batch(batch(0, 0))
    assert p.canvas is None
    p.show()
    qtbot.waitExposed(p)
    assert p.canvas is not None
    qtbot.waitUntil(lambda: len(p.lines["batch"].get_xdata()) == 1)


def test_first_batch_spikes_do_not_squash_the_loss_axes(plot):
    plot.append_batch(batch(0, 0, n=1000, loss=50.0))
    for b in range(1, 1000):
        plot.append_batch(batch(0, b, n=1000, loss=1.0))
    plot.append_epoch(epoch_report(0, loss=1.05))
    plot.flush()
    bottom, top = plot.ax_loss.get_ylim()
    assert bottom == 0 and 1.05 < top < 10
    assert max(plot.lines["batch"].get_ydata()) == 50.0  # the data is kept, only the view is clipped


def test_new_batches_are_blitted_over_the_saved_background(qtbot, plot):
    import numpy as np

    plot.show()
    qtbot.waitExposed(plot)
    plot.clear("run", epochs=5)
    full_draws = []
    plot.ensure_canvas()
    plot.canvas.mpl_connect("draw_event", lambda e: full_draws.append(1))
    step = iter(range(1000))

    def add_batches(k):
        for _ in range(k):
            i = next(step)
            plot.append_batch(batch(0, i, n=100, loss=2.0 - 0.01 * i))

    add_batches(20)
    plot.flush()
    qtbot.waitUntil(lambda: bool(full_draws) and plot._background is not None)
    n = plot.draw_count
    add_batches(10)  # the window may still settle its size: one more round
    qtbot.waitUntil(lambda: plot.draw_count > n)
    qtbot.waitUntil(lambda: plot._background is not None)
    before = np.array(plot.canvas.buffer_rgba())
    n_full, n_blit = len(full_draws), plot.blit_count
    add_batches(30)
    qtbot.waitUntil(lambda: plot.blit_count > n_blit)
    assert len(full_draws) == n_full  # same axes: the text was not laid out again
    assert (np.array(plot.canvas.buffer_rgba()) != before).any()  # the longer curve is on screen
    assert len(plot.lines["batch"].get_xdata()) == 60
    # A change of the axes (a marker) needs a full draw, which saves a new background.
    plot.mark_change(0.5, "lr=0.01")
    qtbot.waitUntil(lambda: len(full_draws) > n_full)


def test_accuracy_axis_moves_in_steps_of_five_points(plot):
    assert plot._acc_limits() == (0.0, 1.0)  # nothing yet
    plot.append_epoch(epoch_report(0, acc=0.83))   # train 0.83, test 0.78
    assert plot._acc_limits() == (0.75, 0.85)
    plot.append_epoch(epoch_report(1, acc=0.84))   # still inside: same limits, no full draw needed
    assert plot._acc_limits() == (0.75, 0.85)
    plot.append_epoch(epoch_report(2, acc=0.9))
    assert plot._acc_limits() == (0.75, 0.95)
    plot.append_epoch(epoch_report(3, acc=0.999))
    assert plot._acc_limits()[1] == 1.0
    plot.flush()
    assert plot.ax_acc.get_ylim() == (0.75, 1.0)


def test_long_curves_are_decimated_keeping_their_envelope(plot):
    import numpy as np

    from mlp_gui.widgets.live_plot import decimate

    rng = np.random.default_rng(0)
    y = rng.standard_normal(28_001)
    x = np.arange(y.size) / 469
    xd, yd = decimate(x, y)
    assert len(yd) <= 2_100
    assert yd.max() == y.max() and yd.min() == y.min()  # spikes survive
    assert np.all(np.diff(xd) > 0) and xd[-1] == x[-1]  # in order, up to the last batch
    assert set(zip(xd, yd)) <= set(zip(x, y))           # only real points
    short = list(range(10))
    assert decimate(short, short) == (short, short)
    for i in range(5000):
        plot.append_batch(batch(i // 500, i % 500, n=500, loss=1.0 + (i == 1234) * 5))
    plot.flush()
    drawn = plot.lines["batch"].get_ydata()
    assert len(drawn) <= 2_100 and max(drawn) == 6.0 and len(plot.batch_loss) == 5000


def test_redraws_pause_for_39_times_their_cost(qtbot, plot, monkeypatch):
    """The pause after a redraw grows with what the redraw cost (so drawing stays a fortieth of
    the GUI thread), never below the max_fps interval and never above MAX_PAUSE_MS."""
    from mlp_gui.widgets import live_plot

    monkeypatch.undo()  # the real pacing
    assert live_plot.PAUSE_PER_DRAW == 39
    plot._pace(0.05)
    assert plot._timer.interval() == 39 * 50
    plot._pace(10.0)
    assert plot._timer.interval() == live_plot.MAX_PAUSE_MS
    plot._pace(0.0)
    assert plot._timer.interval() == plot._min_interval_ms
    # A full draw happens later, from the event loop: the redraw counts the last one's time.
    costs = []
    monkeypatch.setattr(plot, "_pace", costs.append)
    plot.append_batch(batch(0, 0, n=100))
    plot.ensure_canvas()
    plot.canvas.last_draw_seconds = 0.25
    plot._redraw(force=True)
    assert costs and 0.25 <= costs[-1] < 1.0
