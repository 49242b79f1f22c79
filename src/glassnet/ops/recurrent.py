"""Recurrent networks: the functional forms of RNN, LSTM and GRU over whole sequences.

The arithmetic lives in fused per-layer ops whose backward is the BPTT loop written out:
``recurrent_rnn.RNNLayer``, ``recurrent_lstm.LSTMLayer``, ``recurrent_gru.GRULayer`` (their step
loops in ``glassnet.kernels``); the single-step cells are in ``recurrent_cells``. This module
stacks layers (with dropout between them), handles ``batch_first``, unbatched input and variable
lengths, and checks arguments (with ``recurrent_args``).

Options beyond PyTorch's ``nn.RNN/LSTM/GRU``:

* ``lengths`` (N,) - the equivalent of ``pack_padded_sequence(..., enforce_sorted=False)``:
  outputs are zero past each sequence's end, ``h_n`` is each sequence's state after its last valid
  step, and the reverse direction starts at each sequence's own end.
* ``resets`` (T, N) bool - a stream that restarts: where ``resets[t, n]`` is True, sample n's
  state (h and c) is zeroed before step t, and no gradient flows across the reset.
* ``bptt_steps`` k - truncated backpropagation: the backward pass covers only the last k time
  steps (of the padded time axis, with ``lengths``); the gradients of earlier inputs, of the
  initial state and of outputs before step T - k are dropped, and only the last k steps'
  activations are kept for backward.
* ``grad_hook`` - called during a real backward pass with a :class:`StepGrad` for every layer,
  direction and time step: dL/dh_t (and dL/dc_t for LSTM). ``None`` costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._random import get_rng
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import check_weight_dtype, shape_str
from .dropout import dropout as _dropout
from .recurrent_args import bool_array, check_recurrent_args, int_array, split_weights
from .recurrent_base import GradHook, StepGrad, TimePlan
from .recurrent_cells import GRUCell, LSTMCell, RNNCell, gru_cell, lstm_cell, rnn_cell
from .recurrent_gru import GRULayer
from .recurrent_lstm import LSTMLayer
from .recurrent_rnn import RNNLayer
from .shape import cat, reshape, transpose

__all__ = [
    "GRUCell",
    "GRULayer",
    "LSTMCell",
    "LSTMLayer",
    "PermuteBatch",
    "RNNCell",
    "RNNLayer",
    "StepGrad",
    "TimePlan",
    "check_recurrent_args",
    "gru",
    "gru_cell",
    "lstm",
    "lstm_cell",
    "rnn",
    "rnn_cell",
]

_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


class PermuteBatch(Function):
    """y = x[:, order]: reorder the batch axis (axis 1); dx = dy[:, order^-1].

    Shapes:
        x: (A, N, *)   y: (A, N, *)
    """

    def forward(self, x: np.ndarray, *, order: np.ndarray) -> np.ndarray:
        self.inverse = np.argsort(order)
        return x[:, order]

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy[:, self.inverse]


def _recurrent(
    mode: str,
    input: Tensor,
    hx: Any,
    weights: Sequence[Sequence[Any]],
    *,
    num_layers: int,
    bidirectional: bool,
    batch_first: bool,
    dropout: float,
    training: bool,
    lengths: Any,
    resets: Any,
    bptt_steps: int | None,
    grad_hook: GradHook | None,
    rng: np.random.Generator | None,
    nonlinearity: str = "tanh",
) -> tuple[Tensor, Any]:
    if not isinstance(input, Tensor):
        raise TypeError(f"{mode} expected a Tensor input, got {type(input).__name__}")
    ndir = 2 if bidirectional else 1
    groups = weights if weights else []
    if not groups:
        raise ValueError(f"{mode} expected weights, got none")
    first = tuple(groups[0])
    proj = mode == "LSTM" and len(first) == 5 and first[4] is not None
    groups = split_weights(mode, weights, num_layers, ndir, proj)
    G = _GATES[mode]
    H = groups[0][1].shape[0] // G  # w_hh: (G*H, P)
    P = groups[0][1].shape[1]
    D = groups[0][0].shape[1]
    dt = input.dtype
    for li in range(num_layers):
        for d in range(ndir):
            w = groups[li * ndir + d]
            d_in = D if li == 0 else P * ndir
            want = [(G * H, d_in), (G * H, P), (G * H,), (G * H,), (P, H)]
            for k, (t, s) in enumerate(zip(w, want)):
                if t is None:
                    continue
                if tuple(t.shape) != s:
                    raise ValueError(
                        f"{mode} layer {li} weight {k} expected shape {shape_str(s)}, got "
                        f"{shape_str(t.shape)}"
                    )
                check_weight_dtype(mode, input, t)
    if input.ndim not in (2, 3):
        raise ValueError(
            f"{mode} expected input of shape (T, N, {D}), (N, T, {D}) with batch_first, or "
            f"unbatched (T, {D}), got {shape_str(input.shape)}"
        )
    if input.shape[-1] != D:
        raise ValueError(
            f"{mode} expected input with {D} features (input_size = {D}) in the last dimension, "
            f"got input of shape {shape_str(input.shape)}"
        )
    batched = input.ndim == 3
    x = input
    if not batched:
        x = reshape(x, x.shape[0], 1, D)
    elif batch_first:
        x = transpose(x, 0, 1)
    T, N = x.shape[0], x.shape[1]
    if T == 0:
        raise ValueError(f"{mode} expected a sequence with at least one time step, got T = 0")

    # ------------------------------------------------------------------ initial states
    shape_h: tuple[int, ...] = (num_layers * ndir, N, P)
    shape_c: tuple[int, ...] = (num_layers * ndir, N, H)
    h0: Any = None
    c0: Any = None
    if hx is not None:
        if mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTM expected hx to be a pair (h_0, c_0) or None")
            h0, c0 = hx
        else:
            if isinstance(hx, (tuple, list)):
                raise TypeError(f"{mode} expected hx to be a Tensor, got a {type(hx).__name__}")
            h0 = hx
    states: list[Any] = []
    for name, given, want_s in (("h_0", h0, shape_h), ("c_0", c0, shape_c)):
        if given is None:
            states.append(None)
            continue
        if not isinstance(given, Tensor):
            given = Tensor(np.asarray(given))
        expect = want_s if batched else (want_s[0], want_s[2])
        if tuple(given.shape) != expect:
            raise ValueError(
                f"{mode} expected {name} of shape {shape_str(expect)} (D*num_layers, "
                f"{'N, ' if batched else ''}H_out), got {shape_str(given.shape)}"
            )
        if given.dtype != dt:
            raise TypeError(f"{mode} expected {name} of dtype {dt}, got {given.dtype}")
        states.append(given if batched else reshape(given, want_s[0], 1, want_s[2]))
    h0, c0 = states

    # ------------------------------------------------------------------ options
    lens = None
    if lengths is not None:
        if not batched:
            raise ValueError(f"{mode}: lengths needs batched input (T, N, D)")
        lens = int_array(lengths, "lengths", mode)
        if lens.shape != (N,):
            raise ValueError(
                f"{mode} expected lengths of shape ({N},) (one per sequence), got "
                f"{shape_str(lens.shape)}"
            )
        if lens.min() < 1 or lens.max() > T:
            raise ValueError(
                f"{mode} expected lengths in [1, {T}] (T = {T}), got values from "
                f"{int(lens.min())} to {int(lens.max())}"
            )
    rs = None
    if resets is not None:
        if bidirectional:
            raise ValueError(f"{mode}: resets are not supported with bidirectional=True")
        rs = bool_array(resets, "resets", mode)
        want_r: tuple[int, ...] = (T, N) if not batch_first or not batched else (N, T)
        if not batched:
            want_r = (T,)
        if rs.shape != want_r:
            raise ValueError(
                f"{mode} expected resets of shape {shape_str(want_r)}, got {shape_str(rs.shape)}"
            )
        rs = rs.reshape(T, 1) if not batched else (rs.T if batch_first else rs)
    if bptt_steps is not None:
        if isinstance(bptt_steps, bool) or not isinstance(bptt_steps, (int, np.integer)):
            raise TypeError(f"{mode} expected an int bptt_steps, got {type(bptt_steps).__name__}")
        if bptt_steps < 1:
            raise ValueError(f"{mode} expected bptt_steps >= 1, got {bptt_steps}")
        if bidirectional:
            raise ValueError(f"{mode}: bptt_steps is not supported with bidirectional=True")
        bptt_steps = int(bptt_steps)
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"RNN nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")

    # ------------------------------------------------------------------ sort by length
    order = None
    if lens is not None:
        order = np.argsort(-lens, kind="stable")
        if np.array_equal(order, np.arange(N)):
            order = None
        else:
            lens = lens[order]
            x = PermuteBatch.apply(x, order=order)
            h0 = None if h0 is None else PermuteBatch.apply(h0, order=order)
            c0 = None if c0 is None else PermuteBatch.apply(c0, order=order)
            rs = None if rs is None else np.ascontiguousarray(rs[:, order])

    # ------------------------------------------------------------------ layers
    gen = get_rng(rng) if (training and dropout > 0 and num_layers > 1) else None
    static: dict[str, Any] = {
        "lengths": lens,
        "resets": rs,
        "bptt_steps": bptt_steps,
        "grad_hook": grad_hook,
        "order": order,
    }
    if mode == "RNN":
        static["nonlinearity"] = nonlinearity
    op = {"RNN": RNNLayer, "LSTM": LSTMLayer, "GRU": GRULayer}[mode]
    hns, cns = [], []
    for li in range(num_layers):
        sl = slice(li * ndir, (li + 1) * ndir)
        h0_l = np.zeros((ndir, N, P), dt) if h0 is None else h0[sl]
        ws = [t for g in groups[li * ndir : (li + 1) * ndir] for t in g]
        if mode == "LSTM":
            c0_l = np.zeros((ndir, N, H), dt) if c0 is None else c0[sl]
            x, hn, cn = op.apply(x, h0_l, c0_l, *ws, layer=li, **static)
            cns.append(cn)
        else:
            x, hn = op.apply(x, h0_l, *ws, layer=li, **static)
        hns.append(hn)
        if gen is not None and li < num_layers - 1:
            x = _dropout(x, dropout, True, rng=gen)
    h_n = hns[0] if num_layers == 1 else cat(hns, 0)
    c_n = None
    if mode == "LSTM":
        c_n = cns[0] if num_layers == 1 else cat(cns, 0)

    # ------------------------------------------------------------------ back to the caller's layout
    if order is not None:
        inverse = np.argsort(order)
        x = PermuteBatch.apply(x, order=inverse)
        h_n = PermuteBatch.apply(h_n, order=inverse)
        c_n = None if c_n is None else PermuteBatch.apply(c_n, order=inverse)
    if not batched:
        x = reshape(x, T, x.shape[2])
        h_n = reshape(h_n, h_n.shape[0], h_n.shape[2])
        c_n = None if c_n is None else reshape(c_n, c_n.shape[0], c_n.shape[2])
    elif batch_first:
        x = transpose(x, 0, 1)
    return x, (h_n if c_n is None else (h_n, c_n))


def rnn(
    input: Tensor,
    hx: Tensor | None,
    weights: Sequence[Sequence[Tensor | None]],
    *,
    num_layers: int = 1,
    nonlinearity: str = "tanh",
    bidirectional: bool = False,
    batch_first: bool = False,
    dropout: float = 0.0,
    training: bool = True,
    lengths: Any = None,
    resets: Any = None,
    bptt_steps: int | None = None,
    grad_hook: GradHook | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """A multi-layer Elman RNN over a sequence; returns ``(output, h_n)`` as ``torch.nn.RNN``.

    Reference (textbook) form of one layer: ``glassnet.ops.reference.RNN``.

    Args:
        input: (T, N, D), (N, T, D) with ``batch_first``, or unbatched (T, D).
        hx: h_0 of shape (Dir*num_layers, N, H) (or (Dir*num_layers, H) unbatched), zeros if None.
        weights: one group ``(w_ih, w_hh, b_ih, b_hh)`` per layer and direction, layer-major
            (``None`` biases when absent).
        lengths, resets, bptt_steps, grad_hook: see the module docstring.
        dropout, training, rng: dropout on the outputs of every layer but the last, in training.

    Shapes:
        output: (T, N, Dir*H) (or batch_first / unbatched like the input)   h_n: like hx

    >>> import numpy as np, glassnet
    >>> w = [(glassnet.zeros(4, 3), glassnet.zeros(4, 4), None, None)]
    >>> y, h = rnn(glassnet.ones(5, 2, 3), None, w)
    >>> y.shape, h.shape
    ((5, 2, 4), (1, 2, 4))
    """
    return _recurrent(
        "RNN", input, hx, weights, num_layers=num_layers, bidirectional=bidirectional,
        batch_first=batch_first, dropout=dropout, training=training, lengths=lengths,
        resets=resets, bptt_steps=bptt_steps, grad_hook=grad_hook, rng=rng,
        nonlinearity=nonlinearity,
    )  # fmt: skip


def lstm(
    input: Tensor,
    hx: tuple[Tensor, Tensor] | None,
    weights: Sequence[Sequence[Tensor | None]],
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    batch_first: bool = False,
    dropout: float = 0.0,
    training: bool = True,
    lengths: Any = None,
    resets: Any = None,
    bptt_steps: int | None = None,
    grad_hook: GradHook | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """A multi-layer LSTM over a sequence; returns ``(output, (h_n, c_n))`` as ``torch.nn.LSTM``.

    Reference (textbook) form of one layer: ``glassnet.ops.reference.LSTM``.

    Args:
        input: (T, N, D), (N, T, D) with ``batch_first``, or unbatched (T, D).
        hx: ``(h_0, c_0)`` of shapes (Dir*num_layers, N, P) and (Dir*num_layers, N, H), or None.
        weights: one group ``(w_ih, w_hh, b_ih, b_hh, w_hr)`` per layer and direction,
            layer-major; ``w_hr`` (P, H) is the projection (``proj_size``), ``None`` without.
        lengths, resets, bptt_steps, grad_hook: see the module docstring.
        dropout, training, rng: dropout on the outputs of every layer but the last, in training.

    Shapes:
        output: (T, N, Dir*P)   h_n: (Dir*num_layers, N, P)   c_n: (Dir*num_layers, N, H)
        (P = proj_size if projecting, else H)
    """
    return _recurrent(
        "LSTM", input, hx, weights, num_layers=num_layers, bidirectional=bidirectional,
        batch_first=batch_first, dropout=dropout, training=training, lengths=lengths,
        resets=resets, bptt_steps=bptt_steps, grad_hook=grad_hook, rng=rng,
    )  # fmt: skip


def gru(
    input: Tensor,
    hx: Tensor | None,
    weights: Sequence[Sequence[Tensor | None]],
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    batch_first: bool = False,
    dropout: float = 0.0,
    training: bool = True,
    lengths: Any = None,
    resets: Any = None,
    bptt_steps: int | None = None,
    grad_hook: GradHook | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """A multi-layer GRU over a sequence; returns ``(output, h_n)`` as ``torch.nn.GRU``.

    Reference (textbook) form of one layer: ``glassnet.ops.reference.GRU``.
    Arguments and shapes as :func:`rnn`, with groups ``(w_ih (3H, D), w_hh (3H, H), b_ih, b_hh)``.
    """
    return _recurrent(
        "GRU", input, hx, weights, num_layers=num_layers, bidirectional=bidirectional,
        batch_first=batch_first, dropout=dropout, training=training, lengths=lengths,
        resets=resets, bptt_steps=bptt_steps, grad_hook=grad_hook, rng=rng,
    )  # fmt: skip
