"""Pooling windows: the window geometry and the loops of max and average pooling.

Every loop runs over kernel taps, each step one NumPy call on *all* windows at once, never over
pixels: tap ``j`` of output ``o`` reads input ``o s - p + j d`` along an axis.

* **Separable** (``window_reduce``, ``spread_window_sums``): a box window is a product of 1-d
  windows, and a sum over a box is a sum of 1-d sums, a max over a box the max of its row
  maxima. So window sums (average pooling, forward and backward) and window maxima alone (max
  pooling without gradient or indices) run one axis at a time, ``k`` strided views per axis
  (``AxisWindows``, ``axis_pairs``) instead of ``k^d`` taps, reading no padding at all.
* **Tap scan** (``glassnet.kernels.pool_scan``): max pooling with gradient
  or indices must say *which* input won, as PyTorch's scan ``if (val > max || isnan(val))
  {max = val; arg = tap}`` in row-major window order: the first maximum wins ties, the last
  NaN wins, a window with no finite value keeps its first in-bounds position. That needs the
  ``k^d`` taps in scan order; overlapping windows run them on the convolution's packed layout,
  where each tap is one contiguous slice.

NumPy only: no Tensor, no autograd. ``glassnet.ops.pool`` holds the ``Function`` classes and
the argument checks; ``glassnet.ops.reference.max_pool`` / ``avg_pool`` the textbook forms.
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "AxisWindows",
    "avg_divisor",
    "adaptive_bins",
    "adaptive_maxima",
    "along",
    "bin_matrix",
    "scatter_to_winners",
    "Tap",
    "axis_pairs",
    "pool_output_size",
    "spatial_windows",
    "spread_window_sums",
    "window_reduce",
    "window_taps",
]


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


class AxisWindows(NamedTuple):
    """The windows of one axis: ``out`` windows of ``kernel`` taps over ``size`` inputs.

    Tap ``j`` of window ``o`` reads input ``o * stride - padding + j * dilation``; for all
    windows whose input is inside the axis, that is one strided slice (``reach``).
    """

    size: int
    out: int
    kernel: int
    stride: int
    padding: int
    dilation: int

    @property
    def disjoint(self) -> bool:
        """Windows never overlap: the stride covers the dilated kernel extent."""
        return self.stride >= self.dilation * (self.kernel - 1) + 1

    def reach(self, j: int) -> tuple[slice, slice] | None:
        """Tap ``j``'s outputs whose input lies inside the axis, and those inputs; None if none.

        Output ``o`` reads input ``o s + shift`` with ``shift = j d - p``: the outputs
        ``[ceil(-shift / s), floor((n - 1 - shift) / s)]``, a contiguous block, read a strided
        slice of the input. Padding is never read.
        """
        shift = j * self.dilation - self.padding  # input read by output 0
        lo = max(0, -(shift // self.stride) if shift < 0 else 0)  # first o reading an input
        hi = min(self.out, (self.size - 1 - shift) // self.stride + 1)  # one past the last
        if lo >= hi:
            return None
        start = lo * self.stride + shift
        return slice(lo, hi), slice(start, start + (hi - lo - 1) * self.stride + 1, self.stride)

    def first_inside(self) -> np.ndarray:
        """(O,) the first tap of each window that reads an input (PyTorch's scan starts there).

        ``kernel`` where no tap does (a window of padding only, possible with dilation).
        """
        start = np.arange(self.out) * self.stride - self.padding  # (O,) input read by tap 0
        first = np.maximum(-(start // self.dilation), 0)  # ceil(-start / d), at least 0
        return np.minimum(first, self.kernel)


def _index(axis: int, sl: Any) -> tuple[Any, ...]:
    return (slice(None),) * axis + (sl,)


def spatial_windows(
    shape: tuple[int, ...],
    out: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    dilation: tuple[int, ...],
) -> list[AxisWindows]:
    """The ``AxisWindows`` of each spatial axis of an (N, C, *S) input."""
    return [AxisWindows(*g) for g in zip(shape[2:], out, kernel, stride, padding, dilation)]


# ---------------------------------------------------------------------------- average pooling
def axis_pairs(win: AxisWindows, axis: int) -> list[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """``(outputs, inputs)`` index pairs of each tap of one axis, padding left out.

    Tap ``j`` reaches the outputs ``o`` whose input ``o s - p + j d`` lies inside the axis, a
    contiguous block of outputs reading a strided slice of inputs; a tap that reaches none
    (only in the padding) is dropped. A tap that covers every output comes first, so a sum can
    start from a copy of it instead of zeros.
    """
    pairs: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = []
    full: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = []
    for j in range(win.kernel):
        reach = win.reach(j)
        if reach is None:
            continue
        pair = (_index(axis, reach[0]), _index(axis, reach[1]))
        (full if reach[0] == slice(0, win.out) else pairs).append(pair)
    return full + pairs


def window_reduce(x: np.ndarray, wins: list[AxisWindows], reduce: np.ufunc) -> np.ndarray:
    """Every window reduced by ``np.add`` (sums) or ``np.maximum`` (maxima), axis by axis.

    Padding is never read, which is zero padding for sums and ``-inf`` padding for maxima (a
    window of padding only, possible with dilation, gives 0 or -inf). The first axis goes
    first: its taps are views contiguous along the later axes, and the later passes, strided
    along their axis, then run on data shrunk by its stride. Maxima propagate NaN, as PyTorch's.

    Shapes:
        x: (N, C, *S)   returns (N, C, *O)
    """
    y = x
    for axis, win in enumerate(wins, start=2):
        pairs = axis_pairs(win, axis)
        if pairs and pairs[0][0][axis] == slice(0, win.out):
            total = y[pairs[0][1]].copy()  # a tap that covers every window starts the result
            pairs = pairs[1:]
        else:
            fill = 0 if reduce is np.add else -np.inf
            total = np.full(y.shape[:axis] + (win.out,) + y.shape[axis + 1 :], fill, y.dtype)
        for o_sl, i_sl in pairs:
            part = total[o_sl]
            reduce(part, y[i_sl], out=part)
        y = total
    return y


def spread_window_sums(g: np.ndarray, wins: list[AxisWindows]) -> np.ndarray:
    """The adjoint of the window sums: every window's ``g`` added back onto each of its inputs.

    Shapes:
        g: (N, C, *O)   returns (N, C, *S)
    """
    for axis in reversed(range(2, 2 + len(wins))):
        win = wins[axis - 2]
        dsrc = np.zeros(g.shape[:axis] + (win.size,) + g.shape[axis + 1 :], g.dtype)
        for o_sl, i_sl in axis_pairs(win, axis):
            if win.disjoint:  # each input is in one window at most: assign, no read-add-write
                dsrc[i_sl] = g[o_sl]
            else:
                dsrc[i_sl] += g[o_sl]
        g = dsrc
    return g


# ---------------------------------------------------------------------------- max pooling
def winner_index(arg: np.ndarray, wins: list[AxisWindows]) -> np.ndarray:
    """Winning tap (row-major in the window) -> flat input index inside each (n, c) plane.

    The index is the window origin's flat index plus the tap's flat offset, one table lookup.
    A window with no in-bounds tap along an axis (possible only with dilation) reports, as
    PyTorch, its first in-bounds start on that axis whatever its tap.

    Shapes:
        arg: (N, C, *O)   returns int64 (N, C, *O)
    """
    d = len(wins)
    step = [int(np.prod([w.size for w in wins[i + 1 :]])) for i in range(d)]  # axis strides
    taps = np.indices([w.kernel for w in wins]).reshape(d, -1)  # (d, prod k): tap per axis
    table = sum(t * w.dilation * st for t, w, st in zip(taps, wins, step))  # (prod k,)
    flat: np.ndarray = np.asarray(table, np.int64)[arg]  # (N, C, *O)
    for axis, (win, st) in enumerate(zip(wins, step)):
        shape = [1] * arg.ndim
        shape[2 + axis] = -1
        start = np.arange(win.out) * win.stride - win.padding  # (O,) input read by tap 0
        flat += (start * st).reshape(shape)
        first = win.first_inside()
        outside = first >= win.kernel  # (O,) windows of padding only on this axis
        if outside.any():  # their coordinate is start + first * d, not start + tap * d
            tap_offset = (taps[axis] * win.dilation * st)[arg]  # (N, C, *O)
            moved = (first * win.dilation * st).reshape(shape) - tap_offset
            flat += np.where(outside.reshape(shape), moved, 0)
    return flat


Tap = tuple[int, tuple[slice, ...], tuple[slice, ...]]


def window_taps(wins: list[AxisWindows]) -> list[Tap]:
    """For each kernel tap (row-major id ``t``): the outputs it reaches and the inputs they read.

    ``AxisWindows.reach`` on every axis at once: restricted to the outputs whose input lies
    inside, so padding is never read; within one tap, distinct outputs read distinct inputs,
    so a strided slice of the input pairs with a block of the output. Taps that reach no
    output (possible only in the padding) are left out.
    """
    lead = (slice(None), slice(None))
    taps: list[Tap] = []
    for t, offs in enumerate(itertools.product(*(range(w.kernel) for w in wins))):
        reach = [w.reach(j) for w, j in zip(wins, offs)]
        if all(r is not None for r in reach):
            out_sl = tuple(r[0] for r in reach if r is not None)
            in_sl = tuple(r[1] for r in reach if r is not None)
            taps.append((t, lead + out_sl, lead + in_sl))
    return taps


def avg_divisor(
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


# ---------------------------------------------------------------------------- adaptive bins
def adaptive_bins(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of each adaptive bin: ``[floor(i I/O), ceil((i+1) I/O))``.

    >>> adaptive_bins(5, 3)
    (array([0, 1, 3]), array([2, 4, 5]))
    """
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def bin_matrix(size: int, out: int, dtype: Any) -> np.ndarray:
    """A[i, j] = 1 / |bin i| for j in bin i: the averaging map along one axis, (O, I)."""
    start, end = adaptive_bins(size, out)
    j = np.arange(size)
    inside = (j >= start[:, None]) & (j < end[:, None])  # (O, I)
    return (inside / (end - start)[:, None]).astype(dtype)


def along(y: np.ndarray, a: np.ndarray, axis: int) -> np.ndarray:
    """Apply the (O, I) matrix ``a`` along ``axis`` of ``y``."""
    return np.moveaxis(np.moveaxis(y, axis, -1) @ a.T, -1, axis)


def adaptive_maxima(x: np.ndarray, out_size: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Max over each adaptive bin and the flat index of its winner in the (n, c) plane.

    One axis at a time, last axis first, carrying the winner's flat index: a strict ``>`` per
    stage keeps the first row among tied rows and the first column within it, which is the
    first maximum in row-major scan order, as PyTorch; NaN wins.

    Shapes:
        x: (N, C, *S)   returns y, index: (N, C, *O)
    """
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
    return np.ascontiguousarray(val), idx


def scatter_to_winners(dy: np.ndarray, index: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """dx: each output's ``dy`` added at its winner's flat ``index`` (outputs may share one).

    Shapes:
        dy, index: (N, C, *O)   returns (N, C, *S) = ``shape``
    """
    n, c = shape[:2]
    plane = int(np.prod(shape[2:]))
    base = (np.arange(n * c, dtype=np.int64) * plane).reshape((n, c) + (1,) * (dy.ndim - 2))
    dx = np.bincount((base + index).ravel(), weights=dy.ravel(), minlength=n * c * plane)
    return dx.astype(dy.dtype).reshape(shape)
