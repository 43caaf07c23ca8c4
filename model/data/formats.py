"""The image formats the app reads: one definition for the loader, folder scans and dialogs.

Torch-free and Pillow-free, so the window builds its file dialogs' filter from it without
loading either.
"""

from __future__ import annotations

__all__ = ["IMAGE_FORMATS", "IMAGE_SUFFIXES", "MAX_ASPECT_RATIO", "dialog_filter"]

# The one list of what the application reads: Pillow format name -> file suffixes. Every
# Image.open passes these names as ``formats``, so a file's first bytes can never pick
# another decoder: Pillow hands anything starting with ``%!PS`` to Ghostscript (code run by
# a file named x.jpg), and other plugins parse formats nobody here needs. (A camera's
# multi-picture JPEG still opens: Pillow's JPEG reader hands it on as MPO itself.)
IMAGE_FORMATS: dict[str, tuple[str, ...]] = {
    "JPEG": (".jpg", ".jpeg", ".jpe"),
    "PNG": (".png",),
    "WEBP": (".webp",),
    "BMP": (".bmp",),
    "DIB": (".dib",),
    "GIF": (".gif",),
    "TIFF": (".tif", ".tiff"),
}

# What a folder scan picks up (and the file dialogs offer); a single file is tried
# whatever its suffix, and read only if it is one of IMAGE_FORMATS.
IMAGE_SUFFIXES = frozenset(suffix for suffixes in IMAGE_FORMATS.values() for suffix in suffixes)

# The longest side may be at most this many times the shortest. Scaling the shorter side of a
# 100000 x 1 strip to the network's 342 px asks for 35 GB; a 100:1 strip needs 35 MB, and the
# widest panoramas cameras make are about 10:1.
MAX_ASPECT_RATIO = 100


def dialog_filter() -> str:
    """The file dialogs' filter: the suffixes of the formats the loader reads, no others."""
    patterns = " ".join(f"*{s}" for suffixes in IMAGE_FORMATS.values() for s in suffixes)
    return f"Images ({patterns});;All files (*)"
