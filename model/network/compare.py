"""Paper against release: the two variants side by side, stage by stage.

Every figure is read from :func:`model.summarize` (one run of each variant)
and :func:`model.network.factorization.factorizations`; nothing is restated by hand.

The paper's factorization claims assume equal filter counts: a 5x5 from n to
n channels against two 3x3 through n channels. The real blocks change width
inside the factored pair, so their measured savings differ. In the release's
35 x 35 block the tower that replaces a 5x5 widens 64 -> 96 -> 96, which makes
the pair cost 90% of a 64 -> 96 5x5 (10% saved, not 28%); the seed's layout
widens only at the end (64 -> 64 -> 96) and saves 40%. Each
:class:`FactorizationFigures` carries that explanation in ``note``.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from model.network.factorization import PAPER_CLAIMS, Factorization, factorizations
from model.network.summary import LayerNode, NetworkSummary, summarize

__all__ = [
    "FactorizationFigures",
    "StageFigures",
    "StageRow",
    "VariantComparison",
    "compare_variants",
]

VARIANTS = ("v3", "paper")


@dataclass(frozen=True)
class StageFigures:
    """One stage (a child of the network's root) of one variant."""

    type: str  # "InceptionA", "BasicConv2d", ...
    output_shape: tuple[int, ...] | None  # per image, batch first; None if it did not run
    params: int  # unique parameters in the stage
    mult_adds: int  # per image


@dataclass(frozen=True)
class StageRow:
    """A stage name with each variant's figures; None where a variant lacks the stage."""

    name: str  # "Conv2d_1a_3x3", "Mixed_5b", ...
    v3: StageFigures | None
    paper: StageFigures | None


@dataclass(frozen=True)
class FactorizationFigures:
    """One kind of factorization in one variant, summed over every block that uses it."""

    variant: str  # "v3" or "paper"
    kind: str  # a key of PAPER_CLAIMS, or "grid reduction beside pooling"
    count: int  # factored convolution groups of this kind in the network
    params: int  # weights of the factored convs, summed
    unfactored_params: int  # weights of the convs they replace, summed
    mult_adds: int  # per image, factored
    unfactored_mult_adds: int  # per image, unfactored
    saving_min: float  # smallest mult-add saving of any single instance
    saving_max: float  # largest
    paper_claim: float | None  # the paper's saving for equal filter counts; None if it states none
    widths: tuple[tuple[int, ...], ...]  # channel widths through each distinct instance
    note: str  # why the measured saving differs from the claim

    @property
    def mult_adds_saved(self) -> float:
        """The measured saving over all instances (0.28 = 28%)."""
        return 1 - self.mult_adds / self.unfactored_mult_adds if self.unfactored_mult_adds else 0.0

    @property
    def params_saved(self) -> float:
        return 1 - self.params / self.unfactored_params if self.unfactored_params else 0.0


@dataclass(frozen=True)
class VariantComparison:
    """The release and the paper's layout, stage by stage and factorization by factorization."""

    input_size: int  # side of the square input both were measured at
    rows: tuple[StageRow, ...]  # stages in forward order, aligned by name
    factorizations: tuple[FactorizationFigures, ...]  # v3's kinds, then the paper layout's
    summaries: dict[str, NetworkSummary]  # the summaries every figure was read from


def _figures(node: LayerNode | None) -> StageFigures | None:
    if node is None:
        return None
    return StageFigures(node.type, node.output_shape, node.total_params, node.mult_adds)


def _merged_order(first: list[str], second: list[str]) -> list[str]:
    """Both name lists in one forward order; a name in both appears once, at its place in ``first``.

    (The auxiliary head hangs off ``Mixed_6e`` in the release and ``Mixed_6a`` in the
    paper's layout: one row, where the release has it.)
    """
    merged: list[str] = []
    known = set(first)
    matcher = difflib.SequenceMatcher(a=first, b=second, autojunk=False)
    for _tag, a0, a1, b0, b1 in matcher.get_opcodes():
        merged += first[a0:a1]
        merged += [n for n in second[b0:b1] if n not in known]
    return merged


def stage_rows(v3: NetworkSummary, paper: NetworkSummary) -> tuple[StageRow, ...]:
    """The root's children of both summaries, aligned by name in forward order."""
    by_name = [{c.name: c for c in s.root.children} for s in (v3, paper)]
    names = _merged_order(*(list(d) for d in by_name))
    return tuple(
        StageRow(n, _figures(by_name[0].get(n)), _figures(by_name[1].get(n))) for n in names
    )


def _widths(root: LayerNode, found: Factorization) -> tuple[int, ...]:
    convs = [root.find(path) for path in found.layers]
    if any(c is None for c in convs):
        return ()
    # Stacked convs: in -> middle -> out; side by side (1x3 beside 3x1): in -> each half.
    return (convs[0].details["in_channels"], *(c.details["out_channels"] for c in convs))


_STACKED = ("5x5 as two 3x3", "7x7 as 1x7 then 7x1")  # convs in a chain, not side by side


def _chain(kind: str, widths: tuple[int, ...]) -> str:
    if kind in _STACKED:
        return " -> ".join(map(str, widths))  # in -> middle -> out
    if kind == "3x3 as 1x3 beside 3x1":
        return f"{widths[0]} -> {' + '.join(map(str, widths[1:]))}"  # one stem, two halves
    return f"stride-2 convs to {' + '.join(map(str, widths[1:]))} channels"


def _note(kind: str, claim: float | None, found: list[Factorization], root: LayerNode) -> str:
    """Each distinct width chain with its measured saving, and what the claim assumes."""
    per_chain: dict[tuple[int, ...], float] = {}
    for f in found:
        per_chain.setdefault(_widths(root, f), f.mult_adds_saved)
    chains = "; ".join(
        f"{_chain(kind, w)} saves {saved:.0%}" for w, saved in sorted(per_chain.items())
    )
    if claim is None:
        return f"The paper gives no figure for this. Measured: {chains}."
    if kind not in _STACKED:
        return (
            f"The paper's {claim:.0%} compares a 1x3 plus a 3x1 with a 3x3 of the same output "
            f"width; measured here against one 3x3 producing both halves: {chains}."
        )
    return (
        f"The paper's {claim:.0%} assumes equal filter counts in, between and out; where the "
        f"real widths are equal the saving matches it, where the width changes inside the "
        f"pair it does not. Measured: {chains}."
    )


def variant_factorizations(summary: NetworkSummary) -> tuple[FactorizationFigures, ...]:
    """Each factorization kind a variant uses, summed over its blocks, next to the paper's claim."""
    groups: dict[str, list[Factorization]] = defaultdict(list)
    for stage in summary.root.children:
        for found in factorizations(stage):
            groups[found.kind].append(found)
    result = []
    for kind, found in groups.items():
        claim = PAPER_CLAIMS.get(kind)
        mult_adds = sum(f.mult_adds for f in found)
        unfactored = sum(f.unfactored_mult_adds for f in found)
        result.append(
            FactorizationFigures(
                variant=summary.variant,
                kind=kind,
                count=len(found),
                params=sum(f.params for f in found),
                unfactored_params=sum(f.unfactored_params for f in found),
                mult_adds=mult_adds,
                unfactored_mult_adds=unfactored,
                saving_min=min(f.mult_adds_saved for f in found),
                saving_max=max(f.mult_adds_saved for f in found),
                paper_claim=claim,
                widths=tuple(sorted({_widths(summary.root, f) for f in found})),
                note=_note(kind, claim, found, summary.root),
            )
        )
    return tuple(result)


def compare_variants(
    input_size: int = 299, summaries: Mapping[str, NetworkSummary] | None = None
) -> VariantComparison:
    """Summarize both variants at ``input_size`` and set them side by side.

    Parameters
    ----------
    input_size : int
        Side of the square input (at least 75); mult-adds and shapes depend on it.
    summaries : mapping, optional
        ``{"v3": ..., "paper": ...}`` already made at ``input_size`` (the
        Explorer has them); missing ones are computed (a few seconds each).

    Returns
    -------
    VariantComparison
        Stage rows aligned by name, and per variant the factorization savings
        measured on the real blocks next to the paper's claims.
    """
    given = dict(summaries or {})
    if any(s.input_size != input_size for s in given.values()):
        raise ValueError(f"the summaries given were not made at input size {input_size}")
    summaries = {v: given.get(v) or summarize(v, input_size) for v in VARIANTS}
    return VariantComparison(
        input_size=input_size,
        rows=stage_rows(summaries["v3"], summaries["paper"]),
        factorizations=tuple(f for v in VARIANTS for f in variant_factorizations(summaries[v])),
        summaries=summaries,
    )
