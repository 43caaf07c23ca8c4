"""The ``inception-gui train`` subcommand: fine-tune on a folder from the terminal.

Parses the options into a :class:`model.training.engine.TrainConfig`, runs
:func:`model.training.engine.train` and prints its events as a progress line or as JSON
lines. Works under ``torchrun --nproc-per-node N``, where only rank 0 speaks.
The first Ctrl-C finishes the current batch and keeps the checkpoint. Torch is
imported only when the subcommand runs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

import model
from inception_gui.cli.common import _add_model_arguments, _error, _int_in
from model.errors import TrainingError
from model.precision import TRAINING_PRECISIONS
from model.training.config import (
    OPTIMIZERS,
    SCHEDULES,
    TRAIN_FROM,
    TrainConfig,
    TrainControl,
    format_duration,
)
from model.training.events import (
    BatchProgress,
    DatasetChecked,
    EpochEnd,
    ImageSkipped,
    TrainingDone,
    TrainingStarted,
)
from model.training.recipes import PRESETS

__all__ = ["add_parser", "run"]


def _train_config(args: argparse.Namespace):
    import os
    import time
    from pathlib import Path

    out = args.out
    if out is None and args.resume:
        resume = Path(args.resume).expanduser()
        out = str(resume if os.path.isdir(resume) else resume.parent)  # never PermissionError
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
        variant=args.variant or "v3",
        train_from=args.train_from,
        preset=args.preset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        lr=args.lr,
        body_lr=args.body_lr,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
        head_passes=args.head_passes,
        head_first=args.head_first,
        keep_batchnorm_statistics=args.keep_bn_statistics,
        label_smoothing=args.label_smoothing,
        use_aux=args.aux,
        grad_clip=args.grad_clip,
        input_size=args.input_size,
        random_resized_crop=False if args.no_augment else args.crops,
        crop_scale=args.crop_scale,
        hflip=False if args.no_augment else args.flip,
        cache_features=not args.no_cache,
        precision=args.precision,
        device=args.device,
        early_stopping_patience=args.early_stopping,
        resume=args.resume,
        num_workers=args.workers,
    )


# TrainConfig's fields that its errors name, as the command line spells them.
_FLAGS = {
    "early_stopping_patience": "--early-stopping",
    "label_smoothing": "--label-smoothing",
    "val_fraction": "--val-fraction",
    "weight_decay": "--weight-decay",
    "batch_size": "--batch-size",
    "input_size": "--input-size",
    "grad_clip": "--grad-clip",
    "body_lr": "--body-lr",
    "crop_scale": "--crop-scale",
    "head_passes": "--head-passes",
    "head_first": "--head-first",
    "aux_weight": "--aux-weight",
}


def run(args: argparse.Namespace) -> int:
    """Run ``train``: 0 when done, 130 when interrupted, 2 on a refused setting."""
    import os
    import signal

    quiet = int(os.environ.get("RANK", "0")) != 0  # one voice under torchrun: rank 0's
    try:
        config = _train_config(args)
    except ValueError as exc:  # in the words of the command line: --batch-size, not batch_size
        message = str(exc)
        for field, flag in _FLAGS.items():  # whole words only: a path may hold these too
            message = re.sub(rf"(?<![\w/.-]){field}(?![\w/.-])", flag, message)
        return 2 if quiet else _error(message)
    cached = config.train_from == "head" and config.cache_features and not args.resume
    augmenting = config.random_resized_crop or config.hflip
    if not (quiet or args.json or args.resume):
        print(f"recipe: {config.recipe.name} ({config.recipe.evidence})", flush=True)
    if cached and augmenting and not (quiet or args.json):  # (a resumed run: its saved recipe)
        print(
            "head only: the frozen network's features are computed once from centre crops, "
            "so there is no augmentation (--no-cache to augment, at a full pass an epoch)",
            file=sys.stderr,
        )
    control = TrainControl()

    def on_interrupt(signum, frame):  # first Ctrl-C: finish the batch, keep the checkpoint
        control.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    printer = _TrainPrinter(json_lines=args.json, quiet=quiet)
    try:
        for event in model.train(config, control):
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
        self.live = sys.stderr.isatty()  # a terminal: redraw a progress line as batches go
        self.cancelled = False
        self._shown_at = 0.0  # when the progress line was last redrawn
        self._line_open = False

    def show(self, event) -> None:
        if isinstance(event, TrainingDone):
            self.cancelled = event.cancelled
        if self.quiet:
            return
        if self.json_lines:
            print(json.dumps(_event_dict(event)), flush=True)
            return
        handlers = {
            DatasetChecked: self._on_DatasetChecked,
            TrainingStarted: self._on_TrainingStarted,
            BatchProgress: self._on_BatchProgress,
            ImageSkipped: self._on_ImageSkipped,
            EpochEnd: self._on_EpochEnd,
            TrainingDone: self._on_TrainingDone,
        }
        handlers[type(event)](event)

    def finish_line(self) -> None:
        if self._line_open:
            print(file=sys.stderr, flush=True)
            self._line_open = False

    def _on_DatasetChecked(self, event) -> None:
        r = event.report
        print(f"dataset: {r.train_dir}" + (f" (validation: {r.val_dir})" if r.val_dir else ""))
        if r.class_names and r.train_counts:  # counted only once the classes are usable
            width = max(5, *(len(n) for n in r.class_names))
            print(f"  {'class':<{width}}  {'train':>6}  {'val':>6}")
            for name in r.class_names:
                counts = f"{r.train_counts.get(name, 0):>6}  {r.val_counts.get(name, 0):>6}"
                print(f"  {name:<{width}}  {counts}")
        for path, reason in r.unreadable:
            print(f"  skipped (unreadable): {path}: {reason}")
        for warning in r.warnings:
            print(f"warning: {warning}")
        # Errors end the run: the TrainingError that follows says them, once.

    def _on_TrainingStarted(self, e) -> None:
        processes = f", {e.processes} processes" if e.processes > 1 else ""
        print(f"training on {e.device} in {e.precision} ({e.reason}{processes})", flush=True)

    def _on_BatchProgress(self, e) -> None:
        import time

        if not self.live:
            return  # a log file or CI: one line an epoch, no carriage-return redraws
        now = time.monotonic()
        if now - self._shown_at < 0.1 and e.batch != e.batches:
            return  # a redraw ten times a second is plenty for a person
        self._shown_at = now
        stats = "" if e.phase == "caching" else f"  loss {e.loss:.4f}  acc {e.accuracy:6.1%}"
        line = (
            f"epoch {e.epoch}/{e.epochs} {e.phase:<7} {e.batch:>5}/{e.batches}"
            f"{stats}  {e.images_per_s:7.1f} img/s  ETA {format_duration(e.eta_s)}"
        )
        print(f"\r{line:<96}", end="", file=sys.stderr, flush=True)
        self._line_open = True

    def _on_ImageSkipped(self, e) -> None:
        self.finish_line()
        print(f"skipped (unreadable since the check): {e.path}: {e.reason}", flush=True)

    def _on_EpochEnd(self, e) -> None:
        self.finish_line()
        val = "" if e.val_loss is None else f"  val loss {e.val_loss:.4f} acc {e.val_accuracy:6.1%}"
        best = "  (best)" if e.is_best else ""
        head = "  (the new head, fitted first)" if e.epoch == 0 else ""
        print(
            f"epoch {e.epoch}/{e.epochs}  train loss {e.train_loss:.4f} acc {e.train_accuracy:6.1%}"
            f"{val}  lr {e.lr:.3g}{best}{head}",
            flush=True,
        )

    def _on_TrainingDone(self, e) -> None:
        self.finish_line()
        how = "cancelled" if e.cancelled else "stopped early" if e.stopped_early else "done"
        head = (
            " (the new head, fitted first, saved)"
            if e.last_epoch == 0 and e.last_checkpoint
            else ""
        )
        print(f"{how}: {e.epochs_run} epoch(s) run in this call{head}, in {e.out_dir}")
        if e.unreadable:
            print(
                f"  {len(e.unreadable)} file(s) could not be read during the run and were skipped"
            )
        if e.last_checkpoint:
            print(f"  last: {e.last_checkpoint}\n  best: {e.best_checkpoint}")


def _event_dict(event) -> dict:
    from dataclasses import asdict

    if isinstance(event, DatasetChecked):
        return {"event": "DatasetChecked", **event.report.summary()}
    return {"event": type(event).__name__, **asdict(event)}


def add_parser(sub) -> None:
    """Add ``train`` to the subcommands."""
    tr = sub.add_parser("train", help="fine-tune on a folder with one sub-folder per class")
    tr.add_argument("folder", metavar="FOLDER", help="training images, one sub-folder per class")
    tr.add_argument("--val-dir", help="validation folder (default: hold out --val-fraction)")
    tr.add_argument("--val-fraction", type=float, default=0.2, help="held out per class (0.2)")
    tr.add_argument("--out", help="output folder (default: runs/FOLDER-TIMESTAMP)")
    # --variant: v3 by default (a file brings its own)
    _add_model_arguments(tr, precision=True, precisions=TRAINING_PRECISIONS)
    tr.add_argument(
        "--train-from",
        choices=TRAIN_FROM,
        default="head",
        help="the layers that learn (default head)",
    )
    tr.add_argument(
        "--preset",
        choices=PRESETS,
        default="recommended",
        help="recommended: measured defaults for the starting point; paper: Szegedy et al.'s "
        "recipe (RMSProp 0.045, x0.94 every 2 epochs, 8%% crops, flips). Options given here "
        "override it",
    )
    tr.add_argument(
        "--epochs",
        type=_int_in(1, 100_000),
        help="epochs in all (default: the recipe's; with --resume: the saved run's)",
    )
    tr.add_argument(
        "--batch-size", type=_int_in(1, 4096), default=32, help="per process (default 32)"
    )
    tr.add_argument("--optimizer", choices=OPTIMIZERS, help="default: the recipe's")
    tr.add_argument("--lr", type=float, help="the head's learning rate (default: the recipe's)")
    tr.add_argument(
        "--body-lr", type=float, help="pretrained layers that learn (default: the recipe's)"
    )
    tr.add_argument("--weight-decay", type=float, help="default: the recipe's")
    tr.add_argument("--schedule", choices=SCHEDULES, help="default: the recipe's")
    tr.add_argument(
        "--head-passes",
        type=_int_in(1, 1000),
        help="head only, cached: passes over the features an epoch (default: the recipe's)",
    )
    tr.add_argument(
        "--head-first",
        type=_int_in(0, 10000),
        help="fine-tuning pretrained layers: passes fitting the new head on cached features "
        "before the layers learn; 0: start them with a random head (default: the recipe's)",
    )
    tr.add_argument(
        "--keep-bn-statistics",
        action=argparse.BooleanOptionalAction,
        help="fine-tuning pretrained layers: keep their BatchNorm statistics instead of "
        "learning them from this data's batches (default: the recipe's)",
    )
    tr.add_argument("--label-smoothing", type=float, help="default: the recipe's (0.1)")
    tr.add_argument(
        "--aux",
        action=argparse.BooleanOptionalAction,
        help="train the auxiliary head (from Mixed_6 or all; default: the recipe's)",
    )
    tr.add_argument("--grad-clip", type=float, help="0 turns clipping off (default: the recipe's)")
    tr.add_argument(
        "--input-size", type=_int_in(75, 1024), default=299, help="square input side (75-1024)"
    )
    tr.add_argument(
        "--crops",
        action=argparse.BooleanOptionalAction,
        help="random crops that keep at least --crop-scale of the image (default: the recipe's)",
    )
    tr.add_argument("--crop-scale", type=float, help="default: the recipe's (0.35; paper 0.08)")
    tr.add_argument(
        "--flip",
        action=argparse.BooleanOptionalAction,
        help="random horizontal flips; not for text, digits or things a mirror changes "
        "(default: the recipe's)",
    )
    tr.add_argument("--no-augment", action="store_true", help="centre crops, no flips")
    tr.add_argument(
        "--no-cache", action="store_true", help="head only: augment, run the network every epoch"
    )
    tr.add_argument("--early-stopping", type=int, metavar="N", help="stop after N worse epochs")
    tr.add_argument("--resume", metavar="PATH", help="a last.safetensors or its run folder")
    tr.add_argument("--workers", type=int, default=0, help="data loading processes (0)")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--json", action="store_true", help="one JSON object per event and line")
