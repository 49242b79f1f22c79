"""Single-step recurrent cells (RNN, LSTM, GRU) with hand-derived backward passes.

These are the textbook form, one time step each: a sequence unrolled through them builds a tape
of T nodes that the engine backpropagates (the fused layers in ``recurrent_{rnn,lstm,gru}`` do
the same arithmetic in one node, and the tests check that both agree). PyTorch's equations and
gate orders: LSTM rows (i, f, g, o), GRU rows (r, z, n).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import check_weight_dtype, shape_str
from .activation import stable_sigmoid
from .shape import reshape


def _linear_grads(
    fn: Function, da: np.ndarray, x: np.ndarray, h: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray
) -> tuple[Any, ...]:
    """Gradients of a = x W_ih^T + b_ih + h W_hh^T + b_hh given da (N, G)."""
    need = fn.needs_input_grad
    nh = need[1]
    k = 3 if len(need) == 7 else 2  # LSTM has c between h and the weights
    dx = da @ w_ih if need[0] else None  # (N, D)
    dh = da @ w_hh if nh else None  # (N, H)
    dw_ih = da.T @ x if need[k] else None  # (G, D)
    dw_hh = da.T @ h if need[k + 1] else None  # (G, H)
    db = da.sum(0) if need[k + 2] or need[k + 3] else None  # (G,)
    return dx, dh, dw_ih, dw_hh, db


def _preact(
    x: np.ndarray, h: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b_ih: Any, b_hh: Any
) -> np.ndarray:
    a = x @ w_ih.T + h @ w_hh.T  # (N, G)
    if b_ih is not None:
        a += b_ih + b_hh
    return a


class RNNCell(Function):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu).

    Shapes:
        x: (N, D)   h: (N, H)   w_ih: (H, D)   w_hh: (H, H)   b_ih, b_hh: (H,)   h': (N, H)
    """

    def forward(
        self,
        x: np.ndarray,
        h: np.ndarray,
        w_ih: np.ndarray,
        w_hh: np.ndarray,
        b_ih: np.ndarray | None = None,
        b_hh: np.ndarray | None = None,
        *,
        nonlinearity: str = "tanh",
    ) -> np.ndarray:
        a = _preact(x, h, w_ih, w_hh, b_ih, b_hh)
        self.relu = nonlinearity == "relu"
        h_new = np.maximum(a, 0) if self.relu else np.tanh(a)
        self.x, self.h, self.w_ih, self.w_hh, self.h_new = x, h, w_ih, w_hh, h_new
        return h_new

    def backward(self, dh_new: np.ndarray) -> tuple[Any, ...]:
        y = self.h_new
        da = dh_new * ((y > 0) if self.relu else (1 - y * y))  # (N, H)
        dx, dh, dw_ih, dw_hh, db = _linear_grads(self, da, self.x, self.h, self.w_ih, self.w_hh)
        return dx, dh, dw_ih, dw_hh, db, db


