"""The factorized building blocks of Inception v3 (Szegedy et al., 2015).

One set of blocks serves both variants of the network. Attribute names follow
torchvision's ``Inception3`` so that its checkpoints load with ``strict=True``;
the keyword options are what the ``paper`` variant (the seed document's layout)
changes: kernel sizes, widths, the pooling branch and a bias before BatchNorm.

Block          grid      factorization (paper section)
-------------  --------  ---------------------------------------------------
InceptionA     35 x 35   5x5 as two stacked 3x3 (section 3.1, figure 5)
InceptionB     35 -> 17  stride-2 convs beside a stride-2 max pool (section 5)
InceptionC     17 x 17   7x7 as 1x7 then 7x1 (section 3.2, figure 6)
InceptionD     17 -> 8   stride-2 convs beside a stride-2 max pool (section 5)
InceptionE     8 x 8     expanded filter bank: 1x3 and 3x1 side by side (figure 7)
InceptionAux   17 x 17   the BN auxiliary classifier (section 4)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "BasicConv2d",
    "InceptionA",
    "InceptionAux",
    "InceptionB",
    "InceptionC",
    "InceptionD",
    "InceptionE",
]

Kernel = int | tuple[int, int]


def _same_padding(kernel: Kernel) -> int | tuple[int, int]:
    """Padding that keeps the grid size for a stride-1 odd kernel."""
    if isinstance(kernel, int):
        return kernel // 2
    return (kernel[0] // 2, kernel[1] // 2)


class BasicConv2d(nn.Module):
    """Convolution, BatchNorm, ReLU: the unit every Inception block is made of.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels in and out.
    kernel_size : int or (int, int)
        Kernel; ``(1, 7)`` is one row of seven.
    stride : int
        Stride of the convolution.
    padding : int, (int, int) or "same"
        ``"same"`` keeps the grid size (stride 1 only).
    bias : bool
        A bias on the convolution. BatchNorm's shift makes it redundant; the
        ``paper`` variant keeps it only so its parameter count matches the seed.
    bn_eps : float
        BatchNorm epsilon: 1e-3 in the released network, torch's 1e-5 in the seed.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Kernel,
        stride: int = 1,
        padding: int | tuple[int, int] | str = 0,
        *,
        bias: bool = False,
        bn_eps: float = 1e-3,
    ) -> None:
        super().__init__()
        if padding == "same":
            padding = _same_padding(kernel_size)
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias
        )
        self.bn = nn.BatchNorm2d(out_channels, eps=bn_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)

    @property
    def is_pointwise(self) -> bool:
        """A 1x1 stride-1 unpadded conv: the kind an average pool commutes with."""
        conv = self.conv
        return conv.kernel_size == (1, 1) and conv.stride == (1, 1) and conv.padding == (0, 0)

    def forward_pool_after(self, x: torch.Tensor) -> torch.Tensor:
        """``self(avg_pool3x3(x))`` computed as ``avg_pool3x3(conv(x))``, then BN and ReLU.

        For a pointwise conv (:attr:`is_pointwise`): the conv without its bias
        and a zero-padded average pool are both linear and act on different
        axes, so they commute; the bias is added after pooling (pooling a
        constant would shrink it at the borders). Pooling the conv's output
        pools its ``out_channels`` instead of its ``in_channels``: 4-10x fewer
        in Inception's pool branches. Equal up to float rounding. Hooks on
        ``self`` do not fire (the block calls this method directly); hooks on
        ``self.conv`` do when it has no bias, as in v3.
        """
        conv = self.conv
        if conv.bias is None:
            return F.relu(self.bn(_pool("avg", conv(x))), inplace=True)
        y = _pool("avg", conv._conv_forward(x, conv.weight, None))
        return F.relu(self.bn(y + conv.bias.view(1, -1, 1, 1)), inplace=True)


def _pool(kind: str, x: torch.Tensor) -> torch.Tensor:
    """The stride-1 pooling branch: average in the release, max in the seed."""
    if kind == "avg":
        return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)
    return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)


