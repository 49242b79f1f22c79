"""sort, argsort, topk, flip and cumsum (issue 21): float64 gradcheck with a random upstream
gradient, PyTorch parity of values, indices and gradients (ties against ``stable=True``),
hypothesis over shapes, dims and options, naive references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassnet

from ..helpers import assert_close, check_grad, parity, torch

SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5)


def ties(shape, seed=0, values=3):
    """float64 values drawn from a few integers: many ties."""
    return np.random.default_rng(seed).integers(0, values, shape).astype(np.float64)


# ------------------------------------------------------------------------------ sort, argsort
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_parity_values_indices_and_gradient(dim, descending):
    x = np.random.default_rng(0).standard_normal((4, 6))
    parity(
        lambda t: tuple(t.sort(dim, descending)),
        lambda t: tuple(torch.sort(t, dim, descending)),
        x,
    )
    parity(
        lambda t: tuple(glassnet.sort(t, dim=dim, descending=descending)),
        lambda t: tuple(torch.sort(t, dim=dim, descending=descending, stable=True)),
        ties((4, 6)),
    )
    check_grad(lambda t: t.sort(dim, descending).values, x)


@pytest.mark.parametrize("n", [5, 17, 40])  # torch's unstable sort reorders ties from 17 on
@pytest.mark.parametrize("descending", [False, True])
def test_ties_keep_index_order_as_torch_stable_sort(n, descending):
    x = ties((3, n), seed=n)
    parity(
        lambda t: tuple(t.sort(descending=descending)),
        lambda t: tuple(t.sort(descending=descending, stable=True)),
        x,
    )
    ours = glassnet.tensor(x).argsort(descending=descending).data
    theirs = torch.argsort(torch.from_numpy(x), descending=descending, stable=True).numpy()
    np.testing.assert_array_equal(ours, theirs)
    # naive reference: Python's sorted() is stable
    sign = -1 if descending else 1
    for row, idx in zip(x, ours):
        assert idx.tolist() == sorted(range(n), key=lambda i, row=row: sign * row[i])


def test_sort_nan_and_inf_order_as_torch():
    x = np.array([np.nan, 1.0, np.inf, -np.inf, 0.0, np.nan, 1.0])
    for descending in (False, True):
        ours = glassnet.tensor(x).sort(descending=descending)
        theirs = torch.from_numpy(x).sort(descending=descending, stable=True)
        np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
    top = glassnet.tensor(x).topk(2)
    assert np.isnan(top.values.data).all() and top.indices.tolist() == [0, 5]


@given(shape=SHAPES, data=st.data())
def test_sort_hypothesis_parity_with_ties(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    descending = data.draw(st.booleans())
    x = ties(shape, seed=data.draw(st.integers(0, 2**16)), values=data.draw(st.integers(1, 4)))
    parity(
        lambda t: tuple(t.sort(dim, descending)),
        lambda t: tuple(t.sort(dim=dim, descending=descending, stable=True)),
        x,
    )


def test_sort_of_integers_bools_and_0d_tensors():
    b = np.array([True, False, True])
    ours, theirs = (
        glassnet.tensor(b).sort(descending=True),
        torch.from_numpy(b).sort(descending=True, stable=True),
    )
    assert ours.values.dtype == np.bool_ and ours.indices.dtype == np.int64
    np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
    i = glassnet.tensor([[3, 1, 2]]).sort(1)
    assert i.values.tolist() == [[1, 2, 3]] and i.indices.tolist() == [[1, 2, 0]]
    z = glassnet.tensor(2.5, requires_grad=True).sort()
    assert z.values.shape == () and z.indices.item() == 0
    assert glassnet.tensor(2.5).argsort().shape == ()
    assert repr(z.values.grad_fn) == "<SortBackward0>" and z.indices.grad_fn is None


def test_sort_errors_name_the_argument():
    x = glassnet.ones(2, 3)
    with pytest.raises(IndexError, match="dim=2 is out of range"):
        x.sort(2)
    with pytest.raises(TypeError, match="True or False for descending"):
        x.sort(0, "yes")
    with pytest.raises(TypeError, match="input to be a Tensor, got list"):
        glassnet.sort([1.0, 2.0])


def test_sort_indices_saved_for_backward_are_guarded():
    x = glassnet.tensor([2.0, 1.0], requires_grad=True)
    values, indices = x.sort()
    with glassnet.no_grad():
        indices.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        values.sum().backward()


# ------------------------------------------------------------------------------ topk
@pytest.mark.parametrize("k", [0, 1, 3, 6])
@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_parity(k, dim, largest):
    x = np.random.default_rng(1).standard_normal((6, 6))
    parity(
        lambda t: tuple(t.topk(k, dim, largest)),
        lambda t: tuple(t.topk(k, dim, largest)),
        x,
    )
    if k:
        check_grad(lambda t: glassnet.topk(t, k, dim=dim, largest=largest).values, x)


@given(shape=SHAPES, data=st.data())
def test_topk_with_ties_is_the_head_of_torchs_stable_sort(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    k = data.draw(st.integers(0, shape[dim]))
    largest = data.draw(st.booleans())
    x = ties(shape, seed=data.draw(st.integers(0, 2**16)))
    ours = glassnet.tensor(x).topk(k, dim, largest)
    tx = torch.from_numpy(x)
    theirs = torch.topk(tx, k, dim, largest)  # same values; torch orders ties its own way
    np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
    head = torch.sort(tx, dim=dim, descending=largest, stable=True).indices.narrow(dim, 0, k)
    np.testing.assert_array_equal(ours.indices.data, head.numpy())
    # the gradient of the values goes to the chosen places: <values, dv> = <x, dx>
    t = glassnet.tensor(x, requires_grad=True)
    v = t.topk(k, dim, largest).values
    dv = np.random.default_rng(0).standard_normal(v.shape)
    v.backward(dv)
    assert np.isclose((v.data * dv).sum(), (x * t.grad.data).sum(), rtol=1e-12, atol=1e-12)


def test_topk_sorted_false_options_0d_and_errors():
    x = glassnet.tensor([1.0, 3.0, 3.0, 2.0, 3.0])
    assert x.topk(3, sorted=False).indices.tolist() == [1, 2, 4]
    assert x.topk(2, largest=False).indices.tolist() == [0, 3]
    r = glassnet.topk(glassnet.tensor(3.0), 1)
    assert r.values.shape == () and r.indices.item() == 0
    assert type(r).__name__ == "TopkResult" and r._fields == ("values", "indices")
    with pytest.raises(ValueError, match=r"k in \[0, 5\].*got 6"):
        x.topk(6)
    with pytest.raises(ValueError, match="got -1"):
        x.topk(-1)
    with pytest.raises(TypeError, match="int k, got float"):
        x.topk(2.0)
    with pytest.raises(TypeError, match="True or False for largest"):
        x.topk(2, largest=None)


# ------------------------------------------------------------------------------ flip
@pytest.mark.parametrize("dims", [(0,), (1,), (-1,), (0, 2), (2, 0, 1), ()])
def test_flip_parity_and_gradcheck(dims):
    x = np.random.default_rng(2).standard_normal((2, 3, 4))
    parity(lambda t: t.flip(dims), lambda t: t.flip(dims), x)
    parity(lambda t: glassnet.flip(t, list(dims)), lambda t: torch.flip(t, list(dims)), x)
    check_grad(lambda t: glassnet.flip(t, dims), x)


def test_flip_forms_copy_and_errors():
    x = glassnet.arange(6).reshape(2, 3)
    assert x.flip(0, 1).tolist() == [[5, 4, 3], [2, 1, 0]]
    assert x.flip([1]).tolist() == x.flip(dims=(1,)).tolist() == [[2, 1, 0], [5, 4, 3]]
    y = x.flip(0)
    y[0, 0] = 100  # a copy, as torch.flip
    assert x[1, 0].item() == 3
    assert glassnet.tensor(3.0).flip(0).item() == 3.0
    with pytest.raises(TypeError, match=r"tuple or list of ints, got the int 0.*x\.flip\(0\)"):
        glassnet.flip(x, 0)
    with pytest.raises(ValueError, match="names a dimension twice"):
        x.flip(0, 0)
    with pytest.raises(IndexError, match="dim=2 is out of range"):
        x.flip(2)
    with pytest.raises(TypeError, match="missing the dims"):
        x.flip()


# ------------------------------------------------------------------------------ cumsum
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum_parity_and_gradcheck(dim):
    x = np.random.default_rng(3).standard_normal((3, 5))
    parity(lambda t: t.cumsum(dim), lambda t: t.cumsum(dim), x)
    parity(lambda t: glassnet.cumsum(t, dim=dim), lambda t: torch.cumsum(t, dim=dim), x)
    check_grad(lambda t: t.cumsum(dim), x)


@given(shape=SHAPES, data=st.data())
def test_cumsum_hypothesis_adjoint_and_naive(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    r = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = r.standard_normal(shape)
    t = glassnet.tensor(x, requires_grad=True)
    y = t.cumsum(dim)
    naive = np.stack(
        [np.take(x, range(i + 1), axis=dim).sum(axis=dim) for i in range(shape[dim])], axis=dim
    )
    assert_close(y, naive, rtol=1e-12, atol=1e-12)
    dy = r.standard_normal(shape)
    y.backward(dy)  # linear: <cumsum(x), dy> = <x, dx>
    assert np.isclose((y.data * dy).sum(), (x * t.grad.data).sum(), rtol=1e-10, atol=1e-10)


def test_cumsum_dtypes_as_torch():
    for dt in (np.int32, np.uint8, np.bool_):
        a = np.array([1, 1, 0], dtype=dt)
        ours, theirs = glassnet.tensor(a).cumsum(0), torch.from_numpy(a).cumsum(0)
        assert ours.dtype == np.int64 and theirs.dtype == torch.int64
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    f = glassnet.ones(3, requires_grad=True)
    y = f.cumsum(0, dtype=glassnet.float64)
    assert y.dtype == np.float64
    y.backward(np.arange(3.0))
    assert f.grad.dtype == np.float32 and f.grad.tolist() == [3.0, 3.0, 2.0]
    assert glassnet.tensor(2.0).cumsum(0).shape == ()
    with pytest.raises(IndexError, match="dim=2 is out of range"):
        glassnet.ones(2, 2).cumsum(2)


NEW_FUNCTIONS = [
    "sort", "argsort", "topk", "flip", "cumsum", "gather", "scatter", "scatter_add",
    "multinomial", "randperm", "isnan", "isinf", "isfinite", "isclose", "allclose", "sign",
    "floor", "ceil", "round", "sin", "cos", "log1p", "expm1", "save", "load",
]  # fmt: skip
NEW_METHODS = [
    "sort", "argsort", "topk", "flip", "cumsum", "gather", "scatter", "scatter_", "scatter_add",
    "scatter_add_", "multinomial", "isnan", "isinf", "isfinite", "isclose", "allclose", "sign",
    "floor", "ceil", "round", "sin", "cos", "log1p", "expm1",
]  # fmt: skip


def test_the_new_names_exist_where_pytorch_has_them():
    for name in NEW_FUNCTIONS:
        assert name in glassnet.__all__ and callable(getattr(glassnet, name)), name
        assert callable(getattr(torch, name)), name
    for name in NEW_METHODS:
        assert callable(getattr(glassnet.Tensor, name)) and hasattr(torch.Tensor, name), name
    x = np.array([[3.0, 1.0, 2.0]])
    assert glassnet.argsort(glassnet.tensor(x), 1, True).tolist() == [[0, 2, 1]]
