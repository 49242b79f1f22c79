"""Upsampling layers (thin wrappers over ``glassnet.ops.upsample.interpolate``), PyTorch's names."""

from __future__ import annotations

from typing import Any

from ..autograd.tensor import Tensor
from ..ops import upsample as _upsample
from .module import Module


class Upsample(Module):
    """Resample the spatial dimensions to ``size`` or by ``scale_factor`` (``F.interpolate``).

    Args:
        size: output spatial size (int or one per axis).
        scale_factor: spatial multiplier (float or one per axis); exactly one of the two.
        mode: ``'nearest'``, ``'nearest-exact'``, ``'linear'``, ``'bilinear'``, ``'bicubic'``,
            ``'trilinear'`` or ``'area'``.
        align_corners: linear and cubic modes only (see ``F.interpolate``).
        recompute_scale_factor: interpolate with ``scale = I / O`` of the computed output size
            instead of ``1 / scale_factor``.

    Shapes:
        input: (N, C, *D)   output: (N, C, *O),  O_i = size_i or floor(D_i * scale_factor_i)

    >>> import glassnet
    >>> Upsample(scale_factor=2, mode="bilinear")(glassnet.ones(1, 3, 4, 5)).shape
    (1, 3, 8, 10)
    """

    def __init__(
        self,
        size: Any = None,
        scale_factor: Any = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor: Any = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return _upsample.interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """2-d nearest-neighbour upsampling, ``Upsample(size, scale_factor, mode='nearest')``.

    Shapes:
        input: (N, C, H, W)   output: (N, C, H_out, W_out),  H_out = size or floor(H * scale)

    >>> import glassnet
    >>> UpsamplingNearest2d(scale_factor=2)(glassnet.ones(1, 1, 2, 3)).shape
    (1, 1, 4, 6)
    """

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """2-d bilinear upsampling with ``align_corners=True`` (PyTorch's legacy layer).

    Shapes:
        input: (N, C, H, W)   output: (N, C, H_out, W_out),  H_out = size or floor(H * scale)
    """

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
