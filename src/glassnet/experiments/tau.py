"""The tau lab: held-out error of AR(tau) against tau, and tau chosen by validation.

An AR(tau) model reads the ``tau`` values before each target. Too small a window misses
structure the series has (the 11-year sunspot cycle, the yearly CO2 cycle); too large a window
adds parameters the training years cannot pin down. Which tau is right is a question for data
the fit has not seen, but not for the test years: the split is

    | fit part (first 60%) | validation (next 20%) | test (last 20%) |
    |<-------- training part (first 80%) -------->|

Every candidate tau is fitted on the fit part and scored on the validation part; the tau with
the lowest validation RMSE is refitted on the whole training part and scored once on the test
part. The test RMSE of every other tau is reported too (refitted on the training part), to show
the curve the choice was made blind to, never to make the choice.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data import Standardizer, load_co2, load_sunspots
from ..models import MLPAR, LinearAR
from ..seq.forecast import fit_window_model, one_step_forecast, rmse
from ._common import rng_for

if TYPE_CHECKING:
    from ..viz._common import MplFigure

# The candidate windows: yearly sunspots (cycle ~11 years), weekly CO2 (cycle 52 weeks).
TAUS = {
    "sunspots": (1, 2, 3, 5, 7, 9, 12, 16, 20, 30),
    "co2": (1, 2, 4, 8, 13, 26, 39, 52, 78, 104),
}
# The order the fixed-tau tables of docs/results.md use, for comparison.
FIXED_TAU = {"sunspots": 9, "co2": 8}
MODELS = ("linear AR", "MLP-AR")


def _series(series: Any) -> tuple[str, np.ndarray]:
    if isinstance(series, str):
        if series == "sunspots":
            return series, load_sunspots().values
        if series == "co2":
            return series, load_co2().values
        raise ValueError(f"tau_lab series must be 'sunspots', 'co2' or an array, got {series!r}")
    x = np.asarray(series, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"tau_lab expected a 1-d series, got shape {x.shape}")
    return "series", x


def _splits(n: int, test_fraction: float, val_fraction: float) -> tuple[int, int]:
    """(n_fit, n_train): the fit part is x[:n_fit], validation x[n_fit:n_train]."""
    n_train = round(n * (1 - test_fraction))
    n_fit = round(n_train * (1 - val_fraction))
    return n_fit, n_train


def _score(
    model: str,
    x: np.ndarray,
    n_past: int,
    n_end: int,
    tau: int,
    *,
    seeds: list[int],
    hidden: int,
    steps: int,
) -> float:
    """RMSE on x[n_past:n_end] of AR(tau) fitted on x[:n_past] (MLP: mean over seeds)."""
    scaler = Standardizer().fit(x[:n_past])
    z = scaler.transform(x[:n_end])
    target = x[n_past:n_end]
    if model == "linear AR":
        ar = LinearAR(tau, dtype=np.float64).fit_least_squares(z[:n_past])
        return rmse(scaler.inverse_transform(one_step_forecast(ar, z, start=n_past)), target)
    batches = math.ceil((n_past - tau) / 32)  # minibatches per epoch
    scores = []
    for sd in seeds:
        mlp = MLPAR(tau, hidden=hidden, rng=rng_for(sd, 50, tau))
        fit_window_model(
            mlp,
            z[:n_past],
            epochs=max(1, round(steps / batches)),
            batch_size=32,
            lr=3e-3,
            rng=rng_for(sd, 51, tau),
        )
        pred = scaler.inverse_transform(one_step_forecast(mlp, z, start=n_past))
        scores.append(rmse(pred, target))
    return float(np.mean(scores))


def tau_lab(
    series: Any = "sunspots",
    *,
    quick: bool = False,
    seed: int = 0,
    taus: tuple[int, ...] | None = None,
    models: tuple[str, ...] = MODELS,
    test_fraction: float = 0.2,
    val_fraction: float = 0.25,
    n_seeds: int | None = None,
    hidden: int = 32,
    steps: int | None = None,
) -> list[dict[str, Any]]:
    """Validation and test RMSE of linear AR(tau) and MLP-AR(tau) for every candidate tau.

    Args:
        series: ``"sunspots"`` (yearly, 309 values), ``"co2"`` (weekly, 2284 values) or a 1-d
            array (named "series" in the rows).
        taus: candidate windows (default ``TAUS[series]``; required for an array).
        models: any of ``"linear AR"`` (least squares) and ``"MLP-AR"`` (hidden ``hidden``,
            ReLU, Adam lr 3e-3, batch 32, about ``steps`` minibatch updates whatever the series
            length, mean over ``n_seeds`` initialisations; default 2, 1 when quick).
        test_fraction, val_fraction: the last ``test_fraction`` of the series is the test part;
            the last ``val_fraction`` of the rest is the validation part.

    Returns:
        One row per (model, tau): ``series``, ``model``, ``tau``, ``val RMSE`` (fitted on the fit
        part), ``test RMSE`` (refitted on the training part) and ``chosen`` (True for the tau
        with the lowest validation RMSE of that model). RMSE in the series' units.
    """
    name, x = _series(series)
    if taus is None and name not in TAUS:
        raise ValueError("tau_lab needs taus= for a series given as an array")
    cand = taus if taus is not None else TAUS[name]
    if quick and taus is None:
        cand = cand[::3]
    n_fit, n_train = _splits(x.shape[0], test_fraction, val_fraction)
    seeds = [seed + i for i in range(n_seeds if n_seeds is not None else (1 if quick else 2))]
    n_steps = steps if steps is not None else (200 if quick else 2400)
    rows: list[dict[str, Any]] = []
    for model in models:
        if model not in MODELS:
            raise ValueError(f"tau_lab models must be among {MODELS}, got {model!r}")
        block: list[dict[str, Any]] = []
        val: list[float] = []
        for tau in cand:
            val.append(
                _score(model, x, n_fit, n_train, tau, seeds=seeds, hidden=hidden, steps=n_steps)
            )
            test = _score(
                model, x, n_train, x.shape[0], tau, seeds=seeds, hidden=hidden, steps=n_steps
            )
            block.append(
                {"series": name, "model": model, "tau": tau, "val RMSE": val[-1], "test RMSE": test}
            )
        best = int(np.argmin(val))
        for i, r in enumerate(block):
            r["chosen"] = i == best
        rows += block
    return rows


def tau_choice(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (series, model): the validation choice against the alternatives.

    ``test RMSE (chosen)`` is the figure the protocol reports; ``best tau on test`` (and its
    RMSE) is what an oracle peeking at the test years would have picked; the fixed order of the
    tables (c) and (d) of docs/results.md and tau = 1 are given for comparison.
    """
    out = []
    keys = list(dict.fromkeys((r["series"], r["model"]) for r in rows))
    for series, model in keys:
        block = [r for r in rows if (r["series"], r["model"]) == (series, model)]
        chosen = next(r for r in block if r["chosen"])
        oracle = min(block, key=lambda r: r["test RMSE"])
        by_tau = {r["tau"]: r["test RMSE"] for r in block}
        fixed = FIXED_TAU.get(series, "")
        out.append(
            {
                "series": series,
                "model": model,
                "chosen tau (validation)": chosen["tau"],
                "test RMSE (chosen)": chosen["test RMSE"],
                "best tau on test": oracle["tau"],
                "test RMSE (best)": oracle["test RMSE"],
                "fixed tau of (c), (d)": fixed,
                "test RMSE (fixed)": by_tau.get(fixed, ""),
                "test RMSE (tau=1)": by_tau.get(1, ""),
            }
        )
    return out


