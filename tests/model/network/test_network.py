"""The network: parity with torchvision, parameter counts, stage shapes, head API."""

import copy

import pytest
import torch
import torchvision

from model import MIN_INPUT_SIZE, Variant, build_network
from model.network.blocks import BasicConv2d
from model.network.inception import pool_after_conv

# Output of each stage of the seed document's torchinfo table, for a 2 x 3 x 299 x 299 input.
SEED_STAGE_SHAPES = {
    "Conv2d_1a_3x3": (2, 32, 149, 149),
    "Conv2d_2a_3x3": (2, 32, 147, 147),
    "Conv2d_2b_3x3": (2, 64, 147, 147),
    "maxpool1": (2, 64, 73, 73),
    "Conv2d_3a_3x3": (2, 80, 71, 71),
    "Conv2d_3b_3x3": (2, 192, 35, 35),
    "Conv2d_4a_3x3": (2, 288, 35, 35),
    "Mixed_5b": (2, 288, 35, 35),
    "Mixed_5c": (2, 288, 35, 35),
    "Mixed_6a": (2, 768, 17, 17),
    "Mixed_6b": (2, 768, 17, 17),
    "Mixed_6c": (2, 768, 17, 17),
    "Mixed_6d": (2, 768, 17, 17),
    "Mixed_6e": (2, 768, 17, 17),
    "Mixed_7a": (2, 1280, 8, 8),
    "Mixed_7b": (2, 2048, 8, 8),
    "Mixed_7c": (2, 2048, 8, 8),
}


def count(net):
    return sum(p.numel() for p in net.parameters())


@pytest.fixture(scope="module")
def calibrated_reference(calibrate_batchnorm):
    """torchvision's Inception3, random, with BatchNorm statistics taken from real activations.

    Without this, random weights give logits near 1e11 and an absolute tolerance
    would test nothing. Called with Inception3's keyword arguments.
    """

    def build(**kwargs):
        reference = torchvision.models.inception_v3(weights=None, init_weights=True, **kwargs)
        return calibrate_batchnorm(reference, torch.randn(4, 3, 299, 299))

    return build


@pytest.fixture(scope="module")
def twins(calibrated_reference):
    """Our v3 and torchvision's Inception3 holding the same random state dict."""
    torch.manual_seed(0)
    reference = calibrated_reference(aux_logits=True)
    ours = build_network("v3", init_weights=False)
    ours.load_state_dict(reference.state_dict(), strict=True)
    return ours, reference


def test_v3_state_dict_keys_are_torchvision_keys(twins):
    ours, reference = twins
    assert list(ours.state_dict()) == list(reference.state_dict())


def test_v3_eval_logits_match_torchvision(twins):
    ours, reference = twins
    ours.eval(), reference.eval()
    x = torch.randn(2, 3, 299, 299)
    with torch.no_grad():
        expected = reference(x)
        diff = (ours(x) - expected).abs().max().item()
    assert expected.abs().max().item() < 1e3  # a meaningful scale for the tolerance
    assert diff <= 1e-4


def test_v3_train_returns_logits_and_aux_like_torchvision(twins):
    ours, reference = twins
    ours.train(), reference.train()
    x = torch.randn(2, 3, 299, 299)
    torch.manual_seed(7)
    logits, aux = ours(x)
    torch.manual_seed(7)
    expected = reference(x)
    assert (logits - expected.logits).abs().max().item() <= 1e-4
    assert (aux - expected.aux_logits).abs().max().item() <= 1e-4


def test_pool_after_conv_computes_the_same_function(twins):
    ours = copy.deepcopy(twins[0])  # training mode moves its running statistics
    twin = copy.deepcopy(ours)
    assert pool_after_conv(twin) == 9  # Mixed_5b-d, Mixed_6b-e, Mixed_7b-c
    calls = {"unit": 0, "conv": 0}  # the reordered branch really runs:

    def counter(kind):  # its conv is called, the BasicConv2d unit itself is not
        def hook(module, args, output):
            calls[kind] += 1

        return hook

    for name, module in twin.named_modules():
        if name.endswith("branch_pool"):
            module.register_forward_hook(counter("unit"))
            module.conv.register_forward_hook(counter("conv"))
    x = torch.randn(2, 3, 139, 139)
    for mode in ("eval", "train"):
        getattr(ours, mode)(), getattr(twin, mode)()
        torch.manual_seed(3)  # the same dropout mask on both
        expected = ours(x)
        torch.manual_seed(3)
        got = twin(x)
        pairs = zip(expected, got) if mode == "train" else [(expected, got)]  # (logits, aux)
        for e, g in pairs:
            assert (e - g).abs().max().item() <= 1e-4 * max(1.0, e.abs().max().item())
    assert calls == {"unit": 0, "conv": 2 * 9}
    # In training mode every BatchNorm saw the same batch statistics.
    for a, b in zip(ours.buffers(), twin.buffers()):
        assert torch.allclose(a.float(), b.float(), rtol=1e-4, atol=1e-5)


