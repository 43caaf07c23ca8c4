"""The project's checkpoint format: one ``.safetensors`` file with its own description.

The tensors are the network's state dict. The file's metadata holds, under the
key ``inception_gui`` as JSON: the format version, the variant, the class names,
the preprocessing (and so the input size), whether the network re-normalises
its input, and a short training summary. safetensors holds no code, so loading
a checkpoint never runs anything from the file.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from model.data.preprocess import Preprocess, imagenet_preprocess
from model.errors import CheckpointError
from model.files import atomic_write, file_problem
from model.weights.imagenet import imagenet_categories

__all__ = ["Checkpoint", "CheckpointError", "read_checkpoint", "save_checkpoint"]


FORMAT_VERSION = 1
METADATA_KEY = "inception_gui"


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


def save_checkpoint(ckpt: Checkpoint, path: str | os.PathLike[str]) -> Path:
    """Write ``ckpt`` to ``path`` atomically; return the path.

    Raises
    ------
    OSError
        The file cannot be written (a full disk, a read-only folder), naming ``path``.
    """
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    tensors = {k: v.detach().to("cpu").contiguous() for k, v in ckpt.state.items()}

    def write(tmp: str) -> None:
        try:
            save_file(tensors, tmp, metadata=ckpt.metadata())
        except SafetensorError as exc:  # "I/O error: No space left on device (os error 28)"
            code = re.search(r"\(os error (\d+)\)", str(exc))
            if code is None:
                raise
            number = int(code.group(1))
            raise OSError(number, os.strerror(number), str(path)) from None

    atomic_write(path, write)
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
        raise CheckpointError(path, _safetensors_reason(exc)) from None
    if METADATA_KEY not in meta:
        return _foreign_checkpoint(state)
    try:
        return _from_metadata(path, state, meta[METADATA_KEY])
    except ValueError as exc:
        raise CheckpointError(path, f"has damaged Inception GUI metadata: {exc}") from None


_SAFETENSORS_PREFIX = "Error while deserializing header: "  # on each of its messages


def _safetensors_reason(exc: Exception) -> str:
    """What a safetensors failure means, in words ("header too large" means "not ours")."""
    text = str(exc)
    if "not fully covered" in text:
        return "is cut short (its header names more bytes than the file holds)"
    if "header too small" in text or "invalid header length" in text:
        return "is cut short, or is not a safetensors file"
    if "header too large" in text:
        return "is not a safetensors file (no safetensors header at its start)"
    if "invalid JSON" in text or "invalid type" in text:
        return "is not a safetensors file, or its header is damaged"
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else text
    return f"is not a readable safetensors file ({detail.removeprefix(_SAFETENSORS_PREFIX)})"


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
    fc = state.get("fc.weight")
    n = int(fc.shape[0]) if fc is not None and fc.ndim == 2 else 0
    names = imagenet_categories() if n == 1000 else tuple(f"class {i}" for i in range(n))
    return Checkpoint(
        state=state,
        variant="",
        class_names=names,
        preprocess=imagenet_preprocess(),
        transform_input=True,
    )
