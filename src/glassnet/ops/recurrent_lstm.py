"""Fused LSTM layer: the whole sequence in one op, its backward the BPTT loop written out.

PyTorch's equations and gate rows (i, f, g, o)::

    i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)      f = sigmoid(W_if x + b_if + W_hf h + b_hf)
    g = tanh(W_ig x + b_ig + W_hg h + b_hg)         o = sigmoid(W_io x + b_io + W_ho h + b_ho)
    c' = f * c + i * g                              h' = o * tanh(c')  (then W_hr h' with proj_size)

Inside, the gate rows are rolled to (o, i, f, g) and the sigmoid rows of the weights halved, so one
``tanh`` covers all four gates per step (sigmoid(z) = 0.5 + 0.5 tanh(z / 2)), and in backward the
three gates driven by dc (i, f, g) are one contiguous block.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from .recurrent_base import GradHook, TimePlan, step_order
from .recurrent_base import add_input_grad as _add_input_grad


def _roll(a: np.ndarray, H: int) -> np.ndarray:
    """PyTorch rows (i, f, g, o) -> ours (o, i, f, g); a copy."""
    return np.concatenate([a[3 * H :], a[: 3 * H]])


def _unroll(a: np.ndarray, H: int) -> np.ndarray:
    """Our rows (o, i, f, g) -> PyTorch's (i, f, g, o)."""
    return np.concatenate([a[H:], a[:H]])


def _forward_dir(
    x2: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray,
    w: tuple[Any, ...],
    plan: TimePlan,
    reverse: bool,
    save: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any] | None]:
    """One direction over the sequence. Returns (Y (T, N, P), h_n (N, P), c_n (N, H), saved)."""
    w_ih, w_hh, b_ih, b_hh, w_hr = w
    T, N, dt = plan.T, plan.N, x2.dtype
    H = w_ih.shape[0] // 4
    P = w_hh.shape[1]
    wih = _roll(w_ih, H)  # (4H, D)
    wih[: 3 * H] *= 0.5
    whh = _roll(w_hh, H)  # (4H, P)
    whh[: 3 * H] *= 0.5
    G = (x2 @ wih.T).reshape(T, N, 4, H)  # all input projections up front
    if b_ih is not None:
        b = _roll(b_ih + b_hh, H)  # (4H,)
        b[: 3 * H] *= 0.5
        G += b.reshape(4, H)
    whh_t = np.ascontiguousarray(whh.T)  # (P, 4H); contiguous: a plain GEMM per step is faster
    whr_t = None if w_hr is None else np.ascontiguousarray(w_hr.T)  # (H, P)
    S = np.zeros((T + 1, N, P), dt)  # hidden states; S[0] (forward) or S[T] (reverse) is h0
    C = np.zeros((T + 1, N, H), dt)
    # rows past a sequence's end are never written: zero them so bulk backward math stays finite
    alloc = np.zeros if plan.ragged else np.empty
    TC = alloc((T, N, H), dt)  # tanh(c_t)
    M = None if w_hr is None else alloc((T, N, H), dt)  # o * tanh(c) before projection
    hh = np.empty((N, 4, H), dt)
    hh2 = hh.reshape(N, 4 * H)
    ig = np.empty((N, H), dt)
    sizes, resets = plan.sizes, plan.reset_steps
    if not reverse:
        S[0], C[0] = h0, c0
    if not plan.ragged and not resets:
        if reverse:
            S[T], C[T] = h0, c0
        _dense_forward_steps(G, S, C, TC, M, whh_t, whr_t, reverse)
    else:  # variable lengths or resets: the general loop
        for t in step_order(plan, reverse, backward=False):
            ip, io = (t + 1, t) if reverse else (t, t + 1)  # index of the previous / new state
            B = sizes[t]
            if reverse:
                lo, hi = plan.new_rows(t)
                if hi > lo:  # sequences that end here start their reverse pass from h0
                    S[ip, lo:hi], C[ip, lo:hi] = h0[lo:hi], c0[lo:hi]
            hp, cp = S[ip, :B], C[ip, :B]
            if t in resets:
                k = plan.keep[t, :B]  # type: ignore[index]
                hp, cp = hp * k, cp * k
            g = G[t, :B]  # (B, 4, H): o, i, f, g
            np.matmul(hp, whh_t, out=hh2[:B])
            g += hh[:B]
            np.tanh(g, out=g)
            sg = g[:, :3]
            sg *= 0.5
            sg += 0.5
            c = C[io, :B]
            np.multiply(g[:, 2], cp, out=c)
            np.multiply(g[:, 1], g[:, 3], out=ig[:B])
            c += ig[:B]
            tc = TC[t, :B]
            np.tanh(c, out=tc)
            if M is None:
                np.multiply(g[:, 0], tc, out=S[io, :B])
            else:
                m = M[t, :B]
                np.multiply(g[:, 0], tc, out=m)
                np.matmul(m, whr_t, out=S[io, :B])  # type: ignore[arg-type]
    if reverse:
        Y, h_n, c_n = S[:-1], S[0].copy(), C[0].copy()
    else:
        Y, h_n, c_n = S[1:], plan.last_state(S), plan.last_state(C)
    saved = None
    if save:
        t0 = plan.t0
        if t0 > 0:  # truncated backward: keep only what the last steps need
            G, S, C, TC = G[t0:].copy(), S[t0:].copy(), C[t0:].copy(), TC[t0:].copy()
            M = None if M is None else M[t0:].copy()
        saved = {"G": G, "S": S, "C": C, "TC": TC, "M": M}
    return Y, h_n, c_n, saved


