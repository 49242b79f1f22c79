"""Shape operations: reshape, permute, squeeze/unsqueeze, expand, cat/stack/split, indexing.

Padding is in ``padding`` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._dtype import result_type
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import normalize_dim, shape_str
from .padding import Pad, pad, pad_source_index

# Pad, pad and pad_source_index live in ``padding``; re-exported so that old imports keep working.
__all__ = [
    "Cat",
    "Clone",
    "Expand",
    "GetItem",
    "Pad",
    "Permute",
    "Reshape",
    "Split",
    "Stack",
    "cat",
    "chunk",
    "clone",
    "concatenate",
    "expand",
    "flatten",
    "getitem",
    "pad",
    "pad_source_index",
    "permute",
    "reshape",
    "split",
    "squeeze",
    "stack",
    "transpose",
    "unsqueeze",
]


class Reshape(Function):
    """y = x with a new shape (same elements, row-major order)."""

    def forward(self, x: np.ndarray, *, shape: tuple[int, ...]) -> np.ndarray:
        self.in_shape = x.shape
        return x.reshape(shape)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy.reshape(self.in_shape)


class Permute(Function):
    """y = x with its axes reordered; the gradient is permuted back."""

    def forward(self, x: np.ndarray, *, dims: tuple[int, ...]) -> np.ndarray:
        self.inverse = tuple(np.argsort(dims))
        return x.transpose(dims)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy.transpose(self.inverse)


class Expand(Function):
    """y = x broadcast to ``shape`` (a view); the gradient is summed back."""

    def forward(self, x: np.ndarray, *, shape: tuple[int, ...]) -> np.ndarray:
        self.in_shape = x.shape
        return np.broadcast_to(x, shape)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        from ._util import unbroadcast

        return unbroadcast(dy, self.in_shape)


class Clone(Function):
    """y = a copy of x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.copy()

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy


class Cat(Function):
    """y = x_1, ..., x_n joined along ``dim``; the gradient is split back."""

    def forward(self, *xs: np.ndarray, dim: int) -> np.ndarray:
        self.dim = dim
        self.bounds = np.cumsum([x.shape[dim] for x in xs])[:-1]
        return np.concatenate(xs, axis=dim)

    def backward(self, dy: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.split(dy, self.bounds, axis=self.dim))


class Stack(Function):
    """y = x_1, ..., x_n stacked along a new axis ``dim``."""

    def forward(self, *xs: np.ndarray, dim: int) -> np.ndarray:
        self.dim = dim
        return np.stack(xs, axis=dim)

    def backward(self, dy: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.moveaxis(dy, self.dim, 0))


class Split(Function):
    """(y_1, ..., y_n) = x cut along ``dim`` at ``bounds`` (a multi-output op)."""

    def forward(self, x: np.ndarray, *, bounds: list[int], dim: int) -> tuple[np.ndarray, ...]:
        self.dim = dim
        return tuple(np.split(x, bounds, axis=dim))

    def backward(self, *dys: np.ndarray) -> np.ndarray:
        return np.concatenate(dys, axis=self.dim)


def _is_basic_index(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer)) for p in parts
    ) and not any(isinstance(p, bool) for p in parts)


class GetItem(Function):
    """y = x[index]; basic indexing copies the gradient back, advanced indexing scatter-adds."""

    def forward(self, x: np.ndarray, *, index: Any) -> np.ndarray:
        self.index, self.in_shape = index, x.shape
        self.basic = _is_basic_index(index)
        return np.asarray(x[index])

    def backward(self, dy: np.ndarray) -> np.ndarray:
        dx = np.zeros(self.in_shape, dy.dtype)
        if self.basic:
            dx[self.index] = dy
        else:
            np.add.at(dx, self.index, dy)  # repeated indices accumulate
        return dx


