"""Where the fine-tuned model goes wrong: the validation images behind a confusion-matrix cell.

:class:`model.training.engine.TrainingDone` carries, for the best epoch, one
``(path, true, predicted, loss)`` row per validation image. This module picks
a cell's rows, computes each image's top-5 on demand (the training run does
not keep them) and says how to show a file in the system's file manager.
Nothing here moves, renames or deletes anything.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from typing import NamedTuple

__all__ = ["ValSample", "cell_samples", "reveal_in_file_manager_command", "top5_for"]


class ValSample(NamedTuple):
    """One validation image of a finished run, as ``TrainingDone.val_samples`` holds it."""

    path: str  # the image file
    true_index: int  # its folder's class
    predicted_index: int  # the network's top-1
    loss: float  # its cross-entropy


def cell_samples(
    val_samples: Iterable[Sequence], true_index: int, predicted_index: int
) -> list[ValSample]:
    """The validation images in one confusion-matrix cell, highest loss first.

    Parameters
    ----------
    val_samples : iterable of (path, true, predicted, loss)
        ``TrainingDone.val_samples``.
    true_index, predicted_index : int
        The cell: its row (true class) and column (predicted class).

    Returns
    -------
    list of ValSample
        Exactly the images counted in that cell; ties in loss keep path order.
    """
    rows = (ValSample(str(p), int(t), int(q), float(loss)) for p, t, q, loss in val_samples)
    chosen = [
        s for s in rows if s.true_index == true_index and s.predicted_index == predicted_index
    ]
    return sorted(chosen, key=lambda s: (-s.loss, s.path))


def top5_for(classifier, paths: Iterable[str | os.PathLike[str]], k: int = 5) -> list:
    """Each image's top-``k`` from ``classifier``, one :class:`model.ImageResult` per path.

    A file that has moved or become unreadable since training gets a result
    with ``error`` set; the others are still classified.
    """
    return classifier.predict([os.fspath(p) for p in paths], k=k)


def reveal_in_file_manager_command(
    path: str | os.PathLike[str], platform: str | None = None
) -> list[str]:
    """The command that shows ``path`` in the file manager (for ``subprocess``).

    macOS and Windows select the file in its folder; on Linux and other
    systems ``xdg-open`` opens the folder, as there is no portable way to
    select a file there.

    Parameters
    ----------
    path : str or PathLike
        The file.
    platform : str, optional
        ``sys.platform`` by default; given for tests.
    """
    platform = platform or sys.platform
    full = os.path.abspath(os.fspath(path))
    if platform == "darwin":
        return ["open", "-R", full]
    if platform.startswith("win"):
        # "/select," and the path as separate arguments: explorer splits on the comma
        # itself, and list2cmdline then quotes a path with spaces correctly.
        return ["explorer", "/select,", full]
    return ["xdg-open", os.path.dirname(full) or "."]
