"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and the cells, with PyTorch's names and keys.

The layers hold parameters (``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``,
``bias_hh_l{k}``, ``_reverse`` for the second direction, ``weight_hr_l{k}`` for an LSTM
projection), so ``state_dict`` loads into ``torch.nn.LSTM`` and back. The arithmetic is in
``glassnet.ops.recurrent``.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from .._dtype import get_default_dtype
from .._random import get_rng
from ..autograd.tensor import Parameter, Tensor
from ..device import check_device
from ..ops import recurrent as _rec
from ..ops._util import shape_str
from ..ops.packing import pack_rows
from ..ops.recurrent_base import StepGrad
from . import init
from .module import Module
from .utils import rnn as _rnn_utils
from .utils.rnn import PackedSequence

BPTTHook = Callable[[Module, StepGrad], Any]


class _HookHandle:
    def __init__(self, hooks: OrderedDict[int, Any], key: int) -> None:
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)


def _uniform_init(module: Module, rng: np.random.Generator | None) -> None:
    """PyTorch's recurrent initialisation: every parameter ~ U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / math.sqrt(module.hidden_size)
    gen = get_rng(rng)
    for p in module.parameters():
        init.uniform_(p, -bound, bound, rng=gen)


class RNNBase(Module):
    """Shared body of ``RNN``, ``LSTM`` and ``GRU``: parameters, checks, hooks and forward."""

    mode = "RNN"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        check_device(device)
        _rec.check_recurrent_args(
            self.mode, input_size, hidden_size, num_layers, dropout, proj_size
        )
        for n, v in (("bias", bias), ("batch_first", batch_first)):
            if not isinstance(v, (bool, np.bool_)):  # PyTorch refuses 0/1 and strings too
                raise TypeError(f"{self.mode} expected a bool {n}, got {type(v).__name__} {v!r}")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers, self.bias, self.batch_first = int(num_layers), bool(bias), batch_first
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        self.proj_size, self.nonlinearity = int(proj_size), nonlinearity
        self.rng = rng
        self._bptt_hooks: OrderedDict[int, BPTTHook] = OrderedDict()
        self._next_hook = 0
        G = {"RNN": 1, "LSTM": 4, "GRU": 3}[self.mode]
        H = self.hidden_size
        P = self.proj_size or H
        ndir = 2 if bidirectional else 1
        d = dtype or get_default_dtype()
        names = []
        for layer in range(self.num_layers):
            d_in = self.input_size if layer == 0 else P * ndir
            for direction in range(ndir):
                sfx = f"_l{layer}" + ("_reverse" if direction else "")
                group: list[tuple[str, tuple[int, ...]]] = [
                    (f"weight_ih{sfx}", (G * H, d_in)),
                    (f"weight_hh{sfx}", (G * H, P)),
                ]
                if bias:
                    group += [(f"bias_ih{sfx}", (G * H,)), (f"bias_hh{sfx}", (G * H,))]
                if self.proj_size:
                    group.append((f"weight_hr{sfx}", (P, H)))
                for name, shape in group:
                    setattr(self, name, Parameter(np.empty(shape, d)))
                names.append(
                    (
                        f"weight_ih{sfx}",
                        f"weight_hh{sfx}",
                        f"bias_ih{sfx}" if bias else None,
                        f"bias_hh{sfx}" if bias else None,
                        f"weight_hr{sfx}" if self.proj_size else None,
                    )
                )
        self._group_names = names
        self.reset_parameters(rng=rng)

    def reset_parameters(self, *, rng: np.random.Generator | None = None) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        _uniform_init(self, rng)

    def _weights(self) -> list[tuple[Any, ...]]:
        per = 5 if self.mode == "LSTM" else 4
        return [
            tuple(None if n is None else getattr(self, n) for n in names[:per])
            for names in self._group_names
        ]

    def register_bptt_hook(self, hook: BPTTHook) -> _HookHandle:
        """Observe dL/dh_t at every time step of each backward pass through this layer.

        ``hook(module, event)`` is called during backward with a
        :class:`~glassnet.ops.recurrent_base.StepGrad` per layer, direction and time step
        (``event.grad_h`` is dL/dh_t of shape (N, H_out); ``event.grad_c`` dL/dc_t for LSTM).
        Steps arrive in the order BPTT visits them (decreasing t for the forward direction).
        With no hook registered the backward pass does no extra work.

        Returns:
            a handle whose ``remove()`` unregisters the hook.

        >>> import glassnet
        >>> rnn, norms = RNN(2, 3), {}
        >>> hook = lambda m, e: norms.setdefault(e.t, float(abs(e.grad_h).sum()))
        >>> h = rnn.register_bptt_hook(hook)
        >>> y, _ = rnn(glassnet.ones(4, 1, 2))
        >>> y.sum().backward()
        >>> sorted(norms)
        [0, 1, 2, 3]
        >>> h.remove()
        """
        key = self._next_hook
        self._next_hook += 1
        self._bptt_hooks[key] = hook
        return _HookHandle(self._bptt_hooks, key)

    def _grad_hook(self) -> Callable[[StepGrad], None] | None:
        if not self._bptt_hooks:
            return None
        hooks = list(self._bptt_hooks.values())

        def call(event: StepGrad) -> None:
            for h in hooks:
                h(self, event)

        return call

    def forward(
        self,
        input: Tensor | PackedSequence,
        hx: Any = None,
        *,
        lengths: Any = None,
        resets: Any = None,
        bptt_steps: int | None = None,
    ) -> tuple[Any, Any]:
        """Run the layer over a sequence.

        Args:
            input: (T, N, input_size), (N, T, input_size) with ``batch_first``, or unbatched
                (T, input_size); or a :class:`~glassnet.nn.utils.rnn.PackedSequence`, as PyTorch:
                the output is then a ``PackedSequence`` with the input's ``batch_sizes`` and
                indices, ``hx`` and ``h_n`` are in the batch order of the sequences before
                packing, and ``batch_first`` does not apply.
            hx: initial state(s) of shape (D*num_layers, N, H_out) (LSTM: a pair (h_0, c_0),
                c_0 of shape (D*num_layers, N, hidden_size)); zeros if None. ``batch_first`` never
                applies to states.
            lengths: (N,) valid length of each sequence (any order), as
                ``pack_padded_sequence(..., enforce_sorted=False)``: outputs are zero past each
                end, ``h_n`` is each sequence's last valid state.
            resets: (T, N) bool ((N, T) with ``batch_first``): zero a sample's state before
                step t (a stream that restarts). Not with bidirectional.
            bptt_steps: backpropagate through the last ``bptt_steps`` steps only. Not with
                bidirectional.

        Returns:
            ``(output, h_n)`` (RNN, GRU) or ``(output, (h_n, c_n))`` (LSTM), as PyTorch.
        """
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx, lengths, resets, bptt_steps)
        return self._run(input, hx, self.batch_first, lengths, resets, bptt_steps)

    def _forward_packed(
        self, packed: PackedSequence, hx: Any, lengths: Any, resets: Any, bptt_steps: int | None
    ) -> tuple[PackedSequence, Any]:
        """PyTorch's packed path on the lengths path: pad, run with lengths, pack the output."""
        for name, given in (("lengths", lengths), ("resets", resets)):
            if given is not None:
                raise ValueError(
                    f"{self.mode} takes no {name}= with a PackedSequence input (the lengths come "
                    "from its batch_sizes)"
                )
        if not isinstance(packed.data, Tensor) or packed.data.ndim != 2:
            got = shape_str(packed.data.shape) if isinstance(packed.data, Tensor) else "no tensor"
            raise ValueError(
                f"{self.mode} expected a PackedSequence with data of shape (sum(lengths), "
                f"{self.input_size}), got {got}"
            )
        padded, lens, index = _rnn_utils._padded(packed, self.mode)  # (T, N, D), batch order
        y, state = self._run(padded, hx, False, lens, None, bptt_steps)  # h_n in batch order
        data = pack_rows(y, index)  # (sum(lengths), Dir*H_out), the rows of the input
        return PackedSequence(data, *packed[1:]), state

    def _run(
        self,
        input: Tensor,
        hx: Any,
        batch_first: bool,
        lengths: Any,
        resets: Any,
        bptt_steps: int | None,
    ) -> tuple[Tensor, Any]:
        fn = {"RNN": _rec.rnn, "LSTM": _rec.lstm, "GRU": _rec.gru}[self.mode]
        kw: dict[str, Any] = {"nonlinearity": self.nonlinearity} if self.mode == "RNN" else {}
        return fn(  # type: ignore[operator]
            input,
            hx,
            self._weights(),
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            batch_first=batch_first,
            dropout=self.dropout,
            training=self.training,
            lengths=lengths,
            resets=resets,
            bptt_steps=bptt_steps,
            grad_hook=self._grad_hook(),
            rng=self.rng,
            **kw,
        )

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN" and self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Multi-layer Elman RNN: ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` (or relu).

    Arguments as ``torch.nn.RNN``; ``rng`` (keyword-only) drives initialisation and dropout.
    ``forward`` adds ``lengths``, ``resets`` and ``bptt_steps``; see :meth:`RNNBase.forward`.

    Shapes:
        input: (T, N, D) / (N, T, D) batch_first / (T, D)   h_0, h_n: (Dir*num_layers, N, H)
        output: (T, N, Dir*H) (batch_first: (N, T, Dir*H))

    >>> import glassnet
    >>> rnn = RNN(3, 5, num_layers=2, rng=glassnet.manual_seed(0))
    >>> y, h_n = rnn(glassnet.randn(7, 2, 3))
    >>> y.shape, h_n.shape
    ((7, 2, 5), (2, 2, 5))
    """

    mode = "RNN"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
            0, nonlinearity, device, dtype, rng=rng,
        )  # fmt: skip


class LSTM(RNNBase):
    """Multi-layer LSTM with PyTorch's gates (i, f, g, o) and optional projection ``proj_size``.

    Arguments as ``torch.nn.LSTM``; ``rng`` (keyword-only) drives initialisation and dropout.

    Shapes:
        input: (T, N, D) / (N, T, D) batch_first / (T, D)   output: (T, N, Dir*H_out)
        h_0, h_n: (Dir*num_layers, N, H_out)   c_0, c_n: (Dir*num_layers, N, H)
        with H_out = proj_size or hidden_size

    >>> import glassnet
    >>> lstm = LSTM(3, 5, proj_size=2, bidirectional=True, rng=glassnet.manual_seed(0))
    >>> y, (h_n, c_n) = lstm(glassnet.randn(7, 2, 3))
    >>> y.shape, h_n.shape, c_n.shape
    ((7, 2, 4), (2, 2, 2), (2, 2, 5))
    """

    mode = "LSTM"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
            proj_size, "tanh", device, dtype, rng=rng,
        )  # fmt: skip


class GRU(RNNBase):
    """Multi-layer GRU with PyTorch's gates (r, z, n) and ``h' = (1 - z) * n + z * h``.

    Arguments as ``torch.nn.GRU``; ``rng`` (keyword-only) drives initialisation and dropout.

    Shapes:
        input: (T, N, D) / (N, T, D) batch_first / (T, D)   h_0, h_n: (Dir*num_layers, N, H)
        output: (T, N, Dir*H)

    >>> import glassnet
    >>> gru = GRU(3, 5, batch_first=True, rng=glassnet.manual_seed(0))
    >>> y, h_n = gru(glassnet.randn(2, 7, 3))
    >>> y.shape, h_n.shape
    ((2, 7, 5), (1, 2, 5))
    """

    mode = "GRU"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
            0, "tanh", device, dtype, rng=rng,
        )  # fmt: skip


class RNNCellBase(Module):
    """Parameters ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` ~ U(+-1/sqrt(H))."""

    gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        check_device(device)
        _rec.check_recurrent_args(type(self).__name__, input_size, hidden_size, 1, 0.0)
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bias
        G, H = self.gates, self.hidden_size
        d = dtype or get_default_dtype()
        self.weight_ih = Parameter(np.empty((G * H, input_size), d))
        self.weight_hh = Parameter(np.empty((G * H, H), d))
        if bias:
            self.bias_ih = Parameter(np.empty(G * H, d))
            self.bias_hh = Parameter(np.empty(G * H, d))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters(rng=rng)

    def reset_parameters(self, *, rng: np.random.Generator | None = None) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        _uniform_init(self, rng)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        return s if self.bias else s + ", bias=False"


class RNNCell(RNNCellBase):
    """One Elman RNN step, ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (or relu).

    Shapes:
        input: (N, D) or (D,)   hx, output: (N, H) or (H,)

    >>> import glassnet
    >>> RNNCell(3, 4)(glassnet.ones(2, 3)).shape
    (2, 4)
    """

    gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, device, dtype, rng=rng)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return _rec.rnn_cell(
            input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh,
            self.nonlinearity,
        )  # fmt: skip


class LSTMCell(RNNCellBase):
    """One LSTM step; ``forward(input, (h, c))`` returns ``(h', c')``.

    Shapes:
        input: (N, D) or (D,)   h, c, h', c': (N, H) or (H,)

    >>> import glassnet
    >>> h, c = LSTMCell(3, 4)(glassnet.ones(2, 3))
    >>> h.shape, c.shape
    ((2, 4), (2, 4))
    """

    gates = 4

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        return _rec.lstm_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class GRUCell(RNNCellBase):
    """One GRU step, ``h' = (1 - z) * n + z * h``.

    Shapes:
        input: (N, D) or (D,)   hx, output: (N, H) or (H,)
    """

    gates = 3

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return _rec.gru_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
