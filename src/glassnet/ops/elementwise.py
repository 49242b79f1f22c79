"""Elementwise arithmetic and math with NumPy broadcasting.

Gradients of broadcast operands are summed back to the operand's shape (``unbroadcast``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._dtype import get_default_dtype, result_type
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import as_operand, unbroadcast


class Add(Function):
    """y = a + b (broadcasting). Shapes: a, b broadcast to y."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a_shape, self.b_shape = a.shape, b.shape
        return a + b

    def backward(self, dy: np.ndarray) -> tuple[Any, Any]:
        da = unbroadcast(dy, self.a_shape) if self.needs_input_grad[0] else None
        db = unbroadcast(dy, self.b_shape) if self.needs_input_grad[1] else None
        return da, db


class Sub(Function):
    """y = a - b (broadcasting)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a_shape, self.b_shape = a.shape, b.shape
        return a - b

    def backward(self, dy: np.ndarray) -> tuple[Any, Any]:
        da = unbroadcast(dy, self.a_shape) if self.needs_input_grad[0] else None
        db = -unbroadcast(dy, self.b_shape) if self.needs_input_grad[1] else None
        return da, db


class Mul(Function):
    """y = a * b (broadcasting): da = dy * b, db = dy * a."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        return a * b

    def backward(self, dy: np.ndarray) -> tuple[Any, Any]:
        da = unbroadcast(dy * self.b, self.a.shape) if self.needs_input_grad[0] else None
        db = unbroadcast(dy * self.a, self.b.shape) if self.needs_input_grad[1] else None
        return da, db


class Div(Function):
    """y = a / b (broadcasting): da = dy / b, db = -dy a / b^2."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        return a / b

    def backward(self, dy: np.ndarray) -> tuple[Any, Any]:
        da = unbroadcast(dy / self.b, self.a.shape) if self.needs_input_grad[0] else None
        db = (
            unbroadcast(-dy * self.a / (self.b * self.b), self.b.shape)
            if self.needs_input_grad[1]
            else None
        )
        return da, db


class Neg(Function):
    """y = -x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return -x

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return -dy


class Pow(Function):
    """y = a ** b (broadcasting): da = b a^(b-1) dy, db = y log(a) dy (where a > 0)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        self.y = np.power(a, b)
        return self.y

    def backward(self, dy: np.ndarray) -> tuple[Any, Any]:
        a, b = self.a, self.b
        da = db = None
        if self.needs_input_grad[0]:
            # b * a**(b-1), with 0**0 handled as PyTorch does (derivative 0 when b == 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                d = np.where(b == 0, 0.0, b * np.power(a, b - 1))
            da = unbroadcast((dy * d).astype(a.dtype, copy=False), a.shape)
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                loga = np.where(
                    a > 0, np.log(np.where(a > 0, a, 1)), np.where(a == 0, -np.inf, np.nan)
                )
                d = np.where((a == 0) & (b >= 0), 0.0, self.y * loga)
            db = unbroadcast((dy * d).astype(b.dtype, copy=False), b.shape)
        return da, db


class Exp(Function):
    """y = exp(x): dx = y dy."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = np.exp(x)
        return self.y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * self.y


class Log(Function):
    """y = log(x): dx = dy / x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return dy / self.x


class Sqrt(Function):
    """y = sqrt(x): dx = dy / (2 y)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            self.y = np.sqrt(x)
        return self.y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return dy / (2 * self.y)


