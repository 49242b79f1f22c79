"""Layer, group and instance normalisation: statistics per sample, not per channel over a batch.

The three share one mechanism: a (R, M) view of the input whose rows are standardised on their
own (see ``_standardize``). Batch normalisation, with its running statistics, is in
``batchnorm``; ``BatchNorm`` and ``batch_norm`` are re-exported here so that old imports work
(instance norm without input statistics is batch norm in evaluation).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import check_floating, check_weight_dtype, shape_str
from .batchnorm import BatchNorm, _channel_dot, batch_norm

__all__ = [
    "BatchNorm",
    "GroupNorm",
    "LayerNorm",
    "batch_norm",
    "check_eps",
    "check_positive_int",
    "group_norm",
    "instance_norm",
    "layer_norm",
    "normalized_shape_tuple",
]


# ==================================================================== layer, group, instance
# One mechanism for the three: view x as (R, M) so that each row is one group of values that
# share a mean and a variance, standardise the rows, then scale and shift. Layer norm's rows are
# the samples (the last k axes flattened); group norm's rows are (sample, group) pairs; instance
# norm is group norm with one group per channel.
def _standardize(
    x2: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each row of ``x2`` to mean 0, variance 1: x_hat, 1/sigma, the row means and variances.

    Shapes:
        x2: (R, M)   x_hat: (R, M)   inv_std, mean, var (biased): (R, 1)
    """
    m = x2.shape[1]
    if x2.size == 0:  # no rows, or empty rows: nothing to normalise
        ones = np.ones((x2.shape[0], 1), x2.dtype)
        return x2.copy(), ones, ones * 0, ones
    mu = x2.mean(axis=1, keepdims=True)  # (R, 1)
    centered = x2 - mu  # (R, M)
    var = np.einsum("rm,rm->r", centered, centered)[:, None] / m  # (R, 1) biased
    inv_std = (1.0 / np.sqrt(var + eps)).astype(x2.dtype)  # (R, 1)
    centered *= inv_std  # x_hat, in place: one (R, M) temporary fewer
    return centered, inv_std, mu, var


def _standardize_backward(g2: np.ndarray, x_hat2: np.ndarray, inv_std: np.ndarray) -> np.ndarray:
    """dL/dx of row standardisation, from g2 = dL/dx_hat.

    Each row's mean and variance depend on every value of the row, hence the two row means:
    ``dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sigma``.

    Shapes:
        g2, x_hat2: (R, M)   inv_std: (R, 1)   dx: (R, M)
    """
    m = g2.shape[1]
    if g2.size == 0:
        return np.zeros_like(g2)
    mean_g = g2.mean(axis=1, keepdims=True)  # (R, 1)
    mean_gx = np.einsum("rm,rm->r", g2, x_hat2)[:, None] / m  # (R, 1)
    dx = g2 - mean_g
    dx -= x_hat2 * mean_gx
    dx *= inv_std
    return dx


