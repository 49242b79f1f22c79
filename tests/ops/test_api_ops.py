"""PyTorch tensor methods added for issue 21: layout, masks, truth tests, norms, einsum, bmm.

Every differentiable one: float64 gradcheck with a random upstream gradient and PyTorch parity
of values and gradients; hypothesis over shapes and options where the space is wide.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassnet
import glassnet.nn.functional as F

from ..helpers import assert_close, check_grad, parity, torch


# ------------------------------------------------------------------------------ layout
def test_contiguous_copies_only_strided_arrays():
    x = glassnet.ones(2, 3, requires_grad=True)
    assert x.contiguous() is x and x.is_contiguous()
    y = x.t()
    assert not y.is_contiguous()
    z = y.contiguous()
    assert z.is_contiguous() and z.data.flags.c_contiguous and z.shape == (3, 2)
    assert repr(z.grad_fn) == "<CloneBackward0>"
    a = np.random.default_rng(0).standard_normal((3, 4))
    parity(lambda t: t.t().contiguous(), lambda t: t.t().contiguous(), a)
    check_grad(lambda t: t.t().contiguous() * 2, a)


def test_t_and_mT_parity_and_errors():
    r = np.random.default_rng(1)
    for shape in [(), (4,), (2, 3)]:
        parity(lambda t: t.t(), lambda t: t.t(), r.standard_normal(shape))
    parity(lambda t: glassnet.t(t), lambda t: torch.t(t), r.standard_normal((2, 5)))
    parity(lambda t: t.mT, lambda t: t.mT, r.standard_normal((2, 3, 4)))
    check_grad(lambda t: t.mT, r.standard_normal((2, 3, 4)))
    with pytest.raises(ValueError, match=r"t\(\) expects a tensor with <= 2 dimensions, got 3"):
        glassnet.ones(2, 3, 4).t()
    with pytest.raises(ValueError, match="mT needs a matrix.*1-d"):
        glassnet.ones(3).mT


@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3),
    data=st.data(),
)
def test_repeat_parity(shape, data):
    extra = data.draw(st.integers(0, 2))
    reps = tuple(data.draw(st.integers(0, 3)) for _ in range(len(shape) + extra))
    x = np.random.default_rng(len(reps)).standard_normal(shape)
    if reps:  # torch's repeat() with no arguments is an error; repeat(()) is not
        parity(lambda t: t.repeat(*reps), lambda t: t.repeat(*reps), x)
    parity(lambda t: t.repeat(reps), lambda t: t.repeat(reps), x)


def test_repeat_gradcheck_naive_reference_and_errors():
    x = np.random.default_rng(2).standard_normal((2, 3))
    check_grad(lambda t: t.repeat(2, 1, 3), x)
    y = glassnet.tensor(x).repeat(3, 2).data
    naive = np.empty((6, 6))
    for i in range(6):
        for j in range(6):
            naive[i, j] = x[i % 2, j % 3]
    np.testing.assert_array_equal(y, naive)
    with pytest.raises(ValueError, match="at least 2 sizes"):
        glassnet.ones(2, 3).repeat(2)
    with pytest.raises(ValueError, match="non-negative"):
        glassnet.ones(2).repeat(-1)
    with pytest.raises(TypeError, match="int sizes"):
        glassnet.ones(2).repeat(1.5)
    with pytest.raises(TypeError, match="missing the sizes"):
        glassnet.ones(2).repeat()


# ------------------------------------------------------------------------------ masks, logic
@pytest.mark.parametrize("mask_shape", [(3, 4), (4,), (3, 1), (1, 1)])
def test_masked_fill_parity_with_number_and_tensor_value(mask_shape):
    r = np.random.default_rng(3)
    x = r.standard_normal((3, 4))
    m = r.random(mask_shape) > 0.5
    tm = torch.from_numpy(m)
    parity(lambda t: t.masked_fill(m, -1.5), lambda t: t.masked_fill(tm, -1.5), x)
    parity(
        lambda t, v: t.masked_fill(glassnet.tensor(m), v),
        lambda t, v: t.masked_fill(tm, v),
        x,
        np.array(0.25),
    )
    check_grad(lambda t, v: glassnet.masked_fill(t, m, v), x, np.array(0.25))


def test_masked_fill_dtypes_inplace_and_errors():
    ints = glassnet.tensor([1, 1]).masked_fill(glassnet.tensor([True, False]), 2.7)
    assert ints.tolist() == [2, 1] and ints.dtype == np.int64  # as torch: the value is cast
    x = glassnet.tensor([1.0, 2.0, 3.0])
    x.masked_fill_(x > 1.5, 0.0)
    assert x.tolist() == [1.0, 0.0, 0.0]
    with pytest.raises(TypeError, match="boolean mask, got dtype int64"):
        x.masked_fill(glassnet.tensor([1, 0, 1]), 1.0)
    with pytest.raises(
        ValueError, match=r"broadcastable to the tensor's shape \(3,\), got \(2, 3\)"
    ):
        x.masked_fill(np.ones((2, 3), bool), 1.0)
    with pytest.raises(ValueError, match="0-d tensor as value"):
        x.masked_fill(x > 0, glassnet.ones(3))
    with pytest.raises(TypeError, match="number or a 0-d tensor"):
        x.masked_fill(x > 0, "a")


@pytest.mark.parametrize("op", ["any", "all"])
@pytest.mark.parametrize("dim", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_any_all_match_torch(op, dim, keepdim):
    a = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])
    ours = getattr(glassnet.tensor(a), op)(dim, keepdim)
    theirs = getattr(torch.from_numpy(a), op)(dim=dim, keepdim=keepdim)
    assert ours.dtype == np.bool_
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    assert (
        getattr(glassnet, op)(glassnet.tensor(a)).item()
        == getattr(torch, op)(torch.from_numpy(a)).item()
    )


def test_any_all_uint8_and_empty_as_torch():
    u = glassnet.tensor(np.array([0, 3], np.uint8)).any()
    assert u.dtype == np.uint8 and u.item() == 1
    assert glassnet.zeros(0).all().item() is True and glassnet.zeros(0).any().item() is False


def test_one_hot_matches_torch_and_checks_classes():
    idx = np.array([[0, 2], [1, 1]])
    ours = F.one_hot(glassnet.tensor(idx))
    theirs = torch.nn.functional.one_hot(torch.from_numpy(idx))
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(
        F.one_hot(glassnet.tensor(idx), 5).data,
        torch.nn.functional.one_hot(torch.from_numpy(idx), 5).numpy(),
    )
    assert F.one_hot(glassnet.tensor(np.zeros(0, np.int64)), 3).shape == (0, 3)
    with pytest.raises(ValueError, match="non-negative class values"):
        F.one_hot(glassnet.tensor([-1, 0]), 3)
    with pytest.raises(ValueError, match="smaller than num_classes=3, got 3"):
        F.one_hot(glassnet.tensor([3]), 3)
    with pytest.raises(TypeError, match="integer tensor of class indices, got dtype float32"):
        F.one_hot(glassnet.tensor([1.0]))
    with pytest.raises(ValueError, match="cannot infer num_classes from an empty tensor"):
        F.one_hot(glassnet.tensor(np.zeros(0, np.int64)))


# ------------------------------------------------------------------------------ norms
NORM_PS = [2, 1, math.inf, -math.inf, 0, 3, 0.5, -1.5, "fro"]


@pytest.mark.parametrize("p", NORM_PS)
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2), ()])
@pytest.mark.parametrize("keepdim", [False, True])
def test_norm_parity(p, dim, keepdim):
    x = np.random.default_rng(4).standard_normal((3, 2, 4))
    parity(
        lambda t: t.norm(p=p, dim=dim, keepdim=keepdim),
        lambda t: t.norm(p=p, dim=dim, keepdim=keepdim),
        x,
        rtol=1e-9,
    )


@pytest.mark.parametrize("p", [2, 1, math.inf, -math.inf, 3, 0.5, -1.5])
def test_vector_norm_matches_torch_linalg_with_zeros_and_ties(p):
    from glassnet.ops.vector_norm import vector_norm

    x = np.array([[3.0, -3.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0], [2.0, -2.0, 0.5, 2.0]])
    parity(
        lambda t: vector_norm(t, p, dim=1),
        lambda t: torch.linalg.vector_norm(t, ord=p, dim=1),
        x,
    )


@pytest.mark.parametrize("p", [2, 1, math.inf, -math.inf, 3, 0.5, -1.5, 0])
def test_norm_gradcheck(p):
    x = np.random.default_rng(5).standard_normal((3, 4))
    check_grad(lambda t: t.norm(p=p, dim=1, keepdim=True), x)
    check_grad(lambda t: glassnet.norm(t, p), x)


def test_norm_naive_reference_and_errors():
    x = np.random.default_rng(6).standard_normal((2, 5))
    ours = glassnet.tensor(x).norm(p=3, dim=1).data
    naive = [sum(abs(v) ** 3 for v in row) ** (1 / 3) for row in x]
    np.testing.assert_allclose(ours, naive, rtol=1e-12)
    assert glassnet.tensor(x).norm(dtype=np.float64).dtype == np.float64
    with pytest.raises(TypeError, match="floating-point tensor, got dtype int64"):
        glassnet.tensor([1, 2]).norm()
    with pytest.raises(NotImplementedError, match="nuclear norm"):
        glassnet.ones(2, 2).norm(p="nuc")
    with pytest.raises(ValueError, match="'fro'.*one or two dimensions"):
        glassnet.ones(2, 2, 2).norm(p="fro", dim=(0, 1, 2))
    with pytest.raises(ValueError, match="expected p to be a number"):
        glassnet.ones(2).norm(p="max")
    with pytest.raises(ValueError, match="empty dimension"):
        glassnet.ones(0, 3).norm(p=math.inf, dim=0)
    assert glassnet.ones(0, 3).norm(p=math.inf, dim=1).shape == (0,)


# ------------------------------------------------------------------------------ bmm, einsum
def test_bmm_parity_gradcheck_and_errors():
    r = np.random.default_rng(7)
    a, b = r.standard_normal((3, 2, 4)), r.standard_normal((3, 4, 5))
    parity(glassnet.bmm, torch.bmm, a, b)
    parity(lambda x, y: x.bmm(y), lambda x, y: x.bmm(y), a, b)
    check_grad(glassnet.bmm, a, b)
    with pytest.raises(ValueError, match=r"input to be 3-d \(B, N, K\), got \(2, 3\)"):
        glassnet.bmm(glassnet.ones(2, 3), glassnet.ones(2, 3, 4))
    with pytest.raises(ValueError, match=r"mat2 of shape \(2, 3, M\).*got \(3, 3, 2\)"):
        glassnet.bmm(glassnet.ones(2, 2, 3), glassnet.ones(3, 3, 2))


EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->i", [(2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("i,j->ij", [(2,), (3,)]),
    ("...ij,...jk->...ik", [(1, 2, 3), (4, 3, 2)]),
    ("i,i->", [(1,), (5,)]),
    ("ij,ij->ij", [(2, 3), (1, 3)]),
    ("iij->ji", [(3, 3, 2)]),
    ("ba,cb", [(2, 3), (4, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("bi,...->b...", [(2, 3), (4,)]),
    ("Ab,bC->AC", [(2, 3), (3, 4)]),
    ("i j -> j i", [(2, 3)]),
    ("...", [(2, 3)]),
    ("i...->...", [(2, 3)]),
    ("ijk,ikj->i", [(2, 3, 4), (2, 4, 3)]),
    ("iji,j->ij", [(2, 3, 2), (3,)]),
]


@pytest.mark.parametrize("eq, shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_parity_and_gradcheck(eq, shapes):
    r = np.random.default_rng(8)
    xs = [r.standard_normal(s) for s in shapes]
    parity(lambda *ts: glassnet.einsum(eq, *ts), lambda *ts: torch.einsum(eq, *ts), *xs, rtol=1e-9)
    check_grad(lambda *ts: glassnet.einsum(eq, *ts), *xs)


@st.composite
def einsum_problems(draw):
    """Two operands over labels a-d, with repeats (diagonals), size-1 broadcasting and labels
    that are summed away in one operand only."""
    sizes = {c: draw(st.integers(1, 3)) for c in "abcd"}
    terms = [draw(st.lists(st.sampled_from("abcd"), min_size=1, max_size=3)) for _ in range(2)]
    used = sorted(set(terms[0]) | set(terms[1]))
    out = draw(st.permutations(used))[: draw(st.integers(0, len(used)))]
    shapes = []
    for term in terms:
        shape = []
        for pos, c in enumerate(term):
            first = term.index(c) == pos
            # a label's first occurrence may shrink to 1 (broadcast); repeats must match it
            shrink = first and draw(st.booleans())
            shape.append(1 if shrink else sizes[c])
        for pos, c in enumerate(term):  # repeated labels share the first occurrence's size
            shape[pos] = shape[term.index(c)]
        shapes.append(tuple(shape))
    eq = ",".join("".join(t) for t in terms) + "->" + "".join(out)
    return eq, shapes, draw(st.integers(0, 2**16))


@given(problem=einsum_problems())
def test_einsum_hypothesis_parity_and_adjoint(problem):
    eq, shapes, seed = problem
    r = np.random.default_rng(seed)
    a, b = (r.standard_normal(s) for s in shapes)
    parity(lambda x, y: glassnet.einsum(eq, x, y), lambda x, y: torch.einsum(eq, x, y), a, b)
    # bilinear: <einsum(a, b), dy> = <a, da> = <b, db>
    ta = glassnet.tensor(a, requires_grad=True)
    tb = glassnet.tensor(b, requires_grad=True)
    y = glassnet.einsum(eq, ta, tb)
    dy = r.standard_normal(y.shape)
    y.backward(dy)
    inner = float((y.data * dy).sum())
    assert np.isclose(float((ta.grad.data * a).sum()), inner, rtol=1e-9, atol=1e-9)
    assert np.isclose(float((tb.grad.data * b).sum()), inner, rtol=1e-9, atol=1e-9)


def test_einsum_list_form_dtype_and_errors():
    a, b = glassnet.ones(2, 3), glassnet.ones(3, 4, dtype=np.float64)
    y = glassnet.einsum("ij,jk", [a, b])
    assert y.shape == (2, 4) and y.dtype == np.float64  # promotes as torch
    assert_close(y, np.full((2, 4), 3.0))
    cases = [
        ("ij,jk", [glassnet.ones(2, 3)], "2 operand"),
        (
            "ij",
            [glassnet.ones(2, 3, 4)],
            r"names 2 dimensions but the tensor has shape \(2, 3, 4\)",
        ),
        ("ij,jk", [glassnet.ones(2, 3), glassnet.ones(4, 4)], "'j' has size 4"),
        ("i->ii", [glassnet.ones(2)], "appears more than once"),
        ("i->j", [glassnet.ones(2)], "appears in no operand"),
        ("i1", [glassnet.ones(2, 2)], "must be letters"),
    ]
    for eq, ops, msg in cases:
        with pytest.raises(ValueError, match=msg):
            glassnet.einsum(eq, *ops)
    with pytest.raises(TypeError, match="equation string first"):
        glassnet.einsum(glassnet.ones(2), "i")
