"""Fused LSTM layer: the whole sequence in one op, its backward the BPTT loop written out.

PyTorch's equations and gate rows (i, f, g, o)::

    i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)      f = sigmoid(W_if x + b_if + W_hf h + b_hf)
    g = tanh(W_ig x + b_ig + W_hg h + b_hg)         o = sigmoid(W_io x + b_io + W_ho h + b_ho)
    c' = f * c + i * g                              h' = o * tanh(c')  (then W_hr h' with proj_size)

Inside, the gate rows are rolled to (o, i, f, g) and the sigmoid rows of the weights halved, so one
``tanh`` covers all four gates per step (sigmoid(z) = 0.5 + 0.5 tanh(z / 2)), and in backward the
three gates driven by dc (i, f, g) are one contiguous block.

Every per-step array is kept feature-major, batch last: gates (4, H, N), states (P, N) and
(H, N), so each gate is one contiguous block and the recurrent product is
``W_hh (4H, P) @ h (P, N)``. Measured against the batch-major layout (N, 4, H) on 2 threads:
that GEMM orientation runs 25-35 % faster for batch 32 / hidden 256 (160 vs 220-250 us per
step), and the gate arithmetic and the bulk derivative factors avoid strided views (3x slower per
element in NumPy). Paired forward+backward of one layer, this layout over the batch-major one:
0.88-0.99 on benchmark shape (a), 0.97-0.98 on (c), 1.03 on (b) - there the 2600 x 64 products
gain nothing and the transposes at both ends (input projection as T GEMM calls, gradients back
to rows (t, n) for the weight GEMMs) cost ~3 %. The public shapes stay batch-major (T, N, .).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..kernels.scratch import scratch
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
    step_order,
    zero_ended,
)


def _roll(a: np.ndarray, H: int) -> np.ndarray:
    """PyTorch rows (i, f, g, o) -> ours (o, i, f, g); a copy."""
    return rotate_rows(a, 3 * H)


def _unroll(a: np.ndarray, H: int) -> np.ndarray:
    """Our rows (o, i, f, g) -> PyTorch's (i, f, g, o)."""
    return rotate_rows(a, H)


