"""Helpers shared by the experiments: seeding, timing, and tables."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np


def rng_for(seed: int, *streams: int) -> np.random.Generator:
    """An independent generator for (seed, stream...): runs are reproducible piece by piece."""
    return np.random.default_rng([int(seed), *map(int, streams)])


@contextmanager
def timer() -> Iterator[list[float]]:
    """``with timer() as t: ...`` then ``t[0]`` holds the elapsed wall time in seconds."""
    box = [0.0]
    start = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - start


def machine() -> str:
    """A one-line description of this machine (CPU count, BLAS threads if set, Python)."""
    threads = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
    blas = f", BLAS threads={threads}" if threads else ""
    return (
        f"{platform.machine()}, {os.cpu_count()} cores{blas}, Python "
        f"{platform.python_version()}, NumPy {np.__version__}"
    )


def _fmt(v: Any, digits: int) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)):
        return format(float(v), f".{digits}g")
    return str(v).replace("|", "\\|").replace("\n", " ")


def format_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None, digits: int = 4
) -> str:
    """A Markdown table of ``rows`` (list of dicts); columns default to the union of keys.

    Floats are written with ``digits`` significant digits.

    >>> print(format_table([{"model": "AR", "rmse": 1.23456}], digits=3))
    | model | rmse |
    | --- | --- |
    | AR | 1.23 |
    """
    if not rows:
        return "(no rows)"
    if columns is None:
        columns = []
        for r in rows:
            columns += [k for k in r if k not in columns]
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c, ""), digits) for c in columns) + " |")
    return "\n".join(lines)
