"""Float classification and closeness: ``isnan``, ``isinf``, ``isfinite``, ``isclose``,
``allclose``. Boolean results, not differentiable."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.tensor import Tensor
from ._util import require_tensor, shape_str


def _classify(input: Any, op: str, fn: Any) -> Tensor:
    a = require_tensor(input, "input", op).data
    if a.dtype.kind in "biu":  # integers are finite numbers
        return Tensor(np.full(a.shape, op == "isfinite"))
    return Tensor(np.asarray(fn(a)))


def isnan(input: Tensor) -> Tensor:
    """True where an element is NaN.

    >>> import glassnet
    >>> glassnet.tensor([1.0, float("nan"), float("inf")]).isnan()
    tensor([False,  True, False])
    """
    return _classify(input, "isnan", np.isnan)


def isinf(input: Tensor) -> Tensor:
    """True where an element is +inf or -inf."""
    return _classify(input, "isinf", np.isinf)


def isfinite(input: Tensor) -> Tensor:
    """True where an element is neither NaN nor infinite (always, for integer tensors)."""
    return _classify(input, "isfinite", np.isfinite)


def _close(
    input: Any, other: Any, rtol: float, atol: float, equal_nan: bool, op: str
) -> np.ndarray:
    a = require_tensor(input, "input", op).data
    b = other.data if isinstance(other, Tensor) else other
    if not isinstance(b, (np.ndarray, int, float, np.number)) or isinstance(b, bool):
        raise TypeError(f"{op} expected other to be a tensor or a number, got {type(b).__name__}")
    b = np.asarray(b)
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if isinstance(tol, bool) or not isinstance(tol, (int, float, np.number)):
            raise TypeError(f"{op} expected a number for {name}, got {type(tol).__name__}")
        if not tol >= 0:
            raise ValueError(f"{op} expected {name} >= 0, got {tol}")
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"{op} expected input and other of broadcastable shapes, got "
            f"{shape_str(a.shape)} and {shape_str(b.shape)}"
        ) from None
    if a.dtype == np.bool_ or b.dtype == np.bool_:  # NumPy cannot subtract booleans
        a, b = a.astype(np.int8), b.astype(np.int8)
    # |input - other| <= atol + rtol * |other|, equal infinities close (NumPy's and PyTorch's)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.asarray(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=bool(equal_nan)))


def isclose(
    input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    """True where ``|input - other| <= atol + rtol * |other|`` (broadcasting), as
    ``torch.isclose``: infinities of the same sign are close; NaN is close to NaN only with
    ``equal_nan``. Tensors of different dtypes are compared in their common dtype (PyTorch
    requires one dtype).

    >>> import glassnet
    >>> glassnet.tensor([1.0, 2.0]).isclose(glassnet.tensor([1.0 + 1e-7, 2.1]))
    tensor([ True, False])
    """
    return Tensor(_close(input, other, rtol, atol, equal_nan, "isclose"))


def allclose(
    input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """Whether ``isclose`` holds everywhere (a Python bool, as ``torch.allclose``)."""
    return bool(_close(input, other, rtol, atol, equal_nan, "allclose").all())
