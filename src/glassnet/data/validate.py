"""What every loader checks in what it read: one error type, one-line messages naming the file.

A file handed to glassnet (an ``.npz`` of images, an image folder, a CSV column, a text, an IDX
file of MNIST, a safetensors or PyTorch checkpoint) either loads into finite arrays of the
documented dtype or raises ``InvalidFileError``: a ``ValueError`` whose message is one line that
starts with the file and says what was expected and what was found. ``IDXError`` and
``CheckpointError`` are ``InvalidFileError``\\ s; the ``glassnet`` command prints any of them as
``glassnet: error: <message>`` with exit code 2.

The checks shared by the loaders live here: ``check_array`` (container, dtype kind, rank,
emptiness, NaN/inf) and ``check_labels`` (integer class indices in range).

>>> import numpy as np
>>> check_array(np.ones((2, 3)), "x.npz", "images", kinds="iuf", ndim=(3, 4))
Traceback (most recent call last):
    ...
glassnet.data.validate.InvalidFileError: x.npz: 'images' must have 3 or 4 dimensions, got ...
"""

from __future__ import annotations

from typing import Any

import numpy as np

# numpy dtype kind -> words for messages
_KIND_WORDS = {
    "b": "booleans",
    "i": "signed integers",
    "u": "unsigned integers",
    "f": "floating-point numbers",
    "c": "complex numbers",
    "O": "Python objects",
    "U": "strings",
    "S": "bytes",
    "V": "raw records",
    "M": "datetimes",
    "m": "time deltas",
}
_EXPECTED = {
    "iuf": "real numbers (integers or floats)",
    "iu": "integers",
    "f": "floating-point numbers",
    "u": "unsigned integers",
}


class InvalidFileError(ValueError):
    """A file does not hold what its loader expects (the message: one line naming the file)."""


def describe(a: np.ndarray) -> str:
    """``float64 array of shape (3, 4)`` (the dtype's kind in words for unusual ones)."""
    kind = "" if a.dtype.kind in "iufb" else f" ({_KIND_WORDS.get(a.dtype.kind, 'unknown')})"
    return f"{a.dtype}{kind} array of shape {a.shape}"


def _ranks(ndim: int | tuple[int, ...]) -> str:
    dims = (ndim,) if isinstance(ndim, int) else ndim
    text = " or ".join(map(str, dims))
    return f"{text} dimension{'s' if dims != (1,) else ''}"


def check_array(
    a: Any,
    where: str,
    name: str,
    *,
    kinds: str = "iuf",
    ndim: int | tuple[int, ...] | None = None,
    nonempty: bool = True,
    finite: bool = True,
) -> np.ndarray:
    """``a`` if it is an array of the expected kind, rank and values; else ``InvalidFileError``.

    Args:
        a: what the file held.
        where: the file, first in every message.
        name: the array's name in the file (``'images'``).
        kinds: the accepted NumPy dtype kinds: ``'iuf'`` real numbers (never bool or complex:
            they are not numbers a model trains on, and a cast would silently drop the imaginary
            part or read True as 1), ``'iu'`` integers, ``'f'`` floats, ``'u'`` unsigned.
        ndim: the accepted number of dimensions (one or several).
        nonempty: refuse an array with no elements.
        finite: refuse NaN and infinite values (floating arrays).
    """
    if not isinstance(a, np.ndarray):
        raise InvalidFileError(f"{where}: {name!r} must be an array, got {type(a).__name__}")
    if a.dtype.kind not in kinds or a.dtype.hasobject:
        expected = _EXPECTED.get(kinds, "/".join(_KIND_WORDS[k] for k in kinds))
        raise InvalidFileError(f"{where}: {name!r} must hold {expected}, got {describe(a)}")
    if ndim is not None and a.ndim not in ((ndim,) if isinstance(ndim, int) else ndim):
        raise InvalidFileError(f"{where}: {name!r} must have {_ranks(ndim)}, got shape {a.shape}")
    if nonempty and a.size == 0:
        raise InvalidFileError(f"{where}: {name!r} is empty (shape {a.shape})")
    if finite and a.dtype.kind == "f":
        bad = a.size - int(np.count_nonzero(np.isfinite(a)))
        if bad:
            first = np.unravel_index(int(np.flatnonzero(~np.isfinite(a))[0]), a.shape)
            raise InvalidFileError(
                f"{where}: {name!r} holds {bad} NaN or infinite value(s) (the first at index "
                f"{tuple(int(i) for i in first)}); training on them gives NaN weights"
            )
    return a


def check_labels(
    labels: Any, where: str, *, count: int, num_classes: int, name: str = "labels"
) -> np.ndarray:
    """Class indices: ``count`` integers in ``[0, num_classes)``, returned as int64.

    Raises:
        InvalidFileError: not integers (floats, bool, ...), not of shape ``(count,)``, or a
            value out of range (the message gives the range found).
    """
    a = check_array(labels, where, name, kinds="iu", ndim=1)
    if a.shape[0] != count:
        raise InvalidFileError(
            f"{where}: {name!r} must hold one label per image ({count}), got shape {a.shape}"
        )
    lo, hi = int(a.min()), int(a.max())
    if lo < 0 or hi >= num_classes:
        raise InvalidFileError(
            f"{where}: {name!r} must be class indices in [0, {num_classes}), got values in "
            f"[{lo}, {hi}]"
        )
    return a.astype(np.int64)


def to_float32(a: np.ndarray, where: str, name: str) -> np.ndarray:
    """A float32 copy of a checked real array, refusing values beyond float32's range."""
    if a.dtype.kind == "f" and a.dtype.itemsize > 4 and a.size:
        big = float(np.abs(a).max())
        if big > float(np.finfo(np.float32).max):
            raise InvalidFileError(
                f"{where}: {name!r} has values up to {big:.3g}, beyond the float32 range"
            )
    return a.astype(np.float32)
