"""Shape operations: reshape, permute, squeeze/unsqueeze, expand, cat/stack/split, pad, indexing."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import normalize_dim, shape_str


class Reshape(Function):
    """y = x with a new shape (same elements, row-major order)."""

    def forward(self, x: np.ndarray, *, shape: tuple[int, ...]) -> np.ndarray:
        self.in_shape = x.shape
        return x.reshape(shape)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy.reshape(self.in_shape)


class Permute(Function):
    """y = x with its axes reordered; the gradient is permuted back."""

    def forward(self, x: np.ndarray, *, dims: tuple[int, ...]) -> np.ndarray:
        self.inverse = tuple(np.argsort(dims))
        return x.transpose(dims)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy.transpose(self.inverse)


class Expand(Function):
    """y = x broadcast to ``shape`` (a view); the gradient is summed back."""

    def forward(self, x: np.ndarray, *, shape: tuple[int, ...]) -> np.ndarray:
        self.in_shape = x.shape
        return np.broadcast_to(x, shape)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        from ._util import unbroadcast

        return unbroadcast(dy, self.in_shape)


class Clone(Function):
    """y = a copy of x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.copy()

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy


class Cat(Function):
    """y = x_1, ..., x_n joined along ``dim``; the gradient is split back."""

    def forward(self, *xs: np.ndarray, dim: int) -> np.ndarray:
        self.dim = dim
        self.bounds = np.cumsum([x.shape[dim] for x in xs])[:-1]
        return np.concatenate(xs, axis=dim)

    def backward(self, dy: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.split(dy, self.bounds, axis=self.dim))


class Stack(Function):
    """y = x_1, ..., x_n stacked along a new axis ``dim``."""

    def forward(self, *xs: np.ndarray, dim: int) -> np.ndarray:
        self.dim = dim
        return np.stack(xs, axis=dim)

    def backward(self, dy: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.moveaxis(dy, self.dim, 0))


class Split(Function):
    """(y_1, ..., y_n) = x cut along ``dim`` at ``bounds`` (a multi-output op)."""

    def forward(self, x: np.ndarray, *, bounds: list[int], dim: int) -> tuple[np.ndarray, ...]:
        self.dim = dim
        return tuple(np.split(x, bounds, axis=dim))

    def backward(self, *dys: np.ndarray) -> np.ndarray:
        return np.concatenate(dys, axis=self.dim)


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


def _is_basic_index(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer)) for p in parts
    ) and not any(isinstance(p, bool) for p in parts)


class GetItem(Function):
    """y = x[index]; basic indexing copies the gradient back, advanced indexing scatter-adds."""

    def forward(self, x: np.ndarray, *, index: Any) -> np.ndarray:
        self.index, self.in_shape = index, x.shape
        self.basic = _is_basic_index(index)
        return np.asarray(x[index])

    def backward(self, dy: np.ndarray) -> np.ndarray:
        dx = np.zeros(self.in_shape, dy.dtype)
        if self.basic:
            dx[self.index] = dy
        else:
            np.add.at(dx, self.index, dy)  # repeated indices accumulate
        return dx


# ---------------------------------------------------------------------------- functional forms
def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(int(s) for s in shape[0])
    return tuple(int(s) for s in shape)


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """x with a new shape; one dimension may be -1 (inferred)."""
    new = _shape_arg(shape)
    known = int(np.prod([s for s in new if s != -1]))
    if new.count(-1) > 1 or (
        (-1 not in new and known != x.data.size)
        or (-1 in new and (known == 0 or x.data.size % known))
    ):
        raise ValueError(
            f"cannot reshape a tensor of shape {shape_str(x.shape)} to {shape_str(new)}"
        )
    return Reshape.apply(x, shape=new)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one."""
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = normalize_dim(start_dim, x.ndim, "start_dim"), normalize_dim(end_dim, x.ndim, "end_dim")
    if s > e:
        raise ValueError(f"flatten expected start_dim <= end_dim, got {start_dim} and {end_dim}")
    new = x.shape[:s] + (int(np.prod(x.shape[s : e + 1])),) + x.shape[e + 1 :]
    return Reshape.apply(x, shape=new)


def permute(x: Tensor, *dims: Any) -> Tensor:
    """x with its axes in the order ``dims``."""
    d = _shape_arg(dims)
    norm = tuple(normalize_dim(i, x.ndim) for i in d)
    if sorted(norm) != list(range(x.ndim)):
        raise ValueError(f"permute expected a permutation of {x.ndim} dims, got {d}")
    return Permute.apply(x, dims=norm)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """x with axes ``dim0`` and ``dim1`` swapped."""
    dims = list(range(x.ndim))
    a, b = normalize_dim(dim0, x.ndim, "dim0"), normalize_dim(dim1, x.ndim, "dim1")
    dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(x, dims=tuple(dims))


def squeeze(x: Tensor, dim: int | None = None) -> Tensor:
    """Remove axes of size 1 (only ``dim`` when given; a no-op if that axis is not 1)."""
    if dim is None:
        new = tuple(s for s in x.shape if s != 1)
    else:
        d = normalize_dim(dim, x.ndim)
        new = x.shape if x.ndim == 0 or x.shape[d] != 1 else x.shape[:d] + x.shape[d + 1 :]
    return Reshape.apply(x, shape=new)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert an axis of size 1 at ``dim`` (-ndim-1 <= dim <= ndim)."""
    d = normalize_dim(dim, x.ndim + 1)
    return Reshape.apply(x, shape=x.shape[:d] + (1,) + x.shape[d:])


