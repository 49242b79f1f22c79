"""Reductions, shape ops, matmul and indexing: gradcheck and PyTorch parity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassnet
import glassnet.nn.functional as F

from ..helpers import assert_close, check_grad, parity, torch


@st.composite
def shape_and_dims(draw, min_dims=1):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=4, max_side=4))
    dims = draw(
        st.lists(st.integers(0, len(shape) - 1), unique=True, min_size=1, max_size=len(shape))
    )
    neg = draw(st.booleans())
    dims = [d - len(shape) if neg else d for d in dims]
    return shape, dims, draw(st.booleans()), draw(st.integers(0, 2**16))


@given(sdk=shape_and_dims())
def test_sum_mean_var_parity(sdk):
    shape, dims, keep, seed = sdk
    x = np.random.default_rng(seed).standard_normal(shape)
    parity(lambda t: t.sum(dims, keepdim=keep), lambda t: t.sum(dims, keepdim=keep), x, seed=seed)
    parity(lambda t: t.mean(dims, keepdim=keep), lambda t: t.mean(dims, keepdim=keep), x, seed=seed)
    if int(np.prod([shape[d] for d in dims])) > 1:
        parity(
            lambda t: t.var(dims, keepdim=keep),
            lambda t: t.var(dims, keepdim=keep),
            x,
            seed=seed,
        )
        parity(
            lambda t: t.std(dims, correction=0),
            lambda t: t.std(dims, correction=0),
            x,
            seed=seed,
        )


def test_full_reductions():
    x = np.random.default_rng(0).standard_normal((3, 4))
    parity(lambda t: t.sum(), lambda t: t.sum(), x)
    parity(lambda t: t.mean(), lambda t: t.mean(), x)
    parity(lambda t: t.max(), lambda t: t.max(), x)
    parity(lambda t: t.min(), lambda t: t.min(), x)


@given(sdk=shape_and_dims(), largest=st.booleans())
def test_max_min_along_dim_parity(sdk, largest):
    shape, dims, keep, seed = sdk
    x = np.random.default_rng(seed).standard_normal(shape)
    d = dims[0]
    op = "max" if largest else "min"
    ours = lambda t: tuple(getattr(t, op)(d, keep))  # noqa: E731
    theirs = lambda t: tuple(getattr(t, op)(d, keep))  # noqa: E731
    parity(ours, theirs, x, seed=seed)


def test_max_ties_share_gradient_evenly_in_full_reduction():
    x = np.array([[1.0, 3.0], [3.0, 0.0]])
    parity(lambda t: t.max(), lambda t: t.max(), x)
    parity(lambda t: t.amax(1), lambda t: t.amax(1), x)
    parity(lambda t: t.amin(0, keepdim=True), lambda t: t.amin(0, keepdim=True), x)


def test_argmax():
    x = glassnet.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 1.0]])
    assert x.argmax().item() == 3
    np.testing.assert_array_equal(x.argmax(1).data, [1, 0])
    np.testing.assert_array_equal(x.argmin(0, keepdim=True).data, [[0, 1, 1]])


@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), data=st.data())
def test_permute_reshape_squeeze_parity(shape, data):
    x = np.random.default_rng(0).standard_normal(shape)
    perm = data.draw(st.permutations(range(len(shape))))
    parity(lambda t: t.permute(*perm), lambda t: t.permute(*perm), x)
    parity(lambda t: t.reshape(-1), lambda t: t.reshape(-1), x)
    parity(lambda t: t.T if t.ndim == 2 else t, lambda t: t.T if t.ndim == 2 else t, x)
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    parity(lambda t: t.transpose(0, d), lambda t: t.transpose(0, d), x)
    parity(lambda t: t.unsqueeze(d).squeeze(), lambda t: t.unsqueeze(d).squeeze(), x)
    parity(
        lambda t: t.flatten(1) if t.ndim > 1 else t, lambda t: t.flatten(1) if t.ndim > 1 else t, x
    )


def test_expand_parity():
    x = np.random.default_rng(0).standard_normal((3, 1))
    parity(lambda t: t.expand(2, 3, 4), lambda t: t.expand(2, 3, 4), x)
    parity(lambda t: t.expand(-1, 5), lambda t: t.expand(-1, 5), x)


@given(n=st.integers(1, 4), dim=st.integers(0, 2), seed=st.integers(0, 100))
def test_cat_stack_split_parity(n, dim, seed):
    r = np.random.default_rng(seed)
    sizes = r.integers(1, 4, n)
    arrays = []
    for s in sizes:
        shape = [2, 3, 2]
        shape[dim] = int(s)
        arrays.append(r.standard_normal(shape))
    parity(lambda *ts: glassnet.cat(ts, dim), lambda *ts: torch.cat(ts, dim), *arrays, seed=seed)
    same = [r.standard_normal((2, 3)) for _ in range(n)]
    parity(lambda *ts: glassnet.stack(ts, dim), lambda *ts: torch.stack(ts, dim), *same, seed=seed)
    total = int(sizes.sum())
    x = r.standard_normal((total, 3))
    parity(lambda t: t.split(2), lambda t: t.split(2), x, seed=seed)
    parity(
        lambda t: t.split(list(map(int, sizes))),
        lambda t: t.split(list(map(int, sizes))),
        x,
        seed=seed,
    )
    parity(lambda t: t.chunk(3), lambda t: t.chunk(3), x, seed=seed)


def test_getitem_parity_basic_and_advanced():
    x = np.random.default_rng(0).standard_normal((4, 5, 3))
    parity(lambda t: t[1:3, ::2], lambda t: t[1:3, ::2], x)
    parity(lambda t: t[..., 0], lambda t: t[..., 0], x)
    parity(lambda t: t[None, 2], lambda t: t[None, 2], x)
    idx = np.array([0, 2, 2, 3])  # repeated indices accumulate
    parity(lambda t: t[idx], lambda t: t[torch.from_numpy(idx)], x)
    mask = x[:, :, 0] > 0
    parity(lambda t: t[mask], lambda t: t[torch.from_numpy(mask)], x)


@given(
    shapes=st.sampled_from(
        [
            ((3,), (3,)),
            ((2, 3), (3,)),
            ((3,), (3, 4)),
            ((2, 3), (3, 4)),
            ((5, 2, 3), (3, 4)),
            ((2, 3), (5, 3, 4)),
            ((5, 1, 2, 3), (4, 3, 2)),
            ((1, 2, 3), (6, 3, 1)),
        ]
    ),
    seed=st.integers(0, 2**16),
)
def test_matmul_parity(shapes, seed):
    r = np.random.default_rng(seed)
    a, b = r.standard_normal(shapes[0]), r.standard_normal(shapes[1])
    parity(lambda x, y: x @ y, lambda x, y: x @ y, a, b, seed=seed)


def test_matmul_gradcheck_and_errors():
    r = np.random.default_rng(0)
    check_grad(lambda a, b: a @ b, r.standard_normal((2, 3, 4)), r.standard_normal((4, 2)))
    with pytest.raises(ValueError, match=r"matmul shape mismatch: \(2, 3\) @ \(4, 5\)"):
        glassnet.ones(2, 3) @ glassnet.ones(4, 5)


def test_linear_functional_parity_and_gradcheck():
    r = np.random.default_rng(0)
    x, w, b = r.standard_normal((2, 3, 4)), r.standard_normal((5, 4)), r.standard_normal(5)
    parity(F.linear, torch.nn.functional.linear, x, w, b)
    check_grad(F.linear, x, w, b)
    with pytest.raises(ValueError, match=r"expected input of shape \(\*, 4\).*got \(2, 3\)"):
        F.linear(glassnet.ones(2, 3), glassnet.ones(5, 4))


def test_reshape_errors():
    with pytest.raises(ValueError, match=r"cannot reshape a tensor of shape \(2, 3\) to \(4, 2\)"):
        glassnet.ones(2, 3).reshape(4, 2)
    with pytest.raises(IndexError, match="out of range"):
        glassnet.ones(2, 3).sum(2)
    with pytest.raises(ValueError, match="stack expected tensors of equal shape"):
        glassnet.stack([glassnet.ones(2), glassnet.ones(3)])
    with pytest.raises(ValueError, match="cat expected tensors matching"):
        glassnet.cat([glassnet.ones(2, 2), glassnet.ones(3, 3)])


def test_shape_op_gradchecks():
    r = np.random.default_rng(0)
    x = r.standard_normal((3, 4))
    check_grad(lambda t: t.permute(1, 0).reshape(2, 6)[:, 1:4], x)
    check_grad(lambda t: glassnet.cat(t.split([1, 3], dim=1)[::-1], 1), x)
    check_grad(lambda t: F.pad(t.unsqueeze(0), (2, 1), mode="reflect"), x)
    check_grad(lambda t: F.pad(t.unsqueeze(0), (2, 3), mode="circular"), x)
    check_grad(lambda t: F.pad(t.unsqueeze(0), (3, 2), mode="replicate"), x)
    check_grad(lambda t: t.max(1).values * t.var(0).sum(), x)
    assert_close(glassnet.tensor(x).clone(), x)


@pytest.mark.parametrize(
    "name", ["sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin"]
)
def test_reductions_take_numpys_axis_and_keepdims_as_pytorch(name):
    """``x.sum(axis=1)``, ``x.mean(axis=0, keepdims=True)``: PyTorch accepts NumPy's names on
    exactly these reductions (checked against torch 2.13); glassnet does too, as methods and
    as functions."""
    a = np.random.default_rng(0).standard_normal((3, 4, 2))
    x, t = glassnet.tensor(a), torch.from_numpy(a)
    for kw in ({"axis": 1}, {"axis": 1, "keepdims": True}, {"dim": 2, "keepdims": True}):
        want = getattr(t, name)(**kw)
        for got in (getattr(x, name)(**kw), getattr(glassnet, name)(x, **kw)):
            if isinstance(got, tuple):  # max/min along a dim: (values, indices)
                assert_close(got.values, want.values)
                assert_close(got.indices, want.indices)
            else:
                assert_close(got, want)
    with pytest.raises(TypeError, match="both dim and axis"):
        getattr(x, name)(1, axis=1)
    with pytest.raises(TypeError, match="both keepdim and keepdims"):
        getattr(x, name)(axis=1, keepdim=True, keepdims=True)