def test_pool_after_conv_keeps_a_conv_bias_out_of_the_pool():
    torch.manual_seed(0)
    unit = BasicConv2d(8, 4, 1, bias=True).eval()
    torch.nn.init.normal_(unit.conv.bias, 0, 1)
    x = torch.randn(1, 8, 6, 6)
    with torch.no_grad():
        expected = unit(torch.nn.functional.avg_pool2d(x, 3, 1, 1))
        assert torch.allclose(unit.forward_pool_after(x), expected, atol=1e-6)
    # The seed's max-pool branches do not commute with a conv and are left alone,
    # and so is an average-pool branch whose conv is not pointwise.
    assert pool_after_conv(build_network("paper")) == 0
    net = build_network("v3")
    net.Mixed_5b.branch_pool = BasicConv2d(192, 32, 3, padding=1)
    assert pool_after_conv(net) == 8 and not net.Mixed_5b.pool_after_conv


def test_transform_input_matches_torchvision(calibrated_reference):
    torch.manual_seed(1)
    reference = calibrated_reference(aux_logits=False, transform_input=True).eval()
    ours = build_network("v3", aux_logits=False, transform_input=True, init_weights=False).eval()
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(1, 3, 299, 299)
    with torch.no_grad():
        assert (ours(x) - reference(x)).abs().max().item() <= 1e-4


@pytest.mark.parametrize(
    ("variant", "aux", "expected"),
    [("v3", True, 27_161_264), ("v3", False, 23_834_568), ("paper", True, 24_826_016)],
)
def test_parameter_counts(variant, aux, expected):
    assert count(build_network(variant, aux_logits=aux, init_weights=False)) == expected


def test_paper_stage_shapes_match_the_seed_table():
    net = build_network("paper", init_weights=False).eval()
    x = torch.randn(2, 3, 299, 299)
    seen = {}
    with torch.no_grad():
        for name in net._stage_names:
            x = getattr(net, name)(x)
            seen[name] = tuple(x.shape)
    assert seen == SEED_STAGE_SHAPES


def test_paper_aux_head_taps_the_first_grid_reduction():
    net = build_network("paper", init_weights=False)
    taps = []
    net.AuxLogits.register_forward_hook(lambda m, inp, out: taps.append(tuple(inp[0].shape)))
    net.train()
    logits, aux = net(torch.randn(2, 3, 299, 299))
    assert taps == [(2, 768, 17, 17)]
    assert aux.shape == logits.shape == (2, 1000)


@pytest.mark.parametrize("variant", ["v3", "paper"])
@pytest.mark.parametrize("size", [MIN_INPUT_SIZE, 107])
def test_small_inputs_work_in_train_and_eval(variant, size):
    net = build_network(variant, num_classes=4, init_weights=False)
    x = torch.randn(2, 3, size, size)
    logits, aux = net.train()(x)
    assert logits.shape == aux.shape == (2, 4)
    with torch.no_grad():
        assert net.eval()(x).shape == (2, 4)


def test_below_minimum_size_fails():
    net = build_network("v3", init_weights=False).eval()
    with pytest.raises(RuntimeError):
        net(torch.randn(1, 3, 60, 60))


def test_head_api_and_reset_classifier():
    net = build_network("v3", num_classes=10, dropout=0.2, init_weights=False).eval()
    x = torch.randn(1, 3, 99, 99)
    with torch.no_grad():
        features = net.forward_features(x)
        assert features.shape == (1, 2048, 1, 1)
        assert net.forward_head(features, pre_logits=True).shape == (1, 2048)
        assert torch.allclose(net.forward_head(features), net(x))
    net.reset_classifier(7)
    assert net.fc.out_features == 7 and net.AuxLogits.fc.out_features == 7
    assert net.num_classes == 7
    assert net.dropout.p == 0.2
    assert net.get_classifier() is net.fc


def test_without_aux_train_mode_returns_logits_only():
    net = build_network("paper", num_classes=5, aux_logits=False, init_weights=False).train()
    out = net(torch.randn(2, 3, 75, 75))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 5)


def test_unknown_variant_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown variant 'v4'.*v3, paper"):
        build_network("v4")
    assert Variant.parse("paper") is Variant.PAPER
