"""convolve_continuous: the Gaussian and derivative identities within the documented error bound.

Every assertion compares an error with the bound stated in ``glassnet.signal.continuous``:
``(b - a) h^2 / 12 max|φ_x''|`` (+ truncation of f outside its support) for the trapezoid rule,
``(b - a) h^4 / 180 max|φ_x''''|`` for Simpson, and the 2-d product-rule analogue.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.integrate
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet.signal import convolve_continuous

SQRT2PI = math.sqrt(2 * math.pi)


def gauss(var):
    return lambda x: np.exp(-(x**2) / (2 * var)) / math.sqrt(2 * math.pi * var)


def hermite(k, u):
    """Probabilists' Hermite polynomial He_k: d^k/du^k N(u) = (-1)^k He_k(u) N(u)."""
    return [np.ones_like(u), u, u**2 - 1, u**3 - 3 * u, u**4 - 6 * u**2 + 3][k]


def std_normal_deriv(k):
    return lambda u: (-1) ** k * hermite(k, u) * np.exp(-(u**2) / 2) / SQRT2PI


def gaussian_trapezoid_bound(x, a, b, L, h):
    """Stated bound for N(0,a) truncated to [-L, L] convolved with N(0,b), at points x.

    φ_x(z) = N(z;0,a) N(x-z;0,b) = N(x;0,a+b) N(z; x a/(a+b), s) with s = ab/(a+b), and
    max|d²/dz² N(z; μ, s)| = 1 / (sqrt(2π) s^{3/2}) (at z = μ).
    """
    s = a * b / (a + b)
    sup_phi2 = gauss(a + b)(x) / (SQRT2PI * s**1.5)
    truncation = math.erfc(L / math.sqrt(2 * a)) / math.sqrt(2 * math.pi * b)
    return 2 * L * h**2 / 12 * sup_phi2 + truncation


@pytest.mark.parametrize(("a", "b", "h"), [(1.0, 0.5, 0.4), (0.3, 2.0, 0.2), (0.5, 0.5, 0.1)])
def test_gaussian_identity_1d_within_bound(a, b, h):
    L = 8 * math.sqrt(a)
    r = convolve_continuous(gauss(a), gauss(b), (-L, L), h, out_range=(-5, 5))
    assert r.h[0] <= h
    err = np.abs(r.values - gauss(a + b)(r.x))
    bound = gaussian_trapezoid_bound(r.x, a, b, L, r.h[0])
    assert np.all(err <= bound + 1e-14)


def test_gaussian_identity_truncation_term_is_needed():
    """Cut the support at 1.5 sigma: the error is dominated by, and within, the truncation term."""
    a, b, h = 1.0, 1.0, 0.05
    L = 1.5
    r = convolve_continuous(gauss(a), gauss(b), (-L, L), h, out_range=(-2, 2))
    err = np.abs(r.values - gauss(a + b)(r.x))
    bound = gaussian_trapezoid_bound(r.x, a, b, L, r.h[0])
    quadrature_only = bound - math.erfc(L / math.sqrt(2 * a)) / math.sqrt(2 * math.pi * b)
    assert np.all(err <= bound)
    assert err.max() > 10 * quadrature_only.max()


def _sin_gauss_reference(xs, g=None):
    """∫_0^π sin(z) g(x - z) dz, g = N(0, 1) by default, by adaptive quadrature (independent)."""
    g = gauss(1.0) if g is None else g
    return np.array(
        [
            scipy.integrate.quad(lambda z, x=x: math.sin(z) * g(x - z), 0, math.pi, epsabs=1e-14)[0]
            for x in xs
        ]
    )


def _sup_phi_deriv(xs, m, j=0):
    """max over z in [0, π] of |d^m/dz^m sin(z) N^(j)(x - z)| per x (Leibniz rule, fine grid)."""
    z = np.linspace(0, math.pi, 4001)[None, :]
    u = np.asarray(xs)[:, None] - z
    total = np.zeros(u.shape)
    for k in range(m + 1):
        # d^k/dz^k N^(j)(x - z) = (-1)^k N^(j+k)(u) = (-1)^j He_{j+k}(u) N(u)
        total += (
            math.comb(m, k) * np.sin(z + (m - k) * math.pi / 2) * hermite(j + k, u) * gauss(1.0)(u)
        )
    # the fine grid misses the true max by at most (π/4000) max|φ^{(m+1)}| < 1e-3 here
    return np.abs(total).max(axis=1) + 1e-3


