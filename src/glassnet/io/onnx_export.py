"""ONNX export by tracing: run the model once and record what it computes as an ONNX graph.

How it works. ``export`` runs ``model(*example_input)`` in evaluation mode with two recorders
switched on:

* **layers**: every call of a supported layer (``Conv2d``, ``LSTM``, ``BatchNorm1d``, ...; the
  list is ``supported_layers()``) becomes ONNX nodes built from the layer's PyTorch-named
  attributes (``stride``, ``padding``, ``num_layers``, ``batch_first``, ...) and parameters;
  what happens inside the layer is not recorded;
* **operations**: outside those layers (the ``forward`` of ``Sequential``, ``ModuleList`` users
  and custom modules) every glassnet operation applied to a traced tensor (``+``, ``*``,
  ``reshape``, ``cat``, ``x[:, -1]``, ``relu``, ``matmul``, ``F.conv2d``, comparisons, ...)
  becomes ONNX nodes (the list is ``supported_ops()``).

Parameters and buffers become initializers named by their ``state_dict`` keys (recurrent weights
are re-packed into ONNX's gate order and named ``<layer>/l<k>/W``, ``/R``, ``/B``).
A tensor that is not computed from the inputs by recorded operations is frozen as a constant.

Limits (those of any tracer, e.g. ``torch.jit.trace``): Python control flow is unrolled for the
example input; values computed outside glassnet operations (through ``.data``, NumPy, ``.item()``
or ``argmax``) are frozen. To catch these mistakes, ``export`` traces a second time with the
example's values permuted and the dynamic axes longer, and refuses to write a graph that
changed (naming the first node that differs). Training-only behaviour (dropout, batch statistics)
is exported in its evaluation form. An operation or layer without a conversion is reported by
name, with the module it was called from.

Gate orders: PyTorch stores LSTM gates as (i, f, g, o) and GRU gates as (r, z, n); ONNX wants
(i, o, f, c) and (z, r, h); the weights are reordered, and GRU uses ``linear_before_reset=1``,
which is PyTorch's ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ..autograd import grad_mode
from ..autograd.tensor import Tensor
from ..nn.module import Module
from . import _onnx_convert  # noqa: F401  (registers the conversions)
from ._onnx_graph import (
    OnnxExportError,
    _leaves,
    _recording,
    _Trace,
    supported_layers,
    supported_ops,
)

MIN_OPSET = 17

__all__ = ["MIN_OPSET", "OnnxExportError", "export", "supported_layers", "supported_ops"]


# ============================================================================ export
def _as_inputs(example_input: Any) -> tuple[Any, ...]:
    """The positional arguments of the forward: a tensor/array, or a tuple of them."""
    if isinstance(example_input, (Tensor, np.ndarray)):
        return (example_input,)
    if isinstance(example_input, list):
        return tuple(example_input)
    if isinstance(example_input, tuple):
        return example_input
    raise TypeError(
        "export expected example_input to be a Tensor, an ndarray or a tuple of them (the "
        f"forward's positional arguments), got {type(example_input).__name__}"
    )


def _check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """``metadata`` as a dict of strings (ONNX's metadata_props hold strings only)."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise TypeError(
            f"export expected metadata as a dict of strings, got {type(metadata).__name__}"
        )
    bad = [k for k, v in metadata.items() if not isinstance(k, str) or not isinstance(v, str)]
    if bad:
        raise TypeError(
            f"export expected metadata keys and values as strings (encode other values, e.g. "
            f"with json.dumps), got {bad[0]!r}: {type(metadata[bad[0]]).__name__}"
        )
    return dict(metadata)


def _rebuild(args: Any, arrays: Iterator[np.ndarray]) -> Any:
    """``args`` with each tensor leaf replaced by a fresh Tensor of the next array."""
    if isinstance(args, (Tensor, np.ndarray)):
        return Tensor(next(arrays))
    if isinstance(args, tuple):
        return tuple(_rebuild(a, arrays) for a in args)
    if isinstance(args, list):
        return [_rebuild(a, arrays) for a in args]
    return args


def _leaf_arrays(args: Any) -> list[np.ndarray]:
    return [np.array(t.data if isinstance(t, Tensor) else t) for t in _leaves(list(args))]


