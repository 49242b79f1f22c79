"""The autograd engine: ``Tensor``, ``Function``, ``backward``, grad modes, ``gradcheck``."""

# Tensor first: its module pulls in the ops, which need Function, which needs Tensor.
from .tensor import Parameter, Tensor

# isort: split

from .engine import backward
from .function import AnomalyError, Function
from .grad_mode import (
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck

__all__ = [
    "AnomalyError",
    "Function",
    "GradcheckError",
    "Parameter",
    "Tensor",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "gradcheck",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "set_detect_anomaly",
    "set_grad_enabled",
]
