"""Learning-rate schedules that set ``lr`` in an optimizer's param groups, as ``torch.optim``.

Call ``scheduler.step()`` once per epoch (or per iteration), after ``optimizer.step()``. Each
scheduler computes the next rate from the current one (PyTorch's recursive form, so schedulers
can be chained); the closed form is used where PyTorch uses it (``SequentialLR`` switching
schedules). ``last_epoch`` counts the ``step()`` calls; ``get_last_lr()`` gives the rates set by
the latest one. ``state_dict()`` is plain JSON-ready data.

>>> import glassnet
>>> from glassnet import optim
>>> w = glassnet.nn.Parameter(glassnet.zeros(1))
>>> opt = optim.SGD([w], lr=1.0)
>>> sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> lrs = []
>>> for epoch in range(5):
...     opt.step()
...     lrs.append(sched.get_last_lr()[0])
...     sched.step()
>>> lrs
[1.0, 1.0, 0.5, 0.5, 0.25]
"""

from __future__ import annotations

import copy
import itertools
import math
import numbers
import types
import warnings
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .optimizer import Optimizer

__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "SequentialLR",
    "StepLR",
]


class LRScheduler:
    """Base class of learning-rate schedulers (PyTorch's ``LRScheduler``).

    Subclasses implement ``get_lr`` (the next rates from the current ones) and may implement
    ``_get_closed_form_lr`` (the rates at ``last_epoch`` from the base rates).

    Args:
        optimizer: the optimizer whose param groups' ``lr`` this scheduler sets.
        last_epoch: index of the last epoch when resuming; -1 (default) starts afresh and
            records each group's ``initial_lr``. A resumed scheduler needs ``initial_lr`` in
            the groups (load the optimizer's state first).

    Attributes:
        base_lrs: each group's ``initial_lr``.
        last_epoch: the number of ``step()`` calls so far (0 right after construction).
    """

    # attributes that are not part of the saved state
    _transient: tuple[str, ...] = ("optimizer", "_get_lr_called_within_step", "_is_initial")

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} expected a glassnet Optimizer, got "
                f"{type(optimizer).__name__}"
            )
        _check_int(self, "last_epoch", last_epoch, low=-1)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: param group {i} has no 'initial_lr', needed to "
                        f"resume with last_epoch={last_epoch}; load the optimizer's state_dict "
                        "(saved while a scheduler was attached) first"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._get_lr_called_within_step = False
        self._is_initial = False
        self._initial_step()

    def _initial_step(self) -> None:
        """The construction step: sets the rates of epoch ``last_epoch + 1``."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    # ----------------------------------------------------------------- stepping
    def get_lr(self) -> list[float]:
        """The rates for ``last_epoch``, computed from the current ones (call ``step``)."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rate of each param group, as set by the latest ``step()``."""
        return list(self._last_lr)

    def step(self) -> None:
        """Advance one epoch and set each param group's ``lr``."""
        if self._step_count == 1 and not self.optimizer._opt_called:
            warnings.warn(
                f"{type(self).__name__}.step() was called before optimizer.step(); call "
                "optimizer.step() first, or the first value of the schedule is skipped",
                UserWarning,
                stacklevel=2,
            )
        self._step_count += 1
        self._update_lr()

    def _update_lr(self, epoch: int | None = None) -> None:
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _warn_outside_step(self) -> None:
        if not self._get_lr_called_within_step:
            warnings.warn(
                "get_lr() computes the next rate from the current one; to read the current "
                "learning rate use get_last_lr()",
                UserWarning,
                stacklevel=3,
            )

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    # ----------------------------------------------------------------- state dict
    def state_dict(self) -> dict[str, Any]:
        """The scheduler's attributes except the optimizer, as JSON-ready data."""
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k not in self._transient}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore attributes saved by ``state_dict()``.

        Raises:
            ValueError: keys are missing or unexpected, or ``base_lrs`` does not have one entry
                per param group.
        """
        self._load_attributes(state_dict, special=())

    def _load_attributes(self, state_dict: Mapping[str, Any], special: tuple[str, ...]) -> None:
        """Check the keys of ``state_dict`` and set every attribute but the ``special`` ones."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{name} expected a dict, got {type(state_dict).__name__}")
        expected = {k for k in self.__dict__ if k not in self._transient}
        missing = sorted(expected - set(state_dict))
        unexpected = sorted(set(state_dict) - expected - set(self._transient))
        if missing or unexpected:
            raise ValueError(
                f"{name}: missing keys {missing}, unexpected keys {unexpected} (is this the state "
                f"of a {type(self).__name__}?)"
            )
        base_lrs = state_dict.get("base_lrs")
        n = len(self.optimizer.param_groups)
        if base_lrs is not None and len(base_lrs) != n:
            raise ValueError(
                f"{name}: the state has {len(base_lrs)} base_lrs, the optimizer has {n} param "
                "groups"
            )
        for k in expected - set(special):
            setattr(self, k, copy.deepcopy(state_dict[k]))


