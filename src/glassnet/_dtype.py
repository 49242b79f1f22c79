"""Default floating dtype (float32, as PyTorch; float64 on request)."""

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
