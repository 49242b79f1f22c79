"""Vector p-norms: ``vector_norm`` (``torch.linalg.vector_norm``) and ``norm`` (``torch.norm``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import normalize_dims, shape_str


class VectorNorm(Function):
    """y = (sum |x|^p)^(1/p) over ``axes``; p = inf: max |x|, -inf: min |x|, 0: nonzero count.

    dx = sign(x) |x|^(p-1) / y^(p-1) dy, which is x / y for p = 2 and sign(x) for p = 1; it is
    0 where x = 0 (p < 1) or y = 0, as PyTorch. For p = +-inf the gradient is shared evenly
    among the elements that attain the extreme, and p = 0 has none.

    Shapes:
        x: (*)   y: x's shape without ``axes`` (kept as 1 with ``keepdim``)
    """

    def forward(
        self, x: np.ndarray, *, ord: float, axes: tuple[int, ...], keepdim: bool
    ) -> np.ndarray:
        a = np.abs(x)
        if ord == math.inf:
            y = a.max(axis=axes, keepdims=True)
        elif ord == -math.inf:
            y = a.min(axis=axes, keepdims=True)
        elif ord == 0:
            y = (a != 0).sum(axis=axes, keepdims=True).astype(x.dtype)
        elif ord == 1:
            y = a.sum(axis=axes, keepdims=True)
        elif ord == 2:
            y = np.sqrt((x * x).sum(axis=axes, keepdims=True))
        else:
            with np.errstate(divide="ignore", over="ignore"):  # 0 ** (p < 0) is inf
                y = np.power((a**ord).sum(axis=axes, keepdims=True), 1.0 / ord)
        self.x, self.y, self.ord = x, y, ord  # y keeps the reduced axes as 1
        self.axes, self.keepdim = axes, keepdim
        return y if keepdim else np.asarray(y.squeeze(axis=axes))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        x, y, p = self.x, self.y, self.ord
        g = dy if self.keepdim else np.expand_dims(dy, self.axes)
        if p == 0:
            return np.zeros_like(x)
        if p == 1:
            return np.sign(x) * g
        if p in (math.inf, -math.inf):
            hit = np.abs(x) == y  # every element attaining the extreme
            share = g / hit.sum(axis=self.axes, keepdims=True)
            return np.sign(x) * hit * share
        if p == 2:
            d = np.divide(x, y, out=np.zeros_like(x), where=y != 0)
            return d * g
        a = np.abs(x)
        num = np.power(a, p - 1, out=np.zeros_like(x), where=a != 0)  # |x|^(p-1), 0 at x = 0
        den = np.power(y, p - 1, out=np.ones_like(y), where=y != 0)
        d = np.divide(num, den, out=np.zeros_like(x), where=np.broadcast_to(y != 0, x.shape))
        return np.sign(x) * d * g


# ---------------------------------------------------------------------------- functional forms
def vector_norm(
    x: Tensor,
    ord: float = 2,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: Any = None,
) -> Tensor:
    """The ``ord``-norm of ``x`` over ``dim`` (all dimensions when None or empty), as
    ``torch.linalg.vector_norm``.

    ``ord`` is any real number or +-inf: ``(sum |x|^ord)^(1/ord)``; inf is ``max |x|``, -inf
    ``min |x|``, 0 the number of nonzero elements.

    Shapes:
        x: (*)   y: x's shape without ``dim`` (size 1 there with ``keepdim``)

    >>> import glassnet
    >>> glassnet.tensor([[3.0, -4.0], [0.0, 1.0]]).norm(dim=1)
    tensor([5., 1.])
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"vector_norm expected a Tensor, got {type(x).__name__}")
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise TypeError(
            f"vector_norm expected a floating-point tensor, got dtype {x.dtype}; use .float()"
        )
    if isinstance(ord, (bool, str)) or not isinstance(ord, (int, float, np.integer, np.floating)):
        raise TypeError(f"vector_norm ord must be a number (or inf), got {ord!r}")
    if math.isnan(ord):
        raise ValueError("vector_norm ord must not be nan")
    axes = normalize_dims(None if dim is None or dim == () else dim, x.ndim)
    if abs(ord) == math.inf and any(x.shape[a] == 0 for a in axes):
        raise ValueError(
            f"vector_norm cannot take the {ord} norm over an empty dimension (shape "
            f"{shape_str(x.shape)}): max and min have no identity"
        )
    return VectorNorm.apply(x, ord=float(ord), axes=axes, keepdim=bool(keepdim))


def norm(
    x: Tensor,
    p: float | str = "fro",
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    dtype: Any = None,
) -> Tensor:
    """``torch.norm``: ``p='fro'`` (the default) is the 2-norm of all elements, or of ``dim``
    (one or two dimensions); a number ``p`` is ``vector_norm(x, p, dim)``.

    The nuclear norm (``p='nuc'``) is not provided.

    Shapes:
        x: (*)   y: x's shape without ``dim`` (size 1 there with ``keepdim``)
    """
    if isinstance(p, str):
        if p == "nuc":
            raise NotImplementedError(
                "norm(p='nuc'): the nuclear norm needs an SVD, which glassnet does not provide"
            )
        if p != "fro":
            raise ValueError(f"norm expected p to be a number, 'fro' or 'nuc', got {p!r}")
        if dim is not None and not isinstance(dim, (int, np.integer)) and len(dim) > 2:
            raise ValueError(
                f"norm(p='fro') takes one or two dimensions, got dim={tuple(dim)}; use "
                "vector_norm for more"
            )
        p = 2
    return vector_norm(x, p, dim, keepdim, dtype=dtype)
