"""Argument checks shared by the models and ``glassnet.seq``: clear errors, not deep tracebacks."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.tensor import Tensor


def positive_int(value: Any, name: str, who: str) -> int:
    """``value`` as an int >= 1, or a ValueError naming ``who`` and ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{who} expected {name} to be an int >= 1, got {value!r}")
    return int(value)


def series_1d(series: Any, who: str, min_len: int = 1, need: str = "") -> np.ndarray:
    """A finite 1-d float64 copy of ``series`` with at least ``min_len`` values.

    NaN or infinite values raise: glassnet never guesses a missing-value policy; the loaders
    offer one (``load_co2(missing=...)``) and ``ar_windows(missing='drop')`` drops windows.

    Args:
        series: a 1-d array, list or Tensor.
        who: the calling function, for messages.
        min_len: the least number of values accepted.
        need: what the length is needed for (appended to the message).
    """
    if isinstance(series, Tensor):
        arr = series.data
    else:
        try:
            arr = np.asarray(series)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{who} expected a 1-d numeric series, got {type(series).__name__}"
            ) from exc
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{who} expected a numeric series, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{who} expected a 1-d series of shape (T,), got shape {arr.shape}")
    T = arr.shape[0]
    if T == 0:
        raise ValueError(f"{who} got an empty series; it needs at least {min_len} values{need}")
    if T < min_len:
        raise ValueError(f"{who} needs at least {min_len} values{need}, got a series of {T}")
    out = arr.astype(np.float64)  # a copy
    bad = ~np.isfinite(out)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        kind = "NaN" if np.isnan(out[first]) else "infinite"
        raise ValueError(
            f"{who} got {int(bad.sum())} non-finite value(s) in the series (first: {kind} at "
            f"index {first}); fill or drop missing values first, e.g. "
            "load_co2(missing='interpolate') or ar_windows(..., missing='drop')"
        )
    return out


def model_dtype(model: Any) -> np.dtype:
    """The dtype of the model's first floating parameter (float64 if it has none)."""
    params = getattr(model, "parameters", None)
    if params is not None:
        for p in params():
            if p.dtype.kind == "f":
                return np.dtype(p.dtype)
    return np.dtype(np.float64)
