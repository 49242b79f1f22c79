"""gather, scatter and scatter_add (issue 21): float64 gradcheck with a random upstream gradient,
PyTorch parity of values and gradients, hypothesis over shapes, dims and indices (the adjoint
identity of gather and scatter_add), naive loops, and errors naming the argument."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassnet

from ..helpers import check_grad, parity, torch


@st.composite
def index_problems(draw, distinct=False):
    """(input shape, dim, index) with index no larger than the input off ``dim``; ``distinct``:
    no place named twice (so scatter is deterministic)."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    d = dim % len(shape)
    ishape = [draw(st.integers(0 if k != d else 1, n)) for k, n in enumerate(shape)]
    r = np.random.default_rng(draw(st.integers(0, 2**16)))
    if distinct:
        ishape[d] = draw(st.integers(1, shape[d]))
        # along dim, each column of the index is a partial permutation of range(shape[d])
        order = np.argsort(r.random((*ishape[:d], shape[d], *ishape[d + 1 :])), axis=d)
        index = np.take(order, np.arange(ishape[d]), axis=d)
    else:
        ishape[d] = draw(st.integers(0, 5))
        index = r.integers(0, shape[d], ishape)
    return tuple(shape), dim, index.astype(np.int64), r


# ------------------------------------------------------------------------------ gather
GATHER_CASES = [(1, [[0, 2, 2], [1, 1, 3], [3, 0, 0]]), (0, [[2, 0, 1, 1]]), (1, [[3], [0]])]


@pytest.mark.parametrize("dim, index", GATHER_CASES)
def test_gather_parity_gradcheck_and_naive_loop(dim, index):
    x = np.random.default_rng(0).standard_normal((3, 4))
    index = np.array(index)
    ti = torch.from_numpy(index)
    parity(lambda t: t.gather(dim, glassnet.tensor(index)), lambda t: t.gather(dim, ti), x)
    parity(lambda t: glassnet.gather(t, dim, index), lambda t: torch.gather(t, dim, ti), x)
    check_grad(lambda t: t.gather(dim, glassnet.tensor(index)), x)
    y = glassnet.tensor(x).gather(dim, glassnet.tensor(index)).data
    for i, j in itertools.product(*map(range, index.shape)):
        expect = x[index[i, j], j] if dim == 0 else x[i, index[i, j]]
        assert y[i, j] == expect


@given(problem=index_problems())
def test_gather_hypothesis_parity_and_adjoint_of_scatter_add(problem):
    shape, dim, index, r = problem
    x = r.standard_normal(shape)
    ti = torch.from_numpy(index)
    parity(lambda t: t.gather(dim, index), lambda t: t.gather(dim, ti), x)
    # <gather(x), v> = <x, scatter_add(0, v)>: the gradient of gather is a scatter-add
    v = r.standard_normal(index.shape)
    lhs = (glassnet.tensor(x).gather(dim, index).data * v).sum()
    sa = glassnet.zeros(*shape, dtype=np.float64).scatter_add(dim, index, glassnet.tensor(v))
    assert np.isclose(lhs, (x * sa.data).sum(), rtol=1e-10, atol=1e-10)


def test_gather_0d_and_index_dtypes_as_torch():
    assert glassnet.gather(glassnet.tensor(2.0), 0, glassnet.tensor([0])).tolist() == [2.0]
    assert glassnet.gather(glassnet.tensor([2.0]), 0, glassnet.tensor(0)).shape == ()
    x = glassnet.tensor([[1.0, 2.0]])
    for dt in (np.int32, np.uint8):  # torch takes int32/int64; glassnet any integer dtype
        assert x.gather(1, np.array([[1]], dt)).item() == 2.0
    assert x.gather(1, np.zeros((0, 1), np.int64)).shape == (0, 1)


def test_gather_errors_name_the_argument():
    x = glassnet.ones(3, 4)
    with pytest.raises(IndexError, match="index 4 is out of bounds for dim 1 of size 4"):
        x.gather(1, glassnet.tensor([[0, 4]]))
    with pytest.raises(IndexError, match="index -1 is out of bounds"):
        x.gather(1, glassnet.tensor([[0, -1]]))
    with pytest.raises(ValueError, match=r"as many dimensions as the input \(2\), got 3"):
        x.gather(1, glassnet.tensor([[[0]]]))
    with pytest.raises(
        ValueError, match=r"no larger than the input apart from dim 1: index \(4, 1\)"
    ):
        x.gather(1, glassnet.zeros(4, 1, dtype=np.int64))
    with pytest.raises(TypeError, match="integer tensor, got dtype float32"):
        x.gather(1, glassnet.tensor([[0.0]]))
    with pytest.raises(TypeError, match="integer tensor, got list"):
        x.gather(1, [[0]])
    with pytest.raises(IndexError, match="dim=2 is out of range"):
        x.gather(2, glassnet.tensor([[0]]))


