"""LayerNorm, GroupNorm and InstanceNorm1d/2d/3d (PyTorch's arguments, buffers and keys).

All three call the one row-standardisation mechanism of ``glassnet.ops.norm`` (layer norm:
one row per sample; group norm: one row per sample and group; instance norm: group norm with
one group per channel). Batch normalisation is in ``batchnorm.py``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._dtype import get_default_dtype
from ..autograd import grad_mode
from ..autograd.tensor import Parameter, Tensor
from ..device import check_device
from ..ops import norm
from ..ops._util import check_weight_dtype, shape_str
from .batchnorm import _BatchNorm
from .module import Module


def _affine_parameters(
    module: Module, shape: tuple[int, ...], affine: bool, bias: bool, dtype: Any
) -> None:
    """Register ``weight`` (ones) and ``bias`` (zeros) of ``shape``, or None where absent."""
    d = np.dtype(dtype) if dtype is not None else get_default_dtype()
    module.register_parameter("weight", Parameter(np.ones(shape, d)) if affine else None)
    module.register_parameter("bias", Parameter(np.zeros(shape, d)) if affine and bias else None)


def _reset_affine(module: Module) -> None:
    with grad_mode.no_grad():
        if module.weight is not None:
            module.weight.fill_(1.0)
        if module.bias is not None:
            module.bias.fill_(0.0)


def _check_tensor(name: str, x: Any, weight: Tensor | None) -> Tensor:
    """A Tensor input of the dtype of ``weight`` (the layer's weight or running mean)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} expected a Tensor input, got {type(x).__name__}")
    check_weight_dtype(name, x, weight)
    return x


class LayerNorm(Module):
    """Layer normalisation over the last ``len(normalized_shape)`` axes of each sample.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` with the mean and biased variance of
    each sample over those axes; ``weight`` (ones) and ``bias`` (zeros) have shape
    ``normalized_shape`` when ``elementwise_affine`` (``bias=False`` drops the bias).

    Shapes:
        x: (*, *normalized_shape)   y: same as x   weight, bias: normalized_shape

    >>> import glassnet
    >>> LayerNorm(4)(glassnet.randn(2, 3, 4)).shape
    (2, 3, 4)
    """

    def __init__(
        self,
        normalized_shape: Any,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_device(device)
        self.normalized_shape = norm.normalized_shape_tuple(normalized_shape, "LayerNorm")
        self.eps = norm.check_eps("LayerNorm", eps)
        self.elementwise_affine = bool(elementwise_affine)
        _affine_parameters(self, self.normalized_shape, self.elementwise_affine, bias, dtype)

    def reset_parameters(self) -> None:
        """weight 1 and bias 0."""
        _reset_affine(self)

    def forward(self, input: Any) -> Tensor:
        x = _check_tensor("LayerNorm", input, self.weight)
        return norm.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Group normalisation: the channels split into ``num_groups`` groups of consecutive channels.

    Each sample's group of ``num_channels / num_groups`` channels is standardised with its own
    mean and biased variance, then ``weight`` (ones) and ``bias`` (zeros), of shape
    ``(num_channels,)``, scale and shift each channel when ``affine``.

    Shapes:
        x: (N, C, *S)   y: same as x   weight, bias: (C,)

    >>> import glassnet
    >>> GroupNorm(2, 6)(glassnet.randn(4, 6, 5)).shape
    (4, 6, 5)
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        check_device(device)
        g = norm.check_positive_int("GroupNorm", "num_groups", num_groups)
        c = norm.check_positive_int("GroupNorm", "num_channels", num_channels)
        if c % g:
            raise ValueError(
                f"GroupNorm expected num_channels divisible by num_groups, got num_channels={c} "
                f"and num_groups={g}"
            )
        self.num_groups, self.num_channels = g, c
        self.eps = norm.check_eps("GroupNorm", eps)
        self.affine = bool(affine)
        _affine_parameters(self, (c,), self.affine, bias, dtype)

    def reset_parameters(self) -> None:
        """weight 1 and bias 0."""
        _reset_affine(self)

    def forward(self, input: Any) -> Tensor:
        x = _check_tensor("GroupNorm", input, self.weight)
        if self.affine and (x.ndim < 2 or x.shape[1] != self.num_channels):
            raise ValueError(
                f"GroupNorm expected input of shape (N, {self.num_channels}, *) "
                f"(num_channels={self.num_channels}), got {shape_str(x.shape)}"
            )
        return norm.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class _InstanceNorm(_BatchNorm):
    """Batch norm's parameters and buffers, PyTorch's instance-norm defaults and forward."""

    _spatial: int  # number of spatial axes

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias
        )

    def forward(self, input: Any) -> Tensor:
        name, nd = type(self).__name__, self._spatial
        x = _check_tensor(name, input, None)  # the dtype once the shape is known to be right
        if x.ndim not in (nd + 1, nd + 2):
            raise ValueError(
                f"{name} expected input of shape {self._layout}, got {shape_str(x.shape)}"
            )
        unbatched = x.ndim == nd + 1
        channels = x.shape[0 if unbatched else 1]
        if channels != self.num_features:
            if self.affine or self.track_running_stats:
                raise ValueError(
                    f"{name} expected input with {self.num_features} channels (num_features) in "
                    f"dimension {0 if unbatched else 1}, got shape {shape_str(x.shape)}"
                )
            # as PyTorch: num_features is unused without affine parameters or running statistics
            warnings.warn(
                f"{name}: input's size at dim={0 if unbatched else 1} ({channels}) does not "
                f"match num_features ({self.num_features}), which is unused because "
                "affine=False and track_running_stats=False",
                UserWarning,
                stacklevel=2,
            )
        check_weight_dtype(name, x, self.running_mean if self.weight is None else self.weight)
        if unbatched:
            x = x.unsqueeze(0)
        # PyTorch's instance norm never counts batches: momentum=None means no update at all
        y = norm.instance_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            0.0 if self.momentum is None else self.momentum,
            self.eps,
        )
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or unbatched (C, L) input: statistics per (n, c).

    Defaults as PyTorch: ``affine=False``, ``track_running_stats=False``. With
    ``track_running_stats`` training updates ``running_mean``/``running_var`` (the batch average
    of the per-instance mean and unbiased variance, by ``momentum``) and evaluation normalises
    with them; ``num_batches_tracked`` is kept (always 0) for PyTorch's state_dict keys.

    Shapes:
        x: (N, C, L) or (C, L)   y: same as x   weight, bias, running_*: (C,)

    >>> import glassnet
    >>> InstanceNorm1d(3)(glassnet.randn(2, 3, 8)).shape
    (2, 3, 8)
    """

    _spatial = 1
    _layout = "(N, C, L) or (C, L)"


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or unbatched (C, H, W) input (see InstanceNorm1d).

    Shapes:
        x: (N, C, H, W) or (C, H, W)   y: same as x   weight, bias, running_*: (C,)

    >>> import glassnet
    >>> InstanceNorm2d(3, affine=True)(glassnet.randn(3, 4, 4)).shape
    (3, 4, 4)
    """

    _spatial = 2
    _layout = "(N, C, H, W) or (C, H, W)"


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or (C, D, H, W) input (see InstanceNorm1d).

    Shapes:
        x: (N, C, D, H, W) or (C, D, H, W)   y: same as x   weight, bias, running_*: (C,)
    """

    _spatial = 3
    _layout = "(N, C, D, H, W) or (C, D, H, W)"
