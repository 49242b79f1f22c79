"""Fused LSTM layer: the whole sequence in one op, its backward the BPTT loop written out.

PyTorch's equations and gate rows (i, f, g, o)::

    i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)      f = sigmoid(W_if x + b_if + W_hf h + b_hf)
    g = tanh(W_ig x + b_ig + W_hg h + b_hg)         o = sigmoid(W_io x + b_io + W_ho h + b_ho)
    c' = f * c + i * g                              h' = o * tanh(c')  (then W_hr h' with proj_size)

The step loops live in ``glassnet.kernels.lstm``, which says how the arithmetic is arranged for
speed (rolled gate rows, one exp for all four gates, feature-major arrays); this op chooses them,
provides their buffers, and computes the weight, bias and input gradients after the BPTT loop as
single large matmuls. The public shapes stay batch-major (T, N, .). The textbook form of the
same layer, forward and BPTT as plain loops over time: ``glassnet.ops.reference.LSTM``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..kernels import lstm as kernel
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
    """One direction over the sequence. Returns (Y (T, N, P), (h_n (N, P), c_n (N, H)), saved).

    Inside, every per-step array is feature-major, batch last (``glassnet.kernels.lstm``).
    """
    w_ih, w_hh, b_ih, b_hh, w_hr = w
    h0, c0 = states
    T, N, dt = plan.T, plan.N, x3.dtype
    H = w_ih.shape[0] // 4
    P = w_hh.shape[1]
    gates, whh = kernel.input_projections(x3, w_ih, w_hh, b_ih, b_hh)  # (T, 4, H, N), (4H, P)
    hs = np.zeros((T + 1, P, N), dt)  # hidden states; hs[0] (forward) or hs[T] (reverse) is h0
    cs = np.zeros((T + 1, H, N), dt)  # cell states
    # columns past a sequence's end are never written: zero them so bulk backward math stays finite
    alloc = np.zeros if plan.ragged else np.empty
    tanh_cs = alloc((T, H, N), dt)  # tanh(c_t)
    ms = None if w_hr is None else alloc((T, H, N), dt)  # o * tanh(c) before the projection
    kernel.forward_steps(gates, hs, cs, tanh_cs, ms, whh, w_hr, h0, c0, plan, reverse)
    hs_b, cs_b = hs.transpose(0, 2, 1), cs.transpose(0, 2, 1)  # batch-major views (T+1, N, .)
    if reverse:
        Y, h_n, c_n = hs_b[:-1], hs_b[0].copy(), cs_b[0].copy()
    else:
        Y, h_n, c_n = hs_b[1:], plan.last_state(hs_b), plan.last_state(cs_b)
    saved = None
    if save:  # truncated: the last steps only
        saved = saved_steps(plan, G=gates, S=hs, C=cs, tanh_c=tanh_cs, m=ms)
    return Y, (h_n, c_n), saved


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
    """BPTT for one direction. Returns (dx part (W*N, D), dh0, dc0, dw_ih, dw_hh, db, db, dw_hr)."""
    w_ih, w_hh, b_ih, _b_hh, w_hr = w
    dhn, dcn = d_states
    gates, hs, cs, tanh_cs, ms = sv["G"], sv["S"], sv["C"], sv["tanh_c"], sv["m"]
    t0, N, dt = plan.t0, plan.N, gates.dtype
    W, H = gates.shape[0], gates.shape[2]
    P = hs.shape[1]
    h_prevs, c_prevs = previous_states(plan, reverse, hs, cs)  # (W, P|H, N)
    # the derivative factors of all steps at once (kernel.backward_factors); the BPTT loop turns
    # each step's factors into that step's gate gradients in place, so one buffer holds both.
    # Per-thread buffers (``kernels.scratch``); private ones when a hook, which may run another
    # backward of this kernel, is called while they are live
    own = hook is None
    dgates = scratch("lstm.factors", (W, 4, H, N), dt, reuse=own)
    dc_dm = scratch("lstm.A", (W, H, N), dt, reuse=own)  # dc_t += dm_t * o (1 - tanh(c)^2)
    derivative_factors(kernel.backward_factors, N, H, gates, tanh_cs, c_prevs, dgates, dc_dm)
    whh_t = np.ascontiguousarray(kernel.kernel_rows(w_hh, H).T)  # (P, 4H); contiguous per step
    w_hr_t = None if w_hr is None else w_hr.T  # (H, P)
    zero_ended(dgates, plan)
    dy_steps = feature_major_grad(dY, plan, "lstm.dy", dt, own)  # (W, P, N)
    # carried dL/dh, dL/dc, feature-major; always fresh C-ordered copies (updated in place)
    dh_carry = np.array(dhn.T, dtype=dt, order="C")
    dc_carry = np.array(dcn.T, dtype=dt, order="C")
    # dL/dh_t, for dW_hr (columns past a sequence's end stay zero)
    dh_steps = None if w_hr is None else scratch("lstm.dh", (W, P, N), dt, plan.ragged, own)
    kernel.backward_steps(
        dgates, dc_dm, gates, dy_steps, dh_steps, dh_carry, dc_carry, whh_t, w_hr_t, plan,
        reverse, step_emitter(plan, hook, layer, direction),
    )  # fmt: skip
    if t0 > 0:  # the gradient stopped before reaching the initial state
        dh_carry[...] = 0
        dc_carry[...] = 0
    # weight, bias and input gradients as single large matmuls, batch-major rows (t, n)
    dgates_rows = batch_major(dgates.reshape(W, 4 * H, N), "lstm.dg")  # (W*N, 4H)
    X = x2[t0 * N :]  # (W*N, D)
    dx = dgates_rows @ kernel.kernel_rows(w_ih, H) if needs[0] else None  # (W*N, D)
    dw_ih = kernel.pytorch_rows(dgates_rows.T @ X, H) if needs[3] else None
    dw_hh = None
    if needs[4]:
        dw_hh = kernel.pytorch_rows(dgates_rows.T @ batch_major(h_prevs, "lstm.h"), H)
    db = kernel.pytorch_rows(dgates_rows.sum(0), H) if b_ih is not None else None
    dw_hr = None
    if w_hr is not None and needs[7]:
        dh_rows = batch_major(dh_steps, "lstm.dy")  # type: ignore[arg-type]  # dy_steps is spent
        dw_hr = dh_rows.T @ batch_major(ms, "lstm.h")
    return dx, dh_carry.T.copy(), dc_carry.T.copy(), dw_ih, dw_hh, db, db, dw_hr


class LSTMLayer(RecurrentLayer):
    """One LSTM layer over a whole sequence (both directions if given two weight groups).

    Reference (textbook) form, one direction: ``glassnet.ops.reference.LSTM``; step loops:
    ``glassnet.kernels.lstm``.

    Positional inputs: ``x, h0, c0`` then, per direction, ``w_ih, w_hh, b_ih, b_hh, w_hr``
    (``None`` for an absent bias or projection). Outputs ``(y, h_n, c_n)``.

    Shapes:
        x: (T, N, D)   h0: (Dir, N, P)   c0: (Dir, N, H)   w_ih: (4H, D)   w_hh: (4H, P)
        b_ih, b_hh: (4H,)   w_hr: (P, H)   y: (T, N, Dir*P)   h_n: (Dir, N, P)   c_n: (Dir, N, H)
        with P = proj_size if a projection is given, else H.

    Static options (keyword-only): ``lengths`` (N,) sorted in decreasing order, ``resets`` (T, N)
    bool, ``bptt_steps``, ``grad_hook``, ``layer``, ``order``; see :class:`TimePlan`.
    """

    n_states = 2
    n_weights = 5
    forward_dir = staticmethod(_forward_dir)
    backward_dir = staticmethod(_backward_dir)

    def forward(
        self, x: np.ndarray, h0: np.ndarray, c0: np.ndarray, *weights: Any, **static: Any
    ) -> tuple[np.ndarray, ...]:
        return self.run(x, (h0, c0), weights, **static)
