"""GRU step loops: the forward over time and the BPTT loop of one direction, on NumPy arrays.

The textbook form of the same computation is ``glassnet.ops.reference.GRU``; the op that calls
these loops (argument checks, buffers, the bulk weight gradients) is
``glassnet.ops.recurrent_gru.GRULayer``. PyTorch's equations, gate rows (r, z, n)::

    r = sigmoid(a_r)   z = sigmoid(a_z)   a_r, a_z = W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z}
    n = tanh(a_n)      a_n = W_in x + b_in + r * hidden_n,   hidden_n = W_hn h + b_hn
    h' = (1 - z) * n + z * h = n + z * (h - n)

Two tricks arrange the arithmetic for speed:

* Sigmoid via halved tanh: sigmoid(a) = 0.5 + 0.5 tanh(a / 2). The r and z rows of the weights
  and bias are halved once (:func:`input_projections`), so one ``tanh`` call gives both gates.
* Feature-major arrays, batch last: gates (3, H, N), states (H, N), so each gate is a contiguous
  block and the recurrent product is ``W_hh (3H, H) @ h (H, N)`` (the faster GEMM orientation for
  small batches).

In backward the gradients of the four pre-activations are laid out as (hidden_n, r, z, n): rows
(r, z, n) are the input projection's, rows (hidden_n, r, z) the recurrent matmul's, each a
contiguous block (:func:`backward_factors`).

The arrays of one direction (T steps; backward sees the last W of them):

===========  ============  =====================================================================
name         shape         holds
===========  ============  =====================================================================
gates        (T, 3, H, N)  pre-activations on entry, the gate values r, z, n after the forward
hs           (T+1, H, N)   hidden states; ``hs[0]`` (forward) or ``hs[T]`` (reverse) is h_0
hidden_n     (T, H, N)     W_hn h_{t-1} + b_hn, the part of a_n that r gates
h_minus_n    (T, H, N)     h_{t-1} - n_t, what z multiplies: h_t = n + z (h_{t-1} - n)
===========  ============  =====================================================================
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .time_plan import StepEmitter, TimePlan, forward_schedule, step_order


def input_projections(
    x3: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b_ih: Any, b_hh: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """All input projections up front, and the recurrent weights the step loop multiplies by.

    Returns ``gates`` (T, 3, H, N), ``gates[t] = W_ih x_t^T + b`` in one batched GEMM (b_hr and
    b_hz join the input bias, b_hn stays inside r * (.)), ``w_hh`` (3H, H), both with the r and z
    rows halved, and ``b_hn`` (H, 1) or None.

    Shapes:
        x3: (T, N, D)   w_ih: (3H, D)   w_hh: (3H, H)   b_ih, b_hh: (3H,) or None
    """
    T, N, _ = x3.shape
    H = w_hh.shape[1]
    wih = w_ih.copy()  # (3H, D)
    wih[: 2 * H] *= 0.5
    whh = w_hh.copy()  # (3H, H)
    whh[: 2 * H] *= 0.5
    gates = np.matmul(wih, x3.transpose(0, 2, 1)).reshape(T, 3, H, N)  # rows r, z, n
    b_hn = None
    if b_ih is not None:
        b = b_ih.copy()  # (3H,)
        b[: 2 * H] += b_hh[: 2 * H]
        b[: 2 * H] *= 0.5
        gates += b.reshape(3, H, 1)
        b_hn = b_hh[2 * H :, None]  # (H, 1)
    return gates, whh, b_hn


def forward_steps(
    gates: np.ndarray,
    hs: np.ndarray,
    hidden_n: np.ndarray,
    h_minus_n: np.ndarray,
    whh: np.ndarray,
    b_hn: np.ndarray | None,
    h0: np.ndarray,
    plan: TimePlan,
    reverse: bool,
) -> None:
    """The forward over time of one direction: fills the arrays of the module docstring in place
    (``hs`` zero on entry), from ``gates``, ``whh`` and ``b_hn`` of :func:`input_projections`.

    Step t computes on the first ``B_t`` columns (the rows still running; all of them without
    variable lengths), zeroes the state of rows that restart, and the reverse direction starts
    each row from ``h0`` (N, H) at its own end.
    """
    T, _, H, N = gates.shape
    dt = gates.dtype
    gates_rows = gates.reshape(T, 3 * H, N)
    hh = np.empty((3 * H, N), dt)  # W_hh h_{t-1} (r, z rows halved)
    r_hidden_n = np.empty((H, N), dt)  # r * hidden_n
    resets = plan.reset_steps
    if not reverse:
        hs[0] = h0.T
    for t, ip, io, B, start in forward_schedule(plan, reverse):
        if start is not None:  # sequences that end here start their reverse pass from h0
            hs[ip, :, start] = h0[start].T
        h_prev = hs[ip, :, :B]
        if t in resets:
            h_prev = h_prev * plan.keep[t, :B, 0]  # type: ignore[index]
        g3 = gates[t, :, :, :B]  # (3, H, B): r, z, n
        hh_b = hh[:, :B]
        np.matmul(whh, h_prev, out=hh_b)
        rz = gates_rows[t, : 2 * H, :B]
        rz += hh_b[: 2 * H]
        np.tanh(rz, out=rz)  # r, z = sigmoid(a) = 0.5 + 0.5 tanh(a / 2)
        rz *= 0.5
        rz += 0.5
        hn = hidden_n[t, :, :B]
        if b_hn is None:
            hn[...] = hh_b[2 * H :]
        else:
            np.add(hh_b[2 * H :], b_hn, out=hn)  # hidden_n = W_hn h_{t-1} + b_hn
        n = g3[2]
        np.multiply(g3[0], hn, out=r_hidden_n[:, :B])
        n += r_hidden_n[:, :B]
        np.tanh(n, out=n)  # n = tanh(W_in x + b_in + r * hidden_n)
        h_minus_n_t = h_minus_n[t, :, :B]
        np.subtract(h_prev, n, out=h_minus_n_t)
        h = hs[io, :, :B]
        np.multiply(g3[1], h_minus_n_t, out=h)  # h_t = n + z (h_{t-1} - n)
        h += n


def backward_factors(
    gates: np.ndarray, hidden_n: np.ndarray, h_minus_n: np.ndarray, dgates: np.ndarray
) -> None:
    """The derivative factors of k steps in ``dgates`` (k, 4, H, N), in place, in the layout of
    the gradients (hidden_n, r, z, n): each is what the gradient that drives that slot is
    multiplied by in the BPTT loop (dh for z and n, da_n for hidden_n and r).
    """
    r, z, n = gates[:, 0], gates[:, 1], gates[:, 2]
    # a_n = ... + r * hidden_n: d hidden_n = da_n * r
    dgates[:, 0] = r
    factor_r, factor_z, factor_n = dgates[:, 1], dgates[:, 2], dgates[:, 3]
    # and dr = da_n * hidden_n, r = sigmoid(a_r): da_r = da_n * hidden_n r (1 - r)
    np.subtract(1, r, out=factor_r)
    factor_r *= r
    factor_r *= hidden_n
    # h' = (1 - z) n + z h, n = tanh(a_n): da_n = dh * (1 - z)(1 - n^2)
    np.subtract(1, z, out=factor_z)
    np.multiply(n, n, out=factor_n)
    np.subtract(1, factor_n, out=factor_n)
    factor_n *= factor_z
    # h' = n + z (h - n), z = sigmoid(a_z): da_z = dh * (h - n) z (1 - z)
    factor_z *= z
    factor_z *= h_minus_n


def backward_steps(
    dgates: np.ndarray,
    z_gates: np.ndarray,
    dy_steps: np.ndarray,
    dh_carry: np.ndarray,
    whh_t: np.ndarray,
    plan: TimePlan,
    reverse: bool,
    emit: StepEmitter | None,
) -> None:
    """The BPTT loop over the steps ``plan.t0 .. T-1``, latest first (the reverse direction:
    earliest first); step t on the first ``B_t`` columns, no gradient across a reset.

    In place: ``dgates`` (W, 4, H, N) holds :func:`backward_factors` on entry and the gradients
    (hidden_n, r, z, n) on exit; ``dh_carry`` (H, N) holds dL/dh of the final state on entry, of
    the initial state on exit. ``z_gates`` (W, H, N) is z of every step, ``dy_steps`` (W, H, N)
    the output gradient, ``whh_t`` (H, 3H) W_hh^T with its columns rolled to (n, r, z), against
    the slots (hidden_n, r, z). ``emit`` (``step_emitter``) gets dL/dh_t each step.
    """
    W, _, H, N = dgates.shape
    dt = dgates.dtype
    dgates_rows = dgates.reshape(W, 4 * H, N)
    dh_buf, dh_direct = np.empty((H, N), dt), np.empty((H, N), dt)
    sizes, resets = plan.sizes, plan.reset_steps
    for t in step_order(plan, reverse, backward=True):
        u, B = t - plan.t0, sizes[t]
        dh = dh_buf[:, :B]
        np.add(dy_steps[u, :, :B], dh_carry[:, :B], out=dh)  # dh_t = dy_t + from step t+1
        if emit is not None:
            emit(t, dh.T, None)
        d4 = dgates[u, :, :, :B]  # (4, H, B): factors in, gradients out
        d4[2:] *= dh  # da_z = dh * factor_z, da_n = dh * factor_n
        d4[:2] *= d4[3]  # d hidden_n = da_n * r, da_r = da_n * factor_r
        # dh_{t-1} through the gates: W_hh^T (d hidden_n; da_r; da_z) ...
        np.matmul(whh_t, dgates_rows[u, : 3 * H, :B], out=dh_carry[:, :B])
        np.multiply(dh, z_gates[u, :, :B], out=dh_direct[:, :B])  # ... plus z dh, h' = .. + z h
        dh_carry[:, :B] += dh_direct[:, :B]
        if t in resets:
            dh_carry[:, :B] *= plan.keep[t, :B, 0]  # type: ignore[index]
