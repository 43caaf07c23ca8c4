"""The fast inference path: the network rebuilt for speed, and the precision it runs in.

:class:`~model.inference.classifier.Classifier` keeps the loaded network as it is (fp32,
BatchNorm intact, hooks and gradients work) and predicts with a copy built
here by :func:`build_fast_network`:

- every ``BasicConv2d``'s BatchNorm folded into its convolution, and
  ``transform_input`` folded into the first convolution, so inference runs
  one op a layer instead of three;
- channels-last memory, which oneDNN and cuDNN convolve without reordering;
- the convolutions in bf16 or fp16 where the hardware has fast units for
  them, with the pooled features and the classifier kept in fp32 (the top-5
  ranking is decided there, and it costs 2 MFLOP of 11 GFLOP);
- the average-pool branches pooled after their 1x1 convolution, on 4-10x
  fewer channels (:func:`model.network.inception.pool_after_conv`);
- on the CPU, each convolution's weights reordered once into oneDNN's
  blocked layout for the single-image shape, fused with its ReLU. Plain
  eager convolution reorders the weights on every call, which at batch 1 is
  a quarter of the time. Batches of other shapes use the plain weights (the
  reorder is amortised over the batch there, and one packing per shape would
  cost 50-100 MB each).

torch.compile is deliberately absent: on a 2-core CPU it takes 12 s with a
warm inductor cache and 36 s without, during which it competes with the
predictions it is meant to speed up, for about 1.3x afterwards; the packed
eager path gets most of that gain with no wait (see bench/README.md).
"""

from __future__ import annotations

import contextlib
import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from model.errors import PrecisionError
from model.network.blocks import BasicConv2d
from model.network.inception import Inception3, pool_after_conv
from model.precision import Precision, resolve_precision

__all__ = [
    "FastNetwork",
    "Precision",
    "PrecisionError",
    "build_fast_network",
    "fold_batchnorm",
    "resolve_precision",
]


def _fold_input_transform(network: Inception3) -> None:
    """Move ``transform_input``'s per-channel affine map into the first conv's weights.

    Exact because that conv has no padding: every input pixel it reads is a
    real one, so ``conv(x * s + t) == conv'(x)`` with ``W' = W * s`` and the
    bias absorbing ``sum(W * t)``.
    """
    first = network.Conv2d_1a_3x3.conv
    if not network.transform_input or tuple(first.padding) != (0, 0):
        return
    ones = torch.ones(1, 3, 1, 1, dtype=first.weight.dtype, device=first.weight.device)
    shift = network._transform_input(torch.zeros_like(ones))  # t
    scale = network._transform_input(ones) - shift  # s
    with torch.no_grad():
        bias = first.bias if first.bias is not None else torch.zeros_like(first.weight[:, 0, 0, 0])
        new_bias = bias + (first.weight * shift).sum(dim=(1, 2, 3))
        first.weight.mul_(scale)
        first.bias = nn.Parameter(new_bias)
    network.transform_input = False


def fold_batchnorm(network: Inception3) -> Inception3:
    """A copy of ``network`` with each BatchNorm folded into the conv before it.

    The network given (and any state dict that shares its tensors) is left
    untouched. The copy computes the same eval-mode function, with
    ``transform_input`` folded into the first convolution as well.
    """
    fused = copy.deepcopy(network).eval()
    for module in fused.modules():
        if isinstance(module, BasicConv2d) and isinstance(module.bn, nn.BatchNorm2d):
            module.conv = fuse_conv_bn_eval(module.conv, module.bn)
            module.bn = nn.Identity()
    _fold_input_transform(fused)
    return fused


class _PackedConvReLU(nn.Module):
    """A folded ``BasicConv2d`` as one oneDNN convolution with its ReLU fused.

    ``packed`` is the weight in oneDNN's blocked layout for ``packed_shape``;
    other shapes (folder batches) convolve with the plain weight, still fused
    with the ReLU (7% faster at batch 8 than a separate conv and ReLU).
    """

    def __init__(self, conv: nn.Conv2d, input_shape: torch.Size) -> None:
        super().__init__()
        self.args = (list(conv.padding), list(conv.stride), list(conv.dilation), conv.groups)
        self.weight = conv.weight.detach().contiguous(memory_format=torch.channels_last)
        self.bias = None if conv.bias is None else conv.bias.detach()
        padding, stride, dilation, groups = self.args
        self.packed = torch.ops.mkldnn._reorder_convolution_weight(
            self.weight, padding, stride, dilation, groups, list(input_shape)
        )
        self.packed_shape = tuple(input_shape)

    @property
    def is_pointwise(self) -> bool:
        """A 1x1 stride-1 unpadded conv (see ``BasicConv2d.is_pointwise``)."""
        padding, stride, _, _ = self.args
        return tuple(self.weight.shape[-2:]) == (1, 1) and stride == [1, 1] and padding == [0, 0]

    def _weight_for(self, x: torch.Tensor) -> torch.Tensor:
        # The plain weight works for any shape: oneDNN reorders it on the fly.
        return self.packed if tuple(x.shape) == self.packed_shape else self.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.mkldnn._convolution_pointwise(
            x, self._weight_for(x), self.bias, *self.args, "relu", [], ""
        )

    def forward_pool_after(self, x: torch.Tensor) -> torch.Tensor:
        """``self(avg_pool3x3(x))`` with the pool moved after the conv, as in ``BasicConv2d``."""
        y = torch.ops.mkldnn._convolution_pointwise(
            x, self._weight_for(x), None, *self.args, "none", [], ""
        )
        y = F.avg_pool2d(y, kernel_size=3, stride=1, padding=1)
        if self.bias is not None:
            y = y.add_(self.bias.view(1, -1, 1, 1))
        return F.relu(y, inplace=True)


