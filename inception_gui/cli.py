"""The ``inception-gui`` command: the window, or a subcommand for scripts.

``inception-gui [PATH...]`` opens the window (classifying PATHs once the model
is ready); ``inception-gui classify|summary|train ...`` work in the terminal
(``train`` also under ``torchrun --nproc-per-node N``). Heavy
imports happen inside each subcommand, so the window path never imports torch
before the window is up.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

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
    cls.add_argument(
        "--weights",
        default="imagenet",
        help="imagenet (default), none, or a .pth/.safetensors file",
    )
    cls.add_argument("--variant", choices=("v3", "paper"), default=None, help="network layout")
    cls.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N, mps")
    cls.add_argument(
        "--precision",
        choices=("auto", "fp32", "bf16", "fp16"),
        default="auto",
        help="auto (default: bf16 on CPUs with AVX-512 bf16/AMX, fp16 on CUDA, else fp32)",
    )
    cls.add_argument("-k", type=int, default=5, help="classes per image (default 5)")
    cls.add_argument("--batch-size", type=int, default=8, help="images per batch (default 8)")
    cls.add_argument("--json", action="store_true", help="print one JSON document")

    summ = sub.add_parser("summary", help="print the network layer by layer")
    summ.add_argument("--variant", choices=("v3", "paper"), default="v3")
    summ.add_argument("--input-size", type=int, default=299, help="square input side (>= 75)")
    summ.add_argument("--num-classes", type=int, default=1000)
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


def _error(message: str) -> int:
    print(f"inception-gui: error: {message}", file=sys.stderr)
    return 2


def _run_classify(args: argparse.Namespace) -> int:
    from model import CheckpointError, DeviceError, WeightsUnavailableError, load_classifier
    from model.images import iter_image_files

    if args.k < 1:
        return _error("-k must be at least 1")
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
    results = clf.iter_predict(files, k=args.k, batch_size=max(1, args.batch_size))
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


def _print_result(result) -> None:
    print(result.source)
    if not result.ok:
        print(f"   error: {result.error}")
        return
    width = max(len(p.label) for p in result)
    for rank, p in enumerate(result, start=1):
        print(f"  {rank:>2}. {p.label:<{width}}  {p.probability * 100:6.2f}%  (class {p.index})")


def _terminal_progress(done: int, total: int) -> None:
    if total:
        print(f"\rdownloading ImageNet weights: {done / total:6.1%}", end="", file=sys.stderr)
        if done >= total:
            print(file=sys.stderr)


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


def _train_config(args: argparse.Namespace):
    import time
    from pathlib import Path

    from model.train import TrainConfig

    out = args.out
    if out is None and args.resume:
        resume = Path(args.resume).expanduser()
        out = str(resume if resume.is_dir() else resume.parent)
    if out is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")  # under torchrun only rank 0's folder is written
        out = str(Path("runs") / f"{Path(args.folder).resolve().name}-{stamp}")
    return TrainConfig(
        data_dir=args.folder,
        out_dir=out,
        val_dir=args.val_dir,
        val_fraction=args.val_fraction,
        seed=args.seed,
        weights=args.weights,
        variant=args.variant,
        train_from=args.train_from,
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        lr=args.lr,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
        label_smoothing=args.label_smoothing,
        use_aux=not args.no_aux,
        grad_clip=args.grad_clip or None,
        input_size=args.input_size,
        random_resized_crop=not args.no_augment,
        hflip=not args.no_augment,
        cache_features=not args.no_cache,
        precision=args.precision,
        device=args.device,
        early_stopping_patience=args.early_stopping,
        resume=args.resume,
        num_workers=args.workers,
    )


def _run_train(args: argparse.Namespace) -> int:
    import os
    import signal

    from model.train import TrainControl, TrainingError, train

    quiet = int(os.environ.get("RANK", "0")) != 0  # one voice under torchrun: rank 0's
    try:
        config = _train_config(args)
    except ValueError as exc:
        return 2 if quiet else _error(str(exc))
    control = TrainControl()

    def on_interrupt(signum, frame):  # first Ctrl-C: finish the batch, keep the checkpoint
        control.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    printer = _TrainPrinter(json_lines=args.json, quiet=quiet)
    try:
        for event in train(config, control):
            printer.show(event)
    except TrainingError as exc:
        printer.finish_line()
        return 2 if quiet else _error(str(exc))
    except KeyboardInterrupt:
        printer.finish_line()
        if not quiet:
            print("interrupted; the last finished epoch's checkpoint is kept", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
    return 130 if printer.cancelled else 0


class _TrainPrinter:
    """Training events to the terminal: a one-line progress bar on stderr, or JSON lines."""

    def __init__(self, json_lines: bool, quiet: bool) -> None:
        self.json_lines, self.quiet = json_lines, quiet
        self.cancelled = False
        self._shown_at = 0.0  # when the progress line was last redrawn
        self._line_open = False

    def show(self, event) -> None:
        kind = type(event).__name__
        if kind == "TrainingDone":
            self.cancelled = event.cancelled
        if self.quiet:
            return
        if self.json_lines:
            print(json.dumps(_event_dict(event)), flush=True)
            return
        getattr(self, f"_on_{kind}")(event)

    def finish_line(self) -> None:
        if self._line_open:
            print(file=sys.stderr, flush=True)
            self._line_open = False

    def _on_DatasetChecked(self, event) -> None:
        r = event.report
        print(f"dataset: {r.train_dir}" + (f" (validation: {r.val_dir})" if r.val_dir else ""))
        if r.class_names:
            width = max(5, *(len(n) for n in r.class_names))
            print(f"  {'class':<{width}}  {'train':>6}  {'val':>6}")
            for name in r.class_names:
                counts = f"{r.train_counts.get(name, 0):>6}  {r.val_counts.get(name, 0):>6}"
                print(f"  {name:<{width}}  {counts}")
        for path, reason in r.unreadable:
            print(f"  skipped (unreadable): {path}: {reason}")
        for warning in r.warnings:
            print(f"warning: {warning}")
        for error in r.errors:
            print(f"error: {error}")

    def _on_BatchProgress(self, e) -> None:
        import time

        now = time.monotonic()
        if now - self._shown_at < 0.1 and e.batch != e.batches:
            return  # a redraw ten times a second is plenty for a person
        self._shown_at = now
        stats = "" if e.phase == "caching" else f"  loss {e.loss:.4f}  acc {e.accuracy:6.1%}"
        line = (
            f"epoch {e.epoch}/{e.epochs} {e.phase:<7} {e.batch:>5}/{e.batches}"
            f"{stats}  {e.images_per_s:7.1f} img/s  ETA {_duration(e.eta_s)}"
        )
        print(f"\r{line:<96}", end="", file=sys.stderr, flush=True)
        self._line_open = True

    def _on_EpochEnd(self, e) -> None:
        self.finish_line()
        val = "" if e.val_loss is None else f"  val loss {e.val_loss:.4f} acc {e.val_accuracy:6.1%}"
        best = "  (best)" if e.is_best else ""
        print(
            f"epoch {e.epoch}/{e.epochs}  train loss {e.train_loss:.4f} acc {e.train_accuracy:6.1%}"
            f"{val}  lr {e.lr:.3g}{best}",
            flush=True,
        )

    def _on_TrainingDone(self, e) -> None:
        self.finish_line()
        how = "cancelled" if e.cancelled else "stopped early" if e.stopped_early else "done"
        print(f"{how}: {e.epochs_run} epoch(s) run in this call, in {e.out_dir}")
        if e.last_checkpoint:
            print(f"  last: {e.last_checkpoint}\n  best: {e.best_checkpoint}")


def _event_dict(event) -> dict:
    from dataclasses import asdict

    if type(event).__name__ == "DatasetChecked":
        return {"event": "DatasetChecked", **event.report.summary()}
    return {"event": type(event).__name__, **asdict(event)}


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _add_train_parser(sub) -> None:
    tr = sub.add_parser("train", help="fine-tune on a folder with one sub-folder per class")
    tr.add_argument("folder", metavar="FOLDER", help="training images, one sub-folder per class")
    tr.add_argument("--val-dir", help="validation folder (default: hold out --val-fraction)")
    tr.add_argument("--val-fraction", type=float, default=0.2, help="held out per class (0.2)")
    tr.add_argument("--out", help="output folder (default: runs/FOLDER-TIMESTAMP)")
    tr.add_argument("--weights", default="imagenet", help="imagenet (default), none, or a file")
    tr.add_argument("--variant", choices=("v3", "paper"), default="v3")
    tr.add_argument("--train-from", choices=("head", "mixed_7", "mixed_6", "all"), default="head")
    tr.add_argument("--epochs", type=int, default=10)
    tr.add_argument("--batch-size", type=int, default=32, help="per process (default 32)")
    tr.add_argument("--optimizer", choices=("rmsprop", "adamw", "sgd"), default="rmsprop")
    tr.add_argument("--lr", type=float, default=None, help="default: the optimizer's")
    tr.add_argument("--weight-decay", type=float, default=None, help="default: the optimizer's")
    tr.add_argument(
        "--schedule", choices=("exponential", "cosine", "constant"), default="exponential"
    )
    tr.add_argument("--label-smoothing", type=float, default=0.1)
    tr.add_argument("--no-aux", action="store_true", help="train without the auxiliary head")
    tr.add_argument("--grad-clip", type=float, default=2.0, help="0 turns clipping off")
    tr.add_argument("--input-size", type=int, default=299, help="square input side (>= 75)")
    tr.add_argument("--no-augment", action="store_true", help="centre crops, no flips")
    tr.add_argument("--no-cache", action="store_true", help="head-only: no feature cache")
    tr.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), default="auto")
    tr.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N, mps")
    tr.add_argument("--early-stopping", type=int, metavar="N", help="stop after N worse epochs")
    tr.add_argument("--resume", metavar="PATH", help="a last.safetensors or its run folder")
    tr.add_argument("--workers", type=int, default=0, help="data loading processes (0)")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--json", action="store_true", help="one JSON object per event and line")


def _add_model_arguments(parser: argparse.ArgumentParser, device: bool = True) -> None:
    parser.add_argument(
        "--weights",
        default="imagenet",
        help="imagenet (default), none, or a .pth/.safetensors file",
    )
    parser.add_argument("--variant", choices=("v3", "paper"), default=None, help="network layout")
    if device:
        parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N")


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
    return 0


def _export_targets(out: str, fmt: str) -> list[tuple[str, str]]:
    """(format, file) pairs to write; the file's suffix must name its format."""
    from pathlib import Path

    from model.export import ONNX_SUFFIXES, TORCHSCRIPT_SUFFIXES

    path = Path(out)
    if fmt == "both":
        return [
            ("onnx", str(path.with_suffix(".onnx"))),
            ("torchscript", str(path.with_suffix(".pt"))),
        ]
    suffixes, default = (ONNX_SUFFIXES, ".onnx") if fmt == "onnx" else (TORCHSCRIPT_SUFFIXES, ".pt")
    if not path.suffix:
        path = path.with_suffix(default)
    elif path.suffix.lower() not in suffixes:
        raise ValueError(f"{path}: a {fmt} file should end in {' or '.join(sorted(suffixes))}")
    return [(fmt, str(path))]


