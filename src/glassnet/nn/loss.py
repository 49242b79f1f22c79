"""Loss layers (thin wrappers over ``glassnet.ops.loss``)."""

from __future__ import annotations

from typing import Any

from ..autograd.tensor import Tensor
from ..ops import loss as L
from .module import Module


class CrossEntropyLoss(Module):
    """Cross-entropy of logits against class indices or class probabilities.

    Shapes:
        input: (N, C) or (N, C, *) or (C,)   target: (N,) / (N, *) / () int64, or the input's
        shape as floats   output: () or (N, *) with reduction='none'
    """

    def __init__(
        self,
        weight: Any = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        self.weight, self.ignore_index = weight, ignore_index
        self.reduction, self.label_smoothing = reduction, label_smoothing
        L._check_reduction(reduction, "CrossEntropyLoss")

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.cross_entropy(
            input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing
        )


class NLLLoss(Module):
    """Negative log-likelihood of class indices given log-probabilities."""

    def __init__(
        self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean"
    ) -> None:
        super().__init__()
        self.weight, self.ignore_index, self.reduction = weight, ignore_index, reduction
        L._check_reduction(reduction, "NLLLoss")

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class MSELoss(Module):
    """Mean squared error (input and target of the same shape)."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        L._check_reduction(reduction, "MSELoss")
        self.reduction = reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.mse_loss(input, target, self.reduction)


class L1Loss(Module):
    """Mean absolute error (input and target of the same shape)."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        L._check_reduction(reduction, "L1Loss")
        self.reduction = reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.l1_loss(input, target, self.reduction)


class BCEWithLogitsLoss(Module):
    """Binary cross-entropy of logits (stable), with optional ``weight`` and ``pos_weight``."""

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__()
        L._check_reduction(reduction, "BCEWithLogitsLoss")
        self.weight, self.reduction, self.pos_weight = weight, reduction, pos_weight

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.binary_cross_entropy_with_logits(
            input, target, self.weight, self.reduction, self.pos_weight
        )
