"""Training curves and result bar charts."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._common import MplFigure, PathLike, as_array, figure, finish

# Split names recognised as a key prefix (``val_loss``, ``train/acc``) or suffix (``loss_val``).
_SPLITS = {
    "train": "train",
    "training": "train",
    "val": "validation",
    "valid": "validation",
    "validation": "validation",
    "eval": "validation",
    "test": "test",
}
_SPLIT_ORDER = {"train": 0, None: 0, "validation": 1, "test": 2}
_SPLIT_COLOR = {"train": "C0", None: "C0", "validation": "C1", "test": "C2"}
# Candidate x-axis keys, most natural first; "epoch" is skipped when it repeats (per-step logs).
_X_KEYS = ("epoch", "step", "global_step", "iteration", "iter")
_PHASE_KEYS = ("split", "phase", "mode", "stage")
_LOG_METRICS = ("loss", "perplexity", "ppl", "nll", "mse", "error")
_RATE_KEYS = {"lr", "learning_rate", "lr0", "lr_0"}
_NOT_METRICS = {"time", "elapsed", "wall_time", "timestamp", "seconds", "time_s", "duration"}


def _parse_key(key: str) -> tuple[str, str | None]:
    """``"val_loss"`` -> ``("loss", "validation")``; ``"loss"`` -> ``("loss", None)``."""
    for sep in ("_", "/", "."):
        head, _, tail = key.partition(sep)
        if tail and head.lower() in _SPLITS:
            return tail, _SPLITS[head.lower()]
        head, _, tail = key.rpartition(sep)
        if head and tail.lower() in _SPLITS:
            return head, _SPLITS[tail.lower()]
    return key, None


def _number(value: Any) -> float | None:
    """A float for numeric values (NaN for None), None for anything non-numeric."""
    if value is None:
        return math.nan
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    return None


def _columns_from_records(
    records: Sequence[Mapping[str, Any]],
) -> tuple[dict[str, np.ndarray], str | None]:
    """Per-epoch/per-step dicts -> equal-length columns (NaN where a record lacks a key)."""
    keys: dict[str, None] = {}
    rows: list[dict[str, float]] = []
    non_numeric: set[str] = set()
    for i, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise TypeError(
                f"plot_training_curves expected history as a dict of lists or a list of dicts, "
                f"got a list whose item {i} is {type(record).__name__}"
            )
        phase = next((str(record[k]) for k in _PHASE_KEYS if isinstance(record.get(k), str)), None)
        row: dict[str, float] = {}
        for key, value in record.items():
            key = str(key)
            if key in _PHASE_KEYS and isinstance(value, str):
                continue
            if phase is not None and key not in _X_KEYS and _parse_key(key)[1] is None:
                key = f"{phase}_{key}"  # {"phase": "val", "loss": ...} -> "val_loss"
            number = _number(value)
            if number is None:
                non_numeric.add(key)
                continue
            keys.setdefault(key)
            row[key] = number
        rows.append(row)
    columns = {
        k: np.array([row.get(k, math.nan) for row in rows]) for k in keys if k not in non_numeric
    }
    x_key = None
    for k in _X_KEYS:
        col = columns.get(k)
        if col is not None and np.all(np.isfinite(col)) and np.all(np.diff(col) > 0):
            x_key = k
            break
    return columns, x_key


def training_series(
    history: Mapping[str, Sequence[float]] | Sequence[Mapping[str, Any]],
) -> tuple[dict[str, dict[str | None, tuple[np.ndarray, np.ndarray]]], str | None]:
    """Group a training history into panels of ``{metric: {split: (x, y)}}``.

    Keys such as ``loss``/``val_loss``, ``train_acc``/``val_acc``, ``train/loss``/``val/loss``
    or ``loss_train``/``loss_val`` share a panel; records with a ``"split"``/``"phase"`` string
    (``{"phase": "val", "loss": 0.3}``) are folded the same way. The x values come from an
    ``epoch`` (if strictly increasing), ``step``, ``global_step``, ``iteration`` or ``iter``
    key, else ``1..n``; non-finite values are dropped point by point.

    Returns:
        The panels (loss-like metrics first) and the name of the x key used (None for ``1..n``).

    >>> panels, x = training_series([{"epoch": 1, "loss": 0.9, "val_loss": 1.0},
    ...                              {"epoch": 2, "loss": 0.5, "val_loss": 0.7}])
    >>> x, list(panels), sorted(panels["loss"], key=str)
    ('epoch', ['loss'], [None, 'validation'])
    """
    fn = "plot_training_curves"
    if isinstance(history, Mapping):
        columns: dict[str, np.ndarray] = {}
        for key, values in history.items():
            try:
                columns[str(key)] = as_array(values, f"history[{key!r}]", 1, fn)
            except TypeError:
                continue  # non-numeric columns (names, notes) are not curves
        x_key = next((k for k in _X_KEYS if k in columns and np.all(np.diff(columns[k]) > 0)), None)
    elif isinstance(history, Sequence) and not isinstance(history, (str, bytes)):
        if len(history) == 0:
            raise ValueError(f"{fn} expected a non-empty history, got an empty list")
        columns, x_key = _columns_from_records(history)
    else:
        raise TypeError(
            f"{fn} expected history as a dict of lists or a list of dicts, "
            f"got {type(history).__name__}"
        )
    panels: dict[str, dict[str | None, tuple[np.ndarray, np.ndarray]]] = {}
    for key, y in columns.items():
        if key in _X_KEYS or key.lower() in _NOT_METRICS:
            continue
        if x_key is not None and columns[x_key].shape == y.shape:
            x = columns[x_key]
        else:
            x = np.arange(1, y.shape[0] + 1, dtype=np.float64)
        keep = np.isfinite(y) & np.isfinite(x)
        if not keep.any():
            continue
        metric, split = _parse_key(key)
        panels.setdefault(metric, {})[split] = (x[keep], y[keep])
    if not panels:
        raise ValueError(
            f"{fn} found no numeric metric with a finite value in history (keys: {list(columns)})"
        )
    order = sorted(panels, key=lambda m: 0 if "loss" in m.lower() else 1)
    return {m: panels[m] for m in order}, x_key


def _constant(curves: Mapping[Any, tuple[np.ndarray, np.ndarray]]) -> float | None:
    """The value of a metric that never changes (a fixed learning rate), else None."""
    ys = np.concatenate([y for _, y in curves.values()])
    first = float(ys[0])
    return first if np.all(ys == first) else None


def _draw_panel(
    ax: Any, metric: str, curves: Mapping[Any, tuple[np.ndarray, np.ndarray]], log: bool
) -> None:
    both = len(curves) > 1
    for split in sorted(curves, key=lambda s: _SPLIT_ORDER[s]):
        x, y = curves[split]
        ax.plot(
            x,
            y,
            color=_SPLIT_COLOR[split],
            marker="o" if len(x) <= 30 else None,
            markersize=3,
            linewidth=1.5,
            label=(split or "train") if both else (split or metric),
        )
    if log and all(np.all(y > 0) for _, y in curves.values()):
        ax.set_yscale("log")
    ax.grid(True)


def _spans_decades(curves: Mapping[Any, tuple[np.ndarray, np.ndarray]]) -> bool:
    """Whether positive values range over a factor of 10 or more (worth a log axis)."""
    ys = np.concatenate([y for _, y in curves.values()])
    return bool(np.all(ys > 0) and ys.max() >= 10 * ys.min())


def plot_training_curves(
    history: Mapping[str, Sequence[float]] | Sequence[Mapping[str, Any]],
    path: PathLike | None = None,
    title: str = "Training curves",
    *,
    x_label: str | None = None,
    logy: bool = False,
    max_cols: int = 3,
) -> MplFigure:
    """Plot loss and metrics against epoch or step: one panel per metric, train and validation
    on the same axes.

    Loss and metrics (``acc``, ...) get the full-height panels. The optimizer's diagnostics get a
    short strip below them: the gradient norm (any key containing ``grad_norm``; on a log scale
    when it spans a decade) and the learning rate when it changes; a learning rate that never
    changes is given in the title instead of a flat panel. Epoch axes carry integer ticks only.

    Args:
        history: ``{"loss": [...], "val_loss": [...], "acc": [...], ...}`` (optionally with an
            ``"epoch"``/``"step"`` list) or a list of per-epoch/per-step dicts such as the
            Trainer's JSON-lines log. Grouping rules: see :func:`training_series`.
        path: where to write the figure (``.png`` unless another suffix is given); None only
            returns it.
        title: figure title.
        x_label: x-axis label; defaults to the x key found (``"epoch"`` when none).
        logy: log-scale the y axis of loss-like panels (names containing ``loss``,
            ``perplexity``, ``ppl``, ``nll``, ``mse`` or ``error``) whose values are all positive.
        max_cols: panels per row.

    Returns:
        The figure (a matplotlib ``Figure``), saved to ``path`` when one is given.

    >>> fig = plot_training_curves({"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7],
    ...                             "lr": [0.01, 0.01, 0.01]})
    >>> [ax.get_title() for ax in fig.axes], fig.get_suptitle()
    (['loss'], 'Training curves  (lr 0.01 throughout)')
    """
    from matplotlib.ticker import MaxNLocator

    panels, x_key = training_series(history)
    label = x_label if x_label is not None else (x_key or "epoch")
    main: dict[str, Any] = {}
    strip: dict[str, Any] = {}
    notes = []
    for metric, curves in panels.items():
        name = metric.lower()
        if name in _RATE_KEYS:
            value = _constant(curves)
            if value is None:
                strip[metric] = curves
            else:
                notes.append(f"{metric} {value:.4g} throughout")
        elif "grad_norm" in name:
            strip[metric] = curves
        else:
            main[metric] = curves
    if not main:  # nothing but diagnostics: draw them full size
        main, strip = strip or dict(panels), {}
    n = len(main)
    cols = min(n, max(1, int(max_cols)))
    rows = math.ceil(n / cols)
    width = max(4.0 * cols, 3.2 * len(strip)) + 0.4
    integer_x = x_key in (None, "epoch") or all(
        np.all(x == np.round(x)) for curves in panels.values() for x, _ in curves.values()
    )
    with figure((width, 3.0 * rows + (1.7 if strip else 0.0) + 0.5)) as fig:
        grid = fig.add_gridspec(
            rows + bool(strip), 1, height_ratios=[1.0] * rows + ([0.5] if strip else [])
        )
        axes = []
        for r in range(rows):
            row = grid[r].subgridspec(1, cols)
            axes += [fig.add_subplot(row[0, c]) for c in range(cols) if r * cols + c < n]
        for ax, (metric, curves) in zip(axes, main.items()):
            loss_like = any(k in metric.lower() for k in _LOG_METRICS)
            _draw_panel(ax, metric, curves, logy and loss_like)
            ax.set_title(metric)
            ax.set_ylabel(metric)
            ax.legend(loc="best")
        if strip:
            row = grid[rows].subgridspec(1, len(strip))
            for c, (metric, curves) in enumerate(strip.items()):
                ax = fig.add_subplot(row[0, c])
                axes.append(ax)
                _draw_panel(
                    ax, metric, curves, "grad_norm" in metric.lower() and _spans_decades(curves)
                )
                ax.set_title(metric, fontsize=9)
                if len(curves) > 1:
                    ax.legend(loc="best")
        xs = np.concatenate([x for curves in panels.values() for x, _ in curves.values()])
        first, last = math.ceil(float(xs.min())), math.floor(float(xs.max()))
        for ax in axes:
            ax.set_xlabel(label)
            if integer_x and last - first < 8:  # few epochs: a tick at each
                ax.set_xticks(range(first, last + 1))
            elif integer_x:
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        fig.suptitle(f"{title}  ({'; '.join(notes)})" if notes else title)
        return finish(fig, path)


def plot_bar_table(
    names: Sequence[str],
    values: Sequence[float] | Mapping[str, Sequence[float]],
    path: PathLike | None = None,
    baseline: float | Sequence[float] | None = None,
    *,
    title: str = "Results",
    xlabel: str = "value",
    baseline_label: str = "baseline",
    fmt: str = "{:.3g}",
) -> MplFigure:
    """Horizontal bar chart of task results, each bar labelled with its value.

    Args:
        names: one name per row (task, model, benchmark case), drawn top to bottom.
        values: one value per name, or ``{series: values}`` for grouped bars (e.g. RNN, LSTM
            and GRU accuracy per task). NaN marks a missing result (drawn as ``n/a``).
        path: where to write the figure.
        baseline: a reference drawn as a dashed line (one number, e.g. chance accuracy) or one
            reference per name drawn as a black tick on each row (e.g. the PyTorch time).
        title, xlabel: figure title and value-axis label.
        baseline_label: legend entry of the baseline.
        fmt: format of the value labels.

    Returns:
        The figure (a matplotlib ``Figure``), saved to ``path`` when one is given.
    """
    fn = "plot_bar_table"
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(f"{fn} expected names as a sequence of strings, got {type(names).__name__}")
    labels = [str(n) for n in names]
    if not labels:
        raise ValueError(f"{fn} expected at least one name, got none")
    series = {str(k): v for k, v in values.items()} if isinstance(values, Mapping) else {"": values}
    if not series:
        raise ValueError(f"{fn} expected at least one series in values, got an empty mapping")
    arrays = {}
    for key, v in series.items():
        arr = as_array(v, f"values[{key!r}]" if key else "values", 1, fn)
        if arr.shape[0] != len(labels):
            raise ValueError(
                f"{fn} expected one value per name ({len(labels)}) in "
                f"{f'values[{key!r}]' if key else 'values'}, got {arr.shape[0]}"
            )
        arrays[key] = arr
    ref = None
    if baseline is not None:
        ref = as_array(baseline, "baseline", (0, 1), fn)
        if ref.ndim == 1 and ref.shape[0] != len(labels):
            raise ValueError(
                f"{fn} expected baseline as one number or one per name ({len(labels)}), "
                f"got {ref.shape[0]}"
            )
    k = len(arrays)
    height = 0.8 / k
    pos = np.arange(len(labels), dtype=np.float64)
    with figure((7.0, 1.0 + 0.32 * len(labels) * max(k, 1.5))) as fig:
        ax = fig.subplots()
        for j, (key, arr) in enumerate(arrays.items()):
            offset = (j - (k - 1) / 2) * height
            finite = np.isfinite(arr)
            bars = ax.barh(
                pos + offset,
                np.where(finite, arr, 0.0),
                height=height * 0.9,
                color=f"C{j}",
                label=key or None,
            )
            ax.bar_label(
                bars,
                labels=[fmt.format(v) if f else "n/a" for v, f in zip(arr, finite)],
                padding=3,
                fontsize=8,
            )
        if ref is not None and ref.ndim == 0:
            ax.axvline(
                float(ref),
                color="0.25",
                linestyle="--",
                linewidth=1.2,
                label=f"{baseline_label} = {fmt.format(float(ref))}",
            )
        elif ref is not None:
            ok = np.isfinite(ref)
            ax.plot(
                ref[ok],
                pos[ok],
                linestyle="none",
                marker="|",
                markersize=16,
                markeredgewidth=2.0,
                color="black",
                label=baseline_label,
            )
        ax.set_yticks(pos, labels)
        ax.invert_yaxis()
        ax.margins(x=0.18)
        ax.axvline(0.0, color="0.5", linewidth=0.8)
        ax.set_xlabel(xlabel)
        ax.set_title(title)
        ax.grid(True, axis="x")
        if k > 1 or ref is not None:
            ax.legend(loc="best")
        return finish(fig, path)
