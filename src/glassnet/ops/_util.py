"""Helpers shared by ops: broadcasting reductions, axis normalisation, argument checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._dtype import get_default_dtype, is_floating
from ..autograd.tensor import Tensor


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
    )
    g = grad.sum(axis=axes, keepdims=True) if axes else grad
    return g.reshape(shape)


def normalize_dim(dim: int, ndim: int, name: str = "dim") -> int:
    """Map a possibly negative axis into ``range(ndim)``, with a clear error."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(dim).__name__}")
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not lo <= dim <= hi:
        raise IndexError(f"{name}={dim} is out of range for a tensor with {ndim} dimensions")
    return int(dim) % max(ndim, 1)


def normalize_dims(dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = tuple(sorted({normalize_dim(d, ndim) for d in dims}))
    if len(out) != len(dims):
        raise ValueError(f"dim {tuple(dims)} names a dimension twice")
    return out


def as_operand(x: Any, like: Any) -> Any:
    """Turn a Python number into an array of the tensor operand's dtype (PyTorch promotion)."""
    if isinstance(x, (Tensor, np.ndarray)):
        return x
    if isinstance(x, (bool, int, float, np.generic)):
        ref = like.data if isinstance(like, Tensor) else np.asarray(like)
        if is_floating(ref.dtype):
            dtype = ref.dtype
        elif isinstance(x, (float, np.floating)):
            dtype = get_default_dtype()
        else:
            dtype = np.result_type(ref.dtype, np.asarray(x).dtype)
        return np.asarray(x, dtype=dtype)
    if isinstance(x, (list, tuple)):
        return np.asarray(x)
    raise TypeError(f"unsupported operand of type {type(x).__name__} for a tensor operation")


def require_tensor(x: Any, name: str, op: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor(x)
    raise TypeError(f"{op} expected {name} to be a Tensor, got {type(x).__name__}")


def check_floating(x: Tensor, name: str, op: str) -> None:
    if not is_floating(x.dtype):
        raise TypeError(f"{op} expected {name} to be a floating-point tensor, got {x.dtype}")


def shape_str(shape: Sequence[Any]) -> str:
    return str(tuple(int(s) for s in shape))


def _dtype_method(dtype: np.dtype) -> str:
    """The Tensor/Module method that converts to ``dtype``: ``.float()``, ``.double()``."""
    return {"float32": ".float()", "float64": ".double()"}.get(str(dtype), f".to({dtype})")


def check_weight_dtype(layer: str, input: Tensor, weight: Tensor | None) -> None:
    """The one dtype rule of every layer with weights, as PyTorch: the input has the weight's dtype.

    float64 NumPy data fed to a float32 layer is the usual case; the TypeError names the layer,
    both dtypes and the two fixes. Layers call this with their class name before their op, and
    the ops (``F.linear``, ``F.conv2d``, ...) with their own name, so both refuse alike.
    """
    if weight is None or input.dtype == weight.dtype:
        return
    xd, wd = input.dtype, weight.dtype
    to_w = _dtype_method(wd)
    if is_floating(xd):
        fix = f"convert the input with {to_w}, or the layer (its weights) with {_dtype_method(xd)}"
    else:
        other = _dtype_method(np.dtype(np.float64 if wd == np.float32 else np.float32))
        fix = f"convert the input with {to_w} (or both input and layer with {other})"
    raise TypeError(f"{layer} expected input of dtype {wd} (its weight's dtype), got {xd}: {fix}")
