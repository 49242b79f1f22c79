"""Conversions of glassnet layers and operations to ONNX nodes (registered in ``_onnx_graph``).

Layer converters read PyTorch-named attributes (``stride``, ``padding``, ``num_layers``, ...);
operation converters read the static arguments of ``glassnet.ops`` functions. Both get the
traced input and output tensors, so sizes are known; a size that must follow a dynamic input
size is computed in the graph (``Shape``) or written so ONNX copies it (0 / -1 in ``Reshape``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..nn.module import Module
from ..ops.fold import n_blocks
from ._onnx_graph import (
    _I64_MAX,
    _I64_MIN,
    _LAYERS,
    _OPS,
    Converter,
    OnnxExportError,
    _dtype_of,
    _layer,
    _op,
    _shape_of,
    _Trace,
)


# ============================================================================ shared emitters
def _tup(value: Any, nd: int, name: str, where: str) -> tuple[int, ...]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * nd
    if isinstance(value, (tuple, list)) and len(value) == 1 and nd > 1:
        return (int(value[0]),) * nd
    if isinstance(value, (tuple, list)) and len(value) == nd:
        return tuple(int(v) for v in value)
    raise OnnxExportError(f"{where}: expected {name} to be an int or {nd} ints, got {value!r}")


def _batched(ctx: _Trace, x: Any, nd: int) -> tuple[str, bool]:
    """``x`` with a batch axis (layers accept unbatched ``(C, *S)`` input); and whether added."""
    name = ctx.value(x)
    if len(_shape_of(x)) == nd + 1:
        return ctx.g.unsqueeze(name, [0]), True
    return name, False


def _unbatch(ctx: _Trace, y: str, added: bool) -> str:
    return ctx.g.squeeze(y, [0]) if added else y


def _circular_pad(ctx: _Trace, x: str, pads: Sequence[tuple[int, int]], first_axis: int) -> str:
    """Circular padding as Slice + Concat per axis (ONNX's Pad 'wrap' needs opset 19)."""
    for i, (lo, hi) in enumerate(pads):
        if lo == 0 and hi == 0:
            continue
        axis = first_axis + i
        parts = []
        if lo:
            parts.append(ctx.g.slice(x, [-lo], [_I64_MAX], [axis]))
        parts.append(x)
        if hi:
            parts.append(ctx.g.slice(x, [0], [hi], [axis]))
        x = ctx.g.node("Concat", parts, axis=axis)
    return x


def _pad(
    ctx: _Trace,
    x: str,
    pads: Sequence[tuple[int, int]],
    ndim: int,
    mode: str,
    value: float = 0.0,
    dtype: Any = np.float32,
) -> str:
    """Pad the last ``len(pads)`` axes of an ``ndim``-d value; PyTorch mode names."""
    if all(lo == 0 and hi == 0 for lo, hi in pads):
        return x
    first = ndim - len(pads)
    if mode == "circular":
        return _circular_pad(ctx, x, pads, first)
    onnx_mode = {
        "constant": "constant",
        "zeros": "constant",
        "reflect": "reflect",
        "replicate": "edge",
    }[mode]
    begins = [0] * first + [lo for lo, _ in pads]
    ends = [0] * first + [hi for _, hi in pads]
    ins = [x, ctx.g.i64(begins + ends)]
    if onnx_mode == "constant" and value != 0:
        ins.append(ctx.g.const(np.asarray(value, dtype)))
    return ctx.g.node("Pad", ins, mode=onnx_mode)


def _conv(
    ctx: _Trace,
    x: Any,
    w: Any,
    b: Any,
    stride: Sequence[int],
    pads: Sequence[tuple[int, int]],
    dilation: Sequence[int],
    groups: int,
    padding_mode: str = "zeros",
) -> str:
    nd = len(_shape_of(w)) - 2
    xn, added = _batched(ctx, x, nd)
    conv_pads: Sequence[tuple[int, int]] = pads
    if padding_mode != "zeros":
        xn = _pad(ctx, xn, pads, nd + 2, padding_mode)
        conv_pads = [(0, 0)] * nd
    ins = [xn, ctx.value(w)] + ([ctx.value(b)] if b is not None else [])
    y = ctx.g.node(
        "Conv",
        ins,
        kernel_shape=list(_shape_of(w)[2:]),
        strides=list(stride),
        dilations=list(dilation),
        group=int(groups),
        pads=[lo for lo, _ in conv_pads] + [hi for _, hi in conv_pads],
    )
    return _unbatch(ctx, y, added)


def _conv_transpose(
    ctx: _Trace,
    x: Any,
    w: Any,
    b: Any,
    stride: Sequence[int],
    padding: Sequence[int],
    output_padding: Sequence[int],
    dilation: Sequence[int],
    groups: int,
) -> str:
    nd = len(_shape_of(w)) - 2
    xn, added = _batched(ctx, x, nd)
    ins = [xn, ctx.value(w)] + ([ctx.value(b)] if b is not None else [])
    y = ctx.g.node(
        "ConvTranspose",
        ins,
        kernel_shape=list(_shape_of(w)[2:]),
        strides=list(stride),
        dilations=list(dilation),
        group=int(groups),
        pads=list(padding) + list(padding),
        output_padding=list(output_padding),
    )
    return _unbatch(ctx, y, added)


def _pool_ceil(
    ctx: _Trace,
    x: Any,
    out: Sequence[int],
    k: Sequence[int],
    s: Sequence[int],
    p: Sequence[int],
    d: Sequence[int],
) -> int:
    """ceil_mode of a functional pooling call, seen only through its sizes.

    1 if this trace's or the other trace's output size needs it (PyTorch's ceil rule, which
    onnxruntime follows); where the window tiles the input exactly both modes agree.
    """

    def floor(size: Sequence[int]) -> tuple[int, ...]:
        return tuple(
            (n + 2 * pi - di * (ki - 1) - 1) // si + 1
            for n, ki, si, pi, di in zip(size, k, s, p, d)
        )

    need = tuple(out) != floor(_shape_of(x)[2:])
    other = ctx.other_entry()
    if other is not None:
        need = need or tuple(other.outputs[0][2:]) != floor(other.inputs[0][2:])
    return int(need)


def _max_pool(
    ctx: _Trace,
    x: Any,
    out: Any,
    k: Sequence[int],
    s: Sequence[int],
    p: Sequence[int],
    d: Sequence[int],
    ceil_mode: bool,
    return_indices: bool,
) -> Any:
    nd = len(k)
    xn, added = _batched(ctx, x, nd)
    attrs: dict[str, Any] = dict(
        kernel_shape=list(k), strides=list(s), pads=list(p) * 2, ceil_mode=int(ceil_mode)
    )
    if any(v != 1 for v in d):
        attrs["dilations"] = list(d)
    if not return_indices:
        return _unbatch(ctx, ctx.g.node("MaxPool", [xn], **attrs), added)
    y, idx = ctx.g.node("MaxPool", [xn], n_out=2, **attrs)
    # ONNX indexes the whole (N, C, *S) tensor; PyTorch indexes within each (n, c) plane
    plane = ctx.g.reduce("ReduceProd", ctx.g.node("Shape", [xn], start=2), [0], keepdims=False)
    idx = ctx.g.node("Mod", [idx, plane])
    return [_unbatch(ctx, y, added), _unbatch(ctx, idx, added)]


def _avg_pool(
    ctx: _Trace,
    x: Any,
    k: Sequence[int],
    s: Sequence[int],
    p: Sequence[int],
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: int | None,
) -> str:
    nd = len(k)
    xn, added = _batched(ctx, x, nd)
    if divisor_override is not None and ceil_mode:
        raise OnnxExportError(
            f"cannot export {ctx.where}: AvgPool with both divisor_override and ceil_mode has no "
            "ONNX equivalent"
        )
    y = ctx.g.node(
        "AveragePool",
        [xn],
        kernel_shape=list(k),
        strides=list(s),
        pads=list(p) * 2,
        ceil_mode=int(ceil_mode),
        count_include_pad=int(count_include_pad or divisor_override is not None),
    )
    if divisor_override is not None:  # every window was divided by prod(k): rescale
        scale = math.prod(k) / divisor_override
        y = ctx.g.node("Mul", [y, ctx.g.const(np.asarray(scale, _dtype_of(x)))])
    return _unbatch(ctx, y, added)


def _adaptive_pool(ctx: _Trace, x: Any, out: Any, kind: str) -> str:
    """Adaptive pooling from the traced input and output sizes.

    Global when every output size is 1 (dynamic-size safe); one pooling op when each input size
    is a multiple of its output size; otherwise separable: per axis, one reduction per bin
    ``[floor(i I/O), ceil((i+1) I/O))`` and a Concat (a mean or max over a box equals the
    mean or max along one axis, then the next).
    """
    xs, ys = _shape_of(x), _shape_of(out)
    nd = len(ys) - 2 if len(ys) == len(xs) and len(xs) >= 3 else len(ys) - 1
    xn, added = _batched(ctx, x, nd)
    xs_b = xs if not added else (1, *xs)
    size, osize = xs_b[2:], (ys if not added else (1, *ys))[2:]
    op = "AveragePool" if kind == "avg" else "MaxPool"
    red = "ReduceMean" if kind == "avg" else "ReduceMax"
    if all(o == 1 for o in osize):
        y = ctx.g.node("GlobalAveragePool" if kind == "avg" else "GlobalMaxPool", [xn])
        return _unbatch(ctx, y, added)
    if all(n % o == 0 for n, o in zip(size, osize)):
        k = [n // o for n, o in zip(size, osize)]
        if all(v == 1 for v in k):
            return _unbatch(ctx, ctx.g.node("Identity", [xn]), added)
        y = ctx.g.node(op, [xn], kernel_shape=k, strides=k)
        return _unbatch(ctx, y, added)
    y = xn
    for i, (n, o) in enumerate(zip(size, osize)):
        if n == o:
            continue
        axis = 2 + i
        if o == 1:
            y = ctx.g.reduce(red, y, [axis], keepdims=True)
            continue
        idx = np.arange(o)
        starts, ends = (idx * n) // o, -((-(idx + 1) * n) // o)
        parts = [
            ctx.g.reduce(red, ctx.g.slice(y, [int(a)], [int(e)], [axis]), [axis], keepdims=True)
            for a, e in zip(starts, ends)
        ]
        y = ctx.g.node("Concat", parts, axis=axis)
    return _unbatch(ctx, y, added)


def _linear(ctx: _Trace, x: Any, w: Any, b: Any) -> str:
    xn = ctx.value(x)
    if len(_shape_of(x)) == 2:
        ins = [xn, ctx.value(w)] + ([ctx.value(b)] if b is not None else [])
        return ctx.g.node("Gemm", ins, transB=1)
    y = ctx.g.node("MatMul", [xn, ctx.g.node("Transpose", [ctx.value(w)], perm=[1, 0])])
    return ctx.g.node("Add", [y, ctx.value(b)]) if b is not None else y


def _batch_norm(
    ctx: _Trace, x: Any, weight: Any, bias: Any, mean: Any, var: Any, eps: float
) -> str:
    xn = ctx.value(x)
    c = _shape_of(x)[1]
    dt = _dtype_of(x)
    scale = ctx.value(weight) if weight is not None else ctx.g.const(np.ones(c, dt))
    shift = ctx.value(bias) if bias is not None else ctx.g.const(np.zeros(c, dt))
    if mean is not None and var is not None:
        return ctx.g.node(
            "BatchNormalization",
            [xn, scale, shift, ctx.value(mean), ctx.value(var)],
            epsilon=float(eps),
        )
    # no running statistics: normalise with the statistics of the batch, as PyTorch does
    ndim = len(_shape_of(x))
    axes = [0, *range(2, ndim)]
    mu = ctx.g.reduce("ReduceMean", xn, axes, keepdims=True)
    centred = ctx.g.node("Sub", [xn, mu])
    v = ctx.g.reduce("ReduceMean", ctx.g.node("Mul", [centred, centred]), axes, keepdims=True)
    std = ctx.g.node("Sqrt", [ctx.g.node("Add", [v, ctx.g.const(np.asarray(eps, dt))])])
    shape = ctx.g.i64([1, c] + [1] * (ndim - 2))
    y = ctx.g.node("Div", [centred, std])
    y = ctx.g.node("Mul", [y, ctx.g.node("Reshape", [scale, shape])])
    return ctx.g.node("Add", [y, ctx.g.node("Reshape", [shift, shape])])


def _gelu(ctx: _Trace, x: str, approximate: str, dtype: Any) -> str:
    if ctx.g.opset >= 20:
        return ctx.g.node("Gelu", [x], approximate=approximate)

    def c(v: float) -> str:
        return ctx.g.const(np.asarray(v, dtype))

    if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = ctx.g.node("Mul", [ctx.g.node("Mul", [x, x]), x])
        inner = ctx.g.node("Add", [x, ctx.g.node("Mul", [cube, c(0.044715)])])
        t = ctx.g.node("Tanh", [ctx.g.node("Mul", [inner, c(math.sqrt(2.0 / math.pi))])])
    else:  # 0.5 x (1 + erf(x / sqrt 2))
        t = ctx.g.node("Erf", [ctx.g.node("Div", [x, c(math.sqrt(2.0))])])
    half_x = ctx.g.node("Mul", [x, c(0.5)])
    return ctx.g.node("Mul", [half_x, ctx.g.node("Add", [t, c(1.0)])])


def _flatten(ctx: _Trace, x: Any, start: int, end: int) -> str:
    xn = ctx.value(x)
    ndim = len(_shape_of(x))
    if ndim == 0:
        return ctx.g.node("Reshape", [xn, ctx.g.i64([1])])
    s, e = start % ndim, end % ndim
    if s == e:
        return ctx.g.node("Identity", [xn])
    if s == 1 and e == ndim - 1:
        return ctx.g.node("Flatten", [xn], axis=1)
    parts = []
    if s > 0:
        parts.append(ctx.g.node("Shape", [xn], start=0, end=s))
    parts.append(ctx.g.i64([-1]))
    if e < ndim - 1:
        parts.append(ctx.g.node("Shape", [xn], start=e + 1))
    shape = ctx.g.node("Concat", parts, axis=0) if len(parts) > 1 else parts[0]
    return ctx.g.node("Reshape", [xn, shape])


def _reshape_spec(in_shape: Sequence[int], out_shape: Sequence[int]) -> list[int]:
    """A Reshape target that follows dynamic sizes where it can.

    Leading sizes equal to the input's are written 0 (ONNX: copy that input size); sizes that
    match the input's trailing sizes stay literal; one remaining size becomes -1. The trace
    check confirms the result for a second input size.
    """
    out = list(out_shape)
    spec: list[int | None] = [None] * len(out)
    k = 0
    while k < min(len(in_shape), len(out)) and out[k] == in_shape[k] and out[k] != 0:
        spec[k] = 0
        k += 1
    rest = [i for i in range(len(out)) if spec[i] is None]
    if rest:
        tail = set()
        j, m = len(out) - 1, len(in_shape) - 1
        while j >= k and m >= k and out[j] == in_shape[m]:
            tail.add(j)
            j, m = j - 1, m - 1
        free = [i for i in rest if i not in tail] or rest
        minus = free[0] if all(out[i] != 0 for i in rest) else None
        for i in rest:
            spec[i] = -1 if i == minus else out[i]
    return [int(v) for v in spec]  # type: ignore[arg-type]


# ============================================================================ layer converters
@_layer("Linear")
def _c_linear(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    return _linear(ctx, x, m.weight, m.bias)


@_layer("Identity")
def _c_identity(ctx: _Trace, m: Module, x: Any, *args: Any, out: Any, **kw: Any) -> str:
    return ctx.g.node("Identity", [ctx.value(x)])


@_layer("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout")
def _c_dropout(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    return ctx.g.node("Identity", [ctx.value(x)])


@_layer("Flatten")
def _c_flatten(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    return _flatten(ctx, x, m.start_dim, m.end_dim)


@_layer("Embedding")
def _c_embedding(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    if getattr(m, "max_norm", None) is not None:
        raise OnnxExportError(f"cannot export {ctx.where}: Embedding with max_norm")
    return ctx.g.node("Gather", [ctx.value(m.weight), ctx.value(x)], axis=0)


def _simple(op: str, **attrs: Any) -> Converter:
    def convert(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
        return ctx.g.node(op, [ctx.value(x)], **attrs)

    return convert


_LAYERS["ReLU"] = _simple("Relu")
_LAYERS["Tanh"] = _simple("Tanh")
_LAYERS["Sigmoid"] = _simple("Sigmoid")


@_layer("LeakyReLU")
def _c_leaky(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    return ctx.g.node("LeakyRelu", [ctx.value(x)], alpha=float(m.negative_slope))


@_layer("ELU")
def _c_elu(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    return ctx.g.node("Elu", [ctx.value(x)], alpha=float(m.alpha))


@_layer("GELU")
def _c_gelu(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    return _gelu(ctx, ctx.value(x), m.approximate, _dtype_of(x))


@_layer("Softmax", "LogSoftmax")
def _c_softmax(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    ndim = len(_shape_of(x))
    dim = -1 if m.dim is None else m.dim
    op = "Softmax" if type(m).__name__ == "Softmax" else "LogSoftmax"
    return ctx.g.node(op, [ctx.value(x)], axis=int(dim) % max(ndim, 1))


@_layer("Conv1d", "Conv2d", "Conv3d")
def _c_conv(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    nd = len(m.kernel_size)
    where = ctx.where
    dilation = _tup(m.dilation, nd, "dilation", where)
    if isinstance(m.padding, str):
        total = [d * (k - 1) if m.padding == "same" else 0 for d, k in zip(dilation, m.kernel_size)]
        pads = [(t // 2, t - t // 2) for t in total]  # PyTorch: the extra element on the right
    else:
        pads = [(p, p) for p in _tup(m.padding, nd, "padding", where)]
    return _conv(
        ctx,
        x,
        m.weight,
        m.bias,
        _tup(m.stride, nd, "stride", where),
        pads,
        dilation,
        m.groups,
        m.padding_mode,
    )


@_layer("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
def _c_conv_transpose(ctx: _Trace, m: Module, x: Any, output_size: Any = None, *, out: Any) -> str:
    nd = len(m.kernel_size)
    where = ctx.where
    s, p = _tup(m.stride, nd, "stride", where), _tup(m.padding, nd, "padding", where)
    d = _tup(m.dilation, nd, "dilation", where)
    # output_padding from the traced sizes (covers forward(x, output_size=...))
    ins, outs = _shape_of(x)[-nd:], _shape_of(out)[-nd:]
    op = [
        o - ((n - 1) * si - 2 * pi + di * (k - 1) + 1)
        for o, n, si, pi, di, k in zip(outs, ins, s, p, d, m.kernel_size)
    ]
    return _conv_transpose(ctx, x, m.weight, m.bias, s, p, op, d, m.groups)


def _pool_args(m: Module, nd: int, where: str, dilation: bool) -> tuple[tuple[int, ...], ...]:
    k = _tup(m.kernel_size, nd, "kernel_size", where)
    stride = m.stride if m.stride not in (None, (), []) else k
    s = _tup(stride, nd, "stride", where)
    p = _tup(m.padding, nd, "padding", where)
    d = _tup(m.dilation, nd, "dilation", where) if dilation else (1,) * nd
    return k, s, p, d


def _pool_nd(m: Module) -> int:
    return int(type(m).__name__[-2])


@_layer("MaxPool1d", "MaxPool2d", "MaxPool3d")
def _c_max_pool(ctx: _Trace, m: Module, x: Any, *, out: Any) -> Any:
    nd = _pool_nd(m)
    k, s, p, d = _pool_args(m, nd, ctx.where, True)
    return _max_pool(ctx, x, out, k, s, p, d, bool(m.ceil_mode), bool(m.return_indices))


@_layer("AvgPool1d", "AvgPool2d", "AvgPool3d")
def _c_avg_pool(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    nd = _pool_nd(m)
    k, s, p, _ = _pool_args(m, nd, ctx.where, False)
    return _avg_pool(
        ctx,
        x,
        k,
        s,
        p,
        bool(m.ceil_mode),
        bool(m.count_include_pad),
        getattr(m, "divisor_override", None),
    )


@_layer("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d")
def _c_adaptive_avg(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    return _adaptive_pool(ctx, x, out, "avg")


@_layer("AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d")
def _c_adaptive_max(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    if m.return_indices:
        raise OnnxExportError(
            f"cannot export {ctx.where}: AdaptiveMaxPool with return_indices=True has no ONNX "
            "equivalent"
        )
    return _adaptive_pool(ctx, x, out, "max")


@_layer("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")
def _c_batch_norm(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    return _batch_norm(ctx, x, m.weight, m.bias, m.running_mean, m.running_var, m.eps)


# ---------------------------------------------------------------------------- recurrent layers
_GATES = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN": [0]}  # PyTorch -> ONNX gate order


def _reorder(w: np.ndarray, order: Sequence[int]) -> np.ndarray:
    blocks = np.split(w, len(order), axis=0)
    return np.concatenate([blocks[i] for i in order], axis=0)


def _rnn_weights(
    ctx: _Trace, m: Module, kind: str, suffixes: Sequence[str], name: str
) -> tuple[str, str, str]:
    """W (Dir, G*H, D), R (Dir, G*H, H), B (Dir, 2*G*H) in ONNX's gate order, as initializers.

    ``suffixes`` name the parameter groups, one per direction (``_l0``, ``_l0_reverse``; ``""``
    for a cell).
    """
    order = _GATES[kind]
    ws, rs, bs = [], [], []
    for sfx in suffixes:
        w_ih = getattr(m, f"weight_ih{sfx}").data
        w_hh = getattr(m, f"weight_hh{sfx}").data
        ws.append(_reorder(w_ih, order))
        rs.append(_reorder(w_hh, order))
        b_ih, b_hh = getattr(m, f"bias_ih{sfx}", None), getattr(m, f"bias_hh{sfx}", None)
        zeros = np.zeros(w_ih.shape[0], w_ih.dtype)
        b_ih = zeros if b_ih is None else b_ih.data
        b_hh = zeros if b_hh is None else b_hh.data
        bs.append(np.concatenate([_reorder(b_ih, order), _reorder(b_hh, order)]))
    return (
        ctx.g.named(f"{name}/W", np.stack(ws)),
        ctx.g.named(f"{name}/R", np.stack(rs)),
        ctx.g.named(f"{name}/B", np.stack(bs)),
    )


def _rnn_attrs(m: Module, kind: str, ndir: int) -> dict[str, Any]:
    attrs: dict[str, Any] = dict(
        hidden_size=int(m.hidden_size), direction="bidirectional" if ndir == 2 else "forward"
    )
    if kind == "GRU":
        attrs["linear_before_reset"] = 1  # PyTorch: r multiplies (W_hn h + b_hn)
    if kind == "RNN":
        act = "Relu" if getattr(m, "nonlinearity", "tanh") == "relu" else "Tanh"
        attrs["activations"] = [act] * ndir
    return attrs


@_layer("RNNCell", "LSTMCell", "GRUCell")
def _c_cell(ctx: _Trace, m: Module, x: Any, hx: Any = None, *, out: Any) -> Any:
    """One step: ONNX's RNN/LSTM/GRU over a sequence of length 1."""
    kind = type(m).__name__[: -len("Cell")]
    g = ctx.g
    axes = [0, 1] if len(_shape_of(x)) == 1 else [0]  # to (1, N, D) and (1, N, H)
    if kind == "LSTM":
        h0, c0 = hx if hx is not None else (None, None)
    else:
        h0, c0 = hx, None
    ins = [
        g.unsqueeze(ctx.value(x), axes),
        *_rnn_weights(ctx, m, kind, [""], ctx.g.scope or kind),
        "",
    ]
    ins.append(g.unsqueeze(ctx.value(h0), axes) if h0 is not None else "")
    if kind == "LSTM":
        ins.append(g.unsqueeze(ctx.value(c0), axes) if c0 is not None else "")
    while ins[-1] == "":
        ins.pop()
    outs = g.node(kind, ins, n_out=3 if kind == "LSTM" else 2, **_rnn_attrs(m, kind, 1))
    h = g.squeeze(outs[1], axes)
    return [h, g.squeeze(outs[2], axes)] if kind == "LSTM" else h


@_layer("RNN", "LSTM", "GRU")
def _c_recurrent(
    ctx: _Trace, m: Module, x: Any, hx: Any = None, *, out: Any, **kw: Any
) -> list[str]:
    kind = type(m).__name__
    where = ctx.where
    lengths = kw.pop("lengths", None)
    kw.pop("bptt_steps", None)  # truncated backpropagation: no effect on the forward
    unknown = sorted(k for k, v in kw.items() if v is not None)
    if unknown:
        raise OnnxExportError(
            f"cannot export {where}: the call arguments {unknown} have no ONNX conversion"
        )
    if kind == "LSTM" and m.proj_size:
        raise OnnxExportError(
            f"cannot export {where}: LSTM with proj_size > 0 has no equivalent in ONNX's LSTM op"
        )
    g = ctx.g
    L = int(m.num_layers)
    ndir = 2 if m.bidirectional else 1
    batch_first = bool(m.batch_first)
    xs = _shape_of(x)
    unbatched = len(xs) == 2
    xn = ctx.value(x)
    if unbatched:
        xn = g.unsqueeze(xn, [1])  # (T, 1, D)
    elif batch_first:
        xn = g.node("Transpose", [xn], perm=[1, 0, 2])  # (N, T, D) -> (T, N, D)
    if kind == "LSTM":
        h0, c0 = hx if hx is not None else (None, None)
    else:
        h0, c0 = hx, None

    def state(s: Any) -> str | None:
        if s is None:
            return None
        name = ctx.value(s)
        return g.unsqueeze(name, [1]) if unbatched else name  # (L*Dir, N, H)

    h0n, c0n = state(h0), state(c0)
    prefix = ctx.paths.get(id(m), "") or kind.lower()
    attrs = _rnn_attrs(m, kind, ndir)
    n_out = 3 if kind == "LSTM" else 2
    # per-sequence valid lengths: ONNX zeroes outputs past each end and returns the last valid
    # state, as glassnet (and PyTorch's packed sequences) do
    seq_lens = ctx.value(lengths, np.int32) if lengths is not None else ""
    y = xn
    hns, cns = [], []
    for layer in range(L):
        sfx = [f"_l{layer}", f"_l{layer}_reverse"][:ndir]
        W, R, B = _rnn_weights(ctx, m, kind, sfx, f"{prefix}/l{layer}")
        ins = [y, W, R, B, seq_lens]
        sl = (layer * ndir, (layer + 1) * ndir)
        ins.append(g.slice(h0n, [sl[0]], [sl[1]], [0]) if h0n is not None else "")
        if kind == "LSTM":
            ins.append(g.slice(c0n, [sl[0]], [sl[1]], [0]) if c0n is not None else "")
        while ins and ins[-1] == "":
            ins.pop()
        outs = g.node(kind, ins, n_out=n_out, **attrs)
        Y = outs[0]  # (T, Dir, N, H)
        hns.append(outs[1])
        if kind == "LSTM":
            cns.append(outs[2])
        Y = g.node("Transpose", [Y], perm=[0, 2, 1, 3])  # (T, N, Dir, H)
        y = g.node("Reshape", [Y, g.i64([0, 0, -1])])  # (T, N, Dir*H)
    if batch_first and not unbatched:
        y = g.node("Transpose", [y], perm=[1, 0, 2])
    if unbatched:
        y = g.squeeze(y, [1])
    hn = g.node("Concat", hns, axis=0) if L > 1 else g.node("Identity", hns)
    names = [y, g.squeeze(hn, [1]) if unbatched else hn]
    if kind == "LSTM":
        cn = g.node("Concat", cns, axis=0) if L > 1 else g.node("Identity", cns)
        names.append(g.squeeze(cn, [1]) if unbatched else cn)
    return names


# ============================================================================ op converters
def _elementwise(onnx_op: str) -> Converter:
    def convert(ctx: _Trace, *inputs: Any, out: Any, **static: Any) -> str:
        dt = _dtype_of(out)
        ins = [ctx.value(x, dt if onnx_op != "Pow" else None) for x in inputs]
        return ctx.g.node(onnx_op, ins)

    return convert


for _name, _onnx in {
    "Add": "Add",
    "Sub": "Sub",
    "Mul": "Mul",
    "Div": "Div",
    "Pow": "Pow",
    "Maximum": "Max",
    "Neg": "Neg",
    "Exp": "Exp",
    "Log": "Log",
    "Sqrt": "Sqrt",
    "Abs": "Abs",
    "Tanh": "Tanh",
    "Sigmoid": "Sigmoid",
    "ReLU": "Relu",
    "Clone": "Identity",
    "MatMul": "MatMul",
}.items():
    _OPS[_name] = _elementwise(_onnx)


@_op("Clamp")
def _o_clamp(ctx: _Trace, x: Any, *, out: Any, min: Any = None, max: Any = None) -> str:
    dt = _dtype_of(x)
    lo = ctx.g.const(np.asarray(min, dt)) if min is not None else ""
    hi = ctx.g.const(np.asarray(max, dt)) if max is not None else ""
    ins = [ctx.value(x), lo, hi]
    while ins[-1] == "":
        ins.pop()
    return ctx.g.node("Clip", ins)


@_op("ClampTensor")
def _o_clamp_tensor(ctx: _Trace, x: Any, lo: Any, hi: Any, *, out: Any) -> str:
    # ONNX Clip takes scalar bounds only; min(max(x, lo), hi) is the same (hi where lo > hi)
    dt = _dtype_of(out)
    y = ctx.value(x, dt)
    if lo is not None:
        y = ctx.g.node("Max", [y, ctx.value(lo, dt)])
    if hi is not None:
        y = ctx.g.node("Min", [y, ctx.value(hi, dt)])
    return y


@_op("Where")
def _o_where(ctx: _Trace, cond: Any, a: Any, b: Any, *, out: Any) -> str:
    dt = _dtype_of(out)
    return ctx.g.node("Where", [ctx.value(cond, np.bool_), ctx.value(a, dt), ctx.value(b, dt)])


@_op("Cast")
def _o_cast(ctx: _Trace, x: Any, *, out: Any, dtype: Any) -> str:
    return ctx.cast(ctx.value(x), dtype)


@_op("LeakyReLU")
def _o_leaky(ctx: _Trace, x: Any, *, out: Any, negative_slope: float) -> str:
    return ctx.g.node("LeakyRelu", [ctx.value(x)], alpha=float(negative_slope))


@_op("ELU")
def _o_elu(ctx: _Trace, x: Any, *, out: Any, alpha: float) -> str:
    return ctx.g.node("Elu", [ctx.value(x)], alpha=float(alpha))


@_op("GELU")
def _o_gelu(ctx: _Trace, x: Any, *, out: Any, approximate: str = "none") -> str:
    return _gelu(ctx, ctx.value(x), approximate, _dtype_of(x))


def _o_softmax(onnx_op: str) -> Converter:
    def convert(ctx: _Trace, x: Any, *, out: Any, dim: int) -> str:
        return ctx.g.node(onnx_op, [ctx.value(x)], axis=int(dim))

    return convert


_OPS["Softmax"] = _o_softmax("Softmax")
_OPS["LogSoftmax"] = _o_softmax("LogSoftmax")


@_op("Linear")
def _o_linear(ctx: _Trace, x: Any, w: Any, b: Any = None, *, out: Any) -> str:
    return _linear(ctx, x, w, b)


@_op("Reshape")
def _o_reshape(ctx: _Trace, x: Any, *, out: Any, shape: Any) -> str:
    """Reshape whose target follows dynamic sizes.

    With the other trace's sizes: sizes that did not change stay literal; one changed size
    becomes -1; further changed sizes are read from the graph input axis that has them (a
    ``(N*T, F) -> (N, T, F)`` reshape becomes ``[Shape(x)[0], Shape(x)[1], F]``). Without it,
    ``_reshape_spec``'s rule is used.
    """
    xs, ys = _shape_of(x), _shape_of(out)
    xn = ctx.value(x)
    other = ctx.other_entry()
    if other is None:
        return ctx.g.node("Reshape", [xn, ctx.g.i64(_reshape_spec(xs, ys))])
    ys2 = other.outputs[0]
    changed = [i for i, (a, b) in enumerate(zip(ys, ys2)) if a != b]
    pieces: list[Any] = []  # ints, or (input name, axis) read at run time
    free = False
    for i, n in enumerate(ys):
        src = ctx.dynamic_size(n, ys2[i]) if i in changed and len(changed) > 1 else None
        if src is not None:
            pieces.append(src)
        elif i in changed and not free:
            pieces.append(-1)
            free = True
        else:
            pieces.append(int(n))  # static, or beyond what can be followed: the check decides
    if all(isinstance(p, int) for p in pieces):
        return ctx.g.node("Reshape", [xn, ctx.g.i64(pieces)])
    parts, run = [], []
    for p in pieces:
        if isinstance(p, int):
            run.append(p)
            continue
        if run:
            parts.append(ctx.g.i64(run))
            run = []
        parts.append(ctx.g.node("Shape", [p[0]], start=p[1], end=p[1] + 1))
    if run:
        parts.append(ctx.g.i64(run))
    return ctx.g.node("Reshape", [xn, ctx.g.node("Concat", parts, axis=0)])


@_op("Permute")
def _o_permute(ctx: _Trace, x: Any, *, out: Any, dims: Sequence[int]) -> str:
    return ctx.g.node("Transpose", [ctx.value(x)], perm=[int(d) for d in dims])


@_op("Expand")
def _o_expand(ctx: _Trace, x: Any, *, out: Any, shape: Sequence[int]) -> str:
    xs = _shape_of(x)
    lead = len(shape) - len(xs)
    # 1 where the input already has the size: ONNX's Expand keeps it, following dynamic sizes
    spec = [1 if i >= lead and xs[i - lead] == s else int(s) for i, s in enumerate(shape)]
    return ctx.g.node("Expand", [ctx.value(x), ctx.g.i64(spec)])


@_op("Cat")
def _o_cat(ctx: _Trace, *xs: Any, out: Any, dim: int) -> str:
    dt = _dtype_of(out)
    return ctx.g.node("Concat", [ctx.value(x, dt) for x in xs], axis=int(dim))


@_op("Stack")
def _o_stack(ctx: _Trace, *xs: Any, out: Any, dim: int) -> str:
    dt = _dtype_of(out)
    parts = [ctx.g.unsqueeze(ctx.value(x, dt), [dim]) for x in xs]
    return ctx.g.node("Concat", parts, axis=int(dim))


@_op("Split")
def _o_split(ctx: _Trace, x: Any, *, out: Any, bounds: Sequence[int], dim: int) -> Any:
    outs = out if isinstance(out, tuple) else (out,)
    sizes = [o.shape[dim] for o in outs]
    if len(outs) == 1:
        return ctx.g.node("Identity", [ctx.value(x)])
    return ctx.g.node("Split", [ctx.value(x), ctx.g.i64(sizes)], n_out=len(outs), axis=int(dim))


def _crop(ctx: _Trace, x: str, crops: Sequence[tuple[int, int]]) -> str:
    """Remove ``(lo, hi)`` positions from both ends of each axis (one Slice; dynamic-safe)."""
    axes = [i for i, (lo, hi) in enumerate(crops) if lo or hi]
    if not axes:
        return x
    starts = [crops[i][0] for i in axes]
    ends = [-crops[i][1] if crops[i][1] else _I64_MAX for i in axes]
    return ctx.g.slice(x, starts, ends, axes)


@_op("Pad")
def _o_pad(ctx: _Trace, x: Any, *, out: Any, widths: Any, mode: str, value: float = 0.0) -> str:
    """Pad, with negative widths as crops: before padding (constant, circular) or after."""
    pads = [(int(a), int(b)) for a, b in widths]
    grow = [(max(a, 0), max(b, 0)) for a, b in pads]
    crops = [(max(-a, 0), max(-b, 0)) for a, b in pads]
    xn = y = ctx.value(x)
    first = mode in ("constant", "circular")
    if first:
        y = _crop(ctx, y, crops)
    y = _pad(ctx, y, grow, len(pads), mode, value, _dtype_of(x))
    if not first:
        y = _crop(ctx, y, crops)
    return y if y != xn else ctx.g.node("Identity", [xn])


@_op("GetItem")
def _o_getitem(ctx: _Trace, x: Any, *, out: Any, index: Any) -> str:
    """Basic indexing: slices -> one Slice, ints -> Gather (dropping the axis), None -> Unsqueeze.

    Slice bounds keep their Python meaning (negative counts from the end, None runs to the
    end), so they follow dynamic sizes.
    """
    parts = list(index) if isinstance(index, tuple) else [index]
    basic = all(
        p is None
        or p is Ellipsis
        or (isinstance(p, (slice, int, np.integer)) and not isinstance(p, bool))
        for p in parts
    )
    if not basic:
        raise OnnxExportError(
            f"cannot export indexing with arrays or booleans (advanced indexing) in {ctx.where}; "
            "only ints, slices, None and ... are supported"
        )
    ndim = len(_shape_of(x))
    consumed = sum(1 for p in parts if p is not None and p is not Ellipsis)
    if Ellipsis in parts:
        i = parts.index(Ellipsis)
        parts[i : i + 1] = [slice(None)] * (ndim - consumed)
    parts += [slice(None)] * (ndim - sum(1 for p in parts if p is not None))
    xn = ctx.value(x)
    y = xn
    starts, ends, axes, steps, ints, news = [], [], [], [], [], []
    axis = out_axis = 0
    for p in parts:
        if p is None:
            news.append(out_axis)
            out_axis += 1
        elif isinstance(p, slice):
            step = 1 if p.step is None else int(p.step)
            if (p.start, p.stop, step) != (None, None, 1):
                lo, hi = (0, _I64_MAX) if step > 0 else (_I64_MAX, _I64_MIN)
                starts.append(lo if p.start is None else int(p.start))
                ends.append(hi if p.stop is None else int(p.stop))
                axes.append(axis)
                steps.append(step)
            axis += 1
            out_axis += 1
        else:
            ints.append((axis, int(p)))
            axis += 1
    if axes:
        y = ctx.g.slice(y, starts, ends, axes, steps)
    for a, i in sorted(ints, reverse=True):
        y = ctx.g.node("Gather", [y, ctx.g.const(np.asarray(i, np.int64), "index")], axis=a)
    if news:
        y = ctx.g.unsqueeze(y, news)
    return y if y != xn else ctx.g.node("Identity", [xn])


def _o_reduce(onnx_op: str) -> Converter:
    def convert(ctx: _Trace, x: Any, *, out: Any, axes: Sequence[int], keepdim: bool) -> str:
        if not axes:
            return ctx.g.node("Identity", [ctx.value(x)])
        return ctx.g.reduce(onnx_op, ctx.value(x), axes, keepdim)

    return convert


_OPS["Sum"] = _o_reduce("ReduceSum")
_OPS["Mean"] = _o_reduce("ReduceMean")


@_op("Var")
def _o_var(
    ctx: _Trace, x: Any, *, out: Any, axes: Sequence[int], correction: int, keepdim: bool
) -> str:
    """sum((x - mean)^2) / (n - correction), n read from the input's shape (dynamic-safe)."""
    g, xn, dt = ctx.g, ctx.value(x), _dtype_of(x)
    mu = g.reduce("ReduceMean", xn, axes, True)
    d = g.node("Sub", [xn, mu])
    ss = g.reduce("ReduceSum", g.node("Mul", [d, d]), axes, keepdim)
    sizes = g.node("Gather", [g.node("Shape", [xn]), g.i64(list(axes))], axis=0)
    n = ctx.cast(g.reduce("ReduceProd", sizes, [0], False), dt)
    denom = g.node(
        "Max", [g.node("Sub", [n, g.const(np.asarray(correction, dt))]), g.const(np.asarray(0, dt))]
    )
    return g.node("Div", [ss, denom])


@_op("Amax")
def _o_amax(
    ctx: _Trace, x: Any, *, out: Any, axes: Sequence[int], keepdim: bool, largest: bool
) -> str:
    return ctx.g.reduce("ReduceMax" if largest else "ReduceMin", ctx.value(x), axes, keepdim)


@_op("MaxDim")
def _o_maxdim(
    ctx: _Trace, x: Any, *, out: Any, dim: int, keepdim: bool, largest: bool
) -> list[str]:
    xn = ctx.value(x)
    v = ctx.g.reduce("ReduceMax" if largest else "ReduceMin", xn, [dim], keepdim)
    i = ctx.g.node("ArgMax" if largest else "ArgMin", [xn], axis=int(dim), keepdims=int(keepdim))
    return [v, i]


@_op("Embedding")
def _o_embedding(ctx: _Trace, w: Any, *, out: Any, idx: Any, padding_idx: Any = None) -> str:
    return ctx.g.node("Gather", [ctx.value(w), ctx.value(idx)], axis=0)


@_op("ConvNd")
def _o_conv(
    ctx: _Trace,
    x: Any,
    w: Any,
    b: Any = None,
    *,
    out: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
) -> str:
    return _conv(ctx, x, w, b, stride, [tuple(p) for p in padding], dilation, groups)


@_op("ConvTransposeNd")
def _o_conv_transpose(
    ctx: _Trace,
    x: Any,
    w: Any,
    b: Any = None,
    *,
    out: Any,
    stride: Any,
    padding: Any,
    output_padding: Any,
    dilation: Any,
    groups: int,
) -> str:
    return _conv_transpose(ctx, x, w, b, stride, padding, output_padding, dilation, groups)


@_op("MaxPool")
def _o_max_pool(
    ctx: _Trace,
    x: Any,
    *,
    out: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    out_size: Any,
    return_indices: bool,
) -> Any:
    ceil = _pool_ceil(ctx, x, out_size, kernel_size, stride, padding, dilation)
    return _max_pool(
        ctx, x, out, kernel_size, stride, padding, dilation, bool(ceil), return_indices
    )


@_op("AvgPool")
def _o_avg_pool(
    ctx: _Trace,
    x: Any,
    *,
    out: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    out_size: Any,
    count_include_pad: bool,
    divisor_override: Any,
) -> str:
    ones = (1,) * len(kernel_size)
    ceil = _pool_ceil(ctx, x, out_size, kernel_size, stride, padding, ones)
    return _avg_pool(
        ctx, x, kernel_size, stride, padding, bool(ceil), count_include_pad, divisor_override
    )


@_op("AdaptiveAvgPool")
def _o_adaptive_avg(ctx: _Trace, x: Any, *, out: Any, out_size: Any) -> str:
    return _adaptive_pool(ctx, x, out, "avg")


@_op("AdaptiveMaxPool")
def _o_adaptive_max(ctx: _Trace, x: Any, *, out: Any, out_size: Any, return_indices: bool) -> Any:
    if return_indices:
        raise OnnxExportError(
            f"cannot export adaptive max pooling with return_indices=True (in {ctx.where})"
        )
    return _adaptive_pool(ctx, x, out, "max")


@_op("BatchNorm")
def _o_batch_norm(
    ctx: _Trace,
    x: Any,
    weight: Any = None,
    bias: Any = None,
    *,
    out: Any,
    running_mean: Any,
    running_var: Any,
    training: bool,
    momentum: float,
    eps: float,
) -> str:
    if training:
        running_mean = running_var = None
    return _batch_norm(ctx, x, weight, bias, running_mean, running_var, eps)


# ============================================================================ issue 14 layers
# normalisation, SiLU/Softplus/Hardtanh/PReLU/Mish: one emitter each, shared by the layer and
# the operation converters. InstanceNorm1d/2d/3d have no layer converter: their forward is traced
# operation by operation (unbatched input: Unsqueeze/Squeeze; running statistics: BatchNorm;
# otherwise GroupNorm with one group per channel, i.e. InstanceNormalization).
def _layer_norm(ctx: _Trace, x: Any, weight: Any, bias: Any, k: int, eps: float) -> str:
    """LayerNormalization (opset 17) over the last ``k`` axes.

    Without ``weight`` the scale is ones of the input's trailing shape, read from the graph
    (``Expand`` of 1 to ``Shape(x)[-k:]``), so that it follows dynamic sizes.
    """
    g, xn = ctx.g, ctx.value(x)
    if weight is not None:
        scale = ctx.value(weight)
    else:
        one = g.const(np.asarray(1, _dtype_of(x)))
        scale = g.node("Expand", [one, g.node("Shape", [xn], start=-k)])
    ins = [xn, scale] + ([ctx.value(bias)] if bias is not None else [])
    return g.node("LayerNormalization", ins, axis=-k, epsilon=float(eps))


def _group_norm(ctx: _Trace, x: Any, weight: Any, bias: Any, groups: int, eps: float) -> str:
    """Group norm: GroupNormalization from opset 21 (per-channel scale), else a decomposition.

    Instance norm (one group per channel) is ONNX's InstanceNormalization directly; otherwise
    the input is viewed as (N, G, M), instance-normalised per group with unit scale, viewed back
    and scaled and shifted per channel.
    """
    g, xn, dt = ctx.g, ctx.value(x), _dtype_of(x)
    shape = _shape_of(x)
    c, ndim = shape[1], len(shape)
    scale = ctx.value(weight) if weight is not None else g.const(np.ones(c, dt))
    shift = ctx.value(bias) if bias is not None else g.const(np.zeros(c, dt))
    if g.opset >= 21:
        return g.node(
            "GroupNormalization", [xn, scale, shift], epsilon=float(eps), num_groups=groups
        )
    if groups == c and ndim >= 3:
        return g.node("InstanceNormalization", [xn, scale, shift], epsilon=float(eps))
    grouped = g.node("Reshape", [xn, g.i64([0, groups, -1])])  # (N, G, M)
    ones, zeros = g.const(np.ones(groups, dt)), g.const(np.zeros(groups, dt))
    y = g.node("InstanceNormalization", [grouped, ones, zeros], epsilon=float(eps))
    y = g.node("Reshape", [y, g.node("Shape", [xn])])  # (N, C, *S)
    per_channel = g.i64([c] + [1] * (ndim - 2))
    y = g.node("Mul", [y, g.node("Reshape", [scale, per_channel])])
    return g.node("Add", [y, g.node("Reshape", [shift, per_channel])])


def _silu(ctx: _Trace, x: Any) -> str:
    xn = ctx.value(x)
    return ctx.g.node("Mul", [xn, ctx.g.node("Sigmoid", [xn])])


def _softplus(ctx: _Trace, x: Any, beta: float, threshold: float) -> str:
    """Where(beta x > threshold, x, Softplus(beta x) / beta): PyTorch's linear tail."""
    g, xn, dt = ctx.g, ctx.value(x), _dtype_of(x)
    bx = xn if beta == 1 else g.node("Mul", [xn, g.const(np.asarray(beta, dt))])
    smooth = g.node("Softplus", [bx])
    if beta != 1:
        smooth = g.node("Div", [smooth, g.const(np.asarray(beta, dt))])
    linear = g.node("Greater", [bx, g.const(np.asarray(threshold, dt))])
    return g.node("Where", [linear, xn, smooth])


def _hardtanh(ctx: _Trace, x: Any, lo: float, hi: float) -> str:
    dt = _dtype_of(x)
    bounds = [ctx.g.const(np.asarray(lo, dt)), ctx.g.const(np.asarray(hi, dt))]
    return ctx.g.node("Clip", [ctx.value(x), *bounds])


def _prelu(ctx: _Trace, x: Any, weight: Any) -> str:
    """PRelu with the slope shaped (C, 1, ...) to broadcast on axis 1, or () when shared."""
    c, ndim = weight.shape[0], len(_shape_of(x))
    shape = [] if c == 1 else [c] + [1] * (ndim - 2)
    slope = ctx.g.node("Reshape", [ctx.value(weight), ctx.g.i64(shape)])
    return ctx.g.node("PRelu", [ctx.value(x), slope])


def _mish(ctx: _Trace, x: Any) -> str:
    xn = ctx.value(x)
    if ctx.g.opset >= 18:
        return ctx.g.node("Mish", [xn])
    return ctx.g.node("Mul", [xn, ctx.g.node("Tanh", [ctx.g.node("Softplus", [xn])])])


@_layer("LayerNorm")
def _c_layer_norm(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    return _layer_norm(ctx, x, m.weight, m.bias, len(m.normalized_shape), m.eps)


@_layer("GroupNorm")
def _c_group_norm(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    return _group_norm(ctx, x, m.weight, m.bias, int(m.num_groups), m.eps)


@_layer("SiLU")
def _c_silu(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    return _silu(ctx, x)


@_layer("Softplus")
def _c_softplus(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    return _softplus(ctx, x, float(m.beta), float(m.threshold))


@_layer("Hardtanh", "ReLU6")
def _c_hardtanh(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    return _hardtanh(ctx, x, float(m.min_val), float(m.max_val))


@_layer("PReLU")
def _c_prelu(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    return _prelu(ctx, x, m.weight)


@_layer("Mish")
def _c_mish(ctx: _Trace, m: Module, x: Any, *, out: Any) -> str:
    return _mish(ctx, x)


@_op("LayerNorm")
def _o_layer_norm(
    ctx: _Trace,
    x: Any,
    weight: Any = None,
    bias: Any = None,
    *,
    out: Any,
    normalized_ndim: int,
    eps: float,
) -> str:
    return _layer_norm(ctx, x, weight, bias, normalized_ndim, eps)


@_op("GroupNorm")
def _o_group_norm(
    ctx: _Trace,
    x: Any,
    weight: Any = None,
    bias: Any = None,
    *,
    out: Any,
    num_groups: int,
    eps: float,
    **running: Any,  # running statistics: updated in training only, no part of the graph
) -> str:
    return _group_norm(ctx, x, weight, bias, num_groups, eps)


@_op("SiLU")
def _o_silu(ctx: _Trace, x: Any, *, out: Any) -> str:
    return _silu(ctx, x)


@_op("Softplus")
def _o_softplus(ctx: _Trace, x: Any, *, out: Any, beta: float, threshold: float) -> str:
    return _softplus(ctx, x, beta, threshold)


@_op("Hardtanh")
def _o_hardtanh(ctx: _Trace, x: Any, *, out: Any, min_val: float, max_val: float) -> str:
    return _hardtanh(ctx, x, min_val, max_val)


@_op("PReLU")
def _o_prelu(ctx: _Trace, x: Any, weight: Any, *, out: Any) -> str:
    return _prelu(ctx, x, weight)


@_op("Mish")
def _o_mish(ctx: _Trace, x: Any, *, out: Any) -> str:
    return _mish(ctx, x)


# ---------------------------------------------------------------------------- resampling ops
def _resize_scales(
    in_size: Sequence[int], out_size: Sequence[int], scales: Sequence[float | None], mode: str
) -> list[float] | None:
    """Resize's ``scales`` for the spatial axes, or None where the output sizes must be given.

    PyTorch uses ``1 / scale_factor`` when a scale factor reaches its kernel, else ``I / O``;
    Resize uses ``1 / scales`` or ``I / O`` of ``sizes`` alike. An axis PyTorch copies (linear
    modes keeping a size, the 2-d nearest kernel keeping or doubling one) gets its true ratio.
    The float32 scale is nudged up when Resize's ``floor(I * scale)`` would lose the size.
    """
    if all(s is None for s in scales):
        return None
    linear = mode in ("linear", "bilinear", "trilinear")
    nearest2d = mode == "nearest" and len(in_size) == 2
    out: list[float] = []
    for n, o, s in zip(in_size, out_size, scales):
        assert s is not None
        if (linear or nearest2d) and o == n:
            s = 1.0
        elif nearest2d and o == 2 * n:
            s = 2.0
        s32 = np.float32(s)
        while math.floor(np.float32(n) * s32) < o:
            s32 = np.nextafter(s32, np.float32(np.inf))
        out.append(float(s32))
    return out


@_op("Interpolate")
def _o_interpolate(
    ctx: _Trace,
    x: Any,
    *,
    out: Any,
    out_size: Sequence[int],
    scales: Sequence[float | None],
    mode: str,
    align_corners: bool,
) -> str:
    """ONNX Resize with the coordinate rule of each PyTorch mode."""
    g, xn = ctx.g, ctx.value(x)
    attrs: dict[str, Any]
    if mode == "nearest":  # floor(j * scale)
        attrs = dict(
            mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor"
        )
    elif mode == "nearest-exact":  # floor((j + 0.5) * scale)
        attrs = dict(
            mode="nearest",
            coordinate_transformation_mode="half_pixel",
            nearest_mode="round_prefer_ceil",
        )
    else:
        attrs = dict(
            mode="cubic" if mode == "bicubic" else "linear",
            coordinate_transformation_mode="align_corners" if align_corners else "half_pixel",
        )
        if mode == "bicubic":
            attrs.update(cubic_coeff_a=-0.75, exclude_outside=0)
    spatial = _shape_of(x)[2:]
    resize_scales = _resize_scales(spatial, out_size, scales, mode)
    if resize_scales is not None:
        sc = g.const(np.asarray([1.0, 1.0, *resize_scales], np.float32), "scales")
        return g.node("Resize", [xn, "", sc], **attrs)
    # sizes: batch and channels follow the input, the spatial sizes are fixed
    lead = g.node("Shape", [xn], start=0, end=2)
    sizes = g.node("Concat", [lead, g.i64(list(out_size))], axis=0)
    return g.node("Resize", [xn, "", "", sizes], **attrs)


@_op("PixelShuffle")
def _o_pixel_shuffle(ctx: _Trace, x: Any, *, out: Any, upscale_factor: int) -> str:
    """DepthToSpace in CRD mode (channel c r^2 + i r + j, as PyTorch) on 4-d values."""
    g, xn = ctx.g, ctx.value(x)
    xs = _shape_of(x)
    r = int(upscale_factor)
    if len(xs) == 4:
        return g.node("DepthToSpace", [xn], blocksize=r, mode="CRD")
    # other ranks: leading dimensions folded into one batch axis and back
    flat = g.node("Reshape", [xn, g.i64([-1, *xs[-3:]])])
    y = g.node("DepthToSpace", [flat], blocksize=r, mode="CRD")
    return g.node("Reshape", [y, _lead_shape(ctx, xn, len(xs) - 3, _shape_of(out)[-3:])])


def _lead_shape(ctx: _Trace, xn: str, k: int, tail: Sequence[int]) -> str:
    """A shape: the first ``k`` sizes of ``xn`` (read at run time), then ``tail``."""
    if k == 0:
        return ctx.g.i64(list(tail))
    lead = ctx.g.node("Shape", [xn], start=0, end=k)
    return ctx.g.node("Concat", [lead, ctx.g.i64(list(tail))], axis=0)


@_op("PixelUnshuffle")
def _o_pixel_unshuffle(ctx: _Trace, x: Any, *, out: Any, downscale_factor: int) -> str:
    """Reshape-Transpose-Reshape (SpaceToDepth orders channels block-major, PyTorch c-major)."""
    g, xn = ctx.g, ctx.value(x)
    xs = _shape_of(x)
    c, hr, wr = xs[-3:]
    r = int(downscale_factor)
    h, w = hr // r, wr // r
    y = g.node("Reshape", [xn, g.i64([-1, c, h, r, w, r])])  # (B, C, H, i, W, j)
    y = g.node("Transpose", [y], perm=[0, 1, 3, 5, 2, 4])  # (B, C, i, j, H, W)
    return g.node("Reshape", [y, _lead_shape(ctx, xn, len(xs) - 3, (c * r * r, h, w))])


def _one_hot_kernel(c: int, kernel: Sequence[int], dtype: Any) -> np.ndarray:
    """(C K, 1, k_h, k_w): filter ``c K + t`` picks tap ``t``; a grouped conv with it is im2col."""
    k = math.prod(kernel)
    w = np.zeros((c, k, k), dtype)
    w[:, np.arange(k), np.arange(k)] = 1
    return w.reshape(c * k, 1, *kernel)


@_op("Unfold")
def _o_unfold(
    ctx: _Trace,
    x: Any,
    *,
    out: Any,
    kernel_size: Sequence[int],
    dilation: Sequence[int],
    padding: Sequence[int],
    stride: Sequence[int],
) -> str:
    """im2col as a grouped Conv with one-hot filters (exact for finite inputs), then Reshape."""
    g = ctx.g
    c = _shape_of(x)[1]
    w = g.const(_one_hot_kernel(c, kernel_size, _dtype_of(x)), "unfold_kernel")
    y = g.node(
        "Conv",
        [ctx.value(x), w],
        kernel_shape=list(kernel_size),
        strides=list(stride),
        dilations=list(dilation),
        pads=list(padding) * 2,
        group=c,
    )  # (N, C K, O_h, O_w)
    return g.node("Reshape", [y, g.i64([0, 0, -1])])


@_op("Fold")
def _o_fold(
    ctx: _Trace,
    x: Any,
    *,
    out: Any,
    output_size: Sequence[int],
    kernel_size: Sequence[int],
    dilation: Sequence[int],
    padding: Sequence[int],
    stride: Sequence[int],
) -> str:
    """col2im as the adjoint of Unfold's conv: a grouped ConvTranspose with one-hot filters."""
    g = ctx.g
    ck = _shape_of(x)[1]
    c = ck // math.prod(kernel_size)
    blocks = n_blocks(output_size, kernel_size, dilation, padding, stride)
    # positions past the last block (stride not tiling the output) come from output_padding
    extra = [
        n - ((o - 1) * s - 2 * p + d * (k - 1) + 1)
        for n, o, k, s, p, d in zip(output_size, blocks, kernel_size, stride, padding, dilation)
    ]
    w = g.const(_one_hot_kernel(c, kernel_size, _dtype_of(x)), "fold_kernel")
    grid = g.node("Reshape", [ctx.value(x), g.i64([0, 0, *blocks])])  # (N, C K, O_h, O_w)
    return g.node(
        "ConvTranspose",
        [grid, w],
        kernel_shape=list(kernel_size),
        strides=list(stride),
        dilations=list(dilation),
        pads=list(padding) * 2,
        output_padding=extra,
        group=c,
    )
