"""Training data: a folder with one sub-folder per class, checked before anything trains.

The layout is torchvision's ``ImageFolder``: ``root/<class name>/**/<image>``,
class names sorted, so index ``i`` is the ``i``-th sub-folder by name. Images
are read with :func:`model.data.images.load_image`, so every format and mode the
Classify tab reads can be trained on. Files that cannot be read are listed in
the report and left out; nothing in the folder is ever moved or deleted.

Validation comes from a second folder with the same class sub-folders, or from
a stratified split of the training folder with a fixed seed (the same split on
every run and on every process of a distributed run).
"""

from __future__ import annotations

import os
import random
import stat
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PIL import Image

from model.data.images import ImageLoadError, iter_image_files, load_image, open_image

__all__ = [
    "DatasetReport",
    "ImageListDataset",
    "Unreadable",
    "check_dataset",
    "collate_readable",
    "probe_image",
    "train_transform",
]

Sample = tuple[str, int]  # (file path, class index)

IMBALANCE_RATIO = 3.0  # largest class this many times the smallest: warn
FEW_IMAGES = 10  # a class with fewer training images than this: warn


@dataclass(frozen=True)
class DatasetReport:
    """What a training folder holds, and whether training can start on it.

    Everything here is plain data, safe to hand to another thread.
    """

    class_names: tuple[str, ...]  # sub-folder names, sorted: the classifier's labels
    train_counts: dict[str, int]  # readable training images per class
    val_counts: dict[str, int]  # readable validation images per class
    unreadable: tuple[tuple[str, str], ...]  # (path, reason) of files left out
    warnings: tuple[str, ...]  # worth knowing, training can go on
    errors: tuple[str, ...]  # training cannot start
    train_dir: str = ""  # the folder checked
    val_dir: str | None = None  # the validation folder, None for a split
    val_fraction: float = 0.2  # share held out when there is no val_dir
    seed: int = 0  # seed of that split
    train_samples: tuple[Sample, ...] = field(default=(), repr=False)  # (path, class)
    val_samples: tuple[Sample, ...] = field(default=(), repr=False)  # (path, class)

    @property
    def ok(self) -> bool:
        """True when training can start."""
        return not self.errors

    def summary(self) -> dict[str, Any]:
        """The report without the file lists, as JSON-ready data."""
        return {
            "train_dir": self.train_dir,
            "val_dir": self.val_dir,
            "class_names": list(self.class_names),
            "train_counts": dict(self.train_counts),
            "val_counts": dict(self.val_counts),
            "unreadable": [list(item) for item in self.unreadable],
            "warnings": list(self.warnings),
            "errors": list(self.errors),
        }


def probe_image(path: str | os.PathLike[str]) -> str | None:
    """Return why ``path`` cannot be read as an image, or None when it can.

    JPEGs are decoded at reduced scale (Pillow's ``draft``), which finds
    truncated and damaged files at a fraction of a full decode's cost. A file
    that fails is read again with :func:`~model.data.images.load_image`, so the
    reason is worded as everywhere else in the application.
    """
    try:
        with open_image(path) as img:
            img.draft("RGB", (64, 64))
            img.load()
        return None
    except Exception:  # any failure: let load_image find and word the reason
        pass
    try:
        load_image(path)
    except ImageLoadError as exc:
        return exc.reason
    return None


def _class_folders(root: Path) -> list[Path]:
    """The sub-folders of ``root``, by name; OSError when ``root`` cannot be listed."""
    with os.scandir(root) as entries:
        found = [Path(e.path) for e in entries if e.is_dir() and not e.name.startswith(".")]
    return sorted(found, key=lambda p: p.name)


def _unlisted(root: Path, names: Sequence[str]) -> list[str]:
    """Errors for the class folders that cannot be listed (os.walk would pass them in silence)."""
    errors = []
    for name in names:
        try:
            with os.scandir(root / name):
                pass
        except OSError as exc:
            errors.append(f"class folder '{root / name}' cannot be read ({exc.strerror or exc})")
    return errors


def _scan(root: Path, names: Sequence[str]) -> dict[str, list[str]]:
    """Image files under each class folder (recursive, sorted, hidden files skipped)."""
    return {
        name: [str(p) for p in iter_image_files([root / name])] if (root / name).is_dir() else []
        for name in names
    }


def _probe_all(files: dict[str, list[str]]) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """Split each class's files into readable ones and (path, reason) for the rest."""
    flat = [path for paths in files.values() for path in paths]
    # Decoding releases the GIL, so a few threads keep every core busy.
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) + 1)) as pool:
        reasons = dict(zip(flat, pool.map(probe_image, flat)))
    readable = {name: [p for p in paths if reasons[p] is None] for name, paths in files.items()}
    bad = [(p, reasons[p]) for p in flat if reasons[p] is not None]
    return readable, bad


