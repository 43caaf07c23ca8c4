"""Fine-tuning: configuration and events (torch-free), the engine, its passes and its files."""

from model._lazy import lazy_exports

_EXPORTS = {
    "OPTIMIZERS": "model.training.config",
    "SCHEDULES": "model.training.config",
    "TRAIN_FROM": "model.training.config",
    "TrainConfig": "model.training.config",
    "TrainControl": "model.training.config",
    "format_duration": "model.training.config",
    "BatchProgress": "model.training.events",
    "DatasetChecked": "model.training.events",
    "EpochEnd": "model.training.events",
    "ImageSkipped": "model.training.events",
    "TrainEvent": "model.training.events",
    "TrainingDone": "model.training.events",
    "TrainingStarted": "model.training.events",
    "BestEpoch": "model.training.records",
    "EpochRecord": "model.training.records",
    "Meter": "model.training.records",
    "RunSnapshot": "model.training.records",
    "ValidationSummary": "model.training.records",
    "train": "model.training.engine",
    "audit_folder": "model.training.audit",
    "AuditReport": "model.training.audit",
    "dataset_duplicates": "model.training.audit",
    "holds_run": "model.training.run_folder",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
