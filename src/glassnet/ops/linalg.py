"""Matrix products: ``matmul`` (NumPy semantics, batched and broadcast) and the fused ``linear``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import as_operand, check_weight_dtype, shape_str, unbroadcast


class MatMul(Function):
    """y = a @ b.

    Shapes:
        a: (*, n, k)   b: (*, k, m)   y: (*, n, m)   (batch dims broadcast; 1-d operands as NumPy)
    """

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = a, b
        return np.matmul(a, b)

    def backward(self, dy: np.ndarray) -> tuple[Any, Any]:
        a, b = self.a, self.b
        a2 = a[None, :] if a.ndim == 1 else a  # (*, n, k)
        b2 = b[:, None] if b.ndim == 1 else b  # (*, k, m)
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g = dy.reshape(batch + (a2.shape[-2], b2.shape[-1]))  # (*, n, m)
        da = db = None
        if self.needs_input_grad[0]:
            da = np.matmul(g, np.swapaxes(b2, -1, -2))  # (*, n, k)
            da = unbroadcast(da, a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            db = np.matmul(np.swapaxes(a2, -1, -2), g)  # (*, k, m)
            db = unbroadcast(db, b2.shape).reshape(b.shape)
        return da, db


class Linear(Function):
    """y = x W^T + b.

    Shapes:
        x: (*, D)   w: (F, D)   b: (F,)   y: (*, F)
    """

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        self.x, self.w = x, w
        y = x @ w.T  # (*, F)
        if b is not None:
            y += b
        return y

    def backward(self, dy: np.ndarray) -> tuple[Any, Any, Any]:
        M = math.prod(dy.shape[:-1])  # explicit, not -1: D or F may be 0 (nn.Linear(0, 3))
        dy2 = dy.reshape(M, dy.shape[-1])  # (M, F)
        dx = dy @ self.w if self.needs_input_grad[0] else None  # (*, D)
        dw = (
            dy2.T @ self.x.reshape(M, self.x.shape[-1]) if self.needs_input_grad[1] else None
        )  # (F, D)
        db = dy2.sum(0) if self.needs_input_grad[2] else None
        return dx, dw, db


# ---------------------------------------------------------------------------- functional forms
def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy's rules (1-d operands, broadcast batch dimensions)."""
    a = a if isinstance(a, Tensor) else as_operand(a, b)
    b = b if isinstance(b, Tensor) else as_operand(b, a)
    sa, sb = (
        np.shape(a.data if isinstance(a, Tensor) else a),
        np.shape(b.data if isinstance(b, Tensor) else b),
    )
    if len(sa) == 0 or len(sb) == 0:
        raise ValueError(f"matmul expected tensors with at least 1 dimension, got {sa} @ {sb}")
    if a.dtype != b.dtype:  # PyTorch refuses too (no promotion in matrix products)
        raise TypeError(
            f"matmul expected both operands to have the same dtype, got {a.dtype} @ {b.dtype}: "
            "convert one with .to(), .float() or .double()"
        )
    k_a = sa[-1]
    k_b = sb[0] if len(sb) == 1 else sb[-2]
    batch_ok = True
    try:
        np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        batch_ok = False
    if k_a != k_b or not batch_ok:
        raise ValueError(
            f"matmul shape mismatch: {shape_str(sa)} @ {shape_str(sb)} "
            f"(expected a.shape[-1] == b.shape[-2] and broadcastable batch dimensions)"
        )
    return MatMul.apply(a, b)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b.

    Shapes:
        x: (*, in_features)   weight: (out_features, in_features)   bias: (out_features,)
        y: (*, out_features)

    >>> import numpy as np, glassnet
    >>> linear(glassnet.ones(2, 3), glassnet.ones(4, 3)).shape
    (2, 4)
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if weight.ndim != 2:
        raise ValueError(
            "linear expected a 2-d weight (out_features, in_features), "
            f"got {shape_str(weight.shape)}"
        )
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear expected input of shape (*, {weight.shape[1]}) (in_features = "
            f"{weight.shape[1]}), got {shape_str(x.shape)}"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(
            f"linear expected bias of shape ({weight.shape[0]},), got {shape_str(bias.shape)}"
        )
    check_weight_dtype("linear", x, weight)
    check_weight_dtype("linear", x, bias)
    return Linear.apply(x, weight, bias)
