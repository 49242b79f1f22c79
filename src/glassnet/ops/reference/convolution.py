"""Reference convolution: N-d cross-correlation by im2col, and its backward as two correlations.

The input gradient is a correlation of the stride-dilated, padded upstream gradient with the
*flipped* kernel; the weight gradient a correlation of the input with the upstream gradient
(:meth:`ConvNd.backward`). The window helpers :func:`im2col` / :func:`col2im` also serve the
reference pooling (:mod:`glassnet.ops.reference.pooling`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import Tensor

Ints = tuple[int, ...]


def _tup(v: int | Sequence[int], nd: int) -> Ints:
    return tuple(int(a) for a in v) if isinstance(v, Sequence) else (int(v),) * nd


def _lead(spatial: Iterable[slice]) -> tuple[slice, ...]:
    """An index that keeps the batch and channel axes whole and applies ``spatial`` to the rest."""
    return (slice(None), slice(None), *spatial)


def _taps(kernel: Ints) -> list[Ints]:
    """Every kernel offset ``k = (k_1, ..., k_d)`` in row-major order."""
    return list(itertools.product(*(range(k) for k in kernel)))


def _tap_slice(k: Ints, out: Ints, stride: Ints, dilation: Ints) -> tuple[slice, ...]:
    """The input positions ``o * s + k * d`` (o = 0..O-1) that tap ``k`` reads, per axis."""
    lead = (slice(None), slice(None))
    return lead + tuple(
        slice(kj * d, kj * d + (o - 1) * s + 1, s) for kj, o, s, d in zip(k, out, stride, dilation)
    )


def im2col(xp: np.ndarray, kernel: Ints, out: Ints, stride: Ints, dilation: Ints) -> np.ndarray:
    """The windows of a padded input: ``cols[n, c, k, o] = xp[n, c, o * s + k * d]``.

    Shapes:
        xp: (N, C, *Ip)   cols: (N, C, prod(K), *O)
    """
    return np.stack([xp[_tap_slice(k, out, stride, dilation)] for k in _taps(kernel)], axis=2)


def col2im(
    cols: np.ndarray, shape: Ints, kernel: Ints, out: Ints, stride: Ints, dilation: Ints
) -> np.ndarray:
    """The adjoint of :func:`im2col`: add every window entry back where it was read from.

    Shapes:
        cols: (N, C, prod(K), *O)   returns: shape = (N, C, *Ip)
    """
    xp = np.zeros(shape, cols.dtype)
    for t, k in enumerate(_taps(kernel)):
        xp[_tap_slice(k, out, stride, dilation)] += cols[:, :, t]
    return xp


def correlate(
    xp: np.ndarray, w: np.ndarray, stride: Ints, dilation: Ints, groups: int
) -> np.ndarray:
    """Grouped cross-correlation: ``y[n, f, o] = sum_{c, k} w[f, c, k] xp[n, c, o s + k d]``.

    Shapes:
        xp: (N, C, *Ip)   w: (F, C/groups, *K)   y: (N, F, *O)
    """
    N, _, *Ip = xp.shape
    F, Cg, *K = w.shape
    out = tuple((i - d * (k - 1) - 1) // s + 1 for i, k, s, d in zip(Ip, K, stride, dilation))
    cols = im2col(xp, tuple(K), out, stride, dilation)  # (N, C, prod K, *O)
    cols = cols.reshape(N, groups, Cg, -1, *out)  # (N, G, C/G, prod K, *O)
    wg = w.reshape(groups, F // groups, Cg, -1)  # (G, F/G, C/G, prod K)
    y = np.einsum("ngck...,gfck->ngf...", cols, wg)  # (N, G, F/G, *O)
    return y.reshape(N, F, *out)


class ConvNd(Function):
    """N-d convolution (cross-correlation, as PyTorch) with stride, padding, dilation, groups.

    ``y[n, f, o] = b[f] + sum_{c, k} w[f, c, k] x_pad[n, c, o * s + k * d]``

    Shapes:
        x: (N, C, *I)   w: (F, C/groups, *K)   b: (F,)   y: (N, F, *O)
        O = floor((I + 2p - d(K - 1) - 1) / s) + 1
    """

    def forward(
        self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
        stride: Ints, padding: Ints, dilation: Ints, groups: int,
    ) -> np.ndarray:  # fmt: skip
        pad = [(0, 0), (0, 0)] + [(p, p) for p in padding]
        xp = np.pad(x, pad)  # (N, C, *Ip): zeros around the input
        y = correlate(xp, w, stride, dilation, groups)  # (N, F, *O)
        self.xp, self.w, self.has_b = xp, w, b is not None
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        return y if b is None else y + b.reshape(-1, *(1,) * len(padding))

    def backward(self, dy: np.ndarray) -> tuple[Any, ...]:
        xp, w, s, p, d, G = self.xp, self.w, self.stride, self.padding, self.dilation, self.groups
        N, C, *Ip = xp.shape
        F, Cg, *K = w.shape
        nd, out = len(K), dy.shape[2:]
        dx = dw = db = None
        if self.needs_input_grad[0]:
            # dx = correlate(dilate_s(dy) padded by d(K-1), flip(w) with in/out channels swapped)
            dyd = np.zeros((N, F, *((o - 1) * si + 1 for o, si in zip(out, s))), dy.dtype)
            dyd[_lead(slice(None, None, si) for si in s)] = dy
            dyd = np.pad(dyd, [(0, 0), (0, 0)] + [(di * (k - 1),) * 2 for di, k in zip(d, K)])
            w_flip = np.flip(w, axis=tuple(range(2, 2 + nd)))  # w[f, c, K-1-k]
            w_t = w_flip.reshape(G, F // G, Cg, *K).swapaxes(1, 2).reshape(C, F // G, *K)
            dxp = correlate(dyd, w_t, (1,) * nd, d, G)  # (N, C, *reach); reach <= Ip
            dxp = np.pad(dxp, [(0, 0), (0, 0)] + [(0, i - r) for i, r in zip(Ip, dxp.shape[2:])])
            dx = dxp[_lead(slice(pi, i - pi) for pi, i in zip(p, Ip))]
        if self.needs_input_grad[1]:
            # dw[f, c, k] = sum_{n, o} dy[n, f, o] x_pad[n, c, o s + k d]: input correlated with dy
            cols = im2col(xp, tuple(K), out, s, d).reshape(N, G, Cg, -1, int(np.prod(out)))
            dyg = dy.reshape(N, G, F // G, -1)  # (N, G, F/G, prod O)
            dw = np.einsum("ngfo,ngcko->gfck", dyg, cols).reshape(w.shape)
        if self.has_b and self.needs_input_grad[2]:
            db = dy.sum(axis=(0, *range(2, 2 + nd)))  # (F,)
        return dx, dw, db


def conv(
    input: Tensor, weight: Tensor, bias: Tensor | None = None,
    stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1, groups: int = 1,
) -> Tensor:  # fmt: skip
    """N-d reference convolution; arguments as :func:`glassnet.nn.functional.conv2d`.

    Shapes:
        input: (N, C, *I)   weight: (F, C/groups, *K)   bias: (F,)   output: (N, F, *O)
    """
    nd = weight.ndim - 2
    return ConvNd.apply(
        input, weight, bias, stride=_tup(stride, nd), padding=_tup(padding, nd),
        dilation=_tup(dilation, nd), groups=int(groups),
    )  # fmt: skip


conv1d = conv2d = conv3d = conv
