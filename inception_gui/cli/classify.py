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
    cls.add_argument(
        "--verbose", action="store_true", help="also say which precision auto chose, and why"
    )


def run(args: argparse.Namespace) -> int:
    int8 = args.precision == "int8"  # quantized once, calibrated on the images given
    files = list(model.iter_image_files(args.paths))
    try:
        clf = model.load_classifier(
            args.weights,
            args.variant,
            args.device,
            precision="fp32" if int8 else args.precision,
            progress=_terminal_progress,
        )
        if int8 and files:
            if not clf.has_int8_model():
                clf.add_photos(files)
            clf.set_precision("int8")
    except (CheckpointError, DeviceError, WeightsUnavailableError, ValueError) as exc:
        return _error(str(exc))
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
        choice = _choice_doc(clf)  # first: it may wait for auto's measurement to end
        doc = {
            "weights": clf.info.display_name,
            "trained": clf.info.trained,
            "variant": clf.info.variant.value,
            "device": str(clf.device),
            "precision": clf.precision,
            "precision_choice": choice,
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
        if args.verbose:
            print(f"precision: {_choice_line(clf)}")
    return 1 if failed else 0


def _choice_doc(clf) -> dict:
    """What auto chose and the figures, for --json; the asked-for precision otherwise."""
    if clf.requested_precision != "auto":
        return {
            "requested": clf.requested_precision,
            "chosen": clf.precision,
            "reason": "asked for",
        }
    choice = clf.wait_for_tuning(timeout=120)
    if choice is None:
        return {"requested": "auto", "chosen": clf.precision, "reason": "still measuring"}
    return {"requested": "auto", **choice.to_dict()}


def _choice_line(clf) -> str:
    doc = _choice_doc(clf)
    return f"{doc['chosen']} ({'auto: ' if doc['requested'] == 'auto' else ''}{doc['reason']})"


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
