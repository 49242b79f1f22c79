"""Max pooling's tap scan: which input of each window won, as PyTorch's scan picks it.

PyTorch's max pooling scans each window in row-major order, ``if (val > max || isnan(val))
{max = val; arg = tap}``: the first maximum wins ties, the last NaN wins, and a window with no
finite value keeps its first in-bounds position. The gradient goes to the winner alone, so the
backward needs exactly that tap. The separable maxima of ``glassnet.kernels.pooling`` give the
values but not that order, so max pooling with gradient or indices replays the scan over all
``k^d`` taps, every step one NumPy call on all windows at once (``TapWindows``).

NumPy only: no Tensor, no autograd (``glassnet.ops.pool`` holds the ``Function``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import numpy as np

from .conv_gemm import conv_plan
from .pooling import spatial_windows, window_taps
from .scratch import scratch

__all__ = ["TapWindows", "max_scan", "route_to_winners", "small_int", "tap_windows"]


def small_int(n: int) -> type:
    """The smallest integer type that holds tap ids ``0 .. n - 1``."""
    return np.uint8 if n <= 255 else np.int16 if n <= 32767 else np.int32


class TapWindows:
    """Where kernel tap ``t`` of every pooling window reads, and where its window's result lives.

    The scan is a loop over the kernel taps in PyTorch's order, each step one NumPy call on
    *all* windows at once: tap ``t`` reads one slice of a source array and updates one slice of
    the output. Two layouts provide those slices:

    * **direct** (disjoint windows: the stride covers the dilated kernel on every axis, e.g. the
      usual 2x2 / stride 2): every input is read once, so the source is ``x`` itself and tap
      ``t`` a strided view of it (``window_taps``); the output is (N, C, *O).
    * **packed** (overlapping windows): the convolution's packed layout (a ``ConvPlan`` of the
      windows' geometry): the input, padded with ``fill`` and split into stride phases, is
      flattened so that tap ``t`` of every window is one *contiguous* slice
      ``ph[r_t, off_t : off_t + L]`` and the output a flat (L,) array. Packing costs one pass
      over the input; it pays off when every input is read several times, as contiguous NumPy
      loops run 5-15x faster than strided ones (docs/benchmarks.md has the measurements).

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
        self.wins = spatial_windows(shape, out, kernel, stride, padding, dilation)
        self.packed = self.nc > 0 and not all(w.disjoint for w in self.wins)
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
            self.taps = window_taps(self.wins)
            self.out_shape = shape[:2] + out
        # tap 0 reaches every window (packed: its slice spans all of them; direct: no window
        # starts in the padding), so a scan can start from a copy of it
        full = (slice(None),) * 2 + tuple(slice(0, o) for o in out)
        self.first_tap_covers = self.packed or (
            bool(self.taps) and self.taps[0][0] == 0 and self.taps[0][1] == full
        )
        # the windows tile the input (disjoint, no gaps, no padding, nothing left over), so
        # the direct taps write every input exactly once
        self.tiles = not self.packed and all(
            w.padding == 0 and w.dilation == 1 and w.stride == w.kernel == w.size // w.out
            and w.size % w.kernel == 0
            for w in self.wins
        )  # fmt: skip

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
        if not self.packed:  # every input assigned once where the windows tile it
            return (np.empty if self.tiles else np.zeros)(self.shape, dtype)
        shape = (len(self.plan.residues), self.nc * self.plan.P + self.plan.tail)
        return scratch("pool.grad", shape, dtype, zero=True)

    def to_input(self, dsrc: np.ndarray) -> np.ndarray:
        """Gradient in the source layout -> (N, C, *S)."""
        if not self.packed:
            return dsrc
        return self.plan.unpack_input(dsrc[None], self.nc).reshape(self.shape)


def tap_windows(*geometry: tuple[int, ...]) -> TapWindows:
    """``TapWindows(*geometry)`` (same positional arguments), shared by every call with it.

    A ``TapWindows`` never changes once built, and building one (the windows, the taps, the
    packed plan) costs tens of microseconds of Python, as much as the scan itself on a small
    layer (LeNet on 8x8 digits), so the op asks here, as the convolution asks ``conv_plan``.
    """
    return _tap_windows_cache(*(tuple(int(v) for v in a) for a in geometry))


@functools.lru_cache(maxsize=256)
def _tap_windows_cache(*geometry: tuple[int, ...]) -> TapWindows:
    return TapWindows(*geometry)


