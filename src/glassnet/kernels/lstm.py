"""LSTM step loops: the forward over time and the BPTT loop of one direction, on NumPy arrays.

The textbook form of the same computation is ``glassnet.ops.reference.LSTM``; the op that calls
these loops (argument checks, buffers, the bulk weight gradients) is
``glassnet.ops.recurrent_lstm.LSTMLayer``. Three tricks arrange the arithmetic for speed:

* Rolled gate rows: PyTorch's rows (i, f, g, o) become (o, i, f, g) (:func:`kernel_rows`), so
  the three sigmoid gates are the first 3H rows and, in backward, the three gates driven by dc
  (i, f, g) are one contiguous block.
* One ``exp`` for all four gates: sigmoid(a) = 1 / (1 + exp(-a)) and tanh(a) = 2 sigmoid(2a) - 1.
  The sigmoid rows of the weights and bias are negated and the g rows scaled by -2 once
  (:func:`input_projections`), so a step's activations are ``exp``, ``+ 1`` and two divisions
  (NumPy's float32 ``exp`` costs about half its ``tanh``; docs/benchmarks.md).
* Feature-major arrays, batch last: gates (4, H, N), states (P, N) and (H, N), so each gate is a
  contiguous block and the recurrent product is ``W_hh (4H, P) @ h (P, N)`` (the faster GEMM
  orientation for small batches; docs/benchmarks.md).

The arrays of one direction (T steps; backward sees the last W of them):

==========  ============  =========================================================================
name        shape         holds
==========  ============  =========================================================================
gates       (T, 4, H, N)  pre-activations on entry, the gate values o, i, f, g after the forward
hs          (T+1, P, N)   hidden states; ``hs[0]`` (forward) or ``hs[T]`` (reverse) is h_0
cs          (T+1, H, N)   cell states, indexed as ``hs``
tanh_cs     (T, H, N)     tanh(c_t)
ms          (T, H, N)     m_t = o * tanh(c_t), before the projection h_t = W_hr m_t (proj_size only)
==========  ============  =========================================================================
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .time_plan import StepEmitter, TimePlan, forward_schedule, rotate_rows, step_order


def kernel_rows(a: np.ndarray, H: int) -> np.ndarray:
    """PyTorch's gate rows (i, f, g, o) -> the kernel's (o, i, f, g); a copy."""
    return rotate_rows(a, 3 * H)


def pytorch_rows(a: np.ndarray, H: int) -> np.ndarray:
    """The kernel's gate rows (o, i, f, g) -> PyTorch's (i, f, g, o); a copy."""
    return rotate_rows(a, H)


def input_projections(
    x3: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b_ih: Any, b_hh: Any
) -> tuple[np.ndarray, np.ndarray]:
    """All input projections up front, and the recurrent weights the step loop multiplies by.

    Returns ``gates`` (T, 4, H, N), ``gates[t] = W_ih x_t^T + b`` in one batched GEMM, and
    ``w_hh`` (4H, P); both in rolled rows, the sigmoid rows negated and the g rows scaled by -2
    (module docstring).

    Shapes:
        x3: (T, N, D)   w_ih: (4H, D)   w_hh: (4H, P)   b_ih, b_hh: (4H,) or None
    """
    T, N, _ = x3.shape
    H = w_ih.shape[0] // 4
    wih = exp_rows(w_ih, H)  # (4H, D)
    whh = exp_rows(w_hh, H)  # (4H, P)
    gates = np.matmul(wih, x3.transpose(0, 2, 1)).reshape(T, 4, H, N)
    if b_ih is not None:
        b = exp_rows(b_ih + b_hh, H)  # (4H,)
        gates += b.reshape(4, H, 1)
    return gates, whh


def exp_rows(a: np.ndarray, H: int) -> np.ndarray:
    """PyTorch's gate rows (i, f, g, o) -> the kernel's (o, i, f, g), scaled for the step's
    ``exp``: -1 on the sigmoid rows, -2 on the g rows, so a scaled pre-activation z gives each
    gate as ``1 / (1 + exp(z))`` (g: ``2 s - 1``). A new array, written in one pass."""
    rows = np.empty_like(a)
    np.multiply(a[3 * H :], -1, out=rows[:H])  # o
    np.multiply(a[: 2 * H], -1, out=rows[H : 3 * H])  # i, f
    np.multiply(a[2 * H : 3 * H], -2, out=rows[3 * H :])  # g
    return rows


def forward_steps(
    gates: np.ndarray,
    hs: np.ndarray,
    cs: np.ndarray,
    tanh_cs: np.ndarray,
    ms: np.ndarray | None,
    whh: np.ndarray,
    w_hr: np.ndarray | None,
    h0: np.ndarray,
    c0: np.ndarray,
    plan: TimePlan,
    reverse: bool,
) -> None:
    """The forward over time of one direction: fills the arrays of the module docstring in place
    (``hs`` and ``cs`` zero on entry), from ``gates`` of :func:`input_projections`, ``whh`` of the
    same and the projection ``w_hr`` (P, H) or None; ``h0`` (N, P), ``c0`` (N, H).

    With variable lengths or resets, step t computes on the first ``B_t`` columns (the rows still
    running), zeroes the state of rows that restart, and the reverse direction starts each row
    from ``h0, c0`` at its own end (:func:`_masked_forward_steps`); otherwise the loop below.
    """
    if not reverse:
        hs[0], cs[0] = h0.T, c0.T
    if plan.ragged or plan.reset_steps:
        with np.errstate(over="ignore"):  # exp overflow: see the loop below
            _masked_forward_steps(gates, hs, cs, tanh_cs, ms, whh, w_hr, h0, c0, plan, reverse)
        return
    if reverse:
        hs[plan.T], cs[plan.T] = h0.T, c0.T
    T, _, H, N = gates.shape
    hh = np.empty((4 * H, N), gates.dtype)  # W_hh h_{t-1}
    ig = np.empty((H, N), gates.dtype)  # i * g
    if reverse:
        h_prevs, h_news, c_prevs, c_news = hs[1:], hs[:-1], cs[1:], cs[:-1]
    else:
        h_prevs, h_news, c_prevs, c_news = hs[:-1], hs[1:], cs[:-1], cs[1:]
    # per step: all gates (o, i, f, g) as one (4H, N) block, the sigmoid block (its first 3H
    # rows), each gate, previous and new states; every one a contiguous block. The views come
    # from ``zip`` over the time axis, which costs less than indexing (matters for small layers)
    all_gates = gates.reshape(T, 4 * H, N)
    views = [all_gates, all_gates[:, : 3 * H], gates[:, 0], gates[:, 1], gates[:, 2], gates[:, 3]]
    views += [h_prevs, c_prevs, c_news, tanh_cs, h_news, tanh_cs if ms is None else ms]
    if reverse:
        views = [v[::-1] for v in views]
    # ufuncs bound to locals and called with a positional ``out``: less overhead per call, which
    # is most of a step at batch 1 (docs/benchmarks.md)
    mm, add, sub, mul, div, exp, tanh = (
        np.matmul, np.add, np.subtract, np.multiply, np.divide, np.exp, np.tanh
    )  # fmt: skip
    one, two = gates.dtype.type(1), gates.dtype.type(2)
    with np.errstate(over="ignore"):  # exp(z) = inf is a saturated gate, not an error
        for a, sig, o, i, f, g, h_prev, c_prev, c, tanh_c, h, m in zip(*views):
            mm(whh, h_prev, hh)
            add(a, hh, a)  # z = -(W_ih x + b + W_hh h_{t-1}), the g rows -2 (...)
            exp(a, a)  # exp(z); inf where z > ~88 (float32), and 1 / (1 + inf) = 0 is right
            add(a, one, a)
            div(one, sig, sig)  # o, i, f = sigmoid(a) = 1 / (1 + exp(-a))
            div(two, g, g)  # g = tanh(a_g) = 2 sigmoid(2 a_g) - 1
            sub(g, one, g)
            mul(f, c_prev, c)  # c_t = f * c_{t-1} + i * g
            mul(i, g, ig)
            add(c, ig, c)
            tanh(c, tanh_c)
            if ms is None:
                mul(o, tanh_c, h)  # h_t = o * tanh(c_t)
            else:
                mul(o, tanh_c, m)  # m_t = o * tanh(c_t), h_t = W_hr m_t
                mm(w_hr, m, h)  # type: ignore[arg-type]


def _masked_forward_steps(*arrays: Any) -> None:
    """:func:`forward_steps` with variable lengths or resets (its arguments, in order)."""
    gates, hs, cs, tanh_cs, ms, whh, w_hr, h0, c0, plan, reverse = arrays
    T, _, H, N = gates.shape
    all_gates = gates.reshape(T, 4 * H, N)
    hh = np.empty((4 * H, N), gates.dtype)  # W_hh h_{t-1}
    ig = np.empty((H, N), gates.dtype)  # i * g
    resets = plan.reset_steps
    for t, ip, io, B, start in forward_schedule(plan, reverse):
        if start is not None:  # sequences that end here start their reverse pass from h0
            hs[ip, :, start], cs[ip, :, start] = h0[start].T, c0[start].T
        h_prev, c_prev = hs[ip, :, :B], cs[ip, :, :B]
        if t in resets:
            k = plan.keep[t, :B, 0]
            h_prev, c_prev = h_prev * k, c_prev * k
        g4, a = gates[t, :, :, :B], all_gates[t, :, :B]  # (4, H, B) and (4H, B): o, i, f, g
        np.matmul(whh, h_prev, out=hh[:, :B])
        a += hh[:, :B]
        np.exp(a, out=a)  # the activations of forward_steps
        a += 1
        np.divide(1, a[: 3 * H], out=a[: 3 * H])  # o, i, f = 1 / (1 + exp(-a))
        np.divide(2, g4[3], out=g4[3])  # g = 2 sigmoid(2 a_g) - 1
        g4[3] -= 1
        c = cs[io, :, :B]
        np.multiply(g4[2], c_prev, out=c)  # c_t = f * c_{t-1} + i * g
        np.multiply(g4[1], g4[3], out=ig[:, :B])
        c += ig[:, :B]
        tanh_c = tanh_cs[t, :, :B]
        np.tanh(c, out=tanh_c)
        if ms is None:
            np.multiply(g4[0], tanh_c, out=hs[io, :, :B])  # h_t = o * tanh(c_t)
        else:
            m = ms[t, :, :B]
            np.multiply(g4[0], tanh_c, out=m)  # m_t = o * tanh(c_t), h_t = W_hr m_t
            np.matmul(w_hr, m, out=hs[io, :, :B])


def backward_factors(
    gates: np.ndarray,
    tanh_cs: np.ndarray,
    c_prevs: np.ndarray,
    dgates: np.ndarray,
    dc_dm: np.ndarray,
) -> None:
    """The derivative factors of k steps, in place (no temporaries).

    ``dgates`` (k, 4, H, N) gets, per gate, d(pre-activation) / d(the gradient that drives it):
    dm_t for o, dc_t for i, f, g. ``dc_dm`` (k, H, N) gets d c-gradient / d m-gradient. The
    pre-activations are the true ones (not scaled): the gradients meet the unscaled weights.
    """
    o, i, f, g = gates[:, 0], gates[:, 1], gates[:, 2], gates[:, 3]
    # sigmoid gates, sigmoid' = s (1 - s), times what each gate multiplies in the forward:
    # m = o * tanh(c): da_o = dm * tanh(c) o (1 - o)
    # c = f * c_prev + i * g: da_i = dc * g i (1 - i),  da_f = dc * c_prev f (1 - f)
    for j, (gate, other) in enumerate(((o, tanh_cs), (i, g), (f, c_prevs))):
        factor = dgates[:, j]
        np.subtract(1, gate, out=factor)
        factor *= gate
        factor *= other
    # g = tanh(a_g), c = f * c_prev + i * g: da_g = dc * i (1 - g^2)
    factor_g = dgates[:, 3]
    np.multiply(g, g, out=factor_g)
    np.subtract(1, factor_g, out=factor_g)
    factor_g *= i
    # m = o * tanh(c): the cell gradient gains dc += dm * o (1 - tanh(c)^2)
    np.multiply(tanh_cs, tanh_cs, out=dc_dm)
    np.subtract(1, dc_dm, out=dc_dm)
    dc_dm *= o


def backward_steps(
    dgates: np.ndarray,
    dc_dm: np.ndarray,
    gates: np.ndarray,
    dy_steps: np.ndarray,
    dh_steps: np.ndarray | None,
    dh_carry: np.ndarray,
    dc_carry: np.ndarray,
    whh_t: np.ndarray,
    w_hr_t: np.ndarray | None,
    plan: TimePlan,
    reverse: bool,
    emit: StepEmitter | None,
) -> None:
    """The BPTT loop over the steps ``plan.t0 .. T-1``, latest first (the reverse direction:
    earliest first), for a full batch without resets; or, with variable lengths or resets,
    :func:`_masked_backward_steps` (the same equations on the rows still running).

    In place: ``dgates`` (W, 4, H, N) holds :func:`backward_factors` on entry and the gradients
    of the pre-activations (o, i, f, g) on exit; ``dh_carry`` (P, N) and ``dc_carry`` (H, N)
    hold dL/dh and dL/dc of the final state on entry, of the initial state on exit;
    ``dh_steps`` (W, P, N) (projection only) gets dL/dh_t of every step, for dW_hr.
    ``dy_steps`` (W, P, N) is the output gradient, ``whh_t`` (P, 4H) the rolled W_hh^T,
    ``w_hr_t`` (H, P) the projection's W_hr^T. ``emit`` (``step_emitter``) gets dL/dh_t, dL/dc_t
    each step.
    """
    args = (dgates, dc_dm, gates, dy_steps, dh_steps, dh_carry, dc_carry, whh_t, w_hr_t, plan)
    if plan.ragged or plan.reset_steps:
        _masked_backward_steps(*args, reverse, emit)
        return
    W, _, H, N = dgates.shape
    P = dh_carry.shape[0]
    dt = dgates.dtype
    dh_buf, dc_buf, dm_buf = np.empty((P, N), dt), np.empty((H, N), dt), np.empty((H, N), dt)
    # dh_t is written into dh_steps[t] when there is one; zip needs an array of W steps either
    # way, so without a projection it walks dgates in that slot and the loop ignores it
    views: list[Any] = [range(plan.t0, plan.T), dy_steps, dc_dm, dgates[:, 0], dgates[:, 1:]]
    views += [gates[:, 2], dgates.reshape(W, 4 * H, N), dgates if dh_steps is None else dh_steps]
    if not reverse:  # the forward direction's BPTT runs backwards in time
        views = [v[::-1] for v in views]
    mm, add, mul = np.matmul, np.add, np.multiply  # positional out: see forward_steps
    for t, dy, dc_dm_t, d_o, d_ifg, f, dgates_t, dh_step in zip(*views):
        dh = dh_buf if dh_steps is None else dh_step
        add(dy, dh_carry, dh)  # dh_t = dy_t + the gradient from step t+1
        dm = dh if w_hr_t is None else mm(w_hr_t, dh, dm_buf)  # h = W_hr m: dm = W_hr^T dh
        mul(dm, dc_dm_t, dc_buf)  # dc_t = dm * o (1 - tanh(c)^2) + the gradient from step t+1
        add(dc_buf, dc_carry, dc_buf)
        if emit is not None:
            emit(t, dh.T, dc_buf.T)
        mul(d_o, dm, d_o)  # da_o = dm * factor_o
        mul(d_ifg, dc_buf, d_ifg)  # da_i, da_f, da_g = dc * their factors
        mul(dc_buf, f, dc_carry)  # dc_{t-1} = dc_t * f
        mm(whh_t, dgates_t, dh_carry)  # dh_{t-1} = W_hh^T da (all four gates)


def _masked_backward_steps(*arrays: Any) -> None:
    """:func:`backward_steps` with variable lengths or resets (its arguments, in order): step t
    on the first ``B_t`` columns; no gradient flows across a reset."""
    dgates, dc_dm, gates, dy_steps, dh_steps, dh_carry, dc_carry, whh_t, w_hr_t, plan = arrays[:10]
    reverse, emit = arrays[10:]
    W, _, H, N = dgates.shape
    P = dh_carry.shape[0]
    dt = dgates.dtype
    all_dgates = dgates.reshape(W, 4 * H, N)
    dh_buf, dc_buf, dm_buf = np.empty((P, N), dt), np.empty((H, N), dt), np.empty((H, N), dt)
    sizes, resets = plan.sizes, plan.reset_steps
    for t in step_order(plan, reverse, backward=True):
        u, B = t - plan.t0, sizes[t]
        dh = dh_buf[:, :B] if dh_steps is None else dh_steps[u, :, :B]
        np.add(dy_steps[u, :, :B], dh_carry[:, :B], out=dh)  # dh_t = dy_t + from step t+1
        dm = dh if w_hr_t is None else np.matmul(w_hr_t, dh, out=dm_buf[:, :B])
        dc = dc_buf[:, :B]
        np.multiply(dm, dc_dm[u, :, :B], out=dc)  # dc_t = dm * o (1 - tanh(c)^2) + from t+1
        dc += dc_carry[:, :B]
        if emit is not None:
            emit(t, dh.T, dc.T)
        d4 = dgates[u, :, :, :B]  # (4, H, B): factors in, gradients out
        d4[0] *= dm  # da_o = dm * factor_o
        d4[1:] *= dc  # da_i, da_f, da_g = dc * their factors
        np.multiply(dc, gates[u, 2, :, :B], out=dc_carry[:, :B])  # dc_{t-1} = dc_t * f
        np.matmul(whh_t, all_dgates[u, :, :B], out=dh_carry[:, :B])  # dh_{t-1} = W_hh^T da
        if t in resets:
            k = plan.keep[t, :B, 0]
            dh_carry[:, :B] *= k
            dc_carry[:, :B] *= k
