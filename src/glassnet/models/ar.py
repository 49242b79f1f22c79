"""Autoregressive models of order tau: linear AR (least squares or gradient descent) and MLP AR.

An AR(tau) model predicts x_t from the window of the ``tau`` values before it,
x_{t-tau}, ..., x_{t-1} (the rows of ``glassnet.data.ar_windows``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._random import get_rng
from ..autograd.tensor import Tensor
from ..data.series import ar_windows
from ..nn.activation import ReLU, Tanh
from ..nn.container import Sequential
from ..nn.linear import Linear
from ..nn.module import Module
from ._validate import positive_int, series_1d


class _WindowAR(Module):
    """Base of window models: checks the (N, tau) input, returns one prediction per row."""

    tau: int

    def _check_input(self, x: Any) -> Tensor:
        name = type(self).__name__
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} expected a Tensor input, got {type(x).__name__}")
        if x.ndim != 2 or x.shape[1] != self.tau:
            raise ValueError(
                f"{name} expected input windows of shape (N, {self.tau}) (tau={self.tau}), "
                f"got {x.shape}"
            )
        if x.dtype.kind != "f":
            raise TypeError(f"{name} expected a floating-point input, got dtype {x.dtype}")
        return x


class LinearAR(_WindowAR):
    """Linear AR(tau): x_t = b + w_1 x_{t-tau} + ... + w_tau x_{t-1}.

    It is a ``Linear(tau, 1)`` layer (parameters ``linear.weight`` (1, tau), ``linear.bias``
    (1,)), so it trains by gradient descent like any module; ``fit_least_squares`` sets the same
    parameters to the ordinary-least-squares solution in closed form.

    Args:
        tau: the order (window length), >= 1.
        dtype: parameter dtype (default float32; use float64 to keep the closed-form solution
            to full precision).
        rng: generator for the initial weights.

    Shapes:
        x: (N, tau), oldest value first   y: (N,)

    >>> import numpy as np
    >>> series = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0])  # x_t = 2 x_{t-1}
    >>> model = LinearAR(1, dtype=np.float64).fit_least_squares(series)
    >>> round(float(model.coef_[0]), 6), round(float(model.intercept_), 6)
    (2.0, 0.0)
    """

    def __init__(
        self, tau: int, dtype: Any = None, *, rng: np.random.Generator | None = None
    ) -> None:
        super().__init__()
        self.tau = positive_int(tau, "tau", "LinearAR")
        self.linear = Linear(self.tau, 1, dtype=dtype, rng=get_rng(rng))
        self.coef_: np.ndarray | None = None
        self.intercept_: float | None = None

    def forward(self, x: Tensor) -> Tensor:
        x = self._check_input(x)
        return self.linear(x).reshape(x.shape[0])  # (N,)

    def fit_least_squares(self, series: Any, *, missing: str = "raise") -> LinearAR:
        """Set the weights to the least-squares AR(tau) fit with intercept; returns ``self``.

        Minimises sum_t (x_t - b - w . x_{t-tau..t-1})^2 over every window of the series. The
        intercept is eliminated by centring: w solves the centred least-squares problem
        (``numpy.linalg.lstsq``, SVD-based, in float64) and b = mean(y) - mean(X) . w. The float64
        solution is kept in ``coef_`` (tau,) and ``intercept_``; the parameters get it cast to
        their dtype.

        Args:
            series: 1-d series, at least 2 * tau + 1 values (tau + 1 unknowns need as many
                windows).
            missing: ``'raise'`` (default) on NaN, or ``'drop'`` windows that contain NaN.
        """
        who = "LinearAR.fit_least_squares"
        if missing not in ("raise", "drop"):
            raise ValueError(f"{who} missing must be 'raise' or 'drop', got {missing!r}")
        need = 2 * self.tau + 1
        if missing == "raise":
            x = series_1d(series, who, need, f" to fit AR(tau={self.tau}) with an intercept")
        else:
            x = np.asarray(series.data if isinstance(series, Tensor) else series, np.float64)
        X, y = ar_windows(x, self.tau, missing=missing)  # (n, tau), (n,)
        if X.shape[0] < self.tau + 1:
            raise ValueError(
                f"{who} needs at least tau + 1 = {self.tau + 1} complete windows for tau + 1 "
                f"unknowns, got {X.shape[0]}"
            )
        x_mean, y_mean = X.mean(axis=0), y.mean()  # (tau,), ()
        w, *_ = np.linalg.lstsq(X - x_mean, y - y_mean, rcond=None)  # (tau,)
        b = float(y_mean - x_mean @ w)
        self.coef_, self.intercept_ = w, b
        d = self.linear.weight.dtype
        self.linear.weight.data[...] = w.astype(d)[None, :]
        assert self.linear.bias is not None
        self.linear.bias.data[...] = np.asarray([b], d)
        self.linear.weight._version[0] += 1
        self.linear.bias._version[0] += 1
        return self

    def coefficients(self) -> tuple[np.ndarray, float]:
        """The current (weights (tau,), intercept) read from the parameters, in float64."""
        assert self.linear.bias is not None
        return (
            self.linear.weight.data[0].astype(np.float64),
            float(self.linear.bias.data[0]),
        )

    def extra_repr(self) -> str:
        return f"tau={self.tau}"


class MLPAR(_WindowAR):
    """Non-linear AR(tau): an MLP from the window x_{t-tau..t-1} to x_t.

    Args:
        tau: the order (window length), >= 1.
        hidden: width of the hidden layer, or a sequence of widths (default 32).
        activation: ``'relu'`` (default) or ``'tanh'``.
        dtype: parameter dtype.
        rng: generator for the initial weights.

    Shapes:
        x: (N, tau)   y: (N,)

    Parameters are ``net.0.weight``, ``net.0.bias``, ... (a ``Sequential`` of Linear and
    activation layers).

    >>> import glassnet
    >>> MLPAR(4, hidden=8, rng=glassnet.manual_seed(0))(glassnet.zeros(3, 4)).shape
    (3,)
    """

    def __init__(
        self,
        tau: int,
        hidden: int | Sequence[int] = 32,
        activation: str = "relu",
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.tau = positive_int(tau, "tau", "MLPAR")
        widths = [hidden] if isinstance(hidden, (int, np.integer)) else list(hidden)
        widths = [positive_int(h, "hidden", "MLPAR") for h in widths]
        if activation not in ("relu", "tanh"):
            raise ValueError(f"MLPAR activation must be 'relu' or 'tanh', got {activation!r}")
        gen = get_rng(rng)
        layers: list[Module] = []
        width = self.tau
        for h in widths:
            layers += [
                Linear(width, h, dtype=dtype, rng=gen),
                ReLU() if activation == "relu" else Tanh(),
            ]
            width = h
        layers.append(Linear(width, 1, dtype=dtype, rng=gen))
        self.net = Sequential(*layers)
        self.hidden, self.activation = tuple(widths), activation

    def forward(self, x: Tensor) -> Tensor:
        x = self._check_input(x)
        return self.net(x).reshape(x.shape[0])  # (N,)

    def extra_repr(self) -> str:
        return f"tau={self.tau}, hidden={self.hidden}, activation={self.activation!r}"
