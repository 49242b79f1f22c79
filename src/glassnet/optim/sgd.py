"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .optimizer import Optimizer, ParamsT, _check_bool, _check_real


class SGD(Optimizer):
    r"""Stochastic gradient descent, PyTorch's formulation (``torch.optim.SGD``).

    For each parameter :math:`\theta` with gradient :math:`g` at step :math:`t`::

        g <- -g                             if maximize
        g <- g + weight_decay * theta       (L2 penalty)
        b <- g                              at the first step, else
        b <- momentum * b + (1 - dampening) * g
        g <- g + momentum * b               if nesterov, else  g <- b   (when momentum != 0)
        theta <- theta - lr * g

    Args:
        params: parameters or param groups (see ``Optimizer``).
        lr: learning rate (default 1e-3, as PyTorch).
        momentum: momentum factor (default 0).
        dampening: dampening of the momentum's gradient term (default 0).
        weight_decay: L2 penalty coefficient (default 0).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: ascend the objective instead of descending it.

    State per parameter: ``momentum_buffer`` (when momentum != 0).

    >>> import glassnet
    >>> w = glassnet.nn.Parameter(glassnet.tensor([1.0, -2.0]))
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    Parameter containing:
    tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any], where: str) -> None:
        super()._check_group(group, where)
        n = self._name
        _check_real(n, "momentum", group["momentum"], where, low=0.0)
        _check_real(n, "dampening", group["dampening"], where)
        _check_real(n, "weight_decay", group["weight_decay"], where, low=0.0)
        _check_bool(n, "nesterov", group["nesterov"], where)
        _check_bool(n, "maximize", group["maximize"], where)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"{n}: Nesterov momentum requires momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']} and dampening={group['dampening']}{where}"
            )

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns the closure's loss, if given."""
        loss = self._closure_loss(closure)
        for gi, group in enumerate(self.param_groups):
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov = group["weight_decay"], group["nesterov"]
            for p, grad in self._params_with_grad(gi):
                d_p = -grad if group["maximize"] else grad  # never modify p.grad itself
                if weight_decay != 0:
                    d_p = d_p + weight_decay * p.data
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = d_p.copy()
                    else:
                        buf *= momentum
                        buf += (1 - dampening) * d_p
                    d_p = d_p + momentum * buf if nesterov else buf
                p.data -= lr * d_p
                self._updated(p)
        return loss
