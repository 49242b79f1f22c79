"""Padding: constant, reflect, replicate and circular borders (negative widths crop).

Split from ``shape``, which re-exports ``Pad``, ``pad`` and ``pad_source_index``: padding is the
one shape op whose backward is not a plain rearrangement (a border's gradient sums back into the
positions it copied).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import shape_str

_NP_PAD_MODE = {
    "constant": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
}
_CROP_FIRST = ("constant", "circular")  # PyTorch crops these before padding, the others after


def pad_source_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each position of the padded axis, the input index it copies (-1 for constants).

    ``before``/``after`` are non-negative here; ``Pad`` applies negative widths (cropping) as a
    separate slice, before padding for constant/circular and after it for reflect/replicate.

    >>> pad_source_index(4, 2, 3, "reflect").tolist()
    [2, 1, 0, 1, 2, 3, 2, 1, 0]
    """
    i = np.arange(-before, n + after)
    if mode == "constant":
        return np.where((i >= 0) & (i < n), i, -1)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    period = 2 * (n - 1)  # reflect about the edge samples, which are not repeated
    j = np.abs(i) % period if period else np.zeros_like(i)
    return np.where(j < n, j, period - j)


def _runs(src: np.ndarray) -> Iterator[tuple[int, int, int, int]]:
    """Maximal runs ``[j0, j1)`` over which ``src`` moves by one step of -1, 0 or +1.

    Yields ``(j0, j1, src[j0], step)``: a padded border is one run (reflect: step -1, replicate:
    step 0, circular: step +1), so its gradient is one slice addition, not one per position.
    """
    j0, size = 0, len(src)
    while j0 < size:
        step = int(src[j0 + 1] - src[j0]) if j0 + 1 < size else 1
        if step not in (-1, 0, 1):
            step = 1
            j1 = j0 + 1
        else:
            j1 = j0 + 1
            while j1 < size and src[j1] - src[j1 - 1] == step:
                j1 += 1
        yield j0, j1, int(src[j0]), step
        j0 = j1


def _along_axis(ndim: int, axis: int, sl: slice) -> tuple[slice, ...]:
    return (slice(None),) * axis + (sl,) + (slice(None),) * (ndim - axis - 1)


def _unpad(g: np.ndarray, widths: Sequence[tuple[int, int]], mode: str) -> np.ndarray:
    """The adjoint of ``np.pad`` with non-negative ``widths``: (*, D + p + q) -> (*, D).

    One axis at a time (padding is separable): the copied core, plus the gradient of every
    padded copy added into the position it was copied from, one slice per run of the border.
    """
    for axis, (before, after) in enumerate(widths):
        if before == 0 and after == 0:
            continue
        n = g.shape[axis] - before - after
        core = g[_along_axis(g.ndim, axis, slice(before, before + n))]  # (.., D, ..)
        if mode != "constant" and n > 0:
            core = core.copy()
            src = pad_source_index(n, before, after, mode)
            borders = [(0, before), (before + n, before + n + after)]
            for lo, hi in borders:
                for j0, j1, s0, step in _runs(src[lo:hi]):
                    part = g[_along_axis(g.ndim, axis, slice(lo + j0, lo + j1))]
                    if step == 0:  # replicate: the whole run came from one position
                        dst = slice(s0, s0 + 1)
                        part = part.sum(axis=axis, keepdims=True)
                    else:
                        stop = s0 + step * (j1 - j0)
                        dst = slice(s0, stop if stop >= 0 else None, step)
                    core[_along_axis(g.ndim, axis, dst)] += part
        g = core
    return np.ascontiguousarray(g)


def _crop_slices(
    shape: Sequence[int], widths: Sequence[tuple[int, int]]
) -> tuple[slice, ...] | None:
    """Slices removing ``-w`` positions for every negative width; None when nothing is cropped."""
    if all(b >= 0 and a >= 0 for b, a in widths):
        return None
    return tuple(slice(max(-b, 0), n - max(-a, 0)) for n, (b, a) in zip(shape, widths))


class Pad(Function):
    """y = x padded on each axis by ``(before, after)``; modes constant/reflect/replicate/circular.

    A negative width crops instead, as in PyTorch: constant and circular padding crop first and
    pad the cropped input (circular wraps around what is left), reflect and replicate pad the
    whole input and then crop. The backward of a non-constant mode sums the gradient of every
    padded copy into the position it was copied from, one padded axis at a time (padding is
    separable), one slice per border run (``pad_source_index`` says which position each padded
    position copies), never a loop over pixels.

    Shapes:
        x: (D_1, ..., D_n)   y: (D_1 + b_1 + a_1, ..., D_n + b_n + a_n)   widths: ((b_i, a_i), ...)
    """

    def forward(
        self, x: np.ndarray, *, widths: tuple[tuple[int, int], ...], mode: str, value: float
    ) -> np.ndarray:
        self.mode, self.in_shape = mode, x.shape
        self.grow = tuple((max(b, 0), max(a, 0)) for b, a in widths)  # the padding proper
        crop = _crop_slices(x.shape, widths)
        if crop is not None and mode in _CROP_FIRST:
            x = x[crop]
        self.padded_shape = tuple(n + b + a for n, (b, a) in zip(x.shape, self.grow))
        self.crop = crop if mode in _CROP_FIRST else _crop_slices(self.padded_shape, widths)
        if mode == "constant":
            y = np.pad(x, self.grow, mode="constant", constant_values=value)
        else:
            y = np.pad(x, self.grow, mode=_NP_PAD_MODE[mode])  # type: ignore[call-overload]
        if self.crop is not None and mode not in _CROP_FIRST:
            y = np.ascontiguousarray(y[self.crop])
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        crop, first = self.crop, self.mode in _CROP_FIRST
        if crop is not None and not first:  # reflect/replicate cropped after padding
            g = np.zeros(self.padded_shape, dy.dtype)
            g[crop] = dy
            dy = g
        dx = _unpad(dy, self.grow, self.mode)
        if crop is not None and first:  # constant/circular cropped before padding
            g = np.zeros(self.in_shape, dy.dtype)
            g[crop] = dx
            dx = g
        return dx