class LayerNorm(Function):
    """y = x_hat * weight + bias, x_hat standardising each sample over its last k axes.

    The k trailing axes (``normalized_shape``) are flattened into one row per leading index;
    ``dweight = sum(dy * x_hat)`` and ``dbias = sum(dy)`` sum over the leading axes.

    Shapes:
        x: (*, *normalized_shape)   weight, bias: normalized_shape   y: same as x
        R = prod(*) rows of M = prod(normalized_shape) values each
    """

    def forward(
        self,
        x: np.ndarray,
        weight: np.ndarray | None,
        bias: np.ndarray | None,
        *,
        normalized_ndim: int,
        eps: float,
    ) -> np.ndarray:
        lead = x.shape[: x.ndim - normalized_ndim]
        rows, m = math.prod(lead), math.prod(x.shape[x.ndim - normalized_ndim :])
        x_hat2, inv_std, _, _ = _standardize(x.reshape(rows, m), eps)  # (R, M), (R, 1)
        x_hat = x_hat2.reshape(x.shape)
        y = x_hat if weight is None else x_hat * weight  # weight broadcasts on the last k axes
        if bias is not None:
            y = y + bias if y is x_hat else np.add(y, bias, out=y)
        self.x_hat2, self.inv_std, self.weight = x_hat2, inv_std, weight
        self.param_shape = x.shape[x.ndim - normalized_ndim :]
        return y

    def backward(self, dy: np.ndarray) -> tuple[Any, Any, Any]:
        need_x, need_w, need_b = self.needs_input_grad
        x_hat2, weight = self.x_hat2, self.weight
        dy2 = dy.reshape(x_hat2.shape)  # (R, M)
        dx = dw = db = None
        if need_x:
            g2 = dy2 if weight is None else dy2 * weight.reshape(-1)  # dL/dx_hat (R, M)
            dx = _standardize_backward(g2, x_hat2, self.inv_std).reshape(dy.shape)
        if need_w:
            assert weight is not None
            dw = np.einsum("rm,rm->m", dy2, x_hat2).reshape(self.param_shape)
        if need_b:
            db = dy2.sum(axis=0).reshape(self.param_shape)
        return dx, dw, db


class GroupNorm(Function):
    """y = x_hat * weight + bias per channel, x_hat standardising each group of channels.

    The C channels of each sample split into G groups of C/G consecutive channels; each (sample,
    group) row of C/G * prod(S) values is standardised. ``dweight = sum(dy * x_hat)`` and
    ``dbias = sum(dy)`` sum over every axis but the channel axis.

    With ``running_mean``/``running_var`` (instance norm: G = C) the forward also moves them in
    place by ``momentum`` towards the batch average of the per-instance means and **unbiased**
    variances, as PyTorch's ``instance_norm`` does.

    Shapes:
        x: (N, C, *S)   weight, bias, running_mean, running_var: (C,)   y: (N, C, *S)
        R = N * G rows of M = C / G * prod(S) values each
    """

    def forward(
        self,
        x: np.ndarray,
        weight: np.ndarray | None,
        bias: np.ndarray | None,
        *,
        num_groups: int,
        eps: float,
        running_mean: np.ndarray | None = None,
        running_var: np.ndarray | None = None,
        momentum: float = 0.0,
    ) -> np.ndarray:
        n, c = x.shape[:2]
        rows, m = n * num_groups, c // num_groups * math.prod(x.shape[2:])
        x_hat2, inv_std, mu, var = _standardize(x.reshape(rows, m), eps)  # (R, M), (R, 1) x 3
        if running_mean is not None and running_var is not None and x.size:
            assert num_groups == c, "running statistics are per channel: instance norm only"
            running_mean *= 1 - momentum
            running_mean += momentum * mu.reshape(n, c).mean(axis=0).astype(running_mean.dtype)
            unbiased = var.reshape(n, c) * (m / (m - 1))  # (N, C)
            running_var *= 1 - momentum
            running_var += momentum * unbiased.mean(axis=0).astype(running_var.dtype)
        bshape = (1, c) + (1,) * (x.ndim - 2)  # (1, C, 1, ...) to broadcast per channel
        x_hat = x_hat2.reshape(x.shape)  # (N, C, *S)
        y = x_hat if weight is None else x_hat * weight.reshape(bshape)
        if bias is not None:
            b = bias.reshape(bshape)
            y = y + b if y is x_hat else np.add(y, b, out=y)
        self.x_hat, self.inv_std, self.weight, self.bshape = x_hat, inv_std, weight, bshape
        self.rows_shape = (rows, m)
        return y

    def backward(self, dy: np.ndarray) -> tuple[Any, Any, Any]:
        need_x, need_w, need_b = self.needs_input_grad
        x_hat, weight, c = self.x_hat, self.weight, dy.shape[1]
        dx = dw = db = None
        if need_x:
            g = dy if weight is None else dy * weight.reshape(self.bshape)  # dL/dx_hat
            g2 = g.reshape(self.rows_shape)  # (R, M)
            dx = _standardize_backward(g2, x_hat.reshape(g2.shape), self.inv_std)
            dx = dx.reshape(dy.shape)
        if need_w:
            dw = _channel_dot(dy, x_hat) if dy.size else np.zeros(c, dy.dtype)  # (C,)
        if need_b:
            db = dy.sum(axis=(0, *range(2, dy.ndim)))  # (C,)
        return dx, dw, db


