"""Every exception that callers of :mod:`model` catch, in one torch-free module.

The GUI and the CLI import these at module level to tell one failure from another
(``except WeightsUnavailableError``) without importing torch first. Each error that
concerns a file carries the file and the reason separately, so a message can name both.
"""

from __future__ import annotations

import os

__all__ = [
    "CheckpointError",
    "DeviceError",
    "DownloadCancelled",
    "ImageLoadError",
    "PrecisionError",
    "TrainingError",
    "WeightsUnavailableError",
]


class _FileError(Exception):
    """A file that cannot be used, with the file and the reason."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class CheckpointError(_FileError):
    """A weights file that cannot be used, with the file and the reason."""


class ImageLoadError(_FileError):
    """An image that could not be read, with the file and the reason.

    Attributes
    ----------
    path : str
        The file.
    reason : str
        Why, in words a person can act on.
    """


class WeightsUnavailableError(Exception):
    """The ImageNet weights are neither cached nor downloadable right now."""


class DownloadCancelled(Exception):
    """The person cancelled a download; nothing was written to the cache."""


class DeviceError(Exception):
    """A device that was asked for and cannot be used."""


class PrecisionError(ValueError):
    """A precision that is unknown, or that the device cannot run."""


class TrainingError(Exception):
    """Training cannot start or go on: the dataset, the weights or the settings, in words."""
