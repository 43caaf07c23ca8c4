"""Devices: which exist, which can be used, and why not."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from model.errors import DeviceError

__all__ = ["DeviceChoice", "DeviceError", "list_devices", "resolve_device"]


@dataclass(frozen=True)
class DeviceChoice:
    """One entry of a device menu."""

    key: str  # what resolve_device accepts: "cpu", "cuda:0", "mps"
    label: str  # shown to people: "CPU", "CUDA 0: NVIDIA H100"
    available: bool  # usable now
    reason: str = ""  # why not, when not available


def list_devices() -> list[DeviceChoice]:
    """CPU, each CUDA device by name and MPS, each marked usable or not, with the reason."""
    choices = [DeviceChoice("cpu", "CPU", True)]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            name = torch.cuda.get_device_name(i)
            choices.append(DeviceChoice(f"cuda:{i}", f"CUDA {i}: {name}", True))
    else:
        why = (
            "no CUDA device or driver found"
            if torch.backends.cuda.is_built()
            else "this PyTorch build has no CUDA support"
        )
        choices.append(DeviceChoice("cuda", "CUDA", False, why))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_built():
        usable = mps.is_available()
        choices.append(
            DeviceChoice("mps", "Apple MPS", usable, "" if usable else "MPS is not available")
        )
    return choices


def resolve_device(spec: str | torch.device = "auto") -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"`` into a device.

    ``"auto"`` picks the first CUDA device, then MPS, then the CPU.

    Raises
    ------
    DeviceError
        The device does not exist here, with the reason.
    """
    text = str(spec).strip().lower()
    if text == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", 0)
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(text)
    except RuntimeError:
        raise DeviceError(f"unknown device {spec!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cpu":
        return device
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device {spec!r} is not available: no CUDA device or driver found")
        index = 0 if device.index is None else device.index
        count = torch.cuda.device_count()
        if index >= count:
            raise DeviceError(
                f"device {spec!r} is not available: this machine has {count} CUDA device(s)"
            )
        return torch.device("cuda", index)
    if device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise DeviceError(f"device {spec!r} is not available: MPS is not available here")
        return device
    raise DeviceError(f"device {spec!r} is not supported; use auto, cpu, cuda, cuda:N or mps")
