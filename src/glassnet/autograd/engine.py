"""Reverse-mode differentiation: an iterative walk of the graph in topological order.

No recursion anywhere, so a chain of 100,000 ops (or BPTT over 10,000 steps) never meets Python's
recursion limit. Saved arrays are released node by node as backward passes them, unless
``retain_graph=True``.

Two entry points share one walk: ``backward`` accumulates into the ``.grad`` of every leaf that
requires grad (or only of ``inputs``), ``grad`` returns the gradients of chosen tensors and
touches no ``.grad``. Tensor hooks (``Tensor.register_hook``) run on the total gradient of their
tensor before it flows on (non-leaves) or is accumulated (leaves), as in PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import grad_mode
from .function import Function, check_backward_grad

if TYPE_CHECKING:
    from .tensor import Tensor

Hooks = dict[int, Callable[..., Any]]

_DOUBLE_BACKWARD = (
    "create_graph=True (double backward) is not supported: glassnet's backward passes compute "
    "on NumPy arrays and are not themselves recorded in a graph, so a gradient cannot be "
    "differentiated again"
)


def _freed_error(node: Function) -> RuntimeError:
    return RuntimeError(
        f"Trying to backward through the graph a second time (through {node.name}), "
        "but its saved arrays were already freed; pass retain_graph=True to the first "
        "backward() call if you need to backward twice"
    )


def _topological_order(roots: Sequence[Function]) -> list[Function]:
    """Nodes reachable from ``roots``, each before all the nodes that produced its inputs.

    A freed node (its graph already backpropagated) ends the walk: its edges are gone. The run
    raises only if it has to go through it.
    """
    consumers: dict[Function, int] = dict.fromkeys(roots, 0)
    stack = list(consumers)
    while stack:
        node = stack.pop()
        if node._freed:
            continue
        for t in node.inputs:
            if t is None or t.creator is None:
                continue
            c = t.creator
            if c in consumers:
                consumers[c] += 1
            else:
                consumers[c] = 1
                stack.append(c)
    order = []
    ready = [r for r in dict.fromkeys(roots) if consumers[r] == 0]
    while ready:
        node = ready.pop()
        order.append(node)
        if node._freed:
            continue
        for t in node.inputs:
            if t is None or t.creator is None:
                continue
            consumers[t.creator] -= 1
            if consumers[t.creator] == 0:
                ready.append(t.creator)
    return order


def _accumulate_leaf(t: Tensor, g: np.ndarray) -> None:
    from .tensor import Tensor

    if t.grad is None:
        # A copy: the same array may reach several leaves (z = x + y), and users scale
        # gradients in place (clip_grad_norm_).
        t.grad = Tensor(np.array(g, dtype=t.data.dtype, copy=True))
    else:
        t.grad.data = t.grad.data + g


def run_hooks(hooks: Hooks | None, g: np.ndarray) -> np.ndarray:
    """Pass ``g`` through tensor hooks in registration order; a hook may return a replacement.

    Each hook sees a read-only tensor: the engine shares gradient arrays between branches, so an
    in-place change would corrupt other gradients (PyTorch asks hooks not to modify their
    argument; here it is enforced).
    """
    if not hooks:
        return g
    from .tensor import Tensor

    for hook in list(hooks.values()):
        view = g.view()
        view.flags.writeable = False
        r = hook(Tensor._make(view, False, None, 0))
        if r is None:
            continue
        name = getattr(hook, "__name__", type(hook).__name__)
        if not isinstance(r, Tensor):
            raise TypeError(
                f"hook {name!r} must return a Tensor or None, but returned {type(r).__name__}"
            )
        if r.shape != g.shape:
            raise RuntimeError(
                f"hook {name!r} has changed the size of the gradient (was {g.shape}, got {r.shape})"
            )
        if r.dtype != g.dtype:
            raise RuntimeError(
                f"hook {name!r} has changed the dtype of the gradient (was {g.dtype}, "
                f"got {r.dtype})"
            )
        g = r.data
    return g


def _as_tensors(x: Any, what: str) -> list[Tensor]:
    from .tensor import Tensor

    items = [x] if isinstance(x, Tensor) else list(x)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"{what} expected Tensors, got {type(t).__name__} at position {i}")
    return items


def _root_gradients(outputs: list[Tensor], grads: Any, fn: str) -> list[tuple[Tensor, np.ndarray]]:
    """Pair every output with its upstream gradient (ones for single-element outputs)."""
    from .tensor import Tensor

    if grads is None:
        grads = [None] * len(outputs)
    elif isinstance(grads, (Tensor, np.ndarray, float, int)):
        grads = [grads]
    grads = list(grads)
    if len(grads) != len(outputs):
        raise ValueError(
            f"{fn} got {len(outputs)} outputs but {len(grads)} gradients; pass one per output"
        )
    roots = []
    for i, (t, g) in enumerate(zip(outputs, grads)):
        if not t.requires_grad:
            raise RuntimeError(
                f"{fn}: output {i} does not require grad and has no creator; did you compute "
                "it under no_grad() or from tensors without requires_grad=True?"
            )
        if g is None:
            if t.data.size != 1:
                raise RuntimeError(
                    f"{fn} without a gradient works only for outputs with a single element, "
                    f"got shape {t.shape} for output {i}; pass a gradient of that shape"
                )
            g0 = np.ones_like(t.data)
        else:
            g0 = np.asarray(g.data if isinstance(g, Tensor) else g)
            if g0.shape != t.shape:
                raise ValueError(
                    f"{fn} expected a gradient of shape {t.shape}, got {g0.shape} (output {i})"
                )
            g0 = g0.astype(t.dtype, copy=False)
        roots.append((t, g0))
    return roots


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Accumulate d(tensors)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    Args:
        tensors: the tensor (usually a scalar loss) or tensors to differentiate.
        grad_tensors: upstream gradient(s) of the same shape as ``tensors``; may be omitted only
            for tensors with a single element.
        retain_graph: keep saved arrays so backward can run through the graph again.
        create_graph: not supported (no double backward); ``True`` raises NotImplementedError.
        inputs: accumulate only into these tensors' ``.grad`` (leaves or not); the default is
            every leaf that requires grad.
    """
    if create_graph:
        raise NotImplementedError(_DOUBLE_BACKWARD)
    roots = _root_gradients(_as_tensors(tensors, "backward()"), grad_tensors, "backward()")
    if inputs is None:
        with grad_mode.no_grad():
            _run(roots, bool(retain_graph))
        return
    targets = _as_tensors(inputs, "backward()")
    if not targets:
        raise RuntimeError("the inputs argument of backward() cannot be empty")
    with grad_mode.no_grad():
        found = _run(roots, bool(retain_graph), targets)
    for t, g in zip(targets, found):
        if g is not None:
            _accumulate_leaf(t, g)


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, without touching any leaf's
    ``.grad`` (``torch.autograd.grad``).

    ``inputs`` may be leaves or intermediate tensors; only the part of the graph between them
    and ``outputs`` runs, and tensor hooks on the way apply.

    Args:
        outputs: tensor or tensors to differentiate.
        inputs: tensor or tensors to differentiate with respect to (each must require grad).
        grad_outputs: upstream gradient per output (``None`` means ones, scalar outputs only).
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: not supported (no double backward); ``True`` raises NotImplementedError.
        allow_unused: return ``None`` for inputs the outputs do not depend on instead of raising.
        materialize_grads: return zeros instead of ``None`` for unused inputs.

    Returns:
        A tuple with one gradient tensor (or ``None``) per input.

    >>> import glassnet
    >>> x = glassnet.tensor([1.0, 2.0], requires_grad=True)
    >>> glassnet.autograd.grad((x * x).sum(), x)
    (tensor([2., 4.]),)
    >>> x.grad is None
    True
    """
    from .tensor import Tensor

    if create_graph:
        raise NotImplementedError(_DOUBLE_BACKWARD)
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and not allow_unused:
        raise ValueError("grad(): materialize_grads=True needs allow_unused=True (or None)")
    outs = _as_tensors(outputs, "grad()")
    targets = _as_tensors(inputs, "grad()")
    if not targets:
        raise RuntimeError("the inputs argument of grad() cannot be empty")
    for i, t in enumerate(targets):
        if not t.requires_grad:
            raise RuntimeError(f"grad(): input {i} does not require grad")
    roots = _root_gradients(outs, grad_outputs, "grad()")
    with grad_mode.no_grad():
        found = _run(roots, bool(retain_graph), targets)
    result: list[Tensor | None] = []
    for i, (t, g) in enumerate(zip(targets, found)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad(): input {i} was not used to compute the outputs; pass "
                    "allow_unused=True to get None for it"
                )
            result.append(Tensor(np.zeros_like(t.data)) if materialize_grads else None)
        else:
            result.append(Tensor(np.array(g, dtype=t.dtype, copy=True)))
    return tuple(result)


def _needed(
    order: list[Function], leaf_ids: set[int], node_slots: set[tuple[int, int]]
) -> set[Function]:
    """The nodes whose backward must run to reach the target tensors (walked leaves first).

    A freed node hides its inputs; it counts as needed when some target may lie behind it (a
    leaf target, or an intermediate one the walk did not reach), so the run reports the freed
    graph instead of calling the target unused.
    """
    explored = {id(n) for n in order}
    behind = bool(leaf_ids) or any(n not in explored for n, _ in node_slots)
    needed: set[Function] = set()
    for node in reversed(order):
        if node._freed:
            if behind:
                needed.add(node)
            continue
        for t in node.inputs:
            if t is None:
                continue
            c = t.creator
            if (c is None and id(t) in leaf_ids) or (
                c is not None and (c in needed or (id(c), t._index) in node_slots)
            ):
                needed.add(node)
                break
    return needed


def _run(
    roots: list[tuple[Tensor, np.ndarray]],
    retain_graph: bool,
    targets: list[Tensor] | None = None,
) -> list[np.ndarray | None]:
    """Propagate the root gradients; return the total gradient of each target (None if unused).

    Without ``targets`` every leaf that requires grad accumulates into ``.grad``; with them, only
    the nodes between the roots and the targets run and no leaf's ``.grad`` changes.
    """
    leaf_ids: set[int] = set()
    node_slots: set[tuple[int, int]] = set()
    for t in targets or ():
        if t.creator is None:
            leaf_ids.add(id(t))
        else:
            node_slots.add((id(t.creator), t._index))
    captured: dict[Any, np.ndarray] = {}
    # Leaf gradients are summed over the whole walk, so a leaf's hooks see the total once.
    leaf_grads: dict[int, tuple[Tensor, np.ndarray]] = {}

    def to_leaf(t: Tensor, g: np.ndarray) -> None:
        if targets is not None and id(t) not in leaf_ids:
            return
        prev = leaf_grads.get(id(t))
        leaf_grads[id(t)] = (t, g if prev is None else prev[1] + g)

    pending: dict[Function, list[np.ndarray | None]] = {}
    for t, g0 in roots:
        if t.creator is None:
            to_leaf(t, g0)
            continue
        slots = pending.setdefault(t.creator, [None] * len(t.creator._out_meta))
        prev = slots[t._index]
        slots[t._index] = g0 if prev is None else prev + g0
    order = _topological_order(list(pending))
    capture_nodes = {n for n, _ in node_slots}
    needed = None if targets is None else _needed(order, leaf_ids, node_slots)
    for node in order:  # fail before any gradient moves
        if node._freed and (needed is None or node in needed):
            raise _freed_error(node)
    anomaly = grad_mode.is_anomaly_enabled()
    for node in order:
        outs = pending.pop(node, None)
        if outs is None:
            continue  # pruned: no gradient reached it
        capture_here = id(node) in capture_nodes
        if needed is not None and node not in needed and not capture_here:
            continue
        grads = [
            g if g is not None else np.zeros(shape, dtype)
            for g, (shape, dtype) in zip(outs, node._out_meta)
        ]
        if node._tensor_hooks:
            for i, hooks in node._tensor_hooks.items():
                grads[i] = run_hooks(hooks, grads[i])
        if node._retained:
            for i, ref in node._retained.items():
                kept = ref()
                if kept is not None:
                    _accumulate_leaf(kept, grads[i])
        if capture_here:
            for i, g in enumerate(grads):
                if (id(node), i) in node_slots:
                    captured[(id(node), i)] = g
        if needed is not None and node not in needed:
            continue
        for box, version in node._saved_versions:
            if box[0] != version:
                raise RuntimeError(
                    f"one of the arrays saved by {node.name} for backward was modified by an "
                    f"in-place operation (its version is {box[0]}, expected {version}); the "
                    "gradient would be wrong. Use an out-of-place operation, or clone() the "
                    "tensor before changing it"
                )
        result = node.backward(*grads)
        in_grads = result if isinstance(result, tuple) else (result,)
        if len(in_grads) != len(node.inputs):
            raise RuntimeError(
                f"{node.name}.backward returned {len(in_grads)} gradients, expected "
                f"{len(node.inputs)} (one per positional input)"
            )
        for i, (x, g, need) in enumerate(zip(node.inputs, in_grads, node.needs_input_grad)):
            if x is None or not need or g is None:
                continue
            if g.shape != x.data.shape:
                raise AssertionError(
                    f"{node.name}.backward returned a gradient of shape {g.shape} for input {i} "
                    f"of shape {x.data.shape}"
                )
            if g.dtype != x.data.dtype:
                g = g.astype(x.data.dtype)
            if anomaly:
                check_backward_grad(node, i, g)
            c = x.creator
            if c is None:
                to_leaf(x, g)
                continue
            into = pending.get(c)
            if into is None:
                into = pending[c] = [None] * len(c._out_meta)
            prev = into[x._index]
            into[x._index] = g if prev is None else prev + g
        if not retain_graph:
            node._release()
    for t, g in leaf_grads.values():
        g = run_hooks(t._hooks, g)
        if targets is None:
            _accumulate_leaf(t, g)
        else:
            captured[id(t)] = g
    if targets is None:
        return []
    return [
        captured.get(id(t) if t.creator is None else (id(t.creator), t._index)) for t in targets
    ]
