"""Pixel shuffle: trade channels for spatial resolution (sub-pixel convolution) and back.

``pixel_shuffle`` moves each group of ``r^2`` channels into an ``r x r`` block of pixels:

    y[.., c, h r + i, w r + j] = x[.., c r^2 + i r + j, h, w]

and ``pixel_unshuffle`` is its inverse. Both are a reshape, a permutation of axes and a reshape,
so each is the other's backward (a permutation's adjoint is its inverse).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import require_tensor, shape_str


def _shuffle(x: np.ndarray, r: int) -> np.ndarray:
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""
    *lead, cr2, h, w = x.shape
    c = cr2 // (r * r)
    y = x.reshape(*lead, c, r, r, h, w)  # (*, C, i, j, H, W)
    k = len(lead)
    y = y.transpose(*range(k), k, k + 3, k + 1, k + 4, k + 2)  # (*, C, H, i, W, j)
    return np.ascontiguousarray(y).reshape(*lead, c, h * r, w * r)


def _unshuffle(x: np.ndarray, r: int) -> np.ndarray:
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""
    *lead, c, hr, wr = x.shape
    h, w = hr // r, wr // r
    y = x.reshape(*lead, c, h, r, w, r)  # (*, C, H, i, W, j)
    k = len(lead)
    y = y.transpose(*range(k), k, k + 2, k + 4, k + 1, k + 3)  # (*, C, i, j, H, W)
    return np.ascontiguousarray(y).reshape(*lead, c * r * r, h, w)


class PixelShuffle(Function):
    """y[.., c, h r + i, w r + j] = x[.., c r^2 + i r + j, h, w]; backward: pixel_unshuffle.

    Shapes:
        x: (*, C r^2, H, W)   y: (*, C, H r, W r)
    """

    def forward(self, x: np.ndarray, *, upscale_factor: int) -> np.ndarray:
        self.r = upscale_factor
        return _shuffle(x, upscale_factor)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return _unshuffle(dy, self.r)


class PixelUnshuffle(Function):
    """y[.., c r^2 + i r + j, h, w] = x[.., c, h r + i, w r + j]; backward: pixel_shuffle.

    Shapes:
        x: (*, C, H r, W r)   y: (*, C r^2, H, W)
    """

    def forward(self, x: np.ndarray, *, downscale_factor: int) -> np.ndarray:
        self.r = downscale_factor
        return _unshuffle(x, downscale_factor)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return _shuffle(dy, self.r)


# ---------------------------------------------------------------------------- functional forms
def _factor(value: Any, name: str, op: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{op} expected {name} to be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{op} expected a positive {name}, got {value}")
    return int(value)


def pixel_shuffle(input: Any, upscale_factor: int) -> Tensor:
    """Rearrange ``(*, C r^2, H, W)`` into ``(*, C, H r, W r)`` (sub-pixel upsampling).

    Shapes:
        input: (*, C r^2, H, W)   y: (*, C, H r, W r),  r = upscale_factor

    >>> import glassnet
    >>> pixel_shuffle(glassnet.arange(8.0).reshape(1, 4, 1, 2), 2)
    tensor([[[[0., 2., 1., 3.],
              [4., 6., 5., 7.]]]])
    """
    x = require_tensor(input, "input", "pixel_shuffle")
    r = _factor(upscale_factor, "upscale_factor", "pixel_shuffle")
    if x.ndim < 3 or x.shape[-3] % (r * r):
        raise ValueError(
            f"pixel_shuffle expected input of shape (*, C * {r}^2, H, W) (at least 3 dimensions, "
            f"channels divisible by upscale_factor^2 = {r * r}), got {shape_str(x.shape)}"
        )
    return PixelShuffle.apply(x, upscale_factor=r)


def pixel_unshuffle(input: Any, downscale_factor: int) -> Tensor:
    """Rearrange ``(*, C, H r, W r)`` into ``(*, C r^2, H, W)`` (the inverse of pixel_shuffle).

    Shapes:
        input: (*, C, H r, W r)   y: (*, C r^2, H, W),  r = downscale_factor

    >>> import glassnet
    >>> pixel_unshuffle(glassnet.ones(2, 3, 4, 6), 2).shape
    (2, 12, 2, 3)
    """
    x = require_tensor(input, "input", "pixel_unshuffle")
    r = _factor(downscale_factor, "downscale_factor", "pixel_unshuffle")
    if x.ndim < 3 or x.shape[-2] % r or x.shape[-1] % r:
        raise ValueError(
            f"pixel_unshuffle expected input of shape (*, C, H * {r}, W * {r}) (at least 3 "
            f"dimensions, height and width divisible by downscale_factor = {r}), got "
            f"{shape_str(x.shape)}"
        )
    return PixelUnshuffle.apply(x, downscale_factor=r)
