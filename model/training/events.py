"""What a training run reports as it goes: small frozen records of plain data.

The engine yields these; the CLI prints them and the Train tab draws them, telling them
apart by type. Nothing here imports torch, so they can be imported before the window shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from model.data.folders import DatasetReport

__all__ = [
    "BatchProgress",
    "DatasetChecked",
    "EpochEnd",
    "ImageSkipped",
    "TrainEvent",
    "TrainingDone",
    "TrainingStarted",
]


@dataclass(frozen=True)
class DatasetChecked:
    """The first event: what the dataset check found."""

    report: DatasetReport


@dataclass(frozen=True)
class TrainingStarted:
    """The network is built: where and in what precision the run trains, and why."""

    device: str  # "cpu", "cuda:0"
    precision: str  # "fp32", "bf16" or "fp16"
    reason: str  # why: "asked for", or auto's measurement in one line
    processes: int = 1  # processes training together (torchrun)


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
    # "train", "caching" (the frozen network's feature pass), "head" (fitting a new head on
    # cached features before fine-tuning: batch and batches count passes) or "val"
    phase: str = "train"


@dataclass(frozen=True)
class ImageSkipped:
    """A file that could not be read mid-run (deleted, or replaced): left out, the run goes on.

    Said once a file; the run keeps trying it, so a file put back is trained on again.
    Single-process runs only: processes that train together must step together, so
    under torchrun such a file still stops the run.
    """

    path: str
    reason: str  # in words, as the dataset check words it
    epoch: int  # 1-based: the epoch that found it
    skipped: int  # files skipped so far in the run, this one included


@dataclass(frozen=True)
class EpochEnd:
    """One epoch trained, validated and saved."""

    epoch: int  # 1-based; 0: the new head, fitted before fine-tuning (head_first)
    epochs: int  # total epochs of the run
    train_loss: float  # mean training loss (smoothed, with the aux term)
    train_accuracy: float  # 0..1
    val_loss: float | None  # mean validation cross-entropy; None without validation images
    val_accuracy: float | None  # 0..1; None without validation images
    lr: float  # learning rate used in this epoch
    checkpoint: str  # last.safetensors
    best_checkpoint: str  # best.safetensors
    is_best: bool  # this epoch became best.safetensors
    eta_s: float  # estimated seconds until the run ends; 0.0 at epoch 0 (no epoch timed yet)


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
    unreadable: tuple[tuple[str, str], ...] = ()  # (path, reason) of files skipped mid-run


TrainEvent = (
    DatasetChecked | TrainingStarted | BatchProgress | ImageSkipped | EpochEnd | TrainingDone
)
