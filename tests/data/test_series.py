"""chronological_split, Standardizer and ar_windows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
from glassnet.data import Standardizer, ar_windows, chronological_split

from ..helpers import assert_close


# ----------------------------------------------------------------------------- splits
def test_chronological_split_fractions_and_counts():
    x = np.arange(10)
    tr, va, te = chronological_split(x)
    assert tr.tolist() == [0, 1, 2, 3, 4, 5] and va.tolist() == [6, 7] and te.tolist() == [8, 9]
    tr, va, te = chronological_split(x, 7, 0, 3)
    assert tr.tolist() == list(range(7)) and va.size == 0 and te.tolist() == [7, 8, 9]
    tr, va, te = chronological_split(np.arange(20).reshape(10, 2), 0.8, 0.0, 0.2)
    assert tr.shape == (8, 2) and va.shape == (0, 2) and te.shape == (2, 2)


@given(
    T=st.integers(3, 200),
    a=st.floats(0.1, 0.9),
    b=st.floats(0.0, 1.0),
    context=st.integers(0, 3),
)
def test_chronological_split_is_ordered_and_complete(T, a, b, context):
    val = (1.0 - a) * b
    test = max(0.0, 1.0 - a - val)
    x = np.arange(T)
    if round(a * T) == 0:
        with pytest.raises(ValueError, match="empty training part"):
            chronological_split(x, a, val, test)
        return
    tr, va, te = chronological_split(x, a, val, test)
    # no shuffling, no overlap, nothing lost: the parts concatenate back to the series
    np.testing.assert_array_equal(np.concatenate([tr, va, te]), x)
    assert abs(len(tr) - a * T) <= 0.5 + 1e-9
    if va.size and te.size:
        assert tr.max() < va.min() <= va.max() < te.min()
    if len(tr) >= context:
        tr2, va2, te2 = chronological_split(x, a, val, test, context=context)
        np.testing.assert_array_equal(tr2, tr)
        if va.size:
            np.testing.assert_array_equal(va2[len(va2) - len(va) :], va)
            assert len(va2) - len(va) == min(context, len(tr))
        if te.size:
            np.testing.assert_array_equal(te2[len(te2) - len(te) :], te)
            assert len(te2) - len(te) == context


def test_context_gives_windows_without_target_leakage():
    x = np.arange(100, dtype=np.float64)
    tau = 4
    parts = chronological_split(x, 0.6, 0.2, 0.2, context=tau)
    targets = [ar_windows(p, tau)[1] for p in parts]
    # every target after the first tau steps appears exactly once, in chronological order
    np.testing.assert_array_equal(np.concatenate(targets), x[tau:])
    X_test, y_test = ar_windows(parts[2], tau)
    assert y_test.min() == 80  # test targets are only the last 20%
    assert X_test.min() == 76  # inputs reach back tau steps into the past, never the future


def test_chronological_split_errors():
    x = np.arange(10)
    with pytest.raises(ValueError, match="sum to 1"):
        chronological_split(x, 0.5, 0.2, 0.2)
    with pytest.raises(ValueError, match="sum to the series length 10"):
        chronological_split(x, 5, 2, 2)
    with pytest.raises(TypeError, match="must be numbers"):
        chronological_split(x, "a", 0.2, 0.2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty training part"):
        chronological_split(x, 0, 5, 5)
    with pytest.raises(ValueError, match="context=7 is longer than the training part"):
        chronological_split(x, 6, 2, 2, context=7)
    with pytest.raises(ValueError, match="time axis"):
        chronological_split(np.float64(1.0))


# ----------------------------------------------------------------------------- Standardizer
def test_standardizer_fits_training_part_only():
    rng = np.random.default_rng(0)
    series = np.concatenate([rng.normal(5.0, 2.0, 300), rng.normal(50.0, 9.0, 100)])
    train, _, test = chronological_split(series, 0.75, 0.0, 0.25)
    s = Standardizer().fit(train)
    assert_close(s.mean_.reshape(()), train.mean())
    assert_close(s.std_.reshape(()), train.std())
    z = s.transform(train)
    assert abs(z.mean()) < 1e-12 and abs(z.std() - 1.0) < 1e-12
    zt = s.transform(test)  # the future keeps its own level: no leakage of its statistics
    assert zt.mean() > 10
    assert_close(s.inverse_transform(zt), test)


def test_standardizer_per_feature_and_dtypes():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 3)) * [1.0, 10.0, 0.1] + [0.0, 5.0, -3.0]
    s = Standardizer().fit(X)
    assert s.mean_.shape == (1, 3)
    Z = s.fit_transform(X)
    assert_close(Z.mean(0), np.zeros(3), atol=1e-12)
    assert_close(Z.std(0), np.ones(3))
    Z32 = s.transform(X.astype(np.float32))
    assert Z32.dtype == np.float32
    ints = Standardizer().fit(np.array([1, 2, 3]))
    assert ints.transform(np.array([2])).dtype == np.float64


def test_standardizer_tensor_roundtrip_keeps_gradients():
    s = Standardizer().fit(np.array([1.0, 2.0, 4.0, 9.0]))
    y = glassnet.tensor([0.5, -1.0], dtype=np.float64, requires_grad=True)
    out = s.inverse_transform(y)
    assert isinstance(out, glassnet.Tensor) and out.dtype == np.float64
    out.sum().backward()
    assert_close(y.grad, np.full(2, np.std([1.0, 2.0, 4.0, 9.0])))
    assert_close(s.transform(out), y)


def test_standardizer_errors():
    s = Standardizer()
    with pytest.raises(RuntimeError, match="transform called before fit"):
        s.transform(np.zeros(3))
    with pytest.raises(RuntimeError, match="inverse_transform called before fit"):
        s.inverse_transform(np.zeros(3))
    with pytest.raises(ValueError, match=r"zero standard deviation .* feature index \[1\]"):
        Standardizer().fit(np.array([[1.0, 2.0], [3.0, 2.0]]))
    with pytest.raises(ValueError, match="zero standard deviation"):
        Standardizer().fit(np.full(5, 3.0))
    with pytest.raises(ValueError, match="non-empty"):
        Standardizer().fit(np.zeros(0))
    with pytest.raises(ValueError, match=r"NaN values \(first at index \(2,\)\)"):
        Standardizer().fit(np.array([1.0, 2.0, np.nan]))
    fitted = Standardizer().fit(np.arange(12.0).reshape(4, 3))
    with pytest.raises(ValueError, match=r"shaped like the fitted data .* got shape \(4, 2\)"):
        fitted.transform(np.zeros((4, 2)))


# ----------------------------------------------------------------------------- AR windows
@given(T=st.integers(2, 60), tau=st.integers(1, 10))
def test_ar_windows_match_naive_loop(T, tau):
    x = np.random.default_rng(T).standard_normal(T)
    if T <= tau:
        with pytest.raises(ValueError, match="longer than tau"):
            ar_windows(x, tau)
        return
    X, y = ar_windows(x, tau)
    assert X.shape == (T - tau, tau) and y.shape == (T - tau,)
    for i, t in enumerate(range(tau, T)):  # target x_t, inputs x_{t-tau} .. x_{t-1}
        np.testing.assert_array_equal(X[i], x[t - tau : t])
        assert y[i] == x[t]
    X[0, 0] = 123.0  # a fresh copy: the series is untouched
    assert x[0] != 123.0


def test_ar_windows_accepts_tensor():
    X, y = ar_windows(glassnet.arange(6), 3)
    assert X.tolist() == [[0, 1, 2], [1, 2, 3], [2, 3, 4]] and y.tolist() == [3, 4, 5]


def test_ar_windows_nan_policy():
    x = np.arange(10, dtype=np.float64)
    x[[4, 7]] = np.nan
    with pytest.raises(ValueError, match=r"NaN in the series \(2 values, first at index 4\)"):
        ar_windows(x, 2)
    X, y = ar_windows(x, 2, missing="drop")
    # windows touching index 4 (targets 4,5,6) or 7 (targets 7,8,9) are gone
    assert y.tolist() == [2.0, 3.0] and X.tolist() == [[0.0, 1.0], [1.0, 2.0]]
    assert not np.isnan(X).any()


def test_ar_windows_errors():
    with pytest.raises(ValueError, match=r"empty series; it needs at least tau \+ 1 = 4"):
        ar_windows(np.zeros(0), 3)
    with pytest.raises(ValueError, match=r"longer than tau=5 \(at least 6 values\), got 5"):
        ar_windows(np.zeros(5), 5)
    with pytest.raises(ValueError, match=r"1-d series of shape \(T,\), got shape \(4, 2\)"):
        ar_windows(np.zeros((4, 2)), 1)
    with pytest.raises(ValueError, match="tau must be >= 1, got 0"):
        ar_windows(np.zeros(4), 0)
    with pytest.raises(TypeError, match="tau must be an int"):
        ar_windows(np.zeros(4), 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="missing must be 'raise' or 'drop'"):
        ar_windows(np.zeros(4), 1, missing="zero")
