"""Inception v3 and everything torch: network, weights, prediction, layer summary.

This package never imports Qt or ``inception_gui``; scripts use it directly::

    from model import load_classifier
    clf = load_classifier(weights="imagenet", variant="v3", device="auto")
    results = clf.predict(["cat.jpg"], k=5)
"""

from model.checkpoint import Checkpoint, CheckpointError, read_checkpoint, save_checkpoint
from model.device import DeviceChoice, DeviceError, list_devices, resolve_device
from model.images import ImageLoadError, iter_image_files, load_image
from model.network import MIN_INPUT_SIZE, Inception3, Variant, build_network
from model.predict import Classifier, ImageResult, Prediction, load_classifier
from model.preprocess import Preprocess, imagenet_preprocess
from model.summary import LayerNode, NetworkSummary, summarize, summarize_module
from model.weights import (
    DownloadCancelled,
    WeightsInfo,
    WeightsUnavailableError,
    download_imagenet_weights,
    imagenet_cache_path,
    imagenet_categories,
    load_network,
)

__all__ = [
    "MIN_INPUT_SIZE",
    "Checkpoint",
    "CheckpointError",
    "Classifier",
    "DeviceChoice",
    "DeviceError",
    "DownloadCancelled",
    "ImageLoadError",
    "ImageResult",
    "Inception3",
    "LayerNode",
    "NetworkSummary",
    "Prediction",
    "Preprocess",
    "Variant",
    "WeightsInfo",
    "WeightsUnavailableError",
    "build_network",
    "download_imagenet_weights",
    "imagenet_cache_path",
    "imagenet_categories",
    "imagenet_preprocess",
    "iter_image_files",
    "list_devices",
    "load_classifier",
    "load_image",
    "load_network",
    "read_checkpoint",
    "resolve_device",
    "save_checkpoint",
    "summarize",
    "summarize_module",
]
