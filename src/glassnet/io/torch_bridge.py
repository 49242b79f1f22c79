"""Direct exchange of weights with a live PyTorch model (torch is optional).

glassnet layers use PyTorch's ``state_dict`` keys and shapes, so the bridge is a conversion of
arrays: ``to_torch_state_dict`` gives torch tensors for ``torch_model.load_state_dict``;
``from_torch`` fills a glassnet model from a torch model or its state dict, with the checks and
the report of ``glassnet.io.load_into``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..autograd.tensor import Tensor
from ..nn.module import Module
from .weights import LoadReport, load_into


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError(
            "this needs PyTorch (pip install torch); without it, exchange weights through "
            "safetensors files (glassnet.io.save / load_into)"
        ) from None
    return torch


def to_torch_state_dict(model_or_state: Module | Mapping[str, Any]) -> OrderedDict[str, Any]:
    """A PyTorch state dict (CPU tensors, same dtypes) of a glassnet model or state dict.

    >>> import torch, glassnet
    >>> sd = to_torch_state_dict(glassnet.nn.Linear(3, 2))
    >>> torch.nn.Linear(3, 2).load_state_dict(sd)
    <All keys matched successfully>
    """
    torch = _torch()
    if isinstance(model_or_state, Module):
        state: Mapping[str, Any] = model_or_state.state_dict()
    elif isinstance(model_or_state, Mapping):
        state = model_or_state
    else:
        kind = type(model_or_state).__name__
        raise TypeError(f"to_torch_state_dict expected a Module or a mapping, got {kind}")
    out: OrderedDict[str, Any] = OrderedDict()
    for k, v in state.items():
        arr = v.data if isinstance(v, Tensor) else np.asarray(v)
        out[k] = torch.from_numpy(np.array(arr, copy=True))
    return out


def from_torch(model: Module, torch_model_or_state: Any, strict: bool = True) -> LoadReport:
    """Load a PyTorch model's weights (or a state dict of torch tensors) into ``model``.

    Same checks, conversions and report as ``glassnet.io.load_into``.
    """
    if hasattr(torch_model_or_state, "state_dict") and callable(torch_model_or_state.state_dict):
        state = torch_model_or_state.state_dict()
    elif isinstance(torch_model_or_state, Mapping):
        state = torch_model_or_state
    else:
        raise TypeError(
            "from_torch expected a torch.nn.Module or a state dict, got "
            f"{type(torch_model_or_state).__name__}"
        )
    return load_into(model, state, strict=strict)
