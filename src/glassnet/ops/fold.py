"""Sliding blocks: ``unfold`` (im2col) and ``fold`` (col2im, summing overlaps).

``unfold`` copies every ``k_h x k_w`` block that a convolution's kernel visits into a column:

    cols[n, c K + t, l] = xp[n, c, o_h s_h + t_h d_h, o_w s_w + t_w d_w]

(``xp``: the input zero-padded by ``p``; ``t = t_h k_w + t_w`` the kernel tap, ``K = k_h k_w``;
``l = o_h O_w + o_w`` the block). A convolution is then one matrix product ``w (F, C K) @ cols``.
``fold`` is the adjoint map: it adds every column entry back into the position it came from,
so overlapping blocks sum. Each is the other's backward.

Both loop over the kernel taps only, never over pixels: tap ``t`` of every block is one strided
slice of the input (the sliding-window geometry of pooling,
``glassnet.kernels.pooling.window_taps``, which also skips the padding instead of materialising
it).

Shapes (``O_i = floor((S_i + 2 p_i - d_i (k_i - 1) - 1) / s_i) + 1``, ``L = O_h O_w``):
    unfold: (N, C, H, W) -> (N, C k_h k_w, L)      fold: (N, C k_h k_w, L) -> (N, C, H, W)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..kernels.pooling import pool_output_size, spatial_windows, window_taps
from ._util import check_floating, require_tensor, shape_str

Size = int | Sequence[int]


def n_blocks(
    spatial: Sequence[int],
    kernel: Sequence[int],
    dilation: Sequence[int],
    padding: Sequence[int],
    stride: Sequence[int],
) -> tuple[int, ...]:
    """Blocks along each axis: ``O_i = floor((S_i + 2 p_i - d_i (k_i - 1) - 1) / s_i) + 1``."""
    return tuple(
        pool_output_size(n, k, s, p, d, False)
        for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation)
    )


class _Blocks:
    """The geometry of the sliding blocks of one (un)fold and the two maps between layouts."""

    def __init__(
        self,
        spatial: tuple[int, ...],
        kernel: tuple[int, ...],
        dilation: tuple[int, ...],
        padding: tuple[int, ...],
        stride: tuple[int, ...],
    ) -> None:
        self.spatial, self.kernel, self.padding = spatial, kernel, padding
        self.out = n_blocks(spatial, kernel, dilation, padding, stride)
        geometry = (self.out, kernel, stride, padding, dilation)
        self.taps = window_taps(spatial_windows((1, 1, *spatial), *geometry))

    def im2col(self, x: np.ndarray) -> np.ndarray:
        """(N, C, *S) -> (N, C K, L)."""
        n, c = x.shape[:2]
        k = math.prod(self.kernel)
        make = np.zeros if any(self.padding) else np.empty  # padding reads stay zero
        cols = make((n, c, k, *self.out), x.dtype)  # (N, C, K, *O)
        for t, o_sl, i_sl in self.taps:
            cols[:, :, t][o_sl] = x[i_sl]
        return cols.reshape(n, c * k, -1)

    def col2im(self, cols: np.ndarray) -> np.ndarray:
        """(N, C K, L) -> (N, C, *S), summing the entries that came from the same position."""
        n, ck = cols.shape[:2]
        k = math.prod(self.kernel)
        c5 = cols.reshape(n, ck // k, k, *self.out)  # (N, C, K, *O)
        x = np.zeros((n, ck // k, *self.spatial), cols.dtype)
        for t, o_sl, i_sl in self.taps:
            x[i_sl] += c5[:, :, t][o_sl]  # within one tap distinct blocks read distinct pixels
        return x


class Unfold(Function):
    """cols = im2col(x): every sliding block as a column; backward: fold of the gradient.

    Shapes:
        x: (N, C, H, W)   cols: (N, C k_h k_w, L),  L = O_h O_w,
        O_i = floor((S_i + 2 p_i - d_i (k_i - 1) - 1) / s_i) + 1
    """

    def forward(
        self,
        x: np.ndarray,
        *,
        kernel_size: tuple[int, ...],
        dilation: tuple[int, ...],
        padding: tuple[int, ...],
        stride: tuple[int, ...],
    ) -> np.ndarray:
        self.blocks = _Blocks(x.shape[2:], kernel_size, dilation, padding, stride)
        return self.blocks.im2col(x)

    def backward(self, dcols: np.ndarray) -> np.ndarray:
        return self.blocks.col2im(dcols)


class Fold(Function):
    """x = col2im(cols): columns summed back into an image (overlaps add); backward: unfold.

    Shapes:
        cols: (N, C k_h k_w, L)   x: (N, C, H, W) with (H, W) = output_size
    """

    def forward(
        self,
        cols: np.ndarray,
        *,
        output_size: tuple[int, ...],
        kernel_size: tuple[int, ...],
        dilation: tuple[int, ...],
        padding: tuple[int, ...],
        stride: tuple[int, ...],
    ) -> np.ndarray:
        self.blocks = _Blocks(output_size, kernel_size, dilation, padding, stride)
        return self.blocks.col2im(cols)

    def backward(self, dx: np.ndarray) -> np.ndarray:
        return self.blocks.im2col(dx)


# ---------------------------------------------------------------------------- functional forms
def _pair(value: Any, name: str, op: str, low: int) -> tuple[int, int]:
    vals = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(vals) != 2 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals
    ):
        raise TypeError(f"{op} expected {name} as an int or a tuple of 2 ints, got {value!r}")
    if any(v < low for v in vals):
        kind = "positive" if low > 0 else "non-negative"
        raise ValueError(f"{op} expected a {kind} {name}, got {value!r}")
    return int(vals[0]), int(vals[1])


def _geometry(
    op: str, kernel_size: Size, dilation: Size, padding: Size, stride: Size
) -> dict[str, tuple[int, int]]:
    return dict(
        kernel_size=_pair(kernel_size, "kernel_size", op, 1),
        dilation=_pair(dilation, "dilation", op, 1),
        padding=_pair(padding, "padding", op, 0),
        stride=_pair(stride, "stride", op, 1),
    )


def _blocks_str(geo: dict[str, tuple[int, int]]) -> str:
    return ", ".join(f"{k}={v}" for k, v in geo.items())


def unfold(
    input: Any, kernel_size: Size, dilation: Size = 1, padding: Size = 0, stride: Size = 1
) -> Tensor:
    """Extract sliding local blocks (im2col): each column is one flattened ``C x k_h x k_w`` block.

    Shapes:
        input: (N, C, H, W) or (C, H, W)   y: (N, C k_h k_w, L) or (C k_h k_w, L),  L = O_h O_w,
        O_i = floor((S_i + 2 padding_i - dilation_i (k_i - 1) - 1) / stride_i) + 1

    >>> import glassnet
    >>> unfold(glassnet.ones(2, 3, 5, 5), kernel_size=3, padding=1).shape
    (2, 27, 25)
    """
    x = require_tensor(input, "input", "unfold")
    check_floating(x, "input", "unfold")
    geo = _geometry("unfold", kernel_size, dilation, padding, stride)
    if x.ndim not in (3, 4) or any(v == 0 for v in x.shape[-3:]):
        raise ValueError(
            f"unfold expected input of shape (N, C, H, W) or (C, H, W) with non-empty C, H and W, "
            f"got {shape_str(x.shape)}"
        )
    unbatched = x.ndim == 3
    xb = x.reshape(1, *x.shape) if unbatched else x
    out = n_blocks(xb.shape[2:], *geo.values())
    if any(o < 1 for o in out):
        raise ValueError(
            f"unfold: input of spatial size {shape_str(xb.shape[2:])} with {_blocks_str(geo)} "
            f"has {shape_str(out)} sliding blocks; the kernel must fit in the padded input"
        )
    y = Unfold.apply(xb, **geo)
    return y.reshape(*y.shape[1:]) if unbatched else y


def fold(
    input: Any,
    output_size: Size,
    kernel_size: Size,
    dilation: Size = 1,
    padding: Size = 0,
    stride: Size = 1,
) -> Tensor:
    """Combine sliding local blocks into an image, summing overlaps (col2im; unfold's adjoint).

    Shapes:
        input: (N, C k_h k_w, L) or (C k_h k_w, L)   y: (N, C, H, W) or (C, H, W),
        (H, W) = output_size, L = O_h O_w with O_i as in ``unfold``

    >>> import glassnet
    >>> fold(glassnet.ones(1, 4, 4), output_size=3, kernel_size=2)
    tensor([[[[1., 2., 1.],
              [2., 4., 2.],
              [1., 2., 1.]]]])
    """
    x = require_tensor(input, "input", "fold")
    check_floating(x, "input", "fold")
    size = _pair(output_size, "output_size", "fold", 1)
    geo = _geometry("fold", kernel_size, dilation, padding, stride)
    if x.ndim not in (2, 3) or any(v == 0 for v in x.shape[-2:]):
        raise ValueError(
            f"fold expected input of shape (N, C * k_h * k_w, L) or (C * k_h * k_w, L) with "
            f"non-empty dimensions, got {shape_str(x.shape)}"
        )
    unbatched = x.ndim == 2
    xb = x.reshape(1, *x.shape) if unbatched else x
    k = math.prod(geo["kernel_size"])
    if xb.shape[1] % k:
        raise ValueError(
            f"fold expected input channels divisible by kernel_size product "
            f"{geo['kernel_size'][0]} * {geo['kernel_size'][1]} = {k}, got {xb.shape[1]} (input "
            f"shape {shape_str(x.shape)})"
        )
    out = n_blocks(size, *geo.values())
    if any(o < 1 for o in out) or math.prod(out) != xb.shape[2]:
        raise ValueError(
            f"fold: output_size={size} with {_blocks_str(geo)} has {out[0]} * {out[1]} = "
            f"{math.prod(out)} sliding blocks, but the input has L = {xb.shape[2]} (input shape "
            f"{shape_str(x.shape)})"
        )
    y = Fold.apply(xb, output_size=size, **geo)
    return y.reshape(*y.shape[1:]) if unbatched else y
