"""Sorting and ranking: ``sort``, ``argsort`` and ``topk``; values are differentiable.

Order: glassnet always sorts stably, so tied values keep their index order (in ascending and in
descending order alike) and the indices are deterministic. NaN ranks above every number (last in
ascending order, first in descending order, the largest for ``topk``), as in PyTorch.
``torch.sort`` gives the same indices with ``stable=True``; with its default ``stable=False`` a
tie may come out in another order, and ``torch.topk`` leaves the order of ties unspecified
(``topk([1., 3., 3., 2., 3.], 3)`` gives indices ``[2, 4, 1]`` there, ``[1, 2, 4]`` here). The
values agree in every case; the gradient of a tied value then reaches a different one of the
tied inputs.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import normalize_dim, require_tensor, shape_str


def stable_order(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Indices that sort ``a`` along ``axis``: ties in index order, NaN largest (int64)."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    # sort the reversed array ascending (stable), then read that order backwards: descending,
    # and tied values, which the reversal put in reverse index order, come back in index order
    rev = np.argsort(np.flip(a, axis), axis=axis, kind="stable")  # positions in the reversal
    return np.flip(a.shape[axis] - 1 - rev, axis)


class _Ranked(Function):
    """Values picked out of x along ``dim`` at ``idx``: the gradient goes back to those places.

    A 0-d x is taken as a one-element vector, as PyTorch does, and one picked value is 0-d.
    """

    def _pick(self, x: np.ndarray, dim: int, order: Any) -> tuple[np.ndarray, np.ndarray]:
        x1 = x.reshape(x.shape or (1,))
        idx = order(x1)  # (..., k, ...) int64 positions along dim
        values = np.take_along_axis(x1, idx, axis=dim)
        if x.ndim == 0 and idx.shape == (1,):
            values, idx = values.reshape(()), idx.reshape(())
        self.idx, self.dim, self.shape = idx, dim, x.shape
        return values, idx

    def backward(self, dv: np.ndarray, di: np.ndarray) -> np.ndarray:
        dx = np.zeros(self.shape or (1,), dv.dtype)
        idx = self.idx.reshape(self.idx.shape or (1,))
        # the indices along dim are distinct: nothing adds up
        np.put_along_axis(dx, idx, dv.reshape(idx.shape), axis=self.dim)
        return dx.reshape(self.shape)


class Sort(_Ranked):
    """(values, indices) of x sorted along ``dim``: ``values = take(x, indices)``; dx is dv
    put back at ``indices`` (a permutation, so nothing adds up).

    Shapes:
        x: (*)   values, indices: (*) (x's shape)
    """

    def forward(self, x: np.ndarray, *, dim: int, descending: bool):
        return self._pick(x, dim, lambda a: stable_order(a, dim, descending))


class Topk(_Ranked):
    """(values, indices) of the k largest (or smallest) along ``dim``, in sorted order: the
    first k of ``Sort``; dx is dv put back at ``indices``, zero elsewhere.

    Shapes:
        x: (D_0, ..., D_dim, ..., D_m)   values, indices: (D_0, ..., k, ..., D_m)
    """

    def forward(self, x: np.ndarray, *, k: int, dim: int, largest: bool):
        def first_k(a: np.ndarray) -> np.ndarray:
            return np.take(stable_order(a, dim, largest), np.arange(k), axis=dim)

        return self._pick(x, dim, first_k)


class SortResult(NamedTuple):
    """``values`` and ``indices`` of ``sort``, as PyTorch's ``torch.return_types.sort``."""

    values: Tensor
    indices: Tensor


class TopkResult(NamedTuple):
    """``values`` and ``indices`` of ``topk``, as PyTorch's ``torch.return_types.topk``."""

    values: Tensor
    indices: Tensor


# ---------------------------------------------------------------------------- functional forms
def _check(x: Any, dim: Any, flags: dict[str, Any], op: str) -> tuple[Tensor, int]:
    t = require_tensor(x, "input", op)
    for name, value in flags.items():
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{op} expected True or False for {name}, got {value!r}")
    return t, normalize_dim(dim, t.ndim)


def _ranked(result: type, fn: type[_Ranked], t: Tensor, **static: Any) -> Any:
    """``result(values, indices)`` of ``fn`` on ``t``. The indices are detached: integer results
    have no ``grad_fn`` (they keep the version counter that guards the saved indices)."""
    values, indices = fn.apply(t, **static)
    return result(values, indices.detach())


def sort(
    input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False
) -> SortResult:
    """``(values, indices)`` of ``input`` sorted along ``dim`` (as ``torch.sort``).

    The sort is always stable (``stable`` is accepted for PyTorch's sake): tied values keep their
    index order, ascending or ``descending``; NaN sorts as the largest value. ``values`` is
    differentiable.

    Shapes:
        input: (*)   values: (*)   indices: (*) int64

    >>> import glassnet
    >>> glassnet.tensor([3.0, 1.0, 3.0, 2.0]).sort(descending=True)
    SortResult(values=tensor([3., 3., 2., 1.]), indices=tensor([0, 2, 3, 1]))
    """
    t, d = _check(input, dim, {"descending": descending, "stable": stable}, "sort")
    return _ranked(SortResult, Sort, t, dim=d, descending=bool(descending))


def argsort(
    input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False
) -> Tensor:
    """The ``indices`` of ``sort`` (int64; stable as ``sort``, NaN largest). Not differentiable.

    Shapes:
        input: (*)   indices: (*) int64

    >>> import glassnet
    >>> glassnet.tensor([3.0, 1.0, 3.0, 2.0]).argsort()
    tensor([1, 3, 0, 2])
    """
    t, d = _check(input, dim, {"descending": descending, "stable": stable}, "argsort")
    a = t.data.reshape(t.shape or (1,))
    return Tensor(stable_order(a, d, bool(descending)).reshape(t.shape).astype(np.int64))


def topk(
    input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
) -> TopkResult:
    """``(values, indices)`` of the ``k`` largest (``largest=False``: smallest) elements of
    ``input`` along ``dim``, largest first (smallest first), as ``torch.topk``.

    Ties are taken in index order (the first k of the stable ``sort``); PyTorch leaves their
    order unspecified. The result is sorted whether or not ``sorted`` is True (PyTorch's order
    with ``sorted=False`` is unspecified). ``values`` is differentiable.

    Shapes:
        input: (D_0, ..., D_dim, ..., D_m)   values, indices: (D_0, ..., k, ..., D_m)

    >>> import glassnet
    >>> glassnet.tensor([1.0, 3.0, 3.0, 2.0, 3.0]).topk(3)
    TopkResult(values=tensor([3., 3., 3.]), indices=tensor([1, 2, 4]))
    """
    t, d = _check(input, dim, {"largest": largest, "sorted": sorted}, "topk")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"topk expected an int k, got {type(k).__name__}")
    n = t.shape[d] if t.ndim else 1
    if not 0 <= k <= n:
        raise ValueError(
            f"topk expected k in [0, {n}] (the size of dim {dim} of a tensor of shape "
            f"{shape_str(t.shape)}), got {k}"
        )
    return _ranked(TopkResult, Topk, t, k=int(k), dim=d, largest=bool(largest))
