"""``Module``: the base of every layer, holding parameters, buffers and sub-modules."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from .._dtype import is_floating
from ..autograd.tensor import Parameter, Tensor


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` found missing or unexpected (as PyTorch)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _to_array(value: Any) -> np.ndarray:
    """An ndarray from a glassnet tensor, a NumPy array or scalar, or a (CPU) torch tensor.

    Raises:
        TypeError: anything else (lists, numbers, strings, None: PyTorch refuses them too), or a
            torch tensor NumPy cannot hold (sparse, quantized, float8).
    """
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (np.ndarray, np.generic)):
        return np.asarray(value)
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # torch
        t = value.detach().cpu()
        if str(t.dtype) == "torch.bfloat16":  # NumPy has no bfloat16: widen exactly
            t = t.float()
        try:
            return np.asarray(t.numpy())
        except (TypeError, RuntimeError) as e:
            raise TypeError(f"a torch tensor of dtype {t.dtype} NumPy cannot hold ({e})") from None
    raise TypeError(type(value).__name__)


def _kind(dtype: np.dtype) -> str:
    """'f' floating, 'i' integer (signed or not), 'b' bool, ...: values convert within a kind."""
    return "i" if dtype.kind in "iu" else dtype.kind


_KIND_NAMES = {"f": "floating-point", "i": "integer", "b": "boolean", "c": "complex"}


def _spec(dtype: np.dtype, shape: tuple[int, ...]) -> str:
    return f"{dtype} {tuple(shape)}"


def _out_of_range(a: np.ndarray, dtype: np.dtype) -> str | None:
    """Why the values of ``a`` would not survive a cast to ``dtype`` (of their kind), if so."""
    if a.size == 0 or np.can_cast(a.dtype, dtype, casting="safe"):
        return None
    if dtype.kind == "f":
        finite = a[np.isfinite(a)]
        big = float(np.abs(finite).max()) if finite.size else 0.0
        if big > float(np.finfo(dtype).max):
            return f"{a.dtype} values up to {big:.3g}"
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        lo, hi = int(a.min()), int(a.max())
        if lo < info.min or hi > info.max:
            return f"{a.dtype} values in [{lo}, {hi}]"
    return None


class StateCheck(NamedTuple):
    """A state dict checked against a module's tensors (``check_state``)."""

    arrays: dict[str, np.ndarray]  # the values that fit, ready to copy
    missing: list[str]
    unexpected: list[str]
    misfits: dict[str, list[str]]  # problem -> "key: expected float32 (4, 3), got ..."
    converted: list[str]  # "key: float64 -> float32"

    def problems(self, strict: bool = True) -> list[str]:
        """One entry per kind of problem (missing keys only count when ``strict``)."""
        out = []
        if strict and self.missing:
            out.append(f"missing keys ({len(self.missing)}): " + ", ".join(self.missing))
        if strict and self.unexpected:
            hint = ""
            if all(k.startswith("module.") for k in self.unexpected) and self.missing:
                hint = " (saved from DataParallel? strip the 'module.' prefix)"
            out.append(
                f"unexpected keys ({len(self.unexpected)}): " + ", ".join(self.unexpected) + hint
            )
        for what, items in self.misfits.items():
            out.append(f"{what} ({len(items)}): " + "; ".join(items))
        return out


