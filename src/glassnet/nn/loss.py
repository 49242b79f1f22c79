"""Loss layers (thin wrappers over ``glassnet.ops.loss``).

As in PyTorch, a class ``weight`` (and ``pos_weight``) is a buffer: it is saved in
``state_dict``, loads from a PyTorch loss's state_dict and follows ``.double()``/``.float()``.
PyTorch's deprecated ``size_average``/``reduce`` arguments are not taken; use ``reduction``.
"""

from __future__ import annotations

from typing import Any

from ..autograd.tensor import Tensor
from ..ops import loss as L
from .module import Module


class _Loss(Module):
    """A loss with a ``reduction`` ('mean', 'sum' or 'none'; checked when built)."""

    _reductions: tuple[str, ...] = ("mean", "sum", "none")

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        L._check_reduction(reduction, type(self).__name__, self._reductions)
        self.reduction = reduction

    def _buffer(self, name: str, value: Any) -> None:
        """Register an optional floating tensor argument (a class weight) as a buffer."""
        if value is not None:
            if not isinstance(value, Tensor):
                value = Tensor(value)  # a list, an ndarray or a torch tensor
            if value.dtype.kind != "f":
                raise TypeError(
                    f"{type(self).__name__} expected a floating-point {name}, got {value.dtype}"
                )
        self.register_buffer(name, value)


class CrossEntropyLoss(_Loss):
    """Cross-entropy of logits against class indices or class probabilities.

    Shapes:
        input: (N, C) or (N, C, *) or (C,)   target: (N,) / (N, *) / () int64, or the input's
        shape as floats   weight: (C,)   output: () or (N, *) with reduction='none'
    """

    def __init__(
        self,
        weight: Any = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(reduction)
        self._buffer("weight", weight)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.cross_entropy(
            input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing
        )


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices given log-probabilities.

    Shapes:
        input: (N, C) or (N, C, *) or (C,)   target: (N,) / (N, *) / () int64   weight: (C,)
        output: () or (N, *) with reduction='none'
    """

    def __init__(
        self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction)
        self._buffer("weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class MSELoss(_Loss):
    """Mean squared error (input and target of the same shape)."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error (input and target of the same shape)."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss: ``0.5 d^2 / beta`` for ``|d| < beta``, ``|d| - 0.5 beta`` beyond.

    Shapes:
        input, target: (*)   output: () or (*) with reduction='none'

    >>> import glassnet
    >>> SmoothL1Loss(beta=2.0)(glassnet.tensor([1.0, 4.0]), glassnet.zeros(2)).item()
    1.625
    """

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        L._check_real(beta, "beta", "SmoothL1Loss")
        if beta < 0:
            raise ValueError(f"SmoothL1Loss expected a non-negative beta, got {beta}")
        self.beta = beta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.smooth_l1_loss(input, target, self.reduction, self.beta)


class HuberLoss(_Loss):
    """Huber loss: ``0.5 d^2`` for ``|d| < delta``, ``delta (|d| - 0.5 delta)`` beyond.

    Shapes:
        input, target: (*)   output: () or (*) with reduction='none'

    >>> import glassnet
    >>> HuberLoss(delta=2.0)(glassnet.tensor([1.0, 4.0]), glassnet.zeros(2)).item()
    3.25
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        L._check_real(delta, "delta", "HuberLoss")
        if not delta > 0:
            raise ValueError(f"HuberLoss expected a positive delta, got {delta}")
        self.delta = delta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.huber_loss(input, target, self.reduction, self.delta)


class KLDivLoss(_Loss):
    """KL divergence of the target from ``input`` log-probabilities.

    ``reduction='batchmean'`` gives the KL divergence per sample; ``'mean'`` (the default, as
    PyTorch) divides by every element and warns. ``log_target=True``: the target holds
    log-probabilities.

    Shapes:
        input, target: (N, *)   output: () or (N, *) with reduction='none'
    """

    _reductions = ("mean", "sum", "none", "batchmean")

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.kl_div(input, target, self.reduction, self.log_target)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1] (``BCEWithLogitsLoss`` for logits).

    Shapes:
        input, target: (*)   weight: broadcastable to (*)   output: () or (*)

    >>> import glassnet
    >>> round(BCELoss()(glassnet.tensor([0.5, 0.9]), glassnet.tensor([1.0, 1.0])).item(), 4)
    0.3993
    """

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self._buffer("weight", weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits (stable), with optional ``weight`` and ``pos_weight``.

    Shapes:
        input, target: (*)   weight: broadcastable to (*)   pos_weight: broadcast over the last
        dimension   output: () or (*)
    """

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__(reduction)
        self._buffer("weight", weight)
        self._buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.binary_cross_entropy_with_logits(
            input, target, self.weight, self.reduction, self.pos_weight
        )
