"""Inception v3, in two variants built from the blocks in :mod:`model.network.blocks`.

``v3``
    The released network, module for module torchvision's ``Inception3``:
    the same parameter and buffer names, so torchvision's ImageNet checkpoint
    loads with ``strict=True`` and gives the same logits. 27,161,264 parameters
    with the auxiliary head.
``paper``
    The layout of the seed document (the paper's table 1): a stem that ends in
    288 channels at 35 x 35, two 35 x 35 blocks, four 17 x 17 blocks, two 8 x 8
    blocks with max-pool branches and the auxiliary head after the first grid
    reduction. 24,826,016 unique parameters.

    The seed's torchinfo table prints 38,345,632 because its 8 x 8 block wraps
    the shared stem of each 1x3/3x1 pair into two ``nn.Sequential`` objects and
    counts it once per wrapper. The stem here is one module computed once and
    fed to both convs. That also removes the stem's second forward pass, so the
    mult-adds drop from the seed's 11.19 G to 10.44 G for a 2 x 3 x 299 x 299
    input (5.22 G an image: the repeated stems cost 0.375 G an image).

    Every conv in the seed carries a bias in front of its BatchNorm. The
    BatchNorm's shift makes such a bias redundant, which is why the release
    has none; this variant keeps it (and torch's default BatchNorm epsilon)
    so that its parameter count is the seed's.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from model.network.blocks import (
    BasicConv2d,
    InceptionA,
    InceptionAux,
    InceptionB,
    InceptionC,
    InceptionD,
    InceptionE,
)
from model.network.variants import MIN_INPUT_SIZE, Variant

__all__ = [
    "FEATURE_CHANNELS",
    "MIN_INPUT_SIZE",
    "Inception3",
    "Variant",
    "build_network",
    "pool_after_conv",
]

FEATURE_CHANNELS = 2048  # channels after the last 8 x 8 block
_IMAGENET_MEAN = (0.485, 0.456, 0.406)  # what transform_input undoes
_IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class _Stage:
    name: str  # attribute name, torchvision's where it has one
    module: nn.Module


def _v3_stages(num_classes: int, aux_logits: bool) -> tuple[list[_Stage], str, nn.Module | None]:
    """The released network's stages, in forward order (torchvision's names)."""
    stages = [
        _Stage("Conv2d_1a_3x3", BasicConv2d(3, 32, 3, stride=2)),  # N x 32 x 149 x 149
        _Stage("Conv2d_2a_3x3", BasicConv2d(32, 32, 3)),  # N x 32 x 147 x 147
        _Stage("Conv2d_2b_3x3", BasicConv2d(32, 64, 3, padding=1)),  # N x 64 x 147 x 147
        _Stage("maxpool1", nn.MaxPool2d(3, stride=2)),  # N x 64 x 73 x 73
        _Stage("Conv2d_3b_1x1", BasicConv2d(64, 80, 1)),  # N x 80 x 73 x 73
        _Stage("Conv2d_4a_3x3", BasicConv2d(80, 192, 3)),  # N x 192 x 71 x 71
        _Stage("maxpool2", nn.MaxPool2d(3, stride=2)),  # N x 192 x 35 x 35
        _Stage("Mixed_5b", InceptionA(192, pool_features=32)),  # N x 256 x 35 x 35
        _Stage("Mixed_5c", InceptionA(256, pool_features=64)),  # N x 288 x 35 x 35
        _Stage("Mixed_5d", InceptionA(288, pool_features=64)),  # N x 288 x 35 x 35
        _Stage("Mixed_6a", InceptionB(288)),  # N x 768 x 17 x 17
        _Stage("Mixed_6b", InceptionC(768, channels_7x7=128)),  # N x 768 x 17 x 17
        _Stage("Mixed_6c", InceptionC(768, channels_7x7=160)),  # N x 768 x 17 x 17
        _Stage("Mixed_6d", InceptionC(768, channels_7x7=160)),  # N x 768 x 17 x 17
        _Stage("Mixed_6e", InceptionC(768, channels_7x7=192)),  # N x 768 x 17 x 17
        _Stage("Mixed_7a", InceptionD(768)),  # N x 1280 x 8 x 8
        _Stage("Mixed_7b", InceptionE(1280)),  # N x 2048 x 8 x 8
        _Stage("Mixed_7c", InceptionE(2048)),  # N x 2048 x 8 x 8
    ]
    aux = InceptionAux(768, num_classes) if aux_logits else None
    return stages, "Mixed_6e", aux


def _paper_stages(
    num_classes: int, aux_logits: bool, dropout: float
) -> tuple[list[_Stage], str, nn.Module | None]:
    """The seed document's stages (paper table 1), in forward order."""
    c = {"bias": True, "bn_eps": 1e-5}  # see the module docstring
    stages = [
        _Stage("Conv2d_1a_3x3", BasicConv2d(3, 32, 3, stride=2, **c)),  # N x 32 x 149 x 149
        _Stage("Conv2d_2a_3x3", BasicConv2d(32, 32, 3, **c)),  # N x 32 x 147 x 147
        _Stage("Conv2d_2b_3x3", BasicConv2d(32, 64, 3, padding=1, **c)),  # N x 64 x 147 x 147
        _Stage("maxpool1", nn.MaxPool2d(3, stride=2)),  # N x 64 x 73 x 73
        _Stage("Conv2d_3a_3x3", BasicConv2d(64, 80, 3, **c)),  # N x 80 x 71 x 71
        _Stage("Conv2d_3b_3x3", BasicConv2d(80, 192, 3, stride=2, **c)),  # N x 192 x 35 x 35
        _Stage("Conv2d_4a_3x3", BasicConv2d(192, 288, 3, padding=1, **c)),  # N x 288 x 35 x 35
    ]
    a = {"single_kernel": 3, "double_widths": (64, 64, 96), "pool": "max", **c}
    stages += [
        _Stage("Mixed_5b", InceptionA(288, pool_features=64, **a)),  # N x 288 x 35 x 35
        _Stage("Mixed_5c", InceptionA(288, pool_features=64, **a)),  # N x 288 x 35 x 35
        _Stage("Mixed_6a", InceptionB(288, reduce_3x3=64, out_3x3=384, **c)),  # N x 768 x 17 x 17
    ]
    stages += [
        _Stage(f"Mixed_6{letter}", InceptionC(768, channels_7x7=width, pool="max", **c))
        for letter, width in zip("bcde", (128, 160, 160, 192))
    ]  # N x 768 x 17 x 17 each
    reduction = {"widths_3x3": (192, 320), "tower_width": 192, "tower_kernels": (3,), **c}
    stages += [
        _Stage("Mixed_7a", InceptionD(768, **reduction)),  # N x 1280 x 8 x 8
        _Stage("Mixed_7b", InceptionE(1280, pool="max", **c)),  # N x 2048 x 8 x 8
        _Stage("Mixed_7c", InceptionE(2048, pool="max", **c)),  # N x 2048 x 8 x 8
    ]
    aux = None
    if aux_logits:
        aux = InceptionAux(768, num_classes, widths=(1024,), dropout=dropout, **c)
    return stages, "Mixed_6a", aux


