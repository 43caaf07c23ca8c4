"""What the Train tab runs off the GUI thread, and what it asks of the disk before a run.

Plain functions and one cancel token; nothing here touches a widget or imports
torch before it is called.
"""

from __future__ import annotations

import model
from inception_gui.core.tokens import CancelToken
from model.training.run_folder import holds_run as engine_rule

__all__ = [
    "ControlToken",
    "check_job",
    "copies_job",
    "holds_run",
    "imagenet_on_disk",
    "train_job",
]


def imagenet_on_disk() -> bool:
    """Whether the ImageNet weights are in the torch hub cache (a run needs no download)."""
    return model.imagenet_cache_path().is_file()


def holds_run(folder: str) -> bool:
    """Whether ``folder`` holds a run, which the engine would refuse to write over."""
    return bool(folder) and engine_rule(folder)


def check_job(folder: str, val_dir: str | None, val_fraction: float):
    """The dataset check (every image is opened), in a worker."""
    return model.check_dataset(folder, val_dir=val_dir, val_fraction=val_fraction)


def copies_job(report, weights: str, input_size: int, token: CancelToken):
    """Near-copies in a checked dataset (one pass of the network an image), in a worker."""
    return model.dataset_duplicates(
        report, weights=weights, input_size=input_size, cancel=token.is_set
    )


def train_job(config, control, report):
    """The training run's events, in a worker."""
    yield from model.train(config, control, report)  # the report is re-checked if it does not fit


class ControlToken(CancelToken):
    """Lets the worker hub's shutdown cancel training through its TrainControl."""

    def __init__(self, control) -> None:
        super().__init__()
        self._control = control

    def set(self) -> None:
        super().set()
        self._control.cancel()