def _forward_dir(
    x3: np.ndarray,
    states: tuple[np.ndarray, ...],
    w: tuple[Any, ...],
    plan: TimePlan,
    reverse: bool,
    save: bool,
) -> tuple[np.ndarray, tuple[np.ndarray, ...], dict[str, Any] | None]:
    """One direction over the sequence. Returns (Y (T, N, P), (h_n (N, P), c_n (N, H)), saved).

    Inside, every per-step array is feature-major, batch last (module docstring).
    """
    w_ih, w_hh, b_ih, b_hh, w_hr = w
    h0, c0 = states
    T, N, dt = plan.T, plan.N, x3.dtype
    H = w_ih.shape[0] // 4
    P = w_hh.shape[1]
    wih = _roll(w_ih, H)  # (4H, D)
    wih[: 3 * H] *= 0.5
    whh = _roll(w_hh, H)  # (4H, P)
    whh[: 3 * H] *= 0.5
    # all input projections up front: G[t] = W_ih (4H, D) @ x_t^T (D, N), one batched call
    G = np.matmul(wih, x3.transpose(0, 2, 1)).reshape(T, 4, H, N)
    if b_ih is not None:
        b = _roll(b_ih + b_hh, H)  # (4H,)
        b[: 3 * H] *= 0.5
        G += b.reshape(4, H, 1)
    S = np.zeros((T + 1, P, N), dt)  # hidden states; S[0] (forward) or S[T] (reverse) is h0
    C = np.zeros((T + 1, H, N), dt)
    # columns past a sequence's end are never written: zero them so bulk backward math stays finite
    alloc = np.zeros if plan.ragged else np.empty
    TC = alloc((T, H, N), dt)  # tanh(c_t)
    M = None if w_hr is None else alloc((T, H, N), dt)  # o * tanh(c) before projection
    hh = np.empty((4 * H, N), dt)
    ig = np.empty((H, N), dt)
    sizes, resets = plan.sizes, plan.reset_steps
    if not reverse:
        S[0], C[0] = h0.T, c0.T
    if not plan.ragged and not resets:
        if reverse:
            S[T], C[T] = h0.T, c0.T
        _dense_forward_steps(G, S, C, TC, M, whh, w_hr, reverse)
    else:  # variable lengths or resets: the general loop on the first B columns
        G2 = G.reshape(T, 4 * H, N)
        for t in step_order(plan, reverse, backward=False):
            ip, io = (t + 1, t) if reverse else (t, t + 1)  # index of the previous / new state
            B = sizes[t]
            if reverse:
                lo, hi = plan.new_rows(t)
                if hi > lo:  # sequences that end here start their reverse pass from h0
                    S[ip, :, lo:hi], C[ip, :, lo:hi] = h0[lo:hi].T, c0[lo:hi].T
            hp, cp = S[ip, :, :B], C[ip, :, :B]
            if t in resets:
                k = plan.keep[t, :B, 0]  # type: ignore[index]
                hp, cp = hp * k, cp * k
            g, g2 = G[t, :, :, :B], G2[t, :, :B]  # (4, H, B): o, i, f, g
            np.matmul(whh, hp, out=hh[:, :B])
            g2 += hh[:, :B]
            np.tanh(g2, out=g2)
            sg = g2[: 3 * H]
            sg *= 0.5
            sg += 0.5
            c = C[io, :, :B]
            np.multiply(g[2], cp, out=c)
            np.multiply(g[1], g[3], out=ig[:, :B])
            c += ig[:, :B]
            tc = TC[t, :, :B]
            np.tanh(c, out=tc)
            if M is None:
                np.multiply(g[0], tc, out=S[io, :, :B])
            else:
                m = M[t, :, :B]
                np.multiply(g[0], tc, out=m)
                np.matmul(w_hr, m, out=S[io, :, :B])
    ST, CT = S.transpose(0, 2, 1), C.transpose(0, 2, 1)  # batch-major views (T+1, N, .)
    if reverse:
        Y, h_n, c_n = ST[:-1], ST[0].copy(), CT[0].copy()
    else:
        Y, h_n, c_n = ST[1:], plan.last_state(ST), plan.last_state(CT)
    saved = None
    if save:
        saved = saved_steps(plan, G=G, S=S, C=C, TC=TC, M=M)  # truncated: the last steps only
    return Y, (h_n, c_n), saved


def _lstm_factors(
    G: np.ndarray, TC: np.ndarray, Cprev: np.ndarray, F: np.ndarray, A: np.ndarray
) -> None:
    """Fill F (k, 4, H, N) and A (k, H, N) for k steps, in place (no temporaries)."""
    o, i, f, g = G[:, 0], G[:, 1], G[:, 2], G[:, 3]
    for j, (gate, other) in enumerate(((o, TC), (i, g), (f, Cprev))):
        Fj = F[:, j]  # gate (1 - gate) * other: (tanh(c), g, c_prev) times sigmoid'
        np.subtract(1, gate, out=Fj)
        Fj *= gate
        Fj *= other
    F3 = F[:, 3]  # i (1 - g^2)
    np.multiply(g, g, out=F3)
    np.subtract(1, F3, out=F3)
    F3 *= i
    np.multiply(TC, TC, out=A)  # o (1 - tanh(c)^2)
    np.subtract(1, A, out=A)
    A *= o


