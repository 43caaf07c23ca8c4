"""The main window: weights and device bar, banner, tabs, status bar, settings."""

from __future__ import annotations

import html
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

import model
from inception_gui.classify.tab import ClassifyTab
from inception_gui.core.session import ModelSession, ModelState
from inception_gui.core.workers import WorkerHub
from inception_gui.explorer.tab import ExplorerTab
from inception_gui.export_dialog import ExportDialog
from inception_gui.menus import build_menus
from inception_gui.train.tab import TrainTab
from inception_gui.widgets.common import WEIGHTS_FILTER, Banner, precision_combo
from inception_gui.widgets.formatting import as_written

__all__ = ["MainWindow"]

log = logging.getLogger(__name__)

MINIMUM_SIZE = QSize(1000, 600)


def _devices_job() -> list:
    return model.list_devices()


class MainWindow(QMainWindow):
    """Inception GUI's window. Call :meth:`start` once it is shown."""

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings()
        self.setWindowTitle("Inception GUI")
        self.setMinimumSize(MINIMUM_SIZE)  # below this the tabs cannot show their controls
        self.resize(1200, 780)
        self.hub = WorkerHub(self)
        self.session = ModelSession(self.hub, self)
        self._fallback_done = False
        self._classify_busy = False  # a batch is using the model: it must not move
        self._loading = False  # a load or device move is under way
        self._tab_status: dict[QWidget, str] = {}  # each tab's last line, shown while it is open
        self._model_status = ""  # the loaded model's line, for a tab with nothing to say
        self.last_error: tuple[str, str] | None = None  # the last error shown
        self._build()
        self._connect()
        self.actions = build_menus(self)
        self._restore_settings()

    # Layout ------------------------------------------------------------------------
    def _build(self) -> None:
        self.weights_label = QLabel("Weights: loading…")
        self.weights_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Long texts are cut (whole in the tooltip), never a reason for the window to widen.
        self.weights_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.load_button = QPushButton("Load weights file…")
        self.download_button = QPushButton("Download ImageNet weights")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip(
            "Save the model as ONNX or TorchScript, checked against PyTorch"
        )
        self.export_button.setEnabled(False)
        self.device_combo = QComboBox()
        self.device_combo.addItem("CPU", "cpu")
        self.device_combo.setToolTip("Where the network runs")
        self.precision_combo = precision_combo(
            "Number format for inference. Auto starts in fp32, times the formats this device "
            "runs, and switches to one only if it is clearly faster."
        )
        bar = QHBoxLayout()
        bar.addWidget(self.weights_label, 1)
        bar.addWidget(self.load_button)
        bar.addWidget(self.download_button)
        bar.addWidget(self.export_button)
        bar.addWidget(QLabel("Device"))
        bar.addWidget(self.device_combo)
        bar.addWidget(QLabel("Precision"))
        bar.addWidget(self.precision_combo)

        self.banner = Banner()
        self.banner.hide()
        self.tabs = QTabWidget()
        self.classify_tab = ClassifyTab(self.hub, self.session)
        self.explorer_tab = ExplorerTab(self.hub, self.session)
        self.tabs.addTab(self.classify_tab, "Classify")
        self.tabs.addTab(self.explorer_tab, "Explorer")
        self.train_tab = TrainTab(self.hub, self.session)
        self.tabs.addTab(self.train_tab, "Train")

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.status_label = QLabel("Starting…")
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)  # file and class names in it
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.download_progress = QProgressBar()
        self.download_progress.setMaximumWidth(260)
        self.download_cancel = QPushButton("Cancel download")
        self.download_progress.hide()
        self.download_cancel.hide()
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.download_progress)
        self.statusBar().addPermanentWidget(self.download_cancel)

    def _connect(self) -> None:
        self.hub.error.connect(self._on_hub_error)
        self.session.loading.connect(self._on_session_loading)
        self.session.ready.connect(self._on_session_ready)
        self.session.precision_measured.connect(self._on_session_precision_measured)
        self.session.failed.connect(self._on_session_failed)
        self.session.weights_missing.connect(self._on_session_weights_missing)
        self.session.download_progress.connect(self._on_session_download_progress)
        self.session.download_finished.connect(self._on_session_download_finished)
        self.load_button.clicked.connect(self._on_load_clicked)
        self.download_button.clicked.connect(self._on_download_clicked)
        self.download_cancel.clicked.connect(self.session.cancel_download)
        self.export_button.clicked.connect(self._on_export_clicked)
        self.classify_tab.image_selected.connect(self.explorer_tab.set_image)
        self.classify_tab.busy.connect(self._on_classify_busy)
        self.device_combo.activated.connect(self._on_device_activated)
        self.precision_combo.activated.connect(self._on_device_activated)
        self.banner.action.connect(self._on_banner_action)
        for tab in (self.classify_tab, self.explorer_tab, self.train_tab):
            tab.status.connect(lambda text, t=tab: self._on_tab_status(t, text))
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        self.train_tab.use_model.connect(self._on_train_use_model)

    # Start-up and settings ----------------------------------------------------------
    def start(self, paths: list[str] | None = None) -> None:
        """Load the model (in the background) and classify ``paths`` once it is ready."""
        weights = str(self.settings.value("weights", "imagenet"))
        device = str(self.settings.value("device", "cpu"))
        precision = str(self.settings.value("precision", "auto"))
        self.session.load(weights, device, precision)
        if paths:  # "Open with" or the command line: the files are what the person wants
            self.tabs.setCurrentWidget(self.classify_tab)
            self.classify_tab.classify(list(paths))
        self.hub.start("Listing devices", _devices_job, on_return=self._on_devices_listed)

    def _restore_settings(self) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(geometry)
        self.tabs.setCurrentIndex(int(self.settings.value("tab", 0)))
        self.classify_tab.last_folder = str(self.settings.value("last_folder", ""))
        index = self.precision_combo.findData(self.settings.value("precision", "auto"))
        self.precision_combo.setCurrentIndex(max(index, 0))
        self.settings.beginGroup("train")
        saved = {key: self.settings.value(key) for key in self.settings.childKeys()}
        self.settings.endGroup()
        self.train_tab.settings.restore_values(saved)

    def _save_settings(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("tab", self.tabs.currentIndex())
        self.settings.setValue("last_folder", self.classify_tab.last_folder)
        for key, value in self.train_tab.settings.saved_values().items():
            self.settings.setValue(f"train/{key}", value)
        self.settings.setValue("device", self.session.device)
        self.settings.setValue("precision", self.session.precision)
        state = self.session.state
        if state is not None:
            self.settings.setValue("weights", state.weights)
        self.settings.sync()

    def confirm_close_during_training(self) -> bool:
        """Ask whether to stop a running training to close the window."""
        saved = self.train_tab.saved_checkpoint
        if saved:
            kept = f"The last checkpoint written stays on disk: {saved}"
        else:
            kept = "No epoch has finished yet, so no checkpoint has been written."
        answer = QMessageBox.question(
            self,
            "Training is running",
            as_written(f"Stop training and close? {kept}"),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.train_tab.running and not self.confirm_close_during_training():
            event.ignore()
            return
        self._save_settings()
        if self.hub.running:
            training = self.train_tab.running
            self.show_status(
                "Stopping training after this batch; the last checkpoint stays…"
                if training
                else "Stopping background work…"
            )
            # The wait below blocks the event loop: paint the message and the busy
            # cursor first, so that the window does not look hung.
            self.status_label.repaint()
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                self.hub.shutdown()
            finally:
                QApplication.restoreOverrideCursor()
        else:
            self.hub.shutdown()
        event.accept()

    # Model state --------------------------------------------------------------------
    def show_status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setToolTip(text)

    def _on_tab_status(self, tab: QWidget, text: str) -> None:
        # A tab's news (a Grad-CAM done, an epoch saved) is shown while that tab is open;
        # the others keep theirs for when they are opened again.
        self._tab_status[tab] = text
        if self.tabs.currentWidget() is tab:
            self.show_status(text)

    def _on_tabs_current_changed(self, _index: int) -> None:
        self.show_status(self._tab_status.get(self.tabs.currentWidget()) or self._model_status)

    def _on_session_loading(self, text: str) -> None:
        self.show_status(text)
        self._loading = True
        self._update_model_controls()

    def _update_model_controls(self) -> None:
        # The model moves only while nothing uses it: no load or move under way, no batch running.
        self.load_button.setEnabled(not self._loading)
        movable = not self._loading and not self._classify_busy
        self.device_combo.setEnabled(movable)
        self.precision_combo.setEnabled(movable)

    def _on_session_ready(self, state: ModelState) -> None:
        self.export_button.setEnabled(True)
        self._loading = False
        self._update_model_controls()
        # Also after a refused choice: the combos show what the model runs with now.
        self._select_combo(self.device_combo, state.device)
        self._select_combo(self.precision_combo, self.session.precision)

        self.weights_label.setText(  # the name is the file's: escaped, never read as markup
            f"Weights: <b>{html.escape(state.display_name)}</b> · {state.variant} · "
            f"{len(state.class_names)} classes · {state.input_size} px"
        )
        self.weights_label.setToolTip(self.weights_label.text())
        self._model_status = f"Ready: {state.display_name} on {state.device} ({state.precision})"
        self._tab_status.clear()  # a new model: what the tabs said was about the last one
        self.show_status(self._model_status)
        if state.trained:
            self.banner.hide()
        else:
            self._show_untrained_banner(
                "Untrained (random) weights are loaded: predictions are meaningless until you "
                "download the ImageNet weights or load a trained weights file."
            )
        self.download_button.setVisible(state.trained and state.weights != "imagenet")

    def _on_session_precision_measured(self, choice) -> None:
        """Show auto's figures beside the precisions, and say what it chose."""
        timings = {t.precision: t for t in choice.timings}
        for i in range(self.precision_combo.count()):
            key = self.precision_combo.itemData(i)
            timing = timings.get(key)
            if key == "auto":
                text, tip = f"Auto ({choice.chosen})", f"Auto: {choice.reason}"
            elif timing is None:
                text, tip = key, key
            else:
                text = f"{key} · {timing.ms:.0f} ms"
                tip = f"{key}: {timing.ms:.1f} ms a photo, measured here"
                if timing.checked:  # the guard's figures, beside the time
                    text += f" · top-1 {timing.top1:.1%}"
                    tip += f"; {timing.agreement_text()}" + ("" if timing.agrees else " (refused)")
            self.precision_combo.setItemText(i, text)
            self.precision_combo.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)
        # The model's own line learns the choice; a tab's news (a batch classified while
        # the figures came in) is not overwritten by it.
        state = self.session.state
        if state is not None:
            self._model_status = (
                f"Ready: {state.display_name} on {state.device} "
                f"({choice.chosen}, chosen by auto: the Precision menu says why)"
            )
        if not self._tab_status.get(self.tabs.currentWidget()):
            self.show_status(self._model_status)

    def _show_untrained_banner(self, text: str) -> None:
        self.banner.set_message(
            "⚠ " + text,
            {"download": "Download ImageNet weights (104 MB)", "load": "Load weights file…"},
        )
        self.banner.show()

    def _on_session_failed(self, message: str) -> None:
        self._loading = False
        self._update_model_controls()
        self.show_status(message)
        self._report("Weights", message)
        if self.session.state is None:
            self._fall_back_to_untrained()

    def _on_session_weights_missing(self, message: str) -> None:
        self.show_status("The ImageNet weights are not downloaded yet.")
        log.info(message)
        self._fall_back_to_untrained()

    def _fall_back_to_untrained(self) -> None:
        if self._fallback_done:
            return
        self._fallback_done = True
        # A saved device or precision may be what failed: fall back on the CPU, auto.
        self.session.load("none", "cpu", "auto")

    def _on_banner_action(self, key: str) -> None:
        if key == "download":
            self._on_download_clicked()
        elif key == "load":
            self._on_load_clicked()

    def _on_load_clicked(self) -> None:
        start = str(self.settings.value("weights_folder", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Load weights", start, WEIGHTS_FILTER)
        if path:
            self.settings.setValue("weights_folder", str(Path(path).parent))
            self.load_weights(path)

    def load_weights(self, weights: str) -> None:
        """Switch to ``weights`` ("imagenet", "none" or a file path)."""
        self.session.load(weights)

    def _on_download_clicked(self) -> None:
        self.download_progress.setRange(0, 0)
        self.download_progress.show()
        self.download_cancel.show()
        self.download_button.setEnabled(False)
        self.session.download_imagenet()

    def _on_session_download_progress(self, done: int, total: int) -> None:
        if total:
            self.download_progress.setRange(0, 1000)
            self.download_progress.setValue(int(done * 1000 / total))
            self.download_progress.setFormat(f"{done / 2**20:.0f} / {total / 2**20:.0f} MB")
        self.show_status("Downloading the ImageNet weights…")

    def _on_session_download_finished(self, ok: bool) -> None:
        self.download_progress.hide()
        self.download_cancel.hide()
        self.download_button.setEnabled(True)

    def _on_export_clicked(self) -> None:
        state = self.session.state
        if state is None:
            return
        self.export_dialog = ExportDialog(
            self.hub,
            self.session.classifier(),
            state.display_name,
            self.classify_tab.sample_sources(),
            self,
            folder=str(Path(state.weights).parent) if Path(state.weights).is_file() else "",
        )
        self.export_dialog.open()

    def _on_train_use_model(self, path: str) -> None:
        self.load_weights(path)
        self.tabs.setCurrentWidget(self.classify_tab)

    # Devices ------------------------------------------------------------------------
    def _on_devices_listed(self, devices: list) -> None:
        wanted = self.session.device
        self.device_combo.clear()
        items = self.device_combo.model()
        for i, d in enumerate(devices):
            self.device_combo.addItem(d.label if d.available else f"{d.label} — {d.reason}", d.key)
            if not d.available:
                items.item(i).setEnabled(False)
                items.item(i).setToolTip(d.reason)
        index = self.device_combo.findData(wanted)
        self.device_combo.setCurrentIndex(max(index, 0))

    def _on_classify_busy(self, busy: bool) -> None:
        # The classifier is shared with the running job; it moves only between jobs.
        self._classify_busy = busy
        self._update_model_controls()

    @staticmethod
    def _select_combo(combo: QComboBox, key: str) -> None:
        index = combo.findData(key)
        if index >= 0:
            combo.setCurrentIndex(index)

    def _on_device_activated(self, _index: int) -> None:
        device = self.device_combo.currentData() or "cpu"
        precision = self.precision_combo.currentData() or "auto"
        if device != self.session.device or precision != self.session.precision:
            self.session.set_device(device, precision)

    # Errors -------------------------------------------------------------------------
    def _on_hub_error(self, job: str, message: str) -> None:
        self._report(job, message)

    def _report(self, title: str, message: str) -> None:
        """The one place errors are shown: a non-blocking message box and the status bar."""
        self.show_status(f"{title}: {message}")
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self
        )
        box.setTextFormat(Qt.TextFormat.PlainText)  # errors name files: never read as markup
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.last_error = (title, message)
