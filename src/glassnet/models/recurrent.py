"""Recurrent models: a latent-autoregressive forecaster and a character language model.

Both wrap one of PyTorch-compatible ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` (``batch_first=True``)
and pass its state through explicitly: ``forward(x, state=None) -> (output, state)``, where the
state is ``h`` of shape (num_layers, N, H) for RNN and GRU and the pair ``(h, c)`` for LSTM.
For truncated backpropagation through time carry ``detach_state(state)`` from one chunk of a
stream to the next: the values flow on, the gradient stops at the chunk boundary.
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np

from .._random import get_rng
from ..autograd.tensor import Tensor
from ..nn.linear import Embedding, Linear
from ..nn.module import Module
from ._validate import positive_int

State = Union[Tensor, tuple[Tensor, Tensor]]  # noqa: UP007 (a runtime alias on Python 3.10)

CELLS = ("lstm", "gru", "rnn")


def _rnn_class(cell: str, who: str) -> Any:
    from .. import nn

    if not isinstance(cell, str) or cell.lower() not in CELLS:
        raise ValueError(f"{who} cell must be one of {CELLS}, got {cell!r}")
    return {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell.lower()]


def detach_state(state: State | None) -> State | None:
    """The state with every tensor detached from the graph (values shared, no gradient path).

    >>> import glassnet
    >>> h = glassnet.ones(1, 2, 3, requires_grad=True) * 2
    >>> detach_state(h).requires_grad, detach_state((h, h))[1].requires_grad
    (False, False)
    """
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, tuple) and all(isinstance(s, Tensor) for s in state):
        return tuple(s.detach() for s in state)  # type: ignore[return-value]
    raise TypeError(
        f"detach_state expected a Tensor, a tuple of Tensors or None, got {type(state).__name__}"
    )


class _Recurrent(Module):
    """Shared state handling of the recurrent models."""

    cell: str
    hidden_size: int
    num_layers: int
    rnn: Any

    def _set_sizes(self, who: str, cell: str, hidden_size: int, num_layers: int) -> None:
        self.cell = cell.lower()
        self.hidden_size = positive_int(hidden_size, "hidden_size", who)
        self.num_layers = positive_int(num_layers, "num_layers", who)

    def _make_rnn(
        self, cls: Any, input_size: int, dropout: float, dtype: Any, gen: np.random.Generator
    ) -> Any:
        """The batch-first recurrent layer ``cls`` (nn.RNN/LSTM/GRU) of this model's sizes."""
        return cls(
            input_size,
            self.hidden_size,
            self.num_layers,
            batch_first=True,
            dropout=dropout,
            dtype=dtype,
            rng=gen,
        )

    def _state_dtype(self) -> np.dtype:
        return np.dtype(self.rnn.weight_ih_l0.dtype)

    def init_state(self, batch_size: int) -> State:
        """The zero state for ``batch_size`` streams: h (or (h, c)) of shape (L, N, H)."""
        n = positive_int(batch_size, "batch_size", f"{type(self).__name__}.init_state")
        shape = (self.num_layers, n, self.hidden_size)
        h = Tensor(np.zeros(shape, self._state_dtype()))
        if self.cell == "lstm":
            return (h, Tensor(np.zeros(shape, self._state_dtype())))
        return h

    @staticmethod
    def detach_state(state: State | None) -> State | None:
        """See :func:`glassnet.models.detach_state`."""
        return detach_state(state)

    def _check_state(self, state: Any, batch: int) -> None:
        name = type(self).__name__
        shape = (self.num_layers, batch, self.hidden_size)
        if self.cell == "lstm":
            ok = (
                isinstance(state, tuple)
                and len(state) == 2
                and all(isinstance(s, Tensor) and s.shape == shape for s in state)
            )
            what = f"a tuple (h, c) of Tensors of shape {shape}"
        else:
            ok = isinstance(state, Tensor) and state.shape == shape
            what = f"a Tensor of shape {shape}"
        if not ok:
            got = (
                tuple(getattr(s, "shape", type(s).__name__) for s in state)
                if isinstance(state, tuple)
                else getattr(state, "shape", type(state).__name__)
            )
            raise ValueError(f"{name} ({self.cell}) expected state to be {what}, got {got}")

    def extra_repr(self) -> str:
        return f"cell={self.cell!r}, hidden_size={self.hidden_size}, num_layers={self.num_layers}"


