"""Containers: Sequential, ModuleList, ModuleDict, ParameterList and ParameterDict."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from ..autograd.tensor import Parameter, Tensor
from .module import Module


class _Indexed(Module):
    """What Sequential and ModuleList share: modules addressed by position, as in PyTorch.

    Assignment replaces a module in its place; deletion, ``insert`` and ``pop`` renumber the
    names ``0, 1, ...`` as PyTorch does.
    """

    def _position(self, idx: Any) -> int:
        n = len(self._modules)
        if isinstance(idx, bool) or not isinstance(idx, (int, np.integer)):
            raise TypeError(f"{type(self).__name__} indices must be ints, got {type(idx).__name__}")
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for {type(self).__name__} of length {n}")
        return int(idx) % n

    def _renumber(self, modules: list[Module]) -> None:
        self._modules.clear()
        for i, m in enumerate(modules):
            self._modules[str(i)] = m

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[self._position(idx)]
        setattr(self, key, _check(module, key))

    def __delitem__(self, idx: int | slice) -> None:
        modules = list(self._modules.values())
        del modules[idx if isinstance(idx, slice) else self._position(idx)]
        self._renumber(modules)

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index`` (PyTorch's bounds: -len..len)."""
        n = len(self._modules)
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"insert expected an int index, got {type(index).__name__}")
        if not -n <= index <= n:
            raise IndexError(
                f"index {index} is out of range for {type(self).__name__} of length {n}"
            )
        modules = list(self._modules.values())
        modules.insert(int(index), _check(module, str(index)))
        self._renumber(modules)

    def pop(self, index: int = -1) -> Module:
        module = list(self._modules.values())[self._position(index)]
        del self[index]
        return module

    def extend(self, modules: Iterable[Module]) -> Any:
        for m in modules:
            self.append(m)
        return self


class Sequential(_Indexed):
    """Modules applied in order; names are their positions (``0``, ``1``, ...) or given keys.

    >>> import glassnet.nn as nn
    >>> nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    Sequential(
      (0): Linear(in_features=2, out_features=3, bias=True)
      (1): ReLU()
    )
    """

    def __init__(self, *modules: Any) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, _check(m, name))
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), _check(m, str(i)))

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, idx: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(items[idx]))
        return items[self._position(idx)][1]

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), _check(module, str(len(self))))
        return self

    def forward(self, input: Any) -> Any:
        for m in self._modules.values():
            input = m(input)
        return input


