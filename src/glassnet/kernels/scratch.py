"""Per-thread scratch buffers for the big arrays a kernel needs only while it runs.

The conv and LSTM kernels allocate arrays of tens of MB per call that never leave the call (the
im2col blocks, packed inputs and gradients, the BPTT derivative factors). Fresh arrays that size
page-fault on every call once glibc has handed the memory back to the kernel, and a page fault
costs more than zeroing a reused buffer (figures in docs/benchmarks.md, "Kernel notes moved from
docstrings"). So such arrays come from a buffer kept per thread and role and reused across calls.

An array from a role is valid until that role's next use on the same thread: a kernel consumes
it (unpacks, reduces or copies out of it) before it, or anyone it calls, asks for the role again,
and never returns it. A kernel that calls user code while such an array is live (the BPTT loop
calling a gradient hook, which may run another backward) asks with ``reuse=False`` for those
arrays. Buffers larger than ``MAX_BYTES`` are not kept, which bounds what a thread holds to
(roles used) x (dtypes used) x ``MAX_BYTES``; ``clear`` drops them.
"""

from __future__ import annotations

import math
import threading

import numpy as np

MAX_BYTES = 2**26
_buffers = threading.local()


def scratch(
    role: str, shape: tuple[int, ...], dtype: np.dtype, zero: bool = False, reuse: bool = True
) -> np.ndarray:
    """An array of ``shape`` from this thread's buffer for ``role`` (zero-filled if ``zero``).

    Roles are namespaced by kernel (``'conv.cols'``, ``'lstm.factors'``, ...), so different
    kernels never share a buffer. ``reuse=False`` gives a fresh array instead (for arrays that
    stay live while user code runs, which could re-enter the same kernel).
    """
    dt = np.dtype(dtype)
    size = math.prod(shape)
    if not reuse or size * dt.itemsize > MAX_BYTES:
        return (np.zeros if zero else np.empty)(shape, dt)
    key = f"{role}:{dt.str}"
    buf = _buffers.__dict__.get(key)
    if buf is None or buf.size < size:
        buf = np.empty(size, dt)
        setattr(_buffers, key, buf)
    out = buf[:size].reshape(shape)
    if zero:
        out.fill(0)
    return out


def clear() -> None:
    """Drop this thread's buffers (the memory goes back once nothing else holds a view)."""
    _buffers.__dict__.clear()


def held_bytes() -> int:
    """Bytes held by this thread's buffers."""
    return sum(b.nbytes for b in _buffers.__dict__.values())
