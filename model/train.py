"""Fine-tuning on a local folder: the configuration, the events, and the engine's front door.

``train(config)`` is a plain generator. It checks the dataset, builds the
network from the starting weights, and trains, yielding small frozen
dataclasses of plain data (safe to pass between threads) as it goes::

    from model.train import TrainConfig, train

    for event in train(TrainConfig("photos/", "runs/photos", epochs=5)):
        print(event)

Between batches it honours a :class:`TrainControl` (pause, resume, cancel)
that another thread may flip. After each epoch, rank 0 writes
``last.safetensors`` (the project's checkpoint: the Classify tab loads it with
the person's class names) and ``last.state.pt`` (weights, optimizer, scheduler
and history, to resume), and copies the best epoch by validation accuracy to
``best.safetensors``. Every write is atomic, so killing the process at any
moment leaves the last good checkpoint.

Under ``torchrun --nproc-per-node N`` the same call trains with
DistributedDataParallel (see :mod:`model.distributed`). For checking that the
replicas agree, setting ``INCEPTION_GUI_DIGEST_DIR`` makes every process write
``rank<N>.sha256``, a digest of its final weights, into that folder.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from model.data import DatasetReport, check_dataset
from model.files import file_problem
from model.network import MIN_INPUT_SIZE
from model.recipe import OPTIMIZERS, PRECISIONS, SCHEDULES, TRAIN_FROM, detect_precision

__all__ = [
    "BatchProgress",
    "DatasetChecked",
    "EpochEnd",
    "TrainConfig",
    "TrainControl",
    "TrainEvent",
    "TrainingDone",
    "TrainingError",
    "detect_precision",
    "train",
]

LAST = "last.safetensors"  # the checkpoint of the latest finished epoch
BEST = "best.safetensors"  # the checkpoint of the epoch with the best validation accuracy
STATE = "last.state.pt"  # everything else a resumed run needs


class TrainingError(Exception):
    """Training cannot start or go on: the dataset, the weights or the settings, in words."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs: the Train tab's form and the CLI's options.

    Learning rate and weight decay left as None take the optimizer's default
    (:func:`model.recipe.default_lr`, :func:`model.recipe.default_weight_decay`).
    When resuming, the recipe (every field from ``seed`` to ``cache_features``
    except ``epochs``) comes from the saved run, so that the optimizer state fits.
    """

    data_dir: str  # folder with one sub-folder of images per class
    out_dir: str  # where last/best checkpoints are written (created if missing)
    val_dir: str | None = None  # separate validation folder; None: split data_dir
    val_fraction: float = 0.2  # share of each class held out when there is no val_dir
    seed: int = 0  # seed of the split, the shuffling and the new classifier's weights
    weights: str = "imagenet"  # starting point: "imagenet", "none" (scratch) or a file
    variant: str = "v3"  # layout for "imagenet" and "none"; a file brings its own
    train_from: str = "head"  # "head", "mixed_7", "mixed_6" or "all"
    epochs: int | None = 10  # total epochs, counting a resumed run's; None: the saved total
    batch_size: int = 32  # images per step (per process under torchrun)
    optimizer: str = "rmsprop"  # "rmsprop" (the paper's), "adamw" or "sgd"
    lr: float | None = None  # learning rate; None: the optimizer's default
    weight_decay: float | None = None  # None: 4e-5 (RMSProp, SGD) or 0.05 (AdamW)
    schedule: str = "exponential"  # "exponential" (0.94 every 2 epochs), "cosine", "constant"
    label_smoothing: float = 0.1  # epsilon of label-smoothed cross-entropy
    aux_weight: float = 0.4  # weight of the auxiliary head's loss
    use_aux: bool = True  # train with the aux head (only from mixed_6 or all: it reads Mixed_6)
    grad_clip: float | None = 2.0  # clip the gradient norm to this; None: no clipping
    input_size: int = 299  # square input side (>= 75)
    random_resized_crop: bool = True  # Inception-style random crops; off: centre crop
    hflip: bool = True  # random horizontal flips
    cache_features: bool = True  # head-only: compute backbone features once, reuse
    precision: str = "auto"  # "auto", "fp32", "bf16" or "fp16"
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:N", "mps"
    early_stopping_patience: int | None = None  # stop after this many epochs without better loss
    resume: str | None = None  # a last.safetensors, or the folder holding it, to continue
    num_workers: int = 0  # DataLoader worker processes (0: load in the training thread)

    def __post_init__(self) -> None:
        choices = {
            "train_from": TRAIN_FROM,
            "optimizer": OPTIMIZERS,
            "schedule": SCHEDULES,
            "precision": PRECISIONS,
            "variant": ("v3", "paper"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"{name} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}"
                )
        if self.input_size < MIN_INPUT_SIZE:
            raise ValueError(f"input_size must be at least {MIN_INPUT_SIZE}, not {self.input_size}")
        for name, what in (("data_dir", "the training folder"), ("out_dir", "a run folder")):
            if not str(getattr(self, name)).strip():
                raise ValueError(f"choose {what}: none was given")
        if self.weights == "none" and self.train_from == "head" and self.resume is None:
            raise ValueError(
                "an untrained network's features are random, so training only its head "
                "learns nothing: train everything, or start from ImageNet weights or a file"
            )
        if self.epochs is None and self.resume is None:
            raise ValueError("epochs must be given unless the run resumes")
        if self.epochs is not None and self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, not {self.epochs}")
        least = 1 if self.train_from == "head" else 2  # BatchNorm needs two images to train
        if self.batch_size < least:
            raise ValueError(f"batch_size must be at least {least} to train from {self.train_from}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), not {self.val_fraction}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), not {self.label_smoothing}")
        for name in ("lr", "weight_decay", "grad_clip", "aux_weight"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):  # NaN passes every comparison
                raise ValueError(f"{name} must be a finite number, not {value}")
        for name in ("lr", "weight_decay", "grad_clip"):
            value = getattr(self, name)
            if value is not None and (value < 0 or (value == 0 and name != "weight_decay")):
                raise ValueError(f"{name} must be positive (or None), not {value}")
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            raise ValueError("early_stopping_patience must be at least 1 (or None)")
        if self.num_workers < 0:
            raise ValueError("num_workers must be 0 or more")


def format_duration(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on: how the app and the CLI show times and ETAs."""
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