class _PoolBranchMixin:
    """The pool branch of the blocks that have one (A, C and E).

    ``pool_after_conv`` (off by default, so that the network computes exactly
    what torchvision's does) pools after the branch's 1x1 convolution instead
    of before it: the same function with 4-10x less pooling work (see
    :meth:`BasicConv2d.forward_pool_after`). Training and the fast inference
    path turn it on with :func:`model.network.inception.pool_after_conv`.
    """

    pool: str
    branch_pool: nn.Module
    pool_after_conv: bool

    def _pool_branch(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool_after_conv:  # set only where it commutes (pool_after_conv)
            return self.branch_pool.forward_pool_after(x)
        return self.branch_pool(_pool(self.pool, x))


class InceptionA(_PoolBranchMixin, nn.Module):
    """35 x 35 block: 1x1, a single-kernel tower, a 5x5 factored into two 3x3, pool.

    Parameters
    ----------
    in_channels : int
        Channels in.
    pool_features : int
        Width of the 1x1 conv after pooling.
    single_kernel : int
        Kernel of the two-layer tower: 5 in the release, 3 in the seed.
    double_widths : (int, int, int)
        Widths of the 1x1, 3x3, 3x3 tower that replaces a 5x5.
    pool : {"avg", "max"}
        Pooling in the pool branch.
    """

    def __init__(
        self,
        in_channels: int,
        pool_features: int,
        *,
        single_kernel: int = 5,
        double_widths: tuple[int, int, int] = (64, 96, 96),
        pool: str = "avg",
        **conv: object,
    ) -> None:
        super().__init__()
        d1, d2, d3 = double_widths
        self.pool = pool
        self.pool_after_conv = False  # see _PoolBranchMixin
        self.branch1x1 = BasicConv2d(in_channels, 64, 1, **conv)
        self.branch5x5_1 = BasicConv2d(in_channels, 48, 1, **conv)
        self.branch5x5_2 = BasicConv2d(48, 64, single_kernel, padding="same", **conv)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, d1, 1, **conv)
        self.branch3x3dbl_2 = BasicConv2d(d1, d2, 3, padding=1, **conv)
        self.branch3x3dbl_3 = BasicConv2d(d2, d3, 3, padding=1, **conv)
        self.branch_pool = BasicConv2d(in_channels, pool_features, 1, **conv)
        self.out_channels = 64 + 64 + d3 + pool_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x C x 35 x 35 in, N x out_channels x 35 x 35 out
        branch1x1 = self.branch1x1(x)
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        branch_pool = self._pool_branch(x)
        return torch.cat([branch1x1, branch5x5, branch3x3dbl, branch_pool], 1)


class InceptionB(nn.Module):
    """35 -> 17 grid reduction: a stride-2 3x3 and a stride-2 double-3x3 beside max pool.

    Parameters
    ----------
    in_channels : int
        Channels in.
    reduce_3x3 : int or None
        Width of a 1x1 before the single stride-2 3x3 (the seed has 64; the
        release has none).
    out_3x3 : int
        Width of the single stride-2 3x3.
    double_widths : (int, int, int)
        Widths of the 1x1, 3x3 and stride-2 3x3 tower.
    """

    def __init__(
        self,
        in_channels: int,
        *,
        reduce_3x3: int | None = None,
        out_3x3: int = 384,
        double_widths: tuple[int, int, int] = (64, 96, 96),
        **conv: object,
    ) -> None:
        super().__init__()
        d1, d2, d3 = double_widths
        if reduce_3x3:
            self.branch3x3_reduce = BasicConv2d(in_channels, reduce_3x3, 1, **conv)
        else:
            self.branch3x3_reduce = None
        self.branch3x3 = BasicConv2d(reduce_3x3 or in_channels, out_3x3, 3, stride=2, **conv)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, d1, 1, **conv)
        self.branch3x3dbl_2 = BasicConv2d(d1, d2, 3, padding=1, **conv)
        self.branch3x3dbl_3 = BasicConv2d(d2, d3, 3, stride=2, **conv)
        self.out_channels = out_3x3 + d3 + in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x C x 35 x 35 in, N x out_channels x 17 x 17 out
        reduced = x if self.branch3x3_reduce is None else self.branch3x3_reduce(x)
        branch3x3 = self.branch3x3(reduced)
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        branch_pool = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([branch3x3, branch3x3dbl, branch_pool], 1)