def _lstm_factors(
    G: np.ndarray, TC: np.ndarray, Cprev: np.ndarray, F: np.ndarray, A: np.ndarray
) -> None:
    """Fill F (k, N, 4, H) and A (k, N, H) for k steps, in place (no temporaries)."""
    o, i, f, g = G[:, :, 0], G[:, :, 1], G[:, :, 2], G[:, :, 3]
    for j, (gate, other) in enumerate(((o, TC), (i, g), (f, Cprev))):
        Fj = F[:, :, j]  # gate (1 - gate) * other: (tanh(c), g, c_prev) times sigmoid'
        np.subtract(1, gate, out=Fj)
        Fj *= gate
        Fj *= other
    F3 = F[:, :, 3]  # i (1 - g^2)
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
    whh_t: np.ndarray,
    whr_t: np.ndarray | None,
    reverse: bool,
) -> None:
    """The step loop for a full batch without resets (the common case).

    Same arithmetic as the general loop in :func:`_forward_dir`; the per-step views come from
    ``zip`` over the time axis, which costs less than indexing, and matters for small layers.
    """
    N, H = G.shape[1], G.shape[3]
    hh = np.empty((N, 4, H), G.dtype)
    hh2 = hh.reshape(N, 4 * H)
    ig = np.empty((N, H), G.dtype)
    Sp, So, Cp, Co = (S[1:], S[:-1], C[1:], C[:-1]) if reverse else (S[:-1], S[1:], C[:-1], C[1:])
    # per step: gates (o, i, f, g), the sigmoid block, each gate, previous and new states
    views = [G, G[:, :, :3], G[:, :, 0], G[:, :, 1], G[:, :, 2], G[:, :, 3], Sp, Cp, Co, TC, So]
    views.append(TC if M is None else M)
    if reverse:
        views = [v[::-1] for v in views]
    for g, gs, go, gi, gf, gg, hp, cp, c, tc, h, m in zip(*views):
        np.matmul(hp, whh_t, out=hh2)
        g += hh
        np.tanh(g, out=g)
        gs *= 0.5
        gs += 0.5
        np.multiply(gf, cp, out=c)
        np.multiply(gi, gg, out=ig)
        c += ig
        np.tanh(c, out=tc)
        if M is None:
            np.multiply(go, tc, out=h)
        else:
            np.multiply(go, tc, out=m)
            np.matmul(m, whr_t, out=h)  # type: ignore[arg-type]


