"""Masks and truth tests: ``masked_fill`` (differentiable), ``any``/``all`` and ``one_hot``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import normalize_dims, shape_str


class MaskedFill(Function):
    """y = value where mask, else x. The gradient of x is dy off the mask; a tensor ``value``
    (0-d) gets the sum of dy over the mask.

    Shapes:
        x: (*)   mask: broadcastable to x   value: ()   y: (*) (x's shape)
    """

    def forward(self, x: np.ndarray, mask: np.ndarray, value: Any) -> np.ndarray:
        self.mask = mask
        return np.where(mask, np.asarray(value).astype(x.dtype), x)

    def backward(self, dy: np.ndarray) -> tuple[Any, None, Any]:
        zero = np.zeros((), dy.dtype)
        dx = np.where(self.mask, zero, dy) if self.needs_input_grad[0] else None
        dv = None
        if self.needs_input_grad[2]:
            dv = np.asarray(np.where(self.mask, dy, zero).sum(), dtype=dy.dtype)  # ()
        return dx, None, dv


# ---------------------------------------------------------------------------- functional forms
def check_mask(x: Tensor, mask: Any, op: str) -> np.ndarray:
    """The boolean array of ``mask``, checked to broadcast to ``x``'s shape."""
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"{op} expected a boolean mask, got dtype {m.dtype}")
    try:
        ok = np.broadcast_shapes(m.shape, x.shape) == x.shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{op} expected a mask broadcastable to the tensor's shape {shape_str(x.shape)}, "
            f"got {shape_str(m.shape)}"
        )
    return m


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """``value`` where ``mask`` is True, else ``x`` (PyTorch's ``masked_fill``).

    ``value`` is a number (converted to x's dtype, so 2.7 fills an integer tensor with 2) or a
    0-d tensor, which then receives a gradient.

    Shapes:
        x: (*)   mask: broadcastable to x   y: (*)

    >>> import glassnet
    >>> x = glassnet.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> x.masked_fill(x > 2.5, 0.0)
    tensor([[1., 2.],
            [0., 0.]])
    """
    m = check_mask(x, mask, "masked_fill")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(
                f"masked_fill expected a number or a 0-d tensor as value, got a tensor of shape "
                f"{shape_str(value.shape)}"
            )
    elif isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    elif not isinstance(value, (bool, int, float, np.generic)):
        raise TypeError(
            f"masked_fill expected a number or a 0-d tensor as value, got {type(value).__name__}"
        )
    return MaskedFill.apply(x, m, value)


def _truth(x: Tensor, dim: int | Sequence[int] | None, keepdim: bool, op: str) -> Tensor:
    a = x.data if isinstance(x, Tensor) else np.asarray(x)
    axes = normalize_dims(dim, a.ndim)
    r = np.asarray((np.any if op == "any" else np.all)(a, axis=axes, keepdims=keepdim))
    # PyTorch keeps uint8 for uint8 input (its old boolean type); everything else gives bool
    return Tensor(r.astype(np.uint8) if a.dtype == np.uint8 else r)


def any(x: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    """Whether any element (along ``dim``, or of the whole tensor) is nonzero; not differentiable.

    >>> import glassnet
    >>> glassnet.tensor([[0.0, 1.0], [0.0, 0.0]]).any(1)
    tensor([ True, False])
    """
    return _truth(x, dim, keepdim, "any")


def all(x: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    """Whether every element (along ``dim``, or of the whole tensor) is nonzero.

    >>> import glassnet
    >>> glassnet.tensor([[0.0, 1.0], [2.0, 3.0]]).all(1)
    tensor([False,  True])
    """
    return _truth(x, dim, keepdim, "all")


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot rows: ``y[..., c] = 1`` where ``tensor[...] == c`` (as ``F.one_hot``).

    ``num_classes=-1`` takes ``tensor.max() + 1``. Not differentiable.

    Shapes:
        tensor: (*) integer class indices in [0, C)   y: (*, C)

    >>> import glassnet
    >>> import glassnet.nn.functional as F
    >>> F.one_hot(glassnet.tensor([0, 2]), 3)
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    a = tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if a.dtype.kind not in "iu":
        raise TypeError(
            f"one_hot expected an integer tensor of class indices, got dtype {a.dtype}; "
            "use .long() on it"
        )
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"one_hot num_classes must be an int, got {type(num_classes).__name__}")
    if a.size and a.min() < 0:
        raise ValueError(f"one_hot expected non-negative class values, got {a.min()}")
    if num_classes == -1:
        if a.size == 0:
            raise ValueError("one_hot cannot infer num_classes from an empty tensor; pass it")
        num_classes = int(a.max()) + 1
    elif num_classes < 1:
        raise ValueError(f"one_hot num_classes must be positive or -1, got {num_classes}")
    elif a.size and a.max() >= num_classes:
        raise ValueError(
            f"one_hot expected class values smaller than num_classes={num_classes}, got {a.max()}"
        )
    return Tensor((a[..., None] == np.arange(num_classes)).astype(np.int64))  # (*, C)