def expand(x: Tensor, *shape: Any) -> Tensor:
    """x broadcast to ``shape`` (-1 keeps a dimension)."""
    new = _shape_arg(shape)
    lead = len(new) - x.ndim
    full = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(new))
    try:
        np.broadcast_shapes(x.shape, full)
    except ValueError:
        raise ValueError(f"cannot expand shape {shape_str(x.shape)} to {shape_str(new)}") from None
    return Expand.apply(x, shape=full)


def clone(x: Tensor) -> Tensor:
    return Clone.apply(x)


def _tensors(xs: Sequence[Any], op: str) -> list[Tensor]:
    if isinstance(xs, Tensor) or not len(xs):
        raise ValueError(f"{op} expected a non-empty sequence of tensors")
    return [x if isinstance(x, Tensor) else Tensor(x) for x in xs]


def cat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Join tensors along an existing axis ``dim``."""
    ts = _tensors(tensors, "cat")
    d = normalize_dim(dim, ts[0].ndim)
    for i, t in enumerate(ts):
        if (
            t.ndim != ts[0].ndim
            or t.shape[:d] + t.shape[d + 1 :] != ts[0].shape[:d] + ts[0].shape[d + 1 :]
        ):
            raise ValueError(
                f"cat expected tensors matching {shape_str(ts[0].shape)} except in dim {d}, "
                f"got {shape_str(t.shape)} at position {i}"
            )
    return Cat.apply(*ts, dim=d)


concatenate = cat


def stack(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Stack equal-shaped tensors along a new axis ``dim``."""
    ts = _tensors(tensors, "stack")
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise ValueError(
                f"stack expected tensors of equal shape {shape_str(ts[0].shape)}, "
                f"got {shape_str(t.shape)} at position {i}"
            )
    d = normalize_dim(dim, ts[0].ndim + 1)
    return Stack.apply(*ts, dim=d)


def split(
    x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
) -> tuple[Tensor, ...]:
    """Cut ``x`` along ``dim`` into pieces of a given size (the last may be smaller) or sizes."""
    d = normalize_dim(dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step <= 0:
            raise ValueError(f"split expected a positive split size, got {step}")
        sizes = [step] * (n // step) + ([n % step] if n % step else [])
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ValueError(f"split sizes {sizes} must be non-negative and sum to {n} (dim {d})")
    bounds = list(np.cumsum(sizes)[:-1])
    out = Split.apply(x, bounds=bounds, dim=d)
    return out if isinstance(out, tuple) else (out,)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Cut ``x`` into ``chunks`` nearly equal pieces along ``dim`` (as PyTorch)."""
    if chunks <= 0:
        raise ValueError(f"chunk expected a positive number of chunks, got {chunks}")
    n = x.shape[normalize_dim(dim, x.ndim)]
    return split(x, max(-(-n // chunks), 1), dim)


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


def getitem(x: Tensor, index: Any) -> Tensor:
    """x[index] with NumPy semantics (tensors in the index are used by value)."""
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    elif isinstance(index, list):
        index = np.asarray(index)
    try:
        return GetItem.apply(x, index=index)
    except IndexError as e:
        raise IndexError(
            f"index {index!r} is invalid for a tensor of shape {shape_str(x.shape)}: {e}"
        ) from None