def _dense_backward_steps(
    dG: np.ndarray,
    A: np.ndarray,
    G: np.ndarray,
    dY: np.ndarray,
    DH: np.ndarray | None,
    dH: np.ndarray,
    dC: np.ndarray,
    whh: np.ndarray,
    w_hr: np.ndarray | None,
    plan: TimePlan,
    reverse: bool,
    hook: GradHook | None,
    layer: int,
    direction: int,
) -> None:
    """The BPTT loop for a full batch without resets; as the general loop in
    :func:`_backward_dir`, with per-step views from ``zip``."""
    W, N, _, H = dG.shape
    P = dH.shape[1]
    dt = dG.dtype
    t0 = plan.t0
    dhb, dcb = np.empty((N, P), dt), np.empty((N, H), dt)
    dmb = np.empty((N, H), dt)
    ts = range(t0, plan.T)
    views: list[Any] = [ts, dY[t0:], A, dG[:, :, 0], dG[:, :, 1:], G[:, :, 2]]
    views.append(dG.reshape(W, N, 4 * H))
    views.append(dG if DH is None else DH)
    if not reverse:  # the forward direction's BPTT runs backwards in time
        views = [v[::-1] for v in views]
    for t, dy, a, g0, g1, gf, g2, dslot in zip(*views):
        dh = dhb if DH is None else dslot
        np.add(dy, dH, out=dh)
        dm = dh if w_hr is None else np.matmul(dh, w_hr, out=dmb)
        np.multiply(dm, a, out=dcb)
        dcb += dC
        if hook is not None:
            plan.emit(hook, layer, direction, t, dh, dcb)
        g0 *= dm
        g1 *= dcb[:, None, :]
        np.multiply(dcb, gf, out=dC)
        np.matmul(g2, whh, out=dH)