class LambdaLR(LRScheduler):
    """lr = initial_lr * lr_lambda(epoch), with one function or one per param group.

    ``state_dict()`` cannot save the functions: it stores ``None`` for each plain function and
    the attribute dict of a callable object, as PyTorch.

    Args:
        optimizer: the optimizer.
        lr_lambda: ``epoch -> factor``, or a list with one per param group.
        last_epoch: see ``LRScheduler``.

    >>> import glassnet
    >>> from glassnet import optim
    >>> opt = optim.SGD([glassnet.nn.Parameter(glassnet.zeros(1))], lr=0.1)
    >>> sched = optim.lr_scheduler.LambdaLR(opt, lambda epoch: 0.5**epoch)
    >>> opt.step(); sched.step(); opt.step(); sched.step()
    >>> sched.get_last_lr()
    [0.025]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        n = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 1
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(
                    f"LambdaLR expected {n} lr_lambdas (one per param group), got {len(lr_lambda)}"
                )
            lambdas = list(lr_lambda)
        else:
            lambdas = [lr_lambda] * n
        for i, f in enumerate(lambdas):
            if not callable(f):
                raise TypeError(f"LambdaLR expected callable lr_lambda, got {f!r} at index {i}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_outside_step()
        return [
            base_lr * lmbda(self.last_epoch)
            for lmbda, base_lr in zip(self.lr_lambdas, self.base_lrs)
        ]

    def state_dict(self) -> dict[str, Any]:
        state = {
            k: copy.deepcopy(v)
            for k, v in self.__dict__.items()
            if k not in self._transient and k != "lr_lambdas"
        }
        state["lr_lambdas"] = [
            None if isinstance(f, types.FunctionType) else dict(f.__dict__) for f in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        self._load_attributes(state_dict, special=("lr_lambdas",))
        lambdas = state_dict["lr_lambdas"]
        if not isinstance(lambdas, list) or len(lambdas) != len(self.lr_lambdas):
            raise ValueError(
                f"LambdaLR.load_state_dict expected 'lr_lambdas' with {len(self.lr_lambdas)} "
                f"entries, got {lambdas!r:.200}"
            )
        for f, attrs in zip(self.lr_lambdas, lambdas):
            if attrs is not None:
                f.__dict__.update(attrs)


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs.

    lr = initial_lr * gamma ** (epoch // step_size)

    Args:
        optimizer: the optimizer.
        step_size: period of the decay, in epochs (a positive int).
        gamma: multiplicative factor (default 0.1).
        last_epoch: see ``LRScheduler``.
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        _check_int(self, "step_size", step_size, low=1)
        _check_gamma(self, gamma)
        self.step_size = int(step_size)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_outside_step()
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [
            base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs
        ]


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each milestone epoch (a repeated milestone decays twice).

    lr = initial_lr * gamma ** (number of milestones <= epoch)

    Args:
        optimizer: the optimizer.
        milestones: epoch indices (non-negative ints).
        gamma: multiplicative factor (default 0.1).
        last_epoch: see ``LRScheduler``.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Iterable[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        ms = list(milestones)
        for m in ms:
            _check_int(self, "milestones entry", m, low=0)
        _check_gamma(self, gamma)
        self.milestones = Counter(int(m) for m in ms)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_outside_step()
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        milestones = sorted(self.milestones.elements())
        return [
            base_lr * self.gamma ** bisect_right(milestones, self.last_epoch)
            for base_lr in self.base_lrs
        ]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["milestones"] = sorted(self.milestones.elements())  # JSON keeps no int keys
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.milestones = Counter(int(m) for m in state_dict["milestones"])


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: lr = initial_lr * gamma ** epoch.

    Args:
        optimizer: the optimizer.
        gamma: multiplicative factor per epoch.
        last_epoch: see ``LRScheduler``.
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        _check_gamma(self, gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_outside_step()
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the initial rate to ``eta_min`` over ``T_max`` epochs.

    Closed form (SGDR without restarts)::

        lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2

    As in PyTorch, each step applies the recursive form
    ``lr_t = eta_min + (lr_{t-1} - eta_min) * c(t) / c(t - 1)`` with
    ``c(t) = 1 + cos(pi t / T_max)``, which equals the closed form when nothing else changes
    the rate; past ``T_max`` the rate rises again along the cosine.

    Args:
        optimizer: the optimizer.
        T_max: half-period in epochs (a positive int).
        eta_min: the minimum rate (default 0).
        last_epoch: see ``LRScheduler``.
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        _check_int(self, "T_max", T_max, low=1)
        if isinstance(eta_min, bool) or not isinstance(eta_min, numbers.Real) or eta_min < 0:
            raise ValueError(f"CosineAnnealingLR expected eta_min >= 0, got {eta_min!r}")
        self.T_max: int = int(T_max)
        self.eta_min: float = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_outside_step()
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and t > 0:  # resumed at epoch t: no previous rate to scale
            return [
                eta_min + (base_lr - eta_min) * (1 + math.cos(t * math.pi / T)) / 2
                for base_lr in self.base_lrs
            ]
        if (t - 1 - T) % (2 * T) == 0:  # leaving the minimum, where the ratio would be 0/0
            return [
                lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for base_lr, lr in zip(self.base_lrs, self._current_lrs())
            ]
        return [
            (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * (lr - eta_min)
            + eta_min
            for lr in self._current_lrs()
        ]

    def _get_closed_form_lr(self) -> list[float]:
        return [
            self.eta_min
            + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
            for base_lr in self.base_lrs
        ]


class LinearLR(LRScheduler):
    """Scale the rate linearly from ``start_factor`` to ``end_factor`` over ``total_iters``
    epochs (linear warm-up when ``start_factor < end_factor``), then hold it.

    lr = initial_lr * (start_factor + (end_factor - start_factor) * min(epoch, total_iters)
    / total_iters)

    Args:
        optimizer: the optimizer.
        start_factor: factor at epoch 0, in (0, 1] (default 1/3).
        end_factor: factor from epoch ``total_iters`` on, in [0, 1] (default 1).
        total_iters: length of the ramp in epochs (a positive int, default 5).
        last_epoch: see ``LRScheduler``.

    >>> import glassnet
    >>> from glassnet import optim
    >>> opt = optim.SGD([glassnet.nn.Parameter(glassnet.zeros(1))], lr=1.0)
    >>> warmup = optim.lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=3)
    >>> lrs = []
    >>> for _ in range(5):
    ...     opt.step()
    ...     lrs.append(round(warmup.get_last_lr()[0], 6))
    ...     warmup.step()
    >>> lrs
    [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        for name, v, low_open in (
            ("start_factor", start_factor, True),
            ("end_factor", end_factor, False),
        ):
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError(f"LinearLR expected a real number for {name}, got {v!r}")
            if v > 1.0 or v < 0 or (low_open and v == 0):
                interval = "(0, 1]" if low_open else "[0, 1]"
                raise ValueError(f"LinearLR expected {name} in {interval}, got {v}")
        _check_int(self, "total_iters", total_iters, low=1)
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = int(total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_outside_step()
        lrs = self._current_lrs()
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in lrs]
        if self._is_initial or self.last_epoch > self.total_iters:
            return lrs
        delta = self.end_factor - self.start_factor
        ratio = 1.0 + delta / (self.total_iters * self.start_factor + (self.last_epoch - 1) * delta)
        return [lr * ratio for lr in lrs]

    def _get_closed_form_lr(self) -> list[float]:
        frac = min(self.total_iters, self.last_epoch) / self.total_iters
        return [
            base_lr * (self.start_factor + (self.end_factor - self.start_factor) * frac)
            for base_lr in self.base_lrs
        ]


class SequentialLR(LRScheduler):
    """Run schedulers one after another, switching at the milestone epochs.

    Scheduler ``i + 1`` takes over at epoch ``milestones[i]``, starting its own schedule from
    its epoch 0 (warm-up with ``LinearLR``, then ``CosineAnnealingLR``, is the usual use).

    Args:
        optimizer: the optimizer all ``schedulers`` drive.
        schedulers: the schedulers, in order (already constructed on ``optimizer``).
        milestones: increasing epochs of the switches, one fewer than ``schedulers``.
        last_epoch: see ``LRScheduler``.

    >>> import glassnet
    >>> from glassnet import optim
    >>> opt = optim.SGD([glassnet.nn.Parameter(glassnet.zeros(1))], lr=1.0)
    >>> warmup = optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2)
    >>> decay = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    >>> sched = optim.lr_scheduler.SequentialLR(opt, [warmup, decay], milestones=[2])
    >>> lrs = []
    >>> for _ in range(5):
    ...     opt.step()
    ...     lrs.append(sched.get_last_lr()[0])
    ...     sched.step()
    >>> lrs
    [0.5, 0.75, 1.0, 0.5, 0.25]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: Sequence[LRScheduler],
        milestones: Sequence[int],
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"SequentialLR expected a glassnet Optimizer, got {type(optimizer).__name__}"
            )
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("SequentialLR expected at least one scheduler, got none")
        for i, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler):
                raise TypeError(
                    f"SequentialLR expected LRScheduler objects, got {type(s).__name__} at "
                    f"index {i}"
                )
            if s.optimizer is not optimizer:
                raise ValueError(
                    f"SequentialLR expected all schedulers to drive the given optimizer, but "
                    f"scheduler {i} ({type(s).__name__}) drives another one"
                )
        milestones = list(milestones)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR expected {len(schedulers) - 1} milestones (one fewer than the "
                f"{len(schedulers)} schedulers), got {len(milestones)}"
            )
        for m in milestones:
            _check_int(self, "milestones entry", m, low=1)
        if any(b <= a for a, b in itertools.pairwise(milestones)):
            raise ValueError(f"SequentialLR expected increasing milestones, got {milestones}")
        _check_int(self, "last_epoch", last_epoch, low=-1)
        self._schedulers = schedulers
        self._milestones = [int(m) for m in milestones]
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        self._get_lr_called_within_step = False
        self._is_initial = False

        # Constructing each scheduler stepped it once; undo that and start the first afresh.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        _undo_construction_step(schedulers)
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = self._schedulers[idx].get_last_lr()

    def step(self) -> None:
        """Advance one epoch, stepping (or, at a milestone, restarting) the active scheduler."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def get_lr(self) -> list[float]:
        return self.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        state = {
            k: copy.deepcopy(v)
            for k, v in self.__dict__.items()
            if k not in self._transient and k != "_schedulers"
        }
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        if isinstance(state_dict, Mapping):
            subs = state_dict.get("_schedulers")
            if not isinstance(subs, list) or len(subs) != len(self._schedulers):
                raise ValueError(
                    f"SequentialLR.load_state_dict expected '_schedulers' with "
                    f"{len(self._schedulers)} states, got {subs!r:.200}"
                )
        self._load_attributes(state_dict, special=("_schedulers",))
        for s, sub in zip(self._schedulers, state_dict["_schedulers"]):
            s.load_state_dict(sub)


def _undo_construction_step(schedulers: Sequence[LRScheduler]) -> None:
    """Step back the epoch of each scheduler, and of those nested in a ``SequentialLR``."""
    for s in schedulers:
        if isinstance(s, SequentialLR):
            _undo_construction_step(s._schedulers)
        else:
            s.last_epoch -= 1


def _check_int(obj: Any, name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{type(obj).__name__} expected an int {name}, got {value!r}")
    if value < low:
        raise ValueError(f"{type(obj).__name__} expected {name} >= {low}, got {value}")


def _check_gamma(obj: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{type(obj).__name__} expected a real number for gamma, got {value!r}")
    if not float(value) >= 0:
        raise ValueError(f"{type(obj).__name__} expected gamma >= 0, got {value}")
