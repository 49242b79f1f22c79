"""Pooling: max, average and adaptive (max/average) pooling over 1, 2 or 3 spatial dimensions.

One N-d core per kind serves the 1-, 2- and 3-d functional forms; the loops live in
``glassnet.kernels.pooling`` and ``glassnet.kernels.pool_scan`` and run over kernel taps (or
adaptive-bin offsets), each step touching all output positions at once, never over pixels.
Window sums (average pooling) and window maxima alone (max pooling without gradient or indices)
are separable and run one axis at a time; max pooling with gradient or indices replays PyTorch's
scan over the ``k^d`` taps (``TapWindows``: strided views of the input when windows are
disjoint, contiguous slices of the convolution's packed layout when they overlap). The textbook
forms are in ``glassnet.ops.reference``.

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

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..kernels.pool_scan import max_scan, route_to_winners, tap_windows
from ..kernels.pooling import (
    adaptive_maxima,
    along,
    avg_divisor,
    bin_matrix,
    pool_output_size,
    scatter_to_winners,
    spatial_windows,
    spread_window_sums,
    window_reduce,
    winner_index,
)
from ._pool_doc import _doc
from ._util import AXES, check_floating, shape_str, specialize


# ---------------------------------------------------------------------------- max pooling
class MaxPool(Function):
    """y[n, c, o] = max over the window of o (padding is -inf); the gradient goes to the argmax.

    Without gradient or indices only the maxima are needed, and a max over a box is the max of
    its row maxima: ``window_reduce`` takes them one axis at a time. Otherwise a loop over the
    kernel taps (``max_scan`` on ``TapWindows``, ``glassnet.kernels.pool_scan``) replays PyTorch's
    scan ``if (val > max ||
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
        wins = spatial_windows(x.shape, out_size, kernel_size, stride, padding, dilation)
        if not (return_indices or self.needs_input_grad[0]):
            # the maxima alone: separable, one axis at a time (NaN propagates, as PyTorch)
            return window_reduce(x, wins, np.maximum)
        self.win = win = tap_windows(x.shape, out_size, kernel_size, stride, padding, dilation)
        y, self.arg = max_scan(win, x)  # the winning tap of each window, in win's layout
        if not return_indices:
            return y
        return y, winner_index(win.to_output(self.arg), wins)

    def backward(self, dy: np.ndarray, *_: Any) -> np.ndarray:
        return route_to_winners(self.win, dy, self.arg)


# ---------------------------------------------------------------------------- average pooling
class AvgPool(Function):
    """y[n, c, o] = sum of the window of o (zero padding) / divisor(o); dx spreads dy / divisor.

    A sum over a box is a sum of 1-d sums, so the window sums run one axis at a time
    (``window_reduce`` in ``glassnet.kernels.pooling``: ``k`` strided slices per axis rather
    than ``k^d`` taps), and the backward, its adjoint, spreads ``dy / divisor`` back one axis at
    a time in reverse order.

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
        self.wins = spatial_windows(x.shape, out_size, kernel_size, stride, padding, ones)
        y = window_reduce(x, self.wins, np.add)  # window sums; padding adds 0
        self.div = avg_divisor(
            spatial, out_size, kernel_size, stride, padding, count_include_pad, divisor_override
        )
        y /= self.div if isinstance(self.div, float) else self.div.astype(x.dtype)
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        div = self.div if isinstance(self.div, float) else self.div.astype(dy.dtype)
        return spread_window_sums(dy / div, self.wins)


# ---------------------------------------------------------------------------- adaptive pooling
class AdaptiveAvgPool(Function):
    """y = x averaged over adaptive bins; separable, so one (O_i, I_i) matrix per axis.

    Averaging over a box is a product of 1-d averages, so the op is ``x x_1 A_1 ... x_d A_d``
    and its adjoint (the backward) applies the transposes ``A_i^T``.

    Shapes:
        x: (N, C, *S)   y: (N, C, *O)
    """

    def forward(self, x: np.ndarray, *, out_size: tuple[int, ...]) -> np.ndarray:
        self.mats = [bin_matrix(n, o, x.dtype) for n, o in zip(x.shape[2:], out_size)]
        y = x
        for axis, a in enumerate(self.mats):
            y = along(y, a, 2 + axis)  # axis reduced to O_axis
        return np.ascontiguousarray(y)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        g = dy
        for axis, a in reversed(list(enumerate(self.mats))):
            g = along(g, a.T, 2 + axis)  # axis expanded back to I_axis
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
        y, self.idx = adaptive_maxima(x, out_size)
        self.in_shape = x.shape
        return (y, self.idx) if return_indices else y

    def backward(self, dy: np.ndarray, *_: Any) -> np.ndarray:
        # bins overlap when I is not a multiple of O, so one input can win several bins: sum
        return scatter_to_winners(dy, self.idx, self.in_shape)


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
