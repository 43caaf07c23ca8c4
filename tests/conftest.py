"""Shared test setup: Qt offscreen, a private torch hub cache, small real checkpoints."""

import os
import shutil

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture(autouse=True)
def _private_torch_home(tmp_path_factory, monkeypatch):
    """Every test gets an empty torch hub cache: none reads or fills the real one."""
    home = tmp_path_factory.mktemp("torch_home")
    monkeypatch.setenv("TORCH_HOME", str(home))
    yield home
    # Downloads land here (about 100 MB each): gone as soon as the test is.
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """A real project checkpoint on disk: random v3, three classes, 96 px input."""
    import torch

    from model import Checkpoint, Preprocess, build_network, save_checkpoint

    torch.manual_seed(0)
    net = build_network("v3", num_classes=3, aux_logits=True)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    save_checkpoint(
        Checkpoint(
            state=net.state_dict(),
            variant="v3",
            class_names=("circle", "square", "triangle"),
            preprocess=Preprocess.for_size(96),
            training={"epochs": 0, "note": "random init for tests"},
        ),
        path,
    )
    return path


@pytest.fixture(scope="session")
def sample_images(tmp_path_factory):
    """A handful of real image files of different formats and sizes."""
    from PIL import Image, ImageDraw

    folder = tmp_path_factory.mktemp("images")
    paths = []
    for i, (fmt, size) in enumerate(
        [("JPEG", (640, 480)), ("PNG", (120, 200)), ("WEBP", (300, 300))]
    ):
        img = Image.new("RGB", size, (40 * i, 120, 200 - 50 * i))
        ImageDraw.Draw(img).ellipse((10, 10, size[0] // 2, size[1] // 2), fill=(250, 200, 0))
        path = folder / f"photo{i}.{fmt.lower()}"
        img.save(path, fmt)
        paths.append(path)
    return paths
