"""Shared pieces of the fused recurrent ops: the time plan, output assembly and the BPTT hook.

A fused sequence op (``recurrent_rnn``, ``recurrent_lstm``, ``recurrent_gru``) runs one layer, both
directions if bidirectional, over the whole sequence. What varies from call to call - which batch
rows are still running at each step (variable lengths), where a stream restarts (resets), where the
backward pass stops (truncation) - is gathered here in a :class:`TimePlan`, so the three kernels
share one meaning for each option.

Variable lengths work like PyTorch's packed sequences: the rows are sorted by decreasing length
(the functional form does this), so the rows still running at step t are a prefix ``[:B_t]`` of the
batch and each step simply computes on fewer rows.

The step loops themselves are NumPy functions in ``glassnet.kernels`` (``rnn``, ``lstm``, ``gru``,
with the time plan in ``kernels.time_plan``); the ops here choose them and hold their buffers.
Inside a kernel the per-step arrays of LSTM and GRU are feature-major, batch last ((4H, N), (H, N):
contiguous gates, and the faster GEMM orientation for small batches, see ``kernels.lstm``); the
RNN kernel, whose step is one GEMM and one ``tanh``, stays batch-major. ``batch_major`` turns a
feature-major stack back into rows (t, n) for the bulk weight GEMMs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..kernels.scratch import scratch
from ..kernels.time_plan import (
    GradHook,
    StepGrad,
    TimePlan,
    add_input_grad,
    derivative_factors,
    previous_states,
    rotate_rows,
    saved_steps,
    step_order,
    zero_ended,
)

__all__ = [
    "GradHook",
    "StepGrad",
    "TimePlan",
    "add_input_grad",
    "derivative_factors",
    "previous_states",
    "rotate_rows",
    "saved_steps",
    "step_order",
    "zero_ended",
]


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

    One transposing copy into this thread's scratch buffer ``role`` (``glassnet.kernels.scratch``).
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