def _pack_for_cpu(fused: Inception3, crop_size: int) -> None:
    """Replace each folded ``BasicConv2d`` with a packed, ReLU-fused oneDNN conv."""
    shapes: dict[str, torch.Size] = {}

    def record(name: str):
        def hook(_module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
            shapes.setdefault(name, args[0].shape)

        return hook

    hooks = [
        module.register_forward_pre_hook(record(name))
        for name, module in fused.named_modules()
        if isinstance(module, BasicConv2d)
    ]
    probe = torch.zeros(1, 3, crop_size, crop_size)  # the stem takes fp32
    try:
        with torch.inference_mode():
            fused.forward_features(probe.contiguous(memory_format=torch.channels_last))
    finally:
        for hook in hooks:
            hook.remove()
    for name, shape in shapes.items():
        parent_name, _, attr = name.rpartition(".")
        parent = fused.get_submodule(parent_name)
        setattr(parent, attr, _PackedConvReLU(getattr(parent, attr).conv, shape))


class _CastAfter(nn.Module):
    """Run ``module`` in its own dtype and hand its output on in ``dtype``."""

    def __init__(self, module: nn.Module, dtype: torch.dtype) -> None:
        super().__init__()
        self.module = module
        self.dtype = dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x).to(self.dtype)


class FastNetwork(nn.Module):
    """Inference-only Inception v3: folded, channels-last, reduced precision.

    Parameters
    ----------
    network : Inception3
        The reference network (not modified; its weights are copied).
    device : torch.device
        Where to run.
    precision : Precision
        A resolved precision (not ``auto``): see :func:`resolve_precision`.
    crop_size : int
        The input side single images arrive at; the CPU packs for it.
    """

    def __init__(
        self, network: Inception3, device: torch.device, precision: Precision, crop_size: int
    ) -> None:
        super().__init__()
        if precision is Precision.AUTO:
            raise ValueError("resolve the precision before building the fast network")
        self.device = device
        self.precision = precision
        self.dtype = precision.dtype
        fused = fold_batchnorm(network).to(device)
        fc, fused.fc = fused.fc, None  # the classifier runs in fp32 beside it (see below)
        stem = fused.Conv2d_1a_3x3.to(memory_format=torch.channels_last)
        fused.Conv2d_1a_3x3 = None
        fused = fused.to(dtype=self.dtype, memory_format=torch.channels_last)
        # The stem convolves the pixels in fp32: rounding the input itself to bf16
        # (8 bits) costs more agreement with fp32 than any later layer, and the
        # stem is 2% of the work.
        fused.Conv2d_1a_3x3 = _CastAfter(stem, self.dtype)
        if device.type == "cpu" and torch.backends.mkldnn.is_available():
            # An old or odd oneDNN build that cannot pack: the folded eager path is still right.
            with contextlib.suppress(RuntimeError, AttributeError, NotImplementedError):
                _pack_for_cpu(fused, crop_size)
        pool_after_conv(fused)  # after packing: the probe records each conv's own input
        self.features = fused
        self.fc = fc.to(dtype=torch.float32)

    @torch.inference_mode()
    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        """Logits in fp32 for a normalised ``N x 3 x H x W`` batch (any device, any dtype)."""
        x = batch.to(self.device, torch.float32, non_blocking=True)
        x = x.contiguous(memory_format=torch.channels_last)
        features = self.features.forward_features(x)  # N x 2048 x 8 x 8 at 299 px
        pooled = features.float().mean(dim=(2, 3))  # N x 2048, averaged in fp32
        return self.fc(pooled)  # N x num_classes


def build_fast_network(
    network: Inception3, device: torch.device, precision: Precision, crop_size: int
) -> FastNetwork:
    """The network a :class:`~model.inference.classifier.Classifier` predicts with."""
    return FastNetwork(network, device, precision, crop_size).eval()