def _norm_input(input: Any, op: str, min_ndim: int, layout: str) -> Tensor:
    """The input of a normalisation as a floating Tensor of at least ``min_ndim`` dimensions."""
    if not isinstance(input, Tensor):
        if not isinstance(input, np.ndarray):
            raise TypeError(f"{op} expected a Tensor input, got {type(input).__name__}")
        input = Tensor(input)
    check_floating(input, "input", op)
    if input.ndim < min_ndim:
        raise ValueError(f"{op} expected input of shape {layout}, got {shape_str(input.shape)}")
    return input


def _affine(op: str, weight: Any, bias: Any, shape: tuple[int, ...]) -> None:
    """Check the optional affine parameters: Tensors (or None) of ``shape``."""
    for name, t in (("weight", weight), ("bias", bias)):
        if t is None:
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"{op} expected {name} to be a Tensor or None, got {type(t).__name__}")
        if t.shape != shape:
            raise ValueError(
                f"{op} expected {name} of shape {shape_str(shape)}, got {shape_str(t.shape)}"
            )


def _running(op: str, t: Any, name: str, channels: int) -> np.ndarray | None:
    """The array of a running statistic (a Tensor or an ndarray of shape (C,)), or None."""
    if t is None:
        return None
    if not isinstance(t, (Tensor, np.ndarray)):
        raise TypeError(f"{op} expected {name} to be a Tensor or None, got {type(t).__name__}")
    arr = t.data if isinstance(t, Tensor) else t
    if arr.shape != (channels,):
        raise ValueError(f"{op} expected {name} of shape ({channels},), got {shape_str(arr.shape)}")
    return arr


def check_eps(op: str, eps: float) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or eps < 0:
        raise ValueError(f"{op} expected a non-negative eps, got {eps!r}")
    return float(eps)


