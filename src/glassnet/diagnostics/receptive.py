"""Locality of convolution: the receptive field of an output, and where its gradient is non-zero.

An output of a convolution reads only the inputs under its kernel; through a stack of layers it
reads the union of its inputs' receptive fields. Along one axis, a layer with kernel k, stride s,
padding p and dilation d maps output i to the inputs ``i s - p + j d`` (j = 0..k-1) that lie in
``[0, n)`` (the others are padding), so the receptive field is computed exactly by composing
these index sets from the output down to the input. Its span is the textbook
``1 + sum_l (k_l - 1) d_l prod_{m<l} s_m`` when no padding cuts it.

The gradient of that output with respect to the input is non-zero exactly on the receptive
field (for weights in general position: a zero there would need an exact cancellation), which
is what :func:`input_gradient_support` measures through the real backward pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..autograd.tensor import Tensor


@dataclass(frozen=True)
class ConvGeometry:
    """One convolution along one axis: kernel, stride, padding, dilation (PyTorch's meaning)."""

    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1

    def out_size(self, n: int) -> int:
        """``floor((n + 2p - d(k - 1) - 1) / s) + 1``."""
        return (n + 2 * self.padding - self.dilation * (self.kernel - 1) - 1) // self.stride + 1

    def inputs_of(self, i: int, n: int) -> set[int]:
        """The input indices in ``[0, n)`` that output ``i`` reads."""
        first = i * self.stride - self.padding
        return {
            a
            for a in range(first, first + self.dilation * self.kernel, self.dilation)
            if 0 <= a < n
        }


def receptive_field(layers: Sequence[ConvGeometry], n: int, index: int) -> set[int]:
    """Input indices (along one axis of length ``n``) that output ``index`` of the stack reads.

    ``layers`` are listed from the input to the output.

    >>> sorted(receptive_field([ConvGeometry(3), ConvGeometry(3)], 10, 2))
    [2, 3, 4, 5, 6]
    """
    sizes = [n]
    for g in layers:
        sizes.append(g.out_size(sizes[-1]))
    if not 0 <= index < sizes[-1]:
        raise ValueError(f"receptive_field index must be in [0, {sizes[-1]}), got {index}")
    current = {index}
    for g, n_in in zip(reversed(layers), reversed(sizes[:-1])):
        current = set().union(*(g.inputs_of(i, n_in) for i in current))
    return current


def receptive_span(layers: Sequence[ConvGeometry]) -> int:
    """``1 + sum_l (k_l - 1) d_l prod_{m<l} s_m``: the extent of an unclipped receptive field."""
    span, jump = 1, 1
    for g in layers:
        span += (g.kernel - 1) * g.dilation * jump
        jump *= g.stride
    return span


def input_gradient_support(model: Any, x: np.ndarray, out_index: tuple[int, ...]) -> np.ndarray:
    """Where ``d model(x)[0, :, *out_index].sum() / dx`` is non-zero, shaped like ``x[0, 0]``.

    ``model`` maps (N, C, *spatial) to (N, F, *spatial'); the sum runs over output channels and
    input channels are merged (a position is in the support if any channel's gradient is).
    """
    xt = Tensor(np.asarray(x), requires_grad=True)
    y = model(xt)
    index = (0, slice(None), *out_index)  # sample 0, every output channel, one position
    y[index].sum().backward()
    assert xt.grad is not None
    return np.asarray(np.asarray(xt.grad.data[0] != 0).any(axis=0))


__all__ = [
    "ConvGeometry",
    "input_gradient_support",
    "receptive_field",
    "receptive_span",
]
