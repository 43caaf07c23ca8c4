"""The training loop behind :func:`model.training.engine.train`: one object per run.

The passes that train nothing (validation, and the pooled-feature cache of
head-only training with ``cache_features``) live in :mod:`model.training.evaluate`;
its docstring explains what the cache saves and what it costs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from model.data.folders import (
    DatasetReport,
    ImageListDataset,
    Unreadable,
    collate_readable,
    train_transform,
)
from model.data.preprocess import Preprocess
from model.errors import PrecisionError, TrainingError
from model.inference.tuning import measure_inference, measure_training
from model.network.inception import pool_after_conv
from model.training.config import TrainConfig, TrainControl
from model.training.distributed import World, write_digest
from model.training.evaluate import (
    Cached,
    HeadOnly,
    batch_indices,
    cache_features,
    cached_logits,
    val_logits,
    validate,
)
from model.training.events import (
    BatchProgress,
    EpochEnd,
    ImageSkipped,
    TrainingDone,
    TrainingStarted,
)
from model.training.recipe import (
    autocast,
    fit_schedule,
    freeze,
    make_optimizer,
    make_scheduler,
    set_train_mode,
    step_options,
    training_precision,
)
from model.training.recipes import recipe_for
from model.training.records import BestEpoch, EpochRecord, Meter, RunSnapshot
from model.training.run_files import RunFiles, start_network, validation_summary

__all__ = ["Trainer"]


class Trainer:
    """Builds the network, optimizer and data for a run, and runs its epochs as events."""

    def __init__(
        self,
        config: TrainConfig,
        report: DatasetReport,
        device: torch.device,
        world: World,
        resume: dict[str, Any] | None,
    ) -> None:
        self.config, self.report, self.device, self.world = config, report, device, world
        try:
            self.precision = training_precision(config.precision, device)
        except PrecisionError as exc:  # a ValueError, raised before any weights are read
            raise TrainingError(str(exc)) from None
        torch.manual_seed(config.seed)  # the new classifier: the same on every process
        self.net, start = start_network(config, report.class_names, resume)
        # Crops, flips and dropout: a stream of each process's own (rank 0's is the
        # single-process run's), so that processes do not repeat each other's draws.
        torch.manual_seed(config.seed + world.rank)
        self.aux = config.use_aux and config.train_from in ("mixed_6", "all")
        self.aux = self.aux and self.net.AuxLogits is not None
        if not self.aux:
            self.net.drop_aux()  # never trained, so never saved
        self.trainable = freeze(self.net, config.train_from)
        pool_after_conv(self.net)  # the same function, less pooling work (model.network.blocks)
        self.cached = config.train_from == "head" and config.cache_features
        self.net.to(device, memory_format=torch.channels_last)
        self.precision_reason = "asked for"
        if config.precision == "auto":
            self._measure_precision()
        self.files = RunFiles(
            Path(config.out_dir).expanduser(),
            config,
            report,
            Preprocess.for_size(config.input_size, base=start.preprocess),
            start,
        )
        if world.is_main:  # train() holds the folder's lock: every temporary file is a dead run's
            self.files.clear_leftovers(older_than_s=0.0)
        self.lr = config.lr
        self.params = [p for p in self.net.parameters() if p.requires_grad]
        self.optimizer = make_optimizer(
            self._param_groups(), config.optimizer, self.lr, config.weight_decay
        )
        self.scheduler = make_scheduler(self.optimizer, config.schedule, config.epochs)
        self.scaler = torch.amp.GradScaler(device.type) if self.precision == "fp16" else None
        self.criterion = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
        self.model = self._wrap(HeadOnly(self.net) if self.cached else self.net)
        self.history: list[EpochRecord] = []
        self.best: BestEpoch | None = None  # the best epoch, with its validation
        self.start_epoch, self.bad_epochs, self.lowest_loss = 1, 0, math.inf
        if resume is not None:
            try:
                self._restore(resume)
            except (KeyError, TypeError, ValueError, IndexError, RuntimeError) as exc:
                raise TrainingError(  # its fields were checked at load: this is their contents
                    f"cannot resume: '{resume['state_path']}' holds an optimizer or schedule "
                    f"state that does not fit this run ({exc})"
                ) from None
        self.features: dict[str, Cached] = {}
        # Files that could not be read mid-run (path: reason), and the events not yet yielded.
        self.unreadable: dict[str, str] = {}
        self._unsaid: list[ImageSkipped] = []
        self.epoch = self.start_epoch
        # Seconds of work, paused time left out: of the last whole epoch, and of
        # the last training and validation passes (for the ETA of epoch 1).
        self.epoch_s = self.train_s = self.val_s = 0.0
        self.paused_s = 0.0

    def _measure_precision(self) -> None:
        """auto: time a training step (a prediction, for cached features) in each candidate.

        Every process measures; all take rank 0's choice, so that they train alike.
        """
        if self.cached:  # the backbone only predicts (its features are cached): time that
            self.net.eval()
            choice = measure_inference(self.net, self.device, self.config.input_size)
        else:
            self._train_mode()
            choice = measure_training(
                self.net,
                self.device,
                self.config.input_size,
                min(self.config.batch_size, 32),
                len(self.report.class_names),
            )
        chosen, reason = self.world.gather((choice.chosen, choice.reason))[0]
        self.precision, self.precision_reason = chosen, f"auto: {reason}"

    def _train_mode(self) -> None:
        c = self.config
        keep = c.keep_batchnorm_statistics and c.weights != "none"  # from scratch they must learn
        set_train_mode(self.net, self.trainable, keep_statistics=keep)

    def _param_groups(self) -> list[dict[str, Any]]:
        """The classifiers learn at ``lr``; pretrained layers that learn, at ``body_lr``.

        From scratch (or with no body rate) everything learns at ``lr``.
        """
        c = self.config
        if c.weights == "none" or c.body_lr is None or c.body_lr == c.lr:
            return [{"params": self.params}]
        heads = {id(p) for name, p in self.net.named_parameters() if _is_head(name)}
        head = [p for p in self.params if id(p) in heads]
        body = [p for p in self.params if id(p) not in heads]
        groups = [{"params": head}]
        if body:
            groups.append({"params": body, "lr": c.body_lr})
        return groups

    def _wrap(self, module: nn.Module) -> nn.Module:
        if not self.world.distributed:
            return module
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        # Running statistics are averaged once an epoch (World.average_buffers)
        # rather than broadcast from rank 0 before every forward pass.
        return DistributedDataParallel(module, device_ids=ids, broadcast_buffers=False)

    def _restore(self, state: dict[str, Any]) -> None:
        saved = dict(state["optimizer"])  # its groups bring their own update flags
        fast = step_options(self.config.optimizer, self.params)
        saved["param_groups"] = [{**group, **fast} for group in saved["param_groups"]]
        self.optimizer.load_state_dict(saved)
        self.scheduler.load_state_dict(state["scheduler"])
        fit_schedule(self.scheduler, self.config.epochs)  # more epochs than the saved run's
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.start_epoch = int(state["epoch"]) + 1
        self.history = [EpochRecord.from_dict(h) for h in state.get("history", [])]
        self.best = BestEpoch.from_dict(state.get("best"))
        self.bad_epochs = int(state.get("bad_epochs", 0))
        self.lowest_loss = float(state.get("lowest_loss", math.inf))

    # -- the run ---------------------------------------------------------------------------

    def run(self, control: TrainControl) -> Iterator[Any]:
        """Yield BatchProgress and EpochEnd events, then TrainingDone."""
        # Flat image regions through frozen BatchNorm layers make subnormal
        # floats, which x86 cores compute up to a hundred times slower (seen:
        # 2.3 s instead of 0.03 s a batch). Flushing them to zero changes no
        # result that matters. torch has no getter: restore the default after.
        yield TrainingStarted(
            str(self.device), self.precision, self.precision_reason, self.world.size
        )
        flushing = torch.set_flush_denormal(True)
        try:
            yield from self._epochs(control)
        finally:
            if flushing:
                torch.set_flush_denormal(False)

    def _epochs(self, control: TrainControl) -> Iterator[Any]:
        epochs, done, cancelled, stopped = self.config.epochs, 0, False, False
        last_epoch = self.start_epoch - 1
        if self._head_first_due() and not (yield from self._fit_head_first(control)):
            cancelled, epochs = True, last_epoch  # stopped while fitting: no epoch runs
        for epoch in range(self.start_epoch, epochs + 1):
            self.epoch = epoch
            if self.cached and not self.features and not (yield from self._cache(epoch, control)):
                cancelled = True
                break
            yield from self._said()
            began = self._clock()
            train = yield from self._train_epoch(epoch, control)
            val = None if train is None else (yield from self._validate(epoch, control))
            yield from self._said()
            if train is None or val is None:
                cancelled = True
                break
            end, stopped = self._finish_epoch(epoch, train, val, began)
            done, last_epoch = done + 1, epoch
            yield end
            if stopped:
                break
        write_digest(self.net, self.world.rank)
        yield self._done(done, last_epoch, cancelled, stopped)

    def _stop(self, control: TrainControl) -> bool:
        if control.paused:
            held = time.perf_counter()
            control.wait_while_paused()
            self.paused_s += time.perf_counter() - held
        return self.world.any(control.cancelled)

    def _clock(self) -> float:
        """Seconds of work: ``time.perf_counter()`` less the time spent paused."""
        return time.perf_counter() - self.paused_s

    def _indices(self, n: int, epoch: int, shuffle: bool) -> list[int]:
        return self.world.share(n, epoch, shuffle, self.config.seed)

    def _loader(self, samples, transform, batches: list[list[int]], fewest: int = 1):
        # Processes must step together, so only a single process skips what it cannot read.
        skip = not self.world.distributed
        loader = DataLoader(
            ImageListDataset(samples, transform, skip_unreadable=skip),
            batch_sampler=batches,
            num_workers=self.config.num_workers,
            collate_fn=collate_readable,
            pin_memory=self.device.type == "cuda",
        )
        return _ReadableBatches(loader, self._note, fewest)

    def _note(self, item: Unreadable) -> None:
        """A file that could not be read: counted, and said once."""
        if item.path not in self.unreadable:
            self.unreadable[item.path] = item.reason
            count = len(self.unreadable)
            self._unsaid.append(ImageSkipped(item.path, item.reason, self.epoch, count))

    def _said(self) -> Iterator[ImageSkipped]:
        while self._unsaid:
            yield self._unsaid.pop(0)

    def _progress(self, phase, epoch, started, batch, batches, meter: Meter) -> BatchProgress:
        elapsed = max(self._clock() - started, 1e-9)
        per_batch = elapsed / batch
        left = per_batch * (batches - batch) + (self.val_s if phase == "train" else 0.0)
        # Later epochs: the last whole epoch's time; in the first, an estimate from
        # the passes seen so far (the cache's epochs are about as short as its head's).
        if phase == "train":
            estimate = per_batch * batches + self.val_s
        elif phase == "val":
            estimate = self.train_s + per_batch * batches
        else:
            estimate = 0.0
        later = self.epoch_s or estimate
        return BatchProgress(
            epoch=epoch,
            epochs=self.config.epochs,
            batch=batch,
            batches=batches,
            loss=meter.loss,
            accuracy=meter.accuracy,
            images_per_s=meter.seen * self.world.size / elapsed,
            eta_s=left + later * (self.config.epochs - epoch),
            phase=phase,
        )

    # -- training --------------------------------------------------------------------------

    def _step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, int]:
        x = x.to(self.device, non_blocking=True)
        y = y.to(self.device, non_blocking=True)
        if x.ndim == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast(self.device, "fp32" if self.cached else self.precision):
            out = self.model(x)
        logits, aux = out if isinstance(out, tuple) else (out, None)
        loss = self.criterion(logits.float(), y)
        if aux is not None:
            loss = loss + self.config.aux_weight * self.criterion(aux.float(), y)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is None:
            loss.backward()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
        if self.config.grad_clip:
            nn.utils.clip_grad_norm_(self.params, self.config.grad_clip)
        if self.scaler is None:
            self.optimizer.step()
        else:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        # One device sync a step for both figures.
        hits = (logits.detach().argmax(1) == y).sum()
        loss_value, correct = torch.stack((loss.detach().float(), hits.float())).tolist()
        return loss_value, int(correct)

    def _train_batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if self.cached:
            features, labels, _ = self.features["train"]
            generator = torch.Generator().manual_seed(self.config.seed * 7919 + epoch)
            for _ in range(self.config.head_passes):  # cheap: the features are cached
                order = torch.randperm(len(labels), generator=generator).tolist()
                for batch in batch_indices(order, self.config.batch_size):
                    yield features[batch], labels[batch]
            return
        c = self.config
        transform = train_transform(
            self.files.preprocess, c.random_resized_crop, c.hflip, c.crop_scale
        )
        batches = batch_indices(
            self._indices(len(self.report.train_samples), epoch, True), c.batch_size
        )
        # BatchNorm in training needs two images: a batch that skipping left with one is skipped.
        for x, y, _ in self._loader(self.report.train_samples, transform, batches, fewest=2):
            yield x, y

    def _count_train_batches(self) -> int:
        if self.cached:
            n = len(self.features["train"][1])
            per_pass = len(batch_indices(list(range(n)), self.config.batch_size))
            return per_pass * self.config.head_passes
        n = len(self._indices(len(self.report.train_samples), 0, False))
        return len(batch_indices(list(range(n)), self.config.batch_size))

    def _train_epoch(self, epoch: int, control: TrainControl):
        self._train_mode()
        batches, meter, started = self._count_train_batches(), Meter(), self._clock()
        for batch, (x, y) in enumerate(self._train_batches(epoch), start=1):
            if self._stop(control):
                return None
            loss, correct = self._step(x, y)
            if not math.isfinite(loss):  # the weights are now damaged: keep the saved ones
                saved = f"; the last good checkpoint is {self.files.last}" if self.history else ""
                raise TrainingError(
                    f"the training loss became {loss} at epoch {epoch}, batch {batch}, so the run "
                    f"stopped{saved}; try a lower learning rate or gradient clipping"
                )
            meter.add(loss, correct, len(y))
            yield from self._said()
            yield self._progress("train", epoch, started, batch, batches, meter)
        self.train_s = self._clock() - started
        if self.config.train_from != "head":  # the statistics that learn; frozen ones stay
            for name, child in self.net.named_children():
                if name in self.trainable:
                    self.world.average_buffers(child)
        total = Meter(*self.world.sum([meter.loss_sum, meter.correct, meter.seen]))
        if not total.seen:  # every file is gone: the folder changed under the run
            kept = f"; the last saved checkpoint is {self.files.last}" if self.history else ""
            raise TrainingError(
                f"no training image of '{self.config.data_dir}' could be read in epoch {epoch}, "
                f"so the run stopped{kept}"
            )
        return total.loss, total.accuracy

    # -- features and validation -------------------------------------------------------------

    def _eval_batches(self, split: str) -> list[list[int]]:
        samples = self.report.train_samples if split == "train" else self.report.val_samples
        return batch_indices(self._indices(len(samples), 0, False), self.config.batch_size)

    def _cache(self, epoch: int, control: TrainControl):
        """Fill ``self.features`` in one pass of the frozen backbone; True when finished."""
        transform, report = self.files.preprocess.transform, self.report
        loaders = {
            split: self._loader(samples, transform, self._eval_batches(split))
            for split, samples in (("train", report.train_samples), ("val", report.val_samples))
        }
        stop = partial(self._stop, control)
        progress = partial(self._progress, "caching", epoch, self._clock())
        features = yield from cache_features(
            self.net, loaders, self.device, self.precision, stop, progress
        )
        if features is None:
            return False
        self.features = features
        return True

    def _head_first_due(self) -> bool:
        c = self.config
        fine_tuning = c.train_from != "head" and c.weights != "none"
        # A run resumed after its epoch 0 (the fitted head, saved) goes on with epoch 1.
        return fine_tuning and c.head_first > 0 and self.start_epoch == 1 and not self.history

    def _fit_head_first(self, control: TrainControl):
        """Fit the new classifier on the frozen network's features before any layer learns.

        A random classifier's large gradients reach the pretrained layers in the first steps
        and disturb features the data is too small to relearn; fitted first, the head is
        where head-only training would end, and fine-tuning goes on from there (linear
        probing, then fine-tuning: Kumar et al. 2022). Costs one pass of the frozen network
        over the training images (centre crops) and ``head_first`` passes of the head over
        their pooled features, with the head-only recipe's optimizer; the fitted head is then
        validated and saved as epoch 0. Under torchrun every process fits the same head on
        everyone's features and takes rank 0's weights. True when done; False when stopped.
        """
        started = self._clock()
        transform, report = self.files.preprocess.transform, self.report
        loaders = {
            "train": self._loader(report.train_samples, transform, self._eval_batches("train"))
        }
        if report.val_samples:  # the fitted head is judged, as epoch 0, on frozen features too
            loaders["val"] = self._loader(report.val_samples, transform, self._eval_batches("val"))
        cached = yield from cache_features(
            self.net,
            loaders,
            self.device,
            self.precision,
            partial(self._stop, control),
            partial(self._progress, "caching", 1, started),
        )
        if cached is None:
            return False
        features, labels, _ = cached["train"]
        if self.world.distributed:
            parts = self.world.gather((features.cpu(), labels.cpu()))
            features = torch.cat([f for f, _ in parts]).to(self.device)
            labels = torch.cat([y for _, y in parts]).to(self.device)
        if len(labels) == 0:
            return True  # nothing readable: the first epoch says so
        head_recipe = recipe_for("recommended", "head", "imagenet")
        fc = self.net.fc
        optimizer = make_optimizer(
            list(fc.parameters()), "adamw", head_recipe.lr, head_recipe.weight_decay
        )
        passes = self.config.head_first
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=passes)
        head = HeadOnly(self.net)
        set_train_mode(self.net, ())  # everything in eval mode but the head's dropout
        self.net.dropout.train()
        generator = torch.Generator().manual_seed(self.config.seed * 7919)
        began = self._clock()
        for done in range(1, passes + 1):
            if self._stop(control):
                return False
            meter = Meter()
            order = torch.randperm(len(labels), generator=generator).tolist()
            for batch in batch_indices(order, self.config.batch_size):
                logits = head(features[batch])
                loss = self.criterion(logits.float(), labels[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                hits = int((logits.detach().argmax(1) == labels[batch]).sum())
                meter.add(float(loss.detach()), hits, len(batch))
            schedule.step()
            yield self._progress("head", 1, began, done, passes, meter)
        fc.zero_grad(set_to_none=True)
        if self.world.distributed:  # the same fit everywhere; rank 0's weights make it exact
            state = self.world.broadcast({k: v.cpu() for k, v in fc.state_dict().items()})
            fc.load_state_dict(state)
        kept = yield from self._keep_fitted_head(meter, cached.get("val"), head_recipe.lr, control)
        return kept

    def _keep_fitted_head(self, meter: Meter, val: Cached | None, lr: float, control: TrainControl):
        """Validate the fitted head and save it as epoch 0; True when done, False when stopped.

        The head alone is what head-only training would give, and on a small set (a few dozen
        images a class) it can beat every epoch of fine-tuning: kept as epoch 0, it stays
        best.safetensors until an epoch of fine-tuning does better on the validation images.
        """
        if val is None:
            # Without validation images, "best" compares training losses, and fine-tuning's
            # (augmented, with the aux term) cannot be set against the head's: no epoch 0.
            return True
        began = self._clock()
        self.net.eval()
        size = self.config.batch_size
        batches = len(batch_indices(list(range(len(val[1]))), size))  # as cached_logits cuts
        outputs = cached_logits(self.net, val, size)
        progress = partial(self._progress, "val", 1, began)  # as the fit's: before epoch 1
        results = yield from validate(
            outputs, batches, self.world, partial(self._stop, control), progress
        )
        if results is None:
            return False
        if not results:  # every validation image unreadable: as without any
            return True
        end, _ = self._finish_epoch(0, (meter.loss, meter.accuracy), results, began, lr=lr)
        yield end
        return True

    def _validate(self, epoch: int, control: TrainControl):
        """Per-image results as {position: (true, predicted, loss)}; None when cancelled."""
        self.net.eval()
        batches = self._eval_batches("val")
        if self.cached:
            outputs = cached_logits(self.net, self.features["val"], self.config.batch_size)
        else:
            loader = self._loader(self.report.val_samples, self.files.preprocess.transform, batches)
            outputs = val_logits(self.net, loader, self.device, self.precision)
        started = self._clock()
        stop = partial(self._stop, control)
        progress = partial(self._progress, "val", epoch, started)
        results = yield from validate(outputs, len(batches), self.world, stop, progress)
        self.val_s = self._clock() - started
        return results

    # -- the end of an epoch and of the run ----------------------------------------------------

    def _finish_epoch(
        self,
        epoch: int,
        train: tuple[float, float],
        val: dict,
        began: float,
        lr: float | None = None,
    ) -> tuple[EpochEnd, bool]:
        """Record, judge and save an epoch; epoch 0 (the head fitted first) brings its own lr."""
        if epoch > 0:
            lr = float(self.optimizer.param_groups[0]["lr"])
            self.scheduler.step()
        summary = validation_summary(val, self.report)
        record = EpochRecord(epoch, train[0], train[1], summary.val_loss, summary.val_accuracy, lr)
        self.history.append(record)
        is_best = self.best is None or self.best.beaten_by(record)
        if is_best:
            self.best = BestEpoch(epoch, train[0], summary)
        watched = record.watched_loss
        self.bad_epochs = 0 if watched < self.lowest_loss else self.bad_epochs + 1
        self.lowest_loss = min(self.lowest_loss, watched)
        patience = self.config.early_stopping_patience
        stopped = patience is not None and self.bad_epochs >= patience
        if self.world.is_main:
            self.files.save(epoch, self._snapshot(), is_best)
        if epoch > 0:  # the ETA's unit: a whole epoch, the checkpoint's writing included
            self.epoch_s = self._clock() - began
        eta = self.epoch_s * (self.config.epochs - epoch) if not stopped else 0.0
        end = EpochEnd(
            epoch=epoch,
            epochs=self.config.epochs,
            train_loss=train[0],
            train_accuracy=train[1],
            val_loss=record.val_loss,
            val_accuracy=record.val_accuracy,
            lr=lr,
            checkpoint=str(self.files.last),
            best_checkpoint=str(self.files.best),
            is_best=is_best,
            eta_s=eta,
        )
        return end, stopped

    def _snapshot(self) -> RunSnapshot:
        return RunSnapshot(
            network=self.net,
            trainable=tuple(self.trainable),
            optimizer_state=self.optimizer.state_dict(),
            scheduler_state=self.scheduler.state_dict(),
            scaler_state=self.scaler.state_dict() if self.scaler is not None else {},
            lr=self.lr,
            precision=self.precision,
            cached=self.cached,
            aux=self.aux,
            processes=self.world.size,
            history=tuple(self.history),
            best=self.best,
            bad_epochs=self.bad_epochs,
            lowest_loss=self.lowest_loss,
        )

    def _done(self, done: int, last_epoch: int, cancelled: bool, stopped: bool) -> TrainingDone:
        best = self.best.validation if self.best is not None else None
        finished = bool(self.history) or last_epoch > 0  # a resumed state may lack a history
        saved = finished and (self.files.last.exists() or not self.world.is_main)
        return TrainingDone(
            out_dir=str(self.files.out_dir),
            last_checkpoint=str(self.files.last) if saved else None,
            best_checkpoint=str(self.files.best) if saved else None,
            epochs_run=done,
            cancelled=cancelled,
            stopped_early=stopped,
            class_names=self.report.class_names,
            confusion_matrix=best.confusion if best else (),
            per_class_accuracy=best.per_class if best else (),
            val_samples=best.samples if best else (),
            last_epoch=last_epoch,
            unreadable=tuple(self.unreadable.items()),
        )


def _is_head(name: str) -> bool:
    """Whether a parameter belongs to a classifier: the main head or the aux head's last layer."""
    return name.startswith("fc.") or name.startswith("AuxLogits.fc.")


class _ReadableBatches:
    """A loader's batches without the files it could not read, which go to ``note``.

    A batch that lost files and kept fewer than ``fewest`` is left out whole.
    """

    def __init__(self, loader: DataLoader, note: Callable[[Unreadable], None], fewest: int) -> None:
        self.loader, self.note, self.fewest = loader, note, fewest

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        for x, y, positions, unreadable in self.loader:
            for item in unreadable:
                self.note(item)
            if x is not None and (len(y) >= self.fewest or not unreadable):
                yield x, y, positions
