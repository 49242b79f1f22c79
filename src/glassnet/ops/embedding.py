"""Embedding lookup: rows of a weight matrix picked by integer indices."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import shape_str


class Embedding(Function):
    """y = W[idx]: dW accumulates dy into the picked rows (repeated indices add up).

    Shapes:
        idx: (*) integer   W: (V, D)   y: (*, D)
    """

    def forward(self, w: np.ndarray, *, idx: np.ndarray, padding_idx: int | None) -> np.ndarray:
        self.idx, self.w_shape, self.padding_idx = idx, w.shape, padding_idx
        return w[idx]

    def backward(self, dy: np.ndarray) -> np.ndarray:
        dw = np.zeros(self.w_shape, dy.dtype)  # (V, D)
        np.add.at(dw, self.idx.reshape(-1), dy.reshape(-1, self.w_shape[1]))
        if self.padding_idx is not None:
            dw[self.padding_idx] = 0  # the padding row never learns, as PyTorch
        return dw


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Look up rows of ``weight`` for integer indices ``input``.

    Shapes:
        input: (*) integer in [0, V)   weight: (V, D)   y: (*, D)
    """
    idx = np.asarray(input.data if isinstance(input, Tensor) else input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding expected integer indices, got dtype {idx.dtype}")
    V = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= V):
        bad = idx[(idx < 0) | (idx >= V)]
        raise IndexError(
            f"embedding expected indices in [0, {V}) (num_embeddings={V}), got "
            f"{', '.join(map(str, np.unique(bad)[:5].tolist()))}"
        )
    if padding_idx is not None and padding_idx < 0:
        padding_idx += V
    if weight.ndim != 2:
        raise ValueError(f"embedding expected a 2-d weight (V, D), got {shape_str(weight.shape)}")
    return Embedding.apply(weight, idx=idx, padding_idx=padding_idx)
