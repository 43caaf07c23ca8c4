"""Typed records of a run: the running meter, an epoch, a validation, and what run files save.

The engine keeps its bookkeeping in these instead of lists and dicts. The resume state
file still stores plain dicts (``to_dict``), so ``torch.load(weights_only=True)`` reads it
and runs saved before these records existed resume unchanged.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["BestEpoch", "EpochRecord", "Meter", "RunSnapshot", "ValidationSummary"]


@dataclass
class Meter:
    """Running sums of one pass: loss times images, images right, images seen."""

    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0

    def add(self, loss: float, correct: int, images: int) -> None:
        """Count one batch whose mean loss is ``loss``."""
        self.loss_sum += loss * images
        self.correct += correct
        self.seen += images

    @property
    def loss(self) -> float:
        return self.loss_sum / max(self.seen, 1)

    @property
    def accuracy(self) -> float:
        return self.correct / max(self.seen, 1)


@dataclass(frozen=True)
class EpochRecord:
    """One finished epoch: what the history of a run holds."""

    epoch: int  # 1-based; 0: the new head fitted before fine-tuning (recipe's head_first)
    train_loss: float  # mean training loss (smoothed, with the aux term)
    train_accuracy: float  # 0..1
    val_loss: float | None  # None without validation images
    val_accuracy: float | None  # 0..1; None without validation images
    lr: float  # learning rate used in the epoch

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpochRecord:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})

    @property
    def watched_loss(self) -> float:
        """The loss early stopping watches: validation's, or training's without validation."""
        return self.val_loss if self.val_loss is not None else self.train_loss


@dataclass(frozen=True)
class ValidationSummary:
    """A validation pass: loss, accuracy, confusion matrix, per-class accuracy, per-image rows."""

    val_loss: float | None = None  # None without validation images
    val_accuracy: float | None = None
    confusion: tuple[tuple[int, ...], ...] = ()  # rows: true class, columns: predicted
    per_class: tuple[float, ...] = ()  # recall of each class
    samples: tuple[tuple[str, int, int, float], ...] = ()  # (path, true, predicted, loss)

    def to_dict(self) -> dict[str, Any]:
        return {
            "val_loss": self.val_loss,
            "val_accuracy": self.val_accuracy,
            "confusion": [list(row) for row in self.confusion],
            "per_class": list(self.per_class),
            "samples": [list(s) for s in self.samples],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationSummary:
        return cls(
            data.get("val_loss"),
            data.get("val_accuracy"),
            tuple(tuple(int(v) for v in row) for row in data.get("confusion", ())),
            tuple(float(v) for v in data.get("per_class", ())),
            tuple((str(s[0]), int(s[1]), int(s[2]), float(s[3])) for s in data.get("samples", ())),
        )


@dataclass(frozen=True)
class BestEpoch:
    """The epoch that best.safetensors holds, with its validation."""

    epoch: int
    train_loss: float
    validation: ValidationSummary

    def beaten_by(self, record: EpochRecord) -> bool:
        """Whether ``record`` is better: validation accuracy, then loss; else training loss."""
        v = self.validation
        if record.val_accuracy is None or v.val_accuracy is None:
            return record.train_loss < self.train_loss
        return record.val_accuracy > v.val_accuracy or (
            record.val_accuracy == v.val_accuracy
            and record.val_loss is not None
            and record.val_loss < (v.val_loss if v.val_loss is not None else math.inf)
        )

    def to_dict(self) -> dict[str, Any]:
        return {**self.validation.to_dict(), "epoch": self.epoch, "train_loss": self.train_loss}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> BestEpoch | None:
        if not data:
            return None
        return cls(int(data["epoch"]), float(data["train_loss"]), ValidationSummary.from_dict(data))


@dataclass(frozen=True)
class RunSnapshot:
    """What the run files write after an epoch: the engine's state at that moment.

    The trainer makes one and hands it over, so the run files never read the trainer.
    """

    network: nn.Module  # the network (any device); its state is copied to the CPU
    trainable: tuple[str, ...]  # names of the top-level children that learn
    optimizer_state: dict[str, Any]
    scheduler_state: dict[str, Any]
    scaler_state: dict[str, Any]  # {} without loss scaling
    lr: float  # the learning rate the run started with
    precision: str  # "fp32", "bf16" or "fp16"
    cached: bool  # head-only training on cached features
    aux: bool  # the auxiliary head trains
    processes: int  # processes training together
    history: tuple[EpochRecord, ...] = field(default_factory=tuple)
    best: BestEpoch | None = None
    bad_epochs: int = 0  # epochs since the watched loss last fell
    lowest_loss: float = math.inf

    def weights(self) -> dict[str, torch.Tensor]:
        """The network's state dict on the CPU, contiguous: ready to write."""
        return {k: v.detach().to("cpu").contiguous() for k, v in self.network.state_dict().items()}
