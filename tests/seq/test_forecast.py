"""Forecasting, baselines, metrics and the autocorrelation function, on known answers."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet.models import MLPAR, LinearAR, RNNForecaster
from glassnet.seq.acf import acf
from glassnet.seq.forecast import (
    fit_rnn_forecaster,
    fit_window_model,
    forecast,
    is_recurrent,
    k_step_forecast,
    mae,
    mean_forecast,
    mse,
    one_step_forecast,
    persistence_forecast,
    rmse,
)
from tests.helpers import assert_close


def _ar1_model(phi: float, c: float = 0.0) -> LinearAR:
    m = LinearAR(1, dtype=np.float64)
    with glassnet.no_grad():
        m.linear.weight.fill_(phi)
        m.linear.bias.fill_(c)
    return m


def test_metrics_and_baselines():
    assert mse([1.0, 2.0, 3.0], [1.0, 4.0, 0.0]) == pytest.approx(13 / 3)
    assert rmse([1.0, 2.0, 3.0], [1.0, 4.0, 0.0]) == pytest.approx(np.sqrt(13 / 3))
    assert mae(glassnet.tensor([1.0, 2.0]), np.array([2.0, 0.0])) == pytest.approx(1.5)
    x = np.array([3.0, 1.0, 4.0, 1.0, 5.0])
    assert persistence_forecast(x).tolist() == [3.0, 1.0, 4.0, 1.0]
    assert persistence_forecast(x, start=3, k=2).tolist() == [1.0, 4.0]
    assert mean_forecast(x, start=2).tolist() == [2.0, 2.0, 2.0]
    assert mean_forecast(x, start=4, mean=0.5).tolist() == [0.5]


def test_metric_errors():
    with pytest.raises(ValueError, match=r"same shape, got \(2,\) and \(3,\)"):
        rmse([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="empty"):
        mae([], [])
    with pytest.raises(ValueError, match="non-finite values in target"):
        mse([1.0], [np.nan])
    with pytest.raises(ValueError, match=r"start must be >= 2"):
        persistence_forecast([1.0, 2.0, 3.0], start=1, k=2)
    with pytest.raises(ValueError, match="leaves no target"):
        mean_forecast([1.0, 2.0], start=2)


def test_one_step_of_a_known_ar1():
    x = np.array([1.0, -2.0, 0.5, 4.0, 3.0])
    pred = one_step_forecast(_ar1_model(0.5, 1.0), x)
    assert_close(pred, 1.0 + 0.5 * x[:-1])
    assert_close(one_step_forecast(_ar1_model(0.5, 1.0), x, start=3), 1.0 + 0.5 * x[2:-1])


def test_k_step_on_a_deterministic_linear_recurrence():
    a = 0.9
    x = 2.0 * a ** np.arange(20)  # x_t = a x_{t-1} exactly
    for k in (1, 3, 7):
        assert_close(k_step_forecast(_ar1_model(a), x, k, start=10), x[10:], rtol=1e-12)
    # a wrong coefficient b compounds over k steps: x_hat_t = b^k x_{t-k}
    b = 0.5
    for k in (1, 2, 5):
        assert_close(
            k_step_forecast(_ar1_model(b), x, k, start=8), b**k * x[8 - k : 20 - k], rtol=1e-12
        )


def test_k_step_of_an_ar2_matches_a_loop():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(30)
    w, c = np.array([0.3, -0.6]), 0.2  # weights for (x_{t-2}, x_{t-1})
    m = LinearAR(2, dtype=np.float64)
    with glassnet.no_grad():
        m.linear.weight.copy_(w[None])
        m.linear.bias.fill_(c)
    k, start = 4, 12
    expected = []
    for t in range(start, 30):
        hist = list(x[: t - k + 1])
        for _ in range(k):
            hist.append(c + w @ np.array(hist[-2:]))
        expected.append(hist[-1])
    assert_close(k_step_forecast(m, x, k, start=start), expected, rtol=1e-12)
    assert_close(forecast(m, x[:10], 3), _roll(x[:10], w, c, 3), rtol=1e-12)


def _roll(hist, w, c, n):
    h = list(hist)
    for _ in range(n):
        h.append(c + w @ np.array(h[-2:]))
    return h[-n:]


def test_plain_callables_with_tau():
    x = np.arange(10.0)

    def mean_of_window(windows):
        return glassnet.tensor(windows.data.mean(axis=1, keepdims=True))  # (N, 1)

    assert_close(one_step_forecast(mean_of_window, x, tau=3), x[2:-1] - 1.0)
    with pytest.raises(ValueError, match="pass tau="):
        one_step_forecast(mean_of_window, x)
    with pytest.raises(ValueError, match=r"predictions \(N,\) or \(N, 1\)"):
        one_step_forecast(lambda w: w, x, tau=2)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_recurrent_k_step_matches_a_per_origin_loop(cell):
    model = RNNForecaster(cell, hidden_size=4, num_layers=2, rng=np.random.default_rng(0)).double()
    assert is_recurrent(model) and not is_recurrent(_ar1_model(0.5))
    x = np.sin(0.4 * np.arange(16)) + 0.1 * np.random.default_rng(1).standard_normal(16)
    k, start = 3, 9
    expected = []
    with glassnet.no_grad():
        for t in range(start, 16):
            o = t - k + 1
            y, s = model(glassnet.tensor(x[None, :o]))
            p = y.data[0, -1]
            for _ in range(k - 1):
                y, s = model(glassnet.tensor(np.array([[p]])), s)
                p = y.data[0, 0]
            expected.append(p)
        full, _ = model(glassnet.tensor(x[None, :-1]))
    assert_close(k_step_forecast(model, x, k, start=start), expected, rtol=1e-10)
    assert_close(one_step_forecast(model, x), full.data[0], rtol=1e-12)
    assert_close(one_step_forecast(model, x, start=5), full.data[0, 4:], rtol=1e-12)
    # free running from the end of a history is the k-step forecast of the following values
    assert_close(forecast(model, x[:12], 3)[-1], k_step_forecast(model, x[:15], 3, start=14)[0])
    assert model.training  # the mode is restored


def test_forecast_errors():
    ar = _ar1_model(0.5)
    with pytest.raises(ValueError, match="empty series"):
        one_step_forecast(ar, [])
    with pytest.raises(ValueError, match=r"at least 5 values for a 3-step forecast with tau=2"):
        k_step_forecast(LinearAR(2), [1.0, 2.0, 3.0], 3)
    with pytest.raises(ValueError, match="NaN at index 2"):
        one_step_forecast(ar, [1.0, 2.0, np.nan, 4.0])
    with pytest.raises(ValueError, match=r"start must be >= 4"):
        k_step_forecast(ar, np.arange(10.0), 4, start=3)
    with pytest.raises(ValueError, match="k to be an int >= 1"):
        k_step_forecast(ar, np.arange(10.0), 0)
    with pytest.raises(ValueError, match="steps"):
        forecast(ar, [1.0], 0)
    with pytest.raises(ValueError, match="recurrent model"):
        k_step_forecast(RNNForecaster("gru", 2), [1.0, 2.0], 2)


def test_fitting_lowers_the_loss():
    x = np.sin(0.3 * np.arange(120))
    mlp = MLPAR(3, hidden=8, rng=np.random.default_rng(0))
    losses = fit_window_model(mlp, x, epochs=15, lr=1e-2, rng=np.random.default_rng(0))
    assert losses[-1] < 0.2 * losses[0]
    rnn = RNNForecaster("gru", 8, rng=np.random.default_rng(0))
    seen = []
    losses = fit_rnn_forecaster(
        rnn, x, epochs=25, seq_len=20, batch_size=8, warmup=3, lr=2e-2,
        rng=np.random.default_rng(0), callback=lambda e, l: seen.append(e),
    )  # fmt: skip
    assert seen == list(range(25))
    assert losses[-1] < 0.2 * losses[0]
    with pytest.raises(ValueError, match="warmup=20 leaves no scored step"):
        fit_rnn_forecaster(rnn, x, seq_len=20, warmup=20)


def test_ar1_coefficient_is_estimated():
    rng = np.random.default_rng(0)
    x = np.zeros(4000)
    for t in range(1, 4000):
        x[t] = 0.7 * x[t - 1] + rng.standard_normal()
    m = LinearAR(1, dtype=np.float64).fit_least_squares(x)
    assert m.coef_[0] == pytest.approx(0.7, abs=0.03)  # standard error ~ 0.011
    assert m.intercept_ == pytest.approx(0.0, abs=0.05)
    assert mse(one_step_forecast(m, x), x[1:]) == pytest.approx(1.0, abs=0.06)


# ----------------------------------------------------------------------------- acf


def test_acf_matches_the_definition():
    x = np.random.default_rng(0).standard_normal(50).cumsum()
    d = x - x.mean()
    expected = [np.sum(d[: 50 - k] * d[k:]) / np.sum(d * d) for k in range(8)]
    assert_close(acf(x, 7), expected, rtol=1e-12)
    assert acf(x)[0] == 1.0 and acf(x).shape == (int(10 * np.log10(50)) + 1,)


def test_acf_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.tsa.stattools")
    x = np.random.default_rng(1).standard_normal(200).cumsum()
    assert_close(acf(x, 20), sm.acf(x, nlags=20), rtol=1e-10)


def test_acf_of_white_noise_and_of_a_sine():
    noise = np.random.default_rng(2).standard_normal(4000)
    assert np.all(np.abs(acf(noise, 10)[1:]) < 4 / np.sqrt(4000))
    sine = np.sin(2 * np.pi * np.arange(400) / 20)
    r = acf(sine, 20)
    assert r[20] > 0.9 and r[10] < -0.9  # one period: correlated; half a period: anti-correlated


def test_acf_errors():
    with pytest.raises(ValueError, match="constant"):
        acf(np.ones(10))
    with pytest.raises(ValueError, match=r"nlags must be in \[0, 4\]"):
        acf(np.arange(5.0), 5)
    with pytest.raises(ValueError, match="NaN"):
        acf([1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match="empty series"):
        acf([])
    with pytest.raises(TypeError, match="nlags must be an int"):
        acf([1.0, 2.0, 0.0], 1.5)
