"""Fused GRU layer: the whole sequence in one op, its backward the BPTT loop written out.

PyTorch's equations and gate rows (r, z, n)::

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)      z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   h' = (1 - z) * n + z * h = n + z * (h - n)

The r and z rows of the weights are halved so one ``tanh`` gives both sigmoids. In backward the
gradients of the four pre-activations are laid out as (hn, r, z, n): rows (r, z, n) are the input
projection's, rows (hn, r, z) the recurrent matmul's, each a contiguous block.

As in the LSTM kernel, every per-step array is feature-major, batch last: gates (3, H, N), states
(H, N), the recurrent product ``W_hh (3H, H) @ h (H, N)`` (the faster GEMM orientation for small
batches, and contiguous gates). Public shapes stay batch-major (T, N, .).
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


def _forward_dir(
    x3: np.ndarray,
    states: tuple[np.ndarray, ...],
    w: tuple[Any, ...],
    plan: TimePlan,
    reverse: bool,
    save: bool,
) -> tuple[np.ndarray, tuple[np.ndarray, ...], dict[str, Any] | None]:
    """One direction over the sequence. Returns (Y (T, N, H), (h_n (N, H),), saved).

    Inside, every per-step array is feature-major, batch last (module docstring).
    """
    w_ih, w_hh, b_ih, b_hh = w
    (h0,) = states
    T, N, dt = plan.T, plan.N, x3.dtype
    H = w_hh.shape[1]
    wih = w_ih.copy()  # (3H, D)
    wih[: 2 * H] *= 0.5
    whh = w_hh.copy()  # (3H, H)
    whh[: 2 * H] *= 0.5
    # all input projections up front: G[t] = W_ih (3H, D) @ x_t^T (D, N), rows r, z, n
    G = np.matmul(wih, x3.transpose(0, 2, 1)).reshape(T, 3, H, N)
    b_hn = None
    if b_ih is not None:
        b = b_ih.copy()  # (3H,) b_hr and b_hz join the input bias; b_hn stays inside r * (.)
        b[: 2 * H] += b_hh[: 2 * H]
        b[: 2 * H] *= 0.5
        G += b.reshape(3, H, 1)
        b_hn = b_hh[2 * H :, None]  # (H, 1)
    G2 = G.reshape(T, 3 * H, N)
    S = np.zeros((T + 1, H, N), dt)
    alloc = np.zeros if plan.ragged else np.empty  # columns past an end stay finite (zero)
    HN = alloc((T, H, N), dt)  # W_hn h + b_hn
    DM = alloc((T, H, N), dt)  # h_prev - n
    hh = np.empty((3 * H, N), dt)
    tmp = np.empty((H, N), dt)
    sizes, resets = plan.sizes, plan.reset_steps
    if not reverse:
        S[0] = h0.T
    for t in step_order(plan, reverse, backward=False):
        ip, io = (t + 1, t) if reverse else (t, t + 1)
        B = sizes[t]
        if reverse:
            lo, hi = plan.new_rows(t)
            if hi > lo:
                S[ip, :, lo:hi] = h0[lo:hi].T
        hp = S[ip, :, :B]
        if t in resets:
            hp = hp * plan.keep[t, :B, 0]  # type: ignore[index]
        a = G[t, :, :, :B]  # (3, H, B): r, z, n
        hb = hh[:, :B]
        np.matmul(whh, hp, out=hb)
        rz = G2[t, : 2 * H, :B]
        rz += hb[: 2 * H]
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        hn = HN[t, :, :B]
        if b_hn is None:
            hn[...] = hb[2 * H :]
        else:
            np.add(hb[2 * H :], b_hn, out=hn)
        n = a[2]
        np.multiply(a[0], hn, out=tmp[:, :B])
        n += tmp[:, :B]
        np.tanh(n, out=n)
        dm = DM[t, :, :B]
        np.subtract(hp, n, out=dm)
        h = S[io, :, :B]
        np.multiply(a[1], dm, out=h)
        h += n
    ST = S.transpose(0, 2, 1)  # batch-major view (T+1, N, H)
    Y, h_n = (ST[:-1], ST[0].copy()) if reverse else (ST[1:], plan.last_state(ST))
    saved = None
    if save:
        saved = saved_steps(plan, G=G, S=S, HN=HN, DM=DM)
    return Y, (h_n,), saved


def _gru_factors(G: np.ndarray, HN: np.ndarray, DM: np.ndarray, F: np.ndarray) -> None:
    """Fill F (k, 4, H, N) with the factors (r, HN r(1-r), DM z(1-z), (1-z)(1-n^2)) in place."""
    r, z, n = G[:, 0], G[:, 1], G[:, 2]
    F[:, 0] = r
    Qr, Fz, Fn = F[:, 1], F[:, 2], F[:, 3]
    np.subtract(1, r, out=Qr)
    Qr *= r
    Qr *= HN  # r (1 - r) (W_hn h + b_hn)
    np.subtract(1, z, out=Fz)
    np.multiply(n, n, out=Fn)
    np.subtract(1, Fn, out=Fn)
    Fn *= Fz  # (1 - z) (1 - n^2)
    Fz *= z
    Fz *= DM  # z (1 - z) (h_prev - n)


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
    G, S, HN, DM = sv["G"], sv["S"], sv["HN"], sv["DM"]
    t0, N, dt = plan.t0, plan.N, G.dtype
    W, H = G.shape[0], G.shape[2]
    (Hprev,) = previous_states(plan, reverse, S)  # (W, H, N)
    z = G[:, 1]  # (W, H, N)
    # one buffer in the layout of the gradients (hn, r, z, n), filled with the factors
    # (r, HN r (1 - r), DM z (1 - z), (1 - z)(1 - n^2)); the loop turns step u's factors into its
    # gradients in place: (dz, dn) = dh * (Fz, Fn), then (dhn, dr) = dn * (r, Qr)
    # per-thread buffers (``_scratch``); private ones when a hook, which may run another
    # backward of this kernel, is called while they are live
    own = hook is None
    dG = scratch("gru.factors", (W, 4, H, N), dt, reuse=own)
    derivative_factors(_gru_factors, N, H, G, HN, DM, dG)
    whh_t = np.ascontiguousarray(rotate_rows(w_hh, 2 * H).T)  # (H, 3H), columns n, r, z
    zero_ended(dG, plan)
    dG2 = dG.reshape(W, 4 * H, N)
    dYt = feature_major_grad(dY, plan, "gru.dy", dt, own)  # (W, H, N)
    dH = np.array(dhn.T, dtype=dt, order="C")  # carried dL/dh (H, N), a fresh copy
    dhb, tmp = np.empty((H, N), dt), np.empty((H, N), dt)
    sizes, resets = plan.sizes, plan.reset_steps
    for t in step_order(plan, reverse, backward=True):
        u, B = t - t0, sizes[t]
        dh = dhb[:, :B]
        np.add(dYt[u, :, :B], dH[:, :B], out=dh)
        if hook is not None:
            plan.emit(hook, layer, direction, t, dh.T, None)
        g = dG[u, :, :, :B]  # (4, H, B)
        g[2:] *= dh  # dz, dn
        g[:2] *= g[3]  # dhn = dn * r, dr = dn * HN r (1 - r)
        np.matmul(whh_t, dG2[u, : 3 * H, :B], out=dH[:, :B])
        np.multiply(dh, z[u, :, :B], out=tmp[:, :B])
        dH[:, :B] += tmp[:, :B]
        if t in resets:
            dH[:, :B] *= plan.keep[t, :B, 0]  # type: ignore[index]
    if t0 > 0:
        dH[...] = 0
    # bulk GEMMs on batch-major rows (t, n): columns (hn, r, z, n); r, z, n are the input
    # projection's, hn, r, z the recurrent matmul's (strided column views, no further copy)
    dGf = batch_major(dG2, "gru.dg")  # (W*N, 4H)
    dGx, dGh = dGf[:, H:], dGf[:, : 3 * H]
    X = x2[t0 * N :]
    dx = dGx @ w_ih if needs[0] else None  # (W*N, D)
    dw_ih = dGx.T @ X if needs[2] else None
    dw_hh = rotate_rows(dGh.T @ batch_major(Hprev, "gru.h"), H) if needs[3] else None  # r, z, n
    db_ih = dGx.sum(0) if b_ih is not None and needs[4] else None
    db_hh = rotate_rows(dGh.sum(0), H) if b_ih is not None and needs[5] else None
    return dx, dH.T.copy(), dw_ih, dw_hh, db_ih, db_hh


class GRULayer(RecurrentLayer):
    """One GRU layer over a whole sequence (both directions if given two weight groups).

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
