"""Preprocessing equals torchvision's published transforms, bit for bit, on PIL images."""

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter
from torchvision.models import Inception_V3_Weights

from model.data.images import load_image
from model.data.preprocess import Preprocess, imagenet_preprocess


def _photo_like(width, height, seed=0):
    """Smooth colour fields with edges, as photos have (pure noise would hide resize detail)."""
    rng = np.random.default_rng(seed)
    small = (rng.random((max(height // 40, 2), max(width // 40, 2), 3)) * 255).astype(np.uint8)
    img = Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC)
    return img.filter(ImageFilter.EDGE_ENHANCE_MORE)


@pytest.fixture(scope="module")
def reference():
    return Inception_V3_Weights.IMAGENET1K_V1.transforms()


def test_the_recipe_is_torchvisions():
    ours = imagenet_preprocess()
    preset = Inception_V3_Weights.IMAGENET1K_V1.transforms()
    assert (ours.crop_size, ours.resize_size) == (preset.crop_size[0], preset.resize_size[0])
    assert ours.mean == tuple(preset.mean) and ours.std == tuple(preset.std)
    assert ours.interpolation == preset.interpolation.value


@pytest.mark.parametrize(
    "size", [(4000, 3000), (3000, 4000), (640, 480), (299, 299), (300, 1200), (342, 200)]
)
def test_inputs_equal_torchvisions_bit_for_bit(reference, size):
    img = _photo_like(*size)
    assert torch.equal(imagenet_preprocess()(img), reference(img))


@pytest.mark.parametrize("mode", ["P", "CMYK", "RGBA", "LA", "L", "I;16", "RGB;EXIF"])
def test_every_mode_decodes_to_the_input_torchvision_gives_the_same_picture(
    reference, tmp_path, mode
):
    """Files in awkward modes: our decoded RGB, through both pipelines, gives equal inputs."""
    base = _photo_like(900, 600, seed=3)
    path = tmp_path / "photo.png"
    if mode == "RGB;EXIF":
        path = tmp_path / "photo.jpg"
        exif = Image.Exif()
        exif[0x0112] = 6  # rotated 90 degrees: portrait on screen
        base.save(path, quality=95, exif=exif)
    elif mode == "I;16":
        grey = np.asarray(base.convert("L"), dtype=np.uint16) * 257
        Image.fromarray(grey).save(path)  # a 16-bit greyscale PNG
    elif mode == "CMYK":
        path = tmp_path / "photo.tif"
        base.convert("CMYK").save(path)
    else:
        base.convert(mode).save(path)
    rgb = load_image(path)
    assert rgb.mode == "RGB"
    if mode == "RGB;EXIF":
        assert rgb.size == (600, 900)  # upright
    assert torch.equal(imagenet_preprocess()(rgb), reference(rgb))


def test_other_sizes_keep_torchvisions_order_of_operations():
    """At another input size the recipe keeps the ratio and the same operations."""
    prep = Preprocess.for_size(149, base=imagenet_preprocess())
    img = _photo_like(800, 600)
    from torchvision.transforms._presets import ImageClassification

    same = ImageClassification(crop_size=149, resize_size=prep.resize_size)
    assert torch.equal(prep(img), same(img))
