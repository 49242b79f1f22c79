"""Cumulative sums along a dimension (a scan): ``cumsum``, differentiable."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import normalize_dim, require_tensor
from .elementwise import cast


class Cumsum(Function):
    """y_i = x_0 + ... + x_i along ``dim``: each x_j reaches every y_i with i >= j, so
    dx_j = dy_j + ... + dy_{D-1}, the cumulative sum of dy taken from the end.

    Shapes:
        x: (*)   y: (*) (x's shape)
    """

    def forward(self, x: np.ndarray, *, dim: int) -> np.ndarray:
        self.dim = dim
        return np.cumsum(x, axis=dim)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return np.flip(np.cumsum(np.flip(dy, self.dim), axis=self.dim), self.dim)


# ---------------------------------------------------------------------------- functional forms
def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Cumulative sum of ``input`` along ``dim`` (as ``torch.cumsum``).

    ``dtype`` converts the input first. Without it, floating tensors keep their dtype and
    integer or bool tensors give int64, as in PyTorch.

    Shapes:
        input: (*)   y: (*)

    >>> import glassnet
    >>> glassnet.tensor([[1, 2, 3], [4, 5, 6]]).cumsum(1)
    tensor([[ 1,  3,  6],
            [ 4,  9, 15]])
    """
    t = require_tensor(input, "input", "cumsum")
    d = normalize_dim(dim, t.ndim)
    if dtype is not None:
        t = cast(t, dtype)
    elif t.dtype.kind in "biu":
        t = cast(t, np.int64)
    if t.ndim == 0:  # the cumulative sum of one number is itself
        return Cumsum.apply(t.reshape(1), dim=0).reshape(())
    return Cumsum.apply(t, dim=d)
