"""Datasets bundled with the package (offline) and the noisy-sine generator.

Sources and licences are listed in ``docs/datasets.md``. The files live in
``glassnet/data/_files`` and are found with ``importlib.resources``, so they work from a wheel
as well as from a source checkout.
"""

from __future__ import annotations

import io
from importlib import resources
from typing import NamedTuple

import numpy as np

from .._random import get_rng
from .download import ImageSet


def _read_bytes(*parts: str) -> bytes:
    node = resources.files("glassnet.data").joinpath("_files")
    for p in parts:
        node = node.joinpath(p)
    return node.read_bytes()


def _read_csv(name: str, header: list[str]) -> list[list[str]]:
    lines = _read_bytes(name).decode("ascii").splitlines()
    if not lines or lines[0].strip().split(",") != header:
        raise RuntimeError(f"bundled {name} is damaged: expected header {','.join(header)}")
    rows = [line.split(",") for line in lines[1:] if line.strip()]
    if any(len(r) != len(header) for r in rows):
        raise RuntimeError(f"bundled {name} is damaged: a row does not have {len(header)} fields")
    return rows


def load_digits(*, normalize: bool = False) -> ImageSet:
    """The 8x8 handwritten digits (1,797 images, about 180 per class; UCI / scikit-learn).

    Args:
        normalize: return images as float32 in [0, 1] (grey level / 16) instead of the raw
            uint8 grey levels 0..16.

    Returns:
        ``ImageSet(images, labels)``: images (1797, 8, 8) uint8 0..16 (or float32 in [0, 1]),
        labels (1797,) int64 in 0..9.

    >>> images, labels = load_digits()
    >>> images.shape, images.dtype, int(images.max()), labels.dtype
    ((1797, 8, 8), dtype('uint8'), 16, dtype('int64'))
    """
    with np.load(io.BytesIO(_read_bytes("digits.npz"))) as z:
        images = np.array(z["images"], dtype=np.uint8)
        labels = np.array(z["labels"], dtype=np.int64)
    if normalize:
        return ImageSet(images.astype(np.float32) / np.float32(16.0), labels)
    return ImageSet(images, labels)


class Sunspots(NamedTuple):
    """Yearly mean sunspot numbers: ``years`` (int64) and ``values`` (float64)."""

    years: np.ndarray
    values: np.ndarray


def load_sunspots() -> Sunspots:
    """Yearly mean sunspot number, 1700-2008 (309 values; SIDC/SILSO via statsmodels).

    The series of Yule's 1927 autoregressive model.

    Returns:
        ``Sunspots(years, values)``: years (309,) int64, values (309,) float64.

    >>> years, values = load_sunspots()
    >>> int(years[0]), int(years[-1]), values.dtype
    (1700, 2008, dtype('float64'))
    """
    rows = _read_csv("sunspots.csv", ["year", "sunactivity"])
    years = np.array([int(float(r[0])) for r in rows], dtype=np.int64)
    values = np.array([float(r[1]) for r in rows], dtype=np.float64)
    return Sunspots(years, values)


class CO2(NamedTuple):
    """Weekly CO2 at Mauna Loa: ``dates`` (datetime64[D]) and ``values`` (ppm, float64)."""

    dates: np.ndarray
    values: np.ndarray


_CO2_POLICIES = ("interpolate", "drop", "raise", "nan")


def load_co2(missing: str = "interpolate") -> CO2:
    """Weekly atmospheric CO2 at Mauna Loa, 1958-03-29 to 2001-12-29 (2,284 weeks).

    59 weeks have no measurement (an empty field in the file). They are never read as zero;
    ``missing`` chooses what happens to them:

    - ``'interpolate'`` (default): linear interpolation in time between the neighbouring
      measurements (all 2,284 weeks kept);
    - ``'drop'``: those weeks are removed (2,225 remain; the dates show the gaps);
    - ``'raise'``: a ``ValueError`` giving the count and the first missing dates;
    - ``'nan'``: kept as NaN, for your own handling.

    Returns:
        ``CO2(dates, values)``: dates datetime64[D], values float64 in ppm.

    >>> dates, values = load_co2()
    >>> str(dates[0]), values.shape, bool(np.isnan(values).any())
    ('1958-03-29', (2284,), False)
    """
    if missing not in _CO2_POLICIES:
        raise ValueError(f"load_co2 missing must be one of {_CO2_POLICIES}, got {missing!r}")
    rows = _read_csv("co2_weekly.csv", ["date", "co2_ppm"])
    dates = np.array([r[0] for r in rows], dtype="datetime64[D]")
    values = np.array([float(r[1]) if r[1].strip() else np.nan for r in rows], dtype=np.float64)
    gap = np.isnan(values)
    if not gap.any() or missing == "nan":
        return CO2(dates, values)
    if missing == "raise":
        first = ", ".join(str(d) for d in dates[gap][:5])
        raise ValueError(
            f"load_co2: {int(gap.sum())} of {len(values)} weeks have no measurement (first: "
            f"{first}, ...); pass missing='interpolate', 'drop' or 'nan'"
        )
    if missing == "drop":
        return CO2(dates[~gap], values[~gap])
    days = dates.astype(np.int64).astype(np.float64)  # days since 1970-01-01
    filled = values.copy()
    # Gaps at either end (none in this file) would hold the nearest measurement.
    filled[gap] = np.interp(days[gap], days[~gap], values[~gap])
    return CO2(dates, filled)


_SHAKESPEARE = ("sonnets", "tragedies")


def load_shakespeare(which: str = "sonnets") -> str:
    """Shakespeare as plain ASCII text (Project Gutenberg; public domain).

    Args:
        which: ``'sonnets'`` (The Sonnets, ~96 KB) or ``'tragedies'`` (Hamlet, Macbeth, King
            Lear, Othello, Romeo and Juliet, Julius Caesar, ~842 KB).

    >>> load_shakespeare("sonnets")[:11]
    'THE SONNETS'
    """
    if which not in _SHAKESPEARE:
        raise ValueError(f"load_shakespeare expected one of {_SHAKESPEARE}, got {which!r}")
    return _read_bytes("shakespeare", f"{which}.txt").decode("ascii")


class NoisySine(NamedTuple):
    """``t`` (int64, 1..T) and ``x`` (float64)."""

    t: np.ndarray
    x: np.ndarray


def noisy_sine(
    T: int = 1000, noise: float = 0.2, *, rng: np.random.Generator | None = None
) -> NoisySine:
    """The synthetic series x_t = sin(0.01 t) + noise * e_t, e_t ~ N(0, 1), t = 1..T.

    With the default ``noise=0.2`` the best possible one-step-ahead MSE is about 0.04.

    Args:
        T: number of steps (>= 1).
        noise: standard deviation of the Gaussian noise (>= 0).
        rng: generator for the noise (the package generator when ``None``).

    Returns:
        ``NoisySine(t, x)``: t (T,) int64 = 1..T, x (T,) float64.

    >>> t, x = noisy_sine(5, noise=0.0)
    >>> t.tolist(), round(float(x[-1]), 6)
    ([1, 2, 3, 4, 5], 0.049979)
    """
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"noisy_sine T must be an int >= 1, got {T!r}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noisy_sine noise must be a finite number >= 0, got {noise!r}")
    t = np.arange(1, int(T) + 1, dtype=np.int64)
    x = np.sin(0.01 * t) + float(noise) * get_rng(rng).standard_normal(int(T))
    return NoisySine(t, x)
