"""auto precision by measurement: never slower than fp32, cached, never delaying a prediction."""

import json

import pytest
import torch

from model import load_classifier
from model.inference import tuning
from model.inference.tuning import AutoChoice, Timing, choose, measure_inference
from model.network.inception import build_network
from model.precision import Precision


@pytest.fixture
def measuring(monkeypatch):
    monkeypatch.setenv("INCEPTION_GUI_PRECISION_TUNING", "1")


def test_the_fastest_wins_only_by_a_clear_margin():
    assert choose([Timing("fp32", 50.0), Timing("bf16", 25.0)])[0] == "bf16"
    assert choose([Timing("fp32", 50.0), Timing("bf16", 48.5)])[0] == "fp32"  # within 5%
    assert choose([Timing("fp32", 50.0), Timing("bf16", 80.0)])[0] == "fp32"  # the Xeon case
    chosen, reason = choose([Timing("fp32", 50.0), Timing("bf16", 80.0), Timing("fp16", 20.0)])
    assert chosen == "fp16" and "2.50x" in reason


@pytest.mark.parametrize("fp32, other", [(10, 5), (10, 9.6), (10, 30), (3, 2.9), (7, 1)])
def test_auto_never_settles_on_a_precision_slower_than_fp32(fp32, other):
    timings = [Timing("fp32", fp32), Timing("bf16", other)]
    chosen, _ = choose(timings)
    assert {t.precision: t.ms for t in timings}[chosen] <= fp32


def _fake_candidates(monkeypatch):
    """Pretend this CPU runs bf16, so that there is something to compare."""
    monkeypatch.setattr(tuning, "candidates", lambda device: [Precision.FP32, Precision.BF16])


def test_figures_are_measured_once_then_read_from_the_cache(monkeypatch, measuring, tmp_path):
    _fake_candidates(monkeypatch)
    net = build_network("v3", num_classes=3, aux_logits=False).eval()
    first = measure_inference(net, torch.device("cpu"), 75, repeats=1)
    assert not first.cached and [t.precision for t in first.timings] == ["fp32", "bf16"]
    assert all(t.ms > 0 for t in first.timings)
    doc = json.loads(tuning.cache_path().read_text())
    assert first.key in doc["entries"] and "torch " + torch.__version__ in first.key
    again = measure_inference(net, torch.device("cpu"), 75, repeats=1)
    assert again.cached and again.timings == first.timings and again.chosen == first.chosen
    other_shape = measure_inference(net, torch.device("cpu"), 79, repeats=1)
    assert not other_shape.cached  # keyed by shape


def test_a_damaged_cache_is_measured_anew(monkeypatch, measuring):
    _fake_candidates(monkeypatch)
    tuning.cache_path().parent.mkdir(parents=True, exist_ok=True)
    tuning.cache_path().write_text("{ not json")
    net = build_network("v3", num_classes=3, aux_logits=False).eval()
    choice = measure_inference(net, torch.device("cpu"), 75, repeats=1)
    assert not choice.cached and choice.chosen in ("fp32", "bf16")


def test_a_device_with_one_candidate_measures_nothing(monkeypatch, measuring):
    monkeypatch.setattr(tuning, "candidates", lambda device: [Precision.FP32])
    monkeypatch.setattr(tuning, "_median_ms", lambda *a: pytest.fail("timed for nothing"))
    net = build_network("v3", num_classes=3, aux_logits=False).eval()
    choice = measure_inference(net, torch.device("cpu"), 75)
    assert choice.chosen == "fp32" and "only precision" in choice.reason


def test_auto_starts_in_fp32_and_switches_when_the_figures_say_so(
    tiny_checkpoint, sample_images, monkeypatch, measuring
):
    started = []

    def slow_measure(network, device, crop, **kw):
        started.append(crop)
        return AutoChoice(
            "bf16",
            "bf16 is 2.00x as fast",
            (Timing("fp32", 2.0), Timing("bf16", 1.0)),
            "key",
            False,
        )

    monkeypatch.setattr("model.inference.classifier.measure_inference", slow_measure)
    clf = load_classifier(tiny_checkpoint, device="cpu")
    assert clf.requested_precision == "auto"
    assert clf.predict(sample_images[0])[0].ok  # answered at once, whatever the measuring does
    choice = clf.wait_for_tuning(timeout=60)
    assert started == [96] and choice.chosen == "bf16" and clf.precision == "bf16"


def test_auto_keeps_fp32_when_measuring_fails(tiny_checkpoint, monkeypatch, measuring):
    def broken(*a, **kw):
        raise RuntimeError("oneDNN said no")

    monkeypatch.setattr("model.inference.classifier.measure_inference", broken)
    clf = load_classifier(tiny_checkpoint, device="cpu")
    choice = clf.wait_for_tuning(timeout=60)
    assert clf.precision == "fp32" and "oneDNN said no" in choice.reason


def test_an_explicit_precision_measures_nothing(tiny_checkpoint, monkeypatch, measuring):
    monkeypatch.setattr(
        "model.inference.classifier.measure_inference", lambda *a, **k: pytest.fail("measured")
    )
    clf = load_classifier(tiny_checkpoint, device="cpu", precision="fp32")
    assert clf.wait_for_tuning(timeout=1) is None and clf.precision == "fp32"


def test_timing_a_training_step_changes_nothing_of_the_run(monkeypatch, measuring):
    monkeypatch.setattr(tuning, "training_candidates", lambda device: ["fp32", "bf16"])
    torch.manual_seed(0)
    net = build_network("v3", num_classes=3, aux_logits=True).train()
    weights = {k: v.clone() for k, v in net.state_dict().items()}  # buffers included
    rng = torch.get_rng_state()
    choice = tuning.measure_training(net, torch.device("cpu"), 75, 2, 3, repeats=1)
    assert [t.precision for t in choice.timings] == ["fp32", "bf16"]
    assert choice.chosen in ("fp32", "bf16") and "training" in choice.key
    after = net.state_dict()
    assert all(torch.equal(weights[k], after[k]) for k in weights)  # BatchNorm stats too
    assert all(p.grad is None for p in net.parameters())
    assert torch.equal(torch.get_rng_state(), rng)  # the run's crops and dropout unchanged


def test_a_cpu_without_fast_bf16_trains_in_fp32_without_measuring(monkeypatch, measuring):
    monkeypatch.setattr(tuning, "candidates", lambda device: [Precision.FP32])
    monkeypatch.setattr(tuning, "_median_ms", lambda *a: pytest.fail("timed for nothing"))
    net = build_network("v3", num_classes=3, aux_logits=False)
    choice = tuning.measure_training(net, torch.device("cpu"), 75, 2, 3)
    assert choice.chosen == "fp32" and "only precision" in choice.reason
