"""What each Inception block's factorization saves, measured on the real layers.

Works on :class:`model.network.summary.LayerNode` trees (plain data), so the GUI can ask
about any block it shows. Each finding compares the factored convolutions that
the block really holds with the single unfactored convolution they replace,
at the same input and output widths and the same grid:

- 35 x 35 blocks: two stacked 3x3 in place of one 5x5 (paper section 3.1:
  "a 28% relative gain" for equal widths).
- 17 x 17 blocks: a 1x7 then a 7x1 in place of a 7x7 (section 3.2; for equal
  widths 14/49 of the cost, a 71% saving).
- 8 x 8 blocks: a 1x3 and a 3x1 side by side on one stem in place of a 3x3
  producing both halves (figure 7's expanded filter bank).
- grid reductions: a stride-2 conv beside a stride-2 pool in place of a
  stride-1 conv to the full width followed by pooling (section 5).
"""

from __future__ import annotations

from dataclasses import dataclass

from model.network.summary import LayerNode

__all__ = ["PAPER_CLAIMS", "Factorization", "factorizations"]

# What the paper states for equal filter counts: fraction of the cost saved.
PAPER_CLAIMS = {
    "5x5 as two 3x3": 1 - 18 / 25,  # 28%
    "7x7 as 1x7 then 7x1": 1 - 14 / 49,  # 71%
    "3x3 as 1x3 beside 3x1": 1 - 6 / 9,  # 33% for equal output width
}


@dataclass(frozen=True)
class Factorization:
    """One factored convolution in a block, against what it replaces."""

    kind: str  # "5x5 as two 3x3", "7x7 as 1x7 then 7x1", ...
    layers: tuple[str, ...]  # paths of the factored convs
    description: str  # one sentence for people
    params: int  # weights of the factored convs
    unfactored_params: int  # weights of the single conv they replace
    mult_adds: int  # per image, factored
    unfactored_mult_adds: int  # per image, unfactored

    @property
    def params_saved(self) -> float:
        """Fraction of the unfactored weights saved (0.28 = 28%)."""
        return 1 - self.params / self.unfactored_params if self.unfactored_params else 0.0

    @property
    def mult_adds_saved(self) -> float:
        """Fraction of the unfactored mult-adds saved."""
        if not self.unfactored_mult_adds:
            return 0.0
        return 1 - self.mult_adds / self.unfactored_mult_adds


def _conv(node: LayerNode, name: str) -> LayerNode | None:
    child = next((c for c in node.children if c.name == name), None)
    if child is None:
        return None
    return next((c for c in child.children if c.type == "Conv2d"), None)


def _grid(conv: LayerNode) -> int:
    shape = conv.output_shape or (1, 1, 1, 1)
    return shape[-1] * shape[-2]


def _weights(conv: LayerNode) -> int:
    d = conv.details
    kh, kw = d["kernel_size"]
    return d["in_channels"] * d["out_channels"] * kh * kw


def _replace(
    node: LayerNode, names: list[str], kind: str, kernel: tuple[int, int], text: str
) -> Factorization | None:
    """Stacked convs ``names`` against one conv of ``kernel`` from first input to last output."""
    convs = [_conv(node, n) for n in names]
    if any(c is None for c in convs):
        return None
    c_in = convs[0].details["in_channels"]
    c_out = convs[-1].details["out_channels"]
    full = c_in * c_out * kernel[0] * kernel[1]
    return Factorization(
        kind=kind,
        layers=tuple(c.path for c in convs),
        description=text,
        params=sum(_weights(c) for c in convs),
        unfactored_params=full,
        mult_adds=sum(_weights(c) * _grid(c) for c in convs),
        unfactored_mult_adds=full * _grid(convs[-1]),
    )


def _expanded_bank(node: LayerNode, a: str, b: str) -> Factorization | None:
    left, right = _conv(node, a), _conv(node, b)
    if left is None or right is None:
        return None
    c_in = left.details["in_channels"]
    c_out = left.details["out_channels"] + right.details["out_channels"]
    full = c_in * c_out * 9
    return Factorization(
        kind="3x3 as 1x3 beside 3x1",
        layers=(left.path, right.path),
        description=(
            f"A 1x3 and a 3x1 side by side on one stem give {c_out} channels "
            f"where a 3x3 would need {full:,} weights (figure 7)."
        ),
        params=_weights(left) + _weights(right),
        unfactored_params=full,
        mult_adds=(_weights(left) + _weights(right)) * _grid(left),
        unfactored_mult_adds=full * _grid(left),
    )


def _reduction(node: LayerNode) -> Factorization | None:
    """Stride-2 convs beside pooling against a full-width stride-1 3x3 then pooling."""
    convs = [c for c in node.walk() if c.type == "Conv2d"]
    strided = [c for c in convs if c.details.get("stride") == [2, 2]]
    if not strided or node.output_shape is None:
        return None
    c_in = convs[0].details["in_channels"]
    c_out = node.output_shape[1]
    in_grid = max(_grid(c) for c in convs)  # the 1x1s run on the input grid
    full = c_in * c_out * 9
    return Factorization(
        kind="grid reduction beside pooling",
        layers=tuple(c.path for c in strided),
        description=(
            f"Stride-2 convs run beside a stride-2 max pool and are concatenated "
            f"({c_in} -> {c_out} channels); a stride-1 3x3 to {c_out} channels "
            f"before pooling would avoid the bottleneck at far higher cost (section 5)."
        ),
        params=sum(_weights(c) for c in convs),
        unfactored_params=full,
        mult_adds=sum(_weights(c) * _grid(c) for c in convs),
        unfactored_mult_adds=full * in_grid,
    )


def factorizations(node: LayerNode) -> list[Factorization]:
    """The factorizations a block uses, measured; empty for anything else.

    Parameters
    ----------
    node : LayerNode
        A node from :func:`model.summarize`, typically ``Mixed_5b`` ... ``Mixed_7c``.
    """
    if node.type == "InceptionA":
        found = [
            _replace(
                node,
                ["branch3x3dbl_2", "branch3x3dbl_3"],
                "5x5 as two 3x3",
                (5, 5),
                "Two stacked 3x3 convs see the same 5x5 window with fewer weights (section 3.1).",
            )
        ]
        return [f for f in found if f]
    if node.type == "InceptionC":
        text = "A 1x7 followed by a 7x1 covers a 7x7 window (section 3.2)."
        found = [
            _replace(node, ["branch7x7_2", "branch7x7_3"], "7x7 as 1x7 then 7x1", (7, 7), text),
            _replace(
                node, ["branch7x7dbl_2", "branch7x7dbl_3"], "7x7 as 1x7 then 7x1", (7, 7), text
            ),
            _replace(
                node, ["branch7x7dbl_4", "branch7x7dbl_5"], "7x7 as 1x7 then 7x1", (7, 7), text
            ),
        ]
        return [f for f in found if f]
    if node.type == "InceptionE":
        found = [
            _expanded_bank(node, "branch3x3_2a", "branch3x3_2b"),
            _expanded_bank(node, "branch3x3dbl_3a", "branch3x3dbl_3b"),
        ]
        return [f for f in found if f]
    if node.type in ("InceptionB", "InceptionD"):
        found = _reduction(node)
        return [found] if found else []
    return []
