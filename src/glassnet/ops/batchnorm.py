"""Batch normalisation with an explicit backward, and PyTorch's running-statistics rules.

Per channel ``c`` over the ``M = N * prod(S)`` values of the batch and spatial positions:

* training: ``mu = mean(x)``, ``var = mean((x - mu)^2)`` (biased) normalise the batch,
  ``y = (x - mu) / sqrt(var + eps) * weight + bias``, and the running statistics move by
  ``running = (1 - momentum) * running + momentum * batch`` with the **unbiased** variance
  ``var * M / (M - 1)`` (the layers pass ``momentum = 1 / num_batches_tracked`` for PyTorch's
  ``momentum=None``, a cumulative average);
* evaluation: the running statistics take the place of ``mu`` and ``var`` and nothing changes.

Layer, group and instance normalisation are in ``norm``, which re-exports ``BatchNorm`` and
``batch_norm``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import check_floating, check_weight_dtype, shape_str


def _channel_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum over every axis but the channel axis of a * b, without the product temporary."""
    shape = (*a.shape[:2], math.prod(a.shape[2:]))  # (N, C, S), explicit: N may be 0
    return np.einsum("ncs,ncs->c", a.reshape(shape), b.reshape(shape))  # (C,)


class BatchNorm(Function):
    """y = x_hat * weight + bias with x_hat = (x - mu) / sqrt(var + eps) per channel.

    With batch statistics (training) the backward is the classic

        dx = weight / (M sigma) * (M dy - sum(dy) - x_hat * sum(dy x_hat)),

    because ``mu`` and ``var`` depend on ``x``; with fixed (running) statistics it is just
    ``dy * weight / sigma``. ``dweight = sum(dy * x_hat)``, ``dbias = sum(dy)`` (sums over every
    axis but the channel axis).

    Shapes:
        x: (N, C, *S)   weight, bias, running_mean, running_var: (C,)   y: (N, C, *S)
    """

    def forward(
        self,
        x: np.ndarray,
        weight: np.ndarray | None,
        bias: np.ndarray | None,
        *,
        running_mean: np.ndarray | None,
        running_var: np.ndarray | None,
        training: bool,
        momentum: float,
        eps: float,
    ) -> np.ndarray:
        axes = (0, *range(2, x.ndim))  # every axis but the channel axis
        bshape = (1, -1) + (1,) * (x.ndim - 2)  # (1, C, 1, ...) to broadcast per channel
        if x.size == 0:  # an empty batch: an empty result, no statistics to learn (as PyTorch)
            self.x_hat, self.inv_std, self.weight = x, np.ones(x.shape[1], x.dtype), weight
            self.axes, self.bshape, self.training = axes, bshape, False
            return x.copy()
        if training:
            count = x.size // x.shape[1]  # M values per channel
            mu = x.mean(axis=axes)  # (C,)
            centered = x - mu.reshape(bshape)  # (N, C, *S)
            var = _channel_dot(centered, centered) / count  # (C,) biased
            if running_mean is not None and running_var is not None:
                running_mean *= 1 - momentum
                running_mean += momentum * mu.astype(running_mean.dtype)
                running_var *= 1 - momentum
                running_var += (momentum * count / (count - 1)) * var.astype(running_var.dtype)
        else:
            assert running_mean is not None and running_var is not None
            centered = x - running_mean.astype(x.dtype).reshape(bshape)
            var = running_var.astype(x.dtype)
        inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype)  # (C,)
        x_hat = centered * inv_std.reshape(bshape)  # (N, C, *S)
        y = x_hat if weight is None else x_hat * weight.reshape(bshape)
        if bias is not None:
            y = y + bias.reshape(bshape)
        self.x_hat, self.inv_std, self.weight = x_hat, inv_std, weight
        self.axes, self.bshape, self.training = axes, bshape, training
        return y

    def backward(self, dy: np.ndarray) -> tuple[Any, Any, Any]:
        x_hat, axes, bshape = self.x_hat, self.axes, self.bshape
        need_x, need_w, need_b = self.needs_input_grad
        sum_dy = dy.sum(axis=axes) if (need_b or (need_x and self.training)) else None  # (C,)
        sum_dy_xhat = (
            _channel_dot(dy, x_hat) if (need_w or (need_x and self.training)) else None
        )  # (C,)
        dx = None
        if need_x:
            scale = self.inv_std if self.weight is None else self.inv_std * self.weight  # (C,)
            if self.training:
                count = dy.size // dy.shape[1]
                assert sum_dy is not None and sum_dy_xhat is not None
                dx = dy - (sum_dy / count).reshape(bshape)
                dx -= x_hat * (sum_dy_xhat / count).reshape(bshape)
                dx *= scale.reshape(bshape)
            else:
                dx = dy * scale.reshape(bshape)
        dw = sum_dy_xhat if need_w else None
        db = sum_dy if need_b else None
        return dx, dw, db


