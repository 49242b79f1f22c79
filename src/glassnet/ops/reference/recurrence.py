"""Reference recurrence: one layer, one direction of RNN, LSTM and GRU; forward a loop over time,
backpropagation through time a literal ``for t in reversed(range(T))`` loop, one line per
derivative equation. Weight layout as PyTorch: gate rows ``i, f, g, o`` (LSTM), ``r, z, n`` (GRU).
"""

from __future__ import annotations

import numpy as np

from ...autograd.function import Function


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def _bias(b: np.ndarray | None, rows: int, like: np.ndarray) -> np.ndarray:
    return np.zeros(rows, like.dtype) if b is None else b


class RNN(Function):
    """Elman RNN: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``, act = tanh or relu.

    BPTT: ``dL/dh_{t-1} = W_hh^T diag(act'(a_t)) dL/dh_t`` (+ the output's own gradient) -
    the product of Jacobians, one step per loop iteration.

    Shapes:
        x: (T, N, D)   h0: (N, H)   w_ih: (H, D)   w_hh: (H, H)   b_ih, b_hh: (H,)
        y: (T, N, H)   h_T: (N, H)
    """

    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, nonlinearity="tanh"):
        H = w_hh.shape[0]
        b = _bias(b_ih, H, x) + _bias(b_hh, H, x)
        hs = [h0]  # hs[t] = h_{t-1}; hs[t + 1] = h_t
        for t in range(x.shape[0]):
            a = x[t] @ w_ih.T + hs[-1] @ w_hh.T + b  # (N, H)
            hs.append(np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0))
        self.x, self.hs, self.w_ih, self.w_hh, self.act = x, hs, w_ih, w_hh, nonlinearity
        y = np.stack(hs[1:])
        return y, y[-1].copy()

    def backward(self, dy, dh_T):
        x, hs, w_ih, w_hh = self.x, self.hs, self.w_ih, self.w_hh
        dx, dw_ih, dw_hh = np.zeros_like(x), np.zeros_like(w_ih), np.zeros_like(w_hh)
        db = np.zeros(w_hh.shape[0], x.dtype)
        dh = dh_T.copy()  # dL/dh_t, flowing back in time
        for t in reversed(range(x.shape[0])):
            dh = dh + dy[t]  # h_t feeds the output y_t and the next step
            da = dh * (1 - hs[t + 1] ** 2) if self.act == "tanh" else dh * (hs[t + 1] > 0)
            dw_ih += da.T @ x[t]  # dL/dW_ih
            dw_hh += da.T @ hs[t]  # dL/dW_hh
            db += da.sum(0)  # dL/db_ih = dL/db_hh
            dx[t] = da @ w_ih  # dL/dx_t
            dh = da @ w_hh  # dL/dh_{t-1}
        return dx, dh, dw_ih, dw_hh, db, db.copy()


class LSTM(Function):
    """LSTM, PyTorch's gate rows ``i, f, g, o``.

    ``i, f, o = sigmoid(.)``, ``g = tanh(.)`` of ``W_ih x_t + b_ih + W_hh h_{t-1} + b_hh``;
    ``c_t = f * c_{t-1} + i * g``; ``h_t = o * tanh(c_t)``.

    Shapes:
        x: (T, N, D)   h0, c0: (N, H)   w_ih: (4H, D)   w_hh: (4H, H)   b_ih, b_hh: (4H,)
        y: (T, N, H)   h_T, c_T: (N, H)
    """

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None):
        H = w_hh.shape[1]
        b = _bias(b_ih, 4 * H, x) + _bias(b_hh, 4 * H, x)
        hs, cs, gates = [h0], [c0], []
        for t in range(x.shape[0]):
            a = x[t] @ w_ih.T + hs[-1] @ w_hh.T + b  # (N, 4H)
            i, f, g, o = (
                _sigmoid(a[:, :H]),
                _sigmoid(a[:, H : 2 * H]),
                np.tanh(a[:, 2 * H : 3 * H]),
                _sigmoid(a[:, 3 * H :]),
            )
            cs.append(f * cs[-1] + i * g)
            hs.append(o * np.tanh(cs[-1]))
            gates.append((i, f, g, o))
        self.x, self.hs, self.cs, self.gates, self.w_ih, self.w_hh = x, hs, cs, gates, w_ih, w_hh
        y = np.stack(hs[1:])
        return y, y[-1].copy(), cs[-1].copy()

    def backward(self, dy, dh_T, dc_T):
        x, hs, cs, w_ih, w_hh = self.x, self.hs, self.cs, self.w_ih, self.w_hh
        dx, dw_ih, dw_hh = np.zeros_like(x), np.zeros_like(w_ih), np.zeros_like(w_hh)
        db = np.zeros(w_hh.shape[0], x.dtype)
        dh, dc = dh_T.copy(), dc_T.copy()
        for t in reversed(range(x.shape[0])):
            i, f, g, o = self.gates[t]
            tc = np.tanh(cs[t + 1])
            dh = dh + dy[t]  # h_t feeds y_t and step t+1
            dc = dc + dh * o * (1 - tc**2)  # h_t = o * tanh(c_t)
            do = dh * tc
            di = dc * g  # c_t = f * c_{t-1} + i * g
            dg = dc * i
            df = dc * cs[t]
            da = np.concatenate(
                [di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)], axis=1
            )
            dw_ih += da.T @ x[t]
            dw_hh += da.T @ hs[t]
            db += da.sum(0)
            dx[t] = da @ w_ih
            dh = da @ w_hh  # dL/dh_{t-1}
            dc = dc * f  # dL/dc_{t-1}
        return dx, dh, dc, dw_ih, dw_hh, db, db.copy()