class InceptionC(_PoolBranchMixin, nn.Module):
    """17 x 17 block: every 7x7 factored into a 1x7 followed by a 7x1.

    Parameters
    ----------
    in_channels : int
        Channels in.
    channels_7x7 : int
        Width inside the factored towers.
    pool : {"avg", "max"}
        Pooling in the pool branch.
    """

    def __init__(
        self, in_channels: int, channels_7x7: int, *, pool: str = "avg", **conv: object
    ) -> None:
        super().__init__()
        c7 = channels_7x7
        self.pool = pool
        self.pool_after_conv = False  # see _PoolBranchMixin
        self.branch1x1 = BasicConv2d(in_channels, 192, 1, **conv)
        self.branch7x7_1 = BasicConv2d(in_channels, c7, 1, **conv)
        self.branch7x7_2 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3), **conv)
        self.branch7x7_3 = BasicConv2d(c7, 192, (7, 1), padding=(3, 0), **conv)
        self.branch7x7dbl_1 = BasicConv2d(in_channels, c7, 1, **conv)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0), **conv)
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3), **conv)
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0), **conv)
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, (1, 7), padding=(0, 3), **conv)
        self.branch_pool = BasicConv2d(in_channels, 192, 1, **conv)
        self.out_channels = 4 * 192

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x 768 x 17 x 17 in and out
        branch1x1 = self.branch1x1(x)
        branch7x7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        branch7x7dbl = self.branch7x7dbl_1(x)
        branch7x7dbl = self.branch7x7dbl_3(self.branch7x7dbl_2(branch7x7dbl))
        branch7x7dbl = self.branch7x7dbl_5(self.branch7x7dbl_4(branch7x7dbl))
        branch_pool = self._pool_branch(x)
        return torch.cat([branch1x1, branch7x7, branch7x7dbl, branch_pool], 1)


class InceptionD(nn.Module):
    """17 -> 8 grid reduction: two stride-2 towers beside a stride-2 max pool.

    Parameters
    ----------
    in_channels : int
        Channels in.
    widths_3x3 : (int, int)
        The 1x1 then stride-2 3x3 tower.
    tower_width : int
        Width of the second tower.
    tower_kernels : sequence of kernels
        Stride-1 convs between the second tower's 1x1 and its stride-2 3x3:
        ``((1, 7), (7, 1))`` in the release, ``(3,)`` in the seed.
    """

    def __init__(
        self,
        in_channels: int,
        *,
        widths_3x3: tuple[int, int] = (192, 320),
        tower_width: int = 192,
        tower_kernels: Sequence[Kernel] = ((1, 7), (7, 1)),
        **conv: object,
    ) -> None:
        super().__init__()
        r, out = widths_3x3
        w = tower_width
        self.branch3x3_1 = BasicConv2d(in_channels, r, 1, **conv)
        self.branch3x3_2 = BasicConv2d(r, out, 3, stride=2, **conv)
        self.branch7x7x3_1 = BasicConv2d(in_channels, w, 1, **conv)
        # Numbered like torchvision's so the release's keys load unchanged.
        for i, kernel in enumerate(tower_kernels, start=2):
            setattr(self, f"branch7x7x3_{i}", BasicConv2d(w, w, kernel, padding="same", **conv))
        last = BasicConv2d(w, w, 3, stride=2, **conv)
        setattr(self, f"branch7x7x3_{len(tower_kernels) + 2}", last)
        self._tower = [f"branch7x7x3_{i}" for i in range(1, len(tower_kernels) + 3)]
        self.out_channels = out + w + in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x 768 x 17 x 17 in, N x out_channels x 8 x 8 out
        branch3x3 = self.branch3x3_2(self.branch3x3_1(x))
        tower = x
        for name in self._tower:
            tower = getattr(self, name)(tower)
        branch_pool = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.cat([branch3x3, tower, branch_pool], 1)