def _run_export(args: argparse.Namespace) -> int:
    from model import (
        CheckpointError,
        ImageLoadError,
        WeightsUnavailableError,
        load_classifier,
        load_image,
    )
    from model.export import export_onnx, export_torchscript, verify_export

    try:
        targets = _export_targets(args.out, args.format)
        for image in args.check_images or ():
            load_image(image)  # a bad check image fails before minutes of exporting
        clf = load_classifier(
            args.weights, args.variant, "cpu", "fp32", progress=_terminal_progress
        )
    except (CheckpointError, ImageLoadError, WeightsUnavailableError, ValueError) as exc:
        return _error(str(exc))
    failed = False
    for fmt, path in targets:
        print(f"exporting {fmt} to {path} ...", flush=True)
        try:
            if fmt == "onnx":
                export_onnx(clf, path, opset=args.opset)
            else:
                export_torchscript(clf, path)
        except Exception as exc:  # the exporters raise many types; the person needs the text
            return _error(f"{fmt} export failed: {exc}")
        check = verify_export(path, clf, args.check_images)
        print(f"  {'ok' if check.ok else 'MISMATCH'}: {check.message}")
        failed |= not check.ok
    return 1 if failed else 0


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
        return runners[args.command](args)
    from inception_gui.app import main as run_window

    return run_window(argv)


if __name__ == "__main__":
    sys.exit(main())