def _dense_forward_steps(
    G: np.ndarray,
    S: np.ndarray,
    C: np.ndarray,
    TC: np.ndarray,
    M: np.ndarray | None,
    whh: np.ndarray,
    w_hr: np.ndarray | None,
    reverse: bool,
) -> None:
    """The step loop for a full batch without resets (the common case).

    Same arithmetic as the general loop in :func:`_forward_dir`; the per-step views come from
    ``zip`` over the time axis, which costs less than indexing, and matters for small layers.
    """
    T, _, H, N = G.shape
    hh = np.empty((4 * H, N), G.dtype)
    ig = np.empty((H, N), G.dtype)
    Sp, So, Cp, Co = (S[1:], S[:-1], C[1:], C[:-1]) if reverse else (S[:-1], S[1:], C[:-1], C[1:])
    # per step: all gates (o, i, f, g) as one (4H, N) block, the sigmoid block (its first 3H
    # rows), each gate, previous and new states; every one a contiguous block
    G2 = G.reshape(T, 4 * H, N)
    views = [G2, G2[:, : 3 * H], G[:, 0], G[:, 1], G[:, 2], G[:, 3], Sp, Cp, Co, TC, So]
    views.append(TC if M is None else M)
    if reverse:
        views = [v[::-1] for v in views]
    # ufuncs bound to locals and called with a positional ``out``: ~20 % less overhead per call
    # (1.0 vs 1.2 us measured), which is most of a step at batch 1 (benchmark shape (c))
    mm, add, mul, tanh = np.matmul, np.add, np.multiply, np.tanh
    half = G.dtype.type(0.5)
    for g, gs, go, gi, gf, gg, hp, cp, c, tc, h, m in zip(*views):
        mm(whh, hp, hh)
        add(g, hh, g)
        tanh(g, g)
        mul(gs, half, gs)  # sigmoid = 0.5 + 0.5 tanh(z / 2) on the o, i, f rows
        add(gs, half, gs)
        mul(gf, cp, c)
        mul(gi, gg, ig)
        add(c, ig, c)
        tanh(c, tc)
        if M is None:
            mul(go, tc, h)
        else:
            mul(go, tc, m)
            mm(w_hr, m, h)  # type: ignore[arg-type]