class Abs(Function):
    """y = |x|: dx = sign(x) dy (0 at 0, as PyTorch)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return np.abs(x)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * np.sign(self.x)


class Clamp(Function):
    """y = min(max(x, lo), hi): the gradient passes where lo <= x <= hi (as PyTorch)."""

    def forward(self, x: np.ndarray, *, min: float | None, max: float | None) -> np.ndarray:
        self.x, self.lo, self.hi = x, min, max
        return np.clip(x, min, max)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        mask = np.ones(self.x.shape, dtype=bool)
        if self.lo is not None:
            mask &= self.x >= self.lo
        if self.hi is not None:
            mask &= self.x <= self.hi
        return dy * mask


class ClampTensor(Function):
    """y = min(max(x, lo), hi) with tensor bounds (broadcasting; either may be None), so
    y = hi wherever lo > hi. Gradients as PyTorch's: x where lo <= x <= hi; lo where
    x < lo < hi; hi where x > hi or hi < lo (with one bound: lo where x < lo, hi where x > hi).

    Shapes:
        x, lo, hi: broadcast to y
    """

    def forward(self, x: np.ndarray, lo: np.ndarray | None, hi: np.ndarray | None) -> np.ndarray:
        self.x, self.lo, self.hi = x, lo, hi
        return np.clip(x, lo, hi)

    def backward(self, dy: np.ndarray) -> tuple[Any, Any, Any]:
        x, lo, hi = self.x, self.lo, self.hi
        keep = np.ones(dy.shape, dtype=bool)  # where the gradient goes to x
        if lo is not None:
            keep &= x >= lo
        if hi is not None:
            keep &= x <= hi
        dx = unbroadcast(dy * keep, x.shape) if self.needs_input_grad[0] else None
        dlo = dhi = None
        if self.needs_input_grad[1]:
            assert lo is not None  # a tensor bound
            to_lo = (x < lo) & (lo < hi) if hi is not None else x < lo
            dlo = unbroadcast(dy * to_lo, lo.shape)
        if self.needs_input_grad[2]:
            assert hi is not None
            to_hi = (x > hi) | (hi < lo) if lo is not None else x > hi
            dhi = unbroadcast(dy * to_hi, hi.shape)
        return dx, dlo, dhi


class Maximum(Function):
    """y = max(a, b) elementwise; on ties each side gets half the gradient (as PyTorch)."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        return np.maximum(a, b)

    def backward(self, dy: np.ndarray) -> tuple[Any, Any]:
        wa = (self.a > self.b) + 0.5 * (self.a == self.b)  # share of the gradient going to a
        da = unbroadcast(dy * wa, self.a.shape) if self.needs_input_grad[0] else None
        db = unbroadcast(dy * (1 - wa), self.b.shape) if self.needs_input_grad[1] else None
        return da, db