# ------------------------------------------------------------------------------ scatter
def test_scatter_parity_gradcheck_with_src_and_value():
    r = np.random.default_rng(1)
    x = r.standard_normal((3, 4))
    index = np.array([[0, 2], [3, 1]])  # distinct places in every row
    ti = torch.from_numpy(index)
    src = r.standard_normal((2, 2))
    parity(
        lambda t, s: t.scatter(1, glassnet.tensor(index), s),
        lambda t, s: t.scatter(1, ti, s),
        x,
        src,
    )
    parity(
        lambda t: glassnet.scatter(t, 1, index, value=-2.5),
        lambda t: torch.scatter(t, 1, ti, value=-2.5),
        x,
    )
    parity(lambda t: t.scatter(1, index, 7.0), lambda t: t.scatter(1, ti, 7.0), x)
    check_grad(lambda t, s: t.scatter(1, glassnet.tensor(index), s), x, src)
    check_grad(lambda t: glassnet.scatter(t, 0, np.array([[0, 2], [2, 1]]), 0.5), x)


@given(problem=index_problems(distinct=True))
def test_scatter_hypothesis_parity(problem):
    shape, dim, index, r = problem
    x = r.standard_normal(shape)
    src = r.standard_normal(index.shape)
    ti = torch.from_numpy(index)
    parity(lambda t, s: t.scatter(dim, index, s), lambda t, s: t.scatter(dim, ti, s), x, src)


def test_scatter_larger_src_gets_a_zero_padded_gradient():
    # torch's backward fails here ("invalid gradient at index 1 - got [2, 2] but expected shape
    # compatible with [4, 5]"); glassnet gives the leading part dy gathered, zeros elsewhere
    r = np.random.default_rng(2)
    x, src = r.standard_normal((3, 4)), r.standard_normal((4, 5))
    index = np.array([[0, 2], [1, 0]])
    ours = glassnet.tensor(x).scatter(1, index, glassnet.tensor(src))
    theirs = torch.from_numpy(x).scatter(1, torch.from_numpy(index), torch.from_numpy(src))
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    for fn in (glassnet.scatter, glassnet.scatter_add):
        check_grad(lambda t, s, fn=fn: fn(t, 1, index, s), x, src)
        s = glassnet.tensor(src, requires_grad=True)
        dy = r.standard_normal((3, 4))
        fn(glassnet.tensor(x), 1, index, s).backward(dy)
        expect = np.zeros((4, 5))
        expect[:2, :2] = np.take_along_axis(dy[:2], index, axis=1)
        np.testing.assert_array_equal(s.grad.data, expect)


def test_scatter_inplace_one_hot_and_value_cast():
    z = glassnet.zeros(3, 4).scatter_(1, glassnet.tensor([[1], [3], [0]]), 1.0)
    assert z.tolist() == [[0, 1, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0]]
    ints = glassnet.tensor([1, 2]).scatter(0, glassnet.tensor([1]), 7.5)
    assert ints.tolist() == [1, 7] and ints.dtype == np.int64  # cast to input's dtype, as torch
    p = glassnet.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="scatter_: in-place change of a leaf"):
        p.scatter_(0, glassnet.tensor([0]), 0.0)


def test_scatter_errors_name_the_argument():
    x = glassnet.zeros(3, 4, dtype=np.float64)
    idx = glassnet.tensor([[0, 1], [1, 0]])
    with pytest.raises(TypeError, match="src of the input's dtype float64, got float32"):
        x.scatter(1, idx, glassnet.ones(2, 2))
    with pytest.raises(ValueError, match=r"no smaller than it: index \(2, 2\), src \(1, 1\)"):
        x.scatter(1, idx, glassnet.ones(1, 1, dtype=np.float64))
    with pytest.raises(TypeError, match="one of src .* and value, got neither"):
        x.scatter(1, idx)
    with pytest.raises(TypeError, match="got both"):
        x.scatter(1, idx, 1.0, value=2.0)
    with pytest.raises(TypeError, match="tensor or a number, got str"):
        x.scatter(1, idx, "a")
    with pytest.raises(IndexError, match="index 3 is out of bounds for dim 0 of size 3"):
        x.scatter(0, glassnet.tensor([[3]]), 1.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'reduce'"):
        x.scatter(1, idx, 1.0, reduce="add")


# ------------------------------------------------------------------------------ scatter_add
@given(problem=index_problems())
def test_scatter_add_hypothesis_parity_with_repeated_places(problem):
    shape, dim, index, r = problem
    x, src = r.standard_normal(shape), r.standard_normal(index.shape)
    ti = torch.from_numpy(index)
    parity(
        lambda t, s: t.scatter_add(dim, index, s),
        lambda t, s: t.scatter_add(dim, ti, s),
        x,
        src,
    )


def test_scatter_add_gradcheck_counts_and_inplace():
    r = np.random.default_rng(3)
    index = np.array([[0, 0, 2], [1, 1, 1]])
    check_grad(
        lambda t, s: t.scatter_add(1, index, s),
        r.standard_normal((2, 3)),
        r.standard_normal((2, 3)),
    )
    counts = glassnet.zeros(4, dtype=np.int64)
    counts.scatter_add_(0, glassnet.tensor([3, 0, 3, 3]), glassnet.ones(4, dtype=np.int64))
    assert counts.tolist() == [1, 0, 0, 3] and counts.dtype == np.int64
    with pytest.raises(TypeError, match="src of the input's dtype int64, got float32"):
        counts.scatter_add(0, glassnet.tensor([0]), glassnet.ones(1))
