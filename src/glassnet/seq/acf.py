"""The autocorrelation function: how strongly a series remembers its own past."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..models._validate import series_1d


def acf(series: Any, nlags: int | None = None) -> np.ndarray:
    """Sample autocorrelation r_0, ..., r_nlags of a 1-d series.

    r_k = sum_{t=0}^{T-k-1} (x_t - m)(x_{t+k} - m) / sum_{t=0}^{T-1} (x_t - m)^2, m the mean:
    the usual (biased, always positive semi-definite) estimator, as ``statsmodels``'s ``acf``
    with its defaults. For i.i.d. data r_k (k >= 1) is about N(0, 1/T); a series whose order
    matters has r_k far outside +-2/sqrt(T) at small lags.

    Args:
        series: 1-d, finite, not constant (NaN raises: fill or drop missing values first).
        nlags: largest lag (0 <= nlags < T); default ``min(int(10 log10 T), T - 1)``.

    Returns:
        float64 array (nlags + 1,), r_0 = 1.

    Shapes:
        series: (T,)   returns: (nlags + 1,)

    >>> acf([1.0, 2.0, 3.0, 4.0], nlags=2).round(4).tolist()
    [1.0, 0.25, -0.3]
    """
    who = "acf"
    x = series_1d(series, who, 2, " for an autocorrelation")
    T = x.shape[0]
    if nlags is None:
        nlags = min(int(10 * np.log10(T)), T - 1)
    if isinstance(nlags, bool) or not isinstance(nlags, (int, np.integer)):
        raise TypeError(f"{who} nlags must be an int, got {type(nlags).__name__}")
    if not 0 <= nlags < T:
        raise ValueError(
            f"{who} nlags must be in [0, {T - 1}] for a series of {T} values, got {nlags}"
        )
    d = x - x.mean()  # (T,)
    denom = float(d @ d)
    if denom == 0.0:
        raise ValueError(f"{who}: the series is constant, its autocorrelation is undefined")
    return np.array([d[: T - k] @ d[k:] for k in range(int(nlags) + 1)]) / denom
