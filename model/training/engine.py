"""Fine-tuning on a local folder: the configuration, the events, and the engine's front door.

``train(config)`` is a plain generator. It checks the dataset, builds the
network from the starting weights, and trains, yielding small frozen
dataclasses of plain data (safe to pass between threads) as it goes::

    from model.training.engine import TrainConfig, train

    for event in train(TrainConfig("photos/", "runs/photos", epochs=5)):
        print(event)

Between batches it honours a :class:`TrainControl` (pause, resume, cancel)
that another thread may flip. After each epoch, rank 0 writes
``last.safetensors`` (the project's checkpoint: the Classify tab loads it with
the person's class names) and ``last.state.pt`` (weights, optimizer, scheduler
and history, to resume), and copies the best epoch by validation accuracy to
``best.safetensors``. Every write is atomic, so killing the process at any
moment leaves the last good checkpoint.

Under ``torchrun --nproc-per-node N`` the same call trains with
DistributedDataParallel (see :mod:`model.training.distributed`). For checking that the
replicas agree, setting ``INCEPTION_GUI_DIGEST_DIR`` makes every process write
``rank<N>.sha256``, a digest of its final weights, into that folder.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from model.data.folders import DatasetReport, check_dataset
from model.data.preprocess import Preprocess
from model.device import resolve_device
from model.errors import DeviceError, TrainingError
from model.files import file_problem
from model.training.config import RECIPE_FIELDS, TrainConfig, TrainControl, format_duration
from model.training.distributed import join_world
from model.training.events import (
    BatchProgress,
    DatasetChecked,
    EpochEnd,
    ImageSkipped,
    TrainEvent,
    TrainingDone,
)
from model.training.recipe import detect_precision
from model.training.records import BestEpoch, EpochRecord
from model.training.run_folder import LAST, holds_run
from model.training.run_lock import RunFolderBusy, RunLock
from model.training.trainer import Trainer
from model.weights.loading import refused_pickle

__all__ = [
    "BatchProgress",
    "DatasetChecked",
    "EpochEnd",
    "ImageSkipped",
    "TrainConfig",
    "TrainControl",
    "TrainEvent",
    "TrainingDone",
    "TrainingError",
    "detect_precision",
    "format_duration",
    "holds_run",
    "train",
]


def _state_path(resume: str) -> Path:
    path = Path(resume).expanduser()
    if os.path.isdir(path):  # False, not PermissionError, for a folder that cannot be entered
        path = path / LAST
    return path.with_name(path.name.removesuffix(".safetensors") + ".state.pt")


def load_resume_state(resume: str) -> dict[str, Any]:
    """Read the state saved beside a ``last.safetensors`` (or in a run folder).

    Raises
    ------
    TrainingError
        There is no state file, or it cannot be read.
    """
    path = _state_path(resume)
    problem = file_problem(path, "a training state file")
    if problem == "no such file":  # only then: a folder that cannot be entered is not "missing"
        raise TrainingError(
            f"cannot resume from '{resume}': '{path.name}' (the optimizer state) is not in "
            f"'{path.parent}'; to start a new run from those weights, use them as the weights"
        )
    if problem is not None:  # before any open: a FIFO would block it for good
        raise TrainingError(f"cannot resume: '{path}' {problem}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        # Never torch's own message, which advises weights_only=False: it would run the file.
        detail = "not a readable pickle" if "weights_only" in str(exc) else str(exc)
        reason = refused_pickle(exc) or f"is not readable ({detail})"
        raise TrainingError(f"cannot resume: '{path}' {reason}") from None
    if not isinstance(state, dict) or "model" not in state or "recipe" not in state:
        raise TrainingError(f"cannot resume: '{path}' is not a training state file")
    damage = _state_damage(state)
    if damage is not None:
        raise TrainingError(f"cannot resume: '{path}' is damaged: {damage}")
    state["checkpoint_path"] = str(path.with_name(LAST))
    state["state_path"] = str(path)
    return state


# What resuming reads from a state file, and the type each field must have: a damaged or
# doctored file is refused by field here, not deep in the run ("cannot convert float NaN
# to integer"). The fields that may be missing, from older runs, have defaults.
_STATE_FIELDS: dict[str, Any] = {
    "epoch": int,
    "model": dict,
    "recipe": dict,
    "class_names": list,
    "transform_input": bool,
    "preprocess": dict,
    "started_from": str,
    "optimizer": dict,
    "scheduler": dict,
}
_OPTIONAL_STATE_FIELDS: dict[str, Any] = {
    "history": list,
    "best": (dict, type(None)),
    "bad_epochs": int,
    "lowest_loss": (int, float),
    "scaler": dict,
    "model_complete": bool,
}


def _state_damage(state: dict[str, Any]) -> str | None:
    """What is wrong with a state file's fields, naming the field; None when nothing is."""
    for key, kind in (_STATE_FIELDS | _OPTIONAL_STATE_FIELDS).items():
        if key not in state:
            if key in _STATE_FIELDS:
                return f"the field '{key}' is missing"
            continue
        value = state[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            shown = (
                repr(value)[:40] if isinstance(value, int | float | str) else type(value).__name__
            )
            return f"'{key}' must be {_kind_name(kind)}, not {shown}"
    if state["epoch"] < 0 or state.get("bad_epochs", 0) < 0:
        return "'epoch' and 'bad_epochs' must not be negative"
    if math.isnan(state.get("lowest_loss", 0.0)):
        return "'lowest_loss' is NaN"
    if not all(isinstance(n, str) for n in state["class_names"]) or not state["class_names"]:
        return "'class_names' must be a non-empty list of names"
    if not all(isinstance(v, torch.Tensor) for v in state["model"].values()):
        return "'model' must hold tensors only"
    records = (
        ("history", lambda h: [EpochRecord.from_dict(r) for r in h]),
        ("best", BestEpoch.from_dict),
        ("preprocess", Preprocess.from_dict),
    )
    for key, read in records:
        try:
            read(state.get(key))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            return f"'{key}' cannot be read ({exc})"
    return None


def _kind_name(kind: Any) -> str:
    names = {int: "a whole number", float: "a number", bool: "true or false", str: "a name"}
    names |= {dict: "a mapping", list: "a list", type(None): "nothing"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names[k] for k in kinds if not (k is int and float in kinds))


def _with_saved_recipe(config: TrainConfig, state: dict[str, Any]) -> TrainConfig:
    """The saved run's recipe, and its total of epochs unless ``config`` sets a new one."""
    recipe = state["recipe"]
    try:
        config = replace(config, **{k: recipe[k] for k in RECIPE_FIELDS if k in recipe})
        if config.epochs is None:
            config = replace(config, epochs=int(recipe.get("epochs") or 0) or None)
    except (TypeError, ValueError) as exc:  # TrainConfig's checks name the field
        raise TrainingError(
            f"cannot resume: '{state['state_path']}' is damaged: its 'recipe' cannot be used "
            f"({exc})"
        ) from None
    done = state["epoch"]
    if config.epochs is None or done >= config.epochs:
        raise TrainingError(
            f"the run in '{Path(state['checkpoint_path']).parent}' has already trained "
            f"{done} epoch(s); to go on, ask for more epochs in all (more than {done})"
        )
    return config


def train(
    config: TrainConfig,
    control: TrainControl | None = None,
    report: DatasetReport | None = None,
) -> Iterator[TrainEvent]:
    """Fine-tune Inception v3 on a class-per-folder dataset, yielding progress events.

    Parameters
    ----------
    config : TrainConfig
        The run.
    control : TrainControl, optional
        Pause, resume and cancel from another thread.
    report : DatasetReport, optional
        A dataset check already made (the Train tab's): used when it was made
        for this config's folders, split and seed, so that every image is not
        decoded twice and the split trained on is the one the person saw.

    Yields
    ------
    DatasetChecked
        First, always.
    BatchProgress, EpochEnd
        While training.
    ImageSkipped
        Once for each file that cannot be read any more (deleted or replaced
        mid-run): it is left out, and the run goes on.
    TrainingDone
        Last, also after a cancel.

    Raises
    ------
    TrainingError
        After ``DatasetChecked`` when the dataset has errors; before it when
        the state to resume from cannot be read; or when the weights or the
        device cannot be used.
    """
    control = control or TrainControl()
    resume = load_resume_state(config.resume) if config.resume else None
    lock = _lock_run_folder(config.out_dir)  # before the check, so no run starts between
    try:
        if resume is None and holds_run(config.out_dir):
            # A new run's first epoch is always its best: it would replace that run's files.
            raise TrainingError(
                f"'{Path(config.out_dir).expanduser()}' already holds a training run ({LAST}): "
                "choose another folder, or resume that run"
            )
        yield from _train_locked(config, control, report, resume)
    finally:
        if lock is not None:
            lock.release()


def _lock_run_folder(out_dir: str) -> RunLock | None:
    """The run folder's lock, taken by the process that writes it (rank 0); None on others."""
    if int(os.environ.get("RANK", "0")) != 0:
        return None
    try:
        return RunLock.acquire(out_dir)
    except RunFolderBusy as exc:
        raise TrainingError(str(exc)) from None
    except OSError as exc:
        raise TrainingError(
            f"cannot write to the run folder '{Path(out_dir).expanduser()}' ({exc.strerror or exc})"
        ) from None


def _train_locked(
    config: TrainConfig,
    control: TrainControl,
    report: DatasetReport | None,
    resume: dict[str, Any] | None,
) -> Iterator[TrainEvent]:
    """The run itself, once its folder is locked (see :func:`train`)."""
    if resume is not None:
        config = _with_saved_recipe(config, resume)
    try:
        device = resolve_device(config.device)
    except DeviceError as exc:
        raise TrainingError(str(exc)) from None
    world = join_world(device)
    try:
        if world.distributed or not _made_for(report, config):
            report = None
            if world.is_main:
                report = check_dataset(
                    config.data_dir, config.val_dir, config.val_fraction, config.seed
                )
            report = world.broadcast(report)
        yield DatasetChecked(report)
        if not report.ok:
            raise TrainingError("; ".join(report.errors))
        trainer = Trainer(config, report, world.device(device), world, resume)
        yield from trainer.run(control)
    finally:
        world.leave()


def _made_for(report: DatasetReport | None, config: TrainConfig) -> bool:
    """Whether ``report`` checked the folders and split that ``config`` trains on."""
    if report is None:
        return False
    val_dir = None if config.val_dir is None else str(config.val_dir)
    return (report.train_dir, report.val_dir, report.val_fraction, report.seed) == (
        str(config.data_dir),
        val_dir,
        config.val_fraction,
        config.seed,
    )
