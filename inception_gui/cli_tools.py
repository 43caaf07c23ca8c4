"""The ``inception-gui explain`` and ``export`` subcommands.

``explain`` draws a Grad-CAM class activation map over an image;
``export`` writes the network as ONNX and/or TorchScript and checks the file's
outputs against PyTorch. Torch is imported only when a subcommand runs.
"""

from __future__ import annotations

import argparse

from inception_gui.cli_common import _add_model_arguments, _error, _terminal_progress


def _add_explain_parser(sub) -> None:
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


def _add_export_parser(sub) -> None:
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


def _run_explain(args: argparse.Namespace) -> int:
    from model import (
        CheckpointError,
        DeviceError,
        ImageLoadError,
        WeightsUnavailableError,
        load_classifier,
        load_image,
    )
    from model.explain import explain, overlay, resolve_class, save_image

    if not 0.0 <= args.opacity <= 1.0:
        return _error("--opacity must be between 0 and 1")
    try:
        clf = load_classifier(args.weights, args.variant, args.device, progress=_terminal_progress)
    except (CheckpointError, DeviceError, WeightsUnavailableError, ValueError) as exc:
        return _error(str(exc))
    try:
        if args.class_name is None:
            top = clf.predict(args.image, k=1)[0]
            if not top.ok:
                return _error(f"{top.source}: {top.error}")
            index = top[0].index
        else:
            index = resolve_class(clf.class_names, args.class_name)
        cam = explain(clf, args.image, index, layer=args.layer)
        save_image(overlay(load_image(args.image), cam.heatmap, args.opacity), args.out)
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


def _run_export(args: argparse.Namespace) -> int:
    from model import (
        CheckpointError,
        ImageLoadError,
        WeightsUnavailableError,
        load_classifier,
        load_image,
    )
    from model.export import check_opset, export_model, export_targets, verify_export

    try:
        if args.format != "torchscript":
            check_opset(args.opset)
        targets = export_targets(args.out, args.format)
        for image in args.check_images or ():
            load_image(image)  # a bad check image fails before minutes of exporting
        clf = load_classifier(
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
            export_model(clf, fmt, path, opset=args.opset)
        except Exception as exc:  # the exporters raise many types; the person needs the text
            return _error(f"{fmt} export failed: {exc}")
        check = verify_export(path, clf, args.check_images)
        print(f"  {'ok' if check.ok else 'MISMATCH'}: {check.message}")
        failed |= not check.ok
    return 1 if failed else 0
