"""Default floating dtype (float32, as PyTorch; float64 on request) and PyTorch's type promotion."""

from __future__ import annotations

from typing import Any

import numpy as np

float16 = np.float16
float32 = np.float32
float64 = np.float64
int64 = np.int64
int32 = np.int32
int16 = np.int16
int8 = np.int8
uint8 = np.uint8
bool_ = np.bool_


_default_dtype: np.dtype = np.dtype(np.float32)


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype of new floating tensors and parameters (float32 or float64)."""
    global _default_dtype
    d = np.dtype(dtype)
    if d not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"set_default_dtype expected float32 or float64, got {d}")
    _default_dtype = d


def get_default_dtype() -> np.dtype:
    """The dtype new floating tensors and parameters get (float32 unless changed)."""
    return _default_dtype


def is_floating(dtype: Any) -> bool:
    """True for floating dtypes (the only ones that can carry gradients)."""
    return np.dtype(dtype).kind == "f"


_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}  # bool < integer < floating < complex


def number_dtype(kind: type) -> np.dtype:
    """The dtype PyTorch gives a Python number of type ``kind`` (bool, int, float or complex):
    bool, int64, the default float, or the default float's complex."""
    if kind is bool:
        return np.dtype(bool)
    if kind is int:
        return np.dtype(np.int64)
    if kind is float:
        return get_default_dtype()
    return np.result_type(get_default_dtype(), np.complex64)


def promote_types(*dtypes: Any) -> np.dtype:
    """The dtype PyTorch computes ``dtypes`` in together (``torch.promote_types``, any count).

    The highest kind wins (bool < integer < floating < complex) and only the dtypes of that kind
    decide its size, so int64 with float32 is float32 (NumPy would say float64); complex takes
    the precision of any floats beside it. Within a kind NumPy's rule applies (uint8 with int8
    is int16).

    >>> promote_types(np.int64, np.float32), promote_types(np.uint8, np.int8)
    (dtype('float32'), dtype('int16'))
    """
    ds = [np.dtype(d) for d in dtypes]
    if not ds:
        raise TypeError("promote_types expected at least one dtype")
    if any(d.kind not in _KIND_RANK for d in ds):
        raise TypeError(f"promote_types expected numeric or bool dtypes, got {ds}")
    top = max(_KIND_RANK[d.kind] for d in ds)
    return np.result_type(
        *(d for d in ds if _KIND_RANK[d.kind] == top or (top == 3 and d.kind == "f"))
    )


def can_cast(from_: Any, to: Any) -> bool:
    """Whether PyTorch's casting rules allow ``from_`` into ``to`` (``torch.can_cast``): never to
    a lower kind (a float into an integer, an integer into bool, complex into float).

    >>> can_cast(np.float64, np.float32), can_cast(np.float32, np.int64)
    (True, False)
    """
    return _KIND_RANK[np.dtype(from_).kind] <= _KIND_RANK[np.dtype(to).kind]


def result_type(*operands: Any) -> np.dtype:
    """The dtype of an elementwise op on ``operands`` (``torch.result_type``, any count).

    Operands are ranked as in PyTorch: tensors (or arrays) with dimensions, then 0-dim ones, then
    Python numbers, which take the default float dtype, int64 or bool. A lower rank changes the
    result only where it is of a higher kind: a float32 tensor times a 0-dim float64 tensor or a
    Python float stays float32, an int64 tensor times 2.5 is the default float.
    """
    tiers: list[list[np.dtype]] = [[], [], []]
    for x in operands:
        number = next((t for t in (bool, int, float, complex) if isinstance(x, t)), None)
        if number is not None:
            tiers[2].append(number_dtype(number))
        else:
            d = getattr(x, "dtype", None)
            if d is None:
                raise TypeError(f"result_type expected tensors or numbers, got {type(x).__name__}")
            tiers[0 if np.ndim(x) else 1].append(np.dtype(d))
    result: np.dtype | None = None
    for tier in reversed(tiers):  # Python numbers, then 0-dim, then dimensioned operands
        if not tier:
            continue
        higher = promote_types(*tier)
        if result is not None and _KIND_RANK[result.kind] > _KIND_RANK[higher.kind]:
            # the lower rank is of a higher kind: it decides the kind, floats keep their size
            both = (higher, np.complex64) if result.kind + higher.kind == "cf" else (higher, result)
            higher = promote_types(*both)
        result = higher
    if result is None:
        raise TypeError("result_type expected at least one operand")
    return result