# ---------------------------------------------------------------------------- functional forms
def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(int(s) for s in shape[0])
    return tuple(int(s) for s in shape)


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """x with a new shape; one dimension may be -1 (inferred)."""
    new = _shape_arg(shape)
    known = int(np.prod([s for s in new if s != -1]))
    if new.count(-1) > 1 or (
        (-1 not in new and known != x.data.size)
        or (-1 in new and (known == 0 or x.data.size % known))
    ):
        raise ValueError(
            f"cannot reshape a tensor of shape {shape_str(x.shape)} to {shape_str(new)}"
        )
    return Reshape.apply(x, shape=new)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one."""
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = normalize_dim(start_dim, x.ndim, "start_dim"), normalize_dim(end_dim, x.ndim, "end_dim")
    if s > e:
        raise ValueError(f"flatten expected start_dim <= end_dim, got {start_dim} and {end_dim}")
    new = x.shape[:s] + (int(np.prod(x.shape[s : e + 1])),) + x.shape[e + 1 :]
    return Reshape.apply(x, shape=new)


def permute(x: Tensor, *dims: Any) -> Tensor:
    """x with its axes in the order ``dims``."""
    d = _shape_arg(dims)
    norm = tuple(normalize_dim(i, x.ndim) for i in d)
    if sorted(norm) != list(range(x.ndim)):
        raise ValueError(f"permute expected a permutation of {x.ndim} dims, got {d}")
    return Permute.apply(x, dims=norm)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """x with axes ``dim0`` and ``dim1`` swapped."""
    dims = list(range(x.ndim))
    a, b = normalize_dim(dim0, x.ndim, "dim0"), normalize_dim(dim1, x.ndim, "dim1")
    dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(x, dims=tuple(dims))


def squeeze(x: Tensor, dim: int | None = None) -> Tensor:
    """Remove axes of size 1 (only ``dim`` when given; a no-op if that axis is not 1)."""
    if dim is None:
        new = tuple(s for s in x.shape if s != 1)
    else:
        d = normalize_dim(dim, x.ndim)
        new = x.shape if x.ndim == 0 or x.shape[d] != 1 else x.shape[:d] + x.shape[d + 1 :]
    return Reshape.apply(x, shape=new)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert an axis of size 1 at ``dim`` (-ndim-1 <= dim <= ndim)."""
    d = normalize_dim(dim, x.ndim + 1)
    return Reshape.apply(x, shape=x.shape[:d] + (1,) + x.shape[d:])


def expand(x: Tensor, *shape: Any) -> Tensor:
    """x broadcast to ``shape`` (-1 keeps a dimension)."""
    new = _shape_arg(shape)
    lead = len(new) - x.ndim
    full = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(new))
    try:
        np.broadcast_shapes(x.shape, full)
    except ValueError:
        raise ValueError(f"cannot expand shape {shape_str(x.shape)} to {shape_str(new)}") from None
    return Expand.apply(x, shape=full)


def clone(x: Tensor) -> Tensor:
    return Clone.apply(x)


def _tensors(xs: Sequence[Any], op: str) -> list[Tensor]:
    """The tensors to join, cast (in the graph) to PyTorch's result dtype where they differ."""
    if isinstance(xs, Tensor) or not len(xs):
        raise ValueError(f"{op} expected a non-empty sequence of tensors")
    ts = [x if isinstance(x, Tensor) else Tensor(x) for x in xs]
    if any(t.dtype != ts[0].dtype for t in ts):
        dtype = result_type(*ts)
        ts = [t if t.dtype == dtype else t.to(dtype) for t in ts]
    return ts


def cat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Join tensors along an existing axis ``dim``."""
    ts = _tensors(tensors, "cat")
    d = normalize_dim(dim, ts[0].ndim)
    for i, t in enumerate(ts):
        if (
            t.ndim != ts[0].ndim
            or t.shape[:d] + t.shape[d + 1 :] != ts[0].shape[:d] + ts[0].shape[d + 1 :]
        ):
            raise ValueError(
                f"cat expected tensors matching {shape_str(ts[0].shape)} except in dim {d}, "
                f"got {shape_str(t.shape)} at position {i}"
            )
    return Cat.apply(*ts, dim=d)


concatenate = cat


def stack(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Stack equal-shaped tensors along a new axis ``dim``."""
    ts = _tensors(tensors, "stack")
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise ValueError(
                f"stack expected tensors of equal shape {shape_str(ts[0].shape)}, "
                f"got {shape_str(t.shape)} at position {i}"
            )
    d = normalize_dim(dim, ts[0].ndim + 1)
    return Stack.apply(*ts, dim=d)


def split(
    x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
) -> tuple[Tensor, ...]:
    """Cut ``x`` along ``dim`` into pieces of a given size (the last may be smaller) or sizes."""
    d = normalize_dim(dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step <= 0:
            raise ValueError(f"split expected a positive split size, got {step}")
        sizes = [step] * (n // step) + ([n % step] if n % step else [])
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ValueError(f"split sizes {sizes} must be non-negative and sum to {n} (dim {d})")
    bounds = list(np.cumsum(sizes)[:-1])
    out = Split.apply(x, bounds=bounds, dim=d)
    return out if isinstance(out, tuple) else (out,)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Cut ``x`` into ``chunks`` nearly equal pieces along ``dim`` (as PyTorch)."""
    if chunks <= 0:
        raise ValueError(f"chunk expected a positive number of chunks, got {chunks}")
    n = x.shape[normalize_dim(dim, x.ndim)]
    return split(x, max(-(-n // chunks), 1), dim)


def getitem(x: Tensor, index: Any) -> Tensor:
    """x[index] with NumPy semantics (tensors in the index are used by value)."""
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    elif isinstance(index, list):
        index = np.asarray(index)
    try:
        return GetItem.apply(x, index=index)
    except IndexError as e:
        raise IndexError(
            f"index {index!r} is invalid for a tensor of shape {shape_str(x.shape)}: {e}"
        ) from None
