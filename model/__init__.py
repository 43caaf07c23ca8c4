"""Inception v3 and everything torch: network, weights, data, inference, training.

This package never imports Qt or ``inception_gui``; scripts use it directly::

    from model import load_classifier
    clf = load_classifier(weights="imagenet", variant="v3", device="auto")
    results = clf.predict(["cat.jpg"], k=5)

    from model import TrainConfig, train
    for event in train(TrainConfig("my_photos/", "runs/my_photos", epochs=5)):
        print(event)

``import model`` is cheap and does not import torch (PEP 562): each name below is imported
from its room the first time it is used. The rooms:

- :mod:`model.errors`, :mod:`model.precision`: torch-free definitions every caller shares.
- :mod:`model.network`: the blocks, the Inception3 builder, summaries, comparisons, the fast copy.
- :mod:`model.weights`: the ImageNet record, the checkpoint format, loading.
- :mod:`model.data`: image decoding, preprocessing, training folders and splits.
- :mod:`model.inference`: the classifier, Grad-CAM, feature maps, export.
- :mod:`model.training`: configuration and events (torch-free), the engine and its parts.
"""

from model._lazy import lazy_exports

_EXPORTS = {
    "Checkpoint": "model.weights.checkpoint",
    "read_checkpoint": "model.weights.checkpoint",
    "save_checkpoint": "model.weights.checkpoint",
    "CheckpointError": "model.errors",
    "DeviceError": "model.errors",
    "DownloadCancelled": "model.errors",
    "ImageLoadError": "model.errors",
    "PrecisionError": "model.errors",
    "TrainingError": "model.errors",
    "WeightsUnavailableError": "model.errors",
    "FactorizationFigures": "model.network.compare",
    "StageFigures": "model.network.compare",
    "StageRow": "model.network.compare",
    "VariantComparison": "model.network.compare",
    "compare_variants": "model.network.compare",
    "DatasetReport": "model.data.folders",
    "check_dataset": "model.data.folders",
    "DeviceChoice": "model.device",
    "list_devices": "model.device",
    "resolve_device": "model.device",
    "ActivationMap": "model.inference.explain",
    "explain": "model.inference.explain",
    "overlay": "model.inference.explain",
    "resolve_class": "model.inference.explain",
    "ExportCheck": "model.inference.export",
    "export_onnx": "model.inference.export",
    "export_torchscript": "model.inference.export",
    "read_export_metadata": "model.inference.export",
    "verify_export": "model.inference.export",
    "Precision": "model.precision",
    "resolve_precision": "model.precision",
    "ChannelMap": "model.inference.features",
    "FeatureMaps": "model.inference.features",
    "camera_layers": "model.inference.features",
    "feature_maps": "model.inference.features",
    "iter_image_files": "model.data.images",
    "load_image": "model.data.images",
    "ValSample": "model.training.mistakes",
    "cell_samples": "model.training.mistakes",
    "reveal_in_file_manager_command": "model.training.mistakes",
    "top5_for": "model.training.mistakes",
    "MIN_INPUT_SIZE": "model.network.variants",
    "Variant": "model.network.variants",
    "Inception3": "model.network.inception",
    "build_network": "model.network.inception",
    "Classifier": "model.inference.classifier",
    "ImageResult": "model.inference.classifier",
    "Prediction": "model.inference.classifier",
    "load_classifier": "model.inference.classifier",
    "Preprocess": "model.data.preprocess",
    "imagenet_preprocess": "model.data.preprocess",
    "LayerNode": "model.network.summary",
    "NetworkSummary": "model.network.summary",
    "summarize": "model.network.summary",
    "summarize_module": "model.network.summary",
    "TrainConfig": "model.training.config",
    "TrainControl": "model.training.config",
    "BatchProgress": "model.training.events",
    "DatasetChecked": "model.training.events",
    "EpochEnd": "model.training.events",
    "ImageSkipped": "model.training.events",
    "TrainingDone": "model.training.events",
    "TrainingStarted": "model.training.events",
    "train": "model.training.engine",
    "audit_folder": "model.training.audit",
    "dataset_duplicates": "model.training.audit",
    "detect_precision": "model.training.recipe",
    "WeightsInfo": "model.weights.loading",
    "load_network": "model.weights.loading",
    "download_imagenet_weights": "model.weights.imagenet",
    "imagenet_cache_path": "model.weights.imagenet",
    "imagenet_categories": "model.weights.imagenet",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
