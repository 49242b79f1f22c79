"""Pooling layers (thin wrappers over ``glassnet.ops.pool``), PyTorch's names and arguments."""

from __future__ import annotations

from typing import Any

from ..ops import pool as P
from .module import Module


class _MaxPoolNd(Module):
    _fn: Any

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Any) -> Any:
        return type(self)._fn(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """1-d max pooling; see ``glassnet.ops.pool`` for ties, padding and ``ceil_mode``.

    Shapes:
        x: (N, C, L) or (C, L)   y: (N, C, L_out)
        L_out = floor((L + 2p - d(k - 1) - 1 [+ s - 1 with ceil_mode]) / s) + 1

    >>> import glassnet
    >>> MaxPool1d(2)(glassnet.ones(1, 3, 8)).shape
    (1, 3, 4)
    """

    _fn = staticmethod(P.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """2-d max pooling (``return_indices=True`` returns ``(y, indices)``).

    Shapes:
        x: (N, C, H, W) or (C, H, W)   y: (N, C, H_out, W_out), H_out and W_out as MaxPool1d

    >>> import glassnet
    >>> MaxPool2d(3, stride=2, padding=1)(glassnet.ones(2, 4, 8, 8)).shape
    (2, 4, 4, 4)
    """

    _fn = staticmethod(P.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """3-d max pooling.

    Shapes:
        x: (N, C, D, H, W) or (C, D, H, W)   y: (N, C, D_out, H_out, W_out)
    """

    _fn = staticmethod(P.max_pool3d)


class AvgPool1d(Module):
    """1-d average pooling (zero padding, ``count_include_pad`` as PyTorch).

    Shapes:
        x: (N, C, L) or (C, L)   y: (N, C, L_out),  L_out = floor((L + 2p - k [+ s - 1]) / s) + 1

    >>> import glassnet
    >>> AvgPool1d(3, stride=1, padding=1)(glassnet.ones(1, 1, 5)).shape
    (1, 1, 5)
    """

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Any) -> Any:
        return P.avg_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _single(v: Any) -> Any:
    return tuple(v) if isinstance(v, (tuple, list)) else (v,)


class _AvgPoolNd(Module):
    _fn: Any

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Any) -> Any:
        return type(self)._fn(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """2-d average pooling (``divisor_override`` replaces the window size as divisor).

    Shapes:
        x: (N, C, H, W) or (C, H, W)   y: (N, C, H_out, W_out)

    >>> import glassnet
    >>> AvgPool2d(2)(glassnet.ones(1, 1, 4, 6)).shape
    (1, 1, 2, 3)
    """

    _fn = staticmethod(P.avg_pool2d)


class AvgPool3d(_AvgPoolNd):
    """3-d average pooling.

    Shapes:
        x: (N, C, D, H, W) or (C, D, H, W)   y: (N, C, D_out, H_out, W_out)
    """

    _fn = staticmethod(P.avg_pool3d)


class _AdaptivePoolNd(Module):
    _fn: Any

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Any) -> Any:
        return type(self)._fn(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """Average over ``output_size`` bins, bin i = ``[floor(i L/O), ceil((i+1) L/O))``.

    Shapes:
        x: (N, C, L) or (C, L)   y: (N, C, O)

    >>> import glassnet
    >>> AdaptiveAvgPool1d(3)(glassnet.ones(2, 4, 10)).shape
    (2, 4, 3)
    """

    _fn = staticmethod(P.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """2-d adaptive average pooling; ``AdaptiveAvgPool2d(1)`` is global average pooling.

    Shapes:
        x: (N, C, H, W) or (C, H, W)   y: (N, C, O_H, O_W)  (None in output_size keeps a size)
    """

    _fn = staticmethod(P.adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptivePoolNd):
    """3-d adaptive average pooling.

    Shapes:
        x: (N, C, D, H, W) or (C, D, H, W)   y: (N, C, O_D, O_H, O_W)
    """

    _fn = staticmethod(P.adaptive_avg_pool3d)


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input: Any) -> Any:
        return type(self)._fn(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max over adaptive bins (``return_indices=True`` returns ``(y, indices)``).

    Shapes:
        x: (N, C, L) or (C, L)   y: (N, C, O)

    >>> import glassnet
    >>> AdaptiveMaxPool1d(1)(glassnet.ones(2, 4, 10)).shape
    (2, 4, 1)
    """

    _fn = staticmethod(P.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """2-d adaptive max pooling; ``AdaptiveMaxPool2d(1)`` is global max pooling.

    Shapes:
        x: (N, C, H, W) or (C, H, W)   y: (N, C, O_H, O_W)
    """

    _fn = staticmethod(P.adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """3-d adaptive max pooling.

    Shapes:
        x: (N, C, D, H, W) or (C, D, H, W)   y: (N, C, O_D, O_H, O_W)
    """

    _fn = staticmethod(P.adaptive_max_pool3d)