# The fields a resumed run takes from the saved run rather than from its config.
RECIPE_FIELDS = tuple(
    f.name
    for f in fields(TrainConfig)
    if f.name not in ("data_dir", "out_dir", "val_dir", "epochs", "precision", "device")
    and f.name not in ("early_stopping_patience", "resume", "num_workers")
)


class TrainControl:
    """Pause, resume and cancel a run from another thread; the engine looks between batches."""

    def __init__(self) -> None:
        self._running = threading.Event()  # clear while paused
        self._running.set()
        self._cancelled = threading.Event()

    def pause(self) -> None:
        """Hold the run before its next batch."""
        self._running.clear()

    def resume(self) -> None:
        """Let a paused run go on."""
        self._running.set()

    def cancel(self) -> None:
        """Stop before the next batch; the last finished epoch's checkpoint stays."""
        self._cancelled.set()
        self._running.set()  # wake a paused run so that it can stop

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def wait_while_paused(self) -> None:
        """Block while paused; return at once when running or cancelled."""
        self._running.wait()


@dataclass(frozen=True)
class DatasetChecked:
    """The first event: what the dataset check found."""

    report: DatasetReport


@dataclass(frozen=True)
class BatchProgress:
    """One batch done. Loss and accuracy are means over the epoch so far (0 while caching)."""

    epoch: int  # 1-based
    epochs: int  # total epochs of the run
    batch: int  # 1-based, within this phase of the epoch
    batches: int  # batches in this phase of the epoch
    loss: float  # training loss (smoothed, with the aux term) or validation cross-entropy
    accuracy: float  # share of images classified right, 0..1
    images_per_s: float  # over the phase so far, all processes together
    eta_s: float  # estimated seconds until the run ends
    phase: str = "train"  # "train", "caching" (head-only feature cache) or "val"


@dataclass(frozen=True)
class EpochEnd:
    """One epoch trained, validated and saved."""

    epoch: int  # 1-based
    epochs: int  # total epochs of the run
    train_loss: float  # mean training loss (smoothed, with the aux term)
    train_accuracy: float  # 0..1
    val_loss: float | None  # mean validation cross-entropy; None without validation images
    val_accuracy: float | None  # 0..1; None without validation images
    lr: float  # learning rate used in this epoch
    checkpoint: str  # last.safetensors
    best_checkpoint: str  # best.safetensors
    is_best: bool  # this epoch became best.safetensors
    eta_s: float  # estimated seconds until the run ends


@dataclass(frozen=True)
class TrainingDone:
    """The last event. The confusion matrix and samples are the best epoch's validation."""

    out_dir: str
    last_checkpoint: str | None  # None if no epoch finished
    best_checkpoint: str | None  # None if no epoch finished
    epochs_run: int  # epochs finished by this call (a resumed run counts from where it began)
    cancelled: bool
    stopped_early: bool  # early stopping ended the run
    class_names: tuple[str, ...]
    confusion_matrix: tuple[tuple[int, ...], ...]  # rows: true class, columns: predicted
    per_class_accuracy: tuple[float, ...]  # recall of each class, 0..1 (0 without images)
    val_samples: tuple[tuple[str, int, int, float], ...]  # (path, true, predicted, loss)
    last_epoch: int = 0  # epoch number held by last.safetensors


TrainEvent = DatasetChecked | BatchProgress | EpochEnd | TrainingDone


def _state_path(resume: str) -> Path:
    path = Path(resume).expanduser()
    if path.is_dir():
        path = path / LAST
    return path.with_name(path.name.removesuffix(".safetensors") + ".state.pt")


def holds_run(out_dir: str | Path) -> bool:
    """Whether ``out_dir`` holds a run's files, which a new run there would replace."""
    out = Path(out_dir).expanduser()
    return any((out / name).exists() for name in (LAST, STATE))


