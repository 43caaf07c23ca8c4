"""Helpers shared by the ``inception-gui`` subcommands.

Error reporting in argparse's style, the terminal progress line for weight
downloads, and the model-choosing arguments several subcommands take. Kept
apart from :mod:`inception_gui.cli.main` so the subcommand modules can use them
without importing the entry point (which imports them).
"""

from __future__ import annotations

import argparse
import sys

from model.network.variants import VARIANT_NAMES
from model.precision import PRECISION_NAMES


def _int_in(low: int, high: int):
    """An argparse type: an integer from ``low`` to ``high``, or a usage error naming them."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value

    return parse


def _error(message: str) -> int:
    """Print ``message`` as argparse does and return its exit status, 2."""
    print(f"inception-gui: error: {message}", file=sys.stderr)
    return 2


def _terminal_progress(done: int, total: int) -> None:
    """Redraw the weight-download percentage on stderr; ``total`` 0 means unknown."""
    if total:
        print(f"\rdownloading ImageNet weights: {done / total:6.1%}", end="", file=sys.stderr)
        if done >= total:
            print(file=sys.stderr)


def _add_model_arguments(
    parser: argparse.ArgumentParser,
    device: bool = True,
    precision: bool = False,
    precisions: tuple[str, ...] = PRECISION_NAMES,
) -> None:
    """Add ``--weights``, ``--variant`` and, when asked, ``--device`` and ``--precision``."""
    parser.add_argument(
        "--weights",
        default="imagenet",
        help="imagenet (default), none, or a .pth/.safetensors file",
    )
    parser.add_argument("--variant", choices=VARIANT_NAMES, default=None, help="network layout")
    if device:
        parser.add_argument(
            "--device", default="auto", help="auto (default), cpu, cuda, cuda:N, mps"
        )
    if precision:
        parser.add_argument(
            "--precision",
            choices=precisions,
            default="auto",
            help="auto (default): times the formats this device runs and keeps fp32 unless "
            "another is at least 5%% faster (figures cached per machine)",
        )
