"""Tensor constructors: ``tensor``, ``zeros``, ``ones``, ``randn``, ``arange``, ..."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._dtype import get_default_dtype
from ._random import resolve_rng
from .autograd.tensor import Tensor
from .device import check_device as _on  # PyTorch's device=: None or the CPU
from .ops._util import specialize


def _shape(size: tuple[Any, ...]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(int(s) for s in size)


def _dt(dtype: Any) -> np.dtype:
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python floats become the default dtype).

    >>> tensor([1.0, 2.0]).dtype
    dtype('float32')
    """
    _on(device)
    src = data.data if isinstance(data, Tensor) else data
    t = Tensor(np.array(src, copy=True) if isinstance(src, np.ndarray) else src, dtype=dtype)
    if t.data is src:
        t.data = t.data.copy()
    return t.requires_grad_(requires_grad) if requires_grad else t


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a tensor, sharing memory where it can (``torch.as_tensor``).

    A tensor comes back as it is (cast if ``dtype`` differs, staying in the graph); a NumPy
    array of the requested dtype is shared, not copied, and keeps its dtype (float64 stays
    float64); Python data gets PyTorch's dtype: floats the default dtype (float32 unless
    changed), ints int64, bools bool, and NumPy scalars or arrays inside a list their own dtype,
    promoted as ``torch.promote_types`` does (``[np.float64(1.0)]`` is float64).

    >>> import numpy as np
    >>> a = np.zeros(2)
    >>> t = as_tensor(a)
    >>> a[0] = 1.0
    >>> t, as_tensor([1.0, 2.0]).dtype
    (tensor([1., 0.], dtype=float64), dtype('float32'))
    """
    _on(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    return Tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory and dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expected an ndarray, got {type(array).__name__}")
    return Tensor(array)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    _on(device)
    return Tensor(np.zeros(_shape(size), _dt(dtype)), requires_grad=requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    _on(device)
    return Tensor(np.ones(_shape(size), _dt(dtype)), requires_grad=requires_grad)


def full(
    size: Any,
    fill_value: float,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    _on(device)
    return Tensor(np.full(_shape((size,)), fill_value, _dt(dtype)), requires_grad=requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None) -> Tensor:
    _on(device)
    return Tensor(np.empty(_shape(size), _dt(dtype)))


def zeros_like(
    x: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    _on(device)
    return Tensor(np.zeros(x.shape, dtype or x.dtype), requires_grad=requires_grad)


def ones_like(
    x: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    _on(device)
    return Tensor(np.ones(x.shape, dtype or x.dtype), requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None) -> Tensor:
    _on(device)
    return Tensor(np.eye(n, m, dtype=_dt(dtype)))


def arange(
    start: float, end: float | None = None, step: float = 1, dtype: Any = None, device: Any = None
) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive); integers stay int64 as in PyTorch."""
    _on(device)
    if end is None:
        start, end = 0, start
    ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    d = (
        np.dtype(dtype)
        if dtype is not None
        else (np.dtype(np.int64) if ints else get_default_dtype())
    )
    return Tensor(np.arange(start, end, step).astype(d))


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = None) -> Tensor:
    _on(device)
    return Tensor(np.linspace(start, end, steps).astype(_dt(dtype)))


def _random(
    *size: Any,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    rng: np.random.Generator | None = None,
    generator: np.random.Generator | None = None,
    _draw: str = "standard_normal",
) -> Tensor:
    _on(device)
    g = resolve_rng(rng, generator, "randn" if _draw == "standard_normal" else "rand")
    data = getattr(g, _draw)(_shape(size)).astype(_dt(dtype))
    return Tensor(data, requires_grad=requires_grad)


randn = specialize(
    _random, "randn", "Standard normal samples from ``rng`` (the package generator by default; "
    "``generator`` is PyTorch's name for it).",
    _draw="standard_normal",
)  # fmt: skip
rand = specialize(
    _random, "rand", "Uniform samples in [0, 1) from ``rng`` (the package generator by default; "
    "``generator`` is PyTorch's name for it).",
    _draw="random",
)  # fmt: skip


def randint(
    low: int,
    high: int,
    size: Any,
    *,
    device: Any = None,
    rng: np.random.Generator | None = None,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Integers in [low, high) (int64); ``generator`` is PyTorch's name for ``rng``."""
    _on(device)
    g = resolve_rng(rng, generator, "randint")
    return Tensor(g.integers(low, high, _shape((size,))).astype(np.int64))


def randperm(
    n: int,
    *,
    generator: np.random.Generator | None = None,
    rng: np.random.Generator | None = None,
    dtype: Any = np.int64,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A random permutation of ``0, ..., n - 1`` (as ``torch.randperm``; int64 by default).

    Drawn from ``rng`` (or ``generator``, PyTorch's name for it; a ``numpy.random.Generator``),
    the package generator when both are None.

    >>> import numpy as np
    >>> sorted(randperm(5, rng=np.random.default_rng(0)).tolist())
    [0, 1, 2, 3, 4]
    """
    _on(device)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"randperm expected an int n, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"randperm expected n >= 0, got {n}")
    perm = resolve_rng(rng, generator, "randperm").permutation(int(n))
    return Tensor(perm.astype(np.dtype(dtype)), requires_grad=requires_grad)