def _parse_dynamic_axes(
    dynamic_axes: Mapping[str, Any] | None, known: Sequence[str] | None
) -> dict[str, dict[int, str]]:
    out: dict[str, dict[int, str]] = {}
    for name, axes in (dynamic_axes or {}).items():
        if known is not None and name not in known:
            raise ValueError(
                f"dynamic_axes names {name!r}, which is not an input or output name; names are "
                f"{list(known)}"
            )
        if isinstance(axes, Mapping):
            out[name] = {int(a): str(s) for a, s in axes.items()}
        elif isinstance(axes, (list, tuple)):
            out[name] = {int(a): f"{name}_dynamic_axes_{int(a) + 1}" for a in axes}
        else:
            raise TypeError(
                f"dynamic_axes[{name!r}] must be a dict {{axis: name}} or a list of axes, "
                f"got {type(axes).__name__}"
            )
    return out


def _perturbed(
    arrays: list[np.ndarray], names: Sequence[str], dyn: Mapping[str, Mapping[int, str]]
) -> list[np.ndarray]:
    """The same inputs with values permuted and dynamic axes longer (last slice repeated).

    The k-th dynamic symbol grows by k + 1, so that axes of equal size in the example (batch 4,
    time 4) can be told apart.
    """
    sizes: dict[str, int] = {}
    growth: dict[str, int] = {}
    out = []
    for a, name in zip(arrays, names):
        b = np.flip(a).copy() if a.ndim else a.copy()
        for axis, sym in sorted(dyn.get(name, {}).items()):
            if not -a.ndim <= axis < a.ndim:
                raise ValueError(
                    f"dynamic_axes: input {name!r} has {a.ndim} dimensions, no axis {axis}"
                )
            n = a.shape[axis]
            if sizes.setdefault(sym, n) != n:
                raise ValueError(
                    f"dynamic axis {sym!r} has sizes {sizes[sym]} and {n} in the example inputs"
                )
            extra = growth.setdefault(sym, len(growth) + 1)
            b = np.concatenate([b, np.take(b, [-1] * extra, axis=axis)], axis=axis)
        out.append(b)
    return out


def _run_trace(
    model: Module,
    args: Any,
    names: Sequence[str],
    opset: int,
    other: _Trace | None = None,
    dynamic: Sequence[tuple[str, int, int, int]] = (),
) -> tuple[_Trace, Any]:
    ctx = _Trace(model, opset, other.log if other is not None else None, dynamic)
    for t, name in zip(_leaves(list(args)), names):
        ctx.bind(t, name)
    with grad_mode.no_grad(), _recording(ctx):
        out = model(*args)
    return ctx, out


def _compare(a: _Trace, b: _Trace) -> None:
    """Raise if two traces of the model gave different graphs (see ``export``)."""
    why = (
        "the exported graph depends on the example input: tracing again with the values "
        "permuted and the dynamic axes longer gave a different graph ({}). Typical causes: "
        "Python control flow on sizes or values, values taken out through .data/.item()/NumPy or "
        "argmax (frozen as constants), a size-dependent reshape or constant, or an axis that "
        "cannot be dynamic (e.g. the spatial size before a Linear layer)"
    )
    for i, (n1, n2) in enumerate(zip(a.g.nodes, b.g.nodes)):
        if n1.SerializeToString() != n2.SerializeToString():
            raise OnnxExportError(why.format(f"node {i}, {n1.name}, differs"))
    if len(a.g.nodes) != len(b.g.nodes):
        raise OnnxExportError(why.format(f"{len(a.g.nodes)} against {len(b.g.nodes)} nodes"))
    for name, arr in a.g._arrays.items():
        other = b.g._arrays.get(name)
        if (
            other is None
            or other.shape != arr.shape
            or not np.array_equal(other, arr, equal_nan=True)
        ):
            users = [n.name for n in a.g.nodes if name in n.input]
            raise OnnxExportError(
                why.format(
                    f"the constant {name} used by {', '.join(users) or 'the outputs'} changed"
                )
            )


