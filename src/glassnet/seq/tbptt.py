"""Truncated backpropagation through time: TBPTT(k1, k2) over a long stream.

Williams & Peng (1990): run the network forward along the stream; every ``k1`` steps, take the
loss of those ``k1`` steps, backpropagate it through the last ``k2`` steps (``k1 <= k2``) and
update the weights. ``k1 = k2 = k`` is the common "detach every k steps"; ``k1 < k2`` lets the
error of each step reach further back than the update interval.

How it runs here, with memory bounded by k2 (not by the stream length):

* Update j covers the window ``[s_j, e_j)``: its loss steps ``[e_{j-1}, e_j)``, with
  ``e_j = min(e_{j-1} + k1, T)``, and the ``k2 - k1`` steps before them, so
  ``s_j = max(0, e_{j-1} + k1 - k2)``: the last k2 steps for every full update; a last, shorter
  update keeps the same ``k2 - k1`` steps of context (so k1 = k2 is exactly "detach every k").
  Its forward pass starts from the model state at ``s_j``, stored detached, and runs in two
  calls of the model: ``[s_j, p_j)`` then ``[p_j, e_j)``, where ``p_j = s_{j+1}`` is where the
  next window starts; the state after the first call is kept (detached) for the next update,
  and the graph between the calls is left intact so the gradient flows through the whole window.
* The loss is ``loss_fn(output[e_j - n_j : e_j], targets[e_j - n_j : e_j])`` with ``n_j = e_j -
  e_{j-1}`` (k1, or fewer for the last update), then ``optimizer.zero_grad()``,
  ``loss.backward()``, optional gradient clipping, ``optimizer.step()``.
* With ``k1 < k2`` the ``k2 - k1`` overlapping steps are run forward again with the updated
  weights (costing ``k2 / k1`` forward passes per step); the stored state at each window start
  is the one computed in the previous window, so the trajectory is carried, never restarted.

The model follows the recurrent-model protocol ``output, state = model(x, state)`` (``state``
is ``None`` at the start; a Tensor, a tuple/list/dict of Tensors, or nested ones).
``glassnet.nn.RNN``, ``LSTM`` and ``GRU`` follow it directly. With ``resets`` the call is
``model(x, state, resets=r)``: ``r[t, n]`` True zeroes sample n's state before step t (the
``resets`` option of the recurrent layers), so one batch can hold many streams that restart at
different times. The optimizer is any object with ``zero_grad()`` and ``step()``
(``glassnet.optim``, or your own).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..autograd.tensor import Tensor
from ..nn.utils import clip_grad_norm_
from ..ops.shape import cat

__all__ = ["TBPTTResult", "TBPTTUpdate", "tbptt_iter", "tbptt_train"]


@dataclass(frozen=True)
class TBPTTUpdate:
    """One weight update of :func:`tbptt_iter`.

    Attributes:
        index: 0-based number of the update.
        start: first time step of the window the gradient flowed through.
        end: one past the last step; the loss covered steps ``[end - n_loss, end)``.
        n_loss: how many steps the loss covered (k1, fewer for the last update).
        loss: the loss value (a float).
        state: the model state after step ``end``, detached.
    """

    index: int
    start: int
    end: int
    n_loss: int
    loss: float
    state: Any


@dataclass(frozen=True)
class TBPTTResult:
    """What :func:`tbptt_train` returns: the loss of every update and the final state."""

    losses: np.ndarray
    state: Any


def _detach(state: Any) -> Any:
    """The state with every tensor detached from the graph (nested tuples/lists/dicts)."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(_detach(s) for s in state)
    if isinstance(state, dict):
        return {k: _detach(v) for k, v in state.items()}
    raise TypeError(
        "tbptt expected the model state to be None, a Tensor or a tuple/list/dict of Tensors, "
        f"got {type(state).__name__}"
    )


def _check_int(v: Any, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"tbptt expected a positive int {name}, got {v!r}")
    return int(v)


def _window(a: np.ndarray, lo: int, hi: int, time_dim: int) -> Tensor:
    return Tensor(a[lo:hi] if time_dim == 0 else a[:, lo:hi])


def _last(out: Tensor, n: int, time_dim: int) -> Tensor:
    T = out.shape[time_dim]
    if n == T:
        return out
    return out[T - n :] if time_dim == 0 else out[:, T - n :]


