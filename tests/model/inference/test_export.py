"""ONNX and TorchScript exports: they reload, carry their metadata and agree with PyTorch."""

import json
import warnings

import numpy as np
import pytest
import torch

from inception_gui.cli import main
from model import (
    Checkpoint,
    Preprocess,
    export_onnx,
    export_torchscript,
    load_classifier,
    read_export_metadata,
    save_checkpoint,
    verify_export,
)
from model.inference.export import sample_images


@pytest.fixture(scope="module")
def classifier(tiny_checkpoint):
    return load_classifier(tiny_checkpoint, device="cpu", precision="fp32")


@pytest.fixture(scope="module")
def onnx_file(classifier, tmp_path_factory):
    return export_onnx(classifier, tmp_path_factory.mktemp("onnx") / "tiny.onnx")


@pytest.fixture(scope="module")
def torchscript_file(classifier, tmp_path_factory):
    return export_torchscript(classifier, tmp_path_factory.mktemp("ts") / "tiny.pt")


def _check_metadata(meta, classifier):
    assert json.loads(meta["class_names"]) == ["circle", "square", "triangle"]
    preprocess = Preprocess.from_dict(json.loads(meta["preprocess"]))
    assert preprocess == classifier.info.preprocess
    assert meta["variant"] == "v3" and meta["input_size"] == "96"
    assert json.loads(meta["transform_input"]) is False


def test_onnx_reloads_with_metadata_and_a_dynamic_batch(onnx_file, classifier, sample_images):
    import onnxruntime

    assert [p.name for p in onnx_file.parent.iterdir()] == ["tiny.onnx"]  # no temp file left
    session = onnxruntime.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    _check_metadata(session.get_modelmeta().custom_metadata_map, classifier)
    assert read_export_metadata(onnx_file) == session.get_modelmeta().custom_metadata_map
    for batch in (1, 5):
        x = torch.randn(batch, 3, 96, 96)
        (logits,) = session.run(None, {"input": x.numpy()})
        with torch.inference_mode():
            expected = classifier.network(x).numpy()
        assert logits.shape == (batch, 3)
        np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4 * abs(expected).max())
    check = verify_export(onnx_file, classifier, sample_images)
    assert check.ok, check.message
    assert check.n_images == 3 and check.top1_agreement == 1.0 and check.format == "onnx"
    assert check.max_abs_diff <= check.allowed_diff


def test_torchscript_reloads_with_metadata(torchscript_file, classifier, sample_images):
    extra = {"inception_gui.json": ""}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # TorchScript is deprecated, still loads
        module = torch.jit.load(str(torchscript_file), _extra_files=extra)
    _check_metadata(json.loads(extra["inception_gui.json"]), classifier)
    _check_metadata(read_export_metadata(torchscript_file), classifier)
    x = torch.randn(4, 3, 96, 96)  # traced at a batch of 2
    with torch.inference_mode():
        got, expected = module(x), classifier.network(x)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4 * expected.abs().max().item())
    check = verify_export(torchscript_file, classifier, sample_images)
    assert check.ok and check.format == "torchscript" and check.n_images == 3, check.message


def test_an_export_of_other_weights_is_reported_not_matching(torchscript_file, tmp_path):
    from model import build_network

    torch.manual_seed(1)
    other = tmp_path / "other.safetensors"
    state = build_network("v3", num_classes=3).state_dict()
    names = ("circle", "square", "triangle")
    save_checkpoint(Checkpoint(state, "v3", names, Preprocess.for_size(96)), other)
    check = verify_export(torchscript_file, load_classifier(other, device="cpu"), sample_images(2))
    assert not check.ok and check.n_images == 2
    assert check.max_abs_diff > check.allowed_diff and "does NOT match" in check.message


def test_a_broken_file_is_reported_not_raised(classifier, tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    check = verify_export(broken, classifier, sample_images(1))
    assert not check.ok and "did not run" in check.message and np.isnan(check.max_abs_diff)


def test_cli_export_checks_the_file(tiny_checkpoint, sample_images, tmp_path, capsys):
    out = tmp_path / "model.pt"
    args = ["export", "--weights", str(tiny_checkpoint), "--format", "torchscript"]
    assert main([*args, "--out", str(out), "--check-images", *map(str, sample_images)]) == 0
    printed = capsys.readouterr().out
    assert out.is_file() and "ok:" in printed and "top-1 agreement 100%" in printed
    assert main([*args, "--out", str(tmp_path / "model.onnx")]) == 2  # suffix and format differ
    assert main([*args, "--out", str(out), "--check-images", str(tmp_path / "none.jpg")]) == 2
    assert "none.jpg" in capsys.readouterr().err
