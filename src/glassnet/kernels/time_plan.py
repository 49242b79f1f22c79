"""The time plan of a fused recurrent call and the NumPy helpers its kernels share.

Used by the step loops in ``kernels.rnn``, ``kernels.lstm``, ``kernels.gru``; see
``glassnet.ops.recurrent_base`` for how the fused ops drive them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np


class StepGrad(NamedTuple):
    """What a BPTT gradient hook sees at one time step of a real backward pass.

    Attributes:
        layer: index of the layer (0 is the one reading the input).
        direction: 0 forward in time, 1 the reverse direction of a bidirectional layer.
        t: the time step (an index of the input's time axis, whatever the direction).
        grad_h: dL/dh_t, the total gradient of the loss with respect to the hidden state at step t
            (from the output at t and from all later steps), shape (N, H_out); rows of sequences
            that have already ended (t >= length) are zero. A fresh array the hook may keep.
        grad_c: dL/dc_t for an LSTM (shape (N, H)), ``None`` for RNN and GRU.
    """

    layer: int
    direction: int
    t: int
    grad_h: np.ndarray
    grad_c: np.ndarray | None


GradHook = Callable[[StepGrad], Any]


class TimePlan:
    """The schedule of one fused call: active rows per step, resets, and the truncation point.

    Args:
        T, N: sequence length and batch size.
        dtype: floating dtype of the computation.
        lengths: (N,) valid lengths sorted in decreasing order, or None (all T).
        resets: (T, N) bool, True where a row's state is zeroed before step t, or None.
        bptt_steps: backpropagate through the last ``bptt_steps`` steps only (None: all).
        order: (N,) original batch index of each (sorted) row, for hook events; None if unsorted.
    """

    def __init__(
        self,
        T: int,
        N: int,
        dtype: np.dtype,
        lengths: np.ndarray | None = None,
        resets: np.ndarray | None = None,
        bptt_steps: int | None = None,
        order: np.ndarray | None = None,
    ) -> None:
        self.T, self.N, self.dtype = T, N, dtype
        self.ragged = lengths is not None and int(lengths.min()) < T
        self.valid: np.ndarray | None
        self.lengths = lengths if self.ragged else None
        if self.lengths is not None:
            # rows still running at step t: a prefix of the sorted batch
            self.sizes = (self.lengths[None, :] > np.arange(T)[:, None]).sum(1).tolist()
            self.valid = (np.arange(T)[:, None] < self.lengths[None, :])[..., None]  # (T, N, 1)
        else:
            self.sizes = [N] * T
            self.valid = None
        self.keep: np.ndarray | None = None
        self.reset_steps: frozenset[int] = frozenset()
        if resets is not None and resets.any():
            self.keep = (~resets).astype(dtype)[..., None]  # (T, N, 1)
            self.reset_steps = frozenset(np.flatnonzero(resets.any(axis=1)).tolist())
        self.t0 = 0 if bptt_steps is None else max(0, T - int(bptt_steps))
        self.order = order

    def new_rows(self, t: int) -> tuple[int, int]:
        """Reverse direction: rows ``[lo, hi)`` whose sequences end at step t, so start there."""
        lo = self.sizes[t + 1] if t + 1 < self.T else 0
        return lo, self.sizes[t]

    def last_state(self, S: np.ndarray) -> np.ndarray:
        """Forward direction: each row's state after its own last valid step, from (T+1, N, H)."""
        if self.lengths is None:
            return S[self.T].copy()
        return S[self.lengths, np.arange(self.N)]

    def assemble(self, outs: list[np.ndarray], reverse: list[bool]) -> np.ndarray:
        """Join the per-direction outputs (T, N, H) into (T, N, D*H), zero past each end."""
        masked = [self.valid is not None and r for r in reverse]
        if len(outs) == 1 and not masked[0]:
            return outs[0]
        T, N, P = outs[0].shape
        y = np.empty((T, N, len(outs) * P), outs[0].dtype)
        for d, (o, m) in enumerate(zip(outs, masked)):
            if m:
                np.multiply(o, self.valid, out=y[..., d * P : (d + 1) * P])  # type: ignore[arg-type]
            else:
                y[..., d * P : (d + 1) * P] = o
        return y

    def emit(
        self,
        hook: GradHook,
        layer: int,
        direction: int,
        t: int,
        dh: np.ndarray,
        dc: np.ndarray | None,
    ) -> None:
        """Call ``hook`` with dL/dh_t (and dL/dc_t) of the active rows, in the user's row order."""
        B = dh.shape[0]
        full: list[np.ndarray | None] = []
        for g in (dh, dc):
            if g is None:
                full.append(None)
                continue
            f = np.zeros((self.N, g.shape[1]), g.dtype)
            f[:B] = g
            if self.order is not None:
                unsorted = np.empty_like(f)
                unsorted[self.order] = f
                f = unsorted
            full.append(f)
        hook(StepGrad(layer, direction, t, full[0], full[1]))  # type: ignore[arg-type]


StepEmitter = Callable[[int, np.ndarray, np.ndarray | None], None]


def step_emitter(
    plan: TimePlan, hook: GradHook | None, layer: int, direction: int
) -> StepEmitter | None:
    """What a BPTT loop calls with ``(t, dh_t, dc_t)`` of its active rows (batch-major (B, .))
    to report the step to ``hook``: :meth:`TimePlan.emit` for this layer and direction; None
    without a hook."""
    if hook is None:
        return None
    return lambda t, dh, dc: plan.emit(hook, layer, direction, t, dh, dc)


def step_order(plan: TimePlan, reverse: bool, backward: bool) -> range:
    """The time steps in the order a pass visits them (the BPTT loop runs the reverse order)."""
    if reverse:
        return range(plan.T) if backward else range(plan.T - 1, -1, -1)
    return range(plan.T - 1, plan.t0 - 1, -1) if backward else range(plan.T)


def forward_schedule(
    plan: TimePlan, reverse: bool
) -> list[tuple[int, int, int, int, slice | None]]:
    """The forward steps of the general loop, in order: ``(t, prev, new, B, start)`` with the
    index of the state step t reads (``prev``) and writes (``new``) in a (T+1, ...) stack, the
    rows still running ``[:B]``, and, in the reverse direction, the rows whose sequences end at t
    and so start there from h0 (``start``, else None)."""
    steps = []
    for t in step_order(plan, reverse, backward=False):
        prev, new = (t + 1, t) if reverse else (t, t + 1)
        start = None
        if reverse:
            lo, hi = plan.new_rows(t)
            start = slice(lo, hi) if hi > lo else None
        steps.append((t, prev, new, plan.sizes[t], start))
    return steps


def add_input_grad(
    dx: np.ndarray | None, part: np.ndarray, plan: TimePlan, rows: int, D: int
) -> np.ndarray:
    """Add one direction's input gradient (rows from ``plan.t0 * N`` on) to the total."""
    if dx is None and plan.t0 == 0:
        return part  # (T*N, D), the direction's own result: no copy
    if dx is None:
        dx = np.zeros((rows, D), part.dtype)
    dx[plan.t0 * plan.N :] += part
    return dx


def saved_steps(plan: TimePlan, **arrays: np.ndarray | None) -> dict[str, np.ndarray | None]:
    """What backward keeps of a forward pass: the steps from ``plan.t0`` on (copies when the
    backward is truncated, so the earlier steps can be freed)."""
    t0 = plan.t0
    return {k: a if a is None or t0 == 0 else a[t0:].copy() for k, a in arrays.items()}


# ---------------------------------------------------------------------------- feature-major setup
# Shared by the GRU and LSTM kernels (per-step arrays (F, N), batch last); outside their loops.
def rotate_rows(a: np.ndarray, k: int) -> np.ndarray:
    """``a[k:]`` then ``a[:k]`` (a copy): gate rows from PyTorch's order to a kernel's and back."""
    return np.concatenate([a[k:], a[:k]])


def previous_states(plan: TimePlan, reverse: bool, *stacks: np.ndarray) -> list[np.ndarray]:
    """The state before each backward step, (W, F, N) from each (W+1, F, N) stack; zero where a
    stream restarts (the state the step actually read)."""
    prev = [S[1:] if reverse else S[:-1] for S in stacks]
    if plan.keep is None:
        return prev
    keep = plan.keep[plan.t0 :, :, 0][:, None, :]  # (W, 1, N)
    return [p * keep for p in prev]


def derivative_factors(fill: Callable[..., None], N: int, H: int, *arrays: np.ndarray) -> None:
    """``fill(*(a[s] for a in arrays))`` on a few steps ``s`` at a time, so its passes over them
    stay in cache; ``fill`` writes the backward factors of those steps in place."""
    W = arrays[0].shape[0]
    step = max(1, 65536 // max(1, N * H))
    for lo in range(0, W, step):
        s = slice(lo, lo + step)
        fill(*(a[s] for a in arrays))


def zero_ended(F: np.ndarray, plan: TimePlan) -> None:
    """Zero the factors (W, k, H, N) of the columns past a sequence's end (in place), so they
    contribute nothing to the bulk gradients."""
    if plan.valid is not None:
        F *= plan.valid[plan.t0 :, :, 0][:, None, None, :]
