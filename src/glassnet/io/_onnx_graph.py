"""Tracing machinery of the ONNX exporter: the graph builder, the recorder and the registries.

``_Graph`` collects nodes and initializers with readable, unique names; ``_Trace`` maps traced
tensors to graph values; ``_recording`` routes ``Module.__call__``, ``Function.apply`` and tensor
comparisons through a trace while the model runs. The conversions themselves are in
``_onnx_convert``; ``onnx_export`` drives everything.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..nn.module import Module

_I64_MAX = np.iinfo(np.int64).max
_I64_MIN = np.iinfo(np.int64).min


class OnnxExportError(ValueError):
    """The model (or one of its layers or operations) cannot be exported to ONNX."""


# ============================================================================ graph builder
class _Graph:
    """Nodes and initializers of the graph being built, with unique, readable names."""

    def __init__(self, opset: int) -> None:
        self.opset = opset
        self.nodes: list[Any] = []
        self.initializers: dict[str, Any] = {}
        self._arrays: dict[str, np.ndarray] = {}
        self._count = 0
        self.scope = ""

    def _fresh(self, hint: str) -> str:
        self._count += 1
        return f"/{self.scope}/{hint}_{self._count}" if self.scope else f"/{hint}_{self._count}"

    def node(self, op: str, inputs: Sequence[str], n_out: int = 1, **attrs: Any) -> Any:
        """Add a node; returns its output name (or list of names when ``n_out > 1``)."""
        from onnx import helper

        name = self._fresh(op)
        outs = [f"{name}_output_{i}" for i in range(n_out)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op, list(inputs), outs, name=name, **attrs))
        return outs[0] if n_out == 1 else outs

    def const(self, value: Any, hint: str = "const") -> str:
        from onnx import numpy_helper

        arr = np.asarray(value)
        name = self._fresh(hint)
        self.initializers[name] = numpy_helper.from_array(np.require(arr, requirements="C"), name)
        self._arrays[name] = arr
        return name

    def i64(self, values: Any) -> str:
        return self.const(np.asarray(values, np.int64), "shape")

    def named(self, name: str, value: np.ndarray) -> str:
        """An initializer with a fixed name (a parameter's state_dict key); added once."""
        from onnx import numpy_helper

        if name not in self.initializers:
            self.initializers[name] = numpy_helper.from_array(
                np.require(value, requirements="C"), name
            )
            self._arrays[name] = value
        return name

    # ------------------------------------------------------------ opset-dependent helpers
    def reduce(self, op: str, x: str, axes: Sequence[int], keepdims: bool) -> str:
        """Reduce* over ``axes`` (an input from opset 18, an attribute before; ReduceSum: 13)."""
        if op == "ReduceSum" or self.opset >= 18:
            return self.node(op, [x, self.i64(list(axes))], keepdims=int(keepdims))
        return self.node(op, [x], axes=list(axes), keepdims=int(keepdims))

    def unsqueeze(self, x: str, axes: Sequence[int]) -> str:
        return self.node("Unsqueeze", [x, self.i64(list(axes))])

    def squeeze(self, x: str, axes: Sequence[int]) -> str:
        return self.node("Squeeze", [x, self.i64(list(axes))])

    def slice(
        self,
        x: str,
        starts: Sequence[int],
        ends: Sequence[int],
        axes: Sequence[int],
        steps: Sequence[int] | None = None,
    ) -> str:
        ins = [x, self.i64(starts), self.i64(ends), self.i64(axes)]
        if steps is not None:
            ins.append(self.i64(steps))
        return self.node("Slice", ins)


# ============================================================================ tracing
Converter = Callable[..., Any]
_LAYERS: dict[str, Converter] = {}  # layer class name (in glassnet.nn) -> converter
_OPS: dict[str, Converter] = {}  # Function class name (in glassnet.ops) -> converter
_REFUSED = {  # operations with a known reason not to export
    "Dropout": "dropout in training mode has no inference graph; call it with training=False, "
    "or use nn.Dropout, which export puts in evaluation mode",
}


def _layer(*names: str) -> Callable[[Converter], Converter]:
    def register(fn: Converter) -> Converter:
        for n in names:
            _LAYERS[n] = fn
        return fn

    return register


def _op(*names: str) -> Callable[[Converter], Converter]:
    def register(fn: Converter) -> Converter:
        for n in names:
            _OPS[n] = fn
        return fn

    return register


def supported_layers() -> list[str]:
    """Names of the ``glassnet.nn`` layers with a direct ONNX conversion."""
    from .. import nn

    return sorted(n for n in _LAYERS if hasattr(nn, n))


def supported_ops() -> list[str]:
    """Names of the ``glassnet.ops`` operations the tracer converts inside custom forwards."""
    return sorted(_OPS) + ["comparisons (<, <=, >, >=, ==, !=)"]


def _leaves(obj: Any) -> list[Any]:
    """Tensors in a (nested) tuple/list output, in order; None entries are skipped."""
    if isinstance(obj, (Tensor, np.ndarray)):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [leaf for item in obj for leaf in _leaves(item)]
    if obj is None:
        return []
    raise OnnxExportError(
        f"expected tensors, or tuples/lists of tensors, as outputs and inputs; got "
        f"{type(obj).__name__}"
    )


def _tensor_leaves(obj: Any) -> list[Any]:
    """Tensors (and arrays) anywhere in nested tuples/lists; anything else is skipped."""
    if isinstance(obj, (Tensor, np.ndarray)):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [leaf for item in obj for leaf in _tensor_leaves(item)]
    return []


class _Entry(NamedTuple):
    """What one recorded layer call or operation saw: its name and tensor shapes."""

    name: str
    inputs: list[tuple[int, ...]]
    outputs: list[tuple[int, ...]]


class _Trace:
    """State of one trace: traced values, parameter names and the graph being built.

    ``other`` is the log of a trace of the same model at other input sizes (see ``export``):
    where an operation's sizes differ between the two, they are dynamic, and ``dynamic`` lists
    the graph inputs' dynamic axes as ``(input name, axis, size here, size there)``, so a dynamic
    size can be read off the right input at run time.
    """

    def __init__(
        self,
        model: Module,
        opset: int,
        other: list[_Entry] | None = None,
        dynamic: Sequence[tuple[str, int, int, int]] = (),
    ) -> None:
        self.log: list[_Entry] = []
        self.other, self.dynamic = other, list(dynamic)
        self.g = _Graph(opset)
        self.names: dict[int, str] = {}  # id(Tensor) -> value name
        self.arrays: dict[int, str] = {}  # id(ndarray) -> value name (aliases: detach, .data)
        self.versions: dict[int, tuple[list[int], int]] = {}
        self.keep: list[Any] = []  # keeps traced objects alive so their ids stay unique
        self.params: dict[int, str] = {}
        for mname, m in model.named_modules():
            prefix = f"{mname}." if mname else ""
            for store in (m._parameters, m._buffers):
                for n, t in store.items():
                    if t is not None:
                        self.params.setdefault(id(t), prefix + n)
                        self.params.setdefault(id(t.data), prefix + n)
        self.paths = {id(m): n for n, m in model.named_modules()}
        self.depth = 0
        self.where = type(model).__name__

    # ------------------------------------------------------------ values
    def bind(self, t: Any, name: str) -> None:
        self.keep.append(t)
        if isinstance(t, Tensor):
            self.names[id(t)] = name
            self.versions[id(t)] = (t._version, t._version[0])
            self.arrays[id(t.data)] = name
            self.keep.append(t.data)
        else:
            self.arrays[id(t)] = name

    def traced(self, x: Any) -> str | None:
        if isinstance(x, Tensor):
            name = self.names.get(id(x))
            if name is not None:
                ver, v0 = self.versions[id(x)]
                if ver[0] != v0:
                    raise OnnxExportError(
                        f"a traced tensor was changed in place in {self.where}; in-place updates "
                        "cannot be exported; use the out-of-place operation"
                    )
                return name
            x = x.data
        if isinstance(x, np.ndarray):
            return self.arrays.get(id(x))
        return None

    def value(self, x: Any, dtype: Any = None) -> str:
        """The graph name of ``x``: traced value, parameter initializer or a new constant."""
        name = self.traced(x)
        if name is None:
            key = self.params.get(id(x))  # a parameter, a buffer, or a buffer's array
            arr = x.data if isinstance(x, Tensor) else np.asarray(x)
            if key is not None and (dtype is None or arr.dtype == dtype):
                return self.g.named(key, arr)
            return self.g.const(arr if dtype is None else arr.astype(dtype))
        if dtype is not None and _dtype_of(x) != np.dtype(dtype):
            return self.cast(name, dtype)
        return name

    def cast(self, name: str, dtype: Any) -> str:
        from onnx import helper

        return self.g.node("Cast", [name], to=helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))

    # ------------------------------------------------------------ recording
    def record_layer(
        self, m: Module, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any
    ) -> None:
        fn = _LAYERS[type(m).__name__]
        self._log(type(m).__name__, [*args, *kwargs.values()], out)
        names = fn(self, m, *args, out=out, **kwargs)
        self._bind_outputs(out, names)

    def record_op(
        self, cls: type, inputs: tuple[Any, ...], static: dict[str, Any], out: Any
    ) -> None:
        traced_in = any(
            self.traced(x) is not None for x in inputs if isinstance(x, (Tensor, np.ndarray))
        ) or any(isinstance(v, np.ndarray) and id(v) in self.arrays for v in static.values())
        if not traced_in:
            return  # computed from constants only: folded into a constant where it is used
        fn = _OPS.get(cls.__name__)
        if cls.__name__ in _REFUSED and cls.__module__.startswith("glassnet."):
            raise OnnxExportError(
                f"cannot export {cls.__name__} called in {self.where}: {_REFUSED[cls.__name__]}"
            )
        if fn is None or not cls.__module__.startswith("glassnet."):
            raise OnnxExportError(
                f"cannot export the operation {cls.__name__} called in {self.where}: it has no "
                f"ONNX conversion. Supported layers: {', '.join(supported_layers())}. Supported "
                f"operations: {', '.join(supported_ops())}"
            )
        self._log(cls.__name__, list(inputs), out)
        names = fn(self, *inputs, out=out, **static)
        self._bind_outputs(out, names)

    def _log(self, name: str, inputs: list[Any], out: Any) -> None:
        shapes = [tuple(t.shape) for t in _tensor_leaves(inputs)]
        self.log.append(_Entry(name, shapes, [tuple(t.shape) for t in _tensor_leaves(out)]))

    def other_entry(self) -> _Entry | None:
        """The entry of the other trace for the layer or operation being converted."""
        i = len(self.log) - 1
        if self.other is None or i >= len(self.other) or self.other[i].name != self.log[i].name:
            return None
        mine, theirs = self.log[i], self.other[i]
        same_ranks = [len(a) for a in mine.outputs] == [len(b) for b in theirs.outputs]
        return theirs if same_ranks and len(mine.inputs) == len(theirs.inputs) else None

    def dynamic_size(self, here: int, there: int) -> tuple[str, int] | None:
        """A graph input axis whose size is ``here`` in this trace and ``there`` in the other."""
        for name, axis, a, b in self.dynamic:
            if (a, b) == (here, there):
                return name, axis
        return None

    def _bind_outputs(self, out: Any, names: Any) -> None:
        leaves = _leaves(out)
        names = [names] if isinstance(names, str) else list(names)
        assert len(leaves) == len(names), (len(leaves), len(names))
        for t, n in zip(leaves, names):
            if n is not None:
                self.bind(t, n)


