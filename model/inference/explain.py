"""Why this prediction: Grad-CAM class activation maps over the original photo.

The map itself comes from torchcam's ``GradCAM`` (a maintained library, 1 MB
beside torch; pytorch-grad-cam would bring OpenCV, SciPy and scikit-learn).
It runs on :attr:`model.Classifier.network`, the fp32 reference, with autograd
on: the fast path is folded, reduced-precision and inference-only.

Mapping back onto the photo
---------------------------
The network sees a centre crop: the photo's shorter side is resized to
``resize_size`` and the central ``crop_size`` square is cut out. The CAM is a
grid over that square (8 x 8 for ``Mixed_7c`` at 299 px). Each pixel of the
original photo is mapped through the resize and the crop to a position on
that grid and the CAM is interpolated there bilinearly, exactly as
``F.interpolate(..., align_corners=False)`` upsamples it onto the crop.
Pixels the crop cut away were never seen by the network: their heat is 0,
and :attr:`ActivationMap.crop_box` says where the seen region lies.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from model.files import atomic_write
from model.inference.features import ImageInput, find_layer, prepare_image
from model.inference.locks import network_lock

__all__ = [
    "DEFAULT_CAM_LAYER",
    "ActivationMap",
    "explain",
    "overlay",
    "resolve_class",
    "save_image",
]

DEFAULT_CAM_LAYER = "Mixed_7c"  # the last 8 x 8 block: the finest grid that still sees classes


@dataclass(frozen=True)
class ActivationMap:
    """A Grad-CAM heat map for one class over one image."""

    heatmap: np.ndarray  # H x W float32 in [0, 1] at the original image's size (EXIF applied)
    class_index: int  # the class explained
    label: str  # its name
    layer: str  # the layer whose activations were weighted
    probability: float  # softmax probability of the class (fp32 reference network)
    crop_box: tuple[int, int, int, int] = (0, 0, 0, 0)  # (left, top, right, bottom) the net saw
    grid: np.ndarray | None = None  # the CAM on the layer's own grid, before mapping back


@dataclass(frozen=True)
class _Axis:
    """One axis of the resize-then-centre-crop, in original-image pixels."""

    length: int  # original length (width or height)
    resized: int  # length after the resize
    offset: int  # first resized pixel inside the crop
    crop: int  # crop side

    def to_crop(self) -> np.ndarray:
        """Each original pixel centre's position inside the crop, in crop pixels."""
        return (np.arange(self.length) + 0.5) * (self.resized / self.length) - self.offset

    def weights(self, cells: int) -> np.ndarray:
        """``length x cells`` bilinear weights from a CAM grid axis onto this axis."""
        u = self.to_crop()
        p = np.clip(u * cells / self.crop - 0.5, 0, cells - 1)  # align_corners=False
        low = np.floor(p).astype(np.int64)
        high = np.minimum(low + 1, cells - 1)
        frac = (p - low).astype(np.float32)
        rows = np.arange(self.length)
        w = np.zeros((self.length, cells), np.float32)
        np.add.at(w, (rows, low), 1 - frac)
        np.add.at(w, (rows, high), frac)
        w[(u < 0) | (u > self.crop)] = 0  # cut away by the crop: never seen
        return w

    def box(self) -> tuple[int, int]:
        scale = self.length / self.resized
        start = max(0.0, self.offset * scale)
        return round(start), round(min(self.length, (self.offset + self.crop) * scale))


def _axes(size: tuple[int, int], fed: tuple[int, int], resize: int, crop: int) -> tuple[_Axis, ...]:
    """torchvision's resize (shorter side to ``resize``) and centre crop, per axis.

    The sizes are computed from the image the transform saw (``fed``); a JPEG
    decoded at reduced scale is a uniform scaling of the original, so the
    same fractions hold on the original.
    """
    fw, fh = fed
    if fw <= fh:
        rw, rh = resize, int(resize * fh / fw)
    else:
        rw, rh = int(resize * fw / fh), resize
    return tuple(
        _Axis(length, resized, round((resized - crop) / 2.0), crop)
        for length, resized in ((size[0], rw), (size[1], rh))
    )


