"""Reductions: sum, mean, var/std, max/min (with indices), argmax/argmin."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import normalize_dim, normalize_dims, specialize
from .elementwise import maximum, minimum


def _expand_back(dy: np.ndarray, shape: tuple[int, ...], axes: tuple[int, ...], keepdim: bool):
    """Reshape a reduced gradient so it broadcasts against the input of ``shape``."""
    if not keepdim:
        dy = np.expand_dims(dy, axes) if axes else dy
    return dy


class Sum(Function):
    """y = sum of x over ``axes``: dx = dy broadcast back."""

    def forward(self, x: np.ndarray, *, axes: tuple[int, ...], keepdim: bool) -> np.ndarray:
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        return np.asarray(x.sum(axis=axes, keepdims=keepdim))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        g = _expand_back(dy, self.shape, self.axes, self.keepdim)
        return np.broadcast_to(g, self.shape).copy()


class Mean(Function):
    """y = mean of x over ``axes``: dx = dy / count broadcast back."""

    def forward(self, x: np.ndarray, *, axes: tuple[int, ...], keepdim: bool) -> np.ndarray:
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        self.count = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        return np.asarray(x.mean(axis=axes, keepdims=keepdim))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        g = _expand_back(dy, self.shape, self.axes, self.keepdim) / self.count
        return np.broadcast_to(g, self.shape).astype(dy.dtype)


class Var(Function):
    """y = sum((x - mean)^2) / (count - correction): dx = 2 (x - mean) dy / (count - correction)."""

    def forward(
        self, x: np.ndarray, *, axes: tuple[int, ...], correction: int, keepdim: bool
    ) -> np.ndarray:
        self.axes, self.keepdim, self.shape = axes, keepdim, x.shape
        count = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        self.centered = x - x.mean(axis=axes, keepdims=True)
        self.denom = builtins.max(count - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(
                (self.centered**2).sum(axis=axes, keepdims=keepdim) / self.denom
            ).astype(x.dtype)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        g = _expand_back(dy, self.shape, self.axes, self.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (2 * self.centered * g / self.denom).astype(dy.dtype)


class Amax(Function):
    """y = max over ``axes``; the gradient is shared evenly among tied maxima (as PyTorch)."""

    def forward(
        self, x: np.ndarray, *, axes: tuple[int, ...], keepdim: bool, largest: bool
    ) -> np.ndarray:
        y = x.max(axis=axes, keepdims=True) if largest else x.min(axis=axes, keepdims=True)
        self.mask = x == y  # (x.shape) True at every extreme
        self.count = self.mask.sum(axis=axes, keepdims=True)
        self.axes, self.keepdim, self.shape = axes, keepdim, x.shape
        return y if keepdim else np.asarray(y.squeeze(axis=axes))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        g = _expand_back(dy, self.shape, self.axes, self.keepdim)
        return (self.mask * (g / self.count)).astype(dy.dtype)


class MaxDim(Function):
    """(values, indices) of the max (or min) along one ``dim``; the gradient goes to the index."""

    def forward(self, x: np.ndarray, *, dim: int, keepdim: bool, largest: bool):
        idx = np.expand_dims(x.argmax(axis=dim) if largest else x.argmin(axis=dim), dim)
        values = np.take_along_axis(x, idx, axis=dim)
        self.idx, self.dim, self.keepdim, self.shape = idx, dim, keepdim, x.shape
        if not keepdim:
            return values.squeeze(dim), idx.squeeze(dim)
        return values, idx

    def backward(self, dv: np.ndarray, di: np.ndarray) -> np.ndarray:
        dx = np.zeros(self.shape, dv.dtype)
        g = dv if self.keepdim else np.expand_dims(dv, self.dim)
        np.put_along_axis(dx, self.idx, g, axis=self.dim)
        return dx


class MaxResult(NamedTuple):
    """``values`` and ``indices`` of ``max(dim)``/``min(dim)``, as PyTorch's namedtuple."""

    values: Tensor
    indices: Tensor


def _numpy_names(op: str, dim: Any, keepdim: bool, axis: Any, keepdims: bool | None) -> Any:
    """``dim`` and ``keepdim``, also given by NumPy's names ``axis``/``keepdims`` (as PyTorch)."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}() got both dim and axis (its NumPy name); give one")
        dim = axis
    if keepdims is not None:
        if keepdim:
            raise TypeError(f"{op}() got both keepdim and keepdims (its NumPy name); give one")
        keepdim = bool(keepdims)
    return dim, keepdim


# ---------------------------------------------------------------------------- functional forms
def sum(
    x: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    axis: Any = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Sum over ``dim`` (all dimensions when None)."""
    dim, keepdim = _numpy_names("sum", dim, keepdim, axis, keepdims)
    return Sum.apply(x, axes=normalize_dims(dim, x.ndim), keepdim=keepdim)


