"""RMSprop: gradient steps scaled by a running root mean square of the gradients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, _check_bool, _check_real, _zeros_buffer


class RMSprop(Optimizer):
    r"""RMSprop, PyTorch's formulation (``torch.optim.RMSprop``).

    For each parameter :math:`\theta` with gradient :math:`g`::

        g <- -g                                      if maximize
        g <- g + weight_decay * theta                (L2 penalty)
        v <- alpha * v + (1 - alpha) * g^2           running mean square
        a <- alpha * a + (1 - alpha) * g             if centered (running mean)
        d <- sqrt(v - a^2) + eps  if centered, else  sqrt(v) + eps
        b <- momentum * b + g / d;  theta <- theta - lr * b     if momentum > 0
        theta <- theta - lr * g / d                             otherwise

    Args:
        params: parameters or param groups (see ``Optimizer``).
        lr: learning rate (default 1e-2, as PyTorch).
        alpha: smoothing constant of the running averages (default 0.99).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: L2 penalty coefficient (default 0).
        momentum: momentum factor (default 0).
        centered: normalise by an estimate of the gradient's variance instead of its second
            moment.
        maximize: ascend the objective instead of descending it.

    State per parameter: ``step`` (float), ``square_avg``, and ``momentum_buffer`` (momentum
    > 0) and ``grad_avg`` (centered).

    >>> import glassnet
    >>> w = glassnet.nn.Parameter(glassnet.tensor([1.0]))
    >>> opt = RMSprop([w], lr=0.01, alpha=0.75)
    >>> w.grad = glassnet.tensor([2.0])
    >>> opt.step()  # v = 0.25 * 2^2 = 1, so the step is lr * 2 / (1 + eps)
    >>> w
    Parameter containing:
    tensor([0.9800], requires_grad=True)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        super()._check_group(group, where)
        n = self._name
        _check_real(n, "alpha", group["alpha"], where, low=0.0)
        _check_real(n, "eps", group["eps"], where, low=0.0)
        _check_real(n, "weight_decay", group["weight_decay"], where, low=0.0)
        _check_real(n, "momentum", group["momentum"], where, low=0.0)
        _check_bool(n, "centered", group["centered"], where)
        _check_bool(n, "maximize", group["maximize"], where)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns the closure's loss, if given."""
        loss = self._closure_loss(closure)
        for gi, group in enumerate(self.param_groups):
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            weight_decay, momentum = group["weight_decay"], group["momentum"]
            for p, grad in self._params_with_grad(gi):
                g = -grad if group["maximize"] else grad  # never modify p.grad itself
                state = self.state[p]
                if not state:
                    state["step"] = 0.0
                    state["square_avg"] = np.zeros_like(p.data)
                state["step"] += 1
                if weight_decay != 0:
                    g = g + weight_decay * p.data
                square_avg = state["square_avg"]
                square_avg *= alpha
                square_avg += (1 - alpha) * (g * g)
                if group["centered"]:
                    grad_avg = _zeros_buffer(state, "grad_avg", p)
                    grad_avg += (1 - alpha) * (g - grad_avg)  # torch's lerp
                    avg = np.sqrt(square_avg - grad_avg * grad_avg)
                else:
                    avg = np.sqrt(square_avg)
                avg += eps
                if momentum > 0:
                    buf = _zeros_buffer(state, "momentum_buffer", p)
                    buf *= momentum
                    buf += g / avg
                    p.data -= lr * buf
                else:
                    update = np.divide(g, avg, out=avg)  # reuses the buffer
                    update *= lr
                    p.data -= update
                self._updated(p)
        return loss