def _backward_dir(
    sv: dict[str, Any],
    x2: np.ndarray,
    dY: np.ndarray,
    dhn: np.ndarray,
    dcn: np.ndarray,
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
    G, S, C, TC, M = sv["G"], sv["S"], sv["C"], sv["TC"], sv["M"]
    t0, N, dt = plan.t0, plan.N, G.dtype
    W, H = G.shape[0], G.shape[3]
    P = S.shape[2]
    Hprev, Cprev = (S[1:], C[1:]) if reverse else (S[:-1], C[:-1])
    if plan.keep is not None:
        Hprev, Cprev = Hprev * plan.keep[t0:], Cprev * plan.keep[t0:]
    # derivative factors of all steps at once. F: d gate pre-activation = factor * (dm for o,
    # dc for i, f, g); the BPTT loop turns each step's factors into that step's gradients in
    # place, so F ends up as dG (one buffer, not two). A: dc_t += dm_t * o (1 - tanh(c)^2).
    F = np.empty((W, N, 4, H), dt)
    A = np.empty((W, N, H), dt)
    step = max(1, 16384 // (N * H))  # a few steps at a time, so the passes stay in cache
    for lo in range(0, W, step):
        s = slice(lo, lo + step)
        _lstm_factors(G[s], TC[s], Cprev[s], F[s], A[s])
    whh = _roll(w_hh, H)  # (4H, P)
    if plan.valid is not None:  # rows past a sequence's end must contribute zero
        F *= plan.valid[t0:, :, :, None]
    dG = F
    dG3 = dG.reshape(W, N, 4 * H)
    alloc = np.zeros if plan.ragged else np.empty
    dH, dC = dhn.astype(dt, copy=True), dcn.astype(dt, copy=True)  # carried dL/dh, dL/dc
    DH = None if w_hr is None else alloc((W, N, P), dt)  # dL/dh_t, for dW_hr
    dhb, dcb = np.empty((N, P), dt), np.empty((N, H), dt)
    dmb = None if w_hr is None else np.empty((N, H), dt)
    sizes, resets, keep = plan.sizes, plan.reset_steps, plan.keep
    if not plan.ragged and not resets:
        _dense_backward_steps(
            dG, A, G, dY, DH, dH, dC, whh, w_hr, plan, reverse, hook, layer, direction
        )
    else:  # variable lengths or resets: the general loop
        for t in step_order(plan, reverse, backward=True):
            u, B = t - t0, sizes[t]
            dh = dhb[:B] if DH is None else DH[u, :B]
            np.add(dY[t, :B], dH[:B], out=dh)
            dm = dh if w_hr is None else np.matmul(dh, w_hr, out=dmb[:B])  # type: ignore[index]
            dc = dcb[:B]
            np.multiply(dm, A[u, :B], out=dc)
            dc += dC[:B]
            if hook is not None:
                plan.emit(hook, layer, direction, t, dh, dc)
            g = dG[u, :B]  # (B, 4, H): factors in, gradients out
            g[:, 0] *= dm
            g[:, 1:] *= dc[:, None, :]
            np.multiply(dc, G[u, :B, 2], out=dC[:B])
            np.matmul(dG3[u, :B], whh, out=dH[:B])
            if t in resets:
                k = keep[t, :B]  # type: ignore[index]
                dH[:B] *= k
                dC[:B] *= k
    if t0 > 0:  # the gradient stopped before reaching the initial state
        dH[...] = 0
        dC[...] = 0
    # weight, bias and input gradients as single large matmuls
    dGf = dG.reshape(W * N, 4 * H)
    X = x2[t0 * N :]
    dx = dGf @ _roll(w_ih, H) if needs[0] else None  # (W*N, D)
    dw_ih = _unroll(dGf.T @ X, H) if needs[3] else None
    dw_hh = _unroll(dGf.T @ Hprev.reshape(W * N, P), H) if needs[4] else None
    db = _unroll(dGf.sum(0), H) if b_ih is not None else None
    dw_hr = None
    if w_hr is not None and needs[7]:
        dw_hr = DH.reshape(W * N, P).T @ M.reshape(W * N, H)  # type: ignore[union-attr]
    return dx, dH, dC, dw_ih, dw_hh, db, db, dw_hr


class LSTMLayer(Function):
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

    def forward(
        self,
        x: np.ndarray,
        h0: np.ndarray,
        c0: np.ndarray,
        *weights: Any,
        lengths: np.ndarray | None = None,
        resets: np.ndarray | None = None,
        bptt_steps: int | None = None,
        grad_hook: GradHook | None = None,
        layer: int = 0,
        order: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        T, N, _ = x.shape
        plan = TimePlan(T, N, x.dtype, lengths, resets, bptt_steps, order)
        x2 = x.reshape(T * N, -1)  # (T*N, D)
        save = any(self.needs_input_grad)
        ndir = len(weights) // 5
        outs, hns, cns = [], [], []
        saved: list[Any] = []
        for d in range(ndir):
            Y, hn, cn, sv = _forward_dir(
                x2, h0[d], c0[d], weights[5 * d : 5 * d + 5], plan, d == 1, save
            )
            outs.append(Y)
            hns.append(hn)
            cns.append(cn)
            saved.append(sv)
        y = plan.assemble(outs, [d == 1 for d in range(ndir)])
        if save:
            self.x2, self.weights, self.y = x2, weights, y
            self.saved, self.plan, self.hook, self.layer = saved, plan, grad_hook, layer
            self.x_shape = x.shape
        return y, np.stack(hns), np.stack(cns)

    def backward(self, dy: np.ndarray, dh_n: np.ndarray, dc_n: np.ndarray) -> tuple[Any, ...]:
        plan, weights = self.plan, self.weights
        T, N, D = self.x_shape
        ndir = len(weights) // 5
        P = dh_n.shape[2]
        need_x = self.needs_input_grad[0]
        dx: np.ndarray | None = None
        dh0: list[np.ndarray] = []
        dc0: list[np.ndarray] = []
        dws: list[Any] = []
        for d in range(ndir):
            needs = (need_x, False, False, *self.needs_input_grad[3 + 5 * d : 8 + 5 * d])
            r = _backward_dir(
                self.saved[d], self.x2, dy[..., d * P : (d + 1) * P], dh_n[d], dc_n[d],
                weights[5 * d : 5 * d + 5], plan, d == 1, needs, self.hook, self.layer, d,
            )  # fmt: skip
            if need_x:
                dx = _add_input_grad(dx, r[0], plan, T * N, D)
            dh0.append(r[1])
            dc0.append(r[2])
            dws.extend(r[3:])
        dx3 = None if dx is None else dx.reshape(T, N, D)
        return (dx3, np.stack(dh0), np.stack(dc0), *dws)