def check_state(own: Mapping[str, Tensor], state: Mapping[str, Any]) -> StateCheck:
    """Check every value of ``state`` against the tensor of the same key in ``own``.

    A value fits when it is an array (NumPy, glassnet or torch) of the tensor's shape and of the
    same dtype kind (floating values for floating parameters, integers for integer buffers: a
    cast across kinds would round, wrap or drop an imaginary part silently), and its values
    survive the cast to the tensor's dtype (float64 to float32 rounds, as PyTorch does; a value
    beyond float32's range, or an integer beyond the buffer's, is refused). Problems are listed
    by key with the expected dtype and shape.
    """
    missing = [k for k in own if k not in state]
    unexpected = [str(k) for k in state if k not in own]
    arrays: dict[str, np.ndarray] = {}
    misfits: dict[str, list[str]] = {}
    converted: list[str] = []

    def misfit(what: str, text: str) -> None:
        misfits.setdefault(what, []).append(text)

    for k, t in own.items():
        if k not in state:
            continue
        want = _spec(t.dtype, t.shape)
        try:
            a = _to_array(state[k])
        except TypeError as e:
            misfit("not arrays", f"{k}: expected a {want} array, got {e}")
            continue
        if a.shape != t.shape:
            misfit("mis-shaped keys", f"{k}: expected {want}, got {_spec(a.dtype, a.shape)}")
            continue
        if _kind(a.dtype) != _kind(t.dtype) or a.dtype.hasobject:
            kind = _KIND_NAMES.get(_kind(t.dtype), str(t.dtype))
            misfit(
                "wrong dtype kind",
                f"{k}: expected {kind} values for {want}, got {_spec(a.dtype, a.shape)}",
            )
            continue
        reason = _out_of_range(a, t.dtype)
        if reason:
            misfit("out of range", f"{k}: expected values within the range of {want}, got {reason}")
            continue
        if a.dtype != t.dtype:
            converted.append(f"{k}: {a.dtype} -> {t.dtype}")
        arrays[k] = a
    return StateCheck(arrays, missing, unexpected, misfits, converted)


