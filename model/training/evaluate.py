"""Passes that train nothing: validation, and the feature cache of head-only training.

Head-only training with ``cache_features`` runs the frozen backbone once, in
eval mode, over centre crops of every image, keeps the 2048 pooled features
per image, and trains the classifier on those: every epoch after the first
costs a matrix product per batch instead of a network's forward pass. The
price is augmentation: each image is seen as one centre crop, never flipped or
re-cropped. Set ``cache_features=False`` to keep augmentation and pay the
backbone's forward pass on every epoch.

The loops here belong to :class:`model.training.trainer.Trainer`'s run but take what
they need as arguments: ``stop()`` is asked before each batch (it may wait
while the run is paused), and ``progress(batch, batches, meter)`` makes the
event yielded after it, where ``meter`` is the running
:class:`~model.training.records.Meter`; the caller keeps the time.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from model.network.inception import FEATURE_CHANNELS
from model.training.distributed import World
from model.training.recipe import autocast
from model.training.records import Meter

__all__ = [
    "Cached",
    "HeadOnly",
    "batch_indices",
    "cache_features",
    "cached_logits",
    "val_logits",
    "validate",
]

Cached = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # features N x 2048, labels, positions
Outputs = Iterable[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]  # logits, labels, positions
Stop = Callable[[], bool]
Progress = Callable[[int, int, Meter], Any]


class HeadOnly(nn.Module):
    """The classifier alone, fed cached pooled features (N x 2048)."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.network.forward_head(features[:, :, None, None])


def batch_indices(indices: list[int], size: int) -> list[list[int]]:
    """Consecutive batches; a last batch of one joins the one before (BatchNorm needs two)."""
    out = [indices[i : i + size] for i in range(0, len(indices), size)]
    if len(out) > 1 and len(out[-1]) == 1:
        last = out.pop()
        out[-1] = out[-1] + last
    return out


def cache_features(
    net: nn.Module,
    loaders: dict[str, DataLoader],
    device: torch.device,
    precision: str,
    stop: Stop,
    progress: Progress,
) -> Generator[Any, None, dict[str, Cached] | None]:
    """Run the frozen backbone once, in eval mode, over every split's images.

    Parameters
    ----------
    net : nn.Module
        The run's network (``forward_features`` and ``forward_head``).
    loaders : dict of str to DataLoader
        Centre crops of each split, by split name; each yields (image, label, position).
    device : torch.device
        Where the backbone runs and the features stay.
    precision : str
        Autocast precision of the backbone; the features are kept in fp32.
    stop, progress : callable
        As the module docstring describes; one pass counts the batches of all splits.

    Returns
    -------
    dict of str to Cached, or None
        (pooled features, labels, positions) by split; None when ``stop()`` said so.
    """
    net.eval()
    total, done = sum(len(loader) for loader in loaders.values()), 0
    meter = Meter()  # images only: caching has no loss or accuracy to show
    cached: dict[str, Cached] = {}
    for split, loader in loaders.items():
        parts: list[Cached] = []
        for x, y, pos in loader:
            if stop():
                return None
            x = x.to(device).contiguous(memory_format=torch.channels_last)
            with torch.inference_mode(), autocast(device, precision):
                features = net.forward_features(x)
            pooled = net.forward_head(features, pre_logits=True).float()  # eval: no dropout
            parts.append((pooled, y.to(device), pos))
            done, meter.seen = done + 1, meter.seen + len(y)
            yield progress(done, total, meter)
        if parts:
            cached[split] = tuple(torch.cat(p) for p in zip(*parts))
        else:
            empty = torch.empty(0, dtype=torch.long)
            cached[split] = (torch.empty(0, FEATURE_CHANNELS, device=device), empty, empty)
    return cached


@torch.inference_mode()  # on a generator, torch holds the mode only while it runs
def cached_logits(net: nn.Module, cached: Cached, batch_size: int) -> Iterator[Any]:
    """(logits, labels, positions) per batch of ``cached`` features, through the head alone."""
    features, labels, positions = cached
    head = HeadOnly(net)
    for batch in batch_indices(list(range(len(labels))), batch_size):
        yield head(features[batch]), labels[batch], positions[batch]


@torch.inference_mode()
def val_logits(
    net: nn.Module, loader: DataLoader, device: torch.device, precision: str
) -> Iterator[Any]:
    """(logits, labels, positions) per batch of ``loader``, through the whole network."""
    for x, y, pos in loader:
        x = x.to(device).contiguous(memory_format=torch.channels_last)
        with autocast(device, precision):
            logits = net(x)
        yield logits, y, pos


def validate(
    outputs: Outputs, batches: int, world: World, stop: Stop, progress: Progress
) -> Generator[Any, None, dict[int, tuple[int, int, float]] | None]:
    """Score each validation image; the caller's grad mode is left alone between events.

    Parameters
    ----------
    outputs : iterable of (logits, labels, positions)
        From :func:`val_logits` or :func:`cached_logits`, with the network in eval mode.
    batches : int
        How many batches ``outputs`` holds, for ``progress``.
    world : World
        The run's processes: the results of all of them are merged.
    stop, progress : callable
        As the module docstring describes.

    Returns
    -------
    dict or None
        ``{position: (true, predicted, loss)}`` over every process; None when
        ``stop()`` said so.
    """
    results, meter = {}, Meter()
    for batch, (logits, y, pos) in enumerate(outputs, start=1):
        if stop():
            return None
        with torch.inference_mode():
            y = y.to(logits.device)
            losses = nn.functional.cross_entropy(logits.float(), y, reduction="none")
            predicted = logits.argmax(1)
            hits = int((predicted == y).sum())
        values = losses.tolist()
        for p, t, k, loss in zip(pos.tolist(), y.tolist(), predicted.tolist(), values):
            results[p] = (t, k, loss)
        meter.add(sum(values) / max(len(values), 1), hits, len(y))
        yield progress(batch, batches, meter)
    merged: dict[int, tuple[int, int, float]] = {}
    for part in world.gather(results):
        merged.update(part)  # DistributedSampler pads shards with repeats: keep one
    return merged
