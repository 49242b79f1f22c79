"""``Optimizer``: parameter groups, per-parameter state and PyTorch-format state dicts.

An optimizer holds ``param_groups`` (a list of dicts: ``'params'`` plus that group's options)
and ``state`` (a dict from parameter to its buffers, e.g. Adam's ``exp_avg``). ``step()`` reads
``p.grad.data`` and updates ``p.data`` in place, so a parameter keeps its identity (and every
module holding it sees the new values); each update bumps the parameter's in-place version
counter, so a graph that saved the old values refuses to backpropagate through them.
"""

from __future__ import annotations

import copy
import functools
import math
import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from .._dtype import is_floating
from ..autograd import grad_mode
from ..autograd.tensor import Tensor

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]


class Optimizer:
    """Base class of optimizers (PyTorch's ``torch.optim.Optimizer``).

    Args:
        params: an iterable of parameters, of ``(name, parameter)`` pairs (as from
            ``Module.named_parameters()``), or of dicts, each a parameter group with a
            ``'params'`` entry and options that override ``defaults`` for that group.
        defaults: the default options of every group (``lr``, ...).

    Subclasses implement ``step`` and may override ``_check_group`` to validate options.

    >>> import glassnet
    >>> from glassnet import nn, optim
    >>> net = nn.Linear(2, 1)
    >>> opt = optim.SGD([{"params": [net.weight]}, {"params": [net.bias], "lr": 0.5}], lr=0.1)
    >>> [g["lr"] for g in opt.param_groups]
    [0.1, 0.5]
    >>> opt.state_dict()["param_groups"][1]["params"]
    [1]
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self._check_group(self.defaults, where="")
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._opt_called = False  # set by the first step(); LR schedulers warn without it
        if isinstance(params, Tensor):
            raise TypeError(
                f"{self._name} expected an iterable of Tensors or dicts as params, got a single "
                "Tensor; wrap it in a list"
            )
        if isinstance(params, (dict, set)):
            raise TypeError(
                f"{self._name} expected an ordered iterable of Tensors or dicts as params, got a "
                f"{type(params).__name__}; use a list"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._name} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)  # type: ignore[arg-type]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Wrap each subclass's ``step`` so LR schedulers can tell that it has been called."""
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is None or getattr(step, "_marks_opt_called", False):
            return

        @functools.wraps(step)
        def marked_step(self: Optimizer, *args: Any, **kw: Any) -> Any:
            self._opt_called = True
            return step(self, *args, **kw)

        marked_step._marks_opt_called = True  # type: ignore[attr-defined]
        setattr(cls, "step", marked_step)  # noqa: B010 (assigning a method in a hook)

    @property
    def _name(self) -> str:
        return type(self).__name__

    # ----------------------------------------------------------------- groups
    def _check_group(self, group: dict[str, Any], where: str) -> None:
        """Validate (and normalise, e.g. ``betas`` to a tuple) one group's options.

        ``where`` is appended to error messages (``" (param group 1)"`` or ``""``).
        """
        if "lr" in group:
            _check_real(self._name, "lr", group["lr"], where, low=0.0)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (missing options take the defaults).

        Raises:
            TypeError: ``param_group`` is not a dict, or holds something other than tensors.
            ValueError: a parameter is a non-leaf, repeated, already in another group, or an
                option is invalid.
        """
        where = f" (param group {len(self.param_groups)})"
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{self._name} expected each param group to be a dict, got "
                f"{type(param_group).__name__}"
            )
        if "params" not in param_group:
            raise ValueError(f"{self._name}: param group has no 'params' entry{where}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{self._name} expected params in an ordered collection, got a set (its order "
                f"changes between runs); use a list{where}"
            )
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError(
                    f"{self._name} expected all params with names ((name, tensor) pairs) or none; "
                    f"got {len(names)} named of {len(params)}{where}"
                )
            params = [p[1] for p in params]
            group["param_names"] = names
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{self._name} can only optimize Tensors, but params[{i}] is a "
                    f"{type(p).__name__}{where}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{self._name} can't optimize a non-leaf Tensor (params[{i}] was computed "
                    f"by {type(p.creator).__name__}){where}"
                )
            if not is_floating(p.dtype):
                raise TypeError(
                    f"{self._name} can only optimize floating-point tensors, params[{i}] has "
                    f"dtype {p.dtype}{where}"
                )
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self._name}: a parameter appears twice in one group{where}")
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if taken.intersection(ids):
            raise ValueError(f"{self._name}: some parameters appear in more than one group{where}")
        if self.param_groups and (
            ("param_names" in group) != ("param_names" in self.param_groups[0])
        ):
            raise ValueError(
                f"{self._name}: all param groups must be given with names or all without{where}"
            )
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, copy.deepcopy(default))
        self._check_group(group, where)
        self.param_groups.append(group)

    # ----------------------------------------------------------------- steps
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient (implemented by each optimizer)."""
        raise NotImplementedError(f"{self._name}.step is not implemented")

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all optimized parameters (set to None, or to zeros)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.data = np.zeros_like(p.grad.data)

    def _closure_loss(self, closure: Callable[[], Any] | None) -> Any:
        """Re-evaluate the model (with grad recording on) when a closure is given."""
        if closure is None:
            return None
        with grad_mode.enable_grad():
            return closure()

    def _params_with_grad(self, gi: int) -> list[tuple[Tensor, np.ndarray]]:
        """(parameter, gradient array) of group ``gi`` for each parameter whose grad is set."""
        out = []
        for pi, p in enumerate(self.param_groups[gi]["params"]):
            if p.grad is None:
                continue
            g = p.grad.data if isinstance(p.grad, Tensor) else np.asarray(p.grad)
            if g.shape != p.shape:
                raise ValueError(
                    f"{self._name}: the gradient of params[{pi}] in param group {gi} has shape "
                    f"{g.shape}, expected the parameter's shape {p.shape}"
                )
            out.append((p, g))
        return out

    @staticmethod
    def _updated(p: Tensor) -> None:
        """Record an in-place update of ``p.data`` (invalidates graphs that saved ``p``)."""
        p._version[0] += 1

    # ----------------------------------------------------------------- state dict
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout, as copies.

        Returns:
            ``{'state': {index: {name: value}}, 'param_groups': [{..., 'params': [indices]}]}``
            where parameters are numbered in order through all groups; buffers are NumPy
            arrays, ``step`` counts are floats, everything else is plain Python (JSON-ready
            once arrays are stored separately or turned into lists).
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state: dict[int, dict[str, Any]] = {}
        for group in self.param_groups:
            for p in group["params"]:
                s = self.state.get(p)
                if s:
                    state[index[id(p)]] = {
                        k: (v.copy() if isinstance(v, np.ndarray) else copy.deepcopy(v))
                        for k, v in s.items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Load a state from ``state_dict()`` (or a ``torch.optim`` one, or its JSON round trip).

        Groups are matched by position and parameters by their position within the groups, as
        in PyTorch. Buffers may be NumPy arrays, torch tensors or nested lists; they are copied
        and cast to their parameter's dtype. Integer keys that JSON turned into strings are
        accepted. Nothing changes unless the whole state loads.

        Raises:
            ValueError: the number of groups or of parameters in a group differs, a state
                entry names no parameter, or a buffer's shape differs from its parameter's.
        """
        name = f"{self._name}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{name} expected a dict, got {type(state_dict).__name__}")
        missing = [k for k in ("state", "param_groups") if k not in state_dict]
        if missing:
            raise ValueError(
                f"{name} expected keys 'state' and 'param_groups', missing {missing}; "
                f"got keys {sorted(map(str, state_dict))}"
            )
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: the state_dict has {len(saved_groups)} parameter groups, this "
                f"optimizer has {len(self.param_groups)}"
            )
        id_map: dict[int, Tensor] = {}
        new_groups = []
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if not isinstance(saved, Mapping) or "params" not in saved:
                raise ValueError(f"{name}: param group {gi} is not a dict with a 'params' entry")
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}: param group {gi} of the state_dict has {len(saved['params'])} "
                    f"parameters, this optimizer's has {len(group['params'])}"
                )
            for idx, p in zip(saved["params"], group["params"]):
                id_map[_as_index(idx, name)] = p
            new = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            new["params"] = group["params"]
            if "param_names" in group and "param_names" not in new:
                new["param_names"] = group["param_names"]
            self._check_group(new, f" (param group {gi} of the state_dict)")
            new_groups.append(new)

        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, entry in state_dict["state"].items():
            idx = _as_index(key, name)
            if idx not in id_map:
                raise ValueError(
                    f"{name}: the state_dict has state for parameter {idx}, which no param group "
                    f"lists (indices {sorted(id_map)})"
                )
            p = id_map[idx]
            if not isinstance(entry, Mapping):
                raise ValueError(
                    f"{name}: state of parameter {idx} should be a dict, got {type(entry).__name__}"
                )
            new_state[p] = {k: _load_value(k, v, p, idx, name) for k, v in entry.items()}
        self.param_groups = new_groups
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key not in ("params", "param_names"):
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


# --------------------------------------------------------------------- helpers
def _check_real(
    opt: str,
    name: str,
    value: Any,
    where: str,
    low: float | None = None,
    high: float | None = None,
    high_open: bool = False,
) -> None:
    """Raise unless ``value`` is a real number in ``[low, high]`` (or ``[low, high)``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{opt} expected a real number for {name}, got {value!r}{where}")
    v = float(value)
    if math.isnan(v):
        raise ValueError(f"{opt} expected a number for {name}, got nan{where}")
    if low is not None and v < low:
        raise ValueError(f"{opt} expected {name} >= {low}, got {value}{where}")
    if high is not None and (v >= high if high_open else v > high):
        op = "<" if high_open else "<="
        raise ValueError(f"{opt} expected {name} {op} {high}, got {value}{where}")


def _check_bool(opt: str, name: str, value: Any, where: str) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{opt} expected True or False for {name}, got {value!r}{where}")


def _zeros_buffer(state: dict[str, Any], key: str, p: Tensor) -> np.ndarray:
    """``state[key]``, created as zeros shaped like ``p`` on first use."""
    buf = state.get(key)
    if buf is None:
        buf = state[key] = np.zeros_like(p.data)
    return buf


def _as_index(key: Any, name: str) -> int:
    """A parameter index (JSON turns the integer keys of ``state`` into strings)."""
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return int(key)
    if isinstance(key, str) and key.lstrip("-").isdigit():
        return int(key)
    raise ValueError(f"{name} expected integer parameter indices, got {key!r}")


def _load_value(key: str, value: Any, p: Tensor, idx: int, name: str) -> Any:
    """A copy of one saved state value: counts as floats, buffers as arrays of ``p``'s dtype."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        value = value.detach().cpu().numpy()
    elif isinstance(value, Tensor):
        value = value.data
    if key == "step":
        return float(np.asarray(value))
    if value is None or isinstance(value, (bool, numbers.Number, str)):
        return value
    arr = np.array(value, dtype=p.dtype)
    if arr.shape != p.shape:
        raise ValueError(
            f"{name}: state {key!r} of parameter {idx} has shape {arr.shape}, expected the "
            f"parameter's shape {p.shape}"
        )
    return arr
