"""Images from disk to tensors: decoding, preprocessing, training folders and splits."""

from model._lazy import lazy_exports

_EXPORTS = {
    "IMAGE_SUFFIXES": "model.data.formats",
    "IMAGE_FORMATS": "model.data.formats",
    "open_image": "model.data.images",
    "iter_image_files": "model.data.images",
    "load_image": "model.data.images",
    "to_rgb": "model.data.images",
    "Preprocess": "model.data.preprocess",
    "imagenet_preprocess": "model.data.preprocess",
    "DatasetReport": "model.data.folders",
    "check_dataset": "model.data.folders",
    "move_to_class": "model.data.curate",
    "exclude": "model.data.curate",
    "undo": "model.data.curate",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
