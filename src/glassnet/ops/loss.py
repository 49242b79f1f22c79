"""Loss functions: cross-entropy (stable, through log-softmax), NLL, MSE, L1, BCE with logits."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from . import activation, elementwise, reduce
from ._util import shape_str

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op} expected reduction in {_REDUCTIONS}, got {reduction!r}")


class WeightedNLL(Function):
    """loss_i = -sum_c Q_ic logp_ic, reduced: the common core of NLL and cross-entropy.

    ``coeffs`` Q holds the target distribution times class weights (one-hot rows for class
    indices, smoothed rows with ``label_smoothing``, zeros for ignored positions); ``denom`` is
    what ``mean`` divides by (the summed target weights, as PyTorch).

    Shapes:
        logp, coeffs: (N, C, *)   y: (N, *) for ``none``, () otherwise
    """

    def forward(
        self, logp: np.ndarray, *, coeffs: np.ndarray, reduction: str, denom: float
    ) -> np.ndarray:
        self.coeffs, self.reduction, self.denom = coeffs, reduction, denom
        elem = -(coeffs * logp).sum(axis=1)  # (N, *)
        if reduction == "none":
            return elem
        total = elem.sum()
        if reduction == "mean":
            with np.errstate(divide="ignore", invalid="ignore"):
                total = total / denom
        return np.asarray(total, dtype=logp.dtype)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        g = (
            dy
            if self.reduction == "none"
            else np.broadcast_to(dy, self.coeffs.shape[:1] + self.coeffs.shape[2:])
        )
        if self.reduction == "mean":
            g = g / self.denom
        return (-self.coeffs * np.expand_dims(g, 1)).astype(self.coeffs.dtype, copy=False)


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
        if reduction == "none":
            return loss
        return np.asarray(loss.sum() if reduction == "sum" else loss.mean(), dtype=x.dtype)

    def backward(self, dy: np.ndarray) -> tuple[Any, Any, None, None]:
        g = np.broadcast_to(dy, self.x.shape) if self.reduction != "none" else dy
        if self.reduction == "mean":
            g = g / self.x.size
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


# ---------------------------------------------------------------------------- functional forms
def _class_index_coeffs(
    input_shape: tuple[int, ...],
    target: np.ndarray,
    weight: np.ndarray | None,
    ignore_index: int,
    label_smoothing: float,
    dtype: np.dtype,
    op: str,
) -> tuple[np.ndarray, float]:
    """Build Q (N, C, *) and the mean divisor for integer class targets."""
    C = input_shape[1]
    valid = target != ignore_index
    bad = valid & ((target < 0) | (target >= C))
    if bad.any():
        vals = np.unique(target[bad])[:5].tolist()
        raise ValueError(
            f"{op} expected class indices in [0, {C}) (or ignore_index={ignore_index}), "
            f"got {', '.join(map(str, vals))}"
        )
    safe = np.where(valid, target, 0)  # (N, *)
    w = np.ones(C, dtype) if weight is None else weight.astype(dtype)
    onehot = np.zeros(input_shape, dtype)  # (N, C, *)
    np.put_along_axis(onehot, np.expand_dims(safe, 1), 1.0, axis=1)
    bshape = (1, C) + (1,) * (len(input_shape) - 2)
    wc = w.reshape(bshape)  # (1, C, 1...)
    coeffs = (1 - label_smoothing) * onehot * wc
    if label_smoothing:
        coeffs = coeffs + (label_smoothing / C) * wc
    coeffs *= np.expand_dims(valid, 1)
    denom = float((w[safe] * valid).sum())
    return coeffs, denom


def _prepare_class_input(x: Tensor, target: Any, op: str) -> tuple[Tensor, np.ndarray, bool]:
    """Validate shapes; unbatched (C,) input becomes (1, C)."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if x.ndim == 0:
        raise ValueError(f"{op} expected input of shape (N, C) or (N, C, *), got a scalar")
    unbatched = x.ndim == 1
    if unbatched:
        x = x.unsqueeze(0)
        t = t.reshape((1,) + t.shape)
    return x, t, unbatched


