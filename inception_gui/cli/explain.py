"""``inception-gui explain``: a Grad-CAM class activation map drawn over an image."""

from __future__ import annotations

import argparse

import model
import model.inference
from inception_gui.cli.common import _add_model_arguments, _error, _terminal_progress
from model.errors import CheckpointError, DeviceError, ImageLoadError, WeightsUnavailableError

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    """Add ``explain`` to the subcommands."""
    exp = sub.add_parser("explain", help="draw a class activation map (Grad-CAM) over an image")
    exp.add_argument("image", metavar="IMAGE", help="the image file")
    _add_model_arguments(exp)
    exp.add_argument(
        "--class",
        dest="class_name",
        metavar="LABEL_OR_INDEX",
        help="the class to explain (default: the image's top-1)",
    )
    exp.add_argument("--layer", default="Mixed_7c", help="layer to weight (default Mixed_7c)")
    exp.add_argument("--opacity", type=float, default=0.5, help="0..1 (default 0.5)")
    exp.add_argument("--out", required=True, metavar="FILE", help="the overlay to write (.png)")


def run(args: argparse.Namespace) -> int:
    if not 0.0 <= args.opacity <= 1.0:
        return _error("--opacity must be between 0 and 1")
    try:
        clf = model.load_classifier(
            args.weights, args.variant, args.device, progress=_terminal_progress
        )
    except (CheckpointError, DeviceError, WeightsUnavailableError, ValueError) as exc:
        return _error(str(exc))
    try:
        if args.class_name is None:
            top = clf.predict(args.image, k=1)[0]
            if not top.ok:
                return _error(f"{top.source}: {top.error}")
            index = top[0].index
        else:
            index = model.resolve_class(clf.class_names, args.class_name)
        cam = model.explain(clf, args.image, index, layer=args.layer)
        picture = model.overlay(model.load_image(args.image), cam.heatmap, args.opacity)
        model.inference.save_image(picture, args.out)
    except (ImageLoadError, ValueError, OSError) as exc:
        return _error(str(exc))
    if not clf.info.trained:
        print("warning: untrained (random weights): this map means nothing\n")
    print(f"{cam.label} (class {cam.class_index}): {cam.probability:.2%}")
    print(f"wrote {args.out} (Grad-CAM of {cam.layer}; outside the centre crop is 0)")
    if cam.grid is not None and min(cam.grid.shape[:2]) < 3:
        h, w = cam.grid.shape[:2]
        print(
            f"warning: {cam.layer} has a {h} x {w} grid at this input size, too coarse to show "
            "where; an earlier layer (--layer Mixed_6e, or Mixed_5d) has a finer one"
        )
    return 0