def _split(
    readable: dict[str, list[str]], fraction: float, seed: int
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Stratified split: about ``fraction`` of each class to validation, the same every run."""
    train, val = {}, {}
    for index, (name, paths) in enumerate(readable.items()):
        shuffled = sorted(paths)
        random.Random(f"{seed}:{index}").shuffle(shuffled)
        n_val = round(len(shuffled) * fraction)
        if fraction > 0 and len(shuffled) >= 2:
            n_val = min(max(n_val, 1), len(shuffled) - 1)  # one each side when possible
        val[name], train[name] = sorted(shuffled[:n_val]), sorted(shuffled[n_val:])
    return train, val


def _folder_error(path: str | None, what: str) -> str | None:
    if path is None:
        return None
    try:
        mode = os.stat(Path(path).expanduser()).st_mode
    except FileNotFoundError:
        return f"{what} '{path}' does not exist"
    except OSError as exc:  # a folder on the way that cannot be entered: not "does not exist"
        return f"{what} '{path}' cannot be opened ({exc.strerror or exc})"
    if not stat.S_ISDIR(mode):
        return f"{what} '{path}' is not a folder"
    return None


def _class_errors(root: Path, names: list[str]) -> list[str]:
    if not names:
        return [f"'{root}' has no class sub-folders: put each class's images in its own folder"]
    if len(names) == 1:
        return [f"only one class ('{names[0]}'): fine-tuning needs at least two"]
    return []


def _count_problems(
    train: dict[str, list[str]], val: dict[str, list[str]], readable: dict[str, list[str]], minimum
) -> tuple[list[str], list[str]]:
    """Errors and warnings about how many images each class has."""
    errors, warnings = [], []
    if not any(readable.values()):
        return ["no readable images in any class folder"], []
    for name, paths in readable.items():
        if len(paths) < minimum:
            errors.append(
                f"class '{name}' has {len(paths)} readable image(s); each class needs at "
                f"least {minimum}"
            )
        elif len(train[name]) < FEW_IMAGES:
            warnings.append(
                f"class '{name}' has only {len(train[name])} training image(s); "
                "accuracy will be unreliable"
            )
    sizes = [len(p) for p in train.values() if p]
    if sizes and max(sizes) >= IMBALANCE_RATIO * min(sizes):
        warnings.append(
            f"classes are imbalanced: {max(sizes)} training images in the largest, "
            f"{min(sizes)} in the smallest"
        )
    empty_val = [name for name, paths in val.items() if not paths]
    if any(val.values()) and empty_val:
        warnings.append("no validation images for: " + ", ".join(repr(n) for n in empty_val))
    return errors, warnings


def check_dataset(
    train_dir: str | os.PathLike[str],
    val_dir: str | os.PathLike[str] | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
    min_per_class: int = 2,
) -> DatasetReport:
    """Scan a class-per-folder dataset, try every image, and say whether it can be trained on.

    Parameters
    ----------
    train_dir : str or PathLike
        The folder with one sub-folder per class.
    val_dir : str or PathLike, optional
        A folder with the same class sub-folders, for validation. Without it,
        ``val_fraction`` of each class is held out.
    val_fraction : float
        Share of each class held out for validation when there is no
        ``val_dir`` (0 for none).
    seed : int
        Seed of the split: the same seed gives the same split.
    min_per_class : int
        Fewest readable images a class may have.

    Returns
    -------
    DatasetReport
        Never raises for bad data: problems are in ``errors`` and ``warnings``.
    """
    train_str = str(train_dir)
    val_str = None if val_dir is None else str(val_dir)
    empty = DatasetReport((), {}, {}, (), (), (), train_str, val_str, val_fraction, seed)
    problems = [
        e
        for e in (_folder_error(train_str, "folder"), _folder_error(val_str, "validation folder"))
        if e
    ]
    if problems:
        return replace(empty, errors=tuple(problems))
    root = Path(train_str).expanduser()
    val_root = None if val_str is None else Path(val_str).expanduser()
    try:
        names = [p.name for p in _class_folders(root)]
        val_names = [] if val_root is None else [p.name for p in _class_folders(val_root)]
    except OSError as exc:
        unread = f"folder '{exc.filename}' cannot be read ({exc.strerror or exc})"
        return replace(empty, errors=(unread,))
    if class_errors := _class_errors(root, names) or _unlisted(root, names):
        return replace(empty, class_names=tuple(names), errors=tuple(class_errors))
    errors: list[str] = []
    files = _scan(root, names)
    if val_root is None:
        val_files = {}
    else:
        errors += _unlisted(val_root, [n for n in names if n in val_names])
        extra = sorted(set(val_names) - set(names))
        if extra:
            errors.append(
                f"validation folder has classes that the training folder lacks: {', '.join(extra)}"
            )
        val_files = _scan(val_root, names)
    readable, bad = _probe_all({**files, **{f"val:{k}": v for k, v in val_files.items()}})
    train_ok = {name: readable[name] for name in names}
    if val_str is None:
        train, val = _split(train_ok, val_fraction, seed)
    else:
        train, val = train_ok, {name: readable[f"val:{name}"] for name in names}
    more_errors, warnings = _count_problems(train, val, train_ok, min_per_class)
    if not any(val.values()) and any(train_ok.values()):
        if val_str is not None:
            errors.append(f"validation folder '{val_str}' has no readable images of these classes")
        else:
            warnings.append(
                "no validation images: the best checkpoint and early stopping go by the "
                "training loss"
            )
    if bad:
        warnings.append(f"{len(bad)} file(s) could not be read and are left out")
    return DatasetReport(
        class_names=tuple(names),
        train_counts={n: len(train[n]) for n in names},
        val_counts={n: len(val[n]) for n in names},
        unreadable=tuple(bad),
        warnings=tuple(warnings),
        errors=tuple(errors + more_errors),
        train_dir=train_str,
        val_dir=val_str,
        val_fraction=val_fraction,
        seed=seed,
        train_samples=_samples(train, names),
        val_samples=_samples(val, names),
    )


def _samples(files: dict[str, list[str]], names: Sequence[str]) -> tuple[Sample, ...]:
    return tuple((path, index) for index, name in enumerate(names) for path in files[name])


@dataclass(frozen=True)
class Unreadable:
    """A sample whose file could not be read when its batch was made: plain data, picklable."""

    path: str
    reason: str


class ImageListDataset:
    """A map-style dataset over ``(path, class)`` pairs: ``(image tensor, class, position)``.

    The position lets validation report which file each prediction belongs
    to. A file that became unreadable after the check (deleted, or replaced by
    something else) raises an :class:`~model.data.images.ImageLoadError` naming
    it; with ``skip_unreadable`` it comes back as an :class:`Unreadable` instead,
    which :func:`collate_readable` sets aside, so a run can skip it and say so.
    """

    def __init__(
        self,
        samples: Sequence[Sample],
        transform: Callable[[Image.Image], Any],
        skip_unreadable: bool = False,
    ) -> None:
        self.samples = list(samples)
        self.transform = transform
        self.skip_unreadable = skip_unreadable

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, position: int) -> tuple[Any, int, int] | Unreadable:
        path, label = self.samples[position]
        try:
            image = load_image(path)
        except ImageLoadError as exc:
            if not self.skip_unreadable:
                raise
            return Unreadable(path, exc.reason)
        return self.transform(image), label, position


def collate_readable(items: list[Any]) -> tuple[Any, Any, Any, tuple[Unreadable, ...]]:
    """A batch of the readable items, and the :class:`Unreadable` ones beside it.

    Returns ``(images, labels, positions, unreadable)``; the first three are None
    when no item of the batch could be read.
    """
    from torch.utils.data import default_collate

    readable = [item for item in items if not isinstance(item, Unreadable)]
    unreadable = tuple(item for item in items if isinstance(item, Unreadable))
    if not readable:
        return None, None, None, unreadable
    images, labels, positions = default_collate(readable)
    return images, labels, positions, unreadable


def train_transform(
    preprocess: Any,
    random_resized_crop: bool = False,
    hflip: bool = False,
    crop_scale: float = 0.35,
) -> Callable[[Image.Image], Any]:
    """The training augmentation at ``preprocess.crop_size``, ending in its normalisation.

    Parameters
    ----------
    preprocess : Preprocess
        Size, normalisation and filter of the network's input.
    random_resized_crop : bool
        Random crops of ``crop_scale`` to all of the image's area (aspect 3/4-4/3), so the
        object stays in view; off, the deterministic resize and centre crop of
        ``preprocess``. (The paper's 8% crops suit 100 epochs of ImageNet, not a short
        run on a few hundred images a class.)
    hflip : bool
        Random horizontal flips: not for text, digits or other classes that a mirror
        changes.
    crop_scale : float
        The smallest share of the image's area a random crop keeps.
    """
    if not random_resized_crop and not hflip:
        return preprocess.transform  # exactly what validation and prediction see
    import torch
    from torchvision.transforms import v2

    mode = v2.InterpolationMode(preprocess.interpolation)
    if random_resized_crop:
        geometry = [
            v2.RandomResizedCrop(
                preprocess.crop_size, scale=(crop_scale, 1.0), interpolation=mode, antialias=True
            )
        ]
    else:
        geometry = [
            v2.Resize(preprocess.resize_size, interpolation=mode, antialias=True),
            v2.CenterCrop(preprocess.crop_size),
        ]
    flips = [v2.RandomHorizontalFlip()] if hflip else []
    return v2.Compose(  # geometry on the PIL image, as the prediction path does
        [
            *geometry,
            *flips,
            v2.PILToTensor(),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(mean=list(preprocess.mean), std=list(preprocess.std)),
        ]
    )
