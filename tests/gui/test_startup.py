"""Start-up: the app starts, shows its window and quits cleanly; heavy imports stay lazy.

The timing itself (target: window on screen within 1.5 s) is measured by
benchmarks/bench_startup.py, not asserted here: CI machines vary too much.
"""
import os
import subprocess
import sys

from mlp_gui import app


def test_module_entry_point_shows_the_window_and_exits(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-m", "mlp_gui", "--startup-benchmark", "--settings", str(tmp_path / "s.ini")],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "window exposed after" in proc.stdout
    # Matplotlib (most of a second to import) waits until a plot is first shown.
    assert "matplotlib not loaded" in proc.stdout
    assert (tmp_path / "s.ini").exists()  # settings were written on close


def test_main_reuses_the_running_qapplication(qtbot, qapp, tmp_path, capsys):
    style = qapp.styleSheet()
    assert app.main(["mlp-gui", "--startup-benchmark", "--settings", str(tmp_path / "s.ini"), "--tab", "compare"]) == 0
    assert "window exposed after" in capsys.readouterr().out
    assert qapp.applicationName() == "MLP Studio"
    assert "QGroupBox" in qapp.styleSheet()  # resources/app.qss applied
    qapp.setStyleSheet(style)


def test_help_lists_the_options(capsys):
    import pytest

    with pytest.raises(SystemExit) as exc:
        app.main(["mlp-gui", "--help"])
    assert exc.value.code == 0
    assert "--settings" in capsys.readouterr().out