class InceptionE(_PoolBranchMixin, nn.Module):
    """8 x 8 block: the expanded filter bank, 1x3 and 3x1 side by side on a shared stem.

    Each tower's stem (the 1x1, and the 1x1 then 3x3) is computed once and fed
    to both the 1x3 and the 3x1 that follow it.

    Parameters
    ----------
    in_channels : int
        Channels in.
    pool : {"avg", "max"}
        Pooling in the pool branch.
    """

    def __init__(self, in_channels: int, *, pool: str = "avg", **conv: object) -> None:
        super().__init__()
        self.pool = pool
        self.pool_after_conv = False  # see _PoolBranchMixin
        self.branch1x1 = BasicConv2d(in_channels, 320, 1, **conv)
        self.branch3x3_1 = BasicConv2d(in_channels, 384, 1, **conv)
        self.branch3x3_2a = BasicConv2d(384, 384, (1, 3), padding=(0, 1), **conv)
        self.branch3x3_2b = BasicConv2d(384, 384, (3, 1), padding=(1, 0), **conv)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 448, 1, **conv)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, 3, padding=1, **conv)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, (1, 3), padding=(0, 1), **conv)
        self.branch3x3dbl_3b = BasicConv2d(384, 384, (3, 1), padding=(1, 0), **conv)
        self.branch_pool = BasicConv2d(in_channels, 192, 1, **conv)
        self.out_channels = 320 + 768 + 768 + 192

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x C x 8 x 8 in, N x 2048 x 8 x 8 out
        branch1x1 = self.branch1x1(x)
        stem = self.branch3x3_1(x)  # shared by the 1x3 and the 3x1
        branch3x3 = torch.cat([self.branch3x3_2a(stem), self.branch3x3_2b(stem)], 1)
        stem = self.branch3x3dbl_2(self.branch3x3dbl_1(x))  # shared likewise
        branch3x3dbl = torch.cat([self.branch3x3dbl_3a(stem), self.branch3x3dbl_3b(stem)], 1)
        branch_pool = self._pool_branch(x)
        return torch.cat([branch1x1, branch3x3, branch3x3dbl, branch_pool], 1)


class InceptionAux(nn.Module):
    """The auxiliary classifier on the 17 x 17 grid, with BatchNorm in its convs.

    Parameters
    ----------
    in_channels : int
        Channels in (768).
    num_classes : int
        Classes out.
    widths : sequence of int
        ``(128, 768)``: a 1x1 then a 5x5 (the release); ``(1024,)``: a single
        1x1 (the seed).
    dropout : float
        Dropout before the classifier (the seed uses the network's dropout;
        the release has none).
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        *,
        widths: Sequence[int] = (128, 768),
        dropout: float = 0.0,
        **conv: object,
    ) -> None:
        super().__init__()
        self.conv0 = BasicConv2d(in_channels, widths[0], 1, **conv)
        if len(widths) > 1:
            self.conv1 = BasicConv2d(widths[0], widths[1], 5, **conv)
            self.conv1.stddev = 0.01  # type: ignore[assignment]  # init scale, as torchvision
        else:
            self.conv1 = None
        self.dropout = nn.Dropout(dropout) if dropout else None
        self.fc = nn.Linear(widths[-1], num_classes)
        self.fc.stddev = 0.001  # type: ignore[assignment]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x 768 x 17 x 17
        if min(x.shape[-2:]) >= 17:
            x = F.avg_pool2d(x, kernel_size=5, stride=3)  # N x 768 x 5 x 5
        else:
            # Inputs below ~299 px leave too small a grid for the 5x5 conv that
            # follows; pool to 5 x 5 so the head trains at any input size.
            x = F.adaptive_avg_pool2d(x, (5, 5))
        x = self.conv0(x)  # N x 128 x 5 x 5 (release) / N x 1024 x 5 x 5 (seed)
        if self.conv1 is not None:
            x = self.conv1(x)  # N x 768 x 1 x 1
        x = F.adaptive_avg_pool2d(x, (1, 1))
        x = torch.flatten(x, 1)
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc(x)  # N x num_classes
