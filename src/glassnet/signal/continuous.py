r"""Numerical convolution of functions on R^1 and R^2: ``[f*g](x) = ∫ f(z) g(x - z) dz``.

The integral over ``z`` is taken over the support ``[a, b]`` of ``f`` (a rectangle in 2-d) with a
composite quadrature rule on a uniform grid ``z_i = a + i h``:

.. math::  y(x) = \sum_i w_i f(z_i) g(x - z_i),
           \quad w = h (1/2, 1, \dots, 1, 1/2) \ \text{(trapezoid)}
           \quad\text{or}\quad w = \tfrac{h}{3} (1, 4, 2, \dots, 4, 1) \ \text{(Simpson)}.

On an output grid with the same step, ``x_k = lo + k h``, the points ``x_k - z_i`` fall on one
lattice, so ``g`` is sampled once and every ``y(x_k)`` comes out of a single discrete ``valid``
convolution of the weighted samples of ``f`` with the samples of ``g``
(``glassnet.signal.convolve``). ``g`` is never truncated: it is evaluated wherever it is needed.

Error bound (1-d). Let ``φ_x(z) = f(z) g(x - z)``. If ``φ_x`` is C² on ``[a, b]`` (f smooth on
its support, g smooth on ``[x - b, x - a]``; f may jump to 0 at ``a`` and ``b``), then at every
grid point

.. math::  |y(x) - [f*g](x)| \le \frac{(b - a) h^2}{12} \max_{z \in [a, b]} |φ_x''(z)|
           + \Big| \int_{\mathbb{R} \setminus [a, b]} f(z) g(x - z)\, dz \Big|,

the classical composite-trapezoid error plus the truncation of ``f`` outside its given support
(zero when ``f`` vanishes there, at most ``max|g| ∫_{outside} |f|`` otherwise). With
``rule="simpson"`` (φ_x in C⁴) the first term is ``(b - a) h^4 / 180 max |φ_x''''|``. In 2-d, on
the rectangle ``R = [a_1, b_1] x [a_2, b_2]`` with area ``|R|``, the product trapezoid rule gives
``|R| (h_1^2 max|∂²φ/∂z_1²| + h_2^2 max|∂²φ/∂z_2²|) / 12`` plus the truncation term (Simpson:
``h^4/180`` and fourth derivatives). The rounding error of the discrete convolution (direct or
FFT) is ~1e-16 relative and negligible against these terms.

Between grid points the returned callable interpolates linearly (bilinearly in 2-d), which adds
at most ``h^2/8 max|(f*g)''|`` (2-d: ``(h_1^2 max|∂_{11}| + h_2^2 max|∂_{22}|) / 8``).

Because ``y`` is the same finite sum for every ``x``, it commutes with differentiation exactly:
``d/dx y[f, g] = y[f, g']``, the discrete form of ``(f*g)' = f * g'``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .discrete import convolve

_RULES = ("trapezoid", "simpson")


@dataclass(frozen=True)
class ContinuousConvolution:
    """Values of ``f*g`` on a uniform grid, callable to interpolate between grid points.

    Attributes:
        grid: one 1-d array of coordinates per axis (``grid[0]`` in 1-d).
        values: ``f*g`` at the grid points, shape ``(K,)`` or ``(K_1, K_2)``.
        h: the quadrature and grid step used per axis (at most the requested step).
        rule: ``"trapezoid"`` or ``"simpson"``.
    """

    grid: tuple[np.ndarray, ...]
    values: np.ndarray
    h: tuple[float, ...]
    rule: str

    @property
    def x(self) -> np.ndarray:
        """The grid coordinates of a 1-d result."""
        if len(self.grid) != 1:
            raise AttributeError("x is defined for 1-d results; use grid for 2-d")
        return self.grid[0]

    def __call__(self, *points: Any) -> np.ndarray:
        """Interpolate (linearly per axis) at ``points``: ``r(x)`` in 1-d, ``r(x, y)`` in 2-d.

        Points must lie within the grid; the arrays broadcast against each other.
        """
        d = len(self.grid)
        if len(points) != d:
            raise TypeError(
                f"a {d}-d ContinuousConvolution takes {d} coordinate arrays, got {len(points)}"
            )
        coords = np.broadcast_arrays(*(np.asarray(p, dtype=np.float64) for p in points))
        lo_idx, frac = [], []
        for axis, (c, ax, h) in enumerate(zip(coords, self.grid, self.h)):
            if c.size and (c.min() < ax[0] - 1e-12 * h or c.max() > ax[-1] + 1e-12 * h):
                raise ValueError(
                    f"points on axis {axis} must lie in the grid [{ax[0]}, {ax[-1]}], got values "
                    f"in [{c.min()}, {c.max()}]"
                )
            t = (c - ax[0]) / h  # fractional grid index
            i = np.clip(np.floor(t).astype(np.int64), 0, max(len(ax) - 2, 0))
            lo_idx.append(i)
            frac.append(np.clip(t - i, 0.0, 1.0) if len(ax) > 1 else np.zeros_like(t))
        out = np.zeros(coords[0].shape)
        for corner in np.ndindex(*(2,) * d):  # the 2 (1-d) or 4 (2-d) neighbouring grid points
            weight = np.ones(coords[0].shape)
            index = []
            for c, i, u, ax in zip(corner, lo_idx, frac, self.grid):
                weight = weight * (u if c else 1.0 - u)
                index.append(np.minimum(i + c, len(ax) - 1))
            out += weight * self.values[tuple(index)]
        return out


def _intervals(lo: float, hi: float, h: float, rule: str, what: str) -> tuple[int, float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        raise ValueError(
            f"convolve_continuous expected {what} (lo, hi) with lo < hi, got ({lo}, {hi})"
        )
    n = max(math.ceil((hi - lo) / h - 1e-9), 1)
    if rule == "simpson" and n % 2:
        n += 1
    return n, (hi - lo) / n


def _weights(n: int, h: float, rule: str) -> np.ndarray:
    """Quadrature weights for n intervals of width h (n + 1 nodes)."""
    if rule == "trapezoid":
        w = np.full(n + 1, h)
        w[[0, -1]] = h / 2
        return w
    w = np.full(n + 1, 2 * h / 3)
    w[1::2] = 4 * h / 3
    w[[0, -1]] = h / 3
    return w


def _pairs(value: Any, dim: int | None, name: str) -> list[tuple[float, float]]:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape == (2,) and dim in (None, 1):
        return [(float(arr[0]), float(arr[1]))]
    if arr.shape == (2, 2) and dim in (None, 2):
        return [(float(arr[0, 0]), float(arr[0, 1])), (float(arr[1, 0]), float(arr[1, 1]))]
    want = (
        "(lo, hi)"
        if dim == 1
        else "((lo1, hi1), (lo2, hi2))"
        if dim == 2
        else ("(lo, hi) or ((lo1, hi1), (lo2, hi2))")
    )
    raise ValueError(f"convolve_continuous expected {name} of the form {want}, got {value!r}")


def _sample(fn: Callable[..., Any], axes: Sequence[np.ndarray], name: str) -> np.ndarray:
    mesh = np.meshgrid(*axes, indexing="ij")
    vals = np.asarray(fn(*mesh), dtype=np.float64)
    shape = mesh[0].shape
    try:
        return np.broadcast_to(vals, shape)
    except ValueError:
        raise ValueError(
            f"convolve_continuous: {name} must return one value per point (shape {shape}), "
            f"got shape {vals.shape}"
        ) from None


def convolve_continuous(
    f: Callable[..., Any],
    g: Callable[..., Any],
    support: Sequence[Any],
    h: float | Sequence[float],
    *,
    support_g: Sequence[Any] | None = None,
    out_range: Sequence[Any] | None = None,
    rule: str = "trapezoid",
) -> ContinuousConvolution:
    """Numerically convolve two functions of R^1 or R^2 on a uniform grid.

    ``f`` is integrated over its ``support`` with the composite ``rule``; ``g`` is evaluated
    wherever needed. See the module docstring for the error bound and its assumptions.

    Args:
        f, g: vectorised functions, ``f(x)`` in 1-d or ``f(x, y)`` in 2-d, taking arrays of
            coordinates and returning one value per point.
        support: ``(a, b)`` (1-d) or ``((a1, b1), (a2, b2))`` (2-d) outside which ``f`` is zero
            (or negligible: the truncation term of the bound).
        h: requested step (one per axis in 2-d); the step used is ``(b - a) / n`` with
            ``n = ceil((b - a) / h)`` intervals (made even for Simpson), so never larger.
        support_g: the support of ``g``; when given (and ``out_range`` is not), the output grid
            covers the support of ``f*g``, ``[a + a_g, b + b_g]``.
        out_range: ``(lo, hi)`` (per axis in 2-d) for the output grid ``lo + k h``,
            ``k = 0 .. ceil((hi - lo) / h)``.
        rule: ``"trapezoid"`` (O(h^2)) or ``"simpson"`` (O(h^4)).

    Returns:
        A ``ContinuousConvolution`` with ``grid``, ``values``, ``h`` and interpolating ``__call__``.

    >>> import numpy as np
    >>> box = lambda x: np.ones_like(x)                 # 1 on [0, 1]
    >>> r = convolve_continuous(box, lambda x: x, (0, 1), 0.25, out_range=(0, 1))
    >>> r.values  # ∫_0^1 (x - z) dz = x - 1/2, exact for the trapezoid rule (linear integrand)
    array([-0.5 , -0.25,  0.  ,  0.25,  0.5 ])
    """
    if rule not in _RULES:
        raise ValueError(f"convolve_continuous expected rule in {_RULES}, got {rule!r}")
    if not callable(f) or not callable(g):
        raise TypeError("convolve_continuous expected callables f and g")
    sup = _pairs(support, None, "support")
    dim = len(sup)
    if np.ndim(h) > 1 or (np.ndim(h) == 1 and np.size(h) != dim):
        raise ValueError(f"convolve_continuous expected h as one step or {dim} steps, got {h!r}")
    steps = [float(v) for v in np.broadcast_to(np.asarray(h, dtype=np.float64), (dim,))]
    if not all(math.isfinite(s) and s > 0 for s in steps):
        raise ValueError(f"convolve_continuous expected a positive step h, got {h!r}")
    if out_range is not None:
        rng = _pairs(out_range, dim, "out_range")
    elif support_g is not None:
        sg = _pairs(support_g, dim, "support_g")
        rng = [(a + ag, b + bg) for (a, b), (ag, bg) in zip(sup, sg)]
    else:
        raise ValueError(
            "convolve_continuous needs out_range or support_g to place the output grid"
        )

    z_axes, w_axes, g_axes, out_axes, used = [], [], [], [], []
    for (a, b), step, (lo, hi) in zip(sup, steps, rng):
        n, hd = _intervals(a, b, step, rule, "support")
        if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
            raise ValueError(
                f"convolve_continuous expected an output range lo <= hi, got ({lo}, {hi})"
            )
        k = math.ceil((hi - lo) / hd - 1e-9) + 1  # output points
        z_axes.append(a + hd * np.arange(n + 1))  # quadrature nodes of f
        w_axes.append(_weights(n, hd, rule))
        # x_k - z_i = (lo - a) + (k - i) h for k - i in [-n, K - 1]: one lattice for g
        g_axes.append(lo - a + hd * np.arange(-n, k))
        out_axes.append(lo + hd * np.arange(k))
        used.append(hd)

    weights = w_axes[0] if dim == 1 else np.multiply.outer(w_axes[0], w_axes[1])
    wf = weights * _sample(f, z_axes, "f")  # (n + 1,) or (n1 + 1, n2 + 1)
    gs = _sample(g, g_axes, "g")  # (K + n,) or (K1 + n1, K2 + n2)
    values = convolve(wf, gs, mode="valid")  # (K,) or (K1, K2)
    return ContinuousConvolution(tuple(out_axes), values, tuple(used), rule)
