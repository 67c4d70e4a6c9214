"""Entry point of the desktop app: ``mlp-gui`` or ``python -m mlp_gui``.

``main()`` only sets up Qt (application names for QSettings, the style sheet), shows the
window and runs the event loop. Heavy imports (matplotlib, data sets) happen later, inside
the widgets that need them, so that the window appears quickly.
"""
from __future__ import annotations

import argparse
import sys
import time

_T0 = time.perf_counter()


def _parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="mlp-gui", description="MLP Studio: train, watch, evaluate and draw "
                                     "with a from-scratch NumPy multilayer perceptron.")
    parser.add_argument("--settings", metavar="FILE.ini",
                        help="keep settings in this INI file instead of the user's settings store")
    parser.add_argument("--tab", choices=["data", "train", "compare", "evaluate", "draw", "weights"],
                        help="open on this tab")
    parser.add_argument("--startup-benchmark", action="store_true",
                        help="print the seconds until the window is on screen, then quit (benchmarks/bench_startup.py)")
    # Qt's own options (-platform, -style ...) are left for QApplication.
    return parser.parse_known_args(argv[1:])


def apply_style(app) -> None:
    """Apply ``resources/app.qss``; a missing style sheet only costs the looks."""
    from mlp_studio_resources import resource_path

    try:
        app.setStyleSheet(resource_path("app.qss").read_text(encoding="utf-8"))
    except OSError:
        pass


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    args, qt_args = _parse(argv)
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from .settings import APPLICATION, ORGANIZATION

    app = QApplication.instance() or QApplication([argv[0], *qt_args])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("MLP Studio")
    apply_style(app)

    from .main_window import MainWindow
    from .settings import Settings

    window = MainWindow(settings=Settings(args.settings) if args.settings else None)
    if args.tab:
        window.tabs.setCurrentIndex([n.lower() for n in window.TAB_NAMES].index(args.tab))

    if args.startup_benchmark:
        class _FirstExpose(QObject):
            def eventFilter(self, obj, event):  # noqa: N802 - Qt override
                if event.type() == QEvent.Type.Expose and obj.isExposed():
                    heavy = "loaded" if "matplotlib" in sys.modules else "not loaded"
                    print(f"window exposed after {time.perf_counter() - _T0:.3f} s (in-process); "
                          f"matplotlib {heavy}", flush=True)
                    obj.removeEventFilter(self)
                    QTimer.singleShot(0, window.close)
                return False

        watcher = _FirstExpose(window)
        window.winId()  # creates the native window, so the filter is in place before the first expose
        window.windowHandle().installEventFilter(watcher)
        window.show()
    else:
        window.show()
    _quit_on_sigint(window)
    return app.exec()


def _quit_on_sigint(window) -> None:
    """Ctrl+C in the terminal closes the window properly (stopping and joining a run)."""
    import signal

    from PySide6.QtCore import QTimer

    def on_sigint(*_args):
        window.confirm_close = False
        window.close()

    signal.signal(signal.SIGINT, on_sigint)
    # Python runs signal handlers only between bytecodes; a idle timer gives it the chance
    # while Qt's event loop (C++) is waiting.
    timer = QTimer(window)
    timer.timeout.connect(lambda: None)
    timer.start(250)


if __name__ == "__main__":
    sys.exit(main())
