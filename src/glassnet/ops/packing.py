"""Packing variable-length sequences: gather the valid rows of a padded batch, scatter them back.

A batch of sequences of different lengths is either *padded*, an array (T, N, *) (or (N, T, *))
whose entries past each sequence's end are filler, or *packed*, the valid rows only, (M, *) with
M = sum of the lengths. Both directions are one indexing with the same list of positions
``index = (rows, cols)``: M distinct pairs into the first two axes of the padded array.

* :class:`PackRows`: ``data = x[index]``; its backward scatters ``ddata`` into zeros.
* :class:`PadRows`: ``x = fill; x[index] = data``; its backward gathers ``dx[index]``.

The two are each other's adjoint (``<x[index], d> = <x, scatter(d)>``); since the pairs are
distinct the scatter is a plain assignment, never an accumulation. ``glassnet.nn.utils.rnn``
builds ``index`` from lengths or ``batch_sizes`` and is the user-facing API.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor

Index = tuple[np.ndarray, np.ndarray]


class PackRows(Function):
    """data = x[rows, cols]: the listed positions of the first two axes, in list order.

    Shapes:
        x: (A, B, *)   index: two (M,) integer arrays of distinct pairs   data: (M, *)
    """

    def forward(self, x: np.ndarray, *, index: Index) -> np.ndarray:
        self.index, self.in_shape = index, x.shape  # saved for backward
        return x[index]  # (M, *)

    def backward(self, ddata: np.ndarray) -> np.ndarray:
        dx = np.zeros(self.in_shape, ddata.dtype)  # (A, B, *): padding gets no gradient
        dx[self.index] = ddata
        return dx


class PadRows(Function):
    """x = ``padding_value`` everywhere, then x[rows, cols] = data: the adjoint of PackRows.

    Shapes:
        data: (M, *)   index: two (M,) integer arrays of distinct pairs   x: ``shape`` = (A, B, *)
    """

    def forward(
        self, data: np.ndarray, *, index: Index, shape: tuple[int, ...], padding_value: float
    ) -> np.ndarray:
        self.index = index  # saved for backward
        x = np.full(shape, padding_value, data.dtype)  # (A, B, *)
        x[index] = data
        return x

    def backward(self, dx: np.ndarray) -> np.ndarray:
        return dx[self.index]  # (M, *)


def packed_index(batch_sizes: np.ndarray, sorted_indices: np.ndarray | None = None) -> Index:
    """Positions (t, n) of a packed sequence's rows in its padded (T, N) grid, in packed order.

    Row order is time-major: at step t the first ``batch_sizes[t]`` sequences of the sorted batch;
    ``sorted_indices[s]`` is the batch position of sorted sequence s (None: already in order).

    >>> packed_index(np.array([2, 1]))
    (array([0, 0, 1]), array([0, 1, 0]))
    """
    N = int(batch_sizes[0]) if batch_sizes.size else 0
    running = np.arange(N)[None, :] < batch_sizes[:, None]  # (T, N): row-major = packed order
    t, s = np.nonzero(running)
    return t, (s if sorted_indices is None else sorted_indices[s])


def pack_rows(x: Tensor, index: Index) -> Tensor:
    """``x[index]`` for an index of distinct (row, col) pairs (see :class:`PackRows`)."""
    return PackRows.apply(x, index=index)


def pad_rows(
    data: Tensor, index: Index, shape: tuple[int, ...], padding_value: float = 0.0
) -> Tensor:
    """``shape`` filled with ``padding_value``, ``data`` at ``index`` (see :class:`PadRows`)."""
    return PadRows.apply(data, index=index, shape=shape, padding_value=padding_value)