def tbptt_iter(
    model: Callable[..., Any],
    inputs: Any,
    targets: Any,
    k1: int,
    k2: int,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    optimizer: Any,
    *,
    state: Any = None,
    resets: Any = None,
    time_dim: int = 0,
    max_grad_norm: float | None = None,
    parameters: Any = None,
) -> Iterator[TBPTTUpdate]:
    """Train ``model`` on a stream by TBPTT(k1, k2), yielding after every weight update.

    Args:
        model: ``output, state = model(x, state)`` (see the module docstring); ``output`` has
            the time axis at ``time_dim`` like ``x``.
        inputs: the stream, (T, N, *) for ``time_dim=0`` or (N, T, *) for ``time_dim=1``
            (an array or a Tensor; windows are views, never copies of the stream).
        targets: aligned with ``inputs`` along the time axis, (T, N, *) or (N, T, *).
        k1: update every ``k1`` steps (the loss of those steps is backpropagated).
        k2: backpropagate through the last ``k2`` steps, ``k1 <= k2``.
        loss_fn: ``loss_fn(output_steps, target_steps) -> scalar Tensor``.
        optimizer: any object with ``zero_grad()`` and ``step()``.
        state: the initial state (None: the model's default, zeros for glassnet layers).
        resets: (T, N) bool ((N, T) with ``time_dim=1``): zero a sample's state before step t;
            the model is then called as ``model(x, state, resets=r)``.
        time_dim: 0 for time-major streams, 1 for batch-first streams.
        max_grad_norm: clip the gradients' total norm before each step (``clip_grad_norm_``).
        parameters: the parameters to clip (default ``model.parameters()``).

    Yields:
        :class:`TBPTTUpdate` per update. Memory stays bounded by the window of k2 steps; keep
        only what you need from the updates.

    >>> import numpy as np, glassnet
    >>> from glassnet import nn
    >>> rnn = nn.RNN(1, 4, rng=np.random.default_rng(0))
    >>> class Step:  # a tiny SGD
    ...     def zero_grad(self): rnn.zero_grad()
    ...     def step(self):
    ...         for p in rnn.parameters(): p.data -= 0.1 * p.grad.data
    >>> x = np.sin(np.arange(40.0))[:, None, None].astype(np.float32)
    >>> mse = lambda out, y: ((out[..., :1] - y) ** 2).mean()
    >>> [u.end for u in tbptt_iter(rnn, x, np.roll(x, -1, 0), 10, 20, mse, Step())]
    [10, 20, 30, 40]
    """
    k1, k2 = _check_int(k1, "k1"), _check_int(k2, "k2")
    if k1 > k2:
        raise ValueError(f"tbptt expected k1 <= k2, got k1={k1} and k2={k2}")
    if time_dim not in (0, 1):
        raise ValueError(f"tbptt expected time_dim 0 or 1, got {time_dim!r}")
    xs = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
    ys = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    if xs.ndim < 2 or ys.ndim < 2:
        raise ValueError(
            f"tbptt expected inputs and targets with time and batch axes, got shapes "
            f"{xs.shape} and {ys.shape}"
        )
    T = xs.shape[time_dim]
    if ys.shape[time_dim] != T or ys.shape[1 - time_dim] != xs.shape[1 - time_dim]:
        raise ValueError(
            f"tbptt expected targets aligned with inputs on the time and batch axes, got "
            f"inputs {xs.shape} and targets {ys.shape} (time_dim={time_dim})"
        )
    rs = None
    if resets is not None:
        rs = np.asarray(resets.data if isinstance(resets, Tensor) else resets)
        if rs.dtype != np.bool_ or rs.shape != xs.shape[:2]:
            raise ValueError(
                f"tbptt expected resets: a bool array of shape {xs.shape[:2]}, got "
                f"{rs.dtype} {rs.shape}"
            )
    if T == 0:
        return
    params = None
    if max_grad_norm is not None:
        params = list(model.parameters() if parameters is None else parameters)  # type: ignore[attr-defined]

    def run(lo: int, hi: int, st: Any) -> tuple[Tensor, Any]:
        x = _window(xs, lo, hi, time_dim)
        if rs is None:
            return model(x, st)
        r = rs[lo:hi] if time_dim == 0 else rs[:, lo:hi]
        return model(x, st, resets=r)

    start, start_state, end, index = 0, _detach(state), 0, 0
    while end < T:
        new_end = min(end + k1, T)
        n_loss = new_end - end
        split = min(max(start, new_end + k1 - k2), new_end)  # where the next window starts
        outs = []
        st = start_state
        if split > start:
            out_a, st = run(start, split, st)
            outs.append(out_a)
        next_state = _detach(st)
        if new_end > split:
            out_b, st = run(split, new_end, st)
            outs.append(out_b)
        if new_end - split >= n_loss:
            out = outs[-1]
        else:
            out = outs[0] if len(outs) == 1 else cat(outs, time_dim)
        pred = _last(out, n_loss, time_dim)
        loss = loss_fn(pred, _window(ys, new_end - n_loss, new_end, time_dim))
        optimizer.zero_grad()
        loss.backward()
        if params is not None:
            clip_grad_norm_(params, max_grad_norm)  # type: ignore[arg-type]
        optimizer.step()
        yield TBPTTUpdate(index, start, new_end, n_loss, float(loss.item()), _detach(st))
        start, start_state, end, index = split, next_state, new_end, index + 1


def tbptt_train(
    model: Callable[..., Any],
    inputs: Any,
    targets: Any,
    k1: int,
    k2: int,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    optimizer: Any,
    **kwargs: Any,
) -> TBPTTResult:
    """Run :func:`tbptt_iter` to the end of the stream; return each update's loss, the end state.

    Arguments as :func:`tbptt_iter`. The losses take 8 bytes per update; use :func:`tbptt_iter` to
    keep nothing.
    """
    losses: list[float] = []
    final = kwargs.get("state")
    for u in tbptt_iter(model, inputs, targets, k1, k2, loss_fn, optimizer, **kwargs):
        losses.append(u.loss)
        final = u.state
    return TBPTTResult(np.asarray(losses, dtype=np.float64), final)
