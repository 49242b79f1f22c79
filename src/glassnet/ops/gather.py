"""Gather and scatter along one dimension: ``gather``, ``scatter``, ``scatter_add``.

For ``dim = 1`` of a 3-d tensor (PyTorch's definitions; the other dimensions alike)::

    gather:       y[i][j][k]              = x[i][index[i][j][k]][k]
    scatter:      y[i][index[i][j][k]][k] = src[i][j][k]        (y starts as a copy of x)
    scatter_add:  y[i][index[i][j][k]][k] += src[i][j][k]

``index`` has as many dimensions as ``x``; along every other dimension it is no larger than
``x`` (and, scattering, than ``src``), and the leading part of each is used. The two are
adjoint: the gradient of ``gather`` is a ``scatter_add`` of dy, and the gradient of
``scatter_add`` (and of ``scatter``) for ``src`` is a ``gather`` of dy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import normalize_dim, require_tensor, shape_str

Coords = tuple[np.ndarray, ...]


def coordinates(index: np.ndarray, dim: int) -> Coords:
    """The full positions ``index`` names: ``index`` along ``dim``, its own position along
    every other dimension (broadcasting aranges), ready for fancy indexing."""
    grids = list(np.ogrid[tuple(slice(n) for n in index.shape)])
    grids[dim] = index
    return tuple(grids)


def _leading(shape: tuple[int, ...]) -> tuple[slice, ...]:
    """The slice of the leading ``shape`` part of a larger array (``src[:a, :b, ...]``)."""
    return tuple(slice(n) for n in shape)


class Gather(Function):
    """y = x at ``coordinates(index, dim)``; dx adds dy into those places (a scatter-add:
    an index named twice collects both gradients).

    Shapes:
        x: (D_0, ..., D_m)   index: (I_0, ..., I_m), I_d <= D_d for d != dim   y: index's shape
    """

    def forward(self, x: np.ndarray, index: np.ndarray, *, dim: int) -> np.ndarray:
        self.at, self.shape = coordinates(index, dim), x.shape
        return x[self.at]

    def backward(self, dy: np.ndarray) -> tuple[np.ndarray, None]:
        dx = np.zeros(self.shape, dy.dtype)
        np.add.at(dx, self.at, dy)
        return dx, None


class Scatter(Function):
    """y = x with ``src`` (or the number ``value`` when src is None) written at
    ``coordinates(index, dim)``: dx is dy with those places zeroed, dsrc is dy gathered there.

    Shapes:
        x: (D_0, ..., D_m)   index: (I_0, ..., I_m)   src: (S_0, ..., S_m), S_d >= I_d
        y: x's shape
    """

    def forward(
        self, x: np.ndarray, index: np.ndarray, src: np.ndarray | None, *, dim: int, value: Any
    ) -> np.ndarray:
        self.at, self.used = coordinates(index, dim), index.shape
        self.src_shape = None if src is None else src.shape
        y = x.copy()
        y[self.at] = value if src is None else src[_leading(index.shape)]
        return y

    def backward(self, dy: np.ndarray) -> tuple[Any, None, Any]:
        dx = dsrc = None
        if self.needs_input_grad[0]:
            dx = dy.copy()
            dx[self.at] = 0
        if self.needs_input_grad[2]:
            assert self.src_shape is not None  # src was a tensor
            dsrc = np.zeros(self.src_shape, dy.dtype)
            dsrc[_leading(self.used)] = dy[self.at]
        return dx, None, dsrc


class ScatterAdd(Function):
    """y = x with ``src`` added at ``coordinates(index, dim)`` (repeated places add up):
    dx = dy, dsrc = dy gathered at those places.

    Shapes:
        x: (D_0, ..., D_m)   index: (I_0, ..., I_m)   src: (S_0, ..., S_m), S_d >= I_d
        y: x's shape
    """

    def forward(self, x: np.ndarray, index: np.ndarray, src: np.ndarray, *, dim: int) -> np.ndarray:
        self.at, self.src_shape, self.used = coordinates(index, dim), src.shape, index.shape
        y = x.copy()
        np.add.at(y, self.at, src[_leading(index.shape)])
        return y

    def backward(self, dy: np.ndarray) -> tuple[np.ndarray, None, Any]:
        dsrc = None
        if self.needs_input_grad[2]:
            dsrc = np.zeros(self.src_shape, dy.dtype)
            dsrc[_leading(self.used)] = dy[self.at]
        return dy, None, dsrc


# ---------------------------------------------------------------------------- functional forms
def _check_index(op: str, x: Tensor, dim: Any, index: Any) -> tuple[int, np.ndarray]:
    """(dim, index array), checked against ``x`` as PyTorch checks them."""
    d = normalize_dim(dim, x.ndim)
    idx = index.data if isinstance(index, Tensor) else index
    if not isinstance(idx, np.ndarray):
        raise TypeError(f"{op} expected index to be an integer tensor, got {type(index).__name__}")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op} expected index to be an integer tensor, got dtype {idx.dtype}")
    if max(idx.ndim, 1) != max(x.ndim, 1):  # PyTorch takes 0-d for 1-d with one element
        raise ValueError(
            f"{op} expected index with as many dimensions as the input ({x.ndim}), got "
            f"{idx.ndim} (index shape {shape_str(idx.shape)})"
        )
    xs, ids = x.shape or (1,), idx.shape or (1,)
    if any(i > n for k, (i, n) in enumerate(zip(ids, xs)) if k != d):
        raise ValueError(
            f"{op} expected index no larger than the input apart from dim {d}: index "
            f"{shape_str(idx.shape)}, input {shape_str(x.shape)}"
        )
    if idx.size:
        lo, hi = idx.min(), idx.max()
        if lo < 0 or hi >= xs[d]:
            raise IndexError(
                f"{op}: index {lo if lo < 0 else hi} is out of bounds for dim {d} of size {xs[d]}"
            )
    return d, idx


def _check_src(op: str, x: Tensor, idx: np.ndarray, src: Any) -> Tensor:
    s = require_tensor(src, "src", op)
    if s.dtype != x.dtype:
        raise TypeError(
            f"{op} expected src of the input's dtype {x.dtype}, got {s.dtype}; convert it with "
            f".to({x.dtype})"
        )
    if max(s.ndim, 1) != max(idx.ndim, 1) or any(
        i > n for i, n in zip(idx.shape or (1,), s.shape or (1,))
    ):
        raise ValueError(
            f"{op} expected src with index's number of dimensions and no smaller than it: index "
            f"{shape_str(idx.shape)}, src {shape_str(s.shape)}"
        )
    return s


def _as_1d(t: Tensor) -> Tensor:
    """PyTorch gathers and scatters a 0-d tensor as a vector of one element."""
    return t.reshape(1) if t.ndim == 0 else t


def _like(x: Tensor, y: Tensor) -> Tensor:
    """``y`` in ``x``'s shape (0-d again after ``_as_1d``)."""
    return y if y.shape == x.shape else y.reshape(x.shape)


