"""What a layer sees: one layer's feature maps for one image.

A forward hook on that one module records its output; the forward pass stops
there, since nothing after it is needed. Every function here that hooks or
runs :attr:`model.Classifier.network` (the fp32 reference) holds
:func:`~model.inference.locks.network_lock` while it does, so that a Grad-CAM in one worker thread
never records the activations of a feature-map request in another.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn

from model.data.images import load_image, open_image, to_rgb
from model.data.preprocess import Preprocess
from model.inference.locks import network_lock
from model.network.blocks import (
    BasicConv2d,
    InceptionA,
    InceptionB,
    InceptionC,
    InceptionD,
    InceptionE,
)

__all__ = [
    "ChannelMap",
    "FeatureMaps",
    "camera_layers",
    "feature_maps",
    "find_layer",
    "prepare_image",
]

ImageInput = str | os.PathLike[str] | Image.Image
_VIEWABLE = (BasicConv2d, InceptionA, InceptionB, InceptionC, InceptionD, InceptionE)
_EXIF_ORIENTATION = 0x0112
_TRANSPOSED = frozenset({5, 6, 7, 8})  # EXIF orientations that swap width and height


def camera_layers(network: nn.Module) -> list[str]:
    """The layers offered for activation and feature maps, in forward order.

    The stem convolutions and the Inception blocks: every top-level module
    whose output is an ``N x C x H x W`` grid. Pools, the auxiliary head and
    the classifier are left out.
    """
    return [name for name, module in network.named_children() if isinstance(module, _VIEWABLE)]


def find_layer(network: nn.Module, layer: str) -> nn.Module:
    """The module at dotted path ``layer``, or a ValueError naming close matches."""
    modules = dict(network.named_modules())
    if layer and layer in modules:
        return modules[layer]
    close = difflib.get_close_matches(layer, [n for n in modules if n], n=5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ValueError(f"the network has no layer {layer!r}{hint}")


@dataclass(frozen=True)
class PreparedImage:
    """An image ready for the network, with the sizes needed to map results back."""

    tensor: torch.Tensor  # 1 x 3 x S x S, normalised, on the CPU
    size: tuple[int, int]  # (width, height) of the original image, EXIF orientation applied
    fed_size: tuple[int, int]  # (width, height) the transform saw; smaller for a drafted JPEG


def _oriented_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """The image's (width, height) as viewers show it, read from its header only."""
    with open_image(path) as img:
        width, height = img.size
        orientation = img.getexif().get(_EXIF_ORIENTATION, 1)
    return (height, width) if orientation in _TRANSPOSED else (width, height)


def prepare_image(preprocess: Preprocess, image: ImageInput) -> PreparedImage:
    """Decode and preprocess ``image`` exactly as :meth:`Classifier.predict` does.

    Raises
    ------
    ImageLoadError
        The file cannot be read.
    """
    if isinstance(image, Image.Image):
        rgb = to_rgb(image)
        return PreparedImage(preprocess.transform(rgb).unsqueeze(0), rgb.size, rgb.size)
    # The same (possibly drafted) decode as the predictions, so the probabilities
    # agree with the Classify tab; the original size comes from the header.
    rgb = load_image(image, target_size=preprocess.resize_size)
    return PreparedImage(preprocess.transform(rgb).unsqueeze(0), _oriented_size(image), rgb.size)


@dataclass(frozen=True)
class ChannelMap:
    """One channel of a layer's output for one image."""

    index: int  # channel index in the layer's output
    mean: float  # mean activation over the grid
    max: float  # largest activation
    std: float  # spread over the grid
    map: np.ndarray  # H x W float32, scaled so its own minimum is 0 and maximum 1


@dataclass(frozen=True)
class FeatureMaps:
    """The most active channels of one layer for one image."""

    layer: str  # dotted module path, e.g. "Mixed_6e"
    input_size: int  # side of the square crop fed to the network
    shape: tuple[int, int, int]  # (C, H, W) of the layer's output
    channels: tuple[ChannelMap, ...]  # by mean activation, highest first
    image_size: tuple[int, int] = (0, 0)  # (width, height) of the original image


class _Reached(Exception):
    """Raised by the hook to end the forward pass at the hooked layer."""


def layer_output(network: nn.Module, layer: str, batch: torch.Tensor) -> torch.Tensor:
    """The output of ``layer`` for ``batch``, running the network only up to it.

    The hook is registered on that one module and removed again, whatever happens.
    """
    module = find_layer(network, layer)
    captured: list[torch.Tensor] = []

    def hook(_module: nn.Module, _args: object, output: torch.Tensor) -> None:
        captured.append(output.detach())
        raise _Reached

    with network_lock(network):
        handle = module.register_forward_hook(hook)
        try:
            with torch.inference_mode():
                network(batch)
        except _Reached:
            pass
        finally:
            handle.remove()
    if not captured or not isinstance(captured[0], torch.Tensor):
        raise ValueError(f"layer {layer!r} did not run for this input")
    return captured[0]


def _unit_range(grid: torch.Tensor) -> np.ndarray:
    low, high = grid.amin(dim=(-2, -1), keepdim=True), grid.amax(dim=(-2, -1), keepdim=True)
    span = (high - low).clamp_min(1e-12)  # a flat channel becomes all zeros
    return ((grid - low) / span).numpy().astype(np.float32)


def feature_maps(classifier, image: ImageInput, layer: str, top: int = 16) -> FeatureMaps:
    """The ``top`` most active channels of ``layer`` for ``image``.

    Parameters
    ----------
    classifier : model.Classifier
        Its fp32 reference network is run (not the fast path).
    image : path or PIL.Image.Image
        Decoded and preprocessed as for predictions.
    layer : str
        A module path such as ``"Mixed_6e"`` or ``"Mixed_6e.branch7x7_2"``
        whose output is ``N x C x H x W``; see :func:`camera_layers`.
    top : int
        How many channels to return, ranked by mean activation.

    Raises
    ------
    ValueError
        An unknown layer (with close matches), or one whose output is not a grid.
    ImageLoadError
        The image cannot be read.
    """
    network = classifier.network
    find_layer(network, layer)  # fail on a typo before decoding anything
    prepared = prepare_image(classifier.info.preprocess, image)
    output = layer_output(network, layer, prepared.tensor.to(classifier.device))
    if output.ndim != 4:
        raise ValueError(
            f"layer {layer!r} gives a {tuple(output.shape)} tensor, not a grid of feature maps"
        )
    grids = output[0].float().cpu()  # C x H x W
    means, maxes = grids.mean(dim=(1, 2)), grids.amax(dim=(1, 2))
    stds = grids.flatten(1).std(dim=1, correction=0)
    order = torch.argsort(means, descending=True, stable=True)[: max(0, top)]
    maps = _unit_range(grids[order])
    channels = tuple(
        ChannelMap(int(c), float(means[c]), float(maxes[c]), float(stds[c]), maps[i])
        for i, c in enumerate(order.tolist())
    )
    return FeatureMaps(
        layer=layer,
        input_size=int(prepared.tensor.shape[-1]),
        shape=tuple(int(d) for d in grids.shape),
        channels=channels,
        image_size=prepared.size,
    )
