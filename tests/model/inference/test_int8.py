"""int8 inference and the accuracy guard: auto runs another format only where it agrees."""

import pytest
import torch
from PIL import Image

from model import Checkpoint, Preprocess, build_network, load_classifier, save_checkpoint
from model.errors import PrecisionError
from model.inference import guard, int8
from model.inference.int8 import Agreement, agreement, build_int8_network
from model.inference.tuning import AutoChoice, Timing, choose
from model.network.fastpath import build_fast_network
from model.precision import Precision, resolve_precision

SIZE = 96
CLASSES = ("blue", "green", "red")
COLOURS = {"blue": (30, 40, 220), "green": (30, 200, 40), "red": (220, 30, 30)}


@pytest.fixture
def measuring(monkeypatch):
    monkeypatch.setenv("INCEPTION_GUI_PRECISION_TUNING", "1")


def _picture(colour, i):
    """A colour field with a lighter square, placed by ``i``: real pixels to calibrate on."""
    image = Image.new("RGB", (120, 100), colour)
    light = tuple(min(255, c + 90) for c in colour)
    image.paste(light, (5 + 7 * (i % 9), 5 + 5 * (i % 11), 45 + 7 * (i % 9), 45 + 5 * (i % 11)))
    return image


@pytest.fixture(scope="module")
def network(calibrate_batchnorm):
    """A v3 at 96 px whose BatchNorm statistics come from pictures: activations keep scale."""
    torch.manual_seed(0)
    prep = Preprocess.for_size(SIZE)
    images = torch.stack([prep(_picture(c, i)) for c in COLOURS.values() for i in range(16)])
    net = build_network("v3", num_classes=len(CLASSES), aux_logits=False)
    for bn in (m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        torch.nn.init.constant_(bn.bias, 1.5)  # nearly every ReLU passes: not chaotic, as
    return calibrate_batchnorm(net, images)  # a trained network is not (see test_fastpath)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("colours")
    for split, count in (("train", 8), ("val", 6)):
        for name, colour in COLOURS.items():
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                _picture(colour, i + (50 if split == "val" else 0)).save(folder / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def trained_here(network, dataset, tmp_path_factory):
    """A checkpoint that says where it was trained: auto checks itself on that folder."""
    path = tmp_path_factory.mktemp("run") / "best.safetensors"
    training = {"data_dir": str(dataset / "train"), "val_dir": str(dataset / "val"), "epochs": 1}
    save_checkpoint(
        Checkpoint(
            network.state_dict(), "v3", CLASSES, Preprocess.for_size(SIZE), training=training
        ),
        path,
    )
    return path


def test_agreement_counts_the_same_top1_and_the_shared_top5():
    reference = torch.tensor([[9.0, 8, 7, 6, 5, 4, 3], [1.0, 2, 3, 4, 5, 6, 7]])
    same = agreement(reference, reference.clone())
    assert (same.top1, same.top5, same.images, same.k) == (1.0, 5.0, 2, 5) and same.holds
    other = reference.clone()
    other[0, 0], other[0, 6] = 0.0, 100.0  # a new top-1 from outside the top-5: 4 of 5 shared
    found = agreement(reference, other)
    assert found.top1 == 0.5 and found.top5 == 4.5 and not found.holds


@pytest.mark.parametrize(
    "top1, top5, k, holds",
    [(0.99, 4.9, 5, True), (0.985, 5.0, 5, False), (1.0, 4.89, 5, False), (1.0, 2.94, 3, True)],
)
def test_the_guard_is_99_percent_top1_and_4_9_of_the_top5(top1, top5, k, holds):
    assert Agreement(top1, top5, 100, k).holds is holds
    assert not Agreement(1.0, 5.0, 0, 5).holds  # nothing compared: nothing proven


def test_auto_never_runs_int8_unchecked_or_any_format_that_disagrees():
    fp32 = Timing("fp32", 50.0)
    assert choose([fp32, Timing("int8", 10.0)])[0] == "fp32"  # not checked yet
    chosen, reason = choose([fp32, Timing("int8", 10.0, 0.97, 4.8, 100)])
    assert chosen == "fp32" and "int8 10.0 ms refused: top-1 97.0%" in reason
    chosen, reason = choose(
        [fp32, Timing("bf16", 30.0, 1.0, 4.95, 100), Timing("int8", 10.0, 0.96, 4.7, 100)]
    )
    assert chosen == "bf16" and "int8 10.0 ms refused" in reason and "top-1 100.0%" in reason
    chosen, _ = choose([fp32, Timing("bf16", 30.0), Timing("int8", 10.0, 0.995, 4.95, 200)])
    assert chosen == "int8"
    assert choose([fp32, Timing("bf16", 30.0)])[0] == "bf16"  # unchecked float: by time alone


def test_int8_is_for_the_cpu_and_for_predicting_only():
    with pytest.raises(PrecisionError, match="CPU only"):
        resolve_precision("int8", torch.device("cuda"))
    from model.training.config import TrainConfig

    with pytest.raises(ValueError, match="precision must be one of"):
        TrainConfig("data", "out", precision="int8")


def test_int8_quantizes_on_the_given_images_and_is_cached_by_the_weights(network, monkeypatch):
    prep = Preprocess.for_size(SIZE)
    images = torch.stack([prep(_picture(c, i)) for c in COLOURS.values() for i in range(20, 26)])
    model = build_int8_network(network, SIZE, images[:6])
    assert model.precision is Precision.INT8 and model.path.is_file()
    assert str(model.path).startswith(str(int8._cache_root()))
    fp32 = build_fast_network(network, torch.device("cpu"), Precision.FP32, SIZE)
    with torch.inference_mode():
        reference, got = fp32(images), model(images)
    assert got.shape == reference.shape and got.dtype == torch.float32
    correlation = torch.corrcoef(torch.stack([got.flatten(), reference.flatten()]))[0, 1]
    assert correlation > 0.95  # the same function, in 8 bits (0.988 measured)

    def no_quantizing(*args):
        raise AssertionError("quantized again")

    monkeypatch.setattr(int8, "_quantize", no_quantizing)
    assert build_int8_network(network, SIZE, images[:1]).path == model.path  # from the cache
    changed = build_network("v3", num_classes=len(CLASSES), aux_logits=False)
    changed.load_state_dict(network.state_dict())
    with torch.no_grad():
        changed.fc.bias.add_(1.0)
    with pytest.raises(AssertionError, match="quantized again"):  # other weights: not cached
        build_int8_network(changed, SIZE, images[:6])


def test_int8_by_name_needs_photos_to_calibrate_on(tiny_checkpoint, sample_images):
    with pytest.raises(PrecisionError, match="at least 4 of your own images to calibrate"):
        load_classifier(tiny_checkpoint, device="cpu", precision="int8")
    clf = load_classifier(tiny_checkpoint, device="cpu", precision="fp32")
    assert clf.add_photos(sample_images + sample_images[:2]) == len(sample_images) + 2
    clf.set_precision("int8")
    assert clf.precision == "int8" and clf.has_int8_model()
    result = clf.predict(sample_images[0])[0]
    assert result.ok and abs(sum(p.probability for p in result) - 1.0) < 1e-4


def _choice_with_bf16_faster():
    return AutoChoice(
        "bf16", "bf16 is 2x", (Timing("fp32", 50.0), Timing("bf16", 25.0)), "key", False
    )


def _bf16_that_disagrees(monkeypatch):
    """bf16's network answers with its classes rotated: fast, and wrong."""
    real = guard.build_fast_network

    def build(network, device, precision, crop):
        fast = real(network, device, Precision.FP32, crop)
        if precision is not Precision.BF16:
            return fast
        return lambda batch: fast(batch).roll(1, dims=1)

    monkeypatch.setattr(guard, "build_fast_network", build)


def test_auto_checks_its_choice_on_the_trained_model_s_validation_images(
    trained_here, monkeypatch, measuring
):
    monkeypatch.setattr(
        "model.inference.classifier.measure_inference", lambda *a, **k: _choice_with_bf16_faster()
    )
    monkeypatch.setattr(guard, "has_int8_units", lambda: False)
    _bf16_that_disagrees(monkeypatch)
    clf = load_classifier(trained_here, device="cpu")
    choice = clf.wait_for_tuning(timeout=120)
    bf16 = next(t for t in choice.timings if t.precision == "bf16")
    assert bf16.images == 3 * 6 and bf16.top1 < 0.5  # every validation image was checked
    assert choice.chosen == "fp32" and clf.precision == "fp32"
    # Timed again together, at the same moment: not the (cached) figures the check began with
    assert {t.precision for t in choice.timings} == {"fp32", "bf16"}
    assert all(t.ms > 0 and t.ms not in (25.0, 50.0) for t in choice.timings)


def test_auto_rechecks_on_the_session_s_photos_once_there_are_enough(
    tiny_checkpoint, sample_images, monkeypatch, measuring
):
    monkeypatch.setattr(
        "model.inference.classifier.measure_inference", lambda *a, **k: _choice_with_bf16_faster()
    )
    monkeypatch.setattr(guard, "has_int8_units", lambda: False)
    clf = load_classifier(tiny_checkpoint, device="cpu")
    assert clf.wait_for_tuning(timeout=60).chosen == "bf16"  # no photos yet: by time alone
    _bf16_that_disagrees(monkeypatch)
    rechecked = []
    clf.on_rechecked = rechecked.append
    photos = [_picture(c, i) for c in COLOURS.values() for i in range(6)]  # 18 >= 16
    assert all(r.ok for r in clf.predict(photos))
    choice = clf.wait_for_tuning(timeout=120)
    assert rechecked == [choice] and choice.chosen == "fp32" and clf.precision == "fp32"
    assert next(t for t in choice.timings if t.precision == "bf16").images >= 8  # half of 16+
