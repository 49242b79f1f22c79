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


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dimension with ``value``.

    Shapes:
        x: (*, W)   y: (*, W + left + right)

    >>> import glassnet
    >>> ConstantPad1d((1, 2), 3.5)(glassnet.ones(1, 2))
    tensor([[3.5000, 1.0000, 1.0000, 3.5000, 3.5000]])
    """

    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dimensions with ``value``.

    Shapes:
        x: (*, H, W)   y: (*, H + top + bottom, W + left + right)

    >>> import glassnet
    >>> ConstantPad2d((1, 0, 2, 1), 0.5)(glassnet.ones(3, 4, 4)).shape
    (3, 7, 5)
    """

    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dimensions with ``value``.

    Shapes:
        x: (*, D, H, W)   y: (*, D + front + back, H + top + bottom, W + left + right)
    """

    _nd = 3


class ZeroPad1d(ConstantPad1d):
    """Pad the last dimension with zeros.

    Shapes:
        x: (*, W)   y: (*, W + left + right)

    >>> import glassnet
    >>> ZeroPad1d(2)(glassnet.ones(1, 3, 4)).shape
    (1, 3, 8)
    """

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dimensions with zeros.

    Shapes:
        x: (*, H, W)   y: (*, H + top + bottom, W + left + right)
    """

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last three dimensions with zeros.

    Shapes:
        x: (*, D, H, W)   y: (*, D + front + back, H + top + bottom, W + left + right)
    """

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pad the last dimension with its mirror image (the edge is not repeated).

    Every padding must be smaller than the padded dimension.

    Shapes:
        x: (N, C, W) or (C, W)   y: (N, C, W + left + right)

    >>> import glassnet
    >>> ReflectionPad1d(2)(glassnet.tensor([[1.0, 2.0, 3.0]]))
    tensor([[3., 2., 1., 2., 3., 2., 1.]])
    """

    _nd, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Pad the last two dimensions with their mirror image.

    Shapes:
        x: (N, C, H, W) or (C, H, W)   y: (N, C, H + top + bottom, W + left + right)
    """

    _nd, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Pad the last three dimensions with their mirror image.

    Shapes:
        x: (N, C, D, H, W) or (C, D, H, W)
        y: (N, C, D + front + back, H + top + bottom, W + left + right)
    """

    _nd, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pad the last dimension by repeating its edge values.

    Shapes:
        x: (N, C, W) or (C, W)   y: (N, C, W + left + right)

    >>> import glassnet
    >>> ReplicationPad1d((2, 1))(glassnet.tensor([[1.0, 2.0, 3.0]]))
    tensor([[1., 1., 1., 2., 3., 3.]])
    """

    _nd, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Pad the last two dimensions by repeating their edge values.

    Shapes:
        x: (N, C, H, W) or (C, H, W)   y: (N, C, H + top + bottom, W + left + right)
    """

    _nd, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Pad the last three dimensions by repeating their edge values.

    Shapes:
        x: (N, C, D, H, W) or (C, D, H, W)
        y: (N, C, D + front + back, H + top + bottom, W + left + right)
    """

    _nd, _mode = 3, "replicate"


class CircularPad1d(_PadNd):
    """Pad the last dimension by wrapping around (periodic boundary).

    A padding may be at most the size of the dimension (it wraps around once).

    Shapes:
        x: (N, C, W) or (C, W)   y: (N, C, W + left + right)

    >>> import glassnet
    >>> CircularPad1d((1, 2))(glassnet.tensor([[1.0, 2.0, 3.0]]))
    tensor([[3., 1., 2., 3., 1., 2.]])
    """

    _nd, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Pad the last two dimensions by wrapping around (a torus).

    Shapes:
        x: (N, C, H, W) or (C, H, W)   y: (N, C, H + top + bottom, W + left + right)
    """

    _nd, _mode = 2, "circular"


class CircularPad3d(_PadNd):
    """Pad the last three dimensions by wrapping around.

    Shapes:
        x: (N, C, D, H, W) or (C, D, H, W)
        y: (N, C, D + front + back, H + top + bottom, W + left + right)
    """

    _nd, _mode = 3, "circular"