def max_scan(win: TapWindows, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``if (val > max || isnan(val)) {max = val; arg = t}`` for every tap, all windows at once.

    Returns the maxima (N, C, *O) and the winning tap of each window in ``win``'s output
    layout. ``np.maximum`` makes the same updates as the scan (NaN sticks), and the winners'
    tap is set without a masked copy (slow in NumPy; see ``_scan_taps``).
    NaN is rare, so the scan first runs without the ``isnan`` test, and again with it only if a
    maximum came out NaN (a window holds a NaN exactly when its maximum is NaN). Windows that
    end at -inf (no finite value) get PyTorch's first in-bounds tap afterwards.

    Shapes:
        x: (N, C, *S)   returns y: (N, C, *O), arg: ``win.out_shape``
    """
    src = win.source(x, fill=-np.inf)
    kernel = tuple(w.kernel for w in win.wins)
    tap_type = small_int(int(np.prod(kernel)))
    best, arg = _scan_taps(win, src, x.dtype, tap_type, nan=False)
    y = win.to_output(best)
    if np.isnan(y).any():  # replay with the NaN rule: the last NaN of a window wins
        best, arg = _scan_taps(win, src, x.dtype, tap_type, nan=True)
        y = win.to_output(best)
    dead = y == -np.inf  # (N, C, *O) no finite value: PyTorch keeps the first in-bounds tap
    if dead.any():
        first = [np.minimum(w.first_inside(), w.kernel - 1) for w in win.wins]  # per axis (O,)
        start = np.ravel_multi_index(np.meshgrid(*first, indexing="ij"), kernel)
        fixed = win.to_output(arg).copy()
        np.copyto(fixed, np.broadcast_to(start.astype(tap_type), y.shape), where=dead)
        arg = win.from_output(fixed).copy()
    return y, arg


def _scan_taps(
    win: TapWindows, src: np.ndarray, dtype: Any, tap_type: type, nan: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The running maximum and winning tap over all taps of ``win`` (``nan``: the NaN rule).

    The scan starts at -inf with ``arg`` 0, or, where tap 0 reaches every window (always on the
    packed layout), from tap 0 itself (a NaN there wins, as in the scan). A window's winner is
    the last tap that beat its running maximum, so ``arg`` is the maximum of ``t * wins`` over
    the taps (two NumPy calls per tap). A direct tap, a strided view, is first copied out
    contiguously: one strided pass instead of two (the comparison and the maximum).

    Shapes:
        src: ``win.source``   returns best, arg: ``win.out_shape``
    """
    from_tap0 = win.first_tap_covers
    best = np.empty(win.out_shape, dtype) if from_tap0 else np.full(win.out_shape, -np.inf, dtype)
    arg: np.ndarray = np.zeros(win.out_shape, tap_type)
    wins = np.empty(best.shape, bool)
    step = np.empty(arg.shape, arg.dtype)
    tap = None if win.packed else np.empty(best.shape, dtype)
    outs = (best, arg, wins, step) + (() if tap is None else (tap,))
    for t, v, b, a, w, st, *tp in win.pairs(src, *outs):
        if t == 0 and from_tap0:
            np.copyto(b, v)  # tap 0 starts the scan, arg 0
            continue
        if tp:
            np.copyto(tp[0], v)
            v = tp[0]
        np.greater(v, b, out=w)
        if nan:
            w |= np.isnan(v)
        np.maximum(b, v, out=b)
        # taps come in increasing order, so a window's winner is the largest t that won
        np.maximum(a, np.multiply(w, tap_type(t), out=st), out=a)
    return best, arg


def route_to_winners(win: TapWindows, dy: np.ndarray, arg: np.ndarray) -> np.ndarray:
    """Max pooling's backward: each window's ``dy`` goes to its winning tap ``arg``.

    Shapes:
        dy: (N, C, *O)   arg: output layout of ``win``   returns (N, C, *S)
    """
    d_y = win.from_output(dy)
    hit = np.empty(d_y.shape, bool)
    sent = np.empty(d_y.shape, dy.dtype)
    dsrc = win.grad_source(dy.dtype)
    for t, d, g, a, h, st in win.pairs(dsrc, d_y, arg, hit, sent):
        won = np.equal(a, t, out=h)  # the windows tap t won
        if win.packed:
            d += np.multiply(g, won, out=st)
        else:  # disjoint windows: each input belongs to one window at most
            np.multiply(g, won, out=d)
    return win.to_input(dsrc)
