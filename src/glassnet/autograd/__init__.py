"""The autograd engine: ``Tensor``, ``Function``, ``backward``, grad modes, ``gradcheck``."""

# Tensor first: its module pulls in the ops, which need Function, which needs Tensor.
from .tensor import Parameter, Tensor

# isort: split

from .engine import backward, grad
from .function import AnomalyError, Function
from .grad_mode import (
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_anomaly_enabled,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck
from .hooks import RemovableHandle

__all__ = [
    "AnomalyError",
    "Function",
    "GradcheckError",
    "Parameter",
    "RemovableHandle",
    "Tensor",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "inference_mode",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "set_detect_anomaly",
    "set_grad_enabled",
]
