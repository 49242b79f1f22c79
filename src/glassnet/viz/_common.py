"""Shared plumbing for the figure functions: a display-free figure, house style, atomic save.

Figures are built with ``matplotlib.figure.Figure`` and rendered by the Agg canvas directly, never
through ``pyplot``: nothing is registered in pyplot's global figure list (so there is nothing to
close and nothing leaks across calls), no GUI backend is ever selected, and the user's own
``matplotlib.use(...)`` choice is left alone.

Every figure function returns the figure (:func:`figure_class`: a matplotlib ``Figure`` that
shows itself inline in Jupyter) and saves it when given a path; the figure then remembers the
path and is path-like (``os.fspath(fig)`` is the file), so code written when the functions
returned the path keeps working.
"""

from __future__ import annotations

import functools
import io
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._atomic import atomic_write_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure
else:
    MplFigure = Any  # what the figure functions return: see figure_class()

DPI = 100

PathLike = str | os.PathLike[str]

# A quiet, readable house style applied only while a glassnet figure is drawn (rc_context).
_STYLE: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.grid": False,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "image.interpolation": "nearest",
}


# What a saved figure answers about its file (matplotlib's Figure has none of these names).
_PATH_ATTRIBUTES = frozenset(
    {"name", "stem", "suffix", "parent", "exists", "is_file", "stat", "read_bytes"}
    | {"with_suffix", "relative_to", "resolve", "absolute", "as_posix", "open", "unlink"}
)


@functools.cache
def figure_class() -> type:
    """The class of the figures glassnet returns (matplotlib is imported on first use).

    A ``matplotlib.figure.Figure`` with a ``path`` attribute (where it was saved, or None); when
    saved it is ``os.PathLike``. ``_repr_png_`` shows it inline in Jupyter, drawn in the house
    style, without pyplot.
    """
    from matplotlib.figure import Figure as MplFigure

    class Figure(MplFigure):
        """A matplotlib Figure that remembers where it was saved (``path``; None if not).

        A saved figure also answers the common ``Path`` questions (``name``, ``exists()``,
        ``read_bytes()``, ...) about its file, as the path these functions used to return did.
        """

        path: Path | None = None

        def __getattr__(self, name: str) -> Any:  # only for what a Figure does not have
            saved = self.__dict__.get("path")
            if name in _PATH_ATTRIBUTES and saved is not None:
                return getattr(saved, name)
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

        def __fspath__(self) -> str:
            if self.path is None:
                raise TypeError(
                    "this figure was not saved: pass path= to the plot function, or call "
                    "fig.savefig(...)"
                )
            return str(self.path)

        def _repr_png_(self) -> bytes:
            return render(self, "png")

    Figure.__module__, Figure.__qualname__ = "glassnet.viz", "Figure"
    return Figure


def render(fig: Any, fmt: str = "png") -> bytes:
    """The figure as image bytes, drawn in the house style."""
    import matplotlib as mpl

    buf = io.BytesIO()
    with mpl.rc_context(_STYLE), np.errstate(all="ignore"):  # type: ignore[arg-type]
        fig.savefig(buf, format=fmt, dpi=DPI)
    return buf.getvalue()


def finish(fig: Any, path: PathLike | None) -> Any:
    """Save ``fig`` to ``path`` when one is given (see ``save``); return the figure."""
    if path is not None:
        fig.path = save(fig, path)
    return fig


@contextmanager
def figure(figsize: tuple[float, float], *, constrained: bool = True) -> Iterator[Any]:
    """Yield a fresh ``Figure`` (Agg canvas, house style); nothing global is touched.

    Floating-point error handling is reset to NumPy's defaults inside, so a caller running under
    ``np.errstate(all="raise")`` cannot make matplotlib's own arithmetic (e.g. on masked or
    constant data) fail half-way through a figure.
    """
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    with mpl.rc_context(_STYLE), np.errstate(all="ignore"):  # type: ignore[arg-type]
        fig = figure_class()(
            figsize=figsize, dpi=DPI, layout="constrained" if constrained else None
        )
        FigureCanvasAgg(fig)
        yield fig


def save(fig: Any, path: PathLike) -> Path:
    """Render ``fig`` and write it atomically to ``path``; return the path written.

    The format follows the suffix (``.png`` by default, added when ``path`` has none); the parent
    directory is created if needed. A crash mid-save leaves any previous file intact.
    """
    target = Path(path)
    if target.suffix == "":
        target = target.with_suffix(".png")
    fmt = target.suffix[1:].lower()
    supported = fig.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ValueError(
            f"path must end in one of {sorted('.' + k for k in supported)}, got {str(path)!r}"
        )
    return atomic_write_bytes(target, render(fig, fmt))


def as_array(value: Any, name: str, ndim: int | Sequence[int], fn: str) -> np.ndarray:
    """``value`` as a float64 array with one of the allowed ``ndim``; clear error otherwise."""
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):  # glassnet/torch tensors
        value = value.detach().numpy() if hasattr(value, "detach") else value.numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{fn} expected {name} as a numeric array, got {type(value).__name__}"
        ) from None
    if arr.ndim not in allowed:
        dims = " or ".join(f"{d}-d" for d in allowed)
        raise ValueError(f"{fn} expected {name} as a {dims} array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{fn} expected a non-empty {name}, got shape {arr.shape}")
    return arr


def xy_pairs(
    curves: Any, name: str, fn: str, default_x: np.ndarray | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Normalise one curve or a ``{label: curve}`` mapping into ``{label: (x, y)}``.

    A curve is a 1-d array ``y`` (plotted against ``default_x``, or ``0..len-1``) or an
    ``(x, y)`` pair of equal-length 1-d arrays.
    """
    items = curves.items() if isinstance(curves, Mapping) else [("", curves)]
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for label, curve in items:
        what = f"{name}[{label!r}]" if label else name
        if isinstance(curve, tuple) and len(curve) == 2:
            x = as_array(curve[0], f"{what} x", 1, fn)
            y = as_array(curve[1], f"{what} y", 1, fn)
            if x.shape != y.shape:
                raise ValueError(
                    f"{fn} expected {what} as an (x, y) pair of equal length, got {x.shape} "
                    f"and {y.shape}"
                )
        else:
            y = as_array(curve, what, 1, fn)
            if default_x is None:
                x = np.arange(y.shape[0], dtype=np.float64)
            elif default_x.shape != y.shape:
                raise ValueError(
                    f"{fn} expected {what} of length {default_x.shape[0]} (one value per t; NaN "
                    f"where absent) or an (x, y) pair, got shape {y.shape}"
                )
            else:
                x = default_x
        out[str(label)] = (x, y)
    if not out:
        raise ValueError(f"{fn} expected at least one curve in {name}, got none")
    return out


def grid_shape(n: int, max_cols: int = 8) -> tuple[int, int]:
    """Rows and columns of a near-square grid for ``n`` tiles (at most ``max_cols`` wide).

    >>> grid_shape(16), grid_shape(6), grid_shape(40)
    ((4, 4), (2, 3), (6, 7))
    """
    cols = min(max_cols, max(1, math.ceil(math.sqrt(n))))
    return math.ceil(n / cols), cols


def check_positive_int(value: Any, name: str, fn: str) -> int:
    """``value`` as a positive int, or a clear error."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{fn} expected {name} as a positive integer, got {value!r}")
    return int(value)
