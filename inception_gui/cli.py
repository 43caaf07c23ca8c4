"""The ``inception-gui`` command: the window, or a subcommand for scripts.

``inception-gui [PATH...]`` opens the window (classifying PATHs once the model
is ready); ``inception-gui classify|summary|train ...`` work in the terminal
(``train`` also under ``torchrun --nproc-per-node N``). Heavy
imports happen inside each subcommand, so the window path never imports torch
before the window is up. ``train`` lives in :mod:`inception_gui.cli_train`,
``explain`` and ``export`` in :mod:`inception_gui.cli_tools`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from inception_gui.cli_common import _add_model_arguments, _error, _int_in, _terminal_progress
from inception_gui.cli_tools import (
    _add_explain_parser,
    _add_export_parser,
    _run_explain,
    _run_export,
)
from inception_gui.cli_train import _add_train_parser, _run_train

__all__ = ["build_parser", "main"]

SUBCOMMANDS = ("classify", "summary", "install-desktop", "explain", "export", "train")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="inception-gui",
        description="Classify images with Inception v3, inspect the network, fine-tune it. "
        "With no subcommand, opens the window; any paths given are classified there.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    cls = sub.add_parser("classify", help="print the top-k classes of images")
    cls.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    _add_model_arguments(cls, precision=True)
    cls.add_argument("-k", type=_int_in(1, 1000), default=5, help="classes per image (default 5)")
    cls.add_argument(
        "--batch-size", type=_int_in(1, 1024), default=8, help="images per batch (default 8)"
    )
    cls.add_argument("--json", action="store_true", help="print one JSON document")

    summ = sub.add_parser("summary", help="print the network layer by layer")
    summ.add_argument("--variant", choices=("v3", "paper"), default="v3")
    summ.add_argument(
        "--input-size", type=_int_in(75, 1024), default=299, help="square input side (75-1024)"
    )
    summ.add_argument("--num-classes", type=_int_in(1, 100_000), default=1000)
    summ.add_argument("--no-aux", action="store_true", help="leave out the auxiliary head")
    summ.add_argument("--depth", type=int, default=2, help="levels to print (default 2)")
    summ.add_argument("--json", action="store_true", help="the tree as nested JSON objects")
    desk = sub.add_parser(
        "install-desktop",
        help="add Inception GUI to this user's application menu and 'Open with' (Linux)",
    )
    desk.add_argument("--uninstall", action="store_true", help="remove the launcher again")
    _add_explain_parser(sub)
    _add_export_parser(sub)
    _add_train_parser(sub)
    return parser


def _run_install_desktop(args: argparse.Namespace) -> int:
    from inception_gui.desktop import install_desktop, uninstall_desktop

    if args.uninstall:
        removed = uninstall_desktop()
        print("removed:\n  " + "\n  ".join(map(str, removed)) if removed else "nothing to remove")
        return 0
    for path in install_desktop():
        print(f"installed {path}")
    return 0


def _run_classify(args: argparse.Namespace) -> int:
    from model import CheckpointError, DeviceError, WeightsUnavailableError, load_classifier
    from model.images import iter_image_files

    try:
        clf = load_classifier(
            args.weights,
            args.variant,
            args.device,
            precision=args.precision,
            progress=_terminal_progress,
        )
    except (CheckpointError, DeviceError, WeightsUnavailableError, ValueError) as exc:
        return _error(str(exc))
    files = list(iter_image_files(args.paths))
    if not files:
        return _error("no image files found in: " + ", ".join(args.paths))
    results = clf.iter_predict(files, k=args.k, batch_size=args.batch_size)
    failed = 0
    if args.json:
        images = []
        for r in results:
            failed += not r.ok
            entry = {"path": r.source}
            if r.ok:
                entry["predictions"] = [p._asdict() for p in r]
            else:
                entry["error"] = r.error
            images.append(entry)
        doc = {
            "weights": clf.info.display_name,
            "trained": clf.info.trained,
            "variant": clf.info.variant.value,
            "device": str(clf.device),
            "precision": clf.precision,
            "images": images,
        }
        json.dump(doc, sys.stdout, indent=2)
        print()
    else:
        if not clf.info.trained:
            print("warning: untrained (random weights): these predictions mean nothing\n")
        for r in results:
            failed += not r.ok
            _print_result(r)
    return 1 if failed else 0


def _printable(text: str) -> str:
    """``text`` with terminal escapes, newlines and other control characters shown as escapes.

    File and class names come from outside: printed raw, ``\x1b]...`` could retitle
    or reprogram the terminal, and a newline could forge a line of output.
    """
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _print_result(result) -> None:
    print(_printable(result.source))
    if not result.ok:
        print(f"   error: {_printable(result.error)}")
        return
    labels = [_printable(p.label) for p in result]
    width = max(len(label) for label in labels)
    for rank, (p, label) in enumerate(zip(result, labels), start=1):
        print(f"  {rank:>2}. {label:<{width}}  {p.probability * 100:6.2f}%  (class {p.index})")


def _run_summary(args: argparse.Namespace) -> int:
    from model import summarize

    try:
        summary = summarize(args.variant, args.input_size, args.num_classes, not args.no_aux)
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``inception-gui`` and ``python main.py``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and (argv[0] in SUBCOMMANDS or argv[0] in ("-h", "--help")):
        args = build_parser().parse_args(argv)
        runners = {
            "classify": _run_classify,
            "summary": _run_summary,
            "install-desktop": _run_install_desktop,
            "explain": _run_explain,
            "export": _run_export,
            "train": _run_train,
        }
        try:
            return runners[args.command](args)
        except BrokenPipeError:  # `inception-gui summary | head`: the reader has gone
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
    from inception_gui.app import main as run_window

    return run_window(argv)


if __name__ == "__main__":
    sys.exit(main())
