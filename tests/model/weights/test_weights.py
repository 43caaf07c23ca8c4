"""Weights sources: ImageNet cache and download, .pth, .safetensors, none, and bad files."""

import hashlib
import itertools
import os
import pickle
from pathlib import Path

import pytest
import torch
import torchvision

from model import (
    Checkpoint,
    CheckpointError,
    Preprocess,
    WeightsUnavailableError,
    build_network,
    download_imagenet_weights,
    imagenet_cache_path,
    imagenet_categories,
    load_network,
    read_checkpoint,
    save_checkpoint,
)
from model.weights import imagenet as weights_module


@pytest.fixture(scope="module")
def v3_state():
    torch.manual_seed(3)
    return build_network("v3").state_dict()


def test_imagenet_from_the_hub_cache(v3_state, _private_torch_home):
    path = imagenet_cache_path()
    assert path.parent == _private_torch_home / "hub" / "checkpoints"
    assert path.name == os.path.basename(torchvision.models.Inception_V3_Weights.IMAGENET1K_V1.url)
    path.parent.mkdir(parents=True)
    torch.save(v3_state, path)
    net, info = load_network("imagenet", download=False)
    assert info.source == "imagenet" and info.trained and info.transform_input
    assert net.transform_input and not net.training
    assert len(info.class_names) == 1000
    assert info.class_names == tuple(
        torchvision.models.Inception_V3_Weights.IMAGENET1K_V1.meta["categories"]
    )
    assert (info.preprocess.resize_size, info.preprocess.crop_size) == (342, 299)
    assert torch.equal(net.state_dict()["fc.weight"], v3_state["fc.weight"])


def test_imagenet_offline_error_names_the_cache_file():
    with pytest.raises(WeightsUnavailableError) as info:
        load_network("imagenet", download=False)
    assert str(imagenet_cache_path()) in str(info.value) or imagenet_cache_path().name in str(
        info.value
    )
    assert str(imagenet_cache_path().parent) in str(info.value)


def test_imagenet_download_failure_is_clear_and_leaves_nothing(tmp_path):
    # Port 9 on loopback: refused at once, no traffic leaves the machine.
    with pytest.raises(WeightsUnavailableError, match="Could not download") as info:
        download_imagenet_weights(url="http://127.0.0.1:9/inception.pth", timeout=2)
    assert imagenet_cache_path().name in str(info.value)
    assert not imagenet_cache_path().exists()
    assert list(imagenet_cache_path().parent.iterdir()) == []


def _fake_weights(monkeypatch, url):
    monkeypatch.setattr(weights_module, "IMAGENET_URL", url)


def test_imagenet_download_reports_progress_verifies_and_caches(tmp_path, monkeypatch, v3_state):
    source = tmp_path / "served.pth"
    torch.save(v3_state, source)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:8]
    served = source.rename(tmp_path / f"inception_v3_test-{digest}.pth")
    _fake_weights(monkeypatch, served.as_uri())
    seen = []
    net, _ = load_network("imagenet", progress=lambda done, total: seen.append((done, total)))
    assert imagenet_cache_path().is_file()
    assert seen[-1][0] == served.stat().st_size
    assert all(b >= a for (a, _), (b, _) in itertools.pairwise(seen))
    assert torch.equal(net.state_dict()["fc.weight"], v3_state["fc.weight"])


def test_imagenet_download_with_a_bad_checksum_is_discarded(tmp_path, monkeypatch):
    served = tmp_path / "inception_v3_test-00000000.pth"
    served.write_bytes(b"not the weights")
    _fake_weights(monkeypatch, served.as_uri())
    with pytest.raises(WeightsUnavailableError, match="checksum"):
        download_imagenet_weights()
    assert not imagenet_cache_path().exists()


def test_imagenet_download_can_be_cancelled(tmp_path, monkeypatch, v3_state):
    from model import DownloadCancelled

    served = tmp_path / "inception_v3_test-abcdef12.pth"
    torch.save(v3_state, served)
    _fake_weights(monkeypatch, served.as_uri())
    with pytest.raises(DownloadCancelled):
        download_imagenet_weights(cancel=lambda: True)
    assert list(imagenet_cache_path().parent.iterdir()) == []


def test_pth_state_dict(tmp_path):
    torch.manual_seed(4)
    state = build_network("v3", num_classes=10, aux_logits=False).state_dict()
    path = tmp_path / "mine.pth"
    torch.save({"module." + k: v for k, v in state.items()}, path)  # as saved from DDP
    net, info = load_network(path)
    assert info.display_name == "mine.pth" and info.num_classes == 10
    assert info.class_names[0] == "class 0"
    assert net.AuxLogits is None
    assert torch.equal(net.fc.weight, state["fc.weight"])


def test_half_precision_pth_loads_as_float32(tmp_path):
    torch.manual_seed(5)
    state = build_network("v3", num_classes=4, aux_logits=False).state_dict()
    path = tmp_path / "half.pth"
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in state.items()}, path)
    net, _ = load_network(path)
    assert {p.dtype for p in net.parameters()} == {torch.float32}
    assert all(not p.is_meta for p in net.parameters()) and net.fc.weight.requires_grad
    assert torch.allclose(net.fc.weight, state["fc.weight"], atol=1e-3)


def test_pth_with_1000_classes_gets_imagenet_labels(tmp_path, v3_state):
    path = tmp_path / "tv.pth"
    torch.save(v3_state, path)
    _, info = load_network(path)
    assert info.class_names == imagenet_categories()


def test_none_is_marked_untrained():
    net, info = load_network("none", "paper")
    assert not info.trained and "untrained" in info.display_name
    assert net.variant.value == "paper"


