"""Linear and MLP AR(tau) models: closed form, gradient descent, shapes and errors."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet.data import ar_windows
from glassnet.models import MLPAR, LinearAR
from glassnet.seq.forecast import fit_window_model
from tests.helpers import assert_close


def _ar2(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    x[:2] = rng.standard_normal(2)
    for t in range(2, n):
        x[t] = 0.3 + 0.6 * x[t - 1] - 0.2 * x[t - 2] + rng.standard_normal()
    return x


def test_least_squares_equals_ols_with_intercept():
    x = _ar2(200)
    model = LinearAR(3, dtype=np.float64).fit_least_squares(x)
    X, y = ar_windows(x, 3)
    ref = np.linalg.lstsq(np.column_stack([np.ones(len(y)), X]), y, rcond=None)[0]
    assert_close(np.concatenate([[model.intercept_], model.coef_]), ref, rtol=1e-10)
    w, b = model.coefficients()  # the parameters hold the same numbers
    assert_close(w, ref[1:], rtol=1e-10)
    assert b == pytest.approx(ref[0], rel=1e-10)
    assert_close(model(glassnet.tensor(X)), X @ ref[1:] + ref[0], rtol=1e-10)


def test_least_squares_recovers_a_noiseless_recurrence():
    x = np.zeros(30)
    x[:2] = [1.0, 0.5]
    for t in range(2, 30):
        x[t] = 1.0 + 0.5 * x[t - 1] - 0.25 * x[t - 2]  # oscillates, converges to 4/3
    model = LinearAR(2, dtype=np.float64).fit_least_squares(x[:12])
    assert_close(model.coef_, [-0.25, 0.5], rtol=1e-8)
    assert model.intercept_ == pytest.approx(1.0, rel=1e-8)


def test_float32_parameters_get_the_rounded_solution():
    x = _ar2(100)
    model = LinearAR(2, rng=np.random.default_rng(0)).fit_least_squares(x)
    assert model.linear.weight.dtype == np.float32
    assert_close(model.linear.weight.data[0], model.coef_.astype(np.float32))


def test_gradient_descent_reaches_least_squares():
    x = _ar2(120, seed=1)
    ls = LinearAR(2, dtype=np.float64).fit_least_squares(x)
    gd = LinearAR(2, dtype=np.float64, rng=np.random.default_rng(0))
    opt = glassnet.optim.SGD(gd.parameters(), lr=0.5, momentum=0.5)
    losses = fit_window_model(
        gd, x, epochs=300, batch_size=1000, optimizer=opt, rng=np.random.default_rng(0)
    )
    assert losses[-1] < losses[0]
    w, b = gd.coefficients()
    assert_close(np.concatenate([[b], w]), np.concatenate([[ls.intercept_], ls.coef_]), rtol=1e-6)


def test_missing_drop_skips_nan_windows():
    x = _ar2(150)
    with_nan = x.copy()
    with_nan[70] = np.nan
    model = LinearAR(2, dtype=np.float64).fit_least_squares(with_nan, missing="drop")
    X, y = ar_windows(with_nan, 2, missing="drop")
    ref = np.linalg.lstsq(np.column_stack([np.ones(len(y)), X]), y, rcond=None)[0]
    assert_close(model.coef_, ref[1:], rtol=1e-9)


def test_linear_ar_errors():
    m = LinearAR(3)
    with pytest.raises(ValueError, match="empty series"):
        m.fit_least_squares([])
    with pytest.raises(ValueError, match=r"at least 7 values to fit AR\(tau=3\)"):
        m.fit_least_squares(np.arange(6.0))
    with pytest.raises(ValueError, match="NaN at index 4"):
        m.fit_least_squares(np.array([1.0, 2, 3, 4, np.nan, 5, 6, 7, 8]))
    with pytest.raises(ValueError, match=r"shape \(T,\)"):
        m.fit_least_squares(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="missing must be"):
        m.fit_least_squares(np.arange(10.0), missing="zero")
    with pytest.raises(
        ValueError, match=r"input windows of shape \(N, 3\) \(tau=3\), got \(5, 4\)"
    ):
        m(glassnet.zeros(5, 4))
    with pytest.raises(TypeError, match="floating-point"):
        m(glassnet.tensor(np.zeros((5, 3), np.int64)))
    with pytest.raises(ValueError, match="tau"):
        LinearAR(0)


def test_mlp_ar_shapes_and_errors():
    m = MLPAR(5, hidden=[8, 4], activation="tanh", rng=np.random.default_rng(0))
    assert m(glassnet.randn(7, 5)).shape == (7,)
    assert [k for k in m.state_dict()] == [
        "net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias", "net.4.weight", "net.4.bias",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="activation"):
        MLPAR(3, activation="gelu")
    with pytest.raises(ValueError, match=r"\(N, 5\)"):
        m(glassnet.randn(7))
