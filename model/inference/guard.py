"""The accuracy guard of ``auto``, and the person's own images it checks on.

``auto`` runs a format other than fp32 only where it agrees with fp32 (see
:class:`model.inference.int8.Agreement`) on held-out images of the model's own kind:

- for a model trained here, images from its training folder (calibration, for int8) and
  from its validation split (the check), read from the paths its checkpoint records;
- otherwise, the photos already classified in this session, split in two: every other
  one calibrates, the rest check.

Until such images exist, bf16 and fp16 run on their measured speed alone and int8 is not
considered; the check runs as soon as :data:`SESSION_IMAGES_NEEDED` photos have been seen.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import torch

from model.errors import PrecisionError
from model.inference.int8 import (
    Int8Network,
    agreement,
    build_int8_network,
    cached_int8_network,
    has_int8_units,
    int8_refusal,
    remember_guard,
)
from model.inference.tuning import TUNING_ENV, AutoChoice, Timing, choose
from model.network.fastpath import FastNetwork, build_fast_network
from model.network.inception import Inception3
from model.precision import Precision

__all__ = [
    "CALIBRATION_IMAGES",
    "HELD_OUT_IMAGES",
    "INT8_IMAGES_NEEDED",
    "SESSION_IMAGES_NEEDED",
    "OwnImages",
    "check_candidates",
    "folder_images",
    "int8_network",
    "session_images",
    "tuning_enabled",
]

CALIBRATION_IMAGES = 32  # images that set int8's ranges
HELD_OUT_IMAGES = 100  # at most this many images checked against fp32
SESSION_IMAGES_NEEDED = 16  # photos seen before auto checks its choice on the session's
INT8_IMAGES_NEEDED = 4  # the fewest photos int8 asked for by name calibrates on
BATCH = 16

OwnImages = tuple[torch.Tensor, torch.Tensor]  # (calibration, held out), each N x 3 x S x S


def folder_images(training: dict, load: Callable[[str], torch.Tensor | None]) -> OwnImages | None:
    """Calibration and held-out images from the folders a trained model's run recorded."""
    from model.data.folders import check_dataset

    data_dir, val_dir = training.get("data_dir"), training.get("val_dir")
    if not isinstance(data_dir, str) or not Path(data_dir).is_dir():
        return None
    if val_dir is not None and (not isinstance(val_dir, str) or not Path(val_dir).is_dir()):
        val_dir = None
    try:
        report = check_dataset(data_dir, val_dir)
    except Exception:  # a folder that changed since: the session's photos will do
        return None

    def tensors(samples: Sequence, count: int) -> list[torch.Tensor]:
        step = max(1, len(samples) // count)  # spread over the classes (sorted by class)
        found = []
        for sample in list(samples)[::step][:count]:
            tensor = load(sample[0])
            if tensor is not None:
                found.append(tensor)
        return found

    calibration = tensors(report.train_samples, CALIBRATION_IMAGES)
    held = tensors(report.val_samples, HELD_OUT_IMAGES)
    if len(calibration) < 2 or len(held) < 2:
        return None
    return torch.stack(calibration), torch.stack(held)


def session_images(
    recent: Sequence[torch.Tensor], needed: int = SESSION_IMAGES_NEEDED
) -> OwnImages | None:
    """Every other photo of the session calibrates; the rest are held out."""
    if len(recent) < max(2, needed):
        return None
    photos = [t.float() for t in recent]
    return torch.stack(photos[0::2]), torch.stack(photos[1::2])


def _logits(run: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return torch.cat(
            [run(images[i : i + BATCH]).float().cpu() for i in range(0, len(images), BATCH)]
        )


def int8_network(network: Inception3, crop_size: int, own: OwnImages | None) -> Int8Network:
    """The int8 network for ``network``: from the cache, or quantized on ``own`` images."""
    if own is not None:
        return build_int8_network(network, crop_size, own[0])  # the cached one if there is one
    found = cached_int8_network(network, crop_size)
    if found is None:
        raise PrecisionError(
            f"int8 needs at least {INT8_IMAGES_NEEDED} of your own images to calibrate on: "
            "classify a few photos first (or load a model trained here), then choose int8"
        )
    return found


def check_candidates(
    network: Inception3,
    device: torch.device,
    crop_size: int,
    choice: AutoChoice,
    own: OwnImages,
) -> tuple[AutoChoice, FastNetwork | Int8Network | None]:
    """Check each measured format (and int8 where it pays) against fp32 on ``own`` images.

    Every candidate is then timed again, all in the same alternating rounds, so that the
    figures compared come from one moment (a cached figure may date from a busy one).
    Returns the new choice and the network to predict with for it.
    """
    calibration, held = own
    k = min(5, network.num_classes)
    fp32 = build_fast_network(network, device, Precision.FP32, crop_size)
    reference = _logits(fp32, held)
    checked: dict[str, Timing] = {"fp32": Timing("fp32", 0.0)}
    networks: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"fp32": fp32}
    for timing in choice.timings:
        if timing.precision in ("fp32", "int8"):
            continue
        fast = build_fast_network(network, device, Precision(timing.precision), crop_size)
        found = agreement(reference, _logits(fast, held), k)
        checked[timing.precision] = Timing(
            timing.precision, 0.0, found.top1, found.top5, found.images, k
        )
        networks[timing.precision] = fast
    if int8_refusal(device) is None and has_int8_units():
        with contextlib.suppress(PrecisionError, OSError, RuntimeError):
            model = int8_network(network, crop_size, (calibration, held))
            found = agreement(reference, _logits(model, held), k)
            remember_guard(model, found)
            checked["int8"] = Timing("int8", 0.0, found.top1, found.top5, found.images, k)
            networks["int8"] = model
    times = _alternating_ms(networks, held[:1])
    timings = tuple(replace(t, ms=times[name]) for name, t in checked.items())
    chosen, reason = choose(timings)
    return replace(choice, chosen=chosen, reason=reason, timings=timings), networks.get(chosen)


def _alternating_ms(
    networks: dict[str, Callable[[torch.Tensor], object]], x: torch.Tensor, rounds: int = 5
) -> dict[str, float]:
    """Median milliseconds of each network on ``x``, one call of each a round."""
    times: dict[str, list[float]] = {name: [] for name in networks}
    with torch.inference_mode():
        for run in networks.values():  # warm-up: packing, allocator, caches
            run(x)
            run(x)
        for _ in range(rounds):
            for name, run in networks.items():
                began = time.perf_counter()
                run(x)
                times[name].append((time.perf_counter() - began) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def tuning_enabled() -> bool:
    """False where measuring is turned off (``INCEPTION_GUI_PRECISION_TUNING=0``)."""
    return os.environ.get(TUNING_ENV, "1") != "0"
