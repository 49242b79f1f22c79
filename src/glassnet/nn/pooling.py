"""Pooling layers (thin wrappers over ``glassnet.ops.pool``), PyTorch's names and arguments.

One N-d base per kind holds the arguments, the forward call and the repr; the 1/2/3-d classes set
their dimension and fill the kind's docstring template (``Shapes:`` block with the output size).
"""

from __future__ import annotations

from typing import Any

from ..ops import pool as P
from ..ops._pool_doc import ADAPTIVE_BIN, AVG_POOL_OUT, MAX_POOL_OUT
from ..ops._util import dim_doc
from .module import Module


class _MaxPoolNd(Module):
    _nd: int

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
        return P._max_pool(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
            _nd=self._nd,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


_MAX_POOL_DOC = """{nd}-d max pooling (ties, padding and ``ceil_mode``: see ``glassnet.ops.pool``).

``return_indices=True`` returns ``(output, indices)``.

Shapes:
    input: (N, C, {S}) or (C, {S})   output: (N, C, {S_out})
    {out}
{example}"""


class MaxPool1d(_MaxPoolNd):
    _nd = 1
    __doc__ = dim_doc(_MAX_POOL_DOC, 1, MAX_POOL_OUT, """
        >>> import glassnet
        >>> MaxPool1d(2)(glassnet.ones(1, 3, 8)).shape
        (1, 3, 4)
        """)  # fmt: skip


class MaxPool2d(_MaxPoolNd):
    _nd = 2
    __doc__ = dim_doc(_MAX_POOL_DOC, 2, MAX_POOL_OUT, """
        >>> import glassnet
        >>> MaxPool2d(3, stride=2, padding=1)(glassnet.ones(2, 4, 8, 8)).shape
        (2, 4, 4, 4)
        """)  # fmt: skip


class MaxPool3d(_MaxPoolNd):
    _nd = 3
    __doc__ = dim_doc(_MAX_POOL_DOC, 3, MAX_POOL_OUT)


_AVG_POOL_DOC = """{nd}-d average pooling (zero padding, ``count_include_pad`` as PyTorch).{note}

Shapes:
    input: (N, C, {S}) or (C, {S})   output: (N, C, {S_out})
    {out}
{example}"""
_DIVISOR = "\n\n``divisor_override`` replaces the window size as divisor."


class AvgPool1d(Module):
    # its own class: PyTorch's AvgPool1d has no divisor_override and keeps its sizes as tuples
    __doc__ = dim_doc(_AVG_POOL_DOC, 1, AVG_POOL_OUT, """
        >>> import glassnet
        >>> AvgPool1d(3, stride=1, padding=1)(glassnet.ones(1, 1, 5)).shape
        (1, 1, 5)
        """, note="")  # fmt: skip

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
    _nd: int

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
        return P._avg_pool(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
            _nd=self._nd,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    _nd = 2
    __doc__ = dim_doc(_AVG_POOL_DOC, 2, AVG_POOL_OUT, """
        >>> import glassnet
        >>> AvgPool2d(2)(glassnet.ones(1, 1, 4, 6)).shape
        (1, 1, 2, 3)
        """, note=_DIVISOR)  # fmt: skip


class AvgPool3d(_AvgPoolNd):
    _nd = 3
    __doc__ = dim_doc(_AVG_POOL_DOC, 3, AVG_POOL_OUT, note=_DIVISOR)


class _AdaptivePoolNd(Module):
    _nd: int

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Any) -> Any:
        return P._adaptive_avg_pool(input, self.output_size, _nd=self._nd)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


_ADAPTIVE_DOC = """{nd}-d adaptive {kind} pooling over ``output_size`` bins per axis.{note}

Shapes:
    input: (N, C, {S}) or (C, {S})   output: (N, C, {O})
    {out}
{example}"""
_GLOBAL = "\n\n``{cls}(1)`` is global {kind} pooling; ``None`` in ``output_size`` keeps a size."
_INDICES = "\n\n``return_indices=True`` returns ``(output, indices)``."


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    _nd = 1
    __doc__ = dim_doc(_ADAPTIVE_DOC, 1, ADAPTIVE_BIN, """
        >>> import glassnet
        >>> AdaptiveAvgPool1d(3)(glassnet.ones(2, 4, 10)).shape
        (2, 4, 3)
        """, kind="average", note="")  # fmt: skip


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    _nd = 2
    __doc__ = dim_doc(
        _ADAPTIVE_DOC, 2, ADAPTIVE_BIN, kind="average",
        note=_GLOBAL.format(cls="AdaptiveAvgPool2d", kind="average"),
    )  # fmt: skip


class AdaptiveAvgPool3d(_AdaptivePoolNd):
    _nd = 3
    __doc__ = dim_doc(_ADAPTIVE_DOC, 3, ADAPTIVE_BIN, kind="average", note="")


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input: Any) -> Any:
        return P._adaptive_max_pool(input, self.output_size, self.return_indices, _nd=self._nd)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    _nd = 1
    __doc__ = dim_doc(_ADAPTIVE_DOC, 1, ADAPTIVE_BIN, """
        >>> import glassnet
        >>> AdaptiveMaxPool1d(1)(glassnet.ones(2, 4, 10)).shape
        (2, 4, 1)
        """, kind="max", note=_INDICES)  # fmt: skip


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    _nd = 2
    __doc__ = dim_doc(
        _ADAPTIVE_DOC, 2, ADAPTIVE_BIN, kind="max",
        note=_GLOBAL.format(cls="AdaptiveMaxPool2d", kind="max") + _INDICES,
    )  # fmt: skip


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    _nd = 3
    __doc__ = dim_doc(_ADAPTIVE_DOC, 3, ADAPTIVE_BIN, kind="max", note=_INDICES)
