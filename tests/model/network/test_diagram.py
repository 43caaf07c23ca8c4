"""The drawing of the network: every block's boxes and arrows against the module and the summary.

The diagram is traced from ``forward`` with torch.fx; these tests check it another way:
they run each block on a real tensor with hooks on its convolutions and check that each
box reads what the box below it wrote, and that concatenating the branches' outputs in
the drawn order gives the block's output, bit for bit.
"""

import dataclasses
import functools

import pytest
import torch
import torch.nn.functional as F

from model import build_network, summarize_module
from model.network import describe_network, network_diagram
from model.network.blocks import BasicConv2d
from model.network.inception import pool_after_conv

SIZE = 107  # small, but every grid stays at least 3 x 3


@functools.cache
def _measured(variant):
    """One network of each variant and its summary at SIZE, shared by the tests (read only)."""
    torch.manual_seed(0)
    net = build_network(variant, num_classes=10).eval()
    summary = summarize_module(net, SIZE)
    return net, summary, describe_network(net, summary, SIZE)


@pytest.fixture(params=["v3", "paper"])
def drawn(request):
    return _measured(request.param)


def test_stages_are_the_forward_chain_with_the_summary_shapes(drawn):
    net, summary, d = drawn
    children = [name for name, _ in net.named_children() if name != "AuxLogits"]
    assert [s.path for s in d.stages] == children
    below = d.input_shape
    for stage in d.stages:
        row = summary.find(stage.path)
        assert stage.input_shape == below  # the arrow into a stage is the last one's output
        assert stage.output_shape == row.output_shape
        assert (stage.params, stage.mult_adds) == (row.total_params, row.mult_adds)
        below = stage.output_shape
    assert d.num_classes == 10 and d.stages[-1].output_shape == (1, 10)
    assert d.aux_after == net._aux_after  # the head reads the stage forward feeds it
    assert d.aux.input_shape == summary.find(net._aux_after).output_shape
    assert d.aux.output_shape == (1, 10)
    assert [b.path for b in d.blocks] == [s.path for s in d.stages if s.op == "block"]


def _run_with_hooks(block, x):
    """Each conv's input and output tensors, by attribute name, and the block's output."""
    seen = {}
    hooks = [
        m.register_forward_hook(lambda mod, args, out, n=n: seen.__setitem__(n, (args[0], out)))
        for n, m in block.named_children()
        if isinstance(m, BasicConv2d)
    ]
    try:
        with torch.no_grad():
            out = block(x)
    finally:
        for h in hooks:
            h.remove()
    return seen, out


def _block_cases():
    for variant in ("v3", "paper"):
        net = build_network(variant, init_weights=False)
        for name, module in net.named_children():
            if type(module).__name__ in (
                "InceptionA",
                "InceptionB",
                "InceptionC",
                "InceptionD",
                "InceptionE",
            ):
                yield pytest.param(variant, name, id=f"{variant}-{name}")


@pytest.mark.parametrize(("variant", "name"), list(_block_cases()))
def test_every_block_is_drawn_as_its_module_computes(variant, name):
    net, summary, diagram = _measured(variant)
    block = getattr(net, name)
    d = diagram.block(name)
    assert d.type == type(block).__name__
    assert d.output_shape == summary.find(name).output_shape

    # Every conv of the module is one box, with the module's own geometry and the summary's shape.
    convs = {n: m.conv for n, m in block.named_children() if isinstance(m, BasicConv2d)}
    drawn_convs = [b for b in d.boxes() if b.module]
    assert sorted(b.name for b in drawn_convs) == sorted(convs)
    for box in drawn_convs:
        conv = convs[box.name]
        assert box.path == f"{name}.{box.name}"
        assert (box.kernel, box.stride, box.padding) == (
            conv.kernel_size,
            conv.stride,
            conv.padding,
        )
        assert (box.in_channels, box.out_channels) == (conv.in_channels, conv.out_channels)
        assert box.output_shape == summary.find(box.path).output_shape
        assert box.params == summary.find(box.path).total_params

    # The arrows: each box reads what the box below it wrote, as the module really runs.
    x = torch.randn(d.input_shape)
    seen, out = _run_with_hooks(block, x)
    outputs = []
    for branch in d.branches:
        below = x
        for step in branch.steps:
            made = []
            for box in step:
                if box.module:
                    given, result = seen[box.name]
                    assert torch.equal(given, below), f"{box.path} reads another tensor"
                else:
                    pool = F.max_pool2d if box.op == "max pool" else F.avg_pool2d
                    result = pool(below, box.kernel, box.stride, box.padding)
                assert tuple(result.shape) == box.output_shape
                assert box.input_shape == tuple(below.shape)
                made.append(result)
            below = made[0]
        outputs += made
    # The concatenation, in the drawn order of branches, is the block's output.
    torch.testing.assert_close(torch.cat(outputs, 1), out, rtol=0, atol=1e-5)
    assert sum(b.out_channels for b in d.branches) == d.output_shape[1]
    # Arrows into the concatenation carry the shapes of what goes in.
    into_concat = [shape for _, to, shape in d.arrows() if to == "concat"]
    assert into_concat == [tuple(o.shape) for o in outputs]


def test_table_1_shapes_at_299_px():
    # The paper's table 1: 35 x 35 x 288 into the first Inception blocks, 17 x 17 x 768 into
    # the next, 8 x 8 x 1280 into the last, 8 x 8 x 2048 out.
    d = network_diagram("paper", 299)
    assert d.block("Mixed_5b").input_shape == (1, 288, 35, 35)
    assert d.block("Mixed_6b").input_shape == (1, 768, 17, 17)
    assert d.block("Mixed_7b").input_shape == (1, 1280, 8, 8)
    assert d.block("Mixed_7c").output_shape == (1, 2048, 8, 8)
    reduction = d.block("Mixed_7a")
    assert [b.outputs[0].output_shape for b in reduction.branches] == [
        (1, 320, 8, 8),
        (1, 192, 8, 8),
        (1, 768, 8, 8),
    ]


def test_the_head_and_the_pool_switch_of_a_live_network_are_followed():
    net = build_network("v3", num_classes=4, aux_logits=False).eval()
    assert pool_after_conv(net) > 0  # as the training engine leaves it
    summary = summarize_module(net, 91)
    d = describe_network(net, summary, 91)
    assert d.aux is None and d.aux_after is None and d.num_classes == 4
    # Drawn as the math reads (pool, then 1x1), and the live switch left on.
    assert [b.op for b in d.block("Mixed_5b").branches[-1].boxes] == ["avg pool", "conv"]
    assert net.Mixed_5b.pool_after_conv is True and not net.training


def test_a_summary_is_reused_and_the_result_is_plain_data():
    from model import summarize

    s = summarize("paper", 99, num_classes=3, aux_logits=True)
    d = network_diagram(summary=s)
    assert (d.variant, d.input_size, d.num_classes) == ("paper", 99, 3)
    assert d.aux is not None and d.aux_after == "Mixed_6a"
    assert dataclasses.replace(d) == d  # frozen dataclasses all the way down
    for box in [*d.stages, *(b for blk in d.blocks for b in blk.boxes())]:
        assert not any(isinstance(v, torch.Tensor | torch.nn.Module) for v in vars(box).values())
    with pytest.raises(ValueError, match="at least 75"):
        network_diagram("v3", 60)
