"""Pooling kernels against the plainest loops: every window reduced one position at a time."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from glassnet.kernels.pooling import (
    pool_output_size,
    spatial_windows,
    spread_window_sums,
    window_reduce,
    winner_index,
)


@st.composite
def geometry(draw):
    """Windows PyTorch accepts (padding <= k // 2), any stride, dilation and ceil_mode."""
    d = draw(st.integers(1, 3))
    k = tuple(draw(st.integers(1, 4 - (d == 3))) for _ in range(d))
    s = tuple(draw(st.integers(1, 3)) for _ in range(d))
    p = tuple(draw(st.integers(0, ki // 2)) for ki in k)
    dl = tuple(draw(st.integers(1, 2)) for _ in range(d))
    size = tuple(
        di * (ki - 1) + 1 - 2 * pi + draw(st.integers(0, 4)) for ki, di, pi in zip(k, dl, p)
    )
    size = tuple(max(n, di) for n, di in zip(size, dl))  # every window touches the input
    ceil = draw(st.booleans())
    out = tuple(pool_output_size(*g, ceil) for g in zip(size, k, s, p, dl))
    seed = draw(st.integers(0, 2**16))
    return (2, 3, *size), out, k, s, p, dl, seed


def _naive(x, out, k, s, p, dl, reduce):
    """Window by window: the inputs ``o s - p + j d`` inside the input, reduced."""
    y = np.zeros(x.shape[:2] + out)
    for o in itertools.product(*(range(n) for n in out)):
        idx = [
            [i for j in range(ki) if 0 <= (i := oi * si - pi + j * di) < n]
            for oi, ki, si, pi, di, n in zip(o, k, s, p, dl, x.shape[2:])
        ]
        window = x[(slice(None), slice(None), *np.ix_(*idx))].reshape(x.shape[:2] + (-1,))
        y[(slice(None), slice(None), *o)] = reduce(window, axis=-1)
    return y


@given(g=geometry())
def test_window_reduce_sums_and_maxima_match_window_loops(g):
    shape, out, k, s, p, dl, seed = g
    x = np.random.default_rng(seed).standard_normal(shape)
    wins = spatial_windows(shape, out, k, s, p, dl)
    np.testing.assert_allclose(window_reduce(x, wins, np.add), _naive(x, out, k, s, p, dl, np.sum))
    assert np.array_equal(window_reduce(x, wins, np.maximum), _naive(x, out, k, s, p, dl, np.max))


@given(g=geometry())
def test_spread_window_sums_is_the_adjoint_of_the_window_sums(g):
    """<A x, g> == <x, A^T g> for random x and g: the backward is the forward's transpose."""
    shape, out, k, s, p, dl, seed = g
    r = np.random.default_rng(seed)
    x, gy = r.standard_normal(shape), r.standard_normal(shape[:2] + out)
    wins = spatial_windows(shape, out, k, s, p, dl)
    lhs = np.vdot(window_reduce(x, wins, np.add), gy)
    rhs = np.vdot(x, spread_window_sums(gy, wins))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)


@given(g=geometry())
def test_winner_index_points_at_the_tap(g):
    """Tap ``t`` (row-major in the window) of output ``o`` is input ``o s - p + t d``."""
    shape, out, k, s, p, dl, seed = g
    wins = spatial_windows(shape, out, k, s, p, dl)
    r = np.random.default_rng(seed)
    arg = r.integers(0, int(np.prod(k)), shape[:2] + out).astype(np.uint8)
    flat = winner_index(arg, wins)
    taps = np.unravel_index(arg, k)
    for o in itertools.product(*(range(n) for n in out)):
        coord = [
            oi * si - pi + taps[a][(0, 0, *o)] * di
            for a, (oi, si, pi, di) in enumerate(zip(o, s, p, dl))
        ]
        if all(0 <= c < n for c, n in zip(coord, shape[2:])):  # inside: the index of it
            assert flat[(0, 0, *o)] == np.ravel_multi_index(coord, shape[2:])
