"""A latent regime that a hidden state keeps and no affordable window does.

The series (a two-state hidden Markov model):

    s_t in {-1, +1},  s_t = -s_{t-1} with probability p, else s_t = s_{t-1}     (the regime)
    x_t = b s_t + sigma e_t,  e_t ~ N(0, 1)                                     (what is seen)

with b = 0.5, sigma = 1 and p = 0.002: a regime lasts 1/p = 500 steps on average, and its level
is half the noise's standard deviation, so a single value says little about it (the
log-likelihood ratio of the two regimes moves by 2 b x_t / sigma^2 per value) and about twenty
values are needed to tell the regimes apart. Whoever keeps a running belief about s_t knows
the regime for nearly all of its 500 steps; whoever reads only the last tau values starts from
scratch every time.

Why this series: for it the best possible forecasts are computable exactly, so the claim is
tested against bounds, not only against other fitted models.

* ``regime_filter(x)``: the forward algorithm of the HMM with the true parameters (the Bayes
  predictor): E[x_t | x_1..x_{t-1}] = b (2 P(s_t = +1 | past) - 1). No forecaster has a lower
  expected squared error.
* ``regime_filter(x, window=tau)``: the same filter started from the stationary prior
  P(s = +1) = 1/2 at t - tau: the best forecast that reads only x_{t-tau..t-1}. No AR(tau) model,
  linear or an MLP, can beat it in expectation: it is the conditional mean given the window.
* The linear AR(tau) (least squares) and an MLP-AR(tau) are fitted as usual.

A recurrent forecaster (``RNNForecaster``, GRU) trained by truncated BPTT on the training part
reaches nearly the Bayes error, below every window bound up to some tau: that tau is what
``latent_regime`` measures and ``docs/results.md`` states.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..models import MLPAR, LinearAR, RNNForecaster
from ..seq.forecast import fit_rnn_forecaster, fit_window_model, mse, one_step_forecast
from ._common import rng_for, timer

LEVEL, NOISE, SWITCH = 0.5, 1.0, 0.002


def regime_series(
    T: int,
    *,
    level: float = LEVEL,
    noise: float = NOISE,
    switch_prob: float = SWITCH,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """T steps of the two-regime series: ``(x, s)`` with x_t = level s_t + noise e_t.

    s_0 is +1 or -1 with probability 1/2 (the stationary distribution); the regime flips with
    probability ``switch_prob`` at every later step.

    >>> x, s = regime_series(1000, rng=np.random.default_rng(0))
    >>> x.shape, sorted(set(s.tolist()))
    ((1000,), [-1.0, 1.0])
    """
    if T < 1:
        raise ValueError(f"regime_series expected T >= 1, got {T}")
    if not 0.0 <= switch_prob <= 1.0:
        raise ValueError(f"regime_series switch_prob must be in [0, 1], got {switch_prob}")
    flips = rng.random(T) < switch_prob  # (T,)
    flips[0] = False
    first = 1.0 if rng.random() < 0.5 else -1.0
    s = first * np.where(np.cumsum(flips) % 2 == 0, 1.0, -1.0)  # (T,)
    return level * s + noise * rng.standard_normal(T), s


def regime_filter(
    x: np.ndarray,
    *,
    level: float = LEVEL,
    noise: float = NOISE,
    switch_prob: float = SWITCH,
    window: int | None = None,
) -> np.ndarray:
    """One-step Bayes forecasts E[x_t | past] of the regime series, for t = 0..T-1.

    With ``window=None`` the past is x_0..x_{t-1} (forward algorithm from the stationary prior);
    with ``window=tau`` only x_{t-tau}..x_{t-1}: the filter restarts from the prior 1/2 at
    t - tau (for t < tau it reads what exists). The belief is kept as log-odds
    l = log P(s=+1) / P(s=-1): reading x adds 2 level x / noise^2; one step of the Markov chain
    maps the probability q to (1 - p) q + p (1 - q).

    Shapes:
        x: (T,)   returns: (T,)
    """
    x = np.asarray(x, dtype=np.float64)
    step = 2.0 * level / noise**2

    def propagate(logodds: np.ndarray) -> np.ndarray:
        q = 0.5 * (1.0 + np.tanh(logodds / 2))  # P(s = +1)
        q = (1 - switch_prob) * q + switch_prob * (1 - q)
        return np.log(q) - np.log1p(-q)

    def mean(logodds: np.ndarray) -> np.ndarray:
        return level * np.tanh(logodds / 2)  # level (2 P(+1) - 1)

    T = x.shape[0]
    if window is None:
        out = np.empty(T)
        lo = np.zeros(1)
        for t in range(T):  # the filter is sequential; loops run over time steps only
            out[t] = mean(lo)[0]
            lo = propagate(lo + step * x[t])
        return out
    if window < 1:
        raise ValueError(f"regime_filter window must be >= 1, got {window}")
    padded = np.concatenate([np.zeros(window), x])  # a zero reading adds no evidence
    lo = np.zeros(T)  # belief for every target t at once, from the prior at t - window
    for j in range(window):  # read x_{t - window + j} for every t
        lo = propagate(lo + step * padded[j : j + T])
    return mean(lo)


def _window_models(
    kind: str, x: np.ndarray, n_train: int, tau: int, seed: int, steps: int
) -> np.ndarray:
    if kind == "linear":
        model: Any = LinearAR(tau, dtype=np.float64).fit_least_squares(x[:n_train])
    else:
        model = MLPAR(tau, hidden=32, rng=rng_for(seed, 60, tau))
        batches = math.ceil((n_train - tau) / 32)
        fit_window_model(
            model,
            x[:n_train].astype(np.float32),
            epochs=max(1, round(steps / batches)),
            batch_size=32,
            lr=3e-3,
            rng=rng_for(seed, 61, tau),
        )
    return one_step_forecast(model, x, start=n_train)


def train_regime_forecaster(
    x: np.ndarray,
    *,
    cell: str = "gru",
    hidden: int = 16,
    batches: int = 300,
    seq_len: int = 256,
    seed: int = 0,
) -> RNNForecaster:
    """A recurrent forecaster trained on ``x`` by BPTT over random ``seq_len``-step windows.

    Adam lr 3e-3, 32 subsequences per minibatch, the first quarter of each not scored (the
    state needs values before its forecasts mean anything), gradient norm clipped at 1.
    """
    model = RNNForecaster(cell, hidden_size=hidden, rng=rng_for(seed, 62))
    fit_rnn_forecaster(
        model,
        x.astype(np.float32),
        epochs=max(1, batches // 10),
        seq_len=seq_len,
        batch_size=32,
        batches_per_epoch=10,
        warmup=seq_len // 4,
        lr=3e-3,
        rng=rng_for(seed, 63),
    )
    return model


def latent_regime(
    *,
    quick: bool = False,
    seed: int = 0,
    n_train: int = 20000,
    n_test: int = 20000,
    window_taus: tuple[int, ...] = (1, 2, 5, 10, 15, 20, 30, 50),
    ar_taus: tuple[int, ...] = (1, 2, 5, 10, 20, 50, 100, 200),
    mlp_taus: tuple[int, ...] = (10, 20),
    cells: tuple[str, ...] = ("gru", "rnn"),
    hidden: int = 16,
    batches: int | None = None,
) -> list[dict[str, Any]]:
    """Test MSE of every forecaster of the regime series, against the Bayes bounds.

    One series of ``n_train + n_test`` steps (generator ``(seed, 64)``); models are fitted on the
    first ``n_train`` values and score one-step forecasts of the last ``n_test``. Recurrent
    forecasters read the series from its first value.

    Returns:
        One row per forecaster: ``forecaster``, ``tau`` (window length; "" for the ones that read
        the whole past), ``test MSE``, ``/ Bayes`` (its MSE over the Bayes predictor's) and
        ``seconds`` (training wall time, where there is training).
    """
    if quick:
        n_train = n_test = 4000
        window_taus, ar_taus, mlp_taus, cells = (5, 10, 20), (5, 20, 100), (), ("gru",)
    n_batches = batches if batches is not None else (60 if quick else 300)
    x, _ = regime_series(n_train + n_test, rng=rng_for(seed, 64))
    target = x[n_train:]
    bayes = mse(regime_filter(x)[n_train:], target)

    def row(name: str, tau: Any, pred: np.ndarray, seconds: Any = "") -> dict[str, Any]:
        m = mse(pred, target)
        return {
            "forecaster": name,
            "tau": tau,
            "test MSE": m,
            "/ Bayes": m / bayes,
            "seconds": seconds,
        }

    rows = [
        row("Bayes filter, whole past (true parameters)", "", regime_filter(x)[n_train:]),
        row("training mean", "", np.full(n_test, x[:n_train].mean())),
    ]
    rows += [
        row(
            "Bayes filter, last tau values only (bound for any AR(tau))",
            tau,
            regime_filter(x, window=tau)[n_train:],
        )
        for tau in window_taus
    ]
    rows += [
        row(
            "linear AR(tau), least squares", tau, _window_models("linear", x, n_train, tau, seed, 0)
        )
        for tau in ar_taus
    ]
    for tau in mlp_taus:
        with timer() as t:
            pred = _window_models("mlp", x, n_train, tau, seed, 2400)
        rows.append(row("MLP-AR(tau), hidden 32", tau, pred, t[0]))
    for cell in cells:
        with timer() as t:
            model = train_regime_forecaster(
                x[:n_train], cell=cell, hidden=hidden, batches=n_batches, seed=seed
            )
        pred = one_step_forecast(model, x.astype(np.float32), start=n_train)
        rows.append(row(f"{cell.upper()} forecaster, hidden {hidden}", "", pred, t[0]))
    return rows


def window_crossover(rows: list[dict[str, Any]], forecaster: str) -> dict[str, Any]:
    """How far the named forecaster's lead over the windows reaches.

    Returns ``beats_every_window_up_to``: the largest tau such that the forecaster's MSE is
    below the window bound for every tried tau up to it (0 if none), and
    ``beats_every_linear_ar_up_to``: the same against the fitted linear AR(tau) rows.
    """
    mse_f = next(r["test MSE"] for r in rows if r["forecaster"] == forecaster)

    def reach(prefix: str) -> int:
        best = 0
        for r in sorted(
            (r for r in rows if r["forecaster"].startswith(prefix)), key=lambda r: r["tau"]
        ):
            if mse_f >= r["test MSE"]:
                break
            best = r["tau"]
        return best

    return {
        "forecaster": forecaster,
        "test MSE": mse_f,
        "beats_every_window_up_to": reach("Bayes filter, last tau"),
        "beats_every_linear_ar_up_to": reach("linear AR"),
    }


__all__ = [
    "LEVEL",
    "NOISE",
    "SWITCH",
    "latent_regime",
    "regime_filter",
    "regime_series",
    "train_regime_forecaster",
    "window_crossover",
]
