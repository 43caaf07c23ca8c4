"""The fast path: precision choices, BatchNorm folding, draft decoding, and the accuracy guard.

The guard needs a network whose logits mean something: random weights give
near-uniform logits whose order any rounding flips. So the fixture trains
one cheaply: a random v3 at 96 px, its BatchNorm statistics calibrated on
drawn images, and only its classifier trained on their pooled features to
tell eight hue classes apart (the shape varies freely). The guard is only
meaningful on a model that is mostly right, so the test checks that first.
"""

import colorsys

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from model import (
    Checkpoint,
    Precision,
    PrecisionError,
    Preprocess,
    build_network,
    load_classifier,
    load_image,
    resolve_precision,
    save_checkpoint,
)
from model.data.images import _draft_size
from model.network.blocks import BasicConv2d
from model.network.fastpath import _PackedConvReLU, build_fast_network, fold_batchnorm
from model.precision import _cpu_has_fast

SIZE = 96  # network input: small, so the suite stays quick on 2 cores
CLASSES = tuple(f"hue {i * 45}-{i * 45 + 45}" for i in range(8))


def _draw(rng: np.random.Generator, label: int, size: tuple[int, int]) -> Image.Image:
    """A photo-like picture of class ``label``: a shape whose hue is the class, on a grey ramp."""
    w, h = size
    ends = rng.integers(60, 200, (2, 1)) + rng.integers(-20, 20, (2, 3))
    ramp = np.linspace(0.0, 1.0, w)[None, :, None]
    background = ends[0] * (1 - ramp) + ends[1] * ramp + rng.normal(0, 12, (h, w, 3))
    img = Image.fromarray(np.clip(background, 0, 255).astype(np.uint8))
    hsv = ((label + rng.uniform(0.3, 0.7)) / 8, rng.uniform(0.7, 1.0), rng.uniform(0.7, 1.0))
    colour = tuple(int(255 * c) for c in colorsys.hsv_to_rgb(*hsv))
    side = min(w, h) * rng.uniform(0.7, 0.95)
    x0, y0 = rng.uniform(0, w - side), rng.uniform(0, h - side)
    draw = ImageDraw.Draw(img)
    kind = rng.integers(4)  # the shape varies freely: only its colour is the class
    if kind == 0:
        draw.ellipse((x0, y0, x0 + side, y0 + side), fill=colour)
    elif kind == 1:
        draw.rectangle((x0, y0, x0 + side, y0 + side * 0.7), fill=colour)
    elif kind == 2:
        draw.polygon([(x0, y0), (x0 + side, y0), (x0 + side / 2, y0 + side)], fill=colour)
    else:
        for i in range(4):
            y = y0 + i * side / 4
            draw.rectangle((x0, y, x0 + side, y + side / 6), fill=colour)
    return img


def _size(rng: np.random.Generator) -> tuple[int, int]:
    """Photo sizes of 440-600 px on the shorter side, either orientation."""
    short = int(rng.integers(440, 600))
    size = (int(short * rng.uniform(1.0, 1.5)), short)
    return size if rng.integers(2) else size[::-1]