@pytest.mark.parametrize("rule", ["trapezoid", "simpson"])
def test_compact_support_error_bound_and_order(rule):
    """f = sin on [0, π] (zero outside, kinks at the ends), g = N(0, 1): bound and its order."""
    errs = []
    for h in (0.2, 0.1):
        r = convolve_continuous(np.sin, gauss(1.0), (0, math.pi), h, out_range=(-2, 5), rule=rule)
        err = np.abs(r.values - _sin_gauss_reference(r.x))
        hh = r.h[0]
        if rule == "trapezoid":
            bound = math.pi * hh**2 / 12 * _sup_phi_deriv(r.x, 2)
        else:
            bound = math.pi * hh**4 / 180 * _sup_phi_deriv(r.x, 4)
        assert np.all(err <= bound + 1e-13)
        errs.append(err.max())
    order = 2 if rule == "trapezoid" else 4
    assert 2 ** (order - 0.5) < errs[0] / errs[1] < 2 ** (order + 0.5)


def test_derivative_identity():
    """d/dx (f*g) = f*g': central differences of f*g against f*g', within h^2/6 max|y'''|."""
    h = 0.05
    kw = {"out_range": (-3, 6)}
    fg = convolve_continuous(np.sin, gauss(1.0), (0, math.pi), h, **kw)
    fg1 = convolve_continuous(np.sin, std_normal_deriv(1), (0, math.pi), h, **kw)
    hh = fg.h[0]
    central = (fg.values[2:] - fg.values[:-2]) / (2 * hh)
    # y''' = sum_i w_i f(z_i) g'''(x - z_i), so |y'''| <= (sum_i w_i |f(z_i)|) max|g'''|
    u = np.linspace(-10, 10, 200001)
    max_g3 = np.abs(std_normal_deriv(3)(u)).max() * 1.0001
    weights_f = convolve_continuous(
        np.sin, lambda x: np.ones_like(x), (0, math.pi), h, out_range=(0, 0)
    )
    bound = hh**2 / 6 * float(weights_f.values[0]) * max_g3
    assert np.abs(central - fg1.values[1:-1]).max() <= bound
    # and f*g' itself is within the trapezoid bound of the exact (f*g)' = f*g'
    xs = fg1.x[::10]
    exact = _sin_gauss_reference(xs, std_normal_deriv(1))
    bound_1 = math.pi * hh**2 / 12 * _sup_phi_deriv(xs, 2, j=1)
    assert np.all(np.abs(fg1.values[::10] - exact) <= bound_1 + 1e-13)


def test_gaussian_identity_2d_within_bound():
    a, b, h = 0.5, 0.8, 0.25
    L = 7 * math.sqrt(a)

    def f(x, y):
        return gauss(a)(x) * gauss(a)(y)

    def g(x, y):
        return gauss(b)(x) * gauss(b)(y)

    r = convolve_continuous(f, g, ((-L, L), (-L, L)), h, out_range=((-3, 3), (-2, 2)))
    x, y = np.meshgrid(*r.grid, indexing="ij")
    err = np.abs(r.values - gauss(a + b)(x) * gauss(a + b)(y))
    # φ = φ1(z1) φ2(z2), each a scaled Gaussian in z: max|∂²_{z1} φ| <= max|φ1''| max φ2
    s = a * b / (a + b)
    sup_11 = gauss(a + b)(x) / (SQRT2PI * s**1.5) * gauss(a + b)(y) / math.sqrt(2 * math.pi * s)
    sup_22 = gauss(a + b)(y) / (SQRT2PI * s**1.5) * gauss(a + b)(x) / math.sqrt(2 * math.pi * s)
    h1, h2 = r.h
    inside = (1 - math.erfc(L / math.sqrt(2 * a))) ** 2
    bound = (2 * L) ** 2 * (h1**2 * sup_11 + h2**2 * sup_22) / 12 + (1 - inside) / (2 * math.pi * b)
    assert np.all(err <= bound + 1e-14)
    # the callable interpolates bilinearly: extra error <= (h1^2 max|∂11| + h2^2 max|∂22|) / 8
    pts = np.random.default_rng(0).uniform([-3, -2], [3, 2], (200, 2))
    got = r(pts[:, 0], pts[:, 1])
    exact = gauss(a + b)(pts[:, 0]) * gauss(a + b)(pts[:, 1])
    curv = 1 / (SQRT2PI * (a + b) ** 1.5) / math.sqrt(2 * math.pi * (a + b))
    assert np.abs(got - exact).max() <= bound.max() + (h1**2 + h2**2) * curv / 8


