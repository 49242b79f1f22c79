"""Time-series tooling: chronological splits, standardisation fitted on the past, AR windows."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.tensor import Tensor


def _as_numpy(x: Any, who: str, name: str = "series") -> np.ndarray:
    if isinstance(x, Tensor):
        return x.data
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{who} expected an array for {name}, got {type(x).__name__} ({exc})"
        ) from None
    if arr.dtype == object:
        raise TypeError(f"{who} expected a numeric array for {name}, got {type(x).__name__}")
    return arr


def chronological_split(
    series: Any,
    train: float | int = 0.6,
    val: float | int = 0.2,
    test: float | int = 0.2,
    *,
    context: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut a series along time into consecutive train, validation and test parts.

    Nothing is shuffled: every training step comes before every validation step, which comes
    before every test step, so no future value leaks into fitting.

    Args:
        series: array (or Tensor) whose first axis is time, shape (T, *).
        train, val, test: either fractions summing to 1 (boundaries at ``round(T * cumsum)``)
            or ints summing to T. ``val`` may be 0.
        context: prepend the last ``context`` steps of the preceding part to the validation and
            test parts. With ``context=tau``, ``ar_windows`` on each part yields every target
            exactly once, the inputs being past values only (what a forecaster legitimately
            sees), and no target of one part appears in another.

    Returns:
        ``(train, val, test)`` views of ``series`` along axis 0.

    Shapes:
        series: (T, *)   train: (T_tr, *)   val: (context + T_va, *)   test: (context + T_te, *)

    >>> import numpy as np
    >>> tr, va, te = chronological_split(np.arange(10), 0.6, 0.2, 0.2)
    >>> tr.tolist(), va.tolist(), te.tolist()
    ([0, 1, 2, 3, 4, 5], [6, 7], [8, 9])
    """
    x = _as_numpy(series, "chronological_split")
    if x.ndim == 0:
        raise ValueError("chronological_split expected a series with a time axis, got a 0-d value")
    T = x.shape[0]
    parts = [train, val, test]
    names = ["train", "val", "test"]
    if all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in parts):
        counts = [int(p) for p in parts]
        if any(c < 0 for c in counts) or sum(counts) != T:
            raise ValueError(
                f"chronological_split counts must be >= 0 and sum to the series length {T}, got "
                f"train={counts[0]}, val={counts[1]}, test={counts[2]}"
            )
    elif all(isinstance(p, (int, float, np.integer, np.floating)) for p in parts):
        fr = [float(p) for p in parts]
        if any(not 0.0 <= f <= 1.0 for f in fr) or abs(sum(fr) - 1.0) > 1e-9:
            raise ValueError(
                f"chronological_split fractions must lie in [0, 1] and sum to 1, got "
                f"train={fr[0]}, val={fr[1]}, test={fr[2]} (sum {sum(fr)})"
            )
        b1 = round(T * fr[0])
        b2 = round(T * (fr[0] + fr[1]))
        counts = [b1, b2 - b1, T - b2]
    else:
        got = ", ".join(f"{n}={type(p).__name__}" for n, p in zip(names, parts, strict=True))
        raise TypeError(f"chronological_split train/val/test must be numbers, got {got}")
    if isinstance(context, bool) or not isinstance(context, (int, np.integer)) or context < 0:
        raise ValueError(f"chronological_split context must be an int >= 0, got {context!r}")
    if counts[0] == 0:
        raise ValueError(f"chronological_split got an empty training part (T={T}, counts={counts})")
    if context > counts[0]:
        raise ValueError(
            f"chronological_split context={context} is longer than the training part "
            f"({counts[0]} steps)"
        )
    b1, b2 = counts[0], counts[0] + counts[1]
    lo_val = max(b1 - context, 0) if counts[1] else b1
    lo_test = max(b2 - context, 0) if counts[2] else b2
    return x[:b1], x[lo_val:b2], x[lo_test:]


