"""A training run's files: where it starts from, and what it writes after each epoch.

``out_dir/last.safetensors``
    The latest epoch's network in the project's checkpoint format, with the
    class names, the preprocessing at the trained input size and a training
    summary: what the Classify tab and ``model.load_network`` read.
``out_dir/best.safetensors``
    The same for the epoch with the best validation accuracy.
``out_dir/last.state.pt``
    What resuming needs beyond the weights: optimizer, scheduler, history and
    the run's recipe. Plain tensors and containers only, so ``torch.load``
    reads it with ``weights_only=True``. It carries its own copy of the
    tensors that train (frozen layers never change, so they are read back
    from ``last.safetensors``), and it is written last: a kill between the
    writes leaves the previous epoch's state, which resumes as that epoch
    (its frozen layers are the same in any epoch's ``last.safetensors``),
    never one epoch's weights with another epoch's optimizer state, and
    never a state whose ``last.safetensors`` is not there yet.

Every file is written to a temporary name and renamed over the old one;
``best.safetensors`` is a second name (a hard link) of the ``last.safetensors``
it was, so keeping it costs no second write. Temporary files that a killed
run left behind are removed when the next run in the folder starts.
"""

from __future__ import annotations

import errno
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from model.data.folders import DatasetReport
from model.data.preprocess import Preprocess
from model.errors import CheckpointError, TrainingError, WeightsUnavailableError
from model.files import atomic_write
from model.network.inception import Inception3
from model.training.config import TrainConfig
from model.training.records import RunSnapshot, ValidationSummary
from model.training.run_folder import BEST, LAST, STATE, holds_run
from model.weights.checkpoint import Checkpoint, read_checkpoint, save_checkpoint
from model.weights.loading import load_network, network_from_state_dict

__all__ = [
    "BEST",
    "LAST",
    "STATE",
    "RunFiles",
    "Start",
    "holds_run",
    "start_network",
    "validation_summary",
]


STATE_VERSION = 1


@dataclass(frozen=True)
class Start:
    """What the starting weights bring besides their tensors."""

    display_name: str  # "ImageNet (IMAGENET1K_V1)", a file name, "untrained (random weights)"
    preprocess: Preprocess  # normalisation and resize ratio to keep at the new input size
    transform_input: bool  # the network re-normalises its input (Google's weights)


def start_network(
    config: TrainConfig, class_names: tuple[str, ...], resume: dict[str, Any] | None
) -> tuple[Inception3, Start]:
    """The network a run starts from, with a classifier for ``class_names``.

    A resumed run takes weights and metadata from its state file; a new run
    loads ``config.weights`` and replaces the classifier unless the weights
    already classify exactly these classes.
    """
    if resume is not None:
        saved = tuple(resume["class_names"])
        if saved != class_names:
            raise TrainingError(
                f"cannot resume: the run was trained on classes {list(saved)}, but "
                f"'{config.data_dir}' has {list(class_names)}"
            )
        weights = resume["model"]
        if not resume.get("model_complete", True):  # frozen layers: from the checkpoint
            try:
                weights = {**read_checkpoint(resume["checkpoint_path"]).state, **weights}
            except CheckpointError as exc:
                raise TrainingError(f"cannot resume: {exc}") from None
        try:
            net = network_from_state_dict(
                weights, str(config.resume), None, bool(resume["transform_input"])
            )
        except CheckpointError as exc:
            raise TrainingError(f"cannot resume: {exc}") from None
        start = Start(
            str(resume["started_from"]),
            Preprocess.from_dict(resume["preprocess"]),
            bool(resume["transform_input"]),
        )
        return net, start
    variant = config.variant if config.weights in ("imagenet", "none") else None
    try:
        net, info = load_network(config.weights, variant)
    except (CheckpointError, WeightsUnavailableError, ValueError) as exc:
        raise TrainingError(f"cannot load the starting weights: {exc}") from None
    if info.class_names != class_names or net.num_classes != len(class_names):
        net.reset_classifier(len(class_names))
        # A zero head starts at uniform predictions (loss ln C) instead of the
        # large random logits of a std-0.1 init on 2048 features; BiT
        # (Kolesnikov et al., 2020) fine-tunes from a zero head for this reason.
        heads = [net.fc] + ([net.AuxLogits.fc] if net.AuxLogits is not None else [])
        for head in heads:
            torch.nn.init.zeros_(head.weight)
            torch.nn.init.zeros_(head.bias)
    return net, Start(info.display_name, info.preprocess, info.transform_input)


def validation_summary(
    results: dict[int, tuple[int, int, float]], report: DatasetReport
) -> ValidationSummary:
    """Loss, accuracy, confusion matrix, per-class accuracy and per-image rows of a validation."""
    if not results:
        return ValidationSummary()
    num_classes = len(report.class_names)
    confusion = [[0] * num_classes for _ in range(num_classes)]
    samples = []
    for position in sorted(results):
        true, predicted, loss = results[position]
        confusion[true][predicted] += 1
        samples.append((report.val_samples[position][0], true, predicted, loss))
    per_class = [row[i] / sum(row) if sum(row) else 0.0 for i, row in enumerate(confusion)]
    correct = sum(confusion[i][i] for i in range(num_classes))
    return ValidationSummary(
        val_loss=sum(s[3] for s in samples) / len(samples),
        val_accuracy=correct / len(samples),
        confusion=tuple(tuple(row) for row in confusion),
        per_class=tuple(per_class),
        samples=tuple(samples),
    )


