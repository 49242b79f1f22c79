"""Reference forms: the textbook forward and backward of convolution, pooling and recurrence.

What a reader finds here: every op written the way a textbook writes it, in plain NumPy, with
no layout tricks, so that it can be read top to bottom and stepped through in a debugger.

* :class:`ConvNd` / :func:`conv` - N-d convolution (PyTorch's cross-correlation) by im2col; its
  backward states the two identities as code: the input gradient is a correlation of the
  stride-dilated, padded upstream gradient with the *flipped* kernel, the weight gradient a
  correlation of the input with the upstream gradient.
* :class:`MaxPoolNd`, :class:`AvgPoolNd` - pooling with the windows made visible (the same
  im2col windows), and their backward as a scatter of the upstream gradient back into them.
* :class:`RNN`, :class:`LSTM`, :class:`GRU` - one layer, one direction, forward as a loop over
  time and backpropagation through time as a literal ``for t in reversed(range(T))`` loop, one
  line per derivative equation. Weight layout as PyTorch: gate rows ``i, f, g, o`` (LSTM) and
  ``r, z, n`` (GRU, ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``).

Each is a :class:`~glassnet.autograd.Function`, so it works on Tensors with autograd: a learner
can train a small model on these ops. The fast kernels in :mod:`glassnet.ops.conv`,
:mod:`glassnet.ops.pool` and :mod:`glassnet.ops.recurrent` compute the same thing (the tests
check forward and every gradient against these forms); they are only arranged for speed.

>>> import glassnet
>>> from glassnet.ops import reference
>>> reference.conv2d(glassnet.ones(1, 1, 4, 4), glassnet.ones(2, 1, 3, 3)).shape
(1, 2, 2, 2)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor

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


# ---------------------------------------------------------------------------- pooling
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


def max_pool(
    input: Tensor, kernel_size: int | Sequence[int], stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0, dilation: int | Sequence[int] = 1, ceil_mode: bool = False,
) -> Tensor:  # fmt: skip
    """N-d reference max pooling; arguments as :func:`glassnet.nn.functional.max_pool2d`.

    Shapes:
        input: (N, C, *I)   output: (N, C, *O)
    """
    nd = input.ndim - 2
    k = _tup(kernel_size, nd)
    return MaxPoolNd.apply(
        input, kernel=k, stride=k if stride is None else _tup(stride, nd),
        padding=_tup(padding, nd), dilation=_tup(dilation, nd), ceil_mode=bool(ceil_mode),
    )  # fmt: skip


def avg_pool(
    input: Tensor, kernel_size: int | Sequence[int], stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0, ceil_mode: bool = False, count_include_pad: bool = True,
) -> Tensor:  # fmt: skip
    """N-d reference average pooling; arguments as :func:`glassnet.nn.functional.avg_pool2d`.

    Shapes:
        input: (N, C, *I)   output: (N, C, *O)
    """
    nd = input.ndim - 2
    k = _tup(kernel_size, nd)
    return AvgPoolNd.apply(
        input, kernel=k, stride=k if stride is None else _tup(stride, nd),
        padding=_tup(padding, nd), ceil_mode=bool(ceil_mode),
        count_include_pad=bool(count_include_pad),
    )  # fmt: skip


max_pool1d = max_pool2d = max_pool3d = max_pool
avg_pool1d = avg_pool2d = avg_pool3d = avg_pool


# ---------------------------------------------------------------------------- recurrence
def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def _bias(b: np.ndarray | None, rows: int, like: np.ndarray) -> np.ndarray:
    return np.zeros(rows, like.dtype) if b is None else b


class RNN(Function):
    """Elman RNN: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``, act = tanh or relu.

    BPTT: ``dL/dh_{t-1} = W_hh^T diag(act'(a_t)) dL/dh_t`` (+ the output's own gradient) -
    the product of Jacobians, one step per loop iteration.

    Shapes:
        x: (T, N, D)   h0: (N, H)   w_ih: (H, D)   w_hh: (H, H)   b_ih, b_hh: (H,)
        y: (T, N, H)   h_T: (N, H)
    """

    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, nonlinearity="tanh"):
        H = w_hh.shape[0]
        b = _bias(b_ih, H, x) + _bias(b_hh, H, x)
        hs = [h0]  # hs[t] = h_{t-1}; hs[t + 1] = h_t
        for t in range(x.shape[0]):
            a = x[t] @ w_ih.T + hs[-1] @ w_hh.T + b  # (N, H)
            hs.append(np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0))
        self.x, self.hs, self.w_ih, self.w_hh, self.act = x, hs, w_ih, w_hh, nonlinearity
        y = np.stack(hs[1:])
        return y, y[-1].copy()

    def backward(self, dy, dh_T):
        x, hs, w_ih, w_hh = self.x, self.hs, self.w_ih, self.w_hh
        dx, dw_ih, dw_hh = np.zeros_like(x), np.zeros_like(w_ih), np.zeros_like(w_hh)
        db = np.zeros(w_hh.shape[0], x.dtype)
        dh = dh_T.copy()  # dL/dh_t, flowing back in time
        for t in reversed(range(x.shape[0])):
            dh = dh + dy[t]  # h_t feeds the output y_t and the next step
            da = dh * (1 - hs[t + 1] ** 2) if self.act == "tanh" else dh * (hs[t + 1] > 0)
            dw_ih += da.T @ x[t]  # dL/dW_ih
            dw_hh += da.T @ hs[t]  # dL/dW_hh
            db += da.sum(0)  # dL/db_ih = dL/db_hh
            dx[t] = da @ w_ih  # dL/dx_t
            dh = da @ w_hh  # dL/dh_{t-1}
        return dx, dh, dw_ih, dw_hh, db, db.copy()


class LSTM(Function):
    """LSTM, PyTorch's gate rows ``i, f, g, o``.

    ``i, f, o = sigmoid(.)``, ``g = tanh(.)`` of ``W_ih x_t + b_ih + W_hh h_{t-1} + b_hh``;
    ``c_t = f * c_{t-1} + i * g``; ``h_t = o * tanh(c_t)``.

    Shapes:
        x: (T, N, D)   h0, c0: (N, H)   w_ih: (4H, D)   w_hh: (4H, H)   b_ih, b_hh: (4H,)
        y: (T, N, H)   h_T, c_T: (N, H)
    """

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None):
        H = w_hh.shape[1]
        b = _bias(b_ih, 4 * H, x) + _bias(b_hh, 4 * H, x)
        hs, cs, gates = [h0], [c0], []
        for t in range(x.shape[0]):
            a = x[t] @ w_ih.T + hs[-1] @ w_hh.T + b  # (N, 4H)
            i, f, g, o = (
                _sigmoid(a[:, :H]),
                _sigmoid(a[:, H : 2 * H]),
                np.tanh(a[:, 2 * H : 3 * H]),
                _sigmoid(a[:, 3 * H :]),
            )
            cs.append(f * cs[-1] + i * g)
            hs.append(o * np.tanh(cs[-1]))
            gates.append((i, f, g, o))
        self.x, self.hs, self.cs, self.gates, self.w_ih, self.w_hh = x, hs, cs, gates, w_ih, w_hh
        y = np.stack(hs[1:])
        return y, y[-1].copy(), cs[-1].copy()

    def backward(self, dy, dh_T, dc_T):
        x, hs, cs, w_ih, w_hh = self.x, self.hs, self.cs, self.w_ih, self.w_hh
        dx, dw_ih, dw_hh = np.zeros_like(x), np.zeros_like(w_ih), np.zeros_like(w_hh)
        db = np.zeros(w_hh.shape[0], x.dtype)
        dh, dc = dh_T.copy(), dc_T.copy()
        for t in reversed(range(x.shape[0])):
            i, f, g, o = self.gates[t]
            tc = np.tanh(cs[t + 1])
            dh = dh + dy[t]  # h_t feeds y_t and step t+1
            dc = dc + dh * o * (1 - tc**2)  # h_t = o * tanh(c_t)
            do = dh * tc
            di = dc * g  # c_t = f * c_{t-1} + i * g
            dg = dc * i
            df = dc * cs[t]
            da = np.concatenate(
                [di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)], axis=1
            )
            dw_ih += da.T @ x[t]
            dw_hh += da.T @ hs[t]
            db += da.sum(0)
            dx[t] = da @ w_ih
            dh = da @ w_hh  # dL/dh_{t-1}
            dc = dc * f  # dL/dc_{t-1}
        return dx, dh, dc, dw_ih, dw_hh, db, db.copy()


class GRU(Function):
    """GRU, PyTorch's gate rows ``r, z, n``.

    ``r, z = sigmoid(W_i x_t + b_i + W_h h_{t-1} + b_h)``;
    ``n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn))``; ``h_t = (1 - z) * n + z * h_{t-1}``.

    Shapes:
        x: (T, N, D)   h0: (N, H)   w_ih: (3H, D)   w_hh: (3H, H)   b_ih, b_hh: (3H,)
        y: (T, N, H)   h_T: (N, H)
    """

    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
        H = w_hh.shape[1]
        b_ih, b_hh = _bias(b_ih, 3 * H, x), _bias(b_hh, 3 * H, x)
        hs, saved = [h0], []
        for t in range(x.shape[0]):
            gi = x[t] @ w_ih.T + b_ih  # (N, 3H): input side of r, z, n
            gh = hs[-1] @ w_hh.T + b_hh  # (N, 3H): hidden side of r, z, n
            r = _sigmoid(gi[:, :H] + gh[:, :H])
            z = _sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
            hn = gh[:, 2 * H :]  # W_hn h + b_hn, gated by r
            n = np.tanh(gi[:, 2 * H :] + r * hn)
            hs.append((1 - z) * n + z * hs[-1])
            saved.append((r, z, n, hn))
        self.x, self.hs, self.saved, self.w_ih, self.w_hh = x, hs, saved, w_ih, w_hh
        y = np.stack(hs[1:])
        return y, y[-1].copy()

    def backward(self, dy, dh_T):
        x, hs, w_ih, w_hh = self.x, self.hs, self.w_ih, self.w_hh
        dx, dw_ih, dw_hh = np.zeros_like(x), np.zeros_like(w_ih), np.zeros_like(w_hh)
        db_ih, db_hh = np.zeros(w_ih.shape[0], x.dtype), np.zeros(w_hh.shape[0], x.dtype)
        dh = dh_T.copy()
        for t in reversed(range(x.shape[0])):
            r, z, n, hn = self.saved[t]
            dh = dh + dy[t]
            dn = dh * (1 - z)  # h_t = (1 - z) n + z h_{t-1}
            dz = dh * (hs[t] - n)
            dan = dn * (1 - n**2)  # n = tanh(a_n)
            dr = dan * hn  # a_n = W_in x + b_in + r * hn
            dar = dr * r * (1 - r)
            daz = dz * z * (1 - z)
            dgi = np.concatenate([dar, daz, dan], axis=1)  # (N, 3H)
            dgh = np.concatenate([dar, daz, dan * r], axis=1)  # (N, 3H)
            dw_ih += dgi.T @ x[t]
            dw_hh += dgh.T @ hs[t]
            db_ih += dgi.sum(0)
            db_hh += dgh.sum(0)
            dx[t] = dgi @ w_ih
            dh = dh * z + dgh @ w_hh  # dL/dh_{t-1}: direct path plus through the gates
        return dx, dh, dw_ih, dw_hh, db_ih, db_hh


def rnn(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """Reference RNN on Tensors: returns ``(y, h_T)``; shapes as :class:`RNN`."""
    return RNN.apply(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity=nonlinearity)


def lstm(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None):
    """Reference LSTM on Tensors: returns ``(y, h_T, c_T)``; shapes as :class:`LSTM`."""
    return LSTM.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh)


def gru(x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
    """Reference GRU on Tensors: returns ``(y, h_T)``; shapes as :class:`GRU`."""
    return GRU.apply(x, h0, w_ih, w_hh, b_ih, b_hh)
