"""Preprocessing as data: the resize, crop and normalisation that travel with weights."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

import torch
from PIL import Image

__all__ = ["Preprocess", "imagenet_preprocess", "to_input"]


@dataclass(frozen=True)
class Preprocess:
    """How an RGB image becomes the network's input tensor.

    The defaults are torchvision's for ``Inception_V3_Weights.IMAGENET1K_V1``;
    :func:`imagenet_preprocess` reads them from torchvision rather than trusting
    these literals.
    """

    crop_size: int = 299  # side of the square centre crop fed to the network
    resize_size: int = 342  # shorter side after resizing, before the crop
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)  # per-channel mean
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)  # per-channel std
    interpolation: str = "bilinear"  # resize filter (torchvision InterpolationMode value)

    @classmethod
    def for_size(cls, crop_size: int, base: Preprocess | None = None) -> Preprocess:
        """The same recipe at another input size, keeping the resize-to-crop ratio."""
        base = base or cls()
        ratio = base.resize_size / base.crop_size
        return cls(
            crop_size=crop_size,
            resize_size=round(crop_size * ratio),
            mean=base.mean,
            std=base.std,
            interpolation=base.interpolation,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a checkpoint's metadata."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocess:
        """Inverse of :meth:`to_dict`; unknown keys are ignored."""
        known = {k: data[k] for k in ("crop_size", "resize_size", "interpolation") if k in data}
        for key in ("mean", "std"):
            if key in data:
                known[key] = tuple(float(v) for v in data[key])
        return cls(**known)

    @cached_property
    def transform(self) -> Callable[[Image.Image], torch.Tensor]:
        """An RGB PIL image to the normalised input tensor, as torchvision's presets do it.

        The order and the functions are those of torchvision's ``ImageClassification``
        (``weights.transforms()``): resize and crop the PIL image, then convert and
        normalise. The result is bit-for-bit torchvision's; resizing the tensor instead
        differed by a grey level and reordered the top-5 of real photos in fp32.
        """
        return functools.partial(
            to_input,
            resize_size=self.resize_size,
            crop_size=self.crop_size,
            mean=list(self.mean),
            std=list(self.std),
            interpolation=self.interpolation,
        )

    def __call__(self, img: Image.Image) -> torch.Tensor:
        return self.transform(img)


def to_input(
    img: Image.Image,
    resize_size: int,
    crop_size: int,
    mean: list[float],
    std: list[float],
    interpolation: str = "bilinear",
) -> torch.Tensor:
    """Resize the shorter side, centre-crop, scale to [0, 1] and normalise one RGB image."""
    import torchvision.transforms.functional as F

    mode = F.InterpolationMode(interpolation)
    img = F.resize(img, [resize_size], interpolation=mode, antialias=True)
    img = F.center_crop(img, [crop_size])
    tensor = F.convert_image_dtype(F.pil_to_tensor(img), torch.float)
    return F.normalize(tensor, mean=mean, std=std)


def imagenet_preprocess() -> Preprocess:
    """The preprocessing torchvision publishes with the ImageNet weights."""
    from torchvision.models import Inception_V3_Weights

    preset = Inception_V3_Weights.IMAGENET1K_V1.transforms()
    return Preprocess(
        crop_size=int(preset.crop_size[0]),
        resize_size=int(preset.resize_size[0]),
        mean=tuple(preset.mean),
        std=tuple(preset.std),
        interpolation=preset.interpolation.value,
    )
