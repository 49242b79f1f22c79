"""Forecasting: one-step and k-step-ahead predictions, error metrics and naive baselines.

Two kinds of model are understood:

- **window (AR) models**, any callable mapping windows (N, tau) of past values, oldest first, to
  predictions (N,) or (N, 1): ``LinearAR``, ``MLPAR`` or your own module. ``tau`` is read from
  ``model.tau`` or passed explicitly;
- **recurrent (latent-AR) models** such as ``RNNForecaster``: ``model(x (N, T), state) ->
  (predictions (N, T), state)`` with a ``model.init_state`` method. Their hidden state summarises
  the whole past: a forecast at time t reads every value before t, from the start of the series.

Every forecast of ``series[t]`` uses only values before t. A *k-step-ahead* forecast of
``series[t]`` starts from the true values up to ``series[t - k]`` and feeds its own predictions
back for the k - 1 steps in between (x_hat_{t-k+1}, ..., x_hat_{t-1}), so k = 1 is the one-step
forecast. All functions evaluate in ``eval()`` mode without gradients and restore the mode.

Targets are indexed by ``start``: predictions cover ``series[start:]`` whatever k is, so errors
for different horizons are measured on the same values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .._random import get_rng
from ..autograd import grad_mode
from ..autograd.tensor import Tensor
from ..data.series import ar_windows
from ..models._validate import model_dtype, positive_int, series_1d
from ..ops.loss import mse_loss
from ..progress import Progress, as_progress
from .tbptt import tbptt_iter

# ----------------------------------------------------------------------------- metrics


def _pair(pred: Any, target: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred.data if isinstance(pred, Tensor) else pred, dtype=np.float64)
    t = np.asarray(target.data if isinstance(target, Tensor) else target, dtype=np.float64)
    if p.shape != t.shape:
        raise ValueError(
            f"{who} expected pred and target of the same shape, got {p.shape} and {t.shape}"
        )
    if p.size == 0:
        raise ValueError(f"{who} got empty pred and target")
    for name, a in (("pred", p), ("target", t)):
        if not np.isfinite(a).all():
            raise ValueError(f"{who} got non-finite values in {name}")
    return p, t


def mse(pred: Any, target: Any) -> float:
    """Mean squared error, mean((pred - target)^2).

    >>> mse([1.0, 2.0], [1.0, 4.0])
    2.0
    """
    p, t = _pair(pred, target, "mse")
    return float(np.mean((p - t) ** 2))


def rmse(pred: Any, target: Any) -> float:
    """Root mean squared error, sqrt(mean((pred - target)^2)).

    >>> rmse([1.0, 2.0], [1.0, 4.0])
    1.4142135623730951
    """
    return float(np.sqrt(mse(pred, target)))


def mae(pred: Any, target: Any) -> float:
    """Mean absolute error, mean(|pred - target|).

    >>> mae([1.0, 2.0], [1.0, 4.0])
    1.0
    """
    p, t = _pair(pred, target, "mae")
    return float(np.mean(np.abs(p - t)))


# ----------------------------------------------------------------------------- baselines


def _start(start: int | None, default: int, least: int, T: int, who: str, why: str) -> int:
    s = default if start is None else start
    if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
        raise TypeError(f"{who} start must be an int, got {type(s).__name__}")
    s = int(s)
    if s < least:
        raise ValueError(f"{who} start must be >= {least} ({why}), got {s}")
    if s >= T:
        raise ValueError(f"{who} start={s} leaves no target in a series of length {T}")
    return s


def persistence_forecast(series: Any, *, start: int | None = None, k: int = 1) -> np.ndarray:
    """The naive (random-walk) forecast: the last observed value, x_hat_t = x_{t-k}.

    Returns predictions of ``series[start:]`` (default ``start = k``), shape (T - start,).

    >>> persistence_forecast([1.0, 2.0, 4.0], start=1).tolist()
    [1.0, 2.0]
    """
    who = "persistence_forecast"
    k = positive_int(k, "k", who)
    x = series_1d(series, who, k + 1, f" for a {k}-step persistence forecast")
    s = _start(start, k, k, x.shape[0], who, f"a {k}-step forecast needs x[t - {k}]")
    return x[s - k : x.shape[0] - k].copy()


def mean_forecast(series: Any, *, start: int, mean: float | None = None) -> np.ndarray:
    """The constant forecast: the mean of the past part ``series[:start]`` (or ``mean``).

    Returns predictions of ``series[start:]``, shape (T - start,).

    >>> mean_forecast([1.0, 3.0, 10.0, 0.0], start=2).tolist()
    [2.0, 2.0]
    """
    who = "mean_forecast"
    x = series_1d(series, who, 2)
    s = _start(start, 1, 1, x.shape[0], who, "the mean is taken over series[:start]")
    m = float(x[:s].mean()) if mean is None else float(mean)
    if not np.isfinite(m):
        raise ValueError(f"{who} mean must be finite, got {mean!r}")
    return np.full(x.shape[0] - s, m)


# ----------------------------------------------------------------------------- model plumbing


def is_recurrent(model: Any) -> bool:
    """True for latent-AR models with a state (they define ``init_state``)."""
    return callable(getattr(model, "init_state", None))


def _tau_of(model: Any, tau: int | None, who: str) -> int:
    t = tau if tau is not None else getattr(model, "tau", None)
    if t is None:
        raise ValueError(
            f"{who}: the model has no 'tau' attribute; pass tau= (the window length it expects)"
        )
    return positive_int(t, "tau", who)


@contextmanager
def _evaluating(model: Any) -> Iterator[None]:
    was = getattr(model, "training", None)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with grad_mode.no_grad():
            yield
    finally:
        if was is not None and hasattr(model, "train"):
            model.train(was)


def _predict_windows(model: Any, windows: np.ndarray, dtype: np.dtype, who: str) -> np.ndarray:
    """Model output for windows (n, tau) as float64 (n,)."""
    out = model(Tensor(windows.astype(dtype)))
    a = np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64)
    n = windows.shape[0]
    if a.shape not in ((n,), (n, 1)):
        raise ValueError(
            f"{who}: the model should map windows (N, tau) to predictions (N,) or (N, 1); for "
            f"N={n} it returned shape {a.shape}"
        )
    return a.reshape(n)


def _roll_windows(model: Any, windows: np.ndarray, k: int, who: str) -> np.ndarray:
    """Feed predictions back k times from each window: (n, tau) -> (n, k)."""
    dtype = model_dtype(model)
    n = windows.shape[0]
    out = np.empty((n, k))  # (n, k)
    w = windows.copy()  # (n, tau)
    with _evaluating(model):
        for j in range(k):
            out[:, j] = _predict_windows(model, w, dtype, who)
            w = np.concatenate([w[:, 1:], out[:, j : j + 1]], axis=1)  # (n, tau)
    return out


def _state_list(state: Any) -> list[Tensor]:
    return list(state) if isinstance(state, tuple) else [state]


def _state_from(parts: list[np.ndarray], like: Any) -> Any:
    ts = [Tensor(p) for p in parts]
    return tuple(ts) if isinstance(like, tuple) else ts[0]


def _recurrent_run(
    model: Any, x: np.ndarray, state: Any, dtype: np.dtype
) -> tuple[np.ndarray, Any]:
    out, state = model(Tensor(x.astype(dtype)), state)
    return np.asarray(out.data, dtype=np.float64), state


def _recurrent_origins(
    model: Any, x: np.ndarray, origins: range
) -> tuple[np.ndarray, list[np.ndarray], Any]:
    """One-step predictions and states after reading ``x[:o]`` for each origin o (o >= 1).

    Returns ``(pred, parts, like)``: pred (n,) the prediction of x[o]; parts, one array per
    state tensor, stacked along the batch axis: (L, n, H); ``like`` is a state of that structure.
    """
    dtype = model_dtype(model)
    o0 = origins[0]
    state = None
    if o0 > 1:  # read everything before the first origin's last value in one call
        _, state = _recurrent_run(model, x[None, : o0 - 1], state, dtype)
    preds, parts = [], []
    for t in range(o0 - 1, origins[-1]):  # read x[t]; the state then holds x[:t + 1]
        y, state = _recurrent_run(model, x[None, t : t + 1], state, dtype)
        preds.append(y[0, -1])
        parts.append([s.data.copy() for s in _state_list(state)])
    stacked = [np.concatenate([p[i] for p in parts], axis=1) for i in range(len(parts[0]))]
    return np.asarray(preds), stacked, state


# ----------------------------------------------------------------------------- forecasts


def one_step_forecast(
    model: Any, series: Any, *, start: int | None = None, tau: int | None = None
) -> np.ndarray:
    """One-step-ahead predictions of ``series[start:]``, each from the true values before it.

    Args:
        model: a window model (``tau`` from ``model.tau`` or the ``tau`` argument) or a
            recurrent forecaster (reads the series from its first value).
        series: the 1-d series, in the units the model was trained on.
        start: index of the first target; default (and least) ``tau`` for window models, 1 for
            recurrent ones.
        tau: window length of a window model without a ``tau`` attribute.

    Returns:
        float64 predictions, shape (T - start,).

    Shapes:
        series: (T,)   returns: (T - start,)
    """
    return k_step_forecast(model, series, 1, start=start, tau=tau)


def k_step_forecast(
    model: Any,
    series: Any,
    k: int,
    *,
    start: int | None = None,
    tau: int | None = None,
) -> np.ndarray:
    """k-step-ahead predictions of ``series[start:]``, feeding predictions back.

    The forecast of ``series[t]`` starts at origin o = t - k + 1 from the true values before o
    and predicts x_o, x_{o+1}, ..., x_t, each prediction becoming an input of the next. The
    origins are processed together as one batch (loops run over the k steps only).

    Args:
        model, series, tau: as in :func:`one_step_forecast`.
        k: the horizon, >= 1.
        start: index of the first target; default (and least) ``tau + k - 1`` for window
            models, ``k`` for recurrent ones.

    Returns:
        float64 predictions, shape (T - start,).

    Shapes:
        series: (T,)   returns: (T - start,)

    >>> import numpy as np
    >>> from glassnet.models import LinearAR
    >>> ar = LinearAR(1, dtype=np.float64)
    >>> _ = ar.linear.weight.data.fill(0.5); _ = ar.linear.bias.data.fill(0.0)
    >>> k_step_forecast(ar, [8.0, 4.0, 2.0, 1.0], 2, start=2).tolist()  # 8 -> 4 -> 2, 4 -> 2 -> 1
    [2.0, 1.0]
    """
    who = "k_step_forecast"
    k = positive_int(k, "k", who)
    if is_recurrent(model):
        x = series_1d(series, who, k + 1, f" for a {k}-step forecast with a recurrent model")
        s = _start(start, k, k, x.shape[0], who, f"a {k}-step forecast needs an observed value")
        if k == 1:  # every one-step prediction comes out of one pass over the series
            with _evaluating(model):
                y, _ = _recurrent_run(model, x[None, :-1], None, model_dtype(model))  # (1, T-1)
            return y[0, s - 1 :]
        origins = range(s - k + 1, x.shape[0] - k + 1)
        with _evaluating(model):
            pred, parts, like = _recurrent_origins(model, x, origins)
            dtype = model_dtype(model)
            state = _state_from(parts, like)
            for _ in range(k - 1):
                y, state = _recurrent_run(model, pred[:, None], state, dtype)  # (n, 1)
                pred = y[:, 0]
        return pred
    t = _tau_of(model, tau, who)
    x = series_1d(series, who, t + k, f" for a {k}-step forecast with tau={t}")
    s = _start(start, t + k - 1, t + k - 1, x.shape[0], who, f"tau={t} past values and k={k}")
    o_first, o_last = s - k + 1, x.shape[0] - k  # origins (first predicted index)
    windows = np.lib.stride_tricks.sliding_window_view(x[o_first - t : o_last], t)  # (n, tau)
    return _roll_windows(model, windows, k, who)[:, -1]


def forecast(model: Any, history: Any, steps: int, *, tau: int | None = None) -> np.ndarray:
    """Continue ``history`` by ``steps`` values, feeding every prediction back (free running).

    Returns:
        float64 predictions of the ``steps`` values after the history, shape (steps,).

    >>> import numpy as np
    >>> from glassnet.models import LinearAR
    >>> ar = LinearAR(1, dtype=np.float64)
    >>> _ = ar.linear.weight.data.fill(2.0); _ = ar.linear.bias.data.fill(0.0)
    >>> forecast(ar, [1.0, 3.0], 3).tolist()
    [6.0, 12.0, 24.0]
    """
    who = "forecast"
    steps = positive_int(steps, "steps", who)
    if is_recurrent(model):
        x = series_1d(history, who, 1, " of history")
        dtype = model_dtype(model)
        out = np.empty(steps)
        with _evaluating(model):
            y, state = _recurrent_run(model, x[None, :], None, dtype)
            out[0] = y[0, -1]
            for j in range(1, steps):
                y, state = _recurrent_run(model, out[None, j - 1 : j], state, dtype)
                out[j] = y[0, 0]
        return out
    t = _tau_of(model, tau, who)
    x = series_1d(history, who, t, f" of history for tau={t}")
    return _roll_windows(model, x[None, -t:], steps, who)[0]


# ----------------------------------------------------------------------------- fitting


def warmup_mse(warmup: int) -> Callable[[Tensor, Tensor], Tensor]:
    """The one-step MSE of batch-first predictions (N, L) after the first ``warmup`` steps.

    The state of a recurrent forecaster read from zero needs a few values before its
    predictions mean anything; those steps are not scored.
    """

    def loss(pred: Tensor, target: Tensor) -> Tensor:
        return mse_loss(pred[:, warmup:], target[:, warmup:])

    return loss


def fit_window_model(
    model: Any,
    series: Any,
    *,
    epochs: int = 100,
    batch_size: int = 32,
    optimizer: Any = None,
    lr: float = 1e-2,
    tau: int | None = None,
    rng: np.random.Generator | None = None,
    callback: Callable[[int, float], Any] | None = None,
    progress: Progress | bool | str | None = None,
    desc: str | None = None,
) -> list[float]:
    """Train a window model on every AR window of ``series`` by minibatch MSE descent.

    Args:
        model: a window module (``LinearAR``, ``MLPAR``, ...).
        series: the 1-d training series (already standardised if you want it to be).
        epochs: passes over the windows, each in a new random order from ``rng``.
        batch_size: windows per step (``>= len(windows)`` gives full-batch descent).
        optimizer: a glassnet optimizer over ``model.parameters()``; default Adam(lr).
        lr: learning rate of the default optimizer.
        callback: ``callback(epoch, mean_loss)`` after every epoch.
        progress: report the epochs with the last epoch's loss (``True``: a bar on a terminal
            or in Jupyter, lines in a pipe; see ``glassnet.progress``); off by default.
        desc: the label of that report (default: the function's name).

    Returns:
        The mean training loss of every epoch.
    """
    from ..optim import Adam

    who = "fit_window_model"
    t = _tau_of(model, tau, who)
    x = series_1d(series, who, t + 1, f" for windows of tau={t}")
    X, y = ar_windows(x, t)  # (n, tau), (n,)
    epochs = positive_int(epochs, "epochs", who)
    batch_size = positive_int(batch_size, "batch_size", who)
    gen = get_rng(rng)
    opt = optimizer if optimizer is not None else Adam(model.parameters(), lr=lr)
    dtype = model_dtype(model)
    Xd, yd = X.astype(dtype), y.astype(dtype)
    n = X.shape[0]
    history = []
    model.train()
    task = as_progress(progress).task(epochs, desc or who, unit="epoch")
    for epoch in range(epochs):
        order = gen.permutation(n)
        total = 0.0
        for b in range(0, n, batch_size):
            idx = order[b : b + batch_size]
            opt.zero_grad()
            loss = mse_loss(model(Tensor(Xd[idx])).reshape(-1), Tensor(yd[idx]))
            loss.backward()
            opt.step()
            total += float(loss.item()) * idx.shape[0]
        history.append(total / n)
        task.update(loss=history[-1])
        if callback is not None:
            callback(epoch, history[-1])
    task.close()
    return history


def fit_rnn_forecaster(
    model: Any,
    series: Any,
    *,
    epochs: int = 100,
    seq_len: int = 64,
    batch_size: int = 16,
    batches_per_epoch: int | None = None,
    warmup: int = 8,
    optimizer: Any = None,
    lr: float = 1e-2,
    clip_grad_norm: float | None = 1.0,
    rng: np.random.Generator | None = None,
    callback: Callable[[int, float], Any] | None = None,
    progress: Progress | bool | str | None = None,
    desc: str | None = None,
) -> list[float]:
    """Train a recurrent forecaster on random subsequences of ``series`` (one-step MSE).

    Every minibatch holds ``batch_size`` subsequences of ``seq_len + 1`` values starting at
    random positions; each starts from the zero state, reads ``seq_len`` values and is scored
    on its one-step predictions after the first ``warmup`` steps (the state needs a few values
    before its predictions mean anything).

    Args:
        model: an ``RNNForecaster`` (or any model with its interface).
        series: the 1-d training series.
        epochs: number of epochs of ``batches_per_epoch`` minibatches (default: enough
            minibatches to cover the series about once).
        seq_len: steps per subsequence (capped at ``len(series) - 1``).
        warmup: leading steps not scored (< seq_len).
        optimizer: default Adam(lr).
        clip_grad_norm: clip the gradient norm (None to disable).
        rng: generator of the subsequence positions.
        callback: ``callback(epoch, mean_loss)`` after every epoch.
        progress: report the epochs with the last epoch's loss (``True``: a bar on a terminal
            or in Jupyter, lines in a pipe; see ``glassnet.progress``); off by default.
        desc: the label of that report (default: the function's name).

    Returns:
        The mean training loss of every epoch.
    """
    from ..optim import Adam

    who = "fit_rnn_forecaster"
    x = series_1d(series, who, 3, " to train a recurrent forecaster")
    epochs = positive_int(epochs, "epochs", who)
    batch_size = positive_int(batch_size, "batch_size", who)
    L = min(positive_int(seq_len, "seq_len", who), x.shape[0] - 1)
    if isinstance(warmup, bool) or not isinstance(warmup, (int, np.integer)) or warmup < 0:
        raise ValueError(f"{who} warmup must be an int >= 0, got {warmup!r}")
    if warmup >= L:
        raise ValueError(f"{who} warmup={warmup} leaves no scored step in subsequences of {L}")
    n_starts = x.shape[0] - L  # subsequences x[s : s + L + 1]
    per_epoch = (
        max(1, round(x.shape[0] / (batch_size * L)))
        if batches_per_epoch is None
        else positive_int(batches_per_epoch, "batches_per_epoch", who)
    )
    gen = get_rng(rng)
    opt = optimizer if optimizer is not None else Adam(model.parameters(), lr=lr)
    dtype = model_dtype(model)
    xd = x.astype(dtype)
    steps = np.arange(L + 1)  # (L + 1,)
    loss = warmup_mse(warmup)
    history = []
    model.train()
    task = as_progress(progress).task(epochs, desc or who, unit="epoch")
    for epoch in range(epochs):
        total = 0.0
        for _ in range(per_epoch):
            s = gen.integers(0, n_starts, size=batch_size)[:, None] + steps  # (B, L + 1)
            seqs = xd[s]  # (B, L + 1)
            # one window of the truncated-BPTT driver: full BPTT through the L steps
            (u,) = tbptt_iter(
                model, seqs[:, :-1], seqs[:, 1:], L, L, loss, opt, time_dim=1,
                max_grad_norm=clip_grad_norm,
            )  # fmt: skip
            total += u.loss
        history.append(total / per_epoch)
        task.update(loss=history[-1])
        if callback is not None:
            callback(epoch, history[-1])
    task.close()
    return history


__all__ = [
    "fit_rnn_forecaster",
    "fit_window_model",
    "forecast",
    "is_recurrent",
    "k_step_forecast",
    "mae",
    "mean_forecast",
    "mse",
    "one_step_forecast",
    "persistence_forecast",
    "rmse",
    "warmup_mse",
]
