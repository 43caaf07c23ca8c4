"""The model the window is using: which weights, on which device, loaded in the background.

The :class:`ModelSession` owns the ``model.Classifier``. Widgets never touch it:
they receive :class:`ModelState` (plain data) through signals, and jobs that
need the classifier get it from :meth:`ModelSession.classifier` in their worker.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, Signal

import model
from inception_gui.core.workers import CancelToken, WorkerHub
from model.errors import DownloadCancelled, WeightsUnavailableError

_MODEL_KEY = "model"  # loads and moves: only the newest may set the model

__all__ = ["ModelSession", "ModelState"]


@dataclass(frozen=True)
class ModelState:
    """What the window shows about the loaded model."""

    weights: str  # what was asked for: "imagenet", "none" or a path
    display_name: str  # "ImageNet (IMAGENET1K_V1)", a file name, "untrained (random weights)"
    trained: bool  # False for random weights: predictions mean nothing
    variant: str  # "v3" or "paper"
    device: str  # "cpu", "cuda:0"
    precision: str  # "fp32", "bf16", "fp16"
    class_names: tuple[str, ...]  # the labels
    input_size: int  # side of the network's input
    has_aux: bool = True  # the auxiliary head is there (head-only runs save none)
    generation: int = 0  # which load this is: a device move keeps it, new weights do not


def _load_job(weights: str, device: str, precision: str):
    return model.load_classifier(weights, device=device, download=False, precision=precision)


def _move_job(classifier, device: str, precision: str):
    # Grad-CAM, feature-map and export jobs hold this lock while they use the network.
    with classifier.network_lock():
        classifier.to(device, precision=precision)
    return classifier


def _tuning_job(classifier):
    """auto's measurement, which the classifier runs in its own thread: wait for it here."""
    return classifier.wait_for_tuning(timeout=600)


def _download_job(session: ModelSession, token: CancelToken) -> str:
    last = [-1]

    def progress(done: int, total: int) -> None:
        step = int(done * 100 / total) if total else done >> 20
        if step != last[0]:
            last[0] = step
            session.download_progress.emit(done, total)  # queued to the GUI thread

    return str(model.download_imagenet_weights(progress=progress, cancel=token.is_set))


