"""``auto`` precision by measurement: time the candidates where the app runs, keep the fastest.

A CPU's flags do not say which number format is fastest: on one AMD EPYC bf16 ran twice as
fast as fp32, on an Intel Xeon with AVX-512 bf16 but no AMX the same bf16 ran slower than
fp32. So ``auto`` times each candidate on the real network at the real input shape and
keeps the fastest, and never one slower than fp32: another precision must beat fp32 by
:data:`MARGIN` to be chosen.

The figures are cached in the user's cache folder (``$XDG_CACHE_HOME/inception-gui`` or
``~/.cache/inception-gui``), keyed by the device's name, the torch version, the shape and
the mode, so a machine measures once. The :class:`~model.inference.classifier.Classifier`
starts in fp32 and measures in a background thread, so the first prediction never waits.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import torch

from model.errors import PrecisionError
from model.files import atomic_write
from model.inference.int8 import Agreement
from model.network.fastpath import build_fast_network
from model.network.inception import Inception3
from model.precision import Precision, _cpu_has_fast, resolve_precision

__all__ = [
    "MARGIN",
    "TUNING_ENV",
    "AutoChoice",
    "Timing",
    "cache_path",
    "candidates",
    "choose",
    "device_name",
    "measure_inference",
    "measure_training",
    "training_candidates",
]

MARGIN = 0.05  # another precision must be this much faster than fp32 to be chosen
TUNING_ENV = "INCEPTION_GUI_PRECISION_TUNING"  # "0": auto stays in fp32, nothing is timed
CACHE_VERSION = 1
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class Timing:
    """One candidate's measured time."""

    precision: str  # "fp32", "bf16", "fp16", "int8"
    ms: float  # median milliseconds a batch, over the timed runs
    top1: float | None = None  # the guard: top-1 agreement with fp32 on held-out images
    top5: float | None = None  # mean top-5 overlap with fp32 (of ``k``)
    images: int = 0  # held-out images the guard compared; 0: not checked
    k: int = 5

    @property
    def checked(self) -> bool:
        return self.images > 0

    @property
    def agrees(self) -> bool:
        """The guard holds (:data:`model.inference.int8.GUARD_TOP1` and ``GUARD_TOP5``)."""
        return self.checked and Agreement(self.top1, self.top5, self.images, self.k).holds

    def agreement_text(self) -> str:
        if not self.checked:
            return "agreement not checked yet"
        return f"agrees with fp32: top-1 {self.top1:.1%}, top-{self.k} {self.top5:.2f}/{self.k}"


@dataclass(frozen=True)
class AutoChoice:
    """What ``auto`` chose, and the figures it chose by."""

    chosen: str  # the precision auto runs in
    reason: str  # one line, for the CLI's --verbose and the GUI's menu
    timings: tuple[Timing, ...]  # every candidate measured, fp32 first
    key: str  # the cache key: device, torch version, mode and shape
    cached: bool  # read from the cache rather than measured now

    def ms(self, precision: str) -> float | None:
        """The measured milliseconds of ``precision``, or None if it was not a candidate."""
        return next((t.ms for t in self.timings if t.precision == precision), None)

    def to_dict(self) -> dict:
        return asdict(self)


