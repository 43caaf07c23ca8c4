"""Functions that run in worker threads for the Classify tab. They return plain data only.

Pictures cross threads as :class:`Picture` (raw RGB bytes); the GUI thread turns
them into ``QImage``. Nothing here touches a widget.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import model.data
from inception_gui.core.pictures import PREVIEW_SIDE, Picture, pictures, small_rgb, to_picture
from model.files import atomic_write

__all__ = [
    "ClassifiedImage",
    "JobStarted",
    "classify_job",
    "expand_paths",
    "preview_job",
    "write_predictions_csv",
]


@dataclass(frozen=True)
class ClassifiedImage:
    """One image's outcome, with a thumbnail for the gallery."""

    source: str  # path, or a name for a pasted image
    predictions: tuple[tuple[str, int, float], ...]  # (label, index, probability), best first
    error: str | None  # why it could not be classified
    thumbnail: Picture | None  # None when the file could not be read
    preview: Picture | None = None  # the preview panel's picture, for a batch's first image only


@dataclass(frozen=True)
class JobStarted:
    """First thing a classify job yields: how many images will follow."""

    total: int
    duplicates: int = 0  # files named twice in the batch (a folder and a file in it), skipped
    already: int = 0  # files already in the list (pasted or dropped again), skipped


def file_key(path: str) -> str:
    """What makes two names the same file: the resolved path, in the system's case rules."""
    return os.path.normcase(os.path.realpath(path))


def _unique(paths: Iterable[str]) -> tuple[list[str], int]:
    """``paths`` without repeats of the same file (by resolved path); and how many went."""
    seen: set[str] = set()
    kept, skipped = [], 0
    for path in paths:
        key = file_key(path)
        if key in seen:
            skipped += 1
        else:
            seen.add(key)
            kept.append(path)
    return kept, skipped


def expand_paths(paths: Sequence[str]) -> list[str]:
    """Files and folders (recursively) to image files, in a stable order."""
    return [str(p) for p in model.data.iter_image_files(paths)]


def classify_job(
    classifier,
    items: Sequence,
    k: int = 5,
    cancel: Callable[[], bool] | None = None,
    known: frozenset[str] = frozenset(),
) -> Iterator[JobStarted | ClassifiedImage]:
    """Classify paths (folders expanded) or pasted ``(name, PIL image)`` pairs.

    Yields :class:`JobStarted` first, then one :class:`ClassifiedImage` per image in
    order, each as soon as it is ready. A file named twice (a folder and a file in
    it) is classified once; one whose :func:`file_key` is in ``known`` (already in the
    list) is skipped. The first image also carries its preview, made from
    the thumbnail's decode, so the panel showing it needs no third decode. Polls
    ``cancel`` between images.
    """
    pasted = [x for x in items if isinstance(x, tuple)]
    files = [x for x in items if not isinstance(x, tuple)]
    names = {id(img): name for name, img in pasted}
    paths, duplicates = _unique(expand_paths(files))
    fresh = [p for p in paths if file_key(p) not in known]
    inputs = [*(img for _, img in pasted), *fresh]
    yield JobStarted(len(inputs), duplicates, len(paths) - len(fresh))
    results = classifier.iter_predict(inputs, k=k, cancel=cancel)
    for position, (item, result) in enumerate(zip(inputs, results)):
        source = names.get(id(item), result.source)
        thumb, preview = None, None
        if result.ok:
            thumb, preview = pictures(item, PREVIEW_SIDE if position == 0 else None)
        preds = tuple((p.label, p.index, p.probability) for p in result)
        yield ClassifiedImage(source, preds, result.error, thumb, preview)


def preview_job(source, side: int = PREVIEW_SIDE) -> Picture:
    """A picture for the preview panel, EXIF orientation applied.

    Raises
    ------
    ImageLoadError
        The image cannot be read; the message says why.
    """
    try:
        small = small_rgb(source, side)
    except (OSError, ValueError, SyntaxError):
        small = model.data.load_image(source)  # reads it or says why not
    return to_picture(small, side)


def _csv_text(text: str) -> str:
    """``text`` made inert for spreadsheets: a leading ``'`` before = + - @ tab or CR (OWASP).

    Class and file names come from outside; ``=HYPERLINK(...)`` in a cell would be
    run as a formula by the spreadsheet that opens the export.
    """
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_predictions_csv(
    path: str | os.PathLike[str], items: Sequence[ClassifiedImage], k: int = 5
) -> int:
    """Write ``items`` as CSV (path, error, then label, index, probability per rank), atomically.

    There are as many rank columns as predictions the rows hold, at most ``k``
    (a 3-class model gives 3 even for ``k=5``; ``k`` if no row has any), and
    every row, unreadable ones included, is padded to the header's width.
    Returns the number of rows written.

    Raises
    ------
    OSError
        The file could not be written; the message names it and says why.
    """
    ranks = min(k, max((len(item.predictions) for item in items), default=0)) or k
    header = ["path", "error"]
    for i in range(1, ranks + 1):
        header += [f"label_{i}", f"index_{i}", f"probability_{i}"]

    def write(tmp: str) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            for item in items:
                cells = [_csv_text(item.source), _csv_text(item.error or "")]
                for label, index, prob in item.predictions[:ranks]:
                    cells += [_csv_text(label), index, f"{prob:.6f}"]
                writer.writerow(cells + [""] * (len(header) - len(cells)))

    try:
        atomic_write(path, write)
    except OSError as exc:
        raise OSError(f"Could not save {path}: {exc.strerror or exc}") from exc
    return len(items)
