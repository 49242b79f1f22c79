"""``glassnet.device``: PyTorch's device objects, for a library that only ever runs on the CPU.

glassnet computes with NumPy, so every tensor lives in main memory and ``device('cpu')`` is the
only device there is. The class exists so that PyTorch code reads the same:
``x.to(device)``, ``model.to('cpu')``, ``torch.device('cuda' if cuda.is_available() else
'cpu')``. Naming an accelerator raises at once with a message that says why.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# PyTorch's device types (torch.device's error message lists these).
_TORCH_TYPES = (
    "cpu",
    "cuda",
    "ipu",
    "xpu",
    "mkldnn",
    "opengl",
    "opencl",
    "ideep",
    "hip",
    "ve",
    "fpga",
    "maia",
    "xla",
    "lazy",
    "vulkan",
    "mps",
    "meta",
    "hpu",
    "mtia",
    "privateuseone",
)


def not_available(what: str) -> RuntimeError:
    """The error for any accelerator: glassnet is a CPU-only (NumPy) build."""
    return RuntimeError(
        f"{what} is not available: glassnet is a CPU-only build (it computes with NumPy), so "
        "'cpu' is its only device. glassnet.cuda.is_available() is False; write "
        "device = 'cuda' if glassnet.cuda.is_available() else 'cpu' to keep PyTorch code portable"
    )


class device:
    """Where a tensor lives: always the CPU in glassnet (PyTorch's ``torch.device``).

    Accepts ``'cpu'``, ``'cpu:0'``, ``('cpu', 0)`` or another device. Repr, ``str``, equality
    and hashing follow PyTorch: ``device('cpu') != device('cpu:0')``, and a device never equals
    a string. Accelerator types (``'cuda'``, ``'mps'``, ...) raise a RuntimeError naming the
    CPU-only build; unknown strings raise ValueError.

    >>> import glassnet
    >>> glassnet.device("cpu")
    device(type='cpu')
    >>> str(glassnet.device("cpu", 0)), glassnet.ones(2).device == glassnet.device("cpu")
    ('cpu:0', True)
    """

    __slots__ = ("_index", "_type")

    def __init__(self, type: Any, index: int | None = None) -> None:
        if isinstance(type, device):
            if index is not None:
                raise ValueError("device(device, index): give the index in one place only")
            self._type, self._index = type.type, type.index
            return
        if isinstance(type, (int, np.integer)) and not isinstance(type, bool):
            raise not_available(f"device index {int(type)} (an accelerator ordinal)")
        if not isinstance(type, str):
            raise TypeError(
                f"device expected a string such as 'cpu' or a device, got {type.__class__.__name__}"
            )
        kind, _, ordinal = type.partition(":")
        if kind not in _TORCH_TYPES:
            raise ValueError(
                f"device expected a device type such as 'cpu' (PyTorch also knows "
                f"{', '.join(_TORCH_TYPES[1:6])}, ...), got {type!r}"
            )
        if ordinal:
            if index is not None:
                raise ValueError(f"device({type!r}, {index}): give the index in one place only")
            if not ordinal.isdigit():
                raise ValueError(f"device expected a non-negative index after ':', got {type!r}")
            index = int(ordinal)
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
                raise ValueError(f"device index must be a non-negative int, got {index!r}")
            index = int(index)
        if kind != "cpu":
            raise not_available(f"device {kind!r}")
        self._type, self._index = kind, index

    @property
    def type(self) -> str:
        return self._type

    @property
    def index(self) -> int | None:
        return self._index

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type={self._type!r})"
        return f"device(type={self._type!r}, index={self._index})"

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, device):
            return False
        return (self._type, self._index) == (other._type, other._index)

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __reduce__(self) -> Any:
        return (device, (self._type, self._index))


CPU = device("cpu")


def check_device(device_: Any) -> None:
    """Accept PyTorch's ``device=`` keyword of factories and layers: None or the CPU.

    Anything else raises as ``glassnet.device`` does (an accelerator: the CPU-only build).
    """
    if device_ is not None:
        device(device_)


def is_device_like(x: Any) -> bool:
    """A device, or a string that names a device type (``'cpu'``, ``'cuda:1'``, ``'mps'``)."""
    if isinstance(x, device):
        return True
    return isinstance(x, str) and x.partition(":")[0] in _TORCH_TYPES


def parse_to(
    args: tuple[Any, ...], kwargs: dict[str, Any], *, method: str, allow_copy: bool = True
) -> tuple[np.dtype | None, bool]:
    """Read PyTorch's ``.to`` overloads: ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``.

    Each takes ``non_blocking`` and (tensors only) ``copy`` after them, positionally or by
    keyword. Returns ``(dtype or None, copy)``; the device is checked (only the CPU exists) and
    ``non_blocking`` accepted and ignored, since nothing is ever transferred.
    """
    from .autograd.tensor import Tensor

    allowed = {"device", "dtype", "non_blocking", "copy"}
    if not allow_copy:
        allowed.discard("copy")
    unknown = set(kwargs) - allowed
    if unknown:
        raise TypeError(f"{method}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    rest = list(args)
    dev = kwargs.get("device")
    dtype = kwargs.get("dtype")
    if rest and isinstance(rest[0], Tensor):  # to(other, non_blocking, copy)
        if dev is not None or dtype is not None:
            raise TypeError(f"{method}(tensor) takes no device= or dtype=")
        dtype = rest.pop(0).dtype
    elif rest and (is_device_like(rest[0]) or _is_ordinal(rest[0])):  # to(device, dtype, ...)
        if dev is not None:
            raise TypeError(f"{method}() got the device twice")
        dev = rest.pop(0)
        if rest and not isinstance(rest[0], bool):
            if dtype is not None:
                raise TypeError(f"{method}() got the dtype twice")
            dtype = rest.pop(0)
    elif rest and not isinstance(rest[0], bool):  # to(dtype, non_blocking, copy)
        if dtype is not None:
            raise TypeError(f"{method}() got the dtype twice")
        dtype = rest.pop(0)
    flags = ["non_blocking", "copy"] if allow_copy else ["non_blocking"]
    if len(rest) > len(flags):
        raise TypeError(
            f"{method}() expected (device, dtype), (dtype) or (tensor), then "
            f"{' and '.join(flags)}; got {len(args)} positional arguments"
        )
    given = dict(zip(flags, rest))
    for k in given:
        if k in kwargs:
            raise TypeError(f"{method}() got multiple values for {k!r}")
    copy = bool(given.get("copy", kwargs.get("copy", False)))
    if dev is not None:
        device(dev)  # raises for anything but the CPU
    return (None if dtype is None else _dtype(dtype, method)), copy


def _is_ordinal(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _dtype(x: Any, method: str) -> np.dtype:
    if isinstance(x, str) and is_device_like(x):
        raise TypeError(f"{method}() got the device {x!r} where a dtype belongs")
    try:
        return np.dtype(x)
    except TypeError:
        raise TypeError(
            f"{method}() expected a device (such as 'cpu') or a dtype (such as glassnet.float64), "
            f"got {x!r}"
        ) from None
