"""Layout methods PyTorch code leans on: ``repeat``, ``contiguous``, ``t``, ``mT`` and ``flip``.

``contiguous`` is a copy (the ``Clone`` op) only when the array is not C-contiguous already;
``t``/``mT`` are transposes (the ``Permute`` op); ``repeat`` and ``flip`` are their own ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import normalize_dims, shape_str
from .shape import Clone, permute, transpose


class Repeat(Function):
    """y = x tiled ``reps[i]`` times along axis i (PyTorch's ``repeat``, NumPy's ``tile``).

    ``x`` is first viewed with ones prepended to its shape, up to ``len(reps)`` dimensions; the
    gradient sums the ``reps[i]`` copies of every element.

    Shapes:
        x: (D_1, ..., D_k)   reps: (r_1, ..., r_m), m >= k
        y: (r_1 D'_1, ..., r_m D'_m), where D' = (1, ..., 1, D_1, ..., D_k) has m entries
    """

    def forward(self, x: np.ndarray, *, reps: tuple[int, ...]) -> np.ndarray:
        self.in_shape, self.reps = x.shape, reps
        self.padded = (1,) * (len(reps) - x.ndim) + x.shape  # D'
        return np.tile(x.reshape(self.padded), reps)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        pairs = [n for r, d in zip(self.reps, self.padded) for n in (r, d)]
        g = dy.reshape(pairs)  # (r_1, D'_1, ..., r_m, D'_m)
        return g.sum(axis=tuple(range(0, g.ndim, 2))).reshape(self.in_shape)


class Flip(Function):
    """y = x with the order of its elements reversed along ``dims`` (a copy, as PyTorch's):
    ``y[..., i, ...] = x[..., D - 1 - i, ...]``; the gradient is dy flipped back.

    Shapes:
        x: (*)   y: (*) (x's shape)
    """

    def forward(self, x: np.ndarray, *, dims: tuple[int, ...]) -> np.ndarray:
        self.dims = dims
        return np.flip(x, dims).copy()

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return np.flip(dy, self.dims)


# ---------------------------------------------------------------------------- functional forms
def repeat(x: Tensor, *sizes: Any) -> Tensor:
    """x tiled ``sizes[i]`` times along each dimension (at least ``x.ndim`` sizes; extra ones
    add leading dimensions), as ``torch.Tensor.repeat``.

    Shapes:
        x: (D_1, ..., D_k)   y: (r_1 D'_1, ..., r_m D'_m), D' = x's shape left-padded with 1s

    >>> import glassnet
    >>> glassnet.tensor([1, 2]).repeat(2, 2)
    tensor([[1, 2, 1, 2],
            [1, 2, 1, 2]])
    """
    reps = _sizes(sizes)
    if len(reps) < x.ndim:
        raise ValueError(
            f"repeat expected at least {x.ndim} sizes (one per dimension of a tensor of shape "
            f"{shape_str(x.shape)}), got {len(reps)}"
        )
    if any(r < 0 for r in reps):
        raise ValueError(f"repeat expected non-negative sizes, got {reps}")
    return Repeat.apply(x, reps=reps)


def _sizes(sizes: tuple[Any, ...]) -> tuple[int, ...]:
    if not sizes:
        raise TypeError("repeat() missing the sizes (pass () to repeat a 0-d tensor once)")
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"repeat expected int sizes, got {type(s).__name__}")
    return tuple(int(s) for s in sizes)


def contiguous(x: Tensor) -> Tensor:
    """x itself when its array is C-contiguous, else a C-contiguous copy (differentiable)."""
    if x.data.flags.c_contiguous:
        return x
    return Clone.apply(x)


def t(x: Tensor) -> Tensor:
    """The transpose of a matrix; 0-d and 1-d tensors come back unchanged (as ``torch.t``).

    Shapes:
        x: (N, M)   y: (M, N)
    """
    if x.ndim > 2:
        raise ValueError(
            f"t() expects a tensor with <= 2 dimensions, got {x.ndim} (shape "
            f"{shape_str(x.shape)}); use transpose(dim0, dim1) or mT"
        )
    return permute(x, *reversed(range(x.ndim)))


def matrix_transpose(x: Tensor) -> Tensor:
    """The last two dimensions swapped (``Tensor.mT``).

    Shapes:
        x: (*, N, M)   y: (*, M, N)
    """
    if x.ndim < 2:
        raise ValueError(
            f"mT needs a matrix or a batch of matrices, got a {x.ndim}-d tensor (shape "
            f"{shape_str(x.shape)})"
        )
    return transpose(x, -2, -1)


def flip(input: Tensor, dims: Any) -> Tensor:
    """``input`` with its elements in reverse order along each of ``dims`` (as ``torch.flip``).

    ``dims`` is a tuple or list of dimensions (``Tensor.flip`` also takes them one by one);
    ``()`` gives a copy.

    Shapes:
        input: (*)   y: (*)

    >>> import glassnet
    >>> glassnet.tensor([[1, 2, 3], [4, 5, 6]]).flip(1)
    tensor([[3, 2, 1],
            [6, 5, 4]])
    """
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        raise TypeError(
            f"flip expected dims as a tuple or list of ints, got the int {dims}; write "
            f"flip(x, ({dims},)) or x.flip({dims})"
        )
    if not isinstance(dims, (tuple, list)):
        raise TypeError(f"flip expected dims as a tuple or list of ints, got {type(dims).__name__}")
    d = normalize_dims(tuple(dims), input.ndim)
    return Flip.apply(input, dims=d if input.ndim else ())  # a 0-d tensor has nothing to flip