def _dtype_of(x: Any) -> np.dtype:
    return x.data.dtype if isinstance(x, Tensor) else np.asarray(x).dtype


def _shape_of(x: Any) -> tuple[int, ...]:
    return tuple(x.shape)


_CMP = {
    "__lt__": ("Less", False),
    "__le__": ("LessOrEqual", False),
    "__gt__": ("Greater", False),
    "__ge__": ("GreaterOrEqual", False),
    "__eq__": ("Equal", False),
    "__ne__": ("Equal", True),
}


@contextlib.contextmanager
def _recording(ctx: _Trace) -> Iterator[None]:
    """Route Module calls, Function applications and tensor comparisons through ``ctx``."""
    orig_call = Module.__call__
    orig_apply = Function.__dict__["apply"]
    orig_cmp = {name: Tensor.__dict__[name] for name in _CMP}

    def call(mod: Module, *args: Any, **kwargs: Any) -> Any:
        saved = ctx.where, ctx.g.scope
        path = ctx.paths.get(id(mod))
        label = f"{type(mod).__name__} at {path!r}" if path else f"{type(mod).__name__}"
        if path == "":
            label = f"the forward of {type(mod).__name__}"
        ctx.where, ctx.g.scope = label, (path if path else ctx.g.scope)
        try:
            name = type(mod).__name__
            leaf = (
                ctx.depth == 0
                and name in _LAYERS
                and type(mod).__module__.startswith("glassnet.nn")
            )
            if not leaf:
                return orig_call(mod, *args, **kwargs)
            ctx.depth += 1
            try:
                out = orig_call(mod, *args, **kwargs)
            finally:
                ctx.depth -= 1
            ins = _tensor_leaves([*args, *kwargs.values()])
            if any(ctx.traced(t) is not None for t in ins):
                ctx.record_layer(mod, args, kwargs, out)
            return out
        finally:
            ctx.where, ctx.g.scope = saved

    def apply(cls: type, *inputs: Any, **static: Any) -> Any:
        out = orig_apply.__func__(cls, *inputs, **static)
        if ctx.depth == 0:
            ctx.record_op(cls, inputs, static, out)
        return out

    def comparison(name: str) -> Callable[[Tensor, Any], Tensor]:
        onnx_op, negate = _CMP[name]
        orig = orig_cmp[name]

        def cmp(self: Tensor, other: Any) -> Tensor:
            out = orig(self, other)
            if ctx.depth == 0 and (ctx.traced(self) or ctx.traced(other)):
                # NumPy's promotion, Python numbers weak (float32 tensor < 0.5 stays float32)
                dtype = np.result_type(
                    self.data, other.data if isinstance(other, Tensor) else other
                )
                a = ctx.value(self, dtype)
                b = ctx.value(
                    other if isinstance(other, Tensor) else np.asarray(other, dtype), dtype
                )
                y = ctx.g.node(onnx_op, [a, b])
                ctx.bind(out, ctx.g.node("Not", [y]) if negate else y)
            return out

        return cmp

    Module.__call__ = call  # type: ignore[method-assign, assignment]
    Function.apply = classmethod(apply)  # type: ignore[assignment, method-assign]
    for name in _CMP:
        setattr(Tensor, name, comparison(name))
    try:
        yield
    finally:
        Module.__call__ = orig_call  # type: ignore[method-assign]
        Function.apply = orig_apply  # type: ignore[method-assign]
        for name, fn in orig_cmp.items():
            setattr(Tensor, name, fn)
