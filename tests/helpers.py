"""Test helpers: PyTorch parity and gradient checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

import glassnet
from glassnet.autograd import gradcheck

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - torch is in the test extra
    torch = None


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def assert_close(actual: Any, expected: Any, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    """Compare glassnet/torch/NumPy values (float64 parity: ~1e-10 relative)."""
    a = _np(actual)
    e = _np(expected)
    assert a.shape == e.shape, f"shape {a.shape} != {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


def _np(x: Any) -> np.ndarray:
    if isinstance(x, glassnet.Tensor):
        return x.data
    if torch is not None and isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def to_torch(x: np.ndarray, requires_grad: bool = False) -> Any:
    return torch.tensor(np.array(x), requires_grad=requires_grad)


def check_grad(fn: Callable[..., Any], *arrays: np.ndarray, seed: int = 0, **kw: Any) -> None:
    """float64 gradcheck of ``fn`` on tensors built from ``arrays`` (all require grad)."""
    ts = [glassnet.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    assert gradcheck(fn, ts, rng=np.random.default_rng(seed), **kw)


def parity(
    ours: Callable[..., Any],
    theirs: Callable[..., Any],
    *arrays: np.ndarray,
    seed: int = 0,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> None:
    """Forward and every input gradient of ``ours`` equal ``theirs`` (torch) in float64.

    Both functions take one tensor per array and return a tensor or a tuple of tensors; the
    backward uses the same random upstream gradient on both sides.
    """
    g_in = [glassnet.tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
    t_in = [to_torch(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
    go = ours(*g_in)
    to = theirs(*t_in)
    go = list(go) if isinstance(go, (tuple, list)) else [go]
    to = list(to) if isinstance(to, (tuple, list)) else [to]
    assert len(go) == len(to)
    if backward_random(go, to, seed, rtol, atol):
        assert_same_grads(zip(g_in, t_in), rtol, atol)


def assert_same_grads(
    pairs: Iterable[tuple[Any, Any]], rtol: float = 1e-10, atol: float = 1e-12
) -> None:
    """Every (glassnet, torch) leaf pair holds the same ``.grad`` (none or zeros where torch
    has none)."""
    for a, b in pairs:
        if b.grad is None:
            assert a.grad is None or not np.any(a.grad.data), "glassnet has a gradient, torch not"
            continue
        assert a.grad is not None, "glassnet gave no gradient where torch did"
        assert_close(a.grad, b.grad, rtol, atol)


def backward_random(
    outs_g: Sequence[Any],
    outs_t: Sequence[Any],
    seed: Any = 0,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> bool:
    """Check outputs equal, then backpropagate ``sum_k <v_k, out_k>`` on both sides.

    The same random ``v_k`` (a real upstream gradient, not ``.sum()``) for glassnet's and torch's
    outputs; ``seed`` is an int or a ``np.random.Generator`` to draw from. Outputs that need no
    gradient in torch (integer indices, a loss of constants) are left out; False when none is
    left.
    """
    r = np.random.default_rng(seed)
    loss_g: Any = 0
    loss_t: Any = 0
    for a, b in zip(outs_g, outs_t):
        assert_close(a, b, rtol, atol)
        if isinstance(b, torch.Tensor) and not b.requires_grad:
            continue
        assert not isinstance(a, glassnet.Tensor) or a.requires_grad, "no grad where torch has"
        v = r.standard_normal(a.shape)
        loss_g = loss_g + (a * glassnet.tensor(v)).sum()
        loss_t = loss_t + (b * torch.from_numpy(v)).sum()
    if isinstance(loss_t, int):
        return False
    loss_g.backward()
    loss_t.backward()
    return True


def arrays_of(shape: Sequence[int], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(tuple(shape))
