"""Activation functions and (log-)softmax, each a forward/backward pair."""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import normalize_dim


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
    return np.frompyfunc(math.erf, 1, 1)(x).astype(x.dtype)


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
