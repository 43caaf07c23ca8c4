"""Reading the images people have on disk into RGB, with errors that say why not.

JPEG, PNG, WebP, BMP, GIF (first frame) and TIFF in any mode (L, LA, P, RGBA,
CMYK, 16-bit, float) become 8-bit RGB; EXIF orientation is applied; Pillow's
decompression-bomb guard stays on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from model.data.formats import IMAGE_FORMATS, IMAGE_SUFFIXES, MAX_ASPECT_RATIO
from model.errors import ImageLoadError
from model.files import file_problem

__all__ = [
    "IMAGE_FORMATS",
    "IMAGE_SUFFIXES",
    "MAX_ASPECT_RATIO",
    "ImageLoadError",
    "check_image_size",
    "iter_image_files",
    "load_image",
    "open_image",
    "to_rgb",
]


_UNSUPPORTED = "not an image in a supported format (JPEG, PNG, WebP, BMP, GIF or TIFF)"


def open_image(path: str | os.PathLike[str]) -> Image.Image:
    """``Image.open(path)`` limited to :data:`IMAGE_FORMATS`; the only way this app opens a file.

    Raises
    ------
    ImageLoadError
        ``path`` is not a regular file: a FIFO would block the open for good.
    PIL.UnidentifiedImageError
        The file is none of the supported formats (PostScript, for one, is
        refused here, before any decoder sees it).
    """
    problem = file_problem(path, "an image file")
    if problem is not None:
        raise ImageLoadError(path, problem)
    img = Image.open(path, formats=list(IMAGE_FORMATS))
    try:
        check_image_size(path, img.size)  # from the header: nothing is decoded yet
    except ImageLoadError:
        img.close()
        raise
    return img


def check_image_size(source: str | os.PathLike[str], size: tuple[int, int]) -> None:
    """Refuse a ``(width, height)`` no preprocessing can handle: a side of 0, or a strip.

    Raises
    ------
    ImageLoadError
        Naming ``source``, the size and the limit.
    """
    width, height = size
    if min(width, height) < 1:
        raise ImageLoadError(source, f"has no pixels ({width} x {height})")
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise ImageLoadError(
            source,
            f"is {width} x {height} pixels: a side more than {MAX_ASPECT_RATIO} times the "
            "other is too thin a strip to classify",
        )


def _flatten_alpha(img: Image.Image) -> Image.Image:
    """Composite a transparent image over white, as image viewers show it."""
    rgba = img.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _high_depth_to_rgb(img: Image.Image) -> Image.Image:
    """16-bit and 32-bit grey to 8 bits, keeping the full range visible."""
    values = np.asarray(img, dtype=np.float64)
    if img.mode.startswith("I;16"):
        scaled = values / 257.0  # 0..65535 onto 0..255
    else:
        lo, hi = float(values.min()), float(values.max())
        if img.mode == "I" and lo >= 0 and hi <= 255:
            scaled = values  # 8-bit data stored in a 32-bit mode
        else:
            scaled = (values - lo) / (hi - lo or 1.0) * 255.0
    grey = Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8))
    return grey.convert("RGB")


def to_rgb(img: Image.Image) -> Image.Image:
    """Return ``img`` as 8-bit RGB, with EXIF orientation applied.

    Parameters
    ----------
    img : PIL.Image.Image
        An opened image in any mode.

    Returns
    -------
    PIL.Image.Image
        A loaded RGB image.
    """
    img = ImageOps.exif_transpose(img) or img
    if img.mode == "RGB":
        return img
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        img.mode == "P" and "transparency" in img.info
    ):
        return _flatten_alpha(img)
    if img.mode.startswith("I") or img.mode == "F":
        return _high_depth_to_rgb(img)
    return img.convert("RGB")


def _draft_size(size: tuple[int, int], target_size: int) -> tuple[int, int]:
    """The size to ask JPEG draft mode for so the shorter side stays >= ``target_size``.

    Pillow picks the largest DCT scale (1/2, 1/4, 1/8) that keeps both sides
    at least the size asked for, so asking for the photo scaled to a shorter
    side of ``target_size`` never drops below it.
    """
    width, height = size
    shorter = min(width, height)
    return (-(-width * target_size // shorter), -(-height * target_size // shorter))


def load_image(path: str | os.PathLike[str], target_size: int | None = None) -> Image.Image:
    """Read one image file as RGB.

    Parameters
    ----------
    path : str or PathLike
        The file.
    target_size : int, optional
        The shorter side the caller will resize to. A JPEG at least four times
        as large is then decoded at 1/2, 1/4 or 1/8 scale in the DCT (Pillow's
        ``draft``), several times faster than a full decode, keeping the
        shorter side at least ``2 * target_size``. Other formats, and
        ``None``, decode at full size.

    Returns
    -------
    PIL.Image.Image
        8-bit RGB; for an animation, its first frame.

    Raises
    ------
    ImageLoadError
        The file is missing, empty, not an image, truncated, too large for
        Pillow's decompression-bomb guard, or otherwise unreadable.
    """
    path = Path(path)
    try:
        problem = file_problem(path, "an image file")
        if problem is not None:  # before any open: a FIFO would block it for good
            raise ImageLoadError(path, problem)
        if path.stat().st_size == 0:
            raise ImageLoadError(path, "the file is empty (0 bytes)")
        with open_image(path) as img:
            img.seek(0)  # the first frame of a GIF or multi-page TIFF
            if target_size and img.format == "JPEG" and min(img.size) >= 4 * target_size:
                # Twice the target, not the target: the antialiased resize that follows
                # then smooths out the DCT scaling's own rounding. Drafting right down
                # to the target flipped 5% of a test model's top-1 (tests/model/test_fastpath.py).
                img.draft(img.mode, _draft_size(img.size, 2 * target_size))
            img.load()
            return to_rgb(img)
    except ImageLoadError:
        raise
    except FileNotFoundError:
        raise ImageLoadError(path, "no such file") from None
    except PermissionError:
        raise ImageLoadError(path, "permission denied") from None
    except UnidentifiedImageError:
        raise ImageLoadError(path, _UNSUPPORTED) from None
    except Image.DecompressionBombError as exc:
        raise ImageLoadError(path, f"refused as a possible decompression bomb ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        text = str(exc) or type(exc).__name__
        if "truncated" in text or isinstance(exc, EOFError):
            text = f"the file is truncated or damaged ({text})"
        raise ImageLoadError(path, text) from None


def iter_image_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Expand files and folders (recursively, sorted) into image files.

    A file named directly is yielded whatever its suffix, so that its error,
    if any, reaches the person; inside folders only known image suffixes count
    and hidden files and folders are skipped.
    """
    for item in paths:
        item = Path(item)
        if not os.path.isdir(item):  # one that cannot be reached: its load says why
            yield item
            continue
        for root, dirs, files in os.walk(item):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_SUFFIXES:
                    yield Path(root) / name