def plot_tau_lab(rows: list[dict[str, Any]], out_dir: str | Path) -> list[MplFigure]:
    """One figure per series: validation and test RMSE against tau, per model."""
    import glassnet.viz as viz  # matplotlib only when figures are drawn

    figs = []
    for series in dict.fromkeys(r["series"] for r in rows):
        curves: dict[str, Any] = {}
        chosen = []
        for model in dict.fromkeys(r["model"] for r in rows if r["series"] == series):
            block = [r for r in rows if (r["series"], r["model"]) == (series, model)]
            taus = np.array([r["tau"] for r in block], dtype=np.float64)
            for col in ("val RMSE", "test RMSE"):
                curves[f"{model}, {col.split()[0]}"] = (taus, np.array([r[col] for r in block]))
            chosen.append(f"{model} {next(r['tau'] for r in block if r['chosen'])}")
        figs.append(
            viz.plot_gradient_norms(
                curves,
                Path(out_dir) / f"tau_lab_{series}.png",
                logy=False,
                title=f"{series}: one-step RMSE against tau (chosen by validation: "
                f"{', '.join(chosen)})",
                xlabel="tau (window length)",
                ylabel="RMSE",
            )
        )
    return figs


__all__ = ["FIXED_TAU", "TAUS", "plot_tau_lab", "tau_choice", "tau_lab"]
