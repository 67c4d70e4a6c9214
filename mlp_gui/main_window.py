"""The main window: composes the tabs, the menus and the status bar, and wires their signals.

It owns no numerics and no training logic (those live in ``mlp_engine`` and in the
``TrainingSession``); each area is its own widget class. What it does:

- Data tab -> the session's data cache and the Evaluate tab (a loaded data set is reused);
- training session -> Weights tab (first layer after each epoch);
- Compare tab's run list -> Evaluate and Draw (every kept run can be evaluated and drawn on);
- File menu: open / save models, recent files; Help > About; settings in and out.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFileDialog, QMainWindow, QMessageBox, QTabWidget, QTextBrowser, QVBoxLayout,
)

from mlp_engine import ModelFileError, load_model

from .settings import Settings
from .widgets.compare_tab import CompareTab
from .widgets.data_tab import DataTab
from .widgets.draw_tab import DrawTab
from .widgets.evaluate_tab import EvaluateTab
from .widgets.train_tab import TrainTab
from .widgets.weights_tab import WeightsTab
from .worker import TrainingSession

MODEL_FILTER = "MLP Studio model (*.npz);;All files (*)"


class MainWindow(QMainWindow):
    """MLP Studio's window: Data, Train, Compare, Evaluate, Draw and Weights tabs.

    Parameters
    ----------
    settings : Settings, optional
        Where geometry, the last configuration and recent files are kept (tests pass one
        backed by a temporary INI file).
    models_dir : path, None or "default"
        Bundled models for the Evaluate and Draw tabs (``None``: none).
    """

    TAB_NAMES = ("Data", "Train", "Compare", "Evaluate", "Draw", "Weights")

    def __init__(self, settings: Settings | None = None, models_dir="default", parent=None) -> None:
        super().__init__(parent)
        self.confirm_close = True  # ask before quitting during a run (not on Ctrl+C in a terminal)
        self.settings = settings if settings is not None else Settings()
        self.setWindowTitle("MLP Studio")
        self.session = TrainingSession(self)

        self.data_tab = DataTab(settings=self.settings.qsettings)
        self.train_tab = TrainTab(self.session)
        self.compare_tab = CompareTab(self.session, base_config=self.train_tab.panel.config)
        self.evaluate_tab = EvaluateTab(models_dir=models_dir)
        self.draw_tab = DrawTab(models_dir=models_dir)
        self.weights_tab = WeightsTab()

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        tips = (
            "Find, download and look at MNIST / Fashion-MNIST",
            "Configure a network, train it and watch it learn",
            "Every run kept: overlay curves, export, sweep a hyperparameter",
            "Confusion matrix, per-class metrics, ROC curves, mistakes",
            "Draw a digit or garment and see what the network predicts",
            "First-layer weights as 28x28 images, updated after each epoch",
        )
        for i, (name, widget) in enumerate(zip(self.TAB_NAMES, self._tab_widgets())):
            self.tabs.addTab(widget, name)
            self.tabs.setTabToolTip(i, f"{tips[i]} (Ctrl+{i + 1})")
        self.setCentralWidget(self.tabs)
        self.statusBar().showMessage("Ready.")

        self._build_menus()
        self._wire()
        self._restore_settings()

    def _tab_widgets(self):
        return (self.data_tab, self.train_tab, self.compare_tab, self.evaluate_tab, self.draw_tab, self.weights_tab)

    # -- construction ------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = QAction("&Open model ...", self, shortcut=QKeySequence.StandardKey.Open,
                                   statusTip="Open a saved model (.npz) for the Evaluate and Draw tabs")
        self.open_action.triggered.connect(lambda: self.open_model())
        self.save_action = QAction("&Save model of the selected run ...", self, shortcut=QKeySequence.StandardKey.Save,
                                   statusTip="Save the network of the run selected in the Compare tab")
        self.save_action.triggered.connect(lambda: self.save_selected_model())
        self.recent_menu = file_menu.addMenu("Recent models")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit,
                                   statusTip="Stop any run and close MLP Studio")
        self.quit_action.triggered.connect(self.close)
        file_menu.insertAction(self.recent_menu.menuAction(), self.open_action)
        file_menu.addAction(self.save_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self._fill_recent_menu()

        view_menu = self.menuBar().addMenu("&View")
        for i, name in enumerate(self.TAB_NAMES):
            action = QAction(name, self, shortcut=QKeySequence(f"Ctrl+{i + 1}"))
            action.triggered.connect(lambda _=False, i=i: self.tabs.setCurrentIndex(i))
            view_menu.addAction(action)
            self.addAction(action)

        help_menu = self.menuBar().addMenu("&Help")
        self.about_action = QAction("&About MLP Studio", self, statusTip="What this app is and how to use it")
        self.about_action.triggered.connect(self.show_about)
        help_menu.addAction(self.about_action)
        self.about_dialog: QDialog | None = None

    def _wire(self) -> None:
        status = self.show_status
        for widget in (self.data_tab, self.train_tab, self.compare_tab, self.evaluate_tab, self.draw_tab):
            widget.status_message.connect(status)

        # A data set loaded anywhere (Data tab, or a worker that loaded it for a run) is reused
        # by later runs and by the Evaluate tab, instead of being read from disk again.
        self.data_tab.dataset_loaded.connect(self.session.add_dataset)
        self.data_tab.dataset_loaded.connect(self.evaluate_tab.set_dataset)
        self.session.dataset_loaded.connect(self.evaluate_tab.set_dataset)
        self.train_tab.data_tab_requested.connect(lambda: self.tabs.setCurrentWidget(self.data_tab))

        self.session.started.connect(self._on_run_started)
        self.session.epoch.connect(self._on_epoch)

        self.compare_tab.run_added.connect(self._on_run_added)
        self.compare_tab.run_renamed.connect(self._on_run_renamed)
        self.compare_tab.run_removed.connect(self._on_run_removed)

    # -- training -> other tabs ------------------------------------------------------------------
    def _on_run_started(self, config) -> None:
        self._run_title = config.name or config.summary()
        if self.session.sweep_name is None:  # a sweep's runs are variations, not the user's form
            self.settings.set_last_config(config)

    def _on_epoch(self, report, w1) -> None:
        title = f"{getattr(self, '_run_title', 'run')}: first layer after epoch {report.epoch}"
        self.weights_tab.show_weights(w1, title)

    def _on_run_added(self, record) -> None:
        if record.net is None:
            return
        self.evaluate_tab.add_model(record.key, record.name, record.net, record.dataset)
        self.draw_tab.add_model(record.key, record.name, record.net, record.dataset)

    def _on_run_renamed(self, key: str, name: str) -> None:
        self.evaluate_tab.rename_model(key, name)
        self.draw_tab.rename_model(key, name)

    def _on_run_removed(self, key: str) -> None:
        self.evaluate_tab.remove_model(key)
        self.draw_tab.remove_model(key)

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 10_000)

    # -- files -----------------------------------------------------------------------------------
    def open_model(self, path: str | Path | None = None):
        """Load a model file (asks for it unless given); returns the MLP or None.

        The model joins the Evaluate and Draw tabs, and the Compare tab when it carries its
        training history. A corrupt file, a file of another kind or a model for other image
        sizes is refused with a message naming the file and the reason.
        """
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Open model", self.settings.last_dir(), MODEL_FILTER)
            if not path:
                return None
        path = Path(path)
        try:
            net = load_model(path, expect_inputs=784)
        except FileNotFoundError:
            self.settings.remove_recent_model(path)
            QMessageBox.critical(self, "Could not open the model",
                                 f"{path} does not exist (moved or deleted?). It was removed from the recent models.")
            return None
        except (ModelFileError, OSError, ValueError) as exc:
            QMessageBox.critical(self, "Could not open the model", f"{exc}\n\nChoose a model saved by MLP Studio (.npz).")
            return None
        self.settings.add_recent_model(path)
        self.settings.set_last_dir(path)
        record = self.compare_tab.add_loaded_model(net, path)
        if record is None:
            # No history to compare: offer it to Evaluate and Draw directly.
            key, dataset = f"file:{path.resolve()}", str(net.meta.get("dataset", "") or "")
            self.evaluate_tab.add_model(key, path.stem, net, dataset)
            self.draw_tab.add_model(key, path.stem, net, dataset)
        self.show_status(f"Opened {path}: {net!r}. It is offered in the Evaluate and Draw tabs.")
        return net

    def save_selected_model(self, path: str | Path | None = None) -> Path | None:
        """Save the network of the run selected in Compare (the only run if there is one)."""
        record = self.compare_tab.selected_run()
        if record is None and len(self.compare_tab.store) == 1:
            record = self.compare_tab.store[0]
        if record is None:
            QMessageBox.information(self, "Save model", "Select a run in the Compare tab first (train one if the "
                                    "list is empty).")
            self.tabs.setCurrentWidget(self.compare_tab)
            return None
        saved = self.compare_tab.save_model(record, path)
        if saved is not None:
            self.settings.add_recent_model(saved)
            self.settings.set_last_dir(saved)
        return saved

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        paths = self.settings.recent_models()
        for p in paths:
            action = self.recent_menu.addAction(Path(p).name)
            action.setToolTip(p)
            action.setStatusTip(p)
            action.triggered.connect(lambda _=False, p=p: self.open_model(p))
        if paths:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction("Clear list")
            clear.triggered.connect(self.settings.clear_recent_models)
        else:
            none = self.recent_menu.addAction("(none yet)")
            none.setEnabled(False)

    # -- help ------------------------------------------------------------------------------------
    def show_about(self) -> QDialog:
        """The About box, rendered from ``resources/about.md``."""
        if self.about_dialog is None:
            from mlp_studio_resources import resource_path

            dialog = QDialog(self)
            dialog.setWindowTitle("About MLP Studio")
            browser = QTextBrowser()
            browser.setOpenExternalLinks(True)
            try:
                browser.setMarkdown(resource_path("about.md").read_text(encoding="utf-8"))
            except OSError as exc:
                browser.setPlainText(f"MLP Studio\n\n(The about text could not be read: {exc})")
            buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
            buttons.rejected.connect(dialog.close)
            layout = QVBoxLayout(dialog)
            layout.addWidget(browser)
            layout.addWidget(buttons)
            dialog.resize(620, 560)
            self.about_dialog = dialog
            self.about_browser = browser
        self.about_dialog.show()
        self.about_dialog.raise_()
        return self.about_dialog

    # -- settings and closing ------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        geometry = self.settings.geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1320, 860)
        state = self.settings.window_state()
        if state is not None:
            self.restoreState(state)
        config = self.settings.last_config()
        if config is not None:
            try:
                self.train_tab.panel.set_config(config)
            except ValueError:
                pass  # a value this version's form does not offer: keep the defaults
        tab = self.settings.current_tab()
        if tab in self.TAB_NAMES:
            self.tabs.setCurrentIndex(self.TAB_NAMES.index(tab))

    def save_settings(self) -> None:
        self.settings.set_geometry(self.saveGeometry())
        self.settings.set_window_state(self.saveState())
        self.settings.set_current_tab(self.TAB_NAMES[self.tabs.currentIndex()])
        panel = self.train_tab.panel
        if panel.is_valid():
            self.settings.set_last_config(panel.config())
        self.settings.sync()

    def closeEvent(self, event) -> None:
        if self.session.is_running() and self.confirm_close:
            answer = QMessageBox.question(
                self, "Quit MLP Studio",
                "A training run is going. Quit anyway? The run is stopped and its model is not kept "
                "(stop it first and save it from the Compare tab to keep it).")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        # Stop the worker and wait for its thread: no thread may outlive the window (Qt aborts
        # when a running QThread is destroyed). A batch ends within a second; reading a data set
        # from its .gz files can take longer, so keep waiting with the window already gone.
        if not self.session.shutdown(10_000):
            self.hide()
            self.session.shutdown(120_000)
        if hasattr(self.data_tab, "cancel"):
            self.data_tab.cancel()
        self.save_settings()
        event.accept()
