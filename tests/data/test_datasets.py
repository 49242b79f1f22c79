"""The bundled datasets and the noisy-sine generator."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

import glassnet
from glassnet.data import (
    load_co2,
    load_digits,
    load_shakespeare,
    load_sunspots,
    noisy_sine,
)


def test_bundled_files_are_package_resources():
    root = resources.files("glassnet.data").joinpath("_files")
    for name in ("digits.npz", "sunspots.csv", "co2_weekly.csv"):
        assert root.joinpath(name).is_file()
    for name in ("sonnets.txt", "tragedies.txt"):
        assert root.joinpath("shakespeare").joinpath(name).is_file()


def test_load_digits():
    images, labels = load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert images.min() == 0 and images.max() == 16
    counts = np.bincount(labels, minlength=10)
    assert counts.size == 10 and counts.min() >= 170 and counts.max() <= 185
    norm = load_digits(normalize=True)
    assert norm.images.dtype == np.float32 and norm.images.max() == 1.0
    np.testing.assert_allclose(norm.images * 16, images)
    np.testing.assert_array_equal(norm.labels, labels)


def test_load_sunspots():
    s = load_sunspots()
    assert s.years.dtype == np.int64 and s.values.dtype == np.float64
    assert s.years.shape == s.values.shape == (309,)
    np.testing.assert_array_equal(s.years, np.arange(1700, 2009))
    assert s.values[:4].tolist() == [5.0, 11.0, 16.0, 23.0]
    assert np.isfinite(s.values).all() and s.values.min() >= 0


def test_load_co2_missing_policies():
    raw = load_co2(missing="nan")
    assert raw.dates.dtype == np.dtype("datetime64[D]") and raw.values.dtype == np.float64
    assert raw.dates.shape == (2284,)
    assert str(raw.dates[0]) == "1958-03-29" and str(raw.dates[-1]) == "2001-12-29"
    assert (np.diff(raw.dates) == np.timedelta64(7, "D")).all()
    gap = np.isnan(raw.values)
    assert int(gap.sum()) == 59
    assert not (raw.values[~gap] == 0).any()  # empty fields were never read as zero
    assert raw.values[~gap].min() > 300

    dropped = load_co2(missing="drop")
    assert dropped.values.shape == (2225,) and not np.isnan(dropped.values).any()
    np.testing.assert_array_equal(dropped.dates, raw.dates[~gap])

    filled = load_co2()  # interpolate is the default
    assert filled.values.shape == (2284,) and not np.isnan(filled.values).any()
    np.testing.assert_array_equal(filled.values[~gap], raw.values[~gap])
    # linear in time: the first gap (1958-05-10, index 6) lies halfway between its neighbours
    assert str(raw.dates[6]) == "1958-05-10" and gap[6] and not gap[5] and not gap[7]
    assert filled.values[6] == pytest.approx((raw.values[5] + raw.values[7]) / 2)
    # a run of missing weeks is filled along the straight line between the known ends
    i = int(np.flatnonzero(gap[1:] & gap[:-1])[0])  # the start of a run of >= 2 gaps
    lo = i - 1
    hi = i + int(np.flatnonzero(~gap[i:])[0])
    frac = (np.arange(lo, hi + 1) - lo) / (hi - lo)
    expect = raw.values[lo] + frac * (raw.values[hi] - raw.values[lo])
    np.testing.assert_allclose(filled.values[lo : hi + 1], expect, rtol=1e-12)


def test_load_co2_raise_and_bad_policy():
    with pytest.raises(
        ValueError, match=r"59 of 2284 weeks have no measurement \(first: 1958-05-10"
    ):
        load_co2(missing="raise")
    with pytest.raises(ValueError, match="missing must be one of"):
        load_co2(missing="zero")


def test_load_shakespeare():
    sonnets = load_shakespeare("sonnets")
    tragedies = load_shakespeare("tragedies")
    assert isinstance(sonnets, str) and sonnets.startswith("THE SONNETS")
    assert len(sonnets) == 95728 and len(tragedies) == 841791
    assert "HAMLET" in tragedies and "Macbeth" in tragedies
    assert load_shakespeare() == sonnets
    with pytest.raises(ValueError, match="expected one of"):
        load_shakespeare("comedies")


def test_noisy_sine():
    t, x = noisy_sine(rng=np.random.default_rng(0))
    assert t.shape == x.shape == (1000,) and t[0] == 1 and t[-1] == 1000
    assert t.dtype == np.int64 and x.dtype == np.float64
    resid = x - np.sin(0.01 * t)
    assert abs(resid.std() - 0.2) < 0.02 and abs(resid.mean()) < 0.03
    _, x2 = noisy_sine(rng=np.random.default_rng(0))
    np.testing.assert_array_equal(x, x2)
    clean = noisy_sine(50, noise=0.0)
    np.testing.assert_array_equal(clean.x, np.sin(0.01 * np.arange(1, 51)))
    glassnet.manual_seed(5)
    a = noisy_sine(10).x
    glassnet.manual_seed(5)
    np.testing.assert_array_equal(noisy_sine(10).x, a)
    with pytest.raises(ValueError, match="T must be an int >= 1"):
        noisy_sine(0)
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        noisy_sine(10, noise=-1.0)
