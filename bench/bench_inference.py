"""Inference benchmark: the fast path against plain torchvision, side by side, same weights.

Run ``.venv/bin/python bench/bench_inference.py``; it prints a table and writes
``bench/results/inference.json``. Each figure is the median of several runs,
baseline and ours alternating within the same process so that a busy machine
slows both alike; the spread is the lowest and highest run.

Weights: a random Inception v3 (torchvision layout, 1000 classes) whose
BatchNorm statistics are calibrated on drawn pictures, saved as a ``.pth``
and loaded by both sides. Random weights time like trained ones; they say
nothing about accuracy, which ``tests/model/test_fastpath.py`` checks on a
trained model (its figures are printed at the end when pytest is run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model import build_network, load_classifier  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "inference.json"


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    name: str  # what is measured
    unit: str  # "ms" (lower is better) or "img/s" (higher is better)
    baseline: float | None  # median over runs
    ours: float  # median over runs
    baseline_spread: tuple[float, float] | None  # lowest and highest run
    ours_spread: tuple[float, float]
    target: str  # the target, in words
    met: bool | None  # None where there is no target


def _photo(rng: np.random.Generator, megapixels: float) -> Image.Image:
    """A photo-sized picture: a coloured ramp, shapes, film-grain noise."""
    w = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    h = int(w * 3 / 4)
    small = (max(8, w // 16), max(8, h // 16))
    ends = rng.integers(0, 256, (2, 3))
    ramp = np.linspace(0, 1, small[0])[None, :, None]
    base = np.broadcast_to(ends[0] * (1 - ramp) + ends[1] * ramp, (small[1], small[0], 3))
    img = Image.fromarray(base.astype(np.uint8)).resize((w, h), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.05, 0.3) * w
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        draw.ellipse((x0 - r, y0 - r, x0 + r, y0 + r / 2), fill=colour)
    grain = Image.effect_noise((w, h), 20).convert("RGB")
    return Image.blend(img, grain, 0.12)


def make_photos(folder: Path, count: int, seed: int = 0) -> list[Path]:
    """``count`` JPEGs of 1-12 megapixels, quality 90."""
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        path = folder / f"photo{i:03}.jpg"
        _photo(rng, rng.uniform(1, 12)).save(path, quality=90)
        paths.append(path)
    return paths


def make_weights(path: Path, photos: list[Path]) -> None:
    """Random v3 weights, BatchNorm calibrated on a few photos, in torchvision's format."""
    from model.data.preprocess import imagenet_preprocess

    torch.manual_seed(0)
    net = build_network("v3", transform_input=True)
    prep = imagenet_preprocess()
    batch = torch.stack([prep(Image.open(p).convert("RGB")) for p in photos[:8]])
    for bn in (m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        bn.reset_running_stats()
        bn.momentum = None
    net.train()
    with torch.no_grad():
        net(batch)
    torch.save(net.state_dict(), path)


def torchvision_baseline(weights: Path):
    """torchvision's own network and transforms, eager fp32: what the issue compares with."""
    from torchvision.models import Inception_V3_Weights, inception_v3

    net = inception_v3(weights=None, aux_logits=True, init_weights=False, transform_input=True)
    net.load_state_dict(torch.load(weights, weights_only=True))
    return net.eval(), Inception_V3_Weights.IMAGENET1K_V1.transforms()


def _median_spread(values: list[float]) -> tuple[float, tuple[float, float]]:
    return statistics.median(values), (min(values), max(values))


def _time(fn, repeat: int) -> float:
    """Median seconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_single(clf, tv, tf, image: Image.Image, runs: int, repeat: int) -> Row:
    """One decoded 299 x 299 image to its top-5."""

    @torch.inference_mode()
    def baseline():
        tv(tf(image).unsqueeze(0)).softmax(1).topk(5)

    def ours():
        clf.predict(image, k=5)

    for _ in range(3):
        baseline(), ours()
    base_runs, our_runs = [], []
    for _ in range(runs):
        base_runs.append(_time(baseline, repeat) * 1e3)
        our_runs.append(_time(ours, repeat) * 1e3)
    (b, bs), (o, os_) = _median_spread(base_runs), _median_spread(our_runs)
    return Row("one 299x299 image, top-5", "ms", b, o, bs, os_, "<= 0.2x baseline", o <= 0.2 * b)


def bench_folder(clf, tv, tf, photos: list[Path], runs: int) -> Row:
    """A folder of photos end to end: decode, preprocess, classify."""

    @torch.inference_mode()
    def baseline():
        for path in photos:
            with Image.open(path) as img:
                tv(tf(img.convert("RGB")).unsqueeze(0)).softmax(1).topk(5)

    def ours():
        assert all(r.ok for r in clf.iter_predict(photos, k=5, batch_size=8))

    ours()  # warm the decode path and the batch shapes once
    base_runs, our_runs = [], []
    for _ in range(runs):
        base_runs.append(len(photos) / _time(baseline, 1))
        our_runs.append(len(photos) / _time(ours, 1))
    (b, bs), (o, os_) = _median_spread(base_runs), _median_spread(our_runs)
    name = f"folder of {len(photos)} JPEGs, 1-12 MP"
    return Row(name, "img/s", b, o, bs, os_, ">= 4x baseline", o >= 4 * b)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def bench_memory(clf, images: list[Image.Image], count: int) -> Row:
    """Resident memory growth over ``count`` predictions, after a warm-up."""
    for i in range(50):
        clf.predict(images[i % len(images)], k=5)
    before = _rss_mb()
    samples = []
    for i in range(count):
        clf.predict(images[i % len(images)], k=5)
        if i % 100 == 99:
            samples.append(_rss_mb() - before)
    growth = _rss_mb() - before
    lo, hi = min(samples), max(samples)
    name = f"RSS growth over {count} predictions"
    return Row(name, "MB", None, growth, None, (lo, hi), "< 50 MB", growth < 50)


def agreement(clf, photos: list[Path]) -> dict[str, float]:
    """Fast path (draft decoding, reduced precision) against the fp32 reference, full decode."""
    from model.data.images import load_image

    prep = clf.info.preprocess
    full = torch.stack([prep(load_image(p)) for p in photos])
    with torch.inference_mode():
        reference = torch.cat([clf.network(c) for c in full.split(8)])
    fast = torch.cat([r for r in _logits_in_batches(clf, photos)])
    top1 = (reference.argmax(1) == fast.argmax(1)).float().mean().item()
    ref5, fast5 = reference.topk(5, 1).indices.tolist(), fast.topk(5, 1).indices.tolist()
    top5 = float(np.mean([len(set(a) & set(b)) for a, b in zip(ref5, fast5)]))
    return {"top1_agreement": top1, "top5_overlap": top5, "images": len(photos)}


def _logits_in_batches(clf, photos: list[Path]):
    for start in range(0, len(photos), 8):
        chunk = photos[start : start + 8]
        yield clf.logits(torch.stack([clf._load(p, i)[1] for i, p in enumerate(chunk)]))


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _print_table(rows: list[Row]) -> None:
    print(f"\n{'measure':<34} {'baseline':>20} {'ours':>20} {'ratio':>7}  {'target':<18} met")
    print("-" * 110)
    for r in rows:

        def cell(v, s):
            return "-" if v is None else f"{v:8.2f} [{s[0]:.1f}-{s[1]:.1f}]"

        ratio = "-" if r.baseline is None else f"{r.ours / r.baseline:.2f}x"
        met = "-" if r.met is None else ("yes" if r.met else "NO")
        base = cell(r.baseline, r.baseline_spread)
        ours = cell(r.ours, r.ours_spread)
        label = f"{r.name} ({r.unit})"
        print(f"{label:<34} {base:>20} {ours:>20} {ratio:>7}  {r.target:<18} {met}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median, spread)")
    parser.add_argument("--folder-runs", type=int, default=3, help="runs of the folder figure")
    parser.add_argument("--repeat", type=int, default=10, help="calls per single-image run")
    parser.add_argument("--photos", type=int, default=64)
    parser.add_argument("--predictions", type=int, default=1000, help="for the memory figure")
    parser.add_argument("--precision", default="auto")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"drawing {args.photos} photos of 1-12 MP ...", flush=True)
        photos = make_photos(Path(tmp), args.photos)
        weights = Path(tmp) / "random_v3.pth"
        make_weights(weights, photos)
        start = time.perf_counter()
        clf = load_classifier(weights, device="cpu", precision=args.precision)
        loaded = time.perf_counter() - start
        image = Image.open(photos[0]).convert("RGB").resize((299, 299))
        start = time.perf_counter()
        clf.predict(image, k=5)
        first = time.perf_counter() - start
        tv, tf = torchvision_baseline(weights)
        print(f"precision {clf.precision}; load {loaded:.2f} s, first prediction {first:.3f} s")
        print("timing one image ...", flush=True)
        rows = [bench_single(clf, tv, tf, image, args.runs, args.repeat)]
        print("timing the folder ...", flush=True)
        rows.append(bench_folder(clf, tv, tf, photos, args.folder_runs))
        print(f"memory over {args.predictions} predictions ...", flush=True)
        decoded = [Image.open(p).convert("RGB").resize((400, 300)) for p in photos[:8]]
        rows.append(bench_memory(clf, decoded, args.predictions))
        agree = agreement(clf, photos)
    _print_table(rows)
    print(
        f"\nagreement with fp32 on these {agree['images']} photos (calibrated RANDOM weights, "
        f"so near-ties are common; the guard proper is tests/model/test_fastpath.py): "
        f"top-1 {agree['top1_agreement']:.1%}, top-5 overlap {agree['top5_overlap']:.2f} of 5"
    )
    doc = {
        "machine": {
            "cpu": _cpu_name(),
            "cores": os.cpu_count(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
        },
        "precision": clf.precision,
        "load_seconds": loaded,
        "first_prediction_seconds": first,
        "rows": [asdict(r) for r in rows],
        "agreement_random_weights": agree,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2))
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
