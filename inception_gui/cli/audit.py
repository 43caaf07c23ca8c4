"""``inception-gui audit FOLDER``: training images whose label looks wrong, and near-copies."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

import model.training
from inception_gui.cli.common import _error, _int_in
from model.errors import CheckpointError, DeviceError, TrainingError, WeightsUnavailableError

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    """Add ``audit`` to the subcommands."""
    aud = sub.add_parser(
        "audit",
        help="rank training images by how strongly the model disputes their label; find copies",
    )
    aud.add_argument("folder", metavar="FOLDER", help="training images, one sub-folder per class")
    aud.add_argument("--val-dir", help="a validation folder, checked for copies of training images")
    aud.add_argument(
        "--weights", default="imagenet", help="the feature extractor: imagenet or a weights file"
    )
    aud.add_argument("--input-size", type=_int_in(75, 1024), help="default: the weights' own")
    aud.add_argument("--device", default="auto")
    aud.add_argument("--folds", type=_int_in(2, 20), default=5, help="cross-validation folds (5)")
    aud.add_argument(
        "--threshold", type=float, default=0.97, help="cosine similarity of a near-copy (0.97)"
    )
    aud.add_argument("--top", type=_int_in(1, 100_000), default=20, help="suspects to print (20)")
    aud.add_argument("--json", action="store_true", help="print one JSON document")


def run(args: argparse.Namespace) -> int:
    """Run ``audit``: 0 with a report, 2 when the folder or the weights cannot be used."""
    if not 0.0 < args.threshold <= 1.0:
        return _error("--threshold must be in (0, 1]")

    def progress(done: int, total: int) -> None:
        if not args.json and sys.stderr.isatty():
            print(f"\rfeatures {done}/{total}", end="", file=sys.stderr, flush=True)

    try:
        report = model.training.audit_folder(
            args.folder,
            val_dir=args.val_dir,
            weights=args.weights,
            input_size=args.input_size,
            device=args.device,
            folds=args.folds,
            threshold=args.threshold,
            progress=progress,
        )
    except (
        CheckpointError,
        DeviceError,
        TrainingError,
        WeightsUnavailableError,
        ValueError,
    ) as exc:
        return _error(str(exc))
    if not args.json and sys.stderr.isatty():
        print(file=sys.stderr)
    if args.json:
        doc = {
            "class_names": list(report.class_names),
            "images": report.images,
            "folds": report.folds,
            "suspects": [{**asdict(s), "score": s.score} for s in report.suspects],
            "duplicates": [asdict(d) for d in report.duplicates],
        }
        json.dump(doc, sys.stdout, indent=2)
        print()
        return 0
    likely = sum(s.likely_issue for s in report.suspects)
    print(
        f"{report.images} training images, {len(report.class_names)} classes, {report.folds} "
        f"folds: {len(report.suspects)} disputed, {likely} likely mislabelled"
    )
    for s in report.suspects[: args.top]:
        mark = "!" if s.likely_issue else " "
        print(
            f" {mark} {s.path}\n     filed as {s.given} ({s.given_probability:.0%}), "
            f"looks like {s.suggested} ({s.suggested_probability:.0%})"
        )
    for d in report.duplicates[: args.top]:
        what = {
            "leak": "in training and validation",
            "within": "copies in one class",
            "across": "filed under two classes",
        }[d.kind]
        print(f"   near-copy ({what}, {d.similarity:.3f}): {d.first} = {d.second}")
    return 0
