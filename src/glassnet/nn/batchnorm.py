"""Batch normalisation layers BatchNorm1d/2d/3d (PyTorch's arguments, buffers and keys)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._dtype import get_default_dtype
from ..autograd import grad_mode
from ..autograd.tensor import Parameter, Tensor
from ..device import check_device
from ..ops import norm
from ..ops._util import check_weight_dtype, shape_str
from .module import Module


class _BatchNorm(Module):
    _ranks: tuple[int, ...]
    _layout: str

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        check_device(device)
        name = type(self).__name__
        if (
            isinstance(num_features, bool)
            or not isinstance(num_features, (int, np.integer))
            or num_features <= 0
        ):
            raise ValueError(f"{name} expected a positive int num_features, got {num_features!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{name} expected momentum in [0, 1] or None, got {momentum!r}")
        if eps < 0:
            raise ValueError(f"{name} expected a non-negative eps, got {eps!r}")
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        d = np.dtype(dtype) if dtype is not None else get_default_dtype()
        if affine:
            self.weight = Parameter(np.ones(num_features, d))
            if bias:
                self.bias = Parameter(np.zeros(num_features, d))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, d)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, d)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0
            for t in (self.running_mean, self.running_var, self.num_batches_tracked):
                t._version[0] += 1

    def reset_parameters(self) -> None:
        """Running statistics reset; weight 1 and bias 0."""
        self.reset_running_stats()
        with grad_mode.no_grad():
            if self.weight is not None:
                self.weight.fill_(1.0)
            if self.bias is not None:
                self.bias.fill_(0.0)

    def _check_input(self, x: Any) -> Tensor:
        name = type(self).__name__
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} expected a Tensor input, got {type(x).__name__}")
        if x.ndim not in self._ranks:
            raise ValueError(
                f"{name} expected input of shape {self._layout}, got {shape_str(x.shape)}"
            )
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{name} expected input with {self.num_features} channels (num_features) in "
                f"dimension 1, got shape {shape_str(x.shape)}"
            )
        check_weight_dtype(name, x, self.weight if self.weight is not None else self.running_mean)
        return x

    def forward(self, input: Any) -> Tensor:
        x = self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.data[...] += 1
            self.num_batches_tracked._version[0] += 1
            if self.momentum is None:  # cumulative moving average over all batches seen
                factor = 1.0 / float(self.num_batches_tracked.data)
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        update = not self.training or self.track_running_stats
        return norm.batch_norm(
            x,
            self.running_mean if update else None,
            self.running_var if update else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over channel 1 of (N, C) or (N, C, L) input.

    Training normalises with the batch mean and biased variance and updates ``running_mean`` /
    ``running_var`` (unbiased) with ``momentum`` (``None``: cumulative average); evaluation uses
    the running statistics. Buffers and state_dict keys as PyTorch: ``weight``, ``bias``,
    ``running_mean``, ``running_var``, ``num_batches_tracked`` (int64).

    Shapes:
        x: (N, C) or (N, C, L)   y: same as x   weight, bias, running_*: (C,)

    >>> import glassnet
    >>> bn = BatchNorm1d(3)
    >>> bn(glassnet.randn(8, 3)).shape, int(bn.num_batches_tracked)
    ((8, 3), 1)
    """

    _ranks = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over channel 1 of (N, C, H, W) input (see ``BatchNorm1d``).

    Shapes:
        x: (N, C, H, W)   y: same as x

    >>> import glassnet
    >>> BatchNorm2d(4)(glassnet.randn(2, 4, 5, 5)).shape
    (2, 4, 5, 5)
    """

    _ranks = (4,)
    _layout = "(N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch normalisation over channel 1 of (N, C, D, H, W) input (see ``BatchNorm1d``).

    Shapes:
        x: (N, C, D, H, W)   y: same as x
    """

    _ranks = (5,)
    _layout = "(N, C, D, H, W)"
