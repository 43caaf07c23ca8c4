"""The training engine: the dataset check, learning, pause/cancel, resume, crash safety, the CLI.

The data are Pillow-drawn solid colours at 75 px. The head-only runs start
from a random network whose BatchNorm statistics were measured on noise (a
real checkpoint on disk), so that its frozen features are finite and stable.
"""

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from PIL import Image

from model import load_network
from model.data.folders import check_dataset
from model.training.engine import (
    BatchProgress,
    DatasetChecked,
    EpochEnd,
    TrainConfig,
    TrainControl,
    TrainingDone,
    TrainingError,
    detect_precision,
    train,
)
from model.training.evaluate import batch_indices
from model.training.recipe import make_optimizer


@pytest.fixture(scope="module")
def colours(tmp_path_factory, make_dataset) -> Path:
    """Blue, green and red: eight pictures each, of different sizes and formats."""
    return make_dataset(tmp_path_factory.mktemp("colours"))


@pytest.fixture(scope="module")
def backbone(tmp_path_factory, calibrate_batchnorm) -> Path:
    """A random v3 whose BatchNorm statistics were measured, saved as a project checkpoint."""
    from model import Checkpoint, Preprocess, build_network, save_checkpoint

    torch.manual_seed(0)
    net = build_network("v3", num_classes=3)
    calibrate_batchnorm(net, torch.rand(16, 3, 75, 75) * 4 - 2)
    path = tmp_path_factory.mktemp("backbone") / "backbone.safetensors"
    ckpt = Checkpoint(net.state_dict(), "v3", ("a", "b", "c"), Preprocess.for_size(75))
    save_checkpoint(ckpt, path)
    return path


def head_config(data: Path, out: Path, backbone: Path, **changes) -> TrainConfig:
    options = dict(
        preset="paper",  # these tests pin the engine's behaviour under the paper's recipe
        weights=str(backbone),
        train_from="head",
        input_size=75,
        batch_size=4,
        epochs=10,
        val_fraction=0.25,
        lr=1e-5,  # the random backbone's features are large (~100)
    )
    options.update(changes)
    return TrainConfig(str(data), str(out), **options)


def run(config, control=None) -> list:
    return list(train(config, control))


def of(events, kind) -> list:
    return [e for e in events if isinstance(e, kind)]


