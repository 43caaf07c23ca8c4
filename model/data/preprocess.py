"""Preprocessing as data: the resize, crop and normalisation that travel with weights."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

import torch
from PIL import Image

__all__ = ["Preprocess", "imagenet_preprocess", "to_input"]

# What a checkpoint may ask for (as the CLI's --input-size allows); outside it, a prediction
# fails or asks for gigabytes. 75 px is the smallest side the network accepts.
CROP_RANGE = (75, 1024)
INTERPOLATIONS = frozenset(
    {"nearest", "nearest-exact", "bilinear", "bicubic", "box", "hamming", "lanczos"}
)


def _whole(data: dict[str, Any], key: str, low: int, high: int) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(
            f"'preprocess.{key}' must be a whole number from {low} to {high}, not {value!r}"
        )
    return value


def _channels(data: dict[str, Any], key: str, positive: bool) -> tuple[float, float, float]:
    value = data[key]
    ok = isinstance(value, list | tuple) and len(value) == 3  # JSON lists; tuples from to_dict
    ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ok = ok and all(math.isfinite(v) and (v > 0 or not positive) for v in value)
    if not ok:
        kind = "positive" if positive else "finite"
        raise ValueError(f"'preprocess.{key}' must be three {kind} numbers, not {value!r}")
    return tuple(float(v) for v in value)


@dataclass(frozen=True)
class Preprocess:
    """How an RGB image becomes the network's input tensor.

    The defaults are torchvision's for ``Inception_V3_Weights.IMAGENET1K_V1``
    (tests/model/data/test_preprocess.py checks them against torchvision's record).
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
        """Inverse of :meth:`to_dict`; unknown keys are ignored, missing ones take the defaults.

        Raises
        ------
        ValueError
            A value no prediction could use (a crop of 299.7 or -5, a resize of 0, a std
            of 0, an unknown filter); the message names the field.
        """
        if not isinstance(data, dict):
            raise ValueError(f"'preprocess' must be an object, not {type(data).__name__}")
        known: dict[str, Any] = {}
        if "crop_size" in data:
            known["crop_size"] = _whole(data, "crop_size", *CROP_RANGE)
        crop = known.get("crop_size", cls.crop_size)
        if "resize_size" in data:
            known["resize_size"] = _whole(data, "resize_size", crop, 4 * crop)
        for key in ("mean", "std"):
            if key in data:
                known[key] = _channels(data, key, positive=key == "std")
        if "interpolation" in data:
            if data["interpolation"] not in INTERPOLATIONS:
                names = ", ".join(sorted(INTERPOLATIONS))
                raise ValueError(
                    f"'preprocess.interpolation' must be one of {names}, "
                    f"not {data['interpolation']!r}"
                )
            known["interpolation"] = data["interpolation"]
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
    """The preprocessing torchvision publishes with the ImageNet weights.

    ``Inception_V3_Weights.IMAGENET1K_V1.transforms()``'s figures, written out so that
    loading weights does not import torchvision (1 s); tests/model/data/test_preprocess.py
    checks them against torchvision's.
    """
    return Preprocess(
        crop_size=299,
        resize_size=342,
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
        interpolation="bilinear",
    )
