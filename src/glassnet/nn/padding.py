"""Padding layers (thin wrappers over ``glassnet.ops.shape.pad``), PyTorch's names and arguments.

``padding`` is an int (the same on every side) or ``2 d`` ints in ``F.pad`` order, last dimension
first: ``(left, right)``, ``(left, right, top, bottom)``, ``(left, right, top, bottom, front,
back)``. Negative values crop. Reflection, replication and circular padding take a batched
``(N, C, *S)`` or unbatched ``(C, *S)`` input; constant (and zero) padding pads the last ``d``
dimensions of any input with at least ``d`` dimensions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.tensor import Tensor
from ..ops import shape as _shape
from ..ops._util import dim_doc
from .module import Module

_SPATIAL = {1: "W", 2: "H, W", 3: "D, H, W"}


def _padding(value: Any, nd: int, layer: str) -> tuple[int, ...]:
    """An int, or 2 nd ints in F.pad order -> the 2 nd ints."""

    def is_int(v: Any) -> bool:
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    if is_int(value):
        return (int(value),) * (2 * nd)
    if isinstance(value, (tuple, list)) and len(value) == 2 * nd and all(map(is_int, value)):
        return tuple(int(v) for v in value)
    raise TypeError(
        f"{layer} expected padding as an int or a tuple of {2 * nd} ints (left, right"
        f"{', top, bottom' if nd > 1 else ''}{', front, back' if nd > 2 else ''}), got {value!r}"
    )


class _PadNd(Module):
    _nd: int
    _mode: str

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = _padding(padding, self._nd, type(self).__name__)

    def _check_input(self, x: Any) -> None:
        nd = self._nd
        if not isinstance(x, Tensor):
            raise TypeError(
                f"{type(self).__name__} expected a Tensor input, got {type(x).__name__}"
            )
        if x.ndim not in (nd + 1, nd + 2):
            raise ValueError(
                f"{type(self).__name__} expected input of shape (N, C, {_SPATIAL[nd]}) or "
                f"(C, {_SPATIAL[nd]}), got {tuple(x.shape)}"
            )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        return _shape.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    _mode = "constant"

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        # as PyTorch: any input with at least d dimensions (F.pad checks it)
        return _shape.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


_DIMS = {1: "the last dimension", 2: "the last two dimensions", 3: "the last three dimensions"}
_PADDED = {
    1: "W + left + right",
    2: "H + top + bottom, W + left + right",
    3: "D + front + back, H + top + bottom, W + left + right",
}


_PAD_DOC = """Pad {dims} {what}.{note}

Shapes:
    {shapes}
{example}"""


def _doc(nd: int, what: str, batched: bool, example: str = "", note: str = "") -> str:
    """The docstring of a padding layer of ``nd`` dimensions: "Pad ... ``what``." and its shapes."""
    S, padded = _SPATIAL[nd], _PADDED[nd]
    shapes = (
        f"input: (N, C, {S}) or (C, {S})\n    output: (N, C, {padded})"
        if batched
        else f"input: (*, {S})   output: (*, {padded})"
    )
    return dim_doc(
        _PAD_DOC, nd, "", example, dims=_DIMS[nd], what=what, shapes=shapes,
        note=f"\n\n{note}" if note else "",
    )  # fmt: skip


class ConstantPad1d(_ConstantPadNd):
    _nd = 1
    __doc__ = _doc(1, "with ``value``", False, """
        >>> import glassnet
        >>> ConstantPad1d((1, 2), 3.5)(glassnet.ones(1, 2))
        tensor([[3.5000, 1.0000, 1.0000, 3.5000, 3.5000]])
        """)  # fmt: skip


class ConstantPad2d(_ConstantPadNd):
    _nd = 2
    __doc__ = _doc(2, "with ``value``", False, """
        >>> import glassnet
        >>> ConstantPad2d((1, 0, 2, 1), 0.5)(glassnet.ones(3, 4, 4)).shape
        (3, 7, 5)
        """)  # fmt: skip


class ConstantPad3d(_ConstantPadNd):
    _nd = 3
    __doc__ = _doc(3, "with ``value``", False)


class _ZeroPad(_ConstantPadNd):
    """Constant padding with zeros: ``ZeroPad2d(p)`` is ``ConstantPad2d(p, 0.0)``."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    __doc__ = _doc(1, "with zeros", False, """
        >>> import glassnet
        >>> ZeroPad1d(2)(glassnet.ones(1, 3, 4)).shape
        (1, 3, 8)
        """)  # fmt: skip


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    __doc__ = _doc(2, "with zeros", False)


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    __doc__ = _doc(3, "with zeros", False)


_MIRROR = "with {} mirror image (the edge is not repeated)"
_EDGE = "by repeating {} edge values"
_WRAP = "by wrapping around ({})"
_REFLECT_NOTE = "Every padding must be smaller than the padded dimension."
_WRAP_NOTE = "A padding may be at most the size of the dimension (it wraps around once)."


class ReflectionPad1d(_PadNd):
    _nd, _mode = 1, "reflect"
    __doc__ = _doc(1, _MIRROR.format("its"), True, """
        >>> import glassnet
        >>> ReflectionPad1d(2)(glassnet.tensor([[1.0, 2.0, 3.0]]))
        tensor([[3., 2., 1., 2., 3., 2., 1.]])
        """, _REFLECT_NOTE)  # fmt: skip


class ReflectionPad2d(_PadNd):
    _nd, _mode = 2, "reflect"
    __doc__ = _doc(2, _MIRROR.format("their"), True, note=_REFLECT_NOTE)


class ReflectionPad3d(_PadNd):
    _nd, _mode = 3, "reflect"
    __doc__ = _doc(3, _MIRROR.format("their"), True, note=_REFLECT_NOTE)


class ReplicationPad1d(_PadNd):
    _nd, _mode = 1, "replicate"
    __doc__ = _doc(1, _EDGE.format("its"), True, """
        >>> import glassnet
        >>> ReplicationPad1d((2, 1))(glassnet.tensor([[1.0, 2.0, 3.0]]))
        tensor([[1., 1., 1., 2., 3., 3.]])
        """)  # fmt: skip


class ReplicationPad2d(_PadNd):
    _nd, _mode = 2, "replicate"
    __doc__ = _doc(2, _EDGE.format("their"), True)


class ReplicationPad3d(_PadNd):
    _nd, _mode = 3, "replicate"
    __doc__ = _doc(3, _EDGE.format("their"), True)


class CircularPad1d(_PadNd):
    _nd, _mode = 1, "circular"
    __doc__ = _doc(1, _WRAP.format("a periodic boundary"), True, """
        >>> import glassnet
        >>> CircularPad1d((1, 2))(glassnet.tensor([[1.0, 2.0, 3.0]]))
        tensor([[3., 1., 2., 3., 1., 2.]])
        """, _WRAP_NOTE)  # fmt: skip


class CircularPad2d(_PadNd):
    _nd, _mode = 2, "circular"
    __doc__ = _doc(2, _WRAP.format("a torus"), True, note=_WRAP_NOTE)


class CircularPad3d(_PadNd):
    _nd, _mode = 3, "circular"
    __doc__ = _doc(3, _WRAP.format("periodic in every dimension"), True, note=_WRAP_NOTE)
