"""The layer summary: totals, shapes, shared parameters, plain data."""

import dataclasses

import pytest
import torch
from torch import nn

from model import summarize, summarize_module


@pytest.mark.parametrize(("variant", "total"), [("v3", 27_161_264), ("paper", 24_826_016)])
def test_totals(variant, total):
    s = summarize(variant)
    assert s.total_params == s.trainable_params == s.root.total_params == total
    assert sum(c.total_params for c in s.root.children) == total


def test_v3_tree_shapes_and_mult_adds():
    s = summarize("v3")
    names = [c.name for c in s.root.children]
    assert names[:3] == ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"]
    assert names.index("AuxLogits") == names.index("Mixed_6e") + 1
    mixed_6e = s.root.find("Mixed_6e")
    assert mixed_6e.output_shape == (1, 768, 17, 17)
    assert s.root.find("Mixed_7c").output_shape == (1, 2048, 8, 8)
    conv = s.root.find("Mixed_6b.branch7x7_2.conv")
    assert conv.details["kernel_size"] == [1, 7]
    # A 1x7 conv 128 -> 128 on a 17 x 17 grid: 128 * 128 * 7 * 289 multiply-adds.
    assert conv.mult_adds == 128 * 128 * 7 * 17 * 17
    # torchvision publishes 5.71 GFLOPS (multiply-adds) for inference at 299 px.
    assert round(s.inference_mult_adds / 1e9, 2) == 5.71
    assert s.mult_adds > s.inference_mult_adds


def test_paper_mult_adds_drop_by_the_once_computed_stems():
    # The seed printed 11.19 G for two images, with each 8 x 8 stem run twice.
    s = summarize("paper")
    assert round(2 * s.inference_mult_adds / 1e9, 2) == 10.44


def test_input_size_changes_shapes_and_validation():
    s = summarize("v3", input_size=139)
    assert s.root.find("Mixed_6e").output_shape == (1, 768, 7, 7)
    with pytest.raises(ValueError, match="at least 75"):
        summarize("v3", input_size=64)


def test_shared_modules_are_counted_once():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 3, padding=1)
            self.left = nn.Sequential(self.stem, nn.Conv2d(8, 4, 1))
            self.right = nn.Sequential(self.stem, nn.Conv2d(8, 4, 1))

        def forward(self, x):
            return torch.cat([self.left(x), self.right(x)], 1)

    root = summarize_module(Shared(), input_size=16)
    stem = 3 * 8 * 9 + 8
    heads = 2 * (8 * 4 + 4)
    assert root.total_params == stem + heads  # torchinfo would count the stem three times


def test_nodes_are_plain_data(node_keys):
    s = summarize("v3", input_size=75)
    for node in s.root.walk():
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            assert not isinstance(value, nn.Module | torch.Tensor)
    assert set(s.root.to_dict()) >= node_keys


def test_summary_leaves_the_module_untouched():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    summarize_module(net, input_size=32)
    assert not net.training
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k
