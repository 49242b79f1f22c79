"""Gradient clipping with PyTorch's formulas."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ...autograd.tensor import Tensor


def _with_grads(parameters: Iterable[Tensor] | Tensor) -> list[Tensor]:
    ps = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in ps if p.grad is not None]


def clip_grad_norm_(
    parameters: Iterable[Tensor] | Tensor,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Scale all gradients together so their joint norm is at most ``max_norm``.

    ``coef = max_norm / (total_norm + 1e-6)``, applied when below 1 (PyTorch's rule).

    Returns:
        The total norm of the gradients before clipping.
    """
    if max_norm < 0:
        raise ValueError(f"clip_grad_norm_ expected a non-negative max_norm, got {max_norm}")
    ps = _with_grads(parameters)
    if not ps:
        return 0.0
    if norm_type == math.inf:
        total = max(float(np.abs(p.grad.data).max()) for p in ps if p.grad.data.size)  # type: ignore[union-attr]
    else:
        powers = [float((np.abs(p.grad.data.astype(np.float64)) ** norm_type).sum()) for p in ps]  # type: ignore[union-attr]
        total = math.fsum(powers) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is {total}")
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for p in ps:
            p.grad.data *= p.grad.data.dtype.type(coef)  # type: ignore[union-attr]
    return total


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clamp every gradient element to [-clip_value, clip_value]."""
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_ expected a non-negative clip_value, got {clip_value}")
    for p in _with_grads(parameters):
        np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)  # type: ignore[union-attr]
