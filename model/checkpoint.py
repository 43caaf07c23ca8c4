"""The project's checkpoint format: one ``.safetensors`` file with its own description.

The tensors are the network's state dict. The file's metadata holds, under the
key ``inception_gui`` as JSON: the format version, the variant, the class names,
the preprocessing (and so the input size), whether the network re-normalises
its input, and a short training summary. safetensors holds no code, so loading
a checkpoint never runs anything from the file.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from model.files import file_problem
from model.preprocess import Preprocess

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "atomic_write",
    "read_checkpoint",
    "refuse_read_only",
    "save_checkpoint",
]


def _read_umask() -> int:
    # Read once at import: os.umask can only be read by setting it, which is not thread-safe.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()
FORMAT_VERSION = 1
METADATA_KEY = "inception_gui"


class CheckpointError(Exception):
    """A weights file that cannot be used, with the file and the reason."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint's contents, read from or about to be written to disk."""

    state: dict[str, torch.Tensor]  # the network's state dict (CPU tensors)
    variant: str  # "v3" or "paper"
    class_names: tuple[str, ...]  # one label per output
    preprocess: Preprocess  # resize, crop and normalisation; crop_size is the input size
    transform_input: bool = False  # the network re-normalises its input
    training: dict[str, Any] = field(default_factory=dict)  # epochs, accuracy, recipe...

    def metadata(self) -> dict[str, str]:
        """The safetensors metadata (string to string) describing this checkpoint."""
        doc = {
            "format_version": FORMAT_VERSION,
            "variant": self.variant,
            "class_names": list(self.class_names),
            "input_size": self.preprocess.crop_size,
            "preprocess": self.preprocess.to_dict(),
            "transform_input": self.transform_input,
            "training": self.training,
        }
        return {METADATA_KEY: json.dumps(doc), "format": "pt"}


def atomic_write(path: str | os.PathLike[str], write: Any) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it over.

    A crash or kill at any moment leaves either the old file or the new one,
    never a half-written one.
    """
    path = Path(path)
    if path.is_symlink():  # write through to the file the link names; the link stays
        path = Path(os.path.realpath(path))
    refuse_read_only(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    # mkstemp creates the file private (0600); give it the permissions a plain open() would.
    os.chmod(tmp, 0o666 & ~_UMASK)
    try:
        write(tmp)
        # Again: a writer that recreates the file (safetensors' save_file) leaves it 0600.
        os.chmod(tmp, 0o666 & ~_UMASK)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _sync_folder(path.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def refuse_read_only(path: str | os.PathLike[str]) -> None:
    """Raise PermissionError if ``path`` is a file its owner made read-only (no write bit).

    A rename over it would succeed (the folder is writable), replacing a file the
    person protected without a word; and as root, ``os.access`` would say yes.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing (to be created), or the write itself will say why
    if stat.S_ISREG(mode) and not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise PermissionError(
            errno.EACCES,
            "the file is read-only; make it writable or choose another name",
            str(path),
        )


def _sync_folder(folder: Path) -> None:
    """Flush a rename to disk, so that a power cut cannot undo it (POSIX; elsewhere a no-op)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the rename itself has happened
    finally:
        os.close(fd)


def save_checkpoint(ckpt: Checkpoint, path: str | os.PathLike[str]) -> Path:
    """Write ``ckpt`` to ``path`` atomically; return the path."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().to("cpu").contiguous() for k, v in ckpt.state.items()}
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=ckpt.metadata()))
    return Path(path)


def read_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a ``.safetensors`` checkpoint.

    A safetensors file without the project's metadata is read as a
    torchvision-style ImageNet state dict.

    Raises
    ------
    CheckpointError
        Not a safetensors file, or metadata that does not parse.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load, safe_open

    path = str(path)
    problem = file_problem(path, "a weights file")
    if problem is not None:  # before any open: a FIFO would block it for good
        raise CheckpointError(path, problem)
    try:
        with safe_open(path, framework="pt") as handle:
            meta = handle.metadata() or {}
        # Read into memory, not mapped: a network that takes these tensors must not
        # hold the file open (Windows could not replace it; a rewrite would change it).
        state = load(Path(path).read_bytes())
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(path, f"is not a readable safetensors file ({exc})") from None
    if METADATA_KEY not in meta:
        return _foreign_checkpoint(state)
    try:
        return _from_metadata(path, state, meta[METADATA_KEY])
    except ValueError as exc:
        raise CheckpointError(path, f"has damaged Inception GUI metadata: {exc}") from None


def _from_metadata(path: str, state: dict[str, torch.Tensor], text: str) -> Checkpoint:
    """The checkpoint the metadata describes, each field checked for its type and range.

    Raises
    ------
    ValueError
        Naming the field and what it holds.
    CheckpointError
        A newer format.
    """
    try:
        doc = json.loads(text)
    except RecursionError:
        raise ValueError("it is nested too deeply to be ours") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"it is not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ValueError(f"it must be a JSON object, not {type(doc).__name__}")
    version = doc.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(f"'format_version' must be a whole number, not {version!r}")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            path, f"was written by a newer Inception GUI (format {version}); please update"
        )
    if "variant" not in doc or "class_names" not in doc:
        raise ValueError(
            f"the field '{'variant' if 'variant' not in doc else 'class_names'}' is missing"
        )
    if not isinstance(doc["variant"], str):
        raise ValueError(f"'variant' must be a name, not {doc['variant']!r}")
    names = doc["class_names"]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ValueError(f"'class_names' must be a non-empty list of names, not {_short(names)}")
    transform_input = doc.get("transform_input", False)
    if not isinstance(transform_input, bool):
        raise ValueError(f"'transform_input' must be true or false, not {transform_input!r}")
    training = doc.get("training") or {}
    if not isinstance(training, dict):
        raise ValueError(f"'training' must be an object, not {_short(training)}")
    return Checkpoint(
        state=state,
        variant=doc["variant"],
        class_names=tuple(names),
        preprocess=Preprocess.from_dict(doc.get("preprocess", {})),
        transform_input=transform_input,
        training=training,
    )


def _short(value: Any) -> str:
    """``repr(value)``, cut to 60 characters for a message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _foreign_checkpoint(state: dict[str, torch.Tensor]) -> Checkpoint:
    from model.preprocess import imagenet_preprocess

    fc = state.get("fc.weight")
    n = int(fc.shape[0]) if fc is not None and fc.ndim == 2 else 0
    if n == 1000:
        from model.weights import imagenet_categories

        names = imagenet_categories()
    else:
        names = tuple(f"class {i}" for i in range(n))
    return Checkpoint(
        state=state,
        variant="",
        class_names=names,
        preprocess=imagenet_preprocess(),
        transform_input=True,
    )
