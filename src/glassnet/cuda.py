"""``glassnet.cuda``: the answers PyTorch's ``torch.cuda`` gives on a machine without a GPU.

glassnet computes with NumPy on the CPU; these functions let ``if torch.cuda.is_available():``
code run unchanged.

>>> import glassnet
>>> glassnet.cuda.is_available(), glassnet.cuda.device_count()
(False, 0)
"""

from __future__ import annotations

from .device import not_available


def is_available() -> bool:
    """Always False: glassnet is a CPU-only build."""
    return False


def device_count() -> int:
    """Always 0: glassnet sees no GPUs."""
    return 0


def current_device() -> int:
    """Raises: there is no CUDA device to be current (as PyTorch without CUDA)."""
    raise not_available("CUDA")
