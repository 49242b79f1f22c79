"""Shared pieces of the fused recurrent ops: the time plan, output assembly and the BPTT hook.

A fused sequence op (``recurrent_rnn``, ``recurrent_lstm``, ``recurrent_gru``) runs one layer, both
directions if bidirectional, over the whole sequence. What varies from call to call - which batch
rows are still running at each step (variable lengths), where a stream restarts (resets), where the
backward pass stops (truncation) - is gathered here in a :class:`TimePlan`, so the three kernels
share one meaning for each option.

Variable lengths work like PyTorch's packed sequences: the rows are sorted by decreasing length
(the functional form does this), so the rows still running at step t are a prefix ``[:B_t]`` of the
batch and each step simply computes on fewer rows.

Inside a kernel the per-step arrays of LSTM and GRU are feature-major, batch last ((4H, N), (H, N):
contiguous gates, and the faster GEMM orientation for small batches, see ``recurrent_lstm``); the
RNN kernel, whose step is one GEMM and one ``tanh``, stays batch-major. ``batch_major`` turns a
feature-major stack back into rows (t, n) for the bulk weight GEMMs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from ..autograd.function import Function
from ._scratch import scratch


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


def step_order(plan: TimePlan, reverse: bool, backward: bool) -> range:
    """The time steps in the order a pass visits them (the BPTT loop runs the reverse order)."""
    if reverse:
        return range(plan.T) if backward else range(plan.T - 1, -1, -1)
    return range(plan.T - 1, plan.t0 - 1, -1) if backward else range(plan.T)


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


def feature_major_grad(
    dY: np.ndarray, plan: TimePlan, role: str, dtype: np.dtype, reuse: bool
) -> np.ndarray:
    """The output gradient (T, N, P) of the backward steps, feature-major (W, P, N) of
    ``dtype``, in this thread's scratch buffer ``role`` (``reuse=False``: a private one)."""
    W, (_, N, P) = dY.shape[0] - plan.t0, dY.shape
    out = scratch(role, (W, P, N), dtype, reuse=reuse)
    np.copyto(out, dY[plan.t0 :].transpose(0, 2, 1))
    return out


def batch_major(a: np.ndarray, role: str) -> np.ndarray:
    """(W, F, N) feature-major steps -> (W*N, F), row (t, n), for the bulk weight GEMMs.

    One transposing copy into this thread's scratch buffer ``role`` (``glassnet.ops._scratch``).
    """
    W, F, N = a.shape
    out = scratch(role, (W, N, F), a.dtype)
    np.copyto(out, a.transpose(0, 2, 1))
    return out.reshape(W * N, F)


class RecurrentLayer(Function):
    """The driver shared by the fused layers (``RNNLayer``, ``GRULayer``, ``LSTMLayer``).

    One layer over the whole sequence, each direction run by the kernel's ``forward_dir`` /
    ``backward_dir``; this class builds the :class:`TimePlan`, loops over the directions,
    assembles the outputs and, in backward, adds the directions' input gradients. A subclass
    sets ``n_states`` (1: ``h``; 2: ``h, c``), ``n_weights`` (weights per direction), the two
    kernels and ``options`` (extra keyword arguments of both, e.g. the RNN's ``relu``):

    * ``forward_dir(x, states, weights, plan, reverse, save, **options)
      -> (Y, final_states, saved)``
    * ``backward_dir(saved, x2, dY, d_final_states, weights, plan, reverse, needs, hook, layer,
      direction, **options) -> (dx, *d_initial_states, *weight_grads)``

    Positional inputs of the op: ``x``, the ``n_states`` initial states (Dir, N, .), then per
    direction its ``n_weights`` weights; outputs ``(y, *final_states)``. Static options
    (keyword-only): ``lengths`` (N,) sorted in decreasing order, ``resets`` (T, N) bool,
    ``bptt_steps``, ``grad_hook``, ``layer``, ``order``; see :class:`TimePlan`.
    """

    n_states = 1
    n_weights = 4
    options: Mapping[str, Any] = MappingProxyType({})  # set per call by a subclass that has any
    forward_dir: Callable[..., tuple[np.ndarray, tuple[np.ndarray, ...], Any]]
    backward_dir: Callable[..., tuple[Any, ...]]

    def run(
        self,
        x: np.ndarray,
        states: tuple[np.ndarray, ...],
        weights: tuple[Any, ...],
        *,
        lengths: np.ndarray | None = None,
        resets: np.ndarray | None = None,
        bptt_steps: int | None = None,
        grad_hook: GradHook | None = None,
        layer: int = 0,
        order: np.ndarray | None = None,
    ) -> tuple[np.ndarray, ...]:
        """The forward of every direction: ``(y, *final_states)`` (see the class docstring)."""
        T, N, _ = x.shape
        plan = TimePlan(T, N, x.dtype, lengths, resets, bptt_steps, order)
        save = any(self.needs_input_grad)
        k = self.n_weights
        ndir = len(weights) // k
        outs, finals, saved = [], [], []
        for d in range(ndir):
            Y, fin, sv = self.forward_dir(
                x, tuple(s[d] for s in states), weights[k * d : k * (d + 1)], plan, d == 1, save,
                **self.options,
            )  # fmt: skip
            outs.append(Y)
            finals.append(fin)
            saved.append(sv)
        # (the kernels' outputs may be views of feature-major states: one copy, here or in
        # assemble)
        y = np.ascontiguousarray(plan.assemble(outs, [d == 1 for d in range(ndir)]))
        if save:
            self.x2, self.weights, self.y = x.reshape(T * N, x.shape[2]), weights, y
            self.saved, self.plan, self.hook, self.layer = saved, plan, grad_hook, layer
            self.x_shape = x.shape
        return (y, *(np.stack([f[i] for f in finals]) for i in range(self.n_states)))

    def backward(self, dy: np.ndarray, *d_finals: np.ndarray) -> tuple[Any, ...]:
        plan, weights, k, ns = self.plan, self.weights, self.n_weights, self.n_states
        T, N, D = self.x_shape
        ndir = len(weights) // k
        P = d_finals[0].shape[2]  # output width per direction
        need_x = self.needs_input_grad[0]
        dx: np.ndarray | None = None
        d_init: list[list[np.ndarray]] = [[] for _ in range(ns)]
        dws: list[Any] = []
        for d in range(ndir):
            first = 1 + ns + k * d  # this direction's weights among the op's inputs
            needs = (need_x, *(False,) * ns, *self.needs_input_grad[first : first + k])
            r = self.backward_dir(
                self.saved[d], self.x2, dy[..., d * P : (d + 1) * P],
                tuple(ds[d] for ds in d_finals), weights[k * d : k * (d + 1)], plan, d == 1,
                needs, self.hook, self.layer, d, **self.options,
            )  # fmt: skip
            if need_x:
                dx = add_input_grad(dx, r[0], plan, T * N, D)
            for i in range(ns):
                d_init[i].append(r[1 + i])
            dws.extend(r[1 + ns :])
        dx3 = None if dx is None else dx.reshape(T, N, D)
        return (dx3, *(np.stack(g) for g in d_init), *dws)
