"""``Function``: one differentiable operation as a forward/backward pair on ndarrays.

The op contract (see DESIGN.md):

* ``forward(self, *arrays, **static)`` receives raw ``ndarray``s positionally (``None`` where an
  optional input is absent, plain Python values for constants) and static attributes keyword-only.
  It saves what backward needs on ``self`` and returns one array or a tuple of arrays.
* ``backward(self, *grad_outputs)`` receives one gradient per output (zeros for outputs that did
  not reach the loss) and returns one gradient per positional input, or ``None`` where
  ``self.needs_input_grad`` is False. It must not modify ``grad_outputs`` in place.

``Function.apply(*inputs, **static)`` runs forward on the inputs' arrays, wraps the results in
tensors and, when grad is enabled and some input requires grad, records the node in the graph.
"""

from __future__ import annotations

import traceback
import weakref
from typing import Any

import numpy as np

from .._dtype import is_floating
from . import grad_mode
from .tensor import Tensor


class AnomalyError(RuntimeError):
    """Raised in anomaly mode by the first op whose forward or backward produced NaN/inf."""


class Function:
    """Base class of every differentiable operation.

    Example: a user-defined op, checked with ``gradcheck``.

    >>> import numpy as np, glassnet
    >>> from glassnet.autograd import Function, gradcheck
    >>> class Cube(Function):
    ...     def forward(self, x):
    ...         self.x = x
    ...         return x**3
    ...     def backward(self, dy):
    ...         return 3 * self.x**2 * dy
    >>> x = glassnet.tensor(np.linspace(-1, 1, 5), requires_grad=True)
    >>> gradcheck(Cube.apply, (x,))
    True
    """

    needs_input_grad: tuple[bool, ...]
    inputs: tuple[Tensor | None, ...]

    # Engine bookkeeping, set by ``apply``.
    _out_meta: tuple[tuple[tuple[int, ...], np.dtype], ...]
    _saved_versions: list[tuple[list[int], int]]
    _retained: dict[int, weakref.ref[Tensor]] | None = None
    _tensor_hooks: dict[int, dict[int, Any]] | None = None  # output index -> register_hook hooks
    _freed: bool = False
    _stack: list[str] | None = None

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def backward(self, *grad_outputs: np.ndarray) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    @property
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name}Backward0>"  # PyTorch's spelling; glassnet has one overload per op

    @classmethod
    def apply(cls, *inputs: Any, **static: Any) -> Any:
        """Run the op on tensors (or constants) and record it in the graph when needed."""
        fn = cls()
        arrays = []
        record = False
        for x in inputs:
            if isinstance(x, Tensor):
                arrays.append(x.data)
                record = record or x.requires_grad
            else:
                arrays.append(x)
        record = record and grad_mode._grad_enabled
        fn.needs_input_grad = tuple(
            record and isinstance(x, Tensor) and x.requires_grad for x in inputs
        )
        out = fn.forward(*arrays, **static)
        multi = isinstance(out, tuple)
        outs: tuple[np.ndarray, ...] = out if multi else (out,)
        if grad_mode._anomaly_enabled:
            _check_forward(fn, outs, arrays)
        if not record:
            results = tuple(Tensor._make(o, False, None, i) for i, o in enumerate(outs))
            return results if multi else results[0]
        # only floating outputs carry gradients; integer ones (max's indices) are not in the graph
        results = tuple(
            Tensor._make(o, True, fn, i) if o.dtype.kind == "f" else Tensor._make(o, False, None, i)
            for i, o in enumerate(outs)
        )
        fn.inputs = tuple(x if isinstance(x, Tensor) else None for x in inputs)
        fn._out_meta = tuple((o.shape, o.dtype) for o in outs)
        fn._saved_versions = _saved_versions(fn, inputs, results)
        if grad_mode._anomaly_enabled:
            fn._stack = traceback.format_stack()[:-2]
        return results if multi else results[0]

    def _release(self) -> None:
        """Drop saved arrays and graph edges after backward (unless the graph is retained).

        The output shapes stay: a later walk that reaches this node needs them to say where the
        graph was freed.
        """
        keep = {"needs_input_grad": self.needs_input_grad, "_freed": True}
        keep["_out_meta"] = self._out_meta
        self.__dict__.clear()
        self.__dict__.update(keep)


def _saved_versions(
    fn: Function, inputs: tuple[Any, ...], outputs: tuple[Tensor, ...]
) -> list[tuple[list[int], int]]:
    """Find which input/output tensors the op kept (by array identity) and note their versions.

    An in-place change of one of them before backward would make the gradient wrong; the engine
    compares versions at backward time and raises instead.
    """
    saved_ids: set[int] = set()
    for v in fn.__dict__.values():
        for item in v if isinstance(v, (tuple, list)) else (v,):
            while isinstance(item, np.ndarray):  # the array and the arrays it is a view of
                saved_ids.add(id(item))
                item = item.base
    if not saved_ids:
        return []
    return [
        (t._version, t._version[0])
        for t in (*inputs, *outputs)
        if isinstance(t, Tensor) and id(t.data) in saved_ids
    ]


def _bad(a: np.ndarray) -> str | None:
    if not is_floating(a.dtype):
        return None
    if np.isnan(a).any():
        return "nan"
    if np.isinf(a).any():
        return "inf"
    return None


def _check_forward(fn: Function, outs: tuple[np.ndarray, ...], arrays: list[Any]) -> None:
    for i, o in enumerate(outs):
        kind = _bad(o)
        if kind is None:
            continue
        bad_inputs = [
            j for j, a in enumerate(arrays) if isinstance(a, np.ndarray) and _bad(a) is not None
        ]
        where = (
            f"(input {bad_inputs[0]} already contained nan/inf)"
            if bad_inputs
            else "(its inputs were finite)"
        )
        raise AnomalyError(f"{fn.name} produced {kind} in its forward output {i} {where}")


def check_backward_grad(fn: Function, index: int, grad: np.ndarray) -> None:
    """Anomaly-mode check of one input gradient returned by ``fn.backward``."""
    kind = _bad(grad)
    if kind is None:
        return
    origin = ""
    if fn._stack:
        origin = "\nThe op was created at:\n" + "".join(fn._stack[-3:])
    raise AnomalyError(
        f"{fn.name}Backward returned {kind} values in its gradient for input {index}{origin}"
    )