class RunFiles:
    """The output folder of a run, and the writing of its checkpoints."""

    def __init__(
        self,
        out_dir: Path,
        config: TrainConfig,
        report: DatasetReport,
        preprocess: Preprocess,
        start: Start,
    ) -> None:
        self.out_dir = out_dir
        self.last, self.best, self.state = out_dir / LAST, out_dir / BEST, out_dir / STATE
        self.config, self.report, self.preprocess, self.start = config, report, preprocess, start

    def clear_leftovers(self, older_than_s: float = 60.0) -> list[Path]:
        """Remove the temporary files of writes a killed run never finished; return them.

        Only this module's own temporary names of the run's three files are
        touched, and only those nothing has written to for ``older_than_s``.
        """
        removed = []
        for target in (self.last, self.best, self.state):
            for pattern in (f".{target.name}.*.tmp", f".{target.name}.*.link"):
                for leftover in self.out_dir.glob(pattern):
                    try:
                        if time.time() - leftover.stat().st_mtime > older_than_s:
                            leftover.unlink()
                            removed.append(leftover)
                    except OSError:
                        pass  # gone already, or not ours to remove
        return removed

    def save(self, epoch: int, snap: RunSnapshot, is_best: bool) -> None:
        """Write last.safetensors, then (if best) best.safetensors, then the state file.

        Raises
        ------
        TrainingError
            A file cannot be written (a full disk): one line naming it and the reason.
        """
        weights = snap.weights()
        trains = set(snap.trainable)
        children = {name for name, _ in snap.network.named_children()}
        state = {
            "state_version": STATE_VERSION,
            "epoch": epoch,
            "model": {k: v for k, v in weights.items() if k.split(".")[0] in trains},
            "model_complete": children <= trains,
            "optimizer": snap.optimizer_state,
            "scheduler": snap.scheduler_state,
            "scaler": snap.scaler_state,
            "recipe": asdict(self.config),
            "class_names": list(self.report.class_names),
            "transform_input": self.start.transform_input,
            "preprocess": self.preprocess.to_dict(),
            "started_from": self.start.display_name,
            "history": [r.to_dict() for r in snap.history],
            "best": snap.best.to_dict() if snap.best is not None else None,
            "bad_epochs": snap.bad_epochs,
            "lowest_loss": snap.lowest_loss,
        }
        checkpoint = Checkpoint(
            state=weights,
            variant=snap.network.variant.value,
            class_names=self.report.class_names,
            preprocess=self.preprocess,
            transform_input=self.start.transform_input,
            training=self.summary(epoch, snap),
        )
        target = self.last
        try:
            save_checkpoint(checkpoint, self.last)
            if is_best:
                target = self.best
                _second_name(self.last, self.best)
            target = self.state
            atomic_write(self.state, lambda tmp: _save_state(state, tmp))
        except OSError as exc:  # a full disk, say: the run stops, the files written stay
            kept = (
                f"the last saved checkpoint, '{self.last}', is kept"
                if self.last.exists()
                else "no checkpoint was saved"
            )
            raise TrainingError(
                f"cannot write '{target}' ({exc.strerror or exc}), so the run stopped at epoch "
                f"{epoch}; {kept}"
            ) from None

    def summary(self, epoch: int, snap: RunSnapshot) -> dict[str, Any]:
        """The training summary stored in the checkpoint: JSON-ready, for people and the GUI."""
        c, latest, best = self.config, snap.history[-1], snap.best
        if snap.cached:
            augmentation = "none: centre crops, backbone features cached"
        else:
            parts = ["random resized crop" if c.random_resized_crop else "centre crop"]
            augmentation = " + ".join(parts + (["horizontal flip"] if c.hflip else []))
        return {
            "epoch": epoch,
            "epochs": c.epochs,
            "started_from": self.start.display_name,
            "data_dir": c.data_dir,
            "val_dir": c.val_dir,
            "train_images": len(self.report.train_samples),
            "val_images": len(self.report.val_samples),
            "train_from": c.train_from,
            "optimizer": c.optimizer,
            "lr": snap.lr,
            "schedule": c.schedule,
            "label_smoothing": c.label_smoothing,
            "aux_weight": c.aux_weight if snap.aux else 0.0,
            "grad_clip": c.grad_clip,
            "batch_size": c.batch_size,
            "processes": snap.processes,
            "input_size": c.input_size,
            "precision": snap.precision,
            "augmentation": augmentation,
            "train_loss": latest.train_loss,
            "train_accuracy": latest.train_accuracy,
            "val_loss": latest.val_loss,
            "val_accuracy": latest.val_accuracy,
            "best_epoch": best.epoch if best else None,
            "best_val_accuracy": best.validation.val_accuracy if best else None,
            "history": [r.to_dict() for r in snap.history],
        }


def _save_state(state: dict[str, Any], tmp: str) -> None:
    """``torch.save`` to ``tmp``; a failed write (a full disk) comes out as the OSError it is."""
    with open(tmp, "wb", buffering=0) as handle:  # unbuffered: the OSError reaches torch
        try:
            torch.save(state, handle)
        except RuntimeError as exc:  # torch's writer wraps it: "unexpected pos 704 vs 598"
            cause = exc.__context__
            if isinstance(cause, OSError):
                raise cause from None
            raise OSError(errno.EIO, f"the write failed ({exc})", tmp) from None


def _second_name(src: Path, dst: Path) -> None:
    """Make ``dst`` a hard link of ``src``, atomically; a copy where links are not possible."""
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.link")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
        os.replace(tmp, dst)
    except OSError:
        tmp.unlink(missing_ok=True)
        atomic_write(dst, lambda t: shutil.copyfile(src, t))
