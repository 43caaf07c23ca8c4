"""The Train tab: fine-tune the network on a folder with one sub-folder per class."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from inception_gui.core.mime import paths_from_mime
from inception_gui.core.workers import WorkerHub
from inception_gui.train.audit_dialog import AuditDialog
from inception_gui.train.copies import CopyCheck
from inception_gui.train.form import TrainSettings
from inception_gui.train.jobs import ControlToken, check_job, holds_run, imagenet_on_disk, train_job
from inception_gui.train.mistakes_dialog import MistakesDialog
from inception_gui.train.results import TrainResults, duration, report_html
from model.training.config import TrainConfig, TrainControl
from model.training.events import (
    BatchProgress,
    DatasetChecked,
    EpochEnd,
    ImageSkipped,
    TrainingDone,
    TrainingStarted,
)

_CHECK_KEY = "dataset check"  # the newest check alone may show its report

__all__ = ["TrainTab"]


class TrainTab(QWidget):
    """Pick a folder, check it, set the recipe, train, watch the curves, use the model.

    Signals
    -------
    use_model(str)
        The person wants the Classify tab to use this checkpoint.
    finished(object)
        Training ended (the engine's ``TrainingDone``).
    status(str)
        A line for the status bar.
    """

    use_model = Signal(str)
    finished = Signal(object)
    status = Signal(str)

    def __init__(self, hub: WorkerHub, session=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hub = hub
        self._refused = False  # the progress line says why a start was refused
        self._saved: str | None = None  # the checkpoint this run wrote last
        self._report = None
        self._control = None
        self._worker = None
        self._done = None
        self._run_config = None  # the settings of the run on show
        self._started_at = 0.0
        self.setAcceptDrops(True)
        self._build()
        if session is not None:
            session.ready.connect(self._on_session_ready)

    # Layout ------------------------------------------------------------------------
    def _build(self) -> None:
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText(
            "A folder with one sub-folder per class (or drop it here)"
        )
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._on_browse_clicked)
        self.folder_edit.editingFinished.connect(self.check_folder)
        self._suggested_out = ""  # the last "Save to" this tab made up, not one typed
        self.val_edit = QLineEdit()
        self.val_edit.setPlaceholderText("Optional: a separate validation folder")
        self.val_edit.editingFinished.connect(self.check_folder)
        self.val_edit.textChanged.connect(lambda _text: self._update_val_fraction(self.running))
        self.val_fraction = QDoubleSpinBox(decimals=2, minimum=0.05, maximum=0.5, singleStep=0.05)
        self.val_fraction.setValue(0.2)
        self.val_fraction.setPrefix("or hold out ")
        self.val_fraction.setToolTip("Share of each class held out for validation (fixed seed)")
        # A check under way is for the fields as they were: an edit makes its report stale.
        for changed in (
            self.folder_edit.textChanged,
            self.val_edit.textChanged,
            self.val_fraction.valueChanged,
        ):
            changed.connect(lambda *_: self._hub.drop(_CHECK_KEY))
        self.out_edit = QLineEdit()
        self.out_edit.setToolTip(
            "Checkpoints are written here: last.safetensors and best.safetensors"
        )
        data = QGridLayout()
        data.addWidget(QLabel("Training folder"), 0, 0)
        data.addWidget(self.folder_edit, 0, 1)
        data.addWidget(self.browse_button, 0, 2)
        data.addWidget(QLabel("Validation"), 1, 0)
        data.addWidget(self.val_edit, 1, 1)
        data.addWidget(self.val_fraction, 1, 2)
        data.addWidget(QLabel("Save to"), 2, 0)
        data.addWidget(self.out_edit, 2, 1, 1, 2)

        self.report_view = QTextBrowser()
        self.report_view.setPlaceholderText("The dataset check appears here.")
        self.report_view.setMaximumHeight(170)
        self.copies = CopyCheck(self._hub, self._copy_check_source)
        self.copies.status.connect(self.status)

        self.settings = TrainSettings()

        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.use_button = QPushButton("Use this model")
        self.audit_button = QPushButton("Suspicious labels…")
        self.audit_button.setToolTip(
            "Rank the training images by how strongly the model disputes their folder's label, "
            "find near-copies, and move or exclude files (each after asking)"
        )
        self.audit_button.clicked.connect(self._on_audit_clicked)
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self._on_pause_clicked)
        self.stop_button.clicked.connect(self.stop)
        self.use_button.clicked.connect(self._on_use_clicked)
        self.start_button.setEnabled(False)
        buttons = QHBoxLayout()
        for b in (
            self.start_button,
            self.pause_button,
            self.stop_button,
            self.use_button,
            self.audit_button,
        ):
            buttons.addWidget(b)
        self.progress = QProgressBar()
        self.progress_label = QLabel()
        self.progress_label.setTextFormat(Qt.TextFormat.PlainText)  # paths and errors in it
        # Long messages (an error with a path, say) wrap instead of widening the window.
        self.progress_label.setWordWrap(True)
        self.progress_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addLayout(data)
        lv.addWidget(self.report_view)
        lv.addWidget(self.copies)
        lv.addWidget(self.settings)
        lv.addStretch(1)
        lv.addLayout(buttons)
        lv.addWidget(self.progress)
        lv.addWidget(self.progress_label)

        self.results = TrainResults()
        self.results.cell_clicked.connect(self._on_confusion_cell_clicked)
        # The parts tests and the screenshot script look at.
        self.loss_plot, self.confusion = self.results.loss_plot, self.results.confusion
        # The form scrolls rather than squeezing its fields (Advanced open, a small window).
        self.form_area = QScrollArea()
        self.form_area.setWidget(left)
        self.form_area.setWidgetResizable(True)
        self.form_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form_area.setMinimumWidth(left.minimumSizeHint().width() + 24)
        splitter = QSplitter()
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.form_area)
        splitter.addWidget(self.results)
        splitter.setSizes([520, 600])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._set_running(False)
        form = self.settings
        for changed in (
            self.folder_edit.textChanged,
            self.val_edit.textChanged,
            self.out_edit.textChanged,
            form.start_from.currentIndexChanged,
            form.train_from.currentIndexChanged,
            form.batch_size.valueChanged,
            form.input_size.valueChanged,
            form.precision.currentIndexChanged,
        ):
            changed.connect(self._on_inputs_changed)

    # Folder and dataset check --------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if self.running:  # the run's folders stay as they are until it ends
            return
        if any(Path(p).is_dir() for p in paths_from_mime(event.mimeData())):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        folders = [p for p in paths_from_mime(event.mimeData()) if Path(p).is_dir()]
        if folders and not self.running:
            self.set_folder(folders[0])
            event.acceptProposedAction()

    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Training folder", self.folder_edit.text())
        if folder:
            self.set_folder(folder)

    def set_folder(self, folder: str) -> None:
        """Use ``folder`` for training and check it."""
        self.folder_edit.setText(folder)
        self.check_folder()

    def _suggest_out(self, folder: str) -> None:
        """A new run folder named after ``folder``, unless the person chose one."""
        current = self.out_edit.text().strip()
        if current and current != self._suggested_out:
            return
        if Path(current).name.startswith(f"{Path(folder).name}-") and not holds_run(current):
            return  # already named after this folder, and still unused
        # <data>/inception-gui/runs, not Qt's <data>/<organisation>/<application name>
        # ("InceptionGUI/Inception GUI"): one plain folder a person can find.
        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
        stem = (
            Path(base)
            / "inception-gui"
            / "runs"
            / f"{Path(folder).name}-{time.strftime('%Y%m%d-%H%M%S')}"
        )
        candidate, n = stem, 1
        while holds_run(str(candidate)):  # a run started within the same second
            n += 1
            candidate = stem.with_name(f"{stem.name}-{n}")
        self._suggested_out = str(candidate)
        self.out_edit.setText(self._suggested_out)

    def check_folder(self) -> None:
        folder = self.folder_edit.text().strip()
        if not folder or self._worker is not None:
            return
        self._suggest_out(folder)
        self.start_button.setEnabled(False)
        self.report_view.setHtml("<i>Checking every image in the folder…</i>")
        self._hub.start(
            "Checking the dataset",
            check_job,
            folder,
            self.val_edit.text().strip() or None,
            self.val_fraction.value(),
            key=_CHECK_KEY,
            on_return=self._on_report_ready,
        )

    def _on_report_ready(self, report) -> None:
        self._report = report
        self.copies.set_report(report)
        counts = report.train_counts.values() if report.train_counts else ()
        self.settings.set_smallest_class(min(counts) if counts else None)
        self.report_view.setHtml(report_html(report))
        self.start_button.setEnabled(report.ok and self._worker is None)

    def _copy_check_source(self) -> tuple[str | None, int, str]:
        """The near-copy check's features: the run's starting weights, else ImageNet's."""
        recipe = self.settings.recipe()
        weights = recipe["weights"]
        if weights in (None, "none", "imagenet"):  # random weights' features tell nothing
            weights = "imagenet" if imagenet_on_disk() else None
        why_not = (
            "Near-copies are found with a trained network's features: download the ImageNet "
            "weights (the bar at the top), or choose a weights file to start from."
        )
        return weights, recipe["input_size"], why_not

    # Training ------------------------------------------------------------------------
    def config(self):
        """The ``TrainConfig`` the form describes."""
        return TrainConfig(
            data_dir=self.folder_edit.text().strip(),
            out_dir=self.out_edit.text().strip(),
            val_dir=self.val_edit.text().strip() or None,
            val_fraction=self.val_fraction.value(),
            **self.settings.recipe(),
        )

    def start(self) -> None:
        """Start training with the form's settings."""
        if self._worker is not None:
            return
        try:
            config = self.config()
        except ValueError as exc:  # a setting the engine refuses: say which
            self._cannot_start(str(exc))
            return
        if holds_run(config.out_dir):
            if config.out_dir != self._suggested_out:  # the person's folder: never written over
                self._cannot_start(
                    f"'{config.out_dir}' already holds a training run; choose another folder "
                    "to keep it"
                )
                return
            self._suggest_out(config.data_dir)  # ours: a new one beside it
            config = self.config()
        if config.weights == "imagenet" and not imagenet_on_disk():
            self._cannot_start(
                "the ImageNet weights are not downloaded yet: use Download ImageNet weights "
                "in the bar at the top (104 MB), or start from Scratch or a weights file"
            )
            return
        self._refused = False
        self._saved = None
        self._control = TrainControl()
        self._run_config = config
        self._done = None
        self.results.clear()
        self._started_at = time.monotonic()
        self._set_running(True)
        self.progress_label.setText("Starting…")
        self.progress.setRange(0, 0)  # busy until the first batch says how far it is
        # A refusal said before this run is no longer true: the status bar moves on.
        self.status.emit(f"Training on {Path(config.data_dir).name}…")
        self._worker = self._hub.start(
            "Training",
            train_job,
            config,
            self._control,
            self._report,
            token=ControlToken(self._control),
            on_yield=self._on_event,
            on_error=self._on_train_failed,
            on_finish=self._on_train_finished,
        )

    @property
    def running(self) -> bool:
        return self._worker is not None

    def stop(self) -> None:
        """Stop after the current batch; the last checkpoint stays."""
        if self._control is not None:
            self._control.cancel()
            self.progress_label.setText("Stopping after this batch…")

    def _on_session_ready(self, state) -> None:
        self.settings.set_loaded_model(
            state.weights, state.display_name, state.trained, imagenet_on_disk()
        )

    def _on_inputs_changed(self, *_args) -> None:
        # A refusal is about the choices as they were: once one changes, it no longer holds.
        if self._refused and not self.running:
            self._refused = False
            self.progress_label.clear()

    def _cannot_start(self, reason: str) -> None:
        self._refused = True
        self.progress_label.setText(f"Cannot start: {reason}")
        self.status.emit(f"Cannot start training: {reason}")

    def _on_pause_clicked(self) -> None:
        if self._control is None:
            return
        if self._control.paused:
            self._control.resume()
            self.pause_button.setText("Pause")
        else:
            self._control.pause()
            self.pause_button.setText("Resume")
            self.progress_label.setText("Paused")

    def _on_event(self, event) -> None:
        if isinstance(event, DatasetChecked):
            self._on_report_ready(event.report)
        elif isinstance(event, BatchProgress):
            self._on_batch(event)
        elif isinstance(event, EpochEnd):
            self._on_epoch(event)
        elif isinstance(event, TrainingDone):
            self._on_done(event)
        elif isinstance(event, TrainingStarted):
            self.status.emit(f"Training on {event.device} in {event.precision} ({event.reason})")
        elif isinstance(event, ImageSkipped):
            self.status.emit(
                f"Skipped {event.path}: {event.reason} ({event.skipped} file(s) skipped so far)"
            )

    def _on_batch(self, e) -> None:
        total = max(1, e.batches)
        self.progress.setRange(0, total)
        self.progress.setValue(e.batch)
        what = {
            "caching": "Caching features",
            "head": "Fitting the new head",
            "val": "Validating",
        }.get(e.phase, "Training")
        unit = "pass" if e.phase == "head" else "batch"  # the head's passes over cached features
        if self._control is not None and self._control.paused:
            what = f"Paused · {what.lower()}"  # a batch that ended after the click
        # Caching runs the frozen network only: there is no loss or accuracy to show yet.
        scores = "" if e.phase == "caching" else f"loss {e.loss:.3f} · accuracy {e.accuracy:.1%} · "
        self.progress_label.setText(
            f"{what} — epoch {e.epoch}/{e.epochs}, {unit} {e.batch}/{e.batches} · "
            f"{scores}{e.images_per_s:.1f} images/s · ETA {duration(e.eta_s)}"
        )

    @property
    def saved_checkpoint(self) -> str | None:
        """The checkpoint the running (or last) run has written, or None before its first epoch."""
        return self._saved

    def _on_epoch(self, e) -> None:
        self._saved = str(e.checkpoint)
        self.results.add_epoch(e)
        best = " (best so far)" if e.is_best else ""
        if e.val_accuracy is None:
            score = f"training loss {e.train_loss:.3f} (no validation images)"
        else:
            score = f"validation accuracy {e.val_accuracy:.1%}"
        # Epoch 0: the new head fitted on the frozen network before fine-tuning starts.
        what = f"Epoch {e.epoch}/{e.epochs}" if e.epoch else "The new head, fitted first"
        self.status.emit(f"{what}: {score}{best}; saved {Path(e.checkpoint).name}")

    def _on_done(self, done) -> None:
        self._done = done
        self.results.show_done(done)
        how = "stopped" if done.cancelled else ("stopped early" if done.stopped_early else "done")
        if done.best_checkpoint:
            kept = f"Best: {done.best_checkpoint}"
        else:
            kept = "No epoch finished, so no checkpoint was written."
        if done.unreadable:  # each was named in the status bar as it was found
            kept += f" ({len(done.unreadable)} unreadable file(s) skipped during the run)"
        if done.cancelled:
            self.progress.setRange(0, 1)
            self.progress.reset()  # stopped: not "100%" of anything
        else:
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
        if done.epochs_run == 0 and done.last_epoch == 0 and done.best_checkpoint:
            kept = f"The new head, fitted first, was saved. {kept}"
        self.progress_label.setText(
            f"Training {how} after {done.epochs_run} epoch(s) in "
            f"{duration(time.monotonic() - self._started_at)}. {kept}"
        )
        self.finished.emit(done)

    def _on_train_failed(self, exc: BaseException) -> None:
        self.progress_label.setText(f"Training could not run: {exc}")
        self.status.emit(f"Training: {exc}")

    def _on_train_finished(self) -> None:
        self._worker = None
        self._control = None
        self._set_running(False)
        self.pause_button.setText("Pause")

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running and bool(self._report and self._report.ok))
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.use_button.setEnabled(not running and self._best_checkpoint() is not None)
        self.audit_button.setEnabled(not running and self._best_checkpoint() is not None)
        self.copies.set_allowed(not running)
        inputs = (self.folder_edit, self.browse_button, self.val_edit, self.out_edit)
        for w in (*inputs, self.settings):
            w.setEnabled(not running)
        self._update_val_fraction(running)

    def _update_val_fraction(self, running: bool) -> None:
        # A validation folder replaces the held-out share; a run keeps its split.
        self.val_fraction.setEnabled(not running and not self.val_edit.text().strip())

    def _best_checkpoint(self) -> str | None:
        done = self._done
        if done is None:
            return None
        path = done.best_checkpoint or done.last_checkpoint
        return str(path) if path and Path(path).is_file() else None

    def _on_confusion_cell_clicked(self, true_index: int, predicted_index: int) -> None:
        if self._done is None:
            return
        self.mistakes_dialog = MistakesDialog(
            self._hub, self._done, true_index, predicted_index, self, config=self._run_config
        )
        self.mistakes_dialog.open()

    def _on_audit_clicked(self) -> None:
        if self._done is None or self._run_config is None:
            return
        self.audit_dialog = AuditDialog(self._hub, self._done, self._run_config, self)
        self.audit_dialog.retrain.connect(self.retrain)
        self.audit_dialog.open()

    def retrain(self) -> None:
        """A new run with the same settings, into a new folder, on the folder as it is now."""
        if self._worker is not None:
            return
        self._report = None  # files may have moved: the engine checks the folder anew
        self._suggest_out(self.folder_edit.text().strip())
        self.start()

    def _on_use_clicked(self) -> None:
        path = self._best_checkpoint()
        if path:
            self.use_model.emit(path)