class Inception3(nn.Module):
    """Inception v3 with the BN auxiliary head, in either variant.

    Parameters
    ----------
    variant : Variant or str
        ``"v3"`` (the release) or ``"paper"`` (the seed's layout).
    num_classes : int
        Width of the classifier (1000 for ImageNet).
    aux_logits : bool
        Build the auxiliary head; in training mode ``forward`` then returns
        ``(logits, aux_logits)``, as torchvision's network does.
    transform_input : bool
        Re-normalise ImageNet-normalised input to the [-1, 1] range that
        Google's original weights expect (torchvision sets it for them).
    dropout : float
        Dropout before the classifier.
    init_weights : bool
        Truncated-normal initialisation as torchvision's; off when a checkpoint
        will overwrite everything anyway.
    """

    def __init__(
        self,
        variant: Variant | str = Variant.V3,
        num_classes: int = 1000,
        aux_logits: bool = True,
        transform_input: bool = False,
        dropout: float = 0.5,
        init_weights: bool = True,
    ) -> None:
        super().__init__()
        self.variant = Variant.parse(variant)
        self.num_classes = num_classes
        self.aux_logits = aux_logits
        self.transform_input = transform_input
        if self.variant is Variant.V3:
            stages, self._aux_after, aux = _v3_stages(num_classes, aux_logits)
        else:
            stages, self._aux_after, aux = _paper_stages(num_classes, aux_logits, dropout)
        self._stage_names = [stage.name for stage in stages]
        for stage in stages:
            setattr(self, stage.name, stage.module)
            if stage.name == self._aux_after:
                # Registered here so that module order is forward order.
                self.AuxLogits = aux
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(FEATURE_CHANNELS, num_classes)
        if init_weights:
            self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d | nn.Linear):
                std = float(getattr(m, "stddev", 0.1))
                if std <= 2 / 6:
                    # Truncating at +-2 cuts nothing below 6 standard deviations (torchvision's
                    # stddevs are 0.1 and less: 20 and more), so a plain normal is the same
                    # distribution, drawn 10x faster: untrained weights are ready seconds sooner.
                    nn.init.normal_(m.weight, mean=0.0, std=std)
                else:
                    nn.init.trunc_normal_(m.weight, mean=0.0, std=std, a=-2, b=2)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _transform_input(self, x: torch.Tensor) -> torch.Tensor:
        if not self.transform_input:
            return x
        # ImageNet mean/std normalisation undone, then mapped to [-1, 1]; the same
        # arithmetic as torchvision's, so results agree to the last bit.
        scale = x.new_tensor([s / 0.5 for s in _IMAGENET_STD]).view(1, 3, 1, 1)
        shift = x.new_tensor([(m - 0.5) / 0.5 for m in _IMAGENET_MEAN]).view(1, 3, 1, 1)
        return x * scale + shift

    def _features(
        self, x: torch.Tensor, want_aux: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        aux = None
        x = self._transform_input(x)
        for name in self._stage_names:
            x = getattr(self, name)(x)
            if want_aux and name == self._aux_after and self.AuxLogits is not None:
                aux = self.AuxLogits(x)
        return x, aux  # N x 2048 x 8 x 8 at 299 px

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Run the stem and every Inception block: N x 2048 x H/37 x W/37."""
        return self._features(x, want_aux=False)[0]

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pool, drop out and classify features from :meth:`forward_features`."""
        x = torch.flatten(self.avgpool(x), 1)  # N x 2048
        x = self.dropout(x)
        return x if pre_logits else self.fc(x)  # N x num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Logits; in training with the aux head, ``(logits, aux_logits)``."""
        want_aux = self.training and self.AuxLogits is not None
        features, aux = self._features(x, want_aux)
        logits = self.forward_head(features)
        if want_aux:
            return logits, aux
        return logits

    def get_classifier(self) -> nn.Module:
        """The final linear layer."""
        return self.fc

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the classifier, and the aux head's, for ``num_classes`` classes."""
        self.num_classes = num_classes
        self.fc = nn.Linear(FEATURE_CHANNELS, num_classes)
        nn.init.trunc_normal_(self.fc.weight, std=0.1, a=-2, b=2)
        nn.init.zeros_(self.fc.bias)
        if self.AuxLogits is not None:
            head = self.AuxLogits.fc
            self.AuxLogits.fc = nn.Linear(head.in_features, num_classes)
            nn.init.trunc_normal_(self.AuxLogits.fc.weight, std=0.001, a=-2, b=2)
            nn.init.zeros_(self.AuxLogits.fc.bias)

    def drop_aux(self) -> None:
        """Remove the auxiliary head (inference never uses it)."""
        self.AuxLogits = None
        self.aux_logits = False

    def extra_repr(self) -> str:
        return f"variant={self.variant.value}, num_classes={self.num_classes}"


def build_network(
    variant: Variant | str = Variant.V3,
    num_classes: int = 1000,
    *,
    aux_logits: bool = True,
    transform_input: bool = False,
    dropout: float = 0.5,
    init_weights: bool = True,
) -> Inception3:
    """Build an :class:`Inception3`; a thin, keyword-only front for scripts."""
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes}")
    return Inception3(
        variant,
        num_classes=num_classes,
        aux_logits=aux_logits,
        transform_input=transform_input,
        dropout=dropout,
        init_weights=init_weights,
    )


def pool_after_conv(network: nn.Module, enabled: bool = True) -> int:
    """Pool after the 1x1 convolution in every average-pool branch of ``network``.

    The same function with 4-10x less pooling work, equal to the usual order up
    to float rounding (see :class:`model.network.blocks.BasicConv2d.forward_pool_after`).
    Off by default so that the reference network matches torchvision bit for
    bit; the training engine and the fast inference path turn it on. Returns
    how many blocks were switched (max-pool branches, as in the ``paper``
    variant, do not commute and are left as they are).
    """
    switched = 0
    for module in network.modules():
        if not hasattr(module, "pool_after_conv") or getattr(module, "pool", None) != "avg":
            continue
        # Only a pointwise conv commutes with the pool; anything else keeps the usual order.
        if getattr(module.branch_pool, "is_pointwise", False):
            module.pool_after_conv = enabled
            switched += 1
    return switched
