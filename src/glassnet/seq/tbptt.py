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

One driver does this for every user: :class:`TBPTTStream` holds the stream, the k1/k2 windows,
the reset mask, the carried (detached) state and the position, and runs one window at a time;
its ``state_dict`` is what a checkpoint needs to continue exactly (the position and the state at
the start of the next window). :func:`tbptt_iter` / :func:`tbptt_train` add the optimizer step;
:class:`TBPTTLoader` hands the windows to the ``Trainer`` (batches, ``step_fn`` and checkpointed
state); ``glassnet.seq.train_lm_epoch``, ``fit_rnn_forecaster`` and the ``glassnet train``
command run on them.

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

from ..autograd import grad_mode
from ..autograd.tensor import Tensor
from ..nn.utils import clip_grad_norm_
from ..ops.shape import cat
from ..train.callbacks import Callback

__all__ = [
    "TBPTTLoader",
    "TBPTTResult",
    "TBPTTStream",
    "TBPTTUpdate",
    "TBPTTWindow",
    "tbptt_iter",
    "tbptt_train",
]


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


@dataclass(frozen=True, eq=False)
class TBPTTWindow:
    """The steps update ``index`` of a :class:`TBPTTStream` runs forward and scores.

    Attributes:
        index: 0-based number of the update.
        start: first step the gradient flows through (``s_j``).
        split: where the next window starts (``p_j``); the state there is carried on.
        end: one past the last step (``e_j``); the loss covers ``[end - n_loss, end)``.
        n_loss: how many steps the loss covers (k1, fewer for the last update).
        inputs: the stream's steps ``[start, end)`` (a view, time axis at ``time_dim``).
        targets: the targets of the loss steps ``[end - n_loss, end)`` (a view).
        resets: the reset mask of ``[start, end)``, or None.
        time_dim: 0 for time-major streams, 1 for batch-first ones.
    """

    index: int
    start: int
    split: int
    end: int
    n_loss: int
    inputs: np.ndarray
    targets: np.ndarray
    resets: np.ndarray | None
    time_dim: int


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


def _arrays(state: Any) -> Any:
    """The detached state with its Tensors as arrays (what a checkpoint stores)."""
    if isinstance(state, Tensor):
        return state.data
    if isinstance(state, (tuple, list)):
        return type(state)(_arrays(s) for s in state)
    if isinstance(state, dict):
        return {k: _arrays(v) for k, v in state.items()}
    return state


def _tensors(state: Any) -> Any:
    """The inverse of :func:`_arrays`."""
    if isinstance(state, np.ndarray):
        return Tensor(state)
    if isinstance(state, (tuple, list)):
        return type(state)(_tensors(s) for s in state)
    if isinstance(state, dict):
        return {k: _tensors(v) for k, v in state.items()}
    if state is None or isinstance(state, Tensor):
        return state
    raise TypeError(f"a TBPTT state holds arrays, got {type(state).__name__}")


def _check_int(v: Any, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"tbptt expected a positive int {name}, got {v!r}")
    return int(v)


def _steps(a: np.ndarray, lo: int, hi: int, time_dim: int) -> np.ndarray:
    return a[lo:hi] if time_dim == 0 else a[:, lo:hi]


def _last(out: Tensor, n: int, time_dim: int) -> Tensor:
    T = out.shape[time_dim]
    if n == T:
        return out
    return out[T - n :] if time_dim == 0 else out[:, T - n :]


def _run(model: Callable[..., Any], w: TBPTTWindow, lo: int, hi: int, state: Any) -> Any:
    """``model`` over the window's steps ``[lo, hi)`` (stream positions) from ``state``."""
    x = Tensor(_steps(w.inputs, lo - w.start, hi - w.start, w.time_dim))
    if w.resets is None:
        return model(x, state)
    return model(x, state, resets=_steps(w.resets, lo - w.start, hi - w.start, w.time_dim))


