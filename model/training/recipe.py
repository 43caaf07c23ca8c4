"""The paper's training recipe as small functions: precision, what trains, optimizer, schedule.

Szegedy et al. (2015) trained Inception v3 with RMSProp (decay 0.9, epsilon
1.0), a learning rate of 0.045 decayed by 0.94 every two epochs, gradient
clipping at 2.0, label smoothing of 0.1 and the BatchNorm auxiliary head.
Those are the defaults here; AdamW, SGD and a cosine schedule are the usual
alternatives for fine-tuning.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable

import torch
from torch import nn

from model.device import resolve_device
from model.errors import PrecisionError
from model.precision import Precision, resolve_precision
from model.training.config import OPTIMIZERS, SCHEDULES, TRAIN_FROM

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "TRAIN_FROM",
    "autocast",
    "detect_precision",
    "freeze",
    "make_optimizer",
    "make_scheduler",
    "set_train_mode",
    "training_precision",
]


def detect_precision(device: str | torch.device = "auto") -> str:
    """What ``precision="auto"`` means for training on ``device``: "bf16", "fp16" or "fp32".

    CUDA: bf16 where the GPU computes it (Ampere and later), else fp16 with
    loss scaling. Elsewhere the same choice as inference makes
    (:func:`model.network.fastpath.resolve_precision`): bf16 on CPUs that compute it
    natively (AMX or AVX-512 BF16), fp32 otherwise.
    """
    device = resolve_device(device) if isinstance(device, str) else device
    if device.type == "cuda":
        try:
            return resolve_precision("bf16", device).value
        except PrecisionError:
            return "fp16"
    return resolve_precision("auto", device).value


def training_precision(requested: str, device: torch.device) -> str:
    """The precision a run trains in: ``auto`` resolved, an explicit one checked.

    Raises
    ------
    model.errors.PrecisionError
        fp16 off CUDA (loss scaling needs a GPU), or a precision the device
        lacks (bf16 on a GPU before Ampere, anything but fp32 on MPS).
    """
    if requested == "auto":
        return detect_precision(device)
    if requested == "fp16" and device.type != "cuda":
        raise PrecisionError("fp16 training needs a CUDA device; use bf16 or fp32 on the CPU")
    return resolve_precision(requested, device).value


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The autocast context for ``precision`` (a no-op for fp32)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=Precision(precision).dtype)


def make_optimizer(
    params: Iterable[nn.Parameter] | Iterable[dict], name: str, lr: float, weight_decay: float
) -> torch.optim.Optimizer:
    """RMSProp with the paper's settings, AdamW, or SGD with Nesterov momentum.

    RMSProp keeps TF-slim's Inception momentum of 0.9. torch adds epsilon
    outside the square root and TensorFlow inside; with epsilon 1.0 both make
    small-gradient steps close to plain momentum SGD, which is the point of
    so large an epsilon. Each is built with the fastest update torch has for
    the device (:func:`step_options`).
    """
    params = list(params)  # tensors, or torch's parameter groups (dicts with "params")
    flat = (
        [t for g in params for t in g["params"]]
        if params and isinstance(params[0], dict)
        else params
    )
    fast = step_options(name, flat)
    if name == "rmsprop":
        return torch.optim.RMSprop(
            params, lr=lr, alpha=0.9, eps=1.0, momentum=0.9, weight_decay=weight_decay, **fast
        )
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, **fast)
    if name == "sgd":
        return torch.optim.SGD(
            params, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay, **fast
        )
    raise ValueError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}")


def step_options(name: str, params: list[nn.Parameter]) -> dict[str, bool]:
    """How the optimizer updates its tensors: fused kernels or multi-tensor ("foreach") ops.

    torch picks them by itself only on CUDA. On the CPU, fused AdamW steps
    27 M parameters in 13 ms instead of 51 ms, and multi-tensor RMSProp in
    45 ms instead of 59 ms (measured here); the results are the same update.
    RMSProp has no fused kernel. A resumed run gets these again
    (``Trainer._restore``), since a saved optimizer state carries its own;
    they are put into the saved groups before loading, so that torch places
    each saved ``step`` where the chosen update needs it (a fused update on
    CUDA wants it on the GPU).
    """
    devices = {p.device.type for p in params}
    if not params or not devices <= {"cpu", "cuda"}:
        # torch's own choice (a state saved on another device must not bring its flags)
        return {"foreach": None, "fused": None} if name == "adamw" else {"foreach": None}
    if name == "adamw":
        return {"foreach": None, "fused": True}
    return {"foreach": True}


def make_scheduler(
    optimizer: torch.optim.Optimizer, name: str, epochs: int
) -> torch.optim.lr_scheduler.LRScheduler:
    """A per-epoch schedule: the paper's 0.94 every two epochs, cosine to zero, or constant.

    Every choice is a built-in scheduler with a plain state dict, so a resumed
    run continues the curve where it stopped.
    """
    sched = torch.optim.lr_scheduler
    if name == "exponential":
        return sched.StepLR(optimizer, step_size=2, gamma=0.94)
    if name == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=max(1, epochs))
    if name == "constant":
        return sched.StepLR(optimizer, step_size=1, gamma=1.0)
    raise ValueError(f"unknown schedule {name!r}; choose one of: {', '.join(SCHEDULES)}")


def fit_schedule(scheduler: torch.optim.lr_scheduler.LRScheduler, epochs: int) -> None:
    """Fit a resumed cosine schedule to a new total of epochs; the step schedules need nothing.

    torch's cosine schedule is periodic after ``T_max``: a run given more epochs
    on resume would see its rate reach zero and climb again. The rate is set to
    the cosine over the new total at the epoch reached, and torch's per-epoch
    updates carry on along that curve.
    """
    if not isinstance(scheduler, torch.optim.lr_scheduler.CosineAnnealingLR):
        return
    total = max(1, epochs)
    if scheduler.T_max == total:
        return
    scheduler.T_max = total
    share = (1 + math.cos(math.pi * scheduler.last_epoch / total)) / 2
    for group, base in zip(scheduler.optimizer.param_groups, scheduler.base_lrs):
        group["lr"] = scheduler.eta_min + (base - scheduler.eta_min) * share


def _first_trainable(names: list[str], train_from: str) -> int:
    if train_from == "all":
        return 0
    if train_from == "head":
        return names.index("avgpool")
    prefix = {"mixed_7": "Mixed_7", "mixed_6": "Mixed_6"}[train_from]
    return next(i for i, name in enumerate(names) if name.startswith(prefix))


def freeze(network: nn.Module, train_from: str) -> tuple[str, ...]:
    """Freeze the network below ``train_from``; return the names of the children that train.

    The network's children are registered in forward order (the auxiliary
    head right after the block it reads), so "from ``Mixed_6``" takes every
    child from the first ``Mixed_6`` block on, the auxiliary head included,
    and "from ``Mixed_7``" leaves the auxiliary head out: its input would be
    frozen, so its loss could teach nothing that reaches the classifier.
    """
    if train_from not in TRAIN_FROM:
        raise ValueError(f"unknown train_from {train_from!r}; choose one of: {TRAIN_FROM}")
    names = [name for name, _ in network.named_children()]
    start = _first_trainable(names, train_from)
    trainable = tuple(names[start:])
    for name, child in network.named_children():
        child.requires_grad_(name in trainable)
    return trainable


def set_train_mode(
    network: nn.Module, trainable: Iterable[str], keep_statistics: bool = False
) -> None:
    """Training mode for the children that train; frozen ones stay in eval mode.

    Frozen BatchNorm layers keep normalising with the statistics they were
    trained with instead of drifting towards a small new dataset's. With
    ``keep_statistics``, so do the BatchNorm layers of the children that train
    (their scale and shift still learn): batch statistics of a few dozen small
    images are a noisy stand-in for pretrained ones.
    """
    trainable = set(trainable)
    network.train()
    for name, child in network.named_children():
        if name not in trainable:
            child.eval()
        elif keep_statistics:
            for module in child.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
