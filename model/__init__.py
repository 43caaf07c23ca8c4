"""Inception v3 and everything torch: network, weights, prediction, layer summary.

This package never imports Qt or ``inception_gui``; scripts use it directly::

    from model import load_classifier
    clf = load_classifier(weights="imagenet", variant="v3", device="auto")
    results = clf.predict(["cat.jpg"], k=5)

    from model import TrainConfig, train
    for event in train(TrainConfig("my_photos/", "runs/my_photos", epochs=5)):
        print(event)
"""

from model.checkpoint import Checkpoint, CheckpointError, read_checkpoint, save_checkpoint
from model.compare import (
    FactorizationFigures,
    StageFigures,
    StageRow,
    VariantComparison,
    compare_variants,
)
from model.data import DatasetReport, check_dataset
from model.device import DeviceChoice, DeviceError, list_devices, resolve_device
from model.explain import ActivationMap, explain, overlay, resolve_class
from model.export import (
    ExportCheck,
    export_onnx,
    export_torchscript,
    read_export_metadata,
    verify_export,
)
from model.fastpath import Precision, PrecisionError, resolve_precision
from model.features import ChannelMap, FeatureMaps, camera_layers, feature_maps
from model.images import ImageLoadError, iter_image_files, load_image
from model.mistakes import (
    ValSample,
    cell_samples,
    reveal_in_file_manager_command,
    top5_for,
)
from model.network import MIN_INPUT_SIZE, Inception3, Variant, build_network
from model.predict import Classifier, ImageResult, Prediction, load_classifier
from model.preprocess import Preprocess, imagenet_preprocess
from model.summary import LayerNode, NetworkSummary, summarize, summarize_module
from model.train import (
    BatchProgress,
    DatasetChecked,
    EpochEnd,
    TrainConfig,
    TrainControl,
    TrainingDone,
    TrainingError,
    detect_precision,
    train,
)
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
    "ActivationMap",
    "BatchProgress",
    "ChannelMap",
    "Checkpoint",
    "CheckpointError",
    "Classifier",
    "DatasetChecked",
    "DatasetReport",
    "DeviceChoice",
    "DeviceError",
    "DownloadCancelled",
    "EpochEnd",
    "ExportCheck",
    "FactorizationFigures",
    "FeatureMaps",
    "ImageLoadError",
    "ImageResult",
    "Inception3",
    "LayerNode",
    "NetworkSummary",
    "Precision",
    "PrecisionError",
    "Prediction",
    "Preprocess",
    "StageFigures",
    "StageRow",
    "TrainConfig",
    "TrainControl",
    "TrainingDone",
    "TrainingError",
    "ValSample",
    "Variant",
    "VariantComparison",
    "WeightsInfo",
    "WeightsUnavailableError",
    "build_network",
    "camera_layers",
    "cell_samples",
    "check_dataset",
    "compare_variants",
    "detect_precision",
    "download_imagenet_weights",
    "explain",
    "export_onnx",
    "export_torchscript",
    "feature_maps",
    "imagenet_cache_path",
    "imagenet_categories",
    "imagenet_preprocess",
    "iter_image_files",
    "list_devices",
    "load_classifier",
    "load_image",
    "load_network",
    "overlay",
    "read_checkpoint",
    "read_export_metadata",
    "resolve_class",
    "resolve_device",
    "resolve_precision",
    "reveal_in_file_manager_command",
    "save_checkpoint",
    "summarize",
    "summarize_module",
    "top5_for",
    "train",
    "verify_export",
]
