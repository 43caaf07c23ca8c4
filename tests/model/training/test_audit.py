"""Suspicious labels from out-of-sample heads, near-duplicates, and the audit of a folder."""

import shutil
from pathlib import Path

import torch
from PIL import Image

from model.training.audit import (
    audit_folder,
    fit_linear_head,
    near_duplicates,
    out_of_sample_probabilities,
    rank_suspects,
)


def _clusters(per_class=30, classes=4, dim=64, seed=0):
    """Feature clusters with overlap, as real pooled features of separable classes are."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, dim, generator=g) * 3
    labels = torch.arange(classes).repeat_interleave(per_class)
    features = centres[labels] + torch.randn(len(labels), dim, generator=g) * 2.5
    return features, labels


def test_a_linear_head_fits_separable_features():
    features, labels = _clusters()
    weight, bias, mean, std = fit_linear_head(features, labels, 4)
    logits = ((features.to(mean.dtype) - mean) / std) @ weight.T + bias
    assert (logits.argmax(1) == labels).float().mean() > 0.95


def test_swapped_labels_rise_to_the_top():
    features, labels = _clusters(per_class=30, classes=4)
    noisy = labels.clone()
    swapped = [3, 40, 77, 101, 15, 66]  # six images filed under the next class
    noisy[swapped] = (labels[swapped] + 1) % 4
    paths = [f"img{i}.jpg" for i in range(len(labels))]
    probs = out_of_sample_probabilities(features, noisy, 4, folds=5)
    suspects = rank_suspects(probs, noisy, paths, ["a", "b", "c", "d"])
    top = {s.path for s in suspects[: len(swapped)]}
    assert len(top & {paths[i] for i in swapped}) >= 5  # most of them, at the very top
    first = suspects[0]
    assert first.suggested_probability > first.given_probability and first.likely_issue
    assert [s.score for s in suspects] == sorted((s.score for s in suspects), reverse=True)


def test_out_of_sample_means_a_model_that_never_saw_the_image():
    """One distinct image alone in its cluster: in-sample it would fit its own label."""
    features, labels = _clusters(per_class=20, classes=2)
    labels = labels.clone()
    labels[0] = 1  # a class-0 image filed under 1
    probs = out_of_sample_probabilities(features, labels, 2, folds=4)
    assert probs[0, 0] > probs[0, 1]


def test_near_duplicates_name_leaks_copies_and_contradictions():
    features, labels = _clusters(per_class=5, classes=2, dim=32)
    features = torch.cat([features, features[0:1] + 1e-4, features[6:7] * 1.0001])
    labels = [*labels.tolist(), 0, 0]
    splits = ["train"] * 10 + ["val", "train"]
    paths = [f"p{i}" for i in range(12)]
    pairs = near_duplicates(features, paths, labels, splits, threshold=0.999)
    kinds = {(p.first, p.second): p.kind for p in pairs}
    assert kinds[("p0", "p10")] == "leak"  # the same picture in training and validation
    assert kinds[("p6", "p11")] == "across"  # class 1 and class 0: a contradiction
    assert all(p.similarity >= 0.999 for p in pairs) and len(pairs) == 2


def test_audit_of_a_folder_finds_the_misfiled_picture(tmp_path, make_dataset, backbone_file):
    data = make_dataset(tmp_path / "data", per_class=10)
    shutil.move(str(data / "red" / "3.png"), str(data / "blue" / "red3.png"))  # misfiled
    Image.open(data / "green" / "2.jpg").save(data / "green" / "2-copy.png")  # a copy
    report = audit_folder(
        str(data), weights=str(backbone_file), input_size=75, device="cpu", threshold=0.9999
    )
    assert report.class_names == ("blue", "green", "red")
    assert report.images == 31
    assert Path(report.suspects[0].path).name == "red3.png"
    assert report.suspects[0].given == "blue" and report.suspects[0].suggested == "red"
    pair_names = {(Path(p.first).name, Path(p.second).name) for p in report.duplicates}
    assert ("2-copy.png", "2.jpg") in pair_names or ("2.jpg", "2-copy.png") in pair_names


def _striped(colour, i):
    """Image ``i`` of a class: stripes of ``colour`` on grey, ``i + 2`` of them, so each differs."""
    picture = Image.new("RGB", (64, 64), (128, 128, 128))
    for k in range(i + 2):
        picture.paste(colour, (0, k * 64 // (i + 2), 64, k * 64 // (i + 2) + 3))
    return picture


def test_dataset_duplicates_sees_the_split_the_run_will_use(tmp_path, make_dataset, backbone_file):
    from model.data.folders import check_dataset
    from model.training.audit import dataset_duplicates

    data = make_dataset(tmp_path / "data", per_class=6, draw=_striped, formats=("png",))
    val = tmp_path / "val"  # validation of its own: pictures 6 and 7 of each class
    for name, colour in {
        "blue": (30, 40, 220),
        "green": (30, 200, 40),
        "red": (220, 30, 30),
    }.items():
        (val / name).mkdir(parents=True)
        for i in (6, 7):
            _striped(colour, i).save(val / name / f"{i}.png")
    shutil.copy(data / "red" / "4.png", val / "red" / "from-training.png")  # a leak
    shutil.copy(data / "blue" / "5.png", data / "blue" / "5-again.png")  # a copy in a class
    report = check_dataset(data, val_dir=val)
    pairs = dataset_duplicates(
        report, weights=str(backbone_file), input_size=75, device="cpu", threshold=0.9999
    )
    found = {
        (Path(p.first).parent.parent.name, Path(p.first).name, Path(p.second).name): p.kind
        for p in pairs
    }
    assert found == {
        ("data", "4.png", "from-training.png"): "leak",
        ("data", "5-again.png", "5.png"): "within",
    }, found


def test_float32_heads_rank_as_float64_heads_did():
    """The heads fit in float32 (2-3x faster); on these clusters the ranking is the same."""
    features, labels = _clusters(per_class=30, classes=4)
    noisy = labels.clone()
    swapped = [3, 40, 77, 101, 15, 66]
    noisy[swapped] = (labels[swapped] + 1) % 4
    paths = [f"img{i}.jpg" for i in range(len(labels))]
    ranks = {}
    for dtype in (torch.float32, torch.float64):
        probs = out_of_sample_probabilities(features, noisy, 4, folds=5, dtype=dtype)
        ranks[dtype] = [s.path for s in rank_suspects(probs, noisy, paths, "abcd")]
    assert ranks[torch.float32] == ranks[torch.float64]
    weight, *_ = fit_linear_head(features, labels, 4)
    assert weight.dtype == torch.float32
