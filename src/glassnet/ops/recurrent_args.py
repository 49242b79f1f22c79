"""Argument checks of the recurrent functional forms (``glassnet.ops.recurrent``) and layers.

PyTorch's rules for the hyper-parameters, and the weight groups and options of one call, checked
before any op runs, so that a user error never surfaces from inside a kernel.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd.tensor import Tensor


def check_recurrent_args(
    mode: str,
    input_size: int,
    hidden_size: int,
    num_layers: int,
    dropout: float,
    proj_size: int = 0,
) -> None:
    """Validate a recurrent layer's hyper-parameters (PyTorch's rules; dropout must be < 1)."""
    for n, v, lo in (("input_size", input_size, 1), ("hidden_size", hidden_size, 1),
                     ("num_layers", num_layers, 1), ("proj_size", proj_size, 0)):  # fmt: skip
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{mode} expected an int {n}, got {type(v).__name__} {v!r}")
        if v < lo:
            raise ValueError(f"{mode} expected an int {n} >= {lo}, got {v!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"{mode} expected dropout in [0, 1), got {dropout!r}")
    if proj_size and mode != "LSTM":
        raise ValueError(f"proj_size is only supported by LSTM, not {mode}")
    if proj_size >= hidden_size:
        raise ValueError(
            f"{mode} expected proj_size < hidden_size, got proj_size={proj_size} and "
            f"hidden_size={hidden_size}"
        )
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            f"{mode}: dropout={dropout} only acts between layers, so with num_layers=1 it has "
            "no effect",
            UserWarning,
            stacklevel=3,
        )


def int_array(a: Any, name: str, mode: str) -> np.ndarray:
    arr = np.asarray(a.data if isinstance(a, Tensor) else a)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{mode} expected {name} to hold integers, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def bool_array(a: Any, name: str, mode: str) -> np.ndarray:
    arr = np.asarray(a.data if isinstance(a, Tensor) else a)
    if arr.dtype != np.bool_:
        raise TypeError(f"{mode} expected {name} to be a boolean mask, got dtype {arr.dtype}")
    return arr


def split_weights(
    mode: str, weights: Sequence[Sequence[Any]], num_layers: int, ndir: int, proj: bool
) -> list[tuple[Any, ...]]:
    per = 5 if mode == "LSTM" else 4
    if len(weights) != num_layers * ndir:
        raise ValueError(
            f"{mode} expected {num_layers * ndir} weight groups (num_layers x directions), got "
            f"{len(weights)}"
        )
    groups = []
    for w in weights:
        w = tuple(w)
        if mode == "LSTM" and len(w) == 4:
            w = (*w, None)
        if len(w) != per:
            raise ValueError(f"{mode} expected weight groups of {per} entries, got {len(w)}")
        if (w[2] is None) != (w[3] is None):
            raise ValueError(f"{mode} expected both biases or neither")
        if mode == "LSTM" and (w[4] is not None) != proj:
            raise ValueError(f"{mode}: every weight group needs weight_hr when projecting")
        groups.append(w)
    return groups
