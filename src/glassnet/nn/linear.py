"""Linear, Identity, Flatten, Embedding and Dropout layers."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._dtype import get_default_dtype
from .._random import get_rng
from ..autograd.tensor import Parameter, Tensor
from ..device import check_device
from ..ops import dropout as _dropout
from ..ops import embedding as _embedding
from ..ops import linalg, shape
from ..ops._util import check_weight_dtype
from . import init
from .module import Module


class Identity(Module):
    """Returns its input unchanged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """y = x W^T + b, initialised as PyTorch: W, b ~ U(-1/sqrt(in), 1/sqrt(in)).

    Shapes:
        x: (*, in_features)   y: (*, out_features)
        weight: (out_features, in_features)   bias: (out_features,)

    >>> import glassnet
    >>> layer = Linear(3, 2, rng=glassnet.manual_seed(0))
    >>> layer(glassnet.ones(4, 3)).shape
    (4, 2)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        check_device(device)
        for n, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"Linear expected a non-negative int {n}, got {v!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        d = dtype or get_default_dtype()
        rng = get_rng(rng)
        self.weight = Parameter(np.empty((out_features, in_features), d))
        init.kaiming_uniform_(self.weight, a=np.sqrt(5), rng=rng)  # = U(+-1/sqrt(in)), as PyTorch
        if bias:
            self.bias = Parameter(np.empty(out_features, d))
            init.fan_in_uniform_(self.bias, in_features, rng=rng)
        else:
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"Linear expected a Tensor input, got {type(input).__name__}")
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear expected input of shape (*, {self.in_features}), got {input.shape}"
            )
        check_weight_dtype("Linear", input, self.weight)
        return linalg.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Flatten(Module):
    """Merge dimensions ``start_dim..end_dim`` (default: all but the batch dimension)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return shape.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``, W ~ N(0, 1).

    Shapes:
        x: (*) integer   y: (*, embedding_dim)   weight: (num_embeddings, embedding_dim)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        device: Any = None,
        dtype: Any = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        check_device(device)
        if num_embeddings <= 0 or embedding_dim <= 0:
            raise ValueError(
                f"Embedding expected positive num_embeddings and embedding_dim, got "
                f"{num_embeddings} and {embedding_dim}"
            )
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"padding_idx must be within [-{num_embeddings}, {num_embeddings}), "
                    f"got {padding_idx}"
                )
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = (
            num_embeddings,
            embedding_dim,
            padding_idx,
        )
        self.weight = Parameter(
            np.empty((num_embeddings, embedding_dim), dtype or get_default_dtype())
        )
        init.normal_(self.weight, rng=rng)
        if padding_idx is not None:
            self.weight.data[padding_idx] = 0

    def forward(self, input: Any) -> Tensor:
        idx = input.data if isinstance(input, Tensor) else np.asarray(input)
        if idx.dtype.kind not in "iu":
            raise TypeError(
                f"Embedding expected integer indices (rows of its {self.weight.dtype} weight), "
                f"got {idx.dtype}: convert them with .long()"
            )
        return _embedding.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")


class Dropout(Module):
    """Zero elements with probability ``p`` in training (scaling the rest by 1/(1-p)).

    The mask comes from ``rng`` given here (or the package generator).
    """

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout probability must be in [0, 1], got {p}")
        self.p = p
        self.rng = rng

    def forward(self, input: Tensor) -> Tensor:
        return _dropout.dropout(input, self.p, self.training, rng=self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"
