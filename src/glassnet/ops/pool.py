"""Pooling: max, average and adaptive (max/average) pooling over 1, 2 or 3 spatial dimensions.

One N-d core per kind serves the 1-, 2- and 3-d functional forms. Every loop runs over kernel
taps (or adaptive-bin offsets), each step touching all output positions at once, never over
pixels: through strided views of the input when windows are disjoint, through contiguous slices
of the convolution's packed layout when they overlap (``_Windows``).

PyTorch conventions matched exactly:

* output size ``O = floor((I + 2p - d(k - 1) - 1 + (s - 1 if ceil_mode)) / s) + 1``; with
  ``ceil_mode`` the last window must start inside the input or the left padding, else ``O -= 1``;
* ``padding <= kernel_size // 2``, stride defaults to ``kernel_size``;
* max pooling pads with ``-inf`` (padding never wins); ties go to the **first** maximum in the
  window's row-major scan order, which receives the whole gradient; a NaN in a window wins (the
  last NaN in scan order, as PyTorch's ``val > max || isnan(val)``); a window whose in-bounds
  values are all ``-inf`` reports its first in-bounds position; ``return_indices`` gives the flat
  index ``h * W + w`` (``l``, ``(d * H + h) * W + w``) inside each ``(n, c)`` plane;
* average pooling divides by ``divisor_override`` if given, else by the number of window elements
  inside the input (``count_include_pad=False``) or inside input plus padding
  (``count_include_pad=True``; window parts that overhang the right padding because of
  ``ceil_mode`` are not counted);
* adaptive pooling: output bin ``i`` of an axis spans ``[floor(i I / O), ceil((i + 1) I / O))``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..kernels.conv_gemm import conv_plan
from ..kernels.scratch import scratch as _scratch
from ._util import AXES, check_floating, dim_doc, shape_str, specialize


# ---------------------------------------------------------------------------- shared helpers
def pool_output_size(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> int:
    """PyTorch's pooling output length along one axis (including the ceil_mode rule).

    >>> [pool_output_size(5, 2, 2, 0, 1, ceil_mode=c) for c in (False, True)]
    [2, 3]
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = span // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window would start inside the right padding
    return out


Tap = tuple[int, tuple[slice, ...], tuple[slice, ...]]


def _taps(
    spatial: tuple[int, ...],
    out: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    dilation: tuple[int, ...],
) -> list[Tap]:
    """For each kernel tap (row-major id ``t``): the outputs it reaches and the inputs they read.

    Tap ``t`` of output ``o`` reads input ``i = o s - p + t d`` along each axis. Instead of
    materialising a padded copy, each tap is restricted to the outputs whose ``i`` lies inside
    the input, ``o in [ceil((p - t d) / s), floor((n - 1 + p - t d) / s)]``; padding positions
    are simply never read. Within one tap, distinct outputs read distinct inputs, so a strided
    slice of the input pairs with a contiguous block of the output. Taps that reach no output
    (possible only in the padding) are left out.
    """
    lead = (slice(None), slice(None))
    taps: list[Tap] = []
    for t, offs in enumerate(itertools.product(*(range(k) for k in kernel))):
        out_sl, in_sl = [], []
        for n, o, j, s, p, d in zip(spatial, out, offs, stride, padding, dilation):
            shift = j * d - p  # input index read by output 0
            lo = max(0, -(shift // s) if shift < 0 else 0)  # first o with o s + shift >= 0
            hi = min(o, (n - 1 - shift) // s + 1)  # one past the last o with o s + shift < n
            if lo >= hi:
                break
            out_sl.append(slice(lo, hi))
            start = lo * s + shift
            in_sl.append(slice(start, start + (hi - lo - 1) * s + 1, s))
        else:
            taps.append((t, lead + tuple(out_sl), lead + tuple(in_sl)))
    return taps


def _disjoint(kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]) -> bool:
    """Windows never overlap when the stride covers the dilated kernel extent on every axis."""
    return all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))


def _small_int(n: int) -> type:
    return np.uint8 if n <= 255 else np.int16 if n <= 32767 else np.int32


