"""Activation functions and (log-)softmax, each a forward/backward pair."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import check_floating, check_weight_dtype, normalize_dim


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """sigmoid(x) = 0.5 + 0.5 tanh(x / 2): one call, no overflow for large |x|."""
    y = np.tanh(x * 0.5)
    y *= 0.5
    y += 0.5
    return y


class Tanh(Function):
    """y = tanh(x): dx = (1 - y^2) dy."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = np.tanh(x)
        return self.y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * (1 - self.y * self.y)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)): dx = y (1 - y) dy."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = stable_sigmoid(x)
        return self.y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * self.y * (1 - self.y)


class ReLU(Function):
    """y = max(x, 0): dx = dy where x > 0 (0 at x = 0, as PyTorch)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = np.maximum(x, 0)
        return self.y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * (self.y > 0)


class LeakyReLU(Function):
    """y = x if x > 0 else slope * x."""

    def forward(self, x: np.ndarray, *, negative_slope: float) -> np.ndarray:
        self.positive, self.slope = x > 0, negative_slope
        return np.where(self.positive, x, x * negative_slope)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return np.where(self.positive, dy, dy * self.slope)


class ELU(Function):
    """y = x if x > 0 else alpha (exp(x) - 1): dx = dy if x > 0 else (y + alpha) dy."""

    def forward(self, x: np.ndarray, *, alpha: float) -> np.ndarray:
        self.positive, self.alpha = x > 0, alpha
        self.y = np.where(self.positive, x, alpha * np.expm1(np.minimum(x, 0)))
        return self.y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return np.where(self.positive, dy, dy * (self.y + self.alpha))


class GELU(Function):
    """y = x Phi(x) (exact, with erf) or the tanh approximation (``approximate='tanh'``)."""

    def forward(self, x: np.ndarray, *, approximate: str) -> np.ndarray:
        self.x, self.approximate = x, approximate
        if approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            self.t = np.tanh(k * (x + 0.044715 * x**3))
            return 0.5 * x * (1 + self.t)
        self.cdf = 0.5 * (1 + _erf(x / math.sqrt(2)))
        return x * self.cdf

    def backward(self, dy: np.ndarray) -> np.ndarray:
        x = self.x
        if self.approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            dt = (1 - self.t**2) * k * (1 + 3 * 0.044715 * x**2)
            return dy * (0.5 * (1 + self.t) + 0.5 * x * dt)
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return dy * (self.cdf + x * pdf)


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to float64 precision without SciPy (``math.erf`` vectorised over the array)."""
    return np.asarray(np.frompyfunc(math.erf, 1, 1)(x), dtype=x.dtype)  # 0-d gives a float


class Softmax(Function):
    """y = exp(x - max) / sum exp(x - max) along ``dim``: dx = y (dy - sum(dy y))."""

    def forward(self, x: np.ndarray, *, dim: int) -> np.ndarray:
        e = np.exp(x - x.max(axis=dim, keepdims=True))
        self.y, self.dim = e / e.sum(axis=dim, keepdims=True), dim
        return self.y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        y = self.y
        return y * (dy - (dy * y).sum(axis=self.dim, keepdims=True))


