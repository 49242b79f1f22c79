"""Activation layers (thin wrappers over ``glassnet.ops.activation``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._dtype import get_default_dtype
from ..autograd import grad_mode
from ..autograd.tensor import Parameter, Tensor
from ..device import check_device
from ..ops import activation as A
from ..ops._util import check_weight_dtype
from .module import Module


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, input: Tensor) -> Tensor:
        return A.relu(input)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, input: Tensor) -> Tensor:
        return A.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x if x > 0 else alpha (exp(x) - 1)."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, input: Tensor) -> Tensor:
        return A.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class GELU(Module):
    """x Phi(x) (``approximate='tanh'`` for the tanh approximation)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU expected approximate='none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return A.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Tanh(Module):
    """tanh(x)."""

    def forward(self, input: Tensor) -> Tensor:
        return A.tanh(input)


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, input: Tensor) -> Tensor:
        return A.sigmoid(input)


class Softmax(Module):
    """softmax along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return A.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return A.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class SiLU(Module):
    """x * sigmoid(x) (swish)."""

    def forward(self, input: Tensor) -> Tensor:
        return A.silu(input)


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, reverting to x where beta x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        return A.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """clamp(x, min_val, max_val); the gradient is 0 at and beyond the bounds."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0) -> None:
        super().__init__()
        if not max_val > min_val:
            raise ValueError(
                f"{type(self).__name__} expected max_val > min_val, got min_val={min_val} and "
                f"max_val={max_val}"
            )
        self.min_val, self.max_val = min_val, max_val

    def forward(self, input: Tensor) -> Tensor:
        return A.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Hardtanh):
    """min(max(x, 0), 6): ``Hardtanh(0, 6)``, as PyTorch."""

    def __init__(self) -> None:
        super().__init__(0.0, 6.0)

    def extra_repr(self) -> str:
        return ""


class PReLU(Module):
    """x if x > 0 else a * x with a learnt slope ``a``: one, or one per channel (axis 1).

    Shapes:
        x: (N, C, *) (or any shape when num_parameters = 1)   weight: (num_parameters,)
        y: same as x

    >>> import glassnet
    >>> PReLU(3)(glassnet.randn(2, 3, 4)).shape
    (2, 3, 4)
    """

    def __init__(
        self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        check_device(device)
        if (
            isinstance(num_parameters, bool)
            or not isinstance(num_parameters, (int, np.integer))
            or num_parameters <= 0
        ):
            raise ValueError(
                f"PReLU expected a positive int num_parameters, got {num_parameters!r}"
            )
        self.num_parameters, self.init = int(num_parameters), init
        d = np.dtype(dtype) if dtype is not None else get_default_dtype()
        self.weight = Parameter(np.full(self.num_parameters, init, d))

    def reset_parameters(self) -> None:
        """Every slope back to ``init``."""
        with grad_mode.no_grad():
            self.weight.fill_(self.init)

    def forward(self, input: Tensor) -> Tensor:
        if isinstance(input, Tensor):
            check_weight_dtype("PReLU", input, self.weight)
        return A.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Mish(Module):
    """x * tanh(softplus(x))."""

    def forward(self, input: Tensor) -> Tensor:
        return A.mish(input)
