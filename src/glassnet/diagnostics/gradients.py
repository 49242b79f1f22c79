"""Gradient flow through time: per-step gradient norms, Jacobian products, recurrent spectra.

In backpropagation through time the gradient that reaches the hidden state at step i from a loss
at step t carries the product of step Jacobians

    dh_t/dh_i = J_t J_{t-1} ... J_{i+1},    J_j = dh_j/dh_{j-1},

so factors with norm around 2 make it explode (2^10 = 1024 after ten steps) and factors around
1/2 make it vanish. This module measures the three sides of that story:

* :func:`grad_norms_through_time`: ``||dL/dh_t||`` at every step of a *real* backward pass,
  observed by a BPTT hook inside the fused RNN/LSTM/GRU op (no second implementation).
* :func:`jacobian_product`: the step Jacobians of a one-layer RNN/LSTM/GRU along a sequence,
  each obtained by the recurrent cell op's own backward pass with one-hot upstream gradients,
  and the norm of their products against the distance t - i.
* :func:`recurrent_spectrum`: singular values and spectral radius of a recurrent matrix, with the
  conditions of Pascanu, Mikolov and Bengio (2013).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd.tensor import Tensor
from ..nn.module import Module
from ..nn.rnn import GRUCell, LSTMCell, RNNBase, RNNCell
from ..ops.recurrent import gru_cell, lstm_cell, rnn_cell

__all__ = [
    "GradNorms",
    "JacobianProducts",
    "Spectrum",
    "grad_norms_through_time",
    "jacobian_product",
    "recurrent_spectrum",
]


# --------------------------------------------------------------------------- gradient norms


@dataclass
class GradNorms:
    """Per-time-step gradient norms recorded during one backward pass.

    Attributes:
        curves: ``{key: (T,) array}``: ``curves[key][t] = ||dL/dh_t||`` (Frobenius norm over the
            batch and hidden units) for each recurrent module, layer and direction. ``key`` is
            ``"<module name>.l<layer>"`` with a ``"_reverse"`` suffix for the reverse direction
            (the module name is ``""`` when a layer itself was passed). Steps the backward pass
            never reached (truncated with ``bptt_steps``) hold 0, the gradient they received.
        cell_curves: the same for ``||dL/dc_t||`` of LSTM layers.
        loss: the value of the loss.
    """

    curves: dict[str, np.ndarray]
    cell_curves: dict[str, np.ndarray] = field(default_factory=dict)
    loss: float = float("nan")

    @property
    def norms(self) -> np.ndarray:
        """The first curve (layer 0, forward direction of the first recurrent module), ``(T,)``."""
        return next(iter(self.curves.values()))

    def by_distance(self, key: str | None = None) -> np.ndarray:
        """``||dL/dh_{T-1-k}||`` for k = 0..T-1: the curve read backwards from the last step."""
        c = self.norms if key is None else self.curves[key]
        return c[::-1].copy()


def _recurrent_modules(model: Module) -> list[tuple[str, RNNBase]]:
    if isinstance(model, RNNBase):
        return [("", model)]
    found = [(n, m) for n, m in model.named_modules() if isinstance(m, RNNBase)]
    if not found:
        raise ValueError(
            "grad_norms_through_time expected an RNN, LSTM or GRU layer or a model containing "
            f"one, got {type(model).__name__} with none"
        )
    return found


def grad_norms_through_time(
    layer_or_model: Module,
    x: Any,
    loss_fn: Callable[[Any], Tensor],
    *,
    keep_grads: bool = False,
    **forward_kwargs: Any,
) -> GradNorms:
    """Run forward and backward once and record ``||dL/dh_t||`` at every step of every layer.

    The norms are read by a hook (:meth:`glassnet.nn.RNN.register_bptt_hook`) inside the fused
    BPTT loop of the layer's own backward pass, so they are exactly the gradients that training
    uses, including truncation (``bptt_steps``), variable lengths and resets.

    Args:
        layer_or_model: an ``RNN``/``LSTM``/``GRU`` layer or any module containing such layers.
        x: the input passed to ``layer_or_model(x, **forward_kwargs)`` (an ndarray becomes a
            Tensor).
        loss_fn: maps the module's output (for a layer: the pair ``(output, h_n)``) to a scalar
            Tensor.
        keep_grads: leave the parameter gradients of this backward pass accumulated in
            ``.grad``; by default every parameter's ``.grad`` is restored to what it was.
        **forward_kwargs: passed to the forward call (e.g. ``bptt_steps=k``, ``hx``).

    Returns:
        a :class:`GradNorms` with one ``(T,)`` curve per recurrent module, layer and direction.

    >>> import glassnet
    >>> rnn = glassnet.nn.RNN(2, 4, rng=glassnet.manual_seed(0))
    >>> g = grad_norms_through_time(rnn, glassnet.ones(5, 3, 2), lambda out: out[0][-1].sum())
    >>> g.norms.shape
    (5,)
    """
    modules = _recurrent_modules(layer_or_model)
    if isinstance(x, np.ndarray):
        x = Tensor(x)
    rec: dict[str, dict[int, float]] = {}
    rec_c: dict[str, dict[int, float]] = {}

    def make_hook(name: str) -> Callable[[Any, Any], None]:
        def hook(module: Any, event: Any) -> None:
            key = f"{name}.l{event.layer}" + ("_reverse" if event.direction else "")
            rec.setdefault(key, {})[event.t] = float(np.linalg.norm(event.grad_h))
            if event.grad_c is not None:
                rec_c.setdefault(key, {})[event.t] = float(np.linalg.norm(event.grad_c))

        return hook

    params = list(layer_or_model.parameters())
    saved = [p.grad for p in params]
    for p in params:
        p.grad = None
    handles = [m.register_bptt_hook(make_hook(n)) for n, m in modules]
    try:
        out = layer_or_model(x, **forward_kwargs)
        loss = loss_fn(out)
        if not isinstance(loss, Tensor) or loss.data.size != 1:
            raise ValueError(
                "grad_norms_through_time expected loss_fn to return a scalar Tensor, got "
                f"{type(loss).__name__}"
                + (f" of shape {loss.shape}" if isinstance(loss, Tensor) else "")
            )
        loss.backward()
    finally:
        for h in handles:
            h.remove()
        if not keep_grads:
            for p, g in zip(params, saved):
                p.grad = g
    T_all = _time_length(x, modules)

    def to_arrays(d: dict[str, dict[int, float]]) -> dict[str, np.ndarray]:
        res = {}
        for key in sorted(d):
            T = T_all if T_all is not None else max(d[key]) + 1
            a = np.zeros(T)
            for t, v in d[key].items():
                a[t] = v
            res[key] = a
        return res

    if not rec:
        raise ValueError(
            "grad_norms_through_time: the loss did not depend on any recurrent layer's output"
        )
    return GradNorms(to_arrays(rec), to_arrays(rec_c), float(loss.data))


def _time_length(x: Any, modules: list[tuple[str, RNNBase]]) -> int | None:
    """The sequence length when the model is a single layer reading ``x`` directly."""
    if len(modules) != 1 or modules[0][0] != "":
        return None
    m = modules[0][1]
    shape = np.shape(x.data if isinstance(x, Tensor) else x)
    if len(shape) == 2:
        return int(shape[0])
    return int(shape[1] if m.batch_first else shape[0])


# --------------------------------------------------------------------------- Jacobian products


@dataclass
class JacobianProducts:
    """The step Jacobians ``J_t = dH_t/dH_{t-1}`` of one sample along a sequence.

    ``H_t`` is the hidden state ``h_t`` (RNN, GRU) or the full LSTM state ``[h_t; c_t]`` (size
    2H), with PyTorch's indexing: ``h_t = output[t]`` for t = 0..T-1 and ``h_{-1} = h_0``.

    Attributes:
        steps: ``(T, S, S)``; ``steps[t] = dH_t/dH_{t-1}`` (row: component of H_t).
        states: ``(T + 1, S)``: ``H_{-1}, H_0, ..., H_{T-1}``.
    """

    steps: np.ndarray
    states: np.ndarray

    def product(self, t: int, i: int) -> np.ndarray:
        """``dH_t/dH_i = J_t J_{t-1} ... J_{i+1}`` for ``-1 <= i <= t`` (identity when i = t)."""
        T, S = self.steps.shape[0], self.steps.shape[1]
        if not (-1 <= i <= t < T):
            raise ValueError(f"product expected -1 <= i <= t < {T}, got t={t}, i={i}")
        P = np.eye(S)
        for j in range(i + 1, t + 1):
            P = self.steps[j] @ P  # later steps multiply on the left
        return P

    def norms_vs_distance(self, t: int | None = None, ord: Any = 2) -> np.ndarray:
        """``||dH_t/dH_{t-k}||`` for k = 0..t+1 (the last one reaches ``H_{-1} = h_0``).

        Args:
            t: the step the products end at (default the last, T - 1).
            ord: matrix norm for :func:`numpy.linalg.norm` (2: largest singular value).
        """
        T, S = self.steps.shape[0], self.steps.shape[1]
        t = T - 1 if t is None else int(t)
        if not 0 <= t < T:
            raise ValueError(f"norms_vs_distance expected 0 <= t < {T}, got {t}")
        out = np.empty(t + 2)
        P = np.eye(S)
        out[0] = np.linalg.norm(P, ord)
        for k in range(1, t + 2):
            P = P @ self.steps[t - k + 1]  # (S, S): dH_t/dH_{t-k}
            out[k] = np.linalg.norm(P, ord)
        return out


def _cell_weights(layer: Module) -> tuple[str, tuple[Any, ...], str]:
    """(mode, (w_ih, w_hh, b_ih, b_hh), nonlinearity) of a 1-layer unidirectional RNN/cell."""
    if isinstance(layer, RNNBase):
        if layer.num_layers != 1 or layer.bidirectional:
            raise ValueError(
                "jacobian_product expected a 1-layer unidirectional recurrent layer, got "
                f"num_layers={layer.num_layers}, bidirectional={layer.bidirectional}"
            )
        if getattr(layer, "proj_size", 0):
            raise ValueError("jacobian_product does not support LSTM with proj_size > 0")
        w = tuple(getattr(layer, n) for n in ("weight_ih_l0", "weight_hh_l0"))
        b = tuple(getattr(layer, n, None) for n in ("bias_ih_l0", "bias_hh_l0"))
        nl = getattr(layer, "nonlinearity", "tanh")
        return layer.mode, w + b, nl
    if isinstance(layer, (RNNCell, LSTMCell, GRUCell)):
        mode = {RNNCell: "RNN", LSTMCell: "LSTM", GRUCell: "GRU"}[type(layer)]
        w = (layer.weight_ih, layer.weight_hh, layer.bias_ih, layer.bias_hh)
        return mode, w, getattr(layer, "nonlinearity", "tanh")
    raise TypeError(
        "jacobian_product expected an RNN, LSTM, GRU layer or an RNNCell, LSTMCell, GRUCell, "
        f"got {type(layer).__name__}"
    )


def jacobian_product(
    layer: Module,
    x: Any,
    h0: Any = None,
    *,
    batch_index: int = 0,
) -> JacobianProducts:
    """Step Jacobians ``dH_t/dH_{t-1}`` of one sample along ``x`` and their products.

    Each step Jacobian is computed by the recurrent cell op itself: the previous state is repeated
    S times (S = state size), the cell op runs forward once, and its backward pass runs with the
    S one-hot upstream gradients at once, so row k of ``J_t`` is ``d(H_t)_k / dH_{t-1}``. The
    states come from the same cell op run step by step with the layer's weights (for a layer
    this reproduces ``layer(x)``; a test checks it).

    Args:
        layer: a 1-layer unidirectional ``RNN``/``LSTM``/``GRU`` (time-major unless
            ``batch_first``) or an ``RNNCell``/``LSTMCell``/``GRUCell`` (``x`` time-major).
        x: input ``(T, N, D)`` (``(N, T, D)`` for a batch_first layer) or ``(T, D)``.
        h0: initial state of sample ``batch_index``: ``(H,)`` for RNN/GRU, ``(2H,)`` (h then c)
            or a pair ``(h, c)`` for LSTM; zeros if None.
        batch_index: which sample of the batch.

    Returns:
        :class:`JacobianProducts`; ``.norms_vs_distance()`` gives ``||dH_t/dH_{t-k}||_2``.

    >>> import glassnet
    >>> gru = glassnet.nn.GRU(2, 3, rng=glassnet.manual_seed(0)).double()
    >>> jp = jacobian_product(gru, glassnet.ones(6, 2, dtype="float64"))
    >>> jp.steps.shape, jp.norms_vs_distance().shape
    ((6, 3, 3), (7,))
    """
    mode, (w_ih, w_hh, b_ih, b_hh), nl = _cell_weights(layer)
    xa = np.asarray(x.data if isinstance(x, Tensor) else x)
    if xa.ndim == 2:
        xa = xa[:, None, :]
    if xa.ndim != 3:
        raise ValueError(
            f"jacobian_product expected x of shape (T, N, D) or (T, D), got {xa.shape}"
        )
    if (
        getattr(layer, "batch_first", False)
        and np.ndim(x.data if isinstance(x, Tensor) else x) == 3
    ):
        xa = xa.transpose(1, 0, 2)
    T, N, D = xa.shape
    if D != w_ih.shape[1]:
        raise ValueError(f"jacobian_product expected x with {w_ih.shape[1]} features, got {D}")
    if not 0 <= batch_index < N:
        raise ValueError(f"jacobian_product expected 0 <= batch_index < {N}, got {batch_index}")
    H = w_hh.shape[1]
    S = 2 * H if mode == "LSTM" else H
    dt = w_hh.data.dtype
    if h0 is None:
        H_prev = np.zeros(S, dt)
    elif isinstance(h0, (tuple, list)):
        H_prev = np.concatenate([np.asarray(getattr(a, "data", a), dt).reshape(-1) for a in h0])
    else:
        H_prev = np.asarray(getattr(h0, "data", h0), dt).reshape(-1)
    if H_prev.shape != (S,):
        raise ValueError(f"jacobian_product expected h0 with {S} values, got {H_prev.shape}")
    eye = np.eye(S, dtype=dt)  # S one-hot upstream gradients, one per row of the batch
    steps = np.empty((T, S, S), dt)
    states = np.empty((T + 1, S), dt)
    states[0] = H_prev
    for t in range(T):
        xt = Tensor(np.repeat(xa[t, batch_index][None, :].astype(dt), S, 0))  # (S, D)
        h = Tensor(np.repeat(H_prev[None, :H], S, 0), requires_grad=True)  # (S, H)
        if mode == "LSTM":
            c = Tensor(np.repeat(H_prev[None, H:], S, 0), requires_grad=True)  # (S, H)
            h2, c2 = lstm_cell(xt, (h, c), w_ih, w_hh, b_ih, b_hh)
            ((h2 * Tensor(eye[:, :H])).sum() + (c2 * Tensor(eye[:, H:])).sum()).backward()
            steps[t] = np.concatenate([h.grad.data, c.grad.data], 1)  # type: ignore[union-attr]
            H_prev = np.concatenate([h2.data[0], c2.data[0]])
        else:
            cell = (
                rnn_cell(xt, h, w_ih, w_hh, b_ih, b_hh, nl)
                if mode == "RNN"
                else (gru_cell(xt, h, w_ih, w_hh, b_ih, b_hh))
            )
            cell.backward(eye)
            steps[t] = h.grad.data  # type: ignore[union-attr]
            H_prev = cell.data[0].copy()
        states[t + 1] = H_prev
    for p in (w_ih, w_hh, b_ih, b_hh):
        if p is not None:
            p.grad = None
    return JacobianProducts(steps, states)


# --------------------------------------------------------------------------- spectrum

_GAMMA = {"tanh": 1.0, "relu": 1.0, "linear": 1.0, "identity": 1.0, "sigmoid": 0.25}


@dataclass
class Spectrum:
    """Singular values and eigenvalues of a recurrent matrix, with Pascanu et al.'s conditions.

    Attributes:
        singular_values: in decreasing order.
        spectral_radius: the largest ``|eigenvalue|``.
        sigma_max: the largest singular value (``>= spectral_radius``).
        gamma: a bound on ``|f'|`` of the nonlinearity (tanh 1, sigmoid 1/4).
        vanishing_sufficient: ``sigma_max < 1/gamma``: every step Jacobian ``diag(f') W`` has
            norm at most ``gamma * sigma_max < 1``, so long-range gradients vanish exponentially
            (sufficient, not necessary).
        exploding_necessary: ``sigma_max > 1/gamma``: the necessary condition for exploding
            gradients holds (it is not sufficient; saturation can still make them vanish).
    """

    singular_values: np.ndarray
    spectral_radius: float
    sigma_max: float
    gamma: float
    vanishing_sufficient: bool
    exploding_necessary: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "sigma_max": self.sigma_max,
            "sigma_min": float(self.singular_values[-1]),
            "spectral_radius": self.spectral_radius,
            "gamma": self.gamma,
            "threshold_1_over_gamma": 1.0 / self.gamma,
            "vanishing_sufficient": self.vanishing_sufficient,
            "exploding_necessary": self.exploding_necessary,
        }


def recurrent_spectrum(weight_hh: Any, nonlinearity: str | float = "tanh") -> Spectrum:
    """Singular values and spectral radius of a square recurrent matrix ``W_hh``.

    Pascanu, Mikolov and Bengio (2013), "On the difficulty of training recurrent neural
    networks", section 2.1: for ``h_t = f(W h_{t-1} + U x_t + b)`` the step Jacobian is
    ``diag(f'(a_t)) W``, with ``|f'| <= gamma`` (tanh: gamma = 1, sigmoid: 1/4), so
    ``||dh_t/dh_{t-1}|| <= gamma * sigma_max(W)``.

    * If ``sigma_max < 1/gamma`` the gradient vanishes: ``||dh_t/dh_i|| <= (gamma sigma_max)^(t-i)``
      goes to 0 exponentially. This is *sufficient* for vanishing.
    * Hence ``sigma_max > 1/gamma`` is *necessary* for exploding gradients (not sufficient).
    * For a linear RNN (f = identity) the spectral radius decides: ``rho < 1`` vanishes,
      ``rho > 1`` explodes along the leading eigenvector. Since ``rho <= sigma_max``, a spectral
      radius above ``1/gamma`` implies the necessary condition for exploding.

    Args:
        weight_hh: square ``(H, H)`` array or Tensor (for LSTM/GRU pass one gate block,
            e.g. ``weight_hh_l0[2*H:3*H]``; the theorem above is for the vanilla RNN).
        nonlinearity: ``"tanh"``, ``"relu"``, ``"sigmoid"``, ``"linear"``, or gamma itself.

    >>> import numpy as np
    >>> s = recurrent_spectrum(0.5 * np.eye(3))
    >>> s.sigma_max, s.vanishing_sufficient, s.exploding_necessary
    (0.5, True, False)
    """
    w = np.asarray(getattr(weight_hh, "data", weight_hh), dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(
            f"recurrent_spectrum expected a square weight_hh of shape (H, H), got {w.shape}; "
            "for LSTM/GRU pass one gate block of shape (H, H)"
        )
    if isinstance(nonlinearity, str):
        if nonlinearity not in _GAMMA:
            raise ValueError(
                f"recurrent_spectrum expected nonlinearity in {sorted(_GAMMA)} or a positive "
                f"number, got {nonlinearity!r}"
            )
        gamma = _GAMMA[nonlinearity]
    else:
        gamma = float(nonlinearity)
        if not gamma > 0:
            raise ValueError(f"recurrent_spectrum expected gamma > 0, got {nonlinearity!r}")
    sv = np.linalg.svd(w, compute_uv=False)
    rho = float(np.abs(np.linalg.eigvals(w)).max())
    smax = float(sv[0])
    return Spectrum(sv, rho, smax, gamma, smax < 1.0 / gamma, smax > 1.0 / gamma)


def scale_to_spectral_radius(weight: np.ndarray, radius: float) -> np.ndarray:
    """``weight`` rescaled so that its spectral radius is ``radius``."""
    rho = float(np.abs(np.linalg.eigvals(weight)).max())
    return weight * (radius / rho)
