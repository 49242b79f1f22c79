"""Batched products: ``einsum`` (any sum of products over labelled axes) and ``bmm``.

The gradient of an einsum with respect to one operand is another einsum: contract the upstream
gradient with the other operands, producing that operand's labels. Two cases need more than the
permuted subscripts. A label that only this operand carries (summed away, ``'ij->i'``) does not
reach the gradient einsum, whose result is then constant along it and broadcast. A label that
repeats inside the operand (a diagonal, ``'ii->i'``) can appear only once in an einsum output;
the gradient is written onto the diagonal through a strided view.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import shape_str
from .linalg import MatMul

_LETTERS = string.ascii_letters


class Einsum(Function):
    """y = einsum(equation, *operands), the equation in explicit form with letters only.

    Shapes:
        operand k: one axis per label of ``terms[k]``   y: one axis per label of ``output``,
        each label's size shared by the operands that carry it (1 broadcasts)
    """

    def forward(self, *xs: np.ndarray, terms: tuple[str, ...], output: str) -> np.ndarray:
        self.xs, self.terms, self.output = xs, terms, output
        eq = ",".join(terms) + "->" + output
        return np.asarray(np.einsum(eq, *xs, optimize=len(xs) > 1))

    def backward(self, dy: np.ndarray) -> tuple[Any, ...]:
        return tuple(
            self._operand_grad(k, dy) if need else None
            for k, need in enumerate(self.needs_input_grad)
        )

    def _operand_grad(self, k: int, dy: np.ndarray) -> np.ndarray:
        x, labels = self.xs[k], self.terms[k]
        others = [j for j in range(len(self.xs)) if j != k]
        size = dict(zip(labels, x.shape))  # this operand's own sizes
        unique = "".join(dict.fromkeys(labels))
        reach = set(self.output).union(*(self.terms[j] for j in others))
        kept = "".join(c for c in unique if c in reach)
        eq = ",".join([self.output, *(self.terms[j] for j in others)]) + "->" + kept
        g = np.einsum(eq, dy, *(self.xs[j] for j in others), optimize=len(others) > 0)
        # a label of size 1 here that broadcast against a larger size elsewhere: sum it back
        wide = tuple(i for i, c in enumerate(kept) if size[c] == 1 and g.shape[i] != 1)
        if wide:
            g = g.sum(axis=wide, keepdims=True)
        g = g.reshape([g.shape[kept.index(c)] if c in kept else 1 for c in unique])
        g = np.broadcast_to(g, [size[c] for c in unique])  # (one axis per unique label)
        if len(unique) == len(labels):
            return np.ascontiguousarray(g, dtype=x.dtype)
        dx = np.zeros(x.shape, x.dtype)
        strides = [sum(dx.strides[i] for i, c in enumerate(labels) if c == u) for u in unique]
        diagonal = np.lib.stride_tricks.as_strided(dx, g.shape, strides, writeable=True)
        diagonal[...] = g
        return dx


# ---------------------------------------------------------------------------- functional forms
def _parse(equation: str, shapes: list[tuple[int, ...]]) -> tuple[tuple[str, ...], str]:
    """Explicit letter-only terms and output for ``equation``; ellipses get spare letters."""
    eq = "".join(equation.split())
    lhs, arrow, rhs = eq.partition("->")
    specs = lhs.split(",")
    if len(specs) != len(shapes):
        raise ValueError(
            f"einsum equation {equation!r} has {len(specs)} operand(s), got {len(shapes)} tensors"
        )
    for part in [*specs, rhs]:
        rest = part.replace("...", "", 1)
        bad = [c for c in rest if c not in _LETTERS]
        if bad:
            raise ValueError(
                f"einsum subscripts must be letters a-z, A-Z and at most one '...' per "
                f"operand, got {bad[0]!r} in {equation!r}"
            )
    used = set(eq)
    spare = [c for c in _LETTERS if c not in used]
    n_ell = 0
    for spec, shape in zip(specs, shapes):
        explicit = len(spec.replace("...", ""))
        if "..." in spec:
            if len(shape) < explicit:
                raise ValueError(
                    f"einsum operand {spec!r} names {explicit} dimensions but the tensor has "
                    f"shape {shape_str(shape)}"
                )
            n_ell = max(n_ell, len(shape) - explicit)
        elif len(shape) != explicit:
            raise ValueError(
                f"einsum operand {spec!r} names {explicit} dimensions but the tensor has shape "
                f"{shape_str(shape)} (no '...' to take the rest)"
            )
    if n_ell > len(spare):
        raise ValueError(f"einsum equation {equation!r} uses too many dimensions")
    ell = "".join(spare[:n_ell])
    terms = []
    for spec, shape in zip(specs, shapes):
        k = len(shape) - len(spec.replace("...", ""))
        terms.append(spec.replace("...", ell[n_ell - k :]) if "..." in spec else spec)
    if arrow:
        output = rhs.replace("...", ell)
        for c in output:
            if output.count(c) > 1:
                raise ValueError(f"einsum output subscript {c!r} appears more than once")
            if not any(c in t for t in terms):
                raise ValueError(f"einsum output subscript {c!r} appears in no operand")
    else:  # implicit: the broadcast dimensions, then the labels seen once, in order
        counts = "".join(specs).replace("...", "")
        output = ell + "".join(sorted(c for c in set(counts) if counts.count(c) == 1))
    sizes: dict[str, int] = {}
    for term, shape, spec in zip(terms, shapes, specs):
        for c, n in zip(term, shape):
            prev = sizes.setdefault(c, n)
            if prev != n and 1 not in (prev, n):
                raise ValueError(
                    f"einsum subscript {c!r} has size {n} in operand {spec!r}, which does not "
                    f"broadcast with size {prev} seen before"
                )
            sizes[c] = max(prev, n)
    return tuple(terms), output


def einsum(equation: str, *operands: Any) -> Tensor:
    """Sum of products over labelled axes (``torch.einsum``), differentiable in every operand.

    Labels are letters; ``...`` stands for broadcast dimensions; without ``->`` the output has
    the broadcast dimensions, then the labels that occur once, sorted. Operands may also be
    given as one list.

    Shapes:
        operand k: one axis per label   y: one axis per output label

    >>> import glassnet
    >>> a, b = glassnet.ones(2, 3), glassnet.ones(3, 4)
    >>> glassnet.einsum("ij,jk->ik", a, b).shape
    (2, 4)
    >>> glassnet.einsum("ii", glassnet.eye(3))
    tensor(3.)
    """
    if not isinstance(equation, str):
        raise TypeError(f"einsum expected the equation string first, got {type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum expected at least one operand")
    ts = [x if isinstance(x, Tensor) else Tensor(x) for x in operands]
    terms, output = _parse(equation, [t.shape for t in ts])
    return Einsum.apply(*ts, terms=terms, output=output)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of two 3-d tensors with the same batch size (no broadcasting).

    Shapes:
        input: (B, N, K)   mat2: (B, K, M)   y: (B, N, M)
    """
    for name, x in (("input", input), ("mat2", mat2)):
        if not isinstance(x, Tensor):
            raise TypeError(f"bmm expected {name} to be a Tensor, got {type(x).__name__}")
        if x.ndim != 3:
            raise ValueError(f"bmm expected {name} to be 3-d (B, N, K), got {shape_str(x.shape)}")
    b, _, k = input.shape
    if mat2.shape[:2] != (b, k):
        raise ValueError(
            f"bmm expected mat2 of shape ({b}, {k}, M) for input {shape_str(input.shape)}, "
            f"got {shape_str(mat2.shape)}"
        )
    return MatMul.apply(input, mat2)
