"""Losses whose target has the input's shape, one loss per element: binary cross-entropy of
probabilities and of logits, KL divergence, smooth L1 / Huber, and MSE and L1 from elementwise ops.

Split from ``loss`` (which keeps the class-index losses, cross-entropy and NLL, and re-exports
everything here). A shape mismatch between input and target is an error, not a broadcast.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from . import activation, elementwise, reduce
from ._loss_util import (
    _REDUCTIONS,
    _check_real,
    _check_reduction,
    _elem_grad,
    _input_target,
    _reduced,
    _weight_array,
)


class BCEWithLogits(Function):
    """loss = w [(1 - t) x + (1 + (p - 1) t) softplus(-x)], stable for any x.

    Shapes:
        x, t: (*)   weight, pos_weight: broadcastable to (*)   y: (*) or ()
    """

    def forward(
        self,
        x: np.ndarray,
        t: np.ndarray,
        weight: np.ndarray | None,
        pos_weight: np.ndarray | None,
        *,
        reduction: str,
    ) -> np.ndarray:
        lw = 1 + (pos_weight - 1) * t if pos_weight is not None else np.ones_like(x)
        self.softplus_neg = np.logaddexp(0, -x)  # log(1 + exp(-x)), stable
        loss = (1 - t) * x + lw * self.softplus_neg
        if weight is not None:
            loss = loss * weight
        self.x, self.t, self.lw, self.w, self.pw, self.reduction = (
            x,
            t,
            lw,
            weight,
            pos_weight,
            reduction,
        )
        return _reduced(loss.astype(x.dtype, copy=False), reduction, x.size)

    def backward(self, dy: np.ndarray) -> tuple[Any, Any, None, None]:
        g = _elem_grad(dy, self.x.shape, self.reduction, self.x.size)
        if self.w is not None:
            g = g * self.w
        dx = dt = None
        if self.needs_input_grad[0]:
            sig_neg = activation.stable_sigmoid(-self.x)
            dx = (g * ((1 - self.t) - self.lw * sig_neg)).astype(self.x.dtype)
        if self.needs_input_grad[1]:
            d = -self.x + (0 if self.pw is None else (self.pw - 1) * self.softplus_neg)
            dt = (g * d).astype(self.t.dtype)
        return dx, dt, None, None


_BCE_EPS = float(np.float32(1e-12))  # PyTorch's clamp constant is a float32 1e-12


class BCE(Function):
    """loss = -w [t log(x) + (1 - t) log(1 - x)] for probabilities x, each log clamped at -100
    (as PyTorch, so x = 0 or 1 gives a finite loss).

    ``dx = w (x - t) / max(x (1 - x), 1e-12)`` (PyTorch's clamp) and ``dt = w log((1 - x) / x)``.

    Shapes:
        x, t: (*)   weight: broadcastable to (*)   y: (*) or ()
    """

    def forward(
        self, x: np.ndarray, t: np.ndarray, *, weight: np.ndarray | None, reduction: str
    ) -> np.ndarray:
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped next
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        loss = -(t * log_x + (1 - t) * log_1mx)
        if weight is not None:
            loss = loss * weight
        self.x, self.t, self.w, self.reduction = x, t, weight, reduction
        return _reduced(loss, reduction, x.size)

    def backward(self, dy: np.ndarray) -> tuple[Any, Any]:
        x, t = self.x, self.t
        g = _elem_grad(dy, x.shape, self.reduction, x.size)
        if self.w is not None:
            g = g * self.w
        dx = dt = None
        if self.needs_input_grad[0]:
            dx = g * (x - t) / np.maximum(x * (1 - x), _BCE_EPS)
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore"):  # x = 0 or 1: an infinite gradient, as PyTorch
                dt = g * np.log((1 - x) / x)
        return dx, dt


class SmoothL1(Function):
    """Smooth L1 and Huber loss of d = x - t, pointwise and reduced.

    smooth L1 with ``beta``: ``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``
    (``beta = 0`` is L1). Huber with delta is ``delta * smooth_l1(beta=delta)``: ``0.5 d^2``
    inside, ``delta (|d| - 0.5 delta)`` outside, hence the ``scale`` factor.
    ``dx = -dt = scale * (d / beta inside, sign(d) outside)``, times the optional ``weight``.

    Shapes:
        x, t, weight: (*)   y: (*) or ()
    """

    def forward(
        self,
        x: np.ndarray,
        t: np.ndarray,
        *,
        beta: float,
        scale: float,
        weight: np.ndarray | None,
        reduction: str,
    ) -> np.ndarray:
        dtype = np.result_type(x, t)
        d = (x - t).astype(dtype, copy=False)
        ad = np.abs(d)
        self.inside = ad < beta  # (*) the quadratic part
        elem = np.where(self.inside, (0.5 / beta if beta else 0) * d * d, ad - 0.5 * beta)
        if scale != 1:
            elem *= scale
        if weight is not None:
            elem = elem * weight
        self.d, self.beta, self.scale, self.w, self.reduction = d, beta, scale, weight, reduction
        self.dtypes = (x.dtype, t.dtype)
        return _reduced(elem, reduction, x.size)

    def backward(self, dy: np.ndarray) -> tuple[Any, Any]:
        g = _elem_grad(dy, self.d.shape, self.reduction, self.d.size)
        if self.w is not None:
            g = g * self.w
        slope = np.where(self.inside, self.d / (self.beta or 1), np.sign(self.d)) * self.scale
        dd = g * slope
        dx = dd.astype(self.dtypes[0], copy=False) if self.needs_input_grad[0] else None
        dt = (-dd).astype(self.dtypes[1], copy=False) if self.needs_input_grad[1] else None
        return dx, dt


class KLDiv(Function):
    """Pointwise KL divergence of a target from log-probabilities x, reduced.

    ``t (log t - x)`` (0 where t = 0, as ``xlogy``), or with ``log_target`` (t holds log-probs)
    ``exp(t) (t - x)``. ``dx = -t`` (``-exp(t)``); ``dt = log t + 1 - x`` (``exp(t) (t - x + 1)``).
    A negative target gives nan, as PyTorch, without a NumPy warning.

    Shapes:
        x, t: (*)   y: (*) or ()
    """

    def forward(
        self, x: np.ndarray, t: np.ndarray, *, log_target: bool, reduction: str, divisor: float
    ) -> np.ndarray:
        dtype = np.result_type(x, t)
        with np.errstate(divide="ignore", invalid="ignore"):
            if log_target:
                self.p = np.exp(t).astype(dtype, copy=False)  # the target's probabilities
                elem = self.p * (t - x)
            else:
                self.p = t.astype(dtype, copy=False)
                self.log_t = np.log(t)
                elem = np.where(t == 0, 0, t * self.log_t) - t * x
        self.x, self.t, self.log_target = x, t, log_target
        self.reduction, self.divisor = reduction, divisor
        return _reduced(elem.astype(dtype, copy=False), reduction, divisor)

    def backward(self, dy: np.ndarray) -> tuple[Any, Any]:
        g = _elem_grad(dy, self.x.shape, self.reduction, self.divisor)
        dx = dt = None
        if self.needs_input_grad[0]:
            dx = (-self.p * g).astype(self.x.dtype, copy=False)
        if self.needs_input_grad[1]:
            with np.errstate(invalid="ignore"):
                if self.log_target:
                    dt = self.p * (self.t - self.x + 1) * g
                else:  # d(t log t)/dt is unbounded at t = 0: nan there, as PyTorch's xlogy
                    dt = (np.where(self.t == 0, np.nan, self.log_t + 1) - self.x) * g
            dt = dt.astype(self.t.dtype, copy=False)
        return dx, dt


# ---------------------------------------------------------------------------- functional forms
def mse_loss(input: Tensor, target: Any, reduction: str = "mean", weight: Any = None) -> Tensor:
    """Mean squared error. ``input`` and ``target`` must have the same shape.

    ``weight`` (the input's shape) scales each element's loss; 'mean' then divides by the
    summed weights, as PyTorch (whose ``huber_loss`` divides by the element count instead).

    Shapes:
        input, target, weight: (*)   y: () or (*) with reduction='none'
    """
    return _pointwise_loss(input, target, reduction, weight, "mse_loss", square=True)


def l1_loss(input: Tensor, target: Any, reduction: str = "mean", weight: Any = None) -> Tensor:
    """Mean absolute error. ``input`` and ``target`` must have the same shape.

    Shapes:
        input, target, weight: (*)   y: () or (*) with reduction='none'
    """
    return _pointwise_loss(input, target, reduction, weight, "l1_loss", square=False)


def _pointwise_loss(
    input: Tensor,
    target: Any,
    reduction: str,
    weight: Any,
    op: str,
    *,
    square: bool,
) -> Tensor:
    _check_reduction(reduction, op)
    x, t = _input_target(input, target, op)
    w = _weight_array(weight, "weight", op, x, same_shape=True)
    d = elementwise.sub(x, t)
    elem = d * d if square else elementwise.abs(d)
    if w is not None:
        elem = elem * w
    if reduction == "none":
        return elem
    if reduction == "sum":
        return reduce.sum(elem)
    return reduce.mean(elem) if w is None else reduce.sum(elem) / w.sum()


def smooth_l1_loss(
    input: Tensor, target: Any, reduction: str = "mean", beta: float = 1.0
) -> Tensor:
    """Smooth L1 loss: quadratic for ``|input - target| < beta``, linear beyond.

    ``0.5 d^2 / beta`` inside, ``|d| - 0.5 beta`` outside; ``beta = 0`` is the L1 loss.

    Shapes:
        input, target: (*)   y: () or (*) with reduction='none'

    >>> import glassnet
    >>> smooth_l1_loss(glassnet.tensor([0.5, 3.0]), glassnet.zeros(2), reduction="none")
    tensor([0.1250, 2.5000])
    """
    _check_reduction(reduction, "smooth_l1_loss")
    _check_real(beta, "beta", "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss expected a non-negative beta, got {beta}")
    x, t = _input_target(input, target, "smooth_l1_loss")
    return SmoothL1.apply(x, t, beta=float(beta), scale=1.0, weight=None, reduction=reduction)


def huber_loss(
    input: Tensor,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Any = None,
) -> Tensor:
    """Huber loss: ``0.5 d^2`` for ``|d| < delta``, ``delta (|d| - 0.5 delta)`` beyond.

    Equal to ``delta * smooth_l1_loss(beta=delta)``. ``weight`` (the input's shape) scales each
    element's loss; 'mean' still divides by the element count, as PyTorch's ``F.huber_loss``.

    Shapes:
        input, target, weight: (*)   y: () or (*) with reduction='none'

    >>> import glassnet
    >>> huber_loss(glassnet.tensor([0.5, 3.0]), glassnet.zeros(2), reduction="none", delta=2.0)
    tensor([0.1250, 4.0000])
    """
    _check_reduction(reduction, "huber_loss")
    _check_real(delta, "delta", "huber_loss")
    if not delta > 0:
        raise ValueError(f"huber_loss expected a positive delta, got {delta}")
    x, t = _input_target(input, target, "huber_loss")
    w = _weight_array(weight, "weight", "huber_loss", x, same_shape=True)
    return SmoothL1.apply(
        x, t, beta=float(delta), scale=float(delta), weight=w, reduction=reduction
    )


def kl_div(input: Tensor, target: Any, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL divergence ``sum target (log target - input)`` with ``input`` holding log-probabilities.

    ``log_target=True``: the target holds log-probabilities too. ``reduction='batchmean'`` (the
    sum over the batch size) is the true KL divergence of each sample's distribution; ``'mean'``
    divides by every element and warns, as PyTorch.

    Shapes:
        input, target: (N, *)   y: () or (N, *) with reduction='none'

    >>> import numpy as np, glassnet
    >>> p = glassnet.tensor([[0.5, 0.5]])
    >>> kl_div(p.log(), p, reduction="batchmean").item()
    0.0
    """
    _check_reduction(reduction, "kl_div", (*_REDUCTIONS, "batchmean"))
    x, t = _input_target(input, target, "kl_div")
    if reduction == "mean":
        warnings.warn(
            "kl_div: reduction='mean' divides the total loss by both the batch size and the "
            "support size; 'batchmean' divides only by the batch size and is the KL divergence",
            UserWarning,
            stacklevel=2,
        )
    divisor = (x.shape[0] if x.ndim else 1) if reduction == "batchmean" else x.numel()
    return KLDiv.apply(x, t, log_target=bool(log_target), reduction=reduction, divisor=divisor)


def binary_cross_entropy(
    input: Tensor, target: Any, weight: Any = None, reduction: str = "mean"
) -> Tensor:
    """Binary cross-entropy of probabilities in [0, 1] (for logits use
    ``binary_cross_entropy_with_logits``, which is stable).

    Each log is clamped at -100, as PyTorch, so a probability of exactly 0 or 1 gives a finite
    loss.

    Shapes:
        input, target: (*)   weight: broadcastable to (*)   y: () or (*)

    >>> import glassnet
    >>> round(binary_cross_entropy(glassnet.tensor([0.5]), glassnet.tensor([1.0])).item(), 4)
    0.6931
    """
    op = "binary_cross_entropy"
    _check_reduction(reduction, op)
    x, t = _input_target(input, target, op)
    if isinstance(target, Tensor) and target.dtype != x.dtype:
        raise TypeError(
            f"{op} expected a target of the input's dtype {x.dtype}, got {target.dtype}"
        )
    inside = (x.data >= 0) & (x.data <= 1)
    if not inside.all():
        bad = x.data[~inside]
        raise ValueError(
            f"{op} expected input probabilities in [0, 1], got {bad.size} value(s) outside "
            f"(e.g. {bad.flat[0]}); for logits use binary_cross_entropy_with_logits"
        )
    return BCE.apply(x, t, weight=_weight_array(weight, "weight", op, x), reduction=reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """Binary cross-entropy of logits, computed stably (never log(sigmoid(x)) directly).

    Shapes:
        input, target: (*)   weight: broadcastable to (*)   pos_weight: (C,) broadcast over
        the last dimension   y: () or (*)
    """
    op = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, op)
    x = input if isinstance(input, Tensor) else Tensor(input)
    t = target if isinstance(target, Tensor) else Tensor(np.asarray(target, dtype=x.dtype))
    if t.dtype.kind != "f":
        raise TypeError(f"{op} expected a floating-point target, got {t.dtype}")
    x, t = _input_target(x, t, op)
    return BCEWithLogits.apply(
        x,
        t,
        _weight_array(weight, "weight", op, x),
        _weight_array(pos_weight, "pos_weight", op, x),
        reduction=reduction,
    )
