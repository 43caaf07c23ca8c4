"""The ``inception-gui`` command: the window, or a subcommand for scripts.

``inception-gui [PATH...]`` opens the window (classifying PATHs once the model
is ready); ``inception-gui classify|summary|diagram|train ...`` work in the terminal
(``train`` also under ``torchrun --nproc-per-node N``). Each subcommand is a
module of this package; they reach torch through ``model``'s lazy front, so the
window path never imports torch before the window is up.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from inception_gui.cli import audit, classify, desktop, diagram, explain, export, summary, train

__all__ = ["build_parser", "main"]

# One module a subcommand, each with add_parser(sub) and run(args).
_COMMANDS = {
    "classify": classify,
    "summary": summary,
    "diagram": diagram,
    "install-desktop": desktop,
    "explain": explain,
    "export": export,
    "train": train,
    "audit": audit,
}
SUBCOMMANDS = tuple(_COMMANDS)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="inception-gui",
        description="Classify images with Inception v3, inspect the network, fine-tune it. "
        "With no subcommand, opens the window; any paths given are classified there.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    for command in _COMMANDS.values():
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``inception-gui`` and ``python main.py``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and (argv[0] in SUBCOMMANDS or argv[0] in ("-h", "--help")):
        args = build_parser().parse_args(argv)
        try:
            return _COMMANDS[args.command].run(args)
        except BrokenPipeError:  # `inception-gui summary | head`: the reader has gone
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
    from inception_gui.app import main as run_window

    return run_window(argv)


if __name__ == "__main__":
    sys.exit(main())
