"""The ImageNet record: torchvision's IMAGENET1K_V1 weights, their categories and cache.

Where the file comes from (torchvision's URL), where it is kept (the torch hub cache),
how it is verified (the sha256 prefix in its name), and its 1000 labels. Loading the
file into a network is :mod:`model.weights.loading`'s work.
"""

from __future__ import annotations

import hashlib
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import torch

from model.errors import DownloadCancelled, WeightsUnavailableError

__all__ = ["download_imagenet_weights", "imagenet_cache_path", "imagenet_categories"]

ProgressCallback = Callable[[int, int], None]  # (bytes done, bytes total or 0 if unknown)
CancelCheck = Callable[[], bool]  # returns True to stop a download


# torchvision's Inception_V3_Weights.IMAGENET1K_V1 record, as constants so that the way to
# "Ready" does not import torchvision (1 s); tests/model/weights/test_weights.py checks them.
IMAGENET_URL = "https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.pth"


def imagenet_categories() -> tuple[str, ...]:
    """The 1000 ImageNet labels, as torchvision's weights metadata gives them."""
    from model.weights.imagenet_labels import IMAGENET_CATEGORIES

    return IMAGENET_CATEGORIES


def imagenet_cache_path() -> Path:
    """Where torch hub keeps (or will keep) the ImageNet checkpoint."""
    filename = os.path.basename(IMAGENET_URL)
    return Path(torch.hub.get_dir()) / "checkpoints" / filename


def _expected_hash_prefix(filename: str) -> str | None:
    """torchvision names files ``name-<first sha256 hex digits>.pth``."""
    match = re.search(r"-([a-f0-9]{6,})\.", filename)
    return match.group(1) if match else None


def download_imagenet_weights(
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    url: str | None = None,
    timeout: float = 30.0,
) -> Path:
    """Fetch the ImageNet checkpoint into the torch hub cache, unless already there.

    Parameters
    ----------
    progress : callable, optional
        Called as ``progress(done, total)`` in bytes; ``total`` is 0 if unknown.
    cancel : callable, optional
        Polled between chunks; returning True stops the download.
    url : str, optional
        Another source for the same file (a mirror, or ``file://`` for tests).
    timeout : float
        Seconds to wait for the server.

    Returns
    -------
    pathlib.Path
        The verified file in the cache.

    Raises
    ------
    WeightsUnavailableError
        The download failed or the file did not verify; the message names the
        file expected in the cache and how to place it there by hand.
    DownloadCancelled
        ``cancel`` returned True.
    """
    target = imagenet_cache_path()
    if target.is_file():
        return target
    url = url or IMAGENET_URL
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        digest = _fetch(url, partial, progress, cancel, timeout)
        expected = _expected_hash_prefix(target.name)
        if expected and not digest.startswith(expected):
            raise WeightsUnavailableError(
                f"The file downloaded from {url} does not match the expected checksum "
                f"(sha256 {digest[:12]}..., expected {expected}...); it was discarded. "
                + placement_hint(target)
            )
        os.replace(partial, target)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise WeightsUnavailableError(
            f"Could not download the ImageNet weights from {url} ({reason}). "
            + placement_hint(target)
        ) from None
    finally:
        partial.unlink(missing_ok=True)
    return target


def placement_hint(target: Path) -> str:
    """How to place the file by hand, for messages about a missing or failed download."""
    return (
        f"To use them offline, copy torchvision's '{target.name}' into "
        f"'{target.parent}' (the torch hub cache; set TORCH_HOME to move it)."
    )


def _fetch(
    url: str,
    dest: Path,
    progress: ProgressCallback | None,
    cancel: CancelCheck | None,
    timeout: float,
) -> str:
    """Stream ``url`` into ``dest``; return the sha256 hex digest of what was written."""
    sha = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=timeout) as response, open(dest, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        if progress:
            progress(0, total)
        while chunk := response.read(1 << 16):
            if cancel and cancel():
                raise DownloadCancelled("download cancelled; nothing was saved")
            out.write(chunk)
            sha.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    return sha.hexdigest()