def _shift_batchnorm(net) -> None:
    """Each BatchNorm shifts its output to mean 1.5, so that nearly every ReLU passes.

    A random network in its usual regime is chaotic (a 2% change of the
    pixels turns its features half around), which no trained network is;
    kept nearly linear it behaves like a random projection of the image.
    """
    for bn in (m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        torch.nn.init.ones_(bn.weight)
        torch.nn.init.constant_(bn.bias, 1.5)


@pytest.fixture(scope="module")
def trained_checkpoint(tmp_path_factory, calibrate_batchnorm):
    """A checkpoint whose classifier has learned the drawn classes (features stay random)."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    prep = Preprocess.for_size(SIZE)
    labels = torch.arange(160) % len(CLASSES)
    drawn = [_draw(rng, int(y), _size(rng)) for y in labels]
    # Trained on each picture twice, once resampled at half size, as real training
    # augments scale: it makes the classifier indifferent to how pixels were resampled.
    images = torch.stack([prep(img) for img in drawn] + [prep(img.reduce(2)) for img in drawn])
    labels = labels.repeat(2)
    net = build_network("v3", num_classes=len(CLASSES), aux_logits=False)
    _shift_batchnorm(net)
    calibrate_batchnorm(net, images, batch_size=40)  # from the images: activations keep their scale
    with torch.no_grad():
        raw = torch.cat([net.forward_head(net.forward_features(c), True) for c in images.split(40)])
    mean, std = raw.mean(0), raw.std(0) + 1e-6
    head = torch.nn.Linear(raw.shape[1], len(CLASSES))
    opt = torch.optim.Adam(head.parameters(), lr=1e-3, weight_decay=1e-4)
    for _ in range(400):
        opt.zero_grad()
        # Dropout before the classifier, as the network's own recipe has (p = 0.5):
        # it spreads the decision over many features, as a trained network's is.
        features = torch.nn.functional.dropout((raw - mean) / std, 0.5)
        torch.nn.functional.cross_entropy(head(features), labels).backward()
        opt.step()
    with torch.no_grad():  # the standardisation moved into the classifier's weights
        net.fc.weight.copy_(head.weight / std)
        net.fc.bias.copy_(head.bias - (head.weight * mean / std).sum(1))
    path = tmp_path_factory.mktemp("trained") / "hues.safetensors"
    save_checkpoint(Checkpoint(net.state_dict(), "v3", CLASSES, prep), path)
    return path


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """200 held-out JPEGs of 440-900 px: large enough for draft decoding at 96 px."""
    rng = np.random.default_rng(1)
    folder = tmp_path_factory.mktemp("photos")
    paths = []
    for i in range(200):
        path = folder / f"p{i:03}.jpg"
        _draw(rng, i % len(CLASSES), _size(rng)).save(path, quality=90)
        paths.append(path)
    return paths


def _agreement(reference: torch.Tensor, other: torch.Tensor) -> tuple[float, float]:
    """(share of equal top-1, mean size of the top-5 overlap)."""
    top1 = (reference.argmax(1) == other.argmax(1)).float().mean().item()
    ref5, other5 = reference.topk(5, 1).indices.tolist(), other.topk(5, 1).indices.tolist()
    overlap = np.mean([len(set(a) & set(b)) for a, b in zip(ref5, other5)])
    return top1, float(overlap)


def _predicted_logits(clf, paths) -> torch.Tensor:
    """Logits the classifier's own pipeline gives (draft decoding, fast path)."""
    batches = [
        torch.stack([clf._load(p, i)[1] for i, p in enumerate(paths[s : s + 25])])
        for s in range(0, len(paths), 25)
    ]
    return torch.cat([clf.logits(b) for b in batches])


# The guard: top-1 on >= 99% of images, top-5 overlap >= 4.9 of 5 on average.
# Held to it: this file's stand-in model (its classifier is right on about 97% of
# the held-out pictures, with no top-2 margin under 0.05) and the ImageNet weights
# where they are cached. Measured here (bf16, draft decoding): top-1 100%, top-5
# 4.915 of 5 (99.5% and 4.90 before the pool branches pooled after their conv);
# over three other seeds 99.0-100% and 4.90-4.905. Of the 8 classes,
# ranks 5 and 6 are near-zero probabilities, so the top-5 figure is the tight one.
# A weaker stand-in (smaller shapes, 86% right) had 2% near-ties and fell to 98%.
GUARD = (0.99, 4.9)


def _imagenet_file():
    """The real torch hub cache (the autouse fixture hides it from every test body)."""
    from model import imagenet_cache_path

    return imagenet_cache_path()


_IMAGENET = _imagenet_file()


def test_fast_path_keeps_the_accuracy_guard(trained_checkpoint, photos):
    ref = load_classifier(trained_checkpoint, device="cpu", precision="fp32")
    prep = ref.info.preprocess
    full = torch.stack([prep(load_image(p)) for p in photos])  # full decode, no draft
    with torch.inference_mode():
        reference = torch.cat([ref.network(c) for c in full.split(25)])  # unfolded fp32
    truth = torch.arange(len(photos)) % len(CLASSES)
    assert (reference.argmax(1) == truth).float().mean() > 0.9  # chance is 0.125

    drafted = _predicted_logits(ref, photos)  # draft decoding, folded fp32
    top1, top5 = _agreement(reference, drafted)
    assert top1 >= GUARD[0] and top5 >= GUARD[1], (top1, top5)

    fast = load_classifier(trained_checkpoint, device="cpu", precision="bf16")
    low = _predicted_logits(fast, photos)  # draft decoding, folded bf16
    top1, top5 = _agreement(reference, low)
    assert top1 >= GUARD[0], (top1, top5)
    # The whole guard holds where auto picks bf16 (a CPU that computes it natively). Where
    # oneDNN emulates bf16 (an AMD EPYC without AVX-512 BF16 gave top-5 4.895), bf16 is
    # only ever an explicit choice, and auto stays in fp32.
    if _cpu_has_fast(torch.bfloat16):
        assert top5 >= GUARD[1], (top1, top5)
    results = fast.predict(photos[:10], k=5)
    assert [r[0].index for r in results] == low[:10].argmax(1).tolist()


@pytest.mark.slow
@pytest.mark.skipif(not _IMAGENET.is_file(), reason="ImageNet weights not in the torch hub cache")
def test_fast_path_keeps_the_guard_on_imagenet_weights(photos):
    ref = load_classifier(str(_IMAGENET), device="cpu", precision="fp32")
    fast = load_classifier(str(_IMAGENET), device="cpu", precision="auto")
    chosen = photos[:100]
    full = torch.stack([ref.info.preprocess(load_image(p)) for p in chosen])
    with torch.inference_mode():
        reference = torch.cat([ref.network(c) for c in full.split(10)])
    top1, top5 = _agreement(reference, _predicted_logits(fast, chosen))
    assert top1 >= GUARD[0] and top5 >= GUARD[1], (top1, top5)


@pytest.mark.parametrize(("variant", "transform_input"), [("v3", True), ("paper", False)])
def test_folding_matches_the_reference_in_fp32(variant, transform_input):
    torch.manual_seed(1)
    net = build_network(variant, num_classes=10, aux_logits=False, transform_input=transform_input)
    for bn in (m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        bn.running_mean.uniform_(-0.5, 0.5)  # statistics far from the identity, so folding shows
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.uniform_(-0.2, 0.2)
    net.eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    x = torch.randn(2, 3, 80, 80)
    with torch.inference_mode():
        reference = net(x)
        fast_net = build_fast_network(net, torch.device("cpu"), Precision.FP32, 80)
        fast, single = fast_net(x), fast_net(x[:1])
    scale = reference.abs().max()
    assert (fast - reference).abs().max() <= 1e-4 * scale
    assert (single - reference[:1]).abs().max() <= 1e-4 * scale  # the packed, batch-1 path
    packed = [m for m in fast_net.modules() if isinstance(m, _PackedConvReLU)]
    convs = sum(isinstance(m, BasicConv2d) for m in net.modules())
    assert len(packed) == convs or not torch.backends.mkldnn.is_available()  # every conv packed
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # the original is untouched
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fold_batchnorm(net).modules())


def test_fast_path_without_packing_still_matches(tiny_checkpoint, sample_images, monkeypatch):
    import model.network.fastpath as fastpath

    def refuse(*args):
        raise RuntimeError("this oneDNN build cannot pack")

    monkeypatch.setattr(fastpath, "_pack_for_cpu", refuse)
    clf = load_classifier(tiny_checkpoint, device="cpu", precision="fp32")
    assert not any(isinstance(m, fastpath._PackedConvReLU) for m in clf._fast.modules())
    batch = torch.stack([clf.info.preprocess(load_image(p)) for p in sample_images[:3]])
    with torch.inference_mode():
        expected = clf.network(batch)
    # Folding BatchNorm reorders the arithmetic: within 1e-4 of the largest logit, as the
    # packed path is held to (element-wise 1e-4 failed on one logit of nine on an AMD EPYC).
    assert (clf.logits(batch) - expected).abs().max() <= 1e-4 * expected.abs().max()


def test_precision_choices(tiny_checkpoint, tmp_path):
    assert Precision.parse("BF16") is Precision.BF16
    assert Precision.parse("int8") is Precision.INT8  # predicting only (tests/.../test_int8.py)
    with pytest.raises(PrecisionError, match="auto, fp32, bf16, fp16, int8"):
        Precision.parse("int4")
    with pytest.raises(ValueError, match="unknown precision"):
        load_classifier(tiny_checkpoint, device="cpu", precision="half")
    cpu = torch.device("cpu")
    auto = resolve_precision("auto", cpu)
    assert auto is (Precision.BF16 if _cpu_has_fast(torch.bfloat16) else Precision.FP32)
    if not _cpu_has_fast(torch.float16):
        # Refused before the weights are read: the missing file is never reported.
        with pytest.raises(PrecisionError, match="fp16"):
            load_classifier(tmp_path / "missing.safetensors", device="cpu", precision="fp16")

    clf = load_classifier(tiny_checkpoint, device="cpu")
    # auto starts in fp32 and switches only on measured figures (turned off in the tests)
    assert clf.precision == "fp32" and clf.requested_precision == "auto"
    assert clf.set_precision("fp32").precision == "fp32"
    with pytest.raises(PrecisionError):
        clf.set_precision("fp8")
    assert clf.precision == "fp32"  # unchanged by the refusal
    assert clf.to("cpu").precision == "fp32"  # what was asked for stays asked for
    clf.to("cpu", precision="auto")
    assert (clf.precision, clf.requested_precision) == ("fp32", "auto")
    assert len(clf.predict(Image.new("RGB", (120, 100), "blue"), k=2)[0]) == 2


def test_reference_network_keeps_hooks_and_gradients(tiny_checkpoint, sample_images):
    clf = load_classifier(tiny_checkpoint, device="cpu", precision="fp32")
    seen = []
    handle = clf.network.Mixed_7c.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    clf.predict(sample_images[0])
    assert seen == []  # predictions run on the fast copy
    x = torch.randn(1, 3, SIZE, SIZE, requires_grad=True)
    clf.network(x)[0, 0].backward()
    handle.remove()
    assert seen and seen[0][1] == 2048 and x.grad is not None and x.grad.abs().sum() > 0


def test_draft_decoding_keeps_at_least_the_target_size(tmp_path):
    path = tmp_path / "big.jpg"
    Image.new("RGB", (1700, 1100), "green").save(path, quality=90)
    assert load_image(path).size == (1700, 1100)  # no target: full size, as before
    small = load_image(path, target_size=110)
    assert min(small.size) >= 220 and small.size[0] < 1700 and small.mode == "RGB"
    assert min(load_image(path, target_size=300).size) == 1100  # not 4x the target: full
    png = tmp_path / "big.png"
    Image.new("RGB", (1700, 1100), "green").save(png)
    assert load_image(png, target_size=110).size == (1700, 1100)  # only JPEG has draft
    assert _draft_size((4000, 3000), 342) == (456, 342)


def test_folder_order_errors_and_cancel_with_decode_threads(
    tiny_checkpoint, sample_images, tmp_path
):
    clf = load_classifier(tiny_checkpoint, device="cpu")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 nope")
    inputs = [*sample_images, bad] * 3
    results = list(clf.iter_predict(iter(inputs), k=1, batch_size=4))  # a generator, not a list
    assert [r.source for r in results] == [str(p) for p in inputs]
    assert [r.ok for r in results] == [p != bad for p in inputs]
    polls = []
    cut = list(
        clf.iter_predict(inputs, batch_size=2, cancel=lambda: polls.append(1) or len(polls) > 5)
    )
    assert len(cut) == 4  # five polls passed, two full batches were yielded
