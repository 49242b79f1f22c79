"""Dropout: zero each element (or each whole channel) with probability p, scale the rest by 1/(1-p).

Element dropout draws one Bernoulli(1 - p) mask value per element. Channel dropout
(``dropout1d/2d/3d``, PyTorch's "feature dropout") draws one per (sample, channel) and zeroes
whole channels, the right regulariser when neighbouring values of a channel are correlated
(feature maps of a convolution).
"""

from __future__ import annotations

import warnings

import numpy as np

from .._random import get_rng
from ..autograd.function import Function
from ..autograd.tensor import Tensor


class Dropout(Function):
    """y = x * mask / (1 - p), mask ~ Bernoulli(1 - p): dx = dy * mask / (1 - p).

    With ``channelwise`` the mask has shape (N, C, 1, ...) and broadcasts over each channel.

    Shapes:
        x: (*) or, channelwise, (N, C, *S)   mask: like x or (N, C, 1, ...)   y: same as x
    """

    def forward(
        self, x: np.ndarray, *, p: float, rng: np.random.Generator, channelwise: bool = False
    ) -> np.ndarray:
        mask_shape = x.shape[:2] + (1,) * (x.ndim - 2) if channelwise else x.shape
        keep = rng.random(mask_shape) >= p  # (*) or (N, C, 1, ...)
        self.scale = (keep / (1 - p)).astype(x.dtype)  # mask already scaled
        return x * self.scale

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * self.scale


def _check_p(p: float, op: str) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{op} probability p must be in [0, 1], got {p!r}")
    return float(p)


def _feature_dropout(
    x: Tensor, p: float, training: bool, rng: np.random.Generator | None, op: str
) -> Tensor:
    """Channel dropout of (N, C, *S) input (identity when not training, p = 0 or empty)."""
    if not training or p == 0.0 or x.data.size == 0:
        return x
    if x.ndim < 2:
        raise ValueError(
            f"{op} expected input with at least 2 dimensions (N, C, *), got shape {x.shape}"
        )
    if p == 1.0:
        return x * 0.0
    return Dropout.apply(x, p=p, rng=get_rng(rng), channelwise=True)


def _require_tensor(x: object, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op} expected a Tensor input, got {type(x).__name__}")
    return x


def dropout(
    x: Tensor, p: float = 0.5, training: bool = True, *, rng: np.random.Generator | None = None
) -> Tensor:
    """Randomly zero elements during training (identity when ``training`` is False or p = 0)."""
    p = _check_p(p, "dropout")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    return Dropout.apply(x, p=p, rng=get_rng(rng), channelwise=False)


def dropout1d(
    x: Tensor, p: float = 0.5, training: bool = True, *, rng: np.random.Generator | None = None
) -> Tensor:
    """Zero whole channels of (N, C, L) or unbatched (C, L) input, scale the rest by 1/(1-p).

    Shapes:
        x: (N, C, L) or (C, L)   y: same as x
    """
    x, p = _require_tensor(x, "dropout1d"), _check_p(p, "dropout1d")
    if x.ndim not in (2, 3):
        raise ValueError(f"dropout1d expected input of shape (N, C, L) or (C, L), got {x.shape}")
    if x.ndim == 2:
        return _feature_dropout(x.unsqueeze(0), p, training, rng, "dropout1d").squeeze(0)
    return _feature_dropout(x, p, training, rng, "dropout1d")


def dropout2d(
    x: Tensor, p: float = 0.5, training: bool = True, *, rng: np.random.Generator | None = None
) -> Tensor:
    """Zero whole channels of (N, C, H, W) input, scale the rest by 1/(1-p).

    As PyTorch (for now), a 3-D input is taken as (N, C, L), not as unbatched (C, H, W), with a
    warning; other ranks than 3 and 4 warn that they are deprecated.

    Shapes:
        x: (N, C, H, W)   y: same as x
    """
    x, p = _require_tensor(x, "dropout2d"), _check_p(p, "dropout2d")
    if x.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {x.ndim}-D input to dropout2d, which is deprecated (as in "
            "PyTorch); dropout2d expects (N, C, H, W) input. Use dropout for other ranks.",
            UserWarning,
            stacklevel=2,
        )
    if x.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim (as PyTorch). Use dropout1d for 1D channel-wise dropout.",
            UserWarning,
            stacklevel=2,
        )
    return _feature_dropout(x, p, training, rng, "dropout2d")


def dropout3d(
    x: Tensor, p: float = 0.5, training: bool = True, *, rng: np.random.Generator | None = None
) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or unbatched (C, D, H, W) input.

    Other ranks warn that they are deprecated (as PyTorch) and are taken as unbatched.

    Shapes:
        x: (N, C, D, H, W) or (C, D, H, W)   y: same as x
    """
    x, p = _require_tensor(x, "dropout3d"), _check_p(p, "dropout3d")
    if x.ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {x.ndim}-D input to dropout3d, which is deprecated (as in "
            "PyTorch); dropout3d expects (N, C, D, H, W) or (C, D, H, W) input. Use dropout for "
            "other ranks.",
            UserWarning,
            stacklevel=2,
        )
    if x.ndim != 5:
        return _feature_dropout(x.unsqueeze(0), p, training, rng, "dropout3d").squeeze(0)
    return _feature_dropout(x, p, training, rng, "dropout3d")