class LSTMCell(Function):
    """One LSTM step: gates (i, f, g, o) = act(W_ih x + b_ih + W_hh h + b_hh) split in 4 rows.

    ``c' = f * c + i * g``, ``h' = o * tanh(c')``. Backward (dc' includes the path through h')::

        dc = dc' + dh' * o * (1 - tanh(c')^2)
        di = dc * g * i (1 - i)     df = dc * c * f (1 - f)
        dg = dc * i * (1 - g^2)     do = dh' * tanh(c') * o (1 - o)     dc_prev = dc * f

    Shapes:
        x: (N, D)   h, c: (N, H)   w_ih: (4H, D)   w_hh: (4H, H)   b_ih, b_hh: (4H,)
        h', c': (N, H)
    """

    def forward(
        self,
        x: np.ndarray,
        h: np.ndarray,
        c: np.ndarray,
        w_ih: np.ndarray,
        w_hh: np.ndarray,
        b_ih: np.ndarray | None = None,
        b_hh: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        H = h.shape[1]
        a = _preact(x, h, w_ih, w_hh, b_ih, b_hh)  # (N, 4H)
        i = stable_sigmoid(a[:, :H])
        f = stable_sigmoid(a[:, H : 2 * H])
        g = np.tanh(a[:, 2 * H : 3 * H])
        o = stable_sigmoid(a[:, 3 * H :])
        c_new = f * c + i * g
        tc = np.tanh(c_new)
        self.x, self.h, self.c, self.w_ih, self.w_hh = x, h, c, w_ih, w_hh
        self.i, self.f, self.g, self.o, self.tc = i, f, g, o, tc
        return o * tc, c_new

    def backward(self, dh_new: np.ndarray, dc_new: np.ndarray) -> tuple[Any, ...]:
        i, f, g, o, tc = self.i, self.f, self.g, self.o, self.tc
        dc = dc_new + dh_new * o * (1 - tc * tc)  # (N, H)
        da = np.concatenate(
            [dc * g * i * (1 - i), dc * self.c * f * (1 - f), dc * i * (1 - g * g),
             dh_new * tc * o * (1 - o)],
            axis=1,
        )  # (N, 4H)  # fmt: skip
        dx, dh, dw_ih, dw_hh, db = _linear_grads(self, da, self.x, self.h, self.w_ih, self.w_hh)
        dc_prev = dc * f if self.needs_input_grad[2] else None
        return dx, dh, dc_prev, dw_ih, dw_hh, db, db


class GRUCell(Function):
    """One GRU step with rows (r, z, n).

    ``r, z = sigmoid(.)``, ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``,
    ``h' = (1 - z) * n + z * h``.

    Shapes:
        x: (N, D)   h: (N, H)   w_ih: (3H, D)   w_hh: (3H, H)   b_ih, b_hh: (3H,)   h': (N, H)
    """

    def forward(
        self,
        x: np.ndarray,
        h: np.ndarray,
        w_ih: np.ndarray,
        w_hh: np.ndarray,
        b_ih: np.ndarray | None = None,
        b_hh: np.ndarray | None = None,
    ) -> np.ndarray:
        H = h.shape[1]
        ax = x @ w_ih.T  # (N, 3H)
        ah = h @ w_hh.T  # (N, 3H)
        if b_ih is not None:
            ax += b_ih
            ah += b_hh
        r = stable_sigmoid(ax[:, :H] + ah[:, :H])
        z = stable_sigmoid(ax[:, H : 2 * H] + ah[:, H : 2 * H])
        hn = ah[:, 2 * H :]
        n = np.tanh(ax[:, 2 * H :] + r * hn)
        self.x, self.h, self.w_ih, self.w_hh = x, h, w_ih, w_hh
        self.r, self.z, self.n, self.hn = r, z, n, hn
        return (1 - z) * n + z * h

    def backward(self, dh_new: np.ndarray) -> tuple[Any, ...]:
        r, z, n, hn, h = self.r, self.z, self.n, self.hn, self.h
        need = self.needs_input_grad
        dn = dh_new * (1 - z) * (1 - n * n)  # d pre-activation of n
        dz = dh_new * (h - n) * z * (1 - z)
        dr = dn * hn * r * (1 - r)
        dax = np.concatenate([dr, dz, dn], axis=1)  # (N, 3H)
        dah = np.concatenate([dr, dz, dn * r], axis=1)  # (N, 3H)
        dx = dax @ self.w_ih if need[0] else None
        dh = dah @ self.w_hh + dh_new * z if need[1] else None
        dw_ih = dax.T @ self.x if need[2] else None
        dw_hh = dah.T @ h if need[3] else None
        db_ih = dax.sum(0) if need[4] else None
        db_hh = dah.sum(0) if need[5] else None
        return dx, dh, dw_ih, dw_hh, db_ih, db_hh


# ---------------------------------------------------------------------------- functional forms
_GATES = {"RNNCell": 1, "LSTMCell": 4, "GRUCell": 3}


def _check_cell(
    name: str, x: Tensor, hs: list[Any], w_ih: Tensor, w_hh: Tensor, b_ih: Any, b_hh: Any
) -> bool:
    """Validate a cell call; returns whether the input is batched."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} expected a Tensor input, got {type(x).__name__}")
    G = _GATES[name]
    H = w_hh.shape[1]
    D = w_ih.shape[1]
    if w_ih.shape[0] != G * H or w_hh.shape != (G * H, H):
        raise ValueError(
            f"{name} expected weight_ih ({G * H}, D) and weight_hh ({G * H}, {H}), got "
            f"{shape_str(w_ih.shape)} and {shape_str(w_hh.shape)}"
        )
    if (b_ih is None) != (b_hh is None):
        raise ValueError(f"{name} expected both biases or neither")
    for b, n in ((b_ih, "bias_ih"), (b_hh, "bias_hh")):
        if b is not None and b.shape != (G * H,):
            raise ValueError(f"{name} expected {n} of shape ({G * H},), got {shape_str(b.shape)}")
    if x.ndim not in (1, 2) or x.shape[-1] != D:
        raise ValueError(
            f"{name} expected input of shape (N, {D}) or ({D},) (input_size = {D}), got "
            f"{shape_str(x.shape)}"
        )
    batched = x.ndim == 2
    want = (x.shape[0], H) if batched else (H,)
    for h in hs:
        if h is not None and tuple(h.shape) != want:
            raise ValueError(
                f"{name} expected hidden state of shape {shape_str(want)}, got {shape_str(h.shape)}"
            )
    check_weight_dtype(name, x, w_ih)
    for t in (w_ih, w_hh, b_ih, b_hh, *hs):
        if isinstance(t, Tensor) and t.dtype != x.dtype:
            raise TypeError(f"{name} expected all tensors of dtype {x.dtype}, got {t.dtype}")
    return batched


def _state(h: Any, x: Tensor, H: int, batched: bool) -> Any:
    """The state as (N, H): zeros when absent, a row for unbatched input."""
    if h is None:
        return np.zeros((x.shape[0], H), x.dtype)
    return h if batched else reshape(h, 1, H)


def rnn_cell(
    input: Tensor,
    hx: Tensor | None,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
) -> Tensor:
    """One Elman RNN step, ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (or relu).

    Shapes:
        input: (N, D) or (D,)   hx: (N, H) or (H,), zeros if None   output: like hx

    >>> import glassnet
    >>> x, w = glassnet.ones(2, 3), glassnet.zeros(4, 3)
    >>> rnn_cell(x, None, w, glassnet.zeros(4, 4)).shape
    (2, 4)
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"RNNCell nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    batched = _check_cell("RNNCell", input, [hx], weight_ih, weight_hh, bias_ih, bias_hh)
    H = weight_hh.shape[1]
    x = input if batched else reshape(input, 1, -1)
    h = RNNCell.apply(
        x,
        _state(hx, x, H, batched),
        weight_ih,
        weight_hh,
        bias_ih,
        bias_hh,
        nonlinearity=nonlinearity,
    )
    return h if batched else reshape(h, H)


def lstm_cell(
    input: Tensor,
    hx: tuple[Tensor, Tensor] | None,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step; returns ``(h', c')``.

    Shapes:
        input: (N, D) or (D,)   hx: a pair (h, c) of (N, H) or (H,), zeros if None
        output: (h', c') like hx
    """
    if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
        raise TypeError("LSTMCell expected hx to be a pair (h_0, c_0) or None")
    hs = [None, None] if hx is None else list(hx)
    batched = _check_cell("LSTMCell", input, hs, weight_ih, weight_hh, bias_ih, bias_hh)
    H = weight_hh.shape[1]
    x = input if batched else reshape(input, 1, -1)
    h, c = LSTMCell.apply(
        x,
        _state(hs[0], x, H, batched),
        _state(hs[1], x, H, batched),
        weight_ih,
        weight_hh,
        bias_ih,
        bias_hh,
    )
    if not batched:
        h, c = reshape(h, H), reshape(c, H)
    return h, c


def gru_cell(
    input: Tensor,
    hx: Tensor | None,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
) -> Tensor:
    """One GRU step, ``h' = (1 - z) * n + z * h``.

    Shapes:
        input: (N, D) or (D,)   hx: (N, H) or (H,), zeros if None   output: like hx
    """
    batched = _check_cell("GRUCell", input, [hx], weight_ih, weight_hh, bias_ih, bias_hh)
    H = weight_hh.shape[1]
    x = input if batched else reshape(input, 1, -1)
    h = GRUCell.apply(x, _state(hx, x, H, batched), weight_ih, weight_hh, bias_ih, bias_hh)
    return h if batched else reshape(h, H)