class LogSoftmax(Function):
    """y = x - logsumexp(x) along ``dim``: dx = dy - softmax(x) sum(dy)."""

    def forward(self, x: np.ndarray, *, dim: int) -> np.ndarray:
        shifted = x - x.max(axis=dim, keepdims=True)
        self.y = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        self.dim = dim
        return self.y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy - np.exp(self.y) * dy.sum(axis=self.dim, keepdims=True)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """sigmoid(x), accurate in relative terms for large negative x as well (no overflow)."""
    e = np.exp(-np.abs(x))  # in (0, 1]
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) without overflow."""
    return np.logaddexp(0, x)


class SiLU(Function):
    """y = x sigmoid(x) (swish): dx = dy s (1 + x (1 - s)) with s = sigmoid(x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x, self.s = x, _sigmoid(x)
        return x * self.s

    def backward(self, dy: np.ndarray) -> np.ndarray:
        s = self.s
        return dy * s * (1 + self.x * (1 - s))


class Softplus(Function):
    """y = log(1 + exp(beta x)) / beta, or x where beta x > threshold (PyTorch's rule).

    dx = dy sigmoid(beta x) on the smooth part and dy on the linear part.
    """

    def forward(self, x: np.ndarray, *, beta: float, threshold: float) -> np.ndarray:
        bx = x * beta
        self.linear, self.bx = bx > threshold, bx
        return np.where(self.linear, x, _softplus(bx) / beta)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return np.where(self.linear, dy, dy * _sigmoid(self.bx))


class Hardtanh(Function):
    """y = clamp(x, min_val, max_val): dx = dy strictly inside (min_val, max_val), else 0.

    At the bounds themselves the gradient is 0, as PyTorch's ``hardtanh_backward`` (``clamp``
    passes it there).
    """

    def forward(self, x: np.ndarray, *, min_val: float, max_val: float) -> np.ndarray:
        self.inside = (x > min_val) & (x < max_val)
        return np.clip(x, min_val, max_val).astype(x.dtype, copy=False)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * self.inside


class PReLU(Function):
    """y = x if x > 0 else w_c x, one learnt slope per channel (axis 1) or one for all.

    dx = dy if x > 0 else w_c dy;  dw_c = sum(dy x) over the non-positive x of channel c.

    Shapes:
        x: (N, C, *) or any shape when w has one element   w: (C,) or (1,)   y: same as x
    """

    def forward(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        if w.size == 1:
            slope = w.reshape(())  # broadcasts over any shape, 0-d included
        else:
            slope = w.reshape((1, -1) + (1,) * (x.ndim - 2))  # (1, C, 1, ...)
        self.x, self.slope, self.positive, self.w_shape = x, slope, x > 0, w.shape
        return np.where(self.positive, x, x * slope)

    def backward(self, dy: np.ndarray) -> tuple[Any, Any]:
        need_x, need_w = self.needs_input_grad
        dx = np.where(self.positive, dy, dy * self.slope) if need_x else None
        dw = None
        if need_w:
            g = np.where(self.positive, 0, dy * self.x)  # (N, C, *)
            if self.slope.ndim == 0:
                dw = np.asarray(g.sum()).reshape(self.w_shape)
            else:
                dw = g.sum(axis=(0, *range(2, g.ndim)))  # (C,)
        return dx, dw


class Mish(Function):
    """y = x tanh(softplus(x)): dx = dy (t + x sigmoid(x) (1 - t^2)) with t = tanh(softplus(x))."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x, self.t = x, np.tanh(_softplus(x))
        return x * self.t

    def backward(self, dy: np.ndarray) -> np.ndarray:
        t = self.t
        return dy * (t + self.x * _sigmoid(self.x) * (1 - t * t))


# ---------------------------------------------------------------------------- functional forms
def tanh(x: Tensor) -> Tensor:
    return Tanh.apply(x)


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid.apply(x)


def relu(x: Tensor) -> Tensor:
    return ReLU.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyReLU.apply(x, negative_slope=negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    return ELU.apply(x, alpha=alpha)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu expected approximate='none' or 'tanh', got {approximate!r}")
    return GELU.apply(x, approximate=approximate)


def softmax(x: Tensor, dim: int) -> Tensor:
    """Softmax along ``dim`` (stable: the max is subtracted first)."""
    return Softmax.apply(x, dim=normalize_dim(dim, x.ndim))


def log_softmax(x: Tensor, dim: int) -> Tensor:
    """log(softmax(x)) along ``dim``, computed stably as x - logsumexp(x)."""
    return LogSoftmax.apply(x, dim=normalize_dim(dim, x.ndim))


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    return SiLU.apply(_activation_input(x, "silu"))


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, reverting to x where beta x > threshold."""
    x = _activation_input(x, "softplus")
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.number)) or beta == 0:
        raise ValueError(f"softplus expected a non-zero number beta, got {beta!r}")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)):
        raise TypeError(f"softplus expected a number threshold, got {threshold!r}")
    return Softplus.apply(x, beta=float(beta), threshold=float(threshold))


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """clamp(x, min_val, max_val), with zero gradient at and beyond the bounds."""
    x = _activation_input(x, "hardtanh")
    if min_val > max_val:
        raise ValueError(
            f"hardtanh expected min_val <= max_val, got min_val={min_val} and max_val={max_val}"
        )
    return Hardtanh.apply(x, min_val=float(min_val), max_val=float(max_val))


def relu6(x: Tensor) -> Tensor:
    """min(max(x, 0), 6): ``hardtanh(x, 0, 6)``."""
    return hardtanh(x, 0.0, 6.0)


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    """x if x > 0 else weight * x, ``weight`` with one element or one per channel (axis 1)."""
    x = _activation_input(x, "prelu")
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu expected weight to be a Tensor, got {type(weight).__name__}")
    if weight.ndim > 1 or weight.data.size == 0:
        raise ValueError(f"prelu expected weight of shape (1,) or (C,), got {tuple(weight.shape)}")
    check_weight_dtype("prelu", x, weight)
    n = weight.data.size
    if n != 1:
        channels = x.shape[1] if x.ndim >= 2 else 1
        if x.ndim == 0 or channels != n:
            raise ValueError(
                f"prelu expected input with {n} channels (one per weight) in dimension 1, got "
                f"input of shape {tuple(x.shape)}"
            )
    return PReLU.apply(x, weight)


def mish(x: Tensor) -> Tensor:
    """x * tanh(softplus(x))."""
    return Mish.apply(_activation_input(x, "mish"))


def _activation_input(x: Any, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op} expected a Tensor input, got {type(x).__name__}")
    check_floating(x, "input", op)
    return x