def check_positive_int(op: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{op} expected a positive int {name}, got {value!r}")
    return int(value)


def normalized_shape_tuple(normalized_shape: Any, op: str = "layer_norm") -> tuple[int, ...]:
    """``normalized_shape`` (an int or a sequence of ints) as a non-empty tuple of positive ints."""
    items = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else None
    if items is None:
        try:
            items = tuple(normalized_shape)
        except TypeError:
            raise TypeError(
                f"{op} expected normalized_shape to be an int or a sequence of ints, got "
                f"{type(normalized_shape).__name__}"
            ) from None
    if not items:
        raise ValueError(f"{op} expected a non-empty normalized_shape, got {normalized_shape!r}")
    return tuple(check_positive_int(op, "normalized_shape", v) for v in items)


def layer_norm(
    input: Any,
    normalized_shape: Any,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Layer normalisation over the last ``len(normalized_shape)`` axes (``F.layer_norm``).

    Each sample is standardised with its own mean and biased variance over those axes, then
    scaled by ``weight`` and shifted by ``bias`` (both of shape ``normalized_shape``).

    Shapes:
        input: (*, *normalized_shape)   weight, bias: normalized_shape   y: same as input

    >>> import glassnet
    >>> layer_norm(glassnet.tensor([[1.0, 3.0]]), 2, eps=0.0)
    tensor([[-1.,  1.]])
    """
    shape = normalized_shape_tuple(normalized_shape)
    input = _norm_input(input, "layer_norm", len(shape), f"(*, {', '.join(map(str, shape))})")
    if input.shape[input.ndim - len(shape) :] != shape:
        raise ValueError(
            f"layer_norm expected input of shape (*, {', '.join(map(str, shape))}) for "
            f"normalized_shape={shape_str(shape)}, got {shape_str(input.shape)}"
        )
    _affine("layer_norm", weight, bias, shape)
    check_weight_dtype("layer_norm", input, weight)
    return LayerNorm.apply(
        input, weight, bias, normalized_ndim=len(shape), eps=check_eps("layer_norm", eps)
    )


def group_norm(
    input: Any,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Group normalisation (``F.group_norm``): statistics per sample and group of channels.

    Shapes:
        input: (N, C, *S), C divisible by num_groups   weight, bias: (C,)   y: (N, C, *S)

    >>> import glassnet
    >>> group_norm(glassnet.tensor([[1.0, 3.0, 5.0, 9.0]]), 2, eps=0.0)
    tensor([[-1.,  1., -1.,  1.]])
    """
    input = _norm_input(input, "group_norm", 2, "(N, C, *)")
    g = check_positive_int("group_norm", "num_groups", num_groups)
    n, c = input.shape[:2]
    if c % g:
        raise ValueError(
            f"group_norm expected the channel count to be divisible by num_groups={g}, got "
            f"input of shape {shape_str(input.shape)} with {c} channels"
        )
    if n * (c // g) * math.prod(input.shape[2:]) == 1:  # PyTorch's check (one value per group)
        raise ValueError(
            "group_norm expected more than 1 value per group, got input of shape "
            f"{shape_str(input.shape)} with num_groups={g}"
        )
    _affine("group_norm", weight, bias, (c,))
    check_weight_dtype("group_norm", input, weight)
    return GroupNorm.apply(input, weight, bias, num_groups=g, eps=check_eps("group_norm", eps))


def instance_norm(
    input: Any,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Instance normalisation (``F.instance_norm``): statistics per sample and channel.

    With ``use_input_stats`` each (n, c) plane is standardised with its own statistics (group
    norm with one group per channel) and, when given, ``running_mean``/``running_var`` move by
    ``momentum`` towards the batch average of the plane means and unbiased variances. Without
    it the running statistics normalise, as batch norm in evaluation.

    Shapes:
        input: (N, C, *S)   running_mean, running_var, weight, bias: (C,)   y: (N, C, *S)

    >>> import glassnet
    >>> instance_norm(glassnet.tensor([[[1.0, 3.0], [0.0, 4.0]]]), eps=0.0)
    tensor([[[-1.,  1.],
             [-1.,  1.]]])
    """
    input = _norm_input(input, "instance_norm", 2, "(N, C, *)")
    c = input.shape[1]
    rm, rv = (
        _running("instance_norm", t, n, c)
        for t, n in ((running_mean, "running_mean"), (running_var, "running_var"))
    )
    if (rm is None) != (rv is None):
        raise ValueError(
            "instance_norm expected running_mean and running_var both given or both None"
        )
    _affine("instance_norm", weight, bias, (c,))
    check_weight_dtype("instance_norm", input, weight)
    eps = check_eps("instance_norm", eps)
    if momentum is None or not 0.0 <= float(momentum) <= 1.0:
        raise ValueError(f"instance_norm expected momentum in [0, 1], got {momentum!r}")
    if not use_input_stats:
        if rm is None:
            raise ValueError(
                "instance_norm needs running_mean and running_var when use_input_stats=False"
            )
        return batch_norm(input, running_mean, running_var, weight, bias, False, 0.0, eps)
    if math.prod(input.shape[2:]) == 1:
        raise ValueError(
            "instance_norm expected more than 1 spatial element when using input statistics, "
            f"got input of shape {shape_str(input.shape)}"
        )
    y = GroupNorm.apply(
        input,
        weight,
        bias,
        num_groups=c,
        eps=eps,
        running_mean=rm,
        running_var=rv,
        momentum=float(momentum),
    )
    for t in (running_mean, running_var):
        if isinstance(t, Tensor):
            t._version[0] += 1  # updated in place by the forward
    return y