class TBPTTStream:
    """The truncated-BPTT driver: a stream, its TBPTT(k1, k2) windows, the carried state and
    the position.

    ``forward(model)`` runs the next window from the carried state (see the module docstring for
    the windows) and returns the output and targets of its loss steps; the caller computes the
    loss, backpropagates and steps. The state at the start of the next window is kept detached,
    so memory is bounded by the window. ``state_dict()`` (the position and that state) is all a
    checkpoint needs to continue exactly.

    Args:
        inputs: the stream, (T, N, *) for ``time_dim=0`` or (N, T, *) for ``time_dim=1``
            (an array or a Tensor; windows are views, never copies of the stream).
        targets: aligned with ``inputs`` along the time axis, (T, N, *) or (N, T, *).
        k1: update every ``k1`` steps.
        k2: backpropagate through the last ``k2`` steps, ``k1 <= k2`` (default ``k1``).
        resets: (T, N) bool ((N, T) with ``time_dim=1``): zero a sample's state before step t;
            the model is then called as ``model(x, state, resets=r)``.
        time_dim: 0 for time-major streams, 1 for batch-first streams.
        state: the initial state (None: the model's default, zeros for glassnet layers).

    Attributes:
        index: how many windows have run (the position; ``len(self)`` at the end).
        state: the detached state at the start of window ``index``.
        end_state: the detached state after the last window run (the initial state before).
    """

    def __init__(
        self,
        inputs: Any,
        targets: Any,
        k1: int,
        k2: int | None = None,
        *,
        resets: Any = None,
        time_dim: int = 0,
        state: Any = None,
    ) -> None:
        k1 = _check_int(k1, "k1")
        k2 = k1 if k2 is None else _check_int(k2, "k2")
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
        self._xs, self._ys, self._rs = xs, ys, rs
        self.k1, self.k2, self.time_dim, self.steps = k1, k2, time_dim, T
        self.index = 0
        self.state = self.end_state = _detach(state)

    def __len__(self) -> int:
        """The number of windows (updates): ceil(T / k1)."""
        return -(-self.steps // self.k1)

    def window(self, index: int) -> TBPTTWindow:
        """Window ``index``: ``e_j = min((j + 1) k1, T)``, ``s_j = max(0, e_{j-1} + k1 - k2)``."""
        if not 0 <= index < len(self):
            raise IndexError(f"TBPTTStream has {len(self)} windows, got index {index}")
        k1, k2, T, td = self.k1, self.k2, self.steps, self.time_dim
        prev, end = min(index * k1, T), min((index + 1) * k1, T)
        start, split = max(0, prev + k1 - k2), max(0, end + k1 - k2)
        rs = None if self._rs is None else _steps(self._rs, start, end, td)
        n_loss = end - prev
        return TBPTTWindow(
            index, start, split, end, n_loss, _steps(self._xs, start, end, td),
            _steps(self._ys, end - n_loss, end, td), rs, td,
        )  # fmt: skip

    def windows(self) -> Iterator[TBPTTWindow]:
        """The windows from the current position on (each to be run by :meth:`forward`)."""
        for j in range(self.index, len(self)):
            yield self.window(j)

    def forward(
        self, model: Callable[..., Any], window: TBPTTWindow | None = None
    ) -> tuple[Tensor, Tensor]:
        """Run the next window from the carried state; return (output, targets) of its loss steps.

        The graph runs through the whole window (``[start, end)``); the state at ``split`` is
        kept, detached, as the start of the next window, and the position moves on by one.
        """
        w = self.window(self.index) if window is None else window
        if w.index != self.index:
            raise ValueError(
                f"TBPTTStream runs its windows in order: the next is {self.index}, got {w.index}"
            )
        outs = []
        st = self.state
        if w.split > w.start:
            out_a, st = _run(model, w, w.start, w.split, st)
            outs.append(out_a)
        carried = _detach(st)
        if w.end > w.split:
            out_b, st = _run(model, w, w.split, w.end, st)
            outs.append(out_b)
        if w.end - w.split >= w.n_loss:
            out = outs[-1]
        else:
            out = outs[0] if len(outs) == 1 else cat(outs, w.time_dim)
        self.state, self.end_state, self.index = carried, _detach(st), self.index + 1
        return _last(out, w.n_loss, w.time_dim), Tensor(w.targets)

    def state_dict(self) -> dict[str, Any]:
        """The position and the carried state (arrays): what exact resumption needs."""
        return {"index": self.index, "state": _arrays(self.state)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from what :meth:`state_dict` returned."""
        index = state["index"]
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= len(self):
            raise ValueError(
                f"TBPTTStream has {len(self)} windows; a saved position must be in [0, "
                f"{len(self)}], got {index!r}"
            )
        self.state = self.end_state = _tensors(state["state"])
        self.index = index


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
        inputs, targets, k1, k2, state, resets, time_dim: the stream, as :class:`TBPTTStream`.
        loss_fn: ``loss_fn(output_steps, target_steps) -> scalar Tensor``.
        optimizer: any object with ``zero_grad()`` and ``step()``.
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
    stream = TBPTTStream(inputs, targets, k1, k2, resets=resets, time_dim=time_dim, state=state)
    params = None
    if max_grad_norm is not None:
        params = list(model.parameters() if parameters is None else parameters)  # type: ignore[attr-defined]
    for w in stream.windows():
        pred, target = stream.forward(model, w)
        loss = loss_fn(pred, target)
        optimizer.zero_grad()
        loss.backward()
        if params is not None:
            clip_grad_norm_(params, max_grad_norm)  # type: ignore[arg-type]
        optimizer.step()
        yield TBPTTUpdate(w.index, w.start, w.end, w.n_loss, float(loss.item()), stream.end_state)


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


class TBPTTLoader(Callback):
    """Truncated BPTT under the ``Trainer``: a stream's windows as the batches of an epoch.

    One object is the train loader, the ``step_fn`` and a callback that keeps the carried state
    and the position in the Trainer's checkpoints, so an interrupted run resumes exactly::

        loader = TBPTTLoader(x, y, k1, k2, loss_fn=mse)
        trainer = Trainer(model, None, opt, callbacks=[loader], step_fn=loader.step)
        trainer.fit(loader, epochs)

    Every epoch reads the stream from its start and from the initial state. A subclass changes
    what an epoch reads by overriding :meth:`epoch_order` (drawn once per epoch and kept in
    checkpoints, e.g. a random offset) and :meth:`make_stream`.

    Under ``no_grad`` (``Trainer.evaluate``) :meth:`step` runs each window's steps, or a
    validation loader's plain ``(inputs, targets)`` batch, from the model's default state and
    carries nothing, so evaluating does not disturb training.

    Args:
        inputs, targets, k1, k2, resets, time_dim, state: the stream, as :class:`TBPTTStream`.
        loss_fn: ``loss_fn(output_steps, target_steps) -> scalar Tensor``.
    """

    def __init__(
        self,
        inputs: Any,
        targets: Any,
        k1: int,
        k2: int | None = None,
        *,
        loss_fn: Callable[[Tensor, Tensor], Tensor],
        resets: Any = None,
        time_dim: int = 0,
        state: Any = None,
    ) -> None:
        self.loss_fn = loss_fn
        first = TBPTTStream(inputs, targets, k1, k2, resets=resets, time_dim=time_dim, state=state)
        self._stream_args = (first._xs, first._ys, first.k1, first.k2)
        self._stream_kwargs = {"resets": first._rs, "time_dim": time_dim, "state": state}
        self.stream: TBPTTStream | None = None  # the epoch's stream, once iter_batches started
        self._loaded: dict[str, Any] | None = None  # a checkpoint's state, until it is used

    def epoch_order(self) -> np.ndarray:
        """What an epoch reads, drawn when it starts and kept in checkpoints (here: nothing)."""
        return np.zeros(1, np.int64)

    def make_stream(self, order: np.ndarray) -> TBPTTStream:
        """The stream of an epoch whose :meth:`epoch_order` was ``order``."""
        return TBPTTStream(*self._stream_args, **self._stream_kwargs)

    def __len__(self) -> int:
        return len(self.make_stream(self.epoch_order()))

    def iter_batches(self, order: np.ndarray, start: int = 0) -> Iterator[TBPTTWindow]:
        """The epoch's windows from window ``start`` on (the Trainer's way to resume)."""
        carried = self.state_dict()  # what was loaded, or where the last stream stopped
        self._loaded = None
        self.stream = self.make_stream(order)
        if start:
            if carried.get("index", start) != start:
                raise ValueError(
                    f"{type(self).__name__} holds the state before window {carried['index']}, "
                    f"not {start}: resume from the checkpoint that saved it"
                )
            self.stream.load_state_dict({"index": start, "state": carried["state"]})
        yield from self.stream.windows()

    def __iter__(self) -> Iterator[TBPTTWindow]:
        return self.iter_batches(self.epoch_order())

    def step(self, model: Any, window: Any) -> tuple[Tensor, Tensor, Tensor]:
        """The Trainer's ``step_fn``: (loss, output, targets) of the window's loss steps."""
        if grad_mode.is_grad_enabled():
            if self.stream is None:
                raise RuntimeError(f"{type(self).__name__}.step runs the windows it yields")
            pred, target = self.stream.forward(model, window)
        elif isinstance(window, TBPTTWindow):
            out, _ = _run(model, window, window.start, window.end, None)
            pred, target = _last(out, window.n_loss, window.time_dim), Tensor(window.targets)
        else:  # a validation loader's plain (inputs, targets) batch
            x, y = window
            pred, _ = model(x if isinstance(x, Tensor) else Tensor(x))
            target = y if isinstance(y, Tensor) else Tensor(y)
        return self.loss_fn(pred, target), pred, target

    def state_dict(self) -> dict[str, Any]:
        """The position in the epoch and the carried state (see ``TBPTTStream.state_dict``)."""
        if self._loaded is not None:
            return dict(self._loaded)
        if self.stream is None:
            return {"index": 0, "state": _arrays(self._stream_kwargs["state"])}
        return self.stream.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict) or "state" not in state:
            raise ValueError(f"a {type(self).__name__} state is a dict with 'index' and 'state'")
        self._loaded = dict(state)