# ---------------------------------------------------------------------------- functional forms
def pad(
    input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None
) -> Tensor:
    """Pad the last ``len(pad) // 2`` dimensions, PyTorch order: ``(left_last, right_last, ...)``.

    Modes: ``constant`` (with ``value``, default 0; any number of trailing dimensions),
    ``reflect`` (mirror without repeating the edge), ``replicate`` (repeat the edge) and
    ``circular`` (wrap around); these three pad 1 to 3 trailing dimensions of a batched
    ``(N, C, *)`` or unbatched ``(C, *)`` input. A negative width crops: constant and circular
    crop first (circular then wraps around what is left), reflect and replicate pad first.

    Shapes:
        x: (*, D_1, ..., D_k)   y: (*, D_1 + p_1 + q_1, ..., D_k + p_k + q_k)
        with (p_k, q_k) = (pad[0], pad[1]) for the last dimension, (pad[2], pad[3]) for the one
        before it, and so on

    Raises:
        TypeError: ``pad`` is not a sequence of ints.
        ValueError: an odd number of pad values, an unknown ``mode``, a ``value`` with a
            non-constant mode, an input rank that does not fit ``len(pad)``, reflect padding not
            smaller than its dimension, circular padding that would wrap around more than once,
            or a crop larger than the dimension.

    >>> import glassnet
    >>> pad(glassnet.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect")
    tensor([[3., 2., 1., 2., 3., 2.]])
    >>> pad(glassnet.tensor([[1.0, 2.0, 3.0]]), (-1, 2), value=9.0)
    tensor([[2., 3., 9., 9.]])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad expected a Tensor input, got {type(input).__name__}")
    if (
        isinstance(pad, (str, bytes))
        or not isinstance(pad, Sequence)
        or not all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad)
    ):
        raise TypeError(f"pad expected pad as a tuple of ints, got {pad!r}")
    pads = [int(p) for p in pad]
    if len(pads) % 2:
        raise ValueError(
            f"pad expected an even number of values (before, after for each dimension), got "
            f"{len(pads)}: {tuple(pads)}"
        )
    if mode not in _NP_PAD_MODE:
        raise ValueError(f"pad mode must be one of {sorted(_NP_PAD_MODE)}, got {mode!r}")
    if mode != "constant" and value not in (None, 0):
        raise ValueError(
            f"pad: value={value!r} is only for mode='constant'; mode={mode!r} takes no value"
        )
    k, ndim = len(pads) // 2, input.ndim
    if k > ndim:
        raise ValueError(
            f"pad expected at most 2 values per input dimension, got {len(pads)} values for an "
            f"input of shape {shape_str(input.shape)}"
        )
    if mode != "constant" and (k not in (1, 2, 3) or ndim not in (k + 1, k + 2)):
        raise ValueError(
            f"pad with mode={mode!r} pads the last 1, 2 or 3 dimensions of a batched (N, C, *) "
            f"or unbatched (C, *) input: {len(pads)} pad values need an input with {k + 1} or "
            f"{k + 2} dimensions, got shape {shape_str(input.shape)}"
        )
    widths = [(0, 0)] * (ndim - k) + [(pads[2 * i], pads[2 * i + 1]) for i in reversed(range(k))]
    for axis, (b, a) in enumerate(widths):
        n = input.shape[axis]
        kept = n - max(-b, 0) - max(-a, 0)  # what is left after cropping
        if n + b + a < 0 or (mode in _CROP_FIRST and kept < 0):
            raise ValueError(
                f"pad ({b}, {a}) crops more than the size {n} of dimension {axis} (input shape "
                f"{shape_str(input.shape)})"
            )
        if mode == "reflect" and max(b, a) >= n and (b > 0 or a > 0):
            raise ValueError(
                f"reflect padding ({b}, {a}) must be smaller than the dimension size {n} "
                f"(dimension {axis} of input shape {shape_str(input.shape)})"
            )
        if mode == "replicate" and n == 0 and (b > 0 or a > 0):
            raise ValueError(
                f"replicate padding of an empty dimension (dimension {axis} of input shape "
                f"{shape_str(input.shape)})"
            )
        if mode == "circular" and max(b, a) > kept:
            raise ValueError(
                f"circular padding ({b}, {a}) would wrap around more than once: it must not "
                f"exceed the dimension size {kept} (dimension {axis} of input shape "
                f"{shape_str(input.shape)}, after cropping)"
            )
    fill = 0.0 if value is None else value
    return Pad.apply(input, widths=tuple(widths), mode=mode, value=fill)
