"""Channel dropout layers Dropout1d/2d/3d (element dropout, ``Dropout``, is in ``linear.py``)."""

from __future__ import annotations

from ..autograd.tensor import Tensor
from ..ops import dropout as _dropout
from .linear import Dropout


class Dropout1d(Dropout):
    """Zero whole channels with probability ``p`` in training, scaling the rest by 1/(1-p).

    One Bernoulli draw per (sample, channel), from ``rng`` given here (or the package
    generator); identity in evaluation.

    Shapes:
        x: (N, C, L) or (C, L)   y: same as x

    >>> import glassnet
    >>> drop = Dropout1d(0.5, rng=glassnet.manual_seed(0))
    >>> y = drop(glassnet.ones(2, 4, 3))
    >>> sorted({float(v) for v in y.numpy().ravel()})
    [0.0, 2.0]
    """

    def forward(self, input: Tensor) -> Tensor:
        return _dropout.dropout1d(input, self.p, self.training, rng=self.rng)


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) input with probability ``p`` (see ``Dropout1d``).

    As PyTorch, 3-D input is taken as (N, C, L) with a warning.

    Shapes:
        x: (N, C, H, W)   y: same as x
    """

    def forward(self, input: Tensor) -> Tensor:
        return _dropout.dropout2d(input, self.p, self.training, rng=self.rng)


class Dropout3d(Dropout):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input (see ``Dropout1d``).

    Shapes:
        x: (N, C, D, H, W) or (C, D, H, W)   y: same as x
    """

    def forward(self, input: Tensor) -> Tensor:
        return _dropout.dropout3d(input, self.p, self.training, rng=self.rng)