def device_name(device: torch.device) -> str:
    """A name that tells machines apart: the GPU's model, or the CPU's model and ISA level."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "cpu":
        model = platform.processor() or platform.machine()
        with contextlib.suppress(OSError):
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        isa, threads = torch.backends.cpu.get_cpu_capability(), torch.get_num_threads()
        return f"{model} ({isa}, {threads} threads)"
    return device.type


def candidates(device: torch.device) -> list[Precision]:
    """The precisions worth timing on ``device``, fp32 first.

    bf16 on a CPU whose oneDNN runs it (natively, or with AVX-512 that emulates it well
    enough to be worth a look); fp16 and bf16 on CUDA where the GPU has them. A format
    the device can only emulate slowly (bf16 on AVX2) is not timed at all.
    """
    found = [Precision.FP32]
    for precision in (Precision.BF16, Precision.FP16):
        try:
            resolve_precision(precision, device)
        except PrecisionError:
            continue
        if device.type == "cpu" and precision is Precision.BF16:
            usable = _cpu_has_fast(torch.bfloat16)
            with contextlib.suppress(AttributeError, RuntimeError):
                usable = usable or bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
            if not usable:
                continue
        found.append(precision)
    return found


def choose(timings: list[Timing] | tuple[Timing, ...], margin: float = MARGIN) -> tuple[str, str]:
    """The fastest candidate, unless it beats fp32 by less than ``margin``; and why.

    A candidate whose agreement with fp32 was checked and fell short of the guard is never
    chosen, and int8 only once checked. bf16 and fp16 not yet checked (no held-out images
    of the model's kind yet) are chosen by time, and checked as soon as images arrive.
    """
    fp32 = next(t for t in timings if t.precision == "fp32")

    def refused(t: Timing) -> bool:
        if t.precision == "fp32":
            return False
        return not t.agrees if t.checked else t.precision == "int8"

    allowed = [t for t in timings if not refused(t)]
    faster_refused = [t for t in timings if refused(t) and t.ms < fp32.ms * (1 - margin)]
    note = "".join(
        f"; {t.precision} {t.ms:.1f} ms refused: "
        + (f"top-1 {t.top1:.1%}, top-{t.k} {t.top5:.2f}/{t.k}" if t.checked else "not checked")
        for t in faster_refused
    )
    best = min(allowed, key=lambda t: t.ms)
    if best.precision == "fp32":
        others = [t for t in allowed if t.precision != "fp32"]
        if not others and not faster_refused:
            return "fp32", f"fp32: the only precision this device runs fast ({fp32.ms:.1f} ms)"
        slower = "".join(f"; {t.precision} {t.ms:.1f} ms" for t in others)
        return "fp32", f"fp32 is fastest here ({fp32.ms:.1f} ms{slower}{note})"
    if best.ms > fp32.ms * (1 - margin):
        return "fp32", (
            f"fp32 kept: {best.precision} {best.ms:.1f} ms is within {margin:.0%} of "
            f"fp32 {fp32.ms:.1f} ms{note}"
        )
    checked = f", {best.agreement_text()}" if best.checked else ""
    return best.precision, (
        f"{best.precision} is {fp32.ms / best.ms:.2f}x as fast as fp32 here "
        f"({best.ms:.1f} ms against {fp32.ms:.1f} ms{checked}{note})"
    )


def cache_path() -> Path:
    """Where the measured figures are kept."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "inception-gui" / "precision.json"


def _read_cache() -> dict:
    try:
        doc = json.loads(cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict) or doc.get("version") != CACHE_VERSION:
        return {}
    entries = doc.get("entries")
    return entries if isinstance(entries, dict) else {}


def _write_cache(key: str, choice: AutoChoice) -> None:
    with _cache_lock:
        entries = _read_cache()
        entries[key] = {"timings": [asdict(t) for t in choice.timings]}
        doc = {"version": CACHE_VERSION, "entries": entries}
        with contextlib.suppress(OSError):  # a read-only home only costs a re-measure
            atomic_write(cache_path(), lambda tmp: Path(tmp).write_text(json.dumps(doc, indent=1)))


def _cached(key: str) -> tuple[Timing, ...] | None:
    entry = _read_cache().get(key)
    try:
        timings = tuple(Timing(str(t["precision"]), float(t["ms"])) for t in entry["timings"])
    except (TypeError, KeyError, ValueError):
        return None
    return timings if any(t.precision == "fp32" for t in timings) else None


def _median_ms(run: Callable[[], object], repeats: int, device: torch.device) -> float:
    def synced() -> None:
        run()
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(2):  # warm-up: packing, allocator, caches
        synced()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        synced()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def measure_inference(
    network: Inception3,
    device: torch.device,
    crop_size: int,
    batch: int = 1,
    repeats: int = 5,
    refresh: bool = False,
) -> AutoChoice:
    """Time each candidate's fast path on ``network`` at ``batch x 3 x crop x crop``.

    Uses the cache unless ``refresh``; measures and caches otherwise. The timed inputs
    are random: the time of a convolution does not depend on the pixels.
    """
    key = f"{device_name(device)}|torch {torch.__version__}|inference|{batch}x3x{crop_size}"
    found = candidates(device)
    if found == [Precision.FP32]:  # nothing to compare: no time spent measuring
        reason = "fp32: the only precision this device runs fast"
        return AutoChoice("fp32", reason, (), key, False)
    if os.environ.get(TUNING_ENV, "1") == "0":
        reason = f"fp32: measuring is turned off ({TUNING_ENV}=0)"
        return AutoChoice("fp32", reason, (), key, False)
    timings = None if refresh else _cached(key)
    cached = timings is not None
    if timings is None:
        x = torch.randn(batch, 3, crop_size, crop_size, generator=torch.Generator().manual_seed(0))
        measured = []
        for precision in found:
            fast = build_fast_network(network, device, precision, crop_size)
            measured.append(Timing(precision.value, _median_ms(partial(fast, x), repeats, device)))
            del fast
        timings = tuple(measured)
    chosen, reason = choose(timings)
    choice = AutoChoice(chosen, reason, timings, key, cached)
    if not cached:
        _write_cache(key, choice)
    return choice


def training_candidates(device: torch.device) -> list[str]:
    """The precisions worth timing for training on ``device``, fp32 first.

    On CUDA, bf16 where the GPU computes it and fp16 (with loss scaling) otherwise; on a
    CPU, bf16 where :func:`candidates` would time it; fp16 training needs CUDA.
    """
    found = ["fp32"]
    if device.type == "cuda":
        try:
            found.append(resolve_precision(Precision.BF16, device).value)
        except PrecisionError:
            found.append("fp16")
    elif Precision.BF16 in candidates(device):
        found.append("bf16")
    return found


def measure_training(
    module: torch.nn.Module,
    device: torch.device,
    input_size: int,
    batch: int,
    num_classes: int,
    repeats: int = 3,
    refresh: bool = False,
) -> AutoChoice:
    """Time a forward and backward pass of ``module`` (in training mode) in each candidate.

    Nothing of the run is changed: no optimizer step is taken, the gradients are cleared,
    and the BatchNorm statistics and the random state are put back as they were.
    """
    key = (
        f"{device_name(device)}|torch {torch.__version__}|training|"
        f"{batch}x3x{input_size}|{num_classes} classes"
    )
    found = training_candidates(device)
    if found == ["fp32"]:
        return AutoChoice(
            "fp32", "fp32: the only precision this device trains in fast", (), key, False
        )
    if os.environ.get(TUNING_ENV, "1") == "0":
        return AutoChoice("fp32", f"fp32: measuring is turned off ({TUNING_ENV}=0)", (), key, False)
    timings = None if refresh else _cached(key)
    cached = timings is not None
    if timings is None:
        timings = tuple(
            Timing(
                p, _time_training_step(module, device, input_size, batch, num_classes, p, repeats)
            )
            for p in found
        )
    chosen, reason = choose(timings)
    choice = AutoChoice(chosen, reason, timings, key, cached)
    if not cached:
        _write_cache(key, choice)
    return choice


def _time_training_step(module, device, input_size, batch, num_classes, precision, repeats):
    buffers = {name: b.detach().clone() for name, b in module.named_buffers()}
    rng = torch.get_rng_state()
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, input_size, input_size, generator=generator).to(device)
    x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, num_classes, (batch,), generator=generator).to(device)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)

    def step() -> None:
        context = torch.autocast(device.type, dtype=dtype) if dtype else contextlib.nullcontext()
        with context:
            out = module(x)
        logits = out[0] if isinstance(out, tuple) else out
        torch.nn.functional.cross_entropy(logits.float(), y).backward()
        for p in module.parameters():
            p.grad = None

    try:
        return _median_ms(step, repeats, device)
    finally:
        with torch.no_grad():
            for name, b in module.named_buffers():
                b.copy_(buffers[name])
        torch.set_rng_state(rng)