@pytest.mark.parametrize("n, size", [(9, 4), (5, 4), (33, 32), (8, 4), (7, 2), (1, 4), (0, 4)])
def test_batches_hold_every_index_once_and_none_alone(n, size):
    batches = batch_indices(list(range(n)), size)
    assert [i for batch in batches for i in batch] == list(range(n))  # in order, none lost
    assert all(2 <= len(batch) <= size + 1 for batch in batches) or n < 2
    assert len(batches) == (max(1, n // size) if n % size == 1 else -(-n // size))


def test_dataset_check_reports_unreadable_files_and_leaves_them(tmp_path, make_dataset):
    data = make_dataset(tmp_path / "d", per_class=4)
    bad = data / "red" / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (data / "red" / "empty.png").write_bytes(b"")
    report = check_dataset(data, val_fraction=0.25)
    assert report.ok, report.errors
    assert report.class_names == ("blue", "green", "red")
    assert sorted(Path(p).name for p, _ in report.unreadable) == ["broken.jpg", "empty.png"]
    assert all(reason for _, reason in report.unreadable)
    assert report.train_counts == {"blue": 3, "green": 3, "red": 3}
    assert report.val_counts == {"blue": 1, "green": 1, "red": 1}
    assert any("could not be read" in w for w in report.warnings)
    assert bad.exists()  # reported, never touched
    assert check_dataset(data, val_fraction=0.25).val_samples == report.val_samples  # fixed seed


def test_unreadable_images_are_skipped_in_training(tmp_path, backbone, make_dataset):
    data = make_dataset(tmp_path / "d", per_class=4)
    (data / "blue" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    events = run(head_config(data, tmp_path / "out", backbone, epochs=1))
    report = events[0].report
    assert [Path(p).name for p, _ in report.unreadable] == ["broken.png"]
    assert all("broken" not in p for p, _ in report.train_samples + report.val_samples)
    assert of(events, TrainingDone)[0].epochs_run == 1


def test_imbalance_and_too_few_images(tmp_path, make_dataset):
    data = make_dataset(tmp_path / "d", per_class=9)
    for i in range(1, 9):
        next((data / "red").glob(f"{i}.*")).unlink()
    report = check_dataset(data)
    assert not report.ok
    assert any("'red' has 1 readable image" in e for e in report.errors)
    for i in range(1, 3):
        Image.new("RGB", (40, 40), (200, 0, 0)).save(data / "red" / f"extra{i}.png")
    report = check_dataset(data)
    assert report.ok and any("imbalanced" in w for w in report.warnings)


def test_no_validation_images_is_an_error_or_a_warning(tmp_path, make_dataset):
    data = make_dataset(tmp_path / "d", per_class=4)
    for name in ("blue", "green", "red"):
        (tmp_path / "val" / name).mkdir(parents=True)  # the classes, but no pictures
    report = check_dataset(data, tmp_path / "val")
    assert not report.ok and any("has no readable images" in e for e in report.errors)
    report = check_dataset(data, val_fraction=0.0)  # asked for: allowed, and said
    assert report.ok and any("no validation images" in w for w in report.warnings)


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("empty", "no class sub-folders"),
        ("single", "only one class ('cats')"),
        ("missing", "does not exist"),
        ("no_images", "no readable images"),
    ],
)
def test_bad_folders_are_clear_errors(tmp_path, layout, message, make_dataset):
    root = tmp_path / "data"
    if layout != "missing":
        root.mkdir()
    if layout == "single":
        make_dataset(root, per_class=3, colours={"cats": (1, 2, 3)})
    if layout == "no_images":
        for name in ("a", "b"):
            (root / name).mkdir()
            (root / name / "notes.txt").write_text("no images here")
    report = check_dataset(root)
    assert not report.ok and any(message in e for e in report.errors), report.errors
    events = []
    with pytest.raises(TrainingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config = TrainConfig(str(root), str(tmp_path / "out"), weights="none", train_from="all")
        for event in train(config):
            events.append(event)
    assert len(events) == 1 and isinstance(events[0], DatasetChecked)  # raised before training
    assert not (tmp_path / "out").exists()


def test_loss_falls_and_accuracy_beats_chance(colours, backbone, tmp_path):
    events, modes = [], set()
    for event in train(head_config(colours, tmp_path / "out", backbone, epochs=10)):
        events.append(event)  # the caller's grad mode, as each event reaches it
        modes.add((torch.is_grad_enabled(), torch.is_inference_mode_enabled()))
    assert modes == {(True, False)}
    ends = of(events, EpochEnd)
    assert [e.epoch for e in ends] == list(range(1, 11))
    assert ends[-1].val_loss < 0.8 * ends[0].val_loss
    assert min(e.train_loss for e in ends[-3:]) < ends[0].train_loss
    assert ends[-1].val_accuracy >= 2 / 3 and ends[-1].train_accuracy > 0.5  # chance: 1/3
    phases = {e.phase for e in of(events, BatchProgress)}
    assert phases == {"caching", "train", "val"}
    done = of(events, TrainingDone)[0]
    assert not done.cancelled and done.epochs_run == 10
    assert done.class_names == ("blue", "green", "red")
    assert sum(map(sum, done.confusion_matrix)) == len(done.val_samples) == 6
    assert all(t == p for _, t, p, _ in done.val_samples) == (min(done.per_class_accuracy) == 1)
    net, info = load_network(done.best_checkpoint)
    assert info.class_names == ("blue", "green", "red") and info.preprocess.crop_size == 75
    assert info.training["train_from"] == "head" and info.training["epoch"] >= 1
    assert info.training["best_val_accuracy"] == max(e.val_accuracy for e in ends)
    assert net.AuxLogits is None  # never trained, so never saved


def test_cancel_stops_within_one_batch(colours, tmp_path):
    control = TrainControl()
    config = TrainConfig(
        str(colours), str(tmp_path / "out"), weights="none", train_from="all", input_size=75,
        batch_size=2, epochs=3, precision="fp32",
    )  # fmt: skip
    events, first = [], None
    for event in train(config, control):
        events.append(event)
        if isinstance(event, BatchProgress) and first is None:
            first = event
            control.cancel()
    after = events[events.index(first) + 1 :]
    assert not of(after, BatchProgress) and not of(after, EpochEnd)
    done = of(events, TrainingDone)[0]
    assert done.cancelled and done.epochs_run == 0 and done.last_checkpoint is None
    assert not (tmp_path / "out" / "last.safetensors").exists()


def test_pause_holds_until_resume(colours, backbone, tmp_path):
    control, events = TrainControl(), []

    def consume():  # in one thread, as the app's worker does
        for event in train(head_config(colours, tmp_path / "out", backbone, epochs=1), control):
            events.append(event)
            if isinstance(event, BatchProgress) and not control.paused and len(events) < 4:
                control.pause()  # after the first batch

    worker = threading.Thread(target=consume)
    worker.start()
    deadline = time.monotonic() + 60
    while not control.paused and time.monotonic() < deadline:
        time.sleep(0.01)
    held = len(events)
    time.sleep(1.5)
    assert worker.is_alive() and len(events) == held  # held between batches
    control.resume()
    worker.join(60)
    assert not worker.is_alive() and isinstance(events[-1], TrainingDone)
    first, after = of(events, BatchProgress)[:2]
    # The 1.5 s held is not work: the rate and the ETA leave it out (a batch takes ~0.05 s).
    assert after.images_per_s > first.images_per_s / 2
    assert after.eta_s < 1.0


def test_resume_continues_epochs_and_optimizer(colours, backbone, tmp_path):
    out = tmp_path / "out"
    run(head_config(colours, out, backbone, epochs=2, optimizer="adamw"))
    state = torch.load(out / "last.state.pt", weights_only=True)
    assert state["epoch"] == 2 and state["optimizer"]["state"]  # AdamW moments saved
    steps = state["optimizer"]["state"][0]["step"].item()
    # As a state saved before the fast updates existed: no fused/foreach flags.
    for group in state["optimizer"]["param_groups"]:
        group.pop("fused"), group.pop("foreach")
    torch.save(state, out / "last.state.pt")
    resumed = head_config(colours, out, backbone, epochs=4, resume=str(out), optimizer="sgd")
    events = run(resumed)
    assert [e.epoch for e in of(events, EpochEnd)] == [3, 4]
    state = torch.load(out / "last.state.pt", weights_only=True)
    assert state["recipe"]["optimizer"] == "adamw"  # the saved recipe wins
    assert state["optimizer"]["state"][0]["step"].item() == 2 * steps  # moments carried on
    assert state["optimizer"]["param_groups"][0]["fused"] is True  # the fast update, resumed
    assert [h["epoch"] for h in state["history"]] == [1, 2, 3, 4]
    done = of(events, TrainingDone)[0]
    assert done.epochs_run == 2 and done.last_epoch == 4
    assert load_network(out / "last.safetensors")[1].training["epoch"] == 4


def test_the_head_fitted_first_is_epoch_zero_and_a_resume_goes_on_from_it(
    colours, backbone, tmp_path
):
    """Fine-tuning fits the new head first and saves it, validated, as epoch 0 (best so far).

    Stopped there, the run keeps that checkpoint; resumed, it goes on with epoch 1 from the
    fitted head instead of fitting it again.
    """
    out, control = tmp_path / "out", TrainControl()
    config = head_config(colours, out, backbone, train_from="mixed_7", head_first=3, epochs=2)
    events = []
    for event in train(config, control):
        events.append(event)
        if isinstance(event, EpochEnd):
            control.cancel()
    fitting = [e for e in events if getattr(e, "phase", None) == "head"]
    (zero,) = of(events, EpochEnd)
    assert len(fitting) == 3 and zero.epoch == 0 and zero.is_best
    assert zero.val_accuracy is not None and zero.lr == 3e-3  # the head recipe's rate
    done = of(events, TrainingDone)[0]
    assert done.cancelled and done.epochs_run == 0 and done.last_epoch == 0
    assert done.best_checkpoint == str(out / "best.safetensors")
    fitted, info = load_network(out / "best.safetensors")
    start, _ = load_network(backbone)
    assert info.training["best_epoch"] == 0 and info.training["epoch"] == 0
    assert torch.equal(fitted.Mixed_7c.branch1x1.conv.weight, start.Mixed_7c.branch1x1.conv.weight)
    events = run(replace(config, resume=str(out)))
    assert not [e for e in events if getattr(e, "phase", None) == "head"]  # not fitted again
    assert [e.epoch for e in of(events, EpochEnd)] == [1, 2]
    state = torch.load(out / "last.state.pt", weights_only=True)
    assert [h["epoch"] for h in state["history"]] == [0, 1, 2]
    # Without validation images "best" would set the head's training loss against
    # fine-tuning's (augmented, perhaps with the aux term): the head is fitted, not kept.
    alone = replace(config, out_dir=str(tmp_path / "alone"), val_fraction=0.0)
    events = run(alone)
    assert len([e for e in events if getattr(e, "phase", None) == "head"]) == 3
    assert [e.epoch for e in of(events, EpochEnd)] == [1, 2]


def test_resume_keeps_the_saved_total_and_fits_a_cosine_to_a_new_one(colours, backbone, tmp_path):
    out, control = tmp_path / "out", TrainControl()
    first = head_config(colours, out, backbone, epochs=4, schedule="cosine")
    for event in train(first, control):
        if isinstance(event, EpochEnd) and event.epoch == 2:
            control.cancel()  # stopped half way: 2 of 4 epochs
    again = head_config(colours, out, backbone, epochs=None, resume=str(out))
    assert [e.epoch for e in of(run(again), EpochEnd)] == [3, 4]  # the saved total, not 10
    with pytest.raises(TrainingError, match="already trained 4 epoch"):
        run(again)
    more = run(head_config(colours, out, backbone, epochs=8, resume=str(out)))
    assert [e.epoch for e in of(more, EpochEnd)] == [5, 6, 7, 8]
    history = torch.load(out / "last.state.pt", weights_only=True)["history"]
    lrs = [h["lr"] / history[0]["lr"] for h in history]
    cosine = [(1 + math.cos(math.pi * t / 4)) / 2 for t in range(4)]
    cosine += [(1 + math.cos(math.pi * t / 8)) / 2 for t in range(4, 8)]
    # One curve over the new total from where the run was, not torch's periodic
    # restart (0, 0.15, 0.5, 0.85 after a T_max of 4).
    assert lrs == pytest.approx(cosine, abs=1e-6)


def test_a_run_killed_between_its_writes_resumes_from_the_epoch_before(
    colours, backbone, tmp_path, monkeypatch
):
    import model.training.run_files as run_files

    out, real_write, writes = tmp_path / "out", run_files.atomic_write, []

    def killed_at_second_state(path, write):  # epoch 2's weights are written, then the kill
        writes.append(Path(path).name)
        if writes.count("last.state.pt") == 2:
            raise KeyboardInterrupt
        real_write(path, write)

    monkeypatch.setattr(run_files, "atomic_write", killed_at_second_state)
    with pytest.raises(KeyboardInterrupt):
        run(head_config(colours, out, backbone, epochs=3, train_from="mixed_7"))
    monkeypatch.undo()
    assert load_network(out / "last.safetensors")[1].training["epoch"] == 2
    assert torch.load(out / "last.state.pt", weights_only=True)["epoch"] == 1
    stale, fresh = out / ".last.state.pt.x1.tmp", out / ".last.safetensors.x2.tmp"
    theirs = out / "notes.tmp"
    for leftover in (stale, fresh, theirs):
        leftover.write_bytes(b"half a file")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    os.utime(theirs, (time.time() - 3600, time.time() - 3600))
    events = run(head_config(colours, out, backbone, epochs=3, resume=str(out)))
    assert [e.epoch for e in of(events, EpochEnd)] == [2, 3]  # epoch 1's state, then on
    # The resumed run holds the folder's lock, so even a fresh temporary file is a dead run's.
    assert not stale.exists() and not fresh.exists() and theirs.exists()


def test_a_step_is_the_papers_loss_and_clips_the_gradient():
    """One engine step on a stand-in network: smoothed main loss + 0.4 x aux loss, clipped."""
    from torch import nn

    from model.training.trainer import Trainer

    class TwoHeads(nn.Module):  # a (logits, aux) pair as Inception3 gives in training
        def __init__(self):
            super().__init__()
            self.main, self.aux = nn.Linear(6, 3), nn.Linear(6, 3)

        def forward(self, x):
            return self.main(x), self.aux(x)

    torch.manual_seed(0)
    net = TwoHeads()
    start = [p.detach().clone() for p in net.parameters()]
    x, y = torch.randn(8, 6) * 50, torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    step = Trainer.__new__(Trainer)  # only what _step reads
    step.config = TrainConfig("a", "b", aux_weight=0.4, grad_clip=2.0, label_smoothing=0.1)
    step.device, step.cached, step.precision, step.scaler = torch.device("cpu"), False, "fp32", None
    step.model, step.params = net, list(net.parameters())
    step.criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    step.optimizer = torch.optim.SGD(step.params, lr=1.0)
    with torch.no_grad():
        main, aux = net(x)  # before the step moves the weights
    loss, correct = step._step(x, y)

    smoothed = nn.functional.cross_entropy
    expected = smoothed(main, y, label_smoothing=0.1) + 0.4 * smoothed(aux, y, label_smoothing=0.1)
    assert loss == pytest.approx(expected.item(), rel=1e-6)
    assert expected.item() != pytest.approx(  # the smoothing and the weight both count
        (smoothed(main, y) + smoothed(aux, y)).item(), rel=1e-3
    )
    assert correct == int((main.argmax(1) == y).sum())
    # SGD at lr 1 moves each parameter by its gradient: the whole move is the clipped norm.
    moved = torch.cat([(s - p.detach()).flatten() for s, p in zip(start, net.parameters())])
    assert moved.norm().item() == pytest.approx(2.0, rel=1e-4)


@pytest.mark.parametrize("name", ["rmsprop", "adamw", "sgd"])
def test_fast_optimizer_updates_equal_the_plain_ones(name):
    torch.manual_seed(0)
    fast_params = [torch.nn.Parameter(torch.randn(s)) for s in [(64, 32, 3, 3), (64,), (10, 64)]]
    plain_params = [torch.nn.Parameter(p.detach().clone()) for p in fast_params]
    fast = make_optimizer(fast_params, name, 0.01, 1e-4)
    options = {"rmsprop": {"foreach": True}, "adamw": {"fused": True}, "sgd": {"foreach": True}}
    assert all(fast.param_groups[0][k] is v for k, v in options[name].items())
    plain = make_optimizer(plain_params, name, 0.01, 1e-4)
    for group in plain.param_groups:  # torch's own per-tensor loop on the CPU
        group["foreach"] = False
        if "fused" in group:
            group["fused"] = None
    for _ in range(3):
        grads = [torch.randn_like(p) for p in fast_params]
        for params, opt in ((fast_params, fast), (plain_params, plain)):
            for p, g in zip(params, grads):
                p.grad = g.clone()
            opt.step()
    for a, b in zip(fast_params, plain_params):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_a_fitting_dataset_check_is_not_made_twice(colours, backbone, tmp_path, monkeypatch):
    train_module = sys.modules["model.training.engine"]
    config = head_config(colours, tmp_path, backbone, epochs=1)
    report = check_dataset(colours, None, config.val_fraction, config.seed)
    checks = []
    real = train_module.check_dataset
    monkeypatch.setattr(train_module, "check_dataset", lambda *a: checks.append(a) or real(*a))
    events = run_with_report(config, report)
    assert checks == [] and of(events, DatasetChecked)[0].report is report
    # A check made for another split seed is not trusted: the folder is checked again.
    other = head_config(colours, tmp_path / "again", backbone, epochs=1, seed=3)
    events = run_with_report(other, report)
    assert len(checks) == 1 and of(events, DatasetChecked)[0].report.seed == 3


def run_with_report(config, report) -> list:
    return list(train(config, None, report))


def test_early_stopping_stops_when_validation_loss_stops_falling(colours, backbone, tmp_path):
    # A learning rate below float32's resolution for these weights: nothing moves, so the
    # validation loss is exactly the same every epoch and never counts as better.
    config = head_config(colours, tmp_path, backbone, lr=1e-30, early_stopping_patience=2)
    events = run(config)
    ends = of(events, EpochEnd)
    assert [e.epoch for e in ends] == [1, 2, 3]  # epoch 1 sets the bar, 2 and 3 miss it
    assert len({e.val_loss for e in ends}) == 1
    done = of(events, TrainingDone)[0]
    assert done.stopped_early and not done.cancelled and done.last_epoch == 3
    assert ends[-1].eta_s == 0.0
    assert load_network(tmp_path / "last.safetensors")[1].training["epoch"] == 3


@pytest.mark.parametrize(
    ("train_from", "first_trained", "last_frozen"),
    [("mixed_7", "Mixed_7a", "Mixed_6e"), ("mixed_6", "Mixed_6a", "Mixed_5d")],
)
def test_partial_fine_tuning_trains_only_the_chosen_blocks(
    colours, backbone, tmp_path, train_from, first_trained, last_frozen
):
    config = head_config(colours, tmp_path, backbone, train_from=train_from, epochs=1, lr=1e-3)
    assert of(run(config), TrainingDone)[0].last_epoch == 1
    before = load_network(backbone)[0].state_dict()
    after = load_network(tmp_path / "last.safetensors")[0].state_dict()
    names = list(dict.fromkeys(k.split(".")[0] for k in before))
    for block in names[: names.index(last_frozen) + 1]:  # weights and BatchNorm statistics
        for key in (k for k in before if k.split(".")[0] == block):
            assert torch.equal(before[key], after[key]), key
    trained = [k for k in before if k.startswith(first_trained) and k.endswith("conv.weight")]
    assert trained and all(not torch.equal(before[k], after[k]) for k in trained)
    moved = [k for k in before if k.startswith(first_trained) and k.endswith("running_mean")]
    assert any(not torch.equal(before[k], after[k]) for k in moved)  # trained BN in train mode


def test_resume_without_state_is_a_clear_error(tmp_path, tiny_checkpoint, colours):
    config = TrainConfig(str(colours), str(tmp_path), resume=str(tiny_checkpoint))
    with pytest.raises(TrainingError, match="optimizer state"):
        next(train(config))


def test_detect_precision_and_config_checks():
    from model.precision import _cpu_has_fast

    assert detect_precision("cpu") == ("bf16" if _cpu_has_fast(torch.bfloat16) else "fp32")
    with pytest.raises(ValueError, match="input_size"):
        TrainConfig("a", "b", input_size=64)
    with pytest.raises(ValueError, match="train_from"):
        TrainConfig("a", "b", train_from="Mixed_5")
    with pytest.raises(ValueError, match="choose a run folder"):
        TrainConfig("a", "  ")  # would write into the working directory
    with pytest.raises(ValueError, match="training only its head learns nothing"):
        TrainConfig("a", "b", weights="none", train_from="head")
    assert TrainConfig("a", "b", weights="none", train_from="mixed_7").weights == "none"


def _cli(*args) -> list[str]:
    return [sys.executable, "-m", "inception_gui.cli", "train", *map(str, args)]


def test_cli_killed_run_leaves_a_loadable_checkpoint(colours, tmp_path):
    out = tmp_path / "out"
    cmd = _cli(
        colours, "--out", out, "--weights", "none", "--train-from", "all", "--input-size", 75,
        "--batch-size", 4, "--epochs", 50, "--precision", "fp32", "--json",
    )  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 90
        while not (out / "last.state.pt").exists() and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        stdout, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    first = json.loads(stdout.splitlines()[0])
    assert first["event"] == "DatasetChecked" and first["class_names"] == ["blue", "green", "red"]
    assert proc.returncode == -signal.SIGKILL
    net, info = load_network(out / "last.safetensors")
    assert info.class_names == ("blue", "green", "red") and net.num_classes == 3
    epoch = torch.load(out / "last.state.pt", weights_only=True)["epoch"]
    assert epoch >= 1
    proc = subprocess.run(  # and the killed run goes on from there
        _cli(colours, "--resume", out, "--epochs", epoch + 1),
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0 and f"epoch {epoch + 1}/{epoch + 1}" in proc.stdout, proc.stderr


def test_cli_errors_and_text_output(colours, backbone, tmp_path, make_dataset):
    single = tmp_path / "single"
    make_dataset(single, per_class=2, colours={"cats": (1, 2, 3)})
    proc = subprocess.run(_cli(single, "--out", tmp_path / "x"), capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.count("only one class") == 1, proc.stderr
    assert " 0 " not in proc.stdout  # no table of counts that were never made
    cmd = _cli(
        colours, "--out", tmp_path / "run", "--weights", backbone, "--input-size", 75,
        "--batch-size", 4, "--epochs", 1, "--lr", 1e-5,
    )  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "blue" in proc.stdout and "epoch 1/1" in proc.stdout
    assert "training on cpu in fp32 (" in proc.stdout  # where, in what, and why
    # Not a terminal (a log file, CI): one line an epoch, no carriage-return redraws.
    assert "\r" not in proc.stderr and "ETA" not in proc.stderr
    assert "recipe: Recommended for a new head" in proc.stdout  # named, with its evidence
    assert "no augmentation" not in proc.stderr  # the recipe does not augment: nothing lost
    assert (tmp_path / "run" / "best.safetensors").exists()
    proc = subprocess.run(cmd, capture_output=True, text=True)  # again, into the same folder
    assert proc.returncode == 2 and "already holds a training run" in proc.stderr, proc.stderr
    # Resumed without --epochs: the saved run's total (1), already reached.
    resume = _cli(colours, "--resume", tmp_path / "run")
    proc = subprocess.run(resume, capture_output=True, text=True)
    assert proc.returncode == 2 and "already trained 1 epoch(s)" in proc.stderr, proc.stderr
    proc = subprocess.run(
        _cli(colours, "--resume", tmp_path / "run", "--epochs", 2), capture_output=True, text=True
    )
    assert proc.returncode == 0 and "epoch 2/2" in proc.stdout, proc.stderr


def test_auto_trains_in_what_the_measurement_chose_and_says_why(
    colours, backbone, tmp_path, monkeypatch
):
    from model.inference.tuning import AutoChoice, Timing
    from model.training.events import TrainingStarted

    measured = []

    def fake(module, device, input_size, batch, num_classes, **kw):
        measured.append((input_size, batch, num_classes))
        return AutoChoice(
            "bf16",
            "bf16 is 1.70x as fast as fp32 here",
            (Timing("fp32", 17.0), Timing("bf16", 10.0)),
            "key",
            False,
        )

    monkeypatch.setattr("model.training.trainer.measure_training", fake)
    config = replace(
        head_config(colours, tmp_path / "out", backbone, epochs=1),
        train_from="mixed_7",
        batch_size=4,
    )
    events = list(train(config))
    started = of(events, TrainingStarted)
    assert len(started) == 1 and started[0].precision == "bf16"
    assert started[0].reason == "auto: bf16 is 1.70x as fast as fp32 here"
    assert measured == [(config.input_size, 4, 3)]
    assert isinstance(events[-1], TrainingDone) and events[-1].epochs_run == 1
