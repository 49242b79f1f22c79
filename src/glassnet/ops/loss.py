"""Loss functions. Here: cross-entropy and NLL over class-index (or class-probability) targets,
the target's log-probability gathered, never a one-hot product. ``loss_elementwise`` holds the
losses whose target has the input's shape (binary cross-entropy of probabilities and of logits,
smooth L1 / Huber, KL divergence, MSE and L1); they are re-exported here, so that
``glassnet.ops.loss`` stays the one place to import any loss from.

Every loss takes PyTorch's ``reduction``: ``'none'`` (the per-element losses), ``'sum'`` or
``'mean'`` (the sum over the number of elements; for class losses over the summed class weights),
and for ``kl_div`` also ``'batchmean'`` (the sum over the batch size). The shared reduction and
input checks are in ``_loss_util``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from . import activation, reduce
from ._loss_util import _check_real as _check_real  # re-exported: nn.loss checks floats with it
from ._loss_util import _check_reduction, _elem_grad, _reduced
from ._util import shape_str
from .loss_elementwise import (
    BCE,
    BCEWithLogits,
    KLDiv,
    SmoothL1,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    smooth_l1_loss,
)

__all__ = [
    "BCE",
    "BCEWithLogits",
    "ClassNLL",
    "KLDiv",
    "SmoothL1",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
]


def _log_softmax(x: np.ndarray) -> np.ndarray:
    """x - logsumexp(x) over axis 1.

    A float32 logit of -3e38 beside 3e38 makes ``x - max`` overflow to -inf, which is the right
    log-probability (PyTorch gives the same), so that overflow is not an error.
    """
    with np.errstate(over="ignore"):
        shifted = x - x.max(axis=1, keepdims=True)  # (N, C, *)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class ClassNLL(Function):
    """Cross-entropy (``logits``) or NLL of class indices, with class weights, ignored positions
    and label smoothing eps.

    With logp = log_softmax(x) for logits (x itself for NLL) and target t_i at position i:

        loss_i = -(1 - eps) w_{t_i} logp_{i t_i} - (eps / C) sum_c w_c logp_{ic}   (0 if ignored)

    The target's log-probability is gathered, so a -inf logit of another class gives PyTorch's
    finite loss where a one-hot product would give 0 * -inf = nan. ``mean`` divides by the summed
    weights of the counted targets, as PyTorch. Backward, with g_i the gradient of loss_i:
    ``dlogp_i = -g_i q_i`` where q_i is the weighted, smoothed target row, and through the
    log-softmax ``dx_i = dlogp_i - softmax(x)_i sum_c dlogp_ic``.

    Shapes:
        x: (N, C, *)   target, valid: (N, *)   weight: (C,)   y: (N, *) or ()
    """

    def forward(
        self,
        x: np.ndarray,
        *,
        target: np.ndarray,
        valid: np.ndarray,
        weight: np.ndarray | None,
        label_smoothing: float,
        reduction: str,
        logits: bool,
    ) -> np.ndarray:
        C = x.shape[1]
        logp = _log_softmax(x) if logits else x  # (N, C, *)
        idx = np.expand_dims(np.where(valid, target, 0), 1)  # (N, 1, *)
        w_t = valid.astype(x.dtype) if weight is None else weight[idx[:, 0]] * valid  # (N, *)
        picked = np.where(valid, np.take_along_axis(logp, idx, axis=1)[:, 0], 0)  # (N, *)
        elem = -(1 - label_smoothing) * w_t * picked  # (N, *)
        w_c = None if weight is None else weight.reshape((1, C) + (1,) * (x.ndim - 2))
        if label_smoothing:
            total = logp.sum(axis=1) if w_c is None else (logp * w_c).sum(axis=1)  # (N, *)
            elem = elem - (label_smoothing / C) * np.where(valid, total, 0)
        self.logp, self.idx, self.valid, self.w_t, self.w_c = logp, idx, valid, w_t, w_c
        self.eps, self.reduction, self.logits = label_smoothing, reduction, logits
        self.denom = w_t.sum()
        return _reduced(elem.astype(x.dtype, copy=False), reduction, self.denom)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        logp, eps, C = self.logp, self.eps, self.logp.shape[1]
        g = _elem_grad(dy, self.valid.shape, self.reduction, self.denom)  # (N, *)
        dlogp = np.zeros_like(logp)  # (N, C, *)
        np.put_along_axis(dlogp, self.idx, np.expand_dims(-(1 - eps) * self.w_t * g, 1), axis=1)
        if eps:
            g_valid = np.expand_dims(np.where(self.valid, g, 0), 1)  # (N, 1, *)
            dlogp -= (eps / C) * (g_valid if self.w_c is None else self.w_c * g_valid)
        if not self.logits:
            return dlogp
        return dlogp - np.exp(logp) * dlogp.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------------- functional forms
def _class_index_target(
    input_shape: tuple[int, ...], target: np.ndarray, ignore_index: int, op: str
) -> np.ndarray:
    """Check integer class targets; returns the mask of counted (non-ignored) positions."""
    C = input_shape[1]
    valid = target != ignore_index
    bad = valid & ((target < 0) | (target >= C))
    if bad.any():
        vals = np.unique(target[bad])[:5].tolist()
        raise ValueError(
            f"{op} expected class indices in [0, {C}) (or ignore_index={ignore_index}), "
            f"got {', '.join(map(str, vals))}"
        )
    return valid


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
        w = w.astype(x.dtype, copy=False)
    if t.dtype.kind in "iu":
        expected = x.shape[:1] + x.shape[2:]
        if t.shape != expected:
            raise ValueError(
                f"{op} expected target of shape {shape_str(expected)} for input "
                f"{shape_str(x.shape)}, got {shape_str(t.shape)}"
            )
        valid = _class_index_target(x.shape, t, ignore_index, op)
    elif t.dtype.kind == "f" and logits:
        if t.shape != x.shape:
            raise ValueError(
                f"{op} expected class-probability target of the input's shape "
                f"{shape_str(x.shape)}, got {t.dtype} {shape_str(t.shape)} (class indices are "
                f"an integer tensor of shape {shape_str(x.shape[:1] + x.shape[2:])})"
            )
        if ignore_index >= 0:  # as PyTorch: nothing to ignore in a probability target
            raise ValueError(
                f"{op}: ignore_index={ignore_index} does not apply to class-probability targets"
            )
        return _soft_target_loss(x, target, w, label_smoothing, reduction, unbatched)
    else:
        raise TypeError(
            f"{op} expected integer class indices (int64) "
            + ("or float class probabilities " if logits else "")
            + f"as target, got dtype {t.dtype}"
        )
    out: Tensor = ClassNLL.apply(
        x,
        target=t,
        valid=valid,
        weight=w,
        label_smoothing=float(label_smoothing),
        reduction=reduction,
        logits=logits,
    )
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
        q = q * w.reshape((1, C) + (1,) * (x.ndim - 2))
    elem = -reduce.sum(q * activation.log_softmax(x, 1), 1)  # (N, *)
    if reduction == "none":
        return elem.squeeze(0) if unbatched else elem
    return reduce.sum(elem) if reduction == "sum" else reduce.mean(elem)
