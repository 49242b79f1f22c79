"""Numerical gradient checking by central differences with a random upstream gradient."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._random import get_rng
from . import grad_mode
from .tensor import Tensor


class GradcheckError(AssertionError):
    """The analytic and numerical gradients disagree."""


def _outputs(fn: Callable[..., Any], inputs: Sequence[Any]) -> list[Tensor]:
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    rng: np.random.Generator | None = None,
    raise_exception: bool = True,
) -> bool:
    """Compare ``fn``'s backward with central differences of ``sum_k <v_k, fn(x)_k>``.

    The upstream gradients ``v_k`` are random (a ``.sum()`` would hide errors that cancel), so
    this checks the full vector-Jacobian product. Every tensor input with ``requires_grad`` is
    checked element by element. Use float64 inputs: float32 differences are too coarse.

    Args:
        fn: function of the inputs returning a tensor or a tuple of tensors.
        inputs: the arguments; tensors that require grad are checked, others passed as they are.
        eps: finite-difference step.
        atol, rtol: tolerance of ``|analytic - numeric| <= atol + rtol * |numeric|``.
        rng: generator for the random upstream gradients.
        raise_exception: raise ``GradcheckError`` on mismatch (else return False).

    Returns:
        True when every gradient matches.
    """
    rng = get_rng(rng)
    checked = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck needs at least one input tensor with requires_grad=True")
    for x in checked:
        if x.dtype != np.float64:
            raise TypeError(
                f"gradcheck expects float64 inputs for reliable differences, got {x.dtype}"
            )
        x.grad = None
    outs = _outputs(fn, inputs)
    if not outs:
        raise ValueError("gradcheck: fn returned no floating-point tensor")
    vs = [rng.standard_normal(o.shape) for o in outs]

    def objective() -> float:
        with grad_mode.no_grad():
            os_ = _outputs(fn, inputs)
        return float(sum(float((o.data * v).sum()) for o, v in zip(os_, vs)))

    # analytic: one backward of sum_k <v_k, out_k>
    total = None
    for o, v in zip(outs, vs):
        if not o.requires_grad:
            continue
        term = (o * Tensor(v.astype(o.dtype))).sum()
        total = term if total is None else total + term
    if total is not None:
        total.backward()
    for i, x in enumerate(checked):
        analytic = np.zeros_like(x.data) if x.grad is None else x.grad.data
        numeric = np.zeros_like(x.data)
        flat = x.data.reshape(-1)
        assert np.shares_memory(flat, x.data), "gradcheck needs contiguous inputs"
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            up = objective()
            flat[j] = orig - eps
            down = objective()
            flat[j] = orig
            numeric.reshape(-1)[j] = (up - down) / (2 * eps)
        err = np.abs(analytic - numeric)
        bad = err > atol + rtol * np.abs(numeric)
        if bad.any():
            k = np.unravel_index(int(np.argmax(err - rtol * np.abs(numeric))), x.shape)
            msg = (
                f"gradcheck failed for input {i} (shape {x.shape}): at index {tuple(map(int, k))} "
                f"analytic {analytic[k]:.8g} vs numeric {numeric[k]:.8g}; "
                f"{int(bad.sum())} of {bad.size} elements differ, max abs error {err.max():.3g}"
            )
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True