def cam_to_image(
    grid: np.ndarray, size: tuple[int, int], fed: tuple[int, int], resize: int, crop: int
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Map a CAM over the crop onto the original image; also return the crop's box there."""
    x_axis, y_axis = _axes(size, fed, resize, crop)
    heat = y_axis.weights(grid.shape[0]) @ grid.astype(np.float32) @ x_axis.weights(grid.shape[1]).T
    (left, right), (top, bottom) = x_axis.box(), y_axis.box()
    return np.clip(heat, 0.0, 1.0).astype(np.float32), (left, top, right, bottom)


def explain(
    classifier, image: ImageInput, class_index: int, layer: str = DEFAULT_CAM_LAYER
) -> ActivationMap:
    """A Grad-CAM map showing where in ``image`` the evidence for a class lies.

    Parameters
    ----------
    classifier : model.Classifier
        Its fp32 reference network is run with gradients (not the fast path).
    image : path or PIL.Image.Image
        Decoded and preprocessed as for predictions.
    class_index : int
        The class to explain, e.g. one of the top-5.
    layer : str
        Whose activations are weighted (see :func:`model.camera_layers`).

    Returns
    -------
    ActivationMap
        The heat map at the original image's size; 0 outside the centre crop.

    Raises
    ------
    ValueError
        An unknown layer or class index.
    ImageLoadError
        The image cannot be read.
    """
    from torchcam.methods import GradCAM

    network, names = classifier.network, classifier.info.class_names
    find_layer(network, layer)
    if not 0 <= class_index < len(names):
        raise ValueError(f"class index {class_index} is outside 0..{len(names) - 1}")
    prepared = prepare_image(classifier.info.preprocess, image)
    # Gradients must flow even if the caller froze the weights: the input asks for them.
    with network_lock(network), torch.inference_mode(False), torch.enable_grad():
        batch = prepared.tensor.clone().to(classifier.device).requires_grad_(True)
        with GradCAM(network, target_layer=layer) as extractor:
            scores = network(batch)
            cam = extractor(class_idx=int(class_index), scores=scores)[0]
    if cam.ndim != 3:
        raise ValueError(f"layer {layer!r} has no spatial grid to map onto the image")
    grid = torch.nan_to_num(cam[0].detach().float().cpu()).numpy()
    probability = float(scores.detach().float().softmax(dim=1)[0, class_index])
    preprocess = classifier.info.preprocess
    heatmap, box = cam_to_image(
        grid, prepared.size, prepared.fed_size, preprocess.resize_size, preprocess.crop_size
    )
    return ActivationMap(heatmap, class_index, names[class_index], layer, probability, box, grid)


def resolve_class(class_names: Sequence[str], text: str | int) -> int:
    """The index of the class named ``text``: a label (any case) or an index.

    Raises
    ------
    ValueError
        Neither a label nor an index in range; the message lists close labels.
    """
    key = str(text).strip()
    lowered = [name.lower() for name in class_names]
    if key.lower() in lowered:
        return lowered.index(key.lower())  # ImageNet repeats two labels: the first wins
    if key.lstrip("-").isdigit():
        if 0 <= int(key) < len(class_names):
            return int(key)
        raise ValueError(f"class index {key} is outside 0..{len(class_names) - 1}")
    close = difflib.get_close_matches(key.lower(), lowered, n=5, cutoff=0.5)
    close += [n for n in lowered if key.lower() in n and n not in close][: 5 - len(close)]
    if close:
        hint = "; close matches: " + ", ".join(class_names[lowered.index(c)] for c in close)
    else:
        hint = f"; give a label or an index 0..{len(class_names) - 1}"
    raise ValueError(f"no class named {key!r}{hint}")


def _jet(values: np.ndarray) -> np.ndarray:
    """The classic 'jet' colormap (blue, cyan, yellow, red) as uint8 RGB."""
    v = np.clip(values, 0.0, 1.0)[..., None]
    centres = np.array([0.75, 0.5, 0.25], np.float32)  # where red, green, blue peak
    rgb = np.clip(1.5 - np.abs(4.0 * (v - centres)), 0.0, 1.0)
    return (rgb * 255.0 + 0.5).astype(np.uint8)


def overlay(image: Image.Image, heatmap: np.ndarray, opacity: float = 0.5) -> Image.Image:
    """``image`` with ``heatmap`` drawn over it in the jet colormap.

    Parameters
    ----------
    image : PIL.Image.Image
        The photo (EXIF orientation applied, as :attr:`ActivationMap.heatmap` is).
    heatmap : numpy.ndarray
        H x W values in [0, 1]; resized bilinearly if not at the image's size.
    opacity : float
        0 shows the photo alone, 1 the heat map alone.

    Returns
    -------
    PIL.Image.Image
        An RGB image at the photo's size.
    """
    photo = image.convert("RGB")
    heat = np.asarray(heatmap, np.float32)
    if heat.shape != (photo.height, photo.width):
        resized = Image.fromarray(heat, mode="F").resize(photo.size, Image.Resampling.BILINEAR)
        heat = np.asarray(resized, np.float32)
    colours = Image.fromarray(_jet(heat), mode="RGB")
    return Image.blend(photo, colours, float(np.clip(opacity, 0.0, 1.0)))


def save_image(image: Image.Image, path: str | os.PathLike[str]) -> Path:
    """Write ``image`` atomically in the format its suffix names (``.png``, ``.jpg``...).

    Raises
    ------
    ValueError
        A suffix Pillow cannot write.
    """
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None or fmt not in Image.SAVE:
        raise ValueError(
            f"{path}: cannot tell an image format from {path.suffix!r}; use .png or .jpg"
        )
    atomic_write(path, lambda tmp: image.save(tmp, format=fmt))
    return path
