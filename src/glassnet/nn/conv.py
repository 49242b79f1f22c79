"""Convolution layers: Conv1d/2d/3d and ConvTranspose1d/2d/3d (PyTorch's names and arguments).

The layers hold ``weight`` and ``bias`` and call the functional forms in ``glassnet.ops.conv``.
Non-zero padding modes pad first (``glassnet.ops.shape.pad``) and then convolve with padding 0,
as PyTorch does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._dtype import get_default_dtype
from .._random import get_rng
from ..autograd.tensor import Parameter, Tensor
from ..device import check_device
from ..ops import conv as _conv
from ..ops import shape as _shape
from ..ops._util import check_weight_dtype, dim_doc, shape_str
from . import init
from .module import Module

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}


def _ntuple(value: Any, nd: int, name: str, layer: str) -> tuple[int, ...]:
    items = (value,) * nd if isinstance(value, (int, np.integer)) else value
    if (
        isinstance(value, bool)
        or not isinstance(items, (tuple, list))
        or len(items) != nd
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items)
    ):
        raise TypeError(
            f"{layer} expected {name} to be an int or a tuple of {nd} ints, got {value!r}"
        )
    return tuple(int(v) for v in items)


class _ConvNd(Module):
    """Shared constructor, initialisation and repr of the convolution layers."""

    _nd: int
    _transposed: bool = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] | str = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        check_device(device)
        name, nd = type(self).__name__, self._nd
        for arg, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} expected a positive int {arg}, got {v!r}")
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
            raise ValueError(f"{name} expected groups to be a positive int, got {groups!r}")
        if in_channels % groups:
            raise ValueError(
                f"{name} expected in_channels ({in_channels}) divisible by groups={groups}"
            )
        if out_channels % groups:
            raise ValueError(
                f"{name} expected out_channels ({out_channels}) divisible by groups={groups}"
            )
        self.kernel_size = _ntuple(kernel_size, nd, "kernel_size", name)
        self.stride = _ntuple(stride, nd, "stride", name)
        self.dilation = _ntuple(dilation, nd, "dilation", name)
        self.output_padding = (0,) * nd  # the transposed layers set theirs
        for arg, vals in (
            ("kernel_size", self.kernel_size),
            ("stride", self.stride),
            ("dilation", self.dilation),
        ):
            if any(v < 1 for v in vals):
                raise ValueError(f"{name} expected positive {arg}, got {vals}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{name} expected padding_mode to be one of {_PADDING_MODES}, got {padding_mode!r}"
            )
        self.padding: tuple[int, ...] | str
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"{name} expected padding 'same', 'valid' or ints, got {padding!r}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(
                    f"{name}: padding='same' is not supported for strided convolutions, "
                    f"got stride={self.stride} (expected all 1)"
                )
            self.padding = padding
            total = [
                d * (k - 1) if padding == "same" else 0
                for d, k in zip(self.dilation, self.kernel_size)
            ]
            pads = [(t // 2, t - t // 2) for t in total]
        else:
            self.padding = _ntuple(padding, nd, "padding", name)
            if any(p < 0 for p in self.padding):
                raise ValueError(f"{name} expected non-negative padding, got {self.padding}")
            pads = [(p, p) for p in self.padding]
        # F.pad order: last axis first, (before, after) pairs
        self._reversed_padding_repeated_twice = [v for lo_hi in reversed(pads) for v in lo_hi]
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.groups, self.padding_mode = int(groups), padding_mode
        self.transposed = self._transposed

        d = dtype or get_default_dtype()
        shape = (
            (in_channels, out_channels // groups, *self.kernel_size)
            if self._transposed
            else (out_channels, in_channels // groups, *self.kernel_size)
        )
        self.weight = Parameter(np.empty(shape, d))
        if bias:
            self.bias = Parameter(np.empty(out_channels, d))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(rng=rng)

    def reset_parameters(self, *, rng: np.random.Generator | None = None) -> None:
        """PyTorch's initialisation: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

        ``kaiming_uniform_(a=sqrt(5))`` gives the weight bound ``sqrt(6 / ((1 + 5) fan_in))``;
        ``fan_in = weight.shape[1] * prod(kernel_size)``, for transposed layers too (where
        ``weight.shape[1]`` is ``out_channels / groups``), exactly as PyTorch computes it.
        """
        rng = get_rng(rng)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=rng)
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            init.fan_in_uniform_(self.bias, fan_in, rng=rng)

    def extra_repr(self) -> str:
        nd = self._nd
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _check_input(self, x: Any) -> Tensor:
        name, nd = type(self).__name__, self._nd
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} expected a Tensor input, got {type(x).__name__}")
        spatial = _SPATIAL[nd]
        if x.ndim not in (nd + 1, nd + 2) or x.shape[-nd - 1] != self.in_channels:
            raise ValueError(
                f"{name} expected input of shape (N, {self.in_channels}, {spatial}) or "
                f"({self.in_channels}, {spatial}), got {shape_str(x.shape)}"
            )
        check_weight_dtype(name, x, self.weight)
        return x


class _Conv(_ConvNd):
    def forward(self, input: Tensor) -> Tensor:
        x = self._check_input(input)
        padding: tuple[int, ...] | str | int = self.padding
        if self.padding_mode != "zeros":  # pad first, then convolve with padding 0
            x, padding = self._pad(x), 0
        return _conv._conv(
            x,
            self.weight,
            self.bias,
            self.stride,
            padding,
            self.dilation,
            self.groups,
            _op=type(self).__name__.lower(),
            _nd=self._nd,
        )

    def _pad(self, x: Tensor) -> Tensor:
        pads = self._reversed_padding_repeated_twice
        sizes = x.shape[-self._nd :]
        for axis, n in enumerate(sizes):
            lo, hi = pads[2 * (self._nd - 1 - axis)], pads[2 * (self._nd - 1 - axis) + 1]
            limit = n - 1 if self.padding_mode == "reflect" else n
            if self.padding_mode != "replicate" and max(lo, hi) > limit:
                raise ValueError(
                    f"{type(self).__name__}: padding {(lo, hi)} is too large for "
                    f"padding_mode={self.padding_mode!r} on an input axis of size {n} "
                    f"(expected at most {limit}); input shape {shape_str(x.shape)}"
                )
        return _shape.pad(x, pads, mode=self.padding_mode)


_CONV_DOC = """{nd}-d convolution (cross-correlation) layer.

