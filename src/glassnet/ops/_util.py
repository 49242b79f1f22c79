"""Helpers shared by ops: broadcasting reductions, axis normalisation, argument checks."""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import numpy as np

from .._dtype import is_floating, result_type
from ..autograd.tensor import Tensor


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
    )
    g = grad.sum(axis=axes, keepdims=True) if axes else grad
    return g.reshape(shape)


def normalize_dim(dim: int, ndim: int, name: str = "dim") -> int:
    """Map a possibly negative axis into ``range(ndim)``, with a clear error."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(dim).__name__}")
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not lo <= dim <= hi:
        raise IndexError(f"{name}={dim} is out of range for a tensor with {ndim} dimensions")
    return int(dim) % max(ndim, 1)


def normalize_dims(dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = tuple(sorted({normalize_dim(d, ndim) for d in dims}))
    if len(out) != len(dims):
        raise ValueError(f"dim {tuple(dims)} names a dimension twice")
    return out


def as_operand(x: Any, like: Any) -> Any:
    """Turn a Python number into an array of PyTorch's result dtype with the tensor operand
    (``glassnet.result_type``: the tensor's dtype unless the number is of a higher kind)."""
    if isinstance(x, (Tensor, np.ndarray)):
        return x
    if isinstance(x, (bool, int, float, np.generic)):  # PyTorch's rule for a wrapped number
        ref = like.data if isinstance(like, Tensor) else np.asarray(like)
        if ref.dtype.kind == "f" and not isinstance(x, (complex, np.complexfloating)):
            return np.asarray(x, dtype=ref.dtype)  # the common case, without the full rule
        return np.asarray(x, dtype=result_type(ref, x))
    if isinstance(x, (list, tuple)):
        return np.asarray(x)
    raise TypeError(f"unsupported operand of type {type(x).__name__} for a tensor operation")


def require_tensor(x: Any, name: str, op: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor(x)
    raise TypeError(f"{op} expected {name} to be a Tensor, got {type(x).__name__}")


def check_floating(x: Tensor, name: str, op: str) -> None:
    if not is_floating(x.dtype):
        raise TypeError(f"{op} expected {name} to be a floating-point tensor, got {x.dtype}")


def shape_str(shape: Sequence[Any]) -> str:
    return str(tuple(int(s) for s in shape))


def _dtype_method(dtype: np.dtype) -> str:
    """The Tensor/Module method that converts to ``dtype``: ``.float()``, ``.double()``."""
    return {"float32": ".float()", "float64": ".double()"}.get(str(dtype), f".to({dtype})")


def check_weight_dtype(layer: str, input: Tensor, weight: Tensor | None) -> None:
    """The one dtype rule of every layer with weights, as PyTorch: the input has the weight's dtype.

    float64 NumPy data fed to a float32 layer is the usual case; the TypeError names the layer,
    both dtypes and the two fixes. Layers call this with their class name before their op, and
    the ops (``F.linear``, ``F.conv2d``, ...) with their own name, so both refuse alike.
    """
    if weight is None or input.dtype == weight.dtype:
        return
    xd, wd = input.dtype, weight.dtype
    to_w = _dtype_method(wd)
    if is_floating(xd):
        fix = f"convert the input with {to_w}, or the layer (its weights) with {_dtype_method(xd)}"
    else:
        other = _dtype_method(np.dtype(np.float64 if wd == np.float32 else np.float32))
        fix = f"convert the input with {to_w} (or both input and layer with {other})"
    raise TypeError(f"{layer} expected input of dtype {wd} (its weight's dtype), got {xd}: {fix}")


# ---------------------------------------------------------------------------- per-dimension forms
_F = TypeVar("_F", bound=Callable[..., Any])

AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def dim_fields(nd: int) -> dict[str, str]:
    """Names for the docstring templates of 1/2/3-d forms (``{S}``, ``{X}_out``, ...).

    ``nd``: the dimension; ``S``: the spatial axes (``H, W``); ``S_out``: the output's
    (``H_out, W_out``); ``K``: the kernel's (``kH, kW``; ``kernel_size`` in 1-d); ``X``: the
    first axis, ``k`` its kernel size, ``i`` its index in the arguments (``[0]``, empty in
    1-d); ``alike``: the note that the other axes follow the same formula; ``O``: the output
    sizes of adaptive pooling (``O_H, O_W``).
    """
    axes = AXES[nd]
    rest = ", ".join(f"{a}_out" for a in axes[1:])
    return {
        "nd": str(nd),
        "S": ", ".join(axes),
        "S_out": ", ".join(f"{a}_out" for a in axes),
        "K": "kernel_size" if nd == 1 else ", ".join(f"k{a}" for a in axes),
        "X": axes[0],
        "k": "kernel_size" if nd == 1 else f"k{axes[0]}",
        "i": "" if nd == 1 else "[0]",
        "alike": f"; {rest} alike" if rest else "",
        "O": "O" if nd == 1 else ", ".join(f"O_{a}" for a in axes),
    }


def dim_doc(template: str, nd: int, out: str = "", example: str = "", **more: str) -> str:
    """Fill a docstring template of a 1/2/3-d form: the :func:`dim_fields` of ``nd``, ``{out}``
    (an output-size formula, itself filled), ``{example}`` (a doctest, dedented and set off by
    blank lines; may be empty) and the ``more`` fields (which may replace those of ``nd``)."""
    fields = {**dim_fields(nd), **more}
    example = f"\n{inspect.cleandoc(example)}\n" if example.strip() else ""
    return template.format(**fields, out=out.format(**fields), example=example)


def specialize(impl: _F, name: str, doc: str, **fixed: Any) -> _F:
    """The public form ``name`` of an N-d implementation: ``impl`` with keyword-only arguments
    fixed (``_nd=2``) and left out of its signature.

    The result is a copy of ``impl`` (its code, defaults and module), not a wrapper: calling it
    costs nothing extra, and ``help``, ``inspect.signature``, doctest, argument errors and
    tracebacks name ``name``. The signature is written once, on ``impl``, for every dimension.
    """
    sig = inspect.signature(impl)
    kwonly = {n for n, p in sig.parameters.items() if p.kind is p.KEYWORD_ONLY}
    assert set(fixed) <= kwonly, f"{impl.__name__} has no keyword-only {set(fixed) - kwonly}"
    code = impl.__code__.replace(co_name=name)
    if hasattr(code, "co_qualname"):  # Python >= 3.11 names functions by their qualname
        code = code.replace(co_qualname=name)  # type: ignore[call-arg]
    fn = types.FunctionType(code, impl.__globals__, name, impl.__defaults__, impl.__closure__)
    fn.__kwdefaults__ = {**(impl.__kwdefaults__ or {}), **fixed}
    fn.__module__, fn.__qualname__, fn.__doc__ = impl.__module__, name, doc
    fn.__annotations__ = {k: v for k, v in impl.__annotations__.items() if k not in fixed}
    public = [p for p in sig.parameters.values() if p.name not in fixed]
    fn.__signature__ = sig.replace(parameters=public)  # type: ignore[attr-defined]
    return cast(_F, fn)