class GRU(Function):
    """GRU, PyTorch's gate rows ``r, z, n``.

    ``r, z = sigmoid(W_i x_t + b_i + W_h h_{t-1} + b_h)``;
    ``n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn))``; ``h_t = (1 - z) * n + z * h_{t-1}``.

    Shapes:
        x: (T, N, D)   h0: (N, H)   w_ih: (3H, D)   w_hh: (3H, H)   b_ih, b_hh: (3H,)
        y: (T, N, H)   h_T: (N, H)
    """

    def forward(self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
        H = w_hh.shape[1]
        b_ih, b_hh = _bias(b_ih, 3 * H, x), _bias(b_hh, 3 * H, x)
        hs, saved = [h0], []
        for t in range(x.shape[0]):
            gi = x[t] @ w_ih.T + b_ih  # (N, 3H): input side of r, z, n
            gh = hs[-1] @ w_hh.T + b_hh  # (N, 3H): hidden side of r, z, n
            r = _sigmoid(gi[:, :H] + gh[:, :H])
            z = _sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
            hn = gh[:, 2 * H :]  # W_hn h + b_hn, gated by r
            n = np.tanh(gi[:, 2 * H :] + r * hn)
            hs.append((1 - z) * n + z * hs[-1])
            saved.append((r, z, n, hn))
        self.x, self.hs, self.saved, self.w_ih, self.w_hh = x, hs, saved, w_ih, w_hh
        y = np.stack(hs[1:])
        return y, y[-1].copy()

    def backward(self, dy, dh_T):
        x, hs, w_ih, w_hh = self.x, self.hs, self.w_ih, self.w_hh
        dx, dw_ih, dw_hh = np.zeros_like(x), np.zeros_like(w_ih), np.zeros_like(w_hh)
        db_ih, db_hh = np.zeros(w_ih.shape[0], x.dtype), np.zeros(w_hh.shape[0], x.dtype)
        dh = dh_T.copy()
        for t in reversed(range(x.shape[0])):
            r, z, n, hn = self.saved[t]
            dh = dh + dy[t]
            dn = dh * (1 - z)  # h_t = (1 - z) n + z h_{t-1}
            dz = dh * (hs[t] - n)
            dan = dn * (1 - n**2)  # n = tanh(a_n)
            dr = dan * hn  # a_n = W_in x + b_in + r * hn
            dar = dr * r * (1 - r)
            daz = dz * z * (1 - z)
            dgi = np.concatenate([dar, daz, dan], axis=1)  # (N, 3H)
            dgh = np.concatenate([dar, daz, dan * r], axis=1)  # (N, 3H)
            dw_ih += dgi.T @ x[t]
            dw_hh += dgh.T @ hs[t]
            db_ih += dgi.sum(0)
            db_hh += dgh.sum(0)
            dx[t] = dgi @ w_ih
            dh = dh * z + dgh @ w_hh  # dL/dh_{t-1}: direct path plus through the gates
        return dx, dh, dw_ih, dw_hh, db_ih, db_hh


def rnn(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """Reference RNN on Tensors: returns ``(y, h_T)``; shapes as :class:`RNN`."""
    return RNN.apply(x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity=nonlinearity)


def lstm(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None):
    """Reference LSTM on Tensors: returns ``(y, h_T, c_T)``; shapes as :class:`LSTM`."""
    return LSTM.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh)


def gru(x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
    """Reference GRU on Tensors: returns ``(y, h_T)``; shapes as :class:`GRU`."""
    return GRU.apply(x, h0, w_ih, w_hh, b_ih, b_hh)
