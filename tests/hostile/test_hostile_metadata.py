"""Checkpoint metadata is checked at load; the message names the file and the field (item 7)."""

import json
import re

import pytest
import torch
from safetensors.torch import save_file

from model.weights.checkpoint import METADATA_KEY, CheckpointError, read_checkpoint

BASE = {
    "format_version": 1,
    "variant": "v3",
    "class_names": ["circle", "square", "triangle"],
    "input_size": 96,
    "preprocess": {
        "crop_size": 96,
        "resize_size": 110,
        "mean": [0.485, 0.456, 0.406],
        "std": [0.229, 0.224, 0.225],
        "interpolation": "bilinear",
    },
    "transform_input": False,
    "training": {"epochs": 0},
}


def _with(**changes):
    """``BASE`` with ``changes`` (``preprocess__crop_size=...`` for a nested field), as JSON."""
    doc = json.loads(json.dumps(BASE))
    for key, value in changes.items():
        if "__" in key:
            outer, inner = key.split("__")
            doc[outer][inner] = value
        else:
            doc[key] = value
    return json.dumps(doc)


CASES = {
    "crop 299.7": ({"preprocess__crop_size": 299.7}, "'preprocess.crop_size'"),
    "crop -5": ({"preprocess__crop_size": -5}, "'preprocess.crop_size'"),
    "crop 10^9": ({"preprocess__crop_size": 10**9}, "'preprocess.crop_size'"),
    "crop true": ({"preprocess__crop_size": True}, "'preprocess.crop_size'"),
    "resize 0": ({"preprocess__resize_size": 0}, "'preprocess.resize_size'"),
    "std 0": ({"preprocess__std": [0, 0, 0]}, "'preprocess.std'"),
    "mean NaN": ({"preprocess__mean": [float("nan"), 0, 0]}, "'preprocess.mean'"),
    "two means": ({"preprocess__mean": [0.5, 0.5]}, "'preprocess.mean'"),
    "filter": ({"preprocess__interpolation": "x" * 9}, "'preprocess.interpolation'"),
    "preprocess list": ({"preprocess": [1]}, "'preprocess'"),
    "names 'abc'": ({"class_names": "abc"}, "'class_names'"),
    "names of numbers": ({"class_names": [1, 2, 3]}, "'class_names'"),
    "no names": ({"class_names": []}, "'class_names'"),
    "'false' as bool": ({"transform_input": "false"}, "'transform_input'"),
    "version '1'": ({"format_version": "1"}, "'format_version'"),
    "variant number": ({"variant": 3}, "'variant'"),
    "training list": ({"training": [1, 2]}, "'training'"),
}


def _write(path, text):
    save_file({"x": torch.zeros(1)}, str(path), metadata={METADATA_KEY: text, "format": "pt"})
    return path


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_bad_field_is_named_with_the_file(tmp_path, case):
    changes, field = CASES[case]
    path = _write(tmp_path / "bad.safetensors", _with(**changes))
    with pytest.raises(CheckpointError) as caught:
        read_checkpoint(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: has damaged Inception GUI metadata: {field} ")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("[1, 2]", "must be a JSON object, not list"),
        ('"text"', "must be a JSON object, not str"),
        ("{not json", "is not JSON"),
    ],
    ids=["deeply nested", "a list", "a string", "not JSON"],
)
def test_a_document_that_is_not_an_object_is_refused(tmp_path, text, reason):
    path = _write(tmp_path / "bad.safetensors", text)
    with pytest.raises(CheckpointError, match=re.escape(f"{path}: has damaged") + ".*" + reason):
        read_checkpoint(path)


def test_the_checkpoints_the_app_writes_still_load(tmp_path):
    path = _write(tmp_path / "good.safetensors", _with())
    ckpt = read_checkpoint(path)
    assert ckpt.preprocess.crop_size == 96 and ckpt.class_names == ("circle", "square", "triangle")
    assert ckpt.transform_input is False


def test_the_cli_names_the_file_and_field_without_a_traceback(tmp_path, sample_images, capsys):
    from inception_gui.cli import main

    path = _write(tmp_path / "bad.safetensors", _with(preprocess__crop_size=-5))
    assert main(["classify", "--weights", str(path), str(sample_images[0])]) == 2
    err = capsys.readouterr().err
    assert f"{path}: has damaged Inception GUI metadata: 'preprocess.crop_size'" in err
    assert "Traceback" not in err


def test_preprocess_survives_its_own_round_trip():
    from model import Preprocess

    for preprocess in (Preprocess(), Preprocess.for_size(96)):
        assert Preprocess.from_dict(preprocess.to_dict()) == preprocess