class ModelSession(QObject):
    """Loads weights, moves the model between devices, downloads ImageNet weights.

    Signals
    -------
    loading(str)
        Work started; the text says what (for the status bar).
    ready(ModelState)
        A model is loaded and usable.
    failed(str)
        Loading failed; the message names the file and the reason.
    weights_missing(str)
        The ImageNet weights are not cached; the message says where they go.
    download_progress(int, int)
        Bytes done and total (0 if unknown).
    download_finished(bool)
        A download ended: True if the weights are now cached.
    """

    loading = Signal(str)
    ready = Signal(object)
    failed = Signal(str)
    weights_missing = Signal(str)
    download_progress = Signal(int, int)
    download_finished = Signal(bool)
    precision_measured = Signal(object)  # auto's AutoChoice, once the figures are in
    _rechecked = Signal(object, object)  # (classifier, AutoChoice) from the measuring thread

    def __init__(self, hub: WorkerHub, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._hub = hub
        self._classifier = None
        self._state: ModelState | None = None
        self._generation = 0  # loads so far: results carry it to say which model made them
        self._download_worker = None
        self._download_token: CancelToken | None = None
        self.device = "cpu"
        self.precision = "auto"
        self._rechecked.connect(self._on_tuned)  # queued: emitted from the measuring thread

    @property
    def state(self) -> ModelState | None:
        """The loaded model's description, or None before the first load."""
        return self._state

    def classifier(self):
        """The loaded ``model.Classifier`` (for worker functions), or None."""
        return self._classifier

    def load(self, weights: str, device: str | None = None, precision: str | None = None) -> None:
        """Load ``weights`` ("imagenet", "none" or a path) in the background."""
        self.device = device or self.device
        self.precision = precision or self.precision
        label = "untrained weights" if weights == "none" else _short(weights)
        self.loading.emit(f"Loading {label} on {self.device}…")
        self._hub.start(
            "Loading weights",
            _load_job,
            weights,
            self.device,
            self.precision,
            key=_MODEL_KEY,  # only the newest load or move may set the model
            on_return=lambda clf: self._on_loaded(weights, clf, new=True),
            on_error=lambda exc: self._on_load_failed(weights, exc),
        )

    def set_device(self, device: str, precision: str | None = None) -> None:
        """Move the loaded model to ``device`` in the background."""
        if self._classifier is None or self._state is None:
            self.device, self.precision = device, precision or self.precision
            return
        previous = (self._state.device, self.precision)
        precision = precision or self.precision
        self.loading.emit(f"Moving the model to {device}…")
        weights = self._state.weights

        def moved(clf) -> None:
            self.device, self.precision = device, precision  # remembered only once it works
            self._on_loaded(weights, clf)

        def refused(exc: BaseException) -> None:
            self.device, self.precision = previous
            self.failed.emit(f"Could not use {device} ({precision}): {exc}")
            if self._state is not None:
                self.ready.emit(self._state)  # the model stays where it was

        self._hub.start(
            "Switching device",
            _move_job,
            self._classifier,
            device,
            precision,
            key=_MODEL_KEY,
            on_return=moved,
            on_error=refused,
        )

    def download_imagenet(self) -> None:
        """Download the ImageNet weights, then load them."""
        if self._download_worker is not None:
            return
        self._download_token = CancelToken()
        self.loading.emit("Downloading the ImageNet weights…")
        self._download_worker = self._hub.start(
            "Downloading ImageNet weights",
            _download_job,
            self,
            self._download_token,
            token=self._download_token,
            on_return=lambda _path: self._on_download_done(True),
            on_error=self._on_download_failed,
        )

    def cancel_download(self) -> None:
        """Stop a running download; nothing is written to the cache."""
        if self._download_token is not None:
            self._download_token.set()

    def _on_download_done(self, ok: bool) -> None:
        self._download_worker = None
        self.download_finished.emit(ok)
        if ok:
            self.load("imagenet")

    def _on_download_failed(self, exc: BaseException) -> None:
        self._download_worker = None
        self.download_finished.emit(False)
        if isinstance(exc, DownloadCancelled):
            self.failed.emit("Download cancelled; nothing was saved.")
        else:
            self.failed.emit(str(exc))

    def _on_loaded(self, weights: str, clf, new: bool = False) -> None:
        self._classifier = clf
        if new:
            self._generation += 1
        info = clf.info
        self._state = ModelState(
            weights=weights,
            display_name=info.display_name,
            trained=info.trained,
            variant=info.variant.value,
            device=str(clf.device),
            precision=clf.precision,
            class_names=tuple(info.class_names),
            input_size=info.preprocess.crop_size,
            has_aux=info.has_aux,
            generation=self._generation,
        )
        self.ready.emit(self._state)
        # A later check on the session's photos reports from its own thread: queued here.
        clf.on_rechecked = lambda choice, clf=clf: self._rechecked.emit(clf, choice)
        if clf.requested_precision == "auto":
            self._hub.start(
                "Measuring the precisions",
                _tuning_job,
                clf,
                key="precision tuning",
                on_return=lambda choice: self._on_tuned(clf, choice),
            )

    def _on_tuned(self, clf, choice) -> None:
        if clf is not self._classifier or choice is None or self._state is None:
            return  # another model, or moved since: its own measurement will report
        self._state = replace(self._state, precision=clf.precision)
        self.precision_measured.emit(choice)

    def _on_load_failed(self, weights: str, exc: BaseException) -> None:
        if isinstance(exc, WeightsUnavailableError):
            self.weights_missing.emit(str(exc))
        else:
            self.failed.emit(str(exc))


def _short(path: str) -> str:
    return "ImageNet weights" if path == "imagenet" else path.replace("\\", "/").rsplit("/", 1)[-1]
