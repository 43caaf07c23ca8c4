"""Prediction: batches, mixed inputs, per-image errors, devices."""

import pytest
import torch
from PIL import Image

from model import DeviceError, Prediction, list_devices, load_classifier, resolve_device


@pytest.fixture(scope="module")
def clf(tiny_checkpoint):
    return load_classifier(tiny_checkpoint, device="cpu")


def test_predict_paths_and_images_with_errors_in_between(clf, sample_images, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 not really")
    inputs = [sample_images[0], bad, Image.new("RGB", (50, 80), "red"), *sample_images[1:]]
    results = clf.predict(inputs, k=2)
    assert len(results) == 5
    assert not results[1].ok and results[1].source == str(bad)
    assert "not an image" in results[1].error and len(results[1]) == 0
    for r in (results[0], results[2], results[3], results[4]):
        assert r.ok and len(r) == 2
        assert isinstance(r[0], Prediction)
        assert r[0].label in ("circle", "square", "triangle")
        assert r[0].probability >= r[1].probability
    assert results[2].source == "<image 2>"


def test_probabilities_are_a_softmax_and_batches_agree(clf, sample_images):
    full = clf.predict(sample_images, k=3)
    for r in full:
        assert sum(p.probability for p in r) == pytest.approx(1.0, abs=1e-5)
    single = clf.predict(sample_images[1], k=3)[0]
    assert [p.index for p in single] == [p.index for p in full[1]]
    assert single[0].probability == pytest.approx(full[1][0].probability, abs=1e-5)


def test_k_larger_than_the_classes_is_clamped(clf, sample_images):
    assert len(clf.predict(sample_images[0], k=10)[0]) == 3


def test_cancel_stops_between_images(clf, sample_images):
    calls = []
    out = list(
        clf.iter_predict(sample_images * 3, cancel=lambda: len(calls) > 0 or calls.append(1))
    )
    assert out == []


def test_devices():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    assert list_devices()[0].key == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="cuda:1.*not available"):
            resolve_device("cuda:1")
        cuda = next(d for d in list_devices() if d.key.startswith("cuda"))
        assert not cuda.available and cuda.reason
    with pytest.raises(DeviceError, match="unknown device"):
        resolve_device("toaster")


def test_missing_device_fails_before_loading(tiny_checkpoint):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(DeviceError):
        load_classifier(tiny_checkpoint, device="cuda")
