"""Adam and AdamW (adaptive moment estimation, with L2 or decoupled weight decay)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, _check_bool, _check_real, _zeros_buffer


class Adam(Optimizer):
    r"""Adam, PyTorch's formulation (``torch.optim.Adam``, the single-tensor implementation).

    For each parameter :math:`\theta` with gradient :math:`g`; ``t`` counts the steps of that
    parameter (a parameter without a gradient is skipped and does not count)::

        g <- -g                                    if maximize
        theta <- theta * (1 - lr * weight_decay)   if decoupled_weight_decay (AdamW)
        g <- g + weight_decay * theta              otherwise (L2 penalty)
        m <- beta1 * m + (1 - beta1) * g           first moment
        v <- beta2 * v + (1 - beta2) * g^2         second moment
        v_max <- max(v_max, v)                     if amsgrad (then v_max replaces v below)
        theta <- theta - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Args:
        params: parameters or param groups (see ``Optimizer``).
        lr: learning rate (default 1e-3).
        betas: decay rates ``(beta1, beta2)`` of the moment estimates, each in [0, 1).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: weight decay coefficient (default 0).
        amsgrad: use the running maximum of the second moment (AMSGrad).
        maximize: ascend the objective instead of descending it.
        decoupled_weight_decay: decay the weights directly (AdamW) instead of adding an L2
            term to the gradient.

    State per parameter: ``step`` (float), ``exp_avg``, ``exp_avg_sq`` and, with amsgrad,
    ``max_exp_avg_sq``.

    >>> import glassnet
    >>> w = glassnet.nn.Parameter(glassnet.tensor([1.0, -2.0], dtype=glassnet.float64))
    >>> opt = Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()  # the first Adam step moves each weight by about lr against its gradient
    >>> w.data.round(6).tolist()
    [0.9, -1.9]
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        super()._check_group(group, where)
        n = self._name
        betas = group["betas"]
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
            raise TypeError(f"{n} expected betas to be a pair (beta1, beta2), got {betas!r}{where}")
        for i in range(2):
            _check_real(n, f"betas[{i}]", betas[i], where, low=0.0, high=1.0, high_open=True)
        group["betas"] = (float(betas[0]), float(betas[1]))
        _check_real(n, "eps", group["eps"], where, low=0.0)
        _check_real(n, "weight_decay", group["weight_decay"], where, low=0.0)
        for key in ("amsgrad", "maximize", "decoupled_weight_decay"):
            _check_bool(n, key, group[key], where)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns the closure's loss, if given."""
        loss = self._closure_loss(closure)
        for gi, group in enumerate(self.param_groups):
            lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            for p, grad in self._params_with_grad(gi):
                g = -grad if group["maximize"] else grad  # never modify p.grad itself
                state = self.state[p]
                if not state:
                    state["step"] = 0.0
                    state["exp_avg"] = np.zeros_like(p.data)
                    state["exp_avg_sq"] = np.zeros_like(p.data)
                state["step"] += 1
                step = state["step"]
                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        p.data *= 1 - lr * weight_decay
                    else:
                        g = g + weight_decay * p.data
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m += (1 - beta1) * (g - m)  # torch's lerp: m + w (g - m), w = 1 - beta1
                v *= beta2
                v += (1 - beta2) * (g * g)
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                step_size = lr / bias_correction1
                if group["amsgrad"]:
                    v_max = _zeros_buffer(state, "max_exp_avg_sq", p)
                    np.maximum(v_max, v, out=v_max)
                    v = v_max
                denom = np.sqrt(v)  # a fresh array, safe to modify
                denom /= bias_correction2**0.5
                denom += eps
                update = np.divide(m, denom, out=denom)  # reuses the buffer
                update *= step_size
                p.data -= update
                self._updated(p)
        return loss


class AdamW(Adam):
    r"""Adam with decoupled weight decay (``torch.optim.AdamW``; Loshchilov & Hutter).

    Identical to ``Adam(..., decoupled_weight_decay=True)``: each step first shrinks the
    weights, ``theta <- theta * (1 - lr * weight_decay)``, and the decay never enters the moment
    estimates. The default ``weight_decay`` is 0.01, as in PyTorch.

    Args:
        params: parameters or param groups (see ``Optimizer``).
        lr: learning rate (default 1e-3).
        betas: decay rates of the moment estimates (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: decoupled weight decay coefficient (default 1e-2).
        amsgrad: use the running maximum of the second moment.
        maximize: ascend the objective instead of descending it.

    >>> import glassnet
    >>> w = glassnet.nn.Parameter(glassnet.tensor([1.0]))
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> w.grad = glassnet.tensor([0.0])  # no gradient signal: only the decay acts
    >>> opt.step()
    >>> w
    Parameter containing:
    tensor([0.9500], requires_grad=True)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        group["decoupled_weight_decay"] = True  # as torch: AdamW always decouples
        super()._check_group(group, where)