def gather(input: Tensor, dim: int, index: Any, *, sparse_grad: bool = False) -> Tensor:
    """Values of ``input`` picked along ``dim`` by ``index`` (as ``torch.gather``):
    ``y[i][j] = input[index[i][j]][j]`` for ``dim=0``, ``input[i][index[i][j]]`` for ``dim=1``.

    Differentiable in ``input`` (an index named twice collects both gradients). ``index`` may
    have any integer dtype; ``sparse_grad`` is accepted and the gradient is always dense.

    Shapes:
        input: (D_0, ..., D_m)   index: (I_0, ..., I_m), I_d <= D_d for d != dim
        y: (I_0, ..., I_m)

    >>> import glassnet
    >>> x = glassnet.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> x.gather(1, glassnet.tensor([[0, 0], [1, 0]]))
    tensor([[1., 1.],
            [4., 3.]])
    """
    x = require_tensor(input, "input", "gather")
    d, idx = _check_index("gather", x, dim, index)
    y = Gather.apply(_as_1d(x), idx.reshape(idx.shape or (1,)), dim=d)
    return y if y.shape == idx.shape else y.reshape(idx.shape)


def scatter(input: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None) -> Tensor:
    """A copy of ``input`` with ``src`` written where ``index`` points along ``dim`` (as
    ``torch.scatter``): ``y[index[i][j]][j] = src[i][j]`` for ``dim=0``.

    ``src`` is a tensor of ``input``'s dtype (its leading index-shaped part is used) or a
    number; ``value=`` names the number form. Where ``index`` names a place twice, one of the
    values lands there (which one is unspecified, as in PyTorch). Differentiable in ``input``
    (zero where written) and ``src`` (dy gathered where each value went). The deprecated
    ``reduce=`` is not taken: use ``scatter_add``.

    Shapes:
        input: (D_0, ..., D_m)   index: (I_0, ..., I_m), I_d <= D_d for d != dim
        src: (S_0, ..., S_m), S_d >= I_d   y: input's shape

    >>> import glassnet
    >>> glassnet.zeros(2, 3).scatter(1, glassnet.tensor([[2], [0]]), 1.0)
    tensor([[0., 0., 1.],
            [1., 0., 0.]])
    """
    x = require_tensor(input, "input", "scatter")
    d, idx = _check_index("scatter", x, dim, index)
    if (src is None) == (value is None):
        raise TypeError("scatter expected one of src (a tensor or number) and value, got "
                        + ("neither" if src is None else "both"))  # fmt: skip
    number = value if src is None else src
    ids = idx.reshape(idx.shape or (1,))
    if isinstance(number, (Tensor, np.ndarray)):
        s = _check_src("scatter", x, idx, number)
        return _like(x, Scatter.apply(_as_1d(x), ids, _as_1d(s), dim=d, value=None))
    if isinstance(number, bool) or not isinstance(number, (int, float, np.number)):
        kind = type(number).__name__
        raise TypeError(f"scatter expected src to be a tensor or a number, got {kind}")
    fill = np.asarray(number).astype(x.dtype)  # cast to input's dtype, as PyTorch
    return _like(x, Scatter.apply(_as_1d(x), ids, None, dim=d, value=fill))


def scatter_add(input: Tensor, dim: int, index: Any, src: Any) -> Tensor:
    """A copy of ``input`` with ``src`` added where ``index`` points along ``dim`` (as
    ``torch.scatter_add``): ``y[index[i][j]][j] += src[i][j]`` for ``dim=0``; places named
    more than once receive every value. Differentiable in ``input`` and ``src``.

    Shapes:
        input: (D_0, ..., D_m)   index: (I_0, ..., I_m), I_d <= D_d for d != dim
        src: (S_0, ..., S_m), S_d >= I_d   y: input's shape

    >>> import glassnet
    >>> counts = glassnet.zeros(3, dtype=glassnet.int64)
    >>> counts.scatter_add(0, glassnet.tensor([0, 2, 2, 2]), glassnet.ones(4, dtype=glassnet.int64))
    tensor([1, 0, 3])
    """
    x = require_tensor(input, "input", "scatter_add")
    d, idx = _check_index("scatter_add", x, dim, index)
    s = _check_src("scatter_add", x, idx, src)
    ids = idx.reshape(idx.shape or (1,))
    return _like(x, ScatterAdd.apply(_as_1d(x), ids, _as_1d(s), dim=d))
