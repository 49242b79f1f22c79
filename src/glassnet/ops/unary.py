"""Elementwise functions of one tensor: ``sin``, ``cos``, ``log1p``, ``expm1``, and the
piecewise-constant ``sign``, ``floor``, ``ceil``, ``round``.

The piecewise-constant ones have derivative 0 wherever it exists; PyTorch defines their gradient
as 0 everywhere (a straight-through estimator is ``x + (x.round() - x).detach()``), and so does
glassnet. Integer and bool input to ``sin``/``cos``/``log1p``/``expm1`` computes in the default
floating dtype, as PyTorch; ``sign``/``floor``/``ceil``/``round`` keep an integer dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._dtype import get_default_dtype
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import require_tensor
from .elementwise import cast


class Sin(Function):
    """y = sin(x): dx = cos(x) dy."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return np.sin(x)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * np.cos(self.x)


class Cos(Function):
    """y = cos(x): dx = -sin(x) dy."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return np.cos(x)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return -dy * np.sin(self.x)


class Log1p(Function):
    """y = log(1 + x), accurate for small x: dx = dy / (1 + x) (nan below -1, -inf at -1)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(x)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return dy / (1 + self.x)


class Expm1(Function):
    """y = exp(x) - 1, accurate for small x: dx = (y + 1) dy."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            self.y = np.expm1(x)
        return self.y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * (self.y + 1)


class _PiecewiseConstant(Function):
    """An elementwise step function: its gradient is 0 (PyTorch's definition, also at the
    jumps, where no derivative exists). Subclasses give the forward."""

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return np.zeros_like(dy)


class Sign(_PiecewiseConstant):
    """y = -1, 0 or 1 as x < 0, x == 0 or x > 0; 0 for NaN (as PyTorch)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return ((x > 0).astype(x.dtype) - (x < 0)).astype(x.dtype)


class Floor(_PiecewiseConstant):
    """y = the largest integer <= x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.floor(x)


class Ceil(_PiecewiseConstant):
    """y = the smallest integer >= x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.ceil(x)


class Round(_PiecewiseConstant):
    """y = x rounded to ``decimals`` places, halves to even: ``rint(x * 10^d) / 10^d`` (for
    d < 0, ``rint(x / 10^-d) * 10^-d``) in x's dtype, which is PyTorch's formula and NumPy's."""

    def forward(self, x: np.ndarray, *, decimals: int) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            return np.round(x, decimals)


# ---------------------------------------------------------------------------- functional forms
def _floating(x: Any, op: str) -> Tensor:
    t = require_tensor(x, "input", op)
    return cast(t, get_default_dtype()) if t.dtype.kind in "biu" else t


def sin(input: Tensor) -> Tensor:
    """Elementwise sine (radians)."""
    return Sin.apply(_floating(input, "sin"))


def cos(input: Tensor) -> Tensor:
    """Elementwise cosine (radians)."""
    return Cos.apply(_floating(input, "cos"))


def log1p(input: Tensor) -> Tensor:
    """log(1 + x), exact to the last digits for |x| much smaller than 1 (where log(1 + x) rounds
    1 + x first).

    >>> import glassnet
    >>> glassnet.tensor([1e-10], dtype=glassnet.float64).log1p().item()
    9.999999999500001e-11
    """
    return Log1p.apply(_floating(input, "log1p"))


def expm1(input: Tensor) -> Tensor:
    """exp(x) - 1, exact to the last digits for |x| much smaller than 1."""
    return Expm1.apply(_floating(input, "expm1"))


def sign(input: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of each element (0 for NaN; bool stays bool); gradient 0.

    >>> import glassnet
    >>> glassnet.tensor([-2.0, 0.0, 3.0]).sign()
    tensor([-1.,  0.,  1.])
    """
    t = require_tensor(input, "input", "sign")
    return Tensor(t.data.copy()) if t.dtype == np.bool_ else Sign.apply(t)


def _integral(op: str, fn: type[_PiecewiseConstant], input: Tensor, **static: Any) -> Tensor:
    t = require_tensor(input, "input", op)
    if t.dtype == np.bool_:
        raise TypeError(f"{op} expected a numeric tensor, got dtype bool; convert it with .int()")
    if t.dtype.kind in "iu":  # already integral: a copy, as PyTorch
        return Tensor(t.data.copy())
    return fn.apply(t, **static)


def floor(input: Tensor) -> Tensor:
    """The largest integer <= each element (integer tensors come back as a copy); gradient 0."""
    return _integral("floor", Floor, input)


def ceil(input: Tensor) -> Tensor:
    """The smallest integer >= each element (integer tensors come back as a copy); gradient 0."""
    return _integral("ceil", Ceil, input)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """Each element rounded to ``decimals`` decimal places, halves to even (as ``torch.round``:
    ``round(2.5) == 2``); negative ``decimals`` round to tens, hundreds, ...; gradient 0.

    >>> import glassnet
    >>> glassnet.tensor([0.5, 1.5, 2.5, 1.2345]).round()
    tensor([0., 2., 2., 1.])
    >>> glassnet.tensor([1.2345, 0.125, 1234.5]).round(decimals=-2)
    tensor([   0.,    0., 1200.])
    """
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)):
        raise TypeError(f"round expected an int decimals, got {type(decimals).__name__}")
    t = require_tensor(input, "input", "round")
    if decimals != 0 and t.dtype.kind in "biu":
        raise TypeError(
            f"round with decimals={decimals} expected a floating-point tensor, got dtype "
            f"{t.dtype} (as PyTorch); convert it with .float() or .double()"
        )
    return _integral("round", Round, t, decimals=int(decimals))