class Module:
    """Base class of layers and models (PyTorch's ``nn.Module``).

    Assigning a ``Parameter`` or a ``Module`` to an attribute registers it; ``named_parameters``
    yields PyTorch's dotted names (``0.weight``, ``layers.1.bias``), so ``state_dict`` keys match
    the equivalent PyTorch model.

    >>> import glassnet.nn as nn
    >>> net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    >>> [name for name, _ in net.named_parameters()]
    ['0.weight', '0.bias', '2.weight', '2.bias']
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    # ----------------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        if isinstance(value, (Parameter, Module)):
            target = "_parameters" if isinstance(value, Parameter) else "_modules"
            for store in ("_parameters", "_buffers", "_modules"):
                if store != target:  # a reassigned name keeps its place, as in PyTorch
                    self.__dict__[store].pop(name, None)
            self.__dict__.pop(name, None)
            self.__dict__[target][name] = value
            return
        for store, kind in (("_parameters", Parameter), ("_modules", Module), ("_buffers", Tensor)):
            if name in self.__dict__[store]:
                if value is not None and not isinstance(value, kind):
                    raise TypeError(
                        f"cannot assign {type(value).__name__} to {name!r} of "
                        f"{type(self).__name__} ({kind.__name__} or None expected)"
                    )
                self.__dict__[store][name] = value
                return
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for store in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__[store]:
                del self.__dict__[store][name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None, for an absent optional parameter such as a bias)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter expected a Parameter or None, got {type(param).__name__}"
            )
        self.__dict__.pop(name, None)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a non-learnable tensor (running statistics) saved in ``state_dict``."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"register_buffer expected a Tensor or None, got {type(tensor).__name__}"
            )
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        self.__dict__.pop(name, None)
        self._modules[name] = module

    register_module = add_module

    # ----------------------------------------------------------------- traversal
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every descendant, with dotted names ('' for this one)."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            yield name, m
            children = [
                (f"{name}.{n}" if name else n, c) for n, c in m._modules.items() if c is not None
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for n, m in self._modules.items():
            if m is not None:
                yield n, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, store: str, prefix: str, recurse: bool) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mname, m in mods:
            for n, v in m.__dict__[store].items():
                if v is None or id(v) in seen:
                    continue
                seen.add(id(v))
                yield (f"{mname}.{n}" if mname else n), v

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, each shared parameter once, in registration order."""
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ----------------------------------------------------------------- modes and grads
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm uses batch statistics)."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Set evaluation mode (``train(False)``)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all parameters."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.data = np.zeros_like(p.grad.data)

    # ----------------------------------------------------------------- dtype
    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Convert floating parameters and buffers in place; returns self (PyTorch's overloads).

        ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)`` (its dtype), each optionally with
        ``non_blocking``. The device can only be the CPU, so ``model.to('cpu')`` changes nothing.

        >>> import glassnet
        >>> net = glassnet.nn.Linear(2, 2)
        >>> net.to("cpu") is net, net.to(glassnet.float64).weight.dtype
        (True, dtype('float64'))
        """
        from ..device import parse_to

        d, _ = parse_to(args, kwargs, method="Module.to", allow_copy=False)
        if d is None:
            return self
        if not is_floating(d):
            raise TypeError(f"Module.to expected a floating dtype, got {d}")
        for m in self.modules():
            for store in (m._parameters, m._buffers):
                for t in store.values():
                    if t is not None and is_floating(t.dtype):
                        t.data = t.data.astype(d)
                        if t.grad is not None:
                            t.grad.data = t.grad.data.astype(d)
        return self

    def cpu(self) -> Module:
        """This module (its parameters are NumPy arrays, on the CPU already)."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """Raises: glassnet is a CPU-only build."""
        from ..device import not_available

        raise not_available("CUDA")

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module (children first) and on this module."""
        for m in reversed(list(self.modules())):
            fn(m)
        return self

    # ----------------------------------------------------------------- state dict
    def _state_tensors(self, prefix: str = "") -> OrderedDict[str, Tensor]:
        """Parameters and persistent buffers by PyTorch key name: what a state dict holds."""
        out: OrderedDict[str, Tensor] = OrderedDict()
        for mname, m in self.named_modules(prefix.rstrip(".")):
            p = f"{mname}." if mname else ""
            for n, t in m._parameters.items():
                if t is not None:
                    out[p + n] = t
            for n, t in m._buffers.items():
                if t is not None and n not in m._non_persistent:
                    out[p + n] = t
        return out

    def state_dict(self, prefix: str = "") -> OrderedDict[str, np.ndarray]:
        """Parameters and persistent buffers by PyTorch key name, as copies of their arrays."""
        return OrderedDict((k, t.data.copy()) for k, t in self._state_tensors(prefix).items())

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy arrays into this module's parameters and buffers by key.

        Values may be NumPy arrays, glassnet tensors or torch tensors of each tensor's shape and
        dtype kind (see ``check_state``); floating values are cast to the parameter's dtype.
        Every problem is collected and reported in one ``ValueError`` naming each key with the
        expected dtype and shape: missing and unexpected keys (with ``strict``, the default),
        values that are not arrays, have another shape or dtype kind, or overflow the dtype.
        Nothing is changed unless all keys load.

        >>> import numpy as np, glassnet.nn as nn
        >>> state = {"weight": np.ones((1, 2), int), "bias": np.zeros(1)}
        >>> nn.Linear(2, 1).load_state_dict(state)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        ValueError: ... wrong dtype kind (1): weight: expected floating-point values for float32...
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict expected a mapping, got {type(state_dict).__name__}")
        own = self._state_tensors()
        check = check_state(own, state_dict)
        problems = check.problems(strict)
        if problems:
            raise ValueError(
                f"load_state_dict failed for {type(self).__name__}: " + " | ".join(problems)
            )
        for k, a in check.arrays.items():
            t = own[k]
            t.data[...] = a.astype(t.dtype, copy=False)
            t._version[0] += 1
        return IncompatibleKeys(check.missing, check.unexpected)

    # ----------------------------------------------------------------- calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            r = hook(self, args, out)
            if r is not None:
                out = r
        return out

    def register_forward_hook(self, hook: Callable[[Module, tuple[Any, ...], Any], Any]) -> Any:
        """Call ``hook(module, inputs, output)`` after every forward; returns a removable handle."""
        from ..autograd.hooks import RemovableHandle

        return RemovableHandle(self._forward_hooks, hook)

    # ----------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines.extend(extra.split("\n"))
        for name, m in self._modules.items():
            sub = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {sub}")
        if not self._modules:
            return f"{type(self).__name__}({extra})"
        return type(self).__name__ + "(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self) -> list[str]:
        return sorted(
            set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules)
        )
