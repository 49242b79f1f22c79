"""Elementwise math, float tests and the elementwise max/min and tensor-bound clamp (issue 21):
sin, cos, log1p, expm1, sign, floor, ceil, round, isnan/isinf/isfinite, isclose/allclose,
max(a, b)/min(a, b), clamp(x, tensor, tensor). float64 gradcheck with a random upstream gradient,
PyTorch parity of values, dtypes and gradients, hypothesis, errors naming the argument."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassnet

from ..helpers import check_grad, parity, torch

SMOOTH = ["sin", "cos", "log1p", "expm1"]
STEPS = ["sign", "floor", "ceil", "round"]


# ------------------------------------------------------------------------------ smooth functions
@pytest.mark.parametrize("name", SMOOTH)
def test_smooth_parity_and_gradcheck(name):
    x = np.random.default_rng(0).uniform(-0.9, 3.0, (3, 4))  # log1p needs x > -1
    parity(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), x)
    parity(lambda t: getattr(glassnet, name)(t), lambda t: getattr(torch, name)(t), x)
    check_grad(lambda t: getattr(glassnet, name)(t), x)


@pytest.mark.parametrize("name", SMOOTH)
def test_smooth_functions_of_integers_and_float32_as_torch(name):
    a = np.array([0, 1, 2])
    ours, theirs = getattr(glassnet.tensor(a), name)(), getattr(torch.from_numpy(a), name)()
    assert ours.dtype == np.float32 and theirs.dtype == torch.float32
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)
    f = np.array([1e-8, -1e-8, 0.5], np.float32)
    ours = getattr(glassnet.tensor(f), name)().data
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, getattr(torch, name)(torch.from_numpy(f)).numpy(), rtol=1e-6)


def test_log1p_expm1_exact_for_tiny_x_and_edges_as_torch():
    x = np.array([1e-12, -1e-12, 1e-300])
    assert glassnet.tensor(x).log1p().tolist() == torch.from_numpy(x).log1p().tolist()
    assert glassnet.tensor(x).expm1().tolist() == torch.from_numpy(x).expm1().tolist()
    assert glassnet.tensor(x).log1p().data[0] != np.log(1 + 1e-12)  # what log1p is for
    e = np.array([-1.0, -2.0, 800.0])
    with np.errstate(all="ignore"):
        ours_l, ours_e = glassnet.tensor(e).log1p().data, glassnet.tensor(e).expm1().data
    np.testing.assert_array_equal(ours_l, torch.from_numpy(e).log1p().numpy())
    np.testing.assert_array_equal(ours_e, torch.from_numpy(e).expm1().numpy())


# ------------------------------------------------------------------------------ step functions
def _with_halves_and_ints(seed=0):
    r = np.random.default_rng(seed)
    return np.concatenate([r.standard_normal(8) * 3, [-2.5, -1.5, -0.5, 0.0, 0.5, 1.5, 2.5, 3.0]])


@pytest.mark.parametrize("name", STEPS)
def test_steps_match_torch_with_zero_gradient(name):
    x = _with_halves_and_ints()
    parity(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), x)  # grads: zeros
    t = glassnet.tensor(x, requires_grad=True)
    y = getattr(glassnet, name)(t)
    assert y.requires_grad and repr(y.grad_fn) == f"<{name.capitalize()}Backward0>"
    y.backward(np.random.default_rng(1).standard_normal(x.shape))
    assert t.grad is not None and not t.grad.data.any()  # zero, as PyTorch


@pytest.mark.parametrize("decimals", [-2, -1, 0, 1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_round_decimals_bit_for_bit_with_torch(decimals, dtype):
    r = np.random.default_rng(decimals + 5)
    x = np.concatenate([r.standard_normal(50) * 100, [2.675, 0.285, 1.005, 0.125, 12.5, 250.0]])
    x = x.astype(dtype)
    ours = glassnet.tensor(x).round(decimals=decimals).data
    theirs = torch.round(torch.from_numpy(x), decimals=decimals).numpy()
    np.testing.assert_array_equal(ours, theirs)
    assert ours.dtype == dtype


def test_sign_nan_zero_and_integer_dtypes_as_torch():
    x = np.array([np.nan, -0.0, 0.0, -2.0, np.inf])
    np.testing.assert_array_equal(
        glassnet.tensor(x).sign().data, torch.from_numpy(x).sign().numpy()
    )
    for name in STEPS:
        a = np.array([-3, 0, 4])
        ours, theirs = getattr(glassnet.tensor(a), name)(), getattr(torch.from_numpy(a), name)()
        assert ours.dtype == np.int64 and theirs.dtype == torch.int64
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    b = glassnet.tensor([True, False]).sign()
    assert b.dtype == np.bool_ and b.tolist() == [True, False]


@given(x=hnp.arrays(np.float64, hnp.array_shapes(max_dims=2), elements=st.floats(-1e6, 1e6)))
def test_steps_hypothesis_bracket_x(x):
    t = glassnet.tensor(x)
    f, c, r = t.floor().data, t.ceil().data, t.round().data
    assert (f <= x).all() and (x <= c).all() and (c - f <= 1).all()
    assert (np.abs(r - x) <= 0.5).all() and (r == np.round(r)).all()
    np.testing.assert_array_equal(t.sign().data * np.abs(x), x)


def test_step_errors():
    with pytest.raises(TypeError, match="numeric tensor, got dtype bool; convert it with .int()"):
        glassnet.tensor([True]).floor()
    with pytest.raises(
        TypeError, match="decimals=1 expected a floating-point tensor, got dtype int64"
    ):
        glassnet.tensor([15]).round(decimals=1)
    with pytest.raises(TypeError, match="int decimals, got float"):
        glassnet.ones(2).round(decimals=1.0)
    with pytest.raises(TypeError, match="input to be a Tensor, got float"):
        glassnet.sin(1.0)


# ------------------------------------------------------------------------------ float tests
def test_isnan_isinf_isfinite_match_torch():
    x = np.array([1.0, np.nan, np.inf, -np.inf, 0.0, -0.0])
    for name in ("isnan", "isinf", "isfinite"):
        for a in (x, x.astype(np.float32), np.array([1, -2]), np.array([True])):
            ours = getattr(glassnet.tensor(a), name)()
            theirs = getattr(torch, name)(torch.from_numpy(a))
            assert ours.dtype == np.bool_
            np.testing.assert_array_equal(ours.data, theirs.numpy())
            assert getattr(glassnet, name)(glassnet.tensor(a)).data.tolist() == ours.tolist()


CLOSE_CASES = [
    ([1.0, 2.0, 3.0], [1.0 + 1e-6, 2.1, 3.0], {}),
    ([1.0, np.nan, np.inf, -np.inf, np.inf], [1.0, np.nan, np.inf, -np.inf, -np.inf], {}),
    ([1.0, np.nan], [1.0, np.nan], {"equal_nan": True}),
    ([0.0, 1e-9, 1e-7], [0.0, 0.0, 0.0], {}),
    ([100.0, 100.5], [101.0, 101.0], {"rtol": 0.01}),
    ([1.0, 1.5], [1.2, 1.2], {"atol": 0.25, "rtol": 0.0}),
]


@pytest.mark.parametrize("a, b, kw", CLOSE_CASES)
def test_isclose_allclose_match_torch(a, b, kw):
    a, b = np.array(a), np.array(b)
    ours = glassnet.isclose(glassnet.tensor(a), glassnet.tensor(b), **kw)
    theirs = torch.isclose(torch.from_numpy(a), torch.from_numpy(b), **kw)
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    assert glassnet.tensor(a).allclose(glassnet.tensor(b), **kw) is torch.allclose(
        torch.from_numpy(a), torch.from_numpy(b), **kw
    )


@given(
    a=hnp.arrays(np.float64, 4, elements=st.floats(-10, 10)),
    scale=st.floats(0, 1e-4),
    rtol=st.sampled_from([0.0, 1e-5, 1e-3]),
    atol=st.sampled_from([0.0, 1e-8, 1e-3]),
)
def test_isclose_hypothesis_parity(a, scale, rtol, atol):
    b = a * (1 + scale) + scale
    ours = glassnet.tensor(a).isclose(glassnet.tensor(b), rtol=rtol, atol=atol)
    theirs = torch.from_numpy(a).isclose(torch.from_numpy(b), rtol=rtol, atol=atol)
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_isclose_broadcasting_ints_bools_numbers_and_errors():
    assert glassnet.isclose(glassnet.ones(2, 1), glassnet.ones(3)).shape == (2, 3)
    assert glassnet.isclose(glassnet.tensor([1, 2]), glassnet.tensor([1, 3])).tolist() == [
        True,
        False,
    ]
    assert glassnet.isclose(glassnet.tensor([True]), glassnet.tensor([True])).item()
    assert glassnet.tensor([1.0]).isclose(1.0).item()  # a number is taken (torch wants a tensor)
    mixed = glassnet.isclose(glassnet.tensor([0.1]), glassnet.tensor([0.1], dtype=np.float64))
    assert mixed.item()  # compared in float64 (torch raises "Float did not match Double")
    with pytest.raises(ValueError, match=r"broadcastable shapes, got \(2,\) and \(3,\)"):
        glassnet.isclose(glassnet.ones(2), glassnet.ones(3))
    with pytest.raises(ValueError, match="rtol >= 0, got -1"):
        glassnet.isclose(glassnet.ones(2), glassnet.ones(2), rtol=-1)
    with pytest.raises(ValueError, match="atol >= 0, got nan"):
        glassnet.allclose(glassnet.ones(2), glassnet.ones(2), atol=float("nan"))
    with pytest.raises(TypeError, match="other to be a tensor or a number, got str"):
        glassnet.isclose(glassnet.ones(2), "1")


# ------------------------------------------------------------------------------ max(a, b), clamp
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_of_two_tensors_are_elementwise_as_torch(name):
    a = np.array([[1.0, 2.0, 3.0], [0.0, 5.0, -1.0]])
    b = np.array([1.0, 1.0, 4.0])  # broadcasts; a tie in the first column splits the gradient
    parity(
        lambda x, y: getattr(glassnet, name)(x, y), lambda x, y: getattr(torch, name)(x, y), a, b
    )
    parity(lambda x, y: getattr(x, name)(y), lambda x, y: getattr(x, name)(y), a, b)
    parity(lambda x, y: getattr(x, name)(other=y), lambda x, y: getattr(x, name)(other=y), a, b)
    check_grad(lambda x, y: getattr(glassnet, name)(x, y), a + 0.1, b)
    t = glassnet.tensor(a)
    assert getattr(t, name)(1).values.shape == (2,)  # the reduction is still there
    with pytest.raises(TypeError, match=rf"{name}\(input, other\) is elementwise and takes no dim"):
        getattr(glassnet, name)(t, glassnet.tensor(b), keepdim=True)
    with pytest.raises(TypeError, match="got other twice"):
        getattr(glassnet, name)(t, glassnet.tensor(b), other=glassnet.tensor(b))


def test_clamp_tensor_bounds_gradients_on_every_tie_as_torch():
    # every ordering of x, min and max, ties included, min > max included
    grid = np.array(list(itertools.product([0.0, 1.0, 2.0], repeat=3))).T  # (3, 27)
    x, lo, hi = grid
    parity(lambda a, b, c: a.clamp(b, c), lambda a, b, c: a.clamp(b, c), x, lo, hi)
    parity(lambda a, b: a.clamp(min=b), lambda a, b: a.clamp(min=b), x, lo)
    parity(lambda a, c: glassnet.clamp(a, max=c), lambda a, c: torch.clamp(a, max=c), x, hi)
    parity(lambda a, b, c: a.clip(b, c), lambda a, b, c: a.clip(b, c), x, lo, hi)


@given(
    shapes=st.permutations([(3, 1), (1, 4), (4,)]),
    seed=st.integers(0, 2**16),
    one=st.sampled_from(["both", "min", "max"]),
)
def test_clamp_tensor_bounds_hypothesis_parity_with_broadcasting(shapes, seed, one):
    r = np.random.default_rng(seed)
    x, lo, hi = (r.integers(-2, 3, s).astype(np.float64) for s in shapes)  # many ties
    # torch's backward with both bounds fails when x is smaller than the result ("output with
    # shape [1, 4] doesn't match the broadcast shape [3, 4]"): its x is expanded first there
    # (the expand sums the gradient back, so the reference is the same function)
    full = np.broadcast_shapes(*shapes)
    if one == "both":
        parity(lambda a, b, c: a.clamp(b, c), lambda a, b, c: a.expand(full).clamp(b, c), x, lo, hi)
    elif one == "min":
        parity(lambda a, b: a.clamp(min=b), lambda a, b: a.clamp(min=b), x, lo)
    else:
        parity(lambda a, c: a.clamp(max=c), lambda a, c: a.clamp(max=c), x, hi)


def test_clamp_tensor_bounds_gradcheck_mixed_and_inplace():
    r = np.random.default_rng(4)
    x, lo = r.standard_normal((3, 4)), r.standard_normal(4) - 1
    hi = lo + 1.5
    check_grad(lambda a, b, c: a.clamp(b, c), x, lo, hi)
    mixed = glassnet.tensor(x).clamp(glassnet.tensor(lo), 0.25)  # torch takes no mix of the two
    np.testing.assert_array_equal(mixed.data, np.minimum(np.maximum(x, lo), 0.25))
    a = glassnet.tensor([1.0, 2.0, 3.0])
    a.clamp_(min=glassnet.tensor([1.5, 1.5, 1.5]), max=glassnet.tensor([9.0, 9.0, 2.5]))
    assert a.tolist() == [1.5, 2.0, 2.5]
    with pytest.raises(ValueError, match="at least one of min and max"):
        glassnet.clamp(glassnet.ones(2))


# ------------------------------------------------------------------------------ mask operators
def test_mask_operators_as_torch():
    m, n = np.array([True, False, True, False]), np.array([True, True, False, False])
    i, j = np.array([5, 3, -2, 0]), np.array([1, 6, 3, -1])
    cases = [
        lambda a, b: ~a,
        lambda a, b: a & b,
        lambda a, b: a | b,
        lambda a, b: a ^ b,
        lambda a, b: a & True,
        lambda a, b: False | a,
        lambda a, b: ~(a ^ b) & a,
    ]
    for a, b in ((m, n), (i, j)):
        for fn in cases[:4] + (cases[4:] if a.dtype == np.bool_ else []):
            ours = fn(glassnet.tensor(a), glassnet.tensor(b))
            theirs = fn(torch.from_numpy(a), torch.from_numpy(b))
            assert ours.dtype == a.dtype
            np.testing.assert_array_equal(ours.data, theirs.numpy())
    assert (glassnet.tensor(i) & 1).tolist() == (torch.from_numpy(i) & 1).tolist()
    assert (np.array([False, True]) | glassnet.tensor([True, False])).tolist() == [True, True]
    x = glassnet.ones(2)
    with pytest.raises(TypeError, match="boolean or integer tensors, got float32 and bool"):
        x & (x > 0)
    with pytest.raises(TypeError, match="~ expected a boolean or integer tensor, got float32"):
        ~x