class Standardizer:
    """Subtract the mean and divide by the standard deviation, both fitted on training data.

    Fit on the training part only (``fit(train)``), then ``transform`` every part with those
    statistics: fitting on the whole series would leak the future's level and scale.

    Args:
        axis: the axis (or axes) the statistics are taken over; 0 gives one mean/std per
            feature for a (T, D) series and a single pair for a (T,) series.

    Attributes:
        mean_, std_: the fitted statistics (float64), ``None`` before ``fit``.

    Tensors in give Tensors out (through glassnet ops, so gradients flow through
    ``inverse_transform``); arrays in give arrays out.

    >>> import numpy as np
    >>> s = Standardizer().fit(np.array([1.0, 2.0, 3.0]))
    >>> s.transform(np.array([2.0, 4.0])).round(4).tolist()
    [0.0, 2.4495]
    >>> s.inverse_transform(s.transform(np.array([5.0]))).tolist()
    [5.0]
    """

    def __init__(self, axis: int | tuple[int, ...] = 0) -> None:
        self.axis = axis
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None

    def fit(self, x: Any) -> Standardizer:
        """Compute mean and (population) std of ``x`` along ``axis``; returns ``self``."""
        a = _as_numpy(x, "Standardizer.fit", "x").astype(np.float64, copy=False)
        if a.size == 0:
            raise ValueError(f"Standardizer.fit expected non-empty data, got shape {a.shape}")
        if np.isnan(a).any():
            first = np.argwhere(np.isnan(a))[0]
            raise ValueError(
                f"Standardizer.fit got NaN values (first at index {tuple(first.tolist())}); "
                "fill or drop missing values before fitting"
            )
        try:
            mean = a.mean(axis=self.axis, keepdims=True)
            std = a.std(axis=self.axis, keepdims=True)
        except ValueError as exc:  # numpy's AxisError is a ValueError
            raise ValueError(
                f"Standardizer axis={self.axis} is invalid for data of shape {a.shape}"
            ) from exc
        if np.any(std == 0):
            flat = np.flatnonzero(std.reshape(-1) == 0)[:5].tolist()
            raise ValueError(
                f"Standardizer.fit found zero standard deviation (a constant feature) at "
                f"feature index {flat}; standardising would divide by zero"
            )
        self.mean_, self.std_ = mean, std
        return self

    def _stats(self, who: str) -> tuple[np.ndarray, np.ndarray]:
        if self.mean_ is None or self.std_ is None:
            raise RuntimeError(f"Standardizer.{who} called before fit; call fit(train_part) first")
        return self.mean_, self.std_

    def _apply(self, x: Any, who: str, inverse: bool) -> Any:
        mean, std = self._stats(who)
        if isinstance(x, Tensor):
            dt = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)
            m, s = mean.astype(dt), std.astype(dt)
            return x * s + m if inverse else (x - m) / s
        a = _as_numpy(x, f"Standardizer.{who}", "x")
        if a.ndim < mean.ndim:
            raise ValueError(
                f"Standardizer.{who} expected data with {mean.ndim} dims like the fitted data, "
                f"got shape {a.shape}"
            )
        try:
            np.broadcast_shapes(a.shape, mean.shape)
        except ValueError:
            raise ValueError(
                f"Standardizer.{who} expected data shaped like the fitted data "
                f"(statistics of shape {mean.shape}), got shape {a.shape}"
            ) from None
        dt = a.dtype if np.issubdtype(a.dtype, np.floating) else np.dtype(np.float64)
        m, s = mean.astype(dt), std.astype(dt)
        return a * s + m if inverse else (a - m) / s

    def transform(self, x: Any) -> Any:
        """``(x - mean) / std`` with the fitted statistics."""
        return self._apply(x, "transform", inverse=False)

    def inverse_transform(self, x: Any) -> Any:
        """``x * std + mean``: back to the original units."""
        return self._apply(x, "inverse_transform", inverse=True)

    def fit_transform(self, x: Any) -> Any:
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x)

    def __repr__(self) -> str:
        if self.mean_ is None or self.std_ is None:
            return f"Standardizer(axis={self.axis}, unfitted)"
        mean, std = self.mean_.squeeze(), self.std_.squeeze()
        return f"Standardizer(axis={self.axis}, mean={mean}, std={std})"


def ar_windows(series: Any, tau: int, *, missing: str = "raise") -> tuple[np.ndarray, np.ndarray]:
    """Sliding windows for an autoregressive model of order ``tau``.

    Row i holds the inputs ``x[i], ..., x[i + tau - 1]`` and the target ``x[i + tau]``, i.e.
    for target x_t the inputs are x_{t-tau}, ..., x_{t-1}.

    Args:
        series: a 1-d array or Tensor of length T > tau.
        tau: the window length (order of the AR model), >= 1.
        missing: what to do with NaN values: ``'raise'`` (default) raises naming the first
            NaN index; ``'drop'`` drops every window whose inputs or target contain a NaN.

    Returns:
        ``(X, y)``: X of shape (T - tau, tau), y of shape (T - tau,), same dtype as the series
        (fresh arrays, safe to modify).

    Shapes:
        series: (T,)   X: (T - tau, tau)   y: (T - tau,)

    >>> import numpy as np
    >>> X, y = ar_windows(np.arange(6.0), tau=2)
    >>> X.tolist(), y.tolist()
    ([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0], [3.0, 4.0]], [2.0, 3.0, 4.0, 5.0])
    """
    x = _as_numpy(series, "ar_windows")
    if isinstance(tau, bool) or not isinstance(tau, (int, np.integer)):
        raise TypeError(f"ar_windows tau must be an int, got {type(tau).__name__}")
    if tau < 1:
        raise ValueError(f"ar_windows tau must be >= 1, got {tau}")
    if missing not in ("raise", "drop"):
        raise ValueError(f"ar_windows missing must be 'raise' or 'drop', got {missing!r}")
    if x.ndim != 1:
        raise ValueError(f"ar_windows expected a 1-d series of shape (T,), got shape {x.shape}")
    T = x.shape[0]
    if T == 0:
        raise ValueError(
            f"ar_windows got an empty series; it needs at least tau + 1 = {tau + 1} values"
        )
    if T <= tau:
        raise ValueError(
            f"ar_windows needs a series longer than tau={tau} (at least {tau + 1} values), "
            f"got {T} values"
        )
    nan = np.isnan(x) if np.issubdtype(x.dtype, np.inexact) else np.zeros(T, bool)
    if nan.any() and missing == "raise":
        first = int(np.flatnonzero(nan)[0])
        raise ValueError(
            f"ar_windows got NaN in the series ({int(nan.sum())} values, first at index {first}); "
            "fill them first (e.g. load_co2(missing='interpolate')) or pass missing='drop'"
        )
    win = np.lib.stride_tricks.sliding_window_view(x, tau + 1)  # (T - tau, tau + 1)
    if nan.any():
        bad = np.lib.stride_tricks.sliding_window_view(nan, tau + 1).any(axis=1)  # (T - tau,)
        win = win[~bad]
    X = np.array(win[:, :tau], order="C")  # (n, tau), a writable copy
    y = win[:, tau].copy()  # (n,)
    return X, y
