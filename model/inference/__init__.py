"""Using a network: the classifier (it owns the network lock), Grad-CAM, feature maps, export."""

from model._lazy import lazy_exports

_EXPORTS = {
    "Classifier": "model.inference.classifier",
    "ImageResult": "model.inference.classifier",
    "Prediction": "model.inference.classifier",
    "load_classifier": "model.inference.classifier",
    "ChannelMap": "model.inference.features",
    "FeatureMaps": "model.inference.features",
    "camera_layers": "model.inference.features",
    "feature_maps": "model.inference.features",
    "ExportCheck": "model.inference.export",
    "export_onnx": "model.inference.export",
    "export_torchscript": "model.inference.export",
    "verify_export": "model.inference.export",
    "export_model": "model.inference.export",
    "export_targets": "model.inference.export",
    "check_opset": "model.inference.export",
    "overlay": "model.inference.explain",
    "resolve_class": "model.inference.explain",
    "save_image": "model.inference.explain",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
