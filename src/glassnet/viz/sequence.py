"""Figures for sequences: forecasts against actuals, and gradient flow through time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._common import MplFigure, PathLike, as_array, figure, finish, xy_pairs


def plot_forecast(
    t: Any,
    actual: Any,
    predictions: Mapping[str, Any],
    path: PathLike | None = None,
    split_index: int | None = None,
    title: str = "Forecast",
    *,
    held_out_start: float | None = None,
    xlabel: str = "t",
    ylabel: str = "value",
    zoom: bool = True,
) -> MplFigure:
    """Plot a series with one or more forecasts; shade the held-out region.

    With a train/test boundary, a second panel below shows the held-out part alone (with a
    little of the training part before it), where the forecasts can be told apart.

    Args:
        t: the time of each observation, ``(T,)``; None for ``0..T-1``.
        actual: the observed series, ``(T,)``.
        predictions: ``{name: y}`` with ``y`` of shape ``(T,)`` aligned with ``t`` (NaN where a
            model made no prediction, e.g. the first ``tau`` steps of an AR(tau) model), or
            ``{name: (t_pred, y_pred)}`` for predictions at other times (k-step forecasts).
        path: where to write the figure.
        split_index: index into ``t`` of the first held-out observation; the train/test
            boundary is drawn there and everything from it on is shaded.
        title: figure title.
        held_out_start: the same boundary given as a time value instead of an index (give at
            most one of the two; neither draws no boundary).
        xlabel, ylabel: axis labels.
        zoom: draw the held-out panel (when a boundary is given).

    Returns:
        The figure (a matplotlib ``Figure``), saved to ``path`` when one is given.
    """
    fn = "plot_forecast"
    y = as_array(actual, "actual", 1, fn)
    tt = np.arange(y.shape[0], dtype=np.float64) if t is None else as_array(t, "t", 1, fn)
    if tt.shape != y.shape:
        raise ValueError(
            f"{fn} expected t and actual of equal length, got {tt.shape} and {y.shape}"
        )
    if not isinstance(predictions, Mapping):
        raise TypeError(
            f"{fn} expected predictions as a dict {{name: values}}, "
            f"got {type(predictions).__name__}"
        )
    curves = xy_pairs(predictions, "predictions", fn, default_x=tt) if predictions else {}
    if split_index is not None and held_out_start is not None:
        raise ValueError(f"{fn} takes split_index or held_out_start, not both")
    boundary = None
    if split_index is not None:
        if isinstance(split_index, bool) or not isinstance(split_index, (int, np.integer)):
            raise TypeError(
                f"{fn} expected split_index as an int, got {type(split_index).__name__}"
            )
        if not 0 < split_index < y.shape[0]:
            raise ValueError(
                f"{fn} expected split_index in [1, {y.shape[0] - 1}] (the first held-out "
                f"observation), got {split_index}"
            )
        boundary = float(tt[split_index])
    elif held_out_start is not None:
        boundary = float(held_out_start)
        if not np.isfinite(boundary):
            raise ValueError(f"{fn} expected a finite held_out_start, got {held_out_start!r}")
    right = float(np.nanmax(tt))
    for xp, _ in curves.values():
        right = max(right, float(np.nanmax(xp)))
    panels = 2 if zoom and boundary is not None and boundary < right else 1
    with figure((9.0, 3.8 if panels == 1 else 6.6)) as fig:
        axes = fig.subplots(panels, 1, squeeze=False)[:, 0]
        for i, ax in enumerate(axes):
            if boundary is not None:
                ax.axvspan(
                    boundary, right, color="0.5", alpha=0.15, linewidth=0,
                    label="held out" if i == 0 else None,
                )  # fmt: skip
                ax.axvline(boundary, color="0.2", linestyle="--", linewidth=1.2)
            ax.plot(
                tt, y, color="black", linewidth=1.3 if i == 0 else 1.6,
                label="actual" if i == 0 else None,
            )  # fmt: skip
            for k, (name, (xp, yp)) in enumerate(curves.items()):
                ax.plot(
                    xp, yp, color=f"C{k}", linewidth=1.3, alpha=0.9,
                    label=(name or "prediction") if i == 0 else None,
                )  # fmt: skip
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            ax.grid(True)
        top = axes[0]
        if boundary is not None:
            top.annotate(
                "train | test",
                xy=(boundary, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
            )
        top.set_title(title, pad=14 if boundary is not None else 6)
        if panels == 2:
            assert boundary is not None
            _zoom(axes[1], tt, y, curves, boundary, right)
            axes[1].set_title("the held-out part", fontsize=9, loc="left")
        fig.legend(loc="outside lower center", ncols=min(5, len(curves) + 2), frameon=False)
        return finish(fig, path)


def _zoom(
    ax: Any,
    t: np.ndarray,
    y: np.ndarray,
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
    boundary: float,
    right: float,
) -> None:
    """Limit ``ax`` to the held-out span (plus a tenth of it before the boundary)."""
    left = boundary - 0.1 * (right - boundary)
    shown = [v[(x >= left) & (x <= right)] for x, v in [(t, y), *curves.values()]]
    values = np.concatenate(shown)
    values = values[np.isfinite(values)]
    ax.set_xlim(left, right)
    if values.size:
        lo, hi = float(values.min()), float(values.max())
        pad = 0.05 * (hi - lo) if hi > lo else 1.0
        ax.set_ylim(lo - pad, hi + pad)


def plot_gradient_norms(
    norms: Any,
    path: PathLike | None = None,
    logy: bool = True,
    *,
    title: str = "Gradient norm vs distance",
    xlabel: str = "distance k (time steps back)",
    ylabel: str = r"$\|\partial L / \partial h_{t-k}\|$",
) -> MplFigure:
    """Plot how gradient norms decay (or grow) with distance back in time, one curve per model.

    Args:
        norms: one curve ``(T,)`` or ``{name: curve}`` (e.g. RNN, LSTM, GRU); a curve is a 1-d
            array against distance ``0..T-1`` or an ``(x, y)`` pair.
        path: where to write the figure.
        logy: log-scale the y axis, so exponential decay reads as a straight line. Values that
            are zero or negative (an underflowed gradient) cannot sit on a log axis and are left
            out; the legend says how many.
        title, xlabel, ylabel: labels.

    Returns:
        The figure (a matplotlib ``Figure``), saved to ``path`` when one is given.
    """
    fn = "plot_gradient_norms"
    curves = xy_pairs(norms, "norms", fn)
    logy = logy and any(np.any(np.isfinite(y) & (y > 0)) for _, y in curves.values())
    show_legend = len(curves) > 1 or any(curves)
    with figure((7.0, 4.2)) as fig:
        ax = fig.subplots()
        for k, (name, (x, y)) in enumerate(curves.items()):
            label = name or "gradient norm"
            if logy:
                hidden = int(np.sum(np.isfinite(y) & (y <= 0)))
                y = np.where(y > 0, y, np.nan)
                if hidden:
                    label += f" ({hidden} values <= 0 not shown)"
                    show_legend = True
            ax.plot(x, y, color=f"C{k}", linewidth=1.6, label=label)
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="major")
        if show_legend:
            ax.legend(loc="best")
        return finish(fig, path)


def plot_gradient_heatmap(
    matrix: Any,
    path: PathLike | None = None,
    *,
    steps: Any = None,
    log: bool = True,
    title: str = "Gradient norm through training",
    xlabel: str = "time step",
    ylabel: str = "training step",
    colorbar_label: str = "gradient norm",
    cmap: str = "magma",
) -> MplFigure:
    """Heatmap of gradient norms: rows are training steps, columns time steps.

    Args:
        matrix: ``(S, T)``: the gradient norm at time step ``t`` recorded at training step ``s``.
        path: where to write the figure.
        steps: the training step of each row, ``(S,)`` evenly spaced (default ``0..S-1``).
        log: logarithmic colour scale over the positive values (zeros show as grey).
        title, xlabel, ylabel, colorbar_label: labels.
        cmap: matplotlib colormap name.

    Returns:
        The figure (a matplotlib ``Figure``), saved to ``path`` when one is given.
    """
    fn = "plot_gradient_heatmap"
    m = as_array(matrix, "matrix", 2, fn)
    s, t = m.shape
    if steps is None:
        y0, y1 = 0.0, float(s - 1)
    else:
        st = as_array(steps, "steps", 1, fn)
        if st.shape[0] != s:
            raise ValueError(f"{fn} expected one step per row of matrix ({s}), got {st.shape[0]}")
        y0, y1 = float(st[0]), float(st[-1])
    dy = (y1 - y0) / (s - 1) if s > 1 else 1.0
    extent = (-0.5, t - 0.5, y0 - dy / 2, y1 + dy / 2)  # cell centres on the step values
    positive = m[np.isfinite(m) & (m > 0)]
    with figure((7.5, 4.5)) as fig:
        ax = fig.subplots()
        import matplotlib as mpl
        from matplotlib.colors import LogNorm, Normalize

        norm: Normalize
        if log and positive.size:
            lo, hi = float(positive.min()), float(positive.max())
            norm = LogNorm(vmin=lo, vmax=hi if hi > lo else lo * 10)
            data = np.ma.masked_where(~(np.isfinite(m) & (m > 0)), m)
        else:
            norm = Normalize()
            data = np.ma.masked_invalid(m)
        im = ax.imshow(
            data,
            cmap=mpl.colormaps[cmap].with_extremes(bad="0.75"),
            norm=norm,
            aspect="auto",
            origin="lower",
            extent=extent,
            interpolation="nearest",
        )
        fig.colorbar(im, ax=ax, label=colorbar_label + (" (log scale)" if log else ""))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        return finish(fig, path)
