"""``inception-gui summary``: the network layer by layer, as a table or JSON."""

from __future__ import annotations

import argparse
import json
import sys

import model
from inception_gui.cli.common import _error, _int_in
from model.network.variants import VARIANT_NAMES

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    """Add ``summary`` to the subcommands."""
    summ = sub.add_parser("summary", help="print the network layer by layer")
    summ.add_argument("--variant", choices=VARIANT_NAMES, default="v3")
    summ.add_argument(
        "--input-size", type=_int_in(75, 1024), default=299, help="square input side (75-1024)"
    )
    summ.add_argument("--num-classes", type=_int_in(1, 100_000), default=1000)
    summ.add_argument("--no-aux", action="store_true", help="leave out the auxiliary head")
    summ.add_argument("--depth", type=int, default=2, help="levels to print (default 2)")
    summ.add_argument("--json", action="store_true", help="the tree as nested JSON objects")


def run(args: argparse.Namespace) -> int:
    try:
        summary = model.summarize(args.variant, args.input_size, args.num_classes, not args.no_aux)
    except ValueError as exc:
        return _error(str(exc))
    if args.json:
        doc = {
            "variant": summary.variant,
            "input_size": summary.input_size,
            "total_params": summary.total_params,
            "trainable_params": summary.trainable_params,
            "mult_adds": summary.mult_adds,
            "inference_mult_adds": summary.inference_mult_adds,
            "tree": summary.root.to_dict(),
        }
        json.dump(doc, sys.stdout, indent=2)
        print()
        return 0
    print(f"{'layer':<44} {'output shape':<20} {'params':>12} {'mult-adds':>15}")
    print("-" * 94)
    _print_tree(summary.root, 0, args.depth)
    print("-" * 94)
    print(f"total parameters:     {summary.total_params:,}")
    print(f"trainable parameters: {summary.trainable_params:,}")
    print(
        f"mult-adds per image:  {summary.inference_mult_adds / 1e9:.2f} G inference, "
        f"{summary.mult_adds / 1e9:.2f} G training (with the auxiliary head)"
    )
    print(f"input: 3 x {summary.input_size} x {summary.input_size}, variant {summary.variant}")
    return 0


def _print_tree(node, level: int, depth: int) -> None:
    label = f"{'  ' * level}{node.name} ({node.type})"
    shape = " x ".join(str(d) for d in node.output_shape[1:]) if node.output_shape else "-"
    print(f"{label:<44} {shape:<20} {node.total_params:>12,} {node.mult_adds:>15,}")
    if level < depth:
        for child in node.children:
            _print_tree(child, level + 1, depth)
