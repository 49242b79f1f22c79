"""glassnet.signal.convolve/correlate against scipy.signal and numpy, and the algebra they obey."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.signal
from hypothesis import given
from hypothesis import strategies as st

from glassnet.signal import convolve, correlate

MODES = ("full", "same", "valid")


@st.composite
def pair(draw, min_dims=1, max_dims=3, valid_ok=False):
    """Two arrays of one rank; with ``valid_ok`` one is at least as large in every axis."""
    d = draw(st.integers(min_dims, max_dims))
    sf = draw(st.lists(st.integers(1, 7), min_size=d, max_size=d))
    sg = draw(st.lists(st.integers(1, 7), min_size=d, max_size=d))
    if valid_ok:
        big, small = [max(a, b) for a, b in zip(sf, sg)], [min(a, b) for a, b in zip(sf, sg)]
        sf, sg = (big, small) if draw(st.booleans()) else (small, big)
    seed = draw(st.integers(0, 2**16))
    r = np.random.default_rng(seed)
    return r.standard_normal(sf), r.standard_normal(sg)


@given(fg=pair(valid_ok=True), method=st.sampled_from(["direct", "fft", "auto"]))
def test_matches_scipy_every_mode(fg, method):
    f, g = fg
    for mode in MODES:
        np.testing.assert_allclose(
            convolve(f, g, mode, method), scipy.signal.convolve(f, g, mode), rtol=1e-10, atol=1e-12
        )
        np.testing.assert_allclose(
            correlate(f, g, mode, method),
            scipy.signal.correlate(f, g, mode),
            rtol=1e-10,
            atol=1e-12,
        )


@given(fg=pair(min_dims=1, max_dims=1))
def test_matches_numpy_1d(fg):
    f, g = fg
    for mode in MODES:
        # numpy's 'same' has length max(M, N): it is ours with the longer operand first
        a, b = (f, g) if mode != "same" or len(f) >= len(g) else (g, f)
        np.testing.assert_allclose(convolve(a, b, mode), np.convolve(f, g, mode), atol=1e-12)
        if mode != "same" or len(f) >= len(g):
            np.testing.assert_allclose(correlate(f, g, mode), np.correlate(f, g, mode), atol=1e-12)


@given(fg=pair(valid_ok=True))
def test_convolution_is_commutative(fg):
    f, g = fg
    for mode in ("full", "valid"):
        np.testing.assert_allclose(convolve(f, g, mode), convolve(g, f, mode), atol=1e-12)


@given(fg=pair(max_dims=2))
def test_correlation_is_convolution_with_flipped_kernel_and_reverses_on_swap(fg):
    f, g = fg
    flip = (slice(None, None, -1),) * g.ndim
    np.testing.assert_allclose(correlate(f, g), convolve(f, g[flip]), atol=1e-12)
    np.testing.assert_allclose(correlate(g, f), correlate(f, g)[flip], atol=1e-12)


def test_definition_by_naive_loop_2d():
    r = np.random.default_rng(1)
    f, g = r.integers(-5, 5, (4, 5)), r.integers(-5, 5, (3, 2))
    full = np.zeros((6, 6), np.int64)
    for i, j in itertools.product(range(6), range(6)):  # [f*g](i) = sum_a f(a) g(i - a)
        for a, b in itertools.product(range(4), range(5)):
            if 0 <= i - a < 3 and 0 <= j - b < 2:
                full[i, j] += f[a, b] * g[i - a, j - b]
    out = convolve(f, g)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, full)
    np.testing.assert_array_equal(convolve(f, g, "valid"), full[2:4, 1:5])
    np.testing.assert_array_equal(convolve(f, g, "same"), full[1:5, 0:5])


def test_complex_and_integer_dtypes():
    r = np.random.default_rng(2)
    f = r.standard_normal((5, 4)) + 1j * r.standard_normal((5, 4))
    g = r.standard_normal((2, 3)) + 1j * r.standard_normal((2, 3))
    for mode in MODES:
        for method in ("direct", "fft"):
            np.testing.assert_allclose(
                correlate(f, g, mode, method), scipy.signal.correlate(f, g, mode), atol=1e-12
            )
    assert convolve([1, 2], [3, 4], method="direct").tolist() == [3, 10, 8]
    np.testing.assert_allclose(convolve([1, 2], [3, 4], method="fft"), [3, 10, 8])


def test_zero_dimensional_inputs_multiply():
    assert convolve(np.array(3.0), np.array(2.0)) == 6.0


@pytest.mark.parametrize(
    ("f", "g", "kw", "match"),
    [
        (np.ones(3), np.ones((2, 2)), {}, "same rank"),
        (np.ones(0), np.ones(2), {}, "non-empty"),
        (np.ones(3), np.ones(2), {"mode": "middle"}, "mode in"),
        (np.ones(3), np.ones(2), {"method": "winograd"}, "method in"),
        (np.ones((2, 5)), np.ones((3, 2)), {"mode": "valid"}, "at least as large"),
    ],
)
def test_clear_errors(f, g, kw, match):
    with pytest.raises(ValueError, match=match):
        convolve(f, g, **kw)
    with pytest.raises(ValueError, match=match):
        correlate(f, g, **kw)


def test_non_numeric_input_is_a_type_error():
    with pytest.raises(TypeError, match="numbers"):
        convolve(np.array(["a", "b"]), np.ones(2))
