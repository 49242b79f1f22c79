"""Training: the ``Trainer``, callbacks, safe checkpoints and run locks."""

from .callbacks import Callback, EarlyStopping
from .checkpoint import CheckpointError, load_state, save_state
from .lock import RunLock, RunLockedError
from .trainer import Trainer, TrainingDiverged, TrainingInterrupted, accuracy

__all__ = [
    "Callback",
    "CheckpointError",
    "EarlyStopping",
    "RunLock",
    "RunLockedError",
    "Trainer",
    "TrainingDiverged",
    "TrainingInterrupted",
    "accuracy",
    "load_state",
    "save_state",
]