def nll_loss(
    input: Tensor,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices given log-probabilities.

    Shapes:
        input: (N, C, *) or (C,)   target: (N, *) or () integer   y: () or (N, *)
    """
    return _class_loss(
        input, target, weight, ignore_index, reduction, 0.0, "nll_loss", logits=False
    )


def cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy of logits: ``nll(log_softmax(input, 1))``, with PyTorch's options.

    ``target`` holds class indices (integers, ``ignore_index`` skipped) or class probabilities
    (floats, the input's shape). ``label_smoothing`` mixes the target with the uniform
    distribution. ``mean`` divides by the summed weights of the non-ignored targets.

    Shapes:
        input: (N, C, *) or (C,)   target: (N, *) int or (N, C, *) float   y: () or (N, *)

    >>> import glassnet
    >>> x = glassnet.zeros(2, 4)
    >>> round(cross_entropy(x, glassnet.tensor([0, 3])).item(), 4)  # log(4)
    1.3863
    """
    return _class_loss(
        input,
        target,
        weight,
        ignore_index,
        reduction,
        label_smoothing,
        "cross_entropy",
        logits=True,
    )


def _class_loss(
    input: Tensor,
    target: Any,
    weight: Any,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
    op: str,
    *,
    logits: bool,
) -> Tensor:
    _check_reduction(reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op} expected label_smoothing in [0, 1], got {label_smoothing}")
    x, t, unbatched = _prepare_class_input(input, target, op)
    if x.dtype.kind != "f":
        raise TypeError(f"{op} expected a floating-point input, got dtype {x.dtype}")
    C = x.shape[1]
    w = None
    if weight is not None:
        w = np.asarray(weight.data if isinstance(weight, Tensor) else weight)
        if w.shape != (C,):
            raise ValueError(f"{op} expected weight of shape ({C},), got {shape_str(w.shape)}")
    if t.dtype.kind in "iu":
        expected = x.shape[:1] + x.shape[2:]
        if t.shape != expected:
            raise ValueError(
                f"{op} expected target of shape {shape_str(expected)} for input "
                f"{shape_str(x.shape)}, got {shape_str(t.shape)}"
            )
        coeffs, denom = _class_index_coeffs(
            x.shape, t, w, ignore_index, label_smoothing, x.dtype, op
        )
    elif t.dtype.kind == "f" and logits:
        if t.shape != x.shape:
            raise ValueError(
                f"{op} expected class-probability target of the input's shape "
                f"{shape_str(x.shape)}, got {shape_str(t.shape)}"
            )
        return _soft_target_loss(x, target, w, label_smoothing, reduction, unbatched)
    else:
        raise TypeError(
            f"{op} expected integer class indices (int64) "
            + ("or float class probabilities " if logits else "")
            + f"as target, got dtype {t.dtype}"
        )
    logp = activation.log_softmax(x, 1) if logits else x
    out: Tensor = WeightedNLL.apply(logp, coeffs=coeffs, reduction=reduction, denom=denom)
    if unbatched and reduction == "none":
        out = out.squeeze(0)
    return out


def _soft_target_loss(
    x: Tensor,
    target: Any,
    w: np.ndarray | None,
    label_smoothing: float,
    reduction: str,
    unbatched: bool,
) -> Tensor:
    """Cross-entropy against class probabilities, built from differentiable ops so that a
    target that requires grad gets its gradient too (as PyTorch)."""
    C = x.shape[1]
    t = target if isinstance(target, Tensor) else Tensor(np.asarray(target, x.dtype))
    if unbatched:
        t = t.unsqueeze(0)
    q = t * (1 - label_smoothing) + label_smoothing / C  # (N, C, *)
    if w is not None:
        q = q * w.astype(x.dtype).reshape((1, C) + (1,) * (x.ndim - 2))
    elem = -reduce.sum(q * activation.log_softmax(x, 1), 1)  # (N, *)
    if reduction == "none":
        return elem.squeeze(0) if unbatched else elem
    return reduce.sum(elem) if reduction == "sum" else reduce.mean(elem)


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error. ``input`` and ``target`` must have the same shape.

    Shapes:
        input, target: (*)   y: () or (*) with reduction='none'
    """
    return _pointwise_loss(input, target, reduction, "mse_loss", square=True)


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error. ``input`` and ``target`` must have the same shape."""
    return _pointwise_loss(input, target, reduction, "l1_loss", square=False)


def _pointwise_loss(
    input: Tensor,
    target: Any,
    reduction: str,
    op: str,
    *,
    square: bool,
) -> Tensor:
    _check_reduction(reduction, op)
    x = input if isinstance(input, Tensor) else Tensor(input)
    t = target if isinstance(target, Tensor) else Tensor(np.asarray(target, dtype=x.dtype))
    if x.shape != t.shape:
        raise ValueError(
            f"{op} expected target of the input's shape {shape_str(x.shape)}, got "
            f"{shape_str(t.shape)} (broadcasting here is almost always a bug)"
        )
    d = elementwise.sub(x, t)
    elem = d * d if square else elementwise.abs(d)
    if reduction == "none":
        return elem
    return reduce.sum(elem) if reduction == "sum" else reduce.mean(elem)


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
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    x = input if isinstance(input, Tensor) else Tensor(input)
    t = target if isinstance(target, Tensor) else Tensor(np.asarray(target, dtype=x.dtype))
    if x.shape != t.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits expected target of the input's shape "
            f"{shape_str(x.shape)}, got {shape_str(t.shape)}"
        )
    if t.dtype.kind != "f":
        raise TypeError(
            f"binary_cross_entropy_with_logits expected a floating-point target, got {t.dtype}"
        )

    def arr(v: Any, name: str) -> np.ndarray | None:
        if v is None:
            return None
        a = np.asarray(v.data if isinstance(v, Tensor) else v, dtype=x.dtype)
        try:
            np.broadcast_shapes(a.shape, x.shape)
        except ValueError:
            raise ValueError(
                f"binary_cross_entropy_with_logits expected {name} broadcastable to "
                f"{shape_str(x.shape)}, got {shape_str(a.shape)}"
            ) from None
        return a

    return BCEWithLogits.apply(
        x, t, arr(weight, "weight"), arr(pos_weight, "pos_weight"), reduction=reduction
    )