class RNNForecaster(_Recurrent):
    """Latent autoregressive forecaster: x_{t+1} is predicted from a hidden state h_t.

    Where an AR(tau) model sees a fixed window, the state h_t = f(h_{t-1}, x_t) of an
    RNN/LSTM/GRU summarises the whole past; a linear head reads the one-step prediction
    x_hat_{t+1} = head(h_t) from every step's state (top layer).

    Args:
        cell: ``'lstm'`` (default), ``'gru'`` or ``'rnn'`` (tanh).
        hidden_size: H.
        num_layers: stacked recurrent layers L.
        dropout: dropout between stacked layers (as PyTorch's ``dropout`` argument).
        dtype: parameter dtype.
        rng: generator for the initial weights.

    Shapes:
        x: (N, T) values   y: (N, T) with y[:, t] the prediction of x[:, t + 1]
        state: (L, N, H), or a pair of them for LSTM

    Parameters: ``rnn.*`` (PyTorch's names: ``rnn.weight_ih_l0``, ...) and ``head.weight``,
    ``head.bias``.

    >>> import glassnet
    >>> model = RNNForecaster("gru", hidden_size=8, rng=glassnet.manual_seed(0))
    >>> y, h = model(glassnet.zeros(2, 5))
    >>> y.shape, h.shape
    ((2, 5), (1, 2, 8))
    """

    def __init__(
        self,
        cell: str = "lstm",
        hidden_size: int = 32,
        num_layers: int = 1,
        dropout: float = 0.0,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        cls = _rnn_class(cell, "RNNForecaster")
        self._set_sizes("RNNForecaster", cell, hidden_size, num_layers)
        gen = get_rng(rng)
        self.rnn = self._make_rnn(cls, 1, dropout, dtype, gen)
        self.head = Linear(self.hidden_size, 1, dtype=dtype, rng=gen)

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        if not isinstance(x, Tensor):
            raise TypeError(f"RNNForecaster expected a Tensor input, got {type(x).__name__}")
        if x.ndim != 2 or x.shape[1] == 0:
            raise ValueError(f"RNNForecaster expected input values of shape (N, T), got {x.shape}")
        if x.dtype.kind != "f":
            raise TypeError(f"RNNForecaster expected a floating-point input, got dtype {x.dtype}")
        N, T = x.shape
        if state is not None:
            self._check_state(state, N)
        out, state = self.rnn(x.reshape(N, T, 1), state)  # (N, T, H)
        y = self.head(out).reshape(N, T)  # (N, T)
        return y, state


class CharLM(_Recurrent):
    """Character language model: Embedding -> RNN/LSTM/GRU -> Linear to the vocabulary.

    ``logits[:, t]`` are the unnormalised log-probabilities of the token after ``x[:, t]``
    given ``x[:, :t + 1]`` (and the incoming state), so the chain rule
    P(x_1..x_T) = prod_t P(x_t | x_<t) is a sum of cross-entropies over the steps.

    Args:
        vocab_size: V, number of tokens (``len(vocab)``).
        embedding_dim: E.
        hidden_size: H.
        num_layers: stacked recurrent layers L.
        cell: ``'lstm'`` (default), ``'gru'`` or ``'rnn'``.
        dropout: dropout between stacked layers (as PyTorch's argument).
        dtype: parameter dtype.
        rng: generator for the initial weights.

    Shapes:
        x: (N, T) integer ids in [0, V)   logits: (N, T, V)   state: (L, N, H) (pair for LSTM)

    Parameters are ``embedding.weight``, ``rnn.*`` and ``fc.weight``/``fc.bias``: a
    ``torch.nn`` module with the same three attribute names loads this ``state_dict``.

    >>> import glassnet
    >>> lm = CharLM(10, embedding_dim=4, hidden_size=8, rng=glassnet.manual_seed(0))
    >>> logits, (h, c) = lm(glassnet.tensor([[1, 2, 3]]))
    >>> logits.shape, h.shape
    ((1, 3, 10), (1, 1, 8))
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 64,
        hidden_size: int = 256,
        num_layers: int = 1,
        cell: str = "lstm",
        dropout: float = 0.0,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        who = "CharLM"
        cls = _rnn_class(cell, who)
        self.vocab_size = positive_int(vocab_size, "vocab_size", who)
        self.embedding_dim = positive_int(embedding_dim, "embedding_dim", who)
        self._set_sizes(who, cell, hidden_size, num_layers)
        gen = get_rng(rng)
        self.embedding = Embedding(self.vocab_size, self.embedding_dim, dtype=dtype, rng=gen)
        self.rnn = self._make_rnn(cls, self.embedding_dim, dropout, dtype, gen)
        self.fc = Linear(self.hidden_size, self.vocab_size, dtype=dtype, rng=gen)

    def forward(self, x: Any, state: State | None = None) -> tuple[Tensor, State]:
        ids = x.data if isinstance(x, Tensor) else np.asarray(x)
        if ids.ndim != 2 or ids.shape[1] == 0:
            raise ValueError(f"CharLM expected token ids of shape (N, T), got {ids.shape}")
        if ids.dtype.kind not in "iu":
            raise TypeError(f"CharLM expected integer token ids, got dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(
                f"CharLM expected token ids in [0, {self.vocab_size}), got values in "
                f"[{int(ids.min())}, {int(ids.max())}]"
            )
        if state is not None:
            self._check_state(state, ids.shape[0])
        emb = self.embedding(ids.astype(np.int64, copy=False))  # (N, T, E)
        out, state = self.rnn(emb, state)  # (N, T, H)
        return self.fc(out), state  # (N, T, V)

    def extra_repr(self) -> str:
        return f"vocab_size={self.vocab_size}, " + super().extra_repr()
