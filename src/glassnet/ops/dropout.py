"""Dropout: zero each element with probability p and scale the rest by 1 / (1 - p)."""

from __future__ import annotations

import numpy as np

from .._random import get_rng
from ..autograd.function import Function
from ..autograd.tensor import Tensor


class Dropout(Function):
    """y = x * mask / (1 - p), mask ~ Bernoulli(1 - p): dx = dy * mask / (1 - p).

    Shapes:
        x: (*)   y: (*)
    """

    def forward(self, x: np.ndarray, *, p: float, rng: np.random.Generator) -> np.ndarray:
        keep = rng.random(x.shape) >= p  # (*)
        self.scale = (keep / (1 - p)).astype(x.dtype)  # (*) mask already scaled
        return x * self.scale

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * self.scale


def dropout(
    x: Tensor, p: float = 0.5, training: bool = True, *, rng: np.random.Generator | None = None
) -> Tensor:
    """Randomly zero elements during training (identity when ``training`` is False or p = 0)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    return Dropout.apply(x, p=p, rng=get_rng(rng))