def export(
    model: Module,
    example_input: Any,
    path: str | Any | None = None,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_axes: Mapping[str, Mapping[int, str] | Sequence[int]] | None = None,
    opset_version: int = MIN_OPSET,
    check_trace: bool = True,
    metadata: Mapping[str, str] | None = None,
) -> Any:
    """Export ``model`` to ONNX by tracing ``model(*example_input)``; returns the ``ModelProto``.

    The model is traced in evaluation mode (its training flags are restored afterwards). The
    graph is checked with ``onnx.checker.check_model(full_check=True)`` before it is written.

    Args:
        model: a glassnet ``Module`` built from supported layers and operations (see the module
            docstring and ``supported_layers()``).
        example_input: the forward's positional arguments: one tensor, or a tuple (may nest, e.g.
            ``(x, (h0, c0))`` for an LSTM with initial states). Leaves become graph inputs in order;
            ``None`` leaves are passed through.
        path: where to write the ``.onnx`` file (atomically); ``None`` only returns the model.
        input_names: names of the graph inputs (default ``input`` or ``input_0``, ``input_1``...).
        output_names: names of the graph outputs (default ``output`` or ``output_0``, ...).
        dynamic_axes: as ``torch.onnx.export``: ``{name: {axis: "symbol"}}`` or
            ``{name: [axes]}``. Axes sharing a symbol must share a size. Output axes that follow
            a dynamic input axis are found by the trace check and named after it.
        opset_version: ONNX opset, at least 17.
        check_trace: trace a second time with permuted values and dynamic axes longer, and
            refuse a graph that depends on the example input (recommended).
        metadata: string key/value pairs stored in the model's ``metadata_props`` (what a user
            of the file needs besides the graph: class names, a vocabulary, the input scaling);
            onnxruntime reads them with ``session.get_modelmeta().custom_metadata_map``.

    Raises:
        OnnxExportError: a layer or operation without conversion (named, with where it was
            called), or a graph that depends on the example input.
        ImportError: the ``onnx`` package is missing (``pip install glassnet[onnx]``).

    >>> import glassnet, tempfile, os
    >>> from glassnet import nn
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> proto = export(net, glassnet.randn(3, 4), dynamic_axes={"input": {0: "batch"}})
    >>> [n.op_type for n in proto.graph.node]
    ['Gemm', 'Relu', 'Gemm', 'Identity']
    >>> proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param
    'batch'
    """
    try:
        import onnx
        from onnx import helper
    except ImportError:
        raise ImportError(
            "ONNX export needs the onnx package: pip install 'glassnet[onnx]' (or pip install onnx)"
        ) from None
    if not isinstance(model, Module):
        raise TypeError(f"export expected a glassnet Module, got {type(model).__name__}")
    max_opset = onnx.defs.onnx_opset_version()
    if (
        isinstance(opset_version, bool)
        or not isinstance(opset_version, int)
        or not (MIN_OPSET <= opset_version <= max_opset)
    ):
        raise ValueError(
            f"export expected opset_version between {MIN_OPSET} and {max_opset} (the installed "
            f"onnx), got {opset_version!r}"
        )
    props = _check_metadata(metadata)
    args = _as_inputs(example_input)
    arrays = _leaf_arrays(args)
    n_in = len(arrays)
    if input_names is None:
        input_names = ["input"] if n_in == 1 else [f"input_{i}" for i in range(n_in)]
    input_names = list(input_names)
    if len(input_names) != n_in or len(set(input_names)) != n_in:
        raise ValueError(
            f"export expected {n_in} distinct input_names (one per tensor in example_input), got "
            f"{input_names}"
        )

    training = {id(m): m.training for m in model.modules()}
    model.eval()
    try:
        dyn = _parse_dynamic_axes(dynamic_axes, None)  # names are checked once outputs are known
        if not check_trace:
            ctx, out = _run_trace(model, _rebuild(args, iter(arrays)), input_names, opset_version)
        else:
            # Trace at other sizes (P), then the example (O) and the other sizes again (P2),
            # each knowing the other's sizes, and require O and P2 to give the same graph.
            arrays2 = _perturbed(arrays, input_names, dyn)
            axes = [
                (n, a % arr.ndim, arr.shape[a], b.shape[a])
                for n, arr, b in zip(input_names, arrays, arrays2)
                for a in dyn.get(n, {})
            ]
            try:
                ctx_p, _ = _run_trace(
                    model, _rebuild(args, iter(arrays2)), input_names, opset_version
                )
            except OnnxExportError:
                raise
            except Exception as e:
                raise OnnxExportError(
                    f"the trace check failed: the forward raised {type(e).__name__}: {e} when "
                    "the dynamic axes were longer; is every axis in dynamic_axes really free to "
                    "change? (check_trace=False skips this check)"
                ) from e
            ctx, out = _run_trace(
                model, _rebuild(args, iter(arrays)), input_names, opset_version, ctx_p, axes
            )
            ctx2, out2 = _run_trace(
                model,
                _rebuild(args, iter(arrays2)),
                input_names,
                opset_version,
                ctx,
                [(n, a, y, x) for n, a, x, y in axes],
            )
            _compare(ctx, ctx2)
        out_leaves = _leaves(out)
        n_out = len(out_leaves)
        if output_names is None:
            output_names = ["output"] if n_out == 1 else [f"output_{i}" for i in range(n_out)]
        output_names = list(output_names)
        if len(output_names) != n_out or len(set(output_names)) != n_out:
            raise ValueError(
                f"export expected {n_out} distinct output_names (the model returns {n_out} "
                f"tensors), got {output_names}"
            )
        if set(output_names) & set(input_names):
            both = sorted(set(output_names) & set(input_names))
            raise ValueError(f"input and output names must differ, both have {both}")
        dyn = _parse_dynamic_axes(dynamic_axes, input_names + output_names)
        out_shapes2: list[tuple[int, ...]] | None = None
        sizes2: dict[str, tuple[int, int]] = {}
        if check_trace:
            out_shapes2 = [tuple(t.shape) for t in _leaves(out2)]
            for name, a, b in zip(input_names, arrays, arrays2):
                for axis, sym in dyn.get(name, {}).items():
                    sizes2[sym] = (a.shape[axis], b.shape[axis])
    finally:
        for m in model.modules():
            object.__setattr__(m, "training", training.get(id(m), m.training))

    g = ctx.g
    g.scope = ""

    def value_info(name: str, arr_dtype: Any, shape: Sequence[int], dims: Mapping[int, str]) -> Any:
        elem = helper.np_dtype_to_tensor_dtype(np.dtype(arr_dtype))
        ndim = len(shape)
        full = {a % ndim: s for a, s in dims.items()} if ndim else {}
        return helper.make_tensor_value_info(
            name, elem, [full.get(i, int(n)) for i, n in enumerate(shape)]
        )

    graph_inputs = [
        value_info(n, a.dtype, a.shape, dyn.get(n, {})) for n, a in zip(input_names, arrays)
    ]
    graph_outputs = []
    for i, (name, t) in enumerate(zip(output_names, out_leaves)):
        src = ctx.traced(t)
        if src is None:
            raise OnnxExportError(
                f"output {i} ({name!r}) does not depend on the inputs (it is a constant); "
                "ONNX graphs compute their outputs from their inputs"
            )
        g.nodes.append(helper.make_node("Identity", [src], [name], name=f"/output/{name}"))
        dims = dict(dyn.get(name, {}))
        if out_shapes2 is not None:
            for axis, (n1, n2) in enumerate(zip(t.shape, out_shapes2[i])):
                if n1 != n2 and axis not in dims:
                    match = [s for s, (a, b) in sizes2.items() if (a, b) == (n1, n2)]
                    dims[axis] = match[0] if match else f"{name}_dynamic_axes_{axis + 1}"
        graph_outputs.append(value_info(name, t.dtype, t.shape, dims))

    graph = helper.make_graph(
        g.nodes,
        f"glassnet_{type(model).__name__}",
        graph_inputs,
        graph_outputs,
        initializer=list(g.initializers.values()),
    )
    opset = helper.make_opsetid("", opset_version)
    from .. import __version__

    proto = helper.make_model(
        graph,
        opset_imports=[opset],
        producer_name="glassnet",
        producer_version=__version__,
        ir_version=helper.find_min_ir_version_for([opset]),
    )
    if props:
        helper.set_model_props(proto, props)
    onnx.checker.check_model(proto, full_check=True)
    if path is not None:
        from .._atomic import atomic_write_bytes

        atomic_write_bytes(path, proto.SerializeToString())
    return proto
