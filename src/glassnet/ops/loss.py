"""Loss functions: cross-entropy and NLL (the target's log-probability gathered, never a one-hot
product), binary cross-entropy of probabilities and of logits, smooth L1 / Huber, KL divergence;
MSE and L1 from elementwise ops.

Every loss takes PyTorch's ``reduction``: ``'none'`` (the per-element losses), ``'sum'`` or
``'mean'`` (the sum over the number of elements; for class losses over the summed class weights),
and for ``kl_div`` also ``'batchmean'`` (the sum over the batch size).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from . import activation, elementwise, reduce
from ._util import shape_str

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str, op: str, allowed: tuple[str, ...] = _REDUCTIONS) -> None:
    if reduction not in allowed:
        raise ValueError(f"{op} expected reduction in {allowed}, got {reduction!r}")


def _check_real(v: Any, name: str, op: str) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op} expected {name} to be a float, got {type(v).__name__}")


def _reduced(elem: np.ndarray, reduction: str, divisor: float) -> np.ndarray:
    """``elem`` itself ('none'), its sum ('sum'), or its sum / ``divisor`` (the means)."""
    if reduction == "none":
        return elem
    total = elem.sum()
    if reduction != "sum":
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 is nan, as PyTorch
            total = total / divisor
    return np.asarray(total, dtype=elem.dtype)


def _elem_grad(
    dy: np.ndarray, shape: tuple[int, ...], reduction: str, divisor: float
) -> np.ndarray:
    """dL/d(elem) for ``L = _reduced(elem, reduction, divisor)``."""
    if reduction == "none":
        return dy
    g = np.broadcast_to(dy, shape)
    if reduction != "sum":
        with np.errstate(divide="ignore", invalid="ignore"):
            g = g / divisor
    return g


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


def _input_target(input: Any, target: Any, op: str) -> tuple[Tensor, Tensor]:
    """Input and target as tensors of one shape (PyTorch broadcasts with a warning; a shape
    mismatch in a pointwise loss is almost always a bug, so here it is an error)."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    t = target if isinstance(target, Tensor) else Tensor(np.asarray(target, dtype=x.dtype))
    if x.shape != t.shape:
        raise ValueError(
            f"{op} expected target of the input's shape {shape_str(x.shape)}, got "
            f"{shape_str(t.shape)} (broadcasting here is almost always a bug)"
        )
    if x.dtype.kind != "f":
        raise TypeError(f"{op} expected a floating-point input, got dtype {x.dtype}")
    if t.dtype.kind != "f":  # integer or bool targets count as the input's floats
        t = Tensor(t.data.astype(x.dtype))
    return x, t


def _weight_array(v: Any, name: str, op: str, x: Tensor, *, same_shape: bool = False) -> Any:
    """An optional elementwise weight as an array of the input's dtype, checked against it."""
    if v is None:
        return None
    a = np.asarray(v.data if isinstance(v, Tensor) else v, dtype=x.dtype)
    if same_shape and a.shape != x.shape:
        raise ValueError(
            f"{op} expected {name} of the input's shape {shape_str(x.shape)}, got "
            f"{shape_str(a.shape)}"
        )
    try:
        np.broadcast_shapes(a.shape, x.shape)
    except ValueError:
        raise ValueError(
            f"{op} expected {name} broadcastable to {shape_str(x.shape)}, got {shape_str(a.shape)}"
        ) from None
    return a


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
