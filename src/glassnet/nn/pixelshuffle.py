"""``PixelShuffle`` and ``PixelUnshuffle`` layers over ``glassnet.ops.pixelshuffle``."""

from __future__ import annotations

from ..autograd.tensor import Tensor
from ..ops import pixelshuffle as _ps
from .module import Module


class PixelShuffle(Module):
    """Rearrange channels into space: ``(*, C r^2, H, W) -> (*, C, H r, W r)`` (sub-pixel conv).

    Shapes:
        input: (*, C r^2, H, W)   output: (*, C, H r, W r),  r = upscale_factor

    >>> import glassnet
    >>> PixelShuffle(3)(glassnet.ones(1, 18, 4, 4)).shape
    (1, 2, 12, 12)
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return _ps.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """Rearrange space into channels: ``(*, C, H r, W r) -> (*, C r^2, H, W)``.

    Shapes:
        input: (*, C, H r, W r)   output: (*, C r^2, H, W),  r = downscale_factor

    >>> import glassnet
    >>> PixelUnshuffle(2)(glassnet.ones(1, 1, 4, 4)).shape
    (1, 4, 2, 2)
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return _ps.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
