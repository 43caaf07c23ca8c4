"""Messages that name the file (or field) and the real reason (item 12).

Before: "num_classes must be at least 1, got 0", "cannot convert float NaN to
integer", torch's advice to load with ``weights_only=False``, and tracebacks or
"does not exist" where a folder could not be entered.
"""

import math
import os
import shutil

import pytest
import torch

from model import CheckpointError, load_network
from model.training.engine import TrainConfig, TrainingError, load_resume_state, train


class Payload:
    """Code a pickle would run on load: ``os.system``, as a real attack would."""

    def __reduce__(self):
        return (os.system, ("echo this must never run",))


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_weights_for_no_classes_are_refused_by_file_and_field(tmp_path, tiny_checkpoint, suffix):
    from safetensors.torch import save_file

    from model import read_checkpoint

    state = dict(read_checkpoint(tiny_checkpoint).state)
    state["fc.weight"], state["fc.bias"] = torch.zeros(0, 2048), torch.zeros(0)
    path = tmp_path / f"none{suffix}"
    if suffix == ".pth":
        torch.save(state, path)
    else:
        save_file(state, path)  # no project metadata: read as a foreign state dict
    with pytest.raises(CheckpointError) as caught:
        load_network(path)
    assert str(caught.value) == f"{path}: has a classifier for no classes ('fc.weight' has 0 rows)"


def test_a_pickle_that_would_run_code_is_named_without_torchs_advice(tmp_path, capfd):
    path = tmp_path / "evil.pth"
    torch.save({"fc.weight": Payload()}, path)
    with pytest.raises(CheckpointError) as caught:
        load_network(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: holds more than plain weights (it would create ")
    assert "system" in message and "weights_only" not in message
    assert "this must never run" not in capfd.readouterr().out


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, colours, backbone):
    """A one-epoch head-only run's folder, to copy and damage."""
    out = tmp_path_factory.mktemp("finished") / "run"
    options = dict(weights=str(backbone), input_size=75, batch_size=4, epochs=1, lr=1e-5)
    list(train(TrainConfig(str(colours), str(out), val_fraction=0.25, **options)))
    return out


def _damaged(finished_run, tmp_path, change):
    run = shutil.copytree(finished_run, tmp_path / "run")
    state = torch.load(run / "last.state.pt", weights_only=True)
    change(state)
    torch.save(state, run / "last.state.pt")
    return run


def _set(key, value):
    return lambda state: state.update({key: value})


DAMAGE = {
    "epoch NaN": (_set("epoch", math.nan), "'epoch' must be a whole number, not nan"),
    "bad epochs NaN": (_set("bad_epochs", math.nan), "'bad_epochs' must be a whole number"),
    "lowest loss text": (_set("lowest_loss", "x"), "'lowest_loss' must be a number, not 'x'"),
    "names 'abc'": (_set("class_names", "abc"), "'class_names' must be a list, not 'abc'"),
    "no model": (lambda s: s.pop("model"), "is not a training state file"),
    "no optimizer": (lambda s: s.pop("optimizer"), "the field 'optimizer' is missing"),
    "best epoch NaN": (
        lambda s: s["best"].update(epoch=math.nan),
        "'best' cannot be read (cannot convert float NaN to integer)",
    ),
    "a code payload": (_set("history", [Payload()]), "holds more than plain weights"),
}


@pytest.mark.parametrize("case", DAMAGE)
def test_a_damaged_state_file_is_refused_by_file_and_field(finished_run, tmp_path, case):
    change, reason = DAMAGE[case]
    run = _damaged(finished_run, tmp_path, change)
    with pytest.raises(TrainingError) as caught:
        load_resume_state(str(run))
    message = str(caught.value)
    assert message.startswith(f"cannot resume: '{run / 'last.state.pt'}' ")
    assert reason in message and "weights_only" not in message


def test_a_state_file_of_noise_is_refused_without_torchs_advice(finished_run, tmp_path):
    run = shutil.copytree(finished_run, tmp_path / "run")
    (run / "last.state.pt").write_bytes(bytes(range(128, 256)) * 2)  # no pickle torch can follow
    with pytest.raises(TrainingError) as caught:
        load_resume_state(str(run))
    assert str(caught.value) == (
        f"cannot resume: '{run / 'last.state.pt'}' is not readable (not a readable pickle)"
    )


def test_a_damaged_saved_recipe_is_refused_by_file_and_field(
    finished_run, tmp_path, colours, backbone
):
    run = _damaged(finished_run, tmp_path, lambda s: s["recipe"].update(epochs=math.nan))
    config = TrainConfig(str(colours), str(run), weights=str(backbone), resume=str(run))
    with pytest.raises(TrainingError) as caught:
        list(train(config))  # no --epochs: the saved total is read, and it is NaN
    assert str(caught.value).startswith(
        f"cannot resume: '{run / 'last.state.pt'}' is damaged: its 'recipe' cannot be used ("
    )


PERMISSION = "permission denied (a folder on the way cannot be entered)"


def test_classify_names_an_image_it_cannot_reach_and_goes_on(
    tmp_path, unenterable, sample_images, tiny_checkpoint, capsys
):
    from inception_gui.cli import main

    hidden = tmp_path / "private"
    hidden.mkdir()
    shutil.copy(sample_images[0], hidden / "x.png")
    unenterable(hidden)
    args = ["classify", "--weights", str(tiny_checkpoint), "--precision", "fp32"]
    assert main([*args, str(hidden / "x.png"), str(sample_images[1])]) == 1
    out = capsys.readouterr().out
    assert f"{hidden / 'x.png'}\n   error: {PERMISSION}\n" in out
    assert f"{sample_images[1]}\n   1. " in out  # the good photo beside it


def test_a_training_folder_that_cannot_be_entered_is_not_called_missing(tmp_path, unenterable):
    from model import check_dataset

    (tmp_path / "locked" / "photos").mkdir(parents=True)
    locked = unenterable(tmp_path / "locked")
    report = check_dataset(locked / "photos")
    assert report.errors == (f"folder '{locked / 'photos'}' cannot be opened (Permission denied)",)


def test_a_class_folder_that_cannot_be_listed_is_named(tmp_path, colours, unenterable):
    from model import check_dataset

    data = shutil.copytree(colours, tmp_path / "data")
    unenterable(data / "green")
    report = check_dataset(data)
    assert report.errors == (f"class folder '{data / 'green'}' cannot be read (Permission denied)",)


def test_resuming_from_a_folder_that_cannot_be_entered_says_so(tmp_path, unenterable):
    (tmp_path / "locked" / "run").mkdir(parents=True)
    locked = unenterable(tmp_path / "locked")
    with pytest.raises(TrainingError, match="permission denied") as caught:
        load_resume_state(str(locked / "run"))
    assert "is not in" not in str(caught.value)  # not "the state file is missing"
