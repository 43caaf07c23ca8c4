"""The network described layer by layer, as plain data.

torchinfo runs the network once (in training mode, so that the auxiliary head
runs too) and measures each module's output shape and mult-adds. What it finds
is copied into frozen :class:`LayerNode` trees that hold no reference to any
module or tensor, so they can cross threads and outlive the network.

Parameters are counted here rather than taken from torchinfo: a module reached
through two parents (the seed document's shared 8 x 8 stems) is counted once,
by identity, where torchinfo counts it once per parent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from model.network.inception import MIN_INPUT_SIZE, Variant, build_network

__all__ = ["LayerNode", "NetworkSummary", "summarize", "summarize_module"]


@dataclass(frozen=True)
class LayerNode:
    """One module of the network, with what it holds and what it computes."""

    name: str  # attribute name: "Mixed_5b", "branch1x1", "conv"
    path: str  # dotted path from the root: "Mixed_5b.branch1x1.conv"
    type: str  # class name: "InceptionA", "Conv2d"
    output_shape: tuple[int, ...] | None  # per image, batch dimension first (1); None if not run
    params: int  # parameters held by this module itself
    total_params: int  # unique parameters in this module and below
    trainable_params: int  # unique trainable parameters in this module and below
    mult_adds: int  # multiply-adds for one image, this module and below
    details: dict[str, Any] = field(default_factory=dict)  # kernel, stride, channels...
    children: tuple[LayerNode, ...] = ()  # sub-modules in forward order

    def walk(self) -> Iterator[LayerNode]:
        """This node and every node below it, depth first, in forward order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def find(self, path: str) -> LayerNode | None:
        """The node at a dotted ``path``, or None."""
        return next((n for n in self.walk() if n.path == path), None)

    def to_dict(self) -> dict[str, Any]:
        """Nested plain objects, for ``--json``."""
        data = asdict(self)
        data["output_shape"] = list(self.output_shape) if self.output_shape else None
        return data


@dataclass(frozen=True)
class NetworkSummary:
    """A network's layer tree with its totals."""

    variant: str  # "v3" or "paper"
    input_size: int  # side of the square input
    root: LayerNode  # the whole network
    total_params: int  # unique parameters
    trainable_params: int  # unique trainable parameters
    mult_adds: int  # one image, training mode (auxiliary head included)
    inference_mult_adds: int  # one image, inference (no auxiliary head)


def _count(params: Iterator[nn.Parameter], trainable_only: bool = False) -> int:
    seen: set[int] = set()
    total = 0
    for p in params:
        if id(p) in seen or (trainable_only and not p.requires_grad):
            continue
        seen.add(id(p))
        total += p.numel()
    return total


def _details(module: nn.Module) -> dict[str, Any]:
    if isinstance(module, nn.Conv2d):
        return {
            "in_channels": module.in_channels,
            "out_channels": module.out_channels,
            "kernel_size": list(module.kernel_size),
            "stride": list(module.stride),
            "padding": list(module.padding)
            if not isinstance(module.padding, str)
            else module.padding,
            "bias": module.bias is not None,
        }
    if isinstance(module, nn.Linear):
        return {"in_features": module.in_features, "out_features": module.out_features}
    if isinstance(module, nn.BatchNorm2d):
        return {"num_features": module.num_features, "eps": module.eps}
    if isinstance(module, nn.MaxPool2d | nn.AvgPool2d):
        return {"kernel_size": module.kernel_size, "stride": module.stride}
    if isinstance(module, nn.Dropout):
        return {"p": module.p}
    return {}


def _measure(
    module: nn.Module, input_size: int, batch: int
) -> tuple[dict[int, Any], dict[int, int]]:
    """torchinfo's output shape and leaf mult-adds for each module, keyed by id()."""
    import torchinfo

    stats = torchinfo.summary(
        module,
        input_size=(batch, 3, input_size, input_size),
        depth=64,
        verbose=0,
        mode="train",
        device="cpu",
    )
    shapes: dict[int, Any] = {}
    macs: dict[int, int] = {}
    for layer in stats.summary_list:
        key = id(layer.module)
        if layer.output_size and key not in shapes:
            shapes[key] = (1, *layer.output_size[1:])
        if layer.is_leaf_layer:
            macs[key] = macs.get(key, 0) + int(layer.macs) // batch
    return shapes, macs


def _build(
    module: nn.Module, name: str, path: str, shapes: dict[int, Any], macs: dict[int, int]
) -> LayerNode:
    children = tuple(
        _build(child, child_name, f"{path}.{child_name}" if path else child_name, shapes, macs)
        for child_name, child in module.named_children()
    )
    return LayerNode(
        name=name,
        path=path,
        type=type(module).__name__,
        output_shape=shapes.get(id(module)),
        params=_count(module.parameters(recurse=False)),
        total_params=_count(module.parameters()),
        trainable_params=_count(module.parameters(), trainable_only=True),
        mult_adds=macs.get(id(module), 0) + sum(c.mult_adds for c in children),
        details=_details(module),
        children=children,
    )


def summarize_module(module: nn.Module, input_size: int = 299, name: str = "") -> LayerNode:
    """Describe any module taking ``N x 3 x S x S`` input as a :class:`LayerNode` tree.

    The module is run once in training mode on a batch of two random images
    (BatchNorm needs more than one value per channel); its mode and its
    BatchNorm running statistics are restored afterwards.
    """
    was_training = module.training
    buffers = {
        k: v.clone() for k, v in module.state_dict().items() if "running" in k or "num_batches" in k
    }
    try:
        with torch.random.fork_rng():
            shapes, macs = _measure(module, input_size, batch=2)
    finally:
        module.load_state_dict(buffers, strict=False)
        module.train(was_training)
    return _build(module, name or type(module).__name__, "", shapes, macs)


def summarize(
    variant: Variant | str = Variant.V3,
    input_size: int = 299,
    num_classes: int = 1000,
    aux_logits: bool = True,
) -> NetworkSummary:
    """Build a fresh network of ``variant`` and describe it.

    Parameters
    ----------
    variant : {"v3", "paper"}
        The layout.
    input_size : int
        Side of the square input, at least 75.
    num_classes : int
        Width of the classifier.
    aux_logits : bool
        Include the auxiliary head.
    """
    if input_size < MIN_INPUT_SIZE:
        raise ValueError(f"input size must be at least {MIN_INPUT_SIZE}, got {input_size}")
    net = build_network(variant, num_classes, aux_logits=aux_logits, init_weights=False)
    root = summarize_module(net, input_size, name=f"Inception3 ({net.variant.value})")
    aux = root.find("AuxLogits")
    return NetworkSummary(
        variant=net.variant.value,
        input_size=input_size,
        root=root,
        total_params=root.total_params,
        trainable_params=root.trainable_params,
        mult_adds=root.mult_adds,
        inference_mult_adds=root.mult_adds - (aux.mult_adds if aux else 0),
    )