class Where(Function):
    """y = where(cond, a, b): the gradient goes to the chosen side."""

    def forward(self, cond: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.cond, self.a_shape, self.b_shape = cond, np.shape(a), np.shape(b)
        return np.where(cond, a, b)

    def backward(self, dy: np.ndarray) -> tuple[Any, Any, Any]:
        zero = np.zeros((), dy.dtype)
        da = (
            unbroadcast(np.where(self.cond, dy, zero), self.a_shape)
            if self.needs_input_grad[1]
            else None
        )
        db = (
            unbroadcast(np.where(self.cond, zero, dy), self.b_shape)
            if self.needs_input_grad[2]
            else None
        )
        return None, da, db


class Cast(Function):
    """y = x converted to another dtype; the gradient is converted back."""

    def forward(self, x: np.ndarray, *, dtype: Any) -> np.ndarray:
        self.in_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy.astype(self.in_dtype)


# ---------------------------------------------------------------------------- functional forms
def _binary(fn: type[Function], a: Any, b: Any, floating: bool = False) -> Tensor:
    """``fn`` on ``a`` and ``b`` in PyTorch's result dtype (``glassnet.result_type``).

    Python numbers take the tensor's dtype where their kind allows (``as_operand``); an operand
    of another dtype is cast first, the cast in the graph (its gradient comes back in its own
    dtype), so NumPy's promotion (int64 with float32 gives float64) never decides. ``floating``
    (true division): an integer or bool result dtype becomes the default float.
    """
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(a)
    return fn.apply(*_promoted(as_operand(a, b), as_operand(b, a), floating))


def _promoted(a: Any, b: Any, floating: bool = False) -> tuple[Any, Any]:
    """Both operands cast to ``result_type(a, b)`` (the default float for a ``floating`` op
    whose result would be integer or bool)."""
    dtype = a.dtype if a.dtype == b.dtype else result_type(a, b)
    if floating and dtype.kind in "biu":
        dtype = get_default_dtype()
    return _cast(a, dtype), _cast(b, dtype)


def _is_bool(x: Any) -> bool:
    """A bool number, or a tensor or array of dtype bool."""
    return isinstance(x, (bool, np.bool_)) or getattr(x, "dtype", None) == np.bool_


def _cast(x: Any, dtype: np.dtype) -> Any:
    if x.dtype == dtype:
        return x
    return x.to(dtype) if isinstance(x, Tensor) else x.astype(dtype)


def add(a: Any, b: Any) -> Tensor:
    """a + b with broadcasting."""
    return _binary(Add, a, b)


def sub(a: Any, b: Any) -> Tensor:
    """a - b with broadcasting (not on bool tensors, as in PyTorch)."""
    refuse_bool_subtraction(a, b)
    return _binary(Sub, a, b)


def refuse_bool_subtraction(a: Any, b: Any) -> None:
    """PyTorch refuses ``a - b`` (and ``a.sub_(b)``) when either side is bool."""
    if _is_bool(a) or _is_bool(b):
        raise TypeError("subtraction with a bool tensor is not supported (as in PyTorch); use ~")


def mul(a: Any, b: Any) -> Tensor:
    """a * b with broadcasting."""
    return _binary(Mul, a, b)


def div(a: Any, b: Any) -> Tensor:
    """a / b with broadcasting (true division)."""
    return _binary(Div, a, b, floating=True)


def pow(a: Any, b: Any) -> Tensor:
    """a ** b with broadcasting.

    As in PyTorch, a bool base with a bool tensor exponent is refused, and a bool tensor to a
    Python bool power stays bool (NumPy's bool power would be int8).
    """
    bools = [_is_bool(a), _is_bool(b)]
    if all(bools) and isinstance(b, (Tensor, np.ndarray)):
        raise TypeError(
            "pow with a bool base and a bool tensor exponent is not supported (as in PyTorch)"
        )
    out = _binary(Pow, a, b)
    return out.to(np.bool_) if all(bools) else out


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum (ties split the gradient evenly)."""
    return _binary(Maximum, a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum (ties split the gradient evenly)."""
    return -maximum(-_t(a), -_t(b))


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(as_operand(x, np.zeros((), np.float32)))


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Pick ``a`` where ``condition`` is true, else ``b`` (broadcasting, PyTorch's result dtype)."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where expected a boolean condition, got dtype {cond.dtype}")
    ref = a if isinstance(a, Tensor) else b
    return Where.apply(cond, *_promoted(as_operand(a, ref), as_operand(b, ref)))


def neg(x: Tensor) -> Tensor:
    """-x (not on bool tensors, as in PyTorch)."""
    if x.dtype == np.bool_:
        raise TypeError("negation of a bool tensor is not supported (as in PyTorch); use ~")
    return Neg.apply(x)


def exp(x: Tensor) -> Tensor:
    """e ** x."""
    return Exp.apply(x)


def log(x: Tensor) -> Tensor:
    """Natural logarithm (nan for x < 0, -inf at 0, as NumPy and PyTorch)."""
    return Log.apply(x)


def sqrt(x: Tensor) -> Tensor:
    return Sqrt.apply(x)


def abs(x: Tensor) -> Tensor:
    return Abs.apply(x)


def clamp(x: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """Limit values to [min, max]; either bound may be None.

    The bounds are numbers, or tensors that broadcast against x (and then receive gradients,
    as in PyTorch; a number and a tensor may be mixed). Where min > max the result is max.

    >>> import glassnet
    >>> glassnet.tensor([0.0, 5.0, 9.0]).clamp(glassnet.tensor([1.0, 1.0, 1.0]), 8.0)
    tensor([1., 5., 8.])
    """
    if min is None and max is None:
        raise ValueError("clamp expected at least one of min and max, got neither")
    if isinstance(min, (Tensor, np.ndarray)) or isinstance(max, (Tensor, np.ndarray)):
        lo = None if min is None else as_operand(min, x)
        hi = None if max is None else as_operand(max, x)
        return ClampTensor.apply(x, lo, hi)
    return Clamp.apply(x, min=min, max=max)


clip = clamp


def cast(x: Tensor, dtype: Any) -> Tensor:
    """x converted to ``dtype`` (differentiable between floating dtypes)."""
    d = np.dtype(dtype)
    if d == x.dtype:
        return x
    return Cast.apply(x, dtype=d)
