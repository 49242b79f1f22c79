"""``Unfold`` (im2col) and ``Fold`` (col2im) layers over ``glassnet.ops.fold``, PyTorch's names."""

from __future__ import annotations

from typing import Any

from ..autograd.tensor import Tensor
from ..ops import fold as _fold
from .module import Module


class Unfold(Module):
    """Extract sliding local blocks: the columns a convolution multiplies by its weight.

    ``conv2d(x, w)`` equals ``w.reshape(F, -1) @ Unfold(k)(x)``, reshaped to ``(N, F, O_h, O_w)``.

    Shapes:
        input: (N, C, H, W) or (C, H, W)   output: (N, C k_h k_w, L),  L = O_h O_w,
        O_i = floor((S_i + 2 padding_i - dilation_i (k_i - 1) - 1) / stride_i) + 1

    >>> import glassnet
    >>> Unfold(kernel_size=(2, 3))(glassnet.ones(2, 5, 3, 4)).shape
    (2, 30, 4)
    """

    def __init__(
        self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
    ) -> None:
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return _fold.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
            f"stride={self.stride}"
        )


class Fold(Module):
    """Combine sliding local blocks into an image, summing where blocks overlap (col2im).

    The adjoint of ``Unfold`` with the same arguments; ``Fold(Unfold(x))`` multiplies each pixel
    by the number of blocks that contain it.

    Shapes:
        input: (N, C k_h k_w, L) or (C k_h k_w, L)   output: (N, C, H, W), (H, W) = output_size

    >>> import glassnet
    >>> Fold(output_size=(4, 5), kernel_size=2)(glassnet.ones(1, 12, 12)).shape
    (1, 3, 4, 5)
    """

    def __init__(
        self,
        output_size: Any,
        kernel_size: Any,
        dilation: Any = 1,
        padding: Any = 0,
        stride: Any = 1,
    ) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return _fold.fold(
            input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride
        )

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
            f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}"
        )
