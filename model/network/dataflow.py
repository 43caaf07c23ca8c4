"""What a module's ``forward`` computes from what, read with :mod:`torch.fx`.

:mod:`model.network.diagram` draws from this: a trace that keeps chosen modules whole
(each ``BasicConv2d`` in a block, each stage in the network), and walks over the nodes
that a drawing shows (modules, pools, concatenations) through the ones it does not
(ReLUs, reshapes, the input transform).
"""

from __future__ import annotations

import copy

from torch import fx, nn

from model.network.blocks import BasicConv2d

__all__ = [
    "POOLS",
    "chain",
    "feeders",
    "function_name",
    "output_nodes",
    "trace_block",
    "trace_network",
]

POOLS = {"max_pool2d": "max pool", "avg_pool2d": "avg pool"}  # functional pools, as drawn


class _Tracer(fx.Tracer):
    """Keeps ``keep(module, qualified_name)`` modules whole instead of tracing into them."""

    def __init__(self, keep) -> None:
        super().__init__()
        self._keep = keep

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return self._keep(m, module_qualified_name) or super().is_leaf_module(
            m, module_qualified_name
        )


def _is_drawn(node: fx.Node) -> bool:
    """A node drawn as a box (a module or a pool) or joining boxes (a concatenation)."""
    if node.op == "call_module":
        return True
    return node.op == "call_function" and function_name(node) in (*POOLS, "cat")


def function_name(node: fx.Node) -> str:
    """The name of the function a ``call_function`` node calls: "cat", "max_pool2d"."""
    return getattr(node.target, "__name__", str(node.target))


def feeders(node: fx.Node) -> list[fx.Node]:
    """The nearest drawn nodes (or the input) upstream of ``node``, through reshapes and ReLUs."""
    found: list[fx.Node] = []
    for arg in node.all_input_nodes:
        if arg.op == "placeholder" or _is_drawn(arg):
            found.append(arg)
        elif arg.op not in ("get_attr",):
            found += feeders(arg)
    return list(dict.fromkeys(found))


def chain(node: fx.Node) -> list[fx.Node]:
    """The single line of drawn nodes from the input up to and including ``node``."""
    line = []
    while node.op != "placeholder":
        line.append(node)
        inputs = feeders(node)
        if len(inputs) != 1:
            raise ValueError(f"{node.name} reads {len(inputs)} inputs; a branch is a chain")
        node = inputs[0]
    return line[::-1]


def output_nodes(graph: fx.Graph) -> list[fx.Node]:
    """What ``forward`` returns: one node, or each of a tuple (logits, aux logits)."""
    output = next(n for n in graph.nodes if n.op == "output")
    result = output.args[0]
    items = result if isinstance(result, tuple | list) else (result,)
    return [item for item in items if isinstance(item, fx.Node)]


def trace_block(block: nn.Module) -> fx.Graph:
    """The graph of an Inception block's ``forward``, each ``BasicConv2d`` one node."""
    if getattr(block, "pool_after_conv", False):
        # Drawn as the math reads (pool, then 1x1): a shallow copy shares every layer
        # and leaves the live block's switch alone.
        block = copy.copy(block)
        block.pool_after_conv = False
    return _Tracer(lambda m, _name: isinstance(m, BasicConv2d)).trace(block)


def trace_network(network: nn.Module) -> fx.Graph:
    """The graph of a network's ``forward``, each of its direct children one node."""
    # Traced as in training, where the auxiliary head runs; a shallow copy keeps the live
    # network's mode (and every layer, shared) as it is.
    shown = copy.copy(network)
    shown.training = True
    return _Tracer(lambda _m, name: "." not in name).trace(shown)