def mean(
    x: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    axis: Any = None,
    keepdims: bool | None = None,
) -> Tensor:
    """Mean over ``dim`` (all dimensions when None)."""
    dim, keepdim = _numpy_names("mean", dim, keepdim, axis, keepdims)
    if x.dtype.kind not in "fc":
        raise TypeError(f"mean expected a floating-point tensor, got dtype {x.dtype}")
    return Mean.apply(x, axes=normalize_dims(dim, x.ndim), keepdim=keepdim)


def _var(
    x: Tensor,
    dim: int | Sequence[int] | None = None,
    *,
    correction: int = 1,
    keepdim: bool = False,
    axis: Any = None,
    keepdims: bool | None = None,
    _sqrt: bool = False,
) -> Tensor:
    dim, keepdim = _numpy_names("std" if _sqrt else "var", dim, keepdim, axis, keepdims)
    axes = normalize_dims(dim, x.ndim)
    v = Var.apply(x, axes=axes, correction=correction, keepdim=keepdim)
    return v.sqrt() if _sqrt else v


var = specialize(
    _var, "var", "Variance over ``dim`` with Bessel's ``correction`` (1 = unbiased, as PyTorch).",
    _sqrt=False,
)  # fmt: skip
std = specialize(_var, "std", "Standard deviation: sqrt of ``var``.", _sqrt=True)


def _extreme(x: Tensor, dim: int | None, keepdim: bool, largest: bool) -> Any:
    if x.data.size == 0:
        raise ValueError(f"{'max' if largest else 'min'} of an empty tensor")
    if dim is None:
        return Amax.apply(x, axes=tuple(range(x.ndim)), keepdim=False, largest=largest)
    d = normalize_dim(dim, x.ndim)
    values, indices = MaxDim.apply(x, dim=d, keepdim=keepdim, largest=largest)
    return MaxResult(values, indices)


def _max(
    x: Tensor,
    dim: Any = None,
    keepdim: bool = False,
    *,
    other: Any = None,
    axis: Any = None,
    keepdims: bool | None = None,
    _largest: bool = True,
) -> Any:
    op = "max" if _largest else "min"
    if isinstance(dim, (Tensor, np.ndarray)):  # PyTorch's max(input, other): elementwise
        if other is not None:
            raise TypeError(f"{op}() got other twice (as the second argument and by name)")
        dim, other = None, dim
    if other is not None:
        if dim is not None or keepdim or axis is not None or keepdims is not None:
            raise TypeError(f"{op}(input, other) is elementwise and takes no dim or keepdim")
        return (maximum if _largest else minimum)(x, other)
    dim, keepdim = _numpy_names(op, dim, keepdim, axis, keepdims)
    return _extreme(x, dim, keepdim, _largest)


def _amax(
    x: Tensor,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    axis: Any = None,
    keepdims: bool | None = None,
    _largest: bool = True,
) -> Tensor:
    dim, keepdim = _numpy_names("amax" if _largest else "amin", dim, keepdim, axis, keepdims)
    axes = normalize_dims(dim, x.ndim)
    return Amax.apply(x, axes=axes, keepdim=keepdim, largest=_largest)


def _argmax(
    x: Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    axis: Any = None,
    keepdims: bool | None = None,
    _largest: bool = True,
) -> Tensor:
    dim, keepdim = _numpy_names("argmax" if _largest else "argmin", dim, keepdim, axis, keepdims)
    find = x.data.argmax if _largest else x.data.argmin
    if dim is None:
        return Tensor(np.asarray(find(), dtype=np.int64))
    d = normalize_dim(dim, x.ndim)
    return Tensor(np.asarray(find(axis=d, keepdims=keepdim), dtype=np.int64))


# the maximum and the minimum of each kind: one definition, ``_largest`` fixed
max = specialize(
    _max, "max", "The maximum (a scalar tensor), or ``(values, indices)`` along ``dim``; "
    "``max(input, other)`` is the elementwise ``maximum``, as in PyTorch.",
    _largest=True,
)  # fmt: skip
min = specialize(
    _max, "min", "The minimum (a scalar tensor), or ``(values, indices)`` along ``dim``; "
    "``min(input, other)`` is the elementwise ``minimum``, as in PyTorch.",
    _largest=False,
)  # fmt: skip
amax = specialize(
    _amax, "amax", "Maximum over ``dim``; ties share the gradient evenly.", _largest=True
)
amin = specialize(
    _amax, "amin", "Minimum over ``dim``; ties share the gradient evenly.", _largest=False
)
argmax = specialize(
    _argmax, "argmax", "Index of the maximum (over the flattened tensor when ``dim`` is None).",
    _largest=True,
)  # fmt: skip
argmin = specialize(
    _argmax, "argmin", "Index of the minimum (over the flattened tensor when ``dim`` is None).",
    _largest=False,
)  # fmt: skip