def load_resume_state(resume: str) -> dict[str, Any]:
    """Read the state saved beside a ``last.safetensors`` (or in a run folder).

    Raises
    ------
    TrainingError
        There is no state file, or it cannot be read.
    """
    import torch

    path = _state_path(resume)
    if not path.exists():
        raise TrainingError(
            f"cannot resume from '{resume}': '{path.name}' (the optimizer state) is not in "
            f"'{path.parent}'; to start a new run from those weights, use them as the weights"
        )
    problem = file_problem(path, "a training state file")
    if problem is not None:  # before any open: a FIFO would block it for good
        raise TrainingError(f"cannot resume: '{path}' {problem}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise TrainingError(f"cannot resume: '{path}' is not readable ({exc})") from None
    if not isinstance(state, dict) or "model" not in state or "recipe" not in state:
        raise TrainingError(f"cannot resume: '{path}' is not a training state file")
    state["checkpoint_path"] = str(path.with_name(LAST))
    return state


def _with_saved_recipe(config: TrainConfig, state: dict[str, Any]) -> TrainConfig:
    """The saved run's recipe, and its total of epochs unless ``config`` sets a new one."""
    recipe = state["recipe"]
    config = replace(config, **{k: recipe[k] for k in RECIPE_FIELDS if k in recipe})
    if config.epochs is None:
        config = replace(config, epochs=int(recipe.get("epochs") or 0) or None)
    done = int(state.get("epoch", 0))
    if config.epochs is None or done >= config.epochs:
        raise TrainingError(
            f"the run in '{Path(state['checkpoint_path']).parent}' has already trained "
            f"{done} epoch(s); to go on, ask for more epochs in all (more than {done})"
        )
    return config


def train(
    config: TrainConfig,
    control: TrainControl | None = None,
    report: DatasetReport | None = None,
) -> Iterator[TrainEvent]:
    """Fine-tune Inception v3 on a class-per-folder dataset, yielding progress events.

    Parameters
    ----------
    config : TrainConfig
        The run.
    control : TrainControl, optional
        Pause, resume and cancel from another thread.
    report : DatasetReport, optional
        A dataset check already made (the Train tab's): used when it was made
        for this config's folders, split and seed, so that every image is not
        decoded twice and the split trained on is the one the person saw.

    Yields
    ------
    DatasetChecked
        First, always.
    BatchProgress, EpochEnd
        While training.
    TrainingDone
        Last, also after a cancel.

    Raises
    ------
    TrainingError
        After ``DatasetChecked`` when the dataset has errors; before it when
        the state to resume from cannot be read; or when the weights or the
        device cannot be used.
    """
    control = control or TrainControl()
    resume = load_resume_state(config.resume) if config.resume else None
    lock = _lock_run_folder(config.out_dir)  # before the check, so no run starts between
    try:
        if resume is None and holds_run(config.out_dir):
            # A new run's first epoch is always its best: it would replace that run's files.
            raise TrainingError(
                f"'{Path(config.out_dir).expanduser()}' already holds a training run ({LAST}): "
                "choose another folder, or resume that run"
            )
        yield from _train_locked(config, control, report, resume)
    finally:
        if lock is not None:
            lock.release()


def _lock_run_folder(out_dir: str):
    """The run folder's lock, taken by the process that writes it (rank 0); None on others."""
    from model.run_lock import RunFolderBusy, RunLock

    if int(os.environ.get("RANK", "0")) != 0:
        return None
    try:
        return RunLock.acquire(out_dir)
    except RunFolderBusy as exc:
        raise TrainingError(str(exc)) from None
    except OSError as exc:
        raise TrainingError(
            f"cannot write to the run folder '{Path(out_dir).expanduser()}' ({exc.strerror or exc})"
        ) from None


def _train_locked(
    config: TrainConfig,
    control: TrainControl,
    report: DatasetReport | None,
    resume: dict[str, Any] | None,
) -> Iterator[TrainEvent]:
    """The run itself, once its folder is locked (see :func:`train`)."""
    from model.device import DeviceError, resolve_device
    from model.distributed import join_world
    from model.trainer import Trainer

    if resume is not None:
        config = _with_saved_recipe(config, resume)
    try:
        device = resolve_device(config.device)
    except DeviceError as exc:
        raise TrainingError(str(exc)) from None
    world = join_world(device)
    try:
        if world.distributed or not _made_for(report, config):
            report = None
            if world.is_main:
                report = check_dataset(
                    config.data_dir, config.val_dir, config.val_fraction, config.seed
                )
            report = world.broadcast(report)
        yield DatasetChecked(report)
        if not report.ok:
            raise TrainingError("; ".join(report.errors))
        trainer = Trainer(config, report, world.device(device), world, resume)
        yield from trainer.run(control)
    finally:
        world.leave()


def _made_for(report: DatasetReport | None, config: TrainConfig) -> bool:
    """Whether ``report`` checked the folders and split that ``config`` trains on."""
    if report is None:
        return False
    val_dir = None if config.val_dir is None else str(config.val_dir)
    return (report.train_dir, report.val_dir, report.val_fraction, report.seed) == (
        str(config.data_dir),
        val_dir,
        config.val_fraction,
        config.seed,
    )
