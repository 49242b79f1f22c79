"""Elman RNN step loops: the forward over time and the BPTT loop of one direction, on NumPy arrays.

The textbook form is ``glassnet.ops.reference.RNN``; the op that calls these loops is
``glassnet.ops.recurrent_rnn.RNNLayer``. A step is one GEMM and one ``tanh`` (or ``relu``), so this
kernel stays batch-major: states (T+1, N, H), row n of step t at ``hs[t, n]``.
"""

from __future__ import annotations

import numpy as np

from .time_plan import StepEmitter, TimePlan, forward_schedule, step_order


def forward_steps(
    pre: np.ndarray,
    hs: np.ndarray,
    whh_t: np.ndarray,
    h0: np.ndarray,
    plan: TimePlan,
    reverse: bool,
    relu: bool,
) -> None:
    """``h_t = act(pre_t + h_{t-1} W_hh^T)`` for every step, into ``hs`` (T+1, N, H) in place
    (zero on entry; ``hs[0]`` (forward) or ``hs[T]`` (reverse) is h_0).

    ``pre`` (T, N, H) holds the input projections ``x_t W_ih^T + b_ih + b_hh``, ``whh_t`` (H, H)
    is W_hh^T. Step t computes on the first ``B_t`` rows (the rows still running), zeroes the
    state of rows that restart, and the reverse direction starts each row from ``h0`` (N, H) at
    its own end.
    """
    N, H = hs.shape[1], hs.shape[2]
    hh = np.empty((N, H), hs.dtype)  # h_{t-1} W_hh^T
    resets = plan.reset_steps
    if not reverse:
        hs[0] = h0
    for t, ip, io, B, start in forward_schedule(plan, reverse):
        if start is not None:  # sequences that end here start their reverse pass from h0
            hs[ip, start] = h0[start]
        h_prev = hs[ip, :B]
        if t in resets:
            h_prev = h_prev * plan.keep[t, :B]  # type: ignore[index]
        np.matmul(h_prev, whh_t, out=hh[:B])
        h = hs[io, :B]
        np.add(pre[t, :B], hh[:B], out=h)  # a_t
        if relu:
            np.maximum(h, 0, out=h)
        else:
            np.tanh(h, out=h)


def backward_steps(
    da: np.ndarray,
    dy: np.ndarray,
    dh_carry: np.ndarray,
    w_hh: np.ndarray,
    plan: TimePlan,
    reverse: bool,
    emit: StepEmitter | None,
) -> None:
    """The BPTT loop over the steps ``plan.t0 .. T-1``, latest first (the reverse direction:
    earliest first); step t on the first ``B_t`` rows, no gradient across a reset.

    In place: ``da`` (W, N, H) holds f'(a_t) on entry and dL/da_t on exit; ``dh_carry`` (N, H)
    holds dL/dh of the final state on entry, of the initial state on exit. ``dy`` (T, N, H) is
    the output gradient. ``emit`` (``step_emitter``) gets dL/dh_t each step.
    """
    N, H = dh_carry.shape
    dh_buf = np.empty((N, H), da.dtype)
    sizes, resets, keep = plan.sizes, plan.reset_steps, plan.keep
    for t in step_order(plan, reverse, backward=True):
        u, B = t - plan.t0, sizes[t]
        dh = dh_buf[:B]
        np.add(dy[t, :B], dh_carry[:B], out=dh)  # dh_t = dy_t + the gradient from step t+1
        if emit is not None:
            emit(t, dh, None)
        da[u, :B] *= dh  # da_t = dh_t * f'(a_t)
        np.matmul(da[u, :B], w_hh, out=dh_carry[:B])  # dh_{t-1} = da_t W_hh
        if t in resets:
            dh_carry[:B] *= keep[t, :B]  # type: ignore[index]
