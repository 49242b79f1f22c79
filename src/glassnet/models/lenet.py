"""A LeNet-style convolutional network for small images (8x8 digits, 28x28 MNIST)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._random import get_rng
from ..autograd.tensor import Tensor
from ..nn.activation import ReLU
from ..nn.batchnorm import BatchNorm2d
from ..nn.container import Sequential
from ..nn.conv import Conv2d
from ..nn.linear import Dropout, Flatten, Linear
from ..nn.module import Module
from ..nn.pooling import MaxPool2d
from ._validate import positive_int


class LeNet(Module):
    """LeNet-style CNN: (conv -> [batch norm] -> ReLU -> 2x2 max pool) blocks, then an MLP head.

    Each convolution keeps the spatial size (``padding = kernel_size // 2``) and each pool
    halves it (floor), so after ``len(channels)`` blocks an ``S x S`` image is
    ``S // 2**len(channels)`` on a side. The head is ``Flatten -> (Linear -> ReLU)* -> Linear``.

    Args:
        in_channels: colour channels C of the input (1 for digits and MNIST).
        num_classes: number of output logits.
        image_size: side S of the square input images (8 for ``load_digits``, 28 for MNIST).
        channels: output channels of the convolution blocks (default ``(6, 16)`` as LeNet-5).
        hidden: widths of the hidden layers of the head (default ``(120, 84)`` as LeNet-5).
        kernel_size: convolution kernel size; default 5 for images of side >= 16, else 3.
        batch_norm: insert ``BatchNorm2d`` after every convolution.
        dropout: dropout probability before each linear layer of the head (0 disables it).
        dtype: parameter dtype (default: the package default, float32).
        rng: generator for the initial weights.

    Shapes:
        x: (N, C, S, S)   logits: (N, num_classes)
        features after the blocks: (N, channels[-1], S // 2**B, S // 2**B), B = len(channels)

    Parameter names are ``features.*`` (``features.0.weight`` is the first convolution) and
    ``classifier.*``, so an equal ``torch.nn`` model loads the same ``state_dict``.

    >>> import glassnet
    >>> net = LeNet(image_size=8, rng=glassnet.manual_seed(0))
    >>> net(glassnet.zeros(2, 1, 8, 8)).shape
    (2, 10)
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        image_size: int = 28,
        channels: Sequence[int] = (6, 16),
        hidden: Sequence[int] = (120, 84),
        kernel_size: int | None = None,
        batch_norm: bool = False,
        dropout: float = 0.0,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = positive_int(in_channels, "in_channels", "LeNet")
        self.num_classes = positive_int(num_classes, "num_classes", "LeNet")
        self.image_size = positive_int(image_size, "image_size", "LeNet")
        channels = tuple(positive_int(c, "channels entry", "LeNet") for c in channels)
        hidden = tuple(positive_int(h, "hidden entry", "LeNet") for h in hidden)
        if not channels:
            raise ValueError("LeNet expected at least one convolution block (channels), got ()")
        side = self.image_size // 2 ** len(channels)
        if side < 1:
            raise ValueError(
                f"LeNet: image_size={image_size} is too small for {len(channels)} pooling blocks "
                f"(needs at least {2 ** len(channels)})"
            )
        if kernel_size is None:
            kernel_size = 5 if self.image_size >= 16 else 3
        k = positive_int(kernel_size, "kernel_size", "LeNet")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"LeNet expected dropout in [0, 1), got {dropout}")
        gen = get_rng(rng)
        feats: list[Module] = []
        c_in = self.in_channels
        for c_out in channels:
            feats.append(Conv2d(c_in, c_out, k, padding=k // 2, dtype=dtype, rng=gen))
            if batch_norm:
                feats.append(BatchNorm2d(c_out, dtype=dtype))
            feats += [ReLU(), MaxPool2d(2)]
            c_in = c_out
        self.features = Sequential(*feats)
        head: list[Module] = [Flatten()]
        width = c_in * side * side
        for h in (*hidden, self.num_classes):
            if dropout > 0:
                head.append(Dropout(dropout, rng=gen))
            head.append(Linear(width, h, dtype=dtype, rng=gen))
            head.append(ReLU())
            width = h
        head.pop()  # no ReLU on the logits
        self.classifier = Sequential(OrderedDict((str(i), m) for i, m in enumerate(head)))
        self.channels, self.hidden, self.kernel_size = channels, hidden, k

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"LeNet expected a Tensor input, got {type(x).__name__}")
        C, S = self.in_channels, self.image_size
        if x.ndim != 4 or x.shape[1:] != (C, S, S):
            raise ValueError(f"LeNet expected input of shape (N, {C}, {S}, {S}), got {x.shape}")
        if x.dtype.kind != "f":
            raise TypeError(
                f"LeNet expected floating-point images (e.g. load_digits(normalize=True)), "
                f"got dtype {x.dtype}"
            )
        return self.classifier(self.features(x))  # (N, num_classes)

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, num_classes={self.num_classes}, "
            f"image_size={self.image_size}"
        )
