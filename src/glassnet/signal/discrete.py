"""Discrete N-d convolution and cross-correlation, the textbook definitions.

For arrays ``f`` and ``g`` indexed from 0 (zero outside their extent):

* convolution      ``[f * g](i) = sum_a f(a) g(i - a)``   (the kernel is flipped),
* cross-correlation ``[f ⋆ g](k) = sum_n f(n + k) conj(g(n))`` (no flip; what a "conv layer" does).

Convolution is commutative, ``f * g = g * f``, and correlation is convolution with the reversed
(and conjugated) kernel, ``f ⋆ g = f * conj(g[::-1, ::-1, ...])``.

Output sizes follow ``scipy.signal.convolve``/``correlate`` (and ``numpy.convolve`` for 1-d):

* ``full``:  every index where the two supports overlap, ``n_f + n_g - 1`` per axis;
* ``same``:  the shape of ``f``, centred in ``full`` (start ``(n_g - 1) // 2``);
* ``valid``: only indices that never touch the zero extension, ``|n_f - n_g| + 1`` per axis.
  One operand must be at least as large as the other in *every* axis; if ``g`` is the larger,
  the roles are swapped (as scipy does), which changes nothing for ``convolve`` (commutative) and
  reverses the output of ``correlate`` (``f ⋆ g`` is ``g ⋆ f`` read backwards).

The one difference from ``numpy.convolve`` is ``mode="same"`` with ``len(g) > len(f)``: NumPy
returns ``max(len(f), len(g))`` values, here (and in scipy) the output has the shape of ``f``.

Two methods compute the same numbers:

* ``direct``: a loop over the taps of the smaller operand, each tap adding one shifted, scaled
  copy of the larger operand to the output (vectorised over positions, never a loop over output
  pixels). Exact for integers; cost ``size(small) * size(output)``.
* ``fft``: the convolution theorem, ``f * g = IFFT(FFT(f) FFT(g))`` on arrays zero-padded to the
  ``full`` shape; floating point only, cost ``O(S log S)`` with ``S`` the full size, error
  ~``1e-16 * sum|f| * max|g|``.

``auto`` (the default) uses ``fft`` for floating or complex inputs whose smaller operand has more
than 64 elements and whose full output has more than 4096, ``direct`` otherwise.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

_MODES = ("full", "same", "valid")
_METHODS = ("auto", "direct", "fft")


def _prepare(f: Any, g: Any, mode: str, method: str, op: str) -> tuple[np.ndarray, np.ndarray]:
    if mode not in _MODES:
        raise ValueError(f"{op} expected mode in {_MODES}, got {mode!r}")
    if method not in _METHODS:
        raise ValueError(f"{op} expected method in {_METHODS}, got {method!r}")
    a, b = np.asarray(f), np.asarray(g)
    for name, arr in (("f", a), ("g", b)):
        if arr.dtype.kind not in "iufc":
            raise TypeError(f"{op} expected {name} to hold numbers, got dtype {arr.dtype}")
    if a.ndim != b.ndim:
        raise ValueError(
            f"{op} expected f and g of the same rank, got f.shape={a.shape} and g.shape={b.shape}"
        )
    if a.size == 0 or b.size == 0:
        raise ValueError(
            f"{op} expected non-empty inputs, got f.shape={a.shape} and g.shape={b.shape}"
        )
    if mode == "valid" and not (
        all(m >= n for m, n in zip(a.shape, b.shape))
        or all(m <= n for m, n in zip(a.shape, b.shape))
    ):
        raise ValueError(
            f"{op} mode='valid' needs one input at least as large as the other in every axis, "
            f"got f.shape={a.shape} and g.shape={b.shape}"
        )
    return a, b


def _window(mode: str, sf: tuple[int, ...], sg: tuple[int, ...]) -> list[tuple[int, int]]:
    """(start, length) in the ``full`` output of the region ``mode`` keeps, per axis."""
    if mode == "full":
        return [(0, m + n - 1) for m, n in zip(sf, sg)]
    if mode == "same":
        return [((n - 1) // 2, m) for m, n in zip(sf, sg)]
    return [(min(m, n) - 1, abs(m - n) + 1) for m, n in zip(sf, sg)]


def _direct(a: np.ndarray, b: np.ndarray, window: list[tuple[int, int]]) -> np.ndarray:
    """The region ``window`` of the full convolution, by a loop over the smaller operand's taps.

    Tap ``t`` of ``small`` adds ``small[t] * big`` shifted by ``t``: the output index ``i``
    receives ``small[t] * big[i - t]``, i.e. exactly ``sum_t small(t) big(i - t)``.
    """
    small, big = (a, b) if a.size <= b.size else (b, a)
    dtype = np.result_type(a.dtype, b.dtype)
    out = np.zeros(tuple(length for _, length in window), dtype)
    for t in itertools.product(*(range(n) for n in small.shape)):
        out_sl, big_sl = [], []
        for td, nb, (start, length) in zip(t, big.shape, window):
            lo, hi = max(start, td), min(start + length, td + nb)  # full indices this tap reaches
            if lo >= hi:
                break
            out_sl.append(slice(lo - start, hi - start))
            big_sl.append(slice(lo - td, hi - td))
        else:
            out[tuple(out_sl)] += small[t] * big[tuple(big_sl)]
    return out


def _fft(a: np.ndarray, b: np.ndarray, window: list[tuple[int, int]]) -> np.ndarray:
    """The region ``window`` of the full convolution, by the convolution theorem."""
    shape = tuple(m + n - 1 for m, n in zip(a.shape, b.shape))
    axes = tuple(range(a.ndim))
    dtype = np.result_type(a.dtype, b.dtype, np.float64 if a.dtype.kind in "iu" else a.dtype)
    full: np.ndarray
    if dtype.kind == "c":
        full = np.fft.ifftn(np.fft.fftn(a, shape, axes) * np.fft.fftn(b, shape, axes), shape, axes)
    else:
        full = np.fft.irfftn(
            np.fft.rfftn(a, shape, axes) * np.fft.rfftn(b, shape, axes), shape, axes
        )
    crop = tuple(slice(start, start + length) for start, length in window)
    return np.ascontiguousarray(full[crop]).astype(dtype, copy=False)


def _convolve(a: np.ndarray, b: np.ndarray, mode: str, method: str) -> np.ndarray:
    if a.ndim == 0:
        return np.asarray(a * b)
    window = _window(mode, a.shape, b.shape)
    if method == "auto":
        inexact = np.result_type(a.dtype, b.dtype).kind in "fc"
        full_size = int(np.prod([m + n - 1 for m, n in zip(a.shape, b.shape)]))
        method = "fft" if inexact and min(a.size, b.size) > 64 and full_size > 4096 else "direct"
    return _fft(a, b, window) if method == "fft" else _direct(a, b, window)


def convolve(f: Any, g: Any, mode: str = "full", method: str = "auto") -> np.ndarray:
    """Discrete N-d convolution ``[f * g](i) = sum_a f(a) g(i - a)``.

    Args:
        f, g: arrays of the same rank (any shapes; 0-d arrays multiply).
        mode: ``full`` (default), ``same`` (shape of ``f``, centred) or ``valid`` (no zero
            extension used); see the module docstring for the exact rules.
        method: ``auto`` (default), ``direct`` (tap loop, exact for integers) or ``fft``.

    Returns:
        An array of dtype ``result_type(f, g)`` (floating for ``fft`` with integer inputs).

    Shapes:
        f: (M_1, ..., M_d)   g: (K_1, ..., K_d)
        full: (M_i + K_i - 1)   same: (M_i)   valid: (|M_i - K_i| + 1)

    >>> convolve([1, 2, 3], [0, 1, 0.5])
    array([0. , 1. , 2.5, 4. , 1.5])
    >>> convolve([1, 2, 3], [0, 1, 0.5], mode="same")
    array([1. , 2.5, 4. ])
    """
    a, b = _prepare(f, g, mode, method, "convolve")
    return _convolve(a, b, mode, method)


def correlate(f: Any, g: Any, mode: str = "full", method: str = "auto") -> np.ndarray:
    """Discrete N-d cross-correlation ``[f ⋆ g](k) = sum_n f(n + k) conj(g(n))``.

    Computed as ``convolve(f, conj(g) reversed on every axis)``; index ``k`` of the ``full``
    output is the shift ``k - (K - 1)``. ``valid`` with a ``g`` larger than ``f`` gives the
    valid part of ``g ⋆ f`` reversed, as scipy.

    Args:
        f, g: arrays of the same rank.
        mode: ``full`` (default), ``same`` or ``valid``.
        method: ``auto`` (default), ``direct`` or ``fft``.

    Shapes:
        as ``convolve``.

    >>> correlate([1, 2, 3], [0, 1, 0.5])
    array([0.5, 2. , 3.5, 3. , 0. ])
    """
    a, b = _prepare(f, g, mode, method, "correlate")
    flipped = np.asarray(b[(slice(None, None, -1),) * b.ndim])  # g(-n)
    if flipped.dtype.kind == "c":
        flipped = np.conj(flipped)
    return _convolve(a, flipped, mode, method)
