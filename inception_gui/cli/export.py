"""``inception-gui export``: ONNX and/or TorchScript, checked against PyTorch after writing."""

from __future__ import annotations

import argparse

import model
import model.inference
from inception_gui.cli.common import _add_model_arguments, _error, _terminal_progress
from model.errors import CheckpointError, ImageLoadError, WeightsUnavailableError

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    """Add ``export`` to the subcommands."""
    exp = sub.add_parser(
        "export", help="export to ONNX/TorchScript, then check the file against PyTorch"
    )
    _add_model_arguments(exp, device=False)
    exp.add_argument("--format", choices=("onnx", "torchscript", "both"), default="onnx")
    exp.add_argument(
        "--out", required=True, metavar="PATH", help="file to write (both: PATH.onnx and PATH.pt)"
    )
    exp.add_argument(
        "--check-images", nargs="+", metavar="IMG", help="compare on these (default: 4 generated)"
    )
    exp.add_argument("--opset", type=int, default=18, help="ONNX opset (default 18)")


def run(args: argparse.Namespace) -> int:
    try:
        if args.format != "torchscript":
            model.inference.check_opset(args.opset)
        targets = model.inference.export_targets(args.out, args.format)
        for image in args.check_images or ():
            model.load_image(image)  # a bad check image fails before minutes of exporting
        clf = model.load_classifier(
            args.weights, args.variant, "cpu", "fp32", progress=_terminal_progress
        )
    except (CheckpointError, ImageLoadError, WeightsUnavailableError, ValueError) as exc:
        return _error(str(exc))
    except PermissionError as exc:
        return _error(f"{exc.filename}: {exc.strerror}")
    failed = False
    for fmt, path in targets:
        print(f"exporting {fmt} to {path} ...", flush=True)
        try:
            model.inference.export_model(clf, fmt, path, opset=args.opset)
        except Exception as exc:  # the exporters raise many types; the person needs the text
            return _error(f"{fmt} export failed: {exc}")
        check = model.inference.verify_export(path, clf, args.check_images)
        print(f"  {'ok' if check.ok else 'MISMATCH'}: {check.message}")
        failed |= not check.ok
    return 1 if failed else 0
