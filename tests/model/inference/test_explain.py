"""Grad-CAM maps and feature maps: shapes, placement on the photo, and the CLI."""

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from inception_gui.cli import main
from model import (
    Classifier,
    Preprocess,
    Variant,
    WeightsInfo,
    build_network,
    camera_layers,
    explain,
    feature_maps,
    overlay,
    summarize,
)
from model.inference.explain import cam_to_image, resolve_class

CROP = 107  # Mixed_7c is 2 x 2 here, Mixed_6e 5 x 5
PHOTO = (200, 150)  # width, height: not square, so a transposed map cannot pass
TOP_LEFT = (40, 12, 80, 52)  # red patches (left, top, right, bottom) inside the centre crop
BOTTOM_RIGHT = (120, 95, 160, 135)


def _redness_network() -> nn.Module:
    """Inception v3 whose "red" class is, by construction, the red it sees where it sees it.

    Every convolution passes its input's channel 0 through its centre tap and
    nothing else; the first turns each pixel into its redness (R - (G+B)/2 of
    the normalised input). The first branch of every block keeps channel 0 in
    place, so Mixed_7c's channel 0 is a coarse redness map of the crop, and
    the classifier scores "red" on that channel alone. The region that drives
    the class is therefore known exactly: the red patch.
    """
    net = build_network("v3", num_classes=2, aux_logits=False, init_weights=False)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.Conv2d):
                kh, kw = module.kernel_size
                module.weight.zero_()
                module.weight[0, 0, kh // 2, kw // 2] = 1.0
            elif isinstance(module, nn.BatchNorm2d):
                module.reset_running_stats()
                module.weight.fill_(1.0)
                module.bias.zero_()
        net.Conv2d_1a_3x3.conv.weight[0, :, 1, 1] = torch.tensor([1.0, -0.5, -0.5])
        net.fc.weight.zero_()
        net.fc.bias.zero_()
        net.fc.weight[1, 0] = 10.0
    return net.eval()


@pytest.fixture(scope="module")
def red_classifier():
    info = WeightsInfo(
        source="file",
        display_name="redness",
        variant=Variant.V3,
        class_names=("plain", "red"),
        preprocess=Preprocess.for_size(CROP),
        transform_input=False,
    )
    return Classifier(_redness_network(), info, torch.device("cpu"), "fp32")


def _photo(patch, seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(100, 156, size=(PHOTO[1], PHOTO[0], 3)).astype(np.uint8)
    left, top, right, bottom = patch
    pixels[top:bottom, left:right] = (255, 0, 0)
    return Image.fromarray(pixels)


@pytest.mark.parametrize("patch", [TOP_LEFT, BOTTOM_RIGHT], ids=["top-left", "bottom-right"])
def test_cam_peaks_on_the_patch_that_decides_the_class(red_classifier, patch, tmp_path):
    path = tmp_path / "photo.png"
    _photo(patch).save(path)
    cam = explain(red_classifier, path, class_index=1)
    assert cam.heatmap.shape == (PHOTO[1], PHOTO[0]) and cam.heatmap.dtype == np.float32
    assert cam.heatmap.min() >= 0.0 and cam.heatmap.max() == pytest.approx(1.0)
    assert cam.label == "red" and cam.layer == "Mixed_7c" and cam.probability > 0.99
    assert not red_classifier.network.Mixed_7c._forward_hooks  # torchcam's hooks are gone
    left, top, right, bottom = patch
    y, x = np.unravel_index(cam.heatmap.argmax(), cam.heatmap.shape)
    assert left - 10 <= x <= right + 10 and top - 10 <= y <= bottom + 10
    # The opposite corner holds no red: no heat there.
    ol, ot, o_r, ob = BOTTOM_RIGHT if patch == TOP_LEFT else TOP_LEFT
    assert cam.heatmap[top:bottom, left:right].mean() > 0.6
    assert cam.heatmap[ot:ob, ol:o_r].mean() < 0.1


def test_cam_is_zero_outside_the_centre_crop(red_classifier):
    cam = explain(red_classifier, _photo(TOP_LEFT), class_index=1)
    left, top, right, bottom = cam.crop_box
    # 200 x 150 -> 162 x 122 -> centre 107 crop from (28, 8): (34.6, 9.8) in the photo
    assert (left, top, right, bottom) == (35, 10, 167, 141)
    assert cam.heatmap[:, : left - 1].max() == 0 and cam.heatmap[:, right + 1 :].max() == 0
    assert cam.heatmap[: top - 1].max() == 0 and cam.heatmap[bottom + 1 :].max() == 0


def test_cam_mapping_for_a_portrait_decoded_at_reduced_scale():
    grid = np.array([[1.0, 0.0], [0.0, 0.0]], np.float32)  # heat in the top-left cell only
    # A 90 x 160 portrait, as if JPEG-drafted to 45 x 80 before preprocessing.
    heat, box = cam_to_image(grid, size=(90, 160), fed=(45, 80), resize=122, crop=107)
    assert heat.shape == (160, 90)
    left, top, right, bottom = box
    # 45 x 80 -> 122 x 216 -> centre 107 crop from (8, 54), scaled back by 90 / 122
    assert (left, right) == (round(8 * 90 / 122), round(115 * 90 / 122))
    assert (top, bottom) == (round(54 * 160 / 216), round(161 * 160 / 216))
    assert heat[: top - 1].max() == 0 == heat[bottom + 1 :].max()
    y, x = np.unravel_index(heat.argmax(), heat.shape)
    assert y < 80 and x < 45


def test_overlay_blends_a_colormap_at_the_photo_size():
    photo = Image.new("RGB", (40, 30), (0, 0, 0))
    heat = np.zeros((30, 40), np.float32)
    heat[:, 20:] = 1.0
    assert overlay(photo, heat, 0.0).getpixel((5, 5)) == (0, 0, 0)
    full = overlay(photo, heat, 1.0)
    assert full.size == (40, 30)
    cold, hot = full.getpixel((5, 5)), full.getpixel((35, 5))
    assert cold[2] > cold[0] and hot[0] > hot[2]  # blue where cold, red where hot
    half = overlay(photo, heat[::2, ::2], 0.5)  # a smaller map is resized to fit
    assert half.size == (40, 30) and 0 < half.getpixel((35, 5))[0] < hot[0]


def test_feature_maps_have_the_layers_shape(red_classifier):
    layer = red_classifier.network.Mixed_6e
    maps = feature_maps(red_classifier, _photo(TOP_LEFT), "Mixed_6e", top=5)
    expected = summarize("v3", CROP).root.find("Mixed_6e").output_shape[1:]
    assert maps.shape == expected == (768, 5, 5)
    assert maps.input_size == CROP and maps.image_size == PHOTO and len(maps.channels) == 5
    means = [c.mean for c in maps.channels]
    assert means == sorted(means, reverse=True)
    assert maps.channels[0].index in (0, 192, 384)  # the redness copies this network carries
    for channel in maps.channels:
        assert channel.map.shape == (5, 5) and channel.map.dtype == np.float32
        assert channel.map.min() >= 0.0 and channel.map.max() <= 1.0
        assert channel.max >= channel.mean >= 0.0 and channel.std >= 0.0
    assert not layer._forward_hooks  # the hook is gone again


def test_feature_maps_reject_unknown_and_flat_layers(red_classifier):
    with pytest.raises(ValueError, match="Mixed_6e"):
        feature_maps(red_classifier, _photo(TOP_LEFT), "Mixed_6x")
    with pytest.raises(ValueError, match="not a grid"):
        feature_maps(red_classifier, _photo(TOP_LEFT), "fc")


def test_camera_layers_are_the_stem_convs_and_blocks_in_order():
    names = camera_layers(build_network("paper", init_weights=False))
    assert names[0] == "Conv2d_1a_3x3" and names[-1] == "Mixed_7c"
    assert "Conv2d_3a_3x3" in names and "Mixed_5b" in names
    assert not {"maxpool1", "AuxLogits", "avgpool", "fc"} & set(names)
    assert names.index("Mixed_6a") < names.index("Mixed_6e") < names.index("Mixed_7a")


def test_resolve_class_takes_labels_and_indices():
    names = ("golden retriever", "Labrador retriever", "tabby")
    assert resolve_class(names, "TABBY") == 2 and resolve_class(names, "1") == 1
    with pytest.raises(ValueError, match="golden retriever"):
        resolve_class(names, "retriever")
    with pytest.raises(ValueError, match="outside"):
        resolve_class(names, "3")


def test_cli_explain_writes_the_overlay(tiny_checkpoint, tmp_path, capsys):
    image = tmp_path / "wide.png"
    Image.new("RGB", (150, 100), (200, 30, 30)).save(image)
    out = tmp_path / "heat.png"
    args = ["explain", str(image), "--weights", str(tiny_checkpoint), "--device", "cpu"]
    assert main([*args, "--class", "square", "--layer", "Mixed_6e", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "square (class 1)" in printed and "%" in printed and "too coarse" not in printed
    assert main([*args, "--out", str(tmp_path / "coarse.png")]) == 0  # Mixed_7c at 96 px
    assert "Mixed_7c has a 1 x 1 grid" in capsys.readouterr().out
    with Image.open(out) as written:
        assert written.size == (150, 100)
    assert main([*args, "--class", "squares", "--out", str(out)]) == 2
    assert "close matches: square" in capsys.readouterr().err
