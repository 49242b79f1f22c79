"""Convolution and transposed convolution in 1, 2, 3 (and any N) spatial dimensions.

As in PyTorch, "convolution" is the cross-correlation

    y[n, f, o] = b[f] + sum_{c in group(f)} sum_k w[f, c, k] * xp[n, c, o * s + k * d]

of the zero-padded input ``xp`` with the kernel (not flipped). Its backward pass is two more
correlations: the input gradient is the *full* convolution of the upstream gradient with the
kernel (the adjoint of the map ``x -> y``), the weight gradient is the correlation of the input
with the upstream gradient. The transposed convolution is the adjoint map itself, so its forward
is the convolution's input gradient and vice versa.

This file holds the ``Function`` classes, the argument checks and the choice of kernel; the
kernels themselves (GEMMs on shifted views of a packed input) are in
``glassnet.kernels.conv_gemm`` and ``glassnet.kernels.conv_layout``. The textbook forms of the
same products are ``glassnet.ops.reference.ConvNd`` / ``glassnet.ops.reference.conv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..kernels.conv_gemm import conv_plan
from ..kernels.conv_layout import same_padding, transpose_out_size
from ._conv_doc import CONV_DOC, CONV_OUT, CONV_TRANSPOSE_DOC, CONV_TRANSPOSE_OUT, EXAMPLES
from ._util import check_weight_dtype, dim_doc, require_tensor, shape_str, specialize

Size = int | Sequence[int]
Padding = int | Sequence[int] | str

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}
_KERNEL = {1: "K", 2: "KH, KW", 3: "KD, KH, KW"}
# a stride-1 ConvNd keeps its packed input for the weight gradient when it is at most this big
_KEEP_PACKED_BYTES = 2**20


def _bias_sum(dy: np.ndarray) -> np.ndarray:
    """db[f] = sum over batch and space of dy[n, f, ...]."""
    return dy.sum(axis=(0, *range(2, dy.ndim)))


class ConvNd(Function):
    """y = x ⋆ w + b: N-d cross-correlation with stride, zero padding, dilation and groups.

    Backward: dx is the adjoint correlation (for stride 1: dy, padded by d (K - 1) - p,
    correlated with the flipped kernel), dw[f, c, k] = sum_{n, o} dy[n, f, o] xp[n, c, o s + k d]
    and db[f] = sum_{n, o} dy[n, f, o]. ``glassnet.kernels.conv_gemm`` turns each into a few
    GEMMs; the reference form, with the identities written as code, is
    ``glassnet.ops.reference.ConvNd``.

    Shapes:
        x: (N, C, *D) or (C, *D)   w: (F, C / groups, *K)   b: (F,)
        y: (N, F, *O),  O_i = floor((D_i + lo_i + hi_i - d_i (K_i - 1) - 1) / s_i) + 1
    """

    def forward(
        self,
        x: np.ndarray,
        w: np.ndarray,
        b: np.ndarray | None = None,
        *,
        stride: tuple[int, ...],
        padding: tuple[tuple[int, int], ...],
        dilation: tuple[int, ...],
        groups: int,
    ) -> np.ndarray:
        self.unbatched = x.ndim == w.ndim - 1
        xb = x[None] if self.unbatched else x  # (N, C, *D)
        lo, hi = zip(*padding)
        self.plan = conv_plan(xb.shape[2:], w.shape[2:], stride, dilation, lo, hi)
        self.x, self.w, self.groups = x, w, groups  # saved: the input itself (the graph holds
        self.packed_x = None  # it anyway); strided and small layers also keep a packed copy
        if xb.shape[0] == 0:
            y = np.zeros((0, w.shape[0], *self.plan.out_size), x.dtype)
        else:
            # a strided phase split is dear (docs/benchmarks.md), so such a layer keeps its
            # packed input for the weight gradient; a stride-1 pack is cheap, so those layers
            # keep only x (less memory) and pack into scratch, unless the packed input is small:
            # then packing costs about one NumPy inner loop per short row (LeNet on 8x8 digits)
            # and keeping it costs little memory
            packed_bytes = xb.shape[1] * self.plan.packed_size(xb.shape[0]) * x.itemsize
            keep = self.needs_input_grad[1] and (
                max(stride) > 1 or packed_bytes <= _KEEP_PACKED_BYTES
            )
            packed = self.plan.pack_input(xb, scratch=not keep)  # (C, R, N*P): phase-split
            y = self.plan.unpack_output(self.plan.correlate(packed, w, groups), xb.shape[0], b)
            if keep:
                self.packed_x = packed
        return y[0] if self.unbatched else y  # (N, F, *O)

    def backward(self, dy: np.ndarray) -> tuple[Any, ...]:
        plan, need, w, g = self.plan, self.needs_input_grad, self.w, self.groups
        x = self.x[None] if self.unbatched else self.x  # (N, C, *D)
        dy = dy[None] if self.unbatched else dy  # (N, F, *O)
        n = x.shape[0]
        dx = dw = db = None
        if n == 0:
            dx, dw, db = np.zeros_like(x), np.zeros_like(w), np.zeros(w.shape[0], w.dtype)
        else:
            # dy packed (F, N*P) with zeros off the output grid when some product reads it, and
            # (stride 1) the flipped correlation's packed input over the same memory
            d_y = flip_in = None
            if need[1] or (need[0] and not plan.flips(w.shape, g)):
                d_y, flip_in = plan.pack_upstream(dy)
            if need[0]:  # the adjoint correlation (flipped kernel or shifted-slice scatter)
                dx = plan.input_grad(dy, w, g, d_y, flip_in)  # (N, C, *D)
            if need[1]:  # dw: the input correlated with dy
                assert d_y is not None
                packed = self.packed_x  # (C, R, N*P): kept by a strided forward, else packed now
                if packed is None:
                    packed = plan.pack_input(x)
                dw = plan.weight_grad(packed, d_y, w.shape, g)
            if len(need) > 2 and need[2]:
                db = _bias_sum(dy)  # (F,)
        if dx is not None and self.unbatched:
            dx = dx[0]
        return (dx, dw, db)[: len(need)]


class ConvTransposeNd(Function):
    """y = the adjoint of the convolution ``y -> x`` applied to x, plus b.

    Each input position scatters ``x[n, c, i] * w[c, f, :]`` into the output at ``i * s + k * d``
    (then ``padding`` is cropped from both ends). Computed as the input gradient of the matching
    convolution, so no scatter happens pixel by pixel; its backward is that convolution
    (dx = conv(dy, w)) and the same weight-gradient correlation with the roles of x and y swapped.
    Reference form: the input gradient of ``glassnet.ops.reference.ConvNd`` (this op's forward)
    and its forward (this op's input gradient).

    Shapes:
        x: (N, C, *D) or (C, *D)   w: (C, F / groups, *K)   b: (F,)
        y: (N, F, *O),  O_i = (D_i - 1) s_i - 2 p_i + d_i (K_i - 1) + output_padding_i + 1
    """

    def forward(
        self,
        x: np.ndarray,
        w: np.ndarray,
        b: np.ndarray | None = None,
        *,
        stride: tuple[int, ...],
        padding: tuple[int, ...],
        output_padding: tuple[int, ...],
        dilation: tuple[int, ...],
        groups: int,
    ) -> np.ndarray:
        self.unbatched = x.ndim == w.ndim - 1
        xb = x[None] if self.unbatched else x  # (N, C, *D)
        out = transpose_out_size(
            xb.shape[2:], w.shape[2:], stride, padding, output_padding, dilation
        )
        # the convolution that maps our output (size `out`) back onto our input (size D)
        self.plan = conv_plan(out, w.shape[2:], stride, dilation, padding, padding, xb.shape[2:])
        self.x, self.w, self.groups = x, w, groups
        if xb.shape[0] == 0:
            y = np.zeros((0, w.shape[1] * groups, *out), x.dtype)
        else:
            y = self.plan.input_grad(xb, w, groups)  # (N, F, *O)
            if b is not None:
                y += b.reshape((-1,) + (1,) * (y.ndim - 2))
        return y[0] if self.unbatched else y

    def backward(self, dy: np.ndarray) -> tuple[Any, ...]:
        plan, need, w, g = self.plan, self.needs_input_grad, self.w, self.groups
        x = self.x[None] if self.unbatched else self.x  # (N, C, *D)
        dy = dy[None] if self.unbatched else dy  # (N, F, *O)
        n = x.shape[0]
        dx = dw = db = None
        if n == 0:
            f = w.shape[1] * g
            dx, dw, db = np.zeros_like(x), np.zeros_like(w), np.zeros(f, w.dtype)
        else:
            packed_dy = plan.pack_input(dy)  # (F, R, N*P): dy padded, phase-split
            if need[0]:
                dx = plan.unpack_output(plan.correlate(packed_dy, w, g), n, None)  # (N, C, *D)
            if need[1]:  # the kernel correlates dy (as the input) with x (as the gradient)
                dw = plan.weight_grad(packed_dy, plan.pack_output(x), w.shape, g)
            if len(need) > 2 and need[2]:
                db = _bias_sum(dy)  # (F,)
        if dx is not None and self.unbatched:
            dx = dx[0]
        return (dx, dw, db)[: len(need)]


# ---------------------------------------------------------------------------- argument checks
def _tuple(value: Any, nd: int, name: str, op: str, minimum: int) -> tuple[int, ...]:
    """An int or a length-nd sequence of ints, each >= minimum, as a tuple."""
    items = (value,) * nd if isinstance(value, (int, np.integer)) else value
    ok = isinstance(items, (tuple, list)) and len(items) == nd
    ok = ok and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items)
    if not ok or isinstance(value, bool):
        raise TypeError(f"{op} expected {name} to be an int or a tuple of {nd} ints, got {value!r}")
    if any(v < minimum for v in items):
        what = "non-negative" if minimum == 0 else f">= {minimum}"
        raise ValueError(f"{op} expected {name} {what}, got {tuple(int(v) for v in items)}")
    return tuple(int(v) for v in items)


def _check_common(
    op: str, x: Any, weight: Any, bias: Any, nd: int | None, groups: Any
) -> tuple[Tensor, Tensor, Tensor | None, int]:
    """Types, ranks, dtypes and groups shared by convolution and transposed convolution."""
    x, weight = require_tensor(x, "input", op), require_tensor(weight, "weight", op)
    bias = None if bias is None else require_tensor(bias, "bias", op)
    if nd is None:
        nd = weight.ndim - 2
        if nd < 1:
            raise ValueError(
                f"{op} expected weight with at least 3 dimensions (out, in, *kernel), "
                f"got {shape_str(weight.shape)}"
            )
    spatial = _SPATIAL.get(nd, ", ".join(f"D{i + 1}" for i in range(nd)))
    if weight.ndim != nd + 2:
        kernel = _KERNEL.get(nd, ", ".join(f"K{i + 1}" for i in range(nd)))
        raise ValueError(
            f"{op} expected weight of shape (out, in, {kernel}) "
            f"with {nd + 2} dimensions, got {shape_str(weight.shape)}"
        )
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"{op} expected input of shape (N, C, {spatial}) or (C, {spatial}), "
            f"got {shape_str(x.shape)}"
        )
    if any(v == 0 for v in x.shape[-nd - 1 :]):
        raise ValueError(
            f"{op} expected input with non-zero channel and spatial sizes, got {shape_str(x.shape)}"
        )
    check_weight_dtype(op, x, weight)
    for name, t in (("input", x), ("weight", weight), ("bias", bias)):
        if t is not None and t.dtype.kind != "f":
            raise TypeError(f"{op} expected a floating-point {name}, got {t.dtype}")
        if t is not None and t.dtype != x.dtype:
            raise TypeError(f"{op} expected {name} of the input's dtype {x.dtype}, got {t.dtype}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op} expected groups to be a positive int, got {groups!r}")
    if any(k < 1 for k in weight.shape[2:]) or weight.shape[0] < 1 or weight.shape[1] < 1:
        raise ValueError(
            f"{op} expected a weight with no empty dimension, got {shape_str(weight.shape)}"
        )
    return x, weight, bias, int(groups)


# ---------------------------------------------------------------------------- functional forms
def _conv(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Size = 1,
    padding: Padding = 0,
    dilation: Size = 1,
    groups: int = 1,
    *,
    _op: str = "conv_nd",
    _nd: int | None = None,
) -> Tensor:
    """``conv_nd``, ``conv1d``, ``conv2d`` and ``conv3d`` (``_op`` and ``_nd`` fixed by each)."""
    op = _op
    x, weight, bias, groups = _check_common(op, input, weight, bias, _nd, groups)
    nd = weight.ndim - 2
    stride_t = _tuple(stride, nd, "stride", op, 1)
    dilation_t = _tuple(dilation, nd, "dilation", op, 1)
    kernel = weight.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if any(s != 1 for s in stride_t):
                raise ValueError(
                    f"{op}: padding='same' is not supported for strided convolutions, "
                    f"got stride={stride_t} (expected all 1)"
                )
            pads = same_padding(kernel, dilation_t)
        else:
            raise ValueError(f"{op} expected padding 'valid', 'same' or ints, got {padding!r}")
    else:
        pads = tuple((p, p) for p in _tuple(padding, nd, "padding", op, 0))
    f, cg = weight.shape[:2]
    c = x.shape[-nd - 1]
    if f % groups:
        raise ValueError(
            f"{op} expected out_channels (weight.shape[0] = {f}) divisible by groups={groups}"
        )
    if c % groups:
        raise ValueError(f"{op} expected in_channels ({c}) divisible by groups={groups}")
    if c != cg * groups:
        want = list(x.shape)
        want[-nd - 1] = cg * groups
        raise ValueError(
            f"{op} expected input with {cg * groups} channels (weight.shape[1] * groups = "
            f"{cg} * {groups}), i.e. shape {shape_str(want)}, got {shape_str(x.shape)}"
        )
    if bias is not None and bias.shape != (f,):
        raise ValueError(f"{op} expected bias of shape ({f},), got {shape_str(bias.shape)}")
    in_size = x.shape[-nd:]
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(in_size, pads))
    span = tuple(d * (k - 1) + 1 for d, k in zip(dilation_t, kernel))
    if any(e > p for e, p in zip(span, padded)):
        raise ValueError(
            f"{op}: kernel size {shape_str(span)} (dilation * (kernel - 1) + 1) is larger than "
            f"the padded input {shape_str(padded)} (input {shape_str(in_size)} + padding)"
        )
    static = dict(stride=stride_t, padding=pads, dilation=dilation_t, groups=groups)
    args = (x, weight) if bias is None else (x, weight, bias)
    return ConvNd.apply(*args, **static)


def _conv_transpose(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Size = 1,
    padding: Size = 0,
    output_padding: Size = 0,
    groups: int = 1,
    dilation: Size = 1,
    *,
    _op: str = "conv_transpose_nd",
    _nd: int | None = None,
) -> Tensor:
    """``conv_transpose_nd`` and ``conv_transpose1d/2d/3d`` (``_op``, ``_nd`` fixed by each)."""
    op = _op
    x, weight, bias, groups = _check_common(op, input, weight, bias, _nd, groups)
    nd = weight.ndim - 2
    if isinstance(padding, str):
        raise ValueError(
            f"{op} expected padding to be ints ('same'/'valid' are for conv), got {padding!r}"
        )
    stride_t = _tuple(stride, nd, "stride", op, 1)
    dilation_t = _tuple(dilation, nd, "dilation", op, 1)
    padding_t = _tuple(padding, nd, "padding", op, 0)
    out_pad = _tuple(output_padding, nd, "output_padding", op, 0)
    for op_, s, d in zip(out_pad, stride_t, dilation_t):
        if op_ >= max(s, d):
            raise ValueError(
                f"{op} expected output_padding smaller than stride or dilation in every axis, "
                f"got output_padding={out_pad}, stride={stride_t}, dilation={dilation_t}"
            )
    c, fg = weight.shape[:2]
    if c % groups:
        raise ValueError(
            f"{op} expected in_channels (weight.shape[0] = {c}) divisible by groups={groups}"
        )
    if x.shape[-nd - 1] != c:
        want = list(x.shape)
        want[-nd - 1] = c
        raise ValueError(
            f"{op} expected input with {c} channels (weight.shape[0]), i.e. shape "
            f"{shape_str(want)}, got {shape_str(x.shape)}"
        )
    f = fg * groups
    if bias is not None and bias.shape != (f,):
        raise ValueError(
            f"{op} expected bias of shape ({f},) (weight.shape[1] * groups), "
            f"got {shape_str(bias.shape)}"
        )
    in_size = x.shape[-nd:]
    out = transpose_out_size(in_size, weight.shape[2:], stride_t, padding_t, out_pad, dilation_t)
    if any(o < 1 for o in out):
        raise ValueError(
            f"{op}: padding={padding_t} is too large for input {shape_str(in_size)} with kernel "
            f"{shape_str(weight.shape[2:])}, stride={stride_t}, dilation={dilation_t}: the output "
            f"size would be {shape_str(out)}"
        )
    static = dict(
        stride=stride_t,
        padding=padding_t,
        output_padding=out_pad,
        dilation=dilation_t,
        groups=groups,
    )
    args = (x, weight) if bias is None else (x, weight, bias)
    return ConvTransposeNd.apply(*args, **static)


conv_nd = specialize(
    _conv,
    "conv_nd",
    """N-d cross-correlation (PyTorch's convolution) with ``weight.ndim - 2`` spatial axes.

Reference (textbook) form: ``glassnet.ops.reference.conv``.

Args:
    input: (N, C, *D) or unbatched (C, *D).
    weight: (F, C / groups, *K).
    bias: (F,) or None.
    stride, dilation: int or one int per spatial axis (>= 1).
    padding: int or one int per axis (zeros on both sides), ``'valid'`` (no padding) or
        ``'same'`` (stride 1 only; total ``d (K - 1)``, ``total // 2`` before, the rest after).
    groups: input and output channels are split into this many independent groups
        (``groups == C``: depthwise).

Shapes:
    y: (N, F, *O) with ``O_i = floor((D_i + 2 p_i - d_i (K_i - 1) - 1) / s_i) + 1``

>>> import glassnet
>>> conv_nd(glassnet.ones(1, 2, 5, 5), glassnet.ones(3, 2, 3, 3), padding=1).shape
(1, 3, 5, 5)
""",
    _op="conv_nd",
    _nd=None,
)

conv_transpose_nd = specialize(
    _conv_transpose,
    "conv_transpose_nd",
    """N-d transposed convolution (the adjoint of ``conv_nd``), PyTorch's argument order.

Reference (textbook) form: the input gradient of ``glassnet.ops.reference.conv``.

Args:
    input: (N, C, *D) or unbatched (C, *D).
    weight: (C, F / groups, *K) -- note in-channels first, as in PyTorch.
    bias: (F,) or None.
    stride, dilation: int or one int per spatial axis (>= 1).
    padding: ``d (K - 1) - padding`` zeros are implicitly added to both sides of the input,
        i.e. ``padding`` positions are cropped from both ends of the full output.
    output_padding: extra positions added to one side of the output
        (each must be smaller than its stride or its dilation).
    groups: channel groups, as in ``conv_nd``.

Shapes:
    y: (N, F, *O) with ``O_i = (D_i - 1) s_i - 2 p_i + d_i (K_i - 1) + output_padding_i + 1``

>>> import glassnet
>>> conv_transpose_nd(glassnet.ones(1, 2, 3, 3), glassnet.ones(2, 4, 3, 3), stride=2).shape
(1, 4, 7, 7)
""",
    _op="conv_transpose_nd",
    _nd=None,
)


def _doc(name: str, nd: int) -> str:
    """The docstring of the functional form ``name`` (``conv2d``, ...) of dimension ``nd``."""
    if name.startswith("conv_transpose"):
        return dim_doc(CONV_TRANSPOSE_DOC, nd, CONV_TRANSPOSE_OUT, EXAMPLES[name])
    return dim_doc(CONV_DOC, nd, CONV_OUT, EXAMPLES[name])


conv1d = specialize(_conv, "conv1d", _doc("conv1d", 1), _op="conv1d", _nd=1)
conv2d = specialize(_conv, "conv2d", _doc("conv2d", 2), _op="conv2d", _nd=2)
conv3d = specialize(_conv, "conv3d", _doc("conv3d", 3), _op="conv3d", _nd=3)
conv_transpose1d = specialize(
    _conv_transpose, "conv_transpose1d", _doc("conv_transpose1d", 1), _op="conv_transpose1d", _nd=1
)
conv_transpose2d = specialize(
    _conv_transpose, "conv_transpose2d", _doc("conv_transpose2d", 2), _op="conv_transpose2d", _nd=2
)
conv_transpose3d = specialize(
    _conv_transpose, "conv_transpose3d", _doc("conv_transpose3d", 3), _op="conv_transpose3d", _nd=3
)
