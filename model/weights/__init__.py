"""Where weights come from and how they are kept: the ImageNet record, checkpoints, loading."""

from model._lazy import lazy_exports

_EXPORTS = {
    "download_imagenet_weights": "model.weights.imagenet",
    "imagenet_cache_path": "model.weights.imagenet",
    "imagenet_categories": "model.weights.imagenet",
    "Checkpoint": "model.weights.checkpoint",
    "atomic_write": "model.files",
    "read_checkpoint": "model.weights.checkpoint",
    "save_checkpoint": "model.weights.checkpoint",
    "WeightsInfo": "model.weights.loading",
    "load_network": "model.weights.loading",
    "network_from_state_dict": "model.weights.loading",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