class _Windows:
    """Where kernel tap ``t`` of every pooling window reads, and where its window's result lives.

    Both max and average pooling are loops over the kernel taps, each step one NumPy call on
    *all* windows at once: tap ``t`` reads one slice of a source array and updates one slice of
    the output. Two layouts provide those slices:

    * **direct** (disjoint windows: the stride covers the dilated kernel on every axis, e.g. the
      usual 2x2 / stride 2): every input is read once, so the source is ``x`` itself and tap
      ``t`` a strided view of it (``_taps``); the output is (N, C, *O).
    * **packed** (overlapping windows): the convolution's packed layout (a ``ConvPlan`` of the
      windows' geometry): the input, padded with ``fill`` and split into stride phases, is
      flattened so that tap ``t`` of every window is one *contiguous* slice
      ``ph[r_t, off_t : off_t + L]`` and the output a flat (L,) array. Packing costs one pass
      over the input; it pays off when every input is read several times, as contiguous NumPy
      loops run 5-15x faster than strided ones (measured: packed was 0.6x the time of the direct
      form on 3x3 / stride 2 windows, direct 0.5x the time of packed on 2x2 / stride 2).

    ``pairs(src, *outs)`` yields tap ``t``'s slices for every tap in scan order; the backward
    runs the same pairs on the gradients (``grad_source`` / ``to_input``), adding where windows
    overlap and assigning where they are disjoint.
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        out: tuple[int, ...],
        kernel: tuple[int, ...],
        stride: tuple[int, ...],
        padding: tuple[int, ...],
        dilation: tuple[int, ...],
    ) -> None:
        self.shape, self.out = shape, out  # (N, C, *S), (*O)
        self.nc, spatial = shape[0] * shape[1], shape[2:]
        self.packed = self.nc > 0 and not _disjoint(kernel, stride, dilation)
        if self.packed:
            span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
            # widen the right padding where ceil_mode adds a window that overhangs it
            hi = [
                max(p, (o - 1) * s + e - n - p)
                for n, o, s, e, p in zip(spatial, out, stride, span, padding)
            ]
            self.plan = conv_plan(spatial, kernel, stride, dilation, padding, hi, out)
            self.length = self.plan.n_cols(self.nc)  # L: flat output slots computed
            self.out_shape: tuple[int, ...] = (self.nc * self.plan.P,)
        else:
            self.taps = _taps(spatial, out, kernel, stride, padding, dilation)
            self.out_shape = shape[:2] + out

    def source(self, x: np.ndarray, fill: float) -> np.ndarray:
        """What the taps read: ``x`` (direct) or its packed form, ``fill`` in the padding."""
        if not self.packed:
            return x
        return self.plan.pack_input(x.reshape(self.nc, 1, *x.shape[2:]), fill=fill)[0]

    def pairs(self, src: np.ndarray, *outs: np.ndarray) -> Iterator[tuple[Any, ...]]:
        """``(t, tap t's part of src, its part of each of outs)`` for every tap, in scan order.

        ``outs`` are arrays in the output layout (``out_shape``); all parts of one step are
        aligned: element ``j`` of each belongs to the same window.
        """
        if self.packed:
            parts = [o[: self.length] for o in outs]
            for t, (r, off) in enumerate(self.plan.taps):
                yield (t, src[r, off : off + self.length], *parts)
        else:
            for t, o_sl, i_sl in self.taps:
                yield (t, src[i_sl], *(o[o_sl] for o in outs))

    def to_output(self, out: np.ndarray) -> np.ndarray:
        """Output layout -> (N, C, *O)."""
        if not self.packed:
            return out
        y = self.plan.unpack_output(out.reshape(1, -1), self.nc, None)  # (NC, 1, *O)
        return y.reshape(self.shape[:2] + self.out)

    def from_output(self, y: np.ndarray) -> np.ndarray:
        """(N, C, *O) -> output layout (packed: zeros in the slots that are not outputs)."""
        if not self.packed:
            return y
        return self.plan.pack_output(y.reshape(self.nc, 1, *self.out))[0]

    def grad_source(self, dtype: Any) -> np.ndarray:
        """A zero gradient in the source layout, for the backward to add the taps into."""
        if not self.packed:
            return np.zeros(self.shape, dtype)
        shape = (len(self.plan.residues), self.nc * self.plan.P + self.plan.tail)
        return _scratch("pool.grad", shape, dtype, zero=True)

    def to_input(self, dsrc: np.ndarray) -> np.ndarray:
        """Gradient in the source layout -> (N, C, *S)."""
        if not self.packed:
            return dsrc
        return self.plan.unpack_input(dsrc[None], self.nc).reshape(self.shape)


# ---------------------------------------------------------------------------- max pooling
class MaxPool(Function):
    """y[n, c, o] = max over the window of o (padding is -inf); the gradient goes to the argmax.

    A loop over the kernel taps (``_Windows``). Without gradient or indices it is a running
    ``np.maximum``. Otherwise each step also replays PyTorch's scan ``if (val > max ||
    isnan(val)) {max = val; arg = tap}`` on all windows at once, recording the winning tap:
    ties keep the first maximum in scan order, a NaN wins (the last NaN), an all -inf window
    keeps its first in-bounds position, padding never wins. Backward sends ``dy`` to the winning
    tap, one tap at a time.

    Shapes:
        x: (N, C, *S)   y, indices: (N, C, *O)
        O_i = floor((S_i + 2 p_i - d_i (k_i - 1) - 1 [+ s_i - 1 with ceil_mode]) / s_i) + 1
    """

    def forward(
        self,
        x: np.ndarray,
        *,
        kernel_size: tuple[int, ...],
        stride: tuple[int, ...],
        padding: tuple[int, ...],
        dilation: tuple[int, ...],
        out_size: tuple[int, ...],
        return_indices: bool,
    ) -> Any:
        self.win = win = _Windows(x.shape, out_size, kernel_size, stride, padding, dilation)
        src = win.source(x, fill=-np.inf)
        best = np.full(win.out_shape, -np.inf, x.dtype)  # running maximum
        if not (return_indices or self.needs_input_grad[0]):
            for _, v, b in win.pairs(src, best):
                np.maximum(b, v, out=b)  # NaN propagates, as PyTorch
            return win.to_output(best)

        # per axis, the first tap of each window inside the input (PyTorch's scan starts there)
        first = []
        for o, s, p, d in zip(out_size, stride, padding, dilation):
            start = np.arange(o) * s - p  # (O,) window start in input coordinates
            first.append(np.maximum(-(start // d), 0))  # (O,) ceil(-start / d), at least 0
        grids = np.meshgrid(
            *[np.minimum(f, k - 1) for f, k in zip(first, kernel_size)], indexing="ij"
        )
        tap_type = _small_int(int(np.prod(kernel_size)))
        start_tap: np.ndarray = np.ravel_multi_index(grids, kernel_size).astype(tap_type)  # (*O)
        arg = win.from_output(np.broadcast_to(start_tap, x.shape[:2] + out_size)).copy()
        self._scan(win, src, best, arg, has_nan=bool(np.isnan(x).any()))
        self.arg = arg  # winning tap, output layout
        y = win.to_output(best)
        if not return_indices:
            return y
        taps = win.to_output(arg)
        return y, self._flat_indices(
            taps, first, kernel_size, stride, padding, dilation, x.shape[2:]
        )

    @staticmethod
    def _scan(
        win: _Windows, src: np.ndarray, best: np.ndarray, arg: np.ndarray, has_nan: bool
    ) -> None:
        """``if (val > max || isnan(val)) {max = val; arg = t}`` for every tap, all windows at once.

        ``best`` starts at -inf; ``np.maximum`` makes the same updates as the scan (NaN sticks).
        ``arg += wins * (t - arg)`` sets the winners' tap without a masked copy (slow in NumPy).
        """
        wins = np.empty(best.shape, bool)
        step = np.empty(arg.shape, arg.dtype)
        for t, v, b, a, w, st in win.pairs(src, best, arg, wins, step):
            np.greater(v, b, out=w)
            if has_nan:
                w |= np.isnan(v)
            np.maximum(b, v, out=b)
            np.subtract(t, a, out=st, casting="unsafe")
            st *= w
            a += st

    @staticmethod
    def _flat_indices(
        arg: np.ndarray,
        first: list[np.ndarray],
        kernel: tuple[int, ...],
        stride: tuple[int, ...],
        padding: tuple[int, ...],
        dilation: tuple[int, ...],
        spatial: tuple[int, ...],
    ) -> np.ndarray:
        """Winning tap -> flat input index inside each (n, c) plane (PyTorch's indices)."""
        d_sp = len(kernel)
        taps = np.unravel_index(arg.astype(np.int64), kernel)  # d arrays (N, C, *O)
        flat = np.zeros(arg.shape, np.int64)
        for axis in range(d_sp):
            o = np.arange(arg.shape[2 + axis])
            bshape = [1] * arg.ndim
            bshape[2 + axis] = -1
            start = (o * stride[axis] - padding[axis]).reshape(bshape)
            coord = start + taps[axis] * dilation[axis]  # (N, C, *O)
            # a window with no in-bounds tap on this axis keeps PyTorch's first-in-bounds start
            none_inside = (first[axis] >= kernel[axis]).reshape(bshape)
            if none_inside.any():
                coord = np.where(
                    none_inside, start + first[axis].reshape(bshape) * dilation[axis], coord
                )
            flat = flat * spatial[axis] + coord
        return flat

    def backward(self, dy: np.ndarray, *_: Any) -> np.ndarray:
        win = self.win
        d_y = win.from_output(dy)
        hit = np.empty(d_y.shape, bool)
        sent = np.empty(d_y.shape, dy.dtype)
        dsrc = win.grad_source(dy.dtype)
        for t, d, g, a, h, st in win.pairs(dsrc, d_y, self.arg, hit, sent):
            won = np.equal(a, t, out=h)  # the windows tap t won
            if win.packed:
                d += np.multiply(g, won, out=st)
            else:  # disjoint windows: each input belongs to one window at most
                np.multiply(g, won, out=d)
        return win.to_input(dsrc)


# ---------------------------------------------------------------------------- average pooling
def _avg_divisor(
    spatial: tuple[int, ...],
    out: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    count_include_pad: bool,
    divisor_override: int | None,
) -> Any:
    """The divisor per output position, broadcastable to (N, C, *O), as PyTorch computes it."""
    if divisor_override is not None:
        return float(divisor_override)
    div: Any = 1.0
    for axis, (n, o, k, s, p) in enumerate(zip(spatial, out, kernel, stride, padding)):
        start = np.arange(o) * s - p  # (O,) window start
        end = np.minimum(start + k, n + p)  # windows never count beyond the right padding
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        shape = [1] * (len(spatial) - axis)
        shape[0] = o
        div = div * (end - start).reshape(shape).astype(np.float64)  # (O_axis, 1, ...)
    arr = np.asarray(div)
    return float(arr.flat[0]) if arr.size and np.all(arr == arr.flat[0]) else arr


class AvgPool(Function):
    """y[n, c, o] = sum of the window of o (zero padding) / divisor(o); dx spreads dy / divisor.

    A loop over the kernel taps (``_Windows``): the window sums add one slice per tap, and the
    backward adds ``dy / divisor`` back onto every tap's slice.

    Shapes:
        x: (N, C, *S)   y: (N, C, *O)   (O as max pooling with dilation 1)
    """

    def forward(
        self,
        x: np.ndarray,
        *,
        kernel_size: tuple[int, ...],
        stride: tuple[int, ...],
        padding: tuple[int, ...],
        out_size: tuple[int, ...],
        count_include_pad: bool,
        divisor_override: int | None,
    ) -> np.ndarray:
        spatial = x.shape[2:]
        ones = (1,) * len(spatial)
        self.win = win = _Windows(x.shape, out_size, kernel_size, stride, padding, ones)
        src = win.source(x, fill=0.0)
        total = np.zeros(win.out_shape, x.dtype)  # window sums; padding adds 0
        for _, v, tot in win.pairs(src, total):
            tot += v
        y = win.to_output(total)
        self.div = _avg_divisor(
            spatial, out_size, kernel_size, stride, padding, count_include_pad, divisor_override
        )
        y /= self.div if isinstance(self.div, float) else self.div.astype(x.dtype)
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        div = self.div if isinstance(self.div, float) else self.div.astype(dy.dtype)
        g = self.win.from_output(dy / div)
        dsrc = self.win.grad_source(dy.dtype)
        for _, d, part in self.win.pairs(dsrc, g):
            if self.win.packed:
                d += part
            else:  # disjoint windows: each input belongs to one window at most
                np.copyto(d, part)
        return self.win.to_input(dsrc)


# ---------------------------------------------------------------------------- adaptive pooling
def adaptive_bins(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of each adaptive bin: ``[floor(i I/O), ceil((i+1) I/O))``.

    >>> adaptive_bins(5, 3)
    (array([0, 1, 3]), array([2, 4, 5]))
    """
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _bin_matrix(size: int, out: int, dtype: Any) -> np.ndarray:
    """A[i, j] = 1 / |bin i| for j in bin i: the averaging map along one axis, (O, I)."""
    start, end = adaptive_bins(size, out)
    j = np.arange(size)
    inside = (j >= start[:, None]) & (j < end[:, None])  # (O, I)
    return (inside / (end - start)[:, None]).astype(dtype)


def _along(y: np.ndarray, a: np.ndarray, axis: int) -> np.ndarray:
    """Apply the (O, I) matrix ``a`` along ``axis`` of ``y``."""
    return np.moveaxis(np.moveaxis(y, axis, -1) @ a.T, -1, axis)


class AdaptiveAvgPool(Function):
    """y = x averaged over adaptive bins; separable, so one (O_i, I_i) matrix per axis.

    Averaging over a box is a product of 1-d averages, so the op is ``x x_1 A_1 ... x_d A_d``
    and its adjoint (the backward) applies the transposes ``A_i^T``.

    Shapes:
        x: (N, C, *S)   y: (N, C, *O)
    """

    def forward(self, x: np.ndarray, *, out_size: tuple[int, ...]) -> np.ndarray:
        self.mats = [_bin_matrix(n, o, x.dtype) for n, o in zip(x.shape[2:], out_size)]
        y = x
        for axis, a in enumerate(self.mats):
            y = _along(y, a, 2 + axis)  # axis reduced to O_axis
        return np.ascontiguousarray(y)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        g = dy
        for axis, a in reversed(list(enumerate(self.mats))):
            g = _along(g, a.T, 2 + axis)  # axis expanded back to I_axis
        return np.ascontiguousarray(g)


class AdaptiveMaxPool(Function):
    """y = max over each adaptive bin, with PyTorch's flat indices; the gradient goes to the argmax.

    The max over a box is taken one axis at a time (last axis first), carrying the flat index of
    the winner. A strict ``>`` per stage keeps the first row among tied rows and the first column
    within it, which is the first maximum in row-major scan order, as PyTorch; NaN wins.

    Shapes:
        x: (N, C, *S)   y, indices: (N, C, *O)
    """

    def forward(self, x: np.ndarray, *, out_size: tuple[int, ...], return_indices: bool) -> Any:
        spatial = x.shape[2:]
        val = x
        idx = np.arange(int(np.prod(spatial)), dtype=np.int64).reshape((1, 1) + spatial)
        has_nan = bool(np.isnan(x).any())
        for axis in reversed(range(len(spatial))):
            ax = 2 + axis
            start, end = adaptive_bins(spatial[axis], out_size[axis])
            best = np.take(val, start, axis=ax)  # (..., O_axis, ...) first element of each bin
            best_i = np.take(idx, start, axis=ax)
            width = int((end - start).max()) if out_size[axis] else 0
            shape = [1] * x.ndim
            shape[ax] = -1
            for t in range(1, width):
                pos = np.minimum(start + t, spatial[axis] - 1)
                v = np.take(val, pos, axis=ax)
                take = v > best
                if has_nan:
                    take |= np.isnan(v)
                take &= (start + t < end).reshape(shape)  # bins shorter than ``width``
                best = np.where(take, v, best)
                best_i = np.where(take, np.take(idx, pos, axis=ax), best_i)
            val, idx = best, best_i
        idx = np.ascontiguousarray(np.broadcast_to(idx, val.shape))  # (N, C, *O)
        self.idx, self.in_shape = idx, x.shape
        y = np.ascontiguousarray(val)
        return (y, idx) if return_indices else y

    def backward(self, dy: np.ndarray, *_: Any) -> np.ndarray:
        n, c = self.in_shape[:2]
        plane = int(np.prod(self.in_shape[2:]))
        base = (np.arange(n * c, dtype=np.int64) * plane).reshape((n, c) + (1,) * (dy.ndim - 2))
        # bins overlap when I is not a multiple of O, so one input can win several bins: sum
        dx = np.bincount((base + self.idx).ravel(), weights=dy.ravel(), minlength=n * c * plane)
        return dx.astype(dy.dtype).reshape(self.in_shape)


# ---------------------------------------------------------------------------- argument checks
def _ntuple(value: Any, d: int, name: str, op: str) -> tuple[int, ...]:
    vals = tuple(value) if isinstance(value, (tuple, list)) else (value,) * d
    if len(vals) == 1 and d > 1:
        vals = vals * d
    if len(vals) != d or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals
    ):
        raise TypeError(f"{op} expected {name} as an int or a tuple of {d} ints, got {value!r}")
    return tuple(int(v) for v in vals)


def _as_input(x: Any, d: int, op: str) -> tuple[Tensor, bool]:
    """Validate (N, C, *S) or unbatched (C, *S) input; returns the batched tensor and a flag."""
    if not isinstance(x, Tensor):
        if isinstance(x, np.ndarray):
            x = Tensor(x)
        else:
            raise TypeError(f"{op} expected a Tensor input, got {type(x).__name__}")
    check_floating(x, "input", op)
    if x.ndim not in (d + 1, d + 2):
        raise ValueError(
            f"{op} expected input of shape (N, C, {', '.join(AXES[d])}) or "
            f"(C, {', '.join(AXES[d])}), "
            f"got {shape_str(x.shape)}"
        )
    unbatched = x.ndim == d + 1
    if any(n == 0 for n in x.shape[-d - 1 :]):
        raise ValueError(
            f"{op} expected non-empty channel and spatial dimensions, got {shape_str(x.shape)}"
        )
    return (x.reshape(1, *x.shape) if unbatched else x), unbatched


def _window_args(
    x: Tensor,
    d: int,
    op: str,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
) -> tuple[tuple[int, ...], ...]:
    k = _ntuple(kernel_size, d, "kernel_size", op)
    s = (
        k
        if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)
        else _ntuple(stride, d, "stride", op)
    )
    p = _ntuple(padding, d, "padding", op)
    dl = _ntuple(dilation, d, "dilation", op)
    for name, vals in (("kernel_size", k), ("stride", s), ("dilation", dl)):
        if any(v <= 0 for v in vals):
            raise ValueError(f"{op} expected a positive {name}, got {vals if d > 1 else vals[0]}")
    if any(v < 0 for v in p):
        raise ValueError(f"{op} expected non-negative padding, got {p if d > 1 else p[0]}")
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise ValueError(
            f"{op} expected padding at most half the kernel size (padding <= kernel_size // 2), "
            f"got padding={p if d > 1 else p[0]} with kernel_size={k if d > 1 else k[0]}"
        )
    spatial = x.shape[2:]
    out = tuple(
        pool_output_size(n, ki, si, pi, di, ceil_mode)
        for n, ki, si, pi, di in zip(spatial, k, s, p, dl)
    )
    if any(o < 1 for o in out):
        raise ValueError(
            f"{op}: output size is too small: input {shape_str(spatial)} with kernel_size={k}, "
            f"stride={s}, padding={p}, dilation={dl} gives {shape_str(out)}; the kernel must fit "
            "in the padded input"
        )
    return k, s, p, dl, out


def _finish(out: Any, unbatched: bool) -> Any:
    if not unbatched:
        return out
    if isinstance(out, tuple):
        return tuple(o.reshape(*o.shape[1:]) for o in out)
    return out.reshape(*out.shape[1:])


def _max_pool(
    input: Any,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
    *,
    _nd: int = 1,
) -> Any:
    """``max_pool1d``, ``max_pool2d`` and ``max_pool3d`` (``_nd`` fixed by each)."""
    d = _nd
    op = f"max_pool{d}d"
    xb, unbatched = _as_input(input, d, op)
    k, s, p, dl, out = _window_args(xb, d, op, kernel_size, stride, padding, dilation, ceil_mode)
    y = MaxPool.apply(
        xb,
        kernel_size=k,
        stride=s,
        padding=p,
        dilation=dl,
        out_size=out,
        return_indices=bool(return_indices),
    )
    return _finish(y, unbatched)


def _avg_pool(
    input: Any,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
    *,
    _nd: int = 2,
) -> Tensor:
    """``avg_pool2d`` and ``avg_pool3d`` (``_nd`` fixed by each), and ``avg_pool1d``."""
    d = _nd
    op = f"avg_pool{d}d"
    xb, unbatched = _as_input(input, d, op)
    k, s, p, _, out = _window_args(xb, d, op, kernel_size, stride, padding, 1, ceil_mode)
    if d == 3 and any(n < ki for n, ki in zip(xb.shape[2:], k)):
        # PyTorch's avg_pool3d (only) rejects an input smaller than the kernel before padding
        raise ValueError(
            f"{op} expected an input at least as large as the kernel before padding, got input "
            f"{shape_str(xb.shape[2:])} and kernel_size {k}"
        )
    if divisor_override is not None and (
        isinstance(divisor_override, bool)
        or not isinstance(divisor_override, (int, np.integer))
        or divisor_override == 0
    ):
        raise ValueError(
            f"{op} expected divisor_override to be a non-zero int, got {divisor_override!r}"
        )
    y = AvgPool.apply(
        xb,
        kernel_size=k,
        stride=s,
        padding=p,
        out_size=out,
        count_include_pad=bool(count_include_pad),
        divisor_override=None if divisor_override is None else int(divisor_override),
    )
    return _finish(y, unbatched)


def _adaptive_size(x: Tensor, d: int, output_size: Any, op: str) -> tuple[int, ...]:
    vals = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * d
    if len(vals) != d or not all(
        v is None or (isinstance(v, (int, np.integer)) and not isinstance(v, bool)) for v in vals
    ):
        raise TypeError(
            f"{op} expected output_size as an int or a tuple of {d} ints (None keeps a size), "
            f"got {output_size!r}"
        )
    out = tuple(int(n) if v is None else int(v) for v, n in zip(vals, x.shape[2:]))
    if any(o < 0 for o in out):
        raise ValueError(f"{op} expected non-negative output_size, got {output_size!r}")
    return out


def _adaptive_pool(x: Any, d: int, output_size: Any, kind: str, return_indices: bool) -> Any:
    op = f"adaptive_{kind}_pool{d}d"
    xb, unbatched = _as_input(x, d, op)
    out = _adaptive_size(xb, d, output_size, op)
    if kind == "avg":
        y = AdaptiveAvgPool.apply(xb, out_size=out)
    else:
        y = AdaptiveMaxPool.apply(xb, out_size=out, return_indices=bool(return_indices))
    return _finish(y, unbatched)


def _adaptive_avg_pool(
    input: Any, output_size: int | Sequence[int | None], *, _nd: int = 1
) -> Tensor:
    """``adaptive_avg_pool1d/2d/3d`` (``_nd`` fixed by each)."""
    return _adaptive_pool(input, _nd, output_size, "avg", False)


def _adaptive_max_pool(
    input: Any,
    output_size: int | Sequence[int | None],
    return_indices: bool = False,
    *,
    _nd: int = 1,
) -> Any:
    """``adaptive_max_pool1d/2d/3d`` (``_nd`` fixed by each)."""
    return _adaptive_pool(input, _nd, output_size, "max", return_indices)


# ---------------------------------------------------------------------------- functional forms
# The output-size formulas of the docstrings (``dim_fields`` fills in the axes; p, d, k, s are
# the padding, dilation, kernel size and stride of that axis), shared with glassnet.nn.pooling.
MAX_POOL_OUT = "{X}_out = floor(({X} + 2p - d(k - 1) - 1 [+ s - 1 with ceil_mode]) / s) + 1{alike}"
AVG_POOL_OUT = "{X}_out = floor(({X} + 2p - k [+ s - 1 with ceil_mode]) / s) + 1{alike}"
ADAPTIVE_BIN = "bin i of an axis of I inputs and O outputs spans [floor(i I/O), ceil((i + 1) I/O))"

_MAX_POOL_DOC = """{nd}-d max pooling (padding, ties and ceil_mode: see the module docstring).
Reference (textbook) form: ``glassnet.ops.reference.max_pool``.

``return_indices`` gives the flat index ({flat}) of each maximum inside its (n, c) plane.

Shapes:
    input: (N, C, {S}) or (C, {S})   y, indices: (N, C, {S_out})
    {out}
{example}"""

_AVG_POOL_DOC = """{nd}-d average pooling (zero padding; divisor rules in the module docstring).
Reference (textbook) form: ``glassnet.ops.reference.avg_pool``.

Shapes:
    input: (N, C, {S}) or (C, {S})   y: (N, C, {S_out})
    {out}
{example}"""

_ADAPTIVE_DOC = """{nd}-d adaptive {kind} pooling over ``output_size`` bins per axis.{note}

Shapes:
    input: (N, C, {S}) or (C, {S})   y{indices}: (N, C, {O})
    {out}
{example}"""

_FLAT = {1: "l", 2: "h * W + w", 3: "(d * H + h) * W + w"}
_NOTES = {
    "adaptive_avg_pool2d": "``None`` in ``output_size`` keeps that size; 1 is global pooling.",
    "adaptive_max_pool1d": "``return_indices`` gives the flat index in each (n, c) plane.",
}
_EXAMPLES = {
    "max_pool1d": """>>> import glassnet
>>> max_pool1d(glassnet.tensor([[[1.0, 3.0, 2.0, 2.0, 0.0]]]), 2)
tensor([[[3., 2.]]])""",
    "max_pool2d": """>>> import glassnet
>>> y, i = max_pool2d(glassnet.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
>>> y.shape, i.tolist()
((1, 1, 2, 2), [[[[5, 7], [13, 15]]]])""",
    "avg_pool1d": """>>> import glassnet
>>> avg_pool1d(glassnet.tensor([[[1.0, 3.0, 2.0, 2.0]]]), 2)
tensor([[[2., 2.]]])""",
    "avg_pool2d": """>>> import glassnet
>>> avg_pool2d(glassnet.ones(1, 1, 4, 6), 2, divisor_override=1).tolist()
[[[[4.0, 4.0, 4.0], [4.0, 4.0, 4.0]]]]""",
    "adaptive_avg_pool1d": """>>> import glassnet
>>> adaptive_avg_pool1d(glassnet.tensor([[[1.0, 2.0, 3.0, 4.0, 5.0]]]), 2)
tensor([[[2., 4.]]])""",
    "adaptive_max_pool1d": """>>> import glassnet
>>> adaptive_max_pool1d(glassnet.tensor([[[1.0, 5.0, 3.0, 4.0, 2.0]]]), 2)
tensor([[[5., 4.]]])""",
}


def _doc(name: str, nd: int) -> str:
    """The docstring of the functional form ``name`` (``max_pool2d``) of dimension ``nd``."""
    example, note = _EXAMPLES.get(name, ""), _NOTES.get(name, "")
    if name.startswith("max_pool"):
        return dim_doc(_MAX_POOL_DOC, nd, MAX_POOL_OUT, example, flat=_FLAT[nd])
    if name.startswith("avg_pool"):
        return dim_doc(_AVG_POOL_DOC, nd, AVG_POOL_OUT, example)
    kind = "max" if name.startswith("adaptive_max") else "average"
    return dim_doc(
        _ADAPTIVE_DOC, nd, ADAPTIVE_BIN, example, kind=kind, note=f"\n\n{note}" if note else "",
        indices=", indices" if kind == "max" else "",
    )  # fmt: skip


max_pool1d = specialize(_max_pool, "max_pool1d", _doc("max_pool1d", 1), _nd=1)
max_pool2d = specialize(_max_pool, "max_pool2d", _doc("max_pool2d", 2), _nd=2)
max_pool3d = specialize(_max_pool, "max_pool3d", _doc("max_pool3d", 3), _nd=3)


def avg_pool1d(
    input: Any,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    # its own signature: no divisor_override, as PyTorch's avg_pool1d
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, _nd=1)


avg_pool1d.__doc__ = _doc("avg_pool1d", 1)
avg_pool2d = specialize(_avg_pool, "avg_pool2d", _doc("avg_pool2d", 2), _nd=2)
avg_pool3d = specialize(_avg_pool, "avg_pool3d", _doc("avg_pool3d", 3), _nd=3)

adaptive_avg_pool1d = specialize(
    _adaptive_avg_pool, "adaptive_avg_pool1d", _doc("adaptive_avg_pool1d", 1), _nd=1
)
adaptive_avg_pool2d = specialize(
    _adaptive_avg_pool, "adaptive_avg_pool2d", _doc("adaptive_avg_pool2d", 2), _nd=2
)
adaptive_avg_pool3d = specialize(
    _adaptive_avg_pool, "adaptive_avg_pool3d", _doc("adaptive_avg_pool3d", 3), _nd=3
)
adaptive_max_pool1d = specialize(
    _adaptive_max_pool, "adaptive_max_pool1d", _doc("adaptive_max_pool1d", 1), _nd=1
)
adaptive_max_pool2d = specialize(
    _adaptive_max_pool, "adaptive_max_pool2d", _doc("adaptive_max_pool2d", 2), _nd=2
)
adaptive_max_pool3d = specialize(
    _adaptive_max_pool, "adaptive_max_pool3d", _doc("adaptive_max_pool3d", 3), _nd=3
)
