"""Fused Elman RNN layer: the whole sequence in one op, its backward the BPTT loop written out.

PyTorch's equation: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (or ``relu``). Backward::

    for t in reversed(range(T)):
        dh   = dy_t + dh_next                 # dL/dh_t: from the output and from step t+1
        da_t = dh * f'(a_t)                   # f' = 1 - h_t^2 (tanh) or [h_t > 0] (relu)
        dh_next = da_t @ W_hh                 # the Jacobian dh_t/dh_{t-1} = diag(f') W_hh
    dW_ih = sum_t da_t^T x_t,  dW_hh = sum_t da_t^T h_{t-1},  dx_t = da_t @ W_ih  (after the loop)

The two loops live in ``glassnet.kernels.rnn``; this op computes the factors f'(a_t) of all steps
before the loop and the weight, bias and input gradients after it, as single large matmuls. The
textbook form of the same layer: ``glassnet.ops.reference.RNN``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..kernels import rnn as kernel
from ..kernels.time_plan import step_emitter
from .recurrent_base import GradHook, RecurrentLayer, TimePlan, saved_steps


def _forward_dir(
    x: np.ndarray,
    states: tuple[np.ndarray, ...],
    w: tuple[Any, ...],
    plan: TimePlan,
    reverse: bool,
    save: bool,
    relu: bool = False,
) -> tuple[np.ndarray, tuple[np.ndarray, ...], dict[str, Any] | None]:
    """One direction over the sequence. Returns (Y (T, N, H), (h_n (N, H),), saved)."""
    w_ih, w_hh, b_ih, b_hh = w
    (h0,) = states
    x2 = x.reshape(-1, x.shape[2])  # this kernel is batch-major: rows (t, n)
    T, N, dt = plan.T, plan.N, x2.dtype
    H = w_hh.shape[1]
    G = (x2 @ w_ih.T).reshape(T, N, H)  # all input projections up front
    if b_ih is not None:
        G += b_ih + b_hh
    whh_t = np.ascontiguousarray(w_hh.T)  # (H, H); contiguous: a plain GEMM per step is faster
    S = np.zeros((T + 1, N, H), dt)
    kernel.forward_steps(G, S, whh_t, h0, plan, reverse, relu)
    Y, h_n = (S[:-1], S[0].copy()) if reverse else (S[1:], plan.last_state(S))
    saved = None
    if save:
        saved = saved_steps(plan, S=S)
    return Y, (h_n,), saved


def _backward_dir(
    sv: dict[str, Any],
    x2: np.ndarray,
    dY: np.ndarray,
    d_states: tuple[np.ndarray, ...],
    w: tuple[Any, ...],
    plan: TimePlan,
    reverse: bool,
    needs: tuple[bool, ...],
    hook: GradHook | None,
    layer: int,
    direction: int,
    relu: bool = False,
) -> tuple[Any, ...]:
    """BPTT for one direction. Returns (dx part (W*N, D), dh0, dw_ih, dw_hh, db, db)."""
    w_ih, w_hh, b_ih, _b_hh = w
    (dhn,) = d_states
    S = sv["S"]
    t0, N, dt = plan.t0, plan.N, S.dtype
    W, H = S.shape[0] - 1, S.shape[2]
    Hout, Hprev = (S[:-1], S[1:]) if reverse else (S[1:], S[:-1])
    if plan.keep is not None:
        Hprev = Hprev * plan.keep[t0:]
    if relu:  # f'(a_t) for all steps at once
        Fd = (Hout > 0).astype(dt)
    else:
        Fd = np.multiply(Hout, Hout)
        np.subtract(1, Fd, out=Fd)
    if plan.valid is not None:  # rows past a sequence's end must contribute zero
        Fd *= plan.valid[t0:]
    dA = Fd  # each step turns its factor into its gradient in place
    dH = dhn.astype(dt, copy=True)
    emit = step_emitter(plan, hook, layer, direction)
    kernel.backward_steps(dA, dY, dH, w_hh, plan, reverse, emit)
    if t0 > 0:
        dH[...] = 0
    dAf = dA.reshape(W * N, H)
    X = x2[t0 * N :]
    dx = dAf @ w_ih if needs[0] else None
    dw_ih = dAf.T @ X if needs[2] else None
    dw_hh = dAf.T @ Hprev.reshape(W * N, H) if needs[3] else None
    db = dAf.sum(0) if b_ih is not None else None
    return dx, dH, dw_ih, dw_hh, db, db


class RNNLayer(RecurrentLayer):
    """One Elman RNN layer over a whole sequence (both directions if given two weight groups).

    Reference (textbook) form, one direction: ``glassnet.ops.reference.RNN``; step loops:
    ``glassnet.kernels.rnn``.

    Positional inputs: ``x, h0`` then, per direction, ``w_ih, w_hh, b_ih, b_hh`` (``None`` for
    absent biases). Static ``nonlinearity`` is ``"tanh"`` or ``"relu"``. Outputs ``(y, h_n)``.

    Shapes:
        x: (T, N, D)   h0: (Dir, N, H)   w_ih: (H, D)   w_hh: (H, H)   b_ih, b_hh: (H,)
        y: (T, N, Dir*H)   h_n: (Dir, N, H)

    Static options as :class:`~glassnet.ops.recurrent_lstm.LSTMLayer`.
    """

    forward_dir = staticmethod(_forward_dir)
    backward_dir = staticmethod(_backward_dir)

    def forward(
        self,
        x: np.ndarray,
        h0: np.ndarray,
        *weights: Any,
        nonlinearity: str = "tanh",
        **static: Any,
    ) -> tuple[np.ndarray, ...]:
        self.options = {"relu": nonlinearity == "relu"}
        return self.run(x, (h0,), weights, **static)
