"""Training speed, side by side in one process: a plain torchvision loop against the engine.

Figures (images per second, higher is better):

1. Full fine-tuning, one optimizer step at 299 px, at batch 32 (the paper's and
   the engine's default) and 16: torchvision's ``inception_v3``
   in fp32 eager with the default memory format, against the engine's own step
   (``model.training.trainer.Trainer._step``: bf16 autocast where the CPU computes it,
   channels-last, average-pool branches pooled after their 1x1 conv, multi-tensor
   optimizer update). Same weights, same batch, same loss (label smoothing and the
   aux head at 0.4), same optimizer (RMSProp, the paper's settings) and clipping.
   The two alternate step by step so that a busy machine slows both alike.
2. Head-only epochs through ``model.training.engine.train`` on a generated folder of JPEGs:
   without the feature cache (every epoch runs the frozen backbone) and with it
   (epoch 1 builds the cache; later epochs train the classifier on it).

Weights: a random v3 (ImageNet weights need a download); it times like a trained one.
Run: ``.venv/bin/python bench/bench_train.py [--batch 32 16] [--steps 4] [--images 64]``.
Writes ``bench/results/train.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.data.folders import check_dataset  # noqa: E402
from model.training.distributed import World  # noqa: E402
from model.training.engine import EpochEnd, TrainConfig, train  # noqa: E402
from model.training.recipe import detect_precision, set_train_mode  # noqa: E402
from model.training.trainer import Trainer  # noqa: E402

CLASSES = 4


def make_folder(root: Path, images: int) -> Path:
    """JPEG photos-alike of 400 x 300 with drawn shapes, ``images`` in all, 4 classes."""
    rng = random.Random(0)
    for i in range(images):
        folder = root / f"class{i % CLASSES}"
        folder.mkdir(parents=True, exist_ok=True)
        img = Image.new("RGB", (400, 300), tuple(rng.randrange(256) for _ in range(3)))
        draw = ImageDraw.Draw(img)
        for _ in range(12):
            x, y = rng.randrange(400), rng.randrange(300)
            box = (x, y, x + rng.randrange(20, 160), y + rng.randrange(20, 120))
            draw.ellipse(box, fill=tuple(rng.randrange(256) for _ in range(3)))
        img.save(folder / f"{i}.jpg", quality=90)
    return root


def save_weights(path: Path) -> Path:
    """A random v3 as a torchvision state dict: the starting point of both sides."""
    from torchvision.models import inception_v3

    torch.manual_seed(0)
    net = inception_v3(weights=None, aux_logits=True, init_weights=True)
    torch.save(net.state_dict(), path)
    return path


def baseline_model(weights: Path, head: torch.nn.Module, aux_head: torch.nn.Module):
    from torchvision.models import inception_v3

    net = inception_v3(weights=None, aux_logits=True, init_weights=False)
    net.load_state_dict(torch.load(weights, weights_only=True))
    net.fc, net.AuxLogits.fc = head, aux_head  # the engine's new classifiers, copied
    return net.train()


def bench_steps(folder: Path, weights: Path, batch: int, steps: int, seconds: float) -> dict:
    config = TrainConfig(
        str(folder), str(folder.parent / "out-steps"), weights=str(weights), train_from="all",
        batch_size=batch, epochs=1,
    )  # fmt: skip
    report = check_dataset(folder)
    ours = Trainer(config, report, torch.device("cpu"), World(), None)
    set_train_mode(ours.net, ours.trainable)  # as Trainer._train_epoch does
    import copy

    base = baseline_model(weights, copy.deepcopy(ours.net.fc), copy.deepcopy(ours.net.AuxLogits.fc))
    # A plain loop's optimizer: torch's RMSprop with its own defaults for the update
    # kernels, the paper's hyper-parameters (the engine's make_optimizer adds the
    # multi-tensor update, part of what is measured).
    base_opt = torch.optim.RMSprop(
        base.parameters(), lr=ours.lr, alpha=0.9, eps=1.0, momentum=0.9, weight_decay=4e-5
    )
    smooth = torch.nn.CrossEntropyLoss(label_smoothing=0.1)

    def base_step(x, y):
        logits, aux = base(x)
        loss = smooth(logits, y) + 0.4 * smooth(aux, y)
        base_opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(base.parameters(), 2.0)
        base_opt.step()

    torch.manual_seed(1)
    x = torch.randn(batch, 3, 299, 299)
    y = torch.randint(0, CLASSES, (batch,))
    times: dict[str, list[float]] = {"baseline": [], "ours": []}
    deadline = time.perf_counter() + seconds
    i = 0
    while i <= steps or time.perf_counter() < deadline:  # round 0 warms up, uncounted
        for name, step in (("baseline", base_step), ("ours", ours._step)):
            began = time.perf_counter()
            step(x, y)
            if i:
                times[name].append(time.perf_counter() - began)
        i += 1
    # The fastest step of each side is the least disturbed by other work on a
    # shared machine (as timeit reports); the medians are printed beside it.
    rate = {k: batch / min(v) for k, v in times.items()}
    median = {k: batch / statistics.median(v) for k, v in times.items()}
    return {
        "batch": batch,
        "steps": len(times["ours"]),
        "precision": ours.precision,
        "baseline_images_per_s": rate["baseline"],
        "ours_images_per_s": rate["ours"],
        "speedup": rate["ours"] / rate["baseline"],
        "median_speedup": median["ours"] / median["baseline"],
        "step_seconds": times,
    }


def epoch_times(folder: Path, weights: Path, cache: bool, epochs: int, batch: int) -> list[float]:
    config = TrainConfig(
        str(folder), str(folder.parent / f"out-head-{cache}"), weights=str(weights),
        train_from="head", cache_features=cache, epochs=epochs, batch_size=batch,
    )  # fmt: skip
    marks = [time.perf_counter()]
    for event in train(config):
        if isinstance(event, EpochEnd):
            marks.append(time.perf_counter())
    return [b - a for a, b in itertools.pairwise(marks)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--batch", type=int, nargs="+", default=[32, 16],
        help="images per step, each timed (32: the paper's and the engine's default; 16)",
    )  # fmt: skip
    parser.add_argument("--steps", type=int, default=4, help="timed steps per side (4)")
    parser.add_argument("--images", type=int, default=64, help="images in the folder (64)")
    parser.add_argument("--epochs", type=int, default=4, help="head-only epochs (4)")
    parser.add_argument("--seconds", type=float, default=0, help="time steps for this long too")
    args = parser.parse_args()
    # The engine flushes subnormal floats to zero while it trains (model/trainer.py);
    # the baseline gets the same, set before any thread starts, so that both sides
    # run in one numeric environment and the ratio measures the step, nothing else.
    torch.set_flush_denormal(True)
    cpu = platform.processor() or platform.machine()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {cpu}")
    print(f"auto precision on the CPU: {detect_precision('cpu')}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_folder(Path(tmp) / "photos", args.images)
        weights = save_weights(Path(tmp) / "random_v3.pth")
        full_steps = []
        for batch in args.batch:
            steps = bench_steps(folder, weights, batch, args.steps, args.seconds)
            full_steps.append(steps)
            print(f"\nfull fine-tuning step, 299 px, batch {batch} ({steps['precision']}):")
            print(f"  torchvision fp32 eager   {steps['baseline_images_per_s']:8.2f} img/s")
            print(f"  engine                   {steps['ours_images_per_s']:8.2f} img/s")
            print(f"  speedup                  {steps['speedup']:8.2f}x  (target >= 2.5x)")
            print(f"  speedup of the medians   {steps['median_speedup']:8.2f}x", flush=True)
        plain = epoch_times(folder, weights, False, args.epochs, 32)
        cached = epoch_times(folder, weights, True, args.epochs, 32)
    # Epoch 1 of each side also holds the run's set-up (dataset check, weights, network);
    # both sides are compared on their later epochs.
    uncached = statistics.median(plain[1:])
    later = statistics.median(cached[1:])
    head = {
        "images": args.images,
        "uncached_epoch_s": plain,
        "cached_epoch_s": cached,
        "cached_later_vs_uncached": uncached / later,
    }
    print(f"\nhead-only epochs, {args.images} images of 400 x 300, 299 px input (train + val):")
    print(f"  without cache, epochs 2+ {uncached:8.3f} s/epoch")
    print(f"  with cache, epoch 1      {cached[0]:8.3f} s (builds the cache)")
    print(f"  with cache, epochs 2+    {later:8.4f} s/epoch")
    ratio = head["cached_later_vs_uncached"]
    print(f"  cached vs uncached       {ratio:8.1f}x  (target >= 20x)")
    out = ROOT / "bench" / "results" / "train.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"torch": torch.__version__, "threads": torch.get_num_threads(), "cpu": cpu}
    out.write_text(json.dumps({**doc, "full_step": full_steps, "head_only": head}, indent=2))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