Shapes:
    input: (N, C_in, {S}) or (C_in, {S})   output: (N, C_out, {S_out})
    {out}
    weight: (C_out, C_in / groups, {K})   bias: (C_out,)
{example}"""


class Conv1d(_Conv):
    _nd = 1
    __doc__ = dim_doc(_CONV_DOC, 1, _conv.CONV_OUT, """
        >>> import glassnet
        >>> Conv1d(4, 8, 3, padding=1, rng=glassnet.manual_seed(0))(glassnet.ones(2, 4, 10)).shape
        (2, 8, 10)
        """)  # fmt: skip


class Conv2d(_Conv):
    _nd = 2
    __doc__ = dim_doc(_CONV_DOC, 2, _conv.CONV_OUT, """
        >>> import glassnet
        >>> layer = Conv2d(3, 8, kernel_size=3, stride=2, padding=1, rng=glassnet.manual_seed(0))
        >>> layer
        Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))
        >>> layer(glassnet.ones(1, 3, 32, 32)).shape
        (1, 8, 16, 16)
        """)  # fmt: skip


class Conv3d(_Conv):
    _nd = 3
    __doc__ = dim_doc(_CONV_DOC, 3, _conv.CONV_OUT, """
        >>> import glassnet
        >>> layer = Conv3d(2, 4, 3, padding="same", rng=glassnet.manual_seed(0))
        >>> layer(glassnet.ones(1, 2, 5, 5, 5)).shape
        (1, 4, 5, 5, 5)
        """)  # fmt: skip


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        output_padding: int | Sequence[int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | Sequence[int] = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f"{name} supports only padding_mode='zeros', got {padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"{name} expected padding to be ints, got {padding!r}")
        out_pad = _ntuple(output_padding, self._nd, "output_padding", name)
        if any(v < 0 for v in out_pad):
            raise ValueError(f"{name} expected non-negative output_padding, got {out_pad}")
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
            rng=rng,
        )
        self.output_padding = out_pad
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if op >= max(s, d):
                raise ValueError(
                    f"{name} expected output_padding smaller than stride or dilation, got "
                    f"output_padding={self.output_padding}, stride={self.stride}, "
                    f"dilation={self.dilation}"
                )

    def _output_padding(self, x: Tensor, output_size: Sequence[int] | None) -> tuple[int, ...]:
        """``output_padding`` that gives the requested ``output_size`` (PyTorch's rule)."""
        if output_size is None:
            return self.output_padding
        name, nd = type(self).__name__, self._nd
        size = [int(v) for v in output_size]
        if len(size) == x.ndim:  # full shape given: keep the spatial part
            size = size[-nd:]
        if len(size) != nd:
            raise ValueError(
                f"{name} expected output_size with {nd} spatial sizes (or the full output shape "
                f"with {x.ndim}), got {tuple(output_size)}"
            )
        assert isinstance(self.padding, tuple)
        lo_sizes = [
            (n - 1) * s - 2 * p + d * (k - 1) + 1
            for n, s, p, d, k in zip(
                x.shape[-nd:], self.stride, self.padding, self.dilation, self.kernel_size
            )
        ]
        hi_sizes = [m + s - 1 for m, s in zip(lo_sizes, self.stride)]
        if any(not lo <= v <= hi for v, lo, hi in zip(size, lo_sizes, hi_sizes)):
            raise ValueError(
                f"{name}: requested output_size {tuple(size)} is unreachable; valid sizes range "
                f"from {tuple(lo_sizes)} to {tuple(hi_sizes)} for an input of spatial size "
                f"{tuple(x.shape[-nd:])}"
            )
        return tuple(v - lo for v, lo in zip(size, lo_sizes))

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        x = self._check_input(input)
        out_pad = self._output_padding(x, output_size)
        assert isinstance(self.padding, tuple)  # transposed layers take int padding only
        return _conv._conv_transpose(
            x,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            out_pad,
            self.groups,
            self.dilation,
            _op=f"conv_transpose{self._nd}d",
            _nd=self._nd,
        )


_CONV_TRANSPOSE_DOC = """{nd}-d transposed convolution layer (the adjoint of Conv{nd}d).

``forward(input, output_size)`` picks the ``output_padding`` that gives ``output_size``
(for strided layers several output sizes map to the same input size).

Shapes:
    input: (N, C_in, {S}) or (C_in, {S})   output: (N, C_out, {S_out})
    {out}
    weight: (C_in, C_out / groups, {K})   bias: (C_out,)
{example}"""


class ConvTranspose1d(_ConvTranspose):
    _nd = 1
    __doc__ = dim_doc(_CONV_TRANSPOSE_DOC, 1, _conv.CONV_TRANSPOSE_OUT, """
        >>> import glassnet
        >>> ConvTranspose1d(4, 2, 4, stride=2, padding=1, rng=glassnet.manual_seed(0))(
        ...     glassnet.ones(1, 4, 8)).shape
        (1, 2, 16)
        """)  # fmt: skip


class ConvTranspose2d(_ConvTranspose):
    _nd = 2
    __doc__ = dim_doc(_CONV_TRANSPOSE_DOC, 2, _conv.CONV_TRANSPOSE_OUT, """
        >>> import glassnet
        >>> up = ConvTranspose2d(8, 3, 3, stride=2, padding=1, rng=glassnet.manual_seed(0))
        >>> up(glassnet.ones(1, 8, 16, 16)).shape
        (1, 3, 31, 31)
        >>> up(glassnet.ones(1, 8, 16, 16), output_size=(32, 32)).shape
        (1, 3, 32, 32)
        """)  # fmt: skip


class ConvTranspose3d(_ConvTranspose):
    _nd = 3
    __doc__ = dim_doc(_CONV_TRANSPOSE_DOC, 3, _conv.CONV_TRANSPOSE_OUT, """
        >>> import glassnet
        >>> ConvTranspose3d(2, 2, 2, stride=2, rng=glassnet.manual_seed(0))(
        ...     glassnet.ones(1, 2, 3, 3, 3)).shape
        (1, 2, 6, 6, 6)
        """)  # fmt: skip