def _array(t: Any, name: str, channels: int) -> np.ndarray | None:
    if t is None:
        return None
    arr = t.data if isinstance(t, Tensor) else np.asarray(t)
    if arr.shape != (channels,):
        raise ValueError(
            f"batch_norm expected {name} of shape ({channels},), got {shape_str(arr.shape)}"
        )
    return arr


def batch_norm(
    input: Any,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over the channel axis 1 (PyTorch's ``F.batch_norm``).

    In training the batch statistics normalise and, when given, ``running_mean``/``running_var``
    are updated in place (unbiased variance). Outside training the running statistics are used
    and must be given.

    Shapes:
        input: (N, C, *S)   running_mean, running_var, weight, bias: (C,)   y: (N, C, *S)

    >>> import glassnet
    >>> x = glassnet.tensor([[1.0], [3.0]])
    >>> y = batch_norm(x, None, None, training=True)
    >>> [round(v, 4) for v in y.data.ravel().tolist()]
    [-1.0, 1.0]
    """
    if not isinstance(input, Tensor):
        if not isinstance(input, np.ndarray):
            raise TypeError(f"batch_norm expected a Tensor input, got {type(input).__name__}")
        input = Tensor(input)
    if input.ndim < 2:
        raise ValueError(
            f"batch_norm expected input of shape (N, C, *), got {shape_str(input.shape)}"
        )
    channels = input.shape[1]
    rm = _array(running_mean, "running_mean", channels)
    rv = _array(running_var, "running_var", channels)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(
                f"batch_norm expected {name} to be a Tensor or None, got {type(t).__name__}"
            )
        _array(t, name, channels)
    check_weight_dtype("batch_norm", input, weight if weight is not None else running_mean)
    check_floating(input, "input", "batch_norm")
    if (rm is None) != (rv is None):
        raise ValueError("batch_norm expected running_mean and running_var both given or both None")
    if training:
        if input.size(0) * int(np.prod(input.shape[2:])) == 1:
            raise ValueError(
                "batch_norm expected more than 1 value per channel when training, got input of "
                f"shape {shape_str(input.shape)}"
            )
    elif rm is None:
        raise ValueError("batch_norm needs running_mean and running_var when training=False")
    if momentum is None or not 0.0 <= float(momentum) <= 1.0:
        raise ValueError(f"batch_norm expected momentum in [0, 1], got {momentum!r}")
    if eps < 0 or (training and eps == 0):  # PyTorch: eps = 0 only outside training
        raise ValueError(f"batch_norm expected eps > 0 in training (>= 0 otherwise), got {eps!r}")
    y = BatchNorm.apply(
        input,
        weight,
        bias,
        running_mean=rm,
        running_var=rv,
        training=bool(training),
        momentum=float(momentum),
        eps=float(eps),
    )
    if training:
        for t in (running_mean, running_var):
            if isinstance(t, Tensor):
                t._version[0] += 1  # updated in place by the forward
    return y
