"""``inception-gui diagram``: the network, or one block, drawn as the paper draws it, to SVG or PNG.

The drawing is the Explorer's (:mod:`inception_gui.widgets.diagram`), so a file and the
window show the same picture. Drawing text and shapes into a file needs Qt's painter, so
this one subcommand imports Qt: inside :func:`run`, on the offscreen platform (no screen
needed), never when the command line is parsed.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import model
import model.network
from inception_gui.cli.common import _error, _int_in
from model.network.variants import VARIANT_NAMES

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    """Add ``diagram`` to the subcommands."""
    draw = sub.add_parser(
        "diagram",
        help="draw the network, or one block, as SVG or PNG",
        description="Draw the network as a chain of stages with the shape between them, or "
        "one Inception block as the paper's figures draw it, from the live module.",
    )
    draw.add_argument("--out", required=True, help="the file to write: NAME.svg or NAME.png")
    draw.add_argument("--variant", choices=VARIANT_NAMES, default=None, help="network layout")
    draw.add_argument(
        "--input-size",
        type=_int_in(75, 1024),
        default=None,
        help="square input side (75-1024); default 299, or the checkpoint's own",
    )
    draw.add_argument("--block", help="one block (Mixed_5b ... Mixed_7c) instead of the network")
    draw.add_argument(
        "--weights",
        default=None,
        help="draw a checkpoint (.pth/.safetensors) with its own head; default: the layout",
    )


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in (".svg", ".png"):
        return _error(f"{out.name}: --out must end in .svg or .png")
    try:
        diagram = _diagram(args)
    except (ValueError, model.CheckpointError, model.WeightsUnavailableError) as exc:
        return _error(str(exc))
    block = None
    if args.block:
        block = diagram.block(args.block)
        if block is None or block.path != args.block:
            names = ", ".join(b.path for b in diagram.blocks)
            return _error(
                f"no block {args.block!r} in the {diagram.variant} layout; one of {names}"
            )
    try:
        _draw(diagram, block, out)
    except OSError as exc:
        return _error(f"could not write {out}: {exc.strerror or exc}")
    what = block.path if block is not None else f"the {diagram.variant} network"
    print(f"drew {what} at {diagram.input_size} px to {out}")
    return 0


def _diagram(args: argparse.Namespace):
    if args.weights is None:
        return model.network.network_diagram(args.variant or "v3", args.input_size or 299)
    network, info = model.load_network(args.weights, args.variant, download=False)
    size = args.input_size or info.preprocess.crop_size
    root = model.network.summarize_module(network, size)
    return model.network.describe_network(network, root, size)


def _draw(diagram, block, out: Path) -> None:
    # A picture needs no screen; set before Qt starts (an application already up keeps its own).
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    from inception_gui.widgets.diagram import DiagramScene, save_drawing

    app = QApplication.instance() or QApplication([])  # the scene's fonts need one
    scene = DiagramScene()
    if block is not None:
        scene.show_block(block)
    else:
        scene.show_network(diagram)
    save_drawing(scene, out)
    del app
