"""The network as the paper draws it, as plain data: a chain of stages, and each block's branches.

The drawing is read from the live module, not from a table: :mod:`torch.fx` traces
``forward`` with each ``BasicConv2d`` (or, for the whole network, each stage) kept whole,
so the branches are the inputs of the block's final ``torch.cat`` and each branch is the
chain of layers that feeds it, in forward order. The shapes come from the summary
(:mod:`model.network.summary`, measured at the input size on show); the functional pools
inside the blocks have no module and so no summary row, and their shapes follow from their
kernel, stride and padding.

What comes back holds no module or tensor: frozen dataclasses that cross threads and that
the GUI and the CLI draw (:mod:`inception_gui.widgets.diagram`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import fx, nn

from model.network.dataflow import (
    POOLS,
    chain,
    feeders,
    function_name,
    output_nodes,
    trace_block,
    trace_network,
)
from model.network.inception import build_network
from model.network.summary import LayerNode, NetworkSummary, summarize_module
from model.network.variants import MIN_INPUT_SIZE, Variant

__all__ = [
    "BlockDiagram",
    "Box",
    "Branch",
    "NetworkDiagram",
    "describe_block",
    "describe_network",
    "network_diagram",
]

Shape = tuple[int, ...]
Pair = tuple[int, int]

# The paper's figure for each kind of block; a caption only, the drawing comes from forward.
FIGURES = {  # the grid sizes are the paper's, at 299 px; the arrows give the real ones
    "InceptionA": "the paper's 35 x 35 module (figure 5)",
    "InceptionB": "grid reduction, the paper's 35 → 17 (figure 10)",
    "InceptionC": "the paper's 17 x 17 module (figure 6)",
    "InceptionD": "grid reduction, the paper's 17 → 8 (figure 10)",
    "InceptionE": "the paper's 8 x 8 module (figure 7)",
}


@dataclass(frozen=True)
class Box:
    """One layer, drawn as a box.

    ``path`` is the module's dotted path in the network, the key of its row in the summary
    tree; a pool that ``forward`` calls as a function has none and keeps its block's path.
    """

    path: str  # "Mixed_5b.branch5x5_2"; the block's own path for a functional pool
    name: str  # attribute name, or "pool" for a functional pool
    type: str  # class name ("BasicConv2d", "InceptionA") or function ("max_pool2d")
    op: str  # "conv", "max pool", "avg pool", "block", "aux head", "dropout", "linear"
    kernel: Pair | None  # (height, width); None where it has none (a block, dropout)
    stride: Pair | None
    padding: Pair | None
    in_channels: int | None
    out_channels: int | None
    input_shape: Shape  # per image, batch first (1, C, H, W), as in the summary
    output_shape: Shape
    params: int  # unique parameters in this layer and below
    mult_adds: int  # for one image
    module: bool = True  # False for a pool that forward calls as a function

    @property
    def kernel_text(self) -> str:
        """``"1x7"``: rows by columns, as the paper writes its kernels."""
        return "x".join(map(str, self.kernel)) if self.kernel else ""

    @property
    def label(self) -> str:
        """The box's first line: ``"3x3 conv, stride 2"``, ``"Mixed_5b"``."""
        if self.op in ("block", "aux head"):
            return self.name
        text = f"{self.kernel_text} {self.op}".strip()
        if self.stride and self.stride != (1, 1):
            text += (
                f", stride {self.stride[0] if self.stride[0] == self.stride[1] else self.stride}"
            )
        return text


@dataclass(frozen=True)
class Branch:
    """One column of a block: its layers from the block's input up to the concatenation.

    Each step holds the boxes drawn side by side at one height: one box, except for the
    last step of the expanded filter bank (figure 7), where a 1x3 and a 3x1 both read the
    step below and both go into the concatenation.
    """

    steps: tuple[tuple[Box, ...], ...]

    @property
    def boxes(self) -> tuple[Box, ...]:
        """Every box, in forward order."""
        return tuple(box for step in self.steps for box in step)

    @property
    def outputs(self) -> tuple[Box, ...]:
        """The boxes whose outputs go into the concatenation."""
        return self.steps[-1]

    @property
    def out_channels(self) -> int:
        return sum(box.output_shape[1] for box in self.outputs)


@dataclass(frozen=True)
class BlockDiagram:
    """An Inception block or grid reduction: its branches, side by side, and the concatenation."""

    path: str  # "Mixed_6b"
    type: str  # "InceptionC"
    caption: str  # which of the paper's figures it is
    input_shape: Shape  # the "Base" the branches read
    output_shape: Shape  # the filter concatenation's
    branches: tuple[Branch, ...]  # in the order of the concatenation's channels
    params: int
    mult_adds: int

    def boxes(self) -> Iterator[Box]:
        """Every box of every branch."""
        for branch in self.branches:
            yield from branch.boxes

    def arrows(self) -> list[tuple[str, str, Shape]]:
        """``(from, to, shape)`` for every arrow: ``"input"`` and ``"concat"`` at the ends."""
        out = []
        for branch in self.branches:
            below = ["input"]
            for step in branch.steps:
                out += [(src, box.path, box.input_shape) for box in step for src in below]
                below = [box.path for box in step]
            out += [(box.path, "concat", box.output_shape) for box in branch.outputs]
        return out


