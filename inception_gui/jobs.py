"""Functions that run in worker threads for the Classify tab. They return plain data only.

Pictures cross threads as :class:`Picture` (raw RGB bytes); the GUI thread turns
them into ``QImage``. Nothing here touches a widget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

__all__ = [
    "ClassifiedImage",
    "Picture",
    "classify_job",
    "expand_paths",
    "preview_job",
    "thumbnail",
    "to_picture",
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


@dataclass(frozen=True)
class JobStarted:
    """First thing a classify job yields: how many images will follow."""

    total: int


def to_picture(img, side: int) -> Picture:
    """``img`` scaled to fit ``side`` pixels, as RGB bytes."""
    img = img.copy()
    img.thumbnail((side, side))
    return Picture(img.width, img.height, img.convert("RGB").tobytes())


def thumbnail(source) -> Picture | None:
    """A gallery thumbnail of a path or PIL image; None if it cannot be read."""
    from PIL import Image

    from model.images import ImageLoadError, load_image, to_rgb

    try:
        if isinstance(source, Image.Image):
            return to_picture(to_rgb(source), THUMB_SIDE)
        with Image.open(source) as img:
            img.draft("RGB", (THUMB_SIDE * 2, THUMB_SIDE * 2))  # JPEG: decode at 1/8 scale
            return to_picture(to_rgb(img), THUMB_SIDE)
    except (ImageLoadError, OSError, ValueError, SyntaxError):
        try:
            return to_picture(load_image(source), THUMB_SIDE)
        except ImageLoadError:
            return None


def expand_paths(paths: Sequence[str]) -> list[str]:
    """Files and folders (recursively) to image files, in a stable order."""
    from model.images import iter_image_files

    return [str(p) for p in iter_image_files(paths)]


def classify_job(
    classifier, items: Sequence, k: int = 5, cancel: Callable[[], bool] | None = None
) -> Iterator[JobStarted | ClassifiedImage]:
    """Classify paths (folders expanded) or pasted ``(name, PIL image)`` pairs.

    Yields :class:`JobStarted` first, then one :class:`ClassifiedImage` per image in
    order, each as soon as it is ready. Polls ``cancel`` between images.
    """
    pasted = [x for x in items if isinstance(x, tuple)]
    files = [x for x in items if not isinstance(x, tuple)]
    names = {id(img): name for name, img in pasted}
    inputs = [*(img for _, img in pasted), *expand_paths(files)]
    yield JobStarted(len(inputs))
    results = classifier.iter_predict(inputs, k=k, cancel=cancel)
    for item, result in zip(inputs, results):
        source = names.get(id(item), result.source)
        thumb = thumbnail(item) if result.ok else None
        preds = tuple((p.label, p.index, p.probability) for p in result)
        yield ClassifiedImage(source, preds, result.error, thumb)


def preview_job(source, side: int = PREVIEW_SIDE) -> Picture:
    """A picture for the preview panel, EXIF orientation applied."""
    from PIL import Image

    from model.images import load_image, to_rgb

    if isinstance(source, Image.Image):
        return to_picture(to_rgb(source), side)
    return to_picture(load_image(source), side)
