"""Reverse-mode differentiation: an iterative walk of the graph in topological order.

No recursion anywhere, so a chain of 100,000 ops (or BPTT over 10,000 steps) never meets Python's
recursion limit. Saved arrays are released node by node as backward passes them, unless
``retain_graph=True``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import grad_mode
from .function import Function, check_backward_grad

if TYPE_CHECKING:
    from .tensor import Tensor


def _topological_order(root: Function) -> list[Function]:
    """Nodes reachable from ``root``, each before all the nodes that produced its inputs."""
    consumers: dict[Function, int] = {root: 0}
    stack = [root]
    while stack:
        node = stack.pop()
        if node._freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (through {node.name}), "
                "but its saved arrays were already freed; pass retain_graph=True to the first "
                "backward() call if you need to backward twice"
            )
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
    ready = [root]
    while ready:
        node = ready.pop()
        order.append(node)
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


def backward(root: Tensor, gradient: Any = None, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    Args:
        root: the tensor to differentiate (usually a scalar loss).
        gradient: upstream gradient of the same shape as ``root``; may be omitted only for
            tensors with a single element.
        retain_graph: keep saved arrays so backward can run through the graph again.
    """
    from .tensor import Tensor

    if not root.requires_grad:
        raise RuntimeError(
            "backward() called on a tensor that does not require grad and has no creator; "
            "did you compute it under no_grad() or from tensors without requires_grad=True?"
        )
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(
                "backward() without a gradient works only for a tensor with a single element, "
                f"got shape {root.shape}; pass gradient= of that shape"
            )
        g0 = np.ones_like(root.data)
    else:
        g0 = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient)
        if g0.shape != root.shape:
            raise ValueError(f"backward() expected gradient of shape {root.shape}, got {g0.shape}")
        g0 = g0.astype(root.dtype, copy=False)
    if root.creator is None:
        _accumulate_leaf(root, g0)
        return

    with grad_mode.no_grad():
        _run(root, g0, retain_graph)


def _run(root: Tensor, g0: np.ndarray, retain_graph: bool) -> None:
    assert root.creator is not None
    order = _topological_order(root.creator)
    pending: dict[Function, list[np.ndarray | None]] = {
        root.creator: [None] * len(root.creator._out_meta)
    }
    pending[root.creator][root._index] = g0
    anomaly = grad_mode.is_anomaly_enabled()
    for node in order:
        outs = pending.pop(node)
        grads = [
            g if g is not None else np.zeros(shape, dtype)
            for g, (shape, dtype) in zip(outs, node._out_meta)
        ]
        if node._retained:
            for i, ref in node._retained.items():
                t = ref()
                if t is not None:
                    _accumulate_leaf(t, grads[i])
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
        for i, (t, g, need) in enumerate(zip(node.inputs, in_grads, node.needs_input_grad)):
            if t is None or not need or g is None:
                continue
            if g.shape != t.data.shape:
                raise AssertionError(
                    f"{node.name}.backward returned a gradient of shape {g.shape} for input {i} "
                    f"of shape {t.data.shape}"
                )
            if g.dtype != t.data.dtype:
                g = g.astype(t.data.dtype)
            if anomaly:
                check_backward_grad(node, i, g)
            c = t.creator
            if c is None:
                _accumulate_leaf(t, g)
                continue
            slots = pending.get(c)
            if slots is None:
                slots = pending[c] = [None] * len(c._out_meta)
            prev = slots[t._index]
            slots[t._index] = g if prev is None else prev + g
        if not retain_graph:
            node._release()
