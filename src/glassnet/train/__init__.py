"""Training: the ``Trainer``, callbacks and safe checkpoints."""

from .callbacks import Callback, EarlyStopping
from .checkpoint import CheckpointError, load_state, save_state
from .trainer import Trainer, TrainingInterrupted, accuracy

__all__ = [
    "Callback",
    "CheckpointError",
    "EarlyStopping",
    "Trainer",
    "TrainingInterrupted",
    "accuracy",
    "load_state",
    "save_state",
]
