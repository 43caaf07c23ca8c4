"""Functions that run in worker threads for the Classify tab. They return plain data only.

Pictures cross threads as :class:`Picture` (raw RGB bytes); the GUI thread turns
them into ``QImage``. Nothing here touches a widget.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

__all__ = [
    "ClassifiedImage",
    "JobStarted",
    "Picture",
    "classify_job",
    "expand_paths",
    "pictures",
    "preview_job",
    "thumbnail",
    "to_picture",
    "write_predictions_csv",
]

THUMB_SIDE = 72  # pixels, the gallery's thumbnails
PREVIEW_SIDE = 720  # pixels, the preview panel's picture


@dataclass(frozen=True)
class Picture:
    """An RGB picture as bytes, ready for ``QImage(data, w, h, 3 * w, Format_RGB888)``."""

    width: int
    height: int
    data: bytes


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


def _fit(img, side: int):
    """``img`` scaled down to fit ``side`` x ``side`` (never up), as a new image.

    Resizes straight from the source, reducing by an integer factor first
    (``reducing_gap``): no full-size copy. 0.18 s for a 95 MP picture where
    copy-then-``thumbnail`` took 0.5 s (measured here).
    """
    from PIL import Image

    scale = side / max(img.size)
    if scale >= 1:
        return img
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0)


def to_picture(img, side: int) -> Picture:
    """``img`` scaled to fit ``side`` pixels, as RGB bytes."""
    img = _fit(img, side)
    return Picture(img.width, img.height, img.convert("RGB").tobytes())


# Modes that scale first and convert after with the same result (others convert first).
_RESIZABLE = frozenset({"RGB", "RGBA", "L", "LA"})


def _small_rgb(source, side: int):
    """A path or PIL image as RGB fitting ``side`` pixels, reduced before any full-size copy."""
    from PIL import Image, ImageOps

    from model.images import open_image, to_rgb

    if isinstance(source, Image.Image):
        return to_rgb(_fit(source, side) if source.mode in _RESIZABLE else source)
    with open_image(source) as img:
        img.draft("RGB", (side, side))  # JPEG: decode at up to 1/8 scale
        ImageOps.exif_transpose(img, in_place=True)  # a no-op, not a copy, when upright
        return to_rgb(_fit(img, side) if img.mode in _RESIZABLE else img)


def pictures(source, preview_side: int | None = None) -> tuple[Picture | None, Picture | None]:
    """The gallery thumbnail and, if ``preview_side``, the preview, from one decode.

    Returns ``(None, None)`` if the image cannot be read.
    """
    from model.images import ImageLoadError, load_image

    side = preview_side or THUMB_SIDE * 2
    try:
        small = _small_rgb(source, side)
    except (ImageLoadError, OSError, ValueError, SyntaxError):
        try:  # load_image knows the odd modes and says why not
            small = _fit(load_image(source), side)
        except ImageLoadError:
            return None, None
    preview = to_picture(small, preview_side) if preview_side else None
    return to_picture(small, THUMB_SIDE), preview


def thumbnail(source) -> Picture | None:
    """A gallery thumbnail of a path or PIL image; None if it cannot be read."""
    return pictures(source)[0]


def _unique(paths: Iterable[str]) -> tuple[list[str], int]:
    """``paths`` without repeats of the same file (by resolved path); and how many went."""
    seen: set[str] = set()
    kept, skipped = [], 0
    for path in paths:
        key = os.path.normcase(os.path.realpath(path))
        if key in seen:
            skipped += 1
        else:
            seen.add(key)
            kept.append(path)
    return kept, skipped


def expand_paths(paths: Sequence[str]) -> list[str]:
    """Files and folders (recursively) to image files, in a stable order."""
    from model.images import iter_image_files

    return [str(p) for p in iter_image_files(paths)]


def classify_job(
    classifier, items: Sequence, k: int = 5, cancel: Callable[[], bool] | None = None
) -> Iterator[JobStarted | ClassifiedImage]:
    """Classify paths (folders expanded) or pasted ``(name, PIL image)`` pairs.

    Yields :class:`JobStarted` first, then one :class:`ClassifiedImage` per image in
    order, each as soon as it is ready. A file named twice (a folder and a file in
    it) is classified once. The first image also carries its preview, made from
    the thumbnail's decode, so the panel showing it needs no third decode. Polls
    ``cancel`` between images.
    """
    pasted = [x for x in items if isinstance(x, tuple)]
    files = [x for x in items if not isinstance(x, tuple)]
    names = {id(img): name for name, img in pasted}
    paths, duplicates = _unique(expand_paths(files))
    inputs = [*(img for _, img in pasted), *paths]
    yield JobStarted(len(inputs), duplicates)
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
    from model.images import load_image

    try:
        small = _small_rgb(source, side)
    except (OSError, ValueError, SyntaxError):
        small = load_image(source)  # reads it or says why not
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
    from model.checkpoint import atomic_write  # torch is loaded once rows exist

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