class ModuleList(_Indexed):
    """A list of modules, registered so their parameters are found (names ``0``, ``1``, ...)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        for m in modules or []:
            self.append(m)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, idx: int | slice) -> Any:
        items = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(items[idx])
        return items[self._position(idx)]

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), _check(module, str(len(self))))
        return self


def _check(m: Any, name: str) -> Module:
    if not isinstance(m, Module):
        raise TypeError(f"expected a Module at {name!r}, got {type(m).__name__}")
    return m


# ---------------------------------------------------------------------------- dict and parameter
def _check_key(owner: Module, key: Any, kind: str) -> str:
    """A registrable name (PyTorch's rules): a non-empty str, no '.', no clash with an attribute."""
    cname = type(owner).__name__
    if not isinstance(key, str):
        raise TypeError(f"{cname} keys must be strings, got {type(key).__name__} {key!r}")
    if key == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if "." in key:
        raise KeyError(f'{kind} name can\'t contain ".", got: {key}')
    registered = key in owner._modules or key in owner._parameters or key in owner.__dict__
    if not registered and hasattr(type(owner), key):
        raise KeyError(f"attribute '{key}' already exists in {cname}")
    return key


def _pairs(values: Any, cname: str) -> Iterator[tuple[Any, Any]]:
    """Key/value pairs of an ``update`` argument: a mapping or an iterable of pairs."""
    if not isinstance(values, Iterable):
        raise TypeError(
            f"{cname}.update should be called with an iterable of key/value pairs, but got "
            f"{type(values).__name__}"
        )
    if isinstance(values, (OrderedDict, ModuleDict, ParameterDict)):
        yield from values.items()
        return
    if isinstance(values, Mapping):
        # PyTorch: ModuleDict keeps a plain dict's order, ParameterDict sorts its keys
        items = values.items()
        yield from (sorted(items) if cname == "ParameterDict" else items)
        return
    for j, item in enumerate(values):
        if not isinstance(item, Iterable):
            raise TypeError(
                f"{cname} update sequence element #{j} should be Iterable; is {type(item).__name__}"
            )
        item = tuple(item)
        if len(item) != 2:
            raise ValueError(
                f"{cname} update sequence element #{j} has length {len(item)}; 2 is required"
            )
        yield item


class ModuleDict(Module):
    """Modules by name, registered so their parameters are found (keys ``<key>.<param>``).

    A dict's API (``[]``, ``in``, ``keys``, ``items``, ``values``, ``update``, ``pop``,
    ``clear``), in insertion order.

    >>> import glassnet.nn as nn
    >>> heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "box": nn.Linear(4, 2)})
    >>> list(heads.state_dict())
    ['cls.weight', 'cls.bias', 'box.weight', 'box.bias']
    """

    def __init__(self, modules: Any = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"ModuleDict expected a Module at {key!r}, got {type(module).__name__}")
        self.add_module(_check_key(self, key, "module"), module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def pop(self, key: str) -> Module:
        """Remove the module at ``key`` and return it."""
        m = self[key]
        del self[key]
        return m

    def keys(self) -> Any:
        return self._modules.keys()

    def items(self) -> Any:
        return self._modules.items()

    def values(self) -> Any:
        return self._modules.values()

    def update(self, modules: Any) -> None:
        """Add or replace modules from a mapping or an iterable of (key, module) pairs."""
        for key, m in _pairs(modules, "ModuleDict"):
            self[key] = m


def _as_parameter(value: Any) -> Any:
    """Tensors become Parameters (sharing the array), as PyTorch; other objects stay as they are."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value, requires_grad=True)
    return value


def _set_entry(owner: Module, name: str, value: Any) -> None:
    """``setattr``, except that a parameter replaced in place keeps its position (PyTorch's
    dict assignment), so ``state_dict`` keys keep PyTorch's order."""
    if isinstance(value, Parameter) and name in owner._parameters:
        owner._parameters[name] = value
    else:
        setattr(owner, name, value)


def _describe(value: Any) -> str:
    if isinstance(value, Tensor):
        kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
        size = "x".join(str(s) for s in value.shape)
        return f"{kind} containing: [{value.dtype} of size {size}]"
    return f"Object of type: {type(value).__name__}"


def _listing_repr(module: Module, entries: Iterable[tuple[Any, Any]]) -> str:
    """PyTorch's layout: one entry inline, several on their own lines."""
    lines = [f"  ({k}): {_describe(v)}" for k, v in entries]
    name = type(module).__name__
    if not lines:
        return f"{name}()"
    if len(lines) == 1:
        return f"{name}({lines[0]})"
    return f"{name}(\n  " + "\n  ".join(lines) + "\n)"


class ParameterList(Module):
    """A list of parameters, registered under their positions (``state_dict`` keys ``0``, ``1``).

    Tensors appended are turned into ``Parameter``s; other objects are kept as they are (not
    in ``parameters()``), as PyTorch.

    >>> import numpy as np
    >>> import glassnet.nn as nn
    >>> ps = nn.ParameterList([nn.Parameter(np.zeros(2)), nn.Parameter(np.ones((2, 3)))])
    >>> [name for name, _ in ps.named_parameters()]
    ['0', '1']
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def _index(self, idx: Any) -> str:
        if isinstance(idx, bool) or not hasattr(idx, "__index__"):
            raise TypeError(f"ParameterList indices must be integers, got {type(idx).__name__}")
        i = idx.__index__()
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} is out of range for ParameterList of length {len(self)}")
        return str(i % len(self))

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, slice):
            return type(self)(self[i] for i in range(*idx.indices(len(self))))
        return getattr(self, self._index(idx))

    def __setitem__(self, idx: Any, value: Any) -> None:
        _set_entry(self, self._index(idx), _as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self)))

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def __dir__(self) -> list[str]:
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, value: Any) -> ParameterList:
        """Add ``value`` at the end (a Tensor becomes a Parameter)."""
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Append every value of ``values`` (not a Tensor: that would unpack it row by row)."""
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(
                f"ParameterList.extend should be called with an iterable, but got "
                f"{type(values).__name__}"
            )
        for v in values:
            self.append(v)
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterList should not be called.")

    def __repr__(self) -> str:
        return _listing_repr(self, enumerate(self))


class ParameterDict(Module):
    """Parameters by name, registered under their keys (``state_dict`` keys are the keys).

    A dict's API (``[]``, ``in``, ``get``, ``keys``, ``items``, ``values``, ``update``,
    ``pop``, ``popitem``, ``setdefault``, ``copy``, ``|``), in insertion order; tensors become
    ``Parameter``s. As PyTorch, ``update`` with a plain ``dict`` adds its keys in sorted order
    (an ``OrderedDict``, a ``ParameterDict`` or a list of pairs keeps its order).

    >>> import numpy as np
    >>> import glassnet.nn as nn
    >>> pd = nn.ParameterDict({"scale": nn.Parameter(np.ones(3)), "shift": np.zeros(3)})
    >>> list(pd.state_dict()), type(pd["shift"]).__name__
    (['scale'], 'ndarray')
    """

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        _check_key(self, key, "parameter")
        _set_entry(self, key, _as_parameter(value))
        self._keys[key] = None

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __reversed__(self) -> Iterator[str]:
        return reversed(list(self._keys))

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same parameters (not copies), in the same order."""
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        for k in list(self._keys):
            del self[k]

    def pop(self, key: str) -> Any:
        v = self[key]
        del self[key]
        return v

    def popitem(self) -> tuple[str, Any]:
        """Remove and return the last (key, value) pair."""
        if not self._keys:
            raise KeyError("popitem(): ParameterDict is empty")
        k = next(reversed(list(self._keys)))
        return k, self.pop(k)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def fromkeys(self, keys: Iterable[str], default: Any = None) -> ParameterDict:
        """A new ParameterDict with ``keys``, each holding ``default``."""
        return ParameterDict([(k, default) for k in keys])

    def keys(self) -> Any:
        return self._keys.keys()

    def items(self) -> Iterator[tuple[str, Any]]:
        return ((k, self[k]) for k in self._keys)

    def values(self) -> Iterator[Any]:
        return (self[k] for k in self._keys)

    def update(self, parameters: Any) -> None:
        """Add or replace entries from a mapping or an iterable of (key, value) pairs."""
        for key, value in _pairs(parameters, "ParameterDict"):
            self[key] = value

    def __or__(self, other: ParameterDict) -> ParameterDict:
        out = self.copy()
        out.update(other)
        return out

    def __ror__(self, other: ParameterDict) -> ParameterDict:
        out = other.copy()
        out.update(self)
        return out

    def __ior__(self, other: ParameterDict) -> ParameterDict:
        self.update(other)
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterDict should not be called.")

    def __repr__(self) -> str:
        return _listing_repr(self, self.items())