def _dense_backward_steps(
    dG: np.ndarray,
    A: np.ndarray,
    G: np.ndarray,
    dY: np.ndarray,
    DH: np.ndarray | None,
    dH: np.ndarray,
    dC: np.ndarray,
    whh_t: np.ndarray,
    w_hr_t: np.ndarray | None,
    plan: TimePlan,
    reverse: bool,
    hook: GradHook | None,
    layer: int,
    direction: int,
) -> None:
    """The BPTT loop for a full batch without resets; as the general loop in
    :func:`_backward_dir`, with per-step views from ``zip``."""
    W, _, H, N = dG.shape
    P = dH.shape[0]
    dt = dG.dtype
    t0 = plan.t0
    dhb, dcb = np.empty((P, N), dt), np.empty((H, N), dt)
    dmb = np.empty((H, N), dt)
    ts = range(t0, plan.T)
    views: list[Any] = [ts, dY, A, dG[:, 0], dG[:, 1:], G[:, 2]]
    views.append(dG.reshape(W, 4 * H, N))
    views.append(dG if DH is None else DH)
    if not reverse:  # the forward direction's BPTT runs backwards in time
        views = [v[::-1] for v in views]
    mm, add, mul = np.matmul, np.add, np.multiply  # positional out: see _dense_forward_steps
    for t, dy, a, g0, g1, gf, g2, dslot in zip(*views):
        dh = dhb if DH is None else dslot
        add(dy, dH, dh)
        dm = dh if w_hr_t is None else mm(w_hr_t, dh, dmb)
        mul(dm, a, dcb)
        add(dcb, dC, dcb)
        if hook is not None:
            plan.emit(hook, layer, direction, t, dh.T, dcb.T)
        mul(g0, dm, g0)
        mul(g1, dcb, g1)
        mul(dcb, gf, dC)
        mm(whh_t, g2, dH)


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
    G, S, C, TC, M = sv["G"], sv["S"], sv["C"], sv["TC"], sv["M"]
    t0, N, dt = plan.t0, plan.N, G.dtype
    W, H = G.shape[0], G.shape[2]
    P = S.shape[1]
    Hprev, Cprev = previous_states(plan, reverse, S, C)  # (W, P|H, N)
    # derivative factors of all steps at once. F: d gate pre-activation = factor * (dm for o,
    # dc for i, f, g); the BPTT loop turns each step's factors into that step's gradients in
    # place, so F ends up as dG (one buffer, not two). A: dc_t += dm_t * o (1 - tanh(c)^2).
    # per-thread buffers (``_scratch``); private ones when a hook, which may run another
    # backward of this kernel, is called while they are live
    own = hook is None
    F = scratch("lstm.factors", (W, 4, H, N), dt, reuse=own)
    A = scratch("lstm.A", (W, H, N), dt, reuse=own)
    derivative_factors(_lstm_factors, N, H, G, TC, Cprev, F, A)
    whh_t = np.ascontiguousarray(_roll(w_hh, H).T)  # (P, 4H); contiguous: faster per step
    w_hr_t = None if w_hr is None else w_hr.T  # (H, P)
    zero_ended(F, plan)
    dG = F
    dG3 = dG.reshape(W, 4 * H, N)
    dYt = feature_major_grad(dY, plan, "lstm.dy", dt, own)  # (W, P, N)
    # carried dL/dh, dL/dc, feature-major; always fresh C-ordered copies (updated in place)
    dH = np.array(dhn.T, dtype=dt, order="C")
    dC = np.array(dcn.T, dtype=dt, order="C")
    # dL/dh_t, for dW_hr (columns past a sequence's end stay zero)
    DH = None if w_hr is None else scratch("lstm.dh", (W, P, N), dt, plan.ragged, own)
    sizes, resets = plan.sizes, plan.reset_steps
    if not plan.ragged and not resets:
        _dense_backward_steps(
            dG, A, G, dYt, DH, dH, dC, whh_t, w_hr_t, plan, reverse, hook, layer, direction
        )
    else:  # variable lengths or resets: the general loop on the first B columns
        dhb, dcb = np.empty((P, N), dt), np.empty((H, N), dt)
        dmb = np.empty((H, N), dt)
        for t in step_order(plan, reverse, backward=True):
            u, B = t - t0, sizes[t]
            dh = dhb[:, :B] if DH is None else DH[u, :, :B]
            np.add(dYt[u, :, :B], dH[:, :B], out=dh)
            dm = dh if w_hr_t is None else np.matmul(w_hr_t, dh, out=dmb[:, :B])
            dc = dcb[:, :B]
            np.multiply(dm, A[u, :, :B], out=dc)
            dc += dC[:, :B]
            if hook is not None:
                plan.emit(hook, layer, direction, t, dh.T, dc.T)
            g = dG[u, :, :, :B]  # (4, H, B): factors in, gradients out
            g[0] *= dm
            g[1:] *= dc
            np.multiply(dc, G[u, 2, :, :B], out=dC[:, :B])
            np.matmul(whh_t, dG3[u, :, :B], out=dH[:, :B])
            if t in resets:
                k = plan.keep[t, :B, 0]  # type: ignore[index]
                dH[:, :B] *= k
                dC[:, :B] *= k
    if t0 > 0:  # the gradient stopped before reaching the initial state
        dH[...] = 0
        dC[...] = 0
    # weight, bias and input gradients as single large matmuls, batch-major rows (t, n)
    dGf = batch_major(dG3, "lstm.dg")  # (W*N, 4H)
    X = x2[t0 * N :]  # (W*N, D)
    dx = dGf @ _roll(w_ih, H) if needs[0] else None  # (W*N, D)
    dw_ih = _unroll(dGf.T @ X, H) if needs[3] else None
    dw_hh = _unroll(dGf.T @ batch_major(Hprev, "lstm.h"), H) if needs[4] else None
    db = _unroll(dGf.sum(0), H) if b_ih is not None else None
    dw_hr = None
    if w_hr is not None and needs[7]:
        DHf = batch_major(DH, "lstm.dy")  # type: ignore[arg-type]  # dYt is spent by now
        dw_hr = DHf.T @ batch_major(M, "lstm.h")
    return dx, dH.T.copy(), dC.T.copy(), dw_ih, dw_hh, db, db, dw_hr


class LSTMLayer(RecurrentLayer):
    """One LSTM layer over a whole sequence (both directions if given two weight groups).

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
