"""NaN and infinity: refused as options, in weights, and as a training loss (item 8)."""

import hashlib

import pytest
import torch

from model import CheckpointError


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lr", float("nan")),
        ("lr", float("inf")),
        ("weight_decay", float("nan")),
        ("grad_clip", float("nan")),
        ("aux_weight", float("inf")),
    ],
)
def test_a_non_finite_option_is_refused(tmp_path, field, value):
    from model.training.engine import TrainConfig

    with pytest.raises(ValueError, match=f"{field} must be a finite number, not {value}"):
        TrainConfig(str(tmp_path), str(tmp_path / "out"), **{field: value})


@pytest.mark.parametrize("flag", ["--lr", "--weight-decay", "--grad-clip"])
def test_the_cli_refuses_nan_before_training(tmp_path, colours, capsys, flag):
    from inception_gui.cli import main

    out = tmp_path / "run"
    assert main(["train", str(colours), "--out", str(out), flag, "nan"]) == 2
    assert "must be a finite number, not nan" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("key", "damage", "reason"),
    [
        ("Conv2d_1a_3x3.conv.weight", float("inf"), "NaN or infinite values"),
        ("fc.bias", float("nan"), "NaN or infinite values"),
        ("Mixed_5b.branch1x1.bn.running_var", -1.0, "a negative variance"),
    ],
    ids=["inf in a conv", "NaN in fc", "negative BN variance"],
)
def test_damaged_weights_are_refused_by_name(tmp_path, tiny_checkpoint, key, damage, reason):
    from model import load_network, read_checkpoint, save_checkpoint

    ckpt = read_checkpoint(tiny_checkpoint)
    state = dict(ckpt.state)
    state[key] = state[key].clone()
    state[key].view(-1)[0] = damage
    path = save_checkpoint(
        type(ckpt)(**{**ckpt.__dict__, "state": state}), tmp_path / "d.safetensors"
    )
    with pytest.raises(CheckpointError, match=f"d.safetensors: '{key}' holds {reason}"):
        load_network(str(path))


def test_training_stops_at_a_nan_loss_and_keeps_the_last_good_checkpoint(
    tmp_path, colours, head_config, monkeypatch
):
    from model import load_network
    from model.training.engine import EpochEnd, TrainingError, train

    poisoned = {"on": False}
    real_forward = torch.nn.CrossEntropyLoss.forward

    def forward(self, logits, target):  # a loss that blows up from the second epoch on
        loss = real_forward(self, logits, target)
        return loss * float("nan") if poisoned["on"] and torch.is_grad_enabled() else loss

    monkeypatch.setattr(torch.nn.CrossEntropyLoss, "forward", forward)
    out = tmp_path / "run"
    events, digest = [], None
    with pytest.raises(TrainingError) as caught:
        for event in train(head_config(colours, out, epochs=3)):
            events.append(event)
            if isinstance(event, EpochEnd):
                digest = hashlib.sha256((out / "last.safetensors").read_bytes()).hexdigest()
                poisoned["on"] = True
    assert [e.epoch for e in events if isinstance(e, EpochEnd)] == [1]
    message = str(caught.value)
    assert "the training loss became nan at epoch 2, batch 1" in message
    assert str(out / "last.safetensors") in message
    # The checkpoint of epoch 1 is untouched, loads, and holds finite weights.
    assert hashlib.sha256((out / "last.safetensors").read_bytes()).hexdigest() == digest
    net, _ = load_network(str(out / "last.safetensors"))
    assert all(torch.isfinite(v).all() for v in net.state_dict().values() if v.is_floating_point())