def test_callable_hits_grid_values_and_interpolates_1d():
    r = convolve_continuous(gauss(1.0), gauss(1.0), (-8, 8), 0.1, support_g=(-8, 8))
    assert r.x[0] == pytest.approx(-16) and r.x[-1] >= 16 - 1e-9
    np.testing.assert_allclose(r(r.x[5:50]), r.values[5:50], rtol=1e-12, atol=1e-15)
    mid = (r.x[10:20] + r.x[11:21]) / 2
    np.testing.assert_allclose(r(mid), (r.values[10:20] + r.values[11:21]) / 2, rtol=1e-12)


def test_linear_integrand_is_exact():
    box = np.ones_like
    r = convolve_continuous(box, lambda x: 3 * x + 1, (0, 2), 0.5, out_range=(-1, 1))
    np.testing.assert_allclose(r.values, 3 * (r.x - 1) * 2 + 2, atol=1e-13)  # ∫_0^2 3(x-z)+1 dz


@pytest.mark.parametrize(
    ("kw", "exc", "match"),
    [
        ({"rule": "midpoint", "out_range": (0, 1)}, ValueError, "rule"),
        ({}, ValueError, "out_range or support_g"),
        ({"out_range": (1, 0)}, ValueError, "lo <= hi"),
        ({"out_range": ((0, 1), (0, 1))}, ValueError, "out_range"),
        ({"out_range": (0, 1), "support_override": ((1, 0))}, ValueError, "lo < hi"),
        ({"out_range": (0, 1), "h": -1.0}, ValueError, "positive step"),
        ({"out_range": (0, 1), "h": (0.1, 0.1)}, ValueError, "one step or 1"),
    ],
)
def test_clear_errors(kw, exc, match):
    support = kw.pop("support_override", (0, 1))
    h = kw.pop("h", 0.1)
    with pytest.raises(exc, match=match):
        convolve_continuous(np.sin, np.cos, support, h, **kw)


def test_bad_callables_and_points():
    with pytest.raises(TypeError, match="callables"):
        convolve_continuous(1.0, np.cos, (0, 1), 0.1, out_range=(0, 1))
    with pytest.raises(ValueError, match="one value per point"):
        convolve_continuous(lambda x: np.ones(3), np.cos, (0, 1), 0.1, out_range=(0, 1))
    r = convolve_continuous(np.sin, np.cos, (0, 1), 0.1, out_range=(0, 1))
    with pytest.raises(ValueError, match="must lie in the grid"):
        r(2.0)
    with pytest.raises(TypeError, match="coordinate arrays"):
        r(0.1, 0.2)


def _exact_bump_convolution(xs):
    """[f*g](x) for the two polynomial bumps of glassnet.experiments.claims: the integral over
    the overlap of the supports of a polynomial of degree 21 in z, by 16-point Gauss-Legendre
    quadrature (exact for degree <= 31; an independent rule)."""
    from glassnet.experiments.claims import BUMPS

    (pf, (af, bf)), (pg, (ag, bg)) = BUMPS["f"], BUMPS["g"]
    xs = np.asarray(xs)[:, None]
    lo, hi = np.maximum(af, xs - bg), np.minimum(bf, xs - ag)  # z in supp f, x - z in supp g
    nodes, weights = np.polynomial.legendre.leggauss(16)
    z = (lo + hi) / 2 + (hi - lo) / 2 * nodes  # (K, 16)
    values = ((hi - lo) / 2 * weights * pf(z) * pg(xs - z)).sum(axis=1)
    return np.where((hi > lo)[:, 0], values, 0.0)


@settings(max_examples=10, deadline=None)
@given(h=st.floats(0.02, 0.2), rule=st.sampled_from(["trapezoid", "simpson"]))
def test_continuous_convolution_commutes_within_bound(h, rule):
    """f*g and g*f are different quadratures (each over its first factor's support); each lies
    within the stated bound of the exact convolution, so |f*g - g*f| is within their sum."""
    from glassnet.experiments.claims import continuous_commutativity

    c = continuous_commutativity(h, rule)
    exact = _exact_bump_convolution(c["x"])
    assert np.abs(exact).max() > 0.3  # the grid covers the convolution (unit areas)
    assert np.all(np.abs(c["fg"] - exact) <= c["bound_fg"] + 1e-15)
    assert np.all(np.abs(c["gf"] - exact) <= c["bound_gf"] + 1e-15)
    assert np.all(np.abs(c["fg"] - c["gf"]) <= c["bound_fg"] + c["bound_gf"] + 1e-15)
    if rule == "simpson":  # Simpson's weights differ between the two lattices: not the same sum
        assert np.abs(c["fg"] - c["gf"]).max() > 0