@dataclass(frozen=True)
class NetworkDiagram:
    """The whole network as a vertical chain of stages, with each block's own drawing."""

    variant: str  # "v3" or "paper"
    input_size: int
    num_classes: int
    input_shape: Shape  # (1, 3, S, S)
    stages: tuple[Box, ...]  # the main chain in forward order, from the stem to the classifier
    aux: Box | None  # the auxiliary head, off to the side
    aux_after: str | None  # the stage whose output the auxiliary head reads
    blocks: tuple[BlockDiagram, ...]  # the Inception blocks and grid reductions, in order
    total_params: int
    mult_adds: int  # one image, training mode (auxiliary head included)

    def block(self, path: str) -> BlockDiagram | None:
        """The block at ``path`` or holding the layer at ``path``, or None."""
        head = path.split(".", 1)[0]
        return next((b for b in self.blocks if b.path == head), None)

    def stage(self, path: str) -> Box | None:
        """The stage at ``path`` or holding the layer at ``path`` (the aux head too), or None."""
        head = path.split(".", 1)[0]
        candidates = (*self.stages, *((self.aux,) if self.aux else ()))
        return next((s for s in candidates if s.path == head), None)


# Blocks ---------------------------------------------------------------------------------------


def _pairs(value) -> Pair:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _pool_box(node: fx.Node, block_path: str, input_shape: Shape) -> Box:
    """A pool ``forward`` calls as a function: kernel, stride and padding from its arguments."""
    names = ("input", "kernel_size", "stride", "padding")
    given = dict(zip(names, node.args, strict=False)) | dict(node.kwargs)
    kernel = _pairs(given["kernel_size"])
    stride = _pairs(given.get("stride") or given["kernel_size"])
    padding = _pairs(given.get("padding", 0))
    n, c, h, w = input_shape
    out_h = (h + 2 * padding[0] - kernel[0]) // stride[0] + 1
    out_w = (w + 2 * padding[1] - kernel[1]) // stride[1] + 1
    return Box(
        path=block_path,
        name="pool",
        type=function_name(node),
        op=POOLS[function_name(node)],
        kernel=kernel,
        stride=stride,
        padding=padding,
        in_channels=c,
        out_channels=c,
        input_shape=input_shape,
        output_shape=(n, c, out_h, out_w),
        params=0,
        mult_adds=0,
        module=False,
    )


def _module_box(path: str, node: LayerNode, input_shape: Shape, op: str | None = None) -> Box:
    """A box for the module at ``path``, from its summary row."""
    conv = next((c for c in node.children if c.type == "Conv2d"), None)
    d = conv.details if conv is not None else node.details
    kernel = d.get("kernel_size")
    stride = d.get("stride")
    padding = d.get("padding")
    return Box(
        path=path,
        name=node.name,
        type=node.type,
        op=op or _op_of(node),
        kernel=_pairs(kernel) if kernel is not None else None,
        stride=_pairs(stride) if stride is not None else None,
        padding=_pairs(padding) if isinstance(padding, int | list | tuple) else None,
        in_channels=d.get("in_channels", d.get("in_features", input_shape[1])),
        out_channels=d.get("out_channels", d.get("out_features")),
        input_shape=input_shape,
        output_shape=_measured_shape(node),
        params=node.total_params,
        mult_adds=node.mult_adds,
    )


def _op_of(node: LayerNode) -> str:
    if node.type in ("BasicConv2d", "Conv2d"):
        return "conv"
    if node.type in FIGURES:
        return "block"
    if node.type == "InceptionAux":
        return "aux head"
    if node.type == "MaxPool2d":
        return "max pool"
    if node.type in ("AvgPool2d", "AdaptiveAvgPool2d"):
        return "avg pool"
    return node.type.lower()  # "dropout", "linear"


def _row(summary: LayerNode, path: str) -> LayerNode:
    node = summary.find(path)
    if node is None or _measured_shape(node) is None:
        raise ValueError(f"the summary has no measured row for {path!r}; is it this network's?")
    return node


def _measured_shape(node: LayerNode) -> Shape | None:
    """The row's output shape; a pool branch switched to pool after its conv runs the conv
    directly (its block's hooks do not fire), so its conv's row has it."""
    if node.output_shape is not None:
        return tuple(node.output_shape)
    conv = next((c for c in node.children if c.type == "Conv2d"), None)
    return tuple(conv.output_shape) if conv is not None and conv.output_shape else None


