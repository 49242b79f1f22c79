"""Per-thread scratch buffers: reuse, zeroing, size cap, one buffer per thread and role."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from glassnet.kernels import scratch as _scratch


def test_reused_per_role_and_dtype() -> None:
    a = _scratch.scratch("test.a", (3, 4), np.float32)
    a[...] = 7
    b = _scratch.scratch("test.a", (2, 5), np.float32)  # smaller: the same memory
    assert b.shape == (2, 5) and np.shares_memory(a, b)
    assert not np.shares_memory(a, _scratch.scratch("test.b", (3, 4), np.float32))
    assert not np.shares_memory(a, _scratch.scratch("test.a", (3, 4), np.float64))
    bigger = _scratch.scratch("test.a", (100,), np.float32)  # grows: a new buffer
    assert bigger.size == 100 and not np.shares_memory(a, bigger)


def test_zero_fill() -> None:
    a = _scratch.scratch("test.z", (50,), np.float64)
    a[...] = 3.0
    z = _scratch.scratch("test.z", (50,), np.float64, zero=True)
    assert np.shares_memory(a, z) and not z.any()


def test_large_arrays_are_not_kept(monkeypatch: Any) -> None:
    monkeypatch.setattr(_scratch, "MAX_BYTES", 64)
    a = _scratch.scratch("test.big", (100,), np.float32, zero=True)
    b = _scratch.scratch("test.big", (100,), np.float32)
    assert not a.any() and not np.shares_memory(a, b)


def test_one_buffer_per_thread() -> None:
    got: list[Any] = [None, None]

    def work(i: int) -> None:
        got[i] = _scratch.scratch("test.t", (10,), np.float32)
        got[i][...] = i

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not np.shares_memory(got[0], got[1])
    assert (got[0] == 0).all() and (got[1] == 1).all()


def test_clear_and_held_bytes() -> None:
    _scratch.scratch("test.c", (256,), np.float64)
    assert _scratch.held_bytes() >= 256 * 8
    _scratch.clear()
    assert _scratch.held_bytes() == 0
