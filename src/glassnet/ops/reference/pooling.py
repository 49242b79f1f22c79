"""Reference pooling: the windows made visible (the im2col windows of the reference convolution),
and the backward as a scatter of the upstream gradient back into them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import Tensor
from .convolution import Ints, _lead, _tup, col2im, im2col


def _pool_geometry(
    spatial: Ints, kernel: Ints, stride: Ints, padding: Ints, dilation: Ints, ceil_mode: bool
) -> tuple[Ints, list[tuple[int, int]]]:
    """Output size (PyTorch's rule) and the padding per axis, incl. the ``ceil_mode`` overhang."""
    out, pads = [], []
    for i, k, s, p, d in zip(spatial, kernel, stride, padding, dilation):
        o = (i + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= i + p:
            o -= 1  # the last window would start in the right padding
        reach = (o - 1) * s + d * (k - 1) + 1  # padded length the windows read
        out.append(o)
        pads.append((p, max(reach - i - p, p)))
    return tuple(out), pads


class MaxPoolNd(Function):
    """``y[n, c, o] = max_k x_pad[n, c, o s + k d]``; the gradient goes to the (first) argmax.

    Shapes:
        x: (N, C, *I)   y: (N, C, *O)
    """

    def forward(
        self, x: np.ndarray, *, kernel: Ints, stride: Ints, padding: Ints, dilation: Ints,
        ceil_mode: bool,
    ) -> np.ndarray:  # fmt: skip
        out, pads = _pool_geometry(x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
        xp = np.pad(x, [(0, 0), (0, 0), *pads], constant_values=-np.inf)  # padding never wins
        windows = im2col(xp, kernel, out, stride, dilation)  # (N, C, prod K, *O)
        self.arg = windows.argmax(axis=2)  # (N, C, *O): which tap won
        self.geometry = (x.shape, xp.shape, kernel, out, stride, dilation, pads)
        return np.take_along_axis(windows, self.arg[:, :, None], axis=2)[:, :, 0]

    def backward(self, dy: np.ndarray) -> np.ndarray:
        shape, pshape, kernel, out, stride, dilation, pads = self.geometry
        dwin = np.zeros((*dy.shape[:2], int(np.prod(kernel)), *out), dy.dtype)
        np.put_along_axis(dwin, self.arg[:, :, None], dy[:, :, None], axis=2)  # dy to the argmax
        dxp = col2im(dwin, pshape, kernel, out, stride, dilation)  # windows back onto the input
        return dxp[_lead(slice(a, a + i) for (a, _), i in zip(pads, shape[2:]))]


class AvgPoolNd(Function):
    """``y[n, c, o] = sum_k x_pad[n, c, o s + k] / divisor[o]``; backward spreads ``dy / divisor``.

    The divisor counts the window's elements inside the input (``count_include_pad=False``) or
    inside input and padding (``True``; never the ``ceil_mode`` overhang).

    Shapes:
        x: (N, C, *I)   y: (N, C, *O)
    """

    def forward(
        self, x: np.ndarray, *, kernel: Ints, stride: Ints, padding: Ints, ceil_mode: bool,
        count_include_pad: bool,
    ) -> np.ndarray:  # fmt: skip
        nd = len(kernel)
        ones = (1,) * nd
        out, pads = _pool_geometry(x.shape[2:], kernel, stride, padding, ones, ceil_mode)
        xp = np.pad(x, [(0, 0), (0, 0), *pads])
        inside = np.ones((1, 1, *x.shape[2:]))  # which padded positions count
        if count_include_pad:
            inside = np.pad(inside, [(0, 0), (0, 0)] + [(p, p) for p in padding], constant_values=1)
            inside = np.pad(
                inside, [(0, 0), (0, 0)] + [(0, b - p) for (_, b), p in zip(pads, padding)]
            )
        else:
            inside = np.pad(inside, [(0, 0), (0, 0), *pads])
        self.divisor = im2col(inside, kernel, out, stride, ones).sum(axis=2)  # (1, 1, *O)
        self.geometry = (x.shape, xp.shape, kernel, out, stride, pads)
        return im2col(xp, kernel, out, stride, ones).sum(axis=2) / self.divisor

    def backward(self, dy: np.ndarray) -> np.ndarray:
        shape, pshape, kernel, out, stride, pads = self.geometry
        share = dy / self.divisor  # every tap of a window gets the same share
        dwin = np.broadcast_to(share[:, :, None], (*dy.shape[:2], int(np.prod(kernel)), *out))
        dxp = col2im(dwin, pshape, kernel, out, stride, (1,) * len(kernel))
        return dxp[_lead(slice(a, a + i) for (a, _), i in zip(pads, shape[2:]))]


def _pool(
    op: type[Function], input: Tensor, kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None, padding: int | Sequence[int], **options: Any,
) -> Tensor:  # fmt: skip
    """Apply the N-d pooling ``op`` with the sizes of PyTorch's functional form (``stride``
    defaults to the kernel); ``options`` are the op's own static arguments, passed on as given."""
    nd = input.ndim - 2
    k = _tup(kernel_size, nd)
    stride = k if stride is None else _tup(stride, nd)
    return op.apply(input, kernel=k, stride=stride, padding=_tup(padding, nd), **options)


def max_pool(
    input: Tensor, kernel_size: int | Sequence[int], stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0, dilation: int | Sequence[int] = 1, ceil_mode: bool = False,
) -> Tensor:  # fmt: skip
    """N-d reference max pooling; arguments as :func:`glassnet.nn.functional.max_pool2d`.

    Shapes:
        input: (N, C, *I)   output: (N, C, *O)
    """
    options = {"dilation": _tup(dilation, input.ndim - 2), "ceil_mode": bool(ceil_mode)}
    return _pool(MaxPoolNd, input, kernel_size, stride, padding, **options)


def avg_pool(
    input: Tensor, kernel_size: int | Sequence[int], stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0, ceil_mode: bool = False, count_include_pad: bool = True,
) -> Tensor:  # fmt: skip
    """N-d reference average pooling; arguments as :func:`glassnet.nn.functional.avg_pool2d`.

    Shapes:
        input: (N, C, *I)   output: (N, C, *O)
    """
    options = {"ceil_mode": bool(ceil_mode), "count_include_pad": bool(count_include_pad)}
    return _pool(AvgPoolNd, input, kernel_size, stride, padding, **options)


max_pool1d = max_pool2d = max_pool3d = max_pool
avg_pool1d = avg_pool2d = avg_pool3d = avg_pool
