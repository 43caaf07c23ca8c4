"""``inception-gui classify``: the top-k classes of images, as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys

import model
from inception_gui.cli.common import _add_model_arguments, _error, _int_in, _terminal_progress
from model.errors import CheckpointError, DeviceError, WeightsUnavailableError

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    """Add ``classify`` to the subcommands."""
    cls = sub.add_parser("classify", help="print the top-k classes of images")
    cls.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    _add_model_arguments(cls, precision=True)
    cls.add_argument("-k", type=_int_in(1, 1000), default=5, help="classes per image (default 5)")
    cls.add_argument(
        "--batch-size", type=_int_in(1, 1024), default=8, help="images per batch (default 8)"
    )
    cls.add_argument("--json", action="store_true", help="print one JSON document")


def run(args: argparse.Namespace) -> int:
    try:
        clf = model.load_classifier(
            args.weights,
            args.variant,
            args.device,
            precision=args.precision,
            progress=_terminal_progress,
        )
    except (CheckpointError, DeviceError, WeightsUnavailableError, ValueError) as exc:
        return _error(str(exc))
    files = list(model.iter_image_files(args.paths))
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


def _print_result(result) -> None:
    print(result.source)
    if not result.ok:
        print(f"   error: {result.error}")
        return
    width = max(len(p.label) for p in result)
    for rank, p in enumerate(result, start=1):
        print(f"  {rank:>2}. {p.label:<{width}}  {p.probability * 100:6.2f}%  (class {p.index})")