def describe_block(
    block: nn.Module, path: str, input_shape: Shape, summary: LayerNode
) -> BlockDiagram:
    """Draw one Inception block or grid reduction from its ``forward``.

    Parameters
    ----------
    block : nn.Module
        The live block (``InceptionA`` ... ``InceptionE``).
    path : str
        Its dotted path in the network ("Mixed_5b"): the key of its summary rows.
    input_shape : tuple of int
        What it reads, ``(1, C, H, W)``.
    summary : LayerNode
        The whole network's summary root, measured at the same input size.

    Raises
    ------
    ValueError
        ``forward`` does not end in one concatenation of branches that are chains.
    """
    graph = trace_block(block)
    (concat,) = output_nodes(graph)
    if not (concat.op == "call_function" and function_name(concat) == "cat"):
        raise ValueError(f"{path} does not end in a concatenation")
    shapes: dict[fx.Node, Shape] = {}
    boxes: dict[fx.Node, Box] = {}

    def box_for(node: fx.Node) -> Box:
        if node not in boxes:
            source = feeders(node)[0]
            below = shapes[source] if source.op != "placeholder" else input_shape
            if node.op == "call_module":
                box = _module_box(
                    f"{path}.{node.target}", _row(summary, f"{path}.{node.target}"), below
                )
            else:
                box = _pool_box(node, path, below)
            boxes[node], shapes[node] = box, box.output_shape
        return boxes[node]

    branches = []
    for out in concat.args[0]:
        # A branch ending in its own concatenation (figure 7's 1x3 and 3x1 pair) fans out.
        ends = list(out.args[0]) if function_name(out) == "cat" else [out]
        chains = [chain(end) for end in ends]
        stem = chains[0][:-1]
        if any(c[:-1] != stem for c in chains):
            raise ValueError(f"{path}: a branch's parallel layers must share what feeds them")
        steps = [(box_for(n),) for n in stem] + [tuple(box_for(c[-1]) for c in chains)]
        branches.append(Branch(tuple(steps)))
    row = _row(summary, path)
    return BlockDiagram(
        path=path,
        type=type(block).__name__,
        caption=FIGURES.get(type(block).__name__, type(block).__name__),
        input_shape=input_shape,
        output_shape=tuple(row.output_shape),
        branches=tuple(branches),
        params=row.total_params,
        mult_adds=row.mult_adds,
    )


# The network ----------------------------------------------------------------------------------


def describe_network(network: nn.Module, summary: LayerNode, input_size: int) -> NetworkDiagram:
    """Draw ``network`` (an :class:`Inception3`) as a chain of stages and its blocks.

    Parameters
    ----------
    network : Inception3
        The live network, any variant and head.
    summary : LayerNode
        Its summary root (:func:`model.network.summarize_module` at ``input_size``).
    input_size : int
        Side of the square input the summary measured.
    """
    graph = trace_network(network)
    outputs = output_nodes(graph)
    main = chain(outputs[0])
    input_shape = (1, 3, input_size, input_size)
    modules = dict(network.named_children())
    stages, blocks, below = [], [], input_shape
    shape_of: dict[str, Shape] = {}
    for node in main:
        if node.op != "call_module":
            continue  # flatten and the input transform change no drawing
        name = str(node.target)
        box = _module_box(name, _row(summary, name), below)
        stages.append(box)
        if box.op == "block":
            blocks.append(describe_block(modules[name], name, below, summary))
        shape_of[name] = below = box.output_shape
    aux = aux_after = None
    if len(outputs) > 1:
        aux_chain = [n for n in chain(outputs[1]) if n not in main]
        aux_after = str(feeders(aux_chain[0])[0].target)
        name = str(aux_chain[0].target)
        aux = _module_box(name, _row(summary, name), shape_of[aux_after], op="aux head")
    fc = stages[-1]
    return NetworkDiagram(
        variant=getattr(getattr(network, "variant", None), "value", ""),
        input_size=input_size,
        num_classes=int(fc.output_shape[-1]),
        input_shape=input_shape,
        stages=tuple(stages),
        aux=aux,
        aux_after=aux_after,
        blocks=tuple(blocks),
        total_params=summary.total_params,
        mult_adds=summary.mult_adds,
    )


def network_diagram(
    variant: Variant | str = Variant.V3,
    input_size: int = 299,
    num_classes: int = 1000,
    aux_logits: bool = True,
    *,
    summary: NetworkSummary | None = None,
) -> NetworkDiagram:
    """The drawing of a freshly built network of ``variant`` at ``input_size``.

    Parameters
    ----------
    variant, input_size, num_classes, aux_logits
        The layout and its head.
    summary : NetworkSummary, optional
        A summary already measured (the Explorer's): its layout, size and head are drawn
        and its measurements reused, so only the structure is built (on the meta device:
        no memory, no initialisation). A loaded network is drawn with
        :func:`describe_network` instead.
    """
    if summary is not None:
        variant, input_size = summary.variant, summary.input_size
        fc = summary.root.find("fc")
        num_classes = fc.details["out_features"] if fc is not None else num_classes
        aux_logits = summary.root.find("AuxLogits") is not None
    if input_size < MIN_INPUT_SIZE:
        raise ValueError(f"input size must be at least {MIN_INPUT_SIZE}, got {input_size}")
    with torch.device("meta" if summary is not None else "cpu"):
        network = build_network(variant, num_classes, aux_logits=aux_logits, init_weights=False)
    root = summary.root if summary is not None else summarize_module(network, input_size)
    return describe_network(network, root, input_size)
