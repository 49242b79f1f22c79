"""What every loss shares: PyTorch's ``reduction`` argument, and input/target checks.

Used by ``loss`` (class-index targets) and ``loss_elementwise`` (targets of the input's shape).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.tensor import Tensor
from ._util import shape_str

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str, op: str, allowed: tuple[str, ...] = _REDUCTIONS) -> None:
    if reduction not in allowed:
        raise ValueError(f"{op} expected reduction in {allowed}, got {reduction!r}")


def _check_real(v: Any, name: str, op: str) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op} expected {name} to be a float, got {type(v).__name__}")


def _reduced(elem: np.ndarray, reduction: str, divisor: float) -> np.ndarray:
    """``elem`` itself ('none'), its sum ('sum'), or its sum / ``divisor`` (the means)."""
    if reduction == "none":
        return elem
    total = elem.sum()
    if reduction != "sum":
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 is nan, as PyTorch
            total = total / divisor
    return np.asarray(total, dtype=elem.dtype)


def _elem_grad(
    dy: np.ndarray, shape: tuple[int, ...], reduction: str, divisor: float
) -> np.ndarray:
    """dL/d(elem) for ``L = _reduced(elem, reduction, divisor)``."""
    if reduction == "none":
        return dy
    g = np.broadcast_to(dy, shape)
    if reduction != "sum":
        with np.errstate(divide="ignore", invalid="ignore"):
            g = g / divisor
    return g


def _input_target(input: Any, target: Any, op: str) -> tuple[Tensor, Tensor]:
    """Input and target as tensors of one shape (PyTorch broadcasts with a warning; a shape
    mismatch in a pointwise loss is almost always a bug, so here it is an error)."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    t = target if isinstance(target, Tensor) else Tensor(np.asarray(target, dtype=x.dtype))
    if x.shape != t.shape:
        raise ValueError(
            f"{op} expected target of the input's shape {shape_str(x.shape)}, got "
            f"{shape_str(t.shape)} (broadcasting here is almost always a bug)"
        )
    if x.dtype.kind != "f":
        raise TypeError(f"{op} expected a floating-point input, got dtype {x.dtype}")
    if t.dtype.kind != "f":  # integer or bool targets count as the input's floats
        t = Tensor(t.data.astype(x.dtype))
    return x, t


def _weight_array(v: Any, name: str, op: str, x: Tensor, *, same_shape: bool = False) -> Any:
    """An optional elementwise weight as an array of the input's dtype, checked against it."""
    if v is None:
        return None
    a = np.asarray(v.data if isinstance(v, Tensor) else v, dtype=x.dtype)
    if same_shape and a.shape != x.shape:
        raise ValueError(
            f"{op} expected {name} of the input's shape {shape_str(x.shape)}, got "
            f"{shape_str(a.shape)}"
        )
    try:
        np.broadcast_shapes(a.shape, x.shape)
    except ValueError:
        raise ValueError(
            f"{op} expected {name} broadcastable to {shape_str(x.shape)}, got {shape_str(a.shape)}"
        ) from None
    return a
