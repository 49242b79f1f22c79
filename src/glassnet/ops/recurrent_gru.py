"""Fused GRU layer: the whole sequence in one op, its backward the BPTT loop written out.

PyTorch's equations and gate rows (r, z, n)::

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)      z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   h' = (1 - z) * n + z * h = n + z * (h - n)

The step loops live in ``glassnet.kernels.gru``, which says how the arithmetic is arranged for
speed (sigmoid via halved tanh, feature-major arrays, the layout of the gate gradients); this op
chooses them, provides their buffers, and computes the weight, bias and input gradients after the
BPTT loop as single large matmuls. Public shapes stay batch-major (T, N, .). The textbook form of
the same layer, forward and BPTT as plain loops over time: ``glassnet.ops.reference.GRU``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..kernels import gru as kernel
from ..kernels.scratch import scratch
from ..kernels.time_plan import step_emitter
from .recurrent_base import (
    GradHook,
    RecurrentLayer,
    TimePlan,
    batch_major,
    derivative_factors,
    feature_major_grad,
    previous_states,
    rotate_rows,
    saved_steps,
    zero_ended,
)


def _forward_dir(
    x3: np.ndarray,
    states: tuple[np.ndarray, ...],
    w: tuple[Any, ...],
    plan: TimePlan,
    reverse: bool,
    save: bool,
) -> tuple[np.ndarray, tuple[np.ndarray, ...], dict[str, Any] | None]:
    """One direction over the sequence. Returns (Y (T, N, H), (h_n (N, H),), saved).

    Inside, every per-step array is feature-major, batch last (``glassnet.kernels.gru``).
    """
    w_ih, w_hh, b_ih, b_hh = w
    (h0,) = states
    T, N, dt = plan.T, plan.N, x3.dtype
    H = w_hh.shape[1]
    gates, whh, b_hn = kernel.input_projections(x3, w_ih, w_hh, b_ih, b_hh)  # (T, 3, H, N)
    hs = np.zeros((T + 1, H, N), dt)  # hidden states; hs[0] (forward) or hs[T] (reverse) is h0
    alloc = np.zeros if plan.ragged else np.empty  # columns past an end stay finite (zero)
    hidden_n = alloc((T, H, N), dt)  # W_hn h + b_hn
    h_minus_n = alloc((T, H, N), dt)  # h_prev - n
    kernel.forward_steps(gates, hs, hidden_n, h_minus_n, whh, b_hn, h0, plan, reverse)
    hs_b = hs.transpose(0, 2, 1)  # batch-major view (T+1, N, H)
    Y, h_n = (hs_b[:-1], hs_b[0].copy()) if reverse else (hs_b[1:], plan.last_state(hs_b))
    saved = None
    if save:
        saved = saved_steps(plan, G=gates, S=hs, hidden_n=hidden_n, h_minus_n=h_minus_n)
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
) -> tuple[Any, ...]:
    """BPTT for one direction. Returns (dx part (W*N, D), dh0, dw_ih, dw_hh, db_ih, db_hh)."""
    w_ih, w_hh, b_ih, _b_hh = w
    (dhn,) = d_states
    gates, hs, hidden_n, h_minus_n = sv["G"], sv["S"], sv["hidden_n"], sv["h_minus_n"]
    t0, N, dt = plan.t0, plan.N, gates.dtype
    W, H = gates.shape[0], gates.shape[2]
    (h_prevs,) = previous_states(plan, reverse, hs)  # (W, H, N)
    # one buffer in the layout of the gradients (hidden_n, r, z, n), filled with the derivative
    # factors (kernel.backward_factors); the BPTT loop turns step t's factors into its gradients
    # in place. Per-thread buffers (``kernels.scratch``); private ones when a hook, which may run
    # another backward of this kernel, is called while they are live
    own = hook is None
    dgates = scratch("gru.factors", (W, 4, H, N), dt, reuse=own)
    derivative_factors(kernel.backward_factors, N, H, gates, hidden_n, h_minus_n, dgates)
    whh_t = np.ascontiguousarray(rotate_rows(w_hh, 2 * H).T)  # (H, 3H), columns n, r, z
    zero_ended(dgates, plan)
    dy_steps = feature_major_grad(dY, plan, "gru.dy", dt, own)  # (W, H, N)
    dh_carry = np.array(dhn.T, dtype=dt, order="C")  # carried dL/dh (H, N), a fresh copy
    emit = step_emitter(plan, hook, layer, direction)
    kernel.backward_steps(dgates, gates[:, 1], dy_steps, dh_carry, whh_t, plan, reverse, emit)
    if t0 > 0:  # the gradient stopped before reaching the initial state
        dh_carry[...] = 0
    # bulk GEMMs on batch-major rows (t, n): columns (hidden_n, r, z, n); r, z, n are the input
    # projection's, hidden_n, r, z the recurrent matmul's (strided column views, no further copy)
    dgates_rows = batch_major(dgates.reshape(W, 4 * H, N), "gru.dg")  # (W*N, 4H)
    d_input, d_hidden = dgates_rows[:, H:], dgates_rows[:, : 3 * H]
    X = x2[t0 * N :]
    dx = d_input @ w_ih if needs[0] else None  # (W*N, D)
    dw_ih = d_input.T @ X if needs[2] else None
    dw_hh = None
    if needs[3]:  # rows back to r, z, n
        dw_hh = rotate_rows(d_hidden.T @ batch_major(h_prevs, "gru.h"), H)
    db_ih = d_input.sum(0) if b_ih is not None and needs[4] else None
    db_hh = rotate_rows(d_hidden.sum(0), H) if b_ih is not None and needs[5] else None
    return dx, dh_carry.T.copy(), dw_ih, dw_hh, db_ih, db_hh


class GRULayer(RecurrentLayer):
    """One GRU layer over a whole sequence (both directions if given two weight groups).

    Reference (textbook) form, one direction: ``glassnet.ops.reference.GRU``; step loops:
    ``glassnet.kernels.gru``.

    Positional inputs: ``x, h0`` then, per direction, ``w_ih, w_hh, b_ih, b_hh`` (``None`` for
    absent biases). Outputs ``(y, h_n)``.

    Shapes:
        x: (T, N, D)   h0: (Dir, N, H)   w_ih: (3H, D)   w_hh: (3H, H)   b_ih, b_hh: (3H,)
        y: (T, N, Dir*H)   h_n: (Dir, N, H)

    Static options as :class:`~glassnet.ops.recurrent_lstm.LSTMLayer`.
    """

    forward_dir = staticmethod(_forward_dir)
    backward_dir = staticmethod(_backward_dir)

    def forward(
        self, x: np.ndarray, h0: np.ndarray, *weights: Any, **static: Any
    ) -> tuple[np.ndarray, ...]:
        return self.run(x, (h0,), weights, **static)
