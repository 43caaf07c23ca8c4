"""Where the network's weights come from: ImageNet, a file on disk, or nothing.

Sources
-------
``"imagenet"``
    torchvision's ``Inception_V3_Weights.IMAGENET1K_V1``, read from the torch
    hub cache, or downloaded there (with a progress callback), verified and
    cached. Categories and preprocessing come from torchvision's metadata.
a ``.pth`` file
    A torchvision-format state dict, read with ``torch.load(weights_only=True)``.
a ``.safetensors`` file
    The project's own checkpoint (see :mod:`model.weights.checkpoint`).
``"none"``
    Random initialisation: marked untrained wherever predictions are shown.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from model.data.preprocess import Preprocess, imagenet_preprocess
from model.errors import DownloadCancelled, WeightsUnavailableError
from model.files import file_problem
from model.network.inception import Inception3, Variant, build_network
from model.weights.checkpoint import CheckpointError, read_checkpoint
from model.weights.imagenet import (
    CancelCheck,
    ProgressCallback,
    download_imagenet_weights,
    imagenet_cache_path,
    imagenet_categories,
    placement_hint,
)

__all__ = [
    "DownloadCancelled",
    "WeightsInfo",
    "WeightsUnavailableError",
    "download_imagenet_weights",
    "imagenet_cache_path",
    "imagenet_categories",
    "load_network",
]


@dataclass(frozen=True)
class WeightsInfo:
    """What the loaded weights are: everything the GUI and CLI show about them."""

    source: str  # "imagenet", "file" or "none"
    display_name: str  # "ImageNet", a file name, or "untrained (random weights)"
    variant: Variant  # network layout
    class_names: tuple[str, ...]  # one label per output
    preprocess: Preprocess  # resize, crop and normalisation for this model
    transform_input: bool  # the network re-normalises input (Google's weights)
    path: str | None = None  # the file read, if any
    trained: bool = True  # False only for random initialisation
    training: dict[str, Any] = field(default_factory=dict)  # summary from fine-tuning
    has_aux: bool = True  # the weights hold the auxiliary head (head-only runs save none)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def _detect_variant(state: dict[str, torch.Tensor]) -> Variant | None:
    if "Conv2d_3b_1x1.conv.weight" in state:
        return Variant.V3
    if "Conv2d_3a_3x3.conv.weight" in state:
        return Variant.PAPER
    return None


def network_from_state_dict(
    state: dict[str, torch.Tensor],
    path: str,
    variant: Variant | str | None,
    transform_input: bool,
) -> Inception3:
    """Build the network a state dict describes and load it strictly.

    Raises
    ------
    CheckpointError
        The state dict is not Inception v3's, is another variant than asked
        for, or its shapes do not fit.
    """
    found = _detect_variant(state)
    if found is None:
        raise CheckpointError(path, "not an Inception v3 state dict (no stem weights found)")
    if variant is not None and Variant.parse(variant) is not found:
        asked = Variant.parse(variant).value
        raise CheckpointError(
            path, f"holds the '{found.value}' variant, but '{asked}' was asked for"
        )
    fc = state.get("fc.weight")
    if fc is None or fc.ndim != 2:
        raise CheckpointError(path, "has no classifier weights ('fc.weight')")
    if fc.shape[0] == 0:  # else build_network's "num_classes must be at least 1, got 0"
        raise CheckpointError(path, "has a classifier for no classes ('fc.weight' has 0 rows)")
    has_aux = any(k.startswith("AuxLogits.") for k in state)
    # Built on the meta device and given the state's own tensors: nothing is
    # allocated, initialised and then overwritten (0.15 s for v3).
    with torch.device("meta"):
        net = build_network(
            found,
            num_classes=int(fc.shape[0]),
            aux_logits=has_aux,
            transform_input=transform_input,
            init_weights=False,
        )
    # As load_state_dict's copy would: float32, contiguous (no copy when already so).
    state = {
        k: v.to(torch.float32).contiguous() if v.is_floating_point() else v
        for k, v in state.items()
    }
    _check_values(state, path)
    try:
        net.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines()[1:] if ln.strip()]
        detail = "; ".join(lines[:3]) + (" ..." if len(lines) > 3 else "")
        raise CheckpointError(path, f"does not fit the '{found.value}' network: {detail}") from None
    return net


def _check_values(state: dict[str, torch.Tensor], path: str) -> None:
    """Refuse weights that hold NaN or infinity, or a BatchNorm with a negative variance.

    Either gives NaN from the reference network, while the fast path (which folds
    BatchNorm into the convolutions) can still print plausible top-5 lists.
    """
    for key, tensor in state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(path, f"'{key}' holds NaN or infinite values: damaged weights")
        if key.endswith("running_var") and bool((tensor < 0).any()):
            raise CheckpointError(path, f"'{key}' holds a negative variance: damaged weights")


def _load_torchvision_file(path: str) -> dict[str, torch.Tensor]:
    import pickle

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        refused = refused_pickle(exc)
        if refused:  # a real pickle that would build objects or run code
            raise CheckpointError(
                path, f"{refused}, so it was not loaded; only tensors are read"
            ) from None
        raise CheckpointError(path, _NOT_A_PICKLE) from None
    except Exception as exc:  # zip, EOF and format errors from torch.load
        raise CheckpointError(path, _torch_load_reason(exc, path)) from None
    if isinstance(obj, dict) and "recipe" in obj and "optimizer" in obj:
        raise CheckpointError(
            path,
            "is a training run's state (what resuming reads), not weights: load "
            "last.safetensors or best.safetensors from the same folder",
        )
    if isinstance(obj, dict):
        for key in ("state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(path, "does not hold a state dict (a mapping of names to tensors)")
    return {k.removeprefix("module."): v for k, v in obj.items()}


def refused_pickle(exc: Exception) -> str | None:
    """What a pickle that ``torch.load(weights_only=True)`` refused would have done, or None.

    torch's own message advises ``weights_only=False``, which would run whatever the
    file holds: never the advice to give about a file from outside.
    """
    # "Unsupported global: GLOBAL x.y", "Trying to load unsupported GLOBAL posix.system ..."
    found = re.search(r"GLOBAL ([\w.]+)", str(exc))
    if found:
        return f"holds more than plain weights (it would create {found.group(1)})"
    return None


_NOT_A_PICKLE = "is not a PyTorch checkpoint (not a pickle of tensors)"


def _torch_load_reason(exc: Exception, path: str) -> str:
    """What a ``torch.load`` failure means, in words (not miniz's or the unpickler's).

    A truncated archive gives a paragraph about miniz's central directory; a file
    that starts with ``.`` (a pickle's STOP with nothing on the stack) gives
    "pop from empty list"; a zip whose pickle is empty, an EOFError with no text.
    """
    text = str(exc)
    if "central directory" in text or (isinstance(exc, OSError) and _is_zip(path)):
        return "is cut short, or is not a PyTorch checkpoint at all"  # OSError: cut mid-way
    if "PytorchStreamReader" in text or "inline_container" in text:
        return "is a zip archive, but not a PyTorch checkpoint (or a damaged one)"
    if isinstance(exc, EOFError) or "unexpected EOF" in text:
        return "is cut short (it ends in the middle of the checkpoint)"
    if "legacy .tar format" in text:
        return "is a tar archive (PyTorch's old format), which cannot be read without running code"
    return _NOT_A_PICKLE


def _is_zip(path: str) -> bool:
    """The file starts as a zip archive does (as torch.save's files do)."""
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def _class_names_for(num_classes: int) -> tuple[str, ...]:
    if num_classes == 1000:
        return imagenet_categories()
    return tuple(f"class {i}" for i in range(num_classes))


def _load_file(path: Path, variant: Variant | str | None) -> tuple[Inception3, WeightsInfo]:
    problem = file_problem(path, "a weights file")
    if problem is not None:  # before any open: a FIFO would block it for good
        raise CheckpointError(str(path), problem)
    if path.stat().st_size == 0:
        raise CheckpointError(str(path), "is empty (0 bytes), not a weights file")
    if path.suffix.lower() == ".safetensors":
        ckpt = read_checkpoint(path)
        net = network_from_state_dict(ckpt.state, str(path), variant, ckpt.transform_input)
        if net.num_classes != len(ckpt.class_names):
            raise CheckpointError(
                str(path),
                f"names {len(ckpt.class_names)} classes but its classifier has {net.num_classes}",
            )
        info = WeightsInfo(
            source="file",
            display_name=_checkpoint_name(path),
            variant=net.variant,
            class_names=ckpt.class_names,
            preprocess=ckpt.preprocess,
            transform_input=ckpt.transform_input,
            path=str(path),
            has_aux=net.AuxLogits is not None,
            training=ckpt.training,
        )
        return net, info
    state = _load_torchvision_file(str(path))
    # torchvision's pretrained Inception models all re-normalise their input.
    net = network_from_state_dict(state, str(path), variant, transform_input=True)
    info = WeightsInfo(
        source="file",
        display_name=path.name,
        variant=net.variant,
        class_names=_class_names_for(net.num_classes),
        preprocess=imagenet_preprocess(),
        transform_input=True,
        path=str(path),
        has_aux=net.AuxLogits is not None,
    )
    return net, info


def load_network(
    weights: str | os.PathLike[str] = "imagenet",
    variant: Variant | str | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    download: bool = True,
) -> tuple[Inception3, WeightsInfo]:
    """Build the network and load ``weights`` into it (on the CPU, in eval mode).

    Parameters
    ----------
    weights : str or PathLike
        ``"imagenet"``, ``"none"``, or the path of a ``.pth`` or ``.safetensors`` file.
    variant : Variant or str, optional
        For ``"imagenet"`` and ``"none"``: the layout (``v3`` by default; ImageNet
        weights exist for ``v3`` only). For a file: what the file must hold;
        ``None`` takes whatever it holds.
    progress, cancel : callable, optional
        Passed to :func:`download_imagenet_weights`.
    download : bool
        Fetch the ImageNet weights when they are not cached.

    Raises
    ------
    CheckpointError
        A file that is not a fitting checkpoint.
    WeightsUnavailableError
        ImageNet weights not cached and not downloadable.
    """
    key = str(weights)
    if key == "none":
        chosen = Variant.parse(variant or Variant.V3)
        net = build_network(chosen)
        info = WeightsInfo(
            source="none",
            display_name="untrained (random weights)",
            variant=chosen,
            class_names=imagenet_categories(),
            preprocess=imagenet_preprocess(),
            transform_input=False,
            trained=False,
        )
        return net.eval(), info
    if key == "imagenet":
        if variant is not None and Variant.parse(variant) is not Variant.V3:
            raise ValueError("ImageNet weights exist for the 'v3' variant only")
        cached = imagenet_cache_path()
        if not cached.is_file():
            if not download:
                raise WeightsUnavailableError(
                    "The ImageNet weights are not in the cache. " + placement_hint(cached)
                )
            cached = download_imagenet_weights(progress=progress, cancel=cancel)
        net, info = _load_file(cached, Variant.V3)
        info = replace(info, source="imagenet", display_name="ImageNet (IMAGENET1K_V1)")
        return net.eval(), info
    net, info = _load_file(Path(weights).expanduser(), variant)
    return net.eval(), info


def _checkpoint_name(path: Path) -> str:
    """A checkpoint's name for people: a run's best or last is named after its run folder.

    Every run writes ``best.safetensors`` and ``last.safetensors``, so the file name
    alone tells two trained models apart by nothing: ``flowers-20250101-120000 (best)``.
    """
    if path.stem in ("best", "last") and path.parent.name:
        return f"{path.parent.name} ({path.stem})"
    return path.name