def test_safetensors_round_trip_keeps_metadata(tmp_path):
    torch.manual_seed(5)
    net = build_network("paper", num_classes=2)
    ckpt = Checkpoint(
        state=net.state_dict(),
        variant="paper",
        class_names=("cats", "dogs"),
        preprocess=Preprocess.for_size(128),
        transform_input=False,
        training={"epochs": 3, "val_accuracy": 0.75},
    )
    path = save_checkpoint(ckpt, tmp_path / "pets.safetensors")
    assert [p.name for p in tmp_path.iterdir()] == ["pets.safetensors"]  # no temp file left
    again = read_checkpoint(path)
    assert again.class_names == ("cats", "dogs")
    assert again.preprocess.crop_size == 128 and again.preprocess.resize_size == 146
    assert again.training == {"epochs": 3, "val_accuracy": 0.75}
    loaded, info = load_network(path)
    assert info.class_names == ("cats", "dogs") and info.variant.value == "paper"
    assert info.training["epochs"] == 3
    for k, v in net.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v)
    maps = Path("/proc/self/maps")
    if maps.exists():  # the loaded network holds no mapping of the file (it may be replaced)
        assert "pets.safetensors" not in maps.read_text()


def test_saving_over_a_file_is_atomic(tmp_path, monkeypatch):
    net = build_network("v3", num_classes=2, aux_logits=False)
    ckpt = Checkpoint(net.state_dict(), "v3", ("a", "b"), Preprocess.for_size(75))
    path = save_checkpoint(ckpt, tmp_path / "m.safetensors")
    before = path.read_bytes()

    import safetensors.torch

    def crash(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.torch, "save_file", crash)
    with pytest.raises(OSError):
        save_checkpoint(ckpt, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_wrong_variant_is_refused(tmp_path):
    path = tmp_path / "paper.pth"
    torch.save(build_network("paper", init_weights=False).state_dict(), path)
    with pytest.raises(CheckpointError, match="'paper' variant, but 'v3'") as info:
        load_network(path, "v3")
    assert info.value.path == str(path)


def test_wrong_shapes_are_refused(tmp_path, v3_state):
    bad = dict(v3_state)
    bad["Mixed_5b.branch1x1.conv.weight"] = torch.zeros(65, 192, 1, 1)
    path = tmp_path / "bad.pth"
    torch.save(bad, path)
    with pytest.raises(CheckpointError, match="does not fit.*Mixed_5b.branch1x1"):
        load_network(path)


def test_missing_keys_are_refused(tmp_path, v3_state):
    partial = {k: v for k, v in v3_state.items() if not k.startswith("Mixed_7c")}
    path = tmp_path / "partial.pth"
    torch.save(partial, path)
    with pytest.raises(CheckpointError, match="Missing key"):
        load_network(path)


def test_not_a_checkpoint(tmp_path):
    noise = bytes(range(256))[128:] * 2  # not a zip, and no pickle a loader can follow
    for name, content in [
        ("notes.pth", b"hello"),
        ("noise.pth", noise),
        ("junk.safetensors", b"\x00" * 20),
    ]:
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(CheckpointError) as info:
            load_network(path)
        assert name in str(info.value)
        assert "weights_only=False" not in str(info.value)  # never advise the unsafe load
        if name.endswith(".pth"):
            assert "is not a PyTorch checkpoint" in str(info.value), str(info.value)
    with pytest.raises(CheckpointError, match="no such file"):
        load_network(tmp_path / "nothing.pth")


def test_a_training_state_file_is_not_taken_for_weights(tmp_path, v3_state):
    path = tmp_path / "last.state.pt"  # as run_files writes it beside last.safetensors
    torch.save({"epoch": 3, "model": v3_state, "optimizer": {}, "recipe": {}}, path)
    with pytest.raises(CheckpointError, match="load last.safetensors or best.safetensors"):
        load_network(path)


def test_other_networks_are_refused(tmp_path):
    path = tmp_path / "resnet.pth"
    torch.save(torchvision.models.resnet18().state_dict(), path)
    with pytest.raises(CheckpointError, match="not an Inception v3 state dict"):
        load_network(path)


class Payload:
    """A class torch.load(weights_only=True) must refuse to rebuild."""

    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickle_with_code_is_refused(tmp_path, capsys):
    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        pickle.dump({"fc.weight": Payload()}, f)
    with pytest.raises(CheckpointError, match="more than plain weights|not a PyTorch"):
        load_network(path)
    assert "this must never run" not in capsys.readouterr().out
    path2 = tmp_path / "object.pth"
    torch.save({"net": build_network("v3", num_classes=2, init_weights=False)}, path2)
    with pytest.raises(CheckpointError, match=r"more than plain weights \(it would create model"):
        load_network(path2)


def test_imagenet_weights_only_exist_for_v3():
    with pytest.raises(ValueError, match="'v3' variant only"):
        load_network("imagenet", "paper", download=False)


def test_the_imagenet_record_is_torchvisions_without_importing_it():
    """The file name, its address and the 1000 labels are torchvision's, and reading them
    (as every load does on the way to "Ready") does not import torchvision (1 s)."""
    import subprocess
    import sys

    from torchvision.models import Inception_V3_Weights

    from model.weights import imagenet

    record = Inception_V3_Weights.IMAGENET1K_V1
    assert record.url == imagenet.IMAGENET_URL
    assert imagenet.imagenet_categories() == tuple(record.meta["categories"])
    assert imagenet.imagenet_cache_path().name == record.url.rsplit("/", 1)[-1]
    code = (
        "import sys; from model import load_network; load_network('none'); "
        "print('torchvision' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
