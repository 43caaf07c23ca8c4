"""What a training run is asked to do, and the handle that pauses or stops it: torch-free.

:class:`TrainConfig` is the Train tab's form and the CLI's options as one frozen record; the
choices it accepts (:data:`TRAIN_FROM`, :data:`OPTIMIZERS`, :data:`SCHEDULES`, and the
precisions and variants of :mod:`model.precision` and :mod:`model.network.variants`) are
defined here once, for the engine, the CLI and the GUI alike.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, fields

from model.network.variants import MIN_INPUT_SIZE, VARIANT_NAMES
from model.precision import TRAINING_PRECISIONS
from model.training.recipes import PRESETS, Recipe, recipe_for

__all__ = [
    "OPTIMIZERS",
    "RECIPE_FIELDS",
    "SCHEDULES",
    "TRAIN_FROM",
    "TrainConfig",
    "TrainControl",
    "format_duration",
]

TRAIN_FROM = ("head", "mixed_7", "mixed_6", "all")  # how much of the network trains
OPTIMIZERS = ("rmsprop", "adamw", "sgd")
SCHEDULES = ("exponential", "cosine", "constant")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs: the Train tab's form and the CLI's options.

    The recipe's fields (optimizer to ``hflip``) left as None are filled, when the config
    is made, from the named ``preset`` for this starting point
    (:func:`model.training.recipes.recipe_for`): the measured recommended recipe, or the
    paper's. A given ``lr`` without ``body_lr`` keeps the recipe's ratio between the two.
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
    preset: str = "recommended"  # "recommended" (measured, by starting point) or "paper"
    epochs: int | None = None  # total, counting a resumed run's; None: the recipe's (resume: saved)
    batch_size: int = 32  # images per step (per process under torchrun)
    optimizer: str | None = None  # "rmsprop" (the paper's), "adamw" or "sgd"
    lr: float | None = None  # the head's learning rate (everything's, from scratch)
    body_lr: float | None = None  # pretrained layers that learn; None: the recipe's
    weight_decay: float | None = None  # decoupled for AdamW, L2 for RMSProp and SGD
    schedule: str | None = None  # "exponential" (0.94 every 2 epochs), "cosine", "constant"
    head_passes: int | None = None  # head only, cached: passes over the features an epoch
    head_first: int | None = None  # fine-tuning: passes fitting the new head first; 0: none
    keep_batchnorm_statistics: bool | None = None  # fine-tuning: pretrained BatchNorm stats stay
    label_smoothing: float | None = None  # epsilon of label-smoothed cross-entropy
    aux_weight: float | None = None  # weight of the auxiliary head's loss
    use_aux: bool | None = None  # train the aux head (only from mixed_6 or all: it reads Mixed_6)
    grad_clip: float | None = None  # clip the gradient norm to this; 0: no clipping
    input_size: int = 299  # square input side (>= 75)
    random_resized_crop: bool | None = None  # random crops keeping >= crop_scale of the image
    crop_scale: float | None = None  # the smallest share of the image a random crop keeps
    hflip: bool | None = None  # random horizontal flips (not for text, digits, asymmetric things)
    cache_features: bool = True  # head-only: compute backbone features once, reuse
    precision: str = "auto"  # "auto", "fp32", "bf16" or "fp16"
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:N", "mps"
    early_stopping_patience: int | None = None  # stop after this many epochs without better loss
    resume: str | None = None  # a last.safetensors, or the folder holding it, to continue
    num_workers: int = 0  # DataLoader worker processes (0: load in the training thread)

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {', '.join(PRESETS)}, not {self.preset!r}")
        self._fill_from_recipe()
        choices = {
            "train_from": TRAIN_FROM,
            "optimizer": OPTIMIZERS,
            "schedule": SCHEDULES,
            "precision": TRAINING_PRECISIONS,
            "variant": VARIANT_NAMES,
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
        for name in ("lr", "body_lr", "weight_decay", "grad_clip", "aux_weight"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, not {value}")
            if value is not None and (value < 0 or (value == 0 and name in ("lr", "body_lr"))):
                raise ValueError(f"{name} must be positive, not {value}")
        if not 0.0 < self.crop_scale <= 1.0:
            raise ValueError(f"crop_scale must be in (0, 1], not {self.crop_scale}")
        if self.head_passes < 1:
            raise ValueError(f"head_passes must be at least 1, not {self.head_passes}")
        if self.head_first < 0:
            raise ValueError(f"head_first must be 0 or more, not {self.head_first}")
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            raise ValueError("early_stopping_patience must be at least 1 (or None)")
        if self.num_workers < 0:
            raise ValueError("num_workers must be 0 or more")

    @property
    def recipe(self) -> Recipe:
        """The named recipe this config's unset fields came from."""
        return recipe_for(self.preset, self.train_from, self.weights)

    def _fill_from_recipe(self) -> None:
        recipe = self.recipe
        if self.lr is not None and self.body_lr is None and recipe.body_lr is not None:
            object.__setattr__(self, "body_lr", self.lr * recipe.body_lr / recipe.lr)
        for key, value in recipe.settings().items():
            if key == "epochs" and self.resume is not None:
                continue  # a resumed run's total comes from its saved state
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)


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
