"""Time-series experiments: AR(tau) fits, k-step forecasts, model comparison, why order matters.

Every function is deterministic given ``seed`` and returns its result table as a list of dicts
(one per row); ``quick=True`` shrinks the training so tests can run it in seconds (its figures
are not the published ones). ``glassnet.experiments.format_table`` prints a table.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import Standardizer, ar_windows, load_co2, load_sunspots, noisy_sine
from ..models import MLPAR, LinearAR, RNNForecaster
from ..seq.acf import acf
from ..seq.forecast import (
    fit_rnn_forecaster,
    fit_window_model,
    k_step_forecast,
    mean_forecast,
    mse,
    one_step_forecast,
    persistence_forecast,
    rmse,
)
from ._common import rng_for, timer

SUNSPOTS_TAU = 9  # the order of the classic AR fits of the yearly sunspot numbers
SINE_TAU = 4


def _sine(seed: int, T: int = 1000) -> np.ndarray:
    return noisy_sine(T, rng=rng_for(seed, 0)).x


def _theta(w: np.ndarray, b: float) -> np.ndarray:
    return np.concatenate([[b], w])  # (1 + tau,): intercept first, as an OLS with a constant


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


# ----------------------------------------------------------------------------- (a)


def ar_closed_form(
    tau: int = SUNSPOTS_TAU,
    *,
    quick: bool = False,
    seed: int = 0,
    steps: int | None = None,
    lr: float = 0.1,
    momentum: float = 0.9,
) -> list[dict[str, Any]]:
    """AR(tau) on the yearly sunspots: closed form against OLS, and gradient descent against both.

    Rows compare ``LinearAR.fit_least_squares`` (centred least squares) with the OLS solution
    with intercept computed independently: NumPy ``lstsq`` on the design matrix [1, X] and,
    when installed, ``statsmodels.OLS``. The last row trains the same ``LinearAR`` (float64) by
    full-batch gradient descent with momentum on the standardised series and maps its weights
    back to the original units: ``rel_diff`` is ||theta_gd - theta_ols|| / ||theta_ols|| with
    theta = (intercept, w_1..w_tau), and ``steps_to_1e-3`` the first step where it is below
    1e-3.
    """
    from ..autograd.tensor import Tensor
    from ..ops.loss import mse_loss
    from ..optim import SGD

    x = load_sunspots().values
    X, y = ar_windows(x, tau)  # (n, tau), (n,)
    with timer() as t_cf:
        model = LinearAR(tau, dtype=np.float64).fit_least_squares(x)
    assert model.coef_ is not None and model.intercept_ is not None
    theta = _theta(model.coef_, model.intercept_)
    design = np.column_stack([np.ones(X.shape[0]), X])  # (n, 1 + tau)
    ref = np.linalg.lstsq(design, y, rcond=None)[0]
    rows: list[dict[str, Any]] = [
        {
            "fit": "LinearAR.fit_least_squares (closed form)",
            "reference": "numpy.linalg.lstsq on [1, X]",
            "rel_diff": _rel(theta, ref),
            "steps": "",
            "seconds": t_cf[0],
        }
    ]
    try:
        import statsmodels.api as sm
    except ImportError:  # pragma: no cover - optional reference
        sm = None
    if sm is not None:
        sm_theta = np.asarray(sm.OLS(y, sm.add_constant(X)).fit().params)
        rows.append(
            {
                "fit": "LinearAR.fit_least_squares (closed form)",
                "reference": "statsmodels OLS with constant",
                "rel_diff": _rel(theta, sm_theta),
                "steps": "",
                "seconds": t_cf[0],
            }
        )
    n_steps = steps if steps is not None else (300 if quick else 2000)
    scaler = Standardizer().fit(x)
    m, s = float(scaler.mean_.squeeze()), float(scaler.std_.squeeze())  # type: ignore[union-attr]
    Xz, yz = ar_windows(scaler.transform(x), tau)
    Xt, yt = Tensor(Xz), Tensor(yz)
    gd = LinearAR(tau, dtype=np.float64, rng=rng_for(seed, 1))
    opt = SGD(gd.parameters(), lr=lr, momentum=momentum)
    first = None
    with timer() as t_gd:
        for step in range(1, n_steps + 1):
            opt.zero_grad()
            loss = mse_loss(gd(Xt), yt)
            loss.backward()
            opt.step()
            w, b = gd.coefficients()
            # y = s (w . (x - m) / s + b) + m  =>  intercept m + s b - m sum(w)
            rel = _rel(_theta(w, m + s * b - m * w.sum()), ref)
            if first is None and rel < 1e-3:
                first = step
    rows.append(
        {
            "fit": f"gradient descent (SGD lr={lr}, momentum={momentum}, full batch, "
            "standardised inputs)",
            "reference": "numpy.linalg.lstsq on [1, X]",
            "rel_diff": rel,
            "steps": n_steps,
            "steps_to_1e-3": first if first is not None else f"> {n_steps}",
            "seconds": t_gd[0],
        }
    )
    return rows


# ----------------------------------------------------------------------------- (b)


def noisy_sine_forecast(
    *,
    quick: bool = False,
    seed: int = 0,
    tau: int = SINE_TAU,
    n_train: int = 600,
    horizons: tuple[int, ...] = (1, 4, 16, 64),
) -> list[dict[str, Any]]:
    """Noisy sine (T=1000, noise 0.2), AR(tau) trained on the first ``n_train`` points.

    One row per horizon k: the mean squared error of the k-step-ahead forecasts of every
    value after the training part (the same targets for every k), for a linear AR(tau) fitted by
    least squares, an MLP AR(tau) trained by Adam, the k-step persistence forecast, and the
    oracle sin(0.01 t) whose error is the realised noise variance (about 0.04).
    """
    x = _sine(seed)
    t = np.arange(1, x.shape[0] + 1)
    train = x[:n_train]
    ar = LinearAR(tau, dtype=np.float64).fit_least_squares(train)
    mlp = MLPAR(tau, hidden=32, rng=rng_for(seed, 1))
    fit_window_model(
        mlp, train, epochs=5 if quick else 100, batch_size=32, lr=1e-2, rng=rng_for(seed, 2)
    )
    target = x[n_train:]
    oracle = mse(np.sin(0.01 * t[n_train:]), target)
    rows = []
    for k in horizons:
        rows.append(
            {
                "k": k,
                f"linear AR({tau}), least squares": mse(
                    k_step_forecast(ar, x, k, start=n_train), target
                ),
                f"MLP-AR({tau})": mse(k_step_forecast(mlp, x, k, start=n_train), target),
                "persistence": mse(persistence_forecast(x, start=n_train, k=k), target),
                "oracle sin(0.01 t)": oracle,
            }
        )
    return rows


# ----------------------------------------------------------------------------- (c)


def _neural_rmse(
    make: Any,
    fit: Any,
    z: np.ndarray,
    n_train: int,
    scaler: Standardizer,
    x: np.ndarray,
    seeds: list[int],
) -> tuple[list[float], float]:
    scores, seconds = [], 0.0
    for sd in seeds:
        model = make(sd)
        with timer() as tm:
            fit(model, z[:n_train], sd)
        seconds += tm[0]
        pred = scaler.inverse_transform(one_step_forecast(model, z, start=n_train))
        scores.append(rmse(pred, x[n_train:]))
    return scores, seconds / len(seeds)


def sunspots_rmse(
    *,
    quick: bool = False,
    seed: int = 0,
    tau: int = SUNSPOTS_TAU,
    test_fraction: float = 0.2,
    n_seeds: int | None = None,
    hidden: int = 32,
) -> list[dict[str, Any]]:
    """Yearly sunspots, the last 20% held out chronologically: one-step-ahead RMSE per model.

    The series is standardised with the training part's mean and std; window models see the
    ``tau`` values before each target, recurrent models read the series from 1700. Neural
    models are trained from ``n_seeds`` initialisations (default 3; 1 when quick) and the row
    gives the mean and standard deviation of their test RMSE (original units) and the mean
    training time.
    """
    x = load_sunspots().values
    n_train = round(x.shape[0] * (1 - test_fraction))
    scaler = Standardizer().fit(x[:n_train])
    z = scaler.transform(x)
    target = x[n_train:]
    seeds = [seed + i for i in range(n_seeds if n_seeds is not None else (1 if quick else 3))]

    def row(name: str, scores: list[float], seconds: float | str = "") -> dict[str, Any]:
        return {
            "model": name,
            "test RMSE": float(np.mean(scores)),
            "std over seeds": float(np.std(scores)) if len(scores) > 1 else "",
            "seeds": len(scores),
            "train seconds": seconds,
        }

    rows = [
        row(
            "persistence (x_hat_t = x_{t-1})",
            [rmse(persistence_forecast(x, start=n_train), target)],
        ),
        row("training mean", [rmse(mean_forecast(x, start=n_train), target)]),
    ]
    with timer() as tm:
        ar = LinearAR(tau, dtype=np.float64).fit_least_squares(x[:n_train])
    rows.append(
        row(
            f"linear AR({tau}), least squares",
            [rmse(one_step_forecast(ar, x, start=n_train), target)],
            tm[0],
        )
    )
    epochs_mlp = 10 if quick else 300
    scores, secs = _neural_rmse(
        lambda sd: MLPAR(tau, hidden=hidden, rng=rng_for(sd, 10)),
        lambda m, tr, sd: fit_window_model(
            m, tr, epochs=epochs_mlp, batch_size=32, lr=3e-3, rng=rng_for(sd, 11)
        ),
        z,
        n_train,
        scaler,
        x,
        seeds,
    )
    rows.append(row(f"MLP-AR({tau}), hidden {hidden}", scores, secs))
    epochs_rnn = 5 if quick else 300
    for cell in ("rnn", "lstm", "gru"):
        scores, secs = _neural_rmse(
            lambda sd, c=cell: RNNForecaster(c, hidden_size=hidden, rng=rng_for(sd, 20)),
            lambda m, tr, sd: fit_rnn_forecaster(
                m,
                tr,
                epochs=epochs_rnn,
                seq_len=64,
                batch_size=16,
                warmup=10,
                lr=3e-3,
                rng=rng_for(sd, 21),
            ),
            z,
            n_train,
            scaler,
            x,
            seeds,
        )
        rows.append(row(f"{cell.upper()} forecaster, hidden {hidden}", scores, secs))
    return rows


# ----------------------------------------------------------------------------- (d)


def _bundled_series(seed: int) -> dict[str, np.ndarray]:
    return {
        "sunspots (yearly)": load_sunspots().values,
        "co2 (weekly, interpolated)": load_co2().values,
        "noisy sine": _sine(seed),
    }


def acf_table(
    *, seed: int = 0, lags: tuple[int, ...] = (1, 2, 5, 10, 20, 50, 100)
) -> list[dict[str, Any]]:
    """Autocorrelation r_k of each bundled series and of a time-shuffled copy of it.

    For i.i.d. data |r_k| stays within about 2/sqrt(T) (column ``2/sqrt(T)``); the shuffled
    copies show that level, the true series are far above it.
    """
    rows = []
    gen = rng_for(seed, 30)
    for name, x in _bundled_series(seed).items():
        for label, series in ((name, x), (f"{name}, shuffled", gen.permutation(x))):
            r = acf(series, nlags=max(lags))
            rows.append(
                {"series": label, "T": x.shape[0], "2/sqrt(T)": 2 / np.sqrt(x.shape[0])}
                | {f"r_{k}": float(r[k]) for k in lags}
            )
    return rows


def order_matters(
    *,
    quick: bool = False,
    seed: int = 0,
    hidden: int = 32,
) -> list[dict[str, Any]]:
    """The same models trained on the true series and on a time-shuffled copy of its training part.

    For each bundled series the training part (first 80%; the first 600 points of the noisy
    sine) is standardised, then used once in its true order and once with its time steps
    randomly permuted (the same values, the same marginal distribution, no temporal
    structure). Both fits are scored on the true-order test part: one-step-ahead RMSE in
    original units. Persistence and the training mean are given for reference.
    """
    specs = {
        "sunspots (yearly)": (load_sunspots().values, SUNSPOTS_TAU, None),
        "co2 (weekly, interpolated)": (load_co2().values, 8, None),
        "noisy sine": (_sine(seed), SINE_TAU, 600),
    }
    rows: list[dict[str, Any]] = []
    for i, (name, (x, tau, n_tr)) in enumerate(specs.items()):
        n_train = n_tr if n_tr is not None else round(0.8 * x.shape[0])
        scaler = Standardizer().fit(x[:n_train])
        z = scaler.transform(x)
        target = x[n_train:]
        shuffled = rng_for(seed, 40, i).permutation(z[:n_train])
        results: dict[str, list[float]] = {}
        for train in (z[:n_train], shuffled):
            ar = LinearAR(tau, dtype=np.float64).fit_least_squares(train)
            pred = scaler.inverse_transform(one_step_forecast(ar, z, start=n_train))
            results.setdefault(f"linear AR({tau})", []).append(rmse(pred, target))
            lstm = RNNForecaster("lstm", hidden_size=hidden, rng=rng_for(seed, 41, i))
            fit_rnn_forecaster(
                lstm, train, epochs=3 if quick else 150, seq_len=64, batch_size=16,
                batches_per_epoch=2, warmup=10, lr=3e-3, rng=rng_for(seed, 42, i),
            )  # fmt: skip
            pred = scaler.inverse_transform(one_step_forecast(lstm, z, start=n_train))
            results.setdefault(f"LSTM, hidden {hidden}", []).append(rmse(pred, target))
        for model, (true_rmse, shuf_rmse) in results.items():
            rows.append(
                {
                    "series": name,
                    "model": model,
                    "RMSE trained in true order": true_rmse,
                    "RMSE trained on shuffled copy": shuf_rmse,
                    "ratio shuffled/true": shuf_rmse / true_rmse,
                }
            )
        rows.append(
            {
                "series": name,
                "model": "reference: persistence / training mean",
                "RMSE trained in true order": rmse(persistence_forecast(x, start=n_train), target),
                "RMSE trained on shuffled copy": rmse(mean_forecast(x, start=n_train), target),
                "ratio shuffled/true": "",
            }
        )
    return rows
